/* vireo-img: the image tool (qemu-img's subcommands, options, output and exit
 * codes).  main.c holds the metadata commands, copy.c the data movers. */
#ifndef STANDALONE_IMG_IMG_H
#define STANDALONE_IMG_IMG_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"

#define IMG_CHUNK (2u << 20)             /* bytes moved per request by convert & co */

void img_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err (or a generic message), free it, return 1. */
int img_fail(char *err, const char *what);
/* Parse "-o a=b,c=d" into kv (appending); commas doubled escape a comma. */
int img_parse_opts(const char *s, blk_kv **kv, int *n);
void img_free_opts(blk_kv *kv, int n);
int img_parse_cache(const char *s, enum blk_cache *c);
blk *img_open(const char *file, const char *fmt, unsigned flags, enum blk_cache cache);
bool img_is_zero(const uint8_t *p, size_t n);

struct img_progress {
    int mode;                           /* 0 none, 1 human (-p), 2 json */
    double last;
};
void img_progress(struct img_progress *p, uint64_t done, uint64_t total);
int img_progress_mode(const char *s);

int img_convert(int argc, char **argv);
int img_dd(int argc, char **argv);
int img_commit(int argc, char **argv);
int img_rebase(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_bench(int argc, char **argv);

#endif
