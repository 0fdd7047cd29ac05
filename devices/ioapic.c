/* Intel 82093AA I/O APIC.
 *
 * Reference: Intel 82093AA I/O Advanced Programmable Interrupt Controller
 * datasheet (order 290566): section 3.0 registers: IOREGSEL at base + 0x00 and
 * IOWIN at base + 0x10 (32-bit accesses), IOAPICID (index 0, bits 27:24),
 * IOAPICVER (index 1: maximum redirection entry 23 in bits 23:16, version 0x11),
 * IOAPICARB (index 2), IOREDTBL[0:23] at indexes 0x10-0x3F (vector, delivery
 * mode, destination mode, delivery status (RO), polarity, remote IRR (RO),
 * trigger mode, mask; destination in bits 63:56).  Masked edge interrupts are
 * lost; a level-triggered entry delivers once until the EOI clears remote IRR. */
#include "devices/ioapic.h"

#include <errno.h>
#include <string.h>

#include "dm/vmstate.h"

#define IOREGSEL        0x00
#define IOWIN           0x10
#define REG_ID          0x00
#define REG_VER         0x01
#define REG_ARB         0x02
#define REG_REDTBL      0x10
#define IOAPIC_VERSION  0x11

#define RTE_VECTOR      0x00000000000000FFull
#define RTE_DELMODE     0x0000000000000700ull
#define RTE_DESTMODE    0x0000000000000800ull
#define RTE_DELIVS      0x0000000000001000ull   /* read-only */
#define RTE_POLARITY    0x0000000000002000ull   /* 1 = active low */
#define RTE_REMOTE_IRR  0x0000000000004000ull   /* read-only */
#define RTE_TRIGGER     0x0000000000008000ull   /* 1 = level */
#define RTE_MASK        0x0000000000010000ull
#define RTE_DEST        0xFF00000000000000ull
#define RTE_WRITABLE    (RTE_VECTOR | RTE_DELMODE | RTE_DESTMODE | RTE_POLARITY | \
                         RTE_TRIGGER | RTE_MASK | RTE_DEST)

static bool pin_asserted(const struct ioapic_state *s, int pin)
{
    bool line = (s->lines >> pin) & 1;
    return (s->redir[pin] & RTE_POLARITY) ? !line : line;
}

static void ioapic_send(struct ioapic_state *s, int pin)
{
    uint64_t e = s->redir[pin];
    struct ioapic_msg m = {
        .vector = (uint8_t)(e & RTE_VECTOR),
        .delivery_mode = (uint8_t)((e & RTE_DELMODE) >> 8),
        .dest_mode = (e & RTE_DESTMODE) != 0,
        .dest = (uint8_t)(e >> 56),
        .level = (e & RTE_TRIGGER) != 0,
        .pin = (uint8_t)pin,
    };
    if (m.level)
        s->redir[pin] |= RTE_REMOTE_IRR;
    if (s->deliver)
        s->deliver(s->deliver_opaque, &m);
}

/* A level entry whose pin is asserted, unmasked and not already in service. */
static void ioapic_service_level(struct ioapic_state *s, int pin)
{
    uint64_t e = s->redir[pin];
    if ((e & RTE_TRIGGER) && !(e & RTE_MASK) && !(e & RTE_REMOTE_IRR) && pin_asserted(s, pin))
        ioapic_send(s, pin);
}

static void ioapic_set_pin(void *opaque, int pin, int level)
{
    struct ioapic_state *s = opaque;
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    bool was = pin_asserted(s, pin);
    if (level)
        s->lines |= 1u << pin;
    else
        s->lines &= ~(1u << pin);
    bool now = pin_asserted(s, pin);
    uint64_t e = s->redir[pin];
    if (e & RTE_TRIGGER)
        ioapic_service_level(s, pin);
    else if (now && !was && !(e & RTE_MASK))
        ioapic_send(s, pin);        /* edge: the rising edge, if unmasked */
}

void ioapic_eoi(struct ioapic_state *s, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = s->redir[pin];
        if ((e & RTE_TRIGGER) && (e & RTE_REMOTE_IRR) && (e & RTE_VECTOR) == vector) {
            s->redir[pin] &= ~RTE_REMOTE_IRR;
            ioapic_service_level(s, pin);
        }
    }
}

/* ---- register access --------------------------------------------------------- */

static uint32_t ioapic_read_reg(struct ioapic_state *s)
{
    uint32_t idx = s->regsel & 0xFF;
    if (idx == REG_ID || idx == REG_ARB)
        return (uint32_t)s->id << 24;
    if (idx == REG_VER)
        return (IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
    if (idx >= REG_REDTBL && idx < REG_REDTBL + 2 * IOAPIC_PINS) {
        uint64_t e = s->redir[(idx - REG_REDTBL) / 2];
        return (idx & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;       /* reserved indexes read 0 */
}

static void ioapic_write_reg(struct ioapic_state *s, uint32_t v)
{
    uint32_t idx = s->regsel & 0xFF;
    if (idx == REG_ID) {
        s->id = (v >> 24) & 0x0F;
        return;
    }
    if (idx < REG_REDTBL || idx >= REG_REDTBL + 2 * IOAPIC_PINS)
        return;     /* read-only or reserved */
    int pin = (int)(idx - REG_REDTBL) / 2;
    uint64_t e = s->redir[pin];
    uint64_t w = (idx & 1) ? ((uint64_t)v << 32) | (e & 0xFFFFFFFFull)
                           : (e & 0xFFFFFFFF00000000ull) | v;
    s->redir[pin] = (w & RTE_WRITABLE) | (e & (RTE_REMOTE_IRR | RTE_DELIVS));
    if (!(s->redir[pin] & RTE_TRIGGER))
        s->redir[pin] &= ~RTE_REMOTE_IRR;   /* edge entries have no remote IRR */
    ioapic_service_level(s, pin);           /* unmasking an asserted level pin */
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    struct ioapic_state *s = opaque;
    if (addr == IOREGSEL)
        return s->regsel;
    if (addr == IOWIN)
        return ioapic_read_reg(s);
    return 0;
}

static void ioapic_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct ioapic_state *s = opaque;
    if (addr == IOREGSEL)
        s->regsel = (uint32_t)val & 0xFF;
    else if (addr == IOWIN)
        ioapic_write_reg(s, (uint32_t)val);
}

static const struct mem_region_ops ioapic_ops = {
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 4, .max = 4 },
    .impl = { .min = 4, .max = 4 },
};

/* ---- device ------------------------------------------------------------------ */

static int ioapic_realize(struct device *dev, struct dm_err *err)
{
    struct ioapic_state *s = (struct ioapic_state *)dev;
    struct mem_region *mem = dev->bus ? dev->bus->mem_root : NULL;
    if (!mem) {
        dm_err_set(err, "ioapic: needs a bus with a memory root");
        return -EINVAL;
    }
    irq_init_array(s->in, IOAPIC_PINS, ioapic_set_pin, s);
    mem_region_init_io(&s->mmio, "ioapic", &ioapic_ops, s, 0x1000);
    mem_region_add_subregion(mem, IOAPIC_BASE, &s->mmio, 1);
    s->mapped = true;
    return 0;
}

static void ioapic_unrealize(struct device *dev)
{
    struct ioapic_state *s = (struct ioapic_state *)dev;
    if (s->mapped) {
        mem_region_del_subregion(s->mmio.parent, &s->mmio);
        s->mapped = false;
    }
}

static void ioapic_reset(struct device *dev)
{
    struct ioapic_state *s = (struct ioapic_state *)dev;
    s->regsel = 0;
    s->id = 0;
    for (int i = 0; i < IOAPIC_PINS; i++)
        s->redir[i] = RTE_MASK;     /* datasheet: all entries masked after reset */
}

/* ---- state description ------------------------------------------------------- */

static int ioapic_post_load(void *opaque, int version)
{
    struct ioapic_state *s = opaque;
    s->regsel &= 0xFF;
    s->id &= 0x0F;
    s->lines &= (1u << IOAPIC_PINS) - 1;
    for (int i = 0; i < IOAPIC_PINS; i++)
        s->redir[i] &= RTE_WRITABLE | RTE_REMOTE_IRR;
    return 0;
}

static const struct vms_field ioapic_fields[] = {
    VMS_UINT32(struct ioapic_state, regsel),
    VMS_UINT8(struct ioapic_state, id),
    VMS_UINT64_ARRAY(struct ioapic_state, redir, IOAPIC_PINS),
    VMS_UINT32(struct ioapic_state, lines),
    VMS_END_OF_LIST,
};

static const struct vms_desc ioapic_vmstate = {
    .name = "ioapic",
    .version = 1,
    .min_version = 1,
    .fields = ioapic_fields,
    .post_load = ioapic_post_load,
};

const struct device_type ioapic_type = {
    .name = "ioapic",
    .desc = "Intel 82093AA I/O APIC (24 pins) at 0xFEC00000",
    .instance_size = sizeof(struct ioapic_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .realize = ioapic_realize,
    .reset = ioapic_reset,
    .unrealize = ioapic_unrealize,
    .vmstate = &ioapic_vmstate,
};
