/* F/D comparisons, the fflags CSR around them, and the integer <-> float
 * conversions that the translator does inline (docs/jit.md "Floating-point
 * ops"): every operand class (quiet and signaling NaNs, infinities, -0,
 * subnormals, unboxed singles), exact fflags after each instruction, the
 * "frflags; flt; fsflags" quiet-compare idiom with flags already set, integer
 * conversions at the edges in every rounding mode, static and dynamic, and a
 * loop whose NaN-boxing changes on the back edge.  Prints bit patterns and
 * flags, compared with qemu-riscv64. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static double bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

static unsigned flags(void)
{
    unsigned f;
    __asm__ volatile("frflags %0" : "=r"(f));
    return f;
}

static void setflags(unsigned f) { __asm__ volatile("fsflags %0" : : "r"(f)); }

static const uint64_t dvals[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x0000000000000001ull, 0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
    0xfff8000000000001ull, 0x7ff4000000000000ull, 0xfff0000000000001ull, 0x3ff0000000000001ull,
};

/* singles as 64-bit register images: boxed values, then two unboxed ones */
static const uint64_t svals[] = {
    0xffffffff00000000ull, 0xffffffff80000000ull, 0xffffffff3f800000ull, 0xffffffffbf800000ull,
    0xffffffff00000001ull, 0xffffffff7f800000ull, 0xffffffffff800000ull, 0xffffffff7fc00000ull,
    0xffffffffffc00001ull, 0xffffffff7fa00000ull, 0x000000003f800000ull, 0xfffffffe3f800000ull,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define CMP(insn, a, b)                                                              \
    ({                                                                               \
        long r_;                                                                     \
        __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n" insn " %0, ft0, ft1"  \
                         : "=r"(r_) : "r"(a), "r"(b) : "ft0", "ft1");                \
        r_;                                                                          \
    })

/* the idiom exactly as gcc emits it for isless(): fflags saved in t, restored */
#define IDIOM(insn, a, b, t, r)                                                      \
    __asm__ volatile("fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n frflags %0\n"              \
                     insn " %1, ft0, ft1\n fsflags %0"                               \
                     : "=&r"(t), "=&r"(r) : "r"(a), "r"(b) : "ft0", "ft1")

static void compares(void)
{
    for (unsigned i = 0; i < N(dvals); i++)
        for (unsigned j = 0; j < N(dvals); j++) {
            uint64_t a = dvals[i], b = dvals[j];
            long eq, lt, le, t, r;
            unsigned f1, f2, f3, f4;
            setflags(0); eq = CMP("feq.d", a, b); f1 = flags();
            setflags(0); lt = CMP("flt.d", a, b); f2 = flags();
            setflags(0); le = CMP("fle.d", a, b); f3 = flags();
            setflags(5);    /* UF|NX set before: the idiom must leave them */
            IDIOM("flt.d", a, b, t, r);
            f4 = flags();
            printf("d %016llx %016llx eq %ld/%02x lt %ld/%02x le %ld/%02x idiom %ld t=%02lx/%02x\n",
                   (unsigned long long)a, (unsigned long long)b, eq, f1, lt, f2, le, f3, r, t, f4);
        }
    for (unsigned i = 0; i < N(svals); i++)
        for (unsigned j = 0; j < N(svals); j++) {
            uint64_t a = svals[i], b = svals[j];
            long eq, lt, le, t, r;
            unsigned f1, f2, f3, f4;
            setflags(0); eq = CMP("feq.s", a, b); f1 = flags();
            setflags(0); lt = CMP("flt.s", a, b); f2 = flags();
            setflags(0); le = CMP("fle.s", a, b); f3 = flags();
            setflags(0x10);
            IDIOM("fle.s", a, b, t, r);
            f4 = flags();
            printf("s %016llx %016llx eq %ld/%02x lt %ld/%02x le %ld/%02x idiom %ld t=%02lx/%02x\n",
                   (unsigned long long)a, (unsigned long long)b, eq, f1, lt, f2, le, f3, r, t, f4);
        }
    /* C's quiet comparisons (gcc's own idiom) and the flags an inexact
     * operation left in the host before it: frflags must see them */
    volatile double one = 1.0, three = 3.0, nan = NAN, snan = bitsd(0x7ff4000000000000ull);
    setflags(0);
    volatile double q = one / three;
    int c1 = isless(q, one), c2 = isgreater(nan, one), c3 = islessequal(snan, one);
    printf("isless %d %d %d flags=%02x\n", c1, c2, c3, flags());
    /* frrm and fcsr reads under each dynamic mode */
    int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        setflags(0x0a);
        unsigned long frm, fcsr;
        __asm__ volatile("frrm %0\n frcsr %1" : "=r"(frm), "=r"(fcsr));
        printf("frm %lu fcsr %03lx\n", frm, fcsr);
    }
    fesetround(FE_TONEAREST);
}

#define TOINT(insn, rm, v, r)                                                        \
    __asm__ volatile("fmv.d.x ft0, %1\n" insn " %0, ft0" rm : "=r"(r) : "r"(v) : "ft0")

static void to_int(void)
{
    static const double d[] = {
        0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0x1p-1074, 2147483647.0, 2147483647.4,
        2147483647.5, 2147483647.6, 2147483648.0, -2147483648.0, -2147483648.4,
        -2147483648.5, -2147483648.6, -2147483649.0, 0x1p62, 0x1.fffffffffffffp62,
        0x1p63, -0x1p63, -0x1.0000000000001p63, 1e300, -1e300, INFINITY, -INFINITY,
    };
    static const uint64_t nans[] = { 0x7ff8000000000000ull, 0xfff8000000000000ull,
                                     0x7ff4000000000000ull, 0xfff0000000000001ull };
    uint64_t v[N(d) + N(nans)];
    for (unsigned i = 0; i < N(d); i++)
        v[i] = dbits(d[i]);
    for (unsigned i = 0; i < N(nans); i++)
        v[N(d) + i] = nans[i];
    for (unsigned i = 0; i < N(v); i++) {
        long r[8];
        unsigned f[8];
        setflags(0); TOINT("fcvt.w.d", ", rne", v[i], r[0]); f[0] = flags();
        setflags(0); TOINT("fcvt.w.d", ", rtz", v[i], r[1]); f[1] = flags();
        setflags(0); TOINT("fcvt.l.d", ", rne", v[i], r[2]); f[2] = flags();
        setflags(0); TOINT("fcvt.l.d", ", rtz", v[i], r[3]); f[3] = flags();
        /* the same value as a single (rounded, so not always the same number) */
        float s = (float)bitsd(v[i]);
        uint32_t sb;
        memcpy(&sb, &s, 4);
        if (i >= N(d))      /* keep the NaN's kind */
            sb = (uint32_t)(v[i] >> 32 & 0x80000000u) | 0x7f800000u |
                 (uint32_t)(v[i] >> 29 & 0x7fffffu);
        uint64_t sv = 0xffffffff00000000ull | sb;
        setflags(0); TOINT("fcvt.w.s", ", rne", sv, r[4]); f[4] = flags();
        setflags(0); TOINT("fcvt.w.s", ", rtz", sv, r[5]); f[5] = flags();
        setflags(0); TOINT("fcvt.l.s", ", rne", sv, r[6]); f[6] = flags();
        setflags(0); TOINT("fcvt.l.s", ", rtz", sv, r[7]); f[7] = flags();
        printf("toint %016llx %08x:", (unsigned long long)v[i], sb);
        for (int k = 0; k < 8; k++)
            printf(" %lx/%02x", r[k], f[k]);
        printf("\n");
    }
    /* an unboxed single converts as the canonical NaN */
    long r;
    setflags(0);
    TOINT("fcvt.w.s", ", rtz", 0x00000000bf800000ull, r);
    printf("unboxed fcvt.w.s %lx/%02x\n", r, flags());
    /* the dynamic mode: rne and rtz inline, rdn/rup/rmm through helpers */
    int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        for (unsigned i = 0; i < 8; i++) {
            long a, b;
            unsigned fa, fb;
            setflags(0); TOINT("fcvt.w.d", "", dbits(d[2 + i]), a); fa = flags();
            setflags(0); TOINT("fcvt.l.s", "", 0xffffffff00000000ull | (uint32_t)dbits((float)d[2 + i]) , b); fb = flags();
            printf("dyn%d %lx/%02x %lx/%02x\n", m, a, fa, b, fb);
        }
    }
    fesetround(FE_TONEAREST);
}

#define FROMINT(insn, rm, x, r)                                                      \
    __asm__ volatile(insn " ft0, %1" rm "\n fmv.x.d %0, ft0" : "=r"(r) : "r"(x) : "ft0")

static void from_int(void)
{
    static const uint64_t x[] = {
        0, 1, (uint64_t)-1, 0x7fffffff, 0x80000000, 0xffffffff80000000ull, 0x1000001,
        0xffffffffff000001ull, 0x20000000000001ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, 0xfffffffffffffffdull, 0x87654321, 0x123456789abcdefull,
    };
    int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        for (unsigned i = 0; i < N(x); i++) {
            uint64_t r[6];
            unsigned f[6];
            setflags(0); FROMINT("fcvt.s.w", "", x[i], r[0]); f[0] = flags();
            setflags(0); FROMINT("fcvt.s.wu", "", x[i], r[1]); f[1] = flags();
            setflags(0); FROMINT("fcvt.s.l", "", x[i], r[2]); f[2] = flags();
            setflags(0); FROMINT("fcvt.d.w", "", x[i], r[3]); f[3] = flags();
            setflags(0); FROMINT("fcvt.d.wu", "", x[i], r[4]); f[4] = flags();
            setflags(0); FROMINT("fcvt.d.l", "", x[i], r[5]); f[5] = flags();
            printf("fromint m%d %016llx:", m, (unsigned long long)x[i]);
            for (int k = 0; k < 6; k++)
                printf(" %llx/%02x", (unsigned long long)r[k], f[k]);
            printf("\n");
        }
    }
    fesetround(FE_TONEAREST);
    uint64_t r1, r2;
    FROMINT("fcvt.s.l", ", rne", 0x20000001ull, r1);
    FROMINT("fcvt.d.l", ", rne", 0x20000000000001ull, r2);
    printf("static rne %llx %llx\n", (unsigned long long)r1, (unsigned long long)r2);
}

/* A loop whose head follows a write that boxes ft0 and whose body ends by
 * writing an unboxed value to ft0: from the second iteration on, fadd.s reads
 * the canonical NaN.  A translator that carried "ft0 is boxed" around the back
 * edge would add the low halves instead. */
static void boxing_loop(void)
{
    uint64_t out[4] = { 0 };
    uint64_t *p = out;
    long n = 4;
    __asm__ volatile("li t0, 0x3f800000\n"
                     "fmv.w.x ft0, t0\n"           /* boxed 1.0f */
                     "li t1, 0x40000000\n"         /* 2.0f, unboxed below */
                     "1:\n"
                     "fadd.s ft1, ft0, ft0\n"
                     "fmv.x.d t2, ft1\n"
                     "sd t2, 0(%0)\n"
                     "addi %0, %0, 8\n"
                     "fmv.d.x ft0, t1\n"
                     "addi %1, %1, -1\n"
                     "bnez %1, 1b\n"
                     : "+r"(p), "+r"(n) : : "t0", "t1", "t2", "ft0", "ft1", "memory");
    printf("boxing loop %016llx %016llx %016llx %016llx\n", (unsigned long long)out[0],
           (unsigned long long)out[1], (unsigned long long)out[2], (unsigned long long)out[3]);
}

/* frflags t ... fsflags t: with nothing in between, after an inexact division
 * (fflags must stay), after the register changed, and after an operation that
 * raised a new flag (fsflags must drop it) */
static void save_restore(void)
{
    volatile double one = 1.0, three = 3.0, zero = 0.0;
    unsigned long t, f1, f2, f3, f4;
    double q;
    volatile double vq;
    setflags(0);
    vq = one / three;
    (void)vq;
    __asm__ volatile("frflags %0\n addi t0, %0, 1\n fsflags %0" : "=&r"(t) : : "t0");
    f1 = flags();
    setflags(0);
    __asm__ volatile("frflags %0\n addi %0, %0, 4\n fsflags %0" : "=&r"(t));
    f2 = flags();
    setflags(1);
    __asm__ volatile("frflags %0\n fdiv.d %1, %2, %3\n fsflags %0"
                     : "=&r"(t), "=&f"(q) : "f"(one), "f"(zero));
    f3 = flags();
    setflags(0);
    __asm__ volatile("frflags %0\n fdiv.d %1, %2, %3\n frflags %0"
                     : "=&r"(t), "=&f"(q) : "f"(one), "f"(zero));
    f4 = flags();
    printf("save/restore %02lx %02lx %02lx %02lx t=%02lx %016llx\n", f1, f2, f3, f4, t,
           (unsigned long long)dbits(q));
}

/* fcvt.s.d (rounding; each dynamic mode), fcvt.d.s (exact) and fsgnj.s on
 * NaNs, unboxed values and -0, with flags */
static void float_double(void)
{
    static const uint64_t d[] = {
        0x3ff0000010000000ull, 0x3ff0000030000000ull, 0x3ff0000010000001ull, 0xbff0000010000000ull,
        0x7e37e43c8800759cull, 0x01a56e1fc2f8f359ull, 0x36a0000000000000ull, 0x36a0000000000001ull,
        0x47efffffefffffffull, 0x47effffff0000000ull, 0x7ff4000000000000ull, 0xfff8000000000001ull,
        0x8000000000000000ull, 0x7ff0000000000000ull,
    };
    int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        for (unsigned i = 0; i < N(d); i++) {
            uint64_t r;
            setflags(0);
            __asm__ volatile("fmv.d.x ft0, %1\n fcvt.s.d ft1, ft0\n fmv.x.d %0, ft1"
                             : "=r"(r) : "r"(d[i]) : "ft0", "ft1");
            printf("s.d m%d %016llx -> %016llx/%02x\n", m, (unsigned long long)d[i],
                   (unsigned long long)r, flags());
        }
    }
    fesetround(FE_TONEAREST);
    for (unsigned i = 0; i < N(svals); i++) {
        uint64_t r, g[3];
        setflags(0);
        __asm__ volatile("fmv.d.x ft0, %1\n fcvt.d.s ft1, ft0\n fmv.x.d %0, ft1"
                         : "=r"(r) : "r"(svals[i]) : "ft0", "ft1");
        unsigned f = flags();
        uint64_t b = svals[(i + 5) % N(svals)];
        __asm__ volatile("fmv.d.x ft0, %3\n fmv.d.x ft1, %4\n fsgnj.s ft2, ft0, ft1\n"
                         "fmv.x.d %0, ft2\n fsgnjn.s ft2, ft0, ft1\n fmv.x.d %1, ft2\n"
                         "fsgnjx.s ft2, ft0, ft1\n fmv.x.d %2, ft2"
                         : "=r"(g[0]), "=r"(g[1]), "=r"(g[2]) : "r"(svals[i]), "r"(b)
                         : "ft0", "ft1", "ft2");
        printf("d.s %016llx -> %016llx/%02x sgnj %016llx %016llx %016llx flags=%02x\n",
               (unsigned long long)svals[i], (unsigned long long)r, f, (unsigned long long)g[0],
               (unsigned long long)g[1], (unsigned long long)g[2], flags());
    }
    /* a single result feeding fsgnj (its value known in the translator) */
    uint64_t r;
    __asm__ volatile("li t0, 0x40400000\n fmv.w.x ft0, t0\n fadd.s ft1, ft0, ft0\n"
                     "fneg.s ft2, ft1\n fabs.s ft3, ft2\n fmul.s ft4, ft3, ft2\n fmv.x.d %0, ft4"
                     : "=r"(r) : : "t0", "ft0", "ft1", "ft2", "ft3", "ft4");
    printf("neg/abs %016llx\n", (unsigned long long)r);
}

int main(void)
{
    compares();
    to_int();
    from_int();
    boxing_loop();
    save_restore();
    float_double();
    printf("fpcmp: ok\n");
    return 0;
}
