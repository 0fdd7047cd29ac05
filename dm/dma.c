/* DMA copies through an address space: see dm/dma.h.  RAM is copied section by
 * section; MMIO and unassigned space go through io_read/io_write in naturally
 * aligned pieces of up to 8 bytes, so a device DMAing into another device's
 * registers behaves like a bus master would. */
#include <errno.h>
#include <string.h>

#include "dm/dma.h"
#include "dm/memory.h"
#include "dm/util.h"

static unsigned piece_size(uint64_t addr, size_t left)
{
    unsigned s = 8;

    while (s > 1 && (s > left || (addr & (s - 1))))
        s /= 2;
    return s;
}

static int dma_rw(struct address_space *as, uint64_t addr, void *buf, size_t len, bool is_write)
{
    uint8_t *p = buf;
    int ret = 0;

    if (len == 0)
        return 0;
    /* Never wrap past the top of the space. */
    if (len - 1 > UINT64_MAX - addr) {
        size_t ok = (size_t)(UINT64_MAX - addr) + 1;
        if (!is_write)
            memset(p + ok, 0xff, len - ok);
        len = ok;
        ret = -EFAULT;
    }
    while (len > 0) {
        uint64_t n = len;
        void *host = address_space_host_ptr(as, addr, &n, is_write);

        if (host) {
            if (is_write)
                memcpy(host, p, n);
            else
                memcpy(p, host, n);
        } else {
            const struct mem_section *s = address_space_lookup(as, addr);
            uint64_t v = 0;

            n = piece_size(addr, len);
            if (s && s->readonly && is_write) {
                /* ROM: the write is dropped, as on real hardware */
                n = DM_MIN(len, s->size - (addr - s->addr));
            } else if (is_write) {
                memcpy(&v, p, n);
                if (io_write(as, addr, (unsigned)n, v) != IO_OK)
                    ret = -EFAULT;
            } else {
                if (io_read(as, addr, (unsigned)n, &v) != IO_OK)
                    ret = -EFAULT;
                memcpy(p, &v, n);
            }
        }
        p += n;
        addr += n;
        len -= n;
    }
    return ret;
}

int dma_read(struct address_space *as, uint64_t addr, void *buf, size_t len)
{
    return dma_rw(as, addr, buf, len, false);
}

int dma_write(struct address_space *as, uint64_t addr, const void *buf, size_t len)
{
    return dma_rw(as, addr, (void *)buf, len, true);
}

int dma_set(struct address_space *as, uint64_t addr, uint8_t c, size_t len)
{
    uint8_t block[256];
    int ret = 0;

    memset(block, c, sizeof(block));
    while (len > 0) {
        size_t n = DM_MIN(len, sizeof(block));
        if (dma_write(as, addr, block, n) < 0)
            ret = -EFAULT;
        addr += n;
        len -= n;
    }
    return ret;
}

/* Little-endian guests on a little-endian host: the bytes are the value. */
#define DMA_LE(bits)                                                                 \
    int dma_read_u##bits(struct address_space *as, uint64_t addr, uint##bits##_t *v) \
    {                                                                                \
        uint8_t b[bits / 8];                                                         \
        int ret = dma_read(as, addr, b, sizeof(b));                                  \
        uint64_t x = 0;                                                              \
        for (unsigned i = 0; i < sizeof(b); i++)                                     \
            x |= (uint64_t)b[i] << (8 * i);                                          \
        *v = (uint##bits##_t)x;                                                      \
        return ret;                                                                  \
    }                                                                                \
    int dma_write_u##bits(struct address_space *as, uint64_t addr, uint##bits##_t v) \
    {                                                                                \
        uint8_t b[bits / 8];                                                         \
        for (unsigned i = 0; i < sizeof(b); i++)                                     \
            b[i] = (uint8_t)((uint64_t)v >> (8 * i));                                \
        return dma_write(as, addr, b, sizeof(b));                                    \
    }
DMA_LE(16)
DMA_LE(32)
DMA_LE(64)

void *dma_map(struct address_space *as, uint64_t addr, uint64_t *len, bool is_write)
{
    return address_space_host_ptr(as, addr, len, is_write);
}

void dma_unmap(struct address_space *as, void *ptr, uint64_t len, bool is_write,
               uint64_t access_len)
{
    /* Nothing to release for memfd RAM; the Xen map cache and dirty tracking
     * hook in here. */
}
