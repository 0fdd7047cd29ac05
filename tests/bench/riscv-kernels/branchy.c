/* Branchy kernel: Collatz chain lengths, a sieve of Eratosthenes and a
 * hand-written quicksort with data-dependent branches.  Prints results. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void qs(int *a, int lo, int hi)
{
    while (lo < hi) {
        int p = a[(lo + hi) / 2], i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) { int t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { qs(a, lo, j); lo = i; } else { qs(a, i, hi); hi = j; }
    }
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 10;
    uint64_t best = 0, besti = 0;
    for (uint64_t i = 1; i < 100000ULL * scale; i++) {
        uint64_t n = i, len = 0;
        while (n != 1) { n = (n & 1) ? 3 * n + 1 : n / 2; len++; }
        if (len > best) { best = len; besti = i; }
    }
    int N = 200000 * scale;
    char *sieve = calloc(N, 1);
    int primes = 0;
    for (int i = 2; i < N; i++) {
        if (sieve[i]) continue;
        primes++;
        for (long j = (long)i * i; j < N; j += i) sieve[j] = 1;
    }
    int M = 100000 * scale;
    int *a = malloc(M * sizeof(int));
    uint32_t s = 1;
    for (int i = 0; i < M; i++) { s = s * 1664525 + 1013904223; a[i] = (int)(s >> 4); }
    qs(a, 0, M - 1);
    int sorted = 1;
    for (int i = 1; i < M; i++) if (a[i - 1] > a[i]) sorted = 0;
    printf("collatz %llu at %llu, %d primes, sorted %d\n", (unsigned long long)best, (unsigned long long)besti, primes, sorted);
    return 0;
}
