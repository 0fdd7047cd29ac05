/* Devices: const type descriptors, typed properties, instances, buses.
 *
 * A device type is a const `struct device_type`.  An instance is one zeroed
 * allocation of type->instance_size whose first member is `struct device` (or a
 * struct that starts with it, such as `struct pci_device`).  Lifecycle:
 * device_new() -> properties set (defaults first, then device_set_prop) ->
 * device_realize() (which also resets the device to its power-on state) ->
 * device_reset() at every machine reset -> device_free().
 *
 * Types live in an explicit registry that the program fills in a fixed order
 * (no constructor tricks).  No device keeps static mutable state: all state is in
 * the instance, so any type can be instantiated many times in one process. */
#ifndef DM_DEVICE_H
#define DM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dm/dm.h"
#include "dm/log.h"

struct device;
struct vms_desc;
struct chardev;
struct irq_line;
struct mem_region;
struct address_space;

/* ---- properties ------------------------------------------------------------- */

enum dev_prop_type {
    DEV_PROP_BOOL,      /* bool: on/off, true/false, yes/no, 1/0 */
    DEV_PROP_U8,        /* unsigned, decimal or 0x hex, in [min, max] */
    DEV_PROP_U16,
    DEV_PROP_U32,
    DEV_PROP_U64,
    DEV_PROP_I32,       /* signed, in [(int64_t)min, (int64_t)max] */
    DEV_PROP_STRING,    /* char * (owned by the device, freed by device_free) */
    DEV_PROP_CHARDEV,   /* struct chardev *, named by chardev id */
    DEV_PROP_PCI_DEVFN, /* u8 devfn: "SLOT" or "SLOT.FN" (hex, as in QEMU's addr=) */
    DEV_PROP_MACADDR,   /* uint8_t[6]: "52:54:00:12:34:56"; default from def_str */
    DEV_PROP_SIZE,      /* u64 with k/M/G/T suffix ("16M"), in [min, max] */
};

struct dev_prop {
    const char *name;
    enum dev_prop_type type;
    size_t offset;              /* inside the instance */
    uint64_t def;               /* default for integers and bools */
    const char *def_str;        /* default for strings (may be NULL) */
    uint64_t min, max;          /* integer range (I32: as int64_t) */
    const char *help;
};

#define DEV_PROP_BOOL_(nm, st, fld, d, h) \
    { .name = nm, .type = DEV_PROP_BOOL, .offset = offsetof(st, fld), .def = (d), .max = 1, .help = h }
#define DEV_PROP_UINT_(ty, nm, st, fld, d, lo, hi, h) \
    { .name = nm, .type = ty, .offset = offsetof(st, fld), .def = (d), .min = (lo), .max = (hi), .help = h }
/* Property helpers: name, state struct, field, default[, min, max], help. */
#define DEV_PROP_BOOL(nm, st, fld, d, h)        DEV_PROP_BOOL_(nm, st, fld, d, h)
#define DEV_PROP_U8(nm, st, fld, d, lo, hi, h)  DEV_PROP_UINT_(DEV_PROP_U8, nm, st, fld, d, lo, hi, h)
#define DEV_PROP_U16(nm, st, fld, d, lo, hi, h) DEV_PROP_UINT_(DEV_PROP_U16, nm, st, fld, d, lo, hi, h)
#define DEV_PROP_U32(nm, st, fld, d, lo, hi, h) DEV_PROP_UINT_(DEV_PROP_U32, nm, st, fld, d, lo, hi, h)
#define DEV_PROP_U64(nm, st, fld, d, lo, hi, h) DEV_PROP_UINT_(DEV_PROP_U64, nm, st, fld, d, lo, hi, h)
#define DEV_PROP_I32(nm, st, fld, d, lo, hi, h) \
    { .name = nm, .type = DEV_PROP_I32, .offset = offsetof(st, fld), .def = (uint64_t)(int64_t)(d), \
      .min = (uint64_t)(int64_t)(lo), .max = (uint64_t)(int64_t)(hi), .help = h }
#define DEV_PROP_STRING(nm, st, fld, d, h) \
    { .name = nm, .type = DEV_PROP_STRING, .offset = offsetof(st, fld), .def_str = d, .help = h }
#define DEV_PROP_CHARDEV(nm, st, fld, h) \
    { .name = nm, .type = DEV_PROP_CHARDEV, .offset = offsetof(st, fld), .help = h }
#define DEV_PROP_MACADDR(nm, st, fld, d, h) \
    { .name = nm, .type = DEV_PROP_MACADDR, .offset = offsetof(st, fld), .def_str = d, .help = h }
#define DEV_PROP_SIZE(nm, st, fld, d, lo, hi, h) DEV_PROP_UINT_(DEV_PROP_SIZE, nm, st, fld, d, lo, hi, h)
#define DEV_PROP_END { .name = NULL }

/* ---- types ------------------------------------------------------------------ */

enum dev_bus_kind {
    DEV_BUS_NONE,       /* not pluggable: created by machines only */
    DEV_BUS_SYSTEM,     /* "sysbus": machine-wired devices */
    DEV_BUS_ISA,
    DEV_BUS_PCI,
};

struct device_type {
    const char *name;           /* "isa-serial", "e1000" */
    const char *desc;           /* one line for `-device help` */
    size_t instance_size;
    enum dev_bus_kind bus;      /* which bus kind it plugs into */
    bool user_creatable;        /* may be named by -device */
    const struct dev_prop *props;       /* DEV_PROP_END-terminated, may be NULL */
    /* realize: acquire resources (regions, IRQs, chardev handlers); -errno with
     * a message naming the device on failure (the instance is then freed). */
    int (*realize)(struct device *dev, struct dm_err *err);
    /* reset: back to power-on state.  Local state only; IRQ lines may be
     * lowered, never raised, during reset. */
    void (*reset)(struct device *dev);
    void (*unrealize)(struct device *dev);
    const struct vms_desc *vmstate;     /* state description (required) */
    /* extra lines for `info qtree` (may be NULL) */
    void (*print)(struct device *dev, FILE *f, int indent);
};

/* ---- buses ------------------------------------------------------------------ */

/* A bus: where devices plug in and what they may use.  Machines create buses and
 * fill in the resources; PCI embeds one in struct pci_bus. */
struct dev_bus {
    const char *name;           /* "isa.0", "pci.0" */
    enum dev_bus_kind kind;
    struct dm_ctx *ctx;
    struct device *owner;       /* the bridge device, NULL for the root */
    struct address_space *io;   /* port space devices on this bus map into */
    struct mem_region *io_root; /* region to add port regions under */
    struct mem_region *mem_root;/* region to add MMIO regions under */
    struct irq_line **irqs;     /* ISA: IRQ 0..n_irqs-1 */
    unsigned n_irqs;
    const struct dev_prop *child_props; /* props every child accepts (PCI "addr") */
    /* Called before a child's realize; may reject it (e.g. PCI slot taken). */
    int (*plug)(struct dev_bus *bus, struct device *dev, struct dm_err *err);
    void (*unplug)(struct dev_bus *bus, struct device *dev);
    struct device *children;    /* private list */
    struct dev_bus *next;       /* private: ctx bus list */
};

/* The first bus initialised in a ctx becomes ctx->root_bus (the machine's
 * "main-system-bus"); later ones are chained after it. */
void dev_bus_init(struct dev_bus *bus, struct dm_ctx *ctx, const char *name,
                  enum dev_bus_kind kind, struct device *owner);
/* IRQ n of an ISA bus, or NULL if out of range / not wired. */
struct irq_line *dev_bus_irq(struct dev_bus *bus, unsigned n);
/* Find a bus by name, or the first bus of kind (name NULL). */
struct dev_bus *dm_find_bus(struct dm_ctx *ctx, const char *name, enum dev_bus_kind kind);

/* ---- instances -------------------------------------------------------------- */

struct device {
    const struct device_type *type;
    struct dm_ctx *ctx;
    char *id;                   /* user id (may be NULL) */
    struct dev_bus *bus;        /* parent bus */
    bool realized;
    struct dev_bus *child_buses;        /* buses this device provides */
    struct device *bus_next;            /* private: sibling on bus */
    struct device *ctx_next;            /* private: ctx list */
};

/* Allocate an instance with property defaults applied and attach it to bus
 * (NULL: ctx->root_bus).  Not realized yet. */
int device_new(struct dm_ctx *ctx, const struct device_type *type, struct dev_bus *bus,
               const char *id, struct device **out, struct dm_err *err);
/* Set one property from its text form; -EINVAL/-ERANGE/-ENOENT with a message
 * naming the device and the property. */
int device_set_prop(struct device *dev, const char *name, const char *value, struct dm_err *err);
/* Read a property as text (for info qtree); -ENOENT if none. */
int device_get_prop(struct device *dev, const char *name, char *buf, size_t len);
int device_realize(struct device *dev, struct dm_err *err);
void device_reset(struct device *dev);
/* Free the devices on buses this device provides, then unrealize (if
 * realized), detach and free this one. */
void device_free(struct device *dev);

/* Reset every realized device of ctx in creation order. */
void dm_reset_all(struct dm_ctx *ctx);
/* Unrealize and free every device of ctx (in reverse creation order). */
void dm_free_all_devices(struct dm_ctx *ctx);
struct device *dm_find_device(struct dm_ctx *ctx, const char *id);
/* `info qtree`. */
void dm_print_qtree(struct dm_ctx *ctx, FILE *f);

/* The instance pointer of a device (its first member is struct device). */
#define DEVICE(p) (&(p)->dev)

/* ---- type registry ---------------------------------------------------------- */

struct dev_registry;
struct dev_registry *dev_registry_new(void);
void dev_registry_free(struct dev_registry *r);
/* -EEXIST if a type of that name is already registered. */
int dev_registry_add(struct dev_registry *r, const struct device_type *type);
const struct device_type *dev_registry_find(const struct dev_registry *r, const char *name);
/* Iterate: i from 0 until NULL. */
const struct device_type *dev_registry_get(const struct dev_registry *r, unsigned i);
/* `-device help` and `-device NAME,help`. */
void dev_registry_print(const struct dev_registry *r, FILE *f);
void device_type_print_props(const struct device_type *type, FILE *f);

/* ---- -device ---------------------------------------------------------------- */

/* Create and realize a device from "NAME,prop=val,...,id=ID,bus=BUS".  Looks the
 * type up in ctx->types, picks the bus (bus= or the first of the type's kind).
 * On error nothing is left behind and err names the property at fault.
 * "help" lists the types and "NAME,help" the properties on stdout; both return
 * 1 and create nothing. */
int device_create_from_opts(struct dm_ctx *ctx, const char *opts, struct device **out,
                            struct dm_err *err);

#endif
