/* IRQ lines: see dm/irq.h. */
#include <errno.h>

#include "dm/irq.h"
#include "dm/log.h"

void irq_init(struct irq_line *line, irq_handler *handler, void *opaque, int n)
{
    line->handler = handler;
    line->opaque = opaque;
    line->n = n;
    line->level = 0;
}

void irq_init_array(struct irq_line *lines, unsigned count, irq_handler *handler, void *opaque)
{
    for (unsigned i = 0; i < count; i++)
        irq_init(&lines[i], handler, opaque, (int)i);
}

void irq_set(struct irq_line *line, int level)
{
    if (!line)
        return;
    level = level != 0;
    dm_log(DM_LOG_IRQ, "irq: line %d %s", line->n, level ? "raised" : "lowered");
    line->level = level;
    if (line->handler)
        line->handler(line->opaque, line->n, level);
}

void irq_pulse(struct irq_line *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}

int irq_get_level(const struct irq_line *line)
{
    return line ? line->level : 0;
}

static void fanout_handler(void *opaque, int n, int level)
{
    struct irq_fanout *f = opaque;

    for (unsigned i = 0; i < f->n_out; i++)
        irq_set(f->out[i], level);
}

void irq_fanout_init(struct irq_fanout *f)
{
    irq_init(&f->in, fanout_handler, f, 0);
    f->n_out = 0;
}

int irq_fanout_add(struct irq_fanout *f, struct irq_line *out)
{
    if (f->n_out >= IRQ_FANOUT_MAX)
        return -ENOSPC;
    f->out[f->n_out++] = out;
    return 0;
}
