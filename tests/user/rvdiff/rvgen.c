/* Host side of the random-instruction differential test: write COUNT straight-line
 * RV64GC blocks from cpu/riscv's generator as records "u32 length, bytes".
 *   rvgen SEED COUNT [MAXBYTES] > blocks.bin */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/riscv/cpu.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rvgen SEED COUNT [MAXBYTES]\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 0);
    long count = strtol(argv[2], NULL, 0);
    size_t max = argc > 3 ? strtoul(argv[3], NULL, 0) : 256;
    if (count < 0 || max < 4 || max > 65536) {
        fprintf(stderr, "rvgen: bad COUNT or MAXBYTES\n");
        return 2;
    }
    uint8_t *buf = malloc(max);
    if (!buf)
        return 1;
    for (long i = 0; i < count; i++) {
        riscv_gen_options o = { .seed = seed + (uint64_t)i, .scratch_size = 256, .qemu_compat = true };
        uint32_t len = (uint32_t)riscv_gen_block(&o, buf, max);
        if (fwrite(&len, 4, 1, stdout) != 1 || fwrite(buf, 1, len, stdout) != len) {
            free(buf);
            return 1;
        }
    }
    free(buf);
    return 0;
}
