/* qcow2 driver internals shared by qcow2.c (I/O, allocation, create),
 * qcow2-snap.c (internal snapshots) and qcow2-check.c (check/repair).
 * Facts are from the public qcow2 format specification (QEMU's
 * docs/interop/qcow2.txt); section names are cited where used. */
#ifndef BLOCK_QCOW2_INT_H
#define BLOCK_QCOW2_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "block/block.h"

#define Q2_MAGIC 0x514649fbu            /* "QFI\xfb" */
#define Q2_V2_HEADER_LEN 72
#define Q2_V3_HEADER_LEN 104
#define Q2_MIN_CLUSTER_BITS 9
#define Q2_MAX_CLUSTER_BITS 21
#define Q2_MAX_L1_BYTES (32u << 20)     /* sanity limit: 32 MiB of L1 table */
#define Q2_MAX_RT_BYTES (8u << 20)      /* sanity limit: 8 MiB of refcount table */
#define Q2_MAX_SNAPSHOTS 65536
#define Q2_MAX_SNAP_EXTRA 1024
#define Q2_MAX_SIZE (1ull << 56)        /* offsets are 56 bits */

/* Incompatible / compatible / autoclear feature bits (header, version 3) */
#define Q2_INCOMPAT_DIRTY     (1ull << 0)
#define Q2_INCOMPAT_CORRUPT   (1ull << 1)
#define Q2_INCOMPAT_DATA_FILE (1ull << 2)
#define Q2_INCOMPAT_COMPRESSION (1ull << 3)
#define Q2_INCOMPAT_EXTL2     (1ull << 4)
#define Q2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

/* Header extension types ("Header extensions") */
#define Q2_EXT_END         0x00000000u
#define Q2_EXT_BACKING_FMT 0xe2792acau
#define Q2_EXT_FEATURES    0x6803f857u

/* L1/L2 entry bits ("Cluster mapping") */
#define Q2_OFLAG_COPIED     (1ull << 63)
#define Q2_OFLAG_COMPRESSED (1ull << 62)
#define Q2_OFLAG_ZERO       (1ull << 0)
#define Q2_OFFSET_MASK      0x00fffffffffffe00ull
#define Q2_L1_RESERVED      0x7f000000000001ffull
#define Q2_L2_RESERVED      0x3f000000000001feull

enum q2_ctype { Q2_UNALLOC, Q2_ZERO, Q2_ZERO_ALLOC, Q2_NORMAL, Q2_COMPRESSED, Q2_BAD };

typedef struct q2_cache_ent {
    uint64_t off;                       /* host offset of the cached cluster, 0 = empty */
    uint8_t *data;
    uint64_t used;                      /* LRU stamp */
} q2_cache_ent;

typedef struct q2_cache {
    q2_cache_ent *ent;
    int n;
    uint64_t clock;
} q2_cache;

typedef struct q2_ext {
    uint32_t type, len;
    uint8_t *data;
} q2_ext;

typedef struct q2_snap {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id, *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint64_t icount;
    uint32_t extra_size;                /* as read (kept for unknown extra data) */
} q2_snap;

typedef struct q2 {
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits;                   /* log2 of entries per L2 table */
    uint64_t l2_entries;
    uint32_t header_length;
    uint64_t incompat, compat, autoclear;
    uint32_t refcount_order;
    uint64_t refcount_max;
    uint64_t rpb;                       /* refcounts per refcount block */
    uint32_t compression_type;

    uint64_t *l1;                       /* active L1, host order */
    uint32_t l1_size;
    uint64_t l1_offset;

    uint64_t *rt;                       /* refcount table, host order */
    uint64_t rt_size;                   /* entries */
    uint64_t rt_offset;
    uint32_t rt_clusters;

    q2_snap *snaps;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size;            /* bytes of the table on disk */

    q2_ext *exts;                       /* header extensions kept as read */
    int n_exts;
    char *feature_names;                /* feature table extension, raw */
    uint32_t feature_names_len;

    q2_cache l2c, rbc;
    uint64_t free_hint;                 /* clusters below are known to be in use */
    uint64_t free_byte;                 /* next byte for compressed data, 0 = none */
    uint64_t end_cluster;               /* first cluster past everything allocated */

    uint8_t *zbuf;                      /* one decompressed cluster */
    uint64_t zbuf_off;                  /* its host offset + 1, 0 = empty */
    int corrupt_reported;
} q2;

static inline uint16_t q2_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t q2_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t q2_be64(const uint8_t *p)
{
    return (uint64_t)q2_be32(p) << 32 | q2_be32(p + 4);
}
static inline void q2_st16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void q2_st32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static inline void q2_st64(uint8_t *p, uint64_t v) { q2_st32(p, v >> 32); q2_st32(p + 4, v); }

static inline q2 *q2_of(blk *bs) { return bs->opaque; }
static inline uint64_t q2_size_to_clusters(q2 *s, uint64_t n)
{
    return (n + s->cluster_size - 1) >> s->cluster_bits;
}

/* qcow2.c */
enum q2_ctype q2_decode(q2 *s, uint64_t e, uint64_t *host, uint64_t *csize);
int q2_refcount_get(blk *bs, uint64_t cluster, uint64_t *rc);
int q2_refcount_set(blk *bs, uint64_t cluster, uint64_t rc);
int q2_refcount_add(blk *bs, uint64_t off, uint64_t len, int addend);
int q2_refcount_add_clusters(blk *bs, uint64_t *clusters, size_t n, int addend);
int64_t q2_alloc_clusters(blk *bs, uint64_t n);
int q2_l2_load(blk *bs, uint64_t off, uint8_t **table);
int q2_l2_store(blk *bs, uint64_t off, uint32_t first, uint32_t n);
void q2_cache_drop(q2_cache *c, uint64_t off);
void q2_cache_clear(q2_cache *c);
int q2_write_l1_entries(blk *bs, uint32_t first, uint32_t n);
int q2_hdr_write(blk *bs, uint32_t field, const void *val, size_t len);
int q2_rewrite_header(blk *bs, char **err);
int q2_flush_file(blk *bs);
int q2_set_l1(blk *bs, const uint64_t *l1, uint32_t n, char **err);
int q2_mark_corrupt(blk *bs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int q2_read_table(blk *bs, uint64_t off, uint64_t bytes, void *buf, const char *what, char **err);
int q2_file_clusters(blk *bs, uint64_t *n);

/* qcow2-snap.c */
int q2_snap_load(blk *bs, char **err);
void q2_snap_free(q2 *s);
int q2_update_refcounts(blk *bs, const uint64_t *l1, uint32_t l1_size, int addend);
int q2_update_copied(blk *bs);
int q2_snapshot_create(blk *bs, const char *name, char **err);
int q2_snapshot_list(blk *bs, blk_snapshot **list);
int q2_snapshot_apply(blk *bs, const char *name_or_id, char **err);
int q2_snapshot_load_tmp(blk *bs, const char *name_or_id, char **err);
int q2_snapshot_delete(blk *bs, const char *name_or_id, char **err);

/* qcow2-check.c */
int q2_check(blk *bs, blk_check_result *res, unsigned fix);
/* Rewrite the refcount structure with entries 2^order bits wide (amend). */
int q2_change_refcount_order(blk *bs, uint32_t order, char **err);

#endif
