/* POSIX timers (timer_create/settime/gettime/getoverrun/delete): SIGEV_SIGNAL with
 * a value that comes back in si_value, a periodic timer, SIGEV_THREAD_ID aimed at
 * one thread, SIGEV_NONE, glibc's SIGEV_THREAD (a one-shot callback), and the
 * errors; then other calls glibc programs make: prlimit64, getrandom, statx,
 * faccessat2, copy_file_range, membarrier, clone3 (ENOSYS: glibc falls back to
 * clone).  Compared with qemu-riscv64. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int fired, fired_code, fired_value, fired_in_target;
static volatile pid_t target_tid;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fired++;
    fired_code = si->si_code;
    fired_value = si->si_value.sival_int;
    if (gettid() == target_tid)
        fired_in_target++;
    (void)sig;
}

static void wait_for(volatile int *v, int n)
{
    for (int i = 0; i < 2000 && *v < n; i++) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

static void *target_thread(void *arg)
{
    target_tid = gettid();
    sem_post(arg);
    wait_for(&fired_in_target, 1);
    return NULL;
}

static sem_t thread_done;
static volatile int thread_value;
static void on_thread_timer(union sigval v)
{
    thread_value = v.sival_int;
    sem_post(&thread_done);
}

static void timers(void)
{
    struct sigaction sa = { .sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigaction(SIGRTMIN + 2, &sa, NULL);

    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 2,
                            .sigev_value.sival_int = 4242 };
    timer_t t;
    printf("create: %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec its = { .it_value = { 0, 5 * 1000 * 1000 } };
    printf("settime: %d\n", timer_settime(t, 0, &its, NULL));
    wait_for(&fired, 1);
    printf("one-shot: fired %d code SI_TIMER %d value %d\n", fired, fired_code == SI_TIMER, fired_value);
    struct itimerspec cur;
    timer_gettime(t, &cur);
    printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);

    fired = 0;
    its.it_interval.tv_nsec = 2 * 1000 * 1000;
    timer_settime(t, 0, &its, NULL);
    wait_for(&fired, 4);
    struct itimerspec old;
    its = (struct itimerspec){ 0 };
    timer_settime(t, 0, &its, &old);
    printf("periodic: at least 4 %d, old interval %ld ns\n", fired >= 4, old.it_interval.tv_nsec);
    printf("getoverrun >= 0: %d\n", timer_getoverrun(t) >= 0);
    int d1 = timer_delete(t), d2 = timer_delete(t);
    printf("delete: %d, again: %d %s\n", d1, d2, strerror(errno));

    /* SIGEV_THREAD_ID: the signal goes to that thread */
    sem_t ready;
    sem_init(&ready, 0, 0);
    pthread_t th;
    pthread_create(&th, NULL, target_thread, &ready);
    sem_wait(&ready);
    struct sigevent tev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN + 2,
                            .sigev_value.sival_int = 77 };
    tev._sigev_un._tid = target_tid;
    fired = 0;
    timer_t tt;
    printf("thread id create: %d\n", timer_create(CLOCK_REALTIME, &tev, &tt));
    its = (struct itimerspec){ .it_value = { 0, 3 * 1000 * 1000 } };
    timer_settime(tt, 0, &its, NULL);
    pthread_join(th, NULL);
    printf("thread id: in target %d value %d\n", fired_in_target, fired_value);
    timer_delete(tt);

    /* SIGEV_NONE: nothing is delivered but the time runs */
    struct sigevent nev = { .sigev_notify = SIGEV_NONE };
    timer_t nt;
    timer_create(CLOCK_MONOTONIC, &nev, &nt);
    its = (struct itimerspec){ .it_value = { 100, 0 } };
    timer_settime(nt, 0, &its, NULL);
    timer_gettime(nt, &cur);
    printf("none: remaining in (90, 100] s: %d\n", cur.it_value.tv_sec >= 90 && cur.it_value.tv_sec <= 100);
    timer_delete(nt);

    /* glibc's SIGEV_THREAD: a helper thread waits for the signal and calls back */
    sem_init(&thread_done, 0, 0);
    struct sigevent cev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_thread_timer,
                            .sigev_value.sival_int = 99 };
    timer_t ct;
    printf("SIGEV_THREAD create: %d\n", timer_create(CLOCK_MONOTONIC, &cev, &ct));
    its = (struct itimerspec){ .it_value = { 0, 2 * 1000 * 1000 } };
    timer_settime(ct, 0, &its, NULL);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    int w = sem_timedwait(&thread_done, &dl);
    printf("SIGEV_THREAD callback: %d value %d\n", w, thread_value);
    timer_delete(ct);

    int r = timer_create(12345, &sev, &t);
    printf("bad clock: %d %s\n", r, strerror(errno));
    sev.sigev_signo = 200;
    r = timer_create(CLOCK_MONOTONIC, &sev, &t);
    printf("bad signal: %d %s\n", r, strerror(errno));
}

static void others(void)
{
    struct rlimit a, b;
    getrlimit(RLIMIT_NOFILE, &a);
    int r = prlimit(0, RLIMIT_NOFILE, NULL, &b);
    printf("prlimit64 get: %d same %d\n", r, a.rlim_cur == b.rlim_cur && a.rlim_max == b.rlim_max);
    struct rlimit lower = { b.rlim_cur > 64 ? 64 : b.rlim_cur, b.rlim_max };
    prlimit(0, RLIMIT_NOFILE, &lower, &a);
    getrlimit(RLIMIT_NOFILE, &b);
    printf("prlimit64 set: now %lu\n", (unsigned long)b.rlim_cur);

    unsigned char buf[300];
    memset(buf, 0, sizeof(buf));
    ssize_t n = getrandom(buf, sizeof(buf), 0);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof(buf); i++)
        nonzero += buf[i] != 0;
    ssize_t n2 = getrandom(buf, 16, GRND_NONBLOCK);
    printf("getrandom: %zd, mostly non-zero %d, nonblock %zd\n", n, nonzero > 200, n2);

    char path[] = "timers-test-XXXXXX";
    int fd = mkstemp(path);
    for (int i = 0; i < 1000; i++)
        dprintf(fd, "line %04d of the source file\n", i);
    struct statx sx;
    r = statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx);
    printf("statx: %d size %llu mask has size %d mode %o\n", r, (unsigned long long)sx.stx_size,
           !!(sx.stx_mask & STATX_SIZE), sx.stx_mode & 0777);
    memset(&sx, 0, sizeof(sx));
    r = statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx);
    printf("statx empty path: %d size %llu\n", r, (unsigned long long)sx.stx_size);
    printf("faccessat2 R_OK|W_OK eaccess: %d\n", (int)syscall(SYS_faccessat2, AT_FDCWD, path, R_OK | W_OK, AT_EACCESS));
    r = (int)syscall(SYS_faccessat2, AT_FDCWD, path, X_OK, 0);
    printf("faccessat2 X_OK: %d %s\n", r, strerror(errno));
    r = (int)syscall(SYS_faccessat2, AT_FDCWD, path, R_OK, 0x40000);
    printf("faccessat2 bad flag: %d %s\n", r, strerror(errno));

    char path2[] = "timers-copy-XXXXXX";
    int fd2 = mkstemp(path2);
    loff_t in_off = 100, out_off = 0;
    ssize_t c = copy_file_range(fd, &in_off, fd2, &out_off, 5000, 0);
    printf("copy_file_range: %zd in_off %lld out_off %lld\n", c, (long long)in_off, (long long)out_off);
    char x[64] = { 0 };
    pread(fd2, x, 29, 0);
    printf("copied starts: '%.28s'\n", x);
    lseek(fd, 0, SEEK_SET);
    c = copy_file_range(fd, NULL, fd2, NULL, 40, 0);
    pread(fd2, x, 40, 0);
    printf("copy_file_range at the offsets: %zd '%.29s'\n", c, x);
    close(fd);
    close(fd2);
    unlink(path);
    unlink(path2);

    int q = (int)syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    printf("membarrier query: %s\n", q >= 0 ? "ok" : strerror(errno));
    long c3 = syscall(SYS_clone3, NULL, 0);
    printf("clone3: %ld %s\n", c3, strerror(errno));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    timers();
    others();
    return 0;
}
