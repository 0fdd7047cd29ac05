/* The generic block layer: open/close with backing chains, bounds checks,
 * synchronous calls into the drivers, chain-wide block status, messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block/block.h"

/* ---- messages ------------------------------------------------------------------------ */

char *blk_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    return s;
}

void blk_set_err(char **err, const char *fmt, ...)
{
    if (!err || *err) {
        return;                         /* keep the first, most specific message */
    }
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0) {
        *err = NULL;
    }
    va_end(ap);
}

/* ---- iovec helpers ---------------------------------------------------------------------- */

void blk_iov_to_buf(const struct iovec *iov, int iovcnt, size_t iov_off, void *buf, size_t len)
{
    uint8_t *d = buf;
    for (int i = 0; i < iovcnt && len; i++) {
        if (iov_off >= iov[i].iov_len) {
            iov_off -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - iov_off;
        if (n > len) {
            n = len;
        }
        memcpy(d, (uint8_t *)iov[i].iov_base + iov_off, n);
        d += n;
        len -= n;
        iov_off = 0;
    }
}

void blk_iov_from_buf(const struct iovec *iov, int iovcnt, size_t iov_off, const void *buf,
                      size_t len)
{
    const uint8_t *s = buf;
    for (int i = 0; i < iovcnt && len; i++) {
        if (iov_off >= iov[i].iov_len) {
            iov_off -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - iov_off;
        if (n > len) {
            n = len;
        }
        memcpy((uint8_t *)iov[i].iov_base + iov_off, s, n);
        s += n;
        len -= n;
        iov_off = 0;
    }
}

static size_t iov_size(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

/* ---- options ----------------------------------------------------------------------------- */

const char *blk_kv_get(const blk_kv *kv, int n, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < n; i++) {
        if (!strcmp(kv[i].key, key)) {
            v = kv[i].val;              /* the last one given wins, as in qemu-img */
        }
    }
    return v;
}

int64_t blk_parse_size(const char *s)
{
    if (!s || !*s || *s == '-') {
        return -1;
    }
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || d < 0) {
        return -1;
    }
    uint64_t mul = 1;
    switch (*end) {
    case '\0': case 'b': case 'B': break;
    case 'k': case 'K': mul = 1ull << 10; break;
    case 'm': case 'M': mul = 1ull << 20; break;
    case 'g': case 'G': mul = 1ull << 30; break;
    case 't': case 'T': mul = 1ull << 40; break;
    case 'p': case 'P': mul = 1ull << 50; break;
    case 'e': case 'E': mul = 1ull << 60; break;
    default: return -1;
    }
    if (*end && end[1]) {
        return -1;
    }
    double v = d * (double)mul;
    if (v >= 9.2e18 || v != (double)(uint64_t)v) {
        return -1;                      /* too big, or a fraction of a byte */
    }
    return (int64_t)v;
}

/* ---- open and close --------------------------------------------------------------------- */

struct chain_id { dev_t dev; ino_t ino; };

static blk *open_layer(const char *filename, const blk_open_opts *opts, struct chain_id *seen,
                       int depth, char **err);

/* Resolve a backing name as written in an overlay: absolute names stand, relative
 * ones are relative to the overlay's directory. */
static char *resolve_backing(const char *overlay, const char *name)
{
    if (name[0] == '/') {
        return strdup(name);
    }
    const char *slash = strrchr(overlay, '/');
    if (!slash) {
        return strdup(name);            /* both relative to the working directory */
    }
    return blk_strdup_printf("%.*s/%s", (int)(slash - overlay), overlay, name);
}

static int open_backing(blk *bs, const blk_open_opts *opts, struct chain_id *seen, int depth,
                        char **err)
{
    if (!bs->backing_name || !bs->backing_name[0]) {
        return 0;
    }
    if (depth + 1 >= BLK_MAX_CHAIN) {
        blk_set_err(err, "'%s': backing chain deeper than %d images", bs->filename,
                    BLK_MAX_CHAIN);
        return -ELOOP;
    }
    free(bs->backing_path);
    bs->backing_path = resolve_backing(bs->filename, bs->backing_name);
    blk_open_opts bo = {
        .flags = (opts->flags & (BLK_O_NO_LOCK | BLK_O_FORCE_SHARE)),
        .cache = opts->cache,
        .format = bs->backing_fmt,
    };
    char *e = NULL;
    bs->backing = open_layer(bs->backing_path, &bo, seen, depth + 1, &e);
    if (!bs->backing) {
        blk_set_err(err, "Could not open backing file '%s' of '%s': %s", bs->backing_path,
                    bs->filename, e ? e : "error");
        free(e);
        return -ENOENT;
    }
    return 0;
}

static blk *open_layer(const char *filename, const blk_open_opts *opts, struct chain_id *seen,
                       int depth, char **err)
{
    bool rw = opts->flags & BLK_O_RDWR;
    int oflags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    if (opts->cache == BLK_CACHE_NONE || opts->cache == BLK_CACHE_DIRECTSYNC) {
        oflags |= O_DIRECT;
    }
    if (opts->cache == BLK_CACHE_DIRECTSYNC) {
        oflags |= O_DSYNC;
    }
    int fd = open(filename, oflags);
    if (fd < 0 && (oflags & O_DIRECT) && errno == EINVAL) {
        blk_set_err(err, "'%s': the file system does not support O_DIRECT (cache=none)",
                    filename);
        return NULL;
    }
    if (fd < 0) {
        blk_set_err(err, "Could not open '%s': %s", filename, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        blk_set_err(err, "'%s' is not an image file", filename);
        close(fd);
        return NULL;
    }
    for (int i = 0; i < depth; i++) {
        if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino) {
            blk_set_err(err, "backing chain loops: '%s' is its own backing file (at depth %d)",
                        filename, depth);
            close(fd);
            return NULL;
        }
    }
    seen[depth].dev = st.st_dev;
    seen[depth].ino = st.st_ino;

    blk *bs = calloc(1, sizeof(*bs));
    bs->filename = strdup(filename);
    bs->file.fd = fd;
    bs->file.filename = bs->filename;
    bs->file.direct = oflags & O_DIRECT;
    bs->file.unsafe = opts->cache == BLK_CACHE_UNSAFE;
    bs->file.is_blockdev = S_ISBLK(st.st_mode);
    bs->file.align = bs->file.direct ? 4096 : 1;
    bs->read_only = !rw;
    bs->open_flags = opts->flags;
    pthread_mutex_init(&bs->lock, NULL);

    /* Locks before reading anything, so a writer cannot change the header under us. */
    if (!(opts->flags & (BLK_O_NO_LOCK | BLK_O_FORCE_SHARE))) {
        unsigned perm = BLK_PERM_CONSISTENT_READ | (rw ? BLK_PERM_WRITE | BLK_PERM_RESIZE : 0);
        unsigned shared = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED;
        if (opts->flags & BLK_O_SHARE_RW) {
            shared |= BLK_PERM_WRITE | BLK_PERM_RESIZE;
        }
        if (depth > 0) {
            perm = BLK_PERM_CONSISTENT_READ;
            shared = BLK_PERM_ALL & ~(BLK_PERM_WRITE | BLK_PERM_RESIZE);
        }
        if (blk_lock_fd(fd, filename, perm, shared, err) < 0) {
            blk_close(bs);
            return NULL;
        }
    }

    uint8_t *probe = NULL;
    if (posix_memalign((void **)&probe, 4096, BLK_PROBE_BYTES)) {
        blk_close(bs);
        return NULL;
    }
    memset(probe, 0, BLK_PROBE_BYTES);
    int r = blk_file_pread(&bs->file, 0, probe, BLK_PROBE_BYTES);
    if (r < 0) {
        blk_set_err(err, "Could not read '%s': %s", filename, strerror(-r));
        free(probe);
        blk_close(bs);
        return NULL;
    }
    if (opts->format) {
        bs->drv = blk_find_driver(opts->format);
        if (!bs->drv) {
            blk_set_err(err, "Unknown image format '%s'", opts->format);
        }
    } else {
        bs->drv = blk_probe(probe, BLK_PROBE_BYTES, filename);
    }
    free(probe);
    if (!bs->drv) {
        blk_close(bs);
        return NULL;
    }
    if (!rw || bs->drv->pwritev) {
        bs->opaque = bs->drv->state_size ? calloc(1, bs->drv->state_size) : NULL;
    } else {
        blk_set_err(err, "'%s': format '%s' can only be opened read-only", filename,
                    bs->drv->name);
        bs->drv = NULL;
        blk_close(bs);
        return NULL;
    }
    r = bs->drv->open(bs, opts, err);
    if (r < 0) {
        blk_set_err(err, "Could not open '%s': %s", filename, strerror(-r));
        if (bs->drv->close) {
            bs->drv->close(bs);         /* frees what open got to */
        }
        bs->drv = NULL;
        blk_close(bs);
        return NULL;
    }
    if (depth == 0 && opts->backing) {
        free(bs->backing_name);
        bs->backing_name = strdup(opts->backing);
        free(bs->backing_fmt);
        bs->backing_fmt = opts->backing_format ? strdup(opts->backing_format) : NULL;
    }
    if (!(opts->flags & BLK_O_NO_BACKING) && open_backing(bs, opts, seen, depth, err) < 0) {
        blk_close(bs);
        return NULL;
    }
    return bs;
}

blk *blk_open(const char *filename, const blk_open_opts *opts, char **err)
{
    static const blk_open_opts defaults;
    struct chain_id *seen = calloc(BLK_MAX_CHAIN, sizeof(*seen));
    blk *bs = open_layer(filename, opts ? opts : &defaults, seen, 0, err);
    free(seen);
    return bs;
}

void blk_close(blk *bs)
{
    if (!bs) {
        return;
    }
    blk_aio_drain(bs);
    if (bs->drv && bs->drv->close) {
        bs->drv->close(bs);
    }
    blk_close(bs->backing);
    free(bs->opaque);
    if (bs->file.fd > 0) {
        blk_unlock_fd(bs->file.fd);
        close(bs->file.fd);
    }
    free(bs->backing_name);
    free(bs->backing_fmt);
    free(bs->backing_path);
    free(bs->filename);
    free(bs->aio);
    pthread_mutex_destroy(&bs->lock);
    free(bs);
}

/* ---- synchronous I/O --------------------------------------------------------------------- */

#define DRV_CALL(bs, expr) ({                                   \
    bool _l = !(bs)->drv->self_locking;                         \
    if (_l) pthread_mutex_lock(&(bs)->lock);                    \
    __auto_type _r = (expr);                                    \
    if (_l) pthread_mutex_unlock(&(bs)->lock);                  \
    _r; })

static int check_range(blk *bs, uint64_t off, uint64_t len)
{
    if (off > bs->size || len > bs->size - off) {
        return -EINVAL;
    }
    return 0;
}

static int check_write(blk *bs, uint64_t off, uint64_t len)
{
    if (bs->read_only) {
        return -EROFS;
    }
    return check_range(bs, off, len);
}

int blk_preadv(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt)
{
    uint64_t len = iov_size(iov, iovcnt);
    int r = check_range(bs, off, len);
    if (r < 0 || !len) {
        return r;
    }
    return DRV_CALL(bs, bs->drv->preadv(bs, off, len, iov, iovcnt));
}

int blk_pwritev(blk *bs, uint64_t off, const struct iovec *iov, int iovcnt)
{
    uint64_t len = iov_size(iov, iovcnt);
    int r = check_write(bs, off, len);
    if (r < 0 || !len) {
        return r;
    }
    if (!bs->drv->pwritev) {
        return -ENOTSUP;
    }
    return DRV_CALL(bs, bs->drv->pwritev(bs, off, len, iov, iovcnt));
}

int blk_pread(blk *bs, uint64_t off, void *buf, size_t len)
{
    struct iovec iov = { buf, len };
    return blk_preadv(bs, off, &iov, 1);
}

int blk_pwrite(blk *bs, uint64_t off, const void *buf, size_t len)
{
    struct iovec iov = { (void *)buf, len };
    return blk_pwritev(bs, off, &iov, 1);
}

int blk_flush(blk *bs)
{
    if (bs->read_only) {
        return 0;
    }
    if (!bs->drv->flush) {
        return blk_file_flush(&bs->file);
    }
    return DRV_CALL(bs, bs->drv->flush(bs));
}

int blk_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags)
{
    int r = check_write(bs, off, len);
    if (r < 0 || !len) {
        return r;
    }
    if (bs->drv->pwrite_zeroes) {
        r = DRV_CALL(bs, bs->drv->pwrite_zeroes(bs, off, len, flags));
        if (r != -ENOTSUP) {
            return r;
        }
    }
    if (flags & BLK_ZERO_NO_FALLBACK) {
        return -ENOTSUP;
    }
    size_t chunk = len < (1u << 20) ? len : (1u << 20);
    void *z = calloc(1, chunk);
    if (!z) {
        return -ENOMEM;
    }
    while (len && r >= 0) {
        size_t n = len < chunk ? len : chunk;
        r = blk_pwrite(bs, off, z, n);
        off += n;
        len -= n;
    }
    free(z);
    return r < 0 ? r : 0;
}

int blk_discard(blk *bs, uint64_t off, uint64_t len)
{
    int r = check_write(bs, off, len);
    if (r < 0 || !len || !bs->drv->discard) {
        return r;                       /* discard is advisory */
    }
    return DRV_CALL(bs, bs->drv->discard(bs, off, len));
}

int blk_pwrite_compressed(blk *bs, uint64_t off, const void *buf, size_t len)
{
    int r = check_write(bs, off, len);
    if (r < 0) {
        return r;
    }
    if (bs->drv->compress && bs->drv->pwrite_precompressed) {
        void *out = malloc(len ? len : 1);
        size_t clen = 0;
        r = out ? bs->drv->compress(bs, buf, len, out, &clen) : -ENOMEM;
        if (r >= 0) {
            r = clen ? DRV_CALL(bs, bs->drv->pwrite_precompressed(bs, off, out, clen))
                     : blk_pwrite(bs, off, buf, len);
        }
        free(out);
        return r;
    }
    if (!bs->drv->pwrite_compressed) {
        return -ENOTSUP;
    }
    return DRV_CALL(bs, bs->drv->pwrite_compressed(bs, off, buf, len));
}

int blk_read_backing(blk *bs, uint64_t off, void *buf, size_t len)
{
    if (!bs->backing) {
        memset(buf, 0, len);
        return 0;
    }
    uint64_t bsize = bs->backing->size;
    size_t n = off >= bsize ? 0 : (bsize - off < len ? bsize - off : len);
    if (n < len) {
        memset((uint8_t *)buf + n, 0, len - n);
    }
    return n ? blk_pread(bs->backing, off, buf, n) : 0;
}

/* ---- block status ------------------------------------------------------------------------ */

int blk_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    memset(st, 0, sizeof(*st));
    int r = check_range(bs, off, len);
    if (r < 0 || !len) {
        return r < 0 ? r : -EINVAL;
    }
    if (!bs->drv->block_status) {
        st->flags = BLK_ST_DATA | BLK_ST_ALLOCATED;
        st->len = len;
        return 0;
    }
    r = DRV_CALL(bs, bs->drv->block_status(bs, off, len, st));
    if (r >= 0 && (st->len == 0 || st->len > len)) {
        st->len = len;
    }
    if (r >= 0 && !st->file) {
        st->file = bs->filename;
    }
    return r;
}

int blk_block_status_above(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    int depth = 0;
    for (blk *b = bs; ; b = b->backing, depth++) {
        if (off >= b->size) {
            /* past the end of a shorter backing file: reads as zeros */
            memset(st, 0, sizeof(*st));
            st->flags = BLK_ST_ZERO;
            st->len = len;
            st->depth = depth > 0 ? depth - 1 : 0;  /* the last layer that covers it */
            return 0;
        }
        if (len > b->size - off) {
            len = b->size - off;
        }
        int r = blk_block_status(b, off, len, st);
        if (r < 0) {
            return r;
        }
        st->depth = depth;
        if ((st->flags & BLK_ST_ALLOCATED) || !b->backing) {
            if (!(st->flags & BLK_ST_ALLOCATED) && !(st->flags & BLK_ST_DATA)) {
                st->flags |= BLK_ST_ZERO;
            }
            return 0;
        }
        len = st->len;
    }
}

/* ---- size ---------------------------------------------------------------------------------- */

uint64_t blk_size(blk *bs)
{
    return bs->size;
}

int64_t blk_file_size(blk *bs)
{
    struct stat st;
    if (fstat(bs->file.fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

int blk_truncate(blk *bs, uint64_t size, bool shrink, enum blk_prealloc prealloc, char **err)
{
    if (bs->read_only) {
        blk_set_err(err, "'%s' is open read-only", bs->filename);
        return -EROFS;
    }
    if (size < bs->size && !shrink) {
        blk_set_err(err, "Use the --shrink option to perform a shrink operation.");
        return -EINVAL;
    }
    if (!bs->drv->truncate) {
        blk_set_err(err, "Image format '%s' does not support resizing", bs->drv->name);
        return -ENOTSUP;
    }
    return DRV_CALL(bs, bs->drv->truncate(bs, size, shrink, prealloc, err));
}

/* ---- snapshots ------------------------------------------------------------------------------- */

static int no_snapshots(blk *bs, char **err)
{
    blk_set_err(err, "Format '%s' of '%s' does not support internal snapshots",
                bs->drv->name, bs->filename);
    return -ENOTSUP;
}

int blk_snapshot_create(blk *bs, const char *name, char **err)
{
    if (!bs->drv->snapshot_create) {
        return no_snapshots(bs, err);
    }
    if (bs->read_only) {
        blk_set_err(err, "'%s' is open read-only", bs->filename);
        return -EROFS;
    }
    return DRV_CALL(bs, bs->drv->snapshot_create(bs, name, err));
}

int blk_snapshot_list(blk *bs, blk_snapshot **list)
{
    *list = NULL;
    if (!bs->drv->snapshot_list) {
        return 0;
    }
    return DRV_CALL(bs, bs->drv->snapshot_list(bs, list));
}

void blk_snapshot_list_free(blk_snapshot *list, int n)
{
    for (int i = 0; i < n; i++) {
        free(list[i].name);
    }
    free(list);
}

int blk_snapshot_apply(blk *bs, const char *name_or_id, char **err)
{
    if (!bs->drv->snapshot_apply) {
        return no_snapshots(bs, err);
    }
    if (bs->read_only) {
        blk_set_err(err, "'%s' is open read-only", bs->filename);
        return -EROFS;
    }
    return DRV_CALL(bs, bs->drv->snapshot_apply(bs, name_or_id, err));
}

int blk_snapshot_load_tmp(blk *bs, const char *name_or_id, char **err)
{
    if (!bs->drv->snapshot_load_tmp) {
        return no_snapshots(bs, err);
    }
    if (!bs->read_only) {
        blk_set_err(err, "'%s': a snapshot can be loaded only into a read-only image",
                    bs->filename);
        return -EINVAL;
    }
    return DRV_CALL(bs, bs->drv->snapshot_load_tmp(bs, name_or_id, err));
}

int blk_snapshot_delete(blk *bs, const char *name_or_id, char **err)
{
    if (!bs->drv->snapshot_delete) {
        return no_snapshots(bs, err);
    }
    if (bs->read_only) {
        blk_set_err(err, "'%s' is open read-only", bs->filename);
        return -EROFS;
    }
    return DRV_CALL(bs, bs->drv->snapshot_delete(bs, name_or_id, err));
}

/* ---- check ------------------------------------------------------------------------------------ */

int blk_check(blk *bs, blk_check_result *res, unsigned fix)
{
    memset(res, 0, sizeof(*res));
    if (!bs->drv->check) {
        return -ENOTSUP;
    }
    if (fix && bs->read_only) {
        return -EROFS;
    }
    return DRV_CALL(bs, bs->drv->check(bs, res, fix));
}

void blk_check_msg(blk_check_result *res, const char *fmt, ...)
{
    if (res->n_messages >= 1000) {
        return;                         /* a hostile image cannot make us print forever */
    }
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    if (!s) {
        return;
    }
    char **m = realloc(res->messages, (res->n_messages + 1) * sizeof(*m));
    if (!m) {
        free(s);
        return;
    }
    res->messages = m;
    m[res->n_messages++] = s;
}

void blk_check_result_free(blk_check_result *res)
{
    for (int i = 0; i < res->n_messages; i++) {
        free(res->messages[i]);
    }
    free(res->messages);
    res->messages = NULL;
    res->n_messages = 0;
}

/* ---- info, create, amend ------------------------------------------------------------------------ */

void blk_get_info(blk *bs, blk_info *info)
{
    memset(info, 0, sizeof(*info));
    info->format = bs->drv->name;
    info->virtual_size = bs->size;
    info->actual_size = blk_file_size(bs);
    info->backing_file = bs->backing_name;
    info->backing_format = bs->backing_fmt;
    if (bs->drv->get_info) {
        bs->drv->get_info(bs, info);
    }
}

bool blk_format_specific(blk *bs, blk_json *j)
{
    return bs->drv->format_specific && bs->drv->format_specific(bs, j);
}

static int check_create_opts(const blk_driver *drv, const blk_kv *opts, int nopts, char **err)
{
    for (int i = 0; i < nopts; i++) {
        bool known = false;
        for (const blk_opt_desc *d = drv->create_opts; d && d->key; d++) {
            known |= !strcmp(d->key, opts[i].key);
        }
        if (!known) {
            blk_set_err(err, "Invalid parameter '%s'", opts[i].key);
            return -EINVAL;
        }
    }
    return 0;
}

int blk_create(const char *format, const char *filename, uint64_t size,
               const blk_kv *opts, int nopts, char **err)
{
    const blk_driver *drv = blk_find_driver(format);
    if (!drv) {
        blk_set_err(err, "Unknown file format '%s'", format);
        return -EINVAL;
    }
    if (!drv->create) {
        blk_set_err(err, "Format driver '%s' does not support image creation", format);
        return -ENOTSUP;
    }
    int r = check_create_opts(drv, opts, nopts, err);
    return r < 0 ? r : drv->create(filename, size, opts, nopts, err);
}

int blk_amend(blk *bs, const blk_kv *opts, int nopts, char **err)
{
    if (!bs->drv->amend) {
        blk_set_err(err, "Format driver '%s' does not support option amendment", bs->drv->name);
        return -ENOTSUP;
    }
    int r = check_create_opts(bs->drv, opts, nopts, err);
    return r < 0 ? r : DRV_CALL(bs, bs->drv->amend(bs, opts, nopts, err));
}

int blk_change_backing(blk *bs, const char *backing, const char *backing_fmt, char **err)
{
    if (!bs->drv->change_backing) {
        blk_set_err(err, "Format '%s' does not support backing files", bs->drv->name);
        return -ENOTSUP;
    }
    int r = DRV_CALL(bs, bs->drv->change_backing(bs, backing, backing_fmt, err));
    if (r >= 0) {
        free(bs->backing_name);
        free(bs->backing_fmt);
        bs->backing_name = backing && *backing ? strdup(backing) : NULL;
        bs->backing_fmt = backing_fmt && *backing_fmt ? strdup(backing_fmt) : NULL;
    }
    return r;
}

int blk_make_empty(blk *bs)
{
    if (!bs->drv->make_empty) {
        return -ENOTSUP;
    }
    return DRV_CALL(bs, bs->drv->make_empty(bs));
}

int blk_measure(const char *format, const blk_kv *opts, int nopts, uint64_t size,
                blk *src, uint64_t *required, uint64_t *fully_allocated, char **err)
{
    const blk_driver *drv = blk_find_driver(format);
    if (!drv) {
        blk_set_err(err, "Unknown file format '%s'", format);
        return -EINVAL;
    }
    if (!drv->measure) {
        blk_set_err(err, "Format driver '%s' does not support measure", format);
        return -ENOTSUP;
    }
    int r = check_create_opts(drv, opts, nopts, err);
    return r < 0 ? r : drv->measure(opts, nopts, size, src, required, fully_allocated, err);
}

/* ---- temporary overlays (-snapshot) ------------------------------------------------------------- */

blk *blk_open_temp_overlay(const char *base, const blk_open_opts *base_opts, char **err)
{
    blk_open_opts bo = base_opts ? *base_opts : (blk_open_opts){ 0 };
    bo.flags &= ~BLK_O_RDWR;
    blk *b = blk_open(base, &bo, err);
    if (!b) {
        return NULL;
    }
    const char *tmpdir = getenv("TMPDIR");
    char *path = blk_strdup_printf("%s/vireo-snapshot-XXXXXX", tmpdir ? tmpdir : "/var/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        blk_set_err(err, "Could not create a temporary overlay in '%s': %s",
                    tmpdir ? tmpdir : "/var/tmp", strerror(errno));
        free(path);
        blk_close(b);
        return NULL;
    }
    close(fd);
    char *abs = realpath(base, NULL);
    blk_kv kv[] = { { "backing_file", abs ? abs : base }, { "backing_fmt", b->drv->name } };
    blk *o = NULL;
    if (blk_create("qcow2", path, b->size, kv, 2, err) >= 0) {
        blk_open_opts oo = { .flags = BLK_O_RDWR | BLK_O_NO_BACKING | BLK_O_NO_LOCK,
                             .cache = bo.cache == BLK_CACHE_DIRECTSYNC ? BLK_CACHE_WRITEBACK
                                                                       : BLK_CACHE_UNSAFE };
        o = blk_open(path, &oo, err);
    }
    unlink(path);                       /* gone with the process, whatever happens */
    free(path);
    free(abs);
    if (!o) {
        blk_close(b);
        return NULL;
    }
    o->backing = b;
    o->open_flags |= BLK_O_TEMP;
    return o;
}
