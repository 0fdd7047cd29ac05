/* Test harness for the RISC-V front-end: guest memory, an in-test encoder for
 * instructions (formats from the unprivileged spec, chapter 24), and a runner that
 * executes the same program on each JIT backend. */
#ifndef TESTS_UNIT_RISCV_HARNESS_H
#define TESTS_UNIT_RISCV_HARNESS_H

#include "cpu/riscv/cpu.h"
#include "tests/lib/cunit-run.h"

#include <stdint.h>

#define MEM_SIZE    (4u << 20)      /* guest RAM at guest address 0 */
#define GUARD_ADDR  MEM_SIZE        /* a PROT_NONE page right after it */
#define CODE        0x1000u
#define DATA        0x100000u
#define EXEC_LIMIT  (MEM_SIZE - 0x10000u) /* code above this is not executable */

typedef struct tenv {
    enum riscv_backend backend;
    const char *backend_name;
    riscv_engine *eng;
    riscv_cpu *cpu;
    uint8_t *mem;
    uint32_t pc;        /* where the next emitted instruction goes */
    riscv_exit ex;
} tenv;

extern uint8_t *guest_mem;

/* Run body once per backend (a fresh engine and CPU each time); a backend this
 * host cannot run prints a SKIP line. */
void run_both(void (*body)(tenv *t));

/* Emitting code at t->pc. */
void e32(tenv *t, uint32_t w);
void e16(tenv *t, uint16_t h);
/* Append an ecall, run from CODE, and require the exit to be that ecall. */
void run_to_ecall(tenv *t);
/* Run from CODE and return the exit record (no ecall appended). */
riscv_exit *run_raw(tenv *t);

uint64_t X(tenv *t, unsigned r);
void SETX(tenv *t, unsigned r, uint64_t v);
uint64_t F(tenv *t, unsigned r);
void SETF(tenv *t, unsigned r, uint64_t v);
uint32_t FFLAGS(tenv *t);

/* little-endian guest memory */
uint64_t rd64(uint32_t a);
uint32_t rd32(uint32_t a);
void wr64(uint32_t a, uint64_t v);
void wr32(uint32_t a, uint32_t v);

/* ---- encoder ---- */
enum {
    ZERO = 0, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5, A6, A7,
    S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, T3, T4, T5, T6
};

static inline uint32_t enc_r(uint32_t f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                             uint32_t op)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, uint32_t op)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, uint32_t op)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 31) << 7 | op;
}
static inline uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           ((u >> 1) & 15) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
static inline uint32_t enc_j(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}

/* RV64I / M */
#define LUI(rd, imm20)      ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x37)
#define ADDI(rd, rs, imm)   enc_i(imm, rs, 0, rd, 0x13)
#define SLTI(rd, rs, imm)   enc_i(imm, rs, 2, rd, 0x13)
#define SLTIU(rd, rs, imm)  enc_i(imm, rs, 3, rd, 0x13)
#define XORI(rd, rs, imm)   enc_i(imm, rs, 4, rd, 0x13)
#define ANDI(rd, rs, imm)   enc_i(imm, rs, 7, rd, 0x13)
#define SLLI(rd, rs, sh)    enc_i(sh, rs, 1, rd, 0x13)
#define SRLI(rd, rs, sh)    enc_i(sh, rs, 5, rd, 0x13)
#define SRAI(rd, rs, sh)    enc_i(0x400 | (sh), rs, 5, rd, 0x13)
#define ADDIW(rd, rs, imm)  enc_i(imm, rs, 0, rd, 0x1b)
#define SLLIW(rd, rs, sh)   enc_i(sh, rs, 1, rd, 0x1b)
#define SRLIW(rd, rs, sh)   enc_i(sh, rs, 5, rd, 0x1b)
#define SRAIW(rd, rs, sh)   enc_i(0x400 | (sh), rs, 5, rd, 0x1b)
#define OP(f7, f3, rd, a, b)    enc_r(f7, b, a, f3, rd, 0x33)
#define OPW(f7, f3, rd, a, b)   enc_r(f7, b, a, f3, rd, 0x3b)
#define ADD(rd, a, b)   OP(0, 0, rd, a, b)
#define SUB(rd, a, b)   OP(0x20, 0, rd, a, b)
#define SLL(rd, a, b)   OP(0, 1, rd, a, b)
#define SLT(rd, a, b)   OP(0, 2, rd, a, b)
#define SLTU(rd, a, b)  OP(0, 3, rd, a, b)
#define SRL(rd, a, b)   OP(0, 5, rd, a, b)
#define SRA(rd, a, b)   OP(0x20, 5, rd, a, b)
#define ADDW(rd, a, b)  OPW(0, 0, rd, a, b)
#define SUBW(rd, a, b)  OPW(0x20, 0, rd, a, b)
#define SLLW(rd, a, b)  OPW(0, 1, rd, a, b)
#define SRLW(rd, a, b)  OPW(0, 5, rd, a, b)
#define SRAW(rd, a, b)  OPW(0x20, 5, rd, a, b)
#define MUL(rd, a, b)   OP(1, 0, rd, a, b)
#define MULH(rd, a, b)  OP(1, 1, rd, a, b)
#define MULHSU(rd, a, b) OP(1, 2, rd, a, b)
#define MULHU(rd, a, b) OP(1, 3, rd, a, b)
#define DIV(rd, a, b)   OP(1, 4, rd, a, b)
#define DIVU(rd, a, b)  OP(1, 5, rd, a, b)
#define REM(rd, a, b)   OP(1, 6, rd, a, b)
#define REMU(rd, a, b)  OP(1, 7, rd, a, b)
#define MULW(rd, a, b)  OPW(1, 0, rd, a, b)
#define DIVW(rd, a, b)  OPW(1, 4, rd, a, b)
#define DIVUW(rd, a, b) OPW(1, 5, rd, a, b)
#define REMW(rd, a, b)  OPW(1, 6, rd, a, b)
#define REMUW(rd, a, b) OPW(1, 7, rd, a, b)
#define LOAD(f3, rd, rs, off)   enc_i(off, rs, f3, rd, 0x03)
#define LB(rd, rs, o)   LOAD(0, rd, rs, o)
#define LH(rd, rs, o)   LOAD(1, rd, rs, o)
#define LW(rd, rs, o)   LOAD(2, rd, rs, o)
#define LD(rd, rs, o)   LOAD(3, rd, rs, o)
#define LBU(rd, rs, o)  LOAD(4, rd, rs, o)
#define LHU(rd, rs, o)  LOAD(5, rd, rs, o)
#define LWU(rd, rs, o)  LOAD(6, rd, rs, o)
#define SB(rs2, rs, o)  enc_s(o, rs2, rs, 0, 0x23)
#define SH(rs2, rs, o)  enc_s(o, rs2, rs, 1, 0x23)
#define SW(rs2, rs, o)  enc_s(o, rs2, rs, 2, 0x23)
#define SD(rs2, rs, o)  enc_s(o, rs2, rs, 3, 0x23)
#define BEQ(a, b, off)  enc_b(off, b, a, 0)
#define BNE(a, b, off)  enc_b(off, b, a, 1)
#define BLT(a, b, off)  enc_b(off, b, a, 4)
#define BGE(a, b, off)  enc_b(off, b, a, 5)
#define BLTU(a, b, off) enc_b(off, b, a, 6)
#define BGEU(a, b, off) enc_b(off, b, a, 7)
#define JAL(rd, off)    enc_j(off, rd)
#define JALR(rd, rs, off) enc_i(off, rs, 0, rd, 0x67)
#define ECALL           0x00000073u
#define EBREAK          0x00100073u
#define FENCE_I         0x0000100fu
#define CSRRW(rd, csr, rs)  enc_i(csr, rs, 1, rd, 0x73)
#define CSRRS(rd, csr, rs)  enc_i(csr, rs, 2, rd, 0x73)
#define CSRRC(rd, csr, rs)  enc_i(csr, rs, 3, rd, 0x73)
#define CSRRWI(rd, csr, u)  enc_i(csr, u, 5, rd, 0x73)

/* A: funct5 << 27 | aq << 26 | rl << 25 */
#define AMO(f5, w, rd, addr, src)   enc_r((f5) << 2, src, addr, (w) ? 2 : 3, rd, 0x2f)
#define LR_W(rd, a)         AMO(0x02, 1, rd, a, 0)
#define LR_D(rd, a)         AMO(0x02, 0, rd, a, 0)
#define SC_W(rd, a, s)      AMO(0x03, 1, rd, a, s)
#define SC_D(rd, a, s)      AMO(0x03, 0, rd, a, s)

/* F/D */
#define FLW(rd, rs, o)  enc_i(o, rs, 2, rd, 0x07)
#define FLD(rd, rs, o)  enc_i(o, rs, 3, rd, 0x07)
#define FSW(rs2, rs, o) enc_s(o, rs2, rs, 2, 0x27)
#define FSD(rs2, rs, o) enc_s(o, rs2, rs, 3, 0x27)
#define FP(f7, rm, rd, a, b)    ((uint32_t)(f7) << 25 | (uint32_t)(b) << 20 | (uint32_t)(a) << 15 | (uint32_t)(rm) << 12 | (uint32_t)(rd) << 7 | 0x53u)
#define FR4(op, fmt, rm, rd, a, b, c)   ((uint32_t)(c) << 27 | (fmt) << 25 | (b) << 20 | (a) << 15 | (rm) << 12 | (rd) << 7 | (op))
#define RNE 0
#define RTZ 1
#define RDN 2
#define RUP 3
#define RMM 4
#define DYN 7

/* fflags bits */
#define NX 1
#define UF 2
#define OF 4
#define DZ 8
#define NV 16

#endif
