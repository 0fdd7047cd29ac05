/* System control port A (0x92): fast A20 gate and fast CPU reset.  See
 * devices/port92.c.  The machine wires reset_out and a20_out. */
#ifndef DEVICES_PORT92_H
#define DEVICES_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"

struct port92_state {
    struct device dev;
    uint8_t value;
    struct irq_line *reset_out;
    struct irq_line *a20_out;
    struct mem_region io;
    bool mapped;
};

extern const struct device_type port92_type;

#endif
