/* F and D on the host FPU with RISC-V's rules (unprivileged spec chapters 11-12):
 *  - the host computes with the guest's rounding mode loaded into MXCSR (fenv
 *    elsewhere) and its exception flags become fflags: x86 SSE and RISC-V both
 *    follow IEEE 754 default exception handling with tininess detected after
 *    rounding, so NV/DZ/OF/UF/NX agree;
 *  - every NaN result is the canonical NaN (11.3), never a propagated payload;
 *  - single-precision operands must be NaN-boxed (12.2), else they read as the
 *    canonical NaN; single results are boxed;
 *  - RMM (round to nearest, ties to max magnitude) has no host mode: the result is
 *    computed in binary128 rounded to odd (toward zero, sticky bit in the last
 *    place; exact for every narrowing since 113 >= 2p + 2) and then rounded by
 *    comparing with the midpoint of its two neighbours;
 *  - the conversions to integers, fmin/fmax and fclass are explicit.
 * These helpers are the slow paths: under RNE (and RTZ for conversions to
 * integers) the translator emits the JIT's float ops instead, and comparisons,
 * sign injection and fcvt.d.s are always inline (docs/jit.md). */
#include "cpu/riscv/internal.h"

#include <fenv.h>
#include <math.h>
#include <string.h>

#define CNAN_S 0x7fc00000u
#define CNAN_D 0x7ff8000000000000ull
#define BOX 0xffffffff00000000ull

static float f32(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint32_t b32(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static double f64(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t b64(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

/* A single operand: the low half if properly boxed, else the canonical NaN. */
static uint32_t unbox(uint64_t v) { return (v >> 32) == 0xffffffffu ? (uint32_t)v : CNAN_S; }
static float fs(uint64_t v) { return f32(unbox(v)); }

static bool is_snan_s(uint32_t b) { return (b & 0x7f800000) == 0x7f800000 && (b & 0x7fffff) && !(b & 0x400000); }
static bool is_snan_d(uint64_t b)
{
    return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
           (b & 0xfffffffffffffull) && !(b & 0x8000000000000ull);
}

static uint64_t box_s(float f) { return BOX | (isnan(f) ? CNAN_S : b32(f)); }
static uint64_t res_d(double d) { return isnan(d) ? CNAN_D : b64(d); }

/* Keep the compiler from moving FP arithmetic across the mode/flag accesses. */
#define PIN(v) __asm__ volatile("" : "+x"(v))

/* ---- host rounding mode and flags ----
 *
 * Exception flags are sticky on both sides, so the host's flags stand for the
 * guest's between synchronisation points: riscv_fp_enter() clears them when a CPU
 * starts running, riscv_fp_sync() moves them into cpu->fflags before the guest
 * reads or writes fflags/fcsr and when the run ends.  Helpers therefore touch
 * MXCSR only to change the rounding mode away from RNE (the host's and the usual
 * guest's mode).  Every host FP operation a helper performs while guest code runs
 * must raise exactly the guest's flags: NaN tests use quiet comparisons, ordered
 * comparisons come after them. */

#if defined(__x86_64__)
#define MXCSR_FLAGS 0x3du       /* IE ZE OE UE PE (DE is not an IEEE flag) */
#define MXCSR_RC (3u << 13)

static inline uint32_t mxcsr_get(void)
{
    uint32_t m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}

static inline void mxcsr_set(uint32_t m)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(m));
}

void riscv_fp_enter(void)
{
    mxcsr_set(mxcsr_get() & ~(MXCSR_FLAGS | 2u | MXCSR_RC));
}

void riscv_fp_sync(riscv_cpu *cpu)
{
    uint32_t m = mxcsr_get();
    if (!(m & MXCSR_FLAGS))
        return;
    cpu->fflags |= ((m & 1) ? FF_NV : 0) | ((m & 4) ? FF_DZ : 0) | ((m & 8) ? FF_OF : 0) |
                   ((m & 16) ? FF_UF : 0) | ((m & 32) ? FF_NX : 0);
    mxcsr_set(m & ~(MXCSR_FLAGS | 2u));
}

/* Switch to rm for one operation; returns what host_end needs (0 = no change). */
static inline uint32_t host_begin(unsigned rm)
{
    /* MXCSR RC (bits 14:13): 0 nearest, 1 down, 2 up, 3 toward zero */
    static const uint32_t rc[4] = { 0u << 13, 3u << 13, 1u << 13, 2u << 13 };
    if (rm == RM_RNE)
        return 0;
    uint32_t m = mxcsr_get();
    mxcsr_set((m & ~MXCSR_RC) | rc[rm & 3]);
    return 1;
}

static inline void host_end(uint32_t changed)
{
    if (changed)
        mxcsr_set(mxcsr_get() & ~MXCSR_RC);
}
#else
void riscv_fp_enter(void)
{
    fesetround(FE_TONEAREST);
    feclearexcept(FE_ALL_EXCEPT);
}

void riscv_fp_sync(riscv_cpu *cpu)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    if (!e)
        return;
    cpu->fflags |= ((e & FE_INVALID) ? FF_NV : 0) | ((e & FE_DIVBYZERO) ? FF_DZ : 0) |
                   ((e & FE_OVERFLOW) ? FF_OF : 0) | ((e & FE_UNDERFLOW) ? FF_UF : 0) |
                   ((e & FE_INEXACT) ? FF_NX : 0);
    feclearexcept(FE_ALL_EXCEPT);
}

static inline uint32_t host_begin(unsigned rm)
{
    static const int modes[4] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
    if (rm == RM_RNE)
        return 0;
    fesetround(modes[rm & 3]);
    return 1;
}

static inline void host_end(uint32_t changed)
{
    if (changed)
        fesetround(FE_TONEAREST);
}
#endif

/* The RMM path computes its flags itself (after a riscv_fp_sync); whatever its
 * binary128 arithmetic and conversions raised on the host is dropped at its end
 * (libgcc's soft-fp raises underflow for exact tiny results, for instance). */
static void discard_host_flags(void)
{
#if defined(__x86_64__)
    mxcsr_set(mxcsr_get() & ~(MXCSR_FLAGS | 2u));
#endif
    feclearexcept(FE_ALL_EXCEPT);
}

/* The binary128 path (RMM) goes through libgcc's soft-fp, which follows the fenv
 * rounding mode and raises fenv flags. */
static unsigned fenv_flags(void)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    return ((e & FE_INVALID) ? FF_NV : 0) | ((e & FE_DIVBYZERO) ? FF_DZ : 0) |
           ((e & FE_OVERFLOW) ? FF_OF : 0) | ((e & FE_UNDERFLOW) ? FF_UF : 0) |
           ((e & FE_INEXACT) ? FF_NX : 0);
}

/* ---- RMM through binary128 ---- */

typedef __float128 f128;

static f128 round_to_odd(f128 w, bool inexact)
{
    if (!inexact)
        return w;
    uint64_t h[2];
    memcpy(h, &w, 16);
    h[0] |= 1;          /* little-endian host: h[0] holds the low mantissa bits */
    memcpy(&w, h, 16);
    return w;
}

/* w = exact result rounded to odd in binary128.  Round it to the format with p
 * significand bits, ties away from zero.  Returns the value as binary128 (exact
 * in the target) and the flags of that rounding. */
static f128 narrow_rmm(f128 w, bool is_double, unsigned *flags)
{
    if (w != w || w == 0 || w > __FLT128_MAX__ || w < -__FLT128_MAX__)
        return w;
    int saved = fegetround();
    fesetround(FE_TOWARDZERO);
    feclearexcept(FE_ALL_EXCEPT);
    /* volatile: the compiler must not move the conversions (library calls it
     * believes have no side effects) across the mode and flag accesses */
    volatile f128 wv = w;
    f128 z, a, zprev;
    volatile double dz = 0;
    volatile float fz = 0;
    if (is_double)
        dz = (double)wv;
    else
        fz = (float)wv;
    /* read before nextafter, which raises flags of its own near subnormals */
    bool inexact = fetestexcept(FE_INEXACT);
    fesetround(saved);
    if (is_double) {
        z = dz;
        a = nextafter(dz, w > 0 ? INFINITY : -INFINITY);
        zprev = nextafter(dz, 0.0);
    } else {
        z = fz;
        a = nextafterf(fz, w > 0 ? INFINITY : -INFINITY);
        zprev = nextafterf(fz, 0.0f);
    }
    feclearexcept(FE_ALL_EXCEPT);
    if (!inexact)
        return z;
    *flags |= FF_NX;
    /* midpoint of z and the next value away from zero; exact in binary128 */
    f128 m = __builtin_isinf((double)a) ? z + (z - zprev) / 2 : (z + a) / 2;
    f128 aw = w < 0 ? -w : w, am = m < 0 ? -m : m;
    f128 r = aw >= am ? a : z;
    if (__builtin_isinf((double)r))
        *flags |= FF_OF;
    /* tininess after rounding (to p bits, unbounded exponent) */
    f128 minnorm = is_double ? (f128)0x1p-1022 : (f128)0x1p-126;
    f128 tiny_below = minnorm * (1 - (is_double ? (f128)0x1p-54 : (f128)0x1p-25));
    if (aw < tiny_below)
        *flags |= FF_UF;
    return r;
}

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

static f128 wide_op(int op, f128 a, f128 b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    default: return a / b;
    }
}

/* The operation in binary128 toward zero, rounded to odd, then RMM-narrowed.
 * Flags NV and DZ come from the wide step (they do not depend on rounding). */
static f128 rmm_compute(int op, f128 a, f128 b, f128 c, bool fma, bool is_double,
                        unsigned *flags)
{
    volatile f128 va = a, vb = b, vc = c;
    int saved = fegetround();
    fesetround(FE_TOWARDZERO);
    feclearexcept(FE_ALL_EXCEPT);
    volatile f128 w = fma ? va * vb + vc : wide_op(op, va, vb);
    unsigned wf = fenv_flags();
    fesetround(saved);
    feclearexcept(FE_ALL_EXCEPT);
    *flags |= wf & (FF_NV | FF_DZ);
    return narrow_rmm(round_to_odd(w, wf & FF_NX), is_double, flags);
}

/* ---- arithmetic ---- */

static uint64_t arith_s(riscv_cpu *cpu, int op, uint64_t ra, uint64_t rb, unsigned rm)
{
    float a = fs(ra), b = fs(rb), r;
    unsigned fl = 0;
    if (rm == RM_RMM) {
        riscv_fp_sync(cpu);
        fl |= (is_snan_s(b32(a)) || is_snan_s(b32(b))) ? FF_NV : 0;
        r = (float)rmm_compute(op, a, b, 0, false, false, &fl);
        if (isnan(a) || isnan(b))
            r = NAN;
        discard_host_flags();
        cpu->fflags |= fl;
        return box_s(r);
    }
    uint32_t saved = host_begin(rm);
    PIN(a);
    PIN(b);
    switch (op) {
    case OP_ADD: r = a + b; break;
    case OP_SUB: r = a - b; break;
    case OP_MUL: r = a * b; break;
    default: r = a / b; break;
    }
    PIN(r);
    host_end(saved);
    return box_s(r);
}

static uint64_t arith_d(riscv_cpu *cpu, int op, uint64_t ra, uint64_t rb, unsigned rm)
{
    double a = f64(ra), b = f64(rb), r;
    if (rm == RM_RMM) {
        riscv_fp_sync(cpu);
        unsigned fl = (is_snan_d(ra) || is_snan_d(rb)) ? FF_NV : 0;
        r = (double)rmm_compute(op, a, b, 0, false, true, &fl);
        if (isnan(a) || isnan(b))
            r = NAN;
        discard_host_flags();
        cpu->fflags |= fl;
        return res_d(r);
    }
    uint32_t saved = host_begin(rm);
    PIN(a);
    PIN(b);
    switch (op) {
    case OP_ADD: r = a + b; break;
    case OP_SUB: r = a - b; break;
    case OP_MUL: r = a * b; break;
    default: r = a / b; break;
    }
    PIN(r);
    host_end(saved);
    return res_d(r);
}

uint64_t riscv_fp_add_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_s(cpu, OP_ADD, a, b, (unsigned)rm); }
uint64_t riscv_fp_sub_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_s(cpu, OP_SUB, a, b, (unsigned)rm); }
uint64_t riscv_fp_mul_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_s(cpu, OP_MUL, a, b, (unsigned)rm); }
uint64_t riscv_fp_div_s(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_s(cpu, OP_DIV, a, b, (unsigned)rm); }
uint64_t riscv_fp_add_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_d(cpu, OP_ADD, a, b, (unsigned)rm); }
uint64_t riscv_fp_sub_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_d(cpu, OP_SUB, a, b, (unsigned)rm); }
uint64_t riscv_fp_mul_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_d(cpu, OP_MUL, a, b, (unsigned)rm); }
uint64_t riscv_fp_div_d(riscv_cpu *cpu, uint64_t a, uint64_t b, uint64_t rm) { return arith_d(cpu, OP_DIV, a, b, (unsigned)rm); }

/* A square root is never exactly halfway between two floating-point numbers (its
 * result is never subnormal and a p-bit midpoint squared has too many bits), so
 * RMM gives the same result as RNE. */
uint64_t riscv_fp_sqrt_s(riscv_cpu *cpu, uint64_t ra, uint64_t rm)
{
    float a = fs(ra), r;
    uint32_t saved = host_begin(rm == RM_RMM ? RM_RNE : (unsigned)rm);
    PIN(a);
    r = __builtin_sqrtf(a);
    PIN(r);
    host_end(saved);
    return box_s(r);
}

uint64_t riscv_fp_sqrt_d(riscv_cpu *cpu, uint64_t ra, uint64_t rm)
{
    double a = f64(ra), r;
    uint32_t saved = host_begin(rm == RM_RMM ? RM_RNE : (unsigned)rm);
    PIN(a);
    r = __builtin_sqrt(a);
    PIN(r);
    host_end(saved);
    return res_d(r);
}

/* Fused multiply-add.  rm_neg: rounding mode in bits 2:0, bit 8 negates the
 * product, bit 9 the addend.  inf * 0 + c is invalid even when c is a quiet NaN
 * (spec 11.6). */
uint64_t riscv_fp_fma_s(riscv_cpu *cpu, uint64_t ra, uint64_t rb, uint64_t rc, uint64_t rm_neg)
{
    unsigned rm = rm_neg & 7;
    float a = fs(ra), b = fs(rb), c = fs(rc), r;
    unsigned fl = 0;
    if ((isinf(a) && b == 0) || (a == 0 && isinf(b)))
        fl |= FF_NV;
    if (rm_neg & 0x100)
        a = -a;
    if (rm_neg & 0x200)
        c = -c;
    if (rm == RM_RMM) {
        riscv_fp_sync(cpu);
        if (is_snan_s(unbox(ra)) || is_snan_s(unbox(rb)) || is_snan_s(unbox(rc)))
            fl |= FF_NV;
        r = (float)rmm_compute(0, a, b, c, true, false, &fl);
        if (isnan(a) || isnan(b) || isnan(c))
            r = NAN;
        discard_host_flags();
    } else {
        uint32_t saved = host_begin(rm);
        PIN(a);
        PIN(b);
        PIN(c);
        r = __builtin_fmaf(a, b, c);
        PIN(r);
        host_end(saved);
    }
    cpu->fflags |= fl;
    return box_s(r);
}

uint64_t riscv_fp_fma_d(riscv_cpu *cpu, uint64_t ra, uint64_t rb, uint64_t rc, uint64_t rm_neg)
{
    unsigned rm = rm_neg & 7;
    double a = f64(ra), b = f64(rb), c = f64(rc), r;
    unsigned fl = 0;
    if ((isinf(a) && b == 0) || (a == 0 && isinf(b)))
        fl |= FF_NV;
    if (rm_neg & 0x100)
        a = -a;
    if (rm_neg & 0x200)
        c = -c;
    if (rm == RM_RMM) {
        riscv_fp_sync(cpu);
        if (is_snan_d(ra) || is_snan_d(rb) || is_snan_d(rc))
            fl |= FF_NV;
        r = (double)rmm_compute(0, a, b, c, true, true, &fl);
        if (isnan(a) || isnan(b) || isnan(c))
            r = NAN;
        discard_host_flags();
    } else {
        uint32_t saved = host_begin(rm);
        PIN(a);
        PIN(b);
        PIN(c);
        r = __builtin_fma(a, b, c);
        PIN(r);
        host_end(saved);
    }
    cpu->fflags |= fl;
    return res_d(r);
}

/* ---- the common case: round to nearest even ----
 * The host is in RNE while guest code runs and the flags collect in MXCSR, so
 * these need neither the CPU state nor a mode switch: one host operation and the
 * canonical-NaN rule.  The translator negates fused-op operands itself. */

uint64_t riscv_fp_add_d_rne(uint64_t a, uint64_t b) { return res_d(f64(a) + f64(b)); }
uint64_t riscv_fp_sub_d_rne(uint64_t a, uint64_t b) { return res_d(f64(a) - f64(b)); }
uint64_t riscv_fp_mul_d_rne(uint64_t a, uint64_t b) { return res_d(f64(a) * f64(b)); }
uint64_t riscv_fp_div_d_rne(uint64_t a, uint64_t b) { return res_d(f64(a) / f64(b)); }
uint64_t riscv_fp_sqrt_d_rne(uint64_t a) { return res_d(__builtin_sqrt(f64(a))); }
uint64_t riscv_fp_add_s_rne(uint64_t a, uint64_t b) { return box_s(fs(a) + fs(b)); }
uint64_t riscv_fp_sub_s_rne(uint64_t a, uint64_t b) { return box_s(fs(a) - fs(b)); }
uint64_t riscv_fp_mul_s_rne(uint64_t a, uint64_t b) { return box_s(fs(a) * fs(b)); }
uint64_t riscv_fp_div_s_rne(uint64_t a, uint64_t b) { return box_s(fs(a) / fs(b)); }
uint64_t riscv_fp_sqrt_s_rne(uint64_t a) { return box_s(__builtin_sqrtf(fs(a))); }

/* inf * 0 + c is invalid even for a quiet NaN c (11.6): raise NV on the host */
static void raise_invalid(void)
{
    volatile double zero = 0.0, inf = INFINITY;
    volatile double r = zero * inf;
    (void)r;
}

uint64_t riscv_fp_fma_d_rne(uint64_t ra, uint64_t rb, uint64_t rc)
{
    double a = f64(ra), b = f64(rb);
    if (__builtin_expect((isinf(a) && b == 0) || (a == 0 && isinf(b)), 0))
        raise_invalid();
    return res_d(__builtin_fma(a, b, f64(rc)));
}

uint64_t riscv_fp_fma_s_rne(uint64_t ra, uint64_t rb, uint64_t rc)
{
    float a = fs(ra), b = fs(rb);
    if (__builtin_expect((isinf(a) && b == 0) || (a == 0 && isinf(b)), 0))
        raise_invalid();
    return box_s(__builtin_fmaf(a, b, fs(rc)));
}

/* ---- min/max and classify (compares and sign injection are inline IR) ----
 * These set their flags in cpu->fflags and raise nothing on the host: NaNs are
 * recognised from the bits (isnan() compiles to ucomis*, which raises invalid
 * for a signaling NaN) and only non-NaN values are compared.  The translator
 * relies on it (fsflags fast path in translate.c). */
static bool nan_s(uint32_t b) { return (b & 0x7fffffffu) > 0x7f800000u; }
static bool nan_d(uint64_t b) { return (b & 0x7fffffffffffffffull) > 0x7ff0000000000000ull; }

/* fmin/fmax (spec 11.6, IEEE 754-2019 minimumNumber/maximumNumber): a NaN operand
 * is ignored unless both are NaN (then the canonical NaN); a signaling NaN sets
 * NV; -0 is below +0. */
uint64_t riscv_fp_minmax_s(riscv_cpu *cpu, uint64_t ra, uint64_t rb, uint64_t is_max)
{
    uint32_t ua = unbox(ra), ub = unbox(rb);
    float a = f32(ua), b = f32(ub);
    if (is_snan_s(ua) || is_snan_s(ub))
        cpu->fflags |= FF_NV;
    bool na = nan_s(ua), nb = nan_s(ub);
    if (na && nb)
        return BOX | CNAN_S;
    if (na)
        return BOX | ub;
    if (nb)
        return BOX | ua;
    if (a == b)     /* equal, or +0/-0: pick by sign */
        return BOX | (is_max ? (ua & ub) : (ua | ub));
    return BOX | ((a < b) != (bool)is_max ? ua : ub);
}

uint64_t riscv_fp_minmax_d(riscv_cpu *cpu, uint64_t ra, uint64_t rb, uint64_t is_max)
{
    double a = f64(ra), b = f64(rb);
    if (is_snan_d(ra) || is_snan_d(rb))
        cpu->fflags |= FF_NV;
    bool na = nan_d(ra), nb = nan_d(rb);
    if (na && nb)
        return CNAN_D;
    if (na)
        return rb;
    if (nb)
        return ra;
    if (a == b)
        return is_max ? (ra & rb) : (ra | rb);
    return (a < b) != (bool)is_max ? ra : rb;
}

/* fclass (spec 11.9, table 11.5): one bit of ten. */
static uint64_t classify(bool neg, bool inf, bool nan, bool snan, bool zero, bool sub)
{
    if (nan)
        return snan ? 1u << 8 : 1u << 9;
    if (inf)
        return neg ? 1u << 0 : 1u << 7;
    if (zero)
        return neg ? 1u << 3 : 1u << 4;
    if (sub)
        return neg ? 1u << 2 : 1u << 5;
    return neg ? 1u << 1 : 1u << 6;
}

uint64_t riscv_fp_class_s(uint64_t ra)
{
    uint32_t u = unbox(ra);
    uint32_t e = (u >> 23) & 0xff, m = u & 0x7fffff;
    return classify(u >> 31, e == 0xff && !m, e == 0xff && m, is_snan_s(u), !e && !m, !e && m);
}

uint64_t riscv_fp_class_d(uint64_t u)
{
    uint64_t e = (u >> 52) & 0x7ff, m = u & 0xfffffffffffffull;
    return classify(u >> 63, e == 0x7ff && !m, e == 0x7ff && m, is_snan_d(u), !e && !m, !e && m);
}

/* ---- conversions ---- */

static double round_int(double x, unsigned rm)
{
    switch (rm) {
    case RM_RTZ: return trunc(x);
    case RM_RDN: return floor(x);
    case RM_RUP: return ceil(x);
    case RM_RMM: return round(x);
    default: return roundeven(x);
    }
}

/* Float -> integer (spec 11.7, table 11.4): round per rm; out of range or NaN
 * sets NV and gives the nearest bound (NaN and +inf the maximum, -inf the
 * minimum); in range but inexact sets NX.  32-bit results are sign-extended.
 * The flags are computed here, so whatever the host's floor/trunc/... raise is
 * discarded (they may raise inexact, which is wrong when the value then turns
 * out of range). */
static uint64_t cvt_to_int_flags(riscv_cpu *cpu, double x, unsigned kind, unsigned rm);

static uint64_t cvt_to_int(riscv_cpu *cpu, double x, unsigned kind, unsigned rm)
{
#if defined(__x86_64__)
    uint32_t saved = mxcsr_get();
    uint64_t r = cvt_to_int_flags(cpu, x, kind, rm);
    mxcsr_set(saved);
#else
    fexcept_t saved;
    fegetexceptflag(&saved, FE_ALL_EXCEPT);
    uint64_t r = cvt_to_int_flags(cpu, x, kind, rm);
    fesetexceptflag(&saved, FE_ALL_EXCEPT);
#endif
    return r;
}

static uint64_t cvt_to_int_flags(riscv_cpu *cpu, double x, unsigned kind, unsigned rm)
{
    static const double lo[4] = { -0x1p31, 0, -0x1p63, 0 };
    static const double hi[4] = { 0x1p31, 0x1p32, 0x1p63, 0x1p64 };  /* exclusive */
    static const uint64_t minv[4] = { (uint64_t)(int64_t)INT32_MIN, 0, (uint64_t)INT64_MIN, 0 };
    static const uint64_t maxv[4] = { INT32_MAX, UINT64_MAX /* 0xffffffff sext */, INT64_MAX,
                                      UINT64_MAX };
    kind &= 3;
    if (isnan(x)) {
        cpu->fflags |= FF_NV;
        return maxv[kind];
    }
    double r = round_int(x, rm);
    if (r < lo[kind]) {
        cpu->fflags |= FF_NV;
        return minv[kind];
    }
    if (r >= hi[kind]) {
        cpu->fflags |= FF_NV;
        return maxv[kind];
    }
    if (r != x)
        cpu->fflags |= FF_NX;
    switch (kind) {
    case 0: return (uint64_t)(int64_t)(int32_t)r;
    case 1: return (uint64_t)(int64_t)(int32_t)(uint32_t)r;
    case 2: return (uint64_t)(int64_t)r;
    default: return (uint64_t)r;
    }
}

uint64_t riscv_fp_cvt_x_s(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm)
{
    return cvt_to_int(cpu, (double)fs(a), (unsigned)kind, (unsigned)rm);
}

uint64_t riscv_fp_cvt_x_d(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm)
{
    return cvt_to_int(cpu, f64(a), (unsigned)kind, (unsigned)rm);
}

static f128 int_wide(uint64_t a, unsigned kind)
{
    switch (kind & 3) {
    case 0: return (int32_t)a;
    case 1: return (uint32_t)a;
    case 2: return (int64_t)a;
    default: return a;
    }
}

uint64_t riscv_fp_cvt_s_x(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm)
{
    float r;
    if (rm == RM_RMM) {
        unsigned fl = 0;
        riscv_fp_sync(cpu);
        r = (float)narrow_rmm(int_wide(a, (unsigned)kind), false, &fl);
        discard_host_flags();
        cpu->fflags |= fl;
        return box_s(r);
    }
    uint32_t saved = host_begin((unsigned)rm);
    __asm__ volatile("" : "+r"(a));
    switch (kind & 3) {
    case 0: r = (float)(int32_t)a; break;
    case 1: r = (float)(uint32_t)a; break;
    case 2: r = (float)(int64_t)a; break;
    default: r = (float)a; break;
    }
    PIN(r);
    host_end(saved);
    return box_s(r);
}

uint64_t riscv_fp_cvt_d_x(riscv_cpu *cpu, uint64_t a, uint64_t kind, uint64_t rm)
{
    double r;
    if (rm == RM_RMM) {
        unsigned fl = 0;
        riscv_fp_sync(cpu);
        r = (double)narrow_rmm(int_wide(a, (unsigned)kind), true, &fl);
        discard_host_flags();
        cpu->fflags |= fl;
        return res_d(r);
    }
    uint32_t saved = host_begin((unsigned)rm);
    __asm__ volatile("" : "+r"(a));
    switch (kind & 3) {
    case 0: r = (double)(int32_t)a; break;
    case 1: r = (double)(uint32_t)a; break;
    case 2: r = (double)(int64_t)a; break;
    default: r = (double)a; break;
    }
    PIN(r);
    host_end(saved);
    return res_d(r);
}

uint64_t riscv_fp_cvt_s_d(riscv_cpu *cpu, uint64_t ra, uint64_t rm)
{
    double a = f64(ra);
    float r;
    if (rm == RM_RMM && !isnan(a)) {
        unsigned fl = 0;
        riscv_fp_sync(cpu);
        r = (float)narrow_rmm(a, false, &fl);
        discard_host_flags();
        cpu->fflags |= fl;
        return box_s(r);
    }
    uint32_t saved = host_begin(rm == RM_RMM ? RM_RNE : (unsigned)rm);
    PIN(a);
    r = (float)a;
    PIN(r);
    host_end(saved);
    return box_s(r);
}
