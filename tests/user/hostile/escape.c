/* Guest loads from addresses outside the 2^38-byte guest space must fault, as
 * under qemu-riscv64 and Linux: the 4 GiB below address 0 (just under the
 * reservation on the host) and 64 GiB above the space.  Both of Vireo's backends
 * once added the address to guest_base unchecked and read the host memory there
 * (docs/user-mode.md, "Hostile input").  Prints how many probed pages were
 * readable; exit 0 if none.  Test: user-escape. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf jb;

static void on_fault(int sig)
{
    siglongjmp(jb, 1);
}

static int probe(uint64_t from, uint64_t to, uint64_t step, const char *what)
{
    int readable = 0;
    uint64_t first = 0;
    for (uint64_t a = from; a != to; a += step) {
        if (sigsetjmp(jb, 1) == 0) {
            volatile uint64_t v = *(volatile uint64_t *)(uintptr_t)a;
            (void)v;
            if (!readable++)
                first = a;
        }
    }
    printf("%s: %d readable (first %#llx)\n", what, readable, (unsigned long long)first);
    return readable;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    int n = probe(-(4ULL << 30), 0, 1ULL << 20, "4 GiB below address 0, every 1 MiB");
    n += probe(1ULL << 38, (1ULL << 38) + (64ULL << 30), 64ULL << 20, "64 GiB from 2^38, every 64 MiB");
    return n != 0;
}
