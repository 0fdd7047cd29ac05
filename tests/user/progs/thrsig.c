/* Signals and threads: pthread_kill reaches the chosen thread (its handler runs
 * on that thread), a process-directed signal goes to the thread that does not
 * block it, a handler with SA_RESTART restarts a blocking read, and without it the
 * read fails with EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static volatile pid_t handler_tid;
static volatile int handled;
static pid_t worker_tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stop, ready;
static int pfd[2];

static void on_usr(int sig)
{
    handler_tid = (pid_t)syscall(SYS_gettid);
    handled++;
}

static void *worker(void *arg)
{
    pthread_mutex_lock(&mu);
    worker_tid = (pid_t)syscall(SYS_gettid);
    ready = 1;
    pthread_cond_broadcast(&cv);
    while (!stop)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static volatile int reader_done;

/* Signal the reader every 20 ms (so that one lands while it is blocked, however
 * loaded the machine), and after 40 of them give it its byte. */
static void *writer(void *arg)
{
    for (int n = 1; !reader_done; n++) {
        pthread_kill(*(pthread_t *)arg, SIGUSR2);
        usleep(20000);
        if (n == 40 && write(pfd[1], "z", 1) != 1)
            return NULL;
    }
    return NULL;
}

int main(void)
{
    signal(SIGUSR1, on_usr);
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    pthread_mutex_lock(&mu);
    while (!ready)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    /* directed at the worker */
    pthread_kill(th, SIGUSR1);
    for (int i = 0; i < 1000 && !handled; i++)
        usleep(1000);
    CHECK(handled == 1 && handler_tid == worker_tid);
    printf("pthread_kill: handled on the worker %d\n", handler_tid == worker_tid);

    /* process-directed while main blocks it: the worker takes it */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    kill(getpid(), SIGUSR1);
    for (int i = 0; i < 1000 && handled < 2; i++)
        usleep(1000);
    CHECK(handled == 2 && handler_tid == worker_tid);
    printf("kill: handled on the unblocked thread %d\n", handler_tid == worker_tid);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);

    pthread_mutex_lock(&mu);
    stop = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);

    /* SA_RESTART: the read continues after the handler and gets the byte */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    CHECK(pipe(pfd) == 0);
    pthread_t self = pthread_self(), w;
    pthread_create(&w, NULL, writer, &self);
    char c = 0;
    ssize_t r = read(pfd[0], &c, 1);
    reader_done = 1;
    CHECK(r == 1 && c == 'z' && handled > 3);
    printf("SA_RESTART read: %zd %c\n", r, c);
    pthread_join(w, NULL);

    /* without SA_RESTART: EINTR */
    sa.sa_flags = 0;
    sigaction(SIGUSR2, &sa, NULL);
    reader_done = 0;
    int before = handled;
    pthread_create(&w, NULL, writer, &self);
    r = read(pfd[0], &c, 1);
    int e = errno;
    reader_done = 1;
    CHECK(r == -1 && e == EINTR && handled > before);
    printf("plain read: %zd %s\n", r, strerror(e));
    pthread_join(w, NULL);
    /* a fast interval timer against reads of an empty pipe: every read must end
     * in EINTR (SIGALRM without SA_RESTART) */
    struct sigaction sal;
    memset(&sal, 0, sizeof(sal));
    sal.sa_handler = on_usr;
    sigaction(SIGALRM, &sal, NULL);
    struct itimerval it = { { 0, 500 }, { 0, 500 } };
    setitimer(ITIMER_REAL, &it, NULL);
    int eintr = 0, empty[2];
    CHECK(pipe(empty) == 0);
    for (int i = 0; i < 300; i++) {
        char z;
        if (read(empty[0], &z, 1) < 0 && errno == EINTR)
            eintr++;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    CHECK(eintr == 300);
    printf("timer reads: %d EINTR\n", eintr);
    printf("thrsig: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
