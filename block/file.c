/* Positional I/O on the host file of an image, with the cache mode applied.
 * With O_DIRECT, unaligned requests go through an aligned bounce buffer
 * (read-modify-write for writes). */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block/block.h"

static bool aligned(blk_file *f, uint64_t off, const void *buf, size_t len)
{
    uint64_t a = f->align;
    return a <= 1 || ((off | len | (uintptr_t)buf) & (a - 1)) == 0;
}

/* Read exactly len bytes; past end of file reads zeros. */
static int raw_read(int fd, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            memset(p, 0, len);
            return 0;
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int raw_write(int fd, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -ENOSPC;
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int blk_file_pread(blk_file *f, uint64_t off, void *buf, size_t len)
{
    if (aligned(f, off, buf, len)) {
        return raw_read(f->fd, off, buf, len);
    }
    uint64_t a = f->align, start = off & ~(a - 1);
    size_t blen = ((off + len + a - 1) & ~(a - 1)) - start;
    void *b;
    if (posix_memalign(&b, a, blen)) {
        return -ENOMEM;
    }
    int r = raw_read(f->fd, start, b, blen);
    if (r >= 0) {
        memcpy(buf, (uint8_t *)b + (off - start), len);
    }
    free(b);
    return r;
}

int blk_file_pwrite(blk_file *f, uint64_t off, const void *buf, size_t len)
{
    if (aligned(f, off, buf, len)) {
        return raw_write(f->fd, off, buf, len);
    }
    uint64_t a = f->align, start = off & ~(a - 1);
    size_t blen = ((off + len + a - 1) & ~(a - 1)) - start;
    void *b;
    if (posix_memalign(&b, a, blen)) {
        return -ENOMEM;
    }
    int r = 0;
    if (start != off || blen != len) {
        r = raw_read(f->fd, start, b, blen);
    }
    if (r >= 0) {
        memcpy((uint8_t *)b + (off - start), buf, len);
        int64_t flen = blk_file_length(f);
        r = raw_write(f->fd, start, b, blen);
        /* Keep the file length what a buffered write would have made it. */
        if (r >= 0 && flen >= 0 && start + blen > (uint64_t)flen && off + len > (uint64_t)flen &&
            !f->is_blockdev) {
            r = ftruncate(f->fd, off + len) < 0 ? -errno : 0;
        }
    }
    free(b);
    return r;
}

int blk_file_flush(blk_file *f)
{
    if (f->unsafe) {
        return 0;
    }
    return fdatasync(f->fd) < 0 ? -errno : 0;
}

int64_t blk_file_length(blk_file *f)
{
    if (f->is_blockdev) {
        uint64_t n;
        return ioctl(f->fd, BLKGETSIZE64, &n) < 0 ? -errno : (int64_t)n;
    }
    struct stat st;
    return fstat(f->fd, &st) < 0 ? -errno : st.st_size;
}

int blk_file_truncate(blk_file *f, uint64_t len)
{
    if (f->is_blockdev) {
        int64_t n = blk_file_length(f);
        return n >= 0 && (uint64_t)n >= len ? 0 : -ENOSPC;
    }
    return ftruncate(f->fd, len) < 0 ? -errno : 0;
}

int blk_file_punch(blk_file *f, uint64_t off, uint64_t len)
{
    if (f->is_blockdev) {
        uint64_t range[2] = { off, len };
        return ioctl(f->fd, BLKZEROOUT, range) < 0 ? -errno : 0;
    }
    if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0) {
        return 0;
    }
    return -errno;
}
