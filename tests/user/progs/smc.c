/* Self-modifying and generated code: a function written into an RWX page, run,
 * rewritten and run again, (a) with fence.i in between, (b) without (the
 * emulator must notice the write itself), and (c) the way JITs do it, toggling
 * the page between RW and RX with mprotect. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

/* li a0, v ; ret */
static void emit(uint32_t *p, int v)
{
    p[0] = ((uint32_t)(v & 0xfff) << 20) | (10 << 7) | 0x13;   /* addi a0, zero, v */
    p[1] = 0x00008067;                                          /* jalr zero, 0(ra) */
}

typedef int (*fn)(void);

int main(void)
{
    uint32_t *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(rwx != MAP_FAILED);
    int sum = 0;
    for (int i = 1; i <= 50; i++) {
        emit(rwx, i);
        __builtin___clear_cache((char *)rwx, (char *)(rwx + 2));
        int r = ((fn)rwx)();
        CHECK(r == i);
        sum += r;
    }
    printf("fence.i: sum %d\n", sum);

    /* no fence.i: the same page rewritten while its old code is translated */
    sum = 0;
    for (int i = 1; i <= 50; i++) {
        emit(rwx + 16, i);
        __asm__ volatile("" ::: "memory");
        int r = ((fn)(rwx + 16))();
        CHECK(r == i);
        sum += r;
    }
    printf("no fence.i: sum %d\n", sum);

    uint32_t *jit = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(jit != MAP_FAILED);
    sum = 0;
    for (int i = 1; i <= 50; i++) {
        CHECK(mprotect(jit, 8192, PROT_READ | PROT_WRITE) == 0);
        emit(jit + (i % 2) * 1024, i * 3);
        CHECK(mprotect(jit, 8192, PROT_READ | PROT_EXEC) == 0);
        int r = ((fn)(jit + (i % 2) * 1024))();
        CHECK(r == i * 3);
        sum += r;
    }
    printf("mprotect: sum %d\n", sum);
    munmap(jit, 8192);
    printf("smc: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
