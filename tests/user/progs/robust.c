/* Robust mutexes and the signals glibc keeps for itself.
 *  - A thread that exits holding a robust mutex: the next locker gets EOWNERDEAD
 *    (the kernel, here the emulator, walks the list set_robust_list registered),
 *    makes it consistent and goes on; a waiter blocked on it is woken.
 *  - A process-shared robust mutex in shared memory held by a child that exits,
 *    and by one that dies of a signal.
 *  - pthread_cancel (glibc sends signal 32, SIGCANCEL, to the thread).
 *  - setuid in a threaded program (glibc's signal 33, SIGSETXID, to every thread).
 * Self-checking: qemu-riscv64 has no robust lists (pthread_mutexattr_setrobust
 * then fails), and these expectations are Linux's (the same source passes natively).
 * vireo-test: selfcheck */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static pthread_mutex_t m;

static void *die_holding(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&m) == 0);
    return NULL;   /* exits with the mutex held */
}

static void *wait_for_it(void *arg)
{
    int r = pthread_mutex_lock(&m);
    if (r == EOWNERDEAD)
        pthread_mutex_consistent(&m);
    if (r == 0 || r == EOWNERDEAD)
        pthread_mutex_unlock(&m);
    *(int *)arg = r;
    return NULL;
}

static void *holder_then_exit(void *arg)
{
    pthread_mutex_lock(&m);
    usleep(50000);   /* the waiter blocks meanwhile */
    (void)arg;
    return NULL;
}

static void *cancel_me(void *arg)
{
    for (;;)
        pause();   /* a cancellation point */
    return arg;
}

static void *idle(void *arg)
{
    usleep(200000);
    return arg;
}

int main(void)
{
    alarm(60);   /* a hang guard: without robust lists a waiter sleeps for ever */
    long head = 0, len = 0;
    CHECK(syscall(SYS_get_robust_list, 0, &head, &len) == 0);
    CHECK(head != 0 && len == 24);   /* glibc registered its list at start-up */

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    CHECK(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0);
    CHECK(pthread_mutex_init(&m, &a) == 0);

    pthread_t t;
    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(&m);
    CHECK(r == EOWNERDEAD);
    CHECK(pthread_mutex_consistent(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_mutex_lock(&m) == 0);   /* consistent again */
    CHECK(pthread_mutex_unlock(&m) == 0);
    printf("thread died holding it: %s\n", strerror(r));

    /* a waiter already blocked when the owner dies */
    int wr = -1;
    pthread_t h, w;
    pthread_create(&h, NULL, holder_then_exit, NULL);
    usleep(10000);
    pthread_create(&w, NULL, wait_for_it, &wr);
    pthread_join(h, NULL);
    pthread_join(w, NULL);
    CHECK(wr == EOWNERDEAD);
    printf("blocked waiter: %s\n", strerror(wr));

    /* process-shared, in shared memory; the child exits holding it */
    pthread_mutex_t *sm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    CHECK(pthread_mutex_init(sm, &a) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(sm);
        _exit(3);
    }
    int st;
    waitpid(pid, &st, 0);
    r = pthread_mutex_lock(sm);
    CHECK(r == EOWNERDEAD);
    printf("child process died holding it: %s\n", strerror(r));
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(sm);
        pthread_mutex_unlock(sm);
    }

    /* the same, but the child dies of a signal (the kernel walks the lists of a
     * process killed by a signal too); SIGABRT from abort() */
    pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(sm);
        abort();
    }
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    r = pthread_mutex_lock(sm);
    CHECK(r == EOWNERDEAD);
    printf("child process killed by a signal holding it: %s\n", strerror(r));
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(sm);
        pthread_mutex_unlock(sm);
    }

    /* pthread_cancel: SIGCANCEL (32) to the thread, which unwinds and exits */
    pthread_t c;
    pthread_create(&c, NULL, cancel_me, NULL);
    usleep(10000);
    CHECK(pthread_cancel(c) == 0);
    void *res = NULL;
    CHECK(pthread_join(c, &res) == 0);
    CHECK(res == PTHREAD_CANCELED);
    printf("cancelled: %s\n", res == PTHREAD_CANCELED ? "yes" : "no");

    /* setgid to our own gid with another thread alive: SIGSETXID (33) to it */
    pthread_t i;
    pthread_create(&i, NULL, idle, NULL);
    CHECK(setgid(getgid()) == 0);
    pthread_join(i, NULL);
    printf("setgid with two threads: ok\n");

    printf("robust: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
