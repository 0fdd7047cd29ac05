/* Clocks and their timer lists: see dm/clock.h and dm/timer.h.
 *
 * Each clock keeps its armed timers in a list sorted by (deadline, arm order),
 * so the next deadline is the head and firing order is deterministic. */
#include <stdlib.h>
#include <time.h>

#include "dm/clock.h"
#include "dm/log.h"
#include "dm/timer.h"

/* A callback that keeps re-arming a timer at or before the current time would
 * never let time advance; stop after this many firings without progress. */
#define FIRE_WITHOUT_PROGRESS_MAX 100000
/* clock_run_timers bound per call, so the main loop stays responsive. */
#define RUN_TIMERS_MAX 10000

struct dm_clock {
    enum dm_clock_type type;
    bool paused;
    int64_t base;           /* VIRTUAL: host time at virtual 0 */
    int64_t frozen;         /* VIRTUAL paused / TEST: current time */
    struct dm_timer *timers;
    uint64_t seq;
    void (*notify)(void *opaque);
    void *notify_opaque;
};

static int64_t host_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * DM_NS_PER_SEC + ts.tv_nsec;
}

struct dm_clock *clock_new(enum dm_clock_type type)
{
    struct dm_clock *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->type = type;
    c->base = host_ns();
    return c;
}

void clock_free(struct dm_clock *c)
{
    if (!c)
        return;
    while (c->timers) {
        struct dm_timer *t = c->timers;
        c->timers = t->next;
        t->next = NULL;
        t->expire = -1;
    }
    free(c);
}

enum dm_clock_type clock_type(const struct dm_clock *c)
{
    return c->type;
}

int64_t clock_get_ns(struct dm_clock *c)
{
    switch (c->type) {
    case DM_CLOCK_REALTIME:
        return host_ns();
    case DM_CLOCK_VIRTUAL:
        return c->paused ? c->frozen : host_ns() - c->base;
    case DM_CLOCK_TEST:
        return c->frozen;
    }
    return 0;
}

void clock_pause(struct dm_clock *c)
{
    if (c->type != DM_CLOCK_VIRTUAL || c->paused)
        return;
    c->frozen = host_ns() - c->base;
    c->paused = true;
}

void clock_resume(struct dm_clock *c)
{
    if (c->type != DM_CLOCK_VIRTUAL || !c->paused)
        return;
    c->base = host_ns() - c->frozen;
    c->paused = false;
    if (c->notify)
        c->notify(c->notify_opaque);
}

bool clock_is_paused(const struct dm_clock *c)
{
    return c->paused;
}

void clock_set_notify(struct dm_clock *c, void (*notify)(void *opaque), void *opaque)
{
    c->notify = notify;
    c->notify_opaque = opaque;
}

int64_t clock_next_deadline(struct dm_clock *c)
{
    return c->timers ? c->timers->expire : DM_CLOCK_NEVER;
}

int64_t clock_ns_until_deadline(struct dm_clock *c)
{
    int64_t d, now;

    if (!c->timers || c->paused)
        return DM_CLOCK_NEVER;
    d = c->timers->expire;
    now = clock_get_ns(c);
    return d <= now ? 0 : d - now;
}

/* Take the head timer off the list if it is due at or before limit; *when
 * gets its deadline. */
static struct dm_timer *pop_due(struct dm_clock *c, int64_t limit, int64_t *when)
{
    struct dm_timer *t = c->timers;

    if (!t || t->expire > limit)
        return NULL;
    c->timers = t->next;
    t->next = NULL;
    *when = t->expire;
    t->expire = -1;
    return t;
}

unsigned clock_set_ns(struct dm_clock *c, int64_t target)
{
    unsigned fired = 0, stuck = 0;
    struct dm_timer *t;
    int64_t when;

    if (c->type != DM_CLOCK_TEST)
        return 0;
    if (target < c->frozen)
        target = c->frozen;
    while ((t = pop_due(c, target, &when))) {
        /* The callback sees the clock at its own deadline (never backwards). */
        if (when > c->frozen) {
            c->frozen = when;
            stuck = 0;
        } else if (++stuck > FIRE_WITHOUT_PROGRESS_MAX) {
            dm_guest_error("timer re-armed in the past %d times without time advancing; "
                           "stopping this step", FIRE_WITHOUT_PROGRESS_MAX);
            break;
        }
        dm_log(DM_LOG_TIMER, "timer: fire %p at %lld", (void *)t, (long long)c->frozen);
        t->cb(t->opaque);
        fired++;
    }
    c->frozen = target;
    return fired;
}

unsigned clock_step(struct dm_clock *c, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    if (c->frozen > INT64_MAX - ns)
        return clock_set_ns(c, INT64_MAX - 1);
    return clock_set_ns(c, c->frozen + ns);
}

unsigned clock_step_late(struct dm_clock *c, int64_t ns)
{
    unsigned fired = 0;
    struct dm_timer *t;
    int64_t when;

    if (c->type != DM_CLOCK_TEST)
        return 0;
    if (ns < 0)
        ns = 0;
    c->frozen = c->frozen > INT64_MAX - 1 - ns ? INT64_MAX - 1 : c->frozen + ns;
    /* bounded: a callback that re-arms in the past would otherwise spin here */
    while (fired < RUN_TIMERS_MAX && (t = pop_due(c, c->frozen, &when))) {
        t->cb(t->opaque);
        fired++;
    }
    return fired;
}

unsigned clock_run_timers(struct dm_clock *c)
{
    unsigned fired = 0;
    struct dm_timer *t;
    int64_t when, now;

    if (c->type == DM_CLOCK_TEST || c->paused)
        return 0;
    now = clock_get_ns(c);
    while (fired < RUN_TIMERS_MAX && (t = pop_due(c, now, &when))) {
        t->cb(t->opaque);
        fired++;
    }
    return fired;
}

/* ---- timers ----------------------------------------------------------------- */

void timer_init(struct dm_timer *t, struct dm_clock *clock, dm_timer_cb *cb, void *opaque)
{
    t->clock = clock;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    t->seq = 0;
    t->next = NULL;
}

static void timer_unlink(struct dm_timer *t)
{
    for (struct dm_timer **pp = &t->clock->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->expire = -1;
}

void timer_del(struct dm_timer *t)
{
    if (t->clock && t->expire >= 0)
        timer_unlink(t);
}

void timer_mod(struct dm_timer *t, int64_t deadline)
{
    struct dm_clock *c = t->clock;
    struct dm_timer **pp;

    timer_del(t);
    if (deadline < 0)
        deadline = 0;
    t->expire = deadline;
    t->seq = ++c->seq;
    /* After every timer with an earlier or equal deadline: ties fire in arm order. */
    for (pp = &c->timers; *pp && (*pp)->expire <= deadline; pp = &(*pp)->next)
        ;
    t->next = *pp;
    *pp = t;
    if (c->timers == t && c->notify)
        c->notify(c->notify_opaque);
}

void timer_mod_in(struct dm_timer *t, int64_t delta)
{
    int64_t now = clock_get_ns(t->clock);

    if (delta < 0)
        delta = 0;
    timer_mod(t, delta > INT64_MAX - now ? INT64_MAX - 1 : now + delta);
}

bool timer_pending(const struct dm_timer *t)
{
    return t->expire >= 0;
}

int64_t timer_expire_time(const struct dm_timer *t)
{
    return t->expire;
}
