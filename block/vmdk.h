/* VMDK: read monolithicSparse, monolithicFlat, twoGbMaxExtent*, streamOptimized;
 * write flat extents in place and new streamOptimized images. */
#ifndef BLOCK_VMDK_H
#define BLOCK_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

struct vmdk;

bool vmdk_probe(const uint8_t *head, size_t len);
/* dirfd: directory that extent file names are relative to, or -1 (then only images
 * with an embedded descriptor open). */
int vmdk_open(struct vmdk **out, blk_file *file, int dirfd, bool writable, char *err, size_t errlen);
void vmdk_close(struct vmdk *v);
uint64_t vmdk_size(const struct vmdk *v);
const char *vmdk_create_type(const struct vmdk *v);
/* for info: the descriptor's CID and each extent */
uint32_t vmdk_cid(const struct vmdk *v);
/* Sparse extents: grains inside the file, no overlapping grains or tables. */
int vmdk_check(struct vmdk *v, blk_check_result *res);
struct vmdk_extent_info {
    const char *name;           /* as in the descriptor; NULL = the image file itself */
    uint64_t size;              /* bytes of the virtual disk */
    const char *type;           /* "" sparse, "FLAT", "ZERO" */
    uint64_t grain;             /* sparse: grain size in bytes, else 0 */
    bool compressed;
};
int vmdk_extent_info(const struct vmdk *v, int i, struct vmdk_extent_info *out);
const char *vmdk_last_error(const struct vmdk *v);
int vmdk_read(struct vmdk *v, uint64_t off, void *buf, size_t len);
int vmdk_write(struct vmdk *v, uint64_t off, const void *buf, size_t len);
int vmdk_flush(struct vmdk *v);
/* phost (may be NULL): file offset of a data run, or ~0 when it has none */
int vmdk_block_status(struct vmdk *v, uint64_t off, uint64_t len, uint64_t *pnum,
                      uint64_t *phost);
/* does the image hold any data (a grain or flat extent)? */
bool vmdk_has_data(struct vmdk *v);

/* streamOptimized writer: data must come in increasing grain order (what convert
 * does); grains never written read as zeros. */
struct vmdk_stream;
int vmdk_stream_create(struct vmdk_stream **out, blk_file *file, const char *name, uint64_t size,
                       char *err, size_t errlen);
int vmdk_stream_write(struct vmdk_stream *s, uint64_t off, const void *buf, size_t len);
/* zeros: only in the grain being written or ahead of it */
int vmdk_stream_zero(struct vmdk_stream *s, uint64_t off, uint64_t len);
/* has the grain holding `off` been written (or is being written)? */
bool vmdk_stream_written(const struct vmdk_stream *s, uint64_t off);
/* flush: make the file a complete image of the grains finished so far */
int vmdk_stream_checkpoint(struct vmdk_stream *s);
/* writes the remaining metadata, footer and end-of-stream marker */
int vmdk_stream_finish(struct vmdk_stream *s);
void vmdk_stream_free(struct vmdk_stream *s);
uint64_t vmdk_stream_size(const struct vmdk_stream *s);

#endif
