/* Memory-bound kernel: loads and stores that hit L1 and L2.
 *
 * Why not DRAM: a kernel that waits on main memory (a pointer chase through tens of
 * MiB, a large transpose, a large memcpy) takes the same time natively, under Vireo
 * and under qemu, because every version stalls on the same cache misses; it measures
 * the machine, not the emulator.  What an emulator adds to memory-heavy code is the
 * cost of each guest load and store (address arithmetic, the guest base, sign and
 * zero extension of narrow accesses, keeping guest registers in host registers
 * around them), so this kernel does many of them on data that stays in the caches
 * (every buffer is at most 256 KiB):
 *   - a byte histogram of a 64 KiB buffer (byte loads, indexed word increments);
 *   - a struct array traversal with fields of every width (8/16/32/64-bit, signed and
 *     unsigned, double) read and written;
 *   - a 5-point integer stencil over a 256 KiB grid (two grids, 32-bit);
 *   - strided reads (stride 1, 8 and 67 words) over 256 KiB;
 *   - a pointer chase through a 128 KiB cycle (fits L2: latency-bound, small);
 *   - byte-wise copy with a transform, and strlen/strchr-style scans of strings of
 *     varied lengths (data-dependent exits).
 * Prints checksums: the output must be the same everywhere. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define BUF (64 * 1024)
static uint8_t bytes[BUF];

static uint64_t histogram(int reps)
{
    uint32_t h[256];
    uint64_t sum = 0;
    for (int r = 0; r < reps; r++) {
        memset(h, 0, sizeof(h));
        for (int i = 0; i < BUF; i++)
            h[bytes[i]]++;
        for (int i = 0; i < 256; i++)
            sum = sum * 31 + h[i] * (uint64_t)(i + r);
        bytes[r % BUF] ^= (uint8_t)r;
    }
    return sum;
}

struct rec {
    uint8_t flags;
    int8_t delta;
    uint16_t count;
    int16_t bias;
    uint32_t id;
    int32_t score;
    uint64_t key;
    double weight;
};
#define NREC (128 * 1024 / sizeof(struct rec))
static struct rec recs[NREC];

static uint64_t structs(int reps)
{
    uint64_t acc = 0;
    double w = 0;
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < NREC; i++) {
            struct rec *p = &recs[i];
            if (p->flags & 1)
                p->score += p->delta;
            else
                p->score -= p->bias;
            p->count = (uint16_t)(p->count + (p->flags >> 4));
            p->key ^= (uint64_t)p->id << (p->count & 15);
            p->flags = (uint8_t)(p->flags * 5 + 1);
            w += p->weight * (double)p->delta;
            acc += (uint64_t)(int64_t)p->score + p->count + (p->key & 0xffff);
        }
    }
    return acc ^ (uint64_t)(int64_t)w;
}

#define G 256   /* G x G 32-bit cells = 256 KiB per grid */
static int32_t grid_a[G][G], grid_b[G][G];

static uint64_t stencil(int reps)
{
    for (int r = 0; r < reps; r++) {
        int32_t (*src)[G] = r & 1 ? grid_b : grid_a;
        int32_t (*dst)[G] = r & 1 ? grid_a : grid_b;
        for (int y = 1; y < G - 1; y++)
            for (int x = 1; x < G - 1; x++)
                dst[y][x] = (src[y][x] * 4 + src[y - 1][x] + src[y + 1][x] + src[y][x - 1] + src[y][x + 1]) >> 3;
    }
    uint64_t sum = 0;
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++)
            sum = sum * 3 + (uint32_t)grid_a[y][x];
    return sum;
}

#define WORDS (256 * 1024 / 8)
static uint64_t words[WORDS];

static uint64_t strided(int reps)
{
    static const unsigned strides[] = { 1, 8, 67 };
    uint64_t sum = 0;
    for (int r = 0; r < reps; r++)
        for (unsigned s = 0; s < 3; s++) {
            unsigned st = strides[s], pos = (unsigned)r;
            for (unsigned i = 0; i < WORDS; i++) {
                sum += words[pos] ^ i;
                pos += st;
                if (pos >= WORDS)
                    pos -= WORDS;
            }
        }
    return sum;
}

#define CHASE (128 * 1024 / 4)
static uint32_t chain[CHASE];

static uint64_t chase(int reps)
{
    uint32_t p = 0;
    uint64_t sum = 0;
    for (long k = 0; k < (long)reps * CHASE; k++) {
        p = chain[p];
        sum += p;
    }
    return sum;
}

#define STRS 4096
static char text[BUF];
static uint8_t copy[BUF];

static uint64_t bytewise(int reps)
{
    uint64_t sum = 0;
    for (int r = 0; r < reps; r++) {
        uint8_t k = (uint8_t)(r * 7 + 1);
        for (int i = 0; i < BUF; i++)
            copy[i] = (uint8_t)((bytes[i] ^ k) + (uint8_t)i);
        /* text holds NUL-terminated strings of 1..31 characters */
        for (int i = 0; i < BUF;) {
            int n = 0;
            while (text[i + n])
                n++;
            int j = 0;
            while (j < n && text[i + j] != 'q')
                j++;
            sum += (uint64_t)n * 131 + (uint64_t)j + copy[i];
            i += n + 1;
        }
    }
    return sum;
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 48;
    for (int i = 0; i < BUF; i++)
        bytes[i] = (uint8_t)(next_rand() >> 29);
    for (size_t i = 0; i < NREC; i++) {
        uint64_t x = next_rand();
        recs[i] = (struct rec){ (uint8_t)x, (int8_t)(x >> 8), (uint16_t)(x >> 16), (int16_t)(x >> 32),
                                (uint32_t)(x >> 20), (int32_t)(x >> 24), x, (double)(x % 1000) / 7.0 };
    }
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++)
            grid_a[y][x] = grid_b[y][x] = (int32_t)(next_rand() % 100000);
    for (int i = 0; i < WORDS; i++)
        words[i] = next_rand();
    for (uint32_t i = 0; i < CHASE; i++)
        chain[i] = i;
    for (uint32_t i = CHASE - 1; i > 0; i--) {   /* Sattolo: one cycle through all */
        uint32_t j = (uint32_t)(next_rand() % i), t = chain[i];
        chain[i] = chain[j];
        chain[j] = t;
    }
    for (int i = 0; i < BUF;) {
        int n = 1 + (int)(next_rand() % 31);
        if (i + n + 1 > BUF)
            n = BUF - i - 1;
        for (int j = 0; j < n; j++)
            text[i + j] = (char)('a' + next_rand() % 26);
        text[i + n] = 0;
        i += n + 1;
    }
    uint64_t h = histogram(40 * scale);
    uint64_t s = structs(60 * scale);
    uint64_t st = stencil(12 * scale);
    uint64_t sd = strided(10 * scale);
    uint64_t c = chase(10 * scale);
    uint64_t b = bytewise(25 * scale);
    printf("histogram %016llx\nstructs %016llx\nstencil %016llx\nstrided %016llx\nchase %016llx\nbytewise %016llx\n",
           (unsigned long long)h, (unsigned long long)s, (unsigned long long)st, (unsigned long long)sd,
           (unsigned long long)c, (unsigned long long)b);
    return 0;
}
