/* Compressed instructions (the "C" extension, unprivileged spec chapter 16): each
 * 16-bit form is rewritten to the 32-bit instruction it stands for, so the rest of
 * the front-end knows only one encoding.  Reserved encodings return 0. */
#include "cpu/riscv/insn.h"

static uint32_t bit(uint32_t v, unsigned b) { return (v >> b) & 1; }
static uint32_t bits(uint32_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}
static int32_t sext(uint32_t v, unsigned width)
{
    return (int32_t)(v << (32 - width)) >> (32 - width);
}

static uint32_t enc_r(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                      uint32_t f7)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
static uint32_t enc_i(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
static uint32_t enc_s(uint32_t opc, unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return bits(u, 11, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | bits(u, 4, 0) << 7 | opc;
}
static uint32_t enc_b(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return bit(u, 12) << 31 | bits(u, 10, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           bits(u, 4, 1) << 8 | bit(u, 11) << 7 | 0x63;
}
static uint32_t enc_j(unsigned rd, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return bit(u, 20) << 31 | bits(u, 10, 1) << 21 | bit(u, 11) << 20 | bits(u, 19, 12) << 12 |
           rd << 7 | 0x6f;
}

enum { OP_LOAD = 0x03, OP_LOAD_FP = 0x07, OP_IMM = 0x13, OP_IMM_32 = 0x1b, OP_STORE = 0x23,
       OP_STORE_FP = 0x27, OP = 0x33, OP_LUI = 0x37, OP_32 = 0x3b, OP_JALR = 0x67 };

static uint32_t quadrant0(uint32_t c)
{
    unsigned rd_ = bits(c, 4, 2) + 8, rs1_ = bits(c, 9, 7) + 8;
    uint32_t uimm_d = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;     /* ld/sd/fld/fsd */
    uint32_t uimm_w = bits(c, 12, 10) << 3 | bit(c, 6) << 2 | bit(c, 5) << 6;
    switch (bits(c, 15, 13)) {
    case 0: {   /* c.addi4spn */
        uint32_t nzuimm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 | bit(c, 6) << 2 |
                          bit(c, 5) << 3;
        return nzuimm ? enc_i(OP_IMM, rd_, 0, 2, (int32_t)nzuimm) : 0;
    }
    case 1: return enc_i(OP_LOAD_FP, rd_, 3, rs1_, (int32_t)uimm_d);     /* c.fld */
    case 2: return enc_i(OP_LOAD, rd_, 2, rs1_, (int32_t)uimm_w);        /* c.lw */
    case 3: return enc_i(OP_LOAD, rd_, 3, rs1_, (int32_t)uimm_d);        /* c.ld */
    case 5: return enc_s(OP_STORE_FP, 3, rs1_, rd_, (int32_t)uimm_d);    /* c.fsd */
    case 6: return enc_s(OP_STORE, 2, rs1_, rd_, (int32_t)uimm_w);       /* c.sw */
    case 7: return enc_s(OP_STORE, 3, rs1_, rd_, (int32_t)uimm_d);       /* c.sd */
    default: return 0;
    }
}

static uint32_t quadrant1(uint32_t c)
{
    unsigned rd = bits(c, 11, 7);
    unsigned rd_ = bits(c, 9, 7) + 8, rs2_ = bits(c, 4, 2) + 8;
    int32_t imm6 = sext(bit(c, 12) << 5 | bits(c, 6, 2), 6);
    switch (bits(c, 15, 13)) {
    case 0: return enc_i(OP_IMM, rd, 0, rd, imm6);                      /* c.addi, c.nop */
    case 1: return rd ? enc_i(OP_IMM_32, rd, 0, rd, imm6) : 0;          /* c.addiw */
    case 2: return enc_i(OP_IMM, rd, 0, 0, imm6);                       /* c.li */
    case 3:
        if (rd == 2) {  /* c.addi16sp */
            int32_t nz = sext(bit(c, 12) << 9 | bit(c, 6) << 4 | bit(c, 5) << 6 |
                              bits(c, 4, 3) << 7 | bit(c, 2) << 5, 10);
            return nz ? enc_i(OP_IMM, 2, 0, 2, nz) : 0;
        }
        if (!imm6)      /* c.lui with nzimm == 0 is reserved */
            return 0;
        return ((uint32_t)imm6 << 12) | rd << 7 | OP_LUI;
    case 4: {
        unsigned shamt = bit(c, 12) << 5 | bits(c, 6, 2);
        switch (bits(c, 11, 10)) {
        case 0: return enc_i(OP_IMM, rd_, 5, rd_, (int32_t)shamt);         /* c.srli */
        case 1: return enc_i(OP_IMM, rd_, 5, rd_, (int32_t)(shamt | 0x400)); /* c.srai */
        case 2: return enc_i(OP_IMM, rd_, 7, rd_, imm6);                   /* c.andi */
        }
        switch (bit(c, 12) << 2 | bits(c, 6, 5)) {
        case 0: return enc_r(OP, rd_, 0, rd_, rs2_, 0x20);     /* c.sub */
        case 1: return enc_r(OP, rd_, 4, rd_, rs2_, 0);        /* c.xor */
        case 2: return enc_r(OP, rd_, 6, rd_, rs2_, 0);        /* c.or */
        case 3: return enc_r(OP, rd_, 7, rd_, rs2_, 0);        /* c.and */
        case 4: return enc_r(OP_32, rd_, 0, rd_, rs2_, 0x20);  /* c.subw */
        case 5: return enc_r(OP_32, rd_, 0, rd_, rs2_, 0);     /* c.addw */
        default: return 0;
        }
    }
    case 5: {   /* c.j */
        int32_t off = sext(bit(c, 12) << 11 | bit(c, 11) << 4 | bits(c, 10, 9) << 8 |
                           bit(c, 8) << 10 | bit(c, 7) << 6 | bit(c, 6) << 7 |
                           bits(c, 5, 3) << 1 | bit(c, 2) << 5, 12);
        return enc_j(0, off);
    }
    default: {  /* c.beqz, c.bnez */
        int32_t off = sext(bit(c, 12) << 8 | bits(c, 11, 10) << 3 | bits(c, 6, 5) << 6 |
                           bits(c, 4, 3) << 1 | bit(c, 2) << 5, 9);
        return enc_b(bits(c, 15, 13) == 6 ? 0 : 1, rd_, 0, off);
    }
    }
}

static uint32_t quadrant2(uint32_t c)
{
    unsigned rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
    switch (bits(c, 15, 13)) {
    case 0:     /* c.slli */
        return enc_i(OP_IMM, rd, 1, rd, (int32_t)(bit(c, 12) << 5 | bits(c, 6, 2)));
    case 1:     /* c.fldsp */
        return enc_i(OP_LOAD_FP, rd, 3, 2,
                     (int32_t)(bit(c, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6));
    case 2:     /* c.lwsp */
        if (!rd)
            return 0;
        return enc_i(OP_LOAD, rd, 2, 2,
                     (int32_t)(bit(c, 12) << 5 | bits(c, 6, 4) << 2 | bits(c, 3, 2) << 6));
    case 3:     /* c.ldsp */
        if (!rd)
            return 0;
        return enc_i(OP_LOAD, rd, 3, 2,
                     (int32_t)(bit(c, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6));
    case 4:
        if (!bit(c, 12)) {
            if (!rs2)   /* c.jr */
                return rd ? enc_i(OP_JALR, 0, 0, rd, 0) : 0;
            return enc_r(OP, rd, 0, 0, rs2, 0);                 /* c.mv */
        }
        if (!rs2) {
            if (!rd)
                return 0x00100073;                              /* c.ebreak */
            return enc_i(OP_JALR, 1, 0, rd, 0);                 /* c.jalr */
        }
        return enc_r(OP, rd, 0, rd, rs2, 0);                    /* c.add */
    case 5:     /* c.fsdsp */
        return enc_s(OP_STORE_FP, 3, 2, rs2, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6));
    case 6:     /* c.swsp */
        return enc_s(OP_STORE, 2, 2, rs2, (int32_t)(bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6));
    default:    /* c.sdsp */
        return enc_s(OP_STORE, 3, 2, rs2, (int32_t)(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6));
    }
}

uint32_t riscv_expand_rvc(uint16_t c)
{
    switch (c & 3) {
    case 0: return quadrant0(c);
    case 1: return quadrant1(c);
    case 2: return quadrant2(c);
    default: return 0;
    }
}
