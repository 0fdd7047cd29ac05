/* Helpers shared by the VMDK, VDI and VHD drivers. */
#include "block/vmdk-vdi-vhd.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

void fmt_random(uint8_t *buf, size_t len)
{
    if (getrandom(buf, len, GRND_NONBLOCK) == (ssize_t)len)
        return;
    /* early boot or a seccomp sandbox: fall back to a time-seeded generator */
    uint64_t x = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        buf[i] = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
    }
}

int fmt_readv(void *img, fmt_read_fn *fn, uint64_t off, const struct iovec *iov, int iovcnt)
{
    for (int i = 0; i < iovcnt; i++) {
        int r = fn(img, off, iov[i].iov_base, iov[i].iov_len);
        if (r < 0)
            return r;
        off += iov[i].iov_len;
    }
    return 0;
}

int fmt_writev(void *img, fmt_write_fn *fn, uint64_t off, const struct iovec *iov, int iovcnt)
{
    for (int i = 0; i < iovcnt; i++) {
        int r = fn(img, off, iov[i].iov_base, iov[i].iov_len);
        if (r < 0)
            return r;
        off += iov[i].iov_len;
    }
    return 0;
}

int fmt_read_mapped(void *img, fmt_map_fn *map, blk_file *file, uint64_t off, void *buf,
                    size_t len)
{
    uint8_t *p = buf;
    while (len) {
        uint64_t n, host = 0;
        int st = map(img, off, len, &n, &host);
        if (st < 0)
            return st;
        if (st == FMT_DATA) {
            int r = fmt_pread(file, p, n, host);
            if (r < 0)
                return r;
        } else {
            memset(p, 0, n);
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int fmt_status_mapped(void *img, fmt_map_fn *map, uint64_t off, uint64_t len, uint64_t *pnum,
                      uint64_t *phost)
{
    uint64_t host = FMT_NO_HOST, h;
    int st = map(img, off, len, pnum, &host);
    if (st < 0)
        return st;
    /* a data run extends only over host-contiguous blocks: map shows one offset */
    while (*pnum < len) {
        uint64_t n;
        if (map(img, off + *pnum, len - *pnum, &n, &h) != st ||
            (st == FMT_DATA && h != host + *pnum))
            break;
        *pnum += n;
    }
    if (phost)
        *phost = st == FMT_DATA ? host : FMT_NO_HOST;
    return st;
}

int fmt_status(int st, uint64_t pnum, uint64_t host, bool zero_present, blk_status *out)
{
    if (st < 0)
        return st;
    memset(out, 0, sizeof(*out));
    out->len = pnum;
    /* these formats have no backing files here: what is not data reads as zeros,
     * and for VDI and VHD (zero_present) the format itself says so */
    out->flags = st == FMT_DATA ? BLK_ST_DATA | BLK_ST_ALLOCATED
               : zero_present ? BLK_ST_ZERO | BLK_ST_ALLOCATED : BLK_ST_ZERO;
    if (st == FMT_DATA && host != FMT_NO_HOST) {
        out->flags |= BLK_ST_OFFSET_VALID;
        out->map = host;
    }
    return 0;
}

void fmt_open_error(char **err, const char *filename, const char *fmtname, const char *msg)
{
    blk_set_err(err, "'%s' (%s): %s", filename, fmtname, msg);
}

int fmt_opt_bool(const blk_kv *opts, int nopts, const char *key, bool *val, char **err)
{
    const char *s = blk_kv_get(opts, nopts, key);
    *val = false;
    if (!s || !strcmp(s, "off") || !strcmp(s, "false"))
        return 0;
    if (!strcmp(s, "on") || !strcmp(s, "true")) {
        *val = true;
        return 0;
    }
    blk_set_err(err, "Parameter '%s' expects 'on' or 'off', not '%s'", key, s);
    return -EINVAL;
}
