/* Intel 8259A programmable interrupt controller, as the master/slave pair of the
 * PC/AT (master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on master IR2), plus the
 * PIIX3 edge/level control registers (ELCR, ports 0x4D0/0x4D1) that select the
 * trigger mode per input.
 *
 * References: Intel 8259A datasheet (order 231468): ICW1-4 (figure 6), OCW1-3
 * (figure 8), priority rotation, special mask mode, poll command, cascade and
 * special fully nested mode; Intel PIIX3 datasheet (order 290550) section 2.2 for
 * ELCR1/ELCR2 (IRQ0-2, 8 and 13 are always edge triggered).
 *
 * Trigger modes: an edge-triggered input latches its request in IRR on a rising
 * edge and the request stays until acknowledged; a level-triggered input's IRR bit
 * is the input level.  Acknowledging with nothing pending returns the IR7 vector
 * without setting ISR (the "spurious IRQ 7/15" of the datasheet). */
#include "devices/i8259.h"

#include <errno.h>
#include <string.h>

#include "dm/device.h"
#include "dm/vmstate.h"
#include "dm/irq.h"
#include "dm/memory.h"

/* ICW1 (write to the command port with bit 4 set) */
#define ICW1_IC4    0x01    /* ICW4 will follow */
#define ICW1_SNGL   0x02    /* single controller, no ICW3 */
#define ICW1_LTIM   0x08    /* level-triggered inputs */
#define ICW1_INIT   0x10
/* ICW4 */
#define ICW4_AEOI   0x02
#define ICW4_SFNM   0x10
/* OCW2 (command port, bits 4:3 = 00): R/SL/EOI in bits 7:5, level in 2:0 */
#define OCW2_ROTATE 0x80
#define OCW2_SL     0x40
#define OCW2_EOI    0x20
/* OCW3 (command port, bits 4:3 = 01) */
#define OCW3_SEL    0x08
#define OCW3_ESMM   0x40
#define OCW3_SMM    0x20
#define OCW3_POLL   0x04
#define OCW3_RR     0x02
#define OCW3_RIS    0x01

/* ELCR bits that must stay 0 (PIIX3 2.2.1): IRQ0, 1, 2 and IRQ8, 13 */
#define ELCR_MASTER_MASK 0xF8
#define ELCR_SLAVE_MASK  0xDE

/* ---- one 8259A ---------------------------------------------------------------- */

static int chip_level_mask(const struct pic_chip *c)
{
    return (c->icw1 & ICW1_LTIM) ? 0xFF : c->elcr;
}

/* Priority of a bit: 0 is the highest.  The lowest-priority level is
 * c->lowest, so the highest is lowest + 1. */
static int chip_prio(const struct pic_chip *c, int irq)
{
    return (irq - c->lowest - 1) & 7;
}

/* The highest-priority set bit of mask, or -1. */
static int chip_highest(const struct pic_chip *c, uint8_t mask)
{
    if (!mask)
        return -1;
    for (int p = 0; p < 8; p++) {
        int irq = (c->lowest + 1 + p) & 7;
        if (mask & (1u << irq))
            return irq;
    }
    return -1;
}

/* The request that would be delivered now, or -1.  A request must be unmasked and
 * of higher priority than everything in service (fully nested mode); in special
 * mask mode, masked in-service levels do not block; in special fully nested mode
 * the master does not let an in-service cascade input block a new slave request. */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
    int req = chip_highest(c, c->irr & ~c->imr);
    if (req < 0)
        return -1;
    uint8_t isr = c->isr;
    if (c->special_mask)
        isr &= ~c->imr;
    if (is_master && (c->icw4 & ICW4_SFNM))
        isr &= ~(1u << 2);
    int cur = chip_highest(c, isr);
    if (cur >= 0 && chip_prio(c, cur) <= chip_prio(c, req))
        return -1;
    return req;
}

static void chip_set_input(struct pic_chip *c, int irq, int level)
{
    uint8_t bit = 1u << irq;
    if (chip_level_mask(c) & bit) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit;
    }
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
}

/* The INTA cycle on one chip: move the request to ISR (unless AEOI) and return its
 * level, or 7 for a spurious acknowledge. */
static int chip_ack(struct pic_chip *c, bool is_master)
{
    int irq = chip_pending(c, is_master);
    if (irq < 0)
        return 7;
    uint8_t bit = 1u << irq;
    if (!(chip_level_mask(c) & bit))
        c->irr &= ~bit;
    if (c->icw4 & ICW4_AEOI) {
        if (c->rotate_aeoi)
            c->lowest = irq;
    } else {
        c->isr |= bit;
    }
    return irq;
}

static void chip_eoi(struct pic_chip *c, int irq, bool rotate)
{
    c->isr &= ~(1u << irq);
    if (rotate)
        c->lowest = irq;
}

static void chip_reset(struct pic_chip *c)
{
    uint8_t elcr = c->elcr, lines = c->lines;
    memset(c, 0, sizeof(*c));
    c->elcr = elcr;     /* ELCR is a PIIX3 register, not reset by ICW1 */
    c->lines = lines;   /* the wires keep their levels */
    c->lowest = 7;
}

/* ---- the pair --------------------------------------------------------------- */

static void pic_update(struct pic_state *s)
{
    /* The slave's INT output drives master IR2. */
    chip_set_input(&s->chip[0], 2, chip_pending(&s->chip[1], false) >= 0);
    int intr = chip_pending(&s->chip[0], true) >= 0;
    if (intr != s->intr) {
        s->intr = intr;
        irq_set(s->intr_out, intr);
    }
}

void i8259_set_irq(struct pic_state *s, int irq, int level)
{
    if (irq < 0 || irq > 15 || irq == 2)
        return;
    chip_set_input(&s->chip[irq >> 3], irq & 7, level != 0);
    pic_update(s);
}

int i8259_get_intr(const struct pic_state *s)
{
    return s->intr;
}

int i8259_ack(struct pic_state *s)
{
    struct pic_chip *m = &s->chip[0], *sl = &s->chip[1];
    int irq = chip_ack(m, true);
    int vector;
    if (irq == 2) {
        int sirq = chip_ack(sl, false);
        vector = (sl->icw2 & 0xF8) | sirq;
    } else {
        vector = (m->icw2 & 0xF8) | irq;
    }
    pic_update(s);
    return vector;
}

static void pic_write_command(struct pic_state *s, struct pic_chip *c, uint8_t v)
{
    if (v & ICW1_INIT) {
        chip_reset(c);
        c->icw1 = v;
        c->init_step = 1;
        c->irr = c->lines & chip_level_mask(c);
        return;
    }
    if (v & OCW3_SEL) {
        if (v & OCW3_POLL) {
            c->poll = 1;
            return;
        }
        if (v & OCW3_RR)
            c->read_isr = v & OCW3_RIS;
        if (v & OCW3_ESMM)
            c->special_mask = (v & OCW3_SMM) != 0;
        return;
    }
    /* OCW2 */
    int level = v & 7;
    switch (v & (OCW2_ROTATE | OCW2_SL | OCW2_EOI)) {
    case OCW2_EOI:                                  /* non-specific EOI */
    case OCW2_ROTATE | OCW2_EOI: {                  /* rotate on non-specific EOI */
        int irq = chip_highest(c, c->isr);
        if (irq >= 0)
            chip_eoi(c, irq, v & OCW2_ROTATE);
        break;
    }
    case OCW2_SL | OCW2_EOI:                        /* specific EOI */
        chip_eoi(c, level, false);
        break;
    case OCW2_ROTATE | OCW2_SL | OCW2_EOI:          /* rotate on specific EOI */
        chip_eoi(c, level, true);
        break;
    case OCW2_ROTATE:                               /* set rotate in AEOI mode */
        c->rotate_aeoi = 1;
        break;
    case 0:                                         /* clear rotate in AEOI mode */
        c->rotate_aeoi = 0;
        break;
    case OCW2_ROTATE | OCW2_SL:                     /* set priority */
        c->lowest = level;
        break;
    default:                                        /* OCW2_SL alone: no operation */
        break;
    }
}

static void pic_write_data(struct pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 1:
        c->icw2 = v;
        c->init_step = (c->icw1 & ICW1_SNGL) ? ((c->icw1 & ICW1_IC4) ? 3 : 0) : 2;
        break;
    case 2:
        c->icw3 = v;
        c->init_step = (c->icw1 & ICW1_IC4) ? 3 : 0;
        break;
    case 3:
        c->icw4 = v;
        c->init_step = 0;
        break;
    default:
        c->imr = v;     /* OCW1 */
        break;
    }
}

/* Poll command (datasheet "The Poll Command"): the next read of the command port
 * is an acknowledge that returns 0x80 | level, or 0 when nothing is pending. */
static uint8_t pic_poll(struct pic_state *s, int idx)
{
    struct pic_chip *c = &s->chip[idx];
    c->poll = 0;
    int irq = chip_pending(c, idx == 0);
    if (irq < 0)
        return 0;
    chip_ack(c, idx == 0);
    pic_update(s);
    return 0x80 | irq;
}

static uint64_t pic_read(struct pic_state *s, int idx, uint64_t addr)
{
    struct pic_chip *c = &s->chip[idx];
    if (c->poll)
        return pic_poll(s, idx);
    if (addr & 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(struct pic_state *s, int idx, uint64_t addr, uint8_t v)
{
    struct pic_chip *c = &s->chip[idx];
    if (addr & 1)
        pic_write_data(c, v);
    else
        pic_write_command(s, c, v);
    pic_update(s);
}

static uint64_t pic_master_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_read(opaque, 0, addr);
}

static uint64_t pic_slave_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_read(opaque, 1, addr);
}

static void pic_master_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    pic_write(opaque, 0, addr, (uint8_t)val);
}

static void pic_slave_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    pic_write(opaque, 1, addr, (uint8_t)val);
}

static uint64_t elcr_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pic_state *s = opaque;
    return s->chip[addr & 1].elcr;
}

static void elcr_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pic_state *s = opaque;
    struct pic_chip *c = &s->chip[addr & 1];
    c->elcr = (uint8_t)val & ((addr & 1) ? ELCR_SLAVE_MASK : ELCR_MASTER_MASK);
    /* A switch to level mode takes the current wire level. */
    for (int i = 0; i < 8; i++)
        if (chip_level_mask(c) & (1u << i))
            c->irr = (c->irr & ~(1u << i)) | (c->lines & (1u << i));
    pic_update(s);
}

/* ---- device ------------------------------------------------------------------ */

static void pic_input(void *opaque, int n, int level)
{
    i8259_set_irq(opaque, n, level);
}

static const struct mem_region_ops pic_master_ops = {
    .read = pic_master_read,
    .write = pic_master_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static const struct mem_region_ops pic_slave_ops = {
    .read = pic_slave_read,
    .write = pic_slave_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static const struct mem_region_ops elcr_ops = {
    .read = elcr_io_read,
    .write = elcr_io_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static int pic_realize(struct device *dev, struct dm_err *err)
{
    struct pic_state *s = (struct pic_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "i8259: needs a bus with port I/O");
        return -EINVAL;
    }
    irq_init_array(s->in, 16, pic_input, s);
    mem_region_init_io(&s->io_master, "pic-master", &pic_master_ops, s, 2);
    mem_region_init_io(&s->io_slave, "pic-slave", &pic_slave_ops, s, 2);
    mem_region_init_io(&s->io_elcr, "elcr", &elcr_ops, s, 2);
    mem_region_add_subregion(io, 0x20, &s->io_master, 0);
    mem_region_add_subregion(io, 0xA0, &s->io_slave, 0);
    mem_region_add_subregion(io, 0x4D0, &s->io_elcr, 0);
    s->mapped = true;
    return 0;
}

static void pic_unrealize(struct device *dev)
{
    struct pic_state *s = (struct pic_state *)dev;
    if (!s->mapped)
        return;
    mem_region_del_subregion(s->io_master.parent, &s->io_master);
    mem_region_del_subregion(s->io_slave.parent, &s->io_slave);
    mem_region_del_subregion(s->io_elcr.parent, &s->io_elcr);
    s->mapped = false;
}

static void pic_reset(struct device *dev)
{
    struct pic_state *s = (struct pic_state *)dev;
    for (int i = 0; i < 2; i++) {
        s->chip[i].elcr = 0;
        chip_reset(&s->chip[i]);
        s->chip[i].irr = 0;
    }
    s->intr = 0;
    irq_set(s->intr_out, 0);
}

/* ---- state description ------------------------------------------------------- */

/* Loaded values are checked as if the guest wrote them: everything is a bit
 * mask except these. */
static int pic_post_load(void *opaque, int version)
{
    struct pic_state *s = opaque;
    for (int i = 0; i < 2; i++) {
        struct pic_chip *c = &s->chip[i];
        if (c->init_step > 3 || c->lowest > 7)
            return -EINVAL;
        c->elcr &= i ? ELCR_SLAVE_MASK : ELCR_MASTER_MASK;
        c->read_isr = !!c->read_isr;
        c->poll = !!c->poll;
        c->special_mask = !!c->special_mask;
        c->rotate_aeoi = !!c->rotate_aeoi;
    }
    s->intr = !!s->intr;
    return 0;
}

static const struct vms_field pic_chip_fields[] = {
    VMS_UINT8(struct pic_chip, irr),
    VMS_UINT8(struct pic_chip, isr),
    VMS_UINT8(struct pic_chip, imr),
    VMS_UINT8(struct pic_chip, lines),
    VMS_UINT8(struct pic_chip, elcr),
    VMS_UINT8(struct pic_chip, icw1),
    VMS_UINT8(struct pic_chip, icw2),
    VMS_UINT8(struct pic_chip, icw3),
    VMS_UINT8(struct pic_chip, icw4),
    VMS_UINT8(struct pic_chip, init_step),
    VMS_UINT8(struct pic_chip, lowest),
    VMS_UINT8(struct pic_chip, read_isr),
    VMS_UINT8(struct pic_chip, poll),
    VMS_UINT8(struct pic_chip, special_mask),
    VMS_UINT8(struct pic_chip, rotate_aeoi),
    VMS_END_OF_LIST,
};

static const struct vms_desc pic_chip_vmstate = {
    .name = "i8259-chip",
    .version = 1,
    .min_version = 1,
    .fields = pic_chip_fields,
};

static const struct vms_field pic_fields[] = {
    VMS_STRUCT_ARRAY(struct pic_state, chip, 2, struct pic_chip, pic_chip_vmstate),
    VMS_INT32(struct pic_state, intr),
    VMS_END_OF_LIST,
};

static const struct vms_desc pic_vmstate = {
    .name = "i8259",
    .version = 1,
    .min_version = 1,
    .fields = pic_fields,
    .post_load = pic_post_load,
};

const struct device_type i8259_type = {
    .name = "i8259",
    .desc = "Intel 8259A interrupt controller pair (PC/AT) with PIIX3 ELCR",
    .instance_size = sizeof(struct pic_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .realize = pic_realize,
    .reset = pic_reset,
    .unrealize = pic_unrealize,
    .vmstate = &pic_vmstate,
};
