/* The optimizer: one forward pass of constant folding, constant propagation
 * and copy propagation over extended basic blocks (knowledge survives a
 * conditional branch's fall-through and is dropped at every label), then one
 * backward liveness pass that removes ops whose results nobody reads.
 *
 * Folding evaluates with jit/eval.c, the same code the interpreter runs, so a
 * folded op means exactly what the unfolded op would have computed. */
#include <stdlib.h>
#include <string.h>

#include "jit/internal.h"

int jit_opt_disabled;

typedef struct know {
    uint32_t *ver;          /* bumped at every definition of a temp */
    uint8_t *is_const;
    uint64_t *cval;
    jit_temp *copy;         /* temp whose value this one holds, or NO_TEMP */
    uint32_t *copy_ver;     /* version of copy[] when recorded */
    uint8_t *bits;          /* i64 temps: KB_* facts about the value */
    unsigned n;
} know;

static bool is_const_t(jit_ctx *c, jit_temp t)
{
    return t != JIT_NO_TEMP && c->temps[t].kind == TEMP_CONST;
}

/* Known facts about an i64 value, so that sign/zero extensions of values that
 * are already extended become moves (RISC-V's *W results feed more *W ops). */
enum {
    KB_S = 1,       /* equals the sign extension of its low 32 bits */
    KB_Z = 2,       /* upper 32 bits zero */
    KB_P = 3,       /* both: 0 <= value < 2^31 */
};

static void forget(know *k, jit_temp t)
{
    k->ver[t]++;
    k->is_const[t] = 0;
    k->copy[t] = JIT_NO_TEMP;
    k->bits[t] = 0;
}

static uint8_t const_bits(uint64_t v)
{
    return (uint8_t)(((int64_t)v == (int32_t)v ? KB_S : 0) | (v >> 32 == 0 ? KB_Z : 0));
}

static uint8_t bits_of(know *k, jit_ctx *c, jit_temp t)
{
    if (t == JIT_NO_TEMP || t >= k->n)
        return 0;
    if (c->temps[t].kind == TEMP_CONST)
        return const_bits(c->temps[t].val);
    return c->temps[t].kind == TEMP_ENV ? 0 : k->bits[t];
}

/* What an i64 op's result is known to be, from its operands' facts. */
static uint8_t result_bits(know *k, jit_ctx *c, const jit_op *op)
{
    uint8_t a = bits_of(k, c, op->a[1]), b = bits_of(k, c, op->a[2]);
    uint64_t sh = is_const_t(c, op->a[2]) ? c->temps[op->a[2]].val & 63 : 0;
    switch (op->opc) {
    case JIT_OP_MOV: return a;
    case JIT_OP_EXT8S: case JIT_OP_EXT16S: case JIT_OP_EXT32S: return KB_S;
    case JIT_OP_EXT8U: case JIT_OP_EXT16U: case JIT_OP_SETCOND: return KB_P;
    case JIT_OP_EXT32U: return KB_Z;
    case JIT_OP_AND:
        if (a == KB_P || b == KB_P)
            return KB_P;
        return (uint8_t)(((a | b) & KB_Z) | (a & b & KB_S));
    case JIT_OP_OR: case JIT_OP_XOR: return a & b;
    case JIT_OP_NEG: return a == KB_P ? KB_S : 0;
    case JIT_OP_SHR:
        if (sh >= 33 || (sh >= 1 && (a & KB_Z)))
            return KB_P;
        return sh >= 32 ? KB_Z : 0;
    case JIT_OP_SAR: return sh ? a & KB_S : 0;
    case JIT_OP_QLD:
        if ((op->memop & JIT_MO_SIZE) == JIT_MO_64 || (op->memop & JIT_MO_BSWAP))
            return 0;
        if (op->memop & JIT_MO_SIGN)
            return KB_S;
        return (op->memop & JIT_MO_SIZE) == JIT_MO_32 ? KB_Z : KB_P;
    default: return 0;
    }
}

static void forget_all(know *k, jit_ctx *c, bool globals_only)
{
    for (unsigned t = 0; t < k->n; t++) {
        uint8_t kind = c->temps[t].kind;
        if (kind == TEMP_GLOBAL || (!globals_only && kind == TEMP_LOCAL))
            forget(k, t);
    }
}

/* the value a use of t can be replaced with */
static jit_temp subst(know *k, jit_ctx *c, jit_temp t)
{
    if (t == JIT_NO_TEMP || t >= k->n)
        return t;
    uint8_t kind = c->temps[t].kind;
    if (kind != TEMP_LOCAL && kind != TEMP_GLOBAL)
        return t;
    if (k->is_const[t])
        return jit_const(c, (jit_type)c->temps[t].type, k->cval[t]);
    jit_temp s = k->copy[t];
    if (s != JIT_NO_TEMP && k->ver[s] == k->copy_ver[t])
        return s;
    return t;
}

static bool is_const(jit_ctx *c, jit_temp t)
{
    return t != JIT_NO_TEMP && c->temps[t].kind == TEMP_CONST;
}

static uint64_t cv(jit_ctx *c, jit_temp t) { return c->temps[t].val; }

static void make_mov(jit_ctx *c, jit_op *op, jit_temp src)
{
    jit_temp d = op->a[0];
    op->opc = JIT_OP_MOV;
    op->type = c->temps[d].type;
    op->a[1] = src;
    for (unsigned i = 2; i < JIT_OP_MAX_ARGS; i++)
        op->a[i] = JIT_NO_TEMP;
}

static void make_movi(jit_ctx *c, jit_op *op, uint64_t v)
{
    make_mov(c, op, jit_const(c, (jit_type)c->temps[op->a[0]].type, v));
}

/* algebraic identities with one constant operand; returns true if rewritten */
static bool simplify(jit_ctx *c, jit_op *op)
{
    jit_opc opc = (jit_opc)op->opc;
    jit_temp a = op->a[1], b = op->a[2];
    jit_type t = (jit_type)op->type;
    uint64_t ones = t == JIT_I32 ? 0xffffffffu : UINT64_MAX;
    if (is_const(c, a) && !is_const(c, b) &&
        (opc == JIT_OP_ADD || opc == JIT_OP_AND || opc == JIT_OP_OR || opc == JIT_OP_XOR ||
         opc == JIT_OP_MUL)) {
        op->a[1] = b;
        op->a[2] = a;
        a = op->a[1];
        b = op->a[2];
    }
    if (a == b && !is_const(c, a)) {
        if (opc == JIT_OP_SUB || opc == JIT_OP_XOR) {
            make_movi(c, op, 0);
            return true;
        }
        if (opc == JIT_OP_AND || opc == JIT_OP_OR) {
            make_mov(c, op, a);
            return true;
        }
    }
    if (opc == JIT_OP_SUB && is_const(c, a) && cv(c, a) == 0 && !is_const(c, b)) {
        op->opc = JIT_OP_NEG;       /* 0 - b */
        op->a[1] = b;
        op->a[2] = JIT_NO_TEMP;
        return true;
    }
    if (!is_const(c, b))
        return false;
    uint64_t v = cv(c, b);
    switch (opc) {
    case JIT_OP_ADD: case JIT_OP_SUB: case JIT_OP_OR: case JIT_OP_XOR:
        if (v == 0) {
            make_mov(c, op, a);
            return true;
        }
        break;
    case JIT_OP_SHL: case JIT_OP_SHR: case JIT_OP_SAR: case JIT_OP_ROTL: case JIT_OP_ROTR:
        if ((v & (t == JIT_I32 ? 31 : 63)) == 0) {
            make_mov(c, op, a);
            return true;
        }
        break;
    case JIT_OP_AND:
        if (v == 0) {
            make_movi(c, op, 0);
            return true;
        }
        if (v == ones) {
            make_mov(c, op, a);
            return true;
        }
        break;
    case JIT_OP_MUL:
        if (v == 0) {
            make_movi(c, op, 0);
            return true;
        }
        if (v == 1) {
            make_mov(c, op, a);
            return true;
        }
        break;
    case JIT_OP_DIV: case JIT_OP_DIVU:
        if (v == 1) {
            make_mov(c, op, a);
            return true;
        }
        break;
    default:
        break;
    }
    return false;
}

static void fold_pass(jit_ctx *c)
{
    /* one buffer per engine for the tables (translation runs under e->lock): a
     * calloc per table per block showed up as a tenth of start-up time */
    jit_engine *e = c->engine;
    know k;
    k.n = c->ntemps;
    size_t need = (size_t)k.n * (sizeof(*k.ver) + 1 + sizeof(*k.cval) + sizeof(*k.copy) +
                                 sizeof(*k.copy_ver) + 1 + sizeof(uint16_t));
    if (need > e->opt_buf_size) {
        uint8_t *nb = realloc(e->opt_buf, need);
        if (!nb)
            return;
        e->opt_buf = nb;
        e->opt_buf_size = need;
    }
    k.cval = (uint64_t *)e->opt_buf;
    k.ver = (uint32_t *)(k.cval + k.n);
    k.copy = (jit_temp *)(k.ver + k.n);
    k.copy_ver = (uint32_t *)(k.copy + k.n);
    uint16_t *uses = (uint16_t *)(k.copy_ver + k.n);
    k.is_const = (uint8_t *)(uses + k.n);
    k.bits = k.is_const + k.n;
    memset(k.ver, 0, k.n * sizeof(*k.ver));
    memset(k.is_const, 0, k.n);
    memset(k.bits, 0, k.n);
    /* uses of each temp before the pass (substitution only lowers them) */
    memset(uses, 0, k.n * sizeof(*uses));
    for (unsigned i = 0; i < c->nops; i++) {
        unsigned f, n = jit_op_nuses(&c->ops[i], &f);
        for (unsigned u = 0; u < n; u++)
            if (c->ops[i].a[f + u] < k.n && uses[c->ops[i].a[f + u]] < UINT16_MAX)
                uses[c->ops[i].a[f + u]]++;
    }
    memset(k.copy_ver, 0, k.n * sizeof(*k.copy_ver));
    for (unsigned t = 0; t < k.n; t++)
        k.copy[t] = JIT_NO_TEMP;

    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        jit_opc opc = (jit_opc)op->opc;
        if (opc == JIT_OP_LABEL) {
            forget_all(&k, c, false);
            continue;
        }
        bool def = jit_op_has_def(op);
        unsigned first, n = jit_op_nuses(op, &first);
        for (unsigned u = 0; u < n; u++)
            op->a[first + u] = subst(&k, c, op->a[first + u]);
        /* jit_const may have grown the temps array: refresh */
        op = &c->ops[i];

        /* extension of a value that already is extended: a move */
        if ((opc == JIT_OP_EXT32S || opc == JIT_OP_EXT32U) && op->type == JIT_I64 &&
            c->temps[op->a[1]].type == JIT_I64 && !is_const(c, op->a[1]) &&
            (bits_of(&k, c, op->a[1]) & (opc == JIT_OP_EXT32S ? KB_S : KB_Z))) {
            make_mov(c, op, op->a[1]);
            opc = JIT_OP_MOV;
        }
        if (jit_op_is_binop(opc)) {
            if (is_const(c, op->a[1]) && is_const(c, op->a[2]))
                make_movi(c, op, jit_eval_binop(opc, (jit_type)op->type, cv(c, op->a[1]),
                                                cv(c, op->a[2])));
            else
                simplify(c, op);
        } else if (jit_op_is_unop(opc) && opc != JIT_OP_MOV) {
            if (is_const(c, op->a[1]))
                make_movi(c, op, jit_eval_unop(opc, (jit_type)op->type, cv(c, op->a[1])));
        } else if (opc == JIT_OP_SETCOND) {
            if (is_const(c, op->a[1]) && is_const(c, op->a[2]))
                make_movi(c, op, jit_eval_cond((jit_cond)op->cond, (jit_type)op->type,
                                               cv(c, op->a[1]), cv(c, op->a[2])));
        } else if (opc == JIT_OP_MOVCOND) {
            if (is_const(c, op->a[1]) && is_const(c, op->a[2])) {
                bool r = jit_eval_cond((jit_cond)op->cond, (jit_type)op->type,
                                       cv(c, op->a[1]), cv(c, op->a[2]));
                make_mov(c, op, r ? op->a[3] : op->a[4]);
            } else if (op->a[3] == op->a[4]) {
                make_mov(c, op, op->a[3]);
            }
        } else if (opc == JIT_OP_BRCOND) {
            if (is_const(c, op->a[0]) && is_const(c, op->a[1])) {
                bool r = jit_eval_cond((jit_cond)op->cond, (jit_type)op->type,
                                       cv(c, op->a[0]), cv(c, op->a[1]));
                op->opc = r ? JIT_OP_BR : JIT_OP_NOP;
                op->a[0] = op->a[1] = JIT_NO_TEMP;
            }
        }

        if (op->opc == JIT_OP_MOV && op->a[0] == op->a[1]) {
            op->opc = JIT_OP_NOP;
            continue;
        }
        if (op->opc == JIT_OP_CALL &&
            (op->helper->flags & (JIT_CALL_WRITES_GLOBALS | JIT_CALL_MAY_EXIT)))
            forget_all(&k, c, true);
        if (!def)
            continue;
        jit_temp d = op->a[0];
        /* "op t, ...; mov d, t" with t a local read only here: op writes d
         * (the op just before, so nothing in between reads d or t) */
        if (op->opc == JIT_OP_MOV && i > 0 && op->a[1] < k.n &&
            c->temps[op->a[1]].kind == TEMP_LOCAL && uses[op->a[1]] == 1 &&
            c->temps[op->a[1]].type == c->temps[d].type) {
            jit_op *prev = &c->ops[i - 1];
            jit_opc po = (jit_opc)prev->opc;
            if (prev->a[0] == op->a[1] && po != JIT_OP_MOV && po != JIT_OP_CALL &&
                (jit_op_is_binop(po) || jit_op_is_unop(po) || po == JIT_OP_SETCOND ||
                 po == JIT_OP_MOVCOND)) {
                uint8_t b = k.bits[op->a[1]];
                prev->a[0] = d;
                op->opc = JIT_OP_NOP;
                forget(&k, d);
                k.bits[d] = c->temps[d].type == JIT_I64 ? b : 0;
                continue;
            }
        }
        uint8_t nb = c->temps[d].type == JIT_I64 && c->temps[d].kind != TEMP_ENV ?
                     result_bits(&k, c, op) : 0;
        forget(&k, d);
        k.bits[d] = nb;
        if (op->opc == JIT_OP_MOV) {
            jit_temp s = op->a[1];
            if (is_const(c, s)) {
                k.is_const[d] = 1;
                k.cval[d] = cv(c, s);
            } else if (s < k.n && c->temps[s].kind != TEMP_ENV) {
                k.copy[d] = s;
                k.copy_ver[d] = k.ver[s];
                /* a copy of a copy: point at the original */
                if (k.copy[s] != JIT_NO_TEMP && k.ver[k.copy[s]] == k.copy_ver[s]) {
                    k.copy[d] = k.copy[s];
                    k.copy_ver[d] = k.copy_ver[s];
                }
            }
        }
    }
}

/* ops that may be deleted when their result is dead */
static bool removable(const jit_op *op)
{
    switch (op->opc) {
    case JIT_OP_MOV: case JIT_OP_SETCOND: case JIT_OP_MOVCOND: case JIT_OP_LD:
        return true;
    case JIT_OP_CALL:
        return (op->helper->flags & JIT_CALL_PURE) && op->a[0] != JIT_NO_TEMP;
    default:
        return jit_op_is_binop((jit_opc)op->opc) || jit_op_is_unop((jit_opc)op->opc);
    }
}

#define BIT(set, t) ((set)[(t) / 64] & (1ull << ((t) % 64)))
#define SET(set, t) ((set)[(t) / 64] |= (1ull << ((t) % 64)))
#define CLR(set, t) ((set)[(t) / 64] &= ~(1ull << ((t) % 64)))

/* One backward liveness scan of the locals; with del, ops whose local result
 * is dead are removed.  Returns whether a label's live set grew (a branch
 * back to an earlier label sees that label's set of the previous scan). */
static bool dce_scan(jit_ctx *c, uint64_t *live, uint64_t *at_label, unsigned words, bool del)
{
    bool changed = false;
    memset(live, 0, words * 8);
    for (unsigned i = c->nops; i-- > 0;) {
        jit_op *op = &c->ops[i];
        switch (op->opc) {
        case JIT_OP_NOP: case JIT_OP_INSN_START:
            continue;
        case JIT_OP_LABEL:
            for (unsigned w = 0; w < words; w++) {
                uint64_t *l = &at_label[(size_t)words * op->imm + w];
                changed |= (live[w] & ~*l) != 0;
                *l |= live[w];
            }
            continue;
        case JIT_OP_BR:
            memcpy(live, at_label + (size_t)words * op->imm, words * 8);
            continue;
        case JIT_OP_BRCOND:
            for (unsigned w = 0; w < words; w++)
                live[w] |= at_label[(size_t)words * op->imm + w];
            break;
        case JIT_OP_GOTO_TB: case JIT_OP_GOTO_PTR: case JIT_OP_EXIT:
            memset(live, 0, words * 8);     /* locals die at block exits */
            break;
        default:
            break;
        }
        if (jit_op_has_def(op)) {
            jit_temp d = op->a[0];
            bool local = c->temps[d].kind == TEMP_LOCAL;
            if (del && local && !BIT(live, d) && removable(op)) {
                op->opc = JIT_OP_NOP;
                continue;
            }
            if (local)
                CLR(live, d);
        }
        unsigned first, n = jit_op_nuses(op, &first);
        for (unsigned u = 0; u < n; u++) {
            jit_temp t = op->a[first + u];
            if (t != JIT_NO_TEMP && c->temps[t].kind == TEMP_LOCAL)
                SET(live, t);
        }
    }
    return changed;
}

/* Liveness is a fixed point when the block loops (branches back to a
 * label): scans without removing anything until the labels' sets settle
 * (they only grow), then one that removes. */
static void dce_pass(jit_ctx *c)
{
    jit_check_back_branches(c);
    unsigned words = (c->ntemps + 63) / 64;
    uint64_t *live = calloc(words, 8);
    uint64_t *at_label = calloc((size_t)words * (c->nlabels + 1), 8);
    if (!live || !at_label)
        goto out;
    if (c->has_back_branch) {
        unsigned n = 0;
        while (dce_scan(c, live, at_label, words, false))
            if (++n == 32)
                goto out;       /* not settled: keep everything */
    }
    dce_scan(c, live, at_label, words, true);
out:
    free(live);
    free(at_label);
}
#undef BIT
#undef SET
#undef CLR

void jit_optimize(jit_ctx *c)
{
    if (jit_opt_disabled || c->error)
        return;
    fold_pass(c);
    dce_pass(c);
}
