/* Benchmark: io_read/io_write dispatch cost against the number of regions in
 * the flat view (binary search: cost should grow with log2(regions)), and
 * the cost of a flat-view rebuild (a BAR move).  Prints a markdown table. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dm/memory.h"

static uint64_t dev_read(void *opaque, uint64_t addr, unsigned size)
{
    return addr;
}

static void dev_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
}

static const struct mem_region_ops ops = {
    .read = dev_read, .write = dev_write, .valid = { 1, 4 }, .impl = { 1, 4 },
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
    static const unsigned counts[] = { 8, 64, 512, 4096 };
    const unsigned iters = 2000000;

    printf("| regions | sections | io_read MMIO (ns) | io_write MMIO (ns) | io_read RAM (ns) | rebuild (us) |\n");
    printf("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        unsigned n = counts[c];
        struct mem_region root, ram, *regs = calloc(n, sizeof(*regs));
        struct ram_block *blk;
        volatile uint64_t sink = 0;
        uint64_t v;

        ram_block_new(&mem_provider_memfd, "ram", 1 << 20, &blk, NULL);
        mem_region_init_container(&root, "root", UINT64_MAX);
        struct address_space *as = address_space_new("bench", &root);
        mem_transaction_begin();
        mem_region_init_ram(&ram, "ram", blk, 0, 1 << 20);
        mem_region_add_subregion(&root, 0, &ram, 0);
        for (unsigned i = 0; i < n; i++) {
            mem_region_init_io(&regs[i], "dev", &ops, NULL, 0x100);
            mem_region_add_subregion(&root, 0x10000000ULL + i * 0x1000ULL, &regs[i], 0);
        }
        mem_transaction_commit();

        /* addresses spread over all regions, in a scrambled order */
        double t0 = now_ns();
        for (unsigned i = 0; i < iters; i++) {
            unsigned r = (i * 2654435761u) % n;
            io_read(as, 0x10000000ULL + r * 0x1000ULL + 4, 4, &v);
            sink += v;
        }
        double t1 = now_ns();
        for (unsigned i = 0; i < iters; i++) {
            unsigned r = (i * 2654435761u) % n;
            io_write(as, 0x10000000ULL + r * 0x1000ULL + 4, 4, i);
        }
        double t2 = now_ns();
        for (unsigned i = 0; i < iters; i++) {
            io_read(as, (i * 64u) & 0xffffc, 4, &v);
            sink += v;
        }
        double t3 = now_ns();
        unsigned moves = n >= 4096 ? 20 : 200;
        for (unsigned i = 0; i < moves; i++)
            mem_region_set_address(&regs[0], i & 1 ? 0x8000000ULL : 0x10000000ULL);
        double t4 = now_ns();

        unsigned sections = 0;
        for (uint64_t a = 0; a < 0x10000000ULL + n * 0x1000ULL; ) {
            const struct mem_section *s = address_space_lookup(as, a);
            if (s) {
                sections++;
                a = s->addr + s->size;
            } else {
                a += 0x100;
            }
        }
        printf("| %u | %u | %.1f | %.1f | %.1f | %.1f |\n", n, sections, (t1 - t0) / iters,
               (t2 - t1) / iters, (t3 - t2) / iters, (t4 - t3) / moves / 1000);
        address_space_free(as);
        ram_block_free(blk);
        free(regs);
        (void)sink;
    }
    return 0;
}
