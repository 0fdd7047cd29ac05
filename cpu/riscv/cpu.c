/* RISC-V CPU objects: the engine (one per guest process), CPUs (one per guest
 * thread), register access, and the run loop that turns JIT exits into
 * riscv_exit records. */
#include "cpu/riscv/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(riscv_cpu, jit) == 0, "the jit_cpu header must come first");

/* ---- front-end descriptor ---- */

#define GX(n, name) { name, JIT_I64, offsetof(riscv_cpu, x) + 8 * (n) }
#define GF(n, name) { name, JIT_I64, offsetof(riscv_cpu, f) + 8 * (n) }
static const jit_global_desc riscv_globals[RISCV_NGLOBALS] = {
    GX(1, "ra"), GX(2, "sp"), GX(3, "gp"), GX(4, "tp"), GX(5, "t0"), GX(6, "t1"),
    GX(7, "t2"), GX(8, "s0"), GX(9, "s1"), GX(10, "a0"), GX(11, "a1"), GX(12, "a2"),
    GX(13, "a3"), GX(14, "a4"), GX(15, "a5"), GX(16, "a6"), GX(17, "a7"), GX(18, "s2"),
    GX(19, "s3"), GX(20, "s4"), GX(21, "s5"), GX(22, "s6"), GX(23, "s7"), GX(24, "s8"),
    GX(25, "s9"), GX(26, "s10"), GX(27, "s11"), GX(28, "t3"), GX(29, "t4"), GX(30, "t5"),
    GX(31, "t6"),
    GF(0, "ft0"), GF(1, "ft1"), GF(2, "ft2"), GF(3, "ft3"), GF(4, "ft4"), GF(5, "ft5"),
    GF(6, "ft6"), GF(7, "ft7"), GF(8, "fs0"), GF(9, "fs1"), GF(10, "fa0"), GF(11, "fa1"),
    GF(12, "fa2"), GF(13, "fa3"), GF(14, "fa4"), GF(15, "fa5"), GF(16, "fa6"),
    GF(17, "fa7"), GF(18, "fs2"), GF(19, "fs3"), GF(20, "fs4"), GF(21, "fs5"),
    GF(22, "fs6"), GF(23, "fs7"), GF(24, "fs8"), GF(25, "fs9"), GF(26, "fs10"),
    GF(27, "fs11"), GF(28, "ft8"), GF(29, "ft9"), GF(30, "ft10"), GF(31, "ft11"),
};

static unsigned riscv_fe_disassemble(uint64_t pc, const uint8_t *bytes, size_t len,
                                     char *buf, size_t size)
{
    if (len < 2)
        return 0;
    uint32_t bits = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8;
    if (riscv_insn_len((uint16_t)bits) == 4) {
        if (len < 4)
            return 0;
        bits |= (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
    }
    return riscv_disas(pc, bits, buf, size);
}

const jit_frontend riscv_frontend = {
    .name = "riscv64",
    .globals = riscv_globals,
    .nglobals = RISCV_NGLOBALS,
    .big_endian = false,
    .addr_bits = 64,
    .translate = riscv_translate,
    .disassemble = riscv_fe_disassemble,
};

/* ---- engine ---- */

int riscv_backend_parse(const char *name, enum riscv_backend *out)
{
    if (!strcmp(name, "native") || !strcmp(name, "x86_64") || !strcmp(name, "x86-64"))
        *out = RISCV_BACKEND_NATIVE;
    else if (!strcmp(name, "interp") || !strcmp(name, "interpreter"))
        *out = RISCV_BACKEND_INTERP;
    else if (!strcmp(name, "default"))
        *out = RISCV_BACKEND_DEFAULT;
    else
        return -EINVAL;
    return 0;
}

/* jit_options.code_read: the CPU state begins with its jit_cpu header */
static int code_read_hook(jit_cpu *jc, uint64_t addr, void *buf, size_t len)
{
    riscv_cpu *cpu = (riscv_cpu *)jc;
    return cpu->engine->opts.code_read(cpu, addr, buf, len);
}

riscv_engine *riscv_engine_new(const riscv_engine_options *opts, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    riscv_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        *err = -ENOMEM;
        return NULL;
    }
    if (opts)
        e->opts = *opts;
    jit_options jo = { 0 };
    switch (e->opts.backend) {
    case RISCV_BACKEND_NATIVE: jo.backend = JIT_BACKEND_NATIVE; break;
    case RISCV_BACKEND_INTERP: jo.backend = JIT_BACKEND_INTERP; break;
    default: jo.backend = jit_default_backend(); break;
    }
    jo.mem_mode = JIT_MEM_USER;
    if (e->opts.code_read)
        jo.code_read = code_read_hook;
    jo.code_size = e->opts.code_cache_size;
    jo.log_file = e->opts.log_file;
    if (e->opts.log_items && *e->opts.log_items) {
        int r = jit_parse_log(e->opts.log_items, &jo.log);
        if (r) {
            free(e);
            *err = r;
            return NULL;
        }
    }
    int r = jit_engine_new(&riscv_frontend, &jo, &e->jit);
    if (r) {
        free(e);
        *err = r;
        return NULL;
    }
    *err = 0;
    return e;
}

void riscv_engine_free(riscv_engine *e)
{
    if (!e)
        return;
    jit_engine_free(e->jit);
    free(e);
}

void riscv_engine_invalidate(riscv_engine *e, uint64_t addr, uint64_t len)
{
    jit_invalidate(e->jit, addr, len);
}

void riscv_engine_flush(riscv_engine *e)
{
    jit_flush(e->jit);
}

/* ---- CPU ---- */

riscv_cpu *riscv_cpu_new(riscv_engine *e)
{
    riscv_cpu *cpu = aligned_alloc(64, (sizeof(riscv_cpu) + 63) & ~(size_t)63);
    if (!cpu)
        return NULL;
    memset(cpu, 0, sizeof(*cpu));
    cpu->engine = e;
    cpu->res_addr = RES_NONE;
    cpu->priv = PRIV_U;
    cpu->jit.guest_base = (uintptr_t)e->opts.guest_base;
    cpu->jit.guest_limit = e->opts.guest_size;
    if (jit_cpu_init(e->jit, &cpu->jit)) {
        free(cpu);
        return NULL;
    }
    cpu->jit.opaque = cpu;
    return cpu;
}

riscv_cpu *riscv_cpu_clone(const riscv_cpu *src)
{
    riscv_cpu *cpu = riscv_cpu_new(src->engine);
    if (!cpu)
        return NULL;
    memcpy(cpu->x, src->x, sizeof(cpu->x));
    memcpy(cpu->f, src->f, sizeof(cpu->f));
    cpu->fflags = src->fflags;
    riscv_set_frm(cpu, src->frm);
    cpu->priv = src->priv;
    cpu->jit.pc = src->jit.pc;
    cpu->jit.flags = src->jit.flags;
    return cpu;
}

void riscv_cpu_free(riscv_cpu *cpu)
{
    if (!cpu)
        return;
    jit_cpu_destroy(&cpu->jit);
    free(cpu);
}

riscv_engine *riscv_cpu_engine(const riscv_cpu *cpu) { return cpu->engine; }
void riscv_cpu_set_opaque(riscv_cpu *cpu, void *opaque) { cpu->opaque = opaque; }
void *riscv_cpu_opaque(const riscv_cpu *cpu) { return cpu->opaque; }

uint64_t riscv_cpu_get_x(const riscv_cpu *cpu, unsigned reg)
{
    return reg && reg < 32 ? cpu->x[reg] : 0;
}

void riscv_cpu_set_x(riscv_cpu *cpu, unsigned reg, uint64_t value)
{
    if (reg && reg < 32)
        cpu->x[reg] = value;
}

uint64_t riscv_cpu_get_f(const riscv_cpu *cpu, unsigned reg)
{
    return reg < 32 ? cpu->f[reg] : 0;
}

void riscv_cpu_set_f(riscv_cpu *cpu, unsigned reg, uint64_t bits)
{
    if (reg < 32)
        cpu->f[reg] = bits;
}

void riscv_cpu_set_f32(riscv_cpu *cpu, unsigned reg, uint32_t bits)
{
    if (reg < 32)
        cpu->f[reg] = 0xffffffff00000000ull | bits;
}

uint64_t riscv_cpu_get_pc(const riscv_cpu *cpu) { return cpu->jit.pc; }
void riscv_cpu_set_pc(riscv_cpu *cpu, uint64_t pc) { cpu->jit.pc = pc; }

uint32_t riscv_cpu_get_fcsr(const riscv_cpu *cpu)
{
    return (cpu->frm & 7) << 5 | (cpu->fflags & 31);
}

void riscv_cpu_set_fcsr(riscv_cpu *cpu, uint32_t fcsr)
{
    cpu->fflags = fcsr & 31;
    riscv_set_frm(cpu, fcsr >> 5);
}

void riscv_cpu_clear_reservation(riscv_cpu *cpu)
{
    cpu->res_addr = RES_NONE;
}

/* ---- running ---- */

static __thread riscv_cpu *current_cpu;

riscv_cpu *riscv_cpu_current(void) { return current_cpu; }

void riscv_cpu_interrupt(riscv_cpu *cpu)
{
    jit_cpu_kick(&cpu->jit);
}

bool riscv_cpu_host_fault(riscv_cpu *cpu, const siginfo_t *si, void *ucontext)
{
    return jit_handle_fault(&cpu->jit, si, ucontext);
}

/* Bits of the instruction at pc for an exit record, read from guest memory (user
 * mode: the caller guarantees the page is mapped since the code ran from it). */
static void fill_from_arg(riscv_exit *ex, uint64_t arg)
{
    ex->len = (arg >> 8) & 15;
    ex->insn = (uint32_t)(arg >> 32);
}

int riscv_cpu_run(riscv_cpu *cpu, riscv_exit *ex)
{
    memset(ex, 0, sizeof(*ex));
    riscv_cpu *saved = current_cpu;
    current_cpu = cpu;
    riscv_fp_enter();
    for (;;) {
        jit_exit_reason r = jit_exec(&cpu->jit);
        riscv_fp_sync(cpu);
        uint64_t arg = cpu->jit.exit_arg;
        ex->pc = cpu->jit.pc;
        switch (r) {
        case JIT_EXIT_SYSCALL:
            ex->reason = RISCV_EXIT_ECALL;
            ex->insn = 0x00000073;
            ex->len = 4;
            break;
        case JIT_EXIT_INTERRUPT:
            ex->reason = RISCV_EXIT_INTERRUPT;
            break;
        case JIT_EXIT_FAULT:
            ex->reason = RISCV_EXIT_FAULT;
            ex->addr = cpu->jit.fault_addr;
            ex->access = cpu->jit.fault_access == JIT_ACCESS_WRITE ? RISCV_ACCESS_WRITE
                       : cpu->jit.fault_access == JIT_ACCESS_EXEC ? RISCV_ACCESS_EXEC
                       : RISCV_ACCESS_READ;
            if (cpu->jit.fault_kind == JIT_FAULT_FETCH)
                ex->access = RISCV_ACCESS_EXEC;
            break;
        case JIT_EXIT_EXCEPTION:
            switch (arg & 0xff) {
            case CAUSE_FETCH_FAULT:
                ex->reason = RISCV_EXIT_FAULT;
                ex->access = RISCV_ACCESS_EXEC;
                ex->addr = ex->pc + ((arg >> 12) & 15);
                break;
            case CAUSE_BREAKPOINT:
                ex->reason = RISCV_EXIT_EBREAK;
                fill_from_arg(ex, arg);
                break;
            case CAUSE_FENCE_I:
                ex->reason = RISCV_EXIT_FENCE_I;
                fill_from_arg(ex, arg);
                /* Zifencei: later fetches of this hart see its earlier stores */
                if (!cpu->engine->opts.smc_detected_by_caller)
                    jit_flush(cpu->engine->jit);
                break;
            default:
                ex->reason = RISCV_EXIT_ILLEGAL;
                fill_from_arg(ex, arg);
                break;
            }
            break;
        default:
            /* JIT_EXIT_HALT/DEBUG are not produced by this front-end; anything
             * else is an engine failure the caller cannot resume from. */
            current_cpu = saved;
            return -EIO;
        }
        current_cpu = saved;
        return 0;
    }
}

const char *riscv_strerror(int err)
{
    return jit_strerror(err);
}

const char *riscv_exit_name(enum riscv_exit_reason r)
{
    switch (r) {
    case RISCV_EXIT_ECALL: return "ecall";
    case RISCV_EXIT_EBREAK: return "ebreak";
    case RISCV_EXIT_ILLEGAL: return "illegal instruction";
    case RISCV_EXIT_FAULT: return "memory fault";
    case RISCV_EXIT_FENCE_I: return "fence.i";
    case RISCV_EXIT_INTERRUPT: return "interrupt";
    }
    return "?";
}

/* ---- small helpers called from translated code ---- */

void riscv_helper_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t riscv_helper_orc_b(uint64_t a)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += 8)
        if ((a >> i) & 0xff)
            r |= 0xffull << i;
    return r;
}
