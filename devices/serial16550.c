/* National Semiconductor PC16550D UART ("isa-serial"), as COM1..COM4.
 *
 * Reference: PC16550D datasheet (National, June 1995): register table 2,
 * interrupt identification and priorities (table 4), FIFO control, line and
 * modem status, loopback (MCR bit 4), divisor latch.  On the PC, MCR OUT2 gates
 * the interrupt output onto the ISA IRQ line (IBM PC/AT asynchronous adapter).
 *
 * Transmission is immediate: a byte written to THR goes to the chardev (or, in
 * loopback, into the receiver) at once, so THR and the shifter are always empty
 * again when the guest next looks; the THRE interrupt follows from that.  The
 * receiver keeps a 16-byte FIFO fed by the chardev; the character-timeout
 * interrupt fires four character times after the last byte arrived when the
 * FIFO holds data below its trigger level. */
#include "devices/serial16550.h"

#include <errno.h>
#include <string.h>

#include "dm/clock.h"
#include "dm/vmstate.h"

/* register offsets */
#define UART_RBR    0   /* read, DLAB = 0 */
#define UART_THR    0   /* write, DLAB = 0 */
#define UART_DLL    0   /* DLAB = 1 */
#define UART_IER    1   /* DLAB = 0 */
#define UART_DLM    1   /* DLAB = 1 */
#define UART_IIR    2   /* read */
#define UART_FCR    2   /* write */
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define UART_MSR    6
#define UART_SCR    7

#define IER_RDI     0x01    /* received data available */
#define IER_THRI    0x02    /* THR empty */
#define IER_RLSI    0x04    /* receiver line status */
#define IER_MSI     0x08    /* modem status */
#define IER_MASK    0x0F

#define IIR_NO_INT  0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_CTI     0x0C    /* character timeout */
#define IIR_FIFO    0xC0

#define FCR_ENABLE  0x01
#define FCR_CLR_RX  0x02
#define FCR_CLR_TX  0x04
#define FCR_TRIGGER 0xC0

#define LCR_DLAB    0x80

#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define MCR_MASK    0x1F

#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_PE      0x04
#define LSR_FE      0x08
#define LSR_BI      0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define LSR_FIFOERR 0x80
#define LSR_INT_ANY (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS    0x01
#define MSR_DDSR    0x02
#define MSR_TERI    0x04
#define MSR_DDCD    0x08
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80
#define MSR_DELTA   0x0F

#define UART_CLOCK_HZ   1843200u    /* the PC's 1.8432 MHz crystal: baud = 115200 / divisor */

/* ---- receive FIFO ------------------------------------------------------------ */

static unsigned rx_trigger(const struct uart_state *s)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return levels[(s->fcr >> 6) & 3];
}

static bool fifo_on(const struct uart_state *s)
{
    return s->fcr & FCR_ENABLE;
}

/* Character time in ns: start + data + parity + stop bits at the current rate.
 * A divisor of 0 is the slowest rate (65536), never a division by zero. */
static int64_t uart_char_ns(const struct uart_state *s)
{
    uint32_t div = s->divisor ? s->divisor : 65536;
    unsigned bits = 1 + 5 + (s->lcr & 3) + ((s->lcr & 0x08) ? 1 : 0) + ((s->lcr & 0x04) ? 2 : 1);
    return (int64_t)((uint64_t)bits * 16 * div * 1000000000ull / UART_CLOCK_HZ);
}

/* ---- interrupts -------------------------------------------------------------- */

/* The highest-priority pending source as IIR bits 3:0 (table 4). */
static uint8_t uart_iir_source(const struct uart_state *s)
{
    if ((s->ier & IER_RLSI) && (s->lsr & LSR_INT_ANY))
        return IIR_RLSI;
    if ((s->ier & IER_RDI) && s->timeout_pending)
        return IIR_CTI;
    if ((s->ier & IER_RDI) && s->rx_count &&
        (!fifo_on(s) || s->rx_count >= rx_trigger(s)))
        return IIR_RDI;
    if ((s->ier & IER_THRI) && s->thr_pending)
        return IIR_THRI;
    if ((s->ier & IER_MSI) && (s->msr & MSR_DELTA))
        return IIR_MSI;
    return IIR_NO_INT;
}

static void uart_update_irq(struct uart_state *s)
{
    int pending = uart_iir_source(s) != IIR_NO_INT;
    /* OUT2 gates the interrupt onto the bus; in loopback the output is internal. */
    int level = pending && (s->mcr & MCR_OUT2) && !(s->mcr & MCR_LOOP);
    irq_set(s->irq, level);
}

/* ---- modem lines ---------------------------------------------------------------- */

static void uart_update_msr(struct uart_state *s)
{
    uint8_t lines;
    if (s->mcr & MCR_LOOP) {
        /* loopback (datasheet MCR bit 4): DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
        lines = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
                ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
    } else {
        lines = MSR_DCD | MSR_DSR | MSR_CTS;    /* a connected, ready peer */
    }
    uint8_t old = s->msr;
    uint8_t delta = 0;
    if ((old ^ lines) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old ^ lines) & MSR_DCD)
        delta |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI))
        delta |= MSR_TERI;  /* trailing edge of RI */
    s->msr = lines | (old & MSR_DELTA) | delta;
}

/* ---- receiver ----------------------------------------------------------------- */

static void uart_rx_byte(struct uart_state *s, uint8_t b)
{
    unsigned cap = fifo_on(s) ? UART_FIFO_SIZE : 1;
    if (s->rx_count >= cap) {
        s->lsr |= LSR_OE;   /* overrun: the new byte is lost */
    } else {
        s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = b;
        s->rx_count++;
    }
    s->lsr |= LSR_DR;
    s->timeout_pending = 0;
    if (fifo_on(s))
        timer_mod(&s->timeout_timer, clock_get_ns(s->clock) + 4 * uart_char_ns(s));
}

static void uart_timeout_cb(void *opaque)
{
    struct uart_state *s = opaque;
    if (fifo_on(s) && s->rx_count && s->rx_count < rx_trigger(s)) {
        s->timeout_pending = 1;
        uart_update_irq(s);
    }
}

static size_t uart_can_receive(void *opaque)
{
    struct uart_state *s = opaque;
    if (s->mcr & MCR_LOOP)
        return 0;       /* the receiver listens to the transmitter only */
    unsigned cap = fifo_on(s) ? UART_FIFO_SIZE : 1;
    return s->rx_count < cap ? cap - s->rx_count : 0;
}

static void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart_state *s = opaque;
    for (size_t i = 0; i < len; i++)
        uart_rx_byte(s, buf[i]);
    uart_update_irq(s);
}

/* ---- transmitter ---------------------------------------------------------------- */

static void uart_transmit(struct uart_state *s, uint8_t b)
{
    if (s->mcr & MCR_LOOP)
        uart_rx_byte(s, b);
    else
        chardev_fe_write(&s->chr, &b, 1);
    /* THR and shifter are empty again: THRE interrupt (table 4, "THR empty"). */
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_pending = 1;
}

/* ---- register access --------------------------------------------------------- */

static uint8_t uart_read_rbr(struct uart_state *s)
{
    uint8_t v = 0;
    if (s->rx_count) {
        v = s->rx_fifo[s->rx_head];
        s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
        s->rx_count--;
    }
    if (!s->rx_count) {
        s->lsr &= ~LSR_DR;
        timer_del(&s->timeout_timer);
    } else if (fifo_on(s)) {
        timer_mod(&s->timeout_timer, clock_get_ns(s->clock) + 4 * uart_char_ns(s));
    }
    s->timeout_pending = 0;
    uart_update_irq(s);
    if (!(s->mcr & MCR_LOOP))
        chardev_fe_accept_input(&s->chr);
    return v;
}

static uint64_t uart_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct uart_state *s = opaque;
    uint8_t v;
    switch (addr & 7) {
    case UART_RBR:
        if (s->lcr & LCR_DLAB)
            return s->divisor & 0xFF;
        return uart_read_rbr(s);
    case UART_IER:
        if (s->lcr & LCR_DLAB)
            return s->divisor >> 8;
        return s->ier;
    case UART_IIR:
        v = uart_iir_source(s);
        /* Reading IIR while it reports THRE clears that source (table 4). */
        if (v == IIR_THRI) {
            s->thr_pending = 0;
            uart_update_irq(s);
        }
        return v | (fifo_on(s) ? IIR_FIFO : 0);
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        v = s->lsr;
        if (fifo_on(s) && (s->lsr & LSR_INT_ANY))
            v |= LSR_FIFOERR;
        s->lsr &= ~LSR_INT_ANY;     /* error bits clear on read */
        uart_update_irq(s);
        return v;
    case UART_MSR:
        v = s->msr;
        s->msr &= ~MSR_DELTA;
        uart_update_irq(s);
        return v;
    default:
        return s->scr;
    }
}

static void uart_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct uart_state *s = opaque;
    uint8_t v = (uint8_t)val;
    switch (addr & 7) {
    case UART_THR:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (s->divisor & 0xFF00) | v;
            return;
        }
        s->thr_pending = 0;
        uart_transmit(s, v);
        break;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0x00FF) | v << 8);
            return;
        }
        /* Enabling the THRE interrupt with THR empty raises it at once. */
        if ((v & IER_THRI) && !(s->ier & IER_THRI) && (s->lsr & LSR_THRE))
            s->thr_pending = 1;
        s->ier = v & IER_MASK;
        break;
    case UART_FCR: {
        bool was_on = fifo_on(s);
        /* Changing the enable bit clears both FIFOs. */
        if ((v & FCR_CLR_RX) || (was_on != !!(v & FCR_ENABLE))) {
            s->rx_head = s->rx_count = 0;
            s->lsr &= ~LSR_DR;
            s->timeout_pending = 0;
            timer_del(&s->timeout_timer);
        }
        s->fcr = v & (FCR_ENABLE | FCR_TRIGGER);
        if (!fifo_on(s))
            s->fcr = 0;
        if (!(s->mcr & MCR_LOOP))
            chardev_fe_accept_input(&s->chr);   /* there may be room now */
        break;
    }
    case UART_LCR:
        s->lcr = v;
        break;
    case UART_MCR: {
        uint8_t old = s->mcr;
        s->mcr = v & MCR_MASK;
        if ((old ^ s->mcr) & (MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2))
            uart_update_msr(s);
        if ((old & MCR_LOOP) && !(s->mcr & MCR_LOOP))
            chardev_fe_accept_input(&s->chr);
        break;
    }
    case UART_LSR:
    case UART_MSR:
        break;      /* factory test registers: writes ignored */
    default:
        s->scr = v;
        break;
    }
    uart_update_irq(s);
}

/* ---- device ------------------------------------------------------------------ */

static const struct mem_region_ops uart_ops = {
    .read = uart_io_read,
    .write = uart_io_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static const uint16_t com_iobase[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
static const uint8_t com_irq[4] = { 4, 3, 4, 3 };

static int uart_realize(struct device *dev, struct dm_err *err)
{
    struct uart_state *s = (struct uart_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "isa-serial: needs an ISA bus");
        return -EINVAL;
    }
    if (s->index == UART_DEFAULT) {
        /* the first COM port whose ports nobody decodes yet */
        for (s->index = 0; s->index < 4; s->index++)
            if (!address_space_lookup(dev->ctx->io, com_iobase[s->index]))
                break;
        if (s->index == 4 && (s->iobase == UART_DEFAULT || s->irq_num == UART_DEFAULT)) {
            dm_err_set(err, "isa-serial: COM1..COM4 are all taken; give iobase= and irq=");
            return -EBUSY;
        }
        if (s->index == 4)
            s->index = 0;
    }
    if (s->index > 3 && (s->iobase == UART_DEFAULT || s->irq_num == UART_DEFAULT)) {
        dm_err_set(err, "isa-serial: index %u has no standard port; give iobase= and irq=",
                   s->index);
        return -EINVAL;
    }
    if (s->iobase == UART_DEFAULT)
        s->iobase = com_iobase[s->index];
    if (s->irq_num == UART_DEFAULT)
        s->irq_num = com_irq[s->index];
    if (s->iobase > 0xFFF8 || s->irq_num > 15) {
        dm_err_set(err, "isa-serial: iobase 0x%x or irq %u out of range", s->iobase, s->irq_num);
        return -ERANGE;
    }
    s->clock = dev->ctx->clock_virt;
    s->irq = dev_bus_irq(dev->bus, s->irq_num);
    timer_init(&s->timeout_timer, s->clock, uart_timeout_cb, s);
    if (s->backend) {
        int r = chardev_fe_attach(&s->chr, s->backend, uart_can_receive, uart_receive, NULL, s);
        if (r < 0) {
            dm_err_set(err, "isa-serial: chardev '%s' is already in use", chardev_id(s->backend));
            return r;
        }
    }
    snprintf(s->name, sizeof(s->name), "serial%u", s->index);
    mem_region_init_io(&s->io, s->name, &uart_ops, s, 8);
    mem_region_add_subregion(io, s->iobase, &s->io, 0);
    s->mapped = true;
    return 0;
}

static void uart_unrealize(struct device *dev)
{
    struct uart_state *s = (struct uart_state *)dev;
    timer_del(&s->timeout_timer);   /* no timer may outlive the device (CVE-2017-5579) */
    if (s->chr.chr)
        chardev_fe_detach(&s->chr);
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        s->mapped = false;
    }
}

static void uart_reset(struct device *dev)
{
    struct uart_state *s = (struct uart_state *)dev;
    timer_del(&s->timeout_timer);
    s->ier = 0;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr = LSR_THRE | LSR_TEMT;
    s->msr = 0;
    uart_update_msr(s);
    s->msr &= ~MSR_DELTA;
    s->scr = 0;
    s->divisor = 12;    /* 9600 baud until the guest programs it */
    s->rx_head = s->rx_count = 0;
    s->thr_pending = 0;
    s->timeout_pending = 0;
    irq_set(s->irq, 0);
}

/* ---- state description ------------------------------------------------------- */

static int uart_post_load(void *opaque, int version)
{
    struct uart_state *s = opaque;
    /* indexes checked as if the guest had written them */
    if (s->rx_head >= UART_FIFO_SIZE || s->rx_count > UART_FIFO_SIZE)
        return -EINVAL;
    s->ier &= IER_MASK;
    s->mcr &= MCR_MASK;
    s->fcr &= FCR_ENABLE | FCR_TRIGGER;
    s->thr_pending = !!s->thr_pending;
    s->timeout_pending = !!s->timeout_pending;
    uart_update_irq(s);
    return 0;
}

static const struct vms_field uart_fields[] = {
    VMS_UINT16(struct uart_state, divisor),
    VMS_UINT8(struct uart_state, ier),
    VMS_UINT8(struct uart_state, fcr),
    VMS_UINT8(struct uart_state, lcr),
    VMS_UINT8(struct uart_state, mcr),
    VMS_UINT8(struct uart_state, lsr),
    VMS_UINT8(struct uart_state, msr),
    VMS_UINT8(struct uart_state, scr),
    VMS_BUFFER(struct uart_state, rx_fifo),
    VMS_UINT8(struct uart_state, rx_head),
    VMS_UINT8(struct uart_state, rx_count),
    VMS_UINT8(struct uart_state, thr_pending),
    VMS_UINT8(struct uart_state, timeout_pending),
    VMS_TIMER(struct uart_state, timeout_timer),
    VMS_END_OF_LIST,
};

static const struct vms_desc uart_vmstate = {
    .name = "serial16550",
    .version = 1,
    .min_version = 1,
    .fields = uart_fields,
    .post_load = uart_post_load,
};

static const struct dev_prop uart_props[] = {
    DEV_PROP_U32("index", struct uart_state, index, UART_DEFAULT, 0, UART_DEFAULT,
                 "COM port number - 1 (0..3; default: the first free one)"),
    DEV_PROP_U32("iobase", struct uart_state, iobase, UART_DEFAULT, 0, UART_DEFAULT,
                 "I/O base (default from index)"),
    DEV_PROP_U32("irq", struct uart_state, irq_num, UART_DEFAULT, 0, UART_DEFAULT,
                 "ISA IRQ (default from index)"),
    DEV_PROP_CHARDEV("chardev", struct uart_state, backend, "character device backend"),
    DEV_PROP_END,
};

const struct device_type serial16550_type = {
    .name = "isa-serial",
    .desc = "16550A UART (COM1..COM4)",
    .instance_size = sizeof(struct uart_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = true,
    .props = uart_props,
    .realize = uart_realize,
    .reset = uart_reset,
    .unrealize = uart_unrealize,
    .vmstate = &uart_vmstate,
};
