/* The meaning of every arithmetic op, written once: the interpreter executes
 * it and the constant folder evaluates with it.  The native backend must agree
 * with these definitions (tests/unit/jit checks it op by op and at random). */
#include "jit/internal.h"

static uint64_t mask(jit_type t, uint64_t v) { return t == JIT_I32 ? (uint32_t)v : v; }

static uint64_t mulhu64(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static uint64_t mulh64(int64_t a, int64_t b)
{
    return (uint64_t)(((__int128)a * b) >> 64);
}

static uint64_t mulhsu64(int64_t a, uint64_t b)
{
    return (uint64_t)(((__int128)a * (__int128)(unsigned __int128)b) >> 64);
}

uint64_t jit_eval_binop(jit_opc op, jit_type t, uint64_t a, uint64_t b)
{
    bool w = t == JIT_I32;
    unsigned bits = w ? 32 : 64;
    unsigned sh = (unsigned)b & (bits - 1);
    int64_t sa = w ? (int32_t)a : (int64_t)a;
    int64_t sb = w ? (int32_t)b : (int64_t)b;
    a = mask(t, a);
    b = mask(t, b);
    switch (op) {
    case JIT_OP_ADD: return mask(t, a + b);
    case JIT_OP_SUB: return mask(t, a - b);
    case JIT_OP_MUL: return mask(t, a * b);
    case JIT_OP_MULH:
        return w ? mask(t, (uint64_t)((sa * sb) >> 32)) : mulh64(sa, sb);
    case JIT_OP_MULHU:
        return w ? mask(t, (a * b) >> 32) : mulhu64(a, b);
    case JIT_OP_MULHSU:
        return w ? mask(t, (uint64_t)((sa * (int64_t)b) >> 32)) : mulhsu64(sa, b);
    case JIT_OP_DIV:
        if (b == 0)
            return mask(t, UINT64_MAX);
        if (sb == -1)
            return mask(t, (uint64_t)0 - a);      /* MIN / -1 = MIN */
        return mask(t, (uint64_t)(sa / sb));
    case JIT_OP_DIVU:
        return b == 0 ? mask(t, UINT64_MAX) : a / b;
    case JIT_OP_REM:
        if (b == 0)
            return a;
        if (sb == -1)
            return 0;
        return mask(t, (uint64_t)(sa % sb));
    case JIT_OP_REMU:
        return b == 0 ? a : a % b;
    case JIT_OP_AND: return a & b;
    case JIT_OP_OR: return a | b;
    case JIT_OP_XOR: return a ^ b;
    case JIT_OP_SHL: return mask(t, a << sh);
    case JIT_OP_SHR: return a >> sh;
    case JIT_OP_SAR: return mask(t, (uint64_t)(sa >> sh));
    case JIT_OP_ROTL: return sh ? mask(t, (a << sh) | (a >> (bits - sh))) : a;
    case JIT_OP_ROTR: return sh ? mask(t, (a >> sh) | (a << (bits - sh))) : a;
    default: return 0;
    }
}

uint64_t jit_eval_unop(jit_opc op, jit_type t, uint64_t a)
{
    bool w = t == JIT_I32;
    a = mask(t, a);
    switch (op) {
    case JIT_OP_MOV: return a;
    case JIT_OP_NOT: return mask(t, ~a);
    case JIT_OP_NEG: return mask(t, (uint64_t)0 - a);
    case JIT_OP_CLZ:
        if (!a)
            return w ? 32 : 64;
        return w ? (uint64_t)__builtin_clz((uint32_t)a) : (uint64_t)__builtin_clzll(a);
    case JIT_OP_CTZ:
        if (!a)
            return w ? 32 : 64;
        return (uint64_t)__builtin_ctzll(a);
    case JIT_OP_POPCNT: return (uint64_t)__builtin_popcountll(a);
    case JIT_OP_BSWAP: return w ? __builtin_bswap32((uint32_t)a) : __builtin_bswap64(a);
    case JIT_OP_EXT8S: return mask(t, (uint64_t)(int64_t)(int8_t)a);
    case JIT_OP_EXT8U: return (uint8_t)a;
    case JIT_OP_EXT16S: return mask(t, (uint64_t)(int64_t)(int16_t)a);
    case JIT_OP_EXT16U: return (uint16_t)a;
    case JIT_OP_EXT32S: return (uint64_t)(int64_t)(int32_t)a;
    case JIT_OP_EXT32U: return (uint32_t)a;
    case JIT_OP_TRUNC: return (uint32_t)a;
    default: return 0;
    }
}

bool jit_eval_cond(jit_cond c, jit_type t, uint64_t a, uint64_t b)
{
    int64_t sa, sb;
    if (t == JIT_I32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
        sa = (int32_t)a;
        sb = (int32_t)b;
    } else {
        sa = (int64_t)a;
        sb = (int64_t)b;
    }
    switch (c) {
    case JIT_EQ: return a == b;
    case JIT_NE: return a != b;
    case JIT_LT: return sa < sb;
    case JIT_GE: return sa >= sb;
    case JIT_LE: return sa <= sb;
    case JIT_GT: return sa > sb;
    case JIT_LTU: return a < b;
    case JIT_GEU: return a >= b;
    case JIT_LEU: return a <= b;
    case JIT_GTU: return a > b;
    default: return false;
    }
}

/* Extend a raw value of the memop's size (already in host order) to type t. */
uint64_t jit_eval_ext_load(uint64_t raw, unsigned memop, jit_type t)
{
    unsigned sz = memop & JIT_MO_SIZE;
    uint64_t v;
    if (memop & JIT_MO_SIGN) {
        switch (sz) {
        case 0: v = (uint64_t)(int64_t)(int8_t)raw; break;
        case 1: v = (uint64_t)(int64_t)(int16_t)raw; break;
        case 2: v = (uint64_t)(int64_t)(int32_t)raw; break;
        default: v = raw;
        }
    } else {
        switch (sz) {
        case 0: v = (uint8_t)raw; break;
        case 1: v = (uint16_t)raw; break;
        case 2: v = (uint32_t)raw; break;
        default: v = raw;
        }
    }
    return mask(t, v);
}

/* ---- floating point (see jit_fop in ir.h) ----
 * Computed with the host's IEEE operations so that the host flags come out as
 * the op defines them; PIN keeps the compiler from folding or moving them. */
#include <fenv.h>
#include <math.h>
#include <string.h>

#define PIN(v) __asm__ volatile("" : "+x"(v))

static float f32_of(uint64_t b) { uint32_t u = (uint32_t)b; float f; memcpy(&f, &u, 4); return f; }
static double f64_of(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }

static uint64_t bits32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return f != f ? 0x7fc00000u : u;
}

static uint64_t bits64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return d != d ? 0x7ff8000000000000ull : u;
}

/* inf * 0 (either order): the product that makes an FMA invalid on its own */
static bool fma_inf_zero(double a, double b)
{
    return (__builtin_isinf(a) && b == 0) || (a == 0 && __builtin_isinf(b));
}

uint64_t jit_eval_fop(jit_opc op, jit_type t, uint64_t ua, uint64_t ub, uint64_t uc)
{
    if (t == JIT_I32) {
        float a = f32_of(ua), b = f32_of(ub), c = f32_of(uc), r;
        PIN(a);
        PIN(b);
        PIN(c);
        switch (op) {
        case JIT_OP_FADD: r = a + b; break;
        case JIT_OP_FSUB: r = a - b; break;
        case JIT_OP_FMUL: r = a * b; break;
        case JIT_OP_FDIV: r = a / b; break;
        case JIT_OP_FSQRT: r = __builtin_sqrtf(a); break;
        default:
            r = __builtin_fmaf(a, b, c);
            PIN(r);
            if (r != r && fma_inf_zero(a, b)) {
                volatile float x = a * b;       /* raises invalid */
                (void)x;
            }
            break;
        }
        PIN(r);
        return bits32(r);
    }
    double a = f64_of(ua), b = f64_of(ub), c = f64_of(uc), r;
    PIN(a);
    PIN(b);
    PIN(c);
    switch (op) {
    case JIT_OP_FADD: r = a + b; break;
    case JIT_OP_FSUB: r = a - b; break;
    case JIT_OP_FMUL: r = a * b; break;
    case JIT_OP_FDIV: r = a / b; break;
    case JIT_OP_FSQRT: r = __builtin_sqrt(a); break;
    default:
        r = __builtin_fma(a, b, c);
        PIN(r);
        if (r != r && fma_inf_zero(a, b)) {
            volatile double x = a * b;
            (void)x;
        }
        break;
    }
    PIN(r);
    return bits64(r);
}

/* ---- comparisons, conversions and the flags (see ir.h) ----
 * Flags are raised with host arithmetic (0/0 for invalid, 1 + 2^-60 for
 * inexact), never with feraiseexcept: glibc's raises inexact in the x87 status
 * word on x86-64, which front-ends reading MXCSR would not see. */

static void raise_invalid(void)
{
    volatile float z = 0.0f;
    float r = z / z;
    PIN(r);
}

static void raise_inexact(void)
{
    volatile double one = 1.0;
    double r = one + 0x1p-60;
    PIN(r);
}

static bool is_nan_bits(jit_type t, uint64_t u)
{
    return t == JIT_I32 ? (u & 0x7fffffffu) > 0x7f800000u
                        : (u & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}

/* a NaN whose quiet bit (the first fraction bit) is clear */
static bool is_snan_bits(jit_type t, uint64_t u)
{
    return is_nan_bits(t, u) && !(u & (t == JIT_I32 ? 0x00400000u : 0x0008000000000000ull));
}

uint64_t jit_eval_fcmp(jit_cond cond, unsigned mode, jit_type t, uint64_t a, uint64_t b)
{
    if (t == JIT_I32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
    }
    if (is_nan_bits(t, a) || is_nan_bits(t, b)) {
        if (mode == JIT_FCMP_SIGNALING ||
            (mode == JIT_FCMP_QUIET && (is_snan_bits(t, a) || is_snan_bits(t, b))))
            raise_invalid();
        return 0;
    }
    /* ordered operands: the host comparison raises nothing */
    double x = t == JIT_I32 ? (double)f32_of(a) : f64_of(a);
    double y = t == JIT_I32 ? (double)f32_of(b) : f64_of(b);
    switch (cond) {
    case JIT_EQ: return x == y;
    case JIT_LT: return x < y;
    case JIT_LE: return x <= y;
    default: return 0;
    }
}

uint64_t jit_eval_i2f(jit_type dt, unsigned src_size, uint64_t a)
{
    int64_t i = src_size == JIT_MO_64 ? (int64_t)a : (int64_t)(int32_t)a;
    PIN(i);
    if (dt == JIT_I32) {
        float r = (float)i;     /* one rounding, to nearest even; inexact */
        PIN(r);
        uint32_t u;
        memcpy(&u, &r, 4);
        return u;
    }
    double r = (double)i;
    PIN(r);
    uint64_t u;
    memcpy(&u, &r, 8);
    return u;
}

uint64_t jit_eval_f2i(jit_type dt, unsigned src_size, bool rtz, uint64_t a)
{
    jit_type ft = src_size == JIT_MO_64 ? JIT_I64 : JIT_I32;
    bool w = dt == JIT_I32;
    uint64_t maxv = w ? 0x7fffffffu : (uint64_t)INT64_MAX;
    uint64_t minv = w ? 0x80000000u : (uint64_t)INT64_MIN;
    if (is_nan_bits(ft, a)) {
        raise_invalid();
        return maxv;
    }
    double x = ft == JIT_I32 ? (double)f32_of(a) : f64_of(a);     /* exact */
    /* in range after rounding (the bounds are exact doubles; near 2^63 every
     * double is an integer, so both modes share the 64-bit bounds) */
    bool in;
    if (!w)
        in = x >= -0x1p63 && x < 0x1p63;
    else if (rtz)
        in = x > -2147483649.0 && x < 2147483648.0;
    else
        in = x >= -2147483648.5 && x < 2147483647.5;
    if (!in) {
        raise_invalid();
        return x < 0 ? minv : maxv;
    }
    int64_t i = (int64_t)x;     /* toward zero; |x| < 2^63 */
    double frac = x - (double)i;    /* exact */
    PIN(frac);
    if (!rtz) {
        if (frac > 0.5 || (frac == 0.5 && (i & 1)))
            i++;
        else if (frac < -0.5 || (frac == -0.5 && (i & 1)))
            i--;
    }
    if (frac != 0)
        raise_inexact();
    return w ? (uint32_t)(int32_t)i : (uint64_t)i;
}

uint64_t jit_eval_fflags(void)
{
#if defined(__x86_64__)
    uint32_t m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return ((m & 1) ? 16 : 0) | ((m & 4) ? 8 : 0) | ((m & 8) ? 4 : 0) | ((m & 16) ? 2 : 0) |
           ((m & 32) ? 1 : 0);
#else
    int e = fetestexcept(FE_ALL_EXCEPT);
    return ((e & FE_INVALID) ? 16 : 0) | ((e & FE_DIVBYZERO) ? 8 : 0) |
           ((e & FE_OVERFLOW) ? 4 : 0) | ((e & FE_UNDERFLOW) ? 2 : 0) |
           ((e & FE_INEXACT) ? 1 : 0);
#endif
}

uint64_t jit_eval_f2f(jit_type dt, uint64_t a)
{
    if (dt == JIT_I32) {
        double x = f64_of(a);
        PIN(x);
        float r = (float)x;     /* nearest even; NV for sNaN, OF, UF, NX */
        PIN(r);
        return bits32(r);
    }
    float x = f32_of(a);
    PIN(x);
    double r = (double)x;       /* exact; NV for sNaN */
    PIN(r);
    return bits64(r);
}
