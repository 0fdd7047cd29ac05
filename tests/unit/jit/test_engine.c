/* Engine tests with the toy front-end: execution, chaining, indirect jumps,
 * invalidation, flushing, faults, helpers that exit, kicks and threads.  Every
 * test runs on both backends. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/cunit-run.h"
#include "tests/unit/jit/toy.h"

#define MEM_SIZE (1u << 20)
#define CODE 0x1000u
#define DATA 0x40000u
#define GUARD 0x80000u          /* one PROT_NONE page */

static uint8_t *mem;
/* the native backend three times: without pinned globals, pinning from the
 * first block on, and switching to pinning at the third block (while blocks
 * compiled without it are running and chained) */
static const jit_backend backends[] = { JIT_BACKEND_INTERP, JIT_BACKEND_NATIVE,
                                        JIT_BACKEND_NATIVE, JIT_BACKEND_NATIVE };
static const uint32_t pin_after[] = { 0, UINT32_MAX, 1, 3 };
static const char *const backend_names[] = { "interp", "native", "native-pinned",
                                             "native-pin-later" };
#define NB (sizeof(backends) / sizeof(backends[0]))

static __thread toy_cpu *cur_cpu;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    if (cur_cpu && jit_handle_fault(&cur_cpu->h, si, uc))
        return;     /* not reached: jit_handle_fault leaves the handler */
    signal(sig, SIG_DFL);
    raise(sig);
}

static jit_engine *new_engine(unsigned k, size_t code_size)
{
    jit_options o = { .backend = backends[k], .code_size = code_size, .pin_after = pin_after[k] };
    jit_engine *e = NULL;
    int err = jit_engine_new(&toy_frontend, &o, &e);
    CU_ASSERT_EQUAL_FATAL(err, 0);
    return e;
}

static void cpu_init(jit_engine *e, toy_cpu *cpu)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->h.guest_base = (uintptr_t)mem;
    cpu->h.guest_limit = MEM_SIZE;
    CU_ASSERT_EQUAL_FATAL(jit_cpu_init(e, &cpu->h), 0);
}

static jit_exit_reason run(toy_cpu *cpu, uint64_t pc)
{
    cpu->h.pc = pc;
    cur_cpu = cpu;
    jit_exit_reason r = jit_exec(&cpu->h);
    cur_cpu = NULL;
    return r;
}

static void clear_code(void) { memset(mem + CODE, 0, DATA - CODE); }

/* sum 1..n in r1, with a counted loop: r2 = n; loop: r1 += r2; r2 -= 1; bne r2, r0 */
static void test_loop(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 2, 0, 0, 1000);
        p = toy_emit(p, T_LI, 0, 0, 0, 0);
        uint8_t *loop = p;
        p = toy_emit(p, T_ADD, 1, 1, 2, 0);
        p = toy_emit(p, T_ADDI, 2, 2, 0, -1);
        p = toy_emit(p, T_BNE, 0, 2, 0, (int32_t)(loop - p));
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 500500);
        CU_ASSERT_EQUAL(cpu.h.exit_arg, 500500);
        CU_ASSERT_EQUAL(cpu.h.pc, CODE + 6 * 8);
        jit_stats st;
        jit_get_stats(e, &st);
        /* blocks: entry (ends at bne), loop body, halt */
        CU_ASSERT(st.blocks_translated <= 4);
        CU_ASSERT(st.chains_linked >= 1);
        if (st.chains_linked < 1)
            printf("backend %s: no chaining\n", backend_names[k]);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* loads, stores, sign extension, an i32 global, a helper, div/rem edges */
static void test_memory_and_ops(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 3, 0, 0, DATA);
        p = toy_emit(p, T_LI, 4, 0, 0, -2);
        p = toy_emit(p, T_ST, 0, 3, 4, 8);          /* [DATA+8] = -2 */
        p = toy_emit(p, T_LW, 5, 3, 0, 8);          /* r5 = sext32 = -2 */
        p = toy_emit(p, T_LBU, 6, 3, 0, 9);         /* r6 = 0xff */
        p = toy_emit(p, T_LI, 7, 0, 0, 0x41);
        p = toy_emit(p, T_SB, 0, 3, 7, 16);
        p = toy_emit(p, T_LD, 8, 3, 0, 16);         /* r8 = 0x41 */
        p = toy_emit(p, T_DIV, 9, 4, 0, 0);         /* r0 = 0: -2 / 0 = -1 */
        p = toy_emit(p, T_REM, 10, 4, 0, 0);        /* -2 % 0 = -2 */
        p = toy_emit(p, T_CALL, 11, 7, 0, 0);       /* 0x41 * 3 + 1 */
        p = toy_emit(p, T_WADD, 0, 4, 0, 0);        /* w = 0xfffffffe */
        p = toy_emit(p, T_WADD, 0, 7, 0, 0);        /* w += 0x41 wraps to 0x3f */
        p = toy_emit(p, T_SLT, 12, 4, 7, 0);        /* -2 < 0x41 */
        p = toy_emit(p, T_HALT, 0, 0, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        memset(mem + DATA, 0, 64);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[5], (uint64_t)-2);
        CU_ASSERT_EQUAL(cpu.r[6], 0xff);
        CU_ASSERT_EQUAL(cpu.r[8], 0x41);
        CU_ASSERT_EQUAL(cpu.r[9], UINT64_MAX);
        CU_ASSERT_EQUAL(cpu.r[10], (uint64_t)-2);
        CU_ASSERT_EQUAL(cpu.r[11], 0x41 * 3 + 1);
        CU_ASSERT_EQUAL(cpu.helper_calls, 1);
        CU_ASSERT_EQUAL(cpu.w, 0x3f);
        CU_ASSERT_EQUAL(cpu.r[12], 1);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* indirect jumps: a "call" through jr to a subroutine that returns with jr */
static void test_indirect(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        /* r1 = counter, r2 = 100; loop: r15 = ret; jr sub; ret: r2--; bne */
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 2, 0, 0, 100);
        p = toy_emit(p, T_LI, 0, 0, 0, 0);
        p = toy_emit(p, T_LI, 14, 0, 0, 0x3000);
        uint8_t *loop = p;
        p = toy_emit(p, T_LI, 15, 0, 0, (int32_t)(p + 16 - mem));
        p = toy_emit(p, T_JR, 0, 14, 0, 0);
        p = toy_emit(p, T_ADDI, 2, 2, 0, -1);
        p = toy_emit(p, T_BNE, 0, 2, 0, (int32_t)(loop - p));
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        p = mem + 0x3000;
        p = toy_emit(p, T_ADDI, 1, 1, 0, 3);
        p = toy_emit(p, T_JR, 0, 15, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 300);
        jit_stats st;
        jit_get_stats(e, &st);
        CU_ASSERT(st.blocks_translated <= 6);
        /* 200 indirect jumps, nearly all resolved without leaving the code */
        CU_ASSERT(st.dispatches < 20);
        if (st.dispatches >= 20)
            printf("  %s: %llu dispatches\n", backend_names[k], (unsigned long long)st.dispatches);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* The jump cache is keyed by the block key (flags) too: an indirect jump from
 * a block translated under other flags must not reach the translation of the
 * old flags, and the jump right after a helper changed the flags must look up
 * the new ones.  The subroutine adds flags * 1, the code after setf flags *
 * 100; flags go 0 -> 2 -> 1 (hand-traced: 0 + 200 + 2 + 100 = 302; a jump
 * into the flags-0 subroutine would give 300, into the flags-2 code after the
 * second setf 402). */
static void test_indirect_flags(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 2, 0, 0, 2);
        p = toy_emit(p, T_LI, 0, 0, 0, 0);
        p = toy_emit(p, T_LI, 14, 0, 0, 0x3000);
        uint8_t *loop = p;
        p = toy_emit(p, T_LI, 15, 0, 0, (int32_t)(p + 16 - mem));
        p = toy_emit(p, T_JR, 0, 14, 0, 0);
        p = toy_emit(p, T_SETF, 0, 2, 0, 0);
        p = toy_emit(p, T_FLAGADD, 1, 1, 0, 100);
        p = toy_emit(p, T_ADDI, 2, 2, 0, -1);
        p = toy_emit(p, T_BNE, 0, 2, 0, (int32_t)(loop - p));
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        p = mem + 0x3000;
        p = toy_emit(p, T_FLAGADD, 1, 1, 0, 1);
        p = toy_emit(p, T_JR, 0, 15, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 302);
        CU_ASSERT_EQUAL(cpu.h.flags, 1);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* self-modifying code: cached until invalidated, then retranslated; chained
 * jumps into an invalidated block are unlinked */
static void test_invalidate(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        /* A: r2 = 3; loop: jump to B (chained); B: r1 += 5; r2--; bne loop */
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 2, 0, 0, 3);
        p = toy_emit(p, T_LI, 0, 0, 0, 0);
        uint8_t *loop = p;
        p = toy_emit(p, T_J, 0, 0, 0, (int32_t)(mem + 0x5000 - p));
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        uint8_t *b = mem + 0x5000;
        p = toy_emit(b, T_ADDI, 1, 1, 0, 5);
        p = toy_emit(p, T_ADDI, 2, 2, 0, -1);
        p = toy_emit(p, T_BNE, 0, 2, 0, (int32_t)(loop - p));
        p = toy_emit(p, T_J, 0, 0, 0, (int32_t)(loop + 8 - p));
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 15);
        CU_ASSERT(jit_page_has_code(e, 0x5000));
        CU_ASSERT(!jit_page_has_code(e, 0x7000));
        /* change B's immediate without telling the engine: the old code runs */
        toy_emit(b, T_ADDI, 1, 1, 0, 7);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 15);
        jit_invalidate(e, 0x5004, 4);   /* one byte range inside B */
        CU_ASSERT(jit_page_has_code(e, 0x5000));    /* the block at 0x5018 stays */
        jit_invalidate(e, 0x5000, 4096);
        CU_ASSERT(!jit_page_has_code(e, 0x5000));
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 21);
        CU_ASSERT(jit_page_has_code(e, 0x5000));
        jit_stats st;
        jit_get_stats(e, &st);
        CU_ASSERT(st.invalidations >= 1);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* a cache far too small for the program: it is flushed and refilled, and the
 * program still computes the right thing */
static void test_flush_when_full(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        /* 3000 blocks of "addi r1, r1, i; j next", run twice */
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 2, 0, 0, 2);
        p = toy_emit(p, T_LI, 0, 0, 0, 0);
        uint8_t *loop = p;
        uint64_t expect = 0;
        for (int i = 0; i < 3000; i++) {
            p = toy_emit(p, T_ADDI, 1, 1, 0, i);
            p = toy_emit(p, T_J, 0, 0, 0, 8);
            expect += 2 * (uint64_t)i;
        }
        p = toy_emit(p, T_ADDI, 2, 2, 0, -1);
        p = toy_emit(p, T_BNE, 0, 2, 0, (int32_t)(loop - p));
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        CU_ASSERT_FATAL(p < mem + DATA);
        jit_engine *e = new_engine(k, 128 * 1024);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], expect);
        jit_stats st;
        jit_get_stats(e, &st);
        CU_ASSERT(st.flushes >= 1);
        CU_ASSERT(st.blocks_translated > 3000);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* a guest load from an unmapped page: JIT_EXIT_FAULT at the load, with the
 * registers written earlier in the same block in the state struct */
static void test_fault(void)
{
    for (unsigned k = 0; k < NB; k++) {
        for (int store = 0; store < 2; store++) {
            clear_code();
            uint8_t *p = mem + CODE;
            p = toy_emit(p, T_LI, 3, 0, 0, GUARD);
            p = toy_emit(p, T_LI, 2, 0, 0, 42);
            p = toy_emit(p, T_ADDI, 4, 2, 0, 1);
            if (store)
                p = toy_emit(p, T_ST, 0, 3, 2, 16);
            else
                p = toy_emit(p, T_LD, 5, 3, 0, 16);
            p = toy_emit(p, T_LI, 2, 0, 0, 7);
            p = toy_emit(p, T_HALT, 0, 0, 0, 0);
            jit_engine *e = new_engine(k, 0);
            toy_cpu cpu;
            cpu_init(e, &cpu);
            cpu.r[5] = 1234;
            CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_FAULT);
            CU_ASSERT_EQUAL(cpu.h.pc, CODE + 3 * 8);
            CU_ASSERT_EQUAL(cpu.r[2], 42);
            CU_ASSERT_EQUAL(cpu.r[3], GUARD);
            CU_ASSERT_EQUAL(cpu.r[4], 43);
            CU_ASSERT_EQUAL(cpu.r[5], 1234);
            CU_ASSERT_EQUAL(cpu.h.fault_addr, GUARD + 16);
            CU_ASSERT_EQUAL(cpu.h.fault_kind, JIT_FAULT_PROT);
            CU_ASSERT_EQUAL(cpu.h.fault_access, store ? JIT_ACCESS_WRITE : JIT_ACCESS_READ);
            /* the same CPU runs on afterwards */
            CU_ASSERT_EQUAL(run(&cpu, CODE + 4 * 8), JIT_EXIT_HALT);
            CU_ASSERT_EQUAL(cpu.r[2], 7);
            jit_cpu_destroy(&cpu.h);
            jit_engine_free(e);
        }
    }
}

/* A load whose destination global was just changed (dirty in a host
 * register) faults: the guest register keeps the changed value, not the
 * loaded one and not the one in env.  Both widths, and a 32-bit load. */
static void test_fault_dirty_dest(void)
{
    for (unsigned k = 0; k < NB; k++)
        for (int lw = 0; lw < 2; lw++) {
            clear_code();
            uint8_t *p = mem + CODE;
            p = toy_emit(p, T_LI, 3, 0, 0, GUARD);
            p = toy_emit(p, T_ADDI, 5, 5, 0, 1);
            p = toy_emit(p, lw ? T_LW : T_LD, 5, 3, 0, 8);
            p = toy_emit(p, T_HALT, 0, 0, 0, 0);
            jit_engine *e = new_engine(k, 0);
            toy_cpu cpu;
            cpu_init(e, &cpu);
            cpu.r[5] = 1234;
            CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_FAULT);
            CU_ASSERT_EQUAL(cpu.h.pc, CODE + 2 * 8);
            CU_ASSERT_EQUAL(cpu.r[5], 1235);
            CU_ASSERT_EQUAL(cpu.h.fault_addr, GUARD + 8);
            jit_cpu_destroy(&cpu.h);
            jit_engine_free(e);
        }
}

/* a helper declared MAY_EXIT leaves through jit_cpu_exit with pc and globals */
static void test_helper_exit(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 2, 0, 0, 5);
        p = toy_emit(p, T_CALL, 3, 2, 0, 1);
        p = toy_emit(p, T_HALT, 0, 0, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_EXCEPTION);
        CU_ASSERT_EQUAL(cpu.h.exit_arg, 104);
        CU_ASSERT_EQUAL(cpu.h.pc, CODE + 8);
        CU_ASSERT_EQUAL(cpu.r[2], 5);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

static void *kicker(void *arg)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    jit_cpu_kick(arg);
    return NULL;
}

/* an endless chained loop leaves when another thread kicks the CPU */
static void test_kick(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_ADDI, 1, 1, 0, 1);
        p = toy_emit(p, T_J, 0, 0, 0, -8);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        pthread_t t;
        pthread_create(&t, NULL, kicker, &cpu.h);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_INTERRUPT);
        pthread_join(t, NULL);
        CU_ASSERT(cpu.r[1] > 0);
        CU_ASSERT_EQUAL(cpu.h.exit_request, 0);
        /* and resumes where it stopped */
        uint64_t before = cpu.r[1];
        pthread_create(&t, NULL, kicker, &cpu.h);
        CU_ASSERT_EQUAL(run(&cpu, cpu.h.pc), JIT_EXIT_INTERRUPT);
        pthread_join(t, NULL);
        CU_ASSERT(cpu.r[1] > before);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* threads: each runs a loop that atomically adds to a shared counter and
 * keeps a private sum, while the main thread flushes and invalidates */
#define NTHREADS 4
#define ITERS 20000

struct thr {
    jit_engine *e;
    toy_cpu cpu;
    jit_exit_reason r;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    t->r = run(&t->cpu, CODE);
    return NULL;
}

static void test_threads(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        /* r2 = ITERS, r3 = &counter, r4 = 1; loop: amoadd r5, [r3], r4; r1 += r2;
         * j mid; mid: r2--; bne r2, r0, loop; halt */
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 2, 0, 0, ITERS);
        p = toy_emit(p, T_LI, 3, 0, 0, DATA);
        p = toy_emit(p, T_LI, 4, 0, 0, 1);
        p = toy_emit(p, T_LI, 0, 0, 0, 0);
        uint8_t *loop = p;
        p = toy_emit(p, T_AMOADD, 5, 3, 4, 0);
        p = toy_emit(p, T_ADD, 1, 1, 2, 0);
        p = toy_emit(p, T_J, 0, 0, 0, 8);
        p = toy_emit(p, T_ADDI, 2, 2, 0, -1);
        p = toy_emit(p, T_BNE, 0, 2, 0, (int32_t)(loop - p));
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        memset(mem + DATA, 0, 8);
        jit_engine *e = new_engine(k, 0);
        struct thr th[NTHREADS];
        pthread_t tid[NTHREADS];
        for (int i = 0; i < NTHREADS; i++) {
            th[i].e = e;
            cpu_init(e, &th[i].cpu);
            pthread_create(&tid[i], NULL, thread_main, &th[i]);
        }
        for (int i = 0; i < 20; i++) {
            struct timespec ts = { 0, 1000 * 1000 };
            nanosleep(&ts, NULL);
            if (i & 1)
                jit_flush(e);
            else
                jit_invalidate(e, CODE, 0x100);
        }
        for (int i = 0; i < NTHREADS; i++) {
            pthread_join(tid[i], NULL);
            CU_ASSERT_EQUAL(th[i].r, JIT_EXIT_HALT);
            CU_ASSERT_EQUAL(th[i].cpu.r[1], (uint64_t)ITERS * (ITERS + 1) / 2);
            jit_cpu_destroy(&th[i].cpu.h);
        }
        uint64_t counter;
        memcpy(&counter, mem + DATA, 8);
        CU_ASSERT_EQUAL(counter, (uint64_t)NTHREADS * ITERS);
        jit_engine_free(e);
    }
}

/* a syscall exit returns the next pc and the argument */
static void test_syscall(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 1, 0, 0, 9);
        p = toy_emit(p, T_SYSCALL, 0, 0, 0, 64);
        p = toy_emit(p, T_ADDI, 1, 1, 0, 1);
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_SYSCALL);
        CU_ASSERT_EQUAL(cpu.h.exit_arg, 64);
        CU_ASSERT_EQUAL(cpu.h.pc, CODE + 16);
        CU_ASSERT_EQUAL(cpu.r[1], 9);
        cpu.r[1] = 100;     /* the "kernel" writes a result */
        CU_ASSERT_EQUAL(run(&cpu, cpu.h.pc), JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(cpu.r[1], 101);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* debug output: every -d item writes something recognisable */
static void test_log(void)
{
    unsigned mask = 0;
    CU_ASSERT_EQUAL(jit_parse_log("in_asm,op,op_opt,out_asm,exec", &mask), 0);
    CU_ASSERT_EQUAL(mask, 31);
    CU_ASSERT_EQUAL(jit_parse_log("in_asm,bogus", &mask), -EINVAL);
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 1, 0, 0, 9);
        p = toy_emit(p, T_HALT, 1, 0, 0, 0);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        jit_options o = { .backend = backends[k], .log = 31, .log_file = f,
                          .pin_after = pin_after[k] };
        jit_engine *e;
        CU_ASSERT_EQUAL_FATAL(jit_engine_new(&toy_frontend, &o, &e), 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_HALT);
        fclose(f);
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "IN: toy"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "li r1, r0, r0, 9"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "OP:"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "OP after optimization:"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Trace:"));
        if (backends[k] == JIT_BACKEND_NATIVE) {
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "OUT:"));
            /* disassembled through binutils' objdump when it is there: every
             * block starts with the exit_request check */
            if (access("/usr/bin/objdump", X_OK) == 0)
                CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cmpl   $0x0,0xc(%rbp)"));
        }
        free(buf);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* A loop at a block's start runs inside the block's code with its globals in
 * registers (the native backend also moves globals it does not use out of the
 * pin registers); a fault in the fourth iteration must still see every global
 * as the guest left it: r1 and r6 are only ever in registers inside the loop. */
static void test_loop_fault(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 3, 0, 0, GUARD - 24);
        p = toy_emit(p, T_LI, 1, 0, 0, 0);
        p = toy_emit(p, T_LI, 6, 0, 0, 0);
        uint8_t *loop = p;
        p = toy_emit(p, T_ADDI, 1, 1, 0, 1);
        p = toy_emit(p, T_ADD, 6, 6, 1, 0);
        uint8_t *ld = p;
        p = toy_emit(p, T_LD, 5, 3, 0, 0);
        p = toy_emit(p, T_ADDI, 3, 3, 0, 8);
        p = toy_emit(p, T_BNE, 0, 1, 4, (int32_t)(loop - p));   /* r4 = 0: forever */
        p = toy_emit(p, T_HALT, 0, 0, 0, 0);
        jit_engine *e = new_engine(k, 0);
        toy_cpu cpu;
        cpu_init(e, &cpu);
        CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_FAULT);
        CU_ASSERT_EQUAL(cpu.h.pc, (uint64_t)(ld - mem));
        CU_ASSERT_EQUAL(cpu.r[1], 4);
        CU_ASSERT_EQUAL(cpu.r[6], 1 + 2 + 3 + 4);
        CU_ASSERT_EQUAL(cpu.r[3], GUARD);
        CU_ASSERT_EQUAL(cpu.r[5], 0);
        CU_ASSERT_EQUAL(cpu.h.fault_addr, GUARD);
        if (cpu.r[1] != 4 || cpu.r[6] != 10 || cpu.r[3] != GUARD)
            printf("  %s: r1 %llu r6 %llu r3 0x%llx\n", backend_names[k],
                   (unsigned long long)cpu.r[1], (unsigned long long)cpu.r[6],
                   (unsigned long long)cpu.r[3]);
        jit_cpu_destroy(&cpu.h);
        jit_engine_free(e);
    }
}

/* A thread spins in a loop that lives inside one block; another thread
 * rewrites the loop's first instruction into a halt and invalidates it.  The
 * looping thread must leave its block and run the new code (there is no chain
 * to unlink for a loop inside a block).  A thread that has not halted after
 * 20 s is kicked and the test fails rather than hanging. */
struct spin {
    toy_cpu cpu;
    jit_exit_reason r;
    volatile int done;
};

static void *spin_main(void *arg)
{
    struct spin *s = arg;
    s->r = run(&s->cpu, CODE);
    s->done = 1;
    return NULL;
}

static void test_loop_invalidate(void)
{
    for (unsigned k = 0; k < NB; k++) {
        clear_code();
        uint8_t *p = mem + CODE;
        p = toy_emit(p, T_LI, 3, 0, 0, DATA);
        uint8_t *loop = p;
        p = toy_emit(p, T_ADDI, 1, 1, 0, 1);
        p = toy_emit(p, T_ST, 0, 3, 1, 0);
        p = toy_emit(p, T_J, 0, 0, 0, (int32_t)(loop - p));
        memset(mem + DATA, 0, 8);
        jit_engine *e = new_engine(k, 0);
        struct spin s;
        memset(&s, 0, sizeof(s));
        cpu_init(e, &s.cpu);
        pthread_t th;
        pthread_create(&th, NULL, spin_main, &s);
        volatile uint64_t *counter = (volatile uint64_t *)(mem + DATA);
        while (*counter < 1000)
            sched_yield();
        toy_emit(loop, T_HALT, 0, 0, 0, 0);
        jit_invalidate(e, (uint64_t)(loop - mem), 8);
        for (int i = 0; i < 2000 && !s.done; i++)
            usleep(10000);
        if (!s.done) {
            printf("  %s: the loop did not leave its invalidated block\n", backend_names[k]);
            jit_cpu_kick(&s.cpu.h);
        }
        pthread_join(th, NULL);
        CU_ASSERT_EQUAL(s.r, JIT_EXIT_HALT);
        CU_ASSERT_EQUAL(s.cpu.h.pc, (uint64_t)(loop - mem));
        jit_cpu_destroy(&s.cpu.h);
        jit_engine_free(e);
    }
}

/* Addresses past the guest space (guest_limit = MEM_SIZE) fault with the exact
 * guest address and precise registers, and never reach the host memory around
 * the guest's: the index at or above the limit (just past it, negative, far),
 * and an index inside with a displacement that runs into the guard above. */
static void test_guest_limit(void)
{
    static const struct { uint64_t base; int32_t disp; } cases[] = {
        { MEM_SIZE, 0 }, { (uint64_t)-8, 0 }, { (uint64_t)-4096, 8 },
        { 1ull << 40, -16 }, { 0x8000000000000000ull, 0 }, { MEM_SIZE - 8, 8 },
    };
    static const unsigned ops[] = { T_LD, T_LBU, T_ST, T_SB, T_AMOADD };
    for (unsigned k = 0; k < NB; k++)
        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
                bool amo = ops[o] == T_AMOADD;
                if (amo && cases[i].disp)
                    continue;           /* atomics take no displacement */
                clear_code();
                uint8_t *p = mem + CODE;
                p = toy_emit(p, T_ADDI, 5, 5, 0, 1);
                p = toy_emit(p, ops[o], amo ? 6 : 7, 3, 4, cases[i].disp);
                p = toy_emit(p, T_HALT, 0, 0, 0, 0);
                jit_engine *e = new_engine(k, 0);
                toy_cpu cpu;
                cpu_init(e, &cpu);
                cpu.r[3] = cases[i].base;
                cpu.r[4] = 0x5555;
                cpu.r[5] = 1234;
                CU_ASSERT_EQUAL(run(&cpu, CODE), JIT_EXIT_FAULT);
                CU_ASSERT_EQUAL(cpu.h.pc, CODE + 8);
                CU_ASSERT_EQUAL(cpu.r[5], 1235);
                CU_ASSERT_EQUAL(cpu.h.fault_addr, cases[i].base + (uint64_t)(int64_t)cases[i].disp);
                if (cases[i].base >= MEM_SIZE)  /* the guard is PROT_NONE: either kind there */
                    CU_ASSERT_EQUAL(cpu.h.fault_kind, JIT_FAULT_UNMAPPED);
                bool store = ops[o] == T_ST || ops[o] == T_SB || amo;
                CU_ASSERT_EQUAL(cpu.h.fault_access, store ? JIT_ACCESS_WRITE : JIT_ACCESS_READ);
                jit_cpu_destroy(&cpu.h);
                jit_engine_free(e);
            }
}

int main(void)
{
    /* the guest space with 2 GiB of PROT_NONE on either side, as the user-mode
     * emulator lays it out (jit/x86.c relies on them for displacements) */
    size_t guard = 2ul << 30;
    uint8_t *res = mmap(NULL, MEM_SIZE + 2 * guard, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (res == MAP_FAILED)
        return 1;
    mem = res + guard;
    if (mprotect(mem, MEM_SIZE, PROT_READ | PROT_WRITE))
        return 1;
    mprotect(mem + GUARD, 4096, PROT_NONE);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("jit_engine", NULL, NULL);
    CU_add_test(s, "loop_and_chaining", test_loop);
    CU_add_test(s, "memory_and_ops", test_memory_and_ops);
    CU_add_test(s, "indirect_jumps", test_indirect);
    CU_add_test(s, "indirect_jumps_flags", test_indirect_flags);
    CU_add_test(s, "invalidate_smc", test_invalidate);
    CU_add_test(s, "flush_when_full", test_flush_when_full);
    CU_add_test(s, "fault_precise_state", test_fault);
    CU_add_test(s, "helper_exit", test_helper_exit);
    CU_add_test(s, "kick", test_kick);
    CU_add_test(s, "threads_flush_invalidate", test_threads);
    CU_add_test(s, "syscall_exit", test_syscall);
    CU_add_test(s, "debug_log", test_log);
    CU_add_test(s, "loop_fault_precise_state", test_loop_fault);
    CU_add_test(s, "fault_load_into_dirty_global", test_fault_dirty_dest);
    CU_add_test(s, "loop_invalidate_running", test_loop_invalidate);
    CU_add_test(s, "guest_limit", test_guest_limit);
    return cunit_run_all();
}
