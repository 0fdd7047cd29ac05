/* raw: the image file (or block device) is the disk.  Block status comes from
 * SEEK_DATA/SEEK_HOLE, so sparse files convert and map as sparse. */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block/block.h"

static int raw_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return 1;                           /* anything is a raw image; everyone else wins */
}

static int raw_open(blk *bs, const blk_open_opts *opts, char **err)
{
    int64_t len = blk_file_length(&bs->file);
    if (len < 0) {
        blk_set_err(err, "'%s': cannot get the size: %s", bs->filename, strerror((int)-len));
        return (int)len;
    }
    bs->size = len;
    return 0;
}

static int raw_preadv(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    if (!bs->file.direct) {
        ssize_t n = preadv(bs->file.fd, iov, iovcnt, off);
        if (n == (ssize_t)len) {
            return 0;
        }
    }
    /* short read, O_DIRECT or an error: go piecewise through the file helpers */
    for (int i = 0; i < iovcnt; i++) {
        int r = blk_file_pread(&bs->file, off, iov[i].iov_base, iov[i].iov_len);
        if (r < 0) {
            return r;
        }
        off += iov[i].iov_len;
    }
    return 0;
}

static int raw_pwritev(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    if (!bs->file.direct) {
        ssize_t n = pwritev(bs->file.fd, iov, iovcnt, off);
        if (n == (ssize_t)len) {
            return 0;
        }
    }
    for (int i = 0; i < iovcnt; i++) {
        int r = blk_file_pwrite(&bs->file, off, iov[i].iov_base, iov[i].iov_len);
        if (r < 0) {
            return r;
        }
        off += iov[i].iov_len;
    }
    return 0;
}

static int raw_flush(blk *bs)
{
    return blk_file_flush(&bs->file);
}

static int raw_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags)
{
    if (bs->file.is_blockdev) {
        return blk_file_punch(&bs->file, off, len) < 0 ? -ENOTSUP : 0;
    }
    int mode = (flags & BLK_ZERO_MAY_UNMAP) ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                                            : FALLOC_FL_ZERO_RANGE;
    if (fallocate(bs->file.fd, mode, off, len) == 0) {
        return 0;
    }
    if (mode == FALLOC_FL_ZERO_RANGE &&
        fallocate(bs->file.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0 &&
        fallocate(bs->file.fd, 0, off, len) == 0) {
        return 0;
    }
    return -ENOTSUP;
}

static int raw_discard(blk *bs, uint64_t off, uint64_t len)
{
    return bs->file.is_blockdev ? 0 : blk_file_punch(&bs->file, off, len);
}

static int raw_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    st->map = off;
    st->file = bs->filename;
    st->flags = BLK_ST_ALLOCATED | BLK_ST_OFFSET_VALID | BLK_ST_DATA;
    st->len = len;
    if (bs->file.is_blockdev) {
        return 0;
    }
    off_t data = lseek(bs->file.fd, off, SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
        data = bs->size;                /* only a hole until the end */
    } else if (data < 0) {
        return 0;                       /* no SEEK_DATA: all data */
    }
    if ((uint64_t)data > off) {
        uint64_t n = (uint64_t)data - off;
        st->flags = BLK_ST_ALLOCATED | BLK_ST_OFFSET_VALID | BLK_ST_ZERO;
        st->len = n < len ? n : len;
        return 0;
    }
    off_t hole = lseek(bs->file.fd, off, SEEK_HOLE);
    if (hole > (off_t)off) {
        uint64_t n = (uint64_t)hole - off;
        st->len = n < len ? n : len;
    }
    return 0;
}

static int set_length(blk *bs, uint64_t old, uint64_t size, enum blk_prealloc p, char **err)
{
    int r = blk_file_truncate(&bs->file, size);
    if (r < 0) {
        blk_set_err(err, "'%s': cannot resize to %llu bytes: %s", bs->filename,
                    (unsigned long long)size, strerror(-r));
        return r;
    }
    if (size > old && p == BLK_PREALLOC_FALLOC) {
        if (fallocate(bs->file.fd, 0, old, size - old) < 0) {
            r = -errno;
            blk_set_err(err, "'%s': preallocation failed: %s", bs->filename, strerror(-r));
            return r;
        }
    } else if (size > old && p == BLK_PREALLOC_FULL) {
        void *z = calloc(1, 1 << 20);
        for (uint64_t o = old; o < size && r >= 0; o += 1 << 20) {
            uint64_t n = size - o < (1u << 20) ? size - o : (1u << 20);
            r = blk_file_pwrite(&bs->file, o, z, n);
        }
        free(z);
        if (r < 0) {
            blk_set_err(err, "'%s': preallocation failed: %s", bs->filename, strerror(-r));
            return r;
        }
    }
    return 0;
}

static int raw_truncate(blk *bs, uint64_t size, bool shrink, enum blk_prealloc p, char **err)
{
    if (bs->file.is_blockdev) {
        int64_t n = blk_file_length(&bs->file);
        if (n < 0 || (uint64_t)n != size) {
            blk_set_err(err, "'%s' is a block device; its size cannot be changed",
                        bs->filename);
            return -ENOTSUP;
        }
        return 0;
    }
    int r = set_length(bs, bs->size, size, p, err);
    if (r >= 0) {
        bs->size = size;
    }
    return r;
}

int blk_parse_prealloc(const char *s, enum blk_prealloc *p);
int blk_parse_prealloc(const char *s, enum blk_prealloc *p)
{
    if (!s || !strcmp(s, "off")) {
        *p = BLK_PREALLOC_OFF;
    } else if (!strcmp(s, "metadata")) {
        *p = BLK_PREALLOC_METADATA;
    } else if (!strcmp(s, "falloc")) {
        *p = BLK_PREALLOC_FALLOC;
    } else if (!strcmp(s, "full")) {
        *p = BLK_PREALLOC_FULL;
    } else {
        return -EINVAL;
    }
    return 0;
}

static int raw_create(const char *filename, uint64_t size, const blk_kv *opts, int nopts,
                      char **err)
{
    enum blk_prealloc p;
    if (blk_parse_prealloc(blk_kv_get(opts, nopts, "preallocation"), &p) < 0 ||
        p == BLK_PREALLOC_METADATA) {
        blk_set_err(err, "Invalid preallocation mode '%s' for raw (off, falloc, full)",
                    blk_kv_get(opts, nopts, "preallocation"));
        return -EINVAL;
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int r = -errno;
        blk_set_err(err, "Could not create '%s': %s", filename, strerror(errno));
        return r;
    }
    blk tmp = { .filename = (char *)filename, .file = { .fd = fd, .filename = (char *)filename,
                                                         .align = 1 } };
    int r = blk_file_truncate(&tmp.file, 0);
    if (r >= 0) {
        r = set_length(&tmp, 0, size, p, err);
    } else {
        blk_set_err(err, "Could not truncate '%s': %s", filename, strerror(-r));
    }
    close(fd);
    return r;
}

/* A raw image needs its whole virtual size, whatever the source holds
 * (qemu-img reports the same number for both). */
static int raw_measure(const blk_kv *opts, int nopts, uint64_t size, blk *src,
                       uint64_t *required, uint64_t *fully, char **err)
{
    *fully = size;
    *required = size;
    return 0;
}

static const blk_opt_desc raw_create_opts[] = {
    { "size", "Virtual disk size" },
    { "preallocation", "Preallocation mode (allowed values: off, falloc, full)" },
    { NULL, NULL },
};

const blk_driver blk_drv_raw = {
    .name = "raw",
    .self_locking = true,               /* pread/pwrite need no lock */
    .probe = raw_probe,
    .open = raw_open,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .discard = raw_discard,
    .block_status = raw_block_status,
    .truncate = raw_truncate,
    .create_opts = raw_create_opts,
    .create = raw_create,
    .measure = raw_measure,
};
