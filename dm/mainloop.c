/* The main loop and the device lock: see dm/mainloop.h and docs/locking.md.
 *
 * The loop sleeps in ppoll() without the device lock and runs every callback
 * with it.  Other threads wake it through an eventfd (bottom halves, timers
 * armed earlier than the current sleep, quit). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dm/clock.h"
#include "dm/log.h"
#include "dm/mainloop.h"

/* ---- the device lock -------------------------------------------------------- */

static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool device_lock_held;

void dm_lock(void)
{
    pthread_mutex_lock(&device_lock);
    device_lock_held = true;
}

void dm_unlock(void)
{
    device_lock_held = false;
    pthread_mutex_unlock(&device_lock);
}

bool dm_lock_held(void)
{
    return device_lock_held;
}

/* ---- the loop --------------------------------------------------------------- */

struct fd_watch {
    int fd;                 /* -1: deleted, compacted after dispatch */
    unsigned events;
    main_loop_fd_cb *cb;
    void *opaque;
};

struct dm_bh {
    struct main_loop *loop;
    dm_bh_cb *cb;
    void *opaque;
    atomic_bool scheduled;
    bool deleted;
    struct dm_bh *next;
};

#define MAX_CLOCKS 8

struct main_loop {
    struct fd_watch *fds;
    unsigned n_fds, cap_fds;
    struct pollfd *pfds;
    unsigned cap_pfds;
    struct dm_clock *clocks[MAX_CLOCKS];
    unsigned n_clocks;
    struct dm_bh *bhs;
    int wake_fd;
    atomic_bool quit;
    bool dispatching;
};

struct main_loop *main_loop_new(void)
{
    struct main_loop *loop = calloc(1, sizeof(*loop));

    if (!loop)
        return NULL;
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wake_fd < 0) {
        free(loop);
        return NULL;
    }
    return loop;
}

void main_loop_free(struct main_loop *loop)
{
    if (!loop)
        return;
    for (unsigned i = 0; i < loop->n_clocks; i++)
        clock_set_notify(loop->clocks[i], NULL, NULL);
    while (loop->bhs) {
        struct dm_bh *bh = loop->bhs;
        loop->bhs = bh->next;
        free(bh);
    }
    close(loop->wake_fd);
    free(loop->fds);
    free(loop->pfds);
    free(loop);
}

static struct fd_watch *find_watch(struct main_loop *loop, int fd)
{
    for (unsigned i = 0; i < loop->n_fds; i++)
        if (loop->fds[i].fd == fd)
            return &loop->fds[i];
    return NULL;
}

int main_loop_set_fd(struct main_loop *loop, int fd, unsigned events,
                     main_loop_fd_cb *cb, void *opaque)
{
    struct fd_watch *w = find_watch(loop, fd);

    if (!w) {
        if (loop->n_fds == loop->cap_fds) {
            unsigned cap = loop->cap_fds ? loop->cap_fds * 2 : 16;
            struct fd_watch *n = realloc(loop->fds, cap * sizeof(*n));
            if (!n)
                return -ENOMEM;
            loop->fds = n;
            loop->cap_fds = cap;
        }
        w = &loop->fds[loop->n_fds++];
    }
    w->fd = fd;
    w->events = events;
    w->cb = cb;
    w->opaque = opaque;
    main_loop_wakeup(loop);
    return 0;
}

void main_loop_del_fd(struct main_loop *loop, int fd)
{
    struct fd_watch *w = find_watch(loop, fd);

    if (w) {
        /* compacted after dispatch, so a callback may delete any watch */
        w->fd = -1;
        w->cb = NULL;
    }
}

static void compact_fds(struct main_loop *loop)
{
    unsigned out = 0;

    for (unsigned i = 0; i < loop->n_fds; i++)
        if (loop->fds[i].fd >= 0)
            loop->fds[out++] = loop->fds[i];
    loop->n_fds = out;
}

static void clock_notify(void *opaque)
{
    main_loop_wakeup(opaque);
}

void main_loop_add_clock(struct main_loop *loop, struct dm_clock *clock)
{
    if (loop->n_clocks == MAX_CLOCKS) {
        dm_error("main loop: too many clocks");
        abort();
    }
    loop->clocks[loop->n_clocks++] = clock;
    clock_set_notify(clock, clock_notify, loop);
}

void main_loop_del_clock(struct main_loop *loop, struct dm_clock *clock)
{
    for (unsigned i = 0; i < loop->n_clocks; i++) {
        if (loop->clocks[i] == clock) {
            clock_set_notify(clock, NULL, NULL);
            loop->clocks[i] = loop->clocks[--loop->n_clocks];
            return;
        }
    }
}

struct dm_bh *bh_new(struct main_loop *loop, dm_bh_cb *cb, void *opaque)
{
    struct dm_bh *bh = calloc(1, sizeof(*bh));

    if (!bh)
        return NULL;
    bh->loop = loop;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->next = loop->bhs;
    loop->bhs = bh;
    return bh;
}

void bh_schedule(struct dm_bh *bh)
{
    if (!atomic_exchange(&bh->scheduled, true))
        main_loop_wakeup(bh->loop);
}

void bh_cancel(struct dm_bh *bh)
{
    atomic_store(&bh->scheduled, false);
}

void bh_free(struct dm_bh *bh)
{
    struct main_loop *loop;

    if (!bh)
        return;
    loop = bh->loop;
    atomic_store(&bh->scheduled, false);
    if (loop->dispatching) {
        bh->deleted = true;     /* unlinked after the bottom-half pass */
        return;
    }
    for (struct dm_bh **pp = &loop->bhs; *pp; pp = &(*pp)->next) {
        if (*pp == bh) {
            *pp = bh->next;
            break;
        }
    }
    free(bh);
}

void main_loop_wakeup(struct main_loop *loop)
{
    uint64_t one = 1;
    ssize_t r = write(loop->wake_fd, &one, sizeof(one));
    (void)r;    /* EAGAIN: the counter is already non-zero, the loop will wake */
}

static bool bh_pending(struct main_loop *loop)
{
    for (struct dm_bh *bh = loop->bhs; bh; bh = bh->next)
        if (atomic_load(&bh->scheduled))
            return true;
    return false;
}

static int run_bhs(struct main_loop *loop)
{
    int n = 0;

    for (struct dm_bh *bh = loop->bhs; bh; bh = bh->next) {
        if (!bh->deleted && atomic_exchange(&bh->scheduled, false)) {
            bh->cb(bh->opaque);
            n++;
        }
    }
    for (struct dm_bh **pp = &loop->bhs; *pp;) {
        struct dm_bh *bh = *pp;
        if (bh->deleted) {
            *pp = bh->next;
            free(bh);
        } else {
            pp = &bh->next;
        }
    }
    return n;
}

int main_loop_iterate(struct main_loop *loop, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    unsigned n = loop->n_fds + 1;
    int ret, ran = 0;

    if (bh_pending(loop) || atomic_load(&loop->quit))
        timeout_ns = 0;
    for (unsigned i = 0; i < loop->n_clocks; i++) {
        int64_t d = clock_ns_until_deadline(loop->clocks[i]);
        if (d != DM_CLOCK_NEVER && (timeout_ns < 0 || d < timeout_ns))
            timeout_ns = d;
    }
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / DM_NS_PER_SEC;
        ts.tv_nsec = timeout_ns % DM_NS_PER_SEC;
        tsp = &ts;
    }
    if (n > loop->cap_pfds) {
        struct pollfd *p = realloc(loop->pfds, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        loop->pfds = p;
        loop->cap_pfds = n;
    }
    loop->pfds[0] = (struct pollfd){ .fd = loop->wake_fd, .events = POLLIN };
    for (unsigned i = 0; i < loop->n_fds; i++) {
        struct fd_watch *w = &loop->fds[i];
        loop->pfds[i + 1] = (struct pollfd){ .fd = w->events ? w->fd : -1, .events = (short)w->events };
    }

    bool locked = dm_lock_held();
    if (locked)
        dm_unlock();
    ret = ppoll(loop->pfds, n, tsp, NULL);
    if (locked)
        dm_lock();
    if (ret < 0 && errno != EINTR)
        return -errno;

    loop->dispatching = true;
    if (ret > 0 && (loop->pfds[0].revents & POLLIN)) {
        uint64_t v;
        ssize_t r = read(loop->wake_fd, &v, sizeof(v));
        (void)r;
    }
    /* Watches added by callbacks are past n and wait for the next round. */
    for (unsigned i = 0; ret > 0 && i + 1 < n && i < loop->n_fds; i++) {
        struct fd_watch *w = &loop->fds[i];
        unsigned rev = (unsigned)loop->pfds[i + 1].revents;
        if (!rev || w->fd != loop->pfds[i + 1].fd || !w->cb)
            continue;
        w->cb(w->opaque, w->fd, rev);
        ran++;
    }
    for (unsigned i = 0; i < loop->n_clocks; i++)
        ran += (int)clock_run_timers(loop->clocks[i]);
    ran += run_bhs(loop);
    loop->dispatching = false;
    compact_fds(loop);
    return ran;
}

void main_loop_run(struct main_loop *loop)
{
    while (!atomic_load(&loop->quit))
        main_loop_iterate(loop, -1);
}

void main_loop_quit(struct main_loop *loop)
{
    atomic_store(&loop->quit, true);
    main_loop_wakeup(loop);
}

bool main_loop_should_quit(struct main_loop *loop)
{
    return atomic_load(&loop->quit);
}
