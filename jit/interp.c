/* The IR interpreter: runs optimized blocks on any host.  It is the reference
 * the native backend is tested against, so it is written for obviousness:
 * globals are read and written in the state struct directly (which also makes
 * every fault precise), locals live in a per-CPU array. */
#include <string.h>

#include "jit/internal.h"

typedef uint64_t (*helper_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static inline uint64_t rd(jit_cpu *cpu, jit_tb *tb, const uint64_t *v, jit_temp t)
{
    const jit_tinfo *ti = &tb->temps[t];
    switch (ti->kind) {
    case TEMP_GLOBAL: {
        const uint8_t *p = (const uint8_t *)cpu + cpu->engine->fe->globals[t].offset;
        if (ti->type == JIT_I32) {
            uint32_t x;
            memcpy(&x, p, 4);
            return x;
        }
        uint64_t x;
        memcpy(&x, p, 8);
        return x;
    }
    case TEMP_ENV:
        return (uint64_t)(uintptr_t)cpu;
    case TEMP_CONST:
        return ti->val;
    default:
        return v[t];
    }
}

static inline void wr(jit_cpu *cpu, jit_tb *tb, uint64_t *v, jit_temp t, uint64_t x)
{
    const jit_tinfo *ti = &tb->temps[t];
    if (ti->type == JIT_I32)
        x = (uint32_t)x;
    if (ti->kind == TEMP_GLOBAL) {
        uint8_t *p = (uint8_t *)cpu + cpu->engine->fe->globals[t].offset;
        if (ti->type == JIT_I32) {
            uint32_t y = (uint32_t)x;
            memcpy(p, &y, 4);
        } else {
            memcpy(p, &x, 8);
        }
    } else {
        v[t] = x;
    }
}

static bool need_swap(jit_cpu *cpu, unsigned memop)
{
    bool be = cpu->engine->fe->big_endian ^ !!(memop & JIT_MO_BSWAP);
    return be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
}

static uint64_t swap_size(uint64_t x, unsigned sz)
{
    switch (sz) {
    case 1: return __builtin_bswap16((uint16_t)x);
    case 2: return __builtin_bswap32((uint32_t)x);
    case 3: return __builtin_bswap64(x);
    default: return x;
    }
}

/* An address past the guest space faults here, before it could reach host memory
 * (cpu->pc is the access's pc: the interpreter keeps globals in env, so the
 * fault is precise). */
static void *guest_host(jit_cpu *cpu, uint64_t addr, uint64_t pc, jit_access acc)
{
    if (cpu->engine->fe->addr_bits == 32)
        addr = (uint32_t)addr;
    if (addr >= cpu->guest_limit) {
        cpu->pc = pc;
        jit_cpu_fault(cpu, addr, JIT_FAULT_UNMAPPED, acc);
    }
    return (void *)(cpu->guest_base + (uintptr_t)addr);
}

static uint64_t host_load(const void *p, unsigned sz)
{
    switch (sz) {
    case 0: return *(const volatile uint8_t *)p;
    case 1: { uint16_t x; memcpy(&x, p, 2); return x; }
    case 2: { uint32_t x; memcpy(&x, p, 4); return x; }
    default: { uint64_t x; memcpy(&x, p, 8); return x; }
    }
}

static void host_store(void *p, unsigned sz, uint64_t v)
{
    switch (sz) {
    case 0: *(volatile uint8_t *)p = (uint8_t)v; break;
    case 1: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 2: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static uint64_t guest_load(jit_cpu *cpu, uint64_t addr, unsigned memop, uint64_t pc)
{
    unsigned sz = memop & JIT_MO_SIZE;
    if (cpu->engine->opt.mem_mode == JIT_MEM_SYSTEM)
        return jit_rt_sys_load(cpu, addr, memop, pc);
    jit_cur_access.cpu = cpu;
    jit_cur_access.pc = pc;
    atomic_signal_fence(memory_order_seq_cst);
    jit_cur_access.active = 1;
    atomic_signal_fence(memory_order_seq_cst);
    uint64_t x = host_load(guest_host(cpu, addr, pc, JIT_ACCESS_READ), sz);
    atomic_signal_fence(memory_order_seq_cst);
    jit_cur_access.active = 0;
    atomic_signal_fence(memory_order_seq_cst);
    return need_swap(cpu, memop) ? swap_size(x, sz) : x;
}

static void guest_store(jit_cpu *cpu, uint64_t addr, uint64_t v, unsigned memop, uint64_t pc)
{
    unsigned sz = memop & JIT_MO_SIZE;
    if (cpu->engine->opt.mem_mode == JIT_MEM_SYSTEM) {
        jit_rt_sys_store(cpu, addr, v, memop, pc);
        return;
    }
    if (need_swap(cpu, memop))
        v = swap_size(v, sz);
    jit_cur_access.cpu = cpu;
    jit_cur_access.pc = pc;
    atomic_signal_fence(memory_order_seq_cst);
    jit_cur_access.active = 1;
    atomic_signal_fence(memory_order_seq_cst);
    host_store(guest_host(cpu, addr, pc, JIT_ACCESS_WRITE), sz, v);
    atomic_signal_fence(memory_order_seq_cst);
    jit_cur_access.active = 0;
    atomic_signal_fence(memory_order_seq_cst);
}

uintptr_t jit_interp_run(jit_engine *e, jit_cpu *cpu, jit_tb *tb)
{
    jit_cpu_priv *priv = cpu->priv;
    bool chain = !(e->opt.log & JIT_LOG_EXEC);
next_tb:
    if (cpu->exit_request) {
        cpu->pc = tb->pc;
        return JIT_RET_REQUEST;
    }
    if (tb->ntemps > priv->ivals_cap) {
        /* grown in jit_exec before the first run; blocks are bounded */
        cpu->pc = tb->pc;
        return JIT_RET_LOOKUP;
    }
    uint64_t *v = priv->ivals;
    uint64_t pc = tb->pc;
    for (unsigned i = 0; i < tb->nops; i++) {
        const jit_op *op = &tb->ops[i];
        jit_opc opc = (jit_opc)op->opc;
        jit_type t = (jit_type)op->type;
        switch (opc) {
        case JIT_OP_NOP: case JIT_OP_LABEL:
            break;
        case JIT_OP_INSN_START:
            pc = (uint64_t)op->imm;
            break;
        case JIT_OP_SETCOND:
            wr(cpu, tb, v, op->a[0],
               jit_eval_cond((jit_cond)op->cond, t, rd(cpu, tb, v, op->a[1]),
                             rd(cpu, tb, v, op->a[2])));
            break;
        case JIT_OP_FADD: case JIT_OP_FSUB: case JIT_OP_FMUL: case JIT_OP_FDIV:
        case JIT_OP_FSQRT:
            wr(cpu, tb, v, op->a[0],
               jit_eval_fop(opc, t, rd(cpu, tb, v, op->a[1]),
                            opc == JIT_OP_FSQRT ? 0 : rd(cpu, tb, v, op->a[2]), 0));
            break;
        case JIT_OP_FMA: {
            /* negations: sign flips of the first factor and of the addend */
            uint64_t sign = t == JIT_I32 ? 0x80000000u : 1ull << 63;
            wr(cpu, tb, v, op->a[0],
               jit_eval_fop(opc, t, rd(cpu, tb, v, op->a[1]) ^ (op->memop & 1 ? sign : 0),
                            rd(cpu, tb, v, op->a[2]),
                            rd(cpu, tb, v, op->a[3]) ^ (op->memop & 2 ? sign : 0)));
            break;
        }
        case JIT_OP_FCMP:
            wr(cpu, tb, v, op->a[0],
               jit_eval_fcmp((jit_cond)op->cond, op->memop, t, rd(cpu, tb, v, op->a[1]),
                             rd(cpu, tb, v, op->a[2])));
            break;
        case JIT_OP_I2F:
            wr(cpu, tb, v, op->a[0], jit_eval_i2f(t, op->memop, rd(cpu, tb, v, op->a[1])));
            break;
        case JIT_OP_F2I:
            wr(cpu, tb, v, op->a[0],
               jit_eval_f2i(t, op->memop, op->cond, rd(cpu, tb, v, op->a[1])));
            break;
        case JIT_OP_F2F:
            wr(cpu, tb, v, op->a[0], jit_eval_f2f(t, rd(cpu, tb, v, op->a[1])));
            break;
        case JIT_OP_FFLAGS:
            wr(cpu, tb, v, op->a[0], jit_eval_fflags());
            break;
        case JIT_OP_MOVCOND:
            wr(cpu, tb, v, op->a[0],
               jit_eval_cond((jit_cond)op->cond, t, rd(cpu, tb, v, op->a[1]),
                             rd(cpu, tb, v, op->a[2]))
               ? rd(cpu, tb, v, op->a[3]) : rd(cpu, tb, v, op->a[4]));
            break;
        case JIT_OP_BR: case JIT_OP_BRCOND:
            if (opc == JIT_OP_BRCOND &&
                !jit_eval_cond((jit_cond)op->cond, t, rd(cpu, tb, v, op->a[0]),
                               rd(cpu, tb, v, op->a[1])))
                break;
            if ((unsigned)op->imm < i && cpu->exit_request) {
                /* a loop inside the block: leave at its head like the native
                 * code does, at the guest instruction after the label */
                cpu->pc = tb->pc;
                for (unsigned k = (unsigned)op->imm; k < tb->nops; k++)
                    if (tb->ops[k].opc == JIT_OP_INSN_START) {
                        cpu->pc = (uint64_t)tb->ops[k].imm;
                        break;
                    }
                return JIT_RET_REQUEST;
            }
            i = (unsigned)op->imm;     /* index of the label op */
            break;
        case JIT_OP_QLD: {
            uint64_t a = rd(cpu, tb, v, op->a[1]) + (uint64_t)op->imm;
            uint64_t x = guest_load(cpu, a, op->memop, pc);
            wr(cpu, tb, v, op->a[0], jit_eval_ext_load(x, op->memop, t));
            break;
        }
        case JIT_OP_QST: {
            uint64_t a = rd(cpu, tb, v, op->a[1]) + (uint64_t)op->imm;
            guest_store(cpu, a, rd(cpu, tb, v, op->a[0]), op->memop, pc);
            break;
        }
        case JIT_OP_LD: {
            uint8_t *p = (uint8_t *)(uintptr_t)rd(cpu, tb, v, op->a[1]) + op->imm;
            uint64_t x = host_load(p, op->memop & JIT_MO_SIZE);
            wr(cpu, tb, v, op->a[0], jit_eval_ext_load(x, op->memop, t == JIT_PTR ? JIT_I64 : t));
            break;
        }
        case JIT_OP_ST: {
            uint8_t *p = (uint8_t *)(uintptr_t)rd(cpu, tb, v, op->a[1]) + op->imm;
            host_store(p, op->memop & JIT_MO_SIZE, rd(cpu, tb, v, op->a[0]));
            break;
        }
        case JIT_OP_ATOMIC_CMPXCHG:
            wr(cpu, tb, v, op->a[0],
               jit_rt_cmpxchg(cpu, rd(cpu, tb, v, op->a[1]), rd(cpu, tb, v, op->a[2]),
                              rd(cpu, tb, v, op->a[3]),
                              op->memop | (t == JIT_I64 ? 0x100u : 0), pc));
            break;
        case JIT_OP_ATOMIC_RMW:
            wr(cpu, tb, v, op->a[0],
               jit_rt_rmw(cpu, rd(cpu, tb, v, op->a[1]), rd(cpu, tb, v, op->a[2]),
                          op->memop | (t == JIT_I64 ? 0x100u : 0), pc));
            break;
        case JIT_OP_CALL: {
            uint64_t a[JIT_MAX_CALL_ARGS] = { 0 };
            for (unsigned k = 0; k < op->nargs; k++)
                a[k] = rd(cpu, tb, v, op->a[1 + k]);
            if (op->helper->flags & JIT_CALL_MAY_EXIT)
                cpu->pc = pc;
            uint64_t r = ((helper_fn)op->helper->fn)(a[0], a[1], a[2], a[3], a[4], a[5]);
            if (op->a[0] != JIT_NO_TEMP)
                wr(cpu, tb, v, op->a[0], r);
            break;
        }
        case JIT_OP_GOTO_TB: {
            cpu->pc = (uint64_t)op->imm;
            jit_tb *next = chain ? atomic_load_explicit(&tb->jmp_dest[op->memop],
                                                        memory_order_acquire) : NULL;
            if (next && next->pc == cpu->pc) {   /* two exits may share a slot */
                tb = next;
                goto next_tb;
            }
            return (uintptr_t)tb | JIT_RET_CHAIN | op->memop;
        }
        case JIT_OP_GOTO_PTR: {
            cpu->pc = rd(cpu, tb, v, op->a[0]);
            jit_tb *next = chain ? jit_lookup_fast(e, cpu, cpu->pc) : NULL;
            if (next) {
                tb = next;
                goto next_tb;
            }
            return JIT_RET_LOOKUP;
        }
        case JIT_OP_EXIT:
            cpu->pc = rd(cpu, tb, v, op->a[0]);
            cpu->exit_arg = rd(cpu, tb, v, op->a[1]);
            return op->memop;
        default:
            if (jit_op_is_binop(opc))
                wr(cpu, tb, v, op->a[0],
                   jit_eval_binop(opc, t, rd(cpu, tb, v, op->a[1]), rd(cpu, tb, v, op->a[2])));
            else
                wr(cpu, tb, v, op->a[0], jit_eval_unop(opc, t, rd(cpu, tb, v, op->a[1])));
            break;
        }
    }
    /* a well-formed block never falls off its end */
    cpu->pc = pc;
    cpu->exit_arg = 0;
    return JIT_EXIT_EXCEPTION;
}
