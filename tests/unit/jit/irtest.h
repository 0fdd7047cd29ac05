/* IR-level test harness shared by the op tests and the differential fuzzer: a
 * front-end whose translate() runs a builder callback, a CPU with 16 i64 and 8
 * i32 globals plus host-only scratch fields, guest memory, and a generator of
 * random well-formed blocks. */
#ifndef TESTS_UNIT_JIT_IRTEST_H
#define TESTS_UNIT_JIT_IRTEST_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "jit/jit.h"

typedef struct ir_cpu {
    jit_cpu h;
    uint64_t g[16];
    uint32_t w[8];
    uint64_t scratch[4];        /* reached with jit_ld/jit_st only */
} ir_cpu;

#define IRG(i) { "g" #i, JIT_I64, offsetof(ir_cpu, g) + 8 * (i) }
#define IRW(i) { "w" #i, JIT_I32, offsetof(ir_cpu, w) + 4 * (i) }
static const jit_global_desc ir_globals[] = {
    IRG(0), IRG(1), IRG(2), IRG(3), IRG(4), IRG(5), IRG(6), IRG(7),
    IRG(8), IRG(9), IRG(10), IRG(11), IRG(12), IRG(13), IRG(14), IRG(15),
    IRW(0), IRW(1), IRW(2), IRW(3), IRW(4), IRW(5), IRW(6), IRW(7),
};
#define G(i) jit_global(i)
#define W(i) jit_global(16 + (i))

typedef void (*ir_builder)(jit_ctx *c, void *arg);
static ir_builder ir_build;
static void *ir_build_arg;

static inline int ir_translate(jit_ctx *c, jit_cpu *cpu, uint64_t pc, uint32_t flags)
{
    jit_insn_start(c, pc);
    ir_build(c, ir_build_arg);
    return 0;
}

static const jit_frontend ir_frontend = {
    .name = "irtest",
    .globals = ir_globals,
    .nglobals = sizeof(ir_globals) / sizeof(ir_globals[0]),
    .addr_bits = 64,
    .translate = ir_translate,
};

/* guest memory for tests: 64 KiB, data at IR_DATA */
#define IR_MEM 65536
#define IR_DATA 0x1000u
#define IR_DATA_SIZE 256u

/* Run one block built by `build` on engine e with a fresh copy of *in; the
 * result state goes to *out.  Each call uses a new pc so blocks never come
 * from the cache. */
static uint64_t ir_next_pc = 0x100000;

static inline jit_exit_reason ir_run(jit_engine *e, uint8_t *mem, ir_builder build, void *arg,
                              const ir_cpu *in, ir_cpu *out)
{
    ir_build = build;
    ir_build_arg = arg;
    *out = *in;
    memset(&out->h, 0, sizeof(out->h));
    out->h.guest_base = (uintptr_t)mem;
    out->h.guest_limit = IR_MEM;
    if (jit_cpu_init(e, &out->h))
        return JIT_EXIT_NONE;
    out->h.pc = ir_next_pc;
    ir_next_pc += 4;
    jit_exit_reason r = jit_exec(&out->h);
    jit_cpu_destroy(&out->h);
    return r;
}

/* ---- random blocks ---- */

typedef struct ir_rng {
    const uint8_t *data;
    size_t size, pos;
    uint64_t state;
} ir_rng;

static inline uint64_t ir_rand(ir_rng *r)
{
    if (r->data && r->pos + 8 <= r->size) {
        uint64_t v;
        memcpy(&v, r->data + r->pos, 8);
        r->pos += 8;
        return v;
    }
    if (r->data && r->pos < r->size)
        r->state ^= r->data[r->pos++];
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * 0x2545F4914F6CDD1Dull;
}

static inline unsigned ir_pick(ir_rng *r, unsigned n) { return (unsigned)(ir_rand(r) % n); }

static inline uint64_t ir_interesting(ir_rng *r)
{
    static const uint64_t v[] = {
        0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
        0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffffeull,
        0x123456789abcdef0ull, 0xfffffff0ull, 0xffffffff80000000ull,
        /* float bit patterns: 1.0, -2.5, 2^31, 2^63, inf, qNaN, sNaN (double),
         * 1.5f, -2^31 f, inf f, sNaN f */
        0x3ff0000000000000ull, 0xc004000000000000ull, 0x41e0000000000000ull,
        0x43e0000000000000ull, 0x7ff0000000000000ull, 0x7ff8000000000000ull,
        0x7ff4000000000000ull, 0x3fc00000, 0xcf000000, 0x7f800000, 0x7fa00000,
    };
    if (ir_pick(r, 3) == 0)
        return ir_rand(r);
    return v[ir_pick(r, sizeof(v) / sizeof(v[0]))];
}

typedef struct ir_gen {
    ir_rng *rng;
    unsigned nops;
} ir_gen;

#define IR_MAX_LOCALS 48

/* A random block: locals initialised first (every read is of a defined value),
 * then arithmetic, compares, guest and host memory, forward branches, and an
 * exit.  g15 holds IR_DATA and is never written, so guest addresses stay in
 * the data window.  One block in three runs its ops in a loop inside the block
 * (1 to 4 times, counted in w7, which nothing else writes). */
static inline void ir_random_block(jit_ctx *c, void *arg)
{
    ir_gen *gen = arg;
    ir_rng rcopy = *gen->rng;       /* a retranslation (after a flush) must */
    ir_rng *r = &rcopy;             /* build the same block */
    jit_temp l64[IR_MAX_LOCALS], l32[IR_MAX_LOCALS];
    unsigned n64 = 1 + ir_pick(r, IR_MAX_LOCALS), n32 = 1 + ir_pick(r, 8);
    for (unsigned i = 0; i < n64; i++) {
        l64[i] = jit_temp_new(c, JIT_I64);
        if (ir_pick(r, 2))
            jit_mov(c, l64[i], G(ir_pick(r, 15)));
        else
            jit_movi(c, l64[i], ir_interesting(r));
    }
    for (unsigned i = 0; i < n32; i++) {
        l32[i] = jit_temp_new(c, JIT_I32);
        jit_movi(c, l32[i], ir_interesting(r));
    }
    jit_label pending[8];
    unsigned npending = 0;
    jit_label loop = 0;
    bool looped = ir_pick(r, 3) == 0;
    if (looped) {
        jit_movi(c, W(7), 1 + ir_pick(r, 4));
        loop = jit_label_new(c);
        jit_label_set(c, loop);
    }
#define SRC64() (ir_pick(r, 4) == 0 ? jit_const(c, JIT_I64, ir_interesting(r)) \
                 : ir_pick(r, 2) ? G(ir_pick(r, 16)) : l64[ir_pick(r, n64)])
#define SRC32() (ir_pick(r, 4) == 0 ? jit_const(c, JIT_I32, ir_interesting(r)) \
                 : ir_pick(r, 2) ? W(ir_pick(r, 8)) : l32[ir_pick(r, n32)])
#define DST64() (ir_pick(r, 2) ? G(ir_pick(r, 15)) : l64[ir_pick(r, n64)])
#define DST32() (ir_pick(r, 2) ? W(ir_pick(r, 7)) : l32[ir_pick(r, n32)])
    for (unsigned i = 0; i < gen->nops; i++) {
        if (ir_pick(r, 32) == 0) {  /* a label only fallen into, or "br L; L:" */
            jit_label l = jit_label_new(c);
            if (ir_pick(r, 2))
                jit_br(c, l);
            jit_label_set(c, l);
            continue;
        }
        bool w = ir_pick(r, 3) == 0;
        unsigned kind = ir_pick(r, 20);
        if (kind < 8) {
            jit_opc op = (jit_opc)(JIT_OP_ADD + ir_pick(r, JIT_OP_ROTR - JIT_OP_ADD + 1));
            jit_temp a = w ? SRC32() : SRC64(), b = w ? SRC32() : SRC64();
            jit_binop(c, op, w ? DST32() : DST64(), a, b);
        } else if (kind < 11) {
            jit_opc op = (jit_opc)(JIT_OP_NOT + ir_pick(r, JIT_OP_EXT16U - JIT_OP_NOT + 1));
            jit_temp a = w ? SRC32() : SRC64();
            jit_unop(c, op, w ? DST32() : DST64(), a);
        } else if (kind == 11) {
            switch (ir_pick(r, 5)) {
            case 4: {   /* float ops on the bit patterns (flags are not compared),
                         * in chains that feed each result to the next op */
                jit_temp prev = JIT_NO_TEMP;
                for (unsigned n = 1 + ir_pick(r, 3); n--;) {
                    bool pw = prev != JIT_NO_TEMP && jit_temp_type(c, prev) == JIT_I32;
                    if (prev != JIT_NO_TEMP)
                        w = pw;
                    jit_temp a = prev != JIT_NO_TEMP ? prev : w ? SRC32() : SRC64();
                    jit_temp b = w ? SRC32() : SRC64(), cc = w ? SRC32() : SRC64();
                    if (ir_pick(r, 2)) {
                        jit_temp t = a;     /* the chained value second */
                        a = b;
                        b = t;
                    }
                    jit_temp d;
                    switch (ir_pick(r, 6)) {
                    case 0: {
                        static const jit_cond cs[3] = { JIT_EQ, JIT_LT, JIT_LE };
                        d = ir_pick(r, 2) ? DST32() : DST64();
                        jit_fcmp(c, cs[ir_pick(r, 3)], (jit_fcmp_mode)ir_pick(r, 3), d, a, b);
                        break;
                    }
                    case 1:
                        d = ir_pick(r, 2) ? DST32() : DST64();
                        jit_fcvt_from_int(c, d, a);
                        break;
                    case 2:
                        d = ir_pick(r, 2) ? DST32() : DST64();
                        jit_fcvt_to_int(c, d, a, ir_pick(r, 2));
                        break;
                    case 3:
                        d = w ? DST64() : DST32();
                        jit_fcvt_float(c, d, a);
                        break;
                    default: {
                        jit_opc op = (jit_opc)(JIT_OP_FADD + ir_pick(r, JIT_OP_FMA - JIT_OP_FADD + 1));
                        d = w ? DST32() : DST64();
                        if (op == JIT_OP_FMA)
                            jit_fma(c, d, a, b, cc, ir_pick(r, 4));
                        else
                            jit_fop(c, op, d, a, b, cc);
                        break;
                    }
                    }
                    /* sometimes an integer op changes the result before
                     * the next link reads it (a stale xmm copy must not) */
                    if (ir_pick(r, 4) == 0) {
                        jit_type dt = jit_temp_type(c, d);
                        jit_binop(c, JIT_OP_XOR, d, d, jit_const(c, dt, ir_interesting(r)));
                    }
                    prev = d;
                }
                break;
            }
            case 0: jit_ext32s(c, DST64(), w ? SRC32() : SRC64()); break;
            case 1: jit_ext32u(c, DST64(), w ? SRC32() : SRC64()); break;
            case 2: jit_trunc(c, DST32(), SRC64()); break;
            default: jit_mov(c, w ? DST32() : DST64(), w ? SRC32() : SRC64()); break;
            }
        } else if (kind == 12) {
            jit_cond cond = (jit_cond)ir_pick(r, JIT_COND_COUNT);
            jit_temp a = w ? SRC32() : SRC64(), b = w ? SRC32() : SRC64();
            jit_setcond(c, cond, ir_pick(r, 2) ? DST32() : DST64(), a, b);
        } else if (kind == 13) {
            jit_cond cond = (jit_cond)ir_pick(r, JIT_COND_COUNT);
            jit_temp a = w ? SRC32() : SRC64(), b = w ? SRC32() : SRC64();
            bool dw = ir_pick(r, 2);
            jit_temp t = dw ? SRC32() : SRC64(), f = dw ? SRC32() : SRC64();
            jit_movcond(c, cond, dw ? DST32() : DST64(), a, b, t, f);
        } else if (kind == 14) {
            unsigned mo = ir_pick(r, 4) | (ir_pick(r, 2) ? JIT_MO_SIGN : 0) |
                          (ir_pick(r, 4) == 0 ? JIT_MO_BSWAP : 0);
            if (w)
                mo = (mo & ~3u) | (mo & 3) % 3;
            jit_qld(c, w ? DST32() : DST64(), G(15), (int32_t)ir_pick(r, IR_DATA_SIZE - 8), mo);
        } else if (kind == 15) {
            unsigned mo = ir_pick(r, 4) | (ir_pick(r, 4) == 0 ? JIT_MO_BSWAP : 0);
            if (w)
                mo = (mo & ~3u) | (mo & 3) % 3;
            jit_qst(c, w ? SRC32() : SRC64(), G(15), (int32_t)ir_pick(r, IR_DATA_SIZE - 8), mo);
        } else if (kind == 16) {
            unsigned off = offsetof(ir_cpu, scratch) + 8 * ir_pick(r, 4);
            unsigned mo = ir_pick(r, 4) | (ir_pick(r, 2) ? JIT_MO_SIGN : 0);
            if (w)
                mo = (mo & ~3u) | (mo & 3) % 3;
            if (ir_pick(r, 2))
                jit_ld(c, w ? DST32() : DST64(), jit_env(c), (int32_t)off, mo);
            else
                jit_st(c, w ? SRC32() : SRC64(), jit_env(c), (int32_t)off, mo & 3);
        } else if (kind == 17 && npending < 8) {
            jit_label l = jit_label_new(c);
            jit_cond cond = (jit_cond)ir_pick(r, JIT_COND_COUNT);
            jit_temp a = w ? SRC32() : SRC64(), b = w ? SRC32() : SRC64();
            jit_brcond(c, cond, a, b, l);
            pending[npending++] = l;
        } else if (kind == 18 && npending) {
            unsigned k = ir_pick(r, npending);
            jit_label_set(c, pending[k]);
            pending[k] = pending[--npending];
        } else {
            unsigned mo = JIT_MO_32 + ir_pick(r, 2) + (ir_pick(r, 2) ? JIT_MO_SIGN : 0);
            jit_temp d = DST64();
            int32_t off = (int32_t)(ir_pick(r, IR_DATA_SIZE / 8) * 8);
            jit_temp addr = jit_temp_new(c, JIT_I64);
            jit_addi(c, addr, G(15), off);
            if (ir_pick(r, 2))
                jit_atomic_rmw(c, (jit_amo)ir_pick(r, JIT_AMO_COUNT), d, addr, SRC64(), mo);
            else
                jit_atomic_cmpxchg(c, d, addr, SRC64(), SRC64(), mo);
        }
    }
    while (npending)
        jit_label_set(c, pending[--npending]);
    if (looped) {
        jit_addi(c, W(7), W(7), -1);
        jit_brcond(c, JIT_NE, W(7), jit_const(c, JIT_I32, 0), loop);
    }
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), G(0));
#undef SRC64
#undef SRC32
#undef DST64
#undef DST32
}

static inline void ir_random_state(ir_rng *r, ir_cpu *s, uint8_t *mem)
{
    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < 15; i++)
        s->g[i] = ir_interesting(r);
    s->g[15] = IR_DATA;
    for (unsigned i = 0; i < 8; i++)
        s->w[i] = (uint32_t)ir_interesting(r);
    for (unsigned i = 0; i < 4; i++)
        s->scratch[i] = ir_interesting(r);
    for (unsigned i = 0; i < IR_DATA_SIZE; i += 8) {
        uint64_t v = ir_interesting(r);
        memcpy(mem + IR_DATA + i, &v, 8);
    }
}

/* compare architectural results; returns the index of the first difference
 * (0..15 g, 16..23 w, 24..27 scratch, 28 memory, 29 exit) or -1 */
static inline int ir_compare(const ir_cpu *a, const ir_cpu *b, const uint8_t *ma, const uint8_t *mb)
{
    for (unsigned i = 0; i < 16; i++)
        if (a->g[i] != b->g[i])
            return (int)i;
    for (unsigned i = 0; i < 8; i++)
        if (a->w[i] != b->w[i])
            return 16 + (int)i;
    for (unsigned i = 0; i < 4; i++)
        if (a->scratch[i] != b->scratch[i])
            return 24 + (int)i;
    if (memcmp(ma + IR_DATA, mb + IR_DATA, IR_DATA_SIZE))
        return 28;
    if (a->h.pc != b->h.pc || a->h.exit_arg != b->h.exit_arg)
        return 29;
    return -1;
}

#endif
