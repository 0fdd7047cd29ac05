/* Random straight-line RV64GC(+Zba/Zbb/Zbs) code for differential tests.
 *
 * 32-bit instructions: a random row of the decoder table with random operand bits,
 * then fixed up so that the result is legal and self-contained (no control flow,
 * no sp/s0 writes, memory only in the scratch area that s0 and sp point to).
 * 16-bit instructions: random 16-bit words kept when they decode to an allowed
 * instruction under the same rules.  The decoder itself checks every result. */
#include "cpu/riscv/internal.h"

#include <string.h>

typedef struct gen {
    uint64_t s;
    const riscv_gen_options *o;
    uint8_t *buf;
    size_t len, max;
} gen;

static uint64_t rnd(gen *g)
{
    /* xorshift64*: the same seed gives the same code on every host */
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545f4914f6cdd1dull;
}

static unsigned below(gen *g, unsigned n) { return (unsigned)(rnd(g) % n); }

static bool emit(gen *g, uint32_t w, unsigned len)
{
    if (g->len + len > g->max)
        return false;
    for (unsigned i = 0; i < len; i++)
        g->buf[g->len++] = (uint8_t)(w >> (8 * i));
    return true;
}

static bool reserved(unsigned r) { return r == 2 || r == RISCV_GEN_BASE_REG; }

/* A register the code may write: not x0 (pointless), sp or s0. */
static unsigned free_reg(gen *g)
{
    unsigned r;
    do
        r = 1 + below(g, 31);
    while (reserved(r));
    return r;
}

static bool writes_x(unsigned fmt)
{
    switch (fmt) {
    case FMT_R: case FMT_R1: case FMT_I: case FMT_SHIFT: case FMT_LOAD: case FMT_U:
    case FMT_CSR: case FMT_CSRI: case FMT_LR: case FMT_AMO: case FMT_FCMP:
    case FMT_FCVT_XF: case FMT_FMV_XF: case FMT_J: case FMT_JALR:
        return true;
    default:
        return false;
    }
}

static unsigned access_size(unsigned op)
{
    switch (op) {
    case RV_LB: case RV_LBU: case RV_SB: return 1;
    case RV_LH: case RV_LHU: case RV_SH: return 2;
    case RV_LW: case RV_LWU: case RV_SW: case RV_FLW: case RV_FSW:
    case RV_LR_W: case RV_SC_W: return 4;
    default: return 8;
    }
}

static bool excluded(unsigned op, unsigned fmt, const riscv_gen_options *o)
{
    switch (op) {
    case RV_JAL: case RV_JALR: case RV_BEQ: case RV_BNE: case RV_BLT: case RV_BGE:
    case RV_BLTU: case RV_BGEU: case RV_ECALL: case RV_EBREAK: case RV_FENCE_I:
    case RV_AUIPC: case RV_SC_W: case RV_SC_D:
        return true;
    }
    if (o->no_fp && (riscv_ops[op].flags & IF_FP))
        return true;
    if (o->no_atomics && (fmt == FMT_AMO || fmt == FMT_LR))
        return true;
    if (o->qemu_compat && op == RV_CTZW)
        return true;
    return false;
}

static uint32_t set_rd(uint32_t w, unsigned r) { return (w & ~(31u << 7)) | r << 7; }
static uint32_t set_rs1(uint32_t w, unsigned r) { return (w & ~(31u << 15)) | r << 15; }

static uint32_t set_imm_i(uint32_t w, unsigned imm) { return (w & 0xfffffu) | imm << 20; }
static uint32_t set_imm_s(uint32_t w, unsigned imm)
{
    return (w & 0x01fff07fu) | (imm >> 5) << 25 | (imm & 31) << 7;
}

/* An aligned offset for an access of size bytes inside the scratch area. */
static unsigned scratch_offset(gen *g, unsigned size, unsigned limit)
{
    unsigned span = g->o->scratch_size < limit ? g->o->scratch_size : limit;
    return below(g, span / size) * size;
}

/* The CSR accesses allowed: fflags, frm (legal values only) and fcsr. */
static uint32_t gen_csr(gen *g)
{
    unsigned rd = below(g, 2) ? free_reg(g) : 0;
    switch (below(g, 6)) {
    case 0:     /* csrrs rd, fflags/frm/fcsr, x0: reads */
        return (1 + below(g, 3)) << 20 | 2u << 12 | rd << 7 | 0x73;
    case 1:     /* csrrw/s/c rd, fflags, rs: only 5 bits kept */
        return 1u << 20 | below(g, 32) << 15 | (1 + below(g, 3)) << 12 | rd << 7 | 0x73;
    case 2:     /* csrrwi rd, frm, 0..4 */
        return 2u << 20 | below(g, 5) << 15 | 5u << 12 | rd << 7 | 0x73;
    case 3:     /* csrrwi rd, fcsr, imm: frm becomes 0 */
        return 3u << 20 | below(g, 32) << 15 | 5u << 12 | rd << 7 | 0x73;
    case 4:     /* csrrsi/csrrci rd, fflags, imm */
        return 1u << 20 | below(g, 32) << 15 | (6 + below(g, 2)) << 12 | rd << 7 | 0x73;
    default:    /* csrrci rd, frm, imm: clearing bits of a value <= 4 keeps it <= 4 */
        return 2u << 20 | below(g, 32) << 15 | 7u << 12 | rd << 7 | 0x73;
    }
}

/* gcc's quiet comparison, "frflags t; f{eq,lt,le}.{s,d} r, fa, fb; fsflags t"
 * (the translator treats the three as one unit), or the same with a random
 * FP operation instead of the comparison (fsflags must undo its flags). */
static bool gen_fflags_idiom(gen *g)
{
    static const uint32_t cmp[6] = { 0xa0002053, 0xa0001053, 0xa0000053,    /* feq/flt/fle.s */
                                     0xa2002053, 0xa2001053, 0xa2000053 };  /* .d */
    unsigned t = free_reg(g), r;
    do
        r = free_reg(g);
    while (r == t);
    uint32_t mid = cmp[below(g, 6)] | below(g, 32) << 20 | below(g, 32) << 15 | r << 7;
    if (below(g, 4) == 0)       /* fadd/fsub/fmul/fdiv.{s,d}, dynamic rounding */
        mid = (below(g, 4) << 27 | below(g, 2) << 25) | below(g, 32) << 20 |
              below(g, 32) << 15 | 7u << 12 | below(g, 32) << 7 | 0x53;
    if (g->len + 12 > g->max)
        return false;
    emit(g, 0x00102073u | t << 7, 4);           /* frflags t (csrrs t, fflags, x0) */
    emit(g, mid, 4);
    return emit(g, 0x00101073u | t << 15, 4);   /* fsflags t (csrrw x0, fflags, t) */
}

static bool gen32(gen *g)
{
    for (;;) {
        unsigned op = 1 + below(g, RV_NUM_OPS - 1);
        const riscv_opinfo *oi = &riscv_ops[op];
        if (excluded(op, oi->fmt, g->o))
            continue;
        if (oi->fmt == FMT_CSR || oi->fmt == FMT_CSRI) {
            if (!g->o->no_fp && below(g, 3) == 0)
                return gen_fflags_idiom(g);
            return emit(g, gen_csr(g), 4);
        }
        uint32_t w = oi->match | ((uint32_t)rnd(g) & ~oi->mask);
        if ((oi->flags & IF_RM)) {
            unsigned rm = below(g, 6);
            w = (w & ~0x7000u) | (rm == 5 ? 7u : rm) << 12;
        }
        if (writes_x(oi->fmt) && reserved((w >> 7) & 31))
            w = set_rd(w, free_reg(g));
        unsigned size = access_size(op);
        switch (oi->fmt) {
        case FMT_LOAD: case FMT_FLOAD:
            w = set_rs1(w, below(g, 2) ? RISCV_GEN_BASE_REG : 2);
            w = set_imm_i(w, scratch_offset(g, size, 2048));
            break;
        case FMT_S: case FMT_FSTORE:
            w = set_rs1(w, below(g, 2) ? RISCV_GEN_BASE_REG : 2);
            w = set_imm_s(w, scratch_offset(g, size, 2048));
            break;
        case FMT_LR: case FMT_AMO: {
            /* addi t, s0, offset; then the atomic on (t) */
            unsigned t = free_reg(g);
            uint32_t addi = scratch_offset(g, size, 2048) << 20 | RISCV_GEN_BASE_REG << 15 |
                            t << 7 | 0x13;
            if (g->len + 12 > g->max)
                return false;
            emit(g, addi, 4);
            w = set_rs1(w, t);
            if (oi->fmt == FMT_LR) {
                /* LR is followed by an SC of the same width to the same address */
                unsigned rd2 = free_reg(g), rs2 = below(g, 32);
                uint32_t sc = (size == 4 ? 0x1800202fu : 0x1800302fu) | (w & (3u << 25)) |
                              rs2 << 20 | t << 15 | rd2 << 7;
                emit(g, w, 4);
                return emit(g, sc, 4);
            }
            break;
        }
        default:
            break;
        }
        riscv_insn d;
        if (!riscv_decode(w, &d) || d.op != op)
            continue;
        return emit(g, w, 4);
    }
}

/* A random 16-bit instruction under the same rules; false if none was found in
 * a bounded number of tries (which the caller treats like any other). */
static bool gen16(gen *g)
{
    for (unsigned tries = 0; tries < 1000; tries++) {
        uint32_t c = (uint32_t)rnd(g) & 0xffff;
        if ((c & 3) == 3)
            continue;
        riscv_insn d;
        if (!riscv_decode(c, &d))
            continue;
        const riscv_opinfo *oi = &riscv_ops[d.op];
        if (excluded(d.op, oi->fmt, g->o))
            continue;
        if (writes_x(oi->fmt) && reserved(d.rd))
            continue;
        if (oi->fmt == FMT_LOAD || oi->fmt == FMT_S || oi->fmt == FMT_FLOAD ||
            oi->fmt == FMT_FSTORE) {
            unsigned size = access_size(d.op);
            if (!reserved(d.rs1) || d.imm < 0 || (uint64_t)d.imm + size > g->o->scratch_size)
                continue;
        }
        return emit(g, c, 2);
    }
    return false;
}

size_t riscv_gen_block(const riscv_gen_options *opts, uint8_t *buf, size_t max_bytes)
{
    riscv_gen_options o = *opts;
    if (o.scratch_size < 64)
        o.scratch_size = 64;
    o.scratch_size &= ~7u;
    gen g = { .s = opts->seed * 0x9e3779b97f4a7c15ull + 1, .o = &o, .buf = buf,
              .max = max_bytes };
    while (g.len + 4 <= g.max) {
        bool ok = (!o.no_compressed && below(&g, 3) == 0) ? gen16(&g) : gen32(&g);
        if (!ok)
            break;
    }
    if (!o.no_compressed && g.len + 2 <= g.max)
        gen16(&g);
    return g.len;
}
