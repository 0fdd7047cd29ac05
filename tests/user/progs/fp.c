/* F and D: rounding modes (static and dynamic), NaN boxing and canonical NaNs,
 * exception flags, conversions at the edges (NaN, infinities, out of range,
 * -0.0), fused multiply-add, min/max with NaNs and signed zeros, fclass.
 * Prints bit patterns so that any difference with the reference shows. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static double bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

static unsigned flags(void)
{
    unsigned f;
    __asm__ volatile("frflags %0" : "=r"(f));
    return f;
}

static void clear(void) { __asm__ volatile("fsflags zero"); }

#define CVT(insn, T, src, srcreg)                                            \
    do {                                                                       \
        T r_;                                                                  \
        clear();                                                               \
        __asm__ volatile(insn " %0, %1" : "=r"(r_) : "f"(src));                \
        printf("%-12s %-22.17g -> %lld flags=%02x\n", insn, (double)(src), (long long)r_, flags()); \
    } while (0)

int main(void)
{
    double edges[] = { 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 2147483647.5, 2147483648.0, -2147483649.0,
                       9.3e18, 1.9e19, -9.3e18, INFINITY, -INFINITY, NAN, 4294967295.6, -0.9 };
    for (unsigned i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        double x = edges[i];
        CVT("fcvt.w.d", int32_t, x, "f");
        CVT("fcvt.wu.d", int32_t, x, "f");
        CVT("fcvt.l.d", int64_t, x, "f");
        CVT("fcvt.lu.d", int64_t, x, "f");
        float xf = (float)x;
        CVT("fcvt.w.s", int32_t, xf, "f");
        CVT("fcvt.lu.s", int64_t, xf, "f");
    }
    /* conversions whose result is out of range only after rounding, with each
     * static rounding mode (flags must be NV alone, or NX alone when in range) */
    double near[] = { -0.5, -0.9, -1.0, 0.4, 4294967295.4, 4294967295.6, -2147483648.4, -2147483648.6,
                      2147483647.4, 2147483647.6, 18446744073709549568.0, -9223372036854775808.0 };
    for (unsigned i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        volatile double v = near[i];
        long r[5][4];
        unsigned fl[5][4];
#define RM(k, rm)                                                                                   \
        clear(); __asm__ volatile("fcvt.wu.d %0, %1, " rm : "=r"(r[k][0]) : "f"(v)); fl[k][0] = flags(); \
        clear(); __asm__ volatile("fcvt.w.d %0, %1, " rm : "=r"(r[k][1]) : "f"(v)); fl[k][1] = flags();  \
        clear(); __asm__ volatile("fcvt.lu.d %0, %1, " rm : "=r"(r[k][2]) : "f"(v)); fl[k][2] = flags(); \
        clear(); __asm__ volatile("fcvt.l.d %0, %1, " rm : "=r"(r[k][3]) : "f"(v)); fl[k][3] = flags();
        RM(0, "rne") RM(1, "rtz") RM(2, "rdn") RM(3, "rup") RM(4, "rmm")
        for (int k = 0; k < 5; k++)
            printf("cvt %.17g rm%d: wu %ld/%02x w %ld/%02x lu %ld/%02x l %ld/%02x\n", v, k, r[k][0], fl[k][0],
                   r[k][1], fl[k][1], r[k][2], fl[k][2], r[k][3], fl[k][3]);
    }
    /* rounding modes, dynamic through fesetround and static in the instruction */
    int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
    const char *names[] = { "rne", "rtz", "rdn", "rup" };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        volatile double a = 1.0, b = 3.0, c = -1.0;
        double q = a / b, nq = c / b;
        volatile float fa = 1.0f, fb = 3.0f;
        float fq = fa / fb;
        int32_t r;
        volatile double h = -2.5;
        __asm__ volatile("fcvt.w.d %0, %1" : "=r"(r) : "f"(h));
        printf("%s: 1/3=%016llx -1/3=%016llx f=%08x cvt(-2.5)=%d sqrt2=%016llx\n", names[m],
               (unsigned long long)dbits(q), (unsigned long long)dbits(nq), fbits(fq), r,
               (unsigned long long)dbits(sqrt(a + a)));
    }
    fesetround(FE_TONEAREST);
    int32_t rmm;
    volatile double two5 = 2.5;
    __asm__ volatile("fcvt.w.d %0, %1, rmm" : "=r"(rmm) : "f"(two5));
    printf("rmm(2.5)=%d\n", rmm);
    /* flags */
    volatile double z = 0.0, one = 1.0, big = 1e308, tiny = 1e-308;
    clear(); volatile double r1 = one / z; printf("1/0 %016llx flags=%02x\n", (unsigned long long)dbits(r1), flags());
    clear(); volatile double r2 = z / z; printf("0/0 %016llx flags=%02x\n", (unsigned long long)dbits(r2), flags());
    clear(); volatile double r3 = big * 10; printf("ovf %016llx flags=%02x\n", (unsigned long long)dbits(r3), flags());
    clear(); volatile double r4 = tiny / 1e10; printf("unf %016llx flags=%02x\n", (unsigned long long)dbits(r4), flags());
    clear(); volatile double r5 = one / 3; printf("inx %016llx flags=%02x\n", (unsigned long long)dbits(r5), flags());
    clear(); volatile double r6 = sqrt(-one); printf("sqrt(-1) %016llx flags=%02x\n", (unsigned long long)dbits(r6), flags());
    /* canonical NaN and NaN boxing: a single op on a double register that is not
     * a boxed single reads as the canonical NaN */
    double snan = bitsd(0x7ff4000000000000ULL), qn;
    clear();
    __asm__ volatile("fadd.d %0, %1, %1" : "=f"(qn) : "f"(snan));
    printf("snan+snan %016llx flags=%02x\n", (unsigned long long)dbits(qn), flags());
    uint64_t unboxed = 0x000000003f800000ULL, boxed = 0xffffffff3f800000ULL, res1, res2;
    __asm__ volatile("fmv.d.x ft0, %2\n fadd.s ft1, ft0, ft0\n fmv.x.d %0, ft1\n"
                     "fmv.d.x ft0, %3\n fadd.s ft1, ft0, ft0\n fmv.x.d %1, ft1\n"
                     : "=r"(res1), "=r"(res2) : "r"(unboxed), "r"(boxed) : "ft0", "ft1");
    printf("unboxed %016llx boxed %016llx\n", (unsigned long long)res1, (unsigned long long)res2);
    /* min/max */
    double mm[][2] = { { 0.0, -0.0 }, { -0.0, 0.0 }, { NAN, 1.0 }, { 1.0, NAN }, { NAN, NAN } };
    for (int i = 0; i < 5; i++) {
        double mn, mx;
        clear();
        __asm__ volatile("fmin.d %0, %2, %3\n fmax.d %1, %2, %3" : "=&f"(mn), "=&f"(mx) : "f"(mm[i][0]), "f"(mm[i][1]));
        printf("min %016llx max %016llx flags=%02x\n", (unsigned long long)dbits(mn), (unsigned long long)dbits(mx), flags());
    }
    /* fma without intermediate rounding */
    volatile double fa = 1.0 + 0x1p-52, fb = 1.0 - 0x1p-53, fc = -1.0;
    printf("fma %016llx\n", (unsigned long long)dbits(fma(fa, fb, fc)));
    /* fclass */
    double cls[] = { -INFINITY, -1.0, -0x1p-1070, -0.0, 0.0, 0x1p-1070, 1.0, INFINITY, bitsd(0x7ff4000000000000ULL), NAN };
    for (int i = 0; i < 10; i++) {
        long c;
        __asm__ volatile("fclass.d %0, %1" : "=r"(c) : "f"(cls[i]));
        printf("fclass %03lx\n", c);
    }
    /* int -> float rounding */
    volatile int64_t big_i = (1LL << 53) + 1;
    printf("i2d %016llx i2f %08x u2d %016llx\n", (unsigned long long)dbits((double)big_i), fbits((float)big_i),
           (unsigned long long)dbits((double)(uint64_t)-1));
    printf("fp: ok\n");
    return 0;
}
