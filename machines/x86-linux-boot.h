/* Direct Linux boot on x86: the 32-bit boot protocol of Linux's
 * Documentation/arch/x86/boot.rst, done by Vireo itself (no option ROM).
 *
 * The loader reads a bzImage (and an optional initrd), writes the protected-mode
 * kernel, the zero page (struct boot_params), the command line, the initrd, a GDT
 * and an Intel MP table into guest memory through a write callback, and returns the
 * CPU state the executor applies to the boot CPU. */
#ifndef MACHINES_X86_LINUX_BOOT_H
#define MACHINES_X86_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* e820 types (ACPI 6.x, 15.1 "INT 15H E820H") */
enum {
    X86_E820_RAM = 1,
    X86_E820_RESERVED = 2,
};

typedef struct X86E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} X86E820Entry;

/* Where the loader puts its pieces in low memory (all below 640 KiB). */
#define X86_BOOT_GDT_ADDR      0x0500u
#define X86_BOOT_PARAMS_ADDR   0x7000u
#define X86_BOOT_CMDLINE_ADDR  0x20000u
#define X86_BOOT_CMDLINE_MAX   0x10000u
/* The MP configuration table fills the reserved page 0x9f000; its floating pointer
 * is the page's last 16 bytes, in the last KiB of base memory where an OS looks for
 * it (MP spec 1.4, 4 "MP Configuration Table"). */
#define X86_BOOT_MPTABLE_ADDR  0x9f000u
#define X86_BOOT_MPTABLE_SIZE  0x1000u
#define X86_BOOT_LOW_RAM_END   0x9f000u

/* Writes len bytes at guest-physical gpa; returns 0 or a negative errno. */
typedef int X86BootWriteFn(void *opaque, uint64_t gpa, const void *data, size_t len);

typedef struct X86LinuxBootConfig {
    const char *kernel_path;
    const char *initrd_path;     /* NULL: no initrd */
    const char *cmdline;         /* NULL: empty */
    uint64_t ram_below_4g;       /* bytes of RAM from 0 */
    uint64_t ram_above_4g;       /* bytes of RAM from 4 GiB */
    int cpus;                    /* CPUs described in the MP table (1..254) */
    /* The machine's memory map; NULL: x86_e820_map() of the sizes above.  The
     * loader reserves its MP table page out of it. */
    const X86E820Entry *e820;
    int e820_count;
    X86BootWriteFn *write;
    void *opaque;
} X86LinuxBootConfig;

/* A flat segment in the shape executors need (base, limit, access rights). */
typedef struct X86BootSegment {
    uint16_t selector;
    uint32_t base;
    uint32_t limit;         /* byte granular limit: 0xffffffff */
    uint8_t type;           /* descriptor type field: 0xb code exec/read accessed, 0x3 data */
} X86BootSegment;

/* CPU state at the 32-bit entry point (boot.rst, "32-bit BOOT PROTOCOL"): flat
 * protected mode, paging off, interrupts off, CS = __BOOT_CS (0x10), data segments =
 * __BOOT_DS (0x18), ESI = boot_params, EBP = EDI = EBX = 0. */
typedef struct X86BootEntry {
    uint32_t eip;
    uint32_t esi;
    X86BootSegment cs, ds;
    uint32_t gdt_base;
    uint16_t gdt_limit;
    /* what was loaded, for messages and tests */
    uint16_t protocol;
    uint32_t kernel_addr, kernel_size;
    uint32_t initrd_addr, initrd_size;
} X86BootEntry;

/* Loads kernel (and initrd) for the configuration.  Returns 0, or -1 with one line
 * naming the file and the problem in err. */
int x86_linux_load(const X86LinuxBootConfig *cfg, X86BootEntry *entry,
                   char *err, size_t errlen);

/* Checks that path is a bzImage this loader can boot, without loading it.
 * Returns 0, or -1 with one line naming the file and the problem in err. */
int x86_linux_check(const char *path, char *err, size_t errlen);

/* The e820 map of a PC with this much RAM (the one the loader passes to Linux):
 * low RAM below 0x9fc00, the reserved EBDA/VGA/BIOS hole, RAM from 1 MiB to
 * ram_below_4g, reserved BIOS flash below 4 GiB, RAM above 4 GiB.  Returns the
 * number of entries written (at most max). */
int x86_e820_map(uint64_t ram_below_4g, uint64_t ram_above_4g,
                 X86E820Entry *map, int max);

/* Builds an Intel MultiProcessor Specification 1.4 table for cpus CPUs (LAPIC ids
 * 0..cpus-1, CPU 0 the BSP), one ISA bus, one IOAPIC at 0xfec00000 (id cpus) and ISA
 * IRQs 0..15 (IRQ 0 on IOAPIC pin 2, as on a PC): the configuration table at the
 * start of buf and the floating pointer in its last 16 bytes; buf is placed at
 * guest-physical addr.  Returns 0, or -1 if the table does not fit in len bytes. */
int x86_mptable_build(uint8_t *buf, size_t len, uint32_t addr, int cpus);

#endif
