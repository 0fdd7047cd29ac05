/* Decoder: table lookup keyed by the major opcode (bits 6:2), then the first row of
 * that bucket whose mask/match fits.  Fields are extracted per operand layout. */
#include "cpu/riscv/insn.h"

#include <pthread.h>
#include <string.h>

const riscv_opinfo riscv_ops[RV_NUM_OPS] = {
    [RV_INVALID] = { "invalid", 0, 0, FMT_NONE, 0 },
#define X(id, name, match, mask, fmt, flags) [RV_##id] = { name, match, mask, fmt, flags },
#include "cpu/riscv/insn.def"
#undef X
};

/* Per major opcode, the list of rows (0-terminated).  The largest bucket (OP-FP)
 * holds about 50 rows. */
#define BUCKET_MAX 64
static uint16_t buckets[32][BUCKET_MAX];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void build_buckets(void)
{
    unsigned fill[32] = { 0 };
    for (unsigned op = 1; op < RV_NUM_OPS; op++) {
        unsigned major = (riscv_ops[op].match >> 2) & 31;
        if (fill[major] < BUCKET_MAX - 1)
            buckets[major][fill[major]++] = (uint16_t)op;
    }
}

static int64_t sext64(uint64_t v, unsigned width)
{
    return (int64_t)(v << (64 - width)) >> (64 - width);
}

static void extract(const riscv_opinfo *oi, uint32_t e, riscv_insn *d)
{
    d->rd = (e >> 7) & 31;
    d->rs1 = (e >> 15) & 31;
    d->rs2 = (e >> 20) & 31;
    d->rs3 = e >> 27;
    d->rm = (e >> 12) & 7;
    d->aqrl = (e >> 25) & 3;
    d->csr = e >> 20;
    switch (oi->fmt) {
    case FMT_I: case FMT_LOAD: case FMT_JALR: case FMT_FLOAD: case FMT_FENCE:
        d->imm = sext64(e >> 20, 12);
        break;
    case FMT_SHIFT:
        d->imm = (e >> 20) & 63;
        break;
    case FMT_S: case FMT_FSTORE:
        d->imm = sext64((e >> 25) << 5 | ((e >> 7) & 31), 12);
        break;
    case FMT_B:
        d->imm = sext64((e >> 31) << 12 | ((e >> 7) & 1) << 11 | ((e >> 25) & 63) << 5 |
                        ((e >> 8) & 15) << 1, 13);
        break;
    case FMT_U:
        d->imm = (int64_t)(int32_t)(e & 0xfffff000);
        break;
    case FMT_J:
        d->imm = sext64((e >> 31) << 20 | ((e >> 12) & 255) << 12 | ((e >> 20) & 1) << 11 |
                        ((e >> 21) & 1023) << 1, 21);
        break;
    case FMT_CSRI:
        d->imm = d->rs1;
        break;
    default:
        d->imm = 0;
        break;
    }
}

bool riscv_decode(uint32_t bits, riscv_insn *d)
{
    pthread_once(&buckets_once, build_buckets);
    memset(d, 0, sizeof(*d));
    uint32_t e;
    if ((bits & 3) != 3) {
        d->len = 2;
        d->raw = bits & 0xffff;
        e = riscv_expand_rvc((uint16_t)bits);
        if (!e)
            return false;
    } else {
        d->len = 4;
        d->raw = bits;
        e = bits;
        if ((e & 0x1f) == 0x1f)     /* 48-bit and longer encodings: none in RV64GC */
            return false;
    }
    d->expanded = e;
    for (const uint16_t *p = buckets[(e >> 2) & 31]; *p; p++) {
        const riscv_opinfo *oi = &riscv_ops[*p];
        if ((e & oi->mask) != oi->match)
            continue;
        extract(oi, e, d);
        /* Rounding modes 5 and 6 are reserved (spec 11.2): illegal at decode.
         * Dynamic (7) is checked against frm at translation (frm is in the
         * block key). */
        if ((oi->flags & IF_RM) && (d->rm == 5 || d->rm == 6))
            return false;
        d->op = *p;
        return true;
    }
    return false;
}
