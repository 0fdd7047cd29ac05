/* The `pc` machine: builds the memory map, the i440FX/PIIX3 chipset and the ISA
 * devices, wires their interrupts, fills CMOS and fw_cfg.  See machines/pc.h and
 * docs/pc-machine.md. */
#include "machines/pc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/ioapic.h"
#include "devices/isa_debug_exit.h"
#include "devices/isa_debugcon.h"
#include "devices/mc146818.h"
#include "devices/piix3.h"
#include "devices/port92.h"
#include "devices/serial16550.h"
#include "dm/device.h"
#include "dm/irq.h"
#include "dm/pci.h"
#include "dm/vmstate.h"

#define GiB                 (1ull << 30)
#define MiB                 (1ull << 20)
#define PC_4G               (4 * GiB)
/* With this much RAM or more, only 3 GiB stay below 4 GiB (docs/pc-machine.md). */
#define PC_LOWMEM_LIMIT     0xE0000000ull
#define PC_LOWMEM_SPLIT     0xC0000000ull
#define PC_MAX_RAM          (1ull << 40)
#define ISA_BIOS_MAX        (128 * 1024)
#define VGA_BASE            0xA0000
#define VGA_SIZE            0x20000

/* GSI sources */
#define SRC_ISA             0x01
#define SRC_PCI             0x02
#define SRC_EXT             0x04

/* One PAM segment: three overlays at the segment's address, one enabled. */
struct pc_pam_seg {
    struct pc_machine *pc;
    unsigned seg;
    struct mem_region pci;      /* PAM_PCI: window of PCI memory (BIOS shadow) */
    struct mem_region ram;      /* PAM_RAM / PAM_READ_RAM (read-only alias) */
    struct mem_region wo;       /* PAM_WRITE_RAM: reads PCI, writes RAM */
};

struct pc_machine {
    struct dm_ctx *ctx;
    struct pc_config cfg;
    struct dev_registry *own_types;

    /* memory */
    struct mem_region io_root, mem_root, pci_mem, pci_unassigned;
    struct ram_block *ram, *bios_block;
    uint64_t below_4g, above_4g, bios_size;
    struct mem_region ram_lo, ram_hi, bios, isa_bios;
    struct mem_region vga_window, smram;
    struct pc_pam_seg pam[I440FX_PAM_SEGMENTS];

    /* buses */
    struct dev_bus sysbus, isa_bus;
    struct pci_bus pci_bus;

    /* interrupts */
    struct irq_line isa_irq[PC_NUM_GSI];        /* driven by ISA devices */
    struct irq_line *isa_irq_ptr[PC_NUM_GSI];
    struct irq_line pci_irq[PC_NUM_GSI];        /* driven by PIIX3 (routed PIRQs) */
    uint8_t gsi_src[PC_NUM_GSI];                /* SRC_* bits asserting each GSI */
    uint8_t gsi_level[PC_NUM_GSI];
    struct irq_line intr_line;                  /* PIC INT output */
    struct irq_line reset_line;                 /* reset requests from 0xCF9/i8042/0x92 */
    struct irq_line a20_kbd_line, a20_p92_line;
    int a20_kbd, a20_p92;
    pc_gsi_fn *observer;
    void *observer_opaque;
    unsigned long reset_requests;

    /* devices */
    struct i440fx_state *i440fx;
    struct piix3_state *piix3;
    struct pic_state *pic;
    struct ioapic_state *ioapic;
    struct pit_state *pit;
    struct rtc_state *rtc;
    struct kbc_state *kbc;
    struct port92_state *port92;
    struct fw_cfg_state *fw_cfg;
};

/* ---- interrupts ---------------------------------------------------------------- */

static void pc_gsi_update(struct pc_machine *pc, int gsi)
{
    int level = pc->gsi_src[gsi] != 0;
    if (level == pc->gsi_level[gsi])
        return;
    pc->gsi_level[gsi] = (uint8_t)level;
    if (pc->observer)
        pc->observer(pc->observer_opaque, gsi, level);
    if (pc->pic)
        irq_set(&pc->pic->in[gsi], level);
    /* IRQ0 is on I/O APIC pin 2; IRQ2 (the cascade) is on no pin */
    if (pc->ioapic && gsi != 2)
        irq_set(&pc->ioapic->in[gsi == 0 ? 2 : gsi], level);
    if (!pc->pic && !pc->ioapic && pc->cfg.gsi_sink)
        pc->cfg.gsi_sink(pc->cfg.gsi_sink_opaque, gsi, level);
}

static void pc_gsi_source(struct pc_machine *pc, int gsi, uint8_t src, int level)
{
    if (gsi < 0 || gsi >= PC_NUM_GSI)
        return;
    if (level)
        pc->gsi_src[gsi] |= src;
    else
        pc->gsi_src[gsi] &= (uint8_t)~src;
    pc_gsi_update(pc, gsi);
}

static void pc_isa_irq_handler(void *opaque, int n, int level)
{
    pc_gsi_source(opaque, n, SRC_ISA, level);
}

static void pc_pci_irq_handler(void *opaque, int n, int level)
{
    pc_gsi_source(opaque, n, SRC_PCI, level);
}

void pc_set_gsi(struct pc_machine *pc, int gsi, int level)
{
    pc_gsi_source(pc, gsi, SRC_EXT, level);
}

int pc_gsi_level(const struct pc_machine *pc, int gsi)
{
    if (gsi < 0 || gsi >= PC_NUM_GSI)
        return 0;
    return pc->gsi_level[gsi];
}

void pc_set_gsi_observer(struct pc_machine *pc, pc_gsi_fn *fn, void *opaque)
{
    pc->observer = fn;
    pc->observer_opaque = opaque;
}

static void pc_intr_handler(void *opaque, int n, int level)
{
    struct pc_machine *pc = opaque;
    if (pc->ioapic)
        irq_set(&pc->ioapic->in[0], level);     /* ExtINT pin */
    if (pc->cfg.intr)
        pc->cfg.intr(pc->cfg.intr_opaque, level);
}

int pc_pic_intr(struct pc_machine *pc)
{
    return pc->pic ? i8259_get_intr(pc->pic) : 0;
}

int pc_pic_ack(struct pc_machine *pc)
{
    return pc->pic ? i8259_ack(pc->pic) : -1;
}

/* PCI INTx to PIRQ: the board wiring SeaBIOS and its ACPI tables assume for
 * this machine: PIRQ = (pin + slot - 1) mod 4, pin 0 = INTA. */
static int pc_pci_map_irq(void *opaque, struct pci_device *d, int pin)
{
    return (pin + PCI_SLOT(d->devfn) + 3) & 3;
}

static void pc_pci_set_irq(void *opaque, int pirq, int level)
{
    struct pc_machine *pc = opaque;
    piix3_set_pirq(pc->piix3, pirq, level);
    if (pc->ioapic && pirq >= 0 && pirq < PIIX3_NUM_PIRQ)
        irq_set(&pc->ioapic->in[16 + pirq], level);
}

void pc_ioapic_eoi(struct pc_machine *pc, uint8_t vector)
{
    if (pc->ioapic)
        ioapic_eoi(pc->ioapic, vector);
}

/* ---- reset, A20, exit requests ------------------------------------------------- */

static void pc_reset_line_handler(void *opaque, int n, int level)
{
    struct pc_machine *pc = opaque;
    if (!level)
        return;
    pc->reset_requests++;
    if (pc->cfg.no_reboot) {
        if (pc->cfg.shutdown_request)
            pc->cfg.shutdown_request(pc->cfg.shutdown_opaque);
    } else if (pc->cfg.reset_request) {
        pc->cfg.reset_request(pc->cfg.reset_opaque);
    }
}

unsigned long pc_reset_requests(const struct pc_machine *pc)
{
    return pc->reset_requests;
}

bool pc_a20_enabled(const struct pc_machine *pc)
{
    return pc->a20_kbd || pc->a20_p92;
}

static void pc_set_a20(struct pc_machine *pc, int *which, int level)
{
    bool before = pc_a20_enabled(pc);
    *which = level != 0;
    bool after = pc_a20_enabled(pc);
    if (before != after && pc->cfg.a20_change)
        pc->cfg.a20_change(pc->cfg.a20_opaque, after);
}

static void pc_a20_kbd_handler(void *opaque, int n, int level)
{
    struct pc_machine *pc = opaque;
    pc_set_a20(pc, &pc->a20_kbd, level);
}

static void pc_a20_p92_handler(void *opaque, int n, int level)
{
    struct pc_machine *pc = opaque;
    pc_set_a20(pc, &pc->a20_p92, level);
}

static void pc_debug_exit(void *opaque, int status)
{
    struct pc_machine *pc = opaque;
    if (pc->cfg.exit_request)
        pc->cfg.exit_request(pc->cfg.exit_opaque, status);
}

/* ---- PAM and SMRAM ------------------------------------------------------------- */

static uint64_t ones(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

/* PAM_WRITE_RAM reads: what PCI memory has there, i.e. the BIOS ROM in its
 * shadow window, all-ones elsewhere (no option ROM is decoded in this mode). */
static uint64_t pam_wo_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pc_pam_seg *p = opaque;
    struct pc_machine *pc = p->pc;
    uint64_t phys = i440fx_pam_base(p->seg) + addr;
    uint64_t isa_size = pc->bios_size < ISA_BIOS_MAX ? pc->bios_size : ISA_BIOS_MAX;
    if (phys < 0x100000 - isa_size || phys + size > 0x100000)
        return ones(size);
    uint64_t v = 0;
    memcpy(&v, pc->bios_block->host + pc->bios_size - (0x100000 - phys), size);
    return v;
}

static void pam_wo_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pc_pam_seg *p = opaque;
    struct pc_machine *pc = p->pc;
    uint64_t phys = i440fx_pam_base(p->seg) + addr;
    if (phys + size <= pc->below_4g)
        memcpy(pc->ram->host + phys, &val, size);      /* little-endian host */
}

static const struct mem_region_ops pam_wo_ops = {
    .read = pam_wo_read,
    .write = pam_wo_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 8, .unaligned = true },
    .impl = { .min = 1, .max = 1 },
};

/* Called by the i440FX whenever PAM or SMRAM change (and at reset). */
static void pc_memory_update(void *opaque)
{
    struct pc_machine *pc = opaque;
    if (!pc->i440fx)
        return;     /* the host bridge's first reset, inside its realize */
    mem_transaction_begin();
    for (unsigned i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        struct pc_pam_seg *p = &pc->pam[i];
        unsigned mode = i440fx_pam_mode(pc->i440fx, i);
        mem_region_set_enabled(&p->pci, mode == PAM_PCI);
        mem_region_set_enabled(&p->wo, mode == PAM_WRITE_RAM);
        mem_region_set_enabled(&p->ram, mode == PAM_RAM || mode == PAM_READ_RAM);
        mem_region_set_readonly(&p->ram, mode == PAM_READ_RAM);
    }
    mem_region_set_enabled(&pc->smram, i440fx_smram_open(pc->i440fx));
    mem_transaction_commit();
}

static uint64_t master_abort_read(void *opaque, uint64_t addr, unsigned size)
{
    return ones(size);
}

static void master_abort_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
}

static const struct mem_region_ops master_abort_ops = {
    .read = master_abort_read,
    .write = master_abort_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 8, .unaligned = true },
    .impl = { .min = 1, .max = 8, .unaligned = true },
};

/* ---- memory map ------------------------------------------------------------------ */

static int pc_load_bios(struct pc_machine *pc, const char *path, struct dm_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dm_err_set(err, "cannot open BIOS image '%s': %s", path, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 65536 ||
        st.st_size > 16 * (long long)MiB || st.st_size % 65536) {
        dm_err_set(err, "BIOS image '%s' must be a file of 64 KiB to 16 MiB in 64 KiB units", path);
        close(fd);
        return -EINVAL;
    }
    pc->bios_size = (uint64_t)st.st_size;
    int r = ram_block_new(pc->cfg.mem_provider, "pc.bios", pc->bios_size, &pc->bios_block, err);
    if (r < 0) {
        close(fd);
        return r;
    }
    size_t done = 0;
    while (done < pc->bios_size) {
        ssize_t n = read(fd, pc->bios_block->host + done, pc->bios_size - done);
        if (n <= 0) {
            dm_err_set(err, "cannot read BIOS image '%s'", path);
            close(fd);
            return -EIO;
        }
        done += (size_t)n;
    }
    close(fd);
    return 0;
}

static int pc_memory_init(struct pc_machine *pc, struct dm_err *err)
{
    struct dm_ctx *ctx = pc->ctx;
    uint64_t ram = (pc->cfg.ram_size + 4095) & ~4095ull;
    if (pc->cfg.ram_size < MiB || pc->cfg.ram_size > PC_MAX_RAM) {
        dm_err_set(err, "RAM size %llu bytes is out of range (1 MiB to 1 TiB)",
                   (unsigned long long)pc->cfg.ram_size);
        return -EINVAL;
    }
    pc->below_4g = ram >= PC_LOWMEM_LIMIT ? PC_LOWMEM_SPLIT : ram;
    pc->above_4g = ram - pc->below_4g;

    mem_region_init_container(&pc->io_root, "io", 0x10000);
    mem_region_init_container(&pc->mem_root, "system", UINT64_MAX);
    ctx->io = address_space_new("I/O", &pc->io_root);
    ctx->mem = address_space_new("memory", &pc->mem_root);
    if (!ctx->io || !ctx->mem) {
        dm_err_set(err, "out of memory creating the address spaces");
        return -ENOMEM;
    }

    int r = ram_block_new(pc->cfg.mem_provider, "pc.ram", ram, &pc->ram, err);
    if (r < 0)
        return r;
    r = pc_load_bios(pc, pc->cfg.bios_path, err);
    if (r < 0)
        return r;

    mem_transaction_begin();
    /* PCI memory space sits below everything: what RAM and ROM do not cover
     * (the PCI hole, the VGA window, unshadowed PAM segments) goes to PCI. */
    mem_region_init_container(&pc->pci_mem, "pci-memory", PC_4G);
    mem_region_add_subregion(&pc->mem_root, 0, &pc->pci_mem, -1);
    /* A PCI cycle nobody claims ends in a master abort: reads all-ones, writes
     * dropped.  As a background of PCI memory this is what the VGA window and
     * PAM "PCI" segments show where no device answers (rather than the RAM
     * underneath). */
    mem_region_init_io(&pc->pci_unassigned, "pci-master-abort", &master_abort_ops, pc, PC_4G);
    mem_region_add_subregion(&pc->pci_mem, 0, &pc->pci_unassigned, -1000);

    mem_region_init_ram(&pc->ram_lo, "ram-below-4g", pc->ram, 0, pc->below_4g);
    mem_region_add_subregion(&pc->mem_root, 0, &pc->ram_lo, 0);
    if (pc->above_4g) {
        mem_region_init_ram(&pc->ram_hi, "ram-above-4g", pc->ram, pc->below_4g, pc->above_4g);
        mem_region_add_subregion(&pc->mem_root, PC_4G, &pc->ram_hi, 0);
    }

    /* The BIOS at the top of 4 GiB (the reset vector is its last 16 bytes) and
     * its last 128 KiB in the ISA BIOS window below 1 MiB, inside PCI memory so
     * that the PAM registers decide whether RAM or the ROM answers there. */
    mem_region_init_rom(&pc->bios, "pc.bios", pc->bios_block, 0, pc->bios_size);
    mem_region_add_subregion(&pc->mem_root, PC_4G - pc->bios_size, &pc->bios, 0);
    uint64_t isa_size = pc->bios_size < ISA_BIOS_MAX ? pc->bios_size : ISA_BIOS_MAX;
    mem_region_init_alias(&pc->isa_bios, "isa-bios", &pc->bios, pc->bios_size - isa_size, isa_size);
    mem_region_add_subregion(&pc->pci_mem, 0x100000 - isa_size, &pc->isa_bios, 1);

    /* The VGA window always goes to PCI, unless SMRAM is open. */
    mem_region_init_alias(&pc->vga_window, "vga-window", &pc->pci_mem, VGA_BASE, VGA_SIZE);
    mem_region_add_subregion(&pc->mem_root, VGA_BASE, &pc->vga_window, 1);
    mem_region_init_alias(&pc->smram, "smram", &pc->ram_lo, VGA_BASE, VGA_SIZE);
    mem_region_add_subregion(&pc->mem_root, VGA_BASE, &pc->smram, 2);
    mem_region_set_enabled(&pc->smram, false);

    for (unsigned i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        struct pc_pam_seg *p = &pc->pam[i];
        uint32_t base = i440fx_pam_base(i), size = i440fx_pam_size(i);
        p->pc = pc;
        p->seg = i;
        mem_region_init_alias(&p->pci, "pam-pci", &pc->pci_mem, base, size);
        mem_region_init_alias(&p->ram, "pam-ram", &pc->ram_lo, base, size);
        mem_region_init_io(&p->wo, "pam-write-ram", &pam_wo_ops, p, size);
        mem_region_add_subregion(&pc->mem_root, base, &p->pci, 1);
        mem_region_add_subregion(&pc->mem_root, base, &p->ram, 1);
        mem_region_add_subregion(&pc->mem_root, base, &p->wo, 1);
        mem_region_set_enabled(&p->ram, false);
        mem_region_set_enabled(&p->wo, false);
    }
    mem_transaction_commit();
    return 0;
}

unsigned pc_e820(const struct pc_machine *pc, struct pc_e820_entry *out, unsigned max)
{
    struct pc_e820_entry e[6];
    unsigned n = 0;
    /* conventional memory (the last KiB is the customary EBDA), the BIOS area,
     * extended memory, the BIOS ROM under 4 GiB, RAM above 4 GiB */
    e[n++] = (struct pc_e820_entry){ 0, 0x9FC00, PC_E820_RAM };
    e[n++] = (struct pc_e820_entry){ 0x9FC00, 0x400, PC_E820_RESERVED };
    e[n++] = (struct pc_e820_entry){ 0xF0000, 0x10000, PC_E820_RESERVED };
    if (pc->below_4g > 0x100000)
        e[n++] = (struct pc_e820_entry){ 0x100000, pc->below_4g - 0x100000, PC_E820_RAM };
    e[n++] = (struct pc_e820_entry){ PC_4G - pc->bios_size, pc->bios_size, PC_E820_RESERVED };
    if (pc->above_4g)
        e[n++] = (struct pc_e820_entry){ PC_4G, pc->above_4g, PC_E820_RAM };
    for (unsigned i = 0; i < n && i < max; i++)
        out[i] = e[i];
    return n < max ? n : max;
}

/* ---- CMOS and fw_cfg -------------------------------------------------------------- */

static int boot_device_code(char c)
{
    switch (c) {
    case 'a': return 1;     /* floppy */
    case 'c': return 2;     /* hard disk */
    case 'd': return 3;     /* CD-ROM */
    case 'n': return 4;     /* network */
    default: return -1;
    }
}

/* NVRAM fields SeaBIOS and other PC firmware read (IBM PC/AT Technical
 * Reference CMOS map; 0x34/0x35, 0x38, 0x3D, 0x5B-0x5D, 0x5F are the extensions
 * Bochs/QEMU BIOSes use). */
static int pc_cmos_init(struct pc_machine *pc, struct dm_err *err)
{
    struct rtc_state *rtc = pc->rtc;
    uint64_t ext_kb = pc->below_4g > MiB ? (pc->below_4g - MiB) / 1024 : 0;
    if (ext_kb > 0xFFFF)
        ext_kb = 0xFFFF;
    rtc_set_cmos(rtc, 0x10, 0x00);                  /* no floppy drives */
    rtc_set_cmos(rtc, 0x12, 0x00);                  /* no legacy hard disk types */
    rtc_set_cmos(rtc, 0x14, 0x06);                  /* equipment: FPU (bit 1), PS/2 mouse (bit 2), VGA (bits 5:4 = 0) */
    rtc_set_cmos(rtc, 0x15, 640 & 0xFF);            /* base memory, KiB */
    rtc_set_cmos(rtc, 0x16, 640 >> 8);
    rtc_set_cmos(rtc, 0x17, (uint8_t)ext_kb);       /* extended memory above 1 MiB, KiB */
    rtc_set_cmos(rtc, 0x18, (uint8_t)(ext_kb >> 8));
    rtc_set_cmos(rtc, 0x30, (uint8_t)ext_kb);
    rtc_set_cmos(rtc, 0x31, (uint8_t)(ext_kb >> 8));
    uint64_t above16 = pc->below_4g > 16 * MiB ? (pc->below_4g - 16 * MiB) >> 16 : 0;
    if (above16 > 0xFFFF)
        above16 = 0xFFFF;
    rtc_set_cmos(rtc, 0x34, (uint8_t)above16);      /* memory 16 MiB..4 GiB, 64 KiB units */
    rtc_set_cmos(rtc, 0x35, (uint8_t)(above16 >> 8));
    uint64_t above4g = pc->above_4g >> 16;
    rtc_set_cmos(rtc, 0x5B, (uint8_t)above4g);      /* memory above 4 GiB, 64 KiB units */
    rtc_set_cmos(rtc, 0x5C, (uint8_t)(above4g >> 8));
    rtc_set_cmos(rtc, 0x5D, (uint8_t)(above4g >> 16));
    rtc_set_cmos(rtc, 0x5F, (uint8_t)(pc->cfg.smp_cpus - 1));  /* CPUs - 1 */

    const char *order = pc->cfg.boot_order ? pc->cfg.boot_order : "cad";
    int dev[3] = { 0, 0, 0 };
    size_t len = strlen(order);
    if (len > 3) {
        dm_err_set(err, "boot order '%s': at most 3 devices", order);
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        dev[i] = boot_device_code(order[i]);
        if (dev[i] < 0) {
            dm_err_set(err, "boot order '%s': unknown device '%c' (use a, c, d, n)", order, order[i]);
            return -EINVAL;
        }
    }
    rtc_set_cmos(rtc, 0x3D, (uint8_t)(dev[0] | dev[1] << 4));   /* first, second */
    rtc_set_cmos(rtc, 0x38, (uint8_t)(dev[2] << 4));            /* third; bit 0 = 0: check floppy signature */
    rtc_update_checksum(rtc);
    return 0;
}

static int pc_fw_cfg_init(struct pc_machine *pc)
{
    struct fw_cfg_state *f = pc->fw_cfg;
    unsigned max = pc->cfg.max_cpus ? pc->cfg.max_cpus : pc->cfg.smp_cpus;
    static const uint8_t uuid[16];
    int r = 0;
    r |= fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, pc->below_4g + pc->above_4g);
    r |= fw_cfg_add_i16(f, FW_CFG_NB_CPUS, (uint16_t)pc->cfg.smp_cpus);
    r |= fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, (uint16_t)max);
    r |= fw_cfg_add_i16(f, FW_CFG_NOGRAPHIC, 0);
    r |= fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, 0);
    r |= fw_cfg_add_bytes(f, FW_CFG_UUID, uuid, sizeof(uuid));
    r |= fw_cfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1);   /* PIT on IOAPIC pin 2 */

    /* etc/e820: the RAM ranges only (le64 address, le64 length, le32 type);
     * firmware reserves its own areas. */
    uint8_t e820[2 * 20];
    unsigned n = 0;
    uint64_t ranges[2][2] = { { 0, pc->below_4g }, { PC_4G, pc->above_4g } };
    for (int i = 0; i < 2; i++) {
        if (!ranges[i][1])
            continue;
        uint8_t *p = e820 + n * 20;
        for (int b = 0; b < 8; b++) {
            p[b] = (uint8_t)(ranges[i][0] >> (8 * b));
            p[8 + b] = (uint8_t)(ranges[i][1] >> (8 * b));
        }
        p[16] = PC_E820_RAM;
        p[17] = p[18] = p[19] = 0;
        n++;
    }
    int k = fw_cfg_add_file(f, "etc/e820", e820, n * 20);
    /* "bootorder": newline-separated device paths for SeaBIOS; empty = its
     * default order.  The executor replaces it when it knows boot devices. */
    int b = fw_cfg_add_file(f, "bootorder", "", 0);
    return (r || k < 0 || b < 0) ? -ENOMEM : 0;
}

/* ---- building ------------------------------------------------------------------ */

int pc_register_device_types(struct dev_registry *r)
{
    static const struct device_type *const types[] = {
        &i440fx_type, &piix3_type, &i8259_type, &ioapic_type, &i8254_type, &mc146818_type, &i8042_type,
        &port92_type, &fw_cfg_type, &serial16550_type, &isa_debugcon_type, &isa_debug_exit_type,
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        int e = dev_registry_add(r, types[i]);
        if (e < 0)
            return e;
    }
    return 0;
}

void pc_config_init(struct pc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_size = PC_DEFAULT_RAM;
    cfg->smp_cpus = 1;
    cfg->rtc_start = PC_RTC_HOST;
    cfg->irqchip = PC_IRQCHIP_PIC;
}

/* Create, wire (before realize, via the callback) and realize one device. */
static int pc_add(struct pc_machine *pc, const struct device_type *type, struct dev_bus *bus,
                  const char *addr, void (*wire)(struct pc_machine *, struct device *),
                  struct device **out, struct dm_err *err)
{
    struct device *dev;
    int r = device_new(pc->ctx, type, bus, NULL, &dev, err);
    if (r < 0)
        return r;
    if (addr && (r = device_set_prop(dev, "addr", addr, err)) < 0) {
        device_free(dev);
        return r;
    }
    if (wire)
        wire(pc, dev);
    r = device_realize(dev, err);
    if (r < 0)
        return r;       /* device_realize freed it */
    *out = dev;
    return 0;
}

static void wire_i440fx(struct pc_machine *pc, struct device *dev)
{
    struct i440fx_state *s = (struct i440fx_state *)dev;
    s->io_root = &pc->io_root;
    s->bus = &pc->pci_bus;
    s->memory_update = pc_memory_update;
    s->memory_opaque = pc;
}

static void wire_piix3(struct pc_machine *pc, struct device *dev)
{
    struct piix3_state *s = (struct piix3_state *)dev;
    for (int i = 0; i < PC_NUM_GSI; i++)
        s->pirq_out[i] = &pc->pci_irq[i];
    s->reset_out = &pc->reset_line;
}

static void wire_pic(struct pc_machine *pc, struct device *dev)
{
    ((struct pic_state *)dev)->intr_out = &pc->intr_line;
}

static void wire_ioapic(struct pc_machine *pc, struct device *dev)
{
    struct ioapic_state *s = (struct ioapic_state *)dev;
    s->deliver = pc->cfg.ioapic_deliver;
    s->deliver_opaque = pc->cfg.ioapic_opaque;
}

static void wire_kbc(struct pc_machine *pc, struct device *dev)
{
    struct kbc_state *s = (struct kbc_state *)dev;
    s->reset_out = &pc->reset_line;
    s->a20_out = &pc->a20_kbd_line;
}

static void wire_port92(struct pc_machine *pc, struct device *dev)
{
    struct port92_state *s = (struct port92_state *)dev;
    s->reset_out = &pc->reset_line;
    s->a20_out = &pc->a20_p92_line;
}


static int pc_build(struct pc_machine *pc, struct dm_err *err)
{
    struct dm_ctx *ctx = pc->ctx;
    struct device *dev;
    int r;

    dev_bus_init(&pc->sysbus, ctx, "sysbus", DEV_BUS_SYSTEM, NULL);
    ctx->root_bus = &pc->sysbus;
    r = pc_memory_init(pc, err);
    if (r < 0)
        return r;

    /* interrupt plumbing */
    irq_init_array(pc->isa_irq, PC_NUM_GSI, pc_isa_irq_handler, pc);
    irq_init_array(pc->pci_irq, PC_NUM_GSI, pc_pci_irq_handler, pc);
    for (int i = 0; i < PC_NUM_GSI; i++)
        pc->isa_irq_ptr[i] = &pc->isa_irq[i];
    irq_init(&pc->intr_line, pc_intr_handler, pc, 0);
    irq_init(&pc->reset_line, pc_reset_line_handler, pc, 0);
    irq_init(&pc->a20_kbd_line, pc_a20_kbd_handler, pc, 0);
    irq_init(&pc->a20_p92_line, pc_a20_p92_handler, pc, 0);

    /* PCI: host bridge and ISA bridge */
    pci_bus_init(&pc->pci_bus, ctx, "pci.0", NULL, &pc->pci_mem, &pc->io_root, ctx->mem);
    pci_bus_set_irq_routing(&pc->pci_bus, pc_pci_map_irq, pc_pci_set_irq, pc, PIIX3_NUM_PIRQ);
    if ((r = pc_add(pc, &i440fx_type, &pc->pci_bus.bus, "0", wire_i440fx, &dev, err)) < 0)
        return r;
    pc->i440fx = (struct i440fx_state *)dev;
    if ((r = pc_add(pc, &piix3_type, &pc->pci_bus.bus, "1.0", wire_piix3, &dev, err)) < 0)
        return r;
    pc->piix3 = (struct piix3_state *)dev;
    pc->i440fx->cf9_read = piix3_rcr_read;
    pc->i440fx->cf9_write = piix3_rcr_write;
    pc->i440fx->cf9_opaque = pc->piix3;

    /* ISA bus below the PIIX3 */
    dev_bus_init(&pc->isa_bus, ctx, "isa.0", DEV_BUS_ISA, &pc->piix3->pci.dev);
    pc->isa_bus.io = ctx->io;
    pc->isa_bus.io_root = &pc->io_root;
    pc->isa_bus.mem_root = &pc->pci_mem;
    pc->isa_bus.irqs = pc->isa_irq_ptr;
    pc->isa_bus.n_irqs = PC_NUM_GSI;

    if (pc->cfg.irqchip == PC_IRQCHIP_PIC) {
        if ((r = pc_add(pc, &i8259_type, &pc->isa_bus, NULL, wire_pic, &dev, err)) < 0)
            return r;
        pc->pic = (struct pic_state *)dev;
        if ((r = pc_add(pc, &ioapic_type, &pc->isa_bus, NULL, wire_ioapic, &dev, err)) < 0)
            return r;
        pc->ioapic = (struct ioapic_state *)dev;
    }
    if ((r = pc_add(pc, &i8254_type, &pc->isa_bus, NULL, NULL, &dev, err)) < 0)
        return r;
    pc->pit = (struct pit_state *)dev;

    if ((r = device_new(ctx, &mc146818_type, &pc->isa_bus, NULL, &dev, err)) < 0)
        return r;
    ((struct rtc_state *)dev)->start_time = pc->cfg.rtc_start;
    if ((r = device_realize(dev, err)) < 0)
        return r;
    pc->rtc = (struct rtc_state *)dev;

    if ((r = pc_add(pc, &i8042_type, &pc->isa_bus, NULL, wire_kbc, &dev, err)) < 0)
        return r;
    pc->kbc = (struct kbc_state *)dev;
    if ((r = pc_add(pc, &port92_type, &pc->isa_bus, NULL, wire_port92, &dev, err)) < 0)
        return r;
    pc->port92 = (struct port92_state *)dev;
    if ((r = pc_add(pc, &fw_cfg_type, &pc->isa_bus, NULL, NULL, &dev, err)) < 0)
        return r;
    pc->fw_cfg = (struct fw_cfg_state *)dev;

    for (unsigned i = 0; i < PC_MAX_SERIAL; i++) {
        if (!pc->cfg.serial[i])
            continue;
        if ((r = device_new(ctx, &serial16550_type, &pc->isa_bus, NULL, &dev, err)) < 0)
            return r;
        struct uart_state *u = (struct uart_state *)dev;
        u->index = i;
        u->backend = pc->cfg.serial[i];
        if ((r = device_realize(dev, err)) < 0)
            return r;
    }

    for (size_t i = 0; i < pc->cfg.n_devices; i++) {
        r = device_create_from_opts(ctx, pc->cfg.devices[i], &dev, err);
        if (r < 0)
            return r;
        isa_debug_exit_set_handler(dev, pc_debug_exit, pc);
    }

    if ((r = pc_cmos_init(pc, err)) < 0)
        return r;
    if ((r = pc_fw_cfg_init(pc)) < 0) {
        dm_err_set(err, "out of memory filling fw_cfg");
        return r;
    }
    return 0;
}

void pc_destroy(struct pc_machine *pc)
{
    if (!pc)
        return;
    struct dm_ctx *ctx = pc->ctx;
    dm_free_all_devices(ctx);
    if (ctx->mem)
        address_space_free(ctx->mem);
    if (ctx->io)
        address_space_free(ctx->io);
    ctx->mem = ctx->io = NULL;
    if (pc->ram)
        ram_block_free(pc->ram);
    if (pc->bios_block)
        ram_block_free(pc->bios_block);
    if (pc->own_types) {
        dev_registry_free(pc->own_types);
        ctx->types = NULL;
    }
    ctx->root_bus = NULL;
    ctx->machine = NULL;
    free(pc);
}

int pc_create(const struct pc_config *cfg, struct dm_ctx *ctx, struct pc_machine **out,
              struct dm_err *err)
{
    *out = NULL;
    if (!ctx->clock_virt) {
        dm_err_set(err, "pc: the machine needs a virtual clock");
        return -EINVAL;
    }
    if (cfg->smp_cpus < 1 || cfg->smp_cpus > PC_MAX_CPUS ||
        (cfg->max_cpus && (cfg->max_cpus < cfg->smp_cpus || cfg->max_cpus > PC_MAX_CPUS))) {
        dm_err_set(err, "pc: %u CPUs (max %u) is out of range (1 to %u)", cfg->smp_cpus,
                   cfg->max_cpus, PC_MAX_CPUS);
        return -EINVAL;
    }
    if (cfg->irqchip == PC_IRQCHIP_EXTERNAL && !cfg->gsi_sink) {
        dm_err_set(err, "pc: an external interrupt controller needs a GSI sink");
        return -EINVAL;
    }
    struct pc_machine *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        dm_err_set(err, "pc: out of memory");
        return -ENOMEM;
    }
    pc->ctx = ctx;
    pc->cfg = *cfg;
    if (!pc->cfg.bios_path)
        pc->cfg.bios_path = PC_DEFAULT_BIOS;
    if (!pc->cfg.mem_provider)
        pc->cfg.mem_provider = &mem_provider_memfd;
    ctx->machine = pc;
    if (!ctx->types) {
        pc->own_types = dev_registry_new();
        if (!pc->own_types || pc_register_device_types(pc->own_types) < 0) {
            dm_err_set(err, "pc: out of memory");
            pc_destroy(pc);
            return -ENOMEM;
        }
        ctx->types = pc->own_types;
    }
    int r = pc_build(pc, err);
    if (r < 0) {
        pc_destroy(pc);
        return r;
    }
    /* the strings of cfg are not kept */
    pc->cfg.devices = NULL;
    pc->cfg.n_devices = 0;
    pc->cfg.boot_order = NULL;
    pc->cfg.bios_path = NULL;
    pc_reset(pc);
    *out = pc;
    return 0;
}

void pc_reset(struct pc_machine *pc)
{
    mem_transaction_begin();
    dm_reset_all(pc->ctx);
    /* A20 is enabled after reset (the i8042 output port comes up with it set) */
    pc_set_a20(pc, &pc->a20_p92, 0);
    pc_set_a20(pc, &pc->a20_kbd, 1);
    pc_memory_update(pc);
    mem_transaction_commit();
}

struct address_space *pc_io_space(struct pc_machine *pc)
{
    return pc->ctx->io;
}

struct address_space *pc_mem_space(struct pc_machine *pc)
{
    return pc->ctx->mem;
}

struct ram_block *pc_ram_block(struct pc_machine *pc)
{
    return pc->ram;
}

uint64_t pc_ram_below_4g(const struct pc_machine *pc)
{
    return pc->below_4g;
}

uint64_t pc_ram_above_4g(const struct pc_machine *pc)
{
    return pc->above_4g;
}

struct fw_cfg_state *pc_fw_cfg(struct pc_machine *pc)
{
    return pc->fw_cfg;
}

struct dm_ctx *pc_ctx(struct pc_machine *pc)
{
    return pc->ctx;
}

/* ---- state ----------------------------------------------------------------------- */

/* The machine's own part: interrupt combiner and A20. */
static int pc_post_load(void *opaque, int version)
{
    struct pc_machine *pc = opaque;
    for (int i = 0; i < PC_NUM_GSI; i++) {
        pc->gsi_src[i] &= SRC_ISA | SRC_PCI | SRC_EXT;
        pc->gsi_level[i] = pc->gsi_src[i] != 0;
    }
    pc->a20_kbd = !!pc->a20_kbd;
    pc->a20_p92 = !!pc->a20_p92;
    return 0;
}

static const struct vms_field pc_fields[] = {
    VMS_BUFFER(struct pc_machine, gsi_src),
    VMS_BUFFER(struct pc_machine, gsi_level),
    VMS_INT32(struct pc_machine, a20_kbd),
    VMS_INT32(struct pc_machine, a20_p92),
    VMS_END_OF_LIST,
};

static const struct vms_desc pc_vmstate = {
    .name = "pc",
    .version = 1,
    .min_version = 1,
    .fields = pc_fields,
    .post_load = pc_post_load,
};

static int buf_put(struct vms_buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *n = realloc(b->data, cap);
        if (!n)
            return -ENOMEM;
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

/* One record: u8 name length, name, u32 (big-endian) body length, body. */
static int put_record(struct vms_buf *out, const char *name, const struct vms_desc *d, void *opaque)
{
    struct vms_buf body = { 0 };
    int r = vms_save(d, opaque, &body);
    if (r < 0) {
        vms_buf_free(&body);
        return r;
    }
    uint8_t nl = (uint8_t)strlen(name);
    uint8_t len[4] = { (uint8_t)(body.len >> 24), (uint8_t)(body.len >> 16),
                       (uint8_t)(body.len >> 8), (uint8_t)body.len };
    r = buf_put(out, &nl, 1);
    if (!r)
        r = buf_put(out, name, nl);
    if (!r)
        r = buf_put(out, len, 4);
    if (!r)
        r = buf_put(out, body.data, body.len);
    vms_buf_free(&body);
    return r;
}

int pc_save_state(struct pc_machine *pc, struct vms_buf *out)
{
    for (struct device *d = pc->ctx->devices; d; d = d->ctx_next) {
        int r = put_record(out, d->type->name, d->type->vmstate, d);
        if (r < 0)
            return r;
    }
    return put_record(out, "pc", &pc_vmstate, pc);
}

static int get_record(const uint8_t *buf, size_t len, size_t *pos, const char *name,
                      const struct vms_desc *d, void *opaque, struct dm_err *err)
{
    size_t p = *pos;
    size_t nl = strlen(name);
    if (p + 1 > len || buf[p] != nl || p + 1 + nl + 4 > len || memcmp(buf + p + 1, name, nl)) {
        dm_err_set(err, "saved state: expected the state of '%s'", name);
        return -EINVAL;
    }
    p += 1 + nl;
    size_t body = (size_t)buf[p] << 24 | (size_t)buf[p + 1] << 16 | (size_t)buf[p + 2] << 8 | buf[p + 3];
    p += 4;
    if (body > len - p) {
        dm_err_set(err, "saved state: the state of '%s' is truncated", name);
        return -EINVAL;
    }
    /* The engine writes fields in place; a stream refused half-way (or by
     * post_load) would leave the device half-loaded with unchecked values.  So
     * keep the current state and put it back on any failure. */
    struct vms_buf backup = { 0 };
    int r = vms_save(d, opaque, &backup);
    if (r < 0) {
        vms_buf_free(&backup);
        dm_err_set(err, "saved state: cannot keep the state of '%s'", name);
        return r;
    }
    size_t used = 0;
    r = vms_load(d, opaque, buf + p, body, &used, err);
    if (r == 0 && used != body) {
        dm_err_set(err, "saved state: extra bytes after the state of '%s'", name);
        r = -EINVAL;
    }
    if (r < 0) {
        struct dm_err ignored;
        vms_load(d, opaque, backup.data, backup.len, NULL, &ignored);
        vms_buf_free(&backup);
        return r;
    }
    vms_buf_free(&backup);
    *pos = p + body;
    return 0;
}

int pc_load_state(struct pc_machine *pc, const uint8_t *buf, size_t len, struct dm_err *err)
{
    size_t pos = 0;
    for (struct device *d = pc->ctx->devices; d; d = d->ctx_next) {
        int r = get_record(buf, len, &pos, d->type->name, d->type->vmstate, d, err);
        if (r < 0)
            return r;
    }
    int r = get_record(buf, len, &pos, "pc", &pc_vmstate, pc, err);
    if (r < 0)
        return r;
    if (pos != len) {
        dm_err_set(err, "saved state: %zu bytes left over", len - pos);
        return -EINVAL;
    }
    mem_transaction_begin();
    pc_memory_update(pc);
    mem_transaction_commit();
    return 0;
}
