/* Signals: a handler installed with sigaction, SIGSEGV from a bad pointer with the
 * right si_addr (and recovery by siglongjmp), SIGSEGV recovery by editing the saved
 * pc in the ucontext, alarm()/SIGALRM interrupting a pause, blocking and pending
 * signals, SA_RESETHAND, SIGILL from an illegal instruction, and kill(). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ucontext.h>
#include <unistd.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static sigjmp_buf jb;
static volatile void *fault_addr;
static volatile int got_usr1, got_alrm, got_segv, got_ill;
static volatile uint64_t handler_fp_check;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    got_usr1 = sig;
    /* FP state must survive the handler */
    volatile double x = 1.25;
    handler_fp_check = (uint64_t)(x * 4);
}

static void on_segv_jump(int sig, siginfo_t *si, void *uc)
{
    got_segv++;
    fault_addr = si->si_addr;
    siglongjmp(jb, 1);
}

static void on_segv_skip(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    got_segv++;
    fault_addr = si->si_addr;
    /* skip the faulting 4-byte load and pretend it loaded 77 into a0 */
    uc->uc_mcontext.__gregs[REG_PC] += 4;
    uc->uc_mcontext.__gregs[REG_A0] = 77;
}

static void on_ill(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    got_ill++;
    CHECK((uint64_t)si->si_addr == uc->uc_mcontext.__gregs[REG_PC]);
    uc->uc_mcontext.__gregs[REG_PC] += 4;
}

static void on_alrm(int sig) { got_alrm++; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    volatile double keep = 3.5;
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(got_usr1 == SIGUSR1 && handler_fp_check == 5 && keep == 3.5);
    printf("usr1: %d\n", got_usr1);

    /* blocked, then pending, then delivered on unblock */
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    got_usr1 = 0;
    sigprocmask(SIG_BLOCK, &s, &old);
    raise(SIGUSR1);
    CHECK(got_usr1 == 0);
    sigset_t pend;
    sigpending(&pend);
    CHECK(sigismember(&pend, SIGUSR1) == 1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(got_usr1 == SIGUSR1);
    printf("pending: ok\n");

    /* SIGSEGV from a bad pointer, recovered with siglongjmp */
    sa.sa_sigaction = on_segv_jump;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    volatile int *bad = (int *)0x1000;
    if (sigsetjmp(jb, 1) == 0) {
        *bad = 1;
        CHECK(0);
    }
    CHECK(got_segv == 1 && fault_addr == (void *)0x1000);
    printf("segv write at %p\n", (void *)fault_addr);
    if (sigsetjmp(jb, 1) == 0) {
        volatile int v = *(volatile int *)0xdead000;
        (void)v;
        CHECK(0);
    }
    CHECK(got_segv == 2 && fault_addr == (void *)0xdead000);
    printf("segv read at %p\n", (void *)fault_addr);

    /* executing an unmapped address, and a readable but not executable page */
    if (sigsetjmp(jb, 1) == 0) {
        ((void (*)(void))0x3000)();
        CHECK(0);
    }
    CHECK(got_segv == 3 && fault_addr == (void *)0x3000);
    printf("segv exec at %p\n", (void *)fault_addr);
    static uint32_t data_code[4] = { 0x00008067 };   /* ret, in a data page */
    if (sigsetjmp(jb, 1) == 0) {
        ((void (*)(void))data_code)();
        CHECK(0);
    }
    CHECK(got_segv == 4 && fault_addr == (void *)data_code);
    printf("segv exec of data: %d\n", fault_addr == (void *)data_code);

    /* SIGSEGV handled by changing the saved pc */
    sa.sa_sigaction = on_segv_skip;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    long r;
    __asm__ volatile("li a0, 5\n mv t0, %1\n .option push\n .option norvc\n lw a0, 0(t0)\n .option pop\n mv %0, a0"
                     : "=r"(r) : "r"(0x2000) : "a0", "t0", "memory");
    CHECK(r == 77 && got_segv == 5 && fault_addr == (void *)0x2000);
    printf("segv skip: %ld\n", r);

    /* SIGILL */
    sa.sa_sigaction = on_ill;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGILL, &sa, NULL) == 0);
    __asm__ volatile(".option push\n .option norvc\n .word 0xffffffff\n .option pop\n");
    CHECK(got_ill == 1);
    printf("sigill: %d\n", got_ill);

    /* alarm interrupting pause() */
    signal(SIGALRM, on_alrm);
    alarm(1);
    pause();
    CHECK(got_alrm == 1);
    printf("alarm: %d\n", got_alrm);

    /* SA_RESETHAND: second SIGUSR2 uses the default action (ignored here: SIG_IGN) */
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    got_usr1 = 0;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    raise(SIGUSR2);
    CHECK(got_usr1 == SIGUSR2);
    struct sigaction cur;
    sigaction(SIGUSR2, NULL, &cur);
    CHECK(cur.sa_handler == SIG_DFL);
    printf("signals: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
