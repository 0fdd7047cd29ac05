/* One machine instance's shared context.  Everything a device needs from the
 * outside (address spaces, clocks, main loop, chardevs, the device tree) is
 * reached from here, never from globals, so two machines can live in one
 * process (tests do that). */
#ifndef DM_DM_H
#define DM_DM_H

struct address_space;
struct dm_clock;
struct main_loop;
struct chardev_set;
struct dev_registry;
struct dev_bus;
struct device;

struct dm_ctx {
    struct address_space *io;           /* port I/O space (x86), may be NULL */
    struct address_space *mem;          /* system memory space */
    struct dm_clock *clock_virt;        /* guest time: the only clock devices use */
    struct dm_clock *clock_real;        /* host real time (UI, backends) */
    struct main_loop *loop;
    struct chardev_set *chardevs;       /* chardevs by id */
    const struct dev_registry *types;   /* device types `-device` may name */
    struct dev_bus *root_bus;           /* "sysbus"; buses hang below devices */
    struct device *devices;             /* every device, in creation order (private list) */
    void *machine;                      /* the machine's own state */
};

#endif
