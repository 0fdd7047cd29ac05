/* Fuzz target: the -device, -chardev and -serial option parsers.  Byte 0 picks
 * the parser, the rest is the option string.  -device really creates (and then
 * frees) devices of a test type that has every property kind; -chardev and
 * -serial are only parsed, never opened (no files or sockets from fuzz input). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm/chardev.h"
#include "dm/device.h"
#include "dm/opts.h"
#include "dm/vmstate.h"

struct fzdev {
    struct device dev;
    bool b;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    char *s;
    struct chardev *chr;
};

static const struct dev_prop fz_props[] = {
    DEV_PROP_BOOL("b", struct fzdev, b, false, NULL),
    DEV_PROP_U8("u8", struct fzdev, u8, 4, 1, 15, NULL),
    DEV_PROP_U16("iobase", struct fzdev, u16, 0x3f8, 0, 0xffff, NULL),
    DEV_PROP_U32("u32", struct fzdev, u32, 0, 0, 0, NULL),
    DEV_PROP_U64("u64", struct fzdev, u64, 0, 0, UINT64_MAX, NULL),
    DEV_PROP_I32("i32", struct fzdev, i32, -1, -100, 100, NULL),
    DEV_PROP_STRING("s", struct fzdev, s, "default", NULL),
    DEV_PROP_CHARDEV("chardev", struct fzdev, chr, NULL),
    DEV_PROP_END,
};

static int fz_realize(struct device *dev, struct dm_err *err)
{
    struct fzdev *d = (struct fzdev *)dev;
    /* a realize that can fail, so the error path is fuzzed too */
    if (d->u8 == 13) {
        dm_err_set(err, "unlucky");
        return -EINVAL;
    }
    return 0;
}

static const struct vms_field fz_fields[] = { VMS_UINT8(struct fzdev, u8), VMS_END_OF_LIST };
static const struct vms_desc fz_vms = { .name = "fz", .version = 1, .fields = fz_fields };

static const struct device_type fz_type = {
    .name = "fzdev", .instance_size = sizeof(struct fzdev), .bus = DEV_BUS_ISA,
    .user_creatable = true, .props = fz_props, .realize = fz_realize, .vmstate = &fz_vms,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dm_ctx ctx;
    static struct dev_bus sysbus, isa;
    static struct dev_registry *reg;
    struct dm_err err;
    char *s;

    if (!reg) {
        struct chardev *c;
        reg = dev_registry_new();
        dev_registry_add(reg, &fz_type);
        ctx.types = reg;
        ctx.chardevs = chardev_set_new(NULL);
        chardev_new_from_opts(ctx.chardevs, "ringbuf,id=c0", &c, NULL);
        dev_bus_init(&sysbus, &ctx, "main-system-bus", DEV_BUS_SYSTEM, NULL);
        dev_bus_init(&isa, &ctx, "isa.0", DEV_BUS_ISA, NULL);
    }
    if (size < 1)
        return 0;
    /* Half the inputs get a valid head, so the fuzzer spends its time on the
     * options rather than on the backend or device name. */
    static const char *const heads[4][4] = {
        { "fzdev,", "fzdev,chardev=", "fzdev,bus=isa.0,", "fzdev,id=" },
        { "socket,id=a,", "file,id=b,", "ringbuf,id=c,", "stdio,id=d," },
        { "tcp:", "unix:", "mon:", "file:" },
        { "", "x=", ",", "a=b," },
    };
    const char *head = data[0] & 4 ? heads[data[0] % 4][(data[0] >> 3) % 4] : "";
    size_t hl = strlen(head);
    s = malloc(hl + size);
    memcpy(s, head, hl);
    memcpy(s + hl, data + 1, size - 1);
    s[hl + size - 1] = 0;
    switch (data[0] % 4) {
    case 0: {
        struct device *dev;
        /* "help" would print the type list on every hit */
        if (!strstr(s, "help") && !strchr(s, '?') &&
            device_create_from_opts(&ctx, s, &dev, &err) == 0 && dev) {
            struct fzdev *d = (struct fzdev *)dev;
            if (d->u8 < 1 || d->u8 > 15 || d->i32 < -100 || d->i32 > 100 || !d->s)
                abort();
            device_free(dev);
        }
        if (ctx.devices)
            abort();        /* a failed create must leave nothing behind */
        break;
    }
    case 1: {
        char backend[16];
        chardev_parse_check(s, backend, sizeof(backend), &err);
        break;
    }
    case 2:
        chardev_shorthand_check(s, &err);
        break;
    case 3: {
        struct opts o;
        uint64_t v;
        if (opts_parse(&o, s, "driver", &err) == 0) {
            opts_get(&o, "driver");
            opts_get_u64(&o, "size", 0, &v, &err);
            opts_check_unused(&o, "fuzz", &err);
            opts_free(&o);
        }
        dm_parse_size(s, &v);
        break;
    }
    }
    free(s);
    return 0;
}
