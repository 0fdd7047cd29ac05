/* Direct Linux boot on x86, following Linux's Documentation/arch/x86/boot.rst
 * ("THE LINUX/x86 BOOT PROTOCOL") and the Intel MultiProcessor Specification 1.4.
 * The 32-bit entry is used: the real-mode setup code is not run, so the loader fills
 * in what it would have gathered (e820 map, command line pointer, initrd). */
#include "machines/x86-linux-boot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Setup header offsets in the bzImage file and in the zero page (boot.rst,
 * "THE REAL-MODE KERNEL HEADER"). */
enum {
    HDR_SETUP_SECTS = 0x1f1,
    HDR_BOOT_FLAG = 0x1fe,          /* 0xaa55 */
    HDR_JUMP = 0x200,               /* byte 0x201 = header length - 0x202 */
    HDR_HEADER = 0x202,             /* "HdrS" */
    HDR_VERSION = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211,
    HDR_CODE32_START = 0x214,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21c,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_ADDR_MAX = 0x22c,
    HDR_CMDLINE_SIZE = 0x238,
    HDR_INIT_SIZE = 0x260,
};

/* struct boot_params (boot.rst, "THE ZERO PAGE"; zero-page.rst) */
enum {
    BP_SIZE = 0x1000,
    BP_ALT_MEM_K = 0x1e0,
    BP_E820_ENTRIES = 0x1e8,
    BP_E820_TABLE = 0x2d0,
    BP_E820_MAX = 128,
};

#define LOADED_HIGH 0x01
#define KERNEL_ADDR 0x100000u   /* protected-mode kernel of a bzImage: 1 MiB */
#define PAGE 4096u

static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads a whole file; NULL with err set when it cannot. */
static uint8_t *read_file(const char *what, const char *path, size_t *size,
                          char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, "%s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        fail(err, errlen, "%s '%s': not a regular file", what, path);
        return NULL;
    }
    uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
    if (!buf || fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
        fail(err, errlen, "%s '%s': cannot read %lld bytes", what, path,
             (long long)st.st_size);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = st.st_size;
    return buf;
}

int x86_e820_map(uint64_t ram_below_4g, uint64_t ram_above_4g,
                 X86E820Entry *map, int max)
{
    X86E820Entry all[5];
    int n = 0;
    all[n++] = (X86E820Entry){ 0, X86_BOOT_LOW_RAM_END, X86_E820_RAM };
    /* MP table page, EBDA, VGA window and the BIOS area below 1 MiB */
    all[n++] = (X86E820Entry){ X86_BOOT_LOW_RAM_END, 0x100000 - X86_BOOT_LOW_RAM_END,
                               X86_E820_RESERVED };
    if (ram_below_4g > 0x100000)
        all[n++] = (X86E820Entry){ 0x100000, ram_below_4g - 0x100000, X86_E820_RAM };
    /* the BIOS flash mapped just below 4 GiB (256 KiB, as big as any SeaBIOS) */
    all[n++] = (X86E820Entry){ 0xfffc0000, 0x40000, X86_E820_RESERVED };
    if (ram_above_4g)
        all[n++] = (X86E820Entry){ 1ull << 32, ram_above_4g, X86_E820_RAM };
    if (n > max)
        n = max;
    memcpy(map, all, n * sizeof(*map));
    return n;
}

/* MP spec 1.4: every structure sums to zero over its bytes. */
static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return (uint8_t)-s;
}

int x86_mptable_build(uint8_t *buf, size_t len, uint32_t addr, int cpus)
{
    enum { HDR = 44, CPU = 20, SMALL = 8, FLOAT = 16 };
    if (cpus < 1 || cpus > 254)
        return -1;
    size_t need = HDR + (size_t)cpus * CPU + SMALL /* bus */ + SMALL /* ioapic */
                  + 16 * SMALL /* ExtINT + 15 ISA IRQs */ + 2 * SMALL /* local */;
    if (len < need + FLOAT)
        return -1;
    memset(buf, 0, len);
    uint8_t ioapic_id = cpus;
    uint8_t *p = buf + HDR;
    uint16_t count = 0;

    for (int i = 0; i < cpus; i++, p += CPU, count++) {     /* 4.3.1 Processor */
        p[0] = 0;
        p[1] = i;                       /* local APIC id */
        p[2] = 0x14;                    /* local APIC version (integrated xAPIC) */
        p[3] = 0x01 | (i == 0 ? 0x02 : 0);      /* enabled, bootstrap processor */
        put32(p + 4, 0x600);            /* family 6 */
        put32(p + 8, 0x201);            /* CPUID.1 EDX: FPU, APIC */
    }
    p[0] = 1;                           /* 4.3.2 Bus: id 0, ISA */
    memcpy(p + 2, "ISA   ", 6);
    p += SMALL, count++;
    p[0] = 2;                           /* 4.3.3 I/O APIC */
    p[1] = ioapic_id;
    p[2] = 0x11;
    p[3] = 0x01;                        /* enabled */
    put32(p + 4, 0xfec00000);
    p += SMALL, count++;
    /* 4.3.4 I/O interrupt assignment: pin 0 is the 8259's output (ExtINT); ISA IRQ 0
     * (the PIT) goes to pin 2, the other ISA IRQs to the pin of their number; IRQ 2
     * is the PIC cascade and has no pin.  Flags 0: conforms to the ISA bus (edge,
     * active high). */
    for (int irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue;
        p[0] = 3;
        p[1] = 0;                       /* INT */
        p[4] = 0;                       /* source bus */
        p[5] = irq;
        p[6] = ioapic_id;
        p[7] = irq == 0 ? 2 : irq;
        p += SMALL, count++;
    }
    p[0] = 3;
    p[1] = 3;                           /* ExtINT from the 8259 on pin 0 */
    p[5] = 0;
    p[6] = ioapic_id;
    p[7] = 0;
    p += SMALL, count++;
    /* 4.3.5 Local interrupt assignment: LINT0 ExtINT, LINT1 NMI, on every CPU */
    p[0] = 4; p[1] = 3; p[6] = 0xff; p[7] = 0;
    p += SMALL, count++;
    p[0] = 4; p[1] = 1; p[6] = 0xff; p[7] = 1;
    p += SMALL, count++;

    size_t table_len = p - buf;
    memcpy(buf, "PCMP", 4);             /* 4.2 configuration table header */
    put16(buf + 4, table_len);
    buf[6] = 4;                         /* spec revision 1.4 */
    memcpy(buf + 8, "VIREO   ", 8);
    memcpy(buf + 16, "PC          ", 12);
    put16(buf + 34, count);
    put32(buf + 36, 0xfee00000);        /* local APIC address */
    buf[7] = checksum(buf, table_len);

    uint8_t *fp = buf + len - FLOAT;    /* 4.1 floating pointer */
    memcpy(fp, "_MP_", 4);
    put32(fp + 4, addr);
    fp[8] = 1;                          /* length in 16-byte units */
    fp[9] = 4;
    fp[11] = 0;                         /* feature 1: the table above is present */
    fp[12] = 0;                         /* feature 2: virtual wire mode, no IMCR */
    fp[10] = checksum(fp, FLOAT);
    return 0;
}

/* boot.rst, "DETAILS OF HEADER FIELDS": what makes a file a bzImage we can load. */
static int check_header(const char *path, const uint8_t *k, size_t ksize, char *err,
                        size_t errlen)
{
    if (ksize < 0x264 || get16(k + HDR_BOOT_FLAG) != 0xaa55
        || memcmp(k + HDR_HEADER, "HdrS", 4) != 0)
        return fail(err, errlen, "kernel '%s': not a Linux x86 bzImage (no boot sector "
                    "signature or no \"HdrS\" setup header)", path);
    uint16_t version = get16(k + HDR_VERSION);
    if (version < 0x206)
        return fail(err, errlen, "kernel '%s': boot protocol %u.%02u is too old (2.06 "
                     "or newer needed)", path, version >> 8, version & 0xff);
    if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
        return fail(err, errlen, "kernel '%s': a zImage (not loaded high); only bzImage "
                    "kernels are supported", path);
    return 0;
}

int x86_linux_check(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, "kernel '%s': %s", path, strerror(errno));
    uint8_t hdr[0x264];
    size_t n = fread(hdr, 1, sizeof(hdr), f);
    fclose(f);
    return check_header(path, hdr, n, err, errlen);
}

/* The machine's map with [X86_BOOT_LOW_RAM_END, 1 MiB) reserved: the MP table
 * page and the legacy hole.  Returns the number of entries. */
static int boot_e820(const X86LinuxBootConfig *cfg, X86E820Entry *map, int max)
{
    if (!cfg->e820)
        return x86_e820_map(cfg->ram_below_4g, cfg->ram_above_4g, map, max);
    const uint64_t lo = X86_BOOT_LOW_RAM_END, hi = 0x100000;
    int n = 0;
    for (int i = 0; i < cfg->e820_count && n + 3 <= max; i++) {
        X86E820Entry e = cfg->e820[i];
        uint64_t end = e.addr + e.size;
        if (end <= lo || e.addr >= hi) {
            map[n++] = e;
            continue;
        }
        if (e.addr < lo)
            map[n++] = (X86E820Entry){ e.addr, lo - e.addr, e.type };
        if (end > hi)
            map[n++] = (X86E820Entry){ hi, end - hi, e.type };
    }
    if (n < max)
        map[n++] = (X86E820Entry){ lo, hi - lo, X86_E820_RESERVED };
    /* keep it sorted by address (insertion sort: a handful of entries) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && map[j - 1].addr > map[j].addr; j--) {
            X86E820Entry t = map[j];
            map[j] = map[j - 1];
            map[j - 1] = t;
        }
    return n;
}

/* GDT for the 32-bit entry: __BOOT_CS = 0x10 and __BOOT_DS = 0x18, flat 4 GiB. */
static const uint64_t boot_gdt[4] = {
    0, 0,
    0x00cf9b000000ffffull,              /* code: present, DPL 0, exec/read, 4K gran */
    0x00cf93000000ffffull,              /* data: present, DPL 0, read/write */
};

static int put(const X86LinuxBootConfig *cfg, uint64_t gpa, const void *data,
               size_t len, const char *what, char *err, size_t errlen)
{
    int r = cfg->write(cfg->opaque, gpa, data, len);
    if (r < 0)
        return fail(err, errlen, "cannot place the %s at 0x%llx (%zu bytes): %s",
                    what, (unsigned long long)gpa, len, strerror(-r));
    return 0;
}

int x86_linux_load(const X86LinuxBootConfig *cfg, X86BootEntry *entry,
                   char *err, size_t errlen)
{
    size_t ksize, isize = 0;
    uint8_t *initrd = NULL;
    uint8_t *k = read_file("kernel", cfg->kernel_path, &ksize, err, errlen);
    if (!k)
        return -1;
    int ret = -1;

    if (check_header(cfg->kernel_path, k, ksize, err, errlen) < 0)
        goto out;
    uint16_t version = get16(k + HDR_VERSION);
    unsigned setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    if (setup_size >= ksize) {
        fail(err, errlen, "kernel '%s': setup (%zu bytes) is not shorter than the "
             "file", cfg->kernel_path, setup_size);
        goto out;
    }
    size_t pm_size = ksize - setup_size;
    uint32_t init_size = get32(k + HDR_INIT_SIZE);
    uint64_t kernel_end = KERNEL_ADDR + (pm_size > init_size ? pm_size : init_size);
    if (kernel_end > cfg->ram_below_4g) {
        fail(err, errlen, "kernel '%s': needs %llu MiB of RAM below 4 GiB to "
             "decompress, the machine has %llu MiB", cfg->kernel_path,
             (unsigned long long)(kernel_end >> 20) + 1,
             (unsigned long long)(cfg->ram_below_4g >> 20));
        goto out;
    }

    /* The zero page: a copy of the setup header, then what setup would fill in. */
    uint8_t bp[BP_SIZE];
    memset(bp, 0, sizeof(bp));
    size_t hdr_end = HDR_HEADER + k[HDR_JUMP + 1];
    if (hdr_end > BP_E820_TABLE || hdr_end > ksize)
        hdr_end = HDR_INIT_SIZE + 4;
    memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    bp[HDR_TYPE_OF_LOADER] = 0xff;      /* undefined loader */
    bp[HDR_LOADFLAGS] &= ~0x20;         /* QUIET_FLAG off: show early messages */
    put32(bp + HDR_CODE32_START, KERNEL_ADDR);

    const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
    uint32_t cmdline_size = get32(k + HDR_CMDLINE_SIZE);
    if (cmdline_size > X86_BOOT_CMDLINE_MAX - 1)
        cmdline_size = X86_BOOT_CMDLINE_MAX - 1;
    size_t clen = strlen(cmdline);
    if (clen > cmdline_size) {
        fail(err, errlen, "-append: command line of %zu bytes is longer than the "
             "kernel accepts (%u)", clen, cmdline_size);
        goto out;
    }
    put32(bp + HDR_CMD_LINE_PTR, X86_BOOT_CMDLINE_ADDR);

    X86E820Entry map[BP_E820_MAX];
    int n = boot_e820(cfg, map, BP_E820_MAX);
    bp[BP_E820_ENTRIES] = n;
    for (int i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * 20;
        put64(e, map[i].addr);
        put64(e + 8, map[i].size);
        put32(e + 16, map[i].type);
    }
    /* KiB of memory above 1 MiB, for kernels that still look here */
    uint64_t ext = (cfg->ram_below_4g + cfg->ram_above_4g - 0x100000) >> 10;
    put32(bp + BP_ALT_MEM_K, ext > 0xffffffffu ? 0xffffffffu : ext);

    memset(entry, 0, sizeof(*entry));
    if (cfg->initrd_path) {
        initrd = read_file("initrd", cfg->initrd_path, &isize, err, errlen);
        if (!initrd)
            goto out;
        /* As high as allowed: below initrd_addr_max and the end of low RAM, above
         * the space the kernel decompresses into. */
        uint64_t top = (uint64_t)get32(k + HDR_INITRD_ADDR_MAX) + 1;
        if (top > cfg->ram_below_4g)
            top = cfg->ram_below_4g;
        uint64_t addr = top >= isize ? (top - isize) & ~(uint64_t)(PAGE - 1) : 0;
        if (isize > top || addr < ((kernel_end + PAGE - 1) & ~(uint64_t)(PAGE - 1))) {
            fail(err, errlen, "initrd '%s' (%zu bytes) does not fit between the "
                 "kernel and 0x%llx; give the machine more memory (-m)",
                 cfg->initrd_path, isize, (unsigned long long)top);
            goto out;
        }
        put32(bp + HDR_RAMDISK_IMAGE, addr);
        put32(bp + HDR_RAMDISK_SIZE, isize);
        entry->initrd_addr = addr;
        entry->initrd_size = isize;
    }

    if (put(cfg, KERNEL_ADDR, k + setup_size, pm_size, "kernel", err, errlen) < 0
        || (initrd && put(cfg, entry->initrd_addr, initrd, isize, "initrd", err,
                          errlen) < 0)
        || put(cfg, X86_BOOT_CMDLINE_ADDR, cmdline, clen + 1, "command line", err,
               errlen) < 0
        || put(cfg, X86_BOOT_PARAMS_ADDR, bp, sizeof(bp), "boot parameters", err,
               errlen) < 0
        || put(cfg, X86_BOOT_GDT_ADDR, boot_gdt, sizeof(boot_gdt), "GDT", err,
               errlen) < 0)
        goto out;

    uint8_t mp[X86_BOOT_MPTABLE_SIZE];
    if (x86_mptable_build(mp, sizeof(mp), X86_BOOT_MPTABLE_ADDR, cfg->cpus) < 0) {
        fail(err, errlen, "-smp %d: too many CPUs for the MP table", cfg->cpus);
        goto out;
    }
    if (put(cfg, X86_BOOT_MPTABLE_ADDR, mp, sizeof(mp), "MP table", err, errlen) < 0)
        goto out;

    entry->eip = KERNEL_ADDR;
    entry->esi = X86_BOOT_PARAMS_ADDR;
    entry->cs = (X86BootSegment){ 0x10, 0, 0xffffffff, 0xb };
    entry->ds = (X86BootSegment){ 0x18, 0, 0xffffffff, 0x3 };
    entry->gdt_base = X86_BOOT_GDT_ADDR;
    entry->gdt_limit = sizeof(boot_gdt) - 1;
    entry->protocol = version;
    entry->kernel_addr = KERNEL_ADDR;
    entry->kernel_size = pm_size;
    ret = 0;
out:
    free(initrd);
    free(k);
    return ret;
}
