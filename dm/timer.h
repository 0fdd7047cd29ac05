/* Timers on a clock (clock.h), with absolute ns deadlines.  Embed a
 * struct dm_timer in the device state; the callback runs with the device lock
 * held, from the main loop (or from clock_step in test mode). */
#ifndef DM_TIMER_H
#define DM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct dm_clock;

typedef void dm_timer_cb(void *opaque);

struct dm_timer {
    struct dm_clock *clock;
    dm_timer_cb *cb;
    void *opaque;
    int64_t expire;             /* absolute deadline; -1 when not armed */
    uint64_t seq;               /* private: arm order, tie-break */
    struct dm_timer *next;      /* private: clock's sorted list */
};

void timer_init(struct dm_timer *t, struct dm_clock *clock, dm_timer_cb *cb, void *opaque);
/* Arm (or re-arm) at absolute time deadline_ns on the timer's clock.  A
 * deadline in the past fires at the next run. */
void timer_mod(struct dm_timer *t, int64_t deadline_ns);
/* Arm at now + delta_ns. */
void timer_mod_in(struct dm_timer *t, int64_t delta_ns);
void timer_del(struct dm_timer *t);
bool timer_pending(const struct dm_timer *t);
/* Deadline, or -1 if not armed. */
int64_t timer_expire_time(const struct dm_timer *t);

#endif
