/* Debug console port ("isa-debugcon", QEMU/Bochs compatible): bytes written to
 * iobase (default 0xE9; SeaBIOS logs to 0x402) go to a chardev. */
#ifndef DEVICES_ISA_DEBUGCON_H
#define DEVICES_ISA_DEBUGCON_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/chardev.h"
#include "dm/device.h"
#include "dm/memory.h"

struct debugcon_state {
    struct device dev;
    uint32_t iobase;
    uint32_t readback;
    struct chardev *backend;
    struct chardev_fe chr;
    struct mem_region io;
    bool mapped;
};

extern const struct device_type isa_debugcon_type;

#endif
