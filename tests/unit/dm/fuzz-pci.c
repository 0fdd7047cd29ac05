/* Fuzz target: the PCI core as a guest sees it.  The input is a list of
 * operations: configuration reads and writes (any offset, size, alignment),
 * memory and I/O accesses where BARs may be mapped, INTx and MSI from the
 * devices, resets, and state loads of (possibly mangled) saved streams.  Two
 * devices, one conventional and one express, each with every BAR kind, a ROM
 * and MSI.  Invariant checked at the end: with every device's INTx low, no bus
 * IRQ is asserted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm/device.h"
#include "dm/memory.h"
#include "dm/pci.h"
#include "dm/vmstate.h"

struct fzpci {
    struct pci_device pci;
    struct mem_region io, mmio, mem64, pref, rom;
};

static uint64_t r_read(void *o, uint64_t a, unsigned s) { return a * 0x01010101u; }
static void r_write(void *o, uint64_t a, uint64_t v, unsigned s) { }
static const struct mem_region_ops r_ops = { .read = r_read, .write = r_write, .valid = { 1, 8, true }, .impl = { 1, 4 } };

static const struct pci_device_info info_conv = {
    .vendor_id = 0x1234, .device_id = 1, .class_code = 0x020000, .interrupt_pin = 1,
};
static const struct pci_device_info info_exp = {
    .vendor_id = 0x1234, .device_id = 2, .class_code = 0x020000, .interrupt_pin = 2, .express = true,
};

static int fz_realize(struct device *dev, struct dm_err *err)
{
    struct fzpci *f = (struct fzpci *)dev;

    pci_device_setup(&f->pci, f->pci.devfn == PCI_DEVFN(2, 0) ? &info_exp : &info_conv);
    mem_region_init_io(&f->io, "io", &r_ops, f, 64);
    mem_region_init_io(&f->mmio, "mmio", &r_ops, f, 4096);
    mem_region_init_io(&f->mem64, "mem64", &r_ops, f, 1 << 16);
    mem_region_init_io(&f->pref, "pref", &r_ops, f, 1 << 14);
    mem_region_init_io(&f->rom, "rom", &r_ops, f, 1 << 12);
    pci_register_bar(&f->pci, 0, PCI_BAR_IO, &f->io);
    pci_register_bar(&f->pci, 1, PCI_BAR_MEM32, &f->mmio);
    pci_register_bar(&f->pci, 2, PCI_BAR_MEM64_PREFETCH, &f->mem64);
    pci_register_bar(&f->pci, 5, PCI_BAR_MEM32_PREFETCH, &f->pref);
    pci_register_rom(&f->pci, &f->rom);
    f->pci.wmask[0x40] = 0xff;
    f->pci.w1cmask[0x41] = 0xff;
    pci_msi_init(&f->pci, 0, 8, f->pci.devfn == PCI_DEVFN(2, 0), true);
    return 0;
}

static const struct vms_field fz_fields[] = {
    VMS_STRUCT(struct fzpci, pci, struct pci_device, pci_device_vmstate),
    VMS_END_OF_LIST,
};
static const struct vms_desc fz_vms = { .name = "fzpci", .version = 1, .fields = fz_fields };
static const struct device_type fz_type = {
    .name = "fzpci", .instance_size = sizeof(struct fzpci), .bus = DEV_BUS_PCI,
    .realize = fz_realize, .vmstate = &fz_vms,
};

static int map_irq(void *o, struct pci_device *d, int pin) { return pci_swizzle_pin(d, pin); }
static int levels[4];
static void set_irq(void *o, int irq, int level) { levels[irq] = level; }

struct reader {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct reader *r, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = v << 8 | (r->left ? *r->p : 0);
        if (r->left) {
            r->p++;
            r->left--;
        }
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dm_ctx ctx = {0};
    struct dev_bus sysbus;
    struct mem_region mem_root, io_root;
    struct pci_bus bus;
    struct fzpci *dev[2];
    struct reader r = { data, size };
    static const unsigned sizes[4] = { 1, 2, 4, 8 };

    memset(levels, 0, sizeof(levels));
    dev_bus_init(&sysbus, &ctx, "main-system-bus", DEV_BUS_SYSTEM, NULL);
    mem_region_init_container(&mem_root, "mem", UINT64_MAX);
    mem_region_init_container(&io_root, "io", 0x10000);
    ctx.mem = address_space_new("mem", &mem_root);
    ctx.io = address_space_new("io", &io_root);
    pci_bus_init(&bus, &ctx, "pci.0", NULL, &mem_root, &io_root, ctx.mem);
    pci_bus_set_irq_routing(&bus, map_irq, set_irq, NULL, 4);
    for (int i = 0; i < 2; i++) {
        struct device *d;
        device_new(&ctx, &fz_type, &bus.bus, NULL, &d, NULL);
        ((struct fzpci *)d)->pci.devfn = PCI_DEVFN(1 + i, 0);
        if (device_realize(d, NULL) < 0)
            abort();
        dev[i] = (struct fzpci *)d;
    }

    for (unsigned steps = 0; r.left && steps < 512; steps++) {
        unsigned op = (unsigned)take(&r, 1);
        struct fzpci *f = dev[op >> 7];
        uint8_t devfn = f->pci.devfn;
        uint64_t v;

        switch (op % 9) {
        case 0:
        case 1: {
            uint32_t off = (uint32_t)take(&r, 2) & 0x1fff;
            pci_config_write(&bus, (op & 0x40) ? (uint8_t)take(&r, 1) : devfn, off,
                             sizes[(op >> 4) & 3] == 8 ? 4 : sizes[(op >> 4) & 3], (uint32_t)take(&r, 4));
            break;
        }
        case 2:
            pci_config_read(&bus, devfn, (uint32_t)take(&r, 2) & 0x1fff, sizes[(op >> 4) & 3]);
            break;
        case 3:
            io_read(ctx.mem, take(&r, 8), sizes[(op >> 4) & 3], &v);
            break;
        case 4:
            io_write(ctx.io, take(&r, 2), sizes[(op >> 4) & 3], take(&r, 4));
            break;
        case 5:
            pci_set_irq(&f->pci, op & 0x10);
            break;
        case 6:
            pci_msi_notify(&f->pci, (unsigned)take(&r, 1));
            break;
        case 7:
            device_reset(&f->pci.dev);
            break;
        case 8: {
            /* save, flip a byte, load back */
            struct vms_buf b = {0};
            vms_save(&fz_vms, f, &b);
            if (b.len) {
                size_t at = (size_t)take(&r, 2) % b.len;
                b.data[at] ^= (uint8_t)take(&r, 1);
                vms_load(&fz_vms, f, b.data, b.len, NULL, NULL);
            }
            vms_buf_free(&b);
            break;
        }
        }
    }
    for (int i = 0; i < 2; i++)
        pci_set_irq(&dev[i]->pci, 0);
    for (int i = 0; i < 4; i++)
        if (levels[i] || bus.irq_count[i])
            abort();
    dm_free_all_devices(&ctx);
    address_space_free(ctx.mem);
    address_space_free(ctx.io);
    return 0;
}
