/* Guest signals: actions, masks, frames and sigreturn.
 *
 * The host does the routing: each guest thread is a host thread whose host signal
 * mask mirrors the guest's (less the synchronous signals the emulator itself needs),
 * and a guest action is mirrored as host SIG_DFL / SIG_IGN / our handler.  So the
 * host kernel picks the receiving thread, and default-fatal signals kill the
 * process exactly as they would kill the guest.  Our handler only records the
 * signal and asks the CPU to stop; the frame is built between blocks.
 *
 * The frame is the Linux riscv64 one (uapi <asm/sigcontext.h>, <asm/ucontext.h>,
 * arch/riscv rt_sigframe): siginfo, then ucontext with uc_mcontext 16-aligned at 176:
 * pc and x1..x31, then the D-extension state f0..f31 and fcsr. */
#include "user.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct user_sigaction user_sigactions[USER_NSIG + 1];
uint64_t user_sigtramp;
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

#define SYNC_SIGS ((1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)) | (1ULL << (SIGILL - 1)) \
                   | (1ULL << (SIGFPE - 1)) | (1ULL << (SIGTRAP - 1)))
#define UNBLOCKABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

/* riscv64 flags of struct sigaction (asm-generic): the same values as x86-64. */
#define RV_SA_SIGINFO 0x00000004ULL
#define RV_SA_ONSTACK 0x08000000ULL
#define RV_SA_RESTART 0x10000000ULL
#define RV_SA_NODEFER 0x40000000ULL
#define RV_SA_RESETHAND 0x80000000ULL

struct rv_ucontext {
    uint64_t uc_flags;
    uint64_t uc_link;
    uint64_t ss_sp;
    int32_t ss_flags;
    int32_t ss_pad;
    uint64_t ss_size;
    uint64_t uc_sigmask;
    uint8_t unused[120];
    uint64_t pad;            /* uc_mcontext is 16-byte aligned */
    uint64_t regs[32];       /* regs[0] = pc, regs[i] = x[i] */
    uint64_t fregs[32];
    uint32_t fcsr;
    uint8_t fp_rest[528 - 256 - 4];
};
_Static_assert(__builtin_offsetof(struct rv_ucontext, regs) == 176, "uc_mcontext at 176");
_Static_assert(sizeof(struct rv_ucontext) == 960, "riscv64 ucontext is 960 bytes");

struct rv_sigframe {
    uint8_t info[128];
    struct rv_ucontext uc;
};

static inline uint64_t bit(int sig)
{
    return 1ULL << (sig - 1);
}

static bool default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

/* Signals whose default action ends the process (and that can be caught): the
 * emulator catches them even when the guest leaves the default, so that it can
 * release the guest's robust futexes before dying (user_die_by_signal). */
static bool default_kills(int sig)
{
    return !default_ignored(sig) && sig != SIGKILL && sig != SIGSTOP && sig != SIGTSTP
           && sig != SIGTTIN && sig != SIGTTOU;
}

/* The host signal mask, set with the system call itself: glibc's pthread_sigmask
 * and sigprocmask quietly leave out signals 32 and 33 (its internal SIGCANCEL and
 * SIGSETXID), but a guest that blocks them must have them blocked (glibc's
 * SIGEV_THREAD timers wait for 32 in sigwaitinfo with it blocked).  The emulator
 * itself uses neither pthread_cancel nor glibc's set*id broadcast. */
uint64_t user_host_sigmask(int how, uint64_t set)
{
    uint64_t old = 0;
    syscall(SYS_rt_sigprocmask, how, &set, &old, 8);
    return old;
}

#if defined(__x86_64__)
/* An action for 32 or 33, which glibc's sigaction refuses: the raw call needs a
 * restorer, the code an x86-64 handler returns to, making rt_sigreturn (15). */
void user_host_restorer(void);
__asm__(".text\n"
        ".type user_host_restorer, @function\n"
        "user_host_restorer:\n"
        "\tmovq $15, %rax\n"
        "\tsyscall\n"
        ".size user_host_restorer, . - user_host_restorer\n");

static int raw_sigaction(int sig, const struct sigaction *sa)
{
    struct {
        void *handler;
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
    } k = { (void *)sa->sa_sigaction, (unsigned long)sa->sa_flags | 0x04000000 /* SA_RESTORER */,
            user_host_restorer, 0 };
    memcpy(&k.mask, &sa->sa_mask, sizeof(k.mask));   /* the kernel's 64 bits come first */
    return (int)syscall(SYS_rt_sigaction, sig, &k, NULL, 8);
}
#endif

/* The emulator itself crashed: die at once, without trusting its state. */
static void __attribute__((noreturn)) die_now(int sig)
{
    /* Do not leave a core file of the emulator where the guest's would be. */
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_CORE, &rl);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    user_host_sigmask(SIG_UNBLOCK, bit(sig));
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
    /* The signal does not kill by default (or could not be raised). */
    _exit(128 + sig);
}

void user_die_by_signal(int sig)
{
    /* Linux releases the robust futexes of every thread of a process a signal
     * kills (the other processes sharing them see EOWNERDEAD). */
    user_robust_release_all();
    die_now(sig);
}

void user_signal_set_host_mask(uint64_t guest_mask)
{
    user_host_sigmask(SIG_SETMASK, guest_mask & ~SYNC_SIGS);
}

/* ---- the host handler ------------------------------------------------------------ */

static void record(struct user_thread *t, int sig, const siginfo_t *info)
{
    t->pending_info[sig] = *info;
    __atomic_or_fetch(&t->pending, bit(sig), __ATOMIC_SEQ_CST);
    t->pending_any = 1;
    if (t->cpu)
        riscv_cpu_interrupt(t->cpu);
}

static void host_handler(int sig, siginfo_t *info, void *uc)
{
    struct user_thread *t = user_self;
    int saved_errno = errno;
    if (SYNC_SIGS & bit(sig)) {
        /* Synchronous: either a write to a page whose code we translated, or a
         * guest fault in generated code, or a bug of the emulator itself. */
        uint64_t ha = (uint64_t)(uintptr_t)info->si_addr;
        bool in_guest = ha >= (uint64_t)(uintptr_t)guest_base
                     && ha - (uint64_t)(uintptr_t)guest_base < USER_SPACE_SIZE;
        if (sig == SIGSEGV && in_guest && user_mem_code_fault(ha - (uint64_t)(uintptr_t)guest_base)) {
            errno = saved_errno;
            return;
        }
        if (info->si_code > 0 && in_guest && t && t->in_syscall && (sig == SIGSEGV || sig == SIGBUS)) {
            /* The emulator's own copy to or from guest memory, which another
             * guest thread unmapped or protected after the check: EFAULT. */
            errno = saved_errno;
            siglongjmp(t->syscall_fault, 1);
        }
        riscv_cpu *cpu = riscv_cpu_current();
        if (info->si_code > 0 && cpu && (sig == SIGSEGV || sig == SIGBUS)) {
            /* A guest access made by generated code or the interpreter: does not
             * return, riscv_cpu_run() reports the fault. */
            riscv_cpu_host_fault(cpu, info, uc);
        }
        if (info->si_code <= 0 && t) {
            /* sent by kill/tgkill: an ordinary asynchronous signal */
            record(t, sig, info);
            user_safe_syscall_adjust(uc);
            errno = saved_errno;
            return;
        }
        user_log("vireo-riscv64: host signal %d at %p in the emulator itself\n", sig, info->si_addr);
        die_now(sig);
    }
    if (t) {
        record(t, sig, info);
        user_safe_syscall_adjust(uc);
    } else if (user_sigactions[sig].handler == (uint64_t)(uintptr_t)SIG_DFL) {
        /* a thread that is not (or no longer) a guest thread: the default action */
        user_die_by_signal(sig);
    }
    errno = saved_errno;
}

static int install_host(int sig, uint64_t guest_handler)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigfillset(&sa.sa_mask);
    if (SYNC_SIGS & bit(sig)) {
        sa.sa_sigaction = host_handler;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
    } else if (guest_handler == (uint64_t)(uintptr_t)SIG_DFL && !default_kills(sig)) {
        sa.sa_handler = SIG_DFL;
    } else if (guest_handler == (uint64_t)(uintptr_t)SIG_IGN) {
        sa.sa_handler = SIG_IGN;
    } else {
        sa.sa_sigaction = host_handler;
        sa.sa_flags = SA_SIGINFO;
    }
#if defined(__x86_64__)
    if (sig == 32 || sig == 33)
        return raw_sigaction(sig, &sa);
#endif
    return sigaction(sig, &sa, NULL);
}

static void *no_op_thread(void *arg)
{
    return arg;
}

void user_signal_init(void)
{
    /* The rt_sigreturn trampoline handlers return to (Linux uses the vDSO). */
    int64_t a = user_mmap(0, USER_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a > 0) {
        uint32_t *code = g2h((uint64_t)a);
        code[0] = 0x08b00893; /* addi a7, zero, 139 (rt_sigreturn) */
        code[1] = 0x00000073; /* ecall */
        user_mprotect((uint64_t)a, USER_PAGE, PROT_READ | PROT_EXEC);
        user_sigtramp = (uint64_t)a;
    }
    /* Host glibc installs its own actions for 32 and 33 when the process first
     * creates a thread; have that happen now, before the guest sets its own. */
    pthread_t th;
    if (pthread_create(&th, NULL, no_op_thread, NULL) == 0)
        pthread_join(th, NULL);
    /* Inherited ignored signals stay ignored, as across a real execve; the
     * others start at their default. */
    for (int sig = 1; sig <= USER_NSIG; sig++) {
        struct sigaction cur;
        user_sigactions[sig].handler = 0;
        if (!(SYNC_SIGS & bit(sig)) && sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
            user_sigactions[sig].handler = (uint64_t)(uintptr_t)SIG_IGN;
        else if ((SYNC_SIGS & bit(sig)) || sig == 32 || sig == 33 || default_kills(sig))
            install_host(sig, 0);
    }
}

/* fork: the actions table is whole in the child. */
void user_signal_fork_prepare(void)
{
    pthread_mutex_lock(&sig_lock);
}

void user_signal_fork_done(bool child)
{
    if (child)
        pthread_mutex_init(&sig_lock, NULL);
    else
        pthread_mutex_unlock(&sig_lock);
}

/* ---- system calls -------------------------------------------------------------- */

int64_t user_sys_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t size)
{
    if (sig < 1 || sig > USER_NSIG || size != 8)
        return -EINVAL;
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    if ((act && !user_access_ok(act, 24, false)) || (oact && !user_access_ok(oact, 24, true)))
        return -EFAULT;
    /* riscv64 layout: handler, flags, mask (no sa_restorer); read before taking
     * the lock, since the read may fault (see user_thread.syscall_fault). */
    struct user_sigaction nact;
    if (act)
        memcpy(&nact, g2h(act), sizeof(nact));
    pthread_mutex_lock(&sig_lock);
    struct user_sigaction old = user_sigactions[sig];
    if (act) {
        user_sigactions[sig] = nact;
        if (!(SYNC_SIGS & bit(sig)))
            install_host(sig, user_sigactions[sig].handler);
    }
    pthread_mutex_unlock(&sig_lock);
    if (oact)
        memcpy(g2h(oact), &old, sizeof(old));
    return 0;
}

int64_t user_sys_rt_sigprocmask(int how, uint64_t set, uint64_t oset, uint64_t size)
{
    struct user_thread *t = user_self;
    if (size != 8)
        return -EINVAL;
    if ((set && !user_access_ok(set, 8, false)) || (oset && !user_access_ok(oset, 8, true)))
        return -EFAULT;
    uint64_t old = t->sigmask;
    if (set) {
        uint64_t s;
        memcpy(&s, g2h(set), 8);   /* any alignment */
        switch (how) {
        case SIG_BLOCK:
            t->sigmask |= s;
            break;
        case SIG_UNBLOCK:
            t->sigmask &= ~s;
            break;
        case SIG_SETMASK:
            t->sigmask = s;
            break;
        default:
            return -EINVAL;
        }
        t->sigmask &= ~UNBLOCKABLE;
        user_signal_set_host_mask(t->sigmask);
        if (t->pending & ~t->sigmask)
            t->pending_any = 1;
    }
    if (oset)
        memcpy(g2h(oset), &old, 8);
    return 0;
}

static __thread uint64_t saved_mask;
static __thread bool have_saved_mask;

int64_t user_sigsuspend(struct user_thread *t, uint64_t mask)
{
    saved_mask = t->sigmask;
    have_saved_mask = true;
    t->sigmask = mask & ~UNBLOCKABLE;
    uint64_t s = t->sigmask & ~SYNC_SIGS;
    if (!(t->pending & ~t->sigmask))
        syscall(SYS_rt_sigsuspend, &s, 8);   /* not glibc's: it would unblock 32 and 33 */
    user_signal_set_host_mask(t->sigmask);
    if (!(t->pending & ~t->sigmask)) {
        t->sigmask = saved_mask;
        have_saved_mask = false;
        user_signal_set_host_mask(t->sigmask);
    }
    return -EINTR;
}

int64_t user_sys_sigaltstack(uint64_t ss, uint64_t oss)
{
    struct user_thread *t = user_self;
    if ((ss && !user_access_ok(ss, 24, false)) || (oss && !user_access_ok(oss, 24, true)))
        return -EFAULT;
    uint64_t sp = user_cpu_x(t->cpu, RV_SP);
    bool on = t->altstack_size && sp - t->altstack_sp < t->altstack_size;
    uint8_t old[24];
    memset(old, 0, sizeof(old));
    memcpy(old, &t->altstack_sp, 8);
    int32_t fl = t->altstack_size ? (on ? SS_ONSTACK : 0) : SS_DISABLE;
    memcpy(old + 8, &fl, 4);
    memcpy(old + 16, &t->altstack_size, 8);
    if (ss) {
        if (!user_page_mapped(ss))
            return -EFAULT;
        if (on)
            return -EPERM;
        uint8_t *n = g2h(ss);
        uint64_t nsp, nsize;
        int32_t nfl;
        memcpy(&nsp, n, 8);
        memcpy(&nfl, n + 8, 4);
        memcpy(&nsize, n + 16, 8);
        if (nfl & SS_DISABLE) {
            t->altstack_sp = t->altstack_size = 0;
        } else if (nfl & ~(int32_t)(1U << 31)) { /* only SS_AUTODISARM may be set */
            return -EINVAL;
        } else {
            if (nsize < 2048)
                return -ENOMEM;
            t->altstack_sp = nsp;
            t->altstack_size = nsize;
        }
    }
    if (oss) {
        if (!(user_page_prot(oss) & UPF_W))
            return -EFAULT;
        memcpy(g2h(oss), old, sizeof(old));
    }
    return 0;
}

/* ---- frames ------------------------------------------------------------------- */

/* Copy to or from guest memory checked just before, which another guest thread
 * may unmap at any moment: false if the copy faulted.  The host handler returns
 * to t->syscall_fault for a fault while t->in_syscall, as for a system call's
 * copies; the outer call's return point (sigreturn runs inside one) is kept. */
static bool guarded_copy(struct user_thread *t, void *dst, const void *src, size_t n)
{
    sigjmp_buf outer;
    bool was_in_syscall = t->in_syscall;
    memcpy(&outer, &t->syscall_fault, sizeof(outer));
    volatile bool ok = true;
    t->in_syscall = true;
    if (sigsetjmp(t->syscall_fault, 0) == 0)
        memcpy(dst, src, n);
    else
        ok = false;
    memcpy(&t->syscall_fault, &outer, sizeof(outer));
    t->in_syscall = was_in_syscall;
    return ok;
}

bool user_signal_wants_restart(struct user_thread *t)
{
    uint64_t p = t->pending & ~t->sigmask;
    for (int sig = 1; sig <= USER_NSIG; sig++) {
        if (!(p & bit(sig)))
            continue;
        uint64_t h = user_sigactions[sig].handler;
        if (h > 1)
            return (user_sigactions[sig].flags & RV_SA_RESTART) != 0;
    }
    return false;
}

/* Build the frame and point the CPU at the handler; false if the frame cannot be
 * written (then the guest dies of SIGSEGV, as on Linux). */
static bool setup_frame(struct user_thread *t, int sig, const siginfo_t *info,
                        const struct user_sigaction *act)
{
    riscv_cpu *cpu = t->cpu;
    uint64_t sp = user_cpu_x(cpu, RV_SP);
    bool on_alt = t->altstack_size && sp - t->altstack_sp < t->altstack_size;
    if ((act->flags & RV_SA_ONSTACK) && t->altstack_size && !on_alt)
        sp = t->altstack_sp + t->altstack_size;
    uint64_t frame = (sp - sizeof(struct rv_sigframe)) & ~15ULL;
    if (!user_access_ok(frame, sizeof(struct rv_sigframe), true))
        return false;
    struct rv_sigframe f;
    memset(&f, 0, sizeof(f));
    memcpy(f.info, info, sizeof(f.info));
    f.uc.ss_sp = t->altstack_sp;
    f.uc.ss_size = t->altstack_size;
    f.uc.ss_flags = t->altstack_size ? (on_alt ? SS_ONSTACK : 0) : SS_DISABLE;
    f.uc.uc_sigmask = have_saved_mask ? saved_mask : t->sigmask;
    have_saved_mask = false;
    f.uc.regs[0] = user_cpu_pc(cpu);
    for (int i = 1; i < 32; i++)
        f.uc.regs[i] = user_cpu_x(cpu, i);
    for (int i = 0; i < 32; i++)
        f.uc.fregs[i] = user_cpu_f(cpu, i);
    f.uc.fcsr = user_cpu_fcsr(cpu);
    if (!guarded_copy(t, g2h(frame), &f, sizeof(f)))
        return false;

    t->sigmask |= act->mask;
    if (!(act->flags & RV_SA_NODEFER))
        t->sigmask |= bit(sig);
    t->sigmask &= ~UNBLOCKABLE;
    user_signal_set_host_mask(t->sigmask);
    if (act->flags & RV_SA_RESETHAND) {
        pthread_mutex_lock(&sig_lock);
        user_sigactions[sig].handler = 0;
        if (!(SYNC_SIGS & bit(sig)))
            install_host(sig, 0);
        pthread_mutex_unlock(&sig_lock);
    }
    riscv_cpu_clear_reservation(cpu);
    user_cpu_set_x(cpu, RV_A0, (uint64_t)sig);
    user_cpu_set_x(cpu, RV_A1, frame);
    user_cpu_set_x(cpu, RV_A2, frame + __builtin_offsetof(struct rv_sigframe, uc));
    user_cpu_set_x(cpu, RV_SP, frame);
    user_cpu_set_x(cpu, RV_RA, user_sigtramp);
    user_cpu_set_pc(cpu, act->handler);
    return true;
}

static void deliver(struct user_thread *t, int sig, const siginfo_t *info, bool forced)
{
    struct user_sigaction act = user_sigactions[sig];
    if (act.handler == (uint64_t)(uintptr_t)SIG_IGN && !forced)
        return;
    if (act.handler <= 1) {
        if (default_ignored(sig) && !forced)
            return;
        if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
            kill(getpid(), SIGSTOP);
            return;
        }
        user_die_by_signal(sig);
    }
    if (!setup_frame(t, sig, info, &act))
        user_die_by_signal(SIGSEGV);
}

void user_signal_deliver_pending(struct user_thread *t)
{
    uint64_t old = user_host_sigmask(SIG_BLOCK, ~0ULL);
    t->pending_any = 0;
    uint64_t p = __atomic_load_n(&t->pending, __ATOMIC_SEQ_CST) & ~t->sigmask;
    /* One at a time, lowest number first, as Linux does for standard signals; the
     * rest stay pending and are delivered when the handler's mask allows. */
    for (int sig = 1; sig <= USER_NSIG && p; sig++) {
        if (!(p & bit(sig)))
            continue;
        __atomic_and_fetch(&t->pending, ~bit(sig), __ATOMIC_SEQ_CST);
        siginfo_t info = t->pending_info[sig];
        user_host_sigmask(SIG_SETMASK, old);
        deliver(t, sig, &info, false);
        old = user_host_sigmask(SIG_BLOCK, ~0ULL);
        break;
    }
    if (t->pending & ~t->sigmask)
        t->pending_any = 1;
    /* The mask may have changed in deliver(): leave the host mask as it now is. */
    user_host_sigmask(SIG_SETMASK, old);
    user_signal_set_host_mask(t->sigmask);
    if (have_saved_mask) {
        t->sigmask = saved_mask;
        have_saved_mask = false;
        user_signal_set_host_mask(t->sigmask);
    }
}

void user_signal_fault(struct user_thread *t, int sig, int code, uint64_t addr)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = code;
    info.si_addr = (void *)(uintptr_t)addr;
    /* A fault while blocked or ignored kills, as Linux's force_sig does. */
    bool blocked = t->sigmask & bit(sig);
    uint64_t h = user_sigactions[sig].handler;
    if (blocked || h <= 1)
        user_die_by_signal(sig);
    deliver(t, sig, &info, true);
}

int64_t user_sys_rt_sigreturn(struct user_thread *t)
{
    riscv_cpu *cpu = t->cpu;
    uint64_t frame = user_cpu_x(cpu, RV_SP);
    if (!user_access_ok(frame, sizeof(struct rv_sigframe), false))
        user_die_by_signal(SIGSEGV);
    struct rv_sigframe f;
    if (!guarded_copy(t, &f, g2h(frame), sizeof(f)))
        user_die_by_signal(SIGSEGV);
    user_cpu_set_pc(cpu, f.uc.regs[0]);
    for (int i = 1; i < 32; i++)
        user_cpu_set_x(cpu, i, f.uc.regs[i]);
    for (int i = 0; i < 32; i++)
        user_cpu_set_f(cpu, i, f.uc.fregs[i]);
    user_cpu_set_fcsr(cpu, f.uc.fcsr);
    t->sigmask = f.uc.uc_sigmask & ~UNBLOCKABLE;
    user_signal_set_host_mask(t->sigmask);
    if (t->pending & ~t->sigmask)
        t->pending_any = 1;
    return (int64_t)f.uc.regs[RV_A0];
}
