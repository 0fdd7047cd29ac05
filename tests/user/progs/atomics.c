/* The A extension under several threads: AMOs (add, swap, and/or/xor, min/max),
 * LR/SC through compare-and-swap loops, a spin lock made of amoswap; the totals must
 * come out exact. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define ITERS 20000

static uint64_t counter64;
static uint32_t counter32;
static uint64_t cas_counter;
static int64_t maxv = INT64_MIN, minv = INT64_MAX;
static uint64_t orbits;
static volatile uint32_t lock;
static uint64_t locked_counter;

static void spin_lock(void)
{
    uint32_t one = 1, old;
    do {
        __asm__ volatile("amoswap.w.aq %0, %1, (%2)" : "=r"(old) : "r"(one), "r"(&lock) : "memory");
    } while (old);
}

static void spin_unlock(void)
{
    __asm__ volatile("amoswap.w.rl zero, zero, (%0)" : : "r"(&lock) : "memory");
}

static void *worker(void *arg)
{
    int64_t id = (int64_t)(intptr_t)arg;
    for (int i = 0; i < ITERS; i++) {
        __atomic_fetch_add(&counter64, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&counter32, 2, __ATOMIC_RELAXED);
        uint64_t old = __atomic_load_n(&cas_counter, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&cas_counter, &old, old + 3, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            ;
        int64_t v = id * 1000003 - i * 7;
        __asm__ volatile("amomax.d zero, %0, (%1)" : : "r"(v), "r"(&maxv) : "memory");
        __asm__ volatile("amomin.d zero, %0, (%1)" : : "r"(v), "r"(&minv) : "memory");
        __atomic_fetch_or(&orbits, 1ULL << ((id * 13 + i) % 64), __ATOMIC_SEQ_CST);
        spin_lock();
        locked_counter++;
        spin_unlock();
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int ok = counter64 == (uint64_t)THREADS * ITERS && counter32 == 2u * THREADS * ITERS
          && cas_counter == 3ULL * THREADS * ITERS && locked_counter == (uint64_t)THREADS * ITERS
          && maxv == (THREADS - 1) * 1000003LL && minv == -(ITERS - 1) * 7LL && orbits == UINT64_MAX;
    printf("counter64=%llu counter32=%u cas=%llu locked=%llu max=%lld min=%lld or=%llx\n",
           (unsigned long long)counter64, counter32, (unsigned long long)cas_counter,
           (unsigned long long)locked_counter, (long long)maxv, (long long)minv, (unsigned long long)orbits);
    /* single-threaded AMO results (old values) */
    uint32_t w = 0x80000000u;
    int32_t r;
    __asm__ volatile("amoadd.w %0, %1, (%2)" : "=r"(r) : "r"(0x80000000u), "r"(&w) : "memory");
    printf("amoadd.w old=%d new=%u\n", r, w);
    uint64_t d = 5, o;
    __asm__ volatile("amominu.d %0, %1, (%2)" : "=r"(o) : "r"(-1LL), "r"(&d) : "memory");
    printf("amominu.d old=%llu new=%llu\n", (unsigned long long)o, (unsigned long long)d);
    printf("atomics: %s\n", ok ? "ok" : "FAILED");
    return !ok;
}
