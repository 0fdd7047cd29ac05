/* Memory-bound kernel: a random pointer chase through 32 MiB, a blocked matrix
 * transpose and memcpy/memset of large buffers.  Prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 4;
    size_t n = 4 << 20;  /* 4M entries of 8 bytes */
    uint64_t *next = malloc(n * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) next[i] = i;
    uint64_t s = 88172645463325252ULL;
    for (size_t i = n - 1; i > 0; i--) {   /* Sattolo: one big cycle */
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t j = s % i;
        uint64_t t = next[i]; next[i] = next[j]; next[j] = t;
    }
    uint64_t p = 0, sum = 0;
    for (long k = 0; k < 1000000L * scale; k++) { p = next[p]; sum += p; }
    int D = 1024;
    double *m = malloc(D * D * sizeof(double)), *t = malloc(D * D * sizeof(double));
    for (int i = 0; i < D * D; i++) m[i] = i;
    for (int r = 0; r < scale; r++)
        for (int bi = 0; bi < D; bi += 32)
            for (int bj = 0; bj < D; bj += 32)
                for (int i = bi; i < bi + 32; i++)
                    for (int j = bj; j < bj + 32; j++)
                        t[j * D + i] = m[i * D + j] + r;
    char *a = malloc(16 << 20), *b = malloc(16 << 20);
    memset(a, 1, 16 << 20);
    for (int r = 0; r < scale * 4; r++) { memcpy(b, a, 16 << 20); a[r] = (char)r; }
    printf("%llu %.0f %d\n", (unsigned long long)sum, t[5 * D + 7], b[3]);
    return 0;
}
