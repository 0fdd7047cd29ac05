/* IR construction: the functions of jit/ir.h, plus the op dump of `-d op`. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jit/internal.h"

static const char *const op_names[JIT_OP_COUNT] = {
    [JIT_OP_NOP] = "nop", [JIT_OP_INSN_START] = "insn_start", [JIT_OP_MOV] = "mov",
    [JIT_OP_ADD] = "add", [JIT_OP_SUB] = "sub", [JIT_OP_MUL] = "mul",
    [JIT_OP_MULH] = "mulh", [JIT_OP_MULHU] = "mulhu", [JIT_OP_MULHSU] = "mulhsu",
    [JIT_OP_DIV] = "div", [JIT_OP_DIVU] = "divu", [JIT_OP_REM] = "rem",
    [JIT_OP_REMU] = "remu", [JIT_OP_AND] = "and", [JIT_OP_OR] = "or",
    [JIT_OP_XOR] = "xor", [JIT_OP_SHL] = "shl", [JIT_OP_SHR] = "shr",
    [JIT_OP_SAR] = "sar", [JIT_OP_ROTL] = "rotl", [JIT_OP_ROTR] = "rotr",
    [JIT_OP_NOT] = "not", [JIT_OP_NEG] = "neg", [JIT_OP_CLZ] = "clz",
    [JIT_OP_CTZ] = "ctz", [JIT_OP_POPCNT] = "popcnt", [JIT_OP_BSWAP] = "bswap",
    [JIT_OP_EXT8S] = "ext8s", [JIT_OP_EXT8U] = "ext8u", [JIT_OP_EXT16S] = "ext16s",
    [JIT_OP_EXT16U] = "ext16u", [JIT_OP_EXT32S] = "ext32s", [JIT_OP_EXT32U] = "ext32u",
    [JIT_OP_TRUNC] = "trunc", [JIT_OP_SETCOND] = "setcond", [JIT_OP_MOVCOND] = "movcond",
    [JIT_OP_LABEL] = "label", [JIT_OP_BR] = "br", [JIT_OP_BRCOND] = "brcond",
    [JIT_OP_QLD] = "qld", [JIT_OP_QST] = "qst", [JIT_OP_LD] = "ld", [JIT_OP_ST] = "st",
    [JIT_OP_ATOMIC_CMPXCHG] = "cmpxchg", [JIT_OP_ATOMIC_RMW] = "rmw",
    [JIT_OP_CALL] = "call", [JIT_OP_GOTO_TB] = "goto_tb", [JIT_OP_GOTO_PTR] = "goto_ptr",
    [JIT_OP_EXIT] = "exit", [JIT_OP_FADD] = "fadd", [JIT_OP_FSUB] = "fsub",
    [JIT_OP_FMUL] = "fmul", [JIT_OP_FDIV] = "fdiv", [JIT_OP_FSQRT] = "fsqrt",
    [JIT_OP_FMA] = "fma", [JIT_OP_FCMP] = "fcmp", [JIT_OP_I2F] = "i2f", [JIT_OP_F2I] = "f2i",
    [JIT_OP_FFLAGS] = "fflags", [JIT_OP_F2F] = "f2f",
};

static const char *const cond_names[JIT_COND_COUNT] = {
    "eq", "ne", "lt", "ge", "le", "gt", "ltu", "geu", "leu", "gtu",
};

const char *jit_op_name(jit_opc op)
{
    return (unsigned)op < JIT_OP_COUNT && op_names[op] ? op_names[op] : "?";
}

const char *jit_cond_name(jit_cond cond)
{
    return (unsigned)cond < JIT_COND_COUNT ? cond_names[cond] : "?";
}

void jit_ctx_init(jit_ctx *c, jit_engine *e, jit_cpu *cpu, uint64_t pc, uint32_t flags,
                  unsigned max_insns)
{
    memset(c, 0, sizeof(*c));
    c->engine = e;
    c->cpu = cpu;
    c->fe = e->fe;
    c->pc = pc;
    c->flags = flags;
    c->max_insns = max_insns;
    c->code_lo = UINT64_MAX;
    c->code_hi = 0;
    /* reuse the engine's buffers (translation runs under e->lock): malloc of
     * tens of kilobytes per block was a tenth of start-up time */
    if (e->spare_ops) {
        c->ops = e->spare_ops;
        c->ops_cap = e->spare_ops_cap;
        c->temps = e->spare_temps;
        c->temps_cap = e->spare_temps_cap;
        e->spare_ops = NULL;
        e->spare_temps = NULL;
    } else {
        c->temps_cap = e->fe->nglobals + 256;
        c->temps = malloc(c->temps_cap * sizeof(*c->temps));
        c->ops_cap = 1024;
        c->ops = malloc(c->ops_cap * sizeof(*c->ops));
    }
    if (!c->temps || !c->ops) {
        c->error = true;
        c->temps_cap = c->ops_cap = 0;
        return;
    }
    for (unsigned i = 0; i < e->fe->nglobals; i++)
        c->temps[i] = (jit_tinfo){ TEMP_GLOBAL, (uint8_t)e->fe->globals[i].type, 0 };
    c->temps[e->fe->nglobals] = (jit_tinfo){ TEMP_ENV, JIT_PTR, 0 };
    c->ntemps = e->fe->nglobals + 1;
}

void jit_ctx_free(jit_ctx *c)
{
    jit_engine *e = c->engine;
    if (e && !e->spare_ops && c->ops && c->temps) {
        e->spare_ops = c->ops;
        e->spare_ops_cap = c->ops_cap;
        e->spare_temps = c->temps;
        e->spare_temps_cap = c->temps_cap;
    } else {
        free(c->ops);
        free(c->temps);
    }
    c->ops = NULL;
    c->temps = NULL;
}

static jit_temp temp_add(jit_ctx *c, uint8_t kind, jit_type type, uint64_t val)
{
    if (c->ntemps == c->temps_cap) {
        unsigned cap = c->temps_cap ? c->temps_cap * 2 : 256;
        jit_tinfo *t = realloc(c->temps, cap * sizeof(*t));
        if (!t) {
            c->error = true;
            return 0;
        }
        c->temps = t;
        c->temps_cap = cap;
    }
    if (type == JIT_I32)
        val = (uint32_t)val;
    c->temps[c->ntemps] = (jit_tinfo){ kind, (uint8_t)type, val };
    return c->ntemps++;
}

jit_temp jit_env(jit_ctx *c) { return c->fe->nglobals; }
jit_temp jit_temp_new(jit_ctx *c, jit_type type) { return temp_add(c, TEMP_LOCAL, type, 0); }

jit_temp jit_const(jit_ctx *c, jit_type type, uint64_t value)
{
    /* reuse a recent identical constant: keeps blocks small */
    for (unsigned i = c->ntemps, n = 0; i-- > c->fe->nglobals + 1 && n < 8; n++)
        if (c->temps[i].kind == TEMP_CONST && c->temps[i].type == type &&
            c->temps[i].val == (type == JIT_I32 ? (uint32_t)value : value))
            return i;
    return temp_add(c, TEMP_CONST, type, value);
}

jit_type jit_temp_type(jit_ctx *c, jit_temp t)
{
    if (t >= c->ntemps) {
        c->error = true;
        return JIT_I64;
    }
    return (jit_type)c->temps[t].type;
}

jit_op *jit_emit(jit_ctx *c, jit_opc opc, jit_type type)
{
    static jit_op dummy;
    if (c->nops == c->ops_cap) {
        unsigned cap = c->ops_cap ? c->ops_cap * 2 : 1024;
        jit_op *o = realloc(c->ops, cap * sizeof(*o));
        if (!o) {
            c->error = true;
            return &dummy;
        }
        c->ops = o;
        c->ops_cap = cap;
    }
    jit_op *op = &c->ops[c->nops++];
    memset(op, 0, sizeof(*op));
    op->opc = (uint8_t)opc;
    op->type = (uint8_t)type;
    for (unsigned i = 0; i < JIT_OP_MAX_ARGS; i++)
        op->a[i] = JIT_NO_TEMP;
    return op;
}

static bool valid(jit_ctx *c, jit_temp t)
{
    if (t >= c->ntemps) {
        c->error = true;
        return false;
    }
    return true;
}

/* a temp that may be written: not a constant nor env */
static bool writable(jit_ctx *c, jit_temp t)
{
    if (!valid(c, t) || c->temps[t].kind == TEMP_CONST || c->temps[t].kind == TEMP_ENV) {
        c->error = true;
        return false;
    }
    return true;
}

static void expect_type(jit_ctx *c, jit_temp t, jit_type ty)
{
    if (!valid(c, t) || c->temps[t].type != ty)
        c->error = true;
}

bool jit_op_is_binop(jit_opc op) { return op >= JIT_OP_ADD && op <= JIT_OP_ROTR; }
bool jit_op_is_unop(jit_opc op) { return op == JIT_OP_MOV || (op >= JIT_OP_NOT && op <= JIT_OP_TRUNC); }

void jit_unop(jit_ctx *c, jit_opc opc, jit_temp d, jit_temp a)
{
    if (!jit_op_is_unop(opc) || !writable(c, d) || !valid(c, a)) {
        c->error = true;
        return;
    }
    jit_type td = c->temps[d].type, ta = c->temps[a].type;
    if (opc == JIT_OP_EXT32S || opc == JIT_OP_EXT32U) {
        if (td != JIT_I64 || ta == JIT_PTR)
            c->error = true;
    } else if (opc == JIT_OP_TRUNC) {
        if (td != JIT_I32 || ta != JIT_I64)
            c->error = true;
    } else if (td != ta) {
        c->error = true;
    }
    jit_op *op = jit_emit(c, opc, td);
    op->a[0] = d;
    op->a[1] = a;
    op->type = (uint8_t)(opc == JIT_OP_EXT32S || opc == JIT_OP_EXT32U || opc == JIT_OP_TRUNC
                         ? ta : td);
}

void jit_binop(jit_ctx *c, jit_opc opc, jit_temp d, jit_temp a, jit_temp b)
{
    if (!jit_op_is_binop(opc) || !writable(c, d)) {
        c->error = true;
        return;
    }
    jit_type t = c->temps[d].type;
    expect_type(c, a, t);
    expect_type(c, b, t);
    jit_op *op = jit_emit(c, opc, t);
    op->a[0] = d;
    op->a[1] = a;
    op->a[2] = b;
}

void jit_fop(jit_ctx *c, jit_opc opc, jit_temp d, jit_temp a, jit_temp b, jit_temp cc)
{
    if (opc < JIT_OP_FADD || opc > JIT_OP_FMA || !writable(c, d) ||
        c->temps[d].type == JIT_PTR) {
        c->error = true;
        return;
    }
    jit_type t = c->temps[d].type;
    expect_type(c, a, t);
    if (opc != JIT_OP_FSQRT)
        expect_type(c, b, t);
    if (opc == JIT_OP_FMA)
        expect_type(c, cc, t);
    jit_op *op = jit_emit(c, opc, t);
    op->a[0] = d;
    op->a[1] = a;
    op->a[2] = opc == JIT_OP_FSQRT ? JIT_NO_TEMP : b;
    op->a[3] = opc == JIT_OP_FMA ? cc : JIT_NO_TEMP;
}

static bool is_int_type(jit_ctx *c, jit_temp t)
{
    return valid(c, t) && c->temps[t].type != JIT_PTR;
}

void jit_fcmp(jit_ctx *c, jit_cond cond, jit_fcmp_mode mode, jit_temp d, jit_temp a, jit_temp b)
{
    if ((cond != JIT_EQ && cond != JIT_LT && cond != JIT_LE) || mode > JIT_FCMP_NOFLAGS ||
        !writable(c, d) || c->temps[d].type == JIT_PTR || !is_int_type(c, a)) {
        c->error = true;
        return;
    }
    jit_type t = c->temps[a].type;
    expect_type(c, b, t);
    jit_op *op = jit_emit(c, JIT_OP_FCMP, t);
    op->cond = (uint8_t)cond;
    op->memop = (uint16_t)mode;
    op->a[0] = d;
    op->a[1] = a;
    op->a[2] = b;
}

/* type = the destination's; memop = the source's size (JIT_MO_32 or _64) */
void jit_fcvt_from_int(jit_ctx *c, jit_temp d, jit_temp a)
{
    if (!writable(c, d) || c->temps[d].type == JIT_PTR || !is_int_type(c, a)) {
        c->error = true;
        return;
    }
    jit_op *op = jit_emit(c, JIT_OP_I2F, (jit_type)c->temps[d].type);
    op->memop = c->temps[a].type == JIT_I64 ? JIT_MO_64 : JIT_MO_32;
    op->a[0] = d;
    op->a[1] = a;
}

/* cond = 1 for round toward zero, 0 for nearest even */
void jit_fcvt_to_int(jit_ctx *c, jit_temp d, jit_temp a, bool rtz)
{
    if (!writable(c, d) || c->temps[d].type == JIT_PTR || !is_int_type(c, a)) {
        c->error = true;
        return;
    }
    jit_op *op = jit_emit(c, JIT_OP_F2I, (jit_type)c->temps[d].type);
    op->memop = c->temps[a].type == JIT_I64 ? JIT_MO_64 : JIT_MO_32;
    op->cond = rtz;
    op->a[0] = d;
    op->a[1] = a;
}

void jit_fcvt_float(jit_ctx *c, jit_temp d, jit_temp a)
{
    if (!writable(c, d) || c->temps[d].type == JIT_PTR || !is_int_type(c, a) ||
        c->temps[a].type == c->temps[d].type) {
        c->error = true;
        return;
    }
    jit_op *op = jit_emit(c, JIT_OP_F2F, (jit_type)c->temps[d].type);
    op->a[0] = d;
    op->a[1] = a;
}

void jit_fflags(jit_ctx *c, jit_temp d)
{
    if (!writable(c, d) || c->temps[d].type != JIT_I64) {
        c->error = true;
        return;
    }
    jit_op *op = jit_emit(c, JIT_OP_FFLAGS, JIT_I64);
    op->a[0] = d;
}

/* memop = the negations */
void jit_fma(jit_ctx *c, jit_temp d, jit_temp a, jit_temp b, jit_temp cc, unsigned neg)
{
    unsigned n = c->nops;
    jit_fop(c, JIT_OP_FMA, d, a, b, cc);
    if (c->nops == n + 1)
        c->ops[n].memop = (uint16_t)(neg & 3);
}

void jit_binopi(jit_ctx *c, jit_opc opc, jit_temp d, jit_temp a, int64_t imm)
{
    if (!valid(c, d))
        return;
    jit_binop(c, opc, d, a, jit_const(c, c->temps[d].type, (uint64_t)imm));
}

void jit_movi(jit_ctx *c, jit_temp d, uint64_t imm)
{
    if (!valid(c, d))
        return;
    jit_mov(c, d, jit_const(c, c->temps[d].type, imm));
}

void jit_setcond(jit_ctx *c, jit_cond cond, jit_temp d, jit_temp a, jit_temp b)
{
    if (!writable(c, d) || !valid(c, a) || (unsigned)cond >= JIT_COND_COUNT ||
        c->temps[d].type == JIT_PTR) {
        c->error = true;
        return;
    }
    jit_type t = c->temps[a].type;
    expect_type(c, b, t);
    jit_op *op = jit_emit(c, JIT_OP_SETCOND, t);
    op->cond = (uint8_t)cond;
    op->a[0] = d;
    op->a[1] = a;
    op->a[2] = b;
}

void jit_movcond(jit_ctx *c, jit_cond cond, jit_temp d, jit_temp a, jit_temp b,
                 jit_temp t, jit_temp f)
{
    if (!writable(c, d) || !valid(c, a) || (unsigned)cond >= JIT_COND_COUNT) {
        c->error = true;
        return;
    }
    jit_type ty = c->temps[a].type, td = c->temps[d].type;
    expect_type(c, b, ty);
    expect_type(c, t, td);
    expect_type(c, f, td);
    jit_op *op = jit_emit(c, JIT_OP_MOVCOND, ty);
    op->cond = (uint8_t)cond;
    op->a[0] = d;
    op->a[1] = a;
    op->a[2] = b;
    op->a[3] = t;
    op->a[4] = f;
}

jit_label jit_label_new(jit_ctx *c) { return c->nlabels++; }

void jit_label_set(jit_ctx *c, jit_label l)
{
    if (l >= c->nlabels)
        c->error = true;
    jit_op *op = jit_emit(c, JIT_OP_LABEL, JIT_I64);
    op->imm = l;
}

jit_label jit_label_at_insn(jit_ctx *c, uint64_t pc)
{
    for (unsigned i = 0; i < c->nops; i++) {
        if (c->ops[i].opc != JIT_OP_INSN_START || (uint64_t)c->ops[i].imm != pc)
            continue;
        if (i > 0 && c->ops[i - 1].opc == JIT_OP_LABEL)
            return (jit_label)c->ops[i - 1].imm;
        jit_label l = jit_label_new(c);
        jit_emit(c, JIT_OP_NOP, JIT_I64);      /* room for one more op */
        if (c->error)
            return JIT_NO_LABEL;
        memmove(&c->ops[i + 1], &c->ops[i], (c->nops - 1 - i) * sizeof(jit_op));
        jit_op *op = &c->ops[i];
        memset(op, 0, sizeof(*op));
        op->opc = JIT_OP_LABEL;
        op->type = JIT_I64;
        for (unsigned k = 0; k < JIT_OP_MAX_ARGS; k++)
            op->a[k] = JIT_NO_TEMP;
        op->imm = l;
        return l;
    }
    return JIT_NO_LABEL;
}

void jit_br(jit_ctx *c, jit_label l)
{
    if (l >= c->nlabels)
        c->error = true;
    jit_op *op = jit_emit(c, JIT_OP_BR, JIT_I64);
    op->imm = l;
}

void jit_brcond(jit_ctx *c, jit_cond cond, jit_temp a, jit_temp b, jit_label l)
{
    if (l >= c->nlabels || !valid(c, a) || (unsigned)cond >= JIT_COND_COUNT) {
        c->error = true;
        return;
    }
    jit_type t = c->temps[a].type;
    expect_type(c, b, t);
    jit_op *op = jit_emit(c, JIT_OP_BRCOND, t);
    op->cond = (uint8_t)cond;
    op->a[0] = a;
    op->a[1] = b;
    op->imm = l;
}

static void check_memop(jit_ctx *c, jit_type t, unsigned memop)
{
    if (memop & ~15u)
        c->error = true;
    if (t == JIT_I32 && (memop & JIT_MO_SIZE) == JIT_MO_64)
        c->error = true;
}

static jit_type addr_type(jit_ctx *c)
{
    return c->fe->addr_bits == 32 ? JIT_I32 : JIT_I64;
}

void jit_qld(jit_ctx *c, jit_temp d, jit_temp addr, int32_t disp, unsigned memop)
{
    if (!writable(c, d))
        return;
    jit_type t = c->temps[d].type;
    check_memop(c, t, memop);
    expect_type(c, addr, addr_type(c));
    jit_op *op = jit_emit(c, JIT_OP_QLD, t);
    op->a[0] = d;
    op->a[1] = addr;
    op->imm = disp;
    op->memop = (uint16_t)memop;
}

void jit_qst(jit_ctx *c, jit_temp v, jit_temp addr, int32_t disp, unsigned memop)
{
    if (!valid(c, v))
        return;
    jit_type t = c->temps[v].type;
    check_memop(c, t, memop);
    expect_type(c, addr, addr_type(c));
    jit_op *op = jit_emit(c, JIT_OP_QST, t);
    op->a[0] = v;
    op->a[1] = addr;
    op->imm = disp;
    op->memop = (uint16_t)memop;
}

/* A host access through env must not touch a global's field: the register
 * allocator would not see it. */
static void check_env_access(jit_ctx *c, jit_temp base, int32_t off, unsigned memop)
{
    if (c->temps[base].kind != TEMP_ENV)
        return;
    int64_t lo = off, hi = off + (1 << (memop & JIT_MO_SIZE));
    for (unsigned i = 0; i < c->fe->nglobals; i++) {
        int64_t glo = c->fe->globals[i].offset;
        int64_t ghi = glo + (c->fe->globals[i].type == JIT_I32 ? 4 : 8);
        if (lo < ghi && glo < hi)
            c->error = true;
    }
}

void jit_ld(jit_ctx *c, jit_temp d, jit_temp base, int32_t offset, unsigned memop)
{
    if (!writable(c, d))
        return;
    jit_type t = c->temps[d].type;
    check_memop(c, t == JIT_PTR ? JIT_I64 : t, memop);
    expect_type(c, base, JIT_PTR);
    if (c->error)
        return;
    check_env_access(c, base, offset, memop);
    jit_op *op = jit_emit(c, JIT_OP_LD, t);
    op->a[0] = d;
    op->a[1] = base;
    op->imm = offset;
    op->memop = (uint16_t)(memop & ~JIT_MO_BSWAP);
}

void jit_st(jit_ctx *c, jit_temp v, jit_temp base, int32_t offset, unsigned memop)
{
    if (!valid(c, v))
        return;
    jit_type t = c->temps[v].type;
    check_memop(c, t == JIT_PTR ? JIT_I64 : t, memop);
    expect_type(c, base, JIT_PTR);
    if (c->error)
        return;
    check_env_access(c, base, offset, memop);
    jit_op *op = jit_emit(c, JIT_OP_ST, t);
    op->a[0] = v;
    op->a[1] = base;
    op->imm = offset;
    op->memop = (uint16_t)(memop & ~JIT_MO_BSWAP);
}

static void check_atomic(jit_ctx *c, jit_temp d, jit_temp addr, unsigned memop)
{
    unsigned sz = memop & JIT_MO_SIZE;
    if (!writable(c, d) || (sz != JIT_MO_32 && sz != JIT_MO_64))
        c->error = true;
    else
        check_memop(c, c->temps[d].type, memop);
    expect_type(c, addr, addr_type(c));
}

void jit_atomic_cmpxchg(jit_ctx *c, jit_temp d, jit_temp addr, jit_temp cmp,
                        jit_temp v, unsigned memop)
{
    check_atomic(c, d, addr, memop);
    if (c->error)
        return;
    jit_type t = c->temps[d].type;
    expect_type(c, cmp, t);
    expect_type(c, v, t);
    jit_op *op = jit_emit(c, JIT_OP_ATOMIC_CMPXCHG, t);
    op->a[0] = d;
    op->a[1] = addr;
    op->a[2] = cmp;
    op->a[3] = v;
    op->memop = (uint16_t)memop;
    op->imm = (int64_t)c->cur_insn_pc;
}

void jit_atomic_rmw(jit_ctx *c, jit_amo amo, jit_temp d, jit_temp addr, jit_temp v,
                    unsigned memop)
{
    check_atomic(c, d, addr, memop);
    if (c->error || (unsigned)amo >= JIT_AMO_COUNT) {
        c->error = true;
        return;
    }
    jit_type t = c->temps[d].type;
    expect_type(c, v, t);
    jit_op *op = jit_emit(c, JIT_OP_ATOMIC_RMW, t);
    op->a[0] = d;
    op->a[1] = addr;
    op->a[2] = v;
    op->memop = (uint16_t)(memop | (amo << 4));
    op->imm = (int64_t)c->cur_insn_pc;
}

void jit_call(jit_ctx *c, const jit_helper *h, jit_temp ret, unsigned nargs,
              const jit_temp *args)
{
    if (!h || !h->fn || nargs > JIT_MAX_CALL_ARGS) {
        c->error = true;
        return;
    }
    if (ret != JIT_NO_TEMP && !writable(c, ret))
        return;
    for (unsigned i = 0; i < nargs; i++)
        if (!valid(c, args[i]))
            return;
    jit_op *op = jit_emit(c, JIT_OP_CALL, ret == JIT_NO_TEMP ? JIT_I64 : c->temps[ret].type);
    op->helper = h;
    op->nargs = (uint8_t)nargs;
    op->a[0] = ret;
    for (unsigned i = 0; i < nargs; i++)
        op->a[1 + i] = args[i];
    op->imm = (int64_t)c->cur_insn_pc;
}

void jit_insn_start(jit_ctx *c, uint64_t pc)
{
    jit_op *op = jit_emit(c, JIT_OP_INSN_START, JIT_I64);
    op->imm = (int64_t)pc;
    c->cur_insn_pc = pc;
    c->ninsns++;
}

void jit_goto_tb(jit_ctx *c, unsigned slot, uint64_t pc)
{
    if (slot >= JIT_TB_SLOTS)
        c->error = true;
    jit_op *op = jit_emit(c, JIT_OP_GOTO_TB, JIT_I64);
    op->memop = (uint16_t)(slot % JIT_TB_SLOTS);
    op->imm = (int64_t)pc;
}

void jit_goto_ptr(jit_ctx *c, jit_temp pc)
{
    expect_type(c, pc, addr_type(c));
    jit_op *op = jit_emit(c, JIT_OP_GOTO_PTR, JIT_I64);
    op->a[0] = pc;
}

void jit_exit(jit_ctx *c, jit_exit_reason reason, jit_temp pc, jit_temp arg)
{
    expect_type(c, pc, addr_type(c));
    if (!valid(c, arg) || c->temps[arg].type == JIT_PTR || reason <= JIT_EXIT_NONE ||
        reason >= JIT_EXIT_COUNT) {
        c->error = true;
        return;
    }
    jit_op *op = jit_emit(c, JIT_OP_EXIT, (jit_type)c->temps[arg].type);
    op->memop = (uint16_t)reason;
    op->a[0] = pc;
    op->a[1] = arg;
}

unsigned jit_insn_count(jit_ctx *c) { return c->ninsns; }
bool jit_block_full(jit_ctx *c) { return c->ninsns >= c->max_insns || c->nops > 16000; }

/* ---- operand roles ---- */

bool jit_op_has_def(const jit_op *op)
{
    switch (op->opc) {
    case JIT_OP_QST: case JIT_OP_ST: case JIT_OP_BRCOND: case JIT_OP_GOTO_PTR:
    case JIT_OP_EXIT: case JIT_OP_NOP: case JIT_OP_INSN_START: case JIT_OP_LABEL:
    case JIT_OP_BR: case JIT_OP_GOTO_TB:
        return false;
    case JIT_OP_CALL:
        return op->a[0] != JIT_NO_TEMP;
    default:
        return true;
    }
}

/* The used operands are a[first .. first+n). */
unsigned jit_op_nuses(const jit_op *op, unsigned *first)
{
    *first = 1;
    switch (op->opc) {
    case JIT_OP_MOV: case JIT_OP_NOT: case JIT_OP_NEG: case JIT_OP_CLZ: case JIT_OP_CTZ:
    case JIT_OP_POPCNT: case JIT_OP_BSWAP: case JIT_OP_EXT8S: case JIT_OP_EXT8U:
    case JIT_OP_EXT16S: case JIT_OP_EXT16U: case JIT_OP_EXT32S: case JIT_OP_EXT32U:
    case JIT_OP_TRUNC: case JIT_OP_QLD: case JIT_OP_LD: case JIT_OP_FSQRT:
    case JIT_OP_I2F: case JIT_OP_F2I: case JIT_OP_F2F:
        return 1;
    case JIT_OP_FADD: case JIT_OP_FSUB: case JIT_OP_FMUL: case JIT_OP_FDIV: case JIT_OP_FCMP:
        return 2;
    case JIT_OP_FFLAGS:
        return 0;
    case JIT_OP_FMA:
        return 3;
    case JIT_OP_SETCOND: case JIT_OP_ATOMIC_RMW:
        return 2;
    case JIT_OP_MOVCOND:
        return 4;
    case JIT_OP_ATOMIC_CMPXCHG:
        return 3;
    case JIT_OP_QST: case JIT_OP_ST: case JIT_OP_BRCOND: case JIT_OP_EXIT:
        *first = 0;
        return 2;
    case JIT_OP_GOTO_PTR:
        *first = 0;
        return 1;
    case JIT_OP_CALL:
        return op->nargs;
    default:
        if (jit_op_is_binop((jit_opc)op->opc))
            return 2;
        *first = 0;
        return 0;
    }
}

void jit_check_back_branches(jit_ctx *c)
{
    bool *seen = calloc(c->nlabels + 1, 1);
    c->has_back_branch = false;
    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_LABEL && seen)
            seen[op->imm] = true;
        else if ((op->opc == JIT_OP_BR || op->opc == JIT_OP_BRCOND) && (!seen || seen[op->imm]))
            c->has_back_branch = true;
    }
    free(seen);
}

/* ---- dump ---- */

static void dump_temp(jit_ctx *c, FILE *f, jit_temp t)
{
    if (t == JIT_NO_TEMP) {
        fputs("-", f);
        return;
    }
    if (t >= c->ntemps) {
        fprintf(f, "?%u", t);
        return;
    }
    jit_tinfo *ti = &c->temps[t];
    switch (ti->kind) {
    case TEMP_GLOBAL: fputs(c->fe->globals[t].name, f); break;
    case TEMP_ENV: fputs("env", f); break;
    case TEMP_CONST: fprintf(f, "$0x%" PRIx64, ti->val); break;
    default: fprintf(f, "%s%u", ti->type == JIT_I32 ? "w" : ti->type == JIT_PTR ? "p" : "t", t);
    }
}

void jit_dump_ops(jit_ctx *c, FILE *f)
{
    static const char *tn[] = { "i32", "i64", "ptr" };
    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_NOP)
            continue;
        if (op->opc == JIT_OP_INSN_START) {
            fprintf(f, " ---- %016" PRIx64 "\n", (uint64_t)op->imm);
            continue;
        }
        if (op->opc == JIT_OP_LABEL) {
            fprintf(f, " L%u:\n", (unsigned)op->imm);
            continue;
        }
        fprintf(f, "  %s_%s", jit_op_name((jit_opc)op->opc), tn[op->type % 3]);
        if (op->opc == JIT_OP_SETCOND || op->opc == JIT_OP_MOVCOND || op->opc == JIT_OP_BRCOND ||
            op->opc == JIT_OP_FCMP)
            fprintf(f, ".%s", jit_cond_name((jit_cond)op->cond));
        if (op->opc == JIT_OP_FCMP)
            fputs(op->memop == JIT_FCMP_QUIET ? ".quiet" :
                  op->memop == JIT_FCMP_SIGNALING ? ".signaling" : ".noflags", f);
        if (op->opc == JIT_OP_FMA && op->memop)
            fprintf(f, ".neg%u", op->memop);
        if (op->opc == JIT_OP_I2F || op->opc == JIT_OP_F2I)
            fprintf(f, ".from%u%s", 8u << op->memop, op->opc == JIT_OP_F2I && op->cond ? ".rtz" : "");
        fputc(' ', f);
        unsigned first, n = jit_op_nuses(op, &first);
        bool comma = false;
        if (jit_op_has_def(op)) {
            dump_temp(c, f, op->a[0]);
            comma = true;
        }
        for (unsigned k = 0; k < n; k++) {
            if (comma)
                fputs(", ", f);
            dump_temp(c, f, op->a[first + k]);
            comma = true;
        }
        switch (op->opc) {
        case JIT_OP_BR: case JIT_OP_BRCOND:
            fprintf(f, "%sL%u", comma ? ", " : "", (unsigned)op->imm);
            break;
        case JIT_OP_QLD: case JIT_OP_QST: case JIT_OP_LD: case JIT_OP_ST:
            fprintf(f, ", %+" PRId64 ", mo=%u", op->imm, op->memop);
            break;
        case JIT_OP_ATOMIC_CMPXCHG: case JIT_OP_ATOMIC_RMW:
            fprintf(f, ", mo=%u", op->memop);
            break;
        case JIT_OP_CALL:
            fprintf(f, "%s%s", comma ? ", " : "", op->helper->name ? op->helper->name : "?");
            break;
        case JIT_OP_GOTO_TB:
            fprintf(f, "%u, 0x%" PRIx64, op->memop, (uint64_t)op->imm);
            break;
        case JIT_OP_EXIT:
            fprintf(f, ", %s", jit_exit_name((jit_exit_reason)op->memop));
            break;
        default:
            break;
        }
        fputc('\n', f);
    }
}
