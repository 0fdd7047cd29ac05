/* Block shapes the translator builds beyond one straight line: branches over
 * one instruction (conditional moves), forward branches inside a block
 * (labels and side exits), loops at a block's start, more exits than a block
 * has chaining slots, and faults after such branches.  Each body runs on the
 * interpreter and the native backend, and again with pinned globals from the
 * first block on (VIREO_JIT_PIN_AFTER=1), where a loop's globals replace the
 * engine-wide pins.  Expected values are worked out in C next to the code. */
#include "tests/unit/riscv/harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define EQ(t, reg, val) do { \
        uint64_t got_ = X(t, reg), want_ = (uint64_t)(val); \
        if (got_ != want_) \
            printf("  [%s%s] x%u = 0x%llx, expected 0x%llx\n", (t)->backend_name, \
                   getenv("VIREO_JIT_PIN_AFTER") ? ", pinned" : "", (unsigned)(reg), \
                   (unsigned long long)got_, (unsigned long long)want_); \
        CU_ASSERT_EQUAL(got_, want_); \
    } while (0)

static void run_all(void (*body)(tenv *t))
{
    run_both(body);
    setenv("VIREO_JIT_PIN_AFTER", "1", 1);
    run_both(body);
    unsetenv("VIREO_JIT_PIN_AFTER");
}

/* "b<cond> a0, a1, +8; addi a0, a0, 100" for every condition and both
 * outcomes: the skipped instruction writes the branch's own first operand, so
 * the comparison must use the value from before it. */
static const struct { int64_t a, b; } br_vals[] = {
    { 5, 5 }, { 5, 6 }, { 6, 5 }, { -1, 1 }, { 1, -1 }, { INT64_MIN, 0 },
};

static bool cond_true(unsigned f3, int64_t a, int64_t b)
{
    switch (f3) {
    case 0: return a == b;
    case 1: return a != b;
    case 4: return a < b;
    case 5: return a >= b;
    case 6: return (uint64_t)a < (uint64_t)b;
    default: return (uint64_t)a >= (uint64_t)b;
    }
}

static void body_branch_over(tenv *t)
{
    static const unsigned f3s[] = { 0, 1, 4, 5, 6, 7 };
    for (unsigned c = 0; c < 6; c++)
        for (unsigned v = 0; v < sizeof(br_vals) / sizeof(br_vals[0]); v++) {
            t->pc = CODE;
            SETX(t, A0, (uint64_t)br_vals[v].a);
            SETX(t, A1, (uint64_t)br_vals[v].b);
            SETX(t, A2, 7);
            e32(t, enc_b(8, A1, A0, f3s[c]));
            e32(t, ADDI(A0, A0, 100));
            /* and one over a compressed c.addi a2, 1 (2 bytes), rd = a2 */
            e32(t, enc_b(6, A1, A0, f3s[c]));
            e16(t, 0x0605);                     /* c.addi a2, 1 */
            run_to_ecall(t);
            bool taken = cond_true(f3s[c], br_vals[v].a, br_vals[v].b);
            int64_t a0 = taken ? br_vals[v].a : (int64_t)((uint64_t)br_vals[v].a + 100);
            bool taken2 = cond_true(f3s[c], a0, br_vals[v].b);
            EQ(t, A0, a0);
            EQ(t, A2, taken2 ? 7 : 8);
        }
}

/* A loop at the block's start whose body has an if/else (a forward branch
 * over two instructions and a jump over the else part): one block with two
 * labels and a jump back to its start.
 *     a0 = 0; a1 = 20; loop: if (a1 & 1) a0 += 3 * a1 else a0 += a1 >> 1;
 *                             a1 -= 1; if (a1 != 0) goto loop */
static void body_loop_if_else(tenv *t)
{
    e32(t, ADDI(A0, ZERO, 0));
    e32(t, ADDI(A1, ZERO, 20));
    e32(t, JAL(ZERO, 4));                       /* the loop starts a block */
    uint32_t loop = t->pc;
    e32(t, ANDI(T0, A1, 1));
    e32(t, BEQ(T0, ZERO, 16));                  /* even: to else */
    e32(t, SLLI(T1, A1, 1));
    e32(t, ADD(T1, T1, A1));
    e32(t, JAL(ZERO, 8));                       /* over the else part */
    e32(t, SRLI(T1, A1, 1));                    /* else */
    e32(t, ADD(A0, A0, T1));                    /* join */
    e32(t, ADDI(A1, A1, -1));
    e32(t, BNE(A1, ZERO, (int32_t)(loop - t->pc)));
    run_to_ecall(t);
    uint64_t a0 = 0;
    for (uint64_t i = 20; i; i--)
        a0 += i & 1 ? 3 * i : i >> 1;
    EQ(t, A0, a0);
    EQ(t, A1, 0);
}

/* Eleven forward branches, each to its own stub that sets a bit and jumps
 * back: more exits than a block has chaining slots (the translator falls back
 * to plain two-way branches when they run out).  Bit k of a0 decides whether
 * a1 gets bit k.
 *     main: for k: andi t0, a0, 1 << k; bne t0, zero, stub_k; back_k:
 *           j end
 *     stub_k: ori a1, a1, 1 << k; j back_k (or beq zero, zero, back_k)
 *     end: ecall */
static void body_many_branches(tenv *t)
{
    enum { N = 11 };
    static const uint64_t patterns[] = { 0x5a5, 0x25a, 0x7ff, 0 };
    for (unsigned p = 0; p < 4; p++) {
        t->pc = CODE;
        SETX(t, A0, patterns[p]);
        SETX(t, A1, 0);
        uint32_t stubs = CODE + N * 8 + 4, end = stubs + N * 8;
        for (unsigned k = 0; k < N; k++) {
            e32(t, ANDI(T0, A0, 1 << k));
            e32(t, BNE(T0, ZERO, (int32_t)(stubs + 8 * k - t->pc)));
        }
        e32(t, JAL(ZERO, (int32_t)(end - t->pc)));
        for (unsigned k = 0; k < N; k++) {
            e32(t, enc_i(1 << k, A1, 6, A1, 0x13));     /* ori a1, a1, 1 << k */
            if (k & 1)
                e32(t, JAL(ZERO, (int32_t)(CODE + 8 * k + 8 - t->pc)));
            else            /* a two-way branch back: two exits */
                e32(t, BEQ(ZERO, ZERO, (int32_t)(CODE + 8 * k + 8 - t->pc)));
        }
        run_to_ecall(t);
        EQ(t, A1, patterns[p]);
    }
}

/* Faults with precise registers after forward branches inside a block, and
 * in the third iteration of a loop at a block's start. */
static void body_fault_after_branches(tenv *t)
{
    riscv_exit *ex;
    SETX(t, A1, GUARD_ADDR - 16);
    SETX(t, A3, 1);
    e32(t, ADDI(A0, ZERO, 11));
    e32(t, BEQ(A3, ZERO, 12));                  /* not taken: a side exit */
    e32(t, ADDI(A4, A0, 1));
    e32(t, ADDI(A5, A4, 1));
    e32(t, BNE(A3, ZERO, 8));                   /* taken, to the load */
    e32(t, ADDI(A0, ZERO, 99));                 /* skipped */
    uint32_t ld1 = t->pc;
    e32(t, LD(A2, A1, 16));                     /* GUARD_ADDR: faults */
    e32(t, ADDI(A0, ZERO, 98));
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, ld1);
    CU_ASSERT_EQUAL(ex->addr, GUARD_ADDR);
    EQ(t, A0, 11);
    EQ(t, A4, 12);
    EQ(t, A5, 13);

    /* loop: a0 += 1; a5 += a0; ld a2, 0(a1); a1 += 8; bne a0, zero, loop */
    t->pc = CODE;
    SETX(t, A0, 0);
    SETX(t, A5, 0);
    SETX(t, A1, GUARD_ADDR - 16);
    e32(t, JAL(ZERO, 4));
    uint32_t loop = t->pc;
    e32(t, ADDI(A0, A0, 1));
    e32(t, ADD(A5, A5, A0));
    uint32_t ld2 = t->pc;
    e32(t, LD(A2, A1, 0));
    e32(t, ADDI(A1, A1, 8));
    e32(t, BNE(A0, ZERO, (int32_t)(loop - t->pc)));
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, ld2);
    CU_ASSERT_EQUAL(ex->addr, GUARD_ADDR);
    EQ(t, A0, 3);
    EQ(t, A5, 1 + 2 + 3);
    EQ(t, A1, GUARD_ADDR);
}

/* Early return: a forward branch past a jalr; the code after the return is
 * reached only through the label. */
static void body_early_return(tenv *t)
{
    for (int v = 0; v < 2; v++) {
        t->pc = CODE;
        uint32_t ret_to = CODE + 0x100;
        SETX(t, A0, (uint64_t)v);
        SETX(t, RA, ret_to);
        e32(t, BNE(A0, ZERO, 12));
        e32(t, ADDI(A1, ZERO, 1));
        e32(t, JALR(ZERO, RA, 0));              /* ret */
        e32(t, ADDI(A1, ZERO, 2));
        e32(t, JALR(ZERO, RA, 0));              /* ret */
        t->pc = ret_to;
        run_to_ecall(t);
        EQ(t, A1, v ? 2 : 1);
    }
}

/* Loops inside a block whose heads are not the block's start (branches back
 * to an earlier instruction of the block): nested loops, a fault in the inner
 * loop with precise registers, and an endless inner loop that another thread
 * interrupts (inner loop heads check for kicks too).
 *     a0 = 0; a1 = 5; outer: a2 = a1; inner: a0 += a2; a2 -= 1; bnez a2, inner;
 *     a1 -= 1; bnez a1, outer          => a0 = sum over i = 1..5 of i(i+1)/2 */
static void body_nested_loops(tenv *t)
{
    e32(t, ADDI(A0, ZERO, 0));
    e32(t, ADDI(A1, ZERO, 5));
    uint32_t outer = t->pc;
    e32(t, ADDI(A2, A1, 0));
    uint32_t inner = t->pc;
    e32(t, ADD(A0, A0, A2));
    e32(t, ADDI(A2, A2, -1));
    e32(t, BNE(A2, ZERO, (int32_t)(inner - t->pc)));
    e32(t, ADDI(A1, A1, -1));
    e32(t, BNE(A1, ZERO, (int32_t)(outer - t->pc)));
    run_to_ecall(t);
    uint64_t a0 = 0;
    for (uint64_t i = 1; i <= 5; i++)
        a0 += i * (i + 1) / 2;
    EQ(t, A0, a0);
    EQ(t, A1, 0);
    EQ(t, A2, 0);

    /* inner loop: a3 += 1; ld a4, 0(a5); a5 += 8; bne a3, zero, inner
     * with a5 three doublewords below the guard page: faults at a3 = 4 */
    t->pc = CODE;
    SETX(t, A5, GUARD_ADDR - 24);
    e32(t, ADDI(A3, ZERO, 0));
    e32(t, ADDI(A4, ZERO, 77));
    inner = t->pc;
    e32(t, ADDI(A3, A3, 1));
    uint32_t ld = t->pc;
    e32(t, LD(A4, A5, 0));
    e32(t, ADDI(A5, A5, 8));
    e32(t, BNE(A3, ZERO, (int32_t)(inner - t->pc)));
    riscv_exit *ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, ld);
    CU_ASSERT_EQUAL(ex->addr, GUARD_ADDR);
    EQ(t, A3, 4);
    EQ(t, A5, GUARD_ADDR);
    CU_ASSERT_NOT_EQUAL(X(t, A4), 77);          /* loaded in earlier iterations */
}

static void *interrupter(void *arg)
{
    usleep(50000);
    riscv_cpu_interrupt(arg);
    return NULL;
}

static void body_endless_inner_loop(tenv *t)
{
    e32(t, ADDI(A1, ZERO, 1));
    uint32_t inner = t->pc;
    e32(t, ADDI(A0, A0, 1));
    e32(t, BNE(A1, ZERO, (int32_t)(inner - t->pc)));
    pthread_t th;
    pthread_create(&th, NULL, interrupter, t->cpu);
    riscv_exit *ex = run_raw(t);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_INTERRUPT);
    CU_ASSERT(X(t, A0) > 0);
    CU_ASSERT(ex->pc == inner || ex->pc == inner + 4);
}

/* Side exits keep the main path's registers as they are: the exit's own code
 * writes back what was changed before the branch.  a0..a2 change before each
 * branch and again after it; the exits go to code 2 KiB away (outside the
 * block), which reports where it came from in a4. */
static void body_side_exit_state(tenv *t)
{
    for (int which = 0; which < 3; which++) {
        t->pc = CODE;
        uint32_t far = CODE + 0x800;
        SETX(t, A3, (uint64_t)which);
        e32(t, ADDI(A0, ZERO, 10));
        e32(t, ADDI(A5, ZERO, 1));
        e32(t, BEQ(A3, ZERO, (int32_t)(far - t->pc)));         /* exit 1 */
        e32(t, ADDI(A0, A0, 5));
        e32(t, ADDI(A1, A0, 1));
        e32(t, BEQ(A3, A5, (int32_t)(far + 8 - t->pc)));       /* exit 2 */
        e32(t, ADDI(A0, A0, 100));
        e32(t, ADDI(A2, A1, 7));
        e32(t, ADDI(A4, ZERO, 3));
        e32(t, JAL(ZERO, (int32_t)(far + 16 - t->pc)));
        t->pc = far;
        e32(t, ADDI(A4, ZERO, 1));
        e32(t, JAL(ZERO, 12));
        e32(t, ADDI(A4, ZERO, 2));
        e32(t, JAL(ZERO, 4));
        run_to_ecall(t);
        EQ(t, A4, which + 1);
        EQ(t, A0, which == 0 ? 10 : which == 1 ? 15 : 115);
        EQ(t, A1, which == 0 ? 0 : 16);
        EQ(t, A2, which == 2 ? 23 : 0);
        SETX(t, A1, 0);
        SETX(t, A2, 0);
    }
}

/* A loop at the block's start that changes more guest registers than there
 * are pin registers: the ones in ordinary registers must reach memory before
 * the jump back to the loop head.  Ten iterations of a_k += k + 1. */
static void body_wide_loop(tenv *t)
{
    static const unsigned regs[] = { A0, A1, A2, A3, A4, A5, A6, A7, S2, S3 };
    e32(t, ADDI(T0, ZERO, 10));
    e32(t, JAL(ZERO, 4));
    uint32_t loop = t->pc;
    for (unsigned k = 0; k < 10; k++)
        e32(t, ADDI(regs[k], regs[k], (int32_t)k + 1));
    e32(t, ADDI(T0, T0, -1));
    e32(t, BNE(T0, ZERO, (int32_t)(loop - t->pc)));
    run_to_ecall(t);
    for (unsigned k = 0; k < 10; k++)
        EQ(t, regs[k], 10 * (k + 1));
}

/* An interpreter's dispatch loop: the block at the loop head ends its main
 * path with an indirect jump (jalr to a handler), and a side path behind a
 * forward branch (the "default case") jumps back to the head, which the
 * translator sends through the jump cache rather than making the block a
 * loop.  a1 counts 29..1; a multiple of 4 adds 1000 (side path), any other
 * value is added by the handler.
 *     loop: a1 -= 1; if (a1 == 0) goto done; if ((a1 & 3) == 0) goto skip;
 *           jalr a3 (handler: a0 += a1; j loop)
 *     skip: a0 += 1000; j loop */
static void body_dispatch_loop(tenv *t)
{
    e32(t, ADDI(A0, ZERO, 0));
    e32(t, ADDI(A1, ZERO, 30));
    e32(t, JAL(ZERO, 4));                       /* the loop starts a block */
    uint32_t loop = t->pc;
    e32(t, ADDI(A1, A1, -1));
    e32(t, BEQ(A1, ZERO, 36));                  /* to done (the final ecall) */
    e32(t, ANDI(T0, A1, 3));
    e32(t, BEQ(T0, ZERO, 12));                  /* to skip */
    e32(t, JALR(ZERO, A3, 0));
    e32(t, ADDI(A0, A0, 7));                    /* never runs (a target right after
                                                   the jump would start its own block) */
    e32(t, ADDI(A0, A0, 1000));                 /* skip */
    e32(t, JAL(ZERO, (int32_t)(loop - t->pc)));
    uint32_t handler = t->pc;
    e32(t, ADD(A0, A0, A1));
    e32(t, JAL(ZERO, (int32_t)(loop - t->pc)));
    CU_ASSERT_EQUAL(t->pc, loop + 40);
    SETX(t, A3, handler);
    run_to_ecall(t);
    uint64_t a0 = 0;
    for (uint64_t i = 29; i; i--)
        a0 += i & 3 ? i : 1000;
    EQ(t, A0, a0);
    EQ(t, A1, 0);
}

#define T(name) static void test_##name(void) { run_all(body_##name); }
T(branch_over) T(loop_if_else) T(many_branches) T(fault_after_branches) T(early_return)
T(nested_loops) T(endless_inner_loop) T(side_exit_state) T(wide_loop) T(dispatch_loop)
#undef T

void register_block_tests(void)
{
    CU_pSuite s = CU_add_suite("riscv-blocks", NULL, NULL);
    CU_add_test(s, "branch-over-one-insn", test_branch_over);
    CU_add_test(s, "loop-with-if-else", test_loop_if_else);
    CU_add_test(s, "more-exits-than-slots", test_many_branches);
    CU_add_test(s, "fault-after-branches", test_fault_after_branches);
    CU_add_test(s, "early-return", test_early_return);
    CU_add_test(s, "nested-loops", test_nested_loops);
    CU_add_test(s, "interrupt-in-inner-loop", test_endless_inner_loop);
    CU_add_test(s, "side-exit-state", test_side_exit_state);
    CU_add_test(s, "loop-wider-than-pins", test_wide_loop);
    CU_add_test(s, "dispatch-loop-side-jump-back", test_dispatch_loop);
}
