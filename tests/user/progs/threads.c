/* pthreads: a bounded queue with a mutex and two condition variables, several
 * producers and consumers; thread-local storage; pthread_join return values;
 * a barrier.  The consumed sum must equal the produced sum. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define PRODUCERS 3
#define CONSUMERS 3
#define ITEMS 3000
#define QSIZE 16

static int queue[QSIZE], head, tail, count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static int done_producers;
static __thread int tls_counter;
static pthread_barrier_t barrier;

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    long sum = 0;
    for (int i = 1; i <= ITEMS; i++) {
        int v = id * 100000 + i;
        pthread_mutex_lock(&mu);
        while (count == QSIZE)
            pthread_cond_wait(&not_full, &mu);
        queue[tail] = v;
        tail = (tail + 1) % QSIZE;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
        sum += v;
        tls_counter++;
    }
    pthread_mutex_lock(&mu);
    done_producers++;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&mu);
    pthread_barrier_wait(&barrier);
    return (void *)(intptr_t)(tls_counter == ITEMS ? sum : -1);
}

static void *consumer(void *arg)
{
    long sum = 0;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (count == 0 && done_producers < PRODUCERS)
            pthread_cond_wait(&not_empty, &mu);
        if (count == 0) {
            pthread_mutex_unlock(&mu);
            break;
        }
        int v = queue[head];
        head = (head + 1) % QSIZE;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mu);
        sum += v;
    }
    pthread_barrier_wait(&barrier);
    return (void *)(intptr_t)sum;
}

int main(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    pthread_barrier_init(&barrier, NULL, PRODUCERS + CONSUMERS);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, NULL);
    long produced = 0, consumed = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        void *r;
        pthread_join(p[i], &r);
        produced += (long)(intptr_t)r;
    }
    for (int i = 0; i < CONSUMERS; i++) {
        void *r;
        pthread_join(c[i], &r);
        consumed += (long)(intptr_t)r;
    }
    long expect = 0;
    for (int id = 1; id <= PRODUCERS; id++)
        for (int i = 1; i <= ITEMS; i++)
            expect += id * 100000 + i;
    printf("produced %ld consumed %ld expected %ld main tls %d\n", produced, consumed, expect, tls_counter);
    int ok = produced == expect && consumed == expect && tls_counter == 0;
    printf("threads: %s\n", ok ? "ok" : "FAILED");
    return !ok;
}
