/* blkio: apply I/O operations to an image through libblock (test helper).
 *
 *   blkio [-f fmt] [-c cache] [-s] IMAGE OP...
 *     w:OFF:LEN:BYTE   write LEN bytes of BYTE at OFF (sizes take k/M/G)
 *     z:OFF:LEN        write zeroes (may unmap)
 *     d:OFF:LEN        discard
 *     r:OFF:LEN:BYTE   read and fail (exit 1) unless every byte is BYTE
 *     f                flush
 *     S:NAME / A:NAME / D:NAME   snapshot create / apply / delete
 *     p:SECONDS        pause (holds the image and its locks)
 *   -s: a snapshot-style temporary overlay (writes never reach IMAGE)
 * Exit 0 on success, 1 with a message on the first failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block/block.h"

static uint64_t num(const char *s)
{
    int64_t v = blk_parse_size(s);
    if (v < 0) {
        fprintf(stderr, "blkio: bad number '%s'\n", s);
        exit(1);
    }
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    const char *fmt = NULL;
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    bool temp = false;
    int c;
    while ((c = getopt(argc, argv, "f:c:s")) != -1) {
        if (c == 'f') {
            fmt = optarg;
        } else if (c == 'c') {
            cache = !strcmp(optarg, "none") ? BLK_CACHE_NONE
                  : !strcmp(optarg, "unsafe") ? BLK_CACHE_UNSAFE
                  : !strcmp(optarg, "directsync") ? BLK_CACHE_DIRECTSYNC : BLK_CACHE_WRITEBACK;
        } else if (c == 's') {
            temp = true;
        } else {
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: blkio [-f fmt] [-c cache] [-s] IMAGE OP...\n");
        return 2;
    }
    char *err = NULL;
    blk_open_opts o = { .flags = BLK_O_RDWR, .cache = cache, .format = fmt };
    blk *bs = temp ? blk_open_temp_overlay(argv[optind], &o, &err)
                   : blk_open(argv[optind], &o, &err);
    if (!bs) {
        fprintf(stderr, "blkio: %s\n", err ? err : "open failed");
        return 1;
    }
    int r = 0;
    for (int i = optind + 1; i < argc && r >= 0; i++) {
        char *op = strdup(argv[i]), *f[5] = { 0 };
        int n = 0;
        for (char *p = strtok(op, ":"); p && n < 5; p = strtok(NULL, ":")) {
            f[n++] = p;
        }
        switch (f[0][0]) {
        case 'w': case 'r': {
            if (n < 4) {
                r = -22;
                break;
            }
            uint64_t off = num(f[1]), len = num(f[2]);
            int byte = (int)strtol(f[3], NULL, 0);
            uint8_t *b = malloc(len);
            if (f[0][0] == 'w') {
                memset(b, byte, len);
                r = blk_pwrite(bs, off, b, len);
            } else {
                r = blk_pread(bs, off, b, len);
                for (uint64_t k = 0; r >= 0 && k < len; k++) {
                    if (b[k] != byte) {
                        fprintf(stderr, "blkio: byte %llu is %#x, expected %#x\n",
                                (unsigned long long)(off + k), b[k], byte);
                        r = -5;
                    }
                }
            }
            free(b);
            break;
        }
        case 'z': r = n < 3 ? -22 : blk_pwrite_zeroes(bs, num(f[1]), num(f[2]),
                                                      BLK_ZERO_MAY_UNMAP); break;
        case 'd': r = n < 3 ? -22 : blk_discard(bs, num(f[1]), num(f[2])); break;
        case 'f': r = blk_flush(bs); break;
        case 'S': r = blk_snapshot_create(bs, f[1], &err); break;
        case 'A': r = blk_snapshot_apply(bs, f[1], &err); break;
        case 'D': r = blk_snapshot_delete(bs, f[1], &err); break;
        case 'p': sleep((unsigned)atoi(f[1])); break;
        default: r = -22;
        }
        if (r < 0) {
            fprintf(stderr, "blkio: %s: %s\n", argv[i], err ? err : strerror(-r));
        }
        free(op);
    }
    if (r >= 0) {
        r = blk_flush(bs);
    }
    blk_close(bs);
    free(err);
    return r < 0 ? 1 : 0;
}
