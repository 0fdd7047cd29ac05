/* 8042 keyboard controller (0x60/0x64, IRQ1/IRQ12) with PS/2 keyboard and
 * mouse.  See devices/i8042.c.  The machine wires reset_out (pulsed on 0xFE or
 * an output-port write with bit 0 clear) and a20_out (output port bit 1). */
#ifndef DEVICES_I8042_H
#define DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"

#define KBC_QUEUE_SIZE 16

struct kbc_state {
    struct device dev;
    uint8_t ram[32];            /* controller RAM; byte 0 is the command byte */
    uint8_t status;             /* SYS and CMD bits of the status register */
    uint8_t outport;
    uint8_t pending_cmd;        /* controller command waiting for its data byte */
    uint8_t obuf, obf, obf_aux; /* output buffer */
    uint8_t q_data[KBC_QUEUE_SIZE], q_src[KBC_QUEUE_SIZE];
    uint8_t q_head, q_count;
    uint8_t kbd_pending, kbd_enabled, kbd_scanset;
    uint8_t aux_pending, aux_enabled, aux_wrap, aux_rate, aux_resolution, aux_scaling;
    struct irq_line *irq_kbd, *irq_aux;
    struct irq_line *reset_out; /* set by the machine */
    struct irq_line *a20_out;   /* set by the machine */
    struct mem_region io_data, io_cmd;
    bool mapped;
};

extern const struct device_type i8042_type;

#endif
