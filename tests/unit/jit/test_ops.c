/* Every IR op on both backends, with expected values worked out by hand from
 * the definitions in jit/ir.h (not computed by the JIT's own code), in several
 * operand shapes (registers, constants, destination = source) so that the
 * native backend's immediate and aliasing paths are all taken.  Then register
 * pressure, branches with live locals, atomics, and a bounded run of random
 * blocks compared between the interpreter and the native backend. */
#include <signal.h>
#include <stdio.h>

#include "tests/lib/cunit-run.h"
#include "tests/unit/jit/irtest.h"
#include "jit/internal.h"

static uint8_t *mem, *mem2;
static jit_engine *eng[3];
static const char *const bname[3] = { "interp", "native", "native-pinned" };
#define NENG 3

#define M64 0xffffffffffffffffull
#define MIN64 0x8000000000000000ull

typedef struct bcase {
    jit_opc op;
    jit_type t;
    uint64_t a, b, expect;
} bcase;

static const bcase bins[] = {
    { JIT_OP_ADD, JIT_I64, M64, 1, 0 },
    { JIT_OP_ADD, JIT_I64, 0x7fffffffffffffffull, 1, MIN64 },
    { JIT_OP_ADD, JIT_I64, 5, 0x123456789ull, 0x12345678eull },
    { JIT_OP_ADD, JIT_I32, 0xffffffff, 1, 0 },
    { JIT_OP_ADD, JIT_I32, 0x7fffffff, 0x7fffffff, 0xfffffffe },
    { JIT_OP_SUB, JIT_I64, 0, 1, M64 },
    { JIT_OP_SUB, JIT_I64, 10, 0x123456789ull, 0xfffffffedcba9881ull },
    { JIT_OP_SUB, JIT_I32, 0, 1, 0xffffffff },
    { JIT_OP_MUL, JIT_I64, 0x100000000ull, 0x100000000ull, 0 },
    { JIT_OP_MUL, JIT_I64, 3, (uint64_t)-5, (uint64_t)-15 },
    { JIT_OP_MUL, JIT_I64, 0x123456789ull, 0x1000, 0x123456789000ull },
    { JIT_OP_MUL, JIT_I32, 0x10000, 0x10000, 0 },
    { JIT_OP_MUL, JIT_I32, 0xffffffff, 0xffffffff, 1 },
    { JIT_OP_MULH, JIT_I64, M64, M64, 0 },
    { JIT_OP_MULH, JIT_I64, MIN64, 2, M64 },
    { JIT_OP_MULH, JIT_I64, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x3fffffffffffffffull },
    { JIT_OP_MULH, JIT_I32, 0x80000000, 2, 0xffffffff },
    { JIT_OP_MULH, JIT_I32, 0x40000000, 4, 1 },
    { JIT_OP_MULHU, JIT_I64, M64, M64, 0xfffffffffffffffeull },
    { JIT_OP_MULHU, JIT_I64, 0x100000000ull, 0x100000000ull, 1 },
    { JIT_OP_MULHU, JIT_I32, 0xffffffff, 0xffffffff, 0xfffffffe },
    { JIT_OP_MULHSU, JIT_I64, M64, M64, M64 },
    { JIT_OP_MULHSU, JIT_I64, 2, M64, 1 },
    { JIT_OP_MULHSU, JIT_I64, MIN64, 2, M64 },
    { JIT_OP_MULHSU, JIT_I32, 0xffffffff, 0xffffffff, 0xffffffff },
    { JIT_OP_MULHSU, JIT_I32, 2, 0xffffffff, 1 },
    { JIT_OP_DIV, JIT_I64, 7, 0, M64 },
    { JIT_OP_DIV, JIT_I64, MIN64, M64, MIN64 },
    { JIT_OP_DIV, JIT_I64, (uint64_t)-7, 2, (uint64_t)-3 },
    { JIT_OP_DIV, JIT_I64, 7, M64, (uint64_t)-7 },
    { JIT_OP_DIV, JIT_I32, 0x80000000, 0xffffffff, 0x80000000 },
    { JIT_OP_DIV, JIT_I32, 5, 0, 0xffffffff },
    { JIT_OP_DIV, JIT_I32, 0xfffffff9, 2, 0xfffffffd },
    { JIT_OP_DIVU, JIT_I64, 7, 0, M64 },
    { JIT_OP_DIVU, JIT_I64, M64, 2, 0x7fffffffffffffffull },
    { JIT_OP_DIVU, JIT_I32, 5, 0, 0xffffffff },
    { JIT_OP_DIVU, JIT_I32, 0xfffffff9, 2, 0x7ffffffc },
    { JIT_OP_REM, JIT_I64, 7, 0, 7 },
    { JIT_OP_REM, JIT_I64, MIN64, M64, 0 },
    { JIT_OP_REM, JIT_I64, (uint64_t)-7, 2, M64 },
    { JIT_OP_REM, JIT_I32, 0x80000000, 0xffffffff, 0 },
    { JIT_OP_REM, JIT_I32, 5, 0, 5 },
    { JIT_OP_REM, JIT_I32, 0xfffffff9, 2, 0xffffffff },
    { JIT_OP_REMU, JIT_I64, 7, 0, 7 },
    { JIT_OP_REMU, JIT_I64, M64, 10, 5 },
    { JIT_OP_REMU, JIT_I32, 0xffffffff, 10, 5 },
    { JIT_OP_REMU, JIT_I32, 0xfffffff9, 0, 0xfffffff9 },
    { JIT_OP_AND, JIT_I64, 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0x0f000f000f000f00ull },
    { JIT_OP_AND, JIT_I32, 0xf0f0f0f0, 0xffff0000, 0xf0f00000 },
    { JIT_OP_OR, JIT_I64, 0xff00000000000000ull, 0xff, 0xff000000000000ffull },
    { JIT_OP_OR, JIT_I32, 0x80000000, 1, 0x80000001 },
    { JIT_OP_XOR, JIT_I64, M64, 0x123456789abcdef0ull, 0xedcba9876543210full },
    { JIT_OP_XOR, JIT_I32, 0xffffffff, 0x0f0f0f0f, 0xf0f0f0f0 },
    { JIT_OP_SHL, JIT_I64, 1, 64, 1 },
    { JIT_OP_SHL, JIT_I64, 1, 65, 2 },
    { JIT_OP_SHL, JIT_I64, 3, 63, MIN64 },
    { JIT_OP_SHL, JIT_I32, 1, 32, 1 },
    { JIT_OP_SHL, JIT_I32, 1, 33, 2 },
    { JIT_OP_SHL, JIT_I32, 3, 31, 0x80000000 },
    { JIT_OP_SHR, JIT_I64, MIN64, 63, 1 },
    { JIT_OP_SHR, JIT_I64, MIN64, 64, MIN64 },
    { JIT_OP_SHR, JIT_I32, 0x80000000, 32, 0x80000000 },
    { JIT_OP_SHR, JIT_I32, 0x80000000, 31, 1 },
    { JIT_OP_SAR, JIT_I64, MIN64, 63, M64 },
    { JIT_OP_SAR, JIT_I64, MIN64, 127, M64 },
    { JIT_OP_SAR, JIT_I64, 0x4000000000000000ull, 62, 1 },
    { JIT_OP_SAR, JIT_I32, 0x80000000, 31, 0xffffffff },
    { JIT_OP_SAR, JIT_I32, 0x80000000, 36, 0xf8000000 },
    { JIT_OP_ROTL, JIT_I64, 0x8000000000000001ull, 1, 3 },
    { JIT_OP_ROTL, JIT_I64, 0x8000000000000001ull, 64, 0x8000000000000001ull },
    { JIT_OP_ROTL, JIT_I32, 0x80000001, 1, 3 },
    { JIT_OP_ROTL, JIT_I32, 0x80000001, 32, 0x80000001 },
    { JIT_OP_ROTR, JIT_I64, 1, 1, MIN64 },
    { JIT_OP_ROTR, JIT_I64, 0x12, 68, 0x2000000000000001ull },
    { JIT_OP_ROTR, JIT_I32, 1, 1, 0x80000000 },
    { JIT_OP_ROTR, JIT_I32, 0x12, 36, 0x20000001 },
};

/* operand shapes */
enum { V_REGS, V_BCONST, V_ACONST, V_DEST_A, V_DEST_B, V_BOTHCONST, V_LOCALS, V_COUNT };

struct bin_arg {
    const bcase *k;
    int v;
};

static void build_bin(jit_ctx *c, void *arg)
{
    struct bin_arg *ba = arg;
    const bcase *k = ba->k;
    bool w = k->t == JIT_I32;
    jit_temp d = w ? W(0) : G(0), a = w ? W(1) : G(1), b = w ? W(2) : G(2);
    jit_temp ca = jit_const(c, k->t, k->a), cb = jit_const(c, k->t, k->b);
    switch (ba->v) {
    case V_REGS: jit_binop(c, k->op, d, a, b); break;
    case V_BCONST: jit_binop(c, k->op, d, a, cb); break;
    case V_ACONST: jit_binop(c, k->op, d, ca, b); break;
    case V_DEST_A: jit_binop(c, k->op, a, a, b); jit_mov(c, d, a); break;
    case V_DEST_B: jit_binop(c, k->op, b, a, b); jit_mov(c, d, b); break;
    case V_BOTHCONST: jit_binop(c, k->op, d, ca, cb); break;
    default: {
        jit_temp la = jit_temp_new(c, k->t), lb = jit_temp_new(c, k->t);
        jit_temp ld = jit_temp_new(c, k->t);
        jit_mov(c, la, a);
        jit_mov(c, lb, b);
        jit_binop(c, k->op, ld, la, lb);
        jit_mov(c, d, ld);
        break;
    }
    }
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_binops(void)
{
    for (unsigned be = 0; be < NENG; be++)
        for (unsigned i = 0; i < sizeof(bins) / sizeof(bins[0]); i++)
            for (int v = 0; v < V_COUNT; v++) {
                const bcase *k = &bins[i];
                ir_cpu in, out;
                memset(&in, 0, sizeof(in));
                bool w = k->t == JIT_I32;
                if (w) {
                    in.w[1] = (uint32_t)k->a;
                    in.w[2] = (uint32_t)k->b;
                } else {
                    in.g[1] = k->a;
                    in.g[2] = k->b;
                }
                struct bin_arg ba = { k, v };
                jit_exit_reason r = ir_run(eng[be], mem, build_bin, &ba, &in, &out);
                uint64_t got = w ? out.w[0] : out.g[0];
                CU_ASSERT_EQUAL(r, JIT_EXIT_HALT);
                CU_ASSERT_EQUAL(got, k->expect);
                if (got != k->expect)
                    printf("  %s: %s_%s(0x%llx, 0x%llx) shape %d = 0x%llx, want 0x%llx\n",
                           bname[be], jit_op_name(k->op), w ? "i32" : "i64",
                           (unsigned long long)k->a, (unsigned long long)k->b, v,
                           (unsigned long long)got, (unsigned long long)k->expect);
            }
}

typedef struct ucase {
    jit_opc op;
    jit_type td, ta;
    uint64_t a, expect;
} ucase;

static const ucase uns[] = {
    { JIT_OP_CLZ, JIT_I64, JIT_I64, 0, 64 },
    { JIT_OP_CLZ, JIT_I64, JIT_I64, 1, 63 },
    { JIT_OP_CLZ, JIT_I64, JIT_I64, MIN64, 0 },
    { JIT_OP_CLZ, JIT_I32, JIT_I32, 0, 32 },
    { JIT_OP_CLZ, JIT_I32, JIT_I32, 1, 31 },
    { JIT_OP_CLZ, JIT_I32, JIT_I32, 0x80000000, 0 },
    { JIT_OP_CTZ, JIT_I64, JIT_I64, 0, 64 },
    { JIT_OP_CTZ, JIT_I64, JIT_I64, MIN64, 63 },
    { JIT_OP_CTZ, JIT_I64, JIT_I64, 0x100000000ull, 32 },
    { JIT_OP_CTZ, JIT_I32, JIT_I32, 0, 32 },
    { JIT_OP_CTZ, JIT_I32, JIT_I32, 0x80000000, 31 },
    { JIT_OP_POPCNT, JIT_I64, JIT_I64, M64, 64 },
    { JIT_OP_POPCNT, JIT_I64, JIT_I64, 0x8000000100000001ull, 3 },
    { JIT_OP_POPCNT, JIT_I32, JIT_I32, 0xffffffff, 32 },
    { JIT_OP_BSWAP, JIT_I64, JIT_I64, 0x0102030405060708ull, 0x0807060504030201ull },
    { JIT_OP_BSWAP, JIT_I32, JIT_I32, 0x01020304, 0x04030201 },
    { JIT_OP_EXT8S, JIT_I64, JIT_I64, 0x80, 0xffffffffffffff80ull },
    { JIT_OP_EXT8S, JIT_I64, JIT_I64, 0x17f, 0x7f },
    { JIT_OP_EXT8S, JIT_I32, JIT_I32, 0x80, 0xffffff80 },
    { JIT_OP_EXT8U, JIT_I64, JIT_I64, 0xffffffffffffff80ull, 0x80 },
    { JIT_OP_EXT8U, JIT_I32, JIT_I32, 0x1ff, 0xff },
    { JIT_OP_EXT16S, JIT_I64, JIT_I64, 0x8000, 0xffffffffffff8000ull },
    { JIT_OP_EXT16S, JIT_I32, JIT_I32, 0x18000, 0xffff8000 },
    { JIT_OP_EXT16U, JIT_I64, JIT_I64, 0x18000, 0x8000 },
    { JIT_OP_EXT16U, JIT_I32, JIT_I32, 0xffffffff, 0xffff },
    { JIT_OP_EXT32S, JIT_I64, JIT_I64, 0x80000000, 0xffffffff80000000ull },
    { JIT_OP_EXT32S, JIT_I64, JIT_I64, 0x123456789ull, 0x23456789 },
    { JIT_OP_EXT32S, JIT_I64, JIT_I32, 0xffffffff, M64 },
    { JIT_OP_EXT32U, JIT_I64, JIT_I64, 0xffffffff80000000ull, 0x80000000 },
    { JIT_OP_EXT32U, JIT_I64, JIT_I32, 0xffffffff, 0xffffffff },
    { JIT_OP_TRUNC, JIT_I32, JIT_I64, 0x123456789ull, 0x23456789 },
    { JIT_OP_NOT, JIT_I64, JIT_I64, 0, M64 },
    { JIT_OP_NOT, JIT_I32, JIT_I32, 0, 0xffffffff },
    { JIT_OP_NEG, JIT_I64, JIT_I64, MIN64, MIN64 },
    { JIT_OP_NEG, JIT_I64, JIT_I64, 1, M64 },
    { JIT_OP_NEG, JIT_I32, JIT_I32, 1, 0xffffffff },
    { JIT_OP_MOV, JIT_I64, JIT_I64, 0x123456789abcdef0ull, 0x123456789abcdef0ull },
    { JIT_OP_MOV, JIT_I32, JIT_I32, 0x89abcdef, 0x89abcdef },
};

struct un_arg {
    const ucase *k;
    int v;
};

static void build_un(jit_ctx *c, void *arg)
{
    struct un_arg *ua = arg;
    const ucase *k = ua->k;
    jit_temp d = k->td == JIT_I32 ? W(0) : G(0);
    jit_temp a = k->ta == JIT_I32 ? W(1) : G(1);
    if (ua->v == 1)
        a = jit_const(c, k->ta, k->a);
    if (ua->v == 2 && k->td == k->ta) {
        jit_unop(c, k->op, a, a);
        jit_mov(c, d, a);
    } else {
        jit_unop(c, k->op, d, a);
    }
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_unops(void)
{
    for (unsigned be = 0; be < NENG; be++)
        for (unsigned i = 0; i < sizeof(uns) / sizeof(uns[0]); i++)
            for (int v = 0; v < 3; v++) {
                const ucase *k = &uns[i];
                ir_cpu in, out;
                memset(&in, 0, sizeof(in));
                in.g[1] = k->a;
                in.w[1] = (uint32_t)k->a;
                struct un_arg ua = { k, v };
                CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_un, &ua, &in, &out), JIT_EXIT_HALT);
                uint64_t got = k->td == JIT_I32 ? out.w[0] : out.g[0];
                CU_ASSERT_EQUAL(got, k->expect);
                if (got != k->expect)
                    printf("  %s: %s(0x%llx) shape %d = 0x%llx, want 0x%llx\n", bname[be],
                           jit_op_name(k->op), (unsigned long long)k->a, v,
                           (unsigned long long)got, (unsigned long long)k->expect);
            }
}

/* conditions: results for (a, b) pairs, in jit_cond order */
static const struct {
    jit_type t;
    uint64_t a, b;
    uint8_t r[JIT_COND_COUNT];      /* eq ne lt ge le gt ltu geu leu gtu */
} conds[] = {
    { JIT_I64, M64, 1, { 0, 1, 1, 0, 1, 0, 0, 1, 0, 1 } },
    { JIT_I64, 5, 5, { 1, 0, 0, 1, 1, 0, 0, 1, 1, 0 } },
    { JIT_I64, 1, MIN64, { 0, 1, 0, 1, 0, 1, 1, 0, 1, 0 } },
    { JIT_I64, 0x100000000ull, 1, { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 } },
    { JIT_I32, 0xffffffff, 1, { 0, 1, 1, 0, 1, 0, 0, 1, 0, 1 } },
    { JIT_I32, 7, 7, { 1, 0, 0, 1, 1, 0, 0, 1, 1, 0 } },
    { JIT_I32, 0, 0x80000000, { 0, 1, 0, 1, 0, 1, 1, 0, 1, 0 } },
};

struct cond_arg {
    unsigned i;
    jit_cond cond;
    int v;      /* 0 regs, 1 b const, 2 a const, 3 both const */
    int kind;   /* 0 setcond, 1 movcond, 2 brcond, 3-5 movcond into one of its
                   values (d = t, d = f, d = t with a constant f) */
};

static void build_cond(jit_ctx *c, void *arg)
{
    struct cond_arg *ca = arg;
    jit_type t = conds[ca->i].t;
    bool w = t == JIT_I32;
    jit_temp a = w ? W(1) : G(1), b = w ? W(2) : G(2);
    if (ca->v & 2)
        a = jit_const(c, t, conds[ca->i].a);
    if (ca->v & 1 || ca->v == 3)
        b = jit_const(c, t, conds[ca->i].b);
    switch (ca->kind) {
    case 0:
        jit_setcond(c, ca->cond, G(0), a, b);
        break;
    case 1:
        jit_movcond(c, ca->cond, G(0), a, b, G(3), G(4));
        break;
    case 3:
        jit_movcond(c, ca->cond, G(3), a, b, G(3), G(4));
        jit_mov(c, G(0), G(3));
        break;
    case 4:
        jit_movcond(c, ca->cond, G(4), a, b, G(3), G(4));
        jit_mov(c, G(0), G(4));
        break;
    case 5:
        jit_movcond(c, ca->cond, G(3), a, b, G(3), jit_const(c, JIT_I64, 0x2222));
        jit_mov(c, G(0), G(3));
        break;
    default: {
        jit_label l = jit_label_new(c);
        jit_temp t1 = jit_temp_new(c, JIT_I64);
        jit_movi(c, t1, 0x55);          /* a local live across the branch */
        jit_movi(c, G(0), 1);
        jit_brcond(c, ca->cond, a, b, l);
        jit_movi(c, G(0), 0);
        jit_label_set(c, l);
        jit_mov(c, G(5), t1);
        break;
    }
    }
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_conds(void)
{
    for (unsigned be = 0; be < NENG; be++)
        for (unsigned i = 0; i < sizeof(conds) / sizeof(conds[0]); i++)
            for (int cond = 0; cond < JIT_COND_COUNT; cond++)
                for (int v = 0; v < 4; v++)
                    for (int kind = 0; kind < 6; kind++) {
                        ir_cpu in, out;
                        memset(&in, 0, sizeof(in));
                        in.g[1] = conds[i].a;
                        in.g[2] = conds[i].b;
                        in.w[1] = (uint32_t)conds[i].a;
                        in.w[2] = (uint32_t)conds[i].b;
                        in.g[3] = 0x1111;
                        in.g[4] = 0x2222;
                        struct cond_arg ca = { i, (jit_cond)cond, v, kind };
                        CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_cond, &ca, &in, &out),
                                        JIT_EXIT_HALT);
                        uint64_t want = conds[i].r[cond];
                        if (kind == 1 || kind >= 3)
                            want = want ? 0x1111 : 0x2222;
                        CU_ASSERT_EQUAL(out.g[0], want);
                        if (kind == 2)
                            CU_ASSERT_EQUAL(out.g[5], 0x55);
                        if (out.g[0] != want)
                            printf("  %s: %s %s case %u shape %d = %llu\n", bname[be],
                                   kind == 0 ? "setcond" : kind == 2 ? "brcond" : "movcond",
                                   jit_cond_name((jit_cond)cond), i, v,
                                   (unsigned long long)out.g[0]);
                    }
}

/* guest loads and stores of every size, signedness and byte order */
static void build_mem(jit_ctx *c, void *arg)
{
    (void)arg;
    jit_temp base = G(15);
    jit_qld(c, G(0), base, 0, JIT_MO_8);
    jit_qld(c, G(1), base, 0, JIT_MO_8 | JIT_MO_SIGN);
    jit_qld(c, G(2), base, 0, JIT_MO_16 | JIT_MO_SIGN);
    jit_qld(c, G(3), base, 0, JIT_MO_32 | JIT_MO_SIGN);
    jit_qld(c, G(4), base, 0, JIT_MO_64);
    jit_qld(c, G(5), base, 0, JIT_MO_16 | JIT_MO_BSWAP);
    jit_qld(c, G(6), base, 0, JIT_MO_32 | JIT_MO_BSWAP | JIT_MO_SIGN);
    jit_qld(c, G(7), base, 0, JIT_MO_64 | JIT_MO_BSWAP);
    jit_qld(c, W(0), base, 1, JIT_MO_16 | JIT_MO_SIGN);
    jit_qld(c, W(1), base, 4, JIT_MO_32);
    jit_qst(c, G(4), base, 16, JIT_MO_64 | JIT_MO_BSWAP);
    jit_qst(c, G(4), base, 24, JIT_MO_16);
    jit_qst(c, G(4), base, 32, JIT_MO_8);
    jit_qst(c, W(1), base, 40, JIT_MO_32 | JIT_MO_BSWAP);
    jit_st(c, G(4), jit_env(c), offsetof(ir_cpu, scratch) + 8, JIT_MO_32);
    jit_ld(c, G(8), jit_env(c), offsetof(ir_cpu, scratch) + 8, JIT_MO_16 | JIT_MO_SIGN);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

/* A loop inside one block (a branch back to a label): t is defined late in
 * the body and used early in the next iteration, so its value must survive
 * the back edge in the native backend's register allocation; u lives within
 * one iteration.  g1 = 4 counts down:
 *   g0 += t (0, 12, 9, 6 = 27); t = g1 * 3; u = g1 + 1; g2 += u (5+4+3+2 = 14) */
static void build_loop(jit_ctx *c, void *arg)
{
    jit_temp t = jit_temp_new(c, JIT_I64), u = jit_temp_new(c, JIT_I64);
    jit_label l = jit_label_new(c);
    jit_movi(c, t, 0);
    jit_label_set(c, l);
    jit_add(c, G(0), G(0), t);
    jit_muli(c, t, G(1), 3);
    jit_addi(c, u, G(1), 1);
    jit_add(c, G(2), G(2), u);
    jit_addi(c, G(1), G(1), -1);
    jit_brcond(c, JIT_NE, G(1), jit_const(c, JIT_I64, 0), l);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_loop_in_block(void)
{
    for (unsigned be = 0; be < NENG; be++) {
        ir_cpu in, out;
        memset(&in, 0, sizeof(in));
        in.g[1] = 4;
        CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_loop, NULL, &in, &out), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(out.g[0], 27);
        CU_ASSERT_EQUAL(out.g[1], 0);
        CU_ASSERT_EQUAL(out.g[2], 14);
        if (out.g[0] != 27 || out.g[2] != 14)
            printf("  %s: loop g0 %llu g2 %llu\n", bname[be], (unsigned long long)out.g[0],
                   (unsigned long long)out.g[2]);
    }
}

static void test_memory(void)
{
    static const uint8_t pattern[8] = { 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8 };
    for (unsigned be = 0; be < NENG; be++) {
        memset(mem + IR_DATA, 0, 64);
        memcpy(mem + IR_DATA, pattern, 8);
        ir_cpu in, out;
        memset(&in, 0, sizeof(in));
        in.g[15] = IR_DATA;
        CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_mem, NULL, &in, &out), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(out.g[0], 0x81);
        CU_ASSERT_EQUAL(out.g[1], 0xffffffffffffff81ull);
        CU_ASSERT_EQUAL(out.g[2], 0xffffffffffff9281ull);
        CU_ASSERT_EQUAL(out.g[3], 0xffffffffb4a39281ull);
        CU_ASSERT_EQUAL(out.g[4], 0xf8e7d6c5b4a39281ull);
        CU_ASSERT_EQUAL(out.g[5], 0x8192);
        CU_ASSERT_EQUAL(out.g[6], 0xffffffff8192a3b4ull);
        CU_ASSERT_EQUAL(out.g[7], 0x8192a3b4c5d6e7f8ull);
        CU_ASSERT_EQUAL(out.w[0], 0xffffa392);
        CU_ASSERT_EQUAL(out.w[1], 0xf8e7d6c5);
        static const uint8_t st16[8] = { 0xf8, 0xe7, 0xd6, 0xc5, 0xb4, 0xa3, 0x92, 0x81 };
        CU_ASSERT_EQUAL(memcmp(mem + IR_DATA + 16, st16, 8), 0);
        CU_ASSERT_EQUAL(mem[IR_DATA + 24], 0x81);
        CU_ASSERT_EQUAL(mem[IR_DATA + 25], 0x92);
        CU_ASSERT_EQUAL(mem[IR_DATA + 26], 0);
        CU_ASSERT_EQUAL(mem[IR_DATA + 32], 0x81);
        CU_ASSERT_EQUAL(mem[IR_DATA + 33], 0);
        static const uint8_t st40[4] = { 0xf8, 0xe7, 0xd6, 0xc5 };
        CU_ASSERT_EQUAL(memcmp(mem + IR_DATA + 40, st40, 4), 0);
        CU_ASSERT_EQUAL(out.scratch[1], 0xb4a39281ull);
        CU_ASSERT_EQUAL(out.g[8], 0xffffffffffff9281ull);
    }
}

/* atomics: cmpxchg success and failure, each rmw op, 32-bit extension */
struct amo_arg {
    int kind;       /* -1 cmpxchg, else jit_amo */
    unsigned mo;
};

static void build_amo(jit_ctx *c, void *arg)
{
    struct amo_arg *a = arg;
    if (a->kind < 0)
        jit_atomic_cmpxchg(c, G(0), G(15), G(1), G(2), a->mo);
    else
        jit_atomic_rmw(c, (jit_amo)a->kind, G(0), G(15), G(2), a->mo);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_atomics(void)
{
    /* memory holds 0x80000005 (as i32: negative), operand 3 */
    static const struct { int kind; unsigned mo; uint64_t cmp, v, old, mem_after; } cases[] = {
        { -1, JIT_MO_64, 0x80000005, 3, 0x80000005, 3 },
        { -1, JIT_MO_64, 0x80000004, 3, 0x80000005, 0x80000005 },
        { -1, JIT_MO_32 | JIT_MO_SIGN, 0xffffffff80000005ull, 3, 0xffffffff80000005ull, 3 },
        { -1, JIT_MO_32 | JIT_MO_SIGN, 0x80000005, 3, 0xffffffff80000005ull, 0x80000005 },
        { -1, JIT_MO_32, 0x80000005, 3, 0x80000005, 3 },
        { JIT_AMO_XCHG, JIT_MO_64, 0, 3, 0x80000005, 3 },
        { JIT_AMO_ADD, JIT_MO_64, 0, 3, 0x80000005, 0x80000008 },
        { JIT_AMO_AND, JIT_MO_64, 0, 3, 0x80000005, 1 },
        { JIT_AMO_OR, JIT_MO_64, 0, 3, 0x80000005, 0x80000007 },
        { JIT_AMO_XOR, JIT_MO_64, 0, 3, 0x80000005, 0x80000006 },
        { JIT_AMO_SMIN, JIT_MO_64, 0, 3, 0x80000005, 3 },
        { JIT_AMO_SMIN, JIT_MO_32 | JIT_MO_SIGN, 0, 3, 0xffffffff80000005ull, 0x80000005 },
        { JIT_AMO_SMAX, JIT_MO_32 | JIT_MO_SIGN, 0, 3, 0xffffffff80000005ull, 3 },
        { JIT_AMO_UMIN, JIT_MO_32, 0, 3, 0x80000005, 3 },
        { JIT_AMO_UMAX, JIT_MO_32, 0, 3, 0x80000005, 0x80000005 },
        { JIT_AMO_ADD, JIT_MO_32 | JIT_MO_SIGN, 0, 0x7ffffffb, 0xffffffff80000005ull, 0 },
    };
    for (unsigned be = 0; be < NENG; be++)
        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            uint64_t init = 0x80000005;
            memcpy(mem + IR_DATA, &init, 8);
            ir_cpu in, out;
            memset(&in, 0, sizeof(in));
            in.g[15] = IR_DATA;
            in.g[1] = cases[i].cmp;
            in.g[2] = cases[i].v;
            struct amo_arg a = { cases[i].kind, cases[i].mo };
            CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_amo, &a, &in, &out), JIT_EXIT_HALT);
            uint64_t after = 0;
            memcpy(&after, mem + IR_DATA, 8);
            CU_ASSERT_EQUAL(out.g[0], cases[i].old);
            CU_ASSERT_EQUAL(after, cases[i].mem_after);
            if (out.g[0] != cases[i].old || after != cases[i].mem_after)
                printf("  %s: atomic case %u: old 0x%llx mem 0x%llx\n", bname[be], i,
                       (unsigned long long)out.g[0], (unsigned long long)after);
        }
    /* misaligned: a fault with kind MISALIGNED, state untouched */
    for (unsigned be = 0; be < NENG; be++) {
        ir_cpu in, out;
        memset(&in, 0, sizeof(in));
        in.g[15] = IR_DATA + 4;
        in.g[2] = 1;
        struct amo_arg a = { JIT_AMO_ADD, JIT_MO_64 };
        CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_amo, &a, &in, &out), JIT_EXIT_FAULT);
        CU_ASSERT_EQUAL(out.h.fault_kind, JIT_FAULT_MISALIGNED);
        CU_ASSERT_EQUAL(out.h.fault_addr, IR_DATA + 4);
        CU_ASSERT_EQUAL(out.g[0], 0);
    }
}

/* more live values than host registers, across a call and a branch */
#define NLIVE 40

static uint64_t mix(uint64_t a, uint64_t b) { return a * 31 + b; }
static const jit_helper mix_h = { (void *)mix, "mix", JIT_CALL_PURE };

static void build_pressure(jit_ctx *c, void *arg)
{
    (void)arg;
    jit_temp t[NLIVE];
    for (int i = 0; i < NLIVE; i++) {
        t[i] = jit_temp_new(c, JIT_I64);
        jit_muli(c, t[i], G(i % 8), i + 1);
        jit_add(c, t[i], t[i], G(8 + i % 7));
    }
    jit_temp r = jit_temp_new(c, JIT_I64);
    jit_temp args[2] = { t[0], t[1] };
    jit_call(c, &mix_h, r, 2, args);
    jit_label l = jit_label_new(c);
    jit_brcond(c, JIT_EQ, G(0), G(0), l);
    jit_movi(c, r, 0);      /* skipped */
    jit_label_set(c, l);
    for (int i = NLIVE - 1; i >= 0; i--) {
        jit_xor(c, r, r, t[i]);
        jit_rotli(c, r, r, 7);
    }
    jit_mov(c, G(0), r);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

/* ---- floating point (jit_fop) ----
 * Expected bits and IEEE flags worked out by hand (binary fractions, checked
 * with exact rational arithmetic): ties-to-even halfway cases, fused single
 * rounding, canonical NaN for every NaN result (x86 alone would propagate a
 * payload or give the negative "indefinite"), signaling NaNs, FMA's inf*0+qNaN
 * invalid, overflow, and underflow with tininess after rounding. */
#include <fenv.h>

#define NV FE_INVALID
#define DZ FE_DIVBYZERO
#define OF FE_OVERFLOW
#define UF FE_UNDERFLOW
#define NX FE_INEXACT
#define CN64 0x7ff8000000000000ull
#define CN32 0x7fc00000ull

typedef struct fcase {
    jit_opc op;
    jit_type t;
    uint64_t a, b, c, expect;
    int flags;
    unsigned neg;       /* FMA: jit_fma's negations */
} fcase;

static const fcase fops[] = {
    { JIT_OP_FADD, JIT_I64, 0x3ff0000000000000ull, 0x4000000000000000ull, 0, 0x4008000000000000ull, 0 },
    /* 1 + 2^-53: halfway, ties to even (1.0) */
    { JIT_OP_FADD, JIT_I64, 0x3ff0000000000000ull, 0x3ca0000000000000ull, 0, 0x3ff0000000000000ull, NX },
    /* (1 + 2^-52) + 2^-53: halfway, ties to even (1 + 2^-51) */
    { JIT_OP_FADD, JIT_I64, 0x3ff0000000000001ull, 0x3ca0000000000000ull, 0, 0x3ff0000000000002ull, NX },
    /* NaN operands: canonical result, no flag for quiet ones, NV for signaling */
    { JIT_OP_FADD, JIT_I64, 0x7ff8000000000001ull, 0x3ff0000000000000ull, 0, CN64, 0 },
    { JIT_OP_FADD, JIT_I64, 0x3ff0000000000000ull, 0xfff8000000000000ull, 0, CN64, 0 },
    { JIT_OP_FSUB, JIT_I64, 0x7ff0000000000001ull, 0x3ff0000000000000ull, 0, CN64, NV },
    { JIT_OP_FSUB, JIT_I64, 0x7ff0000000000000ull, 0x7ff0000000000000ull, 0, CN64, NV },
    { JIT_OP_FSUB, JIT_I64, 0x4008000000000000ull, 0x3ff0000000000000ull, 0, 0x4000000000000000ull, 0 },
    /* 0 * inf: x86's default NaN is negative; RISC-V's is positive */
    { JIT_OP_FMUL, JIT_I64, 0, 0x7ff0000000000000ull, 0, CN64, NV },
    { JIT_OP_FMUL, JIT_I64, 0x7fefffffffffffffull, 0x4000000000000000ull, 0, 0x7ff0000000000000ull, OF | NX },
    /* 2^-1022 * 0.5(1 + 2^-52) = 2^-1023 + 2^-1075: subnormal halfway, even */
    { JIT_OP_FMUL, JIT_I64, 0x0010000000000000ull, 0x3fe0000000000001ull, 0, 0x0008000000000000ull, UF | NX },
    /* (1 - 2^-52) * 2^-1022 (1 + 2^-52) = 2^-1022 (1 - 2^-104): rounds to the
     * smallest normal and is not tiny after rounding: NX without UF */
    { JIT_OP_FMUL, JIT_I64, 0x3feffffffffffffeull, 0x0010000000000001ull, 0, 0x0010000000000000ull, NX },
    /* exact subnormal result: no flag at all */
    { JIT_OP_FMUL, JIT_I64, 0x0010000000000000ull, 0x3fe0000000000000ull, 0, 0x0008000000000000ull, 0 },
    { JIT_OP_FDIV, JIT_I64, 0x3ff0000000000000ull, 0x4008000000000000ull, 0, 0x3fd5555555555555ull, NX },
    { JIT_OP_FDIV, JIT_I64, 0xbff0000000000000ull, 0, 0, 0xfff0000000000000ull, DZ },
    { JIT_OP_FDIV, JIT_I64, 0, 0, 0, CN64, NV },
    { JIT_OP_FSQRT, JIT_I64, 0x4000000000000000ull, 0, 0, 0x3ff6a09e667f3bcdull, NX },
    { JIT_OP_FSQRT, JIT_I64, 0xbff0000000000000ull, 0, 0, CN64, NV },
    { JIT_OP_FSQRT, JIT_I64, 0x8000000000000000ull, 0, 0, 0x8000000000000000ull, 0 },
    { JIT_OP_FSQRT, JIT_I64, 0xfff8000000000005ull, 0, 0, CN64, 0 },
    /* fused: (1 + 2^-52)(1 - 2^-53) - 1 = 2^-53 - 2^-105 exactly (unfused: 0) */
    { JIT_OP_FMA, JIT_I64, 0x3ff0000000000001ull, 0x3fefffffffffffffull, 0xbff0000000000000ull,
      0x3c9ffffffffffffeull, 0 },
    { JIT_OP_FMA, JIT_I64, 0x4000000000000000ull, 0x4008000000000000ull, 0x3ff0000000000000ull,
      0x401c000000000000ull, 0 },
    /* inf * 0 + qNaN is invalid (x86 says otherwise); 0 * inf + 1 too */
    { JIT_OP_FMA, JIT_I64, 0x7ff0000000000000ull, 0, 0x7ff8000000000001ull, CN64, NV },
    { JIT_OP_FMA, JIT_I64, 0x8000000000000000ull, 0xfff0000000000000ull, 0x3ff0000000000000ull, CN64, NV },
    { JIT_OP_FMA, JIT_I64, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0xfff8000000000001ull, CN64, 0 },
    { JIT_OP_FMA, JIT_I64, 0x7ff0000000000000ull, 0x3ff0000000000000ull, 0x7ff8000000000000ull, CN64, 0 },
    { JIT_OP_FMA, JIT_I64, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x7ff0000000000001ull, CN64, NV },
    { JIT_OP_FMA, JIT_I64, 0x7ff0000000000000ull, 0x3ff0000000000000ull, 0xfff0000000000000ull, CN64, NV },
    /* binary32 */
    { JIT_OP_FADD, JIT_I32, 0x3f800000, 0x33800000, 0, 0x3f800000, NX },       /* 1 + 2^-24 */
    { JIT_OP_FADD, JIT_I32, 0x3f800001, 0x33800000, 0, 0x3f800002, NX },
    { JIT_OP_FADD, JIT_I32, 0x7f800001, 0x3f800000, 0, CN32, NV },
    { JIT_OP_FSUB, JIT_I32, 0xffc00001, 0x3f800000, 0, CN32, 0 },
    { JIT_OP_FMUL, JIT_I32, 0x7f7fffff, 0x40000000, 0, 0x7f800000, OF | NX },
    { JIT_OP_FMUL, JIT_I32, 0x00800000, 0x3f000001, 0, 0x00400000, UF | NX },
    { JIT_OP_FMUL, JIT_I32, 0, 0xff800000, 0, CN32, NV },
    { JIT_OP_FDIV, JIT_I32, 0x3f800000, 0, 0, 0x7f800000, DZ },
    { JIT_OP_FSQRT, JIT_I32, 0x40800000, 0, 0, 0x40000000, 0 },
    { JIT_OP_FSQRT, JIT_I32, 0xbf800000, 0, 0, CN32, NV },
    { JIT_OP_FMA, JIT_I32, 0x7f800000, 0, 0x7fc00001, CN32, NV },
    /* (1 + 2^-23)(1 - 2^-24) - 1 = 2^-24 - 2^-47: 0x337ffffe */
    { JIT_OP_FMA, JIT_I32, 0x3f800001, 0x3f7fffff, 0xbf800000, 0x337ffffe, 0 },
    /* negations: -(2 * 3) + 1 = -5, 2 * 3 - 1 = 5, -(2 * 3) - 1 = -7 */
    { JIT_OP_FMA, JIT_I64, 0x4000000000000000ull, 0x4008000000000000ull, 0x3ff0000000000000ull,
      0xc014000000000000ull, 0, 1 },
    { JIT_OP_FMA, JIT_I64, 0x4000000000000000ull, 0x4008000000000000ull, 0x3ff0000000000000ull,
      0x4014000000000000ull, 0, 2 },
    { JIT_OP_FMA, JIT_I64, 0x4000000000000000ull, 0x4008000000000000ull, 0x3ff0000000000000ull,
      0xc01c000000000000ull, 0, 3 },
    /* zero signs: -(1 * +0) + +0 = +0 (round to nearest), -(1 * +0) - +0 = -0 */
    { JIT_OP_FMA, JIT_I64, 0x3ff0000000000000ull, 0, 0, 0, 0, 1 },
    { JIT_OP_FMA, JIT_I64, 0x3ff0000000000000ull, 0, 0, 0x8000000000000000ull, 0, 3 },
    /* fused: (1 + 2^-52)(1 - 2^-53) - (+1) */
    { JIT_OP_FMA, JIT_I64, 0x3ff0000000000001ull, 0x3fefffffffffffffull, 0x3ff0000000000000ull,
      0x3c9ffffffffffffeull, 0, 2 },
    { JIT_OP_FMA, JIT_I64, 0x7ff0000000000000ull, 0, 0x7ff8000000000001ull, CN64, NV, 1 },
    { JIT_OP_FMA, JIT_I32, 0x40000000, 0x40400000, 0x3f800000, 0xc0a00000, 0, 1 },
    { JIT_OP_FMA, JIT_I32, 0x40000000, 0x40400000, 0x3f800000, 0xc0e00000, 0, 3 },
};

struct fop_arg {
    const fcase *k;
    int v;      /* 0 globals, 1 constant operands, 2 destination = first operand, 3 locals */
};

static void build_fop(jit_ctx *c, void *arg)
{
    struct fop_arg *fa = arg;
    const fcase *k = fa->k;
    bool w = k->t == JIT_I32;
    jit_temp d = w ? W(0) : G(0), a = w ? W(1) : G(1), b = w ? W(2) : G(2);
    jit_temp cc = w ? W(3) : G(3);
    switch (fa->v) {
    case 1:
        a = jit_const(c, k->t, k->a);
        b = jit_const(c, k->t, k->b);
        cc = jit_const(c, k->t, k->c);
        break;
    case 2:
        d = a;
        break;
    case 3: {
        jit_temp la = jit_temp_new(c, k->t), lb = jit_temp_new(c, k->t);
        jit_temp lc = jit_temp_new(c, k->t), ld = jit_temp_new(c, k->t);
        jit_mov(c, la, a);
        jit_mov(c, lb, b);
        jit_mov(c, lc, cc);
        if (k->op == JIT_OP_FMA)
            jit_fma(c, ld, la, lb, lc, k->neg);
        else
            jit_fop(c, k->op, ld, la, lb, lc);
        jit_mov(c, w ? W(0) : G(0), ld);
        jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
        return;
    }
    default:
        break;
    }
    if (k->op == JIT_OP_FMA)
        jit_fma(c, d, a, b, cc, k->neg);
    else
        jit_fop(c, k->op, d, a, b, cc);
    if (d != (w ? W(0) : G(0)))
        jit_mov(c, w ? W(0) : G(0), d);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void run_fops(const char *what)
{
    for (unsigned be = 0; be < NENG; be++)
        for (unsigned i = 0; i < sizeof(fops) / sizeof(fops[0]); i++)
            for (int v = 0; v < 4; v++) {
                const fcase *k = &fops[i];
                ir_cpu in, out;
                memset(&in, 0, sizeof(in));
                in.g[1] = k->a;
                in.g[2] = k->b;
                in.g[3] = k->c;
                in.w[1] = (uint32_t)k->a;
                in.w[2] = (uint32_t)k->b;
                in.w[3] = (uint32_t)k->c;
                struct fop_arg fa = { k, v };
                feclearexcept(FE_ALL_EXCEPT);
                jit_exit_reason r = ir_run(eng[be], mem, build_fop, &fa, &in, &out);
                int fl = fetestexcept(FE_ALL_EXCEPT);
                feclearexcept(FE_ALL_EXCEPT);
                CU_ASSERT_EQUAL(r, JIT_EXIT_HALT);
                uint64_t got = k->t == JIT_I32 ? out.w[0] : out.g[0];
                CU_ASSERT_EQUAL(got, k->expect);
                CU_ASSERT_EQUAL(fl, k->flags);
                if (got != k->expect || fl != k->flags)
                    printf("  %s %s: case %u %s shape %d = 0x%llx flags %#x, want 0x%llx %#x\n",
                           what, bname[be], i, jit_op_name(k->op), v,
                           (unsigned long long)got, fl, (unsigned long long)k->expect,
                           k->flags);
            }
}

static void test_fops(void)
{
    run_fops("");
}

/* the native backend's path for hosts without FMA3 (a call of libm's fma) */
static void test_fops_no_fma3(void)
{
    setenv("VIREO_JIT_NO_FMA", "1", 1);
    run_fops("no-fma3");
    unsetenv("VIREO_JIT_NO_FMA");
}

/* ---- float compares, integer conversions, the flags read ----
 * Expected values by hand: ties to even at 2^24 + 1 and 2^53 + 1, -0 == +0,
 * NaNs unordered with each compare mode's invalid rule, and the saturating
 * conversion's bounds: exactly -2^31 / -2^63 convert without a flag (x86's
 * "indefinite" value is the same bits), one step beyond is invalid alone. */
typedef struct xcase {
    jit_opc op;         /* JIT_OP_FCMP, _I2F or _F2I */
    jit_type st, dt;    /* source: float format or integer width; destination */
    unsigned sub;       /* FCMP: cond | mode << 4; F2I: 1 = toward zero */
    uint64_t a, b, expect;
    int flags;
} xcase;

#define FC(cond, mode) ((cond) | (JIT_FCMP_##mode) << 4)
#define D1 0x3ff0000000000000ull
#define D2 0x4000000000000000ull
#define DINF 0x7ff0000000000000ull
#define DSNAN 0x7ff4000000000000ull

static const xcase xops[] = {
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LT, QUIET), D1, D2, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I32, FC(JIT_LT, SIGNALING), D2, D1, 0, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_EQ, QUIET), 0, 0x8000000000000000ull, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LE, SIGNALING), 0x8000000000000000ull, 0, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LT, SIGNALING), 0x8000000000000000ull, 0, 0, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LE, QUIET), DINF, DINF, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LT, NOFLAGS), 0xfff0000000000000ull, DINF, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LT, QUIET), 0x8000000000000001ull, 0, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_EQ, QUIET), 1, 1, 1, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_EQ, QUIET), CN64, CN64, 0, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_EQ, QUIET), DSNAN, D1, 0, NV },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LT, QUIET), D1, 0xfff8000000000001ull, 0, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LT, SIGNALING), CN64, D1, 0, NV },
    { JIT_OP_FCMP, JIT_I64, JIT_I32, FC(JIT_LE, SIGNALING), D1, DSNAN, 0, NV },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_LE, NOFLAGS), DSNAN, D1, 0, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_EQ, NOFLAGS), D1, 0xfff0000000000001ull, 0, 0 },
    { JIT_OP_FCMP, JIT_I64, JIT_I64, FC(JIT_EQ, NOFLAGS), D2, D2, 1, 0 },
    { JIT_OP_FCMP, JIT_I32, JIT_I64, FC(JIT_LT, QUIET), 0x3fc00000, 0x40000000, 1, 0 },
    { JIT_OP_FCMP, JIT_I32, JIT_I32, FC(JIT_EQ, QUIET), 0x7fa00000, 0x7fa00000, 0, NV },
    { JIT_OP_FCMP, JIT_I32, JIT_I64, FC(JIT_LE, NOFLAGS), 0xff800000, 0x7f800000, 1, 0 },
    { JIT_OP_FCMP, JIT_I32, JIT_I64, FC(JIT_LT, NOFLAGS), CN32, 0, 0, 0 },
    { JIT_OP_FCMP, JIT_I32, JIT_I64, FC(JIT_LE, NOFLAGS), 0, 0x7fa00000, 0, 0 },
    { JIT_OP_FCMP, JIT_I32, JIT_I64, FC(JIT_LT, SIGNALING), CN32, 0, 0, NV },
    { JIT_OP_FCMP, JIT_I32, JIT_I64, FC(JIT_EQ, SIGNALING), 0x80000000, 0, 1, 0 },
    /* integer -> float, to nearest even */
    { JIT_OP_I2F, JIT_I64, JIT_I64, 0, 0x20000000000001ull, 0, 0x4340000000000000ull, NX },
    { JIT_OP_I2F, JIT_I64, JIT_I64, 0, 0x20000000000003ull, 0, 0x4340000000000002ull, NX },
    { JIT_OP_I2F, JIT_I64, JIT_I64, 0, 0xffffffffffffffffull, 0, 0xbff0000000000000ull, 0 },
    { JIT_OP_I2F, JIT_I64, JIT_I64, 0, 0x8000000000000000ull, 0, 0xc3e0000000000000ull, 0 },
    { JIT_OP_I2F, JIT_I32, JIT_I64, 0, 0x80000000u, 0, 0xc1e0000000000000ull, 0 },
    { JIT_OP_I2F, JIT_I32, JIT_I64, 0, 0, 0, 0, 0 },
    { JIT_OP_I2F, JIT_I32, JIT_I32, 0, 0x01000001u, 0, 0x4b800000u, NX },
    { JIT_OP_I2F, JIT_I32, JIT_I32, 0, 0x7fffffffu, 0, 0x4f000000u, NX },
    { JIT_OP_I2F, JIT_I32, JIT_I32, 0, 0xffffffffu, 0, 0xbf800000u, 0 },
    { JIT_OP_I2F, JIT_I64, JIT_I32, 0, 0xffffffffffffffffull, 0, 0xbf800000u, 0 },
    { JIT_OP_I2F, JIT_I64, JIT_I32, 0, 0x7fffffffffffffffull, 0, 0x5f000000u, NX },
    { JIT_OP_I2F, JIT_I64, JIT_I32, 0, 0x1000003u, 0, 0x4b800002u, NX },
    /* float -> integer: sub 0 nearest even, 1 toward zero */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0x4004000000000000ull, 0, 2, NX },             /* 2.5 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0x4004000000000000ull, 0, 2, NX },
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0xc004000000000000ull, 0, 0xfffffffeu, NX },    /* -2.5 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0x400c000000000000ull, 0, 4, NX },             /* 3.5 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0xbfe0000000000000ull, 0, 0, NX },             /* -0.5 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0x8000000000000000ull, 0, 0, 0 },              /* -0 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0x41dfffffffe00000ull, 0, 0x7fffffffu, NV },   /* 2^31 - 0.5 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0x41dfffffffe00000ull, 0, 0x7fffffffu, NX },
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0xc1e0000000100000ull, 0, 0x80000000u, NX },   /* -2^31 - 0.5 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0xc1e0000000100000ull, 0, 0x80000000u, NX },
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0xc1e0000000200000ull, 0, 0x80000000u, NV },   /* -2^31 - 1 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0xc1e0000000000000ull, 0, 0x80000000u, 0 },    /* -2^31 */
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, CN64, 0, 0x7fffffffu, NV },
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, 0xfff8000000000000ull, 0, 0x7fffffffu, NV },
    { JIT_OP_F2I, JIT_I64, JIT_I32, 1, DINF, 0, 0x7fffffffu, NV },
    { JIT_OP_F2I, JIT_I64, JIT_I32, 0, 0xfff0000000000000ull, 0, 0x80000000u, NV },
    { JIT_OP_F2I, JIT_I64, JIT_I64, 1, 0x43e0000000000000ull, 0, 0x7fffffffffffffffull, NV },
    { JIT_OP_F2I, JIT_I64, JIT_I64, 0, 0xc3e0000000000000ull, 0, 0x8000000000000000ull, 0 },
    { JIT_OP_F2I, JIT_I64, JIT_I64, 1, 0x43e158e460913d00ull, 0, 0x7fffffffffffffffull, NV }, /* 1e19 */
    { JIT_OP_F2I, JIT_I64, JIT_I64, 0, 0xc3e158e460913d00ull, 0, 0x8000000000000000ull, NV },
    { JIT_OP_F2I, JIT_I64, JIT_I64, 1, 0x43dfffffffffffffull, 0, 0x7ffffffffffffc00ull, 0 },
    { JIT_OP_F2I, JIT_I64, JIT_I64, 0, 0x3fe0000000000001ull, 0, 1, NX },             /* 0.5 + 2^-53 */
    { JIT_OP_F2I, JIT_I64, JIT_I64, 1, 0x3fe0000000000001ull, 0, 0, NX },
    { JIT_OP_F2I, JIT_I64, JIT_I64, 0, DSNAN, 0, 0x7fffffffffffffffull, NV },
    { JIT_OP_F2I, JIT_I32, JIT_I32, 1, 0x4f000000u, 0, 0x7fffffffu, NV },             /* 2^31 */
    { JIT_OP_F2I, JIT_I32, JIT_I64, 1, 0x4f000000u, 0, 0x80000000u, 0 },
    { JIT_OP_F2I, JIT_I32, JIT_I32, 0, 0xcf000000u, 0, 0x80000000u, 0 },              /* -2^31 */
    { JIT_OP_F2I, JIT_I32, JIT_I32, 0, 0x3fc00000u, 0, 2, NX },                       /* 1.5 */
    { JIT_OP_F2I, JIT_I32, JIT_I32, 1, 0x3fc00000u, 0, 1, NX },
    { JIT_OP_F2I, JIT_I32, JIT_I32, 0, 0x7fa00000u, 0, 0x7fffffffu, NV },
    { JIT_OP_F2I, JIT_I32, JIT_I64, 1, 0xff800000u, 0, 0x8000000000000000ull, NV },
    { JIT_OP_F2I, JIT_I32, JIT_I64, 0, 0x5f000000u, 0, 0x7fffffffffffffffull, NV },  /* 2^63 */
    { JIT_OP_F2I, JIT_I32, JIT_I64, 1, 0xdf000000u, 0, 0x8000000000000000ull, 0 },
    /* between the formats: widening exact, narrowing to nearest even */
    { JIT_OP_F2F, JIT_I32, JIT_I64, 0, 0x3fc00000u, 0, 0x3ff8000000000000ull, 0 },
    { JIT_OP_F2F, JIT_I32, JIT_I64, 0, 0x80000000u, 0, 0x8000000000000000ull, 0 },
    { JIT_OP_F2F, JIT_I32, JIT_I64, 0, 0x00000001u, 0, 0x36a0000000000000ull, 0 },   /* 2^-149 */
    { JIT_OP_F2F, JIT_I32, JIT_I64, 0, 0x7fa00000u, 0, CN64, NV },
    { JIT_OP_F2F, JIT_I32, JIT_I64, 0, 0xffc00001u, 0, CN64, 0 },
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x3ff0000010000000ull, 0, 0x3f800000u, NX },  /* 1 + 2^-24 */
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x3ff0000030000000ull, 0, 0x3f800002u, NX },  /* 1 + 3*2^-24 */
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x3ff0000010000001ull, 0, 0x3f800001u, NX },
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x7e37e43c8800759cull, 0, 0x7f800000u, OF | NX }, /* 1e300 */
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x01a56e1fc2f8f359ull, 0, 0, UF | NX },        /* 1e-300 */
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x36a0000000000000ull, 0, 0x00000001u, 0 },
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0x36a0000000000001ull, 0, 0x00000001u, UF | NX },
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, DSNAN, 0, CN32, NV },
    { JIT_OP_F2F, JIT_I64, JIT_I32, 0, 0xfff8000000000001ull, 0, CN32, 0 },
};

struct xop_arg {
    const xcase *k;
    int v;      /* 0 globals, 1 constants, 2 locals, 3 operands from a float op (in xmm) */
};

static jit_temp xglob(jit_type t, unsigned i) { return t == JIT_I32 ? W(i) : G(i); }

static void build_xop(jit_ctx *c, void *arg)
{
    struct xop_arg *xa = arg;
    const xcase *k = xa->k;
    jit_temp a = xglob(k->st, 1), b = xglob(k->st, 2), d = xglob(k->dt, 0);
    if (xa->v == 1) {
        a = jit_const(c, k->st, k->a);
        b = jit_const(c, k->st, k->b);
    } else if (xa->v == 2) {
        jit_temp la = jit_temp_new(c, k->st), lb = jit_temp_new(c, k->st);
        jit_mov(c, la, a);
        jit_mov(c, lb, b);
        a = la;
        b = lb;
        d = jit_temp_new(c, k->dt);
    } else if (xa->v == 3) {
        /* x + -0 = x exactly for every non-NaN x (the cases below have no NaN) */
        jit_temp z = jit_const(c, k->st, k->st == JIT_I32 ? 0x80000000u : 0x8000000000000000ull);
        jit_temp la = jit_temp_new(c, k->st), lb = jit_temp_new(c, k->st);
        jit_fop(c, JIT_OP_FADD, la, a, z, JIT_NO_TEMP);
        jit_fop(c, JIT_OP_FADD, lb, b, z, JIT_NO_TEMP);
        a = la;
        b = lb;
    }
    switch (k->op) {
    case JIT_OP_FCMP:
        jit_fcmp(c, (jit_cond)(k->sub & 15), (jit_fcmp_mode)(k->sub >> 4), d, a, b);
        break;
    case JIT_OP_I2F:
        jit_fcvt_from_int(c, d, a);
        break;
    case JIT_OP_F2F:
        jit_fcvt_float(c, d, a);
        break;
    default:
        jit_fcvt_to_int(c, d, a, k->sub);
        break;
    }
    if (d != xglob(k->dt, 0))
        jit_mov(c, xglob(k->dt, 0), d);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static bool xnan(jit_type t, uint64_t u)
{
    return t == JIT_I32 ? (u & 0x7fffffffu) > 0x7f800000u
                        : (u & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}

static void test_float_cmp_cvt(void)
{
    for (unsigned be = 0; be < NENG; be++)
        for (unsigned i = 0; i < sizeof(xops) / sizeof(xops[0]); i++)
            for (int v = 0; v < 4; v++) {
                const xcase *k = &xops[i];
                if (v == 3 && (k->op == JIT_OP_I2F || xnan(k->st, k->a) || xnan(k->st, k->b)))
                    continue;
                ir_cpu in, out;
                memset(&in, 0, sizeof(in));
                in.g[1] = k->a;
                in.g[2] = k->b;
                in.w[1] = (uint32_t)k->a;
                in.w[2] = (uint32_t)k->b;
                struct xop_arg xa = { k, v };
                feclearexcept(FE_ALL_EXCEPT);
                jit_exit_reason r = ir_run(eng[be], mem, build_xop, &xa, &in, &out);
                int fl = fetestexcept(FE_ALL_EXCEPT);
                feclearexcept(FE_ALL_EXCEPT);
                CU_ASSERT_EQUAL(r, JIT_EXIT_HALT);
                uint64_t got = k->dt == JIT_I32 ? out.w[0] : out.g[0];
                CU_ASSERT_EQUAL(got, k->expect);
                CU_ASSERT_EQUAL(fl, k->flags);
                if (got != k->expect || fl != k->flags)
                    printf("  %s: case %u %s shape %d = 0x%llx flags %#x, want 0x%llx %#x\n",
                           bname[be], i, jit_op_name(k->op), v, (unsigned long long)got, fl,
                           (unsigned long long)k->expect, k->flags);
            }
}

/* fflags: the flags raised by the float ops before it, in RISC-V's order, and
 * they stay raised */
static const struct { jit_opc op; uint64_t a, b; uint64_t expect; } flag_ops[] = {
    { JIT_OP_FADD, D1, D2, 0 },
    { JIT_OP_FDIV, D1, 0, 8 },                                          /* DZ */
    { JIT_OP_FDIV, 0, 0, 16 },                                          /* NV */
    { JIT_OP_FMUL, 0x7fefffffffffffffull, D2, 4 | 1 },                  /* OF NX */
    { JIT_OP_FMUL, 0x0010000000000000ull, 0x3fe0000000000001ull, 2 | 1 },  /* UF NX */
    { JIT_OP_FDIV, D1, 0x4008000000000000ull, 1 },                      /* NX */
};

static unsigned flag_case;

static void build_fflags(jit_ctx *c, void *arg)
{
    jit_temp r = jit_temp_new(c, JIT_I64);
    jit_fop(c, flag_ops[flag_case].op, r, G(1), G(2), JIT_NO_TEMP);
    jit_fflags(c, G(0));
    jit_fflags(c, G(3));    /* a second read sees the same */
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_fflags_read(void)
{
    for (unsigned be = 0; be < NENG; be++)
        for (flag_case = 0; flag_case < sizeof(flag_ops) / sizeof(flag_ops[0]); flag_case++) {
            ir_cpu in, out;
            memset(&in, 0, sizeof(in));
            in.g[1] = flag_ops[flag_case].a;
            in.g[2] = flag_ops[flag_case].b;
            feclearexcept(FE_ALL_EXCEPT);
            jit_exit_reason r = ir_run(eng[be], mem, build_fflags, NULL, &in, &out);
            int fl = fetestexcept(FE_ALL_EXCEPT);
            feclearexcept(FE_ALL_EXCEPT);
            CU_ASSERT_EQUAL(r, JIT_EXIT_HALT);
            CU_ASSERT_EQUAL(out.g[0], flag_ops[flag_case].expect);
            CU_ASSERT_EQUAL(out.g[3], flag_ops[flag_case].expect);
            /* still raised on the host afterwards */
            CU_ASSERT_EQUAL(fl != 0, flag_ops[flag_case].expect != 0);
            if (out.g[0] != flag_ops[flag_case].expect)
                printf("  %s: fflags case %u = %#llx, want %#llx\n", bname[be], flag_case,
                       (unsigned long long)out.g[0], (unsigned long long)flag_ops[flag_case].expect);
        }
}

static void test_pressure(void)
{
    ir_cpu in;
    memset(&in, 0, sizeof(in));
    for (int i = 0; i < 16; i++)
        in.g[i] = 0x1234567 * (uint64_t)(i + 3);
    uint64_t t[NLIVE];
    for (int i = 0; i < NLIVE; i++)
        t[i] = in.g[i % 8] * (uint64_t)(i + 1) + in.g[8 + i % 7];
    uint64_t r = t[0] * 31 + t[1];
    for (int i = NLIVE - 1; i >= 0; i--) {
        r ^= t[i];
        r = (r << 7) | (r >> 57);
    }
    for (unsigned be = 0; be < NENG; be++) {
        ir_cpu out;
        CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_pressure, NULL, &in, &out), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(out.g[0], r);
        for (int i = 1; i < 16; i++)
            CU_ASSERT_EQUAL(out.g[i], in.g[i]);
    }
}

/* shl by 32 then shr by 32 (RISC-V's zero extension), which the native backend
 * turns into one 32-bit move when the shifted value is not seen otherwise:
 * into the same global, through a dying local, and through a local that is
 * used again (not fused), and a shr by 31 (not fused) */
static void build_zext(jit_ctx *c, void *arg)
{
    jit_temp l = jit_temp_new(c, JIT_I64), l2 = jit_temp_new(c, JIT_I64);
    jit_shli(c, G(1), G(0), 32);
    jit_shri(c, G(1), G(1), 32);
    jit_shli(c, l, G(2), 32);
    jit_shri(c, G(3), l, 32);
    jit_shli(c, l2, G(4), 32);
    jit_shri(c, G(5), l2, 32);
    jit_mov(c, G(6), l2);
    jit_shli(c, G(7), G(0), 32);
    jit_shri(c, G(8), G(7), 31);
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_zext_pair(void)
{
    for (unsigned be = 0; be < NENG; be++) {
        ir_cpu in, out;
        memset(&in, 0, sizeof(in));
        in.g[0] = 0xfedcba9876543210ull;
        in.g[2] = 0x8000000180000001ull;
        in.g[4] = 0x12345678ffffffffull;
        CU_ASSERT_EQUAL(ir_run(eng[be], mem, build_zext, NULL, &in, &out), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(out.g[1], 0x76543210ull);
        CU_ASSERT_EQUAL(out.g[3], 0x80000001ull);
        CU_ASSERT_EQUAL(out.g[5], 0xffffffffull);
        CU_ASSERT_EQUAL(out.g[6], 0xffffffff00000000ull);
        CU_ASSERT_EQUAL(out.g[7], 0x7654321000000000ull);
        CU_ASSERT_EQUAL(out.g[8], 0xeca86420ull);
    }
}

/* ---- the guest space bound after a checked access ----
 * The native backend checks an index against guest_limit once and skips the
 * check on later accesses through the same temp while its value is unchanged.
 * These blocks make a checked access, then change the index (or reach the next
 * access over a label, or after a helper that writes globals) to a value past
 * the limit whose host address is mapped: the second half of `big`, so a
 * missing re-check would read or write it silently instead of faulting. */

static uint8_t *big;                    /* 2 * IR_MEM, guest_limit = IR_MEM */
static __thread jit_cpu *segv_cpu;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    if (segv_cpu && jit_handle_fault(segv_cpu, si, uc))
        return;         /* not reached: jit_handle_fault leaves the handler */
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t set_g1(jit_cpu *cpu, uint64_t v)
{
    ((ir_cpu *)cpu)->g[1] = v;
    return 0;
}

static const jit_helper set_g1_h = { (void *)set_g1, "set_g1", JIT_CALL_WRITES_GLOBALS };

static void build_recheck(jit_ctx *c, void *arg)
{
    int kind = *(int *)arg;
    jit_temp l = jit_temp_new(c, JIT_I64);
    jit_label lb = jit_label_new(c);
    switch (kind) {
    case 0:     /* the index changed by an add */
        jit_qld(c, G(0), G(1), 0, JIT_MO_64);
        jit_add(c, G(1), G(1), G(2));
        jit_qld(c, G(3), G(1), 0, JIT_MO_64);
        break;
    case 1:     /* the index loaded from memory (over itself), then a store */
        jit_qld(c, G(1), G(1), 8, JIT_MO_64);
        jit_qst(c, G(2), G(1), 0, JIT_MO_32);
        break;
    case 2:     /* a local index (g4 = 0), a displacement on the second access */
        jit_binop(c, JIT_OP_XOR, l, G(1), G(4));
        jit_qld(c, G(0), l, 0, JIT_MO_64);
        jit_add(c, l, l, G(2));
        jit_qst(c, G(0), l, 8, JIT_MO_8);
        break;
    case 3:     /* a label: the access before it was on the other path */
        jit_brcond(c, JIT_GEU, G(1), jit_const(c, JIT_I64, IR_MEM), lb);
        jit_qld(c, G(0), G(1), 0, JIT_MO_64);
        jit_label_set(c, lb);
        jit_qld(c, G(3), G(1), 0, JIT_MO_64);
        break;
    case 4:     /* a loop head after a checked access; the index moves on */
        jit_qld(c, G(0), G(1), 0, JIT_MO_64);
        jit_label_set(c, lb);
        jit_qld(c, G(0), G(1), 0, JIT_MO_64);
        jit_add(c, G(1), G(1), G(2));
        jit_brcond(c, JIT_NE, G(1), jit_const(c, JIT_I64, 0), lb);
        break;
    default:    /* a helper that writes the index's global in env */
        jit_qld(c, G(0), G(1), 0, JIT_MO_64);
        jit_call(c, &set_g1_h, JIT_NO_TEMP, 2, (jit_temp[]){ jit_env(c), G(2) });
        jit_qld(c, G(3), G(1), 0, JIT_MO_64);
        break;
    }
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
}

static void test_bound_recheck(void)
{
    /* g1 = start index, g2 = step; expected fault address and g0 at the fault */
    static const struct { uint64_t g1, g2, addr, g0; } cases[6] = {
        { IR_DATA, IR_MEM, IR_DATA + IR_MEM, 0x1111 },
        { IR_DATA, 0x5555, IR_MEM + 64, 0 },
        { IR_DATA, IR_MEM - 8, IR_DATA + IR_MEM, 0x1111 },
        { IR_MEM + 16, 0, IR_MEM + 16, 0 },
        { IR_DATA, IR_MEM / 2, IR_DATA + 2 * (IR_MEM / 2), 0x2222 },
        { IR_DATA, IR_MEM + 24, IR_MEM + 24, 0x1111 },
    };
    for (unsigned be = 0; be < NENG; be++)
        for (int kind = 0; kind < 6; kind++) {
            uint64_t v[2] = { 0x1111, IR_MEM + 64 };
            memset(big, 0, 2 * IR_MEM);
            memcpy(big + IR_DATA, v, 16);
            memcpy(big + IR_DATA + IR_MEM / 2, (uint64_t[]){ 0x2222 }, 8);
            memset(big + IR_MEM, 0x77, IR_MEM);
            ir_cpu in, out;
            memset(&in, 0, sizeof(in));
            in.g[1] = cases[kind].g1;
            in.g[2] = cases[kind].g2;
            ir_build = build_recheck;
            ir_build_arg = &kind;
            out = in;
            memset(&out.h, 0, sizeof(out.h));
            out.h.guest_base = (uintptr_t)big;
            out.h.guest_limit = IR_MEM;
            CU_ASSERT_EQUAL_FATAL(jit_cpu_init(eng[be], &out.h), 0);
            out.h.pc = ir_next_pc;
            ir_next_pc += 4;
            segv_cpu = &out.h;
            jit_exit_reason r = jit_exec(&out.h);
            segv_cpu = NULL;
            jit_cpu_destroy(&out.h);
            bool ok = r == JIT_EXIT_FAULT && out.h.fault_addr == cases[kind].addr &&
                      out.g[0] == cases[kind].g0 && big[IR_MEM + 64] == 0x77 &&
                      big[IR_DATA + IR_MEM] == 0x77 && out.g[3] == 0;
            CU_ASSERT(ok);
            if (!ok)
                printf("  %s case %d: exit %d addr %llx g0 %llx g3 %llx\n", bname[be], kind,
                       (int)r, (unsigned long long)out.h.fault_addr,
                       (unsigned long long)out.g[0], (unsigned long long)out.g[3]);
        }
}

/* random blocks: the interpreter (the reference) and the native backend agree,
 * and the interpreter agrees with itself without the optimizer */
static void test_random_differential(void)
{
    unsigned mismatches = 0, halts_missing = 0;
    for (unsigned seed = 1; seed <= 3000; seed++) {
        ir_rng r0 = { .state = seed * 0x9E3779B97F4A7C15ull };
        ir_cpu in, out[4];
        ir_random_state(&r0, &in, mem);
        uint8_t *m[4] = { mem, mem2, malloc(IR_MEM), malloc(IR_MEM) };
        for (int k = 1; k < 4; k++)
            memcpy(m[k] + IR_DATA, mem + IR_DATA, IR_DATA_SIZE);
        /* interp, native, unoptimized interp, native with pinned globals */
        static const int which[4] = { 0, 1, 0, 2 };
        for (int k = 0; k < 4; k++) {
            ir_rng r = { .state = seed * 0x2545F4914F6CDD1Dull };
            ir_gen g = { &r, 8 + seed % 64 };
            jit_opt_disabled = k == 2;
            if (ir_run(eng[which[k]], m[k], ir_random_block, &g, &in, &out[k]) !=
                JIT_EXIT_HALT && halts_missing++ < 5)
                printf("  seed %u: run %d did not halt (translation failed?)\n", seed, k);
        }
        jit_opt_disabled = 0;
        int d1 = ir_compare(&out[0], &out[1], m[0], m[1]);
        int d2 = ir_compare(&out[0], &out[2], m[0], m[2]);
        int d3 = ir_compare(&out[0], &out[3], m[0], m[3]);
        if (d3 >= 0 && d1 < 0)
            d1 = 100 + d3;
        if (d1 >= 0 || d2 >= 0) {
            if (mismatches++ < 5)
                printf("  seed %u: native differs at %d, unoptimized at %d (g0 %llx %llx %llx)\n", seed, d1, d2, (unsigned long long)out[0].g[0], (unsigned long long)out[1].g[0], (unsigned long long)out[2].g[0]);
        }
        free(m[2]);
        free(m[3]);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(halts_missing, 0);
}

int main(void)
{
    mem = mmap(NULL, IR_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mem2 = mmap(NULL, IR_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    big = mmap(NULL, 2 * IR_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    jit_options oi = { .backend = JIT_BACKEND_INTERP };
    jit_options on = { .backend = JIT_BACKEND_NATIVE, .pin_after = UINT32_MAX };
    jit_options op = { .backend = JIT_BACKEND_NATIVE, .pin_after = 1 };
    if (mem == MAP_FAILED || mem2 == MAP_FAILED || big == MAP_FAILED ||
        jit_engine_new(&ir_frontend, &oi, &eng[0]) ||
        jit_engine_new(&ir_frontend, &on, &eng[1]) ||
        jit_engine_new(&ir_frontend, &op, &eng[2]))
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("jit_ops", NULL, NULL);
    CU_add_test(s, "binary_ops_edges", test_binops);
    CU_add_test(s, "unary_ops_edges", test_unops);
    CU_add_test(s, "conditions", test_conds);
    CU_add_test(s, "guest_and_host_memory", test_memory);
    CU_add_test(s, "atomics", test_atomics);
    CU_add_test(s, "float_ops_edges", test_fops);
    CU_add_test(s, "float_ops_without_fma3", test_fops_no_fma3);
    CU_add_test(s, "float_compare_convert_edges", test_float_cmp_cvt);
    CU_add_test(s, "float_flags_read", test_fflags_read);
    CU_add_test(s, "register_pressure", test_pressure);
    CU_add_test(s, "loop_in_block", test_loop_in_block);
    CU_add_test(s, "guest_limit_recheck", test_bound_recheck);
    CU_add_test(s, "zero_extension_pair", test_zext_pair);
    CU_add_test(s, "random_differential", test_random_differential);
    int r = cunit_run_all();
    for (int i = 0; i < NENG; i++)
        jit_engine_free(eng[i]);
    return r;
}
