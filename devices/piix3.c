/* Intel 82371SB (PIIX3) PCI ISA IDE Xcelerator, function 0: the PCI-to-ISA
 * bridge.
 *
 * Reference: Intel PIIX3 datasheet (order 290550): 2.2 configuration registers
 * (PIRQRC[A:D] at 0x60-0x63: bit 7 disables routing, bits 3:0 the ISA IRQ, of
 * which 3-7, 9-12, 14 and 15 are valid; default 0x80), 2.3.x reset control
 * register at I/O 0xCF9 (bit 1 SRST system reset, bit 2 RCPU: a 0->1 transition
 * starts the reset).
 *
 * PCI interrupts are level-triggered and shared: several PIRQs may route to one
 * ISA IRQ, so each IRQ's line is the OR of the PIRQs routed to it. */
#include "devices/piix3.h"

#include <errno.h>
#include <string.h>

#include "dm/vmstate.h"

#define PIIX3_PIRQRC        0x60
#define PIRQ_DISABLE        0x80
#define PIRQ_IRQ_MASK       0x0F
#define RCR_SRST            0x02
#define RCR_RCPU            0x04
#define RCR_MASK            (RCR_SRST | RCR_RCPU)
/* ISA IRQs a PIRQ may use (datasheet PIRQRC bits 3:0) */
#define PIRQ_VALID_IRQS     0xDEF8      /* 3-7, 9-12, 14, 15 */

int piix3_pirq_route(const struct piix3_state *s, int pirq)
{
    if (pirq < 0 || pirq >= PIIX3_NUM_PIRQ)
        return -1;
    uint8_t r = s->pci.config[PIIX3_PIRQRC + pirq];
    int irq = r & PIRQ_IRQ_MASK;
    if ((r & PIRQ_DISABLE) || !(PIRQ_VALID_IRQS & (1u << irq)))
        return -1;
    return irq;
}

/* Recompute every ISA IRQ's PCI level and drive the lines that changed. */
static void piix3_update(struct piix3_state *s)
{
    uint8_t level[16] = { 0 };
    for (int p = 0; p < PIIX3_NUM_PIRQ; p++) {
        int irq = piix3_pirq_route(s, p);
        if (irq >= 0 && s->pirq_level[p])
            level[irq] = 1;
    }
    for (int i = 0; i < 16; i++) {
        if (level[i] != s->irq_driven[i]) {
            s->irq_driven[i] = level[i];
            irq_set(s->pirq_out[i], level[i]);
        }
    }
}

void piix3_set_pirq(struct piix3_state *s, int pirq, int level)
{
    if (pirq < 0 || pirq >= PIIX3_NUM_PIRQ)
        return;
    s->pirq_level[pirq] = level != 0;
    piix3_update(s);
}

static void piix3_config_write(struct pci_device *d, uint32_t offset, unsigned size, uint32_t value)
{
    if (offset < PIIX3_PIRQRC + PIIX3_NUM_PIRQ && offset + size > PIIX3_PIRQRC)
        piix3_update((struct piix3_state *)d);
}

uint8_t piix3_rcr_read(void *opaque)
{
    struct piix3_state *s = opaque;
    return s->rcr;
}

void piix3_rcr_write(void *opaque, uint8_t v)
{
    struct piix3_state *s = opaque;
    uint8_t old = s->rcr;
    s->rcr = v & RCR_MASK;
    if ((s->rcr & RCR_RCPU) && !(old & RCR_RCPU))
        irq_pulse(s->reset_out);    /* the machine resets (SRST: whole system) */
}

/* ---- device ------------------------------------------------------------------ */

static const struct pci_device_info piix3_info = {
    .vendor_id = 0x8086,
    .device_id = 0x7000,
    .revision = 0x00,
    .class_code = 0x060100,             /* ISA bridge */
    .header_type = PCI_HEADER_TYPE_NORMAL | PCI_HEADER_TYPE_MULTI_FUNCTION,
    .config_write = piix3_config_write,
};

/* Power-on values of the function-0 registers firmware reads (datasheet 2.2). */
static const struct { uint8_t off, value, wmask; } piix3_regs[] = {
    { 0x4C, 0x4D, 0x7F },   /* IORT: ISA I/O recovery timer */
    { 0x4E, 0x03, 0xFF },   /* XBCS: X-bus chip select */
    { 0x4F, 0x00, 0x03 },
    { 0x60, 0x80, 0x8F },   /* PIRQRC[A-D] */
    { 0x61, 0x80, 0x8F },
    { 0x62, 0x80, 0x8F },
    { 0x63, 0x80, 0x8F },
    { 0x69, 0x02, 0xFE },   /* TOM: top of memory */
    { 0x6A, 0x00, 0xFF },   /* MSTAT */
    { 0x6B, 0x00, 0xFF },
    { 0x70, 0x80, 0xEF },   /* MBIRQ0 */
    { 0x76, 0x0C, 0x8F },   /* MBDMA0/1 */
    { 0x77, 0x0C, 0x8F },
    { 0x78, 0x02, 0xFF },   /* PCSC */
    { 0x79, 0x00, 0xFF },
    { 0x80, 0x00, 0x7F },   /* APICBASE */
    { 0x82, 0x00, 0x0F },   /* DLC: deterministic latency */
    { 0xA0, 0x08, 0x1F },   /* SMICNTL */
    { 0xA2, 0x00, 0xFF },   /* SMIEN */
    { 0xA3, 0x00, 0x01 },
    { 0xA4, 0x00, 0xFF },   /* SEE */
    { 0xA5, 0x00, 0xFF },
    { 0xA6, 0x00, 0xFF },
    { 0xA7, 0x00, 0xFF },
    { 0xA8, 0x0F, 0xFF },   /* FTMR */
    { 0xAA, 0x00, 0xFF },   /* SMIREQ */
    { 0xAB, 0x00, 0xFF },
    { 0xAC, 0x00, 0xFF },   /* CTLTMR */
    { 0xAE, 0x00, 0xFF },   /* CTHTMR */
};

static int piix3_realize(struct device *dev, struct dm_err *err)
{
    struct piix3_state *s = (struct piix3_state *)dev;
    pci_device_setup(&s->pci, &piix3_info);
    for (unsigned i = 0; i < sizeof(piix3_regs) / sizeof(piix3_regs[0]); i++)
        s->pci.wmask[piix3_regs[i].off] = piix3_regs[i].wmask;
    return 0;
}

static void piix3_reset(struct device *dev)
{
    struct piix3_state *s = (struct piix3_state *)dev;
    for (unsigned i = 0; i < sizeof(piix3_regs) / sizeof(piix3_regs[0]); i++)
        s->pci.config[piix3_regs[i].off] = piix3_regs[i].value;
    s->rcr = 0;
    /* routing is off after reset: lower whatever the PCI side was driving */
    for (int i = 0; i < 16; i++) {
        if (s->irq_driven[i])
            irq_set(s->pirq_out[i], 0);
        s->irq_driven[i] = 0;
    }
}

/* ---- state description ------------------------------------------------------- */

static int piix3_post_load(void *opaque, int version)
{
    struct piix3_state *s = opaque;
    s->rcr &= RCR_MASK;
    for (int p = 0; p < PIIX3_NUM_PIRQ; p++) {
        s->pirq_level[p] = !!s->pirq_level[p];
        s->pci.config[PIIX3_PIRQRC + p] &= 0x8F;
    }
    /* irq_driven says what the lines carry; the machine restores the lines */
    for (int i = 0; i < 16; i++)
        s->irq_driven[i] = !!s->irq_driven[i];
    return 0;
}

static const struct vms_field piix3_fields[] = {
    VMS_STRUCT(struct piix3_state, pci, struct pci_device, pci_device_vmstate),
    VMS_UINT8(struct piix3_state, rcr),
    VMS_FIELD_(VMS_I32, struct piix3_state, pirq_level, PIIX3_NUM_PIRQ, 0, 0),
    VMS_BUFFER(struct piix3_state, irq_driven),
    VMS_END_OF_LIST,
};

static const struct vms_desc piix3_vmstate = {
    .name = "PIIX3",
    .version = 1,
    .min_version = 1,
    .fields = piix3_fields,
    .post_load = piix3_post_load,
};

const struct device_type piix3_type = {
    .name = "PIIX3",
    .desc = "Intel PIIX3 PCI-to-ISA bridge (PIRQ routing, reset control)",
    .instance_size = sizeof(struct piix3_state),
    .bus = DEV_BUS_PCI,
    .user_creatable = false,
    .realize = piix3_realize,
    .reset = piix3_reset,
    .vmstate = &piix3_vmstate,
};
