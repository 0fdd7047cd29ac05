/* The `pc` machine: an i440FX/PIIX3 PC with the legacy chipset devices.
 *
 *   00:00.0 i440FX host bridge (PCI config mechanism #1 at 0xCF8/0xCFC, PAM
 *           shadowing of 0xC0000-0xFFFFF, SMRAM at 0xA0000)
 *   00:01.0 PIIX3 PCI-ISA bridge (PIRQA-D routing, reset control 0xCF9)
 *   ISA:    8259 PIC pair + ELCR and the I/O APIC (own interrupt controllers
 *           only), 8254 PIT + port 0x61, MC146818 RTC/CMOS (IRQ8), i8042
 *           (IRQ1/12), port 0x92, fw_cfg (0x510/0x511, DMA 0x514), 16550A UARTs
 *           on COM1..COM4, and whatever -device adds (isa-debugcon,
 *           isa-debug-exit, isa-serial, ...)
 *
 * Memory map (docs/pc-machine.md): RAM from 0 up to the PCI hole, the rest above
 * 4 GiB (if RAM >= 0xE0000000 bytes, 3 GiB stay below 4 GiB so the high part
 * starts 1 GiB aligned); the VGA hole 0xA0000-0xBFFFF goes to PCI; the BIOS
 * image is read-only at the top of 4 GiB and its last 128 KiB appear below
 * 1 MiB through the PAM registers.
 *
 * Lifecycle: fill a struct pc_config (pc_config_init gives the defaults), give
 * pc_create a dm_ctx with at least clock_virt set (the machine fills io, mem,
 * root_bus, devices, types if NULL, and machine); the new machine is already
 * reset.  pc_reset again for every later system reset.  Any number of machines may exist in one process, each
 * with its own ctx.  All calls with the device lock held (dm/mainloop.h). */
#ifndef MACHINES_PC_H
#define MACHINES_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/dm.h"
#include "dm/log.h"
#include "dm/memory.h"

struct pc_machine;
struct chardev;
struct fw_cfg_state;
struct dev_registry;
struct ioapic_msg;

#define PC_DEFAULT_BIOS     "/usr/share/seabios/bios-256k.bin"
#define PC_DEFAULT_RAM      (128ull << 20)
#define PC_MAX_SERIAL       4
#define PC_MAX_CPUS         255
#define PC_NUM_GSI          16      /* ISA IRQs (GSI 0-15) */
/* rtc_start: take the host's time at creation. */
#define PC_RTC_HOST         UINT64_MAX

/* Where ISA IRQs and PCI INTx go. */
enum pc_irqchip {
    /* Vireo's own 8259 pair and 82093AA I/O APIC (for the JIT and the test
     * executor).  The CPU side uses the intr callback and pc_pic_ack(); I/O APIC
     * messages go to ioapic_deliver (there is no local APIC model yet). */
    PC_IRQCHIP_PIC,
    /* An external interrupt controller (KVM's in-kernel chips, Xen): every GSI
     * change is passed to gsi_sink; no PIC/ELCR ports are mapped (the
     * hypervisor emulates them). */
    PC_IRQCHIP_EXTERNAL,
};

/* GSI 0-15 = ISA IRQ; PCI INTx arrive on the ISA IRQ their PIIX3 PIRQ register
 * routes them to.  level is 0 or 1; called only on changes. */
typedef void pc_gsi_fn(void *opaque, int gsi, int level);
/* The PIC's INT output (PC_IRQCHIP_PIC): the CPU's INTR pin. */
typedef void pc_intr_fn(void *opaque, int level);
/* Reset (0xCF9, i8042 0xFE/output port, port 0x92 bit 0) or, with no_reboot,
 * shutdown requests.  Called from inside the guest's I/O access: do not reset
 * the machine from the callback; stop the vCPUs, then call pc_reset (and reset
 * the CPUs) from the main loop. */
typedef void pc_request_fn(void *opaque);
/* isa-debug-exit: the guest asked to end with this exit status. */
typedef void pc_exit_fn(void *opaque, int status);
/* The A20 gate changed (i8042 output port bit 1 OR port 0x92 bit 1). */
typedef void pc_a20_fn(void *opaque, bool enabled);

struct pc_config {
    uint64_t ram_size;              /* bytes (rounded up to 4 KiB); >= 1 MiB */
    unsigned smp_cpus;              /* >= 1 */
    unsigned max_cpus;              /* 0: smp_cpus */
    const char *bios_path;          /* NULL: PC_DEFAULT_BIOS; size 64 KiB..16 MiB, multiple of 64 KiB */
    const char *boot_order;         /* QEMU letters: a floppy, c disk, d CD, n net; NULL: "cad" */
    struct chardev *serial[PC_MAX_SERIAL];  /* COM1..COM4 backends; NULL = no UART */
    const char *const *devices;     /* -device strings, created in order */
    size_t n_devices;
    bool no_reboot;                 /* a guest reset becomes a shutdown request */
    uint64_t rtc_start;             /* guest RTC time at creation (s since 1970), or PC_RTC_HOST */
    const struct mem_provider *mem_provider;    /* NULL: mem_provider_memfd */

    enum pc_irqchip irqchip;
    pc_gsi_fn *gsi_sink;            /* PC_IRQCHIP_EXTERNAL: required */
    void *gsi_sink_opaque;
    pc_intr_fn *intr;               /* PC_IRQCHIP_PIC: may be NULL (poll pc_pic_intr) */
    void *intr_opaque;
    /* PC_IRQCHIP_PIC: I/O APIC interrupt messages (devices/ioapic.h); NULL drops
     * them.  Pins: 0 = PIC INTR (ExtINT), 2 = IRQ0, n = ISA IRQ n, 16-19 = PIRQ A-D. */
    void (*ioapic_deliver)(void *opaque, const struct ioapic_msg *m);
    void *ioapic_opaque;

    pc_request_fn *reset_request;   /* may be NULL: then the request is only counted */
    void *reset_opaque;
    pc_request_fn *shutdown_request;    /* no_reboot; may be NULL */
    void *shutdown_opaque;
    pc_exit_fn *exit_request;       /* isa-debug-exit; may be NULL */
    void *exit_opaque;
    pc_a20_fn *a20_change;          /* may be NULL (KVM ignores A20) */
    void *a20_opaque;
};

/* Defaults: 128 MiB, 1 CPU, Debian's SeaBIOS, boot "cad", own PIC, host time. */
void pc_config_init(struct pc_config *cfg);

/* Build the machine into ctx (ctx->clock_virt required; ctx->chardevs needed
 * only if -device strings name chardevs; ctx->types: NULL makes a registry of
 * the pc device types).  On failure -errno with err naming the culprit (RAM
 * size, BIOS file, a -device string, ...) and nothing is left behind. */
int pc_create(const struct pc_config *cfg, struct dm_ctx *ctx, struct pc_machine **out,
              struct dm_err *err);
/* Unrealize and free every device, the RAM and the address spaces; the ctx
 * fields the machine filled are cleared. */
void pc_destroy(struct pc_machine *pc);

/* System reset: every device back to power-on state, PAM/SMRAM closed, A20
 * enabled, IRQ lines low.  The caller resets its CPUs. */
void pc_reset(struct pc_machine *pc);

/* Add every device type the pc machine knows (for -device and `-device help`).
 * -EEXIST if one is already there. */
int pc_register_device_types(struct dev_registry *r);

/* ---- memory -------------------------------------------------------------------- */

struct address_space *pc_io_space(struct pc_machine *pc);     /* = ctx->io */
struct address_space *pc_mem_space(struct pc_machine *pc);    /* = ctx->mem */
/* The one RAM block: guest RAM [0, below) is block offset 0..below, guest RAM
 * [4 GiB, 4 GiB + above) is block offset below..ram_size.  The host pointer,
 * fd and fd_offset are for executors that map RAM themselves; normally they
 * follow the memory address space's listener instead. */
struct ram_block *pc_ram_block(struct pc_machine *pc);
uint64_t pc_ram_below_4g(const struct pc_machine *pc);
uint64_t pc_ram_above_4g(const struct pc_machine *pc);

/* The guest-physical RAM map as e820 entries (type 1 = RAM, 2 = reserved),
 * the same as fw_cfg "etc/e820".  Returns the number of entries (<= max filled). */
struct pc_e820_entry {
    uint64_t addr, size;
    uint32_t type;
};
#define PC_E820_RAM         1
#define PC_E820_RESERVED    2
unsigned pc_e820(const struct pc_machine *pc, struct pc_e820_entry *out, unsigned max);

/* ---- interrupts ---------------------------------------------------------------- */

/* PC_IRQCHIP_PIC: the PIC's INT output now, and the CPU's acknowledge cycle
 * (returns the vector; a spurious acknowledge gives the IRQ7/IRQ15 vector).
 * With an external irqchip: 0 and -1. */
int pc_pic_intr(struct pc_machine *pc);
int pc_pic_ack(struct pc_machine *pc);
/* PC_IRQCHIP_PIC: a local APIC's EOI broadcast for vector to the I/O APIC. */
void pc_ioapic_eoi(struct pc_machine *pc, uint8_t vector);
/* Current level of GSI 0..15 (ISA device OR routed PCI INTx). */
int pc_gsi_level(const struct pc_machine *pc, int gsi);
/* Drive a GSI from outside the device model (e.g. an executor's own timer). */
void pc_set_gsi(struct pc_machine *pc, int gsi, int level);
/* Observe every GSI change (tests, tracing); one observer, NULL removes. */
void pc_set_gsi_observer(struct pc_machine *pc, pc_gsi_fn *fn, void *opaque);

/* ---- firmware, state, misc -------------------------------------------------- */

/* fw_cfg, to add kernel/initrd/cmdline items, "bootorder", ... with the
 * fw_cfg_add_* calls of devices/fw_cfg.h (the machine already added the
 * signature, ID, RAM size, CPU counts, "etc/e820" and an empty "bootorder",
 * which fw_cfg_add_file replaces by name). */
struct fw_cfg_state *pc_fw_cfg(struct pc_machine *pc);
bool pc_a20_enabled(const struct pc_machine *pc);
/* How many reset requests the guest made since creation (tests). */
unsigned long pc_reset_requests(const struct pc_machine *pc);
struct dm_ctx *pc_ctx(struct pc_machine *pc);

/* Save every device's state (dm/vmstate.h stream per device, in creation
 * order, each prefixed by its type name) into buf, and load it into a machine
 * built with the same configuration.  -errno with err naming the device. */
struct vms_buf;
int pc_save_state(struct pc_machine *pc, struct vms_buf *out);
int pc_load_state(struct pc_machine *pc, const uint8_t *buf, size_t len, struct dm_err *err);

#endif
