/* Intel 82093AA I/O APIC at 0xFEC00000: 24 redirection entries turning
 * interrupt pins into messages for local APICs.  See devices/ioapic.c.
 *
 * Vireo has no local APIC model yet: messages go to the `deliver` callback the
 * machine sets (a future LAPIC, or a test), and the end-of-interrupt broadcast
 * comes back through ioapic_eoi(). */
#ifndef DEVICES_IOAPIC_H
#define DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"

#define IOAPIC_PINS     24
#define IOAPIC_BASE     0xFEC00000u

/* One interrupt message (the fields of the redirection entry that matter to
 * the receiving local APICs). */
struct ioapic_msg {
    uint8_t vector;
    uint8_t delivery_mode;      /* 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT */
    uint8_t dest_mode;          /* 0 physical, 1 logical */
    uint8_t dest;               /* APIC ID or logical destination */
    uint8_t level;              /* 1: level-triggered (expects an EOI) */
    uint8_t pin;
};

typedef void ioapic_deliver_fn(void *opaque, const struct ioapic_msg *m);

struct ioapic_state {
    struct device dev;
    uint32_t regsel;
    uint8_t id;
    uint64_t redir[IOAPIC_PINS];
    uint32_t lines;             /* current pin levels (as wired, before polarity) */
    ioapic_deliver_fn *deliver; /* set by the machine; NULL drops messages */
    void *deliver_opaque;
    struct irq_line in[IOAPIC_PINS];
    struct mem_region mmio;
    bool mapped;
};

extern const struct device_type ioapic_type;

/* The EOI broadcast for vector: level-triggered entries with that vector clear
 * their remote IRR and deliver again if their pin is still asserted. */
void ioapic_eoi(struct ioapic_state *s, uint8_t vector);

#endif
