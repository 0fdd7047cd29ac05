/* The optimizer on constructed IR: what folding, propagation and dead code
 * elimination leave behind, and what they must never touch. */
#include <stdio.h>

#include "tests/lib/cunit-run.h"
#include "tests/unit/jit/irtest.h"
#include "jit/internal.h"

static jit_engine *eng;
static jit_ctx ctx;

static jit_ctx *begin(void)
{
    jit_ctx_init(&ctx, eng, NULL, 0x1000, 0, 512);
    jit_insn_start(&ctx, 0x1000);
    return &ctx;
}

static void end(jit_ctx *c)
{
    jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, 0), jit_const(c, JIT_I64, 0));
    CU_ASSERT_FALSE(c->error);
    jit_optimize(c);
}

static unsigned count(jit_ctx *c, jit_opc opc)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nops; i++)
        n += c->ops[i].opc == opc;
    return n;
}

static unsigned live_ops(jit_ctx *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nops; i++)
        n += c->ops[i].opc != JIT_OP_NOP && c->ops[i].opc != JIT_OP_INSN_START;
    return n;
}

/* the op that defines global g last, or NULL */
static jit_op *def_of(jit_ctx *c, jit_temp g)
{
    jit_op *r = NULL;
    for (unsigned i = 0; i < c->nops; i++)
        if (c->ops[i].opc != JIT_OP_NOP && jit_op_has_def(&c->ops[i]) && c->ops[i].a[0] == g)
            r = &c->ops[i];
    return r;
}

static bool is_movi(jit_ctx *c, jit_op *op, uint64_t v)
{
    return op && op->opc == JIT_OP_MOV && c->temps[op->a[1]].kind == TEMP_CONST &&
           c->temps[op->a[1]].val == v;
}

static void test_fold_and_propagate(void)
{
    jit_ctx *c = begin();
    jit_temp t1 = jit_temp_new(c, JIT_I64), t2 = jit_temp_new(c, JIT_I64);
    jit_movi(c, t1, 2);
    jit_addi(c, t2, t1, 3);
    jit_muli(c, G(0), t2, 4);           /* g0 = 20 */
    jit_temp w = jit_temp_new(c, JIT_I32);
    jit_trunc(c, w, jit_const(c, JIT_I64, 0x1ffffffffull));
    jit_addi(c, W(0), w, 1);            /* wraps to 0 */
    jit_divi(c, G(1), G(0), 0);         /* 20 / 0 = all ones */
    jit_setcond(c, JIT_LTU, G(2), G(0), G(1));
    end(c);
    CU_ASSERT(is_movi(c, def_of(c, G(0)), 20));
    CU_ASSERT(is_movi(c, def_of(c, W(0)), 0));
    CU_ASSERT(is_movi(c, def_of(c, G(1)), UINT64_MAX));
    CU_ASSERT(is_movi(c, def_of(c, G(2)), 1));
    /* locals are gone: 4 global moves and the exit */
    CU_ASSERT_EQUAL(live_ops(c), 5);
    jit_ctx_free(c);
}

static void test_copy_propagation(void)
{
    jit_ctx *c = begin();
    jit_temp t = jit_temp_new(c, JIT_I64), u = jit_temp_new(c, JIT_I64);
    jit_mov(c, t, G(1));
    jit_mov(c, u, t);
    jit_add(c, G(0), u, G(2));          /* becomes add g0, g1, g2 */
    jit_movi(c, G(1), 9);
    jit_mov(c, G(3), t);                /* g1 changed: must not become g1 */
    end(c);
    jit_op *op = def_of(c, G(0));
    CU_ASSERT(op && op->opc == JIT_OP_ADD && op->a[1] == G(1) && op->a[2] == G(2));
    op = def_of(c, G(3));
    CU_ASSERT(op && op->a[1] != G(1));
    CU_ASSERT(is_movi(c, def_of(c, G(1)), 9));
    jit_ctx_free(c);
}

static uint64_t pure_fn(uint64_t x) { return x + 1; }
static uint64_t effect_fn(uint64_t x) { return x; }
static const jit_helper pure_h = { (void *)pure_fn, "pure", JIT_CALL_PURE };
static const jit_helper effect_h = { (void *)effect_fn, "effect", 0 };
static const jit_helper writes_h = { (void *)effect_fn, "writes", JIT_CALL_WRITES_GLOBALS };

static void test_dce_keeps_side_effects(void)
{
    jit_ctx *c = begin();
    jit_temp a = jit_temp_new(c, JIT_I64), b = jit_temp_new(c, JIT_I64);
    jit_temp l = jit_temp_new(c, JIT_I64), r1 = jit_temp_new(c, JIT_I64);
    jit_temp r2 = jit_temp_new(c, JIT_I64);
    jit_add(c, a, G(1), G(2));                  /* dead: removed */
    jit_mul(c, b, a, G(3));                     /* dead: removed */
    jit_qld(c, l, G(4), 0, JIT_MO_64);          /* dead but may fault: kept */
    jit_call(c, &pure_h, r1, 1, &a);            /* pure, dead: removed */
    jit_call(c, &effect_h, r2, 1, &a);          /* side effects: kept */
    jit_st(c, G(1), jit_env(c), offsetof(ir_cpu, scratch), JIT_MO_64);  /* kept */
    jit_qst(c, G(1), G(4), 8, JIT_MO_32);       /* kept */
    jit_movi(c, G(5), 1);
    jit_movi(c, G(5), 2);                       /* global writes stay */
    end(c);
    CU_ASSERT_EQUAL(count(c, JIT_OP_MUL), 0);
    CU_ASSERT_EQUAL(count(c, JIT_OP_QLD), 1);
    CU_ASSERT_EQUAL(count(c, JIT_OP_CALL), 1);
    CU_ASSERT_EQUAL(count(c, JIT_OP_ST), 1);
    CU_ASSERT_EQUAL(count(c, JIT_OP_QST), 1);
    CU_ASSERT_EQUAL(count(c, JIT_OP_ADD), 1);   /* a is an argument of the kept call */
    bool found_call = false;
    for (unsigned i = 0; i < c->nops; i++)
        if (c->ops[i].opc == JIT_OP_CALL)
            found_call = c->ops[i].helper == &effect_h;
    CU_ASSERT(found_call);
    jit_ctx_free(c);
}

static void test_branches(void)
{
    /* a constant branch becomes br / nop; knowledge stops at labels */
    jit_ctx *c = begin();
    jit_temp t = jit_temp_new(c, JIT_I64);
    jit_label l1 = jit_label_new(c), l2 = jit_label_new(c);
    jit_movi(c, t, 5);
    jit_brcond(c, JIT_EQ, t, jit_const(c, JIT_I64, 5), l1);    /* always */
    jit_brcond(c, JIT_NE, t, jit_const(c, JIT_I64, 5), l1);    /* never */
    jit_label_set(c, l1);
    jit_brcond(c, JIT_LT, G(1), G(2), l2);
    jit_movi(c, t, 6);
    jit_label_set(c, l2);
    jit_mov(c, G(0), t);                /* 5 or 6: not a constant */
    end(c);
    CU_ASSERT_EQUAL(count(c, JIT_OP_BR), 1);
    CU_ASSERT_EQUAL(count(c, JIT_OP_BRCOND), 1);
    jit_op *op = def_of(c, G(0));
    CU_ASSERT(op && op->opc == JIT_OP_MOV && c->temps[op->a[1]].kind != TEMP_CONST);
    /* both definitions of t survive: each reaches the use */
    unsigned defs_of_t = 0;
    for (unsigned i = 0; i < c->nops; i++)
        defs_of_t += c->ops[i].opc == JIT_OP_MOV && c->ops[i].a[0] == t;
    CU_ASSERT_EQUAL(defs_of_t, 2);
    jit_ctx_free(c);
}

static void test_helper_writes_globals(void)
{
    jit_ctx *c = begin();
    jit_temp r = jit_temp_new(c, JIT_I64);
    jit_movi(c, G(1), 5);
    jit_temp arg = jit_env(c);
    jit_call(c, &writes_h, r, 1, &arg);
    jit_mov(c, G(0), G(1));             /* the helper may have changed g1 */
    end(c);
    jit_op *op = def_of(c, G(0));
    CU_ASSERT(op && op->opc == JIT_OP_MOV && op->a[1] == G(1));
    jit_ctx_free(c);
}

static void test_identities(void)
{
    jit_op *op;
    jit_ctx *c = begin();
    jit_addi(c, G(0), G(1), 0);
    jit_andi(c, G(2), G(1), 0);
    jit_muli(c, G(3), G(1), 1);
    jit_xor(c, G(4), G(1), G(1));
    jit_shli(c, G(5), G(1), 64);        /* count masked: shift by 0 */
    jit_sub(c, G(6), jit_const(c, JIT_I64, 0), G(1));   /* 0 - x = neg x */
    end(c);
    op = def_of(c, G(6));
    CU_ASSERT(op && op->opc == JIT_OP_NEG && op->a[1] == G(1));
    op = def_of(c, G(0));
    CU_ASSERT(op && op->opc == JIT_OP_MOV && op->a[1] == G(1));
    CU_ASSERT(is_movi(c, def_of(c, G(2)), 0));
    op = def_of(c, G(3));
    CU_ASSERT(op && op->opc == JIT_OP_MOV && op->a[1] == G(1));
    CU_ASSERT(is_movi(c, def_of(c, G(4)), 0));
    op = def_of(c, G(5));
    CU_ASSERT(op && op->opc == JIT_OP_MOV && op->a[1] == G(1));
    jit_ctx_free(c);
}

/* With a branch back to a label, a local defined late in the loop body and
 * used early (in the next iteration) is live around the back edge: dead code
 * elimination must keep it, while a local nobody uses goes. */
static void test_dce_loop(void)
{
    jit_ctx *c = begin();
    jit_temp t = jit_temp_new(c, JIT_I64), dead = jit_temp_new(c, JIT_I64);
    jit_label l = jit_label_new(c);
    jit_movi(c, t, 0);
    jit_label_set(c, l);
    jit_mov(c, G(0), t);                /* t of the previous iteration */
    jit_add(c, dead, G(1), G(3));       /* never used: removed */
    jit_add(c, t, G(1), G(2));          /* used only through the back edge */
    jit_addi(c, G(1), G(1), -1);
    jit_brcond(c, JIT_NE, G(1), jit_const(c, JIT_I64, 0), l);
    end(c);
    bool t_def = false, dead_def = false;
    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_NOP || !jit_op_has_def(op))
            continue;
        t_def |= op->a[0] == t && op->opc == JIT_OP_ADD;
        dead_def |= op->a[0] == dead;
    }
    CU_ASSERT(t_def);
    CU_ASSERT(!dead_def);
    jit_ctx_free(c);
}

/* Facts about extension: an ext32s of a value already sign-extended from 32
 * bits is a move (and "op t; mov g, t" becomes "op g"); values that may have
 * other upper bits keep their extension, and nothing is known after a label. */
static void test_extensions(void)
{
    jit_ctx *c = begin();
    jit_temp t1 = jit_temp_new(c, JIT_I64), t2 = jit_temp_new(c, JIT_I64);
    jit_temp t3 = jit_temp_new(c, JIT_I64), t4 = jit_temp_new(c, JIT_I64);
    jit_temp t5 = jit_temp_new(c, JIT_I64);
    jit_andi(c, t1, G(1), 1);           /* 0 or 1 */
    jit_neg(c, t2, t1);                 /* 0 or -1: sign-extended */
    jit_ext32s(c, G(2), t2);            /* -> neg g2, t1 */
    jit_ext32u(c, t3, G(3));
    jit_shri(c, t4, t3, 1);             /* < 2^31 */
    jit_ext32s(c, G(4), t4);            /* a move of t4: shr g4, t3, 1 */
    jit_neg(c, t5, G(5));               /* anything */
    jit_ext32s(c, G(6), t5);            /* kept */
    jit_ext32s(c, G(7), t3);            /* zero-extended may have bit 31: kept */
    jit_label l = jit_label_new(c);
    jit_label_set(c, l);
    jit_ext32s(c, G(8), G(2));          /* after a label: kept */
    end(c);
    jit_op *op = def_of(c, G(2));
    CU_ASSERT(op && op->opc == JIT_OP_NEG);
    op = def_of(c, G(4));
    CU_ASSERT(op && op->opc == JIT_OP_SHR);
    op = def_of(c, G(6));
    CU_ASSERT(op && op->opc == JIT_OP_EXT32S);
    op = def_of(c, G(7));
    CU_ASSERT(op && op->opc == JIT_OP_EXT32S);
    op = def_of(c, G(8));
    CU_ASSERT(op && op->opc == JIT_OP_EXT32S);
    jit_ctx_free(c);
}

int main(void)
{
    jit_options o = { .backend = JIT_BACKEND_INTERP };
    if (jit_engine_new(&ir_frontend, &o, &eng))
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("jit_opt", NULL, NULL);
    CU_add_test(s, "fold_and_propagate", test_fold_and_propagate);
    CU_add_test(s, "copy_propagation", test_copy_propagation);
    CU_add_test(s, "dce_keeps_side_effects", test_dce_keeps_side_effects);
    CU_add_test(s, "branches_and_labels", test_branches);
    CU_add_test(s, "helper_writes_globals", test_helper_writes_globals);
    CU_add_test(s, "identities", test_identities);
    CU_add_test(s, "dce_loop", test_dce_loop);
    CU_add_test(s, "extensions", test_extensions);
    int r = cunit_run_all();
    jit_engine_free(eng);
    return r;
}
