/* Unit tests of device types, properties, buses, IRQ lines and DMA. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/chardev.h"
#include "dm/device.h"
#include "dm/dma.h"
#include "dm/irq.h"
#include "dm/memory.h"
#include "dm/snapshot.h"
#include "dm/vmstate.h"
#include "tests/lib/cunit-run.h"

/* ---- a small ISA-style device: a latch register and an IRQ --------------------- */

struct latch {
    struct device dev;
    /* properties */
    uint16_t iobase;
    uint8_t irq_num;
    bool enabled;
    int32_t offset;
    uint64_t big;
    char *label;
    struct chardev *chr;
    uint8_t mac[6];
    uint64_t vram;
    /* state */
    struct mem_region io;
    struct irq_line *irq;
    uint8_t value;
    unsigned resets, unrealized;
    struct chardev_fe fe;
};

static uint64_t latch_read(void *opaque, uint64_t addr, unsigned size)
{
    return ((struct latch *)opaque)->value;
}

static void latch_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    struct latch *l = opaque;
    l->value = (uint8_t)v;
    irq_set(l->irq, l->value & 1);
    if (l->fe.chr)
        chardev_fe_write(&l->fe, &l->value, 1);
}

static const struct mem_region_ops latch_ops = {
    .read = latch_read, .write = latch_write, .valid = { 1, 1 }, .impl = { 1, 1 },
};

static int latch_realize(struct device *dev, struct dm_err *err)
{
    struct latch *l = (struct latch *)dev;

    if (l->iobase & 7) {
        dm_err_set(err, "latch: iobase 0x%x is not 8-byte aligned", l->iobase);
        return -EINVAL;
    }
    l->irq = dev_bus_irq(dev->bus, l->irq_num);
    mem_region_init_io(&l->io, "latch", &latch_ops, l, 8);
    mem_region_add_subregion(dev->bus->io_root, l->iobase, &l->io, 0);
    if (l->chr && chardev_fe_attach(&l->fe, l->chr, NULL, NULL, NULL, l) < 0) {
        mem_region_del_subregion(dev->bus->io_root, &l->io);
        dm_err_set(err, "latch: chardev '%s' is busy", chardev_id(l->chr));
        return -EBUSY;
    }
    return 0;
}

static void latch_reset(struct device *dev)
{
    struct latch *l = (struct latch *)dev;
    l->value = 0;
    l->resets++;
    irq_lower(l->irq);
}

static void latch_unrealize(struct device *dev)
{
    struct latch *l = (struct latch *)dev;
    chardev_fe_detach(&l->fe);
    mem_region_del_subregion(dev->bus->io_root, &l->io);
}

static const struct dev_prop latch_props[] = {
    DEV_PROP_U16("iobase", struct latch, iobase, 0x300, 0, 0xfff8, "I/O base"),
    DEV_PROP_U8("irq", struct latch, irq_num, 5, 0, 15, "ISA IRQ"),
    DEV_PROP_BOOL("enabled", struct latch, enabled, true, NULL),
    DEV_PROP_I32("offset", struct latch, offset, -3, -10, 10, NULL),
    DEV_PROP_U64("big", struct latch, big, 0, 0, 0, NULL),
    DEV_PROP_STRING("label", struct latch, label, "none", NULL),
    DEV_PROP_CHARDEV("chardev", struct latch, chr, NULL),
    DEV_PROP_MACADDR("mac", struct latch, mac, "52:54:00:12:34:56", NULL),
    DEV_PROP_SIZE("vram", struct latch, vram, 16 << 20, 1 << 20, 256 << 20, NULL),
    DEV_PROP_END,
};

static const struct vms_field latch_fields[] = { VMS_UINT8(struct latch, value), VMS_END_OF_LIST };
static const struct vms_desc latch_vms = { .name = "latch", .version = 1, .fields = latch_fields };

static const struct device_type latch_type = {
    .name = "latch", .desc = "test latch", .instance_size = sizeof(struct latch),
    .bus = DEV_BUS_ISA, .user_creatable = true, .props = latch_props,
    .realize = latch_realize, .reset = latch_reset, .unrealize = latch_unrealize,
    .vmstate = &latch_vms,
};

static const struct device_type internal_type = {
    .name = "internal", .instance_size = sizeof(struct device), .bus = DEV_BUS_SYSTEM,
    .vmstate = &latch_vms,
};

/* ---- a machine with an ISA bus ----------------------------------------------- */

struct isa_machine {
    struct dm_ctx ctx;
    struct dev_bus sysbus, isa;
    struct mem_region io_root;
    struct irq_line pic[16];
    struct irq_line *isa_irqs[16];
    int levels[16];
    unsigned calls;
    struct dev_registry *reg;
};

static void pic_set(void *opaque, int n, int level)
{
    struct isa_machine *m = opaque;
    m->levels[n] = level;
    m->calls++;
}

static struct isa_machine *isa_machine_new(void)
{
    struct isa_machine *m = calloc(1, sizeof(*m));

    m->reg = dev_registry_new();
    CU_ASSERT_EQUAL(dev_registry_add(m->reg, &latch_type), 0);
    CU_ASSERT_EQUAL(dev_registry_add(m->reg, &internal_type), 0);
    CU_ASSERT_EQUAL(dev_registry_add(m->reg, &latch_type), -EEXIST);
    m->ctx.types = m->reg;
    m->ctx.chardevs = chardev_set_new(NULL);
    mem_region_init_container(&m->io_root, "io", 0x10000);
    m->ctx.io = address_space_new("io", &m->io_root);
    irq_init_array(m->pic, 16, pic_set, m);
    for (int i = 0; i < 16; i++)
        m->isa_irqs[i] = &m->pic[i];
    dev_bus_init(&m->sysbus, &m->ctx, "main-system-bus", DEV_BUS_SYSTEM, NULL);
    dev_bus_init(&m->isa, &m->ctx, "isa.0", DEV_BUS_ISA, NULL);
    m->isa.io = m->ctx.io;
    m->isa.io_root = &m->io_root;
    m->isa.irqs = m->isa_irqs;
    m->isa.n_irqs = 16;
    return m;
}

static void isa_machine_free(struct isa_machine *m)
{
    dm_free_all_devices(&m->ctx);
    chardev_set_free(m->ctx.chardevs);
    address_space_free(m->ctx.io);
    dev_registry_free(m->reg);
    free(m);
}

static struct latch *create(struct isa_machine *m, const char *opts, int expect, const char *msg)
{
    struct device *dev = NULL;
    struct dm_err err = {{0}};
    int ret = device_create_from_opts(&m->ctx, opts, &dev, &err);

    CU_ASSERT_EQUAL(ret, expect);
    if (ret != expect)
        printf("'%s': got %d (%s)\n", opts, ret, err.msg);
    if (msg && !strstr(err.msg, msg)) {
        printf("'%s': message '%s' lacks '%s'\n", opts, err.msg, msg);
        CU_FAIL("error message");
    }
    return (struct latch *)dev;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_defaults_and_props(void)
{
    struct isa_machine *m = isa_machine_new();
    struct latch *l = create(m, "latch", 0, NULL);
    char buf[64];

    CU_ASSERT_EQUAL(l->iobase, 0x300);
    CU_ASSERT_EQUAL(l->irq_num, 5);
    CU_ASSERT(l->enabled);
    CU_ASSERT_EQUAL(l->offset, -3);
    CU_ASSERT_STRING_EQUAL(l->label, "none");
    CU_ASSERT_PTR_NULL(l->chr);
    CU_ASSERT(l->dev.realized);
    CU_ASSERT_EQUAL(l->resets, 1);              /* realize resets */
    CU_ASSERT_EQUAL(device_get_prop(&l->dev, "iobase", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "768");
    CU_ASSERT_EQUAL(device_get_prop(&l->dev, "nope", buf, sizeof(buf)), -ENOENT);

    l = create(m, "latch,iobase=0x2f8,irq=3,enabled=off,offset=-10,big=18446744073709551615,"
                  "label=a,,b,id=l2", 0, NULL);
    CU_ASSERT_EQUAL(l->iobase, 0x2f8);
    CU_ASSERT_EQUAL(l->irq_num, 3);
    CU_ASSERT_FALSE(l->enabled);
    CU_ASSERT_EQUAL(l->offset, -10);
    CU_ASSERT_EQUAL(l->big, UINT64_MAX);
    CU_ASSERT_STRING_EQUAL(l->label, "a,b");
    CU_ASSERT_STRING_EQUAL(l->dev.id, "l2");
    /* properties are fixed once realized */
    struct dm_err err;
    CU_ASSERT_EQUAL(device_set_prop(&l->dev, "irq", "4", &err), -EBUSY);
    isa_machine_free(m);
}

static void test_mac_and_size(void)
{
    struct isa_machine *m = isa_machine_new();
    char buf[32];

    struct latch *l = create(m, "latch", 0, NULL);
    CU_ASSERT_EQUAL(memcmp(l->mac, "\x52\x54\x00\x12\x34\x56", 6), 0);
    CU_ASSERT_EQUAL(l->vram, 16 << 20);
    l = create(m, "latch,iobase=0x308,mac=02:AB:cd:ef:00:ff,vram=64M", 0, NULL);
    CU_ASSERT_EQUAL(memcmp(l->mac, "\x02\xab\xcd\xef\x00\xff", 6), 0);
    CU_ASSERT_EQUAL(l->vram, 64 << 20);
    CU_ASSERT_EQUAL(device_get_prop(&l->dev, "mac", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "02:ab:cd:ef:00:ff");
    create(m, "latch,mac=52:54:00:12:34", -EINVAL, "not a MAC address");
    create(m, "latch,mac=52:54:00:12:34:567", -EINVAL, "'mac'");
    create(m, "latch,mac=52-54-00-12-34-56", -EINVAL, "'mac'");
    create(m, "latch,mac=5:54:00:12:34:56", -EINVAL, "'mac'");
    create(m, "latch,vram=512M", -ERANGE, "'vram'");
    create(m, "latch,vram=16Q", -EINVAL, "not a size");
    isa_machine_free(m);
}

static void test_prop_errors(void)
{
    struct isa_machine *m = isa_machine_new();

    create(m, "latch,iobase=0x10000", -ERANGE, "'iobase'");
    create(m, "latch,iobase=0xfff9", -ERANGE, "out of range");
    create(m, "latch,irq=16", -ERANGE, "'irq'");
    create(m, "latch,irq=-1", -EINVAL, "not a number");
    create(m, "latch,irq=", -EINVAL, "'irq'");
    create(m, "latch,irq=3x", -EINVAL, "'irq'");
    create(m, "latch,irq", -EINVAL, "needs a value");
    create(m, "latch,enabled=maybe", -EINVAL, "'enabled'");
    create(m, "latch,offset=11", -ERANGE, "'offset'");
    create(m, "latch,offset=-11", -ERANGE, "'offset'");
    create(m, "latch,offset=abc", -EINVAL, "'offset'");
    create(m, "latch,colour=red", -ENOENT, "no property 'colour'");
    create(m, "latch,chardev=nothere", -ENOENT, "'nothere'");
    create(m, "latch,iobase=0x301", -EINVAL, "not 8-byte aligned");    /* realize error */
    create(m, "internal", -EPERM, "cannot be created");
    create(m, "unknown", -ENOENT, "unknown device type");
    create(m, "", -EINVAL, NULL);
    create(m, "latch,bus=pci.0", -ENOENT, "no bus named 'pci.0'");
    create(m, "latch,bus=main-system-bus", -EINVAL, "ISA");
    /* nothing left behind, and the port is free for a good device */
    CU_ASSERT_PTR_NULL(m->ctx.devices);
    CU_ASSERT_PTR_NULL(address_space_lookup(m->ctx.io, 0x300));
    create(m, "latch,enabled", 0, NULL);        /* bare bool = on */
    isa_machine_free(m);
}

static void test_io_irq_reset(void)
{
    struct isa_machine *m = isa_machine_new();
    struct latch *a = create(m, "latch,iobase=0x300,irq=5,id=a", 0, NULL);
    struct latch *b = create(m, "latch,iobase=0x310,irq=7,id=b", 0, NULL);
    uint64_t v;

    /* two instances of one type, each with its own state */
    io_write(m->ctx.io, 0x300, 1, 0x41);
    io_write(m->ctx.io, 0x310, 1, 0x42);
    io_read(m->ctx.io, 0x300, 1, &v);
    CU_ASSERT_EQUAL(v, 0x41);
    io_read(m->ctx.io, 0x310, 1, &v);
    CU_ASSERT_EQUAL(v, 0x42);
    CU_ASSERT_EQUAL(m->levels[5], 1);
    CU_ASSERT_EQUAL(m->levels[7], 0);
    CU_ASSERT_EQUAL(irq_get_level(&m->pic[5]), 1);
    dm_reset_all(&m->ctx);
    CU_ASSERT_EQUAL(a->value, 0);
    CU_ASSERT_EQUAL(b->value, 0);
    CU_ASSERT_EQUAL(a->resets, 2);
    CU_ASSERT_EQUAL(m->levels[5], 0);
    CU_ASSERT_PTR_EQUAL(dm_find_device(&m->ctx, "b"), &b->dev);
    /* freeing one device removes its port, the other stays */
    device_free(&a->dev);
    CU_ASSERT_EQUAL(io_read(m->ctx.io, 0x300, 1, &v), IO_UNASSIGNED);
    CU_ASSERT_EQUAL(io_read(m->ctx.io, 0x310, 1, &v), IO_OK);
    CU_ASSERT_PTR_NULL(dm_find_device(&m->ctx, "a"));
    isa_machine_free(m);
}

static void test_chardev_prop_and_qtree(void)
{
    struct isa_machine *m = isa_machine_new();
    struct chardev *c;
    struct dm_err err;
    char out[16];

    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(m->ctx.chardevs, "ringbuf,id=con", &c, &err), 0);
    struct latch *l = create(m, "latch,chardev=con,id=withchr", 0, NULL);
    CU_ASSERT_PTR_EQUAL(l->chr, c);
    io_write(m->ctx.io, 0x300, 1, 'Z');
    CU_ASSERT_EQUAL(chardev_ringbuf_read(c, out, sizeof(out)), 1);
    CU_ASSERT_EQUAL(out[0], 'Z');
    /* the same chardev cannot feed two front ends */
    create(m, "latch,iobase=0x320,chardev=con", -EBUSY, "busy");

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dm_print_qtree(&m->ctx, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "bus: isa.0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "type ISA"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "dev: latch, id \"withchr\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "chardev = \"con\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "iobase = \"768\""));
    free(text);

    text = NULL;
    f = open_memstream(&text, &len);
    dev_registry_print(m->reg, f);
    device_type_print_props(&latch_type, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "name \"latch\""));
    CU_ASSERT_PTR_NULL(strstr(text, "name \"internal\""));    /* not user-creatable */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "iobase=<uint16>"));
    free(text);
    isa_machine_free(m);
}

static void test_no_bus(void)
{
    struct dm_ctx ctx = {0};
    struct dev_registry *reg = dev_registry_new();
    struct device *dev;
    struct dm_err err;

    dev_registry_add(reg, &latch_type);
    ctx.types = reg;
    CU_ASSERT_EQUAL(device_create_from_opts(&ctx, "latch", &dev, &err), -ENODEV);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ISA bus"));
    dev_registry_free(reg);
}

/* ---- IRQ lines ---------------------------------------------------------------- */

static int edges[4];
static void edge_handler(void *opaque, int n, int level)
{
    if (level)
        edges[n]++;
}

static void test_irq(void)
{
    struct irq_line in[4];
    struct irq_fanout f;

    memset(edges, 0, sizeof(edges));
    irq_init_array(in, 4, edge_handler, NULL);
    irq_pulse(&in[2]);
    CU_ASSERT_EQUAL(edges[2], 1);
    CU_ASSERT_EQUAL(irq_get_level(&in[2]), 0);
    irq_set(&in[1], 42);                    /* any non-zero is 1 */
    CU_ASSERT_EQUAL(irq_get_level(&in[1]), 1);
    irq_raise(NULL);                        /* unwired output: ignored */
    CU_ASSERT_EQUAL(irq_get_level(NULL), 0);

    irq_fanout_init(&f);
    CU_ASSERT_EQUAL(irq_fanout_add(&f, &in[0]), 0);
    CU_ASSERT_EQUAL(irq_fanout_add(&f, &in[3]), 0);
    irq_raise(&f.in);
    CU_ASSERT_EQUAL(edges[0], 1);
    CU_ASSERT_EQUAL(edges[3], 1);
    CU_ASSERT_EQUAL(irq_get_level(&in[3]), 1);
    irq_lower(&f.in);
    CU_ASSERT_EQUAL(irq_get_level(&in[0]), 0);
    CU_ASSERT_EQUAL(irq_fanout_add(&f, &in[1]), 0);
    CU_ASSERT_EQUAL(irq_fanout_add(&f, &in[2]), 0);
    CU_ASSERT_EQUAL(irq_fanout_add(&f, &in[2]), -ENOSPC);
}

/* ---- DMA ---------------------------------------------------------------------- */

static uint8_t mmio_regs[16];
static uint64_t dreg_read(void *o, uint64_t a, unsigned s)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < s; i++)
        v |= (uint64_t)mmio_regs[(a + i) & 15] << (8 * i);
    return v;
}
static void dreg_write(void *o, uint64_t a, uint64_t v, unsigned s)
{
    for (unsigned i = 0; i < s; i++)
        mmio_regs[(a + i) & 15] = (uint8_t)(v >> (8 * i));
}
static const struct mem_region_ops dreg_ops = {
    .read = dreg_read, .write = dreg_write, .valid = { 1, 8 }, .impl = { 1, 8 },
};

static void test_dma(void)
{
    struct mem_region root, ram, rom, regs;
    struct ram_block *rb, *romb;
    uint8_t buf[64];
    uint32_t v32;

    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "ram", 0x2000, &rb, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "rom", 0x1000, &romb, NULL), 0);
    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("mem", &root);
    mem_region_init_ram(&ram, "ram", rb, 0, 0x2000);
    mem_region_init_rom(&rom, "rom", romb, 0, 0x1000);
    mem_region_init_io(&regs, "regs", &dreg_ops, NULL, 16);
    mem_region_add_subregion(&root, 0, &ram, 0);
    mem_region_add_subregion(&root, 0x2000, &regs, 0);
    mem_region_add_subregion(&root, 0x3000, &rom, 0);

    /* RAM round trip, across the end of RAM into MMIO */
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(i + 1);
    CU_ASSERT_EQUAL(dma_write(as, 0x1ff0, buf, 32), 0);
    CU_ASSERT_EQUAL(rb->host[0x1ff0], 1);
    CU_ASSERT_EQUAL(rb->host[0x1fff], 16);
    CU_ASSERT_EQUAL(mmio_regs[0], 17);
    CU_ASSERT_EQUAL(mmio_regs[15], 32);
    memset(buf, 0, sizeof(buf));
    CU_ASSERT_EQUAL(dma_read(as, 0x1ff0, buf, 32), 0);
    for (int i = 0; i < 32; i++)
        CU_ASSERT_EQUAL(buf[i], i + 1);
    /* unassigned: reads 0xff, reports a fault */
    CU_ASSERT_EQUAL(dma_read(as, 0x2010, buf, 8), -EFAULT);
    CU_ASSERT_EQUAL(buf[0], 0xff);
    CU_ASSERT_EQUAL(buf[7], 0xff);
    /* ROM: device writes are dropped, reads work */
    romb->host[0] = 0x55;
    CU_ASSERT_EQUAL(dma_write(as, 0x3000, "\x01\x02", 2), 0);
    CU_ASSERT_EQUAL(romb->host[0], 0x55);
    /* wrap at the top of the space */
    CU_ASSERT_EQUAL(dma_read(as, UINT64_MAX - 3, buf, 8), -EFAULT);
    /* little-endian helpers and fill */
    CU_ASSERT_EQUAL(dma_write_u32(as, 0x100, 0x11223344), 0);
    CU_ASSERT_EQUAL(rb->host[0x100], 0x44);
    CU_ASSERT_EQUAL(dma_read_u32(as, 0x100, &v32), 0);
    CU_ASSERT_EQUAL(v32, 0x11223344);
    CU_ASSERT_EQUAL(dma_set(as, 0x200, 0xab, 1000), 0);
    CU_ASSERT_EQUAL(rb->host[0x200], 0xab);
    CU_ASSERT_EQUAL(rb->host[0x200 + 999], 0xab);
    CU_ASSERT_EQUAL(rb->host[0x200 + 1000], 0);
    /* map: RAM gives a pointer clipped to the RAM, MMIO gives NULL */
    uint64_t len = 0x100;
    void *p = dma_map(as, 0x1f80, &len, true);
    CU_ASSERT_PTR_EQUAL(p, rb->host + 0x1f80);
    CU_ASSERT_EQUAL(len, 0x80);
    dma_unmap(as, p, len, true, len);
    len = 4;
    CU_ASSERT_PTR_NULL(dma_map(as, 0x2000, &len, false));
    CU_ASSERT_EQUAL(len, 0);
    len = 4;
    CU_ASSERT_PTR_NULL(dma_map(as, 0x3000, &len, true));

    address_space_free(as);
    ram_block_free(rb);
    ram_block_free(romb);
}

/* A bridge device that provides an ISA bus: freeing it frees what is on it. */
struct bridge {
    struct device dev;
    struct dev_bus isa;
    struct mem_region io;
};

static int bridge_realize(struct device *dev, struct dm_err *err)
{
    struct bridge *b = (struct bridge *)dev;
    dev_bus_init(&b->isa, dev->ctx, "isa.1", DEV_BUS_ISA, dev);
    mem_region_init_container(&b->io, "bridge-io", 0x10000);
    b->isa.io_root = &b->io;
    return 0;
}

static const struct device_type bridge_type = {
    .name = "bridge", .instance_size = sizeof(struct bridge), .bus = DEV_BUS_SYSTEM,
    .realize = bridge_realize, .vmstate = &latch_vms,
};

static void test_bus_owner_freed(void)
{
    struct isa_machine *m = isa_machine_new();
    struct device *br, *child;
    struct dm_err err;

    CU_ASSERT_EQUAL_FATAL(device_new(&m->ctx, &bridge_type, NULL, "br", &br, &err), 0);
    CU_ASSERT_EQUAL_FATAL(device_realize(br, &err), 0);
    create(m, "latch,bus=isa.1,id=onbridge", 0, NULL);
    child = dm_find_device(&m->ctx, "onbridge");
    CU_ASSERT_PTR_NOT_NULL_FATAL(child);
    CU_ASSERT_PTR_EQUAL(child->bus, dm_find_bus(&m->ctx, "isa.1", DEV_BUS_NONE));
    device_free(br);
    CU_ASSERT_PTR_NULL(dm_find_device(&m->ctx, "onbridge"));
    CU_ASSERT_PTR_NULL(dm_find_bus(&m->ctx, "isa.1", DEV_BUS_NONE));
    CU_ASSERT_PTR_NOT_NULL(dm_find_bus(&m->ctx, "isa.0", DEV_BUS_NONE));
    isa_machine_free(m);
}

static void test_machine_state(void)
{
    struct isa_machine *m1 = isa_machine_new(), *m2 = isa_machine_new();
    struct vms_buf out = {0};
    struct dm_err err = {{0}};

    create(m1, "latch,iobase=0x300,id=first", 0, NULL);
    create(m1, "latch,iobase=0x310", 0, NULL);
    create(m1, "latch,iobase=0x320", 0, NULL);
    struct latch *x = create(m2, "latch,iobase=0x300,id=first", 0, NULL);
    struct latch *y = create(m2, "latch,iobase=0x310", 0, NULL);
    struct latch *z = create(m2, "latch,iobase=0x320", 0, NULL);
    io_write(m1->ctx.io, 0x300, 1, 0x11);
    io_write(m1->ctx.io, 0x310, 1, 0x22);
    io_write(m1->ctx.io, 0x320, 1, 0x33);
    CU_ASSERT_EQUAL_FATAL(dm_state_save(&m1->ctx, &out, &err), 0);
    CU_ASSERT_EQUAL(memcmp(out.data, "VIREODM1", 8), 0);
    CU_ASSERT_EQUAL(dm_state_load(&m2->ctx, out.data, out.len, &err), 0);
    CU_ASSERT_EQUAL(x->value, 0x11);
    CU_ASSERT_EQUAL(y->value, 0x22);        /* "latch#0": unnamed devices in order */
    CU_ASSERT_EQUAL(z->value, 0x33);

    /* every truncation is refused */
    for (size_t len = 0; len < out.len; len++)
        CU_ASSERT(dm_state_load(&m2->ctx, out.data, len, &err) < 0);
    /* trailing garbage and a wrong magic are refused */
    struct vms_buf longer = {0};
    vms_buf_append(&longer, out.data, out.len);
    vms_buf_append(&longer, "x", 1);
    CU_ASSERT_EQUAL(dm_state_load(&m2->ctx, longer.data, longer.len, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "trailing"));
    vms_buf_free(&longer);
    out.data[0] = 'X';
    CU_ASSERT_EQUAL(dm_state_load(&m2->ctx, out.data, out.len, &err), -EINVAL);
    out.data[0] = 'V';
    /* a machine with another set of devices is refused, naming the device */
    device_free(&x->dev);
    create(m2, "latch,iobase=0x330,id=other", 0, NULL);
    CU_ASSERT_EQUAL(dm_state_load(&m2->ctx, out.data, out.len, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'first'"));
    create(m2, "latch,iobase=0x340", 0, NULL);
    CU_ASSERT_EQUAL(dm_state_load(&m2->ctx, out.data, out.len, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "this machine has 4"));
    vms_buf_free(&out);
    isa_machine_free(m1);
    isa_machine_free(m2);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("device", NULL, NULL);
    CU_add_test(s, "defaults_and_props", test_defaults_and_props);
    CU_add_test(s, "prop_errors", test_prop_errors);
    CU_add_test(s, "mac_and_size", test_mac_and_size);
    CU_add_test(s, "io_irq_reset", test_io_irq_reset);
    CU_add_test(s, "chardev_prop_and_qtree", test_chardev_prop_and_qtree);
    CU_add_test(s, "no_bus", test_no_bus);
    CU_add_test(s, "machine_state", test_machine_state);
    CU_add_test(s, "bus_owner_freed", test_bus_owner_freed);
    CU_pSuite i = CU_add_suite("irq", NULL, NULL);
    CU_add_test(i, "lines_and_fanout", test_irq);
    CU_pSuite d = CU_add_suite("dma", NULL, NULL);
    CU_add_test(d, "copies_and_map", test_dma);
    return cunit_run_all();
}
