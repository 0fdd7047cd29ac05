/* Integer kernel: a table-free CRC-32, a 64-bit multiply-xorshift hash and
 * integer division, over a buffer, many rounds.  Prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 400;
    static uint8_t buf[1 << 16];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    uint32_t crc = 0xffffffff;
    uint64_t h = 0x9e3779b97f4a7c15ULL, q = 0;
    for (int r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < sizeof(buf); i++) {
            crc ^= buf[i];
            for (int k = 0; k < 8; k++)
                crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
            h = (h ^ buf[i]) * 0xff51afd7ed558ccdULL;
            h ^= h >> 33;
            q += h / ((i | 1) + r);
        }
    }
    printf("%08x %016llx %016llx\n", crc ^ 0xffffffff, (unsigned long long)h, (unsigned long long)q);
    return 0;
}
