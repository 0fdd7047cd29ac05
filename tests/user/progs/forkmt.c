/* fork in a multithreaded program: worker threads keep the emulator busy (they
 * write and run new code with fence.i, which makes the JIT translate and flush;
 * they map and unmap memory and change a signal action), while another thread
 * forks again and again.  Each child runs new code itself (a translation and a
 * flush in the child), maps memory, sets a signal action, and then exits, execs
 * this program through /proc/self/exe, or is a posix_spawn (vfork) child.  A lock
 * some worker held at the fork must not hang the child: the parent gives every
 * child a generous deadline and kills it (a failure) when it passes.
 * qemu-riscv64 without binfmt_misc cannot execve a riscv64 program, so this one
 * is judged by its own checks only.
 * vireo-test: selfcheck */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 3
#define FORKS 24
#define DEADLINE_S 60    /* a hang guard, not a speed limit */

static int fails;
static volatile int stop;
static int forked;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

typedef int (*fn)(void);

/* li a0, v ; ret */
static void emit(uint32_t *p, int v)
{
    p[0] = ((uint32_t)(v & 0x7ff) << 20) | (10 << 7) | 0x13;   /* addi a0, zero, v */
    p[1] = 0x00008067;                                          /* jalr zero, 0(ra) */
}

/* Write new code and run it; fence.i makes the emulator drop its translations. */
static int run_new_code(uint32_t *page, int v)
{
    emit(page, v);
    __asm__ volatile("fence.i" ::: "memory");
    return ((fn)page)();
}

static void handler(int sig)
{
    (void)sig;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return (void *)1;
    long bad = 0;
    for (unsigned i = 0; !stop; i++) {
        int v = (int)((i * 7 + (unsigned)id) % 2000);
        if (run_new_code(page, v) != v)
            bad++;
        void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            memset(m, id, 8192);
            munmap(m, 8192);
        }
        struct sigaction sa = { .sa_handler = i & 1 ? handler : SIG_IGN };
        sigaction(SIGUSR2, &sa, NULL);
    }
    munmap(page, 4096);
    return (void *)bad;
}

/* What a child does before it leaves: the emulator's locks must all work. */
static int child_work(int k)
{
    uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 2;
    if (run_new_code(page, 100 + k) != 100 + k || run_new_code(page, 200 + k) != 200 + k)
        return 3;
    struct sigaction sa = { .sa_handler = handler };
    if (sigaction(SIGUSR1, &sa, NULL) != 0 || raise(SIGUSR1) != 0)
        return 4;
    return 0;
}

/* Wait for pid with a deadline; returns its status, or -1 after killing it. */
static int wait_guarded(pid_t pid)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -2;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > DEADLINE_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        struct timespec ms = { 0, 2000000 };
        nanosleep(&ms, NULL);
    }
}

static void *forker(void *arg)
{
    (void)arg;
    extern char **environ;
    for (int k = 0; k < FORKS; k++) {
        int how = k % 3;
        char num[16];
        snprintf(num, sizeof(num), "%d", k);
        char *args[] = { "forkmt", "child", num, NULL };
        pid_t pid;
        if (how == 2) {
            /* glibc's posix_spawn: clone(CLONE_VM | CLONE_VFORK) */
            int e = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ);
            CHECK(e == 0);
            if (e)
                continue;
        } else {
            pid = fork();
            if (pid == 0) {
                int r = child_work(k);
                if (r)
                    _exit(r);
                if (how == 1) {
                    execv("/proc/self/exe", args);
                    _exit(127);
                }
                _exit(k % 50 + 10);
            }
        }
        CHECK(pid > 0);
        if (pid <= 0)
            continue;
        int st = wait_guarded(pid);
        if (st == -1)
            printf("FAIL: child %d (%s) hung: killed after %d s\n", k,
                   how == 0 ? "fork" : how == 1 ? "fork+exec" : "posix_spawn", DEADLINE_S);
        if (st < 0) {
            fails++;
            break;   /* one hang is enough to know */
        }
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == k % 50 + 10);
        forked++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "child") == 0) {
        int k = atoi(argv[2]);
        int r = child_work(k);
        return r ? r : k % 50 + 10;
    }
    pthread_t w[WORKERS], f;
    for (int i = 0; i < WORKERS; i++)
        CHECK(pthread_create(&w[i], NULL, worker, (void *)(intptr_t)i) == 0);
    /* let the workers get going before the first fork */
    struct timespec ms = { 0, 20000000 };
    nanosleep(&ms, NULL);
    CHECK(pthread_create(&f, NULL, forker, NULL) == 0);
    pthread_join(f, NULL);
    stop = 1;
    for (int i = 0; i < WORKERS; i++) {
        void *bad;
        pthread_join(w[i], &bad);
        CHECK(bad == NULL);
    }
    printf("%d of %d children done while %d threads ran new code\n", forked, FORKS, WORKERS);
    printf("forkmt: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
