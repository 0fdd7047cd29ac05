/* A hostile guest: a storm of raw ecalls with random system call numbers (in and
 * out of range, negative) and random or hostile arguments (NULL, unmapped,
 * kernel-half, above the guest space, misaligned pointers, pointers into its own
 * code, huge lengths, negative and stale fds), from several threads in each of
 * several forked children.  Built static for riscv64 and run under vireo-riscv64
 * by run-storm.sh.
 *
 *   storm SEED CHILDREN THREADS CALLS [FIRST]
 * (FIRST: the index of the first child, to run one child of a seed again alone)
 *
 * A child may die of a signal it brought on itself (a handler set to garbage, a
 * SIGXCPU from its own rlimit, ...): that is the guest's business.  The emulator's
 * is never to crash, abort, hang or corrupt guest memory the calls were not given.
 * The parent reports the number of calls made and each child's end, and fails if
 * a child hangs (no call returns for HANG_SECONDS while a watchdog keeps
 * interrupting it) or finds its untouched memory changed.
 *
 * Only what would end the test or reach outside it is left out or defused (the
 * rules are in defuse(), counted as "skipped" or "defused"): exit, exit_group,
 * execve(at), rt_sigreturn, clone that would succeed, calls on other processes
 * (kill and friends get a pid that cannot exist), system-wide privileged calls
 * (mount, reboot, settimeofday, ...), its own CPU-time limit (a SIGKILL within a
 * second), memory calls on the program's own text,
 * data or stack (they get addresses in an arena of their own), fds 0-2 as the
 * target of close/dup3 (the emulator reports its own crashes there), SIGALRM's
 * action and mask (the watchdog's signal), sockets other than AF_UNIX, and
 * lengths that would fill the machine's memory or disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
#define SCRATCH 65536
#define ARENA (4u << 20)
#define HANG_SECONDS 30           /* a thread whose call has not returned for this long hangs */
#define NOPID 0x3ffffff0L             /* above any pid_max: ESRCH */
#define GUEST_TOP (1ULL << 38)        /* vireo's guest space; qemu's is larger */

struct shared {                       /* MAP_SHARED: survives a child's death */
    uint64_t made, skipped, defused, errors;
    uint64_t last_nr[64][MAX_THREADS];
    uint64_t last_args[64][MAX_THREADS][6];
    uint64_t progress[64][MAX_THREADS];   /* calls returned, per thread */
    uint64_t done[64][MAX_THREADS];
};

static struct shared *sh;
static int child_index, nthreads;
static uint64_t calls_per_thread, seed;
static uint8_t *arena;
static uint8_t canary[65536];         /* never handed to a call: must not change */
static volatile uint64_t progress[MAX_THREADS];
static volatile pid_t tids[MAX_THREADS];
static volatile int storm_go, storm_done;
static volatile uint64_t alarms;

/* ---- random numbers (xorshift64*, reproducible from the seed) ------------------- */

struct rng { uint64_t s; };

static uint64_t next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

/* ---- the raw call ------------------------------------------------------------------ */

static long raw_ecall(long nr, const uint64_t *a)
{
    register long a0 __asm__("a0") = (long)a[0];
    register long a1 __asm__("a1") = (long)a[1];
    register long a2 __asm__("a2") = (long)a[2];
    register long a3 __asm__("a3") = (long)a[3];
    register long a4 __asm__("a4") = (long)a[4];
    register long a5 __asm__("a5") = (long)a[5];
    register long a7 __asm__("a7") = nr;
    __asm__ volatile("ecall"
                     : "+r"(a0)
                     : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
                     : "memory");
    return a0;
}

/* ---- arguments ------------------------------------------------------------------- */

struct thread_ctx {
    int index;
    struct rng rng;
    uint8_t *scratch;                 /* its own buffer, random bytes without '/' */
};

static void fill_scratch(struct thread_ctx *t, size_t off, size_t len)
{
    for (size_t i = off; i < off + len && i < SCRATCH; i++) {
        uint8_t b = (uint8_t)next(&t->rng);
        t->scratch[i] = b == '/' ? 'x' : b;   /* no path ever leaves the work directory */
    }
}

static void *storm_thread(void *arg);

/* Somewhere in its own text (read-only, executable). */
static uint64_t code_base(void)
{
    return (uint64_t)(uintptr_t)storm_thread & ~4095ULL;
}

static uint64_t code_ptr(struct rng *r)
{
    return code_base() + below(r, 8192);
}

static uint64_t arena_ptr(struct rng *r)
{
    uint64_t off = below(r, 4) == 0 ? below(r, ARENA) : below(r, ARENA / 4096) * 4096;
    return (uint64_t)(uintptr_t)arena + off;
}

/* A bad pointer: unmapped, kernel half, beyond the guest space, the top page. */
static uint64_t bad_ptr(struct rng *r)
{
    static const uint64_t bad[] = {
        0x1, 0x1000, 0xfff, 0x7fff0000, GUEST_TOP - 0x1000, GUEST_TOP - 8, GUEST_TOP, GUEST_TOP + 0x1000,
        0x7ffffffff000ULL, 0x800000000000ULL, 0x8000000000000000ULL, 0xffffffc000000000ULL,
        0xfffffffffffff000ULL, 0xffffffffffffffffULL,
    };
    uint64_t p = bad[below(r, sizeof(bad) / sizeof(bad[0]))];
    return below(r, 4) == 0 ? p + below(r, 16) : p;
}

static bool in_scratch(const struct thread_ctx *t, uint64_t p, uint64_t len);

/* The program's own writable data and the heap above it (glibc's state, the
 * canary): a number that happens to point there is made a bad pointer instead,
 * since a call writing there would be the test harming itself. */
static bool own_data(const struct thread_ctx *t, uint64_t v)
{
    extern char etext[], end[];
    uint64_t lo = (uint64_t)(uintptr_t)etext & ~4095ULL;
    uint64_t hi = ((uint64_t)(uintptr_t)end + (64u << 20));
    return v >= lo && v < hi && !in_scratch(t, v, 1);
}

static uint64_t raw_arg(struct thread_ctx *t);

static uint64_t any_arg(struct thread_ctx *t)
{
    uint64_t v = raw_arg(t);
    return own_data(t, v) ? bad_ptr(&t->rng) : v;
}

static uint64_t raw_arg(struct thread_ctx *t)
{
    struct rng *r = &t->rng;
    switch (below(r, 20)) {
    case 0: return 0;
    case 1: return below(r, 8);
    case 2: return below(r, 64);
    case 3: return (uint64_t)-1;
    case 4: return (uint64_t)-(int64_t)(1 + below(r, 4096));
    case 5: return next(r);
    case 6: return (uint32_t)next(r);
    case 7: return 1ULL << below(r, 64);
    case 8: return (1ULL << below(r, 64)) - 1;
    case 9: return 4096 * below(r, 64);
    case 10: return 3 + below(r, 40);                                       /* an fd of its own */
    case 11:
    case 12: return (uint64_t)(uintptr_t)t->scratch + below(r, SCRATCH);     /* valid, any alignment */
    case 13: return (uint64_t)(uintptr_t)t->scratch + below(r, SCRATCH / 64) * 64;
    case 14: return (uint64_t)(uintptr_t)t->scratch + SCRATCH - below(r, 64); /* runs off the end */
    case 15: return arena_ptr(r);
    case 16: return code_ptr(r);
    case 17:
    case 18: return bad_ptr(r);
    default: return (uint64_t)(uintptr_t)t->scratch + 1 + below(r, 7) * 2;   /* misaligned */
    }
}

static long random_nr(struct rng *r)
{
    switch (below(r, 10)) {
    case 0: return 400 + (long)below(r, 64);
    case 1: return 464 + (long)below(r, 4096);
    case 2: return -(long)below(r, 1024) - 1;
    case 3: return (long)next(r);
    default: return (long)below(r, 300);
    }
}

/* ---- what must not happen to the test itself ------------------------------------- */

static bool in_scratch(const struct thread_ctx *t, uint64_t p, uint64_t len)
{
    uint64_t s = (uint64_t)(uintptr_t)t->scratch;
    return p >= s && p < s + SCRATCH && len <= s + SCRATCH - p;
}

/* A signal-mask argument: never one that blocks SIGALRM (the watchdog's way to
 * interrupt a call that would block forever). */
static void mask_arg(struct thread_ctx *t, uint64_t *a)
{
    if (in_scratch(t, *a, 8))
        ((uint8_t *)(uintptr_t)*a)[(SIGALRM - 1) / 8] &= (uint8_t)~(1u << ((SIGALRM - 1) % 8));
    else if (*a < GUEST_TOP)
        *a = 0;
}

static uint64_t cap(uint64_t len, uint64_t max)
{
    return len >= (1ULL << 40) ? len : len % (max + 1);   /* huge ones fail, others are bounded */
}

/* A range for a memory call: inside the arena, or a hostile address; never the
 * program itself, its heap or its stacks. */
static void mem_range(struct thread_ctx *t, uint64_t *addr, uint64_t *len)
{
    uint64_t s = (uint64_t)(uintptr_t)arena;
    if (*addr >= GUEST_TOP)
        return;
    if (*addr < s || *addr >= s + ARENA)
        *addr = arena_ptr(&t->rng);
    *len = cap(*len, s + ARENA - *addr);
}

enum { GO, SKIP, DEFUSED };

static int defuse(struct thread_ctx *t, long nr, uint64_t *a)
{
    switch (nr) {
    case 93: case 94:                 /* exit, exit_group */
    case 221: case 281:               /* execve, execveat */
    case 139:                         /* rt_sigreturn */
    case 96:                          /* set_tid_address: pthread_join would wait for ever */
    case 230:                         /* mlockall: all of the emulator's memory, as root */
    case 81: case 267:                /* sync, syncfs: the machine's disks, slowly */
    case 435:                         /* clone3: a struct of our choosing could fork */
        return SKIP;
    /* system-wide or privileged: nothing a test may do to its machine */
    case 39: case 40: case 41: case 42: case 51: case 58: case 60: case 89: case 97:
    case 104: case 105: case 106: case 112: case 116: case 142: case 161: case 162:
    case 170: case 171: case 217: case 218: case 219: case 224: case 225: case 241:
    case 262: case 263: case 264: case 265: case 266: case 268: case 273: case 280:
    case 294: case 428: case 429: case 430: case 431: case 432: case 433: case 442:
    case 443:
        return SKIP;
    case 220:                         /* clone: CLONE_SIGHAND without CLONE_VM is refused */
        a[0] = (a[0] & ~(uint64_t)(CLONE_VM | CLONE_THREAD | CLONE_VFORK)) | CLONE_SIGHAND;
        return DEFUSED;
    /* other processes: a pid that cannot exist */
    case 129: case 130: case 138: case 434: case 122: case 118: case 119: case 274:
    case 238: case 239: case 270: case 271: case 100:
        a[0] = below(&t->rng, 2) ? NOPID : (uint64_t)-NOPID;
        return DEFUSED;
    case 131: case 240: case 272:     /* tgkill, rt_tgsigqueueinfo, kcmp */
        a[0] = a[1] = NOPID;
        return DEFUSED;
    case 117: case 30: case 140:      /* ptrace, ioprio_set, setpriority: the who argument */
        a[1] = NOPID;
        return DEFUSED;
    case 261:                         /* prlimit64: only its own limits, and not CPU time */
        a[0] = 0;
        if ((int)a[1] == 0 /* RLIMIT_CPU */ && a[2])
            return SKIP;
        return DEFUSED;
    case 164:                         /* setrlimit: RLIMIT_CPU kills it within a second */
        if ((int)a[0] == 0)
            return SKIP;
        return GO;
    case 424: case 438: case 440:     /* pidfd_send_signal, pidfd_getfd, process_madvise */
        a[0] = (uint64_t)-1;
        return DEFUSED;
    case 25:                          /* fcntl F_SETOWN(_EX): SIGIO to someone else */
        if ((int)a[1] == 8 || (int)a[1] == 15) {
            a[2] = NOPID;
            return DEFUSED;
        }
        return GO;
    /* fds 0-2 carry the emulator's own error reports */
    case 57:                          /* close */
        if (a[0] < 3)
            a[0] += 3;
        return GO;
    case 24:                          /* dup3 */
        if (a[1] < 3)
            a[1] += 3;
        return GO;
    case 436:                         /* close_range */
        if (a[0] < 3)
            a[0] = 3;
        return GO;
    /* the watchdog's SIGALRM */
    case 134:                         /* rt_sigaction */
        if ((int)a[0] == SIGALRM)
            return SKIP;
        return GO;
    case 135: mask_arg(t, &a[1]); return GO;   /* rt_sigprocmask */
    case 133: mask_arg(t, &a[0]); return GO;   /* rt_sigsuspend */
    case 73: mask_arg(t, &a[3]); return GO;    /* ppoll */
    case 22: case 441: mask_arg(t, &a[4]); return GO; /* epoll_pwait(2) */
    case 72:                          /* pselect6: the mask is behind a pointer pair */
        if (a[5] && a[5] < GUEST_TOP)
            a[5] = 0;
        return GO;
    /* memory: the arena or hostile addresses only, sizes that cannot fill RAM */
    case 222:                         /* mmap */
        a[3] &= ~(uint64_t)(MAP_POPULATE | MAP_LOCKED);
        if (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE))
            mem_range(t, &a[0], &a[1]);
        else
            a[1] = cap(a[1], 64u << 20);
        return DEFUSED;
    case 214:                         /* brk: never below the current break */
        if (a[0] && a[0] < GUEST_TOP)
            a[0] = 0;
        return GO;
    case 215: case 226: case 227: case 228: case 229: case 233: case 234: case 235:
    case 288: case 462:               /* munmap mprotect msync mlock munlock madvise ... */
        mem_range(t, &a[0], &a[1]);
        return GO;
    case 216:                         /* mremap */
        mem_range(t, &a[0], &a[1]);
        if (a[3] & MREMAP_FIXED)
            mem_range(t, &a[4], &a[2]);
        else
            a[2] = cap(a[2], 64u << 20);
        return GO;
    case 47:                          /* fallocate */
        a[3] = cap(a[3], 1u << 20);
        return GO;
    case 198: case 199:               /* socket, socketpair: no network */
        if (a[0] != 1)
            a[0] = below(&t->rng, 2) ? 1 /* AF_UNIX */ : 0xffff;
        return GO;
    }
    return GO;
}

/* ---- threads --------------------------------------------------------------------- */

static void *storm_thread(void *arg)
{
    struct thread_ctx *t = arg;
    tids[t->index] = (pid_t)syscall(SYS_gettid);
    fill_scratch(t, 0, SCRATCH);
    /* All threads exist before the first call (a call may lower RLIMIT_NPROC). */
    while (!storm_go)
        sched_yield();
    for (uint64_t i = 0; i < calls_per_thread; i++) {
        if (i % 64 == 0)
            fill_scratch(t, below(&t->rng, SCRATCH), 4096);
        long nr = random_nr(&t->rng);
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = any_arg(t);
        int d = defuse(t, nr, a);
        if (d == SKIP) {
            __atomic_add_fetch(&sh->skipped, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (d == DEFUSED)
            __atomic_add_fetch(&sh->defused, 1, __ATOMIC_RELAXED);
        sh->last_nr[child_index % 64][t->index] = (uint64_t)nr;
        memcpy(sh->last_args[child_index % 64][t->index], a, sizeof(a));
        __atomic_add_fetch(&sh->made, 1, __ATOMIC_RELAXED);
        long r = raw_ecall(nr, a);
        if (r < 0 && r > -4096)
            __atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
        progress[t->index]++;
        sh->progress[child_index % 64][t->index]++;
    }
    sh->done[child_index % 64][t->index] = 1;
    return NULL;
}

/* A call with no timeout that nobody will ever wake (read of an empty pipe it made,
 * a futex wait, ppoll on nothing) is interrupted: a storm thread whose count has
 * not moved for a tick gets SIGALRM, whose handler does nothing, so the call
 * returns EINTR. */
static void on_alarm(int sig)
{
    alarms++;
}

static void *watchdog(void *arg)
{
    uint64_t seen[MAX_THREADS] = { 0 };
    while (!storm_done) {
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        for (int i = 0; i < nthreads; i++) {
            if (tids[i] && progress[i] == seen[i])
                syscall(SYS_tgkill, getpid(), tids[i], SIGALRM);
            seen[i] = progress[i];
        }
    }
    return NULL;
}

static int setup_failed(int index, const char *what)
{
    fprintf(stderr, "\nstorm: child %d: cannot set up: %s: %s\n", index, what, strerror(errno));
    return 4;
}

static int run_child(int index)
{
    child_index = index;
    char dir[32];
    snprintf(dir, sizeof(dir), "c%d", index);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return setup_failed(index, "mkdir");
    if (chdir(dir) < 0)
        return setup_failed(index, "chdir");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;                 /* no SA_RESTART: the call returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    /* The arena, with a guard page after it (a call that writes past its end
     * must reach nothing of the program's, such as a thread's stack). */
    arena = mmap(NULL, ARENA + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED || mprotect(arena + ARENA, 4096, PROT_NONE) != 0)
        return setup_failed(index, "arena");
    for (size_t i = 0; i < sizeof(canary); i++)
        canary[i] = (uint8_t)(i * 131 + 7);
    pthread_t th[MAX_THREADS], wd;
    struct thread_ctx ctx[MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        ctx[i].index = i;
        ctx[i].rng.s = (seed * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)index << 32) ^ (uint64_t)(i + 1) * 0xD1B54A32D192ED03ULL;
        if (!ctx[i].rng.s)
            ctx[i].rng.s = 1;
        /* Its own mapping with a guard page after it, so that a buffer that runs
         * off its end reaches nothing of the program's (malloc's chunk headers). */
        uint8_t *m = mmap(NULL, SCRATCH + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m + SCRATCH, 4096, PROT_NONE) != 0)
            return setup_failed(index, "scratch");
        ctx[i].scratch = m;
        if ((errno = pthread_create(&th[i], NULL, storm_thread, &ctx[i])) != 0)
            return setup_failed(index, "pthread_create");
    }
    if ((errno = pthread_create(&wd, NULL, watchdog, NULL)) != 0)
        return setup_failed(index, "pthread_create (watchdog)");
    storm_go = 1;
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    storm_done = 1;
    pthread_join(wd, NULL);
    for (size_t i = 0; i < sizeof(canary); i++) {
        if (canary[i] != (uint8_t)(i * 131 + 7)) {
            fprintf(stderr, "\nstorm: child %d: memory no call was given changed at canary+%zu\n", index, i);
            return 3;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: storm SEED CHILDREN THREADS CALLS [FIRST]\n");
        return 2;
    }
    seed = strtoull(argv[1], NULL, 0);
    int children = atoi(argv[2]);
    nthreads = atoi(argv[3]);
    calls_per_thread = strtoull(argv[4], NULL, 0);
    if (children < 1 || nthreads < 1 || nthreads > MAX_THREADS)
        return 2;
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 2;
    printf("storm: seed %llu, %d children x %d threads x %llu calls\n", (unsigned long long)seed,
           children, nthreads, (unsigned long long)calls_per_thread);
    fflush(stdout);
    int exited = 0, signalled = 0, failed = 0;
    int sigs[65] = { 0 };
    int first = argc == 6 ? atoi(argv[5]) : 0;
    for (int c = first; c < first + children; c++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(run_child(c));
        /* Wait; a child hangs if one of its threads has not come back from a call
         * for HANG_SECONDS although the watchdog keeps interrupting it. */
        int status = 0, still = 0;
        uint64_t seen[MAX_THREADS] = { 0 };
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                break;
            if (w < 0 && errno != EINTR) {
                perror("waitpid");
                return 1;
            }
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            bool moved = false, all_done = true;
            for (int i = 0; i < nthreads; i++) {
                uint64_t p = __atomic_load_n(&sh->progress[c % 64][i], __ATOMIC_RELAXED);
                moved |= p != seen[i];
                all_done &= sh->done[c % 64][i] != 0;
                seen[i] = p;
            }
            still = moved || all_done ? 0 : still + 1;
            if (still == HANG_SECONDS * 20) {
                printf("\nstorm: child %d hangs: no call returned for %d s; last calls:\n", c, HANG_SECONDS);
                for (int i = 0; i < nthreads; i++) {
                    uint64_t *a = sh->last_args[c % 64][i];
                    printf("storm:   thread %d%s: nr %lld (%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n", i,
                           sh->done[c % 64][i] ? " (done)" : "",
                           (long long)sh->last_nr[c % 64][i], (unsigned long long)a[0], (unsigned long long)a[1],
                           (unsigned long long)a[2], (unsigned long long)a[3], (unsigned long long)a[4],
                           (unsigned long long)a[5]);
                }
                fflush(stdout);
                kill(pid, SIGKILL);
                failed++;
            }
        }
        fcntl(1, F_SETFL, 0);             /* a child may have made the shared pipe non-blocking */
        if (WIFEXITED(status)) {
            exited++;
            /* exit and exit_group are never stormed: any other status than 0 is
             * the emulator's (or a failed check, 3 and 4). */
            if (WEXITSTATUS(status) != 0) {
                printf("\nstorm: child %d exit status %d\n", c, WEXITSTATUS(status));
                failed++;
            }
        } else if (WIFSIGNALED(status)) {
            int s = WTERMSIG(status);
            signalled++;
            sigs[s < 65 ? s : 0]++;
            printf("\nstorm: child %d killed by signal %d (%s); last calls:", c, s, strsignal(s));
            for (int i = 0; i < nthreads; i++)
                printf(" %lld", (long long)sh->last_nr[c % 64][i]);
            printf("\n");
        }
        fflush(stdout);
    }
    printf("\nstorm: seed %llu: %llu system calls made (%llu failed with an errno, %llu defused), %llu skipped; "
           "%d children exited, %d killed by a signal, %d failed\n",
           (unsigned long long)seed, (unsigned long long)sh->made, (unsigned long long)sh->errors,
           (unsigned long long)sh->defused, (unsigned long long)sh->skipped, exited, signalled, failed);
    if (failed)
        return 1;
    printf("storm: ok\n");
    return 0;
}
