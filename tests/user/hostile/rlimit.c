/* A guest that lowers its address-space, data and stack limits, then creates
 * threads and allocates: the limits are the guest's, and must not starve the
 * emulator (its reservation, JIT buffers and host threads).  Output and exit
 * status are compared with qemu-riscv64 (tests/user/hostile/run-vs-qemu.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void *thread_fn(void *arg)
{
    return arg;
}

int main(void)
{
    static const int res[] = { RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK };
    for (unsigned i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        struct rlimit r = { 64 << 20, 64 << 20 };
        printf("setrlimit(%d, 64 MiB) = %d\n", res[i], setrlimit(res[i], &r));
    }
    int ok = 0;
    for (int i = 0; i < 8; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_fn, NULL) == 0 && pthread_join(t, NULL) == 0)
            ok++;
    }
    char *p = malloc(1 << 20);
    if (p)
        memset(p, 1, 1 << 20);
    printf("threads %d of 8, malloc of 1 MiB %s\n", ok, p ? "ok" : "failed");
    return 0;
}
