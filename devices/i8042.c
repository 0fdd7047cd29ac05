/* Intel 8042 keyboard controller of the PC/AT (ports 0x60 data, 0x64 status and
 * command; IRQ1 keyboard, IRQ12 auxiliary device) with a PS/2 keyboard and a
 * PS/2 mouse that answer the commands firmware and Linux's i8042/atkbd/psmouse
 * drivers send while probing.  No keys are ever pressed: there is no input
 * front end yet.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/
 * Auxiliary Device Controller" (status register, command byte, controller
 * commands 0x20-0xFF, output port bits: 0 system reset, 1 gate A20, 4/5 output
 * buffer full interrupts), and its "Keyboard" and "Pointing Device" chapters
 * for the device commands (0xFF reset -> 0xFA 0xAA, 0xF2 identify, ...).
 *
 * Bytes from the devices and controller replies queue in one bounded FIFO with
 * their source; a full queue drops the byte (never overflows). */
#include "devices/i8042.h"

#include <errno.h>
#include <string.h>

#include "dm/vmstate.h"

/* status register (read 0x64) */
#define ST_OBF          0x01
#define ST_IBF          0x02
#define ST_SYS          0x04
#define ST_CMD          0x08    /* last write was to 0x64 */
#define ST_UNLOCKED     0x10    /* keyboard not inhibited */
#define ST_AUX_OBF      0x20
/* command byte */
#define CB_KBD_INT      0x01
#define CB_AUX_INT      0x02
#define CB_SYS          0x04
#define CB_KBD_DISABLE  0x10
#define CB_AUX_DISABLE  0x20
#define CB_XLATE        0x40
/* output port */
#define OP_RESET_N      0x01    /* 0 holds the CPU in reset */
#define OP_A20          0x02
#define OP_KBD_OBF_INT  0x10
#define OP_AUX_OBF_INT  0x20
/* controller commands */
#define CMD_READ_RAM    0x20    /* 0x20-0x3F */
#define CMD_WRITE_RAM   0x60    /* 0x60-0x7F */
#define CMD_PASSWD_TEST 0xA4
#define CMD_AUX_DISABLE 0xA7
#define CMD_AUX_ENABLE  0xA8
#define CMD_AUX_TEST    0xA9
#define CMD_SELF_TEST   0xAA
#define CMD_KBD_TEST    0xAB
#define CMD_KBD_DISABLE 0xAD
#define CMD_KBD_ENABLE  0xAE
#define CMD_READ_INPUT  0xC0
#define CMD_READ_OUTPUT 0xD0
#define CMD_WRITE_OUTPUT 0xD1
#define CMD_WRITE_KBD_OBUF 0xD2
#define CMD_WRITE_AUX_OBUF 0xD3
#define CMD_WRITE_AUX   0xD4
#define CMD_DISABLE_A20 0xDD
#define CMD_ENABLE_A20  0xDF
#define CMD_READ_TEST   0xE0
#define CMD_PULSE       0xF0    /* 0xF0-0xFF: pulse output port bits 3:0 low */
/* device replies */
#define KBD_ACK         0xFA
#define KBD_RESEND      0xFE
#define KBD_BAT_OK      0xAA

#define SRC_KBD         0
#define SRC_AUX         1

/* ---- output queue ------------------------------------------------------------ */

static void kbc_update_irq(struct kbc_state *s)
{
    int kbd = 0, aux = 0;
    if (s->obf) {
        if (s->obf_aux)
            aux = (s->ram[0] & CB_AUX_INT) != 0;
        else
            kbd = (s->ram[0] & CB_KBD_INT) != 0;
    }
    s->outport = (s->outport & ~(OP_KBD_OBF_INT | OP_AUX_OBF_INT)) |
                 (kbd ? OP_KBD_OBF_INT : 0) | (aux ? OP_AUX_OBF_INT : 0);
    irq_set(s->irq_kbd, kbd);
    irq_set(s->irq_aux, aux);
}

/* Move the next queued byte into the output buffer if it is free and its
 * device is not disabled by the command byte. */
static void kbc_refill(struct kbc_state *s)
{
    if (s->obf || !s->q_count)
        return;
    uint8_t src = s->q_src[s->q_head];
    s->obuf = s->q_data[s->q_head];
    s->obf_aux = src == SRC_AUX;
    s->q_head = (s->q_head + 1) % KBC_QUEUE_SIZE;
    s->q_count--;
    s->obf = 1;
}

static void kbc_queue(struct kbc_state *s, uint8_t src, uint8_t b)
{
    if (s->q_count >= KBC_QUEUE_SIZE)
        return;     /* full: drop */
    unsigned tail = (s->q_head + s->q_count) % KBC_QUEUE_SIZE;
    s->q_data[tail] = b;
    s->q_src[tail] = src;
    s->q_count++;
    kbc_refill(s);
    kbc_update_irq(s);
}

/* A controller reply takes its turn in the queue like device data. */
static void kbc_reply(struct kbc_state *s, uint8_t b)
{
    kbc_queue(s, SRC_KBD, b);
}

/* ---- the keyboard ------------------------------------------------------------ */

static void kbd_command(struct kbc_state *s, uint8_t b)
{
    if (s->kbd_pending) {
        /* argument of a previous command */
        uint8_t cmd = s->kbd_pending;
        s->kbd_pending = 0;
        if (cmd == 0xF0 && b == 0) {            /* get scan code set */
            kbc_queue(s, SRC_KBD, KBD_ACK);
            kbc_queue(s, SRC_KBD, s->kbd_scanset);
            return;
        }
        if (cmd == 0xF0 && b >= 1 && b <= 3)
            s->kbd_scanset = b;
        kbc_queue(s, SRC_KBD, KBD_ACK);
        return;
    }
    switch (b) {
    case 0xED:      /* set LEDs */
    case 0xF3:      /* set typematic rate */
    case 0xF0:      /* select scan code set */
        s->kbd_pending = b;
        kbc_queue(s, SRC_KBD, KBD_ACK);
        break;
    case 0xEE:      /* echo */
        kbc_queue(s, SRC_KBD, 0xEE);
        break;
    case 0xF2:      /* identify: MF2 keyboard, ID 0x83 (0x41 when translated) */
        kbc_queue(s, SRC_KBD, KBD_ACK);
        kbc_queue(s, SRC_KBD, 0xAB);
        kbc_queue(s, SRC_KBD, (s->ram[0] & CB_XLATE) ? 0x41 : 0x83);
        break;
    case 0xF4:      /* enable scanning */
        s->kbd_enabled = 1;
        kbc_queue(s, SRC_KBD, KBD_ACK);
        break;
    case 0xF5:      /* disable and set defaults */
        s->kbd_enabled = 0;
        s->kbd_scanset = 2;
        kbc_queue(s, SRC_KBD, KBD_ACK);
        break;
    case 0xF6:      /* set defaults */
        s->kbd_scanset = 2;
        kbc_queue(s, SRC_KBD, KBD_ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:
    case 0xFB: case 0xFC: case 0xFD:
        kbc_queue(s, SRC_KBD, KBD_ACK);
        break;
    case 0xFF:      /* reset and self-test */
        s->kbd_enabled = 1;
        s->kbd_scanset = 2;
        kbc_queue(s, SRC_KBD, KBD_ACK);
        kbc_queue(s, SRC_KBD, KBD_BAT_OK);
        break;
    default:
        kbc_queue(s, SRC_KBD, KBD_RESEND);
        break;
    }
}

/* ---- the mouse (PS/2 pointing device) ------------------------------------------ */

static void aux_command(struct kbc_state *s, uint8_t b)
{
    if (s->aux_wrap && b != 0xEC && b != 0xFF) {
        kbc_queue(s, SRC_AUX, b);               /* wrap mode echoes */
        return;
    }
    if (s->aux_pending) {
        uint8_t cmd = s->aux_pending;
        s->aux_pending = 0;
        if (cmd == 0xF3)
            s->aux_rate = b;
        else if (cmd == 0xE8)
            s->aux_resolution = b & 3;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        return;
    }
    switch (b) {
    case 0xE6:      /* scaling 1:1 */
    case 0xE7:      /* scaling 2:1 */
        s->aux_scaling = b == 0xE7;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xE8:      /* set resolution */
    case 0xF3:      /* set sample rate */
        s->aux_pending = b;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xE9:      /* status request */
        kbc_queue(s, SRC_AUX, KBD_ACK);
        kbc_queue(s, SRC_AUX, (uint8_t)((s->aux_enabled ? 0x20 : 0) | (s->aux_scaling ? 0x10 : 0)));
        kbc_queue(s, SRC_AUX, s->aux_resolution);
        kbc_queue(s, SRC_AUX, s->aux_rate);
        break;
    case 0xEA:      /* stream mode */
    case 0xF0:      /* remote mode */
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xEB:      /* read data: no movement */
        kbc_queue(s, SRC_AUX, KBD_ACK);
        kbc_queue(s, SRC_AUX, 0x08);
        kbc_queue(s, SRC_AUX, 0);
        kbc_queue(s, SRC_AUX, 0);
        break;
    case 0xEC:      /* reset wrap mode */
        s->aux_wrap = 0;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xEE:      /* wrap mode */
        s->aux_wrap = 1;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xF2:      /* get device ID: standard mouse */
        kbc_queue(s, SRC_AUX, KBD_ACK);
        kbc_queue(s, SRC_AUX, 0x00);
        break;
    case 0xF4:
        s->aux_enabled = 1;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xF5:
        s->aux_enabled = 0;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xF6:      /* set defaults */
        s->aux_rate = 100;
        s->aux_resolution = 2;
        s->aux_scaling = 0;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        break;
    case 0xFF:      /* reset: ACK, BAT passed, ID */
        s->aux_enabled = 0;
        s->aux_wrap = 0;
        s->aux_rate = 100;
        s->aux_resolution = 2;
        s->aux_scaling = 0;
        kbc_queue(s, SRC_AUX, KBD_ACK);
        kbc_queue(s, SRC_AUX, KBD_BAT_OK);
        kbc_queue(s, SRC_AUX, 0x00);
        break;
    default:
        kbc_queue(s, SRC_AUX, KBD_RESEND);
        break;
    }
}

/* ---- the controller ------------------------------------------------------------ */

static void kbc_set_outport(struct kbc_state *s, uint8_t v)
{
    uint8_t old = s->outport;
    s->outport = v;
    if ((old ^ v) & OP_A20)
        irq_set(s->a20_out, (v & OP_A20) != 0);
    if (!(v & OP_RESET_N)) {
        /* The reset line is held low: the CPU resets.  The line returns high
         * (the controller is not reset by a CPU reset). */
        s->outport |= OP_RESET_N;
        irq_pulse(s->reset_out);
    }
    kbc_update_irq(s);
}

static void kbc_command(struct kbc_state *s, uint8_t cmd)
{
    if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
        kbc_reply(s, s->ram[cmd & 0x1F]);
        return;
    }
    if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
        s->pending_cmd = cmd;
        return;
    }
    if (cmd >= CMD_PULSE) {
        /* bits 3:0 = 0 select output-port bits to pulse low; bit 0 is reset */
        if (!(cmd & 1))
            irq_pulse(s->reset_out);
        return;
    }
    switch (cmd) {
    case CMD_PASSWD_TEST:
        kbc_reply(s, 0xF1);         /* no password installed */
        break;
    case CMD_AUX_DISABLE:
        s->ram[0] |= CB_AUX_DISABLE;
        break;
    case CMD_AUX_ENABLE:
        s->ram[0] &= ~CB_AUX_DISABLE;
        break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:
        kbc_reply(s, 0x00);         /* interface OK */
        break;
    case CMD_SELF_TEST:
        s->status |= ST_SYS;        /* the system flag: set by a passed self-test */
        kbc_reply(s, 0x55);
        break;
    case CMD_KBD_DISABLE:
        s->ram[0] |= CB_KBD_DISABLE;
        break;
    case CMD_KBD_ENABLE:
        s->ram[0] &= ~CB_KBD_DISABLE;
        break;
    case CMD_READ_INPUT:
        kbc_reply(s, 0x80);         /* keyboard not inhibited */
        break;
    case CMD_READ_OUTPUT:
        kbc_reply(s, s->outport);
        break;
    case CMD_WRITE_OUTPUT:
    case CMD_WRITE_KBD_OBUF:
    case CMD_WRITE_AUX_OBUF:
    case CMD_WRITE_AUX:
        s->pending_cmd = cmd;
        break;
    case CMD_DISABLE_A20:
        kbc_set_outport(s, s->outport & ~OP_A20);
        break;
    case CMD_ENABLE_A20:
        kbc_set_outport(s, s->outport | OP_A20);
        break;
    case CMD_READ_TEST:
        kbc_reply(s, 0x00);
        break;
    default:
        break;                      /* unknown commands are ignored */
    }
    kbc_update_irq(s);
}

static void kbc_data(struct kbc_state *s, uint8_t v)
{
    uint8_t cmd = s->pending_cmd;
    s->pending_cmd = 0;
    if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
        s->ram[cmd & 0x1F] = v;
        if (cmd == CMD_WRITE_RAM)
            s->status = (s->status & ~ST_SYS) | (v & CB_SYS ? ST_SYS : 0);
        kbc_update_irq(s);
        return;
    }
    switch (cmd) {
    case CMD_WRITE_OUTPUT:
        kbc_set_outport(s, v);
        return;
    case CMD_WRITE_KBD_OBUF:
        kbc_queue(s, SRC_KBD, v);
        return;
    case CMD_WRITE_AUX_OBUF:
        kbc_queue(s, SRC_AUX, v);
        return;
    case CMD_WRITE_AUX:
        aux_command(s, v);
        return;
    default:
        /* plain data goes to the keyboard, which wakes up the interface */
        s->ram[0] &= ~CB_KBD_DISABLE;
        kbd_command(s, v);
        return;
    }
}

static uint64_t kbc_status_read(void *opaque, uint64_t addr, unsigned size)
{
    struct kbc_state *s = opaque;
    uint8_t st = s->status | ST_UNLOCKED;
    if (s->obf)
        st |= ST_OBF | (s->obf_aux ? ST_AUX_OBF : 0);
    return st;
}

static uint64_t kbc_data_read(void *opaque, uint64_t addr, unsigned size)
{
    struct kbc_state *s = opaque;
    uint8_t v = s->obuf;    /* an empty buffer reads its last value */
    s->obf = 0;
    s->obf_aux = 0;
    kbc_update_irq(s);      /* lower the line: the next byte is a new edge */
    kbc_refill(s);
    kbc_update_irq(s);
    return v;
}

static void kbc_cmd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct kbc_state *s = opaque;
    s->status |= ST_CMD;
    s->pending_cmd = 0;
    kbc_command(s, (uint8_t)val);
}

static void kbc_data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct kbc_state *s = opaque;
    s->status &= ~ST_CMD;
    kbc_data(s, (uint8_t)val);
}

/* ---- device ------------------------------------------------------------------ */

static const struct mem_region_ops kbc_data_ops = {
    .read = kbc_data_read,
    .write = kbc_data_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static const struct mem_region_ops kbc_cmd_ops = {
    .read = kbc_status_read,
    .write = kbc_cmd_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static int kbc_realize(struct device *dev, struct dm_err *err)
{
    struct kbc_state *s = (struct kbc_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "i8042: needs an ISA bus");
        return -EINVAL;
    }
    s->irq_kbd = dev_bus_irq(dev->bus, 1);
    s->irq_aux = dev_bus_irq(dev->bus, 12);
    mem_region_init_io(&s->io_data, "i8042-data", &kbc_data_ops, s, 1);
    mem_region_init_io(&s->io_cmd, "i8042-cmd", &kbc_cmd_ops, s, 1);
    mem_region_add_subregion(io, 0x60, &s->io_data, 0);
    mem_region_add_subregion(io, 0x64, &s->io_cmd, 0);
    s->mapped = true;
    return 0;
}

static void kbc_unrealize(struct device *dev)
{
    struct kbc_state *s = (struct kbc_state *)dev;
    if (s->mapped) {
        mem_region_del_subregion(s->io_data.parent, &s->io_data);
        mem_region_del_subregion(s->io_cmd.parent, &s->io_cmd);
        s->mapped = false;
    }
}

static void kbc_reset(struct device *dev)
{
    struct kbc_state *s = (struct kbc_state *)dev;
    memset(s->ram, 0, sizeof(s->ram));
    /* Power-on: both interrupts enabled, the system flag clear until the BIOS
     * runs the self-test or writes the command byte (IBM: "set to 0 after a
     * power-on reset"); the last access counts as a command. */
    s->ram[0] = CB_KBD_INT | CB_AUX_INT;
    s->status = ST_CMD;
    s->outport = OP_RESET_N | OP_A20;
    s->pending_cmd = 0;
    s->obuf = 0;
    s->obf = s->obf_aux = 0;
    s->q_head = s->q_count = 0;
    s->kbd_pending = 0;
    s->kbd_enabled = 1;
    s->kbd_scanset = 2;
    s->aux_pending = 0;
    s->aux_enabled = 0;
    s->aux_wrap = 0;
    s->aux_rate = 100;
    s->aux_resolution = 2;
    s->aux_scaling = 0;
    irq_set(s->irq_kbd, 0);
    irq_set(s->irq_aux, 0);
}

/* ---- state description ------------------------------------------------------- */

static int kbc_post_load(void *opaque, int version)
{
    struct kbc_state *s = opaque;
    /* queue indexes and flags as if the guest had produced them (CVE-2017-16845) */
    if (s->q_head >= KBC_QUEUE_SIZE || s->q_count > KBC_QUEUE_SIZE)
        return -EINVAL;
    s->obf = !!s->obf;
    s->obf_aux = !!s->obf_aux;
    for (unsigned i = 0; i < KBC_QUEUE_SIZE; i++)
        s->q_src[i] &= 1;
    kbc_update_irq(s);
    return 0;
}

static const struct vms_field kbc_fields[] = {
    VMS_BUFFER(struct kbc_state, ram),
    VMS_UINT8(struct kbc_state, status),
    VMS_UINT8(struct kbc_state, outport),
    VMS_UINT8(struct kbc_state, pending_cmd),
    VMS_UINT8(struct kbc_state, obuf),
    VMS_UINT8(struct kbc_state, obf),
    VMS_UINT8(struct kbc_state, obf_aux),
    VMS_BUFFER(struct kbc_state, q_data),
    VMS_BUFFER(struct kbc_state, q_src),
    VMS_UINT8(struct kbc_state, q_head),
    VMS_UINT8(struct kbc_state, q_count),
    VMS_UINT8(struct kbc_state, kbd_pending),
    VMS_UINT8(struct kbc_state, kbd_enabled),
    VMS_UINT8(struct kbc_state, kbd_scanset),
    VMS_UINT8(struct kbc_state, aux_pending),
    VMS_UINT8(struct kbc_state, aux_enabled),
    VMS_UINT8(struct kbc_state, aux_wrap),
    VMS_UINT8(struct kbc_state, aux_rate),
    VMS_UINT8(struct kbc_state, aux_resolution),
    VMS_UINT8(struct kbc_state, aux_scaling),
    VMS_END_OF_LIST,
};

static const struct vms_desc kbc_vmstate = {
    .name = "i8042",
    .version = 1,
    .min_version = 1,
    .fields = kbc_fields,
    .post_load = kbc_post_load,
};

const struct device_type i8042_type = {
    .name = "i8042",
    .desc = "Intel 8042 keyboard controller with PS/2 keyboard and mouse",
    .instance_size = sizeof(struct kbc_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .realize = kbc_realize,
    .reset = kbc_reset,
    .unrealize = kbc_unrealize,
    .vmstate = &kbc_vmstate,
};
