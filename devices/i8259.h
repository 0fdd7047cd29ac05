/* 8259A interrupt controller pair of the PC/AT (master 0x20/0x21, slave
 * 0xA0/0xA1 on master IR2) with the PIIX3 edge/level control registers
 * (0x4D0/0x4D1).  See devices/i8259.c.
 *
 * The machine drives the inputs through in[0..15] and wires intr_out to whatever
 * takes the CPU's INTR; a CPU emulator acknowledges with i8259_ack(). */
#ifndef DEVICES_I8259_H
#define DEVICES_I8259_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;          /* current input levels */
    uint8_t elcr;           /* 1 = level triggered (PIIX3 ELCR) */
    uint8_t icw1, icw2, icw3, icw4;
    uint8_t init_step;      /* 0 ready, 1..3 waiting for ICW2..ICW4 */
    uint8_t lowest;         /* lowest-priority level (rotation) */
    uint8_t read_isr, poll, special_mask, rotate_aeoi;
};

struct pic_state {
    struct device dev;
    struct pic_chip chip[2];    /* master, slave */
    int32_t intr;               /* master INT output */
    struct irq_line in[16];     /* IRQ0..15 inputs (2 is the cascade, ignored) */
    struct irq_line *intr_out;  /* set by the machine; may be NULL */
    struct mem_region io_master, io_slave, io_elcr;
    bool mapped;
};

extern const struct device_type i8259_type;

/* Drive input irq (0..15; 2 is the cascade and is ignored) to level. */
void i8259_set_irq(struct pic_state *s, int irq, int level);
/* The master's INT output (what the CPU sees on INTR). */
int i8259_get_intr(const struct pic_state *s);
/* The CPU's interrupt-acknowledge cycle: returns the vector (IR7/IR15 vector for
 * a spurious acknowledge) and updates ISR/IRR. */
int i8259_ack(struct pic_state *s);

#endif
