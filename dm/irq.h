/* IRQ lines.  A line is an object with a level and a handler: the interrupt
 * controller (or Xen glue, or a test) owns the line and its handler; a device
 * holds a pointer to the line it drives and raises/lowers it.  Machines wire
 * devices to lines; devices never know what is on the other end.  A NULL line is
 * allowed and ignored (an unwired output). */
#ifndef DM_IRQ_H
#define DM_IRQ_H

#include <stdbool.h>

/* Called on every irq_set, with the line's number n; level is 0 or 1. */
typedef void irq_handler(void *opaque, int n, int level);

struct irq_line {
    irq_handler *handler;
    void *opaque;
    int n;
    int level;
};

void irq_init(struct irq_line *line, irq_handler *handler, void *opaque, int n);
/* Initialise count lines line[0..count-1] with n = 0..count-1. */
void irq_init_array(struct irq_line *lines, unsigned count, irq_handler *handler, void *opaque);

void irq_set(struct irq_line *line, int level);    /* any nonzero level means 1 */
static inline void irq_raise(struct irq_line *line) { irq_set(line, 1); }
static inline void irq_lower(struct irq_line *line) { irq_set(line, 0); }
/* Raise then lower (an edge for edge-triggered inputs). */
void irq_pulse(struct irq_line *line);
int irq_get_level(const struct irq_line *line);

/* Fan-out: one input line driving up to IRQ_FANOUT_MAX outputs (e.g. an ISA IRQ
 * going to both the PIC and the IOAPIC). */
#define IRQ_FANOUT_MAX 4
struct irq_fanout {
    struct irq_line in;
    struct irq_line *out[IRQ_FANOUT_MAX];
    unsigned n_out;
};
void irq_fanout_init(struct irq_fanout *f);
/* -ENOSPC if full. */
int irq_fanout_add(struct irq_fanout *f, struct irq_line *out);

#endif
