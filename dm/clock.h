/* Clocks.  Devices read guest time only from the virtual clock (ctx->clock_virt).
 *
 *  DM_CLOCK_REALTIME: host monotonic time.
 *  DM_CLOCK_VIRTUAL:  host monotonic time minus the time spent paused: it stops
 *                  while the VM is stopped (clock_pause/clock_resume).
 *  DM_CLOCK_TEST:     deterministic virtual time that moves only with clock_step()
 *                  / clock_set_ns(); used by the test executor and for
 *                  reproducible runs.
 *
 * Each clock owns the timers armed on it (timer.h).  The main loop asks a clock
 * for its next deadline and runs expired timers; in test mode clock_step() runs
 * them itself, in deadline order, with the clock set to each deadline. */
#ifndef DM_CLOCK_H
#define DM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

enum dm_clock_type {
    DM_CLOCK_REALTIME,
    DM_CLOCK_VIRTUAL,
    DM_CLOCK_TEST,
};

#define DM_NS_PER_SEC 1000000000LL
/* "no deadline" */
#define DM_CLOCK_NEVER INT64_MAX

struct dm_clock;

struct dm_clock *clock_new(enum dm_clock_type type);
/* Timers still armed on the clock are disarmed. */
void clock_free(struct dm_clock *c);
enum dm_clock_type clock_type(const struct dm_clock *c);

/* Current time in ns (starts at 0 for VIRTUAL and TEST). */
int64_t clock_get_ns(struct dm_clock *c);

/* VIRTUAL: stop / restart time (no-ops on other kinds).  Timers do not fire
 * while paused. */
void clock_pause(struct dm_clock *c);
void clock_resume(struct dm_clock *c);
bool clock_is_paused(const struct dm_clock *c);

/* TEST: advance by ns, firing every timer whose deadline is reached, in
 * deadline order (ties: order armed), the clock reading each timer's deadline
 * while its callback runs.  Timers armed by callbacks inside the window fire
 * too.  Returns the number of timers fired. */
unsigned clock_step(struct dm_clock *c, int64_t ns);
/* TEST: jump to an absolute time (>= now), firing timers as clock_step. */
unsigned clock_set_ns(struct dm_clock *c, int64_t ns);
/* TEST: advance by ns first, then fire the timers that fell due, every one seeing
 * the new time: what a main loop woken late does.  Device tests use it to prove a
 * model does not depend on its timers running exactly on time. */
unsigned clock_step_late(struct dm_clock *c, int64_t ns);

/* Absolute time of the earliest armed timer, or DM_CLOCK_NEVER. */
int64_t clock_next_deadline(struct dm_clock *c);
/* Ns until then from now (0 if overdue; DM_CLOCK_NEVER if none or paused). */
int64_t clock_ns_until_deadline(struct dm_clock *c);
/* Run timers due at the current time (REALTIME/VIRTUAL; the main loop calls it). */
unsigned clock_run_timers(struct dm_clock *c);

/* Called (from any thread, with the device lock held) when a timer is armed
 * earlier than the previous first deadline, so the main loop can re-arm its
 * poll timeout.  One notifier per clock; the main loop sets it. */
void clock_set_notify(struct dm_clock *c, void (*notify)(void *opaque), void *opaque);

#endif
