/* Device types, properties, instances, buses and the qtree: see dm/device.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dm/chardev.h"
#include "dm/device.h"
#include "dm/opts.h"
#include "dm/pci.h"

/* ---- registry --------------------------------------------------------------- */

struct dev_registry {
    const struct device_type **types;
    unsigned n, cap;
};

struct dev_registry *dev_registry_new(void)
{
    return calloc(1, sizeof(struct dev_registry));
}

void dev_registry_free(struct dev_registry *r)
{
    if (r) {
        free(r->types);
        free(r);
    }
}

int dev_registry_add(struct dev_registry *r, const struct device_type *type)
{
    if (dev_registry_find(r, type->name))
        return -EEXIST;
    if (r->n == r->cap) {
        unsigned cap = r->cap ? r->cap * 2 : 32;
        const struct device_type **t = realloc(r->types, cap * sizeof(*t));
        if (!t)
            return -ENOMEM;
        r->types = t;
        r->cap = cap;
    }
    r->types[r->n++] = type;
    return 0;
}

const struct device_type *dev_registry_find(const struct dev_registry *r, const char *name)
{
    if (!r)
        return NULL;
    for (unsigned i = 0; i < r->n; i++)
        if (!strcmp(r->types[i]->name, name))
            return r->types[i];
    return NULL;
}

const struct device_type *dev_registry_get(const struct dev_registry *r, unsigned i)
{
    return r && i < r->n ? r->types[i] : NULL;
}

static const char *bus_kind_name(enum dev_bus_kind k)
{
    switch (k) {
    case DEV_BUS_NONE: return "none";
    case DEV_BUS_SYSTEM: return "System";
    case DEV_BUS_ISA: return "ISA";
    case DEV_BUS_PCI: return "PCI";
    }
    return "?";
}

void dev_registry_print(const struct dev_registry *r, FILE *f)
{
    fprintf(f, "Devices (-device NAME,help lists the properties):\n");
    for (unsigned i = 0; r && i < r->n; i++) {
        const struct device_type *t = r->types[i];
        if (!t->user_creatable)
            continue;
        fprintf(f, "name \"%s\", bus %s%s%s\n", t->name, bus_kind_name(t->bus),
                t->desc ? ", desc \"" : "", t->desc ? t->desc : "");
        if (t->desc)
            fprintf(f, "\"\n");
    }
}

static const char *prop_type_name(enum dev_prop_type t)
{
    switch (t) {
    case DEV_PROP_BOOL: return "bool";
    case DEV_PROP_U8: return "uint8";
    case DEV_PROP_U16: return "uint16";
    case DEV_PROP_U32: return "uint32";
    case DEV_PROP_U64: return "uint64";
    case DEV_PROP_I32: return "int32";
    case DEV_PROP_STRING: return "str";
    case DEV_PROP_CHARDEV: return "chardev";
    case DEV_PROP_PCI_DEVFN: return "pci-devfn";
    case DEV_PROP_MACADDR: return "macaddr";
    case DEV_PROP_SIZE: return "size";
    }
    return "?";
}

static void print_props(const struct dev_prop *p, FILE *f)
{
    for (; p && p->name; p++) {
        fprintf(f, "  %s=<%s>", p->name, prop_type_name(p->type));
        if (p->help)
            fprintf(f, " - %s", p->help);
        switch (p->type) {
        case DEV_PROP_BOOL:
            fprintf(f, " (default: %s)", p->def ? "on" : "off");
            break;
        case DEV_PROP_U8: case DEV_PROP_U16: case DEV_PROP_U32: case DEV_PROP_U64:
            fprintf(f, " (default: 0x%" PRIx64 ")", p->def);
            break;
        case DEV_PROP_I32:
            fprintf(f, " (default: %" PRId64 ")", (int64_t)p->def);
            break;
        case DEV_PROP_STRING:
        case DEV_PROP_MACADDR:
            if (p->def_str)
                fprintf(f, " (default: \"%s\")", p->def_str);
            break;
        case DEV_PROP_SIZE:
            fprintf(f, " (default: %" PRIu64 ")", p->def);
            break;
        default:
            break;
        }
        fputc('\n', f);
    }
}

void device_type_print_props(const struct device_type *type, FILE *f)
{
    fprintf(f, "%s options:\n", type->name);
    print_props(type->props, f);
    if (type->bus == DEV_BUS_PCI)
        print_props(pci_device_common_props, f);
}

/* ---- buses ------------------------------------------------------------------ */

void dev_bus_init(struct dev_bus *bus, struct dm_ctx *ctx, const char *name,
                  enum dev_bus_kind kind, struct device *owner)
{
    struct dev_bus **pp;

    memset(bus, 0, sizeof(*bus));
    bus->name = name;
    bus->kind = kind;
    bus->ctx = ctx;
    bus->owner = owner;
    for (pp = &ctx->root_bus; *pp; pp = &(*pp)->next)
        ;
    *pp = bus;
}

struct irq_line *dev_bus_irq(struct dev_bus *bus, unsigned n)
{
    if (!bus || !bus->irqs || n >= bus->n_irqs)
        return NULL;
    return bus->irqs[n];
}

struct dev_bus *dm_find_bus(struct dm_ctx *ctx, const char *name, enum dev_bus_kind kind)
{
    for (struct dev_bus *b = ctx->root_bus; b; b = b->next) {
        if (name ? !strcmp(b->name, name) : b->kind == kind)
            return b;
    }
    return NULL;
}

static void bus_unlink(struct dm_ctx *ctx, struct dev_bus *bus)
{
    for (struct dev_bus **pp = &ctx->root_bus; *pp; pp = &(*pp)->next) {
        if (*pp == bus) {
            *pp = bus->next;
            return;
        }
    }
}

/* ---- properties ------------------------------------------------------------- */

static const struct dev_prop *find_prop_in(const struct dev_prop *p, const char *name)
{
    for (; p && p->name; p++)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static const struct dev_prop *find_prop(struct device *dev, const char *name)
{
    const struct dev_prop *p = find_prop_in(dev->type->props, name);

    if (!p && dev->bus)
        p = find_prop_in(dev->bus->child_props, name);
    return p;
}

static void store_uint(void *field, enum dev_prop_type t, uint64_t v)
{
    switch (t) {
    case DEV_PROP_BOOL: *(bool *)field = v != 0; break;
    case DEV_PROP_U8: case DEV_PROP_PCI_DEVFN: *(uint8_t *)field = (uint8_t)v; break;
    case DEV_PROP_U16: *(uint16_t *)field = (uint16_t)v; break;
    case DEV_PROP_U32: *(uint32_t *)field = (uint32_t)v; break;
    case DEV_PROP_U64: case DEV_PROP_SIZE: *(uint64_t *)field = v; break;
    case DEV_PROP_I32: *(int32_t *)field = (int32_t)(int64_t)v; break;
    default: break;
    }
}

static uint64_t type_max(enum dev_prop_type t)
{
    switch (t) {
    case DEV_PROP_U8: return UINT8_MAX;
    case DEV_PROP_U16: return UINT16_MAX;
    case DEV_PROP_U32: return UINT32_MAX;
    default: return UINT64_MAX;
    }
}

/* "52:54:00:12:34:56": six two-digit hex bytes */
static int parse_mac(const char *s, uint8_t *mac)
{
    for (int i = 0; i < 6; i++) {
        char *end;
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
            return -EINVAL;
        mac[i] = (uint8_t)strtoul((char[3]){ s[0], s[1], 0 }, &end, 16);
        s += 2;
        if (i < 5 && *s++ != ':')
            return -EINVAL;
    }
    return *s ? -EINVAL : 0;
}

static int apply_defaults(struct device *dev, const struct dev_prop *p)
{
    for (; p && p->name; p++) {
        void *field = (char *)dev + p->offset;
        if (p->type == DEV_PROP_STRING) {
            if (p->def_str && !(*(char **)field = strdup(p->def_str)))
                return -ENOMEM;
        } else if (p->type == DEV_PROP_MACADDR) {
            if (p->def_str && parse_mac(p->def_str, field) < 0)
                return -EINVAL;
        } else if (p->type != DEV_PROP_CHARDEV) {
            store_uint(field, p->type, p->def);
        }
    }
    return 0;
}

static int parse_devfn(const char *s, uint64_t *out)
{
    char *end;
    unsigned long slot, fn = 0;

    if (!*s)
        return -EINVAL;
    slot = strtoul(s, &end, 16);
    if (end == s || slot > 31)
        return -EINVAL;
    if (*end == '.') {
        const char *f = end + 1;
        if (*f < '0' || *f > '7' || f[1])
            return -EINVAL;
        fn = (unsigned long)(*f - '0');
    } else if (*end) {
        return -EINVAL;
    }
    *out = PCI_DEVFN(slot, fn);
    return 0;
}

int device_set_prop(struct device *dev, const char *name, const char *value, struct dm_err *err)
{
    const struct dev_prop *p = find_prop(dev, name);
    const char *tn = dev->type->name;
    void *field;
    uint64_t v;

    if (!p) {
        dm_err_set(err, "device '%s' has no property '%s' (try -device %s,help)", tn, name, tn);
        return -ENOENT;
    }
    if (dev->realized) {
        dm_err_set(err, "device '%s': property '%s' cannot change after realize", tn, name);
        return -EBUSY;
    }
    if (!value) {
        /* a bare flag is "on" for booleans only */
        if (p->type != DEV_PROP_BOOL) {
            dm_err_set(err, "device '%s': property '%s' needs a value", tn, name);
            return -EINVAL;
        }
        value = "on";
    }
    field = (char *)dev + p->offset;
    switch (p->type) {
    case DEV_PROP_BOOL: {
        bool b;
        if (dm_parse_bool(value, &b) < 0) {
            dm_err_set(err, "device '%s': property '%s': '%s' is not on/off", tn, name, value);
            return -EINVAL;
        }
        *(bool *)field = b;
        return 0;
    }
    case DEV_PROP_U8: case DEV_PROP_U16: case DEV_PROP_U32: case DEV_PROP_U64: {
        uint64_t lo = p->min, hi = p->max ? p->max : type_max(p->type);
        if (hi > type_max(p->type))
            hi = type_max(p->type);
        if (dm_parse_u64(value, &v) < 0) {
            dm_err_set(err, "device '%s': property '%s': '%s' is not a number", tn, name, value);
            return -EINVAL;
        }
        if (v < lo || v > hi) {
            dm_err_set(err, "device '%s': property '%s': %s is out of range (0x%" PRIx64
                       "..0x%" PRIx64 ")", tn, name, value, lo, hi);
            return -ERANGE;
        }
        store_uint(field, p->type, v);
        return 0;
    }
    case DEV_PROP_I32: {
        char *end;
        long long s;
        int64_t lo = (int64_t)p->min, hi = (int64_t)p->max;
        if (!p->min && !p->max) {
            lo = INT32_MIN;
            hi = INT32_MAX;
        }
        errno = 0;
        s = strtoll(value, &end, 0);
        if (errno || end == value || *end) {
            dm_err_set(err, "device '%s': property '%s': '%s' is not a number", tn, name, value);
            return -EINVAL;
        }
        if (s < lo || s > hi || s < INT32_MIN || s > INT32_MAX) {
            dm_err_set(err, "device '%s': property '%s': %s is out of range (%" PRId64 "..%"
                       PRId64 ")", tn, name, value, lo, hi);
            return -ERANGE;
        }
        *(int32_t *)field = (int32_t)s;
        return 0;
    }
    case DEV_PROP_STRING: {
        char *c = strdup(value);
        if (!c)
            return -ENOMEM;
        free(*(char **)field);
        *(char **)field = c;
        return 0;
    }
    case DEV_PROP_CHARDEV: {
        struct chardev *c = dev->ctx->chardevs ? chardev_find(dev->ctx->chardevs, value) : NULL;
        if (!c) {
            dm_err_set(err, "device '%s': property '%s': no chardev with id '%s'", tn, name, value);
            return -ENOENT;
        }
        *(struct chardev **)field = c;
        return 0;
    }
    case DEV_PROP_MACADDR:
        if (parse_mac(value, field) < 0) {
            dm_err_set(err, "device '%s': property '%s': '%s' is not a MAC address "
                       "(xx:xx:xx:xx:xx:xx)", tn, name, value);
            return -EINVAL;
        }
        return 0;
    case DEV_PROP_SIZE: {
        uint64_t lo = p->min, hi = p->max ? p->max : UINT64_MAX;
        int r = dm_parse_size(value, &v);
        if (r < 0) {
            dm_err_set(err, "device '%s': property '%s': '%s' is not a size (e.g. 16M)", tn, name, value);
            return r;
        }
        if (v < lo || v > hi) {
            dm_err_set(err, "device '%s': property '%s': %s is out of range (%" PRIu64 "..%" PRIu64 ")",
                       tn, name, value, lo, hi);
            return -ERANGE;
        }
        *(uint64_t *)field = v;
        return 0;
    }
    case DEV_PROP_PCI_DEVFN:
        if (parse_devfn(value, &v) < 0) {
            dm_err_set(err, "device '%s': property '%s': '%s' is not a PCI address "
                       "(SLOT or SLOT.FN in hex, slot < 0x20)", tn, name, value);
            return -EINVAL;
        }
        store_uint(field, p->type, v);
        return 0;
    }
    return -EINVAL;
}

static int format_prop(struct device *dev, const struct dev_prop *p, char *buf, size_t len)
{
    void *field = (char *)dev + p->offset;

    switch (p->type) {
    case DEV_PROP_BOOL: return snprintf(buf, len, "%s", *(bool *)field ? "on" : "off");
    case DEV_PROP_U8: return snprintf(buf, len, "%u", *(uint8_t *)field);
    case DEV_PROP_U16: return snprintf(buf, len, "%u", *(uint16_t *)field);
    case DEV_PROP_U32: return snprintf(buf, len, "%u", *(uint32_t *)field);
    case DEV_PROP_U64: return snprintf(buf, len, "%" PRIu64, *(uint64_t *)field);
    case DEV_PROP_I32: return snprintf(buf, len, "%d", *(int32_t *)field);
    case DEV_PROP_STRING: {
        const char *s = *(char **)field;
        return snprintf(buf, len, "%s", s ? s : "");
    }
    case DEV_PROP_CHARDEV: {
        struct chardev *c = *(struct chardev **)field;
        return snprintf(buf, len, "%s", c ? chardev_id(c) : "");
    }
    case DEV_PROP_MACADDR: {
        const uint8_t *m = field;
        return snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    }
    case DEV_PROP_SIZE: return snprintf(buf, len, "%" PRIu64, *(uint64_t *)field);
    case DEV_PROP_PCI_DEVFN: {
        uint8_t d = *(uint8_t *)field;
        if (d == 0xff)
            return snprintf(buf, len, "auto");
        return snprintf(buf, len, "%02x.%u", PCI_SLOT(d), PCI_FUNC(d));
    }
    }
    return -EINVAL;
}

int device_get_prop(struct device *dev, const char *name, char *buf, size_t len)
{
    const struct dev_prop *p = find_prop(dev, name);

    if (!p)
        return -ENOENT;
    format_prop(dev, p, buf, len);
    return 0;
}

/* ---- instances -------------------------------------------------------------- */

int device_new(struct dm_ctx *ctx, const struct device_type *type, struct dev_bus *bus,
               const char *id, struct device **out, struct dm_err *err)
{
    struct device *dev, **pp;

    *out = NULL;
    if (type->instance_size < sizeof(struct device)) {
        dm_err_set(err, "device type '%s' has an invalid instance size", type->name);
        return -EINVAL;
    }
    if (!bus) {
        if (type->bus == DEV_BUS_ISA || type->bus == DEV_BUS_PCI) {
            bus = dm_find_bus(ctx, NULL, type->bus);
            if (!bus) {
                dm_err_set(err, "device '%s' needs a%s %s bus and this machine has none",
                           type->name, type->bus == DEV_BUS_ISA ? "n" : "", bus_kind_name(type->bus));
                return -ENODEV;
            }
        } else {
            bus = ctx->root_bus;
        }
    } else if (type->bus != DEV_BUS_NONE && type->bus != DEV_BUS_SYSTEM && bus->kind != type->bus) {
        dm_err_set(err, "device '%s' plugs into a %s bus, but bus '%s' is %s", type->name,
                   bus_kind_name(type->bus), bus->name, bus_kind_name(bus->kind));
        return -EINVAL;
    }
    if (id && dm_find_device(ctx, id)) {
        dm_err_set(err, "device id '%s' is already in use", id);
        return -EEXIST;
    }
    dev = calloc(1, type->instance_size);
    if (!dev) {
        dm_err_set(err, "out of memory creating device '%s'", type->name);
        return -ENOMEM;
    }
    dev->type = type;
    dev->ctx = ctx;
    dev->bus = bus;
    if ((id && !(dev->id = strdup(id))) || apply_defaults(dev, type->props) < 0 ||
        (bus && apply_defaults(dev, bus->child_props) < 0)) {
        dm_err_set(err, "out of memory creating device '%s'", type->name);
        free(dev->id);
        free(dev);
        return -ENOMEM;
    }
    for (pp = &ctx->devices; *pp; pp = &(*pp)->ctx_next)
        ;
    *pp = dev;
    if (bus) {
        for (pp = &bus->children; *pp; pp = &(*pp)->bus_next)
            ;
        *pp = dev;
    }
    *out = dev;
    return 0;
}

int device_realize(struct device *dev, struct dm_err *err)
{
    int ret;

    if (dev->realized)
        return 0;
    if (dev->bus && dev->bus->plug) {
        ret = dev->bus->plug(dev->bus, dev, err);
        if (ret < 0)
            return ret;
    }
    if (dev->type->realize) {
        ret = dev->type->realize(dev, err);
        if (ret < 0) {
            if (dev->bus && dev->bus->unplug)
                dev->bus->unplug(dev->bus, dev);
            if (err && !err->msg[0])
                dm_err_set(err, "device '%s' failed to start: %s", dev->type->name, strerror(-ret));
            return ret;
        }
    }
    dev->realized = true;
    device_reset(dev);
    return 0;
}

void device_reset(struct device *dev)
{
    if (!dev->realized)
        return;
    if (dev->type->bus == DEV_BUS_PCI)
        pci_device_reset((struct pci_device *)dev);
    if (dev->type->reset)
        dev->type->reset(dev);
}

void device_free(struct device *dev)
{
    struct device **pp;
    struct dm_ctx *ctx = dev->ctx;

    /* Devices plugged into buses this device provides go first. */
    for (struct dev_bus *b = ctx->root_bus; b; b = b->next)
        if (b->owner == dev)
            while (b->children)
                device_free(b->children);
    if (dev->realized) {
        if (dev->type->unrealize)
            dev->type->unrealize(dev);
        if (dev->bus && dev->bus->unplug)
            dev->bus->unplug(dev->bus, dev);
        dev->realized = false;
    }
    /* Buses this device provides go with it. */
    for (struct dev_bus *b = ctx->root_bus, *next; b; b = next) {
        next = b->next;
        if (b->owner == dev)
            bus_unlink(ctx, b);
    }
    for (const struct dev_prop *p = dev->type->props; p && p->name; p++)
        if (p->type == DEV_PROP_STRING)
            free(*(char **)((char *)dev + p->offset));
    if (dev->bus) {
        for (pp = &dev->bus->children; *pp; pp = &(*pp)->bus_next) {
            if (*pp == dev) {
                *pp = dev->bus_next;
                break;
            }
        }
    }
    for (pp = &ctx->devices; *pp; pp = &(*pp)->ctx_next) {
        if (*pp == dev) {
            *pp = dev->ctx_next;
            break;
        }
    }
    free(dev->id);
    free(dev);
}

void dm_reset_all(struct dm_ctx *ctx)
{
    for (struct device *d = ctx->devices; d; d = d->ctx_next)
        device_reset(d);
}

void dm_free_all_devices(struct dm_ctx *ctx)
{
    /* Reverse creation order: children (created later) go before their bus owner. */
    while (ctx->devices) {
        struct device *last = ctx->devices;
        while (last->ctx_next)
            last = last->ctx_next;
        device_free(last);
    }
}

struct device *dm_find_device(struct dm_ctx *ctx, const char *id)
{
    for (struct device *d = ctx->devices; d; d = d->ctx_next)
        if (d->id && !strcmp(d->id, id))
            return d;
    return NULL;
}

static void print_bus(struct dev_bus *bus, FILE *f, int indent);

static void print_dev_props(struct device *dev, const struct dev_prop *p, FILE *f, int indent)
{
    char buf[128];

    for (; p && p->name; p++) {
        format_prop(dev, p, buf, sizeof(buf));
        fprintf(f, "%*s%s = \"%s\"\n", indent, "", p->name, buf);
    }
}

static void print_device(struct device *dev, FILE *f, int indent)
{
    fprintf(f, "%*sdev: %s, id \"%s\"\n", indent, "", dev->type->name, dev->id ? dev->id : "");
    print_dev_props(dev, dev->type->props, f, indent + 2);
    if (dev->bus)
        print_dev_props(dev, dev->bus->child_props, f, indent + 2);
    if (dev->type->print)
        dev->type->print(dev, f, indent + 2);
    for (struct dev_bus *b = dev->ctx->root_bus; b; b = b->next)
        if (b->owner == dev)
            print_bus(b, f, indent + 2);
}

static void print_bus(struct dev_bus *bus, FILE *f, int indent)
{
    fprintf(f, "%*sbus: %s\n", indent, "", bus->name);
    fprintf(f, "%*stype %s\n", indent + 2, "", bus_kind_name(bus->kind));
    if (indent > 40)
        return;
    for (struct device *d = bus->children; d; d = d->bus_next)
        print_device(d, f, indent + 2);
}

void dm_print_qtree(struct dm_ctx *ctx, FILE *f)
{
    /* the root bus, then buses no device owns */
    for (struct dev_bus *b = ctx->root_bus; b; b = b->next)
        if (!b->owner)
            print_bus(b, f, 0);
    /* Devices without a bus (machine internals) */
    for (struct device *d = ctx->devices; d; d = d->ctx_next)
        if (!d->bus)
            print_device(d, f, 0);
}

/* ---- -device ---------------------------------------------------------------- */

int device_create_from_opts(struct dm_ctx *ctx, const char *str, struct device **out,
                            struct dm_err *err)
{
    struct opts o;
    const struct device_type *type;
    const char *name, *id, *busname;
    struct dev_bus *bus = NULL;
    struct device *dev;
    int ret;

    *out = NULL;
    ret = opts_parse(&o, str, "driver", err);
    if (ret < 0)
        return ret;
    name = opts_get(&o, "driver");
    if (!name || !*name) {
        dm_err_set(err, "-device: missing device name");
        ret = -EINVAL;
        goto out;
    }
    if (!strcmp(name, "help") || !strcmp(name, "?")) {
        dev_registry_print(ctx->types, stdout);
        ret = 1;
        goto out;
    }
    type = dev_registry_find(ctx->types, name);
    if (!type) {
        dm_err_set(err, "-device '%s': unknown device type (try -device help)", name);
        ret = -ENOENT;
        goto out;
    }
    if (opts_has(&o, "help") || opts_has(&o, "?")) {
        device_type_print_props(type, stdout);
        ret = 1;
        goto out;
    }
    if (!type->user_creatable) {
        dm_err_set(err, "-device '%s': this device cannot be created with -device", name);
        ret = -EPERM;
        goto out;
    }
    id = opts_get(&o, "id");
    busname = opts_get(&o, "bus");
    if (busname) {
        bus = dm_find_bus(ctx, busname, DEV_BUS_NONE);
        if (!bus) {
            dm_err_set(err, "-device '%s': no bus named '%s'", name, busname);
            ret = -ENOENT;
            goto out;
        }
    }
    ret = device_new(ctx, type, bus, id, &dev, err);
    if (ret < 0)
        goto out;
    for (unsigned i = 0; i < o.n; i++) {
        const char *k = o.items[i].key;
        if (!strcmp(k, "driver") || !strcmp(k, "id") || !strcmp(k, "bus"))
            continue;
        ret = device_set_prop(dev, k, o.items[i].value, err);
        if (ret < 0) {
            device_free(dev);
            goto out;
        }
    }
    ret = device_realize(dev, err);
    if (ret < 0) {
        device_free(dev);
        goto out;
    }
    *out = dev;
out:
    opts_free(&o);
    return ret;
}
