/* PIIX3 PCI-to-ISA bridge, function 0 (00:01.0): PIRQA-D routing to ISA IRQs and
 * the reset control register (0xCF9).  See devices/piix3.c.
 *
 * The machine sets, before realize: pirq_out[0..15] (one line per ISA IRQ that
 * carries the routed PCI interrupts; it ORs them with the ISA devices' own) and
 * reset_out (pulsed on a reset through 0xCF9).  PCI INTx reach it through
 * piix3_set_pirq (the PCI bus's routing callback). */
#ifndef DEVICES_PIIX3_H
#define DEVICES_PIIX3_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/irq.h"
#include "dm/pci.h"

#define PIIX3_NUM_PIRQ 4

struct piix3_state {
    struct pci_device pci;
    uint8_t rcr;                        /* reset control register */
    int32_t pirq_level[PIIX3_NUM_PIRQ]; /* wired-OR of the PCI INTx on PIRQA-D */
    uint8_t irq_driven[16];             /* what pirq_out[n] was last set to */
    struct irq_line *pirq_out[16];
    struct irq_line *reset_out;
};

extern const struct device_type piix3_type;

/* PIRQ n (0..3 = A..D) level from the PCI bus. */
void piix3_set_pirq(struct piix3_state *s, int pirq, int level);
/* The ISA IRQ PIRQ n routes to, or -1 if routing is disabled. */
int piix3_pirq_route(const struct piix3_state *s, int pirq);
/* 0xCF9 (decoded by the host bridge's CONFADD port for byte accesses). */
uint8_t piix3_rcr_read(void *opaque);
void piix3_rcr_write(void *opaque, uint8_t v);

#endif
