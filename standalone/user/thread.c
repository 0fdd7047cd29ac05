/* Guest threads and processes: the run loop of one guest thread, clone (threads
 * become host threads with their own CPU state; anything without CLONE_VM becomes a
 * host fork), and thread exit with CLONE_CHILD_CLEARTID. */
#include "user.h"
#include "jit/jit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread struct user_thread *user_self;
static int user_threads_live = 1;
/* Every live guest thread: for exit_group's robust lists, and so that a forked
 * child can free the other threads' state (they do not exist there). */
static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct user_thread *thr_list;
/* In a vfork child: the write end of the pipe its parent waits on (-1 otherwise).
 * Close-on-exec, so a successful execve closes it, as does the process's exit; a
 * process the child forks in turn must not hold it. */
static int vfork_fd = -1;

void user_thread_register(struct user_thread *t)
{
    pthread_mutex_lock(&thr_lock);
    t->next = thr_list;
    thr_list = t;
    pthread_mutex_unlock(&thr_lock);
}

static void thread_unregister(struct user_thread *t)
{
    pthread_mutex_lock(&thr_lock);
    for (struct user_thread **pp = &thr_list; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    pthread_mutex_unlock(&thr_lock);
}

void user_cpu_loop(struct user_thread *t)
{
    riscv_cpu *cpu = t->cpu;
    for (;;) {
        riscv_exit ex;
        int r = riscv_cpu_run(cpu, &ex);
        if (r < 0) {
            user_log("vireo-riscv64: cannot run the CPU: %s\n", riscv_strerror(r));
            exit(1);
        }
        switch (ex.reason) {
        case RISCV_EXIT_ECALL:
            user_cpu_set_pc(cpu, ex.pc);
            user_syscall(t);
            break;
        case RISCV_EXIT_EBREAK:
            user_cpu_set_pc(cpu, ex.pc);
            user_signal_fault(t, SIGTRAP, TRAP_BRKPT, ex.pc);
            break;
        case RISCV_EXIT_ILLEGAL:
            user_cpu_set_pc(cpu, ex.pc);
            user_signal_fault(t, SIGILL, ILL_ILLOPC, ex.pc);
            break;
        case RISCV_EXIT_FAULT: {
            user_cpu_set_pc(cpu, ex.pc);
            int prot = user_page_prot(ex.addr);
            bool allowed = (prot & UPF_USED)
                && (ex.access == RISCV_ACCESS_WRITE ? (prot & UPF_W)
                    : ex.access == RISCV_ACCESS_EXEC ? (prot & UPF_X) : (prot & (UPF_R | UPF_W | UPF_X)));
            if (allowed)   /* the page allows it: a misaligned atomic */
                user_signal_fault(t, SIGBUS, BUS_ADRALN, ex.addr);
            else
                user_signal_fault(t, SIGSEGV, (prot & UPF_USED) ? SEGV_ACCERR : SEGV_MAPERR, ex.addr);
            break;
        }
        case RISCV_EXIT_FENCE_I:
            /* The engine already dropped stale translations. */
            break;
        case RISCV_EXIT_INTERRUPT:
            break;
        }
        if (t->pending_any)
            user_signal_deliver_pending(t);
    }
}

/* Robust futexes (Linux Documentation/locking/robust-futex-ABI.rst): the head,
 * registered by set_robust_list, is { next, futex_offset, list_op_pending }; each
 * entry's futex word is at entry + futex_offset, and bit 0 of an entry pointer marks
 * a PI futex.  When a thread dies, every futex word it still owns (the low 30 bits
 * are its tid) gets FUTEX_OWNER_DIED, keeps FUTEX_WAITERS, and one waiter of a
 * non-PI futex is woken.  The host kernel cannot walk the list (its pointers are
 * guest addresses), so the emulator does it for a thread that exits. */
#define ROBUST_LIST_LIMIT 2048

static void robust_death(uint64_t uaddr, int tid, bool pi, bool pending)
{
    if ((uaddr & 3) || !user_access_ok(uaddr, 4, true))
        return;
    uint32_t *w = g2h(uaddr);
    uint32_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
    for (;;) {
        if (pending && !pi && v == 0) {
            /* died between taking the lock and storing its tid: a waiter may sleep */
            syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
            return;
        }
        if ((v & FUTEX_TID_MASK) != (uint32_t)tid)
            return;
        uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (__atomic_compare_exchange_n(w, &v, nv, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            break;
    }
    if (!pi && (v & FUTEX_WAITERS))
        syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

void user_robust_release(struct user_thread *t)
{
    uint64_t head = t->robust_head;
    t->robust_head = 0;
    if (!head || !user_access_ok(head, 24, false))
        return;
    const uint64_t *h = g2h(head);
    uint64_t entry = h[0], pending = h[2];
    int64_t off = (int64_t)h[1];
    for (int n = 0; n < ROBUST_LIST_LIMIT && entry != head; n++) {
        uint64_t e = entry & ~1ULL;
        if (!user_access_ok(e, 8, false))
            break;
        uint64_t next = *(const uint64_t *)g2h(e);   /* before the word changes hands */
        if (e != (pending & ~1ULL))
            robust_death(e + (uint64_t)off, t->tid, entry & 1, false);
        entry = next;
    }
    if (pending)
        robust_death((pending & ~1ULL) + (uint64_t)off, t->tid, pending & 1, true);
}

void user_robust_release_all(void)
{
    pthread_mutex_lock(&thr_lock);
    for (struct user_thread *o = thr_list; o; o = o->next)
        user_robust_release(o);
    pthread_mutex_unlock(&thr_lock);
}

void user_thread_exit(struct user_thread *t, int status)
{
    user_robust_release(t);
    if (t->clear_child_tid && guest_range_ok(t->clear_child_tid, 4)
        && (user_page_prot(t->clear_child_tid) & UPF_W)) {
        /* What the kernel does for CLONE_CHILD_CLEARTID: glibc's pthread_join
         * waits on this word. */
        uint32_t *p = g2h(t->clear_child_tid);
        __atomic_store_n(p, 0, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, p, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    /* The last thread leaving ends the process with its status, as on Linux. */
    if (__atomic_sub_fetch(&user_threads_live, 1, __ATOMIC_SEQ_CST) == 0)
        exit(status & 0xff);
    thread_unregister(t);
    riscv_cpu_free(t->cpu);
    t->cpu = NULL;
    user_self = NULL;
    free(t);
    pthread_exit(NULL);
}

struct clone_start {
    struct user_thread *t;
    uint64_t flags, ptid, ctid;
    int tid;        /* the child's, for the parent: nt may be gone by then */
    sem_t ready;
};

static void *thread_main(void *arg)
{
    struct clone_start *cs = arg;
    struct user_thread *t = cs->t;
    t->tid = (int)syscall(SYS_gettid);
    user_self = t;
    if ((cs->flags & CLONE_CHILD_SETTID) && guest_range_ok(cs->ctid, 4) && (user_page_prot(cs->ctid) & UPF_W))
        __atomic_store_n((uint32_t *)g2h(cs->ctid), (uint32_t)t->tid, __ATOMIC_SEQ_CST);
    if ((cs->flags & CLONE_PARENT_SETTID) && guest_range_ok(cs->ptid, 4) && (user_page_prot(cs->ptid) & UPF_W))
        __atomic_store_n((uint32_t *)g2h(cs->ptid), (uint32_t)t->tid, __ATOMIC_SEQ_CST);
    user_signal_set_host_mask(t->sigmask);
    cs->tid = t->tid;
    sem_post(&cs->ready);   /* cs belongs to the parent from here on */
    user_cpu_loop(t);
}

/* A host fork while other guest threads may be translating, running code, mapping
 * memory or changing signal actions: every lock they could hold is taken first (in
 * the order the rest of the code nests them: signal actions, the address space, the
 * JIT engine), so the child's copies are whole; the child, whose only thread is
 * this one, then makes the locks anew.  Signals stay blocked meanwhile, so no
 * handler of ours runs while they are held. */
static pid_t user_fork(struct user_thread *t)
{
    /* jit.h: the JIT's CPU header is the first member of every front-end's CPU */
    jit_cpu *jc = (jit_cpu *)t->cpu;
    uint64_t old = user_host_sigmask(SIG_BLOCK, ~0ULL);
    pthread_mutex_lock(&thr_lock);
    user_signal_fork_prepare();
    user_mem_fork_prepare();
    jit_fork_prepare(jc->engine);
    pid_t pid = fork();
    int err = errno;
    if (pid == 0) {
        if (vfork_fd >= 0)
            close(vfork_fd);
        vfork_fd = -1;
        jit_fork_child(jc->engine, jc);
        user_mem_fork_done(true);
        user_signal_fork_done(true);
        /* the other threads are gone: their CPUs (already out of the JIT's list)
         * and thread structures go too */
        for (struct user_thread *o = thr_list, *next; o; o = next) {
            next = o->next;
            if (o != t) {
                riscv_cpu_free(o->cpu);
                free(o);
            }
        }
        t->next = NULL;
        thr_list = t;
        pthread_mutex_init(&thr_lock, NULL);
        t->tid = (int)syscall(SYS_gettid);
        t->robust_head = 0;   /* as Linux: a child starts without a robust list */
        user_threads_live = 1;
    } else {
        jit_fork_parent(jc->engine);
        user_mem_fork_done(false);
        user_signal_fork_done(false);
        pthread_mutex_unlock(&thr_lock);
    }
    user_host_sigmask(SIG_SETMASK, old);
    return pid < 0 ? -err : pid;
}

int64_t user_sys_clone(struct user_thread *t, uint64_t flags, uint64_t newsp, uint64_t ptid,
                       uint64_t tls, uint64_t ctid)
{
    const uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD
                                | CLONE_SYSVSEM;
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK)) {
        /* A thread: glibc's pthread_create passes exactly these plus the TID and TLS
         * flags; other CLONE_VM combinations (a shared address space without shared
         * signal handlers) cannot be given a separate process here. */
        if ((flags & thread_flags) != thread_flags)
            return -EINVAL;
        struct user_thread *nt = calloc(1, sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        nt->cpu = riscv_cpu_clone(t->cpu);
        if (!nt->cpu) {
            free(nt);
            return -ENOMEM;
        }
        riscv_cpu_set_opaque(nt->cpu, nt);
        /* The child starts after the ecall (pc was advanced before the call). */
        user_cpu_set_x(nt->cpu, RV_A0, 0);
        if (newsp)
            user_cpu_set_x(nt->cpu, RV_SP, newsp);
        if (flags & CLONE_SETTLS)
            user_cpu_set_x(nt->cpu, RV_TP, tls);
        nt->sigmask = t->sigmask;
        if (flags & CLONE_CHILD_CLEARTID)
            nt->clear_child_tid = ctid;
        struct clone_start cs = { .t = nt, .flags = flags, .ptid = ptid, .ctid = ctid };
        sem_init(&cs.ready, 0, 0);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 1 << 20);
        /* The new thread starts with every signal blocked and sets its own mask. */
        uint64_t old = user_host_sigmask(SIG_BLOCK, ~0ULL);
        __atomic_add_fetch(&user_threads_live, 1, __ATOMIC_SEQ_CST);
        user_thread_register(nt);
        pthread_t th;
        int e = pthread_create(&th, &attr, thread_main, &cs);
        user_host_sigmask(SIG_SETMASK, old);
        pthread_attr_destroy(&attr);
        if (e) {
            __atomic_sub_fetch(&user_threads_live, 1, __ATOMIC_SEQ_CST);
            thread_unregister(nt);
            riscv_cpu_free(nt->cpu);
            free(nt);
            sem_destroy(&cs.ready);
            return -e;
        }
        while (sem_wait(&cs.ready) < 0 && errno == EINTR)
            ;
        sem_destroy(&cs.ready);
        return cs.tid;
    }
    /* A new process: a fork.  CLONE_VFORK (vfork, glibc's posix_spawn) is a fork
     * whose parent waits, as on Linux, until the child has exec'd or exited: the
     * child holds the close-on-exec write end of a pipe, and the parent reads until
     * end of file.  CLONE_VM's sharing is not emulated: the child writes its own copy
     * of memory, which is all vfork's contract allows it to rely on (glibc's vfork
     * users and posix_spawn only set up fds and exec or _exit; posix_spawn reports a
     * failed exec through the child's exit status, as the copy cannot carry it). */
    if (flags & (CLONE_THREAD | CLONE_SIGHAND))
        return -EINVAL;
    int vpipe[2] = { -1, -1 };
    if ((flags & CLONE_VFORK) && pipe2(vpipe, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = user_fork(t);
    if (pid < 0) {
        if (vpipe[0] >= 0) {
            close(vpipe[0]);
            close(vpipe[1]);
        }
        return pid;
    }
    if (vpipe[0] >= 0) {
        if (pid == 0) {
            close(vpipe[0]);
            vfork_fd = vpipe[1];
        } else {
            close(vpipe[1]);
            char c;
            while (read(vpipe[0], &c, 1) < 0 && errno == EINTR)
                ;
            close(vpipe[0]);
        }
    }
    if (pid == 0) {
        if (newsp)
            user_cpu_set_x(t->cpu, RV_SP, newsp);
        if (flags & CLONE_SETTLS)
            user_cpu_set_x(t->cpu, RV_TP, tls);
        if ((flags & CLONE_CHILD_SETTID) && guest_range_ok(ctid, 4) && (user_page_prot(ctid) & UPF_W))
            *(uint32_t *)g2h(ctid) = (uint32_t)t->tid;
        if (flags & CLONE_CHILD_CLEARTID)
            t->clear_child_tid = ctid;
        return 0;
    }
    if ((flags & CLONE_PARENT_SETTID) && guest_range_ok(ptid, 4) && (user_page_prot(ptid) & UPF_W))
        *(uint32_t *)g2h(ptid) = (uint32_t)pid;
    return pid;
}
