/* Small helpers shared by the foreign-format drivers (VMDK, VDI, VHD): byte order,
 * whole-buffer positioned I/O and one-line error messages. */
#ifndef BLOCK_VMDK_VDI_VHD_H
#define BLOCK_VMDK_VDI_VHD_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "block/block.h"

/* what a range of the virtual disk reads from */
enum { FMT_ZERO = 0, FMT_DATA = 1 };

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void put_be64(uint8_t *p, uint64_t v) { put_be32(p, v >> 32); put_be32(p + 4, (uint32_t)v); }
static inline void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = v >> 8; }
static inline void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = v >> 24;
}
static inline void put_le64(uint8_t *p, uint64_t v) { put_le32(p, (uint32_t)v); put_le32(p + 4, v >> 32); }

/* Read exactly len bytes at off (callers check bounds against the file size first;
 * the file layer reads zeros past its end). */
static inline int fmt_pread(blk_file *f, void *buf, size_t len, uint64_t off)
{
    return blk_file_pread(f, off, buf, len);
}

static inline int fmt_pwrite(blk_file *f, const void *buf, size_t len, uint64_t off)
{
    return blk_file_pwrite(f, off, buf, len);
}

/* Format an error message into err (if any) and return code (a negative errno). */
static inline int __attribute__((format(printf, 4, 5)))
fmt_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Random bytes for UUIDs and CIDs (not security relevant). */
void fmt_random(uint8_t *buf, size_t len);

/* ---- glue to the block layer's driver interface ---- */

typedef int fmt_read_fn(void *img, uint64_t off, void *buf, size_t len);
typedef int fmt_write_fn(void *img, uint64_t off, const void *buf, size_t len);

/* Run a vectored request as one call per iovec element. */
int fmt_readv(void *img, fmt_read_fn *fn, uint64_t off, const struct iovec *iov, int iovcnt);
int fmt_writev(void *img, fmt_write_fn *fn, uint64_t off, const struct iovec *iov, int iovcnt);
/* A format's map of guest bytes: FMT_DATA with the host offset of `off`, FMT_ZERO,
 * or -errno; *pnum is how far that answer holds (0 < *pnum <= len). */
typedef int fmt_map_fn(void *img, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host);
/* Read [off, off+len) through `map`: data from `file`, zeros elsewhere.  The caller
 * has checked the range against the virtual size. */
int fmt_read_mapped(void *img, fmt_map_fn *map, blk_file *file, uint64_t off, void *buf,
                    size_t len);
/* The kind of `off` (FMT_DATA, FMT_ZERO or -errno) and in *pnum how far it extends
 * over neighbouring runs of the same kind, up to len. */
/* host (may be NULL): where a data run starts in the image file, or FMT_NO_HOST */
#define FMT_NO_HOST (~0ull)
int fmt_status_mapped(void *img, fmt_map_fn *map, uint64_t off, uint64_t len, uint64_t *pnum,
                      uint64_t *host);
/* Fill a blk_status from FMT_DATA / FMT_ZERO (or pass on an error). */
int fmt_status(int st, uint64_t pnum, uint64_t host, bool zero_present, blk_status *out);
/* Set *err to "'FILE': MSG" for an open that failed with `msg`. */
void fmt_open_error(char **err, const char *filename, const char *fmtname, const char *msg);
/* The create option `key` is "on" (true), "off"/absent (false); -EINVAL otherwise. */
int fmt_opt_bool(const blk_kv *opts, int nopts, const char *key, bool *val, char **err);

#endif
