/* Runs a command RUNS times and prints the medians of its wall time, its CPU
 * time (user + sys) and its peak RSS, for the start-up benchmark
 * (tests/bench/startup.py on the host, tests/kvm/nested.sh bench in a nested
 * guest, where no python is).  Every run must exit with EXPECT.
 *   startup-run RUNS EXPECT COMMAND [ARG...]
 * prints "wall_ms cpu_ms maxrss_kib" or fails (status 1) naming the bad run. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: startup-run RUNS EXPECT COMMAND [ARG...]\n");
        return 2;
    }
    int runs = atoi(argv[1]), expect = atoi(argv[2]);
    if (runs < 1 || runs > 1000)
        return 2;
    double *wall = calloc(runs, sizeof(double)), *cpu = calloc(runs, sizeof(double));
    double *rss = calloc(runs, sizeof(double));
    for (int i = 0; i < runs; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            execv(argv[3], argv + 3);
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) {
            perror("startup-run");
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != expect) {
            fprintf(stderr, "startup-run: run %d of %s: status %d, expected %d\n", i,
                    argv[3], WIFEXITED(status) ? WEXITSTATUS(status) : -1, expect);
            return 1;
        }
        wall[i] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        cpu[i] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
                 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        rss[i] = ru.ru_maxrss;
    }
    printf("%.2f %.2f %.0f\n", median(wall, runs), median(cpu, runs), median(rss, runs));
    return 0;
}
