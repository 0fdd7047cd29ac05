/* Decoder: an index keyed by the major opcode, funct3 and bits 31:27 gives the
 * candidate rows; the first whose mask/match fits wins.  Fields are extracted per
 * operand layout. */
#include "cpu/riscv/insn.h"

#include <pthread.h>
#include <string.h>

const riscv_opinfo riscv_ops[RV_NUM_OPS] = {
    [RV_INVALID] = { "invalid", 0, 0, FMT_NONE, 0 },
#define X(id, name, match, mask, fmt, flags) [RV_##id] = { name, match, mask, fmt, flags },
#include "cpu/riscv/insn.def"
#undef X
};

/* Lookup index: a key of the major opcode (bits 6:2), funct3 (14:12) and the top
 * five bits (31:27) selects the few rows that can match (a row whose mask leaves
 * some key bits open is listed under every key it can take).  Most keys hold one
 * or two rows, so decoding is a couple of mask compares. */
#define KEY_BITS 13
#define KEY_OF(e) ((((e) >> 2) & 31) | (((e) >> 12) & 7) << 5 | ((e) >> 27) << 8)
#define POOL_MAX 16384
static uint16_t key_start[(1 << KEY_BITS) + 1];
static uint16_t pool[POOL_MAX];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

/* Every row is listed under each key its mask leaves possible: the key bits
 * the row fixes (KEY_OF of its mask) take its match's values, the others run
 * over all their combinations.  Rows are visited in table order, so each key's
 * rows keep that order (the first match wins).  This visits only the pool's
 * entries, not every row for every key (a tenth of a dynamically linked
 * program's start-up when it did). */
static void build_index(void)
{
    static uint16_t count[1 << KEY_BITS];
    const unsigned all = (1u << KEY_BITS) - 1;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned op = 1; op < RV_NUM_OPS; op++) {
            const riscv_opinfo *oi = &riscv_ops[op];
            unsigned fixed = KEY_OF(oi->mask) & all, val = KEY_OF(oi->match) & fixed;
            unsigned open = all & ~fixed, s = 0;
            do {
                unsigned key = val | s;
                if (pass == 0)
                    count[key]++;
                else if (key_start[key] + count[key] < POOL_MAX)
                    pool[key_start[key] + count[key]++] = (uint16_t)op;
                s = (s - open) & open;      /* next subset of the open bits */
            } while (s);
        }
        if (pass == 0) {
            unsigned n = 0;
            for (unsigned key = 0; key < (1u << KEY_BITS); key++) {
                key_start[key] = (uint16_t)(n < POOL_MAX ? n : POOL_MAX);
                n += count[key];
                count[key] = 0;
            }
            key_start[1 << KEY_BITS] = (uint16_t)(n < POOL_MAX ? n : POOL_MAX);
        }
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
    pthread_once(&index_once, build_index);
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
    unsigned key = KEY_OF(e);
    for (unsigned i = key_start[key]; i < key_start[key + 1]; i++) {
        const riscv_opinfo *oi = &riscv_ops[pool[i]];
        if ((e & oi->mask) != oi->match)
            continue;
        extract(oi, e, d);
        /* Rounding modes 5 and 6 are reserved (spec 11.2): illegal at decode.
         * Dynamic (7) is checked against frm at translation (frm is in the
         * block key). */
        if ((oi->flags & IF_RM) && (d->rm == 5 || d->rm == 6))
            return false;
        d->op = pool[i];
        return true;
    }
    return false;
}
