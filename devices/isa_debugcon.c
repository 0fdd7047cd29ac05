/* Debug console port: the Bochs "port 0xE9 hack" as QEMU's isa-debugcon offers
 * it.  A write sends the byte to the chardev; a read returns the readback value
 * (0xE9 by default) so software can detect the port.  No state to migrate but
 * the description exists, empty, so the device can be snapshotted. */
#include "devices/isa_debugcon.h"

#include <errno.h>

#include "dm/vmstate.h"

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    struct debugcon_state *s = opaque;
    return s->readback & 0xFF;
}

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct debugcon_state *s = opaque;
    uint8_t b = (uint8_t)val;
    chardev_fe_write(&s->chr, &b, 1);
}

static const struct mem_region_ops debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 1 },
    .impl = { .min = 1, .max = 1 },
};

static int debugcon_realize(struct device *dev, struct dm_err *err)
{
    struct debugcon_state *s = (struct debugcon_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "isa-debugcon: needs an ISA bus");
        return -EINVAL;
    }
    if (s->backend) {
        int r = chardev_fe_attach(&s->chr, s->backend, NULL, NULL, NULL, s);
        if (r < 0) {
            dm_err_set(err, "isa-debugcon: chardev '%s' is already in use", chardev_id(s->backend));
            return r;
        }
    }
    mem_region_init_io(&s->io, "isa-debugcon", &debugcon_ops, s, 1);
    mem_region_add_subregion(io, s->iobase, &s->io, 0);
    s->mapped = true;
    return 0;
}

static void debugcon_unrealize(struct device *dev)
{
    struct debugcon_state *s = (struct debugcon_state *)dev;
    if (s->chr.chr)
        chardev_fe_detach(&s->chr);
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        s->mapped = false;
    }
}

static const struct vms_field debugcon_fields[] = {
    VMS_END_OF_LIST,
};

static const struct vms_desc debugcon_vmstate = {
    .name = "isa-debugcon",
    .version = 1,
    .min_version = 1,
    .fields = debugcon_fields,
};

static const struct dev_prop debugcon_props[] = {
    DEV_PROP_U32("iobase", struct debugcon_state, iobase, 0xE9, 0, 0xFFFF, "I/O port"),
    DEV_PROP_U32("readback", struct debugcon_state, readback, 0xE9, 0, 0xFF,
                 "value a read returns"),
    DEV_PROP_CHARDEV("chardev", struct debugcon_state, backend, "where the bytes go"),
    DEV_PROP_END,
};

const struct device_type isa_debugcon_type = {
    .name = "isa-debugcon",
    .desc = "ISA debug console port (Bochs 0xE9 style)",
    .instance_size = sizeof(struct debugcon_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = true,
    .props = debugcon_props,
    .realize = debugcon_realize,
    .unrealize = debugcon_unrealize,
    .vmstate = &debugcon_vmstate,
};
