/* Unit tests of clocks, timers and the main loop. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dm/clock.h"
#include "dm/mainloop.h"
#include "dm/timer.h"
#include "tests/lib/cunit-run.h"

struct fired {
    char order[32];
    unsigned n;
    int64_t at[32];
    struct dm_clock *clock;
};

struct tag {
    struct fired *f;
    char name;
    struct dm_timer t;
    int64_t rearm;          /* re-arm this far ahead when fired, 0: no */
    unsigned rearm_left;
};

static void tag_cb(void *opaque)
{
    struct tag *g = opaque;
    struct fired *f = g->f;

    if (f->n < 31) {
        f->at[f->n] = clock_get_ns(f->clock);
        f->order[f->n++] = g->name;
        f->order[f->n] = 0;
    }
    if (g->rearm && g->rearm_left) {
        g->rearm_left--;
        timer_mod(&g->t, clock_get_ns(f->clock) + g->rearm);
    }
}

static void tag_init(struct tag *g, struct fired *f, struct dm_clock *c, char name)
{
    memset(g, 0, sizeof(*g));
    g->f = f;
    g->name = name;
    timer_init(&g->t, c, tag_cb, g);
}

static void test_step_order(void)
{
    struct dm_clock *c = clock_new(DM_CLOCK_TEST);
    struct fired f = { .clock = c };
    struct tag a, b, d, e;

    tag_init(&a, &f, c, 'a');
    tag_init(&b, &f, c, 'b');
    tag_init(&d, &f, c, 'd');
    tag_init(&e, &f, c, 'e');
    CU_ASSERT_EQUAL(clock_get_ns(c), 0);
    CU_ASSERT_EQUAL(clock_next_deadline(c), DM_CLOCK_NEVER);
    timer_mod(&a.t, 300);
    timer_mod(&b.t, 100);
    timer_mod(&d.t, 200);
    timer_mod(&e.t, 200);          /* same deadline as d, armed later */
    CU_ASSERT_EQUAL(clock_next_deadline(c), 100);
    CU_ASSERT_EQUAL(clock_step(c, 99), 0);
    CU_ASSERT_EQUAL(f.n, 0);
    CU_ASSERT_EQUAL(clock_get_ns(c), 99);
    CU_ASSERT_EQUAL(clock_step(c, 150), 3);
    CU_ASSERT_STRING_EQUAL(f.order, "bde");
    /* each callback sees the clock at its own deadline */
    CU_ASSERT_EQUAL(f.at[0], 100);
    CU_ASSERT_EQUAL(f.at[1], 200);
    CU_ASSERT_EQUAL(f.at[2], 200);
    CU_ASSERT_EQUAL(clock_get_ns(c), 249);
    CU_ASSERT(timer_pending(&a.t));
    CU_ASSERT_FALSE(timer_pending(&b.t));
    /* re-arming moves a timer; deleting stops it */
    timer_mod(&a.t, 1000);
    timer_del(&a.t);
    CU_ASSERT_EQUAL(clock_step(c, 10000), 0);
    clock_free(c);
}

static void test_periodic(void)
{
    struct dm_clock *c = clock_new(DM_CLOCK_TEST);
    struct fired f = { .clock = c };
    struct tag p, q;

    tag_init(&p, &f, c, 'p');
    tag_init(&q, &f, c, 'q');
    p.rearm = 10;
    p.rearm_left = 100;
    timer_mod(&p.t, 10);
    timer_mod(&q.t, 35);
    /* a timer re-armed by its callback inside the window fires again */
    CU_ASSERT_EQUAL(clock_step(c, 40), 5);
    CU_ASSERT_STRING_EQUAL(f.order, "pppqp");
    CU_ASSERT_EQUAL(f.at[3], 35);
    CU_ASSERT_EQUAL(f.at[4], 40);
    CU_ASSERT_EQUAL(timer_expire_time(&p.t), 50);
    /* a timer armed in the past fires on the next step, even of 0 */
    timer_mod(&q.t, 5);
    CU_ASSERT_EQUAL(clock_step(c, 0), 1);
    CU_ASSERT_EQUAL(clock_get_ns(c), 40);  /* time never goes backwards */
    timer_del(&p.t);
    clock_free(c);
}

static void runaway_cb(void *opaque)
{
    struct dm_timer *t = opaque;
    timer_mod(t, 0);        /* always in the past */
}

static void test_runaway_timer(void)
{
    struct dm_clock *c = clock_new(DM_CLOCK_TEST);
    struct dm_timer t;

    timer_init(&t, c, runaway_cb, &t);
    timer_mod(&t, 0);
    /* must terminate (a guest can program such a timer) */
    clock_step(c, 1);
    CU_ASSERT_EQUAL(clock_get_ns(c), 1);
    timer_del(&t);
    clock_free(c);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_virtual_pause(void)
{
    struct dm_clock *v = clock_new(DM_CLOCK_VIRTUAL);
    struct fired f = { .clock = v };
    struct tag a;

    int64_t t0 = clock_get_ns(v);
    sleep_ms(20);
    int64_t t1 = clock_get_ns(v);
    CU_ASSERT(t1 - t0 >= 20000000);
    clock_pause(v);
    CU_ASSERT(clock_is_paused(v));
    int64_t p0 = clock_get_ns(v);
    sleep_ms(30);
    CU_ASSERT_EQUAL(clock_get_ns(v), p0);       /* stopped while paused */
    /* timers do not run while paused, even if due */
    tag_init(&a, &f, v, 'a');
    timer_mod(&a.t, p0);
    CU_ASSERT_EQUAL(clock_run_timers(v), 0);
    CU_ASSERT_EQUAL(clock_ns_until_deadline(v), DM_CLOCK_NEVER);
    clock_resume(v);
    CU_ASSERT(clock_get_ns(v) >= p0);
    CU_ASSERT_EQUAL(clock_run_timers(v), 1);
    CU_ASSERT_EQUAL(f.n, 1);

    /* over a window with a 30 ms pause in it, virtual time advances by at
     * most the real time minus the pause, and by at least the unpaused sleeps */
    struct dm_clock *real = clock_new(DM_CLOCK_REALTIME);
    int64_t real0 = clock_get_ns(real), v0 = clock_get_ns(v);
    sleep_ms(10);
    clock_pause(v);
    sleep_ms(30);
    clock_resume(v);
    sleep_ms(10);
    int64_t v1 = clock_get_ns(v), real1 = clock_get_ns(real);
    CU_ASSERT(v1 - v0 >= 20000000);
    CU_ASSERT(v1 - v0 <= real1 - real0 - 30000000);
    clock_free(real);
    clock_free(v);
}

/* ---- main loop ---------------------------------------------------------------- */

static int bh_runs;
static void bh_cb(void *opaque) { bh_runs++; }

struct wake_arg {
    struct main_loop *loop;
    struct dm_bh *bh;
};

static void *thread_schedules(void *opaque)
{
    struct wake_arg *w = opaque;
    sleep_ms(30);
    bh_schedule(w->bh);
    return NULL;
}

static int fd_hits;
static void fd_cb(void *opaque, int fd, unsigned revents)
{
    char buf[16];
    ssize_t r = read(fd, buf, sizeof(buf));
    (void)r;
    fd_hits++;
}

static void test_main_loop(void)
{
    struct main_loop *loop = main_loop_new();
    struct dm_clock *v = clock_new(DM_CLOCK_VIRTUAL);
    struct fired f = { .clock = v };
    struct tag a;
    int p[2];

    dm_lock();
    /* a bottom half scheduled from another thread wakes a sleeping loop */
    struct wake_arg w = { loop, bh_new(loop, bh_cb, NULL) };
    pthread_t th;
    pthread_create(&th, NULL, thread_schedules, &w);
    bh_runs = 0;
    while (bh_runs == 0)
        main_loop_iterate(loop, -1);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(bh_runs, 1);
    CU_ASSERT(dm_lock_held());

    /* timers on an added clock fire from the loop */
    main_loop_add_clock(loop, v);
    tag_init(&a, &f, v, 'a');
    timer_mod_in(&a.t, 10000000);
    while (f.n == 0)
        main_loop_iterate(loop, -1);
    CU_ASSERT(clock_get_ns(v) >= a.f->at[0]);

    /* fd readiness */
    CU_ASSERT_EQUAL(pipe(p), 0);
    main_loop_set_fd(loop, p[0], POLLIN, fd_cb, NULL);
    CU_ASSERT_EQUAL(main_loop_iterate(loop, 0), 0);
    CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
    main_loop_iterate(loop, -1);
    CU_ASSERT_EQUAL(fd_hits, 1);
    main_loop_del_fd(loop, p[0]);
    CU_ASSERT_EQUAL(write(p[1], "y", 1), 1);
    main_loop_iterate(loop, 0);
    CU_ASSERT_EQUAL(fd_hits, 1);
    close(p[0]);
    close(p[1]);

    main_loop_quit(loop);
    CU_ASSERT(main_loop_should_quit(loop));
    main_loop_run(loop);                        /* returns at once */
    bh_free(w.bh);
    main_loop_del_clock(loop, v);
    dm_unlock();
    main_loop_free(loop);
    clock_free(v);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("clock", NULL, NULL);
    CU_add_test(s, "step_order", test_step_order);
    CU_add_test(s, "periodic", test_periodic);
    CU_add_test(s, "runaway_timer", test_runaway_timer);
    CU_add_test(s, "virtual_pause", test_virtual_pause);
    CU_add_test(s, "main_loop", test_main_loop);
    return cunit_run_all();
}
