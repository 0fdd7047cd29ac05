/* Guest memory accesses made from C on behalf of generated code: atomics (both
 * backends call these) and the system-mode slow path.  A host fault inside one
 * of them is recognised through jit_cur_access. */
#include "jit/internal.h"

__thread jit_access_rec jit_cur_access;

/* Atomics are read-modify-write: an address past the guest space faults as a
 * write before it could reach host memory. */
static void *host_addr(jit_cpu *cpu, uint64_t addr, uint64_t pc)
{
    if (cpu->engine->fe->addr_bits == 32)
        addr = (uint32_t)addr;
    if (addr >= cpu->guest_limit) {
        cpu->pc = pc;
        jit_cpu_fault(cpu, addr, JIT_FAULT_UNMAPPED, JIT_ACCESS_WRITE);
    }
    return (void *)(cpu->guest_base + (uintptr_t)addr);
}

static void begin(jit_cpu *cpu, uint64_t pc)
{
    jit_cur_access.cpu = cpu;
    jit_cur_access.pc = pc;
    atomic_signal_fence(memory_order_seq_cst);
    jit_cur_access.active = 1;
    atomic_signal_fence(memory_order_seq_cst);
}

static void end(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    jit_cur_access.active = 0;
    atomic_signal_fence(memory_order_seq_cst);
}

static void check_align(jit_cpu *cpu, uint64_t addr, unsigned memop, uint64_t pc,
                        jit_access acc)
{
    if (addr & ((1u << (memop & JIT_MO_SIZE)) - 1)) {
        cpu->pc = pc;
        jit_cpu_fault(cpu, addr, JIT_FAULT_MISALIGNED, acc);
    }
}

static bool need_swap(jit_cpu *cpu, unsigned memop)
{
    bool be = cpu->engine->fe->big_endian ^ !!(memop & JIT_MO_BSWAP);
    return be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
}

uint64_t jit_rt_cmpxchg(jit_cpu *cpu, uint64_t addr, uint64_t cmp, uint64_t v,
                        uint64_t memop, uint64_t pc)
{
    /* memop bit 8: the destination is i64 (the old value is extended to it and
     * compared with cmp after extension) */
    unsigned mo = (unsigned)memop & 15;
    jit_type t = (memop & 0x100) ? JIT_I64 : JIT_I32;
    check_align(cpu, addr, mo, pc, JIT_ACCESS_WRITE);
    bool swap = need_swap(cpu, mo);
    uint64_t old;
    begin(cpu, pc);
    if ((mo & JIT_MO_SIZE) == JIT_MO_64) {
        uint64_t *p = host_addr(cpu, addr, pc);
        uint64_t cur = __atomic_load_n(p, __ATOMIC_SEQ_CST);
        uint64_t n = swap ? __builtin_bswap64(v) : v;
        for (;;) {
            old = swap ? __builtin_bswap64(cur) : cur;
            if (old != cmp ||
                __atomic_compare_exchange_n(p, &cur, n, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST))
                break;
        }
    } else {
        uint32_t *p = host_addr(cpu, addr, pc);
        uint32_t cur = __atomic_load_n(p, __ATOMIC_SEQ_CST);
        uint32_t n = swap ? __builtin_bswap32((uint32_t)v) : (uint32_t)v;
        for (;;) {
            old = jit_eval_ext_load(swap ? __builtin_bswap32(cur) : cur, mo, t);
            if (old != cmp ||
                __atomic_compare_exchange_n(p, &cur, n, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST))
                break;
        }
    }
    end();
    return old;
}

static uint64_t amo_apply(jit_amo op, unsigned sz, uint64_t old, uint64_t v)
{
    bool w = sz == JIT_MO_32;
    int64_t so = w ? (int32_t)old : (int64_t)old, sv = w ? (int32_t)v : (int64_t)v;
    uint64_t uo = w ? (uint32_t)old : old, uv = w ? (uint32_t)v : v;
    switch (op) {
    case JIT_AMO_XCHG: return v;
    case JIT_AMO_ADD: return old + v;
    case JIT_AMO_AND: return old & v;
    case JIT_AMO_OR: return old | v;
    case JIT_AMO_XOR: return old ^ v;
    case JIT_AMO_SMIN: return so < sv ? old : v;
    case JIT_AMO_SMAX: return so > sv ? old : v;
    case JIT_AMO_UMIN: return uo < uv ? old : v;
    case JIT_AMO_UMAX: return uo > uv ? old : v;
    default: return old;
    }
}

uint64_t jit_rt_rmw(jit_cpu *cpu, uint64_t addr, uint64_t v, uint64_t op_memop, uint64_t pc)
{
    unsigned memop = (unsigned)op_memop & 15;
    jit_amo op = (jit_amo)((op_memop >> 4) & 15);
    jit_type t = (op_memop & 0x100) ? JIT_I64 : JIT_I32;
    check_align(cpu, addr, memop, pc, JIT_ACCESS_WRITE);
    bool swap = need_swap(cpu, memop);
    uint64_t old;
    begin(cpu, pc);
    if ((memop & JIT_MO_SIZE) == JIT_MO_64) {
        uint64_t *p = host_addr(cpu, addr, pc);
        uint64_t cur = __atomic_load_n(p, __ATOMIC_SEQ_CST), n;
        do {
            old = swap ? __builtin_bswap64(cur) : cur;
            n = amo_apply(op, JIT_MO_64, old, v);
            if (swap)
                n = __builtin_bswap64(n);
        } while (!__atomic_compare_exchange_n(p, &cur, n, true, __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST));
    } else {
        uint32_t *p = host_addr(cpu, addr, pc);
        uint32_t cur = __atomic_load_n(p, __ATOMIC_SEQ_CST), n;
        do {
            old = swap ? __builtin_bswap32(cur) : cur;
            n = (uint32_t)amo_apply(op, JIT_MO_32, old, v);
            if (swap)
                n = __builtin_bswap32(n);
        } while (!__atomic_compare_exchange_n(p, &cur, n, true, __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST));
    }
    end();
    return jit_eval_ext_load(old, memop, t);
}

uint64_t jit_rt_sys_load(jit_cpu *cpu, uint64_t addr, uint64_t memop, uint64_t pc)
{
    cpu->pc = pc;
    if (cpu->engine->fe->addr_bits == 32)
        addr = (uint32_t)addr;
    return cpu->engine->opt.mem_load(cpu, addr, (unsigned)memop);
}

void jit_rt_sys_store(jit_cpu *cpu, uint64_t addr, uint64_t v, uint64_t memop, uint64_t pc)
{
    cpu->pc = pc;
    if (cpu->engine->fe->addr_bits == 32)
        addr = (uint32_t)addr;
    cpu->engine->opt.mem_store(cpu, addr, v, (unsigned)memop);
}
