/* The main loop and the device lock.
 *
 * One main loop thread polls fds, runs expired timers of the clocks it was given
 * and runs bottom halves.  vCPU (or ioreq) threads take the device lock around
 * device dispatch; the main loop holds the same lock while it runs callbacks and
 * drops it only while it sleeps in poll.  So device code always runs with the
 * lock held and never needs its own.  See docs/locking.md. */
#ifndef DM_MAINLOOP_H
#define DM_MAINLOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

struct main_loop;
struct dm_clock;

/* The device lock (one per process; not recursive). */
void dm_lock(void);
void dm_unlock(void);
/* True if the calling thread holds it (for assertions). */
bool dm_lock_held(void);

struct main_loop *main_loop_new(void);
void main_loop_free(struct main_loop *loop);

/* fd events: bits of poll(2) POLLIN/POLLOUT.  The callback gets the revents. */
typedef void main_loop_fd_cb(void *opaque, int fd, unsigned revents);
/* Watch fd (replacing an existing watch on it); events 0 pauses it. */
int main_loop_set_fd(struct main_loop *loop, int fd, unsigned events,
                     main_loop_fd_cb *cb, void *opaque);
void main_loop_del_fd(struct main_loop *loop, int fd);

/* Run this clock's timers from the loop. */
void main_loop_add_clock(struct main_loop *loop, struct dm_clock *clock);
void main_loop_del_clock(struct main_loop *loop, struct dm_clock *clock);

/* Bottom halves: callbacks run once by the loop soon after bh_schedule, which
 * any thread may call (it wakes the loop). */
struct dm_bh;
typedef void dm_bh_cb(void *opaque);
struct dm_bh *bh_new(struct main_loop *loop, dm_bh_cb *cb, void *opaque);
void bh_schedule(struct dm_bh *bh);
void bh_cancel(struct dm_bh *bh);
void bh_free(struct dm_bh *bh);

/* Wake the loop from poll (any thread). */
void main_loop_wakeup(struct main_loop *loop);

/* One iteration: poll at most timeout_ns (-1: until something happens, 0: no
 * wait), then dispatch.  Normally called with the device lock held; it is
 * dropped while polling.  Returns the number of callbacks run. */
int main_loop_iterate(struct main_loop *loop, int64_t timeout_ns);
/* Iterate until main_loop_quit (any thread). */
void main_loop_run(struct main_loop *loop);
void main_loop_quit(struct main_loop *loop);
bool main_loop_should_quit(struct main_loop *loop);

#endif
