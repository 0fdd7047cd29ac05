/* Private to cpu/riscv/: the CPU state struct the translated code works on, the
 * CSR table, the helpers called from translated code. */
#ifndef CPU_RISCV_INTERNAL_H
#define CPU_RISCV_INTERNAL_H

#include "cpu/riscv/cpu.h"
#include "cpu/riscv/insn.h"
#include "jit/jit.h"

/* Privilege levels (privileged spec 1.2); user mode emulation runs in U only. */
enum { PRIV_U = 0, PRIV_S = 1, PRIV_M = 3 };

/* Exception causes (privileged spec 3.1.15, mcause) carried in the exit argument
 * of JIT_EXIT_EXCEPTION, plus front-end pseudo causes at 0x80 and above. */
enum {
    CAUSE_FETCH_FAULT = 1,
    CAUSE_ILLEGAL = 2,
    CAUSE_BREAKPOINT = 3,
    CAUSE_FENCE_I = 0x80,
};

/* Exit argument: cause in bits 7:0, instruction length in 11:8, the offset of a
 * failed fetch from pc in 15:12, instruction bits in 63:32. */
static inline uint64_t riscv_exit_arg(unsigned cause, unsigned len, unsigned fetch_off,
                                      uint32_t insn)
{
    return cause | (uint64_t)len << 8 | (uint64_t)fetch_off << 12 | (uint64_t)insn << 32;
}

struct riscv_cpu {
    jit_cpu jit;            /* must be first: globals are offsets from here */
    uint64_t x[32];         /* x[0] stays 0 */
    uint64_t f[32];
    uint32_t fflags;        /* accrued exceptions, FF_* */
    uint32_t frm;           /* dynamic rounding mode (may hold a reserved value) */
    uint64_t res_addr;      /* LR reservation: address, or RES_NONE */
    uint64_t res_val;       /* value loaded by LR (extended as LR extends it) */
    uint32_t priv;          /* PRIV_* */
    riscv_engine *engine;
    void *opaque;
};

#define RES_NONE (~(uint64_t)0)

/* jit_cpu.flags, the part of the block key the front-end defines: frm, so that
 * instructions with the dynamic rounding mode translate to a constant mode. */
#define RISCV_FLAGS_FRM 7u

static inline void riscv_set_frm(riscv_cpu *cpu, uint32_t frm)
{
    cpu->frm = frm & 7;
    cpu->jit.flags = (cpu->jit.flags & ~RISCV_FLAGS_FRM) | cpu->frm;
}

struct riscv_engine {
    jit_engine *jit;
    riscv_engine_options opts;
};

/* Globals: x1..x31 are globals 0..30, f0..f31 are 31..62. */
#define RISCV_GLOBAL_X(r) ((r) - 1)
#define RISCV_GLOBAL_F(r) (31 + (r))
#define RISCV_NGLOBALS 63

extern const jit_frontend riscv_frontend;

int riscv_translate(jit_ctx *c, jit_cpu *cpu, uint64_t pc, uint32_t flags);

/* ---- CSRs (csr.c) ---- */

/* A CSR: number, name, and access functions.  The privilege hook decides whether
 * the current mode may access it (privileged spec 2.1: bits 9:8 give the lowest
 * privilege, bits 11:10 == 3 mark read-only); a NULL write means read-only. */
typedef struct riscv_csr {
    uint16_t num;
    const char *name;
    bool (*allowed)(const riscv_cpu *cpu, unsigned num, bool write);
    uint64_t (*read)(riscv_cpu *cpu);
    void (*write)(riscv_cpu *cpu, uint64_t value);
} riscv_csr;

const riscv_csr *riscv_csr_find(unsigned num);
/* Name for the disassembler (NULL if none). */
const char *riscv_csr_name(unsigned num);
/* Helper for csrrw/csrrs/csrrc[i]: ctl = csr | op << 12 | (do_read) << 16 |
 * (do_write) << 17 (op = funct3 & 3: 1 write, 2 set, 3 clear).  Returns the old
 * value; an illegal access leaves the block with an illegal-instruction exit. */
uint64_t riscv_helper_csr(riscv_cpu *cpu, uint64_t ctl, uint64_t src, uint64_t insn);

/* ---- floating point (fpu.c) ---- */

/* Host FP exception flags stand for the guest's while it runs: clear them when a
 * run starts, fold them into cpu->fflags (and clear) before fflags is accessed. */
void riscv_fp_enter(void);
void riscv_fp_sync(riscv_cpu *cpu);

/* Each returns the result register bits; its exceptions end up in cpu->fflags.
 * rm is a valid static rounding mode (0..4); singles are NaN-boxed in and out. */
uint64_t riscv_fp_add_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_sub_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_mul_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_div_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_sqrt_s(riscv_cpu *cpu, uint64_t a, uint64_t rm);
uint64_t riscv_fp_add_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_sub_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_mul_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_div_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm);
uint64_t riscv_fp_sqrt_d(riscv_cpu *cpu, uint64_t a, uint64_t rm);
/* fused: neg bit 0 negates the product, bit 1 negates the addend */
uint64_t riscv_fp_fma_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t c, uint64_t rm_neg);
uint64_t riscv_fp_fma_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t c, uint64_t rm_neg);
/* Round-to-nearest-even versions without the CPU argument (flags collect in the
 * host's status register, see riscv_fp_sync). */
uint64_t riscv_fp_add_d_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_sub_d_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_mul_d_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_div_d_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_sqrt_d_rne(uint64_t a);
uint64_t riscv_fp_add_s_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_sub_s_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_mul_s_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_div_s_rne(uint64_t a, uint64_t b);
uint64_t riscv_fp_sqrt_s_rne(uint64_t a);
uint64_t riscv_fp_fma_d_rne(uint64_t a, uint64_t b, uint64_t c);
uint64_t riscv_fp_fma_s_rne(uint64_t a, uint64_t b, uint64_t c);
uint64_t riscv_fp_minmax_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t is_max);
uint64_t riscv_fp_minmax_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t is_max);
uint64_t riscv_fp_class_s(uint64_t a);
uint64_t riscv_fp_class_d(uint64_t a);
/* float -> integer: kind 0 = w, 1 = wu, 2 = l, 3 = lu (the rs2 field) */
uint64_t riscv_fp_cvt_x_s(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm);
uint64_t riscv_fp_cvt_x_d(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm);
/* integer -> float */
uint64_t riscv_fp_cvt_s_x(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm);
uint64_t riscv_fp_cvt_d_x(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm);
uint64_t riscv_fp_cvt_s_d(riscv_cpu *cpu, uint64_t a, uint64_t rm);

void riscv_helper_fence(void);
/* Zbb orc.b */
uint64_t riscv_helper_orc_b(uint64_t a);

#endif
