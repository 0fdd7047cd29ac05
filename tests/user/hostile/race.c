/* A guest that unmaps memory while another of its threads hands that memory to
 * system calls the emulator completes itself (fstat's struct stat, sigprocmask's
 * old set, sigaction's old action, uname): Linux answers EFAULT or succeeds, the
 * emulator must never fault on it.
 *   race ITERATIONS        (exit 0; the counts of each outcome on stdout) */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *area;                 /* two pages: the second one comes and goes */
static volatile int stop;

static void *flipper(void *arg)
{
    while (!stop) {
        munmap(area + 4096, 4096);
        mmap(area + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    area = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return 2;
    pthread_t th;
    if (pthread_create(&th, NULL, flipper, NULL) != 0)
        return 2;
    long ok = 0, efault = 0, other = 0;
    for (long i = 0; i < n; i++) {
        /* each buffer starts in the first page and ends in the second */
        long r;
        switch (i % 4) {
        case 0: r = syscall(SYS_fstat, 0, area + 4096 - 64); break;
        case 1: r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, area + 4096 - 4, 8); break;
        case 2: r = syscall(SYS_rt_sigaction, SIGUSR1, NULL, area + 4096 - 8, 8); break;
        default: r = syscall(SYS_uname, area + 4096 - 200); break;
        }
        if (r == 0)
            ok++;
        else if (errno == EFAULT)
            efault++;
        else
            other++;
    }
    stop = 1;
    pthread_join(th, NULL);
    printf("race: %ld calls: %ld succeeded, %ld EFAULT, %ld other\n", n, ok, efault, other);
    return other != 0;
}
