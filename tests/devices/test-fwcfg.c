/* fw_cfg through the test executor: signature, ID, RAM size and CPU counts,
 * the big-endian file directory, etc/e820, a DMA read of a file, and hostile
 * DMA: unknown keys, reads past the end, writes, addresses that wrap or point at
 * nothing.  Layouts from QEMU's public fw_cfg specification. */
#include "tests/devices/dt.h"

#include <string.h>

#include "devices/fw_cfg.h"

static void sel(struct qtest *q, uint16_t key)
{
    qtest_outw(q, 0x510, key);
}

static void readn(struct qtest *q, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = qtest_inb(q, 0x511);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Find a file in the directory: its key and size, or 0. */
static uint16_t find_file(struct qtest *q, const char *name, uint32_t *size)
{
    uint8_t hdr[4], e[64];
    sel(q, FW_CFG_FILE_DIR);
    readn(q, hdr, 4);
    uint32_t n = be32(hdr);
    for (uint32_t i = 0; i < n && i < 1000; i++) {
        readn(q, e, 64);
        if (!strncmp((char *)e + 8, name, 56)) {
            *size = be32(e);
            return (uint16_t)(e[4] << 8 | e[5]);
        }
    }
    return 0;
}

static void test_signature_id(void)
{
    DT_NEW(q, NULL);
    uint8_t b[8];
    sel(q, FW_CFG_SIGNATURE);
    readn(q, b, 4);
    CU_ASSERT_EQUAL(memcmp(b, "QEMU", 4), 0);
    readn(q, b, 2);                         /* past the end: zeros */
    CU_ASSERT_EQUAL(b[0] | b[1], 0);
    sel(q, FW_CFG_ID);
    readn(q, b, 4);
    CU_ASSERT_EQUAL(b[0], 0x03);            /* traditional + DMA */
    /* the DMA register reads "QEMU CFG" */
    CU_ASSERT_EQUAL(qtest_inl(q, 0x514), 'Q' | 'E' << 8 | 'M' << 16 | 'U' << 24);
    CU_ASSERT_EQUAL(qtest_inl(q, 0x518), ' ' | 'C' << 8 | 'F' << 16 | (uint32_t)'G' << 24);
    /* unknown selectors read 0 */
    sel(q, 0x3FFF);
    readn(q, b, 4);
    CU_ASSERT_EQUAL(b[0] | b[1] | b[2] | b[3], 0);
    qtest_free(q);
}

static void test_ram_cpus_e820(void)
{
    struct qtest_opts o = { .ram_size = 5ull << 30, .smp = 3 };
    DT_NEW(q, &o);
    uint8_t b[128];
    sel(q, FW_CFG_RAM_SIZE);
    readn(q, b, 8);
    CU_ASSERT_EQUAL(le64(b), 5ull << 30);
    sel(q, FW_CFG_NB_CPUS);
    readn(q, b, 2);
    CU_ASSERT_EQUAL(b[0] | b[1] << 8, 3);
    sel(q, FW_CFG_MAX_CPUS);
    readn(q, b, 2);
    CU_ASSERT_EQUAL(b[0] | b[1] << 8, 3);
    /* the directory: a big-endian count (the machine adds etc/e820 and an empty
     * bootorder), then entries of be32 size, be16 key, be16 reserved, name[56] */
    sel(q, FW_CFG_FILE_DIR);
    readn(q, b, 4 + 64);
    CU_ASSERT_EQUAL(be32(b), 2);
    CU_ASSERT_EQUAL(be32(b + 4), 40);
    CU_ASSERT_EQUAL(b[8] << 8 | b[9], 0x20);
    CU_ASSERT_EQUAL(b[10] | b[11], 0);
    CU_ASSERT_STRING_EQUAL((char *)b + 12, "etc/e820");
    uint32_t size = 99;
    CU_ASSERT_EQUAL(find_file(q, "bootorder", &size), 0x21);
    CU_ASSERT_EQUAL(size, 0);
    size = 0;
    uint16_t key = find_file(q, "etc/e820", &size);
    CU_ASSERT_FATAL(key >= 0x20);
    CU_ASSERT_EQUAL(size, 40);
    sel(q, key);
    readn(q, b, 40);
    CU_ASSERT_EQUAL(le64(b), 0);
    CU_ASSERT_EQUAL(le64(b + 8), 3ull << 30);
    CU_ASSERT_EQUAL(b[16], 1);
    CU_ASSERT_EQUAL(le64(b + 20), 4ull << 30);
    CU_ASSERT_EQUAL(le64(b + 28), 2ull << 30);
    CU_ASSERT_EQUAL(b[36], 1);
    qtest_free(q);
}

/* Write a FWCfgDmaAccess at desc and start it. */
static uint32_t dma(struct qtest *q, uint64_t desc, uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t d[16];
    for (int i = 0; i < 4; i++) {
        d[i] = (uint8_t)(control >> (24 - 8 * i));
        d[4 + i] = (uint8_t)(len >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++)
        d[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
    qtest_memwrite(q, desc, d, 16);
    qtest_outl(q, 0x514, __builtin_bswap32((uint32_t)(desc >> 32)));
    qtest_outl(q, 0x518, __builtin_bswap32((uint32_t)desc));
    uint8_t c[4];
    qtest_memread(q, desc, c, 4);
    return be32(c);
}

static void test_dma(void)
{
    DT_NEW(q, NULL);
    uint32_t size = 0;
    uint16_t key = find_file(q, "etc/e820", &size);
    CU_ASSERT_FATAL(key != 0);
    uint8_t want[64], got[64];
    sel(q, key);
    readn(q, want, size);
    /* select + read into RAM at 0x2000 */
    memset(got, 0xEE, sizeof(got));
    qtest_memwrite(q, 0x2000, got, sizeof(got));
    CU_ASSERT_EQUAL(dma(q, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
                        size, 0x2000), 0);
    qtest_memread(q, 0x2000, got, sizeof(got));
    CU_ASSERT_EQUAL(memcmp(got, want, size), 0);
    CU_ASSERT_EQUAL(got[size], 0xEE);       /* nothing past the length */
    /* skip 4, then read 4 of the signature */
    sel(q, FW_CFG_SIGNATURE);
    CU_ASSERT_EQUAL(dma(q, 0x1000, FW_CFG_DMA_SKIP, 2, 0), 0);
    CU_ASSERT_EQUAL(dma(q, 0x1000, FW_CFG_DMA_READ, 2, 0x3000), 0);
    qtest_memread(q, 0x3000, got, 2);
    CU_ASSERT_EQUAL(memcmp(got, "MU", 2), 0);
    /* reading past the end gives zeros */
    memset(got, 0xEE, 8);
    qtest_memwrite(q, 0x3000, got, 8);
    CU_ASSERT_EQUAL(dma(q, 0x1000, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
                        8, 0x3000), 0);
    qtest_memread(q, 0x3000, got, 8);
    CU_ASSERT_EQUAL(memcmp(got, "QEMU\0\0\0\0", 8), 0);
    qtest_free(q);
}

static void test_dma_hostile(void)
{
    DT_NEW(q, NULL);
    /* writes are denied */
    CU_ASSERT_EQUAL(dma(q, 0x1000, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE,
                        4, 0x3000), FW_CFG_DMA_ERROR);
    sel(q, FW_CFG_SIGNATURE);
    uint8_t b[4];
    readn(q, b, 4);
    CU_ASSERT_EQUAL(memcmp(b, "QEMU", 4), 0);
    /* a destination that wraps around the address space */
    CU_ASSERT_EQUAL(dma(q, 0x1000, FW_CFG_DMA_READ, 0x100, 0xFFFFFFFFFFFFFF80ull), FW_CFG_DMA_ERROR);
    /* a destination with nothing behind it (above RAM, below the PCI devices) */
    CU_ASSERT_EQUAL(dma(q, 0x1000, (FW_CFG_FILE_DIR << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
                        0x100, 0x100000000000ull), FW_CFG_DMA_ERROR);
    /* huge length from an unknown key: zero fill stops at the end of RAM */
    CU_ASSERT_EQUAL(dma(q, 0x1000, (0x3FFF << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
                        0xFFFFFFFF, 0x7FF0000), FW_CFG_DMA_ERROR);
    /* the descriptor itself on unassigned memory or wrapping: ignored */
    qtest_outl(q, 0x514, __builtin_bswap32(0xFFFFFFFF));
    qtest_outl(q, 0x518, __builtin_bswap32(0xFFFFFFF8));
    qtest_outl(q, 0x514, __builtin_bswap32(0x00001000));
    qtest_outl(q, 0x518, 0);
    /* odd sizes on the DMA register are ignored */
    qtest_outb(q, 0x514, 0x12);
    qtest_outw(q, 0x516, 0x1234);
    /* the machine still answers */
    sel(q, FW_CFG_SIGNATURE);
    readn(q, b, 4);
    CU_ASSERT_EQUAL(memcmp(b, "QEMU", 4), 0);
    qtest_free(q);
}

DT_MAIN("fwcfg",
    { "signature_id", test_signature_id },
    { "ram_cpus_e820", test_ram_cpus_e820 },
    { "dma", test_dma },
    { "dma_hostile", test_dma_hostile })
