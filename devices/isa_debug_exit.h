/* Exit device compatible with QEMU's `-device isa-debug-exit,iobase=0xf4,
 * iosize=0x04`: writing v ends the emulator with status (v << 1) | 1.  The
 * machine installs the handler that does it (isa_debug_exit_set_handler);
 * without one the request is only recorded. */
#ifndef DEVICES_ISA_DEBUG_EXIT_H
#define DEVICES_ISA_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/memory.h"

typedef void isa_debug_exit_fn(void *opaque, int code);

struct debug_exit_state {
    struct device dev;
    uint32_t iobase, iosize;
    isa_debug_exit_fn *handler;
    void *handler_opaque;
    int last_code;          /* -1 until a write */
    struct mem_region io;
    bool mapped;
};

extern const struct device_type isa_debug_exit_type;

/* dev must be an isa-debug-exit instance (checked; others are ignored). */
void isa_debug_exit_set_handler(struct device *dev, isa_debug_exit_fn *fn, void *opaque);

#endif
