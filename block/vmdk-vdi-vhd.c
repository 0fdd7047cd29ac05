/* Helpers shared by the VMDK, VDI and VHD drivers. */
#include "block/vmdk-vdi-vhd.h"

#include <sys/random.h>
#include <time.h>

void fmt_random(uint8_t *buf, size_t len)
{
    if (getrandom(buf, len, GRND_NONBLOCK) == (ssize_t)len)
        return;
    /* early boot or a seccomp sandbox: fall back to a time-seeded generator */
    uint64_t x = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        buf[i] = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
    }
}
