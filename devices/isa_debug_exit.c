/* isa-debug-exit: a test device (QEMU's, same command line and semantics): any
 * write of value v to its ports requests exit status (v << 1) | 1, so a guest
 * can never produce status 0 by accident.  The exit itself is the machine's
 * business: the handler it installs. */
#include "devices/isa_debug_exit.h"

#include <errno.h>

#include "dm/vmstate.h"

static uint64_t debug_exit_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct debug_exit_state *s = opaque;
    /* status is an int; QEMU truncates the same way (the value is at most 32 bits) */
    int code = (int)(((uint32_t)val << 1) | 1);
    s->last_code = code;
    if (s->handler)
        s->handler(s->handler_opaque, code);
}

static const struct mem_region_ops debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 4, .unaligned = true },
    .impl = { .min = 1, .max = 4, .unaligned = true },
};

static int debug_exit_realize(struct device *dev, struct dm_err *err)
{
    struct debug_exit_state *s = (struct debug_exit_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "isa-debug-exit: needs an ISA bus");
        return -EINVAL;
    }
    if (s->iosize == 0 || s->iobase + s->iosize > 0x10000) {
        dm_err_set(err, "isa-debug-exit: iobase 0x%x + iosize 0x%x leaves the port space",
                   s->iobase, s->iosize);
        return -ERANGE;
    }
    s->last_code = -1;
    mem_region_init_io(&s->io, "isa-debug-exit", &debug_exit_ops, s, s->iosize);
    mem_region_add_subregion(io, s->iobase, &s->io, 0);
    s->mapped = true;
    return 0;
}

static void debug_exit_unrealize(struct device *dev)
{
    struct debug_exit_state *s = (struct debug_exit_state *)dev;
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        s->mapped = false;
    }
}

static const struct vms_field debug_exit_fields[] = {
    VMS_END_OF_LIST,
};

static const struct vms_desc debug_exit_vmstate = {
    .name = "isa-debug-exit",
    .version = 1,
    .min_version = 1,
    .fields = debug_exit_fields,
};

static const struct dev_prop debug_exit_props[] = {
    DEV_PROP_U32("iobase", struct debug_exit_state, iobase, 0x501, 0, 0xFFFF, "first I/O port"),
    DEV_PROP_U32("iosize", struct debug_exit_state, iosize, 2, 1, 0x10000, "number of ports"),
    DEV_PROP_END,
};

const struct device_type isa_debug_exit_type = {
    .name = "isa-debug-exit",
    .desc = "exit the emulator with status (value << 1) | 1",
    .instance_size = sizeof(struct debug_exit_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = true,
    .props = debug_exit_props,
    .realize = debug_exit_realize,
    .unrealize = debug_exit_unrealize,
    .vmstate = &debug_exit_vmstate,
};

void isa_debug_exit_set_handler(struct device *dev, isa_debug_exit_fn *fn, void *opaque)
{
    if (!dev || dev->type != &isa_debug_exit_type)
        return;
    struct debug_exit_state *s = (struct debug_exit_state *)dev;
    s->handler = fn;
    s->handler_opaque = opaque;
}
