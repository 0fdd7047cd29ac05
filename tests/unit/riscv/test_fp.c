/* F and D semantics (unprivileged spec chapters 11 and 12, IEEE 754-2008).  Each
 * case runs one instruction with fa1/fa2/fa3 (and a1/a2) as inputs, fflags
 * cleared, and checks fa0 or a0 and the exact fflags.  Expected values are worked
 * out in the comments; hex constants are IEEE encodings. */
#include "tests/unit/riscv/harness.h"

#include <stdio.h>

#define FA0 10
#define FA1 11
#define FA2 12
#define FA3 13

/* single-precision values, NaN-boxed */
#define B(x) (0xffffffff00000000ull | (x))
#define S_1      B(0x3f800000u)     /* 1.0 */
#define S_2      B(0x40000000u)
#define S_3      B(0x40400000u)
#define S_M1     B(0xbf800000u)     /* -1.0 */
#define S_2M24   B(0x33800000u)     /* 2^-24: half an ulp of 1.0 */
#define S_M2M24  B(0xb3800000u)
#define S_1U     B(0x3f800001u)     /* 1 + 2^-23 */
#define S_M1U    B(0xbf800001u)
#define S_QNAN   B(0x7fc00000u)     /* canonical */
#define S_SNAN   B(0x7f800001u)
#define S_2P31   B(0x4f000000u)
#define S_M2P31  B(0xcf000000u)
/* doubles */
#define D_0      0x0000000000000000ull
#define D_M0     0x8000000000000000ull
#define D_1      0x3ff0000000000000ull
#define D_2      0x4000000000000000ull
#define D_3      0x4008000000000000ull
#define D_4      0x4010000000000000ull
#define D_5      0x4014000000000000ull
#define D_M1     0xbff0000000000000ull
#define D_M2     0xc000000000000000ull
#define D_M3     0xc008000000000000ull
#define D_HALF   0x3fe0000000000000ull
#define D_MHALF  0xbfe0000000000000ull
#define D_2_5    0x4004000000000000ull
#define D_M2_5   0xc004000000000000ull
#define D_1U     0x3ff0000000000001ull  /* 1 + 2^-52 */
#define D_1UU    0x3ff0000000000002ull  /* 1 + 2^-51 */
#define D_2M53   0x3ca0000000000000ull  /* 2^-53 */
#define D_INF    0x7ff0000000000000ull
#define D_MINF   0xfff0000000000000ull
#define D_QNAN   0x7ff8000000000000ull  /* canonical */
#define D_QNANP  0x7ff8000000000123ull  /* quiet, with payload */
#define D_SNAN   0x7ff0000000000001ull
#define D_MAX    0x7fefffffffffffffull
#define D_1E308  0x7fe1ccf385ebc8a0ull
#define D_10     0x4024000000000000ull
#define D_MINN   0x0010000000000000ull  /* 2^-1022 */
#define D_DEN1   0x0000000000000001ull  /* 2^-1074 */
#define D_MDEN1  0x8000000000000001ull
#define D_3E9    0x41e65a0bc0000000ull  /* 3e9 */
#define D_M3E9   0xc1e65a0bc0000000ull
#define D_4E9    0x41edcd6500000000ull  /* 4e9 */
#define D_5E9    0x41f2a05f20000000ull  /* 5e9 */
#define D_2P63   0x43e0000000000000ull
#define D_M2P63  0xc3e0000000000000ull

/* OP-FP funct7 values (spec 24, RV32F/RV32D listings) */
#define FADD_S(rm)   FP(0x00, rm, FA0, FA1, FA2)
#define FADD_D(rm)   FP(0x01, rm, FA0, FA1, FA2)
#define FSUB_D(rm)   FP(0x05, rm, FA0, FA1, FA2)
#define FMUL_D(rm)   FP(0x09, rm, FA0, FA1, FA2)
#define FDIV_D(rm)   FP(0x0d, rm, FA0, FA1, FA2)
#define FSQRT_D(rm)  FP(0x2d, rm, FA0, FA1, 0)
#define FSGNJ_S(k)   FP(0x10, k, FA0, FA1, FA2)
#define FSGNJ_D(k)   FP(0x11, k, FA0, FA1, FA2)
#define FMIN_S       FP(0x14, 0, FA0, FA1, FA2)
#define FMIN_D       FP(0x15, 0, FA0, FA1, FA2)
#define FMAX_D       FP(0x15, 1, FA0, FA1, FA2)
#define FCVT_S_D(rm) FP(0x20, rm, FA0, FA1, 1)
#define FCVT_D_S     FP(0x21, 0, FA0, FA1, 0)
#define FEQ_D        FP(0x51, 2, A0, FA1, FA2)
#define FLT_D        FP(0x51, 1, A0, FA1, FA2)
#define FLE_D        FP(0x51, 0, A0, FA1, FA2)
#define FCLASS_S     FP(0x70, 1, A0, FA1, 0)
#define FCLASS_D     FP(0x71, 1, A0, FA1, 0)
#define FMV_X_W      FP(0x70, 0, A0, FA1, 0)
#define FMV_W_X      FP(0x78, 0, FA0, A1, 0)
#define FCVT_W_S(rm) FP(0x60, rm, A0, FA1, 0)
#define FCVT_X_D(k, rm) FP(0x61, rm, A0, FA1, k)  /* k: 0 w, 1 wu, 2 l, 3 lu */
#define FCVT_S_X(k, rm) FP(0x68, rm, FA0, A1, k)
#define FCVT_D_X(k, rm) FP(0x69, rm, FA0, A1, k)
#define FMADD_S(rm)  FR4(0x43, 0, rm, FA0, FA1, FA2, FA3)
#define FMADD_D(rm)  FR4(0x43, 1, rm, FA0, FA1, FA2, FA3)
#define FMSUB_D(rm)  FR4(0x47, 1, rm, FA0, FA1, FA2, FA3)
#define FNMSUB_D(rm) FR4(0x4b, 1, rm, FA0, FA1, FA2, FA3)
#define FNMADD_D(rm) FR4(0x4f, 1, rm, FA0, FA1, FA2, FA3)

typedef struct fcase {
    const char *what;
    uint32_t insn;
    uint64_t a, b, c;       /* fa1, fa2, fa3 (and a1, a2) */
    bool to_x;              /* result in a0, else fa0 */
    uint64_t want;
    uint32_t flags;
} fcase;

static const fcase cases[] = {
    /* rounding a value exactly halfway: 1 + 2^-24 lies between 1.0 and 1 + 2^-23 */
    { "fadd.s tie rne", FADD_S(RNE), S_1, S_2M24, 0, false, S_1, NX },  /* even: 1.0 */
    { "fadd.s tie rtz", FADD_S(RTZ), S_1, S_2M24, 0, false, S_1, NX },
    { "fadd.s tie rdn", FADD_S(RDN), S_1, S_2M24, 0, false, S_1, NX },
    { "fadd.s tie rup", FADD_S(RUP), S_1, S_2M24, 0, false, S_1U, NX },
    { "fadd.s tie rmm", FADD_S(RMM), S_1, S_2M24, 0, false, S_1U, NX }, /* away */
    { "fadd.s -tie rne", FADD_S(RNE), S_M1, S_M2M24, 0, false, S_M1, NX },
    { "fadd.s -tie rtz", FADD_S(RTZ), S_M1, S_M2M24, 0, false, S_M1, NX },
    { "fadd.s -tie rdn", FADD_S(RDN), S_M1, S_M2M24, 0, false, S_M1U, NX },
    { "fadd.s -tie rup", FADD_S(RUP), S_M1, S_M2M24, 0, false, S_M1, NX },
    { "fadd.s -tie rmm", FADD_S(RMM), S_M1, S_M2M24, 0, false, S_M1U, NX },
    /* (1 + 2^-52) + 2^-53: halfway between an odd and an even neighbour */
    { "fadd.d tie rne", FADD_D(RNE), D_1U, D_2M53, 0, false, D_1UU, NX },
    { "fadd.d tie rtz", FADD_D(RTZ), D_1U, D_2M53, 0, false, D_1U, NX },
    { "fadd.d tie rdn", FADD_D(RDN), D_1U, D_2M53, 0, false, D_1U, NX },
    { "fadd.d tie rup", FADD_D(RUP), D_1U, D_2M53, 0, false, D_1UU, NX },
    { "fadd.d tie rmm", FADD_D(RMM), D_1U, D_2M53, 0, false, D_1UU, NX },
    { "fadd.d 1+2^-53 rmm", FADD_D(RMM), D_1, D_2M53, 0, false, D_1U, NX },
    { "fadd.d 1+2^-53 rne", FADD_D(RNE), D_1, D_2M53, 0, false, D_1, NX },
    { "fadd.d exact", FADD_D(RNE), D_2, D_2, 0, false, D_4, 0 },
    /* an exact subnormal result raises nothing, in any mode */
    { "fadd.d subnormal exact rmm", FADD_D(RMM), 0x000000003f800000ull, D_0, 0, false,
      0x000000003f800000ull, 0 },
    { "fadd.d subnormal exact rne", FADD_D(RNE), 0x000000003f800000ull, D_0, 0, false,
      0x000000003f800000ull, 0 },
    /* exceptions */
    { "fdiv.d 1/0", FDIV_D(RNE), D_1, D_0, 0, false, D_INF, DZ },
    { "fdiv.d 0/0", FDIV_D(RNE), D_0, D_0, 0, false, D_QNAN, NV },
    { "fdiv.d 1/3", FDIV_D(RNE), D_1, D_3, 0, false, 0x3fd5555555555555ull, NX },
    { "fdiv.d 1/3 rup", FDIV_D(RUP), D_1, D_3, 0, false, 0x3fd5555555555556ull, NX },
    { "fdiv.d 1/3 rmm", FDIV_D(RMM), D_1, D_3, 0, false, 0x3fd5555555555555ull, NX },
    { "fmul.d overflow", FMUL_D(RNE), D_1E308, D_10, 0, false, D_INF, OF | NX },
    { "fmul.d overflow rtz", FMUL_D(RTZ), D_1E308, D_10, 0, false, D_MAX, OF | NX },
    { "fmul.d overflow rmm", FMUL_D(RMM), D_1E308, D_10, 0, false, D_INF, OF | NX },
    { "fmul.d exact subnormal", FMUL_D(RNE), D_MINN, D_HALF, 0, false, 0x0008000000000000ull, 0 },
    /* 2^-1074 * 0.5 = 2^-1075: a tie between 0 and 2^-1074 */
    { "fmul.d underflow rne", FMUL_D(RNE), D_DEN1, D_HALF, 0, false, D_0, UF | NX },
    { "fmul.d underflow rmm", FMUL_D(RMM), D_DEN1, D_HALF, 0, false, D_DEN1, UF | NX },
    { "fmul.d underflow rup", FMUL_D(RUP), D_DEN1, D_HALF, 0, false, D_DEN1, UF | NX },
    { "fmul.d -underflow rdn", FMUL_D(RDN), D_MDEN1, D_HALF, 0, false, D_MDEN1, UF | NX },
    { "fsub.d inf-inf", FSUB_D(RNE), D_INF, D_INF, 0, false, D_QNAN, NV },
    { "fsub.d x-x rdn", FSUB_D(RDN), D_1, D_1, 0, false, D_M0, 0 },   /* -0 in RDN */
    { "fsqrt.d -1", FSQRT_D(RNE), D_M1, 0, 0, false, D_QNAN, NV },
    { "fsqrt.d 4", FSQRT_D(RNE), D_4, 0, 0, false, D_2, 0 },
    { "fsqrt.d 2 rup", FSQRT_D(RUP), D_2, 0, 0, false, 0x3ff6a09e667f3bcdull, NX },
    { "fsqrt.d 2 rdn", FSQRT_D(RDN), D_2, 0, 0, false, 0x3ff6a09e667f3bccull, NX },
    /* NaNs: results are canonical, only signaling NaNs raise NV */
    { "fadd.d qnan payload", FADD_D(RNE), D_QNANP, D_1, 0, false, D_QNAN, 0 },
    { "fadd.d snan", FADD_D(RNE), D_SNAN, D_1, 0, false, D_QNAN, NV },
    { "fadd.d snan rmm", FADD_D(RMM), D_SNAN, D_1, 0, false, D_QNAN, NV },
    { "fcvt.d.s snan", FCVT_D_S, S_SNAN, 0, 0, false, D_QNAN, NV },
    { "fcvt.s.d qnan", FCVT_S_D(RNE), D_QNANP, 0, 0, false, S_QNAN, 0 },
    { "fcvt.s.d 1+2^-24 rmm", FCVT_S_D(RMM), 0x3ff0000010000000ull, 0, 0, false, S_1U, NX },
    { "fcvt.s.d 1+2^-24 rne", FCVT_S_D(RNE), 0x3ff0000010000000ull, 0, 0, false, S_1, NX },
    { "fcvt.s.d overflow", FCVT_S_D(RNE), D_1E308, 0, 0, false, B(0x7f800000u), OF | NX },
    /* NaN boxing (12.2): an unboxed single reads as the canonical NaN */
    { "fadd.s unboxed", FADD_S(RNE), 0x000000003f800000ull, S_1, 0, false, S_QNAN, 0 },
    { "fadd.s boxed", FADD_S(RNE), S_1, S_1, 0, false, S_2, 0 },
    { "fsgnj.s unboxed", FSGNJ_S(0), 0x000000003f800000ull, S_M1, 0, false, B(0xffc00000u), 0 },
    { "fsgnjn.s", FSGNJ_S(1), S_1, S_1, 0, false, S_M1, 0 },
    { "fsgnjx.s", FSGNJ_S(2), S_M1, S_M1, 0, false, S_1, 0 },
    { "fclass.s unboxed", FCLASS_S, 0x000000003f800000ull, 0, 0, true, 1u << 9, 0 },
    { "fmv.x.w sign-extends", FMV_X_W, B(0x80000000u), 0, 0, true, 0xffffffff80000000ull, 0 },
    { "fmv.x.w ignores boxing", FMV_X_W, 0x123456783f800000ull, 0, 0, true, 0x3f800000, 0 },
    { "fmv.w.x boxes", FMV_W_X, 0xdeadbeef12345678ull, 0, 0, false, B(0x12345678u), 0 },
    /* fsgnj.d family */
    { "fneg.d", FSGNJ_D(1), D_2, D_2, 0, false, D_M2, 0 },
    { "fabs.d", FSGNJ_D(2), D_M2, D_M2, 0, false, D_2, 0 },
    { "fsgnj.d", FSGNJ_D(0), D_2, D_M1, 0, false, D_M2, 0 },
    { "fsgnjx.d", FSGNJ_D(2), D_M2, D_3, 0, false, D_M2, 0 },
    /* fmin/fmax (11.6): NaN operands are ignored, -0 < +0, sNaN raises NV */
    { "fmin.d snan", FMIN_D, D_SNAN, D_1, 0, false, D_1, NV },
    { "fmax.d snan,snan", FMAX_D, D_SNAN, D_SNAN, 0, false, D_QNAN, NV },
    { "fmax.d qnan,qnan", FMAX_D, D_QNANP, D_QNANP, 0, false, D_QNAN, 0 },
    { "fmin.d qnan", FMIN_D, D_QNANP, D_M3, 0, false, D_M3, 0 },
    { "fmin.d -0,+0", FMIN_D, D_M0, D_0, 0, false, D_M0, 0 },
    { "fmin.d +0,-0", FMIN_D, D_0, D_M0, 0, false, D_M0, 0 },
    { "fmax.d -0,+0", FMAX_D, D_M0, D_0, 0, false, D_0, 0 },
    { "fmin.d", FMIN_D, D_3, D_M1, 0, false, D_M1, 0 },
    { "fmin.s qnan", FMIN_S, S_QNAN, S_2, 0, false, S_2, 0 },
    /* comparisons (11.8): feq is quiet, flt/fle signal on any NaN */
    { "feq.d qnan", FEQ_D, D_QNAN, D_1, 0, true, 0, 0 },
    { "feq.d snan", FEQ_D, D_SNAN, D_1, 0, true, 0, NV },
    { "flt.d qnan", FLT_D, D_QNAN, D_1, 0, true, 0, NV },
    { "fle.d qnan", FLE_D, D_1, D_QNAN, 0, true, 0, NV },
    { "feq.d -0,+0", FEQ_D, D_M0, D_0, 0, true, 1, 0 },
    { "flt.d -0,+0", FLT_D, D_M0, D_0, 0, true, 0, 0 },
    { "fle.d 1,1", FLE_D, D_1, D_1, 0, true, 1, 0 },
    { "flt.d -1,1", FLT_D, D_M1, D_1, 0, true, 1, 0 },
    /* fclass (table 11.5) */
    { "fclass.d -inf", FCLASS_D, D_MINF, 0, 0, true, 1u << 0, 0 },
    { "fclass.d -normal", FCLASS_D, D_M1, 0, 0, true, 1u << 1, 0 },
    { "fclass.d -subnormal", FCLASS_D, D_MDEN1, 0, 0, true, 1u << 2, 0 },
    { "fclass.d -0", FCLASS_D, D_M0, 0, 0, true, 1u << 3, 0 },
    { "fclass.d +0", FCLASS_D, D_0, 0, 0, true, 1u << 4, 0 },
    { "fclass.d +subnormal", FCLASS_D, D_DEN1, 0, 0, true, 1u << 5, 0 },
    { "fclass.d +normal", FCLASS_D, D_1, 0, 0, true, 1u << 6, 0 },
    { "fclass.d +inf", FCLASS_D, D_INF, 0, 0, true, 1u << 7, 0 },
    { "fclass.d snan", FCLASS_D, D_SNAN, 0, 0, true, 1u << 8, 0 },
    { "fclass.d qnan", FCLASS_D, D_QNAN, 0, 0, true, 1u << 9, 0 },
    /* float -> int (table 11.4): NaN and +inf give the maximum, -inf the minimum */
    { "fcvt.w.d nan", FCVT_X_D(0, RNE), D_QNAN, 0, 0, true, 0x7fffffff, NV },
    { "fcvt.w.d +inf", FCVT_X_D(0, RNE), D_INF, 0, 0, true, 0x7fffffff, NV },
    { "fcvt.w.d -inf", FCVT_X_D(0, RNE), D_MINF, 0, 0, true, 0xffffffff80000000ull, NV },
    { "fcvt.w.d 3e9", FCVT_X_D(0, RTZ), D_3E9, 0, 0, true, 0x7fffffff, NV },
    { "fcvt.w.d -3e9", FCVT_X_D(0, RTZ), D_M3E9, 0, 0, true, 0xffffffff80000000ull, NV },
    { "fcvt.w.d -0.5 rtz", FCVT_X_D(0, RTZ), D_MHALF, 0, 0, true, 0, NX },
    { "fcvt.w.d 2.5 rne", FCVT_X_D(0, RNE), D_2_5, 0, 0, true, 2, NX },
    { "fcvt.w.d 2.5 rmm", FCVT_X_D(0, RMM), D_2_5, 0, 0, true, 3, NX },
    { "fcvt.w.d 2.5 rup", FCVT_X_D(0, RUP), D_2_5, 0, 0, true, 3, NX },
    { "fcvt.w.d 2.5 rdn", FCVT_X_D(0, RDN), D_2_5, 0, 0, true, 2, NX },
    { "fcvt.w.d -2.5 rmm", FCVT_X_D(0, RMM), D_M2_5, 0, 0, true, (uint64_t)-3, NX },
    { "fcvt.w.d -2.5 rdn", FCVT_X_D(0, RDN), D_M2_5, 0, 0, true, (uint64_t)-3, NX },
    { "fcvt.w.d -2.5 rtz", FCVT_X_D(0, RTZ), D_M2_5, 0, 0, true, (uint64_t)-2, NX },
    /* out of range after rounding: NV alone, no NX (table 11.4) */
    { "fcvt.w.d 1e10+0.5", FCVT_X_D(0, RNE), 0x4202a05f20040000ull, 0, 0, true, 0x7fffffff, NV },
    { "fcvt.l.d -1e10-0.5 rtz", FCVT_X_D(2, RTZ), 0xc202a05f20040000ull, 0, 0, true,
      0xfffffffdabf41c00ull, NX },
    /* 2.5e9 + 0.5: a tie, RNE picks the even 2500000000 = 0x9502f900 */
    { "fcvt.wu.d 2.5e9+0.5", FCVT_X_D(1, RNE), 0x41e2a05f20100000ull, 0, 0, true,
      0xffffffff9502f900ull, NX },
    { "fcvt.lu.d -1.5 rtz", FCVT_X_D(3, RTZ), 0xbff8000000000000ull, 0, 0, true, 0, NV },
    { "fcvt.lu.d -0.5 rdn", FCVT_X_D(3, RDN), D_MHALF, 0, 0, true, 0, NV },
    { "fcvt.wu.d -1.5 rup", FCVT_X_D(1, RUP), 0xbff8000000000000ull, 0, 0, true, 0, NV },
    { "fcvt.wu.d -1", FCVT_X_D(1, RTZ), D_M1, 0, 0, true, 0, NV },
    { "fcvt.wu.d -0.5 rtz", FCVT_X_D(1, RTZ), D_MHALF, 0, 0, true, 0, NX },
    { "fcvt.wu.d 4e9", FCVT_X_D(1, RTZ), D_4E9, 0, 0, true, 0xffffffffee6b2800ull, 0 },
    { "fcvt.wu.d 5e9", FCVT_X_D(1, RTZ), D_5E9, 0, 0, true, ~0ull, NV },
    { "fcvt.wu.d nan", FCVT_X_D(1, RTZ), D_QNAN, 0, 0, true, ~0ull, NV },
    { "fcvt.l.d 2^63", FCVT_X_D(2, RTZ), D_2P63, 0, 0, true, 0x7fffffffffffffffull, NV },
    { "fcvt.l.d -2^63", FCVT_X_D(2, RTZ), D_M2P63, 0, 0, true, 0x8000000000000000ull, 0 },
    { "fcvt.l.d nan", FCVT_X_D(2, RTZ), D_SNAN, 0, 0, true, 0x7fffffffffffffffull, NV },
    { "fcvt.lu.d nan", FCVT_X_D(3, RTZ), D_QNAN, 0, 0, true, ~0ull, NV },
    { "fcvt.lu.d -inf", FCVT_X_D(3, RTZ), D_MINF, 0, 0, true, 0, NV },
    { "fcvt.lu.d 2^63", FCVT_X_D(3, RTZ), D_2P63, 0, 0, true, 0x8000000000000000ull, 0 },
    { "fcvt.w.s 2^31", FCVT_W_S(RTZ), S_2P31, 0, 0, true, 0x7fffffff, NV },
    { "fcvt.w.s -2^31", FCVT_W_S(RTZ), S_M2P31, 0, 0, true, 0xffffffff80000000ull, 0 },
    { "fcvt.w.s unboxed", FCVT_W_S(RTZ), 0x000000003f800000ull, 0, 0, true, 0x7fffffff, NV },
    /* int -> float: 2^24 + 1 is halfway between 2^24 and 2^24 + 2 in single */
    { "fcvt.s.w tie rne", FCVT_S_X(0, RNE), 16777217, 0, 0, false, B(0x4b800000u), NX },
    { "fcvt.s.w tie rmm", FCVT_S_X(0, RMM), 16777217, 0, 0, false, B(0x4b800001u), NX },
    { "fcvt.s.w tie rup", FCVT_S_X(0, RUP), 16777217, 0, 0, false, B(0x4b800001u), NX },
    { "fcvt.s.w tie rtz", FCVT_S_X(0, RTZ), 16777217, 0, 0, false, B(0x4b800000u), NX },
    { "fcvt.s.w -1", FCVT_S_X(0, RNE), 0xffffffffull, 0, 0, false, S_M1, 0 },
    { "fcvt.s.wu 2^32-1", FCVT_S_X(1, RNE), 0xffffffffull, 0, 0, false, B(0x4f800000u), NX },
    { "fcvt.s.lu 2^64-1", FCVT_S_X(3, RNE), ~0ull, 0, 0, false, B(0x5f800000u), NX },
    { "fcvt.d.l 2^53+1 rne", FCVT_D_X(2, RNE), (1ull << 53) + 1, 0, 0, false, 0x4340000000000000ull, NX },
    { "fcvt.d.l 2^53+1 rmm", FCVT_D_X(2, RMM), (1ull << 53) + 1, 0, 0, false, 0x4340000000000001ull, NX },
    { "fcvt.d.w -3", FCVT_D_X(0, RNE), 0xfffffffdull, 0, 0, false, D_M3, 0 },
    { "fcvt.d.wu big", FCVT_D_X(1, RNE), 0xffffffffull, 0, 0, false, 0x41efffffffe00000ull, 0 },
    { "fcvt.d.lu 2^64-1 rtz", FCVT_D_X(3, RTZ), ~0ull, 0, 0, false, 0x43efffffffffffffull, NX },
    /* fused multiply-add: one rounding.  a = 1 + 2^-30, a*a = 1 + 2^-29 + 2^-60 */
    { "fmsub.d fused", FMSUB_D(RNE), 0x3ff0000000400000ull, 0x3ff0000000400000ull,
      0x3ff0000000800000ull, false, 0x3c30000000000000ull, 0 },
    { "fmadd.d inf*0+qnan", FMADD_D(RNE), D_INF, D_0, D_QNAN, false, D_QNAN, NV },
    { "fmadd.d 1*2+3", FMADD_D(RNE), D_1, D_2, D_3, false, D_5, 0 },
    { "fmsub.d 1*2-3", FMSUB_D(RNE), D_1, D_2, D_3, false, D_M1, 0 },
    { "fnmsub.d -(1*2)+3", FNMSUB_D(RNE), D_1, D_2, D_3, false, D_1, 0 },
    { "fnmadd.d -(1*2)-3", FNMADD_D(RNE), D_1, D_2, D_3, false, 0xc014000000000000ull, 0 },
    { "fmadd.s 1*2+3", FMADD_S(RNE), S_1, S_2, S_3, false, B(0x40a00000u), 0 },
    /* 1 * 1 + 2^-24 ties like fadd.s above */
    { "fmadd.s tie rmm", FMADD_S(RMM), S_1, S_1, S_2M24, false, S_1U, NX },
    { "fmadd.s tie rne", FMADD_S(RNE), S_1, S_1, S_2M24, false, S_1, NX },
};

static void body_cases(tenv *t)
{
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const fcase *c = &cases[i];
        t->pc = CODE;
        e32(t, c->insn);
        SETF(t, FA1, c->a);
        SETF(t, FA2, c->b);
        SETF(t, FA3, c->c);
        SETX(t, A1, c->a);
        SETX(t, A2, c->b);
        SETF(t, FA0, 0);
        SETX(t, A0, 0);
        riscv_cpu_set_fcsr(t->cpu, 0);
        run_to_ecall(t);
        uint64_t got = c->to_x ? X(t, A0) : F(t, FA0);
        uint32_t fl = FFLAGS(t);
        if (got != c->want || fl != c->flags) {
            printf("  [%s] %s: got 0x%016llx flags 0x%02x, expected 0x%016llx flags 0x%02x\n",
                   t->backend_name, c->what, (unsigned long long)got, fl,
                   (unsigned long long)c->want, c->flags);
            failed++;
        }
    }
    CU_ASSERT_EQUAL(failed, 0);
}

/* Dynamic rounding from frm; reserved modes are illegal (11.2). */
static void body_dynamic_rm(tenv *t)
{
    SETF(t, FA1, S_1);
    SETF(t, FA2, S_2M24);
    e32(t, CSRRWI(ZERO, 2, RUP));           /* fsrmi rup */
    e32(t, FADD_S(DYN));
    e32(t, CSRRS(A0, 3, ZERO));             /* frcsr: frm << 5 | fflags */
    run_to_ecall(t);
    CU_ASSERT_EQUAL(F(t, FA0), S_1U);
    CU_ASSERT_EQUAL(X(t, A0), (RUP << 5) | NX);

    t->pc = CODE;
    e32(t, CSRRWI(ZERO, 2, 5));             /* frm = 5: reserved */
    e32(t, FADD_S(DYN));
    riscv_exit *ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);
    CU_ASSERT_EQUAL(ex->pc, CODE + 4);
    CU_ASSERT_EQUAL(ex->insn, FADD_S(DYN));

    t->pc = CODE;
    e32(t, FADD_S(5));                      /* static rm 5: reserved */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);
    CU_ASSERT_EQUAL(ex->pc, CODE);
}

/* fflags accrue across instructions; fcsr, frm and fflags views (11.2). */
static void body_fcsr(tenv *t)
{
    riscv_cpu_set_fcsr(t->cpu, 0);
    SETF(t, FA1, D_1);
    SETF(t, FA2, D_0);
    e32(t, FDIV_D(RNE));                    /* DZ */
    e32(t, FP(0x0d, RNE, FA0, FA2, FA2));   /* 0/0: NV */
    e32(t, CSRRS(A0, 1, ZERO));             /* frflags: NV|DZ */
    e32(t, CSRRWI(A1, 1, NX));              /* fsflagsi: old value in a1 */
    e32(t, CSRRWI(ZERO, 2, RDN));
    e32(t, CSRRS(A2, 3, ZERO));             /* fcsr = RDN << 5 | NX */
    e32(t, CSRRWI(A3, 3, 0));               /* fcsr = 0, old in a3 */
    e32(t, CSRRS(A4, 2, ZERO));             /* frm: 0 */
    run_to_ecall(t);
    CU_ASSERT_EQUAL(X(t, A0), NV | DZ);
    CU_ASSERT_EQUAL(X(t, A1), NV | DZ);
    CU_ASSERT_EQUAL(X(t, A2), (RDN << 5) | NX);
    CU_ASSERT_EQUAL(X(t, A3), (RDN << 5) | NX);
    CU_ASSERT_EQUAL(X(t, A4), 0);
    CU_ASSERT_EQUAL(riscv_cpu_get_fcsr(t->cpu), 0);
}

/* libm's quiet-compare idiom "frflags a5; flt.d; fsflags a5" (translated with a
 * plain store for the fsflags, see translate.c gen_csr): the compare's NV on a
 * signaling NaN must vanish, also from the host's flags (no later fold brings it
 * back), and a rounding op in between (sNaN + 1: NV) takes the helper path,
 * which must also drop it.  A fast-path fsflagsi with bits sets exactly them. */
static void body_fflags_idiom(tenv *t)
{
    riscv_cpu_set_fcsr(t->cpu, 0);
    SETF(t, FA1, D_SNAN);
    SETF(t, FA2, D_1);
    e32(t, CSRRS(A5, 1, ZERO));             /* frflags a5: 0 */
    e32(t, FLT_D);                          /* NV */
    e32(t, CSRRW(ZERO, 1, A5));             /* fsflags a5: back to 0 */
    e32(t, CSRRS(A1, 1, ZERO));             /* 0 */
    e32(t, FADD_D(RNE));                    /* sNaN + 1: NV on the host */
    e32(t, CSRRW(ZERO, 1, A5));             /* 0 again */
    e32(t, CSRRS(A2, 1, ZERO));             /* 0 */
    e32(t, CSRRWI(ZERO, 1, NX | DZ));       /* fast path with bits */
    e32(t, FLT_D);                          /* NV accrues */
    e32(t, CSRRS(A3, 1, ZERO));             /* NV|DZ|NX */
    run_to_ecall(t);
    CU_ASSERT_EQUAL(X(t, A5), 0);
    CU_ASSERT_EQUAL(X(t, A0), 0);
    CU_ASSERT_EQUAL(X(t, A1), 0);
    CU_ASSERT_EQUAL(X(t, A2), 0);
    CU_ASSERT_EQUAL(X(t, A3), NV | DZ | NX);
    CU_ASSERT_EQUAL(riscv_cpu_get_fcsr(t->cpu), NV | DZ | NX);
}

/* flw boxes, fsw stores the low 32 bits, fld/fsd move 64 bits. */
static void body_fp_mem(tenv *t)
{
    wr32(DATA, 0x3f800000u);
    wr64(DATA + 8, D_QNANP);
    SETX(t, A0, DATA);
    SETF(t, 5, 0x1122334455667788ull);
    e32(t, FLW(FA0, A0, 0));
    e32(t, FLD(FA1, A0, 8));
    e32(t, FSW(5, A0, 16));
    e32(t, FSD(5, A0, 24));
    run_to_ecall(t);
    CU_ASSERT_EQUAL(F(t, FA0), S_1);
    CU_ASSERT_EQUAL(F(t, FA1), D_QNANP);   /* loads do not canonicalise */
    CU_ASSERT_EQUAL(rd32(DATA + 16), 0x55667788u);
    CU_ASSERT_EQUAL(rd32(DATA + 20), 0);
    CU_ASSERT_EQUAL(rd64(DATA + 24), 0x1122334455667788ull);
}

#define T(name) static void test_##name(void) { run_both(body_##name); }
T(cases) T(dynamic_rm) T(fcsr) T(fp_mem) T(fflags_idiom)
#undef T

void register_fp_tests(void)
{
    CU_pSuite s = CU_add_suite("riscv-fp", NULL, NULL);
    CU_add_test(s, "ieee-cases", test_cases);
    CU_add_test(s, "dynamic-rounding", test_dynamic_rm);
    CU_add_test(s, "fcsr", test_fcsr);
    CU_add_test(s, "loads-stores", test_fp_mem);
    CU_add_test(s, "fflags-save-restore-idiom", test_fflags_idiom);
}
