/* Unit tests of the PCI core with a dummy host bridge and a dummy device that
 * has one BAR of each kind.  Expected register values come from the PCI Local
 * Bus Specification 3.0, section 6.2.5 (BAR sizing) and 6.8 (MSI). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/device.h"
#include "dm/memory.h"
#include "dm/pci.h"
#include "dm/vmstate.h"
#include "tests/lib/cunit-run.h"

/* ---- the dummy device ------------------------------------------------------- */

struct testdev {
    struct pci_device pci;
    struct mem_region io_bar, mmio_bar, mem64_bar, pref_bar, rom;
    uint32_t last_write;
    unsigned reads;
    uint32_t hook_writes;
};

static uint64_t td_read(void *opaque, uint64_t addr, unsigned size)
{
    struct testdev *t = opaque;
    t->reads++;
    return 0xa5000000u | (uint32_t)addr;
}

static void td_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    ((struct testdev *)opaque)->last_write = (uint32_t)v;
}

static const struct mem_region_ops td_ops = {
    .read = td_read, .write = td_write, .valid = { 1, 4 }, .impl = { 1, 4 },
};

static void td_config_write(struct pci_device *d, uint32_t off, unsigned size, uint32_t v)
{
    ((struct testdev *)d)->hook_writes++;
}

static const struct pci_device_info td_info = {
    .vendor_id = 0x1234, .device_id = 0x5678, .revision = 3, .class_code = 0x020000,
    .subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100, .interrupt_pin = 1,
    .config_write = td_config_write,
};

static int td_realize(struct device *dev, struct dm_err *err)
{
    struct testdev *t = (struct testdev *)dev;

    pci_device_setup(&t->pci, &td_info);
    mem_region_init_io(&t->io_bar, "td-io", &td_ops, t, 32);
    mem_region_init_io(&t->mmio_bar, "td-mmio", &td_ops, t, 4096);
    mem_region_init_io(&t->mem64_bar, "td-mem64", &td_ops, t, 1 << 20);
    mem_region_init_io(&t->pref_bar, "td-pref", &td_ops, t, 65536);
    mem_region_init_io(&t->rom, "td-rom", &td_ops, t, 2048);
    pci_register_bar(&t->pci, 0, PCI_BAR_IO, &t->io_bar);
    pci_register_bar(&t->pci, 1, PCI_BAR_MEM32, &t->mmio_bar);
    pci_register_bar(&t->pci, 2, PCI_BAR_MEM64, &t->mem64_bar);
    pci_register_bar(&t->pci, 4, PCI_BAR_MEM32_PREFETCH, &t->pref_bar);
    pci_register_rom(&t->pci, &t->rom);
    /* device-specific: 0x40 read/write with initial value 0x11, 0x44 w1c */
    t->pci.config[0x40] = 0x11;
    t->pci.wmask[0x40] = 0xff;
    t->pci.config[0x44] = 0xf0;
    t->pci.w1cmask[0x44] = 0xff;
    t->pci.next_cap_offset = 0x48;
    if (pci_msi_init(&t->pci, 0, 4, true, true) < 0)
        return -ENOSPC;
    return 0;
}

static const struct vms_field td_fields[] = {
    VMS_STRUCT(struct testdev, pci, struct pci_device, pci_device_vmstate),
    VMS_UINT32(struct testdev, last_write),
    VMS_END_OF_LIST,
};
static const struct vms_desc td_vmstate = { .name = "testdev", .version = 1, .fields = td_fields };

static const struct device_type testdev_type = {
    .name = "testdev", .desc = "PCI core test device", .instance_size = sizeof(struct testdev),
    .bus = DEV_BUS_PCI, .user_creatable = true, .realize = td_realize, .vmstate = &td_vmstate,
};

/* ---- a machine: memory + io spaces, a PCI bus, IRQ recording ----------------- */

struct msi_sink {
    unsigned n;
    uint64_t addr;
    uint32_t data;
};

static void msi_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    struct msi_sink *s = opaque;
    s->n++;
    s->addr = 0xfee00000 + addr;
    s->data = (uint32_t)v;
}

static const struct mem_region_ops msi_ops = { .write = msi_write, .valid = { 4, 4 }, .impl = { 4, 4 } };

struct machine {
    struct dm_ctx ctx;
    struct dev_bus sysbus;
    struct mem_region mem_root, io_root, msi_mr;
    struct pci_bus pci;
    struct dev_registry *reg;
    int irq_level[4];
    unsigned irq_calls;
    struct msi_sink msi;
};

static int swz_map_irq(void *opaque, struct pci_device *d, int pin)
{
    return pci_swizzle_pin(d, pin);
}

static void rec_set_irq(void *opaque, int irq, int level)
{
    struct machine *m = opaque;
    m->irq_level[irq] = level;
    m->irq_calls++;
}

static struct machine *machine_new(void)
{
    struct machine *m = calloc(1, sizeof(*m));

    m->reg = dev_registry_new();
    dev_registry_add(m->reg, &testdev_type);
    m->ctx.types = m->reg;
    dev_bus_init(&m->sysbus, &m->ctx, "main-system-bus", DEV_BUS_SYSTEM, NULL);
    mem_region_init_container(&m->mem_root, "pci-mem", UINT64_MAX);
    mem_region_init_container(&m->io_root, "pci-io", 0x10000);
    m->ctx.mem = address_space_new("memory", &m->mem_root);
    m->ctx.io = address_space_new("io", &m->io_root);
    mem_region_init_io(&m->msi_mr, "msi", &msi_ops, &m->msi, 0x100000);
    mem_region_add_subregion(&m->mem_root, 0xfee00000, &m->msi_mr, 0);
    pci_bus_init(&m->pci, &m->ctx, "pci.0", NULL, &m->mem_root, &m->io_root, m->ctx.mem);
    pci_bus_set_irq_routing(&m->pci, swz_map_irq, rec_set_irq, m, 4);
    return m;
}

static void machine_free(struct machine *m)
{
    dm_free_all_devices(&m->ctx);
    address_space_free(m->ctx.mem);
    address_space_free(m->ctx.io);
    dev_registry_free(m->reg);
    free(m);
}

static struct testdev *add_dev(struct machine *m, const char *opts)
{
    struct device *dev = NULL;
    struct dm_err err = {{0}};
    int ret = device_create_from_opts(&m->ctx, opts, &dev, &err);

    CU_ASSERT_EQUAL(ret, 0);
    if (ret)
        fprintf(stderr, "%s: %s\n", opts, err.msg);
    return (struct testdev *)dev;
}

static uint32_t cfg_rd(struct machine *m, uint8_t devfn, uint32_t off, unsigned size)
{
    return pci_config_read(&m->pci, devfn, off, size);
}

static void cfg_wr(struct machine *m, uint8_t devfn, uint32_t off, unsigned size, uint32_t v)
{
    pci_config_write(&m->pci, devfn, off, size, v);
}

static const char *mem_who(struct address_space *as, uint64_t addr)
{
    const struct mem_section *s = address_space_lookup(as, addr);
    return s ? s->mr->name : "";
}

/* ---- tests ------------------------------------------------------------------ */

static void test_ids_and_masks(void)
{
    struct machine *m = machine_new();
    struct testdev *t = add_dev(m, "testdev,addr=2");
    uint8_t df = PCI_DEVFN(2, 0);

    CU_ASSERT_EQUAL(cfg_rd(m, df, 0, 4), 0x56781234);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_CLASS_PROG, 1), 0x00);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_CLASS_DEVICE, 2), 0x0200);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_REVISION_ID, 1), 3);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_INTERRUPT_PIN, 1), 1);
    /* IDs are read-only */
    cfg_wr(m, df, 0, 4, 0);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0, 4), 0x56781234);
    /* command: only the implemented bits stick */
    cfg_wr(m, df, PCI_COMMAND, 2, 0xffff);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_COMMAND, 2), 0x0547);
    cfg_wr(m, df, PCI_COMMAND, 2, 0);
    /* status: error bits are write-1-to-clear, others ignore writes */
    t->pci.config[PCI_STATUS + 1] |= 0x20;      /* received master abort */
    uint16_t st = (uint16_t)cfg_rd(m, df, PCI_STATUS, 2);
    CU_ASSERT(st & PCI_STATUS_REC_MASTER_ABORT);
    CU_ASSERT(st & PCI_STATUS_CAP_LIST);
    cfg_wr(m, df, PCI_STATUS, 2, 0);
    CU_ASSERT(cfg_rd(m, df, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT);
    cfg_wr(m, df, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_CAP_LIST);
    CU_ASSERT_FALSE(cfg_rd(m, df, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT);
    CU_ASSERT(cfg_rd(m, df, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    /* device registers: 0x40 r/w, 0x41 read-only, 0x44 w1c */
    cfg_wr(m, df, 0x40, 2, 0xbeef);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x40, 2), 0x00ef);
    cfg_wr(m, df, 0x44, 1, 0x30);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x44, 1), 0xc0);
    CU_ASSERT(t->hook_writes >= 6);
    /* absent function and misaligned access read all-ones */
    CU_ASSERT_EQUAL(cfg_rd(m, PCI_DEVFN(9, 0), 0, 4), 0xffffffff);
    CU_ASSERT_EQUAL(cfg_rd(m, PCI_DEVFN(9, 0), 0, 2), 0xffff);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 1, 4), 0xffffffff);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0, 8), 0xffffffff);        /* 8-byte: invalid */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0, 3), 0xffffff);          /* all ones of its width */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x100, 4), 0xffffffff);  /* beyond 256 bytes */
    cfg_wr(m, df, 0x102, 2, 0x1234);                        /* ignored, no crash */
    machine_free(m);
}

static void test_bar_sizing(void)
{
    struct machine *m = machine_new();
    add_dev(m, "testdev,addr=1");
    uint8_t df = PCI_DEVFN(1, 0);

    /* before sizing the type bits show */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x10, 4), 0x1);           /* I/O */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x14, 4), 0x0);           /* mem32 */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x18, 4), 0x4);           /* mem64 */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x20, 4), 0x8);           /* prefetch */
    for (uint32_t off = 0x10; off <= 0x24; off += 4)
        cfg_wr(m, df, off, 4, 0xffffffff);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x10, 4), 0xffffffe1);    /* 32 bytes of I/O */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x14, 4), 0xfffff000);    /* 4 KiB */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x18, 4), 0xfff00004);    /* 1 MiB, 64-bit */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x1c, 4), 0xffffffff);    /* upper half */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x20, 4), 0xffff0008);    /* 64 KiB prefetchable */
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x24, 4), 0x00000000);    /* not implemented */
    cfg_wr(m, df, 0x30, 4, 0xfffff800);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x30, 4), 0xfffff800);    /* 2 KiB ROM */
    cfg_wr(m, df, 0x30, 4, 0xffffffff);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x30, 4), 0xfffff801);
    machine_free(m);
}

static void test_bar_mapping(void)
{
    struct machine *m = machine_new();
    struct testdev *t = add_dev(m, "testdev,addr=1");
    uint8_t df = PCI_DEVFN(1, 0);
    uint64_t v;

    cfg_wr(m, df, 0x10, 4, 0xc000);
    cfg_wr(m, df, 0x14, 4, 0xe0000000);
    cfg_wr(m, df, 0x18, 4, 0x00000000);
    cfg_wr(m, df, 0x1c, 4, 0x00000001);         /* 0x1_0000_0000 */
    cfg_wr(m, df, 0x20, 4, 0xe0100000);
    cfg_wr(m, df, 0x30, 4, 0xe0200000);
    /* no decode enabled: nothing mapped */
    CU_ASSERT_EQUAL(io_read(m->ctx.io, 0xc000, 4, &v), IO_UNASSIGNED);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0000000), "");
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    /* I/O decode only */
    cfg_wr(m, df, PCI_COMMAND, 2, PCI_COMMAND_IO);
    CU_ASSERT_EQUAL(io_read(m->ctx.io, 0xc004, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0xa5000004);
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 0), 0xc000);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0000000), "");
    /* memory decode */
    cfg_wr(m, df, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0000000), "td-mmio");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0000fff), "td-mmio");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0001000), "");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0x100000000ULL), "td-mem64");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0x1000fffffULL), "td-mem64");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0100000), "td-pref");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0200000), "");  /* ROM not enabled */
    CU_ASSERT_EQUAL(io_write(m->ctx.mem, 0xe0000010, 4, 0x77), IO_OK);
    CU_ASSERT_EQUAL(t->last_write, 0x77);
    cfg_wr(m, df, 0x30, 4, 0xe0200001);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0200000), "td-rom");
    /* moving a BAR while decoding */
    cfg_wr(m, df, 0x14, 4, 0xd0000000);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xe0000000), "");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xd0000000), "td-mmio");
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 1), 0xd0000000);
    /* sizing while decoding does not map the BAR at the top of 4 GiB */
    cfg_wr(m, df, 0x14, 4, 0xffffffff);
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 1), PCI_BAR_UNMAPPED);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xfffff000), "");
    cfg_wr(m, df, 0x14, 4, 0xd0000000);
    /* a byte write to the middle of a BAR moves it too */
    cfg_wr(m, df, 0x16, 1, 0x01);               /* 0xd0010000 */
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 1), 0xd0010000);
    /* decode off: all gone */
    cfg_wr(m, df, PCI_COMMAND, 2, 0);
    CU_ASSERT_EQUAL(io_read(m->ctx.io, 0xc000, 4, &v), IO_UNASSIGNED);
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0xd0010000), "");
    CU_ASSERT_STRING_EQUAL(mem_who(m->ctx.mem, 0x100000000ULL), "");
    /* removing the device unmaps what it had mapped */
    cfg_wr(m, df, PCI_COMMAND, 2, PCI_COMMAND_IO);
    device_free(&t->pci.dev);
    CU_ASSERT_EQUAL(io_read(m->ctx.io, 0xc000, 4, &v), IO_UNASSIGNED);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0, 4), 0xffffffff);
    machine_free(m);
}

static void test_intx_routing(void)
{
    struct machine *m = machine_new();
    struct testdev *a = add_dev(m, "testdev,addr=1");
    struct testdev *b = add_dev(m, "testdev,addr=5");   /* swizzles to the same IRQ */
    struct testdev *c = add_dev(m, "testdev,addr=2");

    pci_set_irq(&a->pci, 1);
    CU_ASSERT_EQUAL(m->irq_level[1], 1);        /* slot 1, INTA -> (0 + 1) % 4 */
    CU_ASSERT(cfg_rd(m, PCI_DEVFN(1, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    pci_set_irq(&b->pci, 1);
    pci_set_irq(&a->pci, 0);
    CU_ASSERT_EQUAL(m->irq_level[1], 1);        /* still held by b (wired-OR) */
    pci_set_irq(&b->pci, 0);
    CU_ASSERT_EQUAL(m->irq_level[1], 0);
    pci_set_irq(&c->pci, 1);
    CU_ASSERT_EQUAL(m->irq_level[2], 1);
    /* Interrupt Disable masks the line, the status bit stays */
    cfg_wr(m, PCI_DEVFN(2, 0), PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    CU_ASSERT_EQUAL(m->irq_level[2], 0);
    CU_ASSERT(cfg_rd(m, PCI_DEVFN(2, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    cfg_wr(m, PCI_DEVFN(2, 0), PCI_COMMAND, 2, 0);
    CU_ASSERT_EQUAL(m->irq_level[2], 1);
    /* repeated raises do not count twice */
    unsigned calls = m->irq_calls;
    pci_set_irq(&c->pci, 1);
    CU_ASSERT_EQUAL(m->irq_calls, calls);
    pci_set_irq(&c->pci, 0);
    CU_ASSERT_EQUAL(m->irq_level[2], 0);
    /* reset lowers a raised line */
    pci_set_irq(&a->pci, 1);
    device_reset(&a->pci.dev);
    CU_ASSERT_EQUAL(m->irq_level[1], 0);
    machine_free(m);
}

static void test_capabilities_and_msi(void)
{
    struct machine *m = machine_new();
    struct testdev *t = add_dev(m, "testdev,addr=3");
    uint8_t df = PCI_DEVFN(3, 0);
    uint8_t cap = pci_find_capability(&t->pci, PCI_CAP_ID_MSI);

    CU_ASSERT_EQUAL(cap, 0x48);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_CAPABILITY_LIST, 1), 0x48);
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap, 1), PCI_CAP_ID_MSI);
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap + 1, 1), 0);          /* end of list */
    /* message control: 4 vectors capable (log2 = 2), 64-bit, per-vector mask */
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap + 2, 2), (2 << 1) | 0x80 | 0x100);
    CU_ASSERT_EQUAL(pci_add_capability(&t->pci, PCI_CAP_ID_VNDR, 0, 8), 0x60);
    CU_ASSERT_EQUAL(pci_find_capability(&t->pci, PCI_CAP_ID_VNDR), 0x60);
    CU_ASSERT_EQUAL(pci_find_capability(&t->pci, PCI_CAP_ID_MSI), 0x48);
    CU_ASSERT_EQUAL(pci_find_capability(&t->pci, PCI_CAP_ID_EXP), 0);

    /* program: address 0xfee01000, data 0x4040, enable with 4 vectors */
    cfg_wr(m, df, cap + 4, 4, 0xfee01000);
    cfg_wr(m, df, cap + 8, 4, 0);
    cfg_wr(m, df, cap + 12, 2, 0x4040);
    cfg_wr(m, df, cap + 2, 2, 0x0001 | (2 << 4));
    CU_ASSERT(pci_msi_enabled(&t->pci));
    pci_msi_notify(&t->pci, 2);
    CU_ASSERT_EQUAL(m->msi.n, 0);               /* bus mastering is off */
    cfg_wr(m, df, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
    pci_msi_notify(&t->pci, 2);
    CU_ASSERT_EQUAL(m->msi.n, 1);
    CU_ASSERT_EQUAL(m->msi.addr, 0xfee01000);
    CU_ASSERT_EQUAL(m->msi.data, 0x4042);       /* vector in the low bits */
    pci_msi_notify(&t->pci, 7);                 /* beyond the vectors: dropped */
    CU_ASSERT_EQUAL(m->msi.n, 1);
    /* masked: pending, delivered when unmasked */
    cfg_wr(m, df, cap + 16, 4, 1u << 1);
    pci_msi_notify(&t->pci, 1);
    CU_ASSERT_EQUAL(m->msi.n, 1);
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap + 20, 4), 1u << 1);
    cfg_wr(m, df, cap + 20, 4, 0);              /* pending bits are read-only */
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap + 20, 4), 1u << 1);
    cfg_wr(m, df, cap + 16, 4, 0);
    CU_ASSERT_EQUAL(m->msi.n, 2);
    CU_ASSERT_EQUAL(m->msi.data, 0x4041);
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap + 20, 4), 0);
    /* the capability bits themselves are read-only */
    cfg_wr(m, df, cap, 2, 0xffff);
    CU_ASSERT_EQUAL(cfg_rd(m, df, cap, 1), PCI_CAP_ID_MSI);
    machine_free(m);
}

static void test_reset(void)
{
    struct machine *m = machine_new();
    struct testdev *t = add_dev(m, "testdev,addr=1");
    uint8_t df = PCI_DEVFN(1, 0);

    cfg_wr(m, df, 0x10, 4, 0xc000);
    cfg_wr(m, df, PCI_COMMAND, 2, PCI_COMMAND_IO);
    cfg_wr(m, df, 0x40, 1, 0x99);
    cfg_wr(m, df, PCI_INTERRUPT_LINE, 1, 11);
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 0), 0xc000);
    dm_reset_all(&m->ctx);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_COMMAND, 2), 0);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x10, 4), 0x1);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0x40, 1), 0x11);
    CU_ASSERT_EQUAL(cfg_rd(m, df, PCI_INTERRUPT_LINE, 1), 0);
    CU_ASSERT_EQUAL(cfg_rd(m, df, 0, 4), 0x56781234);
    CU_ASSERT_EQUAL(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    machine_free(m);
}

static void test_vmstate(void)
{
    struct machine *ma = machine_new(), *mb = machine_new();
    struct testdev *a = add_dev(ma, "testdev,addr=4");
    struct testdev *b = add_dev(mb, "testdev,addr=4");
    uint8_t df = PCI_DEVFN(4, 0);
    struct dm_err err = {{0}};
    struct vms_buf out = {0};
    uint64_t v;

    cfg_wr(ma, df, 0x10, 4, 0xd000);
    cfg_wr(ma, df, 0x14, 4, 0xe4000000);
    cfg_wr(ma, df, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    pci_set_irq(&a->pci, 1);
    a->last_write = 42;
    CU_ASSERT_EQUAL(vms_desc_validate(&td_vmstate, &err), 0);
    CU_ASSERT_EQUAL(vms_check_roundtrip(&td_vmstate, a, b, &err), 0);
    /* b's machine sees the loaded state: BARs mapped, IRQ raised */
    CU_ASSERT_EQUAL(io_read(mb->ctx.io, 0xd000, 4, &v), IO_OK);
    CU_ASSERT_STRING_EQUAL(mem_who(mb->ctx.mem, 0xe4000000), "td-mmio");
    CU_ASSERT_EQUAL(mb->irq_level[(4 + 0) % 4], 1);
    CU_ASSERT_EQUAL(b->last_write, 42);

    /* a stream cannot change read-only identity bits */
    CU_ASSERT_EQUAL(vms_save(&td_vmstate, a, &out), 0);
    /* stream: u32 version, nested u32 version, then config[256] */
    CU_ASSERT_EQUAL(out.data[8], 0x34);
    out.data[8] = 0x99;                         /* vendor id low byte */
    out.data[8 + 0x34] = 0xf0;                  /* capability pointer */
    CU_ASSERT_EQUAL(vms_load(&td_vmstate, b, out.data, out.len, NULL, &err), 0);
    CU_ASSERT_EQUAL(cfg_rd(mb, df, 0, 2), 0x1234);
    CU_ASSERT_EQUAL(cfg_rd(mb, df, PCI_CAPABILITY_LIST, 1), 0x48);
    vms_buf_free(&out);
    machine_free(ma);
    machine_free(mb);
}

static void test_device_opts(void)
{
    struct machine *m = machine_new();
    struct device *dev;
    struct dm_err err = {{0}};

    struct testdev *t = add_dev(m, "testdev,id=nic0");
    CU_ASSERT_EQUAL(t->pci.devfn, PCI_DEVFN(0, 0));             /* first free slot */
    t = add_dev(m, "testdev,addr=03.0,multifunction=on");
    CU_ASSERT_EQUAL(t->pci.devfn, PCI_DEVFN(3, 0));
    CU_ASSERT_EQUAL(cfg_rd(m, PCI_DEVFN(3, 0), PCI_HEADER_TYPE, 1), 0x80);
    t = add_dev(m, "testdev,addr=3.1");
    CU_ASSERT_EQUAL(t->pci.devfn, PCI_DEVFN(3, 1));
    t = add_dev(m, "testdev");
    CU_ASSERT_EQUAL(t->pci.devfn, PCI_DEVFN(1, 0));

    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,addr=3", &dev, &err), -EBUSY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "03.0"));
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,addr=zz", &dev, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'addr'"));
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,addr=20", &dev, &err), -EINVAL);
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,addr=1.8", &dev, &err), -EINVAL);
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,bogus=1", &dev, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'bogus'"));
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,id=nic0", &dev, &err), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nic0"));
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "nosuch", &dev, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nosuch"));
    CU_ASSERT_EQUAL(device_create_from_opts(&m->ctx, "testdev,bus=isa.0", &dev, &err), -ENOENT);
    CU_ASSERT_PTR_NULL(dev);
    /* failed attempts left nothing behind */
    unsigned n = 0;
    for (struct device *d = m->ctx.devices; d; d = d->ctx_next)
        n++;
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_PTR_NOT_NULL(dm_find_device(&m->ctx, "nic0"));

    /* info qtree shows the bus, the devices and their addresses */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dm_print_qtree(&m->ctx, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "bus: pci.0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "dev: testdev, id \"nic0\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "addr = \"03.1\""));
    free(text);
    machine_free(m);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("pci", NULL, NULL);
    CU_add_test(s, "ids_and_masks", test_ids_and_masks);
    CU_add_test(s, "bar_sizing", test_bar_sizing);
    CU_add_test(s, "bar_mapping", test_bar_mapping);
    CU_add_test(s, "intx_routing", test_intx_routing);
    CU_add_test(s, "capabilities_and_msi", test_capabilities_and_msi);
    CU_add_test(s, "reset", test_reset);
    CU_add_test(s, "vmstate", test_vmstate);
    CU_add_test(s, "device_opts", test_device_opts);
    return cunit_run_all();
}
