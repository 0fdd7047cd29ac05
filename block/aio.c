/* Asynchronous requests for device models: one process-wide pool of worker
 * threads runs the synchronous calls (docs/block.md says why a pool and not
 * io_uring).  Each blk counts its requests in flight so it can be drained. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "block/block.h"

#define AIO_WORKERS 4

enum aio_op { AIO_READ, AIO_WRITE, AIO_FLUSH, AIO_DISCARD, AIO_ZEROES };

typedef struct aio_req {
    struct aio_req *next;
    blk *bs;
    enum aio_op op;
    uint64_t off, len;
    unsigned flags;
    const struct iovec *iov;
    int iovcnt;
    blk_aio_cb *cb;
    void *opaque;
} aio_req;

struct blk_aio_queue {
    int inflight;
    pthread_cond_t idle;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static aio_req *queue_head, *queue_tail;
static int n_workers;

static void *worker(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&pool_lock);
        while (!queue_head) {
            pthread_cond_wait(&pool_work, &pool_lock);
        }
        aio_req *r = queue_head;
        queue_head = r->next;
        if (!queue_head) {
            queue_tail = NULL;
        }
        pthread_mutex_unlock(&pool_lock);

        int ret;
        switch (r->op) {
        case AIO_READ: ret = blk_preadv(r->bs, r->off, r->iov, r->iovcnt); break;
        case AIO_WRITE: ret = blk_pwritev(r->bs, r->off, r->iov, r->iovcnt); break;
        case AIO_FLUSH: ret = blk_flush(r->bs); break;
        case AIO_DISCARD: ret = blk_discard(r->bs, r->off, r->len); break;
        default: ret = blk_pwrite_zeroes(r->bs, r->off, r->len, r->flags); break;
        }
        r->cb(r->opaque, ret);

        pthread_mutex_lock(&pool_lock);
        if (--r->bs->aio->inflight == 0) {
            pthread_cond_broadcast(&r->bs->aio->idle);
        }
        pthread_mutex_unlock(&pool_lock);
        free(r);
    }
    return NULL;
}

static int submit(aio_req *tmpl)
{
    aio_req *r = malloc(sizeof(*r));
    if (!r) {
        return -ENOMEM;
    }
    *r = *tmpl;
    r->next = NULL;
    pthread_mutex_lock(&pool_lock);
    while (n_workers < AIO_WORKERS) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, worker, NULL)) {
            pthread_attr_destroy(&a);
            break;
        }
        pthread_attr_destroy(&a);
        n_workers++;
    }
    if (!n_workers) {
        pthread_mutex_unlock(&pool_lock);
        free(r);
        return -EAGAIN;
    }
    if (!r->bs->aio) {
        r->bs->aio = calloc(1, sizeof(*r->bs->aio));
        pthread_cond_init(&r->bs->aio->idle, NULL);
    }
    r->bs->aio->inflight++;
    if (queue_tail) {
        queue_tail->next = r;
    } else {
        queue_head = r;
    }
    queue_tail = r;
    pthread_cond_signal(&pool_work);
    pthread_mutex_unlock(&pool_lock);
    return 0;
}

int blk_aio_preadv(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt,
                   blk_aio_cb *cb, void *opaque)
{
    return submit(&(aio_req){ .bs = bs, .op = AIO_READ, .off = off, .iov = iov,
                              .iovcnt = iovcnt, .cb = cb, .opaque = opaque });
}

int blk_aio_pwritev(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt,
                    blk_aio_cb *cb, void *opaque)
{
    return submit(&(aio_req){ .bs = bs, .op = AIO_WRITE, .off = off, .iov = iov,
                              .iovcnt = iovcnt, .cb = cb, .opaque = opaque });
}

int blk_aio_flush(blk *bs, blk_aio_cb *cb, void *opaque)
{
    return submit(&(aio_req){ .bs = bs, .op = AIO_FLUSH, .cb = cb, .opaque = opaque });
}

int blk_aio_discard(blk *bs, uint64_t off, uint64_t len, blk_aio_cb *cb, void *opaque)
{
    return submit(&(aio_req){ .bs = bs, .op = AIO_DISCARD, .off = off, .len = len,
                              .cb = cb, .opaque = opaque });
}

int blk_aio_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags,
                          blk_aio_cb *cb, void *opaque)
{
    return submit(&(aio_req){ .bs = bs, .op = AIO_ZEROES, .off = off, .len = len,
                              .flags = flags, .cb = cb, .opaque = opaque });
}

void blk_aio_drain(blk *bs)
{
    pthread_mutex_lock(&pool_lock);
    while (bs->aio && bs->aio->inflight) {
        pthread_cond_wait(&bs->aio->idle, &pool_lock);
    }
    pthread_mutex_unlock(&pool_lock);
}
