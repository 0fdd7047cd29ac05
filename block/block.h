/* Vireo block layer: one driver interface for every image format, used by the
 * emulator's disk backends and by vireo-img alike.
 *
 * Model
 *   A `blk` is one open image layer (one file in one format).  A qcow2 overlay
 *   holds a pointer to its backing `blk` (opened by blk_open, chains of any
 *   depth, loops refused).  Drivers see the raw file through `blk_file`
 *   (positional I/O on one fd, with the cache mode applied), never through stdio.
 *
 *   All offsets and lengths are in bytes.  Synchronous calls return 0 or a
 *   negative errno and, where they take `char **err`, may set *err to a malloc'd
 *   message naming the file and the problem (caller frees).  They are thread
 *   safe per `blk`: a driver's metadata is guarded by blk->lock, taken by the
 *   generic layer around every driver call (unless the driver sets
 *   self_locking and guards itself).
 *
 * Drivers
 *   block/drivers.c holds the table of drivers (blk_drivers[]).  It lists raw and
 *   qcow2; the `blockfmt` engineer adds vmdk, vdi and vhd to that same table (that
 *   one small edit of drivers.c is theirs).  A driver fills a `blk_driver` with
 *   its ops; ops it does not support are NULL and the generic layer returns
 *   -ENOTSUP with a message ("'vdi' does not support snapshots").  Read-only
 *   drivers leave write/create NULL.
 *
 *   Probing: each driver's probe() scores the first BLK_PROBE_BYTES bytes of the
 *   file (0 = not mine, 100 = magic matched, raw always answers 1).  The highest
 *   score wins.  Probing never chooses raw silently for a writable open of a file
 *   that another driver also claims.
 *
 * Asynchronous requests (device models)
 *   blk_aio_* queue a request on a small worker pool (see docs/block.md for why
 *   a pool rather than io_uring) and call the completion callback on a worker
 *   thread; the device model forwards it to its own loop (e.g. an eventfd/BH).
 *
 * Locking
 *   Images are locked with the same OFD byte-range locks QEMU uses, so Vireo
 *   and QEMU processes see each other's claims (blk_lock_*, docs/block.md).
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <pthread.h>

#define BLK_SECTOR 512
#define BLK_PROBE_BYTES 4096
#define BLK_MAX_CHAIN 256               /* deepest backing chain opened */

typedef struct blk blk;
typedef struct blk_driver blk_driver;
typedef struct blk_json blk_json;

/* ---- opening ------------------------------------------------------------------ */

enum blk_cache {
    BLK_CACHE_WRITEBACK = 0,            /* page cache, flush = fdatasync */
    BLK_CACHE_NONE,                     /* O_DIRECT, flush = fdatasync */
    BLK_CACHE_UNSAFE,                   /* page cache, flush ignored */
    BLK_CACHE_DIRECTSYNC,               /* O_DIRECT|O_DSYNC */
};

/* Flags of blk_open_opts.flags */
#define BLK_O_RDWR          (1u << 0)   /* open for writing (else read-only) */
#define BLK_O_NO_BACKING    (1u << 1)   /* do not open the backing chain */
#define BLK_O_NO_LOCK       (1u << 2)   /* take no locks at all (qemu-img -U style) */
#define BLK_O_SHARE_RW      (1u << 3)   /* let others write too (share-rw=on) */
#define BLK_O_NO_REPAIR     (1u << 4)   /* do not replay a dirty qcow2 on open (check) */
#define BLK_O_FORCE_SHARE   (1u << 5)   /* read-only and share every permission (-U) */
#define BLK_O_TEMP          (1u << 6)   /* unlink the file on close (-snapshot overlays) */
#define BLK_O_IGNORE_CORRUPT (1u << 7)  /* open a corrupt-flagged image (check -r) */

typedef struct blk_open_opts {
    unsigned flags;
    enum blk_cache cache;
    const char *format;                 /* NULL = probe */
    const char *backing;                /* override the backing file name, NULL = header's */
    const char *backing_format;         /* format of that override, NULL = header's/probe */
} blk_open_opts;

/* Open `filename`.  Returns NULL and sets *err on failure. */
blk *blk_open(const char *filename, const blk_open_opts *opts, char **err);
void blk_close(blk *bs);                /* closes the backing chain as well */

/* ---- synchronous I/O ------------------------------------------------------------- */

int blk_pread(blk *bs, uint64_t off, void *buf, size_t len);
int blk_pwrite(blk *bs, uint64_t off, const void *buf, size_t len);
int blk_preadv(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt);
int blk_pwritev(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt);
int blk_flush(blk *bs);

/* Flags of blk_pwrite_zeroes */
#define BLK_ZERO_MAY_UNMAP  (1u << 0)   /* the range may become a hole / zero cluster */
#define BLK_ZERO_NO_FALLBACK (1u << 1)  /* fail with -ENOTSUP rather than write zeros */
int blk_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags);
int blk_discard(blk *bs, uint64_t off, uint64_t len);
/* Write one cluster compressed (convert -c); data that does not shrink is
 * written normally.  off is cluster aligned, len a cluster (the last may be
 * short).  Thread safe: several callers compress in parallel. */
int blk_pwrite_compressed(blk *bs, uint64_t off, const void *buf, size_t len);

/* ---- block status ------------------------------------------------------------------ */

#define BLK_ST_DATA        (1u << 0)    /* reads return data (maybe zeros) from this layer */
#define BLK_ST_ZERO        (1u << 1)    /* reads return zeros */
#define BLK_ST_ALLOCATED   (1u << 2)    /* this layer decides the content (not backing) */
#define BLK_ST_OFFSET_VALID (1u << 3)   /* *map is the host offset in *file */
#define BLK_ST_COMPRESSED  (1u << 4)

typedef struct blk_status {
    unsigned flags;
    uint64_t len;                       /* bytes from off that share this status (>0) */
    uint64_t map;                       /* host offset, if OFFSET_VALID */
    const char *file;                   /* file name the map offset is in */
    int depth;                          /* 0 = this layer, 1 = its backing, ... */
} blk_status;

/* Status of [off, off+len) in this layer only. */
int blk_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st);
/* Status looking down the chain: the first layer that allocates the range
 * decides (depth set); unallocated everywhere = zero. */
int blk_block_status_above(blk *bs, uint64_t off, uint64_t len, blk_status *st);

/* ---- size ------------------------------------------------------------------------ */

enum blk_prealloc { BLK_PREALLOC_OFF, BLK_PREALLOC_METADATA, BLK_PREALLOC_FALLOC,
                    BLK_PREALLOC_FULL };

uint64_t blk_size(blk *bs);              /* virtual disk size */
int64_t blk_file_size(blk *bs);          /* bytes allocated on the host (du) */
/* Resize; shrinking needs `shrink` (vireo-img resize --shrink). */
int blk_truncate(blk *bs, uint64_t size, bool shrink, enum blk_prealloc prealloc, char **err);

/* ---- internal snapshots -------------------------------------------------------------- */

typedef struct blk_snapshot {
    char id[32];
    char *name;
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t disk_size;                 /* virtual size when taken */
    uint64_t icount;                    /* (uint64_t)-1 if absent */
} blk_snapshot;

int blk_snapshot_create(blk *bs, const char *name, char **err);
/* Returns the count or -errno; with a count > 0, *list is malloc'd (free with
 * blk_snapshot_list_free), otherwise it is NULL. */
int blk_snapshot_list(blk *bs, blk_snapshot **list);
void blk_snapshot_list_free(blk_snapshot *list, int n);
int blk_snapshot_apply(blk *bs, const char *name_or_id, char **err);
int blk_snapshot_delete(blk *bs, const char *name_or_id, char **err);
/* Read-only images: show a snapshot's content instead of the active state until
 * close (convert -l), without writing anything. */
int blk_snapshot_load_tmp(blk *bs, const char *name_or_id, char **err);

/* ---- check and repair ----------------------------------------------------------------- */

#define BLK_FIX_LEAKS  (1u << 0)
#define BLK_FIX_ERRORS (1u << 1)

typedef struct blk_check_result {
    int64_t corruptions, leaks, check_errors;
    int64_t corruptions_fixed, leaks_fixed;
    uint64_t allocated_clusters, total_clusters, fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
    char **messages;                    /* one line each, n_messages of them */
    int n_messages;
} blk_check_result;

/* Exit codes of `check` as qemu-img documents them: 0 clean, 1 check not completed
 * (error), 2 corruptions, 3 leaks only. */
int blk_check(blk *bs, blk_check_result *res, unsigned fix);
void blk_check_result_free(blk_check_result *res);
/* Drivers report findings through this (also counts nothing; the caller counts). */
void blk_check_msg(blk_check_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- info ------------------------------------------------------------------------------ */

/* A tiny JSON writer: drivers describe their format-specific fields with it and
 * vireo-img prints it as qemu-img does (JSON, or indented human text). */
blk_json *blk_json_new(void);
void blk_json_free(blk_json *j);
void blk_json_obj_begin(blk_json *j, const char *key);   /* key NULL in arrays/top */
void blk_json_obj_end(blk_json *j);
void blk_json_arr_begin(blk_json *j, const char *key);
void blk_json_arr_end(blk_json *j);
void blk_json_str(blk_json *j, const char *key, const char *val);
void blk_json_int(blk_json *j, const char *key, int64_t val);
void blk_json_uint(blk_json *j, const char *key, uint64_t val);
void blk_json_bool(blk_json *j, const char *key, bool val);
const char *blk_json_text(blk_json *j);  /* the text written so far */

typedef struct blk_info {
    const char *format;
    uint64_t virtual_size;
    int64_t actual_size;
    uint32_t cluster_size;               /* 0 = none */
    bool dirty, encrypted;
    const char *backing_file;            /* as written in the image */
    const char *backing_format;          /* as written, NULL if absent */
} blk_info;

void blk_get_info(blk *bs, blk_info *info);
/* Writes the "format-specific" object's members ({"type":..., "data":{...}});
 * returns false if the driver has none. */
bool blk_format_specific(blk *bs, blk_json *j);

/* ---- creation, amend, backing ------------------------------------------------------------ */

/* Creation options are qemu-img's -o key=value pairs plus size; each driver lists
 * the keys it understands (create_opts) and refuses unknown ones. */
typedef struct blk_kv { const char *key, *val; } blk_kv;

typedef struct blk_opt_desc {
    const char *key;
    const char *help;
} blk_opt_desc;

const char *blk_kv_get(const blk_kv *kv, int n, const char *key);
/* Size with qemu-img suffixes (k, M, G, T, P, E; b = bytes); -1 if invalid. */
int64_t blk_parse_size(const char *s);

int blk_create(const char *format, const char *filename, uint64_t size,
               const blk_kv *opts, int nopts, char **err);
int blk_amend(blk *bs, const blk_kv *opts, int nopts, char **err);
/* Rewrite the backing file name and format in the header (rebase, commit). */
int blk_change_backing(blk *bs, const char *backing, const char *backing_fmt, char **err);
/* Drop every allocation of this layer so it reads through to its backing
 * (after commit); -ENOTSUP if the driver cannot. */
int blk_make_empty(blk *bs);

/* Measure: bytes a new image of `format` needs for `size` (and the data of `src`
 * if not NULL). */
int blk_measure(const char *format, const blk_kv *opts, int nopts, uint64_t size,
                blk *src, uint64_t *required, uint64_t *fully_allocated, char **err);

/* ---- temporary overlays (-snapshot) --------------------------------------------------------- */

/* Create a qcow2 overlay in $TMPDIR over `base` (opened read-only with shared
 * write locks not taken) and open it read-write; the file is unlinked at once so
 * it disappears with the process.  Writes go to the overlay, never to base. */
blk *blk_open_temp_overlay(const char *base, const blk_open_opts *base_opts, char **err);

/* ---- asynchronous requests ------------------------------------------------------------------- */

typedef void blk_aio_cb(void *opaque, int ret);

/* Each call queues one request; cb runs on a worker thread with 0 or -errno.
 * The iovec array must stay valid until the callback. */
int blk_aio_preadv(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt,
                   blk_aio_cb *cb, void *opaque);
int blk_aio_pwritev(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt,
                    blk_aio_cb *cb, void *opaque);
int blk_aio_flush(blk *bs, blk_aio_cb *cb, void *opaque);
int blk_aio_discard(blk *bs, uint64_t off, uint64_t len, blk_aio_cb *cb, void *opaque);
int blk_aio_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags,
                          blk_aio_cb *cb, void *opaque);
/* Wait until every request queued on bs has completed (reset, close, migration). */
void blk_aio_drain(blk *bs);

/* ---- image locking (QEMU compatible) ------------------------------------------------------------ */

/* Permissions, numbered as QEMU numbers them: a process holding permission bit i
 * keeps a shared OFD lock on byte 100+i of the image file; a process refusing to
 * share permission i keeps a shared lock on byte 200+i.  See docs/block.md. */
#define BLK_PERM_CONSISTENT_READ (1u << 0)
#define BLK_PERM_WRITE           (1u << 1)
#define BLK_PERM_WRITE_UNCHANGED (1u << 2)
#define BLK_PERM_RESIZE          (1u << 3)
#define BLK_PERM_ALL             0xfu

/* Take `perm` and refuse others the complement of `shared` on an open fd.
 * On conflict returns -EAGAIN with *err naming the holder (pid if known). */
int blk_lock_fd(int fd, const char *filename, unsigned perm, unsigned shared, char **err);
void blk_unlock_fd(int fd);

/* ---- what drivers use ------------------------------------------------------------------------------ */

typedef struct blk_file {
    int fd;
    char *filename;
    bool direct;                        /* O_DIRECT: buffers and offsets aligned */
    bool unsafe;                        /* flush does nothing */
    bool is_blockdev;
    uint32_t align;                     /* request alignment (1, or 512/4096 for O_DIRECT) */
} blk_file;

int blk_file_pread(blk_file *f, uint64_t off, void *buf, size_t len);   /* zero past EOF */
int blk_file_pwrite(blk_file *f, uint64_t off, const void *buf, size_t len);
int blk_file_flush(blk_file *f);
int64_t blk_file_length(blk_file *f);
int blk_file_truncate(blk_file *f, uint64_t len);
int blk_file_punch(blk_file *f, uint64_t off, uint64_t len);   /* hole, reads zeros */

struct blk {
    const blk_driver *drv;
    void *opaque;                       /* driver state */
    blk_file file;
    char *filename;
    bool read_only;
    unsigned open_flags;
    uint64_t size;                      /* virtual size in bytes */
    blk *backing;                       /* NULL if none or not opened */
    char *backing_name;                 /* as written in the image (or override) */
    char *backing_fmt;                  /* as written in the image (or override) */
    char *backing_path;                 /* resolved against this image's directory */
    pthread_mutex_t lock;               /* serialises driver calls */
    struct blk_aio_queue *aio;          /* lazily created worker pool queue */
};

struct blk_driver {
    const char *name;
    size_t state_size;                  /* bytes of bs->opaque, zeroed at open */
    /* false (default): the generic layer holds bs->lock around every driver
     * call.  true: the driver locks itself (raw, qcow2: data I/O in parallel). */
    bool self_locking;
    int (*probe)(const uint8_t *buf, size_t len, const char *filename);

    /* open: bs->file is open; read the header, set bs->size, bs->backing_name and
     * backing_fmt (the generic layer opens the backing chain afterwards). */
    int (*open)(blk *bs, const blk_open_opts *opts, char **err);
    void (*close)(blk *bs);

    /* Guest-visible I/O, off+len within bs->size (the generic layer checks).
     * Reads of unallocated ranges go to bs->backing (or zeros) in the driver. */
    int (*preadv)(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt);
    int (*pwritev)(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt);
    int (*flush)(blk *bs);
    int (*pwrite_zeroes)(blk *bs, uint64_t off, uint64_t len, unsigned flags);
    int (*discard)(blk *bs, uint64_t off, uint64_t len);
    int (*pwrite_compressed)(blk *bs, uint64_t off, const void *buf, size_t len);
    /* Or split in two, so clusters compress in parallel: compress (thread safe,
     * called without bs->lock; *clen = 0 if the data does not shrink) and store. */
    int (*compress)(blk *bs, const void *buf, size_t len, void *out, size_t *clen);
    int (*pwrite_precompressed)(blk *bs, uint64_t off, const void *cdata, size_t clen);
    int (*block_status)(blk *bs, uint64_t off, uint64_t len, blk_status *st);

    int (*truncate)(blk *bs, uint64_t size, bool shrink, enum blk_prealloc p, char **err);

    int (*snapshot_create)(blk *bs, const char *name, char **err);
    int (*snapshot_list)(blk *bs, blk_snapshot **list);
    int (*snapshot_apply)(blk *bs, const char *name_or_id, char **err);
    int (*snapshot_delete)(blk *bs, const char *name_or_id, char **err);
    int (*snapshot_load_tmp)(blk *bs, const char *name_or_id, char **err);

    int (*check)(blk *bs, blk_check_result *res, unsigned fix);
    void (*get_info)(blk *bs, blk_info *info);
    bool (*format_specific)(blk *bs, blk_json *j);

    const blk_opt_desc *create_opts;    /* NULL-key terminated */
    int (*create)(const char *filename, uint64_t size, const blk_kv *opts, int nopts,
                  char **err);
    int (*amend)(blk *bs, const blk_kv *opts, int nopts, char **err);
    int (*change_backing)(blk *bs, const char *backing, const char *fmt, char **err);
    int (*make_empty)(blk *bs);
    int (*measure)(const blk_kv *opts, int nopts, uint64_t size, blk *src,
                   uint64_t *required, uint64_t *fully_allocated, char **err);
};

/* The driver table (block/drivers.c), NULL terminated. */
extern const blk_driver *const blk_drivers[];
const blk_driver *blk_find_driver(const char *name);
/* Probe a file's first bytes; returns the best driver (raw if nothing else). */
const blk_driver *blk_probe(const uint8_t *buf, size_t len, const char *filename);

/* Helpers for drivers */
char *blk_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void blk_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read from the backing chain (zeros past its end or without one). */
int blk_read_backing(blk *bs, uint64_t off, void *buf, size_t len);
/* Copy len bytes from an iovec position into/out of a flat buffer. */
void blk_iov_to_buf(const struct iovec *iov, int iovcnt, size_t iov_off, void *buf, size_t len);
void blk_iov_from_buf(const struct iovec *iov, int iovcnt, size_t iov_off, const void *buf,
                      size_t len);

#endif
