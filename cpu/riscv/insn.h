/* RISC-V instruction decoding: the table in insn.def, a decoded form that the
 * translator, the disassembler and the random generator share, and the expansion of
 * compressed (RVC) instructions to their 32-bit equivalents. */
#ifndef CPU_RISCV_INSN_H
#define CPU_RISCV_INSN_H

#include <stdbool.h>
#include <stdint.h>

/* Operand layouts (they decide which fields are extracted and how they print). */
enum riscv_fmt {
    FMT_NONE,       /* ecall, ebreak, fence.i */
    FMT_R,          /* rd, rs1, rs2 */
    FMT_R1,         /* rd, rs1 */
    FMT_I,          /* rd, rs1, imm[11:0] */
    FMT_SHIFT,      /* rd, rs1, shamt (bits 25:20) */
    FMT_LOAD,       /* rd, imm(rs1) */
    FMT_S,          /* rs2, imm(rs1) */
    FMT_B,          /* rs1, rs2, pc-relative target */
    FMT_U,          /* rd, imm[31:12] */
    FMT_J,          /* rd, pc-relative target */
    FMT_JALR,       /* rd, imm(rs1) */
    FMT_FENCE,      /* pred, succ (fm in imm bits 11:8) */
    FMT_CSR,        /* rd, csr, rs1 */
    FMT_CSRI,       /* rd, csr, uimm5 (in rs1) */
    FMT_LR,         /* rd, (rs1) */
    FMT_AMO,        /* rd, rs2, (rs1) */
    FMT_FLOAD,      /* fd, imm(rs1) */
    FMT_FSTORE,     /* fs2, imm(rs1) */
    FMT_FR,         /* fd, fs1, fs2 */
    FMT_FR1,        /* fd, fs1 */
    FMT_FR4,        /* fd, fs1, fs2, fs3 */
    FMT_FCMP,       /* rd, fs1, fs2 */
    FMT_FCVT_XF,    /* rd, fs1 */
    FMT_FCVT_FX,    /* fd, rs1 */
    FMT_FMV_XF,     /* rd, fs1 (also fclass) */
    FMT_FMV_FX,     /* fd, rs1 */
};

/* Row flags. */
#define IF_FP 1     /* F/D: illegal while the FPU is off (mstatus.FS, privileged) */
#define IF_RM 2     /* has a rounding-mode field in bits 14:12 */

enum riscv_op {
    RV_INVALID = 0,
#define X(id, name, match, mask, fmt, flags) RV_##id,
#include "cpu/riscv/insn.def"
#undef X
    RV_NUM_OPS
};

typedef struct riscv_opinfo {
    const char *name;
    uint32_t match, mask;
    uint8_t fmt, flags;
} riscv_opinfo;

extern const riscv_opinfo riscv_ops[RV_NUM_OPS];

/* Rounding modes (unprivileged spec 11.2, table 11.1). */
enum { RM_RNE = 0, RM_RTZ = 1, RM_RDN = 2, RM_RUP = 3, RM_RMM = 4, RM_DYN = 7 };

/* fflags bits (spec 11.2, table 11.2). */
enum { FF_NX = 1, FF_UF = 2, FF_OF = 4, FF_DZ = 8, FF_NV = 16 };

typedef struct riscv_insn {
    uint16_t op;        /* enum riscv_op, RV_INVALID if illegal */
    uint8_t len;        /* 2 or 4 */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t rm;         /* bits 14:12 (rounding mode / funct3) */
    uint8_t aqrl;       /* A: bit 1 = aq, bit 0 = rl */
    uint16_t csr;       /* FMT_CSR/CSRI */
    int64_t imm;        /* sign-extended immediate; U: already shifted by 12 */
    uint32_t raw;       /* the bits as fetched (16-bit forms in the low half) */
    uint32_t expanded;  /* the 32-bit equivalent (== raw for 32-bit forms) */
} riscv_insn;

/* Length of the instruction whose low 16 bits are lo: 2 or 4 (longer encodings,
 * not used by RV64GC, are reported as 4 and decode as illegal). */
static inline unsigned riscv_insn_len(uint16_t lo)
{
    return (lo & 3) == 3 ? 4 : 2;
}

/* Decode bits (a 16-bit instruction in the low half when its low two bits are not
 * 11).  Always fills *d; returns false (d->op == RV_INVALID) if illegal. */
bool riscv_decode(uint32_t bits, riscv_insn *d);

/* The 32-bit instruction a compressed one stands for (RVC spec, chapter 16), or 0
 * if the 16-bit encoding is illegal or reserved in RV64. */
uint32_t riscv_expand_rvc(uint16_t c);

#endif
