/* i440FX/PIIX3 through the test executor: configuration mechanism #1, IDs, PAM
 * shadowing of the BIOS, SMRAM, PIRQ routing of a PCI device's INTA, the reset
 * control register, and the BIOS bytes at 0xFFFFFFF0 and 0xFFFF0 compared with
 * Debian's bios-256k.bin read from disk. */
#include "tests/devices/dt.h"

#include <errno.h>
#include <string.h>

#include "devices/ioapic.h"
#include "dm/pci.h"
#include "dm/vmstate.h"

/* ---- a PCI device whose INTA is driven through its I/O BAR (test only) ---------- */

struct intx_dev {
    struct pci_device pci;
    struct mem_region bar;
};

static uint64_t intx_read(void *opaque, uint64_t addr, unsigned size)
{
    struct intx_dev *d = opaque;
    return d->pci.intx_level;
}

static void intx_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct intx_dev *d = opaque;
    pci_set_irq(&d->pci, val & 1);
}

static const struct mem_region_ops intx_ops = {
    .read = intx_read,
    .write = intx_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 4 },
    .impl = { .min = 1, .max = 4 },
};

static const struct pci_device_info intx_info = {
    .vendor_id = 0x1234, .device_id = 0x0001, .class_code = 0xFF0000, .interrupt_pin = 1,
};

static int intx_realize(struct device *dev, struct dm_err *err)
{
    struct intx_dev *d = (struct intx_dev *)dev;
    pci_device_setup(&d->pci, &intx_info);
    mem_region_init_io(&d->bar, "intx-bar", &intx_ops, d, 16);
    pci_register_bar(&d->pci, 0, PCI_BAR_IO, &d->bar);
    return 0;
}

static const struct vms_field intx_fields[] = { VMS_END_OF_LIST };
static const struct vms_desc intx_vmstate = { .name = "testdev-intx", .version = 1,
                                              .min_version = 1, .fields = intx_fields };
static const struct device_type intx_type = {
    .name = "testdev-intx", .desc = "test: INTA driven through BAR0",
    .instance_size = sizeof(struct intx_dev), .bus = DEV_BUS_PCI, .user_creatable = true,
    .realize = intx_realize, .vmstate = &intx_vmstate,
};

/* ---- helpers -------------------------------------------------------------------- */

static uint32_t cfg_addr(int dev, int fn, int reg)
{
    return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (uint32_t)(reg & 0xFC);
}

static uint32_t cfg_readl(struct qtest *q, int dev, int fn, int reg)
{
    qtest_outl(q, 0xCF8, cfg_addr(dev, fn, reg));
    return qtest_inl(q, 0xCFC);
}

static uint8_t cfg_readb(struct qtest *q, int dev, int fn, int reg)
{
    qtest_outl(q, 0xCF8, cfg_addr(dev, fn, reg));
    return qtest_inb(q, (uint16_t)(0xCFC + (reg & 3)));
}

static void cfg_writeb(struct qtest *q, int dev, int fn, int reg, uint8_t v)
{
    qtest_outl(q, 0xCF8, cfg_addr(dev, fn, reg));
    qtest_outb(q, (uint16_t)(0xCFC + (reg & 3)), v);
}

static void cfg_writel(struct qtest *q, int dev, int fn, int reg, uint32_t v)
{
    qtest_outl(q, 0xCF8, cfg_addr(dev, fn, reg));
    qtest_outl(q, 0xCFC, v);
}

static uint8_t *read_bios(size_t *len)
{
    FILE *f = fopen(PC_DEFAULT_BIOS, "rb");
    if (!f)
        return NULL;
    static uint8_t buf[16 << 20];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return buf;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_ids(void)
{
    DT_NEW(q, NULL);
    /* i440FX 8086:1237 host bridge; PIIX3 8086:7000 ISA bridge, multi-function */
    CU_ASSERT_EQUAL(cfg_readl(q, 0, 0, 0x00), 0x12378086);
    CU_ASSERT_EQUAL(cfg_readl(q, 0, 0, 0x08) >> 8, 0x060000);
    CU_ASSERT_EQUAL(cfg_readl(q, 1, 0, 0x00), 0x70008086);
    CU_ASSERT_EQUAL(cfg_readl(q, 1, 0, 0x08) >> 8, 0x060100);
    CU_ASSERT_EQUAL(cfg_readb(q, 1, 0, 0x0E), 0x80);
    CU_ASSERT_EQUAL(cfg_readl(q, 5, 0, 0x00), 0xFFFFFFFF);  /* empty slot */
    /* word and byte reads at 0xCFC-0xCFF */
    qtest_outl(q, 0xCF8, cfg_addr(0, 0, 0));
    CU_ASSERT_EQUAL(qtest_inw(q, 0xCFE), 0x1237);
    CU_ASSERT_EQUAL(qtest_inb(q, 0xCFD), 0x80);
    /* CONFADD reads back; a byte write to 0xCFB (Linux's probe) leaves it */
    CU_ASSERT_EQUAL(qtest_inl(q, 0xCF8), cfg_addr(0, 0, 0));
    qtest_outb(q, 0xCFB, 0x01);
    CU_ASSERT_EQUAL(qtest_inl(q, 0xCF8), cfg_addr(0, 0, 0));
    /* enable bit clear: no configuration cycle */
    qtest_outl(q, 0xCF8, 0x00000000);
    CU_ASSERT_EQUAL(qtest_inl(q, 0xCFC), 0xFFFFFFFF);
    /* PIRQ routing registers power up disabled (0x80) */
    CU_ASSERT_EQUAL(cfg_readl(q, 1, 0, 0x60), 0x80808080);
    qtest_free(q);
}

static void test_bios_bytes(void)
{
    size_t len = 0;
    uint8_t *bios = read_bios(&len);
    CU_ASSERT_FATAL(bios != NULL && len == 256 * 1024);
    DT_NEW(q, NULL);
    uint8_t top[16], low[16];
    qtest_memread(q, 0xFFFFFFF0, top, 16);
    qtest_memread(q, 0xFFFF0, low, 16);
    CU_ASSERT_EQUAL(memcmp(top, bios + len - 16, 16), 0);
    CU_ASSERT_EQUAL(memcmp(low, bios + len - 16, 16), 0);
    /* the whole 128 KiB ISA window and the whole top mapping */
    static uint8_t win[256 * 1024];
    qtest_memread(q, 0xE0000, win, 128 * 1024);
    CU_ASSERT_EQUAL(memcmp(win, bios + len - 128 * 1024, 128 * 1024), 0);
    qtest_memread(q, 0x100000000ull - len, win, len);
    CU_ASSERT_EQUAL(memcmp(win, bios, len), 0);
    /* the ROM is read-only */
    qtest_writel(q, 0xFFFFFFF0, 0xDEADBEEF);
    qtest_writel(q, 0xFFFF0, 0xDEADBEEF);
    qtest_memread(q, 0xFFFFFFF0, top, 16);
    qtest_memread(q, 0xFFFF0, low, 16);
    CU_ASSERT_EQUAL(memcmp(top, bios + len - 16, 16), 0);
    CU_ASSERT_EQUAL(memcmp(low, bios + len - 16, 16), 0);
    qtest_free(q);
}

static void test_pam(void)
{
    size_t len = 0;
    uint8_t *bios = read_bios(&len);
    CU_ASSERT_FATAL(bios != NULL);
    uint32_t rom_f0000 = bios[len - 0x10000] | bios[len - 0x10000 + 1] << 8 |
                         bios[len - 0x10000 + 2] << 16 | (uint32_t)bios[len - 0x10000 + 3] << 24;
    DT_NEW(q, NULL);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), rom_f0000);
    /* PAM0 = 0x30: 0xF0000-0xFFFFF is RAM, read/write (initially zero) */
    cfg_writeb(q, 0, 0, 0x59, 0x30);
    CU_ASSERT_EQUAL(cfg_readb(q, 0, 0, 0x59), 0x30);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), 0);
    qtest_writel(q, 0xF0000, 0x11223344);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), 0x11223344);
    /* 0x10: read RAM, writes dropped */
    cfg_writeb(q, 0, 0, 0x59, 0x10);
    qtest_writel(q, 0xF0000, 0x55667788);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), 0x11223344);
    /* 0x20: reads from the ROM, writes into RAM */
    cfg_writeb(q, 0, 0, 0x59, 0x20);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), rom_f0000);
    qtest_writel(q, 0xF0000, 0x99AABBCC);
    cfg_writeb(q, 0, 0, 0x59, 0x30);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), 0x99AABBCC);
    /* back to PCI: the ROM */
    cfg_writeb(q, 0, 0, 0x59, 0x00);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), rom_f0000);
    /* the low nibble of PAM0 is reserved */
    cfg_writeb(q, 0, 0, 0x59, 0xFF);
    CU_ASSERT_EQUAL(cfg_readb(q, 0, 0, 0x59), 0x30);
    /* a 16 KiB segment: PAM1 low nibble is 0xC0000-0xC3FFF, high is 0xC4000 */
    cfg_writeb(q, 0, 0, 0x5A, 0x03);
    qtest_writel(q, 0xC0000, 0xCAFEF00D);
    qtest_writel(q, 0xC4000, 0x12345678);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xC0000), 0xCAFEF00D);
    CU_ASSERT_NOT_EQUAL(qtest_readl(q, 0xC4000), 0x12345678);
    /* system reset closes the shadow again */
    qtest_system_reset(q);
    CU_ASSERT_EQUAL(cfg_readb(q, 0, 0, 0x59), 0x00);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xF0000), rom_f0000);
    qtest_free(q);
}

static void test_smram(void)
{
    DT_NEW(q, NULL);
    CU_ASSERT_EQUAL(cfg_readb(q, 0, 0, 0x72), 0x02);
    /* closed: the VGA window is PCI (nothing there) */
    qtest_writel(q, 0xA0000, 0x01020304);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xA0000), 0xFFFFFFFF);
    cfg_writeb(q, 0, 0, 0x72, 0x4A);        /* G_SMRAME | D_OPEN */
    qtest_writel(q, 0xA0000, 0x01020304);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xA0000), 0x01020304);
    cfg_writeb(q, 0, 0, 0x72, 0x1A);        /* lock: closes and freezes */
    CU_ASSERT_EQUAL(qtest_readl(q, 0xA0000), 0xFFFFFFFF);
    cfg_writeb(q, 0, 0, 0x72, 0x4A);
    CU_ASSERT_EQUAL(cfg_readb(q, 0, 0, 0x72), 0x1A);
    CU_ASSERT_EQUAL(qtest_readl(q, 0xA0000), 0xFFFFFFFF);
    qtest_free(q);
}

static void test_pirq_routing(void)
{
    struct qtest_opts o = { .devices = { "testdev-intx,addr=3" }, .extra_types = { &intx_type } };
    DT_NEW(q, &o);
    CU_ASSERT_EQUAL(cfg_readl(q, 3, 0, 0x00), 0x00011234);
    CU_ASSERT_EQUAL(cfg_readb(q, 3, 0, 0x3D), 1);
    cfg_writel(q, 3, 0, 0x10, 0xC000);      /* BAR0 at 0xC000 */
    cfg_writel(q, 3, 0, 0x04, 0x0001);      /* I/O decoding on */
    /* slot 3, INTA -> PIRQ (0 + 3 - 1) mod 4 = C (register 0x62) */
    cfg_writeb(q, 1, 0, 0x62, 0x0A);        /* PIRQC -> IRQ10 */
    qtest_outb(q, 0xC000, 1);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 10), 1);
    qtest_outb(q, 0xC000, 0);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 10), 0);
    qtest_outb(q, 0xC000, 1);
    cfg_writeb(q, 1, 0, 0x62, 0x0B);        /* re-route while asserted */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 10), 0);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 11), 1);
    cfg_writeb(q, 1, 0, 0x62, 0x8B);        /* routing disabled */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 11), 0);
    cfg_writeb(q, 1, 0, 0x62, 0x02);        /* IRQ2 is not a valid target */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 2), 0);
    /* other PIRQs do not carry it */
    cfg_writeb(q, 1, 0, 0x60, 0x05);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 5), 0);
    /* PIRQC is also I/O APIC pin 18 (16 + C), level triggered */
    qtest_outb(q, 0xC000, 0);
    qtest_writel(q, 0xFEC00000, 0x10 + 2 * 18);
    qtest_writel(q, 0xFEC00010, 0x8052);
    unsigned long n = qtest_ioapic_count(q);
    qtest_outb(q, 0xC000, 1);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), n + 1);
    struct ioapic_msg m;
    CU_ASSERT(qtest_ioapic_last(q, &m));
    CU_ASSERT_EQUAL(m.pin, 18);
    CU_ASSERT_EQUAL(m.vector, 0x52);
    qtest_free(q);
}

static void test_reset_control(void)
{
    DT_NEW(q, NULL);
    cfg_writeb(q, 0, 0, 0x59, 0x30);
    qtest_outb(q, 0xCF9, 0x02);             /* SRST alone: nothing yet */
    CU_ASSERT_EQUAL(qtest_resets_done(q), 0);
    CU_ASSERT_EQUAL(qtest_inb(q, 0xCF9), 0x02);
    qtest_outb(q, 0xCF9, 0x06);             /* RCPU 0->1: reset */
    CU_ASSERT_EQUAL(qtest_resets_done(q), 1);
    CU_ASSERT_EQUAL(qtest_inb(q, 0xCF9), 0x00);
    CU_ASSERT_EQUAL(cfg_readb(q, 0, 0, 0x59), 0x00);   /* the reset reached the chipset */
    qtest_free(q);

    struct qtest_opts o = { .no_reboot = true };
    struct qtest *q2 = qtest_create(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q2);
    qtest_outb(q2, 0xCF9, 0x06);
    CU_ASSERT_EQUAL(qtest_resets_done(q2), 0);
    CU_ASSERT_EQUAL(qtest_shutdowns(q2), 1);
    qtest_free(q2);
}

DT_MAIN("pci",
    { "ids", test_ids },
    { "bios_bytes", test_bios_bytes },
    { "pam", test_pam },
    { "smram", test_smram },
    { "pirq_routing", test_pirq_routing },
    { "reset_control", test_reset_control })
