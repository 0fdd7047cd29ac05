/* System control port A at 0x92 ("fast A20"): bit 1 gates A20, a 0->1 write of
 * bit 0 resets the CPU.  Reference: IBM PS/2 Hardware Interface Technical
 * Reference, "System Control Port A"; Intel PIIX4 datasheet 4.1.x "Port 92h". */
#include "devices/port92.h"

#include <errno.h>

#include "dm/vmstate.h"

#define P92_RESET   0x01
#define P92_A20     0x02
#define P92_MASK    (P92_RESET | P92_A20)

static uint64_t port92_read(void *opaque, uint64_t addr, unsigned size)
{
    struct port92_state *s = opaque;
    return s->value;
}

static void port92_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct port92_state *s = opaque;
    uint8_t old = s->value;
    s->value = (uint8_t)val & P92_MASK;
    if ((old ^ s->value) & P92_A20)
        irq_set(s->a20_out, (s->value & P92_A20) != 0);
    if ((s->value & P92_RESET) && !(old & P92_RESET))
        irq_pulse(s->reset_out);
}

static const struct mem_region_ops port92_ops = {
    .read = port92_read,
    .write = port92_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static int port92_realize(struct device *dev, struct dm_err *err)
{
    struct port92_state *s = (struct port92_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "port92: needs an ISA bus");
        return -EINVAL;
    }
    mem_region_init_io(&s->io, "port92", &port92_ops, s, 1);
    mem_region_add_subregion(io, 0x92, &s->io, 0);
    s->mapped = true;
    return 0;
}

static void port92_unrealize(struct device *dev)
{
    struct port92_state *s = (struct port92_state *)dev;
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        s->mapped = false;
    }
}

static void port92_reset(struct device *dev)
{
    struct port92_state *s = (struct port92_state *)dev;
    s->value = 0;   /* the A20 output goes low; the machine resets its A20 state itself */
}

static int port92_post_load(void *opaque, int version)
{
    struct port92_state *s = opaque;
    s->value &= P92_MASK;
    return 0;
}

static const struct vms_field port92_fields[] = {
    VMS_UINT8(struct port92_state, value),
    VMS_END_OF_LIST,
};

static const struct vms_desc port92_vmstate = {
    .name = "port92",
    .version = 1,
    .min_version = 1,
    .fields = port92_fields,
    .post_load = port92_post_load,
};

const struct device_type port92_type = {
    .name = "port92",
    .desc = "System control port A (fast A20 and reset)",
    .instance_size = sizeof(struct port92_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .realize = port92_realize,
    .reset = port92_reset,
    .unrealize = port92_unrealize,
    .vmstate = &port92_vmstate,
};
