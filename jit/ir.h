/* Vireo JIT intermediate representation: the API a guest front-end (cpu/<arch>/)
 * uses to describe one translation block.
 *
 * A block is a list of ops on typed temporaries.  Types are JIT_I32, JIT_I64 and
 * JIT_PTR (a host pointer, 64-bit on 64-bit hosts).  An i32 value is always kept
 * zero-extended in its 64-bit container; ops typed i32 compute modulo 2^32.
 *
 * Temporaries (jit_temp) are small integers of four kinds:
 *   - globals: fields of the CPU state struct ("env") that the front-end declares
 *     once, in its descriptor (jit_global_desc, see jit.h).  Global number i is
 *     jit_temp i in every block, so a front-end can name them with constants.
 *     The register allocator keeps them in host registers within a block and
 *     writes dirty ones back to env at block exits, before helper calls that
 *     read globals, and (native backend) recovers them from host registers on a
 *     fault through per-access unwind records (see jit_fault_* in jit.h).
 *   - the env pointer itself: jit_env(), typed JIT_PTR, for helper arguments.
 *   - constants: jit_const(); the passes fold them and the backend turns them
 *     into immediates.
 *   - locals: jit_temp_new(); they live until the end of the block and keep
 *     their value across labels and branches inside it.
 *
 * Ops take the type of their destination; operands must have the same type
 * except where an op says otherwise (extensions, truncation, loads, stores,
 * shifts).  Every op has one defined result for every input, so a front-end
 * never needs branches around an op to avoid undefined behaviour:
 *   - shift and rotate counts are taken modulo the width (count & 31 or & 63);
 *   - x / 0 = all ones (unsigned) or -1 (signed); x % 0 = x;
 *   - signed MIN / -1 = MIN; MIN % -1 = 0  (these are RISC-V's M rules);
 *   - clz(0) = ctz(0) = width.
 *
 * Guest memory is reached with first-class load/store ops (jit_qld / jit_qst)
 * that take a guest address; the engine turns them into one host instruction
 * (user mode: guest_base + address) or into a call of the system-mode hooks.
 * A guest access that faults ends the block with JIT_EXIT_FAULT with precise
 * guest state, provided the front-end marked each guest instruction with
 * jit_insn_start(). */
#ifndef JIT_IR_H
#define JIT_IR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct jit_ctx jit_ctx;
typedef uint32_t jit_temp;
typedef uint32_t jit_label;

typedef enum {
    JIT_I32,
    JIT_I64,
    JIT_PTR,
} jit_type;

/* Temporaries numbered at or above this value are not globals. */
#define JIT_MAX_GLOBALS 256
#define JIT_NO_TEMP ((jit_temp)0xffffffffu)

/* Conditions of setcond, movcond and brcond. */
typedef enum {
    JIT_EQ, JIT_NE,
    JIT_LT, JIT_GE, JIT_LE, JIT_GT,        /* signed */
    JIT_LTU, JIT_GEU, JIT_LEU, JIT_GTU,    /* unsigned */
    JIT_COND_COUNT
} jit_cond;

/* Opcodes.  The emit functions below are the supported way to create ops; the
 * enum is public so that debug output and tests can name them. */
typedef enum {
    JIT_OP_NOP,
    JIT_OP_INSN_START,      /* imm = guest pc of the instruction that follows */
    JIT_OP_MOV,             /* d = a */
    /* binary, d = a op b, all of the destination's type */
    JIT_OP_ADD, JIT_OP_SUB, JIT_OP_MUL,
    JIT_OP_MULH,            /* high half of signed x signed */
    JIT_OP_MULHU,           /* high half of unsigned x unsigned */
    JIT_OP_MULHSU,          /* high half of signed a x unsigned b */
    JIT_OP_DIV, JIT_OP_DIVU, JIT_OP_REM, JIT_OP_REMU,
    JIT_OP_AND, JIT_OP_OR, JIT_OP_XOR,
    JIT_OP_SHL, JIT_OP_SHR, JIT_OP_SAR, JIT_OP_ROTL, JIT_OP_ROTR,
    /* unary, d = op a */
    JIT_OP_NOT, JIT_OP_NEG,
    JIT_OP_CLZ, JIT_OP_CTZ, JIT_OP_POPCNT,
    JIT_OP_BSWAP,           /* reverse all bytes of the type */
    JIT_OP_EXT8S, JIT_OP_EXT8U, JIT_OP_EXT16S, JIT_OP_EXT16U,
    JIT_OP_EXT32S, JIT_OP_EXT32U,  /* d:i64 = extend low 32 bits of a (i32 or i64) */
    JIT_OP_TRUNC,           /* d:i32 = low 32 bits of a:i64 */
    /* compare */
    JIT_OP_SETCOND,         /* d = (a cond b) ? 1 : 0; d may be i32 or i64 */
    JIT_OP_MOVCOND,         /* d = (a cond b) ? c : e */
    /* control flow inside the block */
    JIT_OP_LABEL, JIT_OP_BR, JIT_OP_BRCOND,
    /* memory */
    JIT_OP_QLD, JIT_OP_QST,         /* guest memory */
    JIT_OP_LD, JIT_OP_ST,           /* host memory: base pointer + offset */
    JIT_OP_ATOMIC_CMPXCHG,          /* guest memory, sequentially consistent */
    JIT_OP_ATOMIC_RMW,
    /* calls */
    JIT_OP_CALL,
    /* block exits */
    JIT_OP_GOTO_TB, JIT_OP_GOTO_PTR, JIT_OP_EXIT,
    /* IEEE 754 floating point, see jit_fop */
    JIT_OP_FADD, JIT_OP_FSUB, JIT_OP_FMUL, JIT_OP_FDIV,
    JIT_OP_FSQRT,           /* d = sqrt(a) */
    JIT_OP_FMA,             /* d = a * b + c, one rounding */
    JIT_OP_FCMP,            /* see jit_fcmp */
    JIT_OP_I2F,             /* see jit_fcvt_from_int */
    JIT_OP_F2I,             /* see jit_fcvt_to_int */
    JIT_OP_FFLAGS,          /* see jit_fflags */
    JIT_OP_F2F,             /* see jit_fcvt_float */
    JIT_OP_COUNT
} jit_opc;

/* Memory operation descriptor for guest and host loads/stores: size, signedness
 * of the extension to the destination type, and byte order. */
typedef enum {
    JIT_MO_8 = 0, JIT_MO_16 = 1, JIT_MO_32 = 2, JIT_MO_64 = 3,
    JIT_MO_SIZE = 3,            /* mask: log2 of the access size */
    JIT_MO_SIGN = 4,            /* sign-extend a load to the destination type */
    JIT_MO_BSWAP = 8,           /* byte order opposite to the guest's default */
} jit_memop;

/* Read-modify-write operations of jit_atomic_rmw: old = *p; *p = old op v. */
typedef enum {
    JIT_AMO_XCHG, JIT_AMO_ADD, JIT_AMO_AND, JIT_AMO_OR, JIT_AMO_XOR,
    JIT_AMO_SMIN, JIT_AMO_SMAX, JIT_AMO_UMIN, JIT_AMO_UMAX,
    JIT_AMO_COUNT
} jit_amo;

/* Reasons a block hands control back to jit_exec's caller (see jit.h). */
typedef enum {
    JIT_EXIT_NONE = 0,
    JIT_EXIT_SYSCALL,       /* guest system call; arg = front-end defined */
    JIT_EXIT_EXCEPTION,     /* guest exception; arg = cause */
    JIT_EXIT_HALT,          /* guest stopped (wfi, halt); arg = front-end defined */
    JIT_EXIT_INTERRUPT,     /* cpu->exit_request was seen at a block boundary */
    JIT_EXIT_FAULT,         /* guest memory access faulted: see jit_cpu.fault_* */
    JIT_EXIT_DEBUG,         /* front-end defined (breakpoint, single step) */
    JIT_EXIT_COUNT
} jit_exit_reason;

/* ---- helper calls ------------------------------------------------------------ */

/* Side effects a helper declares.  The optimizer and register allocator rely on
 * them; a helper that lies breaks its guest.
 *   PURE:          result depends only on the arguments; no memory effects.
 *                  May be removed when the result is unused.
 *   READS_GLOBALS: reads guest globals from env: dirty ones are stored first.
 *   WRITES_GLOBALS:writes guest globals in env: cached copies are dropped after.
 *   MAY_EXIT:      may leave the block through jit_cpu_exit() (guest exception
 *                  raised from C).  Implies READS_GLOBALS and WRITES_GLOBALS,
 *                  and the engine stores the guest pc of the current
 *                  instruction into env before the call.
 *   (no flag)      may read/write memory other than globals: not removed. */
enum {
    JIT_CALL_PURE = 1,
    JIT_CALL_READS_GLOBALS = 2,
    JIT_CALL_WRITES_GLOBALS = 4,
    JIT_CALL_MAY_EXIT = 8,
};

#define JIT_MAX_CALL_ARGS 6

typedef struct jit_helper {
    void *fn;               /* a C function taking 0..6 integer/pointer arguments */
    const char *name;       /* for debug output */
    unsigned flags;         /* JIT_CALL_* */
} jit_helper;

/* ---- temporaries ------------------------------------------------------------- */

/* Global number `index` of the front-end's table (0-based). */
static inline jit_temp jit_global(unsigned index) { return (jit_temp)index; }
/* The env pointer (JIT_PTR), to pass the CPU state to helpers. */
jit_temp jit_env(jit_ctx *c);
/* A new local of the given type. */
jit_temp jit_temp_new(jit_ctx *c, jit_type type);
/* A constant; i32 values are truncated to 32 bits. */
jit_temp jit_const(jit_ctx *c, jit_type type, uint64_t value);
jit_type jit_temp_type(jit_ctx *c, jit_temp t);

/* ---- labels ------------------------------------------------------------------- */

jit_label jit_label_new(jit_ctx *c);
/* Place the label here; a label is placed once. */
void jit_label_set(jit_ctx *c, jit_label l);
void jit_br(jit_ctx *c, jit_label l);
/* A label just before the already emitted guest instruction at pc (placed
 * there now, ops after it move down), for a branch back to it: a loop inside
 * the block.  JIT_NO_LABEL if the block has no jit_insn_start(pc).  The ops
 * from the label on must be valid when reached from a later branch, which is
 * the front-end's business (e.g. no state carried across instructions). */
#define JIT_NO_LABEL ((jit_label)0xffffffffu)
jit_label jit_label_at_insn(jit_ctx *c, uint64_t pc);
/* if (a cond b) goto l;  a and b of the same type.  A branch back to an earlier
 * label makes a loop inside the block: both backends check cpu->exit_request
 * at such a label and may leave there, resuming later at the guest pc of the
 * first jit_insn_start after it, so no local may be live across that label. */
void jit_brcond(jit_ctx *c, jit_cond cond, jit_temp a, jit_temp b, jit_label l);

/* ---- arithmetic --------------------------------------------------------------- */

/* Generic emitters; the named wrappers below are the usual spelling. */
void jit_unop(jit_ctx *c, jit_opc op, jit_temp d, jit_temp a);
void jit_binop(jit_ctx *c, jit_opc op, jit_temp d, jit_temp a, jit_temp b);
/* d = a op imm, with the constant in d's type */
void jit_binopi(jit_ctx *c, jit_opc op, jit_temp d, jit_temp a, int64_t imm);

static inline void jit_mov(jit_ctx *c, jit_temp d, jit_temp a) { jit_unop(c, JIT_OP_MOV, d, a); }
void jit_movi(jit_ctx *c, jit_temp d, uint64_t imm);

#define JIT_BINOP_(name, OP) \
    static inline void jit_##name(jit_ctx *c, jit_temp d, jit_temp a, jit_temp b) \
    { jit_binop(c, JIT_OP_##OP, d, a, b); } \
    static inline void jit_##name##i(jit_ctx *c, jit_temp d, jit_temp a, int64_t i) \
    { jit_binopi(c, JIT_OP_##OP, d, a, i); }
JIT_BINOP_(add, ADD)
JIT_BINOP_(sub, SUB)
JIT_BINOP_(mul, MUL)
JIT_BINOP_(mulh, MULH)
JIT_BINOP_(mulhu, MULHU)
JIT_BINOP_(mulhsu, MULHSU)
JIT_BINOP_(div, DIV)
JIT_BINOP_(divu, DIVU)
JIT_BINOP_(rem, REM)
JIT_BINOP_(remu, REMU)
JIT_BINOP_(and, AND)
JIT_BINOP_(or, OR)
JIT_BINOP_(xor, XOR)
JIT_BINOP_(shl, SHL)
JIT_BINOP_(shr, SHR)
JIT_BINOP_(sar, SAR)
JIT_BINOP_(rotl, ROTL)
JIT_BINOP_(rotr, ROTR)
#undef JIT_BINOP_

#define JIT_UNOP_(name, OP) \
    static inline void jit_##name(jit_ctx *c, jit_temp d, jit_temp a) \
    { jit_unop(c, JIT_OP_##OP, d, a); }
JIT_UNOP_(not, NOT)
JIT_UNOP_(neg, NEG)
JIT_UNOP_(clz, CLZ)
JIT_UNOP_(ctz, CTZ)
JIT_UNOP_(popcnt, POPCNT)
JIT_UNOP_(bswap, BSWAP)
JIT_UNOP_(ext8s, EXT8S)
JIT_UNOP_(ext8u, EXT8U)
JIT_UNOP_(ext16s, EXT16S)
JIT_UNOP_(ext16u, EXT16U)
JIT_UNOP_(ext32s, EXT32S)
JIT_UNOP_(ext32u, EXT32U)
JIT_UNOP_(trunc, TRUNC)
#undef JIT_UNOP_

/* d = (a cond b) ? 1 : 0;  a, b of one type, d i32 or i64 */
void jit_setcond(jit_ctx *c, jit_cond cond, jit_temp d, jit_temp a, jit_temp b);
/* d = (a cond b) ? t : f;  a, b of one type; d, t, f of one type */
void jit_movcond(jit_ctx *c, jit_cond cond, jit_temp d, jit_temp a, jit_temp b,
                 jit_temp t, jit_temp f);

/* ---- floating point ----------------------------------------------------------
 * d = a op b (FSQRT: d = sqrt(a); FMA: d = a * b + c, rounded once).  An i64
 * destination means binary64, an i32 one binary32; the operands are the bit
 * patterns, of the destination's type.  Rounding is to nearest, ties to even.
 * Results follow IEEE 754 with one rule of RISC-V's (and ARM's default-NaN
 * mode): a NaN result is always the canonical quiet NaN (0x7ff8000000000000 or
 * 0x7fc00000), never a propagated payload.  The exception flags (invalid,
 * divide by zero, overflow, underflow after rounding, inexact) accumulate in
 * the host's floating-point status (MXCSR / fenv), as if the host's IEEE
 * operation had been executed; for FMA, inf * 0 + c is invalid even when c is
 * a quiet NaN.  These ops are never folded or removed by the optimizer since
 * the flags are a side effect.  The front-end must run them only while the
 * host rounding mode is round-to-nearest-even. */
void jit_fop(jit_ctx *c, jit_opc op, jit_temp d, jit_temp a, jit_temp b, jit_temp cc);
/* JIT_OP_FMA with negations, rounded once: neg bit 0 gives -(a * b) + c, bit 1
 * a * b - c, both -(a * b) - c (the signs flipped exactly, as IEEE negate). */
void jit_fma(jit_ctx *c, jit_temp d, jit_temp a, jit_temp b, jit_temp cc, unsigned neg);

/* Comparison: d = (a cond b) ? 1 : 0 for cond JIT_EQ, JIT_LT or JIT_LE; a and b
 * are binary32 (i32) or binary64 (i64) bit patterns, d is i32 or i64.  A NaN
 * operand makes every comparison false; -0 == +0.  The invalid flag, per mode:
 * QUIET (IEEE compareQuiet*): only for a signaling NaN operand; SIGNALING
 * (compareSignaling*): for any NaN operand; NOFLAGS: never (no flag at all, for
 * a guest that discards the comparison's flags). */
typedef enum {
    JIT_FCMP_QUIET, JIT_FCMP_SIGNALING, JIT_FCMP_NOFLAGS,
} jit_fcmp_mode;
void jit_fcmp(jit_ctx *c, jit_cond cond, jit_fcmp_mode mode, jit_temp d, jit_temp a, jit_temp b);

/* d (binary32 if i32, binary64 if i64) = the signed integer a (i32 or i64),
 * rounded to nearest even; inexact when it is not exact. */
void jit_fcvt_from_int(jit_ctx *c, jit_temp d, jit_temp a);

/* d (a signed i32 or i64 integer) = the binary32 (i32) or binary64 (i64) a,
 * rounded toward zero (rtz) or to nearest even.  Saturating like RISC-V: a NaN or
 * a result above the range gives the largest value, below it the smallest, and
 * raises invalid (alone); otherwise inexact when the result is not exact. */
void jit_fcvt_to_int(jit_ctx *c, jit_temp d, jit_temp a, bool rtz);

/* Between the formats: d binary32 (i32) = the binary64 a rounded to nearest
 * even, or d binary64 (i64) = the binary32 a (exact).  A NaN gives the canonical
 * NaN; flags as IEEE (invalid for a signaling NaN, overflow, underflow, inexact). */
void jit_fcvt_float(jit_ctx *c, jit_temp d, jit_temp a);

/* d:i64 = the IEEE exception flags accrued in the host's floating-point status,
 * invalid 16, divide by zero 8, overflow 4, underflow 2, inexact 1 (RISC-V's
 * fflags order).  Reads only; the flags stay set. */
void jit_fflags(jit_ctx *c, jit_temp d);

/* ---- memory ------------------------------------------------------------------- */

/* Guest load: d = extend(mem[addr + disp]).  addr is i64 (or i32 for a 32-bit
 * guest, where addr + disp wraps at 32 bits).  Guest byte order is the
 * front-end's (jit_frontend.big_endian) unless JIT_MO_BSWAP. */
void jit_qld(jit_ctx *c, jit_temp d, jit_temp addr, int32_t disp, unsigned memop);
/* Guest store of the low (1 << (memop & JIT_MO_SIZE)) bytes of v. */
void jit_qst(jit_ctx *c, jit_temp v, jit_temp addr, int32_t disp, unsigned memop);

/* Host memory: d = extend(*(base + offset)), host byte order.  base is a JIT_PTR
 * temp, usually jit_env().  A front-end must not reach a global's field this way
 * (use the global temp); the engine checks this for env. */
void jit_ld(jit_ctx *c, jit_temp d, jit_temp base, int32_t offset, unsigned memop);
void jit_st(jit_ctx *c, jit_temp v, jit_temp base, int32_t offset, unsigned memop);

/* Guest atomics, sequentially consistent, naturally aligned (a misaligned
 * address ends the block with JIT_EXIT_FAULT, fault_kind JIT_FAULT_MISALIGNED).
 * memop size is 32 or 64 bits; d receives the old value extended per memop.
 *   cmpxchg: old = *p; if (old == cmp) *p = v;  (cmp compared after extension)
 *   rmw:     old = *p; *p = old op v;           (min/max compare at memop size) */
void jit_atomic_cmpxchg(jit_ctx *c, jit_temp d, jit_temp addr, jit_temp cmp,
                        jit_temp v, unsigned memop);
void jit_atomic_rmw(jit_ctx *c, jit_amo op, jit_temp d, jit_temp addr, jit_temp v,
                    unsigned memop);

/* ---- helper calls ------------------------------------------------------------- */

/* ret = h->fn(args...); ret may be JIT_NO_TEMP for a void helper.  Arguments and
 * the result are i32, i64 or ptr temps (i32 passed zero-extended). */
void jit_call(jit_ctx *c, const jit_helper *h, jit_temp ret, unsigned nargs,
              const jit_temp *args);

/* ---- guest instruction markers ------------------------------------------------- */

/* Marks the start of the guest instruction at pc.  Every guest instruction of the
 * block begins with one; it is how faults and MAY_EXIT helpers know the guest pc,
 * and it is what `-d op` prints between instructions. */
void jit_insn_start(jit_ctx *c, uint64_t pc);

/* ---- block exits ---------------------------------------------------------------
 * Each of these ends a path through the block; ops after one are reachable only
 * through a label.  Dirty globals are written back first. */

/* Continue at guest pc (a constant), under the same flags, through chaining slot
 * 0 .. JIT_TB_SLOTS-1 (one slot per exit of a block): the first execution goes
 * through the engine, later ones jump directly to the target block.  A goto_tb
 * to the block's own pc is a loop: the native backend jumps back inside the
 * block's code. */
#define JIT_TB_SLOTS 8
void jit_goto_tb(jit_ctx *c, unsigned slot, uint64_t pc);
/* Continue at the guest pc held in temp pc (indirect jump, return), looked up in
 * a hash table from generated code; only a miss leaves generated code. */
void jit_goto_ptr(jit_ctx *c, jit_temp pc);
/* Leave to jit_exec's caller: cpu->pc = pc (a temp; use jit_const for a fixed
 * one), cpu->exit_arg = arg, jit_exec returns reason. */
void jit_exit(jit_ctx *c, jit_exit_reason reason, jit_temp pc, jit_temp arg);

/* ---- block limits --------------------------------------------------------------- */

/* Number of guest instructions translated so far in this block, and whether the
 * block is full (the front-end then ends it with jit_goto_tb to the next pc). */
unsigned jit_insn_count(jit_ctx *c);
bool jit_block_full(jit_ctx *c);

/* Names for debug output and tests. */
const char *jit_op_name(jit_opc op);
const char *jit_cond_name(jit_cond cond);

#endif
