/* Unit tests of the x86 Linux boot-protocol loader (machines/x86-linux-boot.c)
 * against a real kernel: Debian's amd64 bzImage and the default guest's initrd,
 * given as arguments (tests/boot/linux-loader.sh prepares them). */
#include "machines/x86-linux-boot.h"
#include "tests/lib/cunit-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kernel_path, *initrd_path;
static uint8_t *ram;
static uint64_t ram_size;

static int ram_write(void *opaque, uint64_t gpa, const void *data, size_t len)
{
    if (gpa > ram_size || len > ram_size - gpa)
        return -14;     /* -EFAULT */
    memcpy(ram + gpa, data, len);
    return 0;
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    uint8_t *b = malloc(*size);
    if (fread(b, 1, *size, f) != *size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static X86LinuxBootConfig config(uint64_t mib)
{
    ram_size = mib << 20;
    free(ram);
    ram = calloc(1, ram_size);
    return (X86LinuxBootConfig){
        .kernel_path = kernel_path, .initrd_path = initrd_path,
        .cmdline = "console=ttyS0 quiet", .ram_below_4g = ram_size, .cpus = 2,
        .write = ram_write,
    };
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

static void test_kernel_placement(void)
{
    X86LinuxBootConfig cfg = config(256);
    X86BootEntry e;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(x86_linux_load(&cfg, &e, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(e.eip, 0x100000);
    CU_ASSERT_EQUAL(e.esi, X86_BOOT_PARAMS_ADDR);
    CU_ASSERT(e.protocol >= 0x206);
    /* The protected-mode code holds the compressed vmlinux at payload_offset
     * (header 0x248, relative to the protected-mode start): its first bytes must be
     * a compressor's magic, which proves the setup/kernel split is right. */
    const uint8_t *bp = ram + e.esi;
    uint32_t payload = rd32(bp + 0x248);
    const uint8_t *p = ram + e.eip + payload;
    int magic = (p[0] == 0xfd && memcmp(p + 1, "7zXZ", 4) == 0)      /* xz */
                || (p[0] == 0x1f && p[1] == 0x8b)                     /* gzip */
                || rd32(p) == 0xfd2fb528                             /* zstd */
                || (p[0] == 0x02 && p[1] == 0x21 && p[2] == 0x4c)     /* lz4 */
                || (p[0] == 0x89 && memcmp(p + 1, "LZO", 3) == 0);
    CU_ASSERT(magic);
    /* the same bytes as the file after (setup_sects + 1) sectors */
    size_t ksize;
    uint8_t *k = slurp(kernel_path, &ksize);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    size_t setup = (k[0x1f1] + 1) * 512;
    CU_ASSERT_EQUAL(e.kernel_size, ksize - setup);
    CU_ASSERT(memcmp(ram + 0x100000, k + setup, ksize - setup) == 0);
    free(k);
}

static void test_zero_page(void)
{
    X86LinuxBootConfig cfg = config(256);
    X86BootEntry e;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(x86_linux_load(&cfg, &e, err, sizeof(err)), 0);
    const uint8_t *bp = ram + e.esi;
    CU_ASSERT(memcmp(bp + 0x202, "HdrS", 4) == 0);
    CU_ASSERT_EQUAL(bp[0x210], 0xff);                       /* type_of_loader */
    uint32_t cl = rd32(bp + 0x228);
    CU_ASSERT_STRING_EQUAL((const char *)ram + cl, "console=ttyS0 quiet");
    /* e820: RAM at 0 and at 1 MiB up to the end, nothing overlapping */
    int n = bp[0x1e8];
    CU_ASSERT(n >= 3);
    uint64_t ram_total = 0, prev_end = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *d = bp + 0x2d0 + 20 * i;
        CU_ASSERT(rd64(d) >= prev_end);
        prev_end = rd64(d) + rd64(d + 8);
        if (rd32(d + 16) == 1)
            ram_total += rd64(d + 8);
    }
    CU_ASSERT_EQUAL(ram_total, (256u << 20) - 0x100000 + X86_BOOT_LOW_RAM_END);
    /* initrd: page aligned, inside RAM, above the kernel, same bytes as the file */
    uint32_t ia = rd32(bp + 0x218), is = rd32(bp + 0x21c);
    size_t isize;
    uint8_t *initrd = slurp(initrd_path, &isize);
    CU_ASSERT_PTR_NOT_NULL_FATAL(initrd);
    CU_ASSERT_EQUAL(is, isize);
    CU_ASSERT_EQUAL(ia % 4096, 0);
    CU_ASSERT(ia + (uint64_t)is <= (256u << 20));
    CU_ASSERT(ia >= 0x100000 + rd32(bp + 0x260));           /* above init_size */
    CU_ASSERT(memcmp(ram + ia, initrd, isize) == 0);
    free(initrd);
    /* GDT descriptors for __BOOT_CS and __BOOT_DS */
    CU_ASSERT_EQUAL(rd64(ram + e.gdt_base + 0x10), 0x00cf9b000000ffffull);
    CU_ASSERT_EQUAL(rd64(ram + e.gdt_base + 0x18), 0x00cf93000000ffffull);
}

static void test_mptable(void)
{
    X86LinuxBootConfig cfg = config(128);
    cfg.initrd_path = NULL;
    cfg.cpus = 4;
    X86BootEntry e;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(x86_linux_load(&cfg, &e, err, sizeof(err)), 0);
    /* find the floating pointer the way an OS does (MP spec 1.4, 4): a 16-byte
     * aligned "_MP_" in the last KiB of base memory */
    const uint8_t *fp = NULL;
    for (uint32_t a = 0x9fc00; a < 0xa0000; a += 16)
        if (memcmp(ram + a, "_MP_", 4) == 0)
            fp = ram + a;
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    CU_ASSERT_EQUAL(sum(fp, 16), 0);
    const uint8_t *t = ram + rd32(fp + 4);
    CU_ASSERT(memcmp(t, "PCMP", 4) == 0);
    unsigned len = t[4] | t[5] << 8, count = t[34] | t[35] << 8;
    CU_ASSERT_EQUAL(sum(t, len), 0);
    int cpus = 0, bsp = 0, ioapics = 0, irq0_pin = -1;
    const uint8_t *p = t + 44;
    for (unsigned i = 0; i < count && p < t + len; i++) {
        if (p[0] == 0) {
            cpus++;
            bsp += (p[3] & 2) != 0;
            p += 20;
            continue;
        }
        if (p[0] == 2)
            ioapics++;
        if (p[0] == 3 && p[1] == 0 && p[5] == 0)
            irq0_pin = p[7];
        p += 8;
    }
    CU_ASSERT_EQUAL(p, t + len);
    CU_ASSERT_EQUAL(cpus, 4);
    CU_ASSERT_EQUAL(bsp, 1);
    CU_ASSERT_EQUAL(ioapics, 1);
    CU_ASSERT_EQUAL(irq0_pin, 2);
}

/* With the machine's own map, the loader keeps it and reserves its MP page. */
static void test_machine_e820(void)
{
    X86LinuxBootConfig cfg = config(128);
    const X86E820Entry pc[] = {
        { 0, 0xa0000, X86_E820_RAM },
        { 0x100000, (128u << 20) - 0x100000, X86_E820_RAM },
        { 0xfffc0000, 0x40000, X86_E820_RESERVED },
    };
    cfg.e820 = pc;
    cfg.e820_count = 3;
    X86BootEntry e;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(x86_linux_load(&cfg, &e, err, sizeof(err)), 0);
    const uint8_t *bp = ram + e.esi;
    int n = bp[0x1e8];
    CU_ASSERT_EQUAL(n, 4);
    uint64_t prev_end = 0;
    int reserved_mp = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *d = bp + 0x2d0 + 20 * i;
        uint64_t a = rd64(d), end = a + rd64(d + 8);
        CU_ASSERT(a >= prev_end);
        prev_end = end;
        if (rd32(d + 16) == X86_E820_RAM)
            CU_ASSERT(end <= X86_BOOT_MPTABLE_ADDR || a >= 0x100000);
        if (rd32(d + 16) == X86_E820_RESERVED && a <= X86_BOOT_MPTABLE_ADDR && end >= 0xa0000)
            reserved_mp = 1;
    }
    CU_ASSERT(reserved_mp);
}

static void test_check(void)
{
    char err[256];
    CU_ASSERT_EQUAL(x86_linux_check(kernel_path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(x86_linux_check(initrd_path, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a Linux x86 bzImage"));
    CU_ASSERT_EQUAL(x86_linux_check("/nonexistent", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

static void test_errors(void)
{
    X86LinuxBootConfig cfg = config(128);
    X86BootEntry e;
    char err[256];
    cfg.kernel_path = "/nonexistent/vmlinuz";
    CU_ASSERT_EQUAL(x86_linux_load(&cfg, &e, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/vmlinuz"));
    cfg.kernel_path = "/bin/sh";                    /* an ELF, not a bzImage */
    CU_ASSERT_EQUAL(x86_linux_load(&cfg, &e, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a Linux x86 bzImage"));
    cfg = config(8);                                /* too small to decompress */
    CU_ASSERT_EQUAL(x86_linux_load(&cfg, &e, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "RAM"));
    cfg = config(128);
    char *longline = malloc(70000);
    memset(longline, 'x', 69999);
    longline[69999] = 0;
    cfg.cmdline = longline;
    CU_ASSERT_EQUAL(x86_linux_load(&cfg, &e, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "command line"));
    free(longline);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("SKIP: linux-loader (no kernel/initrd given)\n");
        return 77;
    }
    kernel_path = argv[1];
    initrd_path = argv[2];
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("x86-linux-boot", NULL, NULL);
    CU_add_test(s, "kernel_placement", test_kernel_placement);
    CU_add_test(s, "zero_page", test_zero_page);
    CU_add_test(s, "mptable", test_mptable);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "machine_e820", test_machine_e820);
    CU_add_test(s, "check", test_check);
    int r = cunit_run_all();
    free(ram);
    return r;
}
