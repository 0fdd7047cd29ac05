/* Crash-consistency writer and verifier for qcow2 (tests/blockfmt/crash.sh).
 *
 *   crash-writer write IMAGE LOG SEED [delete]
 *                                         random 4 KiB writes in batches, each batch
 *                                         followed by blk_flush; internal snapshots
 *                                         created now and then (and with "delete" the
 *                                         oldest deleted); runs until killed
 *   crash-writer verify IMAGE LOG         every write the log lists is on the image
 *
 * Each block written holds (magic, block number, generation) and a pattern derived
 * from them, so a block read back tells which write it came from.  After a flush
 * returns, the batch's (block, generation) pairs are appended to LOG and fsync'd:
 * those writes completed before a flush and must survive a SIGKILL at any later
 * point.  A block may hold a newer generation (a later write that reached the file),
 * never an older one, and never a mix. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

#define BLOCK       4096
#define MAGIC       0x5649524543524153ULL   /* "VIRECRAS" */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void fill(uint8_t *b, uint64_t blk, uint64_t gen)
{
    uint64_t *w = (uint64_t *)b;
    w[0] = MAGIC;
    w[1] = blk;
    w[2] = gen;
    uint64_t x = blk * 0x9E3779B97F4A7C15ULL ^ gen;
    for (size_t i = 3; i < BLOCK / 8; i++) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        w[i] = x;
    }
}

struct rec { uint64_t blk, gen; };

static int do_write(const char *image, const char *logname, uint64_t seed, bool delete)
{
    char *err = NULL;
    blk_open_opts o = { .flags = BLK_O_RDWR, .format = "qcow2" };
    blk *bs = blk_open(image, &o, &err);
    if (!bs) {
        fprintf(stderr, "crash-writer: %s\n", err);
        return 1;
    }
    int log = open(logname, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) {
        perror(logname);
        return 1;
    }
    uint64_t nblocks = blk_size(bs) / BLOCK;
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    static uint8_t buf[BLOCK];
    struct rec pending[64];
    uint64_t gen = 0;
    int snaps = 0, oldest = 0;
    for (int batch = 0;; batch++) {
        int n = 1 + (int)(rng() % 32);
        for (int i = 0; i < n; i++) {
            /* half the writes land in a small hot area: rewrites of allocated
             * clusters; the rest scatter: new clusters and L2 tables */
            uint64_t blk = rng() % 2 ? rng() % 64 : rng() % nblocks;
            fill(buf, blk, ++gen);
            int r = blk_pwrite(bs, blk * BLOCK, buf, BLOCK);
            if (r < 0) {
                fprintf(stderr, "crash-writer: write: %s\n", strerror(-r));
                return 1;
            }
            pending[i] = (struct rec){ blk, gen };
        }
        int r = blk_flush(bs);
        if (r < 0) {
            fprintf(stderr, "crash-writer: flush: %s\n", strerror(-r));
            return 1;
        }
        if (write(log, pending, n * sizeof(pending[0])) != (ssize_t)(n * sizeof(pending[0])) ||
            fsync(log) < 0) {
            perror("crash-writer: log");
            return 1;
        }
        if (batch % 16 == 15) {
            char name[32];
            snprintf(name, sizeof(name), "s%d", snaps++);
            if (blk_snapshot_create(bs, name, &err) < 0) {
                fprintf(stderr, "crash-writer: snapshot: %s\n", err);
                return 1;
            }
        }
        if (delete && snaps - oldest > 3) {
            char name[32];
            snprintf(name, sizeof(name), "s%d", oldest++);
            if (blk_snapshot_delete(bs, name, &err) < 0) {
                fprintf(stderr, "crash-writer: snapshot delete: %s\n", err);
                return 1;
            }
        }
    }
}

static int do_verify(const char *image, const char *logname)
{
    char *err = NULL;
    blk_open_opts o = { .format = "qcow2", .flags = BLK_O_NO_LOCK };
    blk *bs = blk_open(image, &o, &err);
    if (!bs) {
        printf("FAIL: crash image opens: %s\n", err);
        return 1;
    }
    uint64_t nblocks = blk_size(bs) / BLOCK;
    uint64_t *durable = calloc(nblocks, sizeof(*durable));
    FILE *log = fopen(logname, "rb");
    struct rec r;
    uint64_t records = 0;
    while (log && fread(&r, sizeof(r), 1, log) == 1) {
        if (r.blk < nblocks && r.gen > durable[r.blk])
            durable[r.blk] = r.gen;
        records++;
    }
    if (log)
        fclose(log);
    static uint8_t got[BLOCK], want[BLOCK];
    uint64_t bad = 0, checked = 0;
    for (uint64_t b = 0; b < nblocks; b++) {
        if (!durable[b])
            continue;
        checked++;
        int e = blk_pread(bs, b * BLOCK, got, BLOCK);
        uint64_t *w = (uint64_t *)got;
        const char *why = NULL;
        if (e < 0)
            why = strerror(-e);
        else if (w[0] != MAGIC || w[1] != b)
            why = "not a block this writer wrote (lost or misplaced)";
        else if (w[2] < durable[b])
            why = "older than the last flushed write";
        else {
            fill(want, b, w[2]);
            if (memcmp(got, want, BLOCK))
                why = "torn or mixed content";
        }
        if (why && bad++ < 5)
            printf("block %" PRIu64 ": %s (flushed generation %" PRIu64 ")\n", b, why, durable[b]);
    }
    free(durable);
    blk_close(bs);
    if (bad) {
        printf("FAIL: %" PRIu64 " of %" PRIu64 " flushed blocks wrong\n", bad, checked);
        return 1;
    }
    printf("verify: %" PRIu64 " flushed writes, %" PRIu64 " blocks checked\n", records, checked);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "write"))
        return do_write(argv[2], argv[3], strtoull(argv[4], NULL, 0),
                        argc == 6 && !strcmp(argv[5], "delete"));
    if (argc == 4 && !strcmp(argv[1], "verify"))
        return do_verify(argv[2], argv[3]);
    fprintf(stderr, "usage: crash-writer write IMAGE LOG SEED [delete] | verify IMAGE LOG\n");
    return 2;
}
