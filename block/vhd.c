/* VHD ("vpc"): Microsoft Virtual Hard Disk Image Format Specification, v1.0.
 *
 * Read: fixed and dynamic disks (footer with checksum, dynamic disk header, BAT,
 * per-block sector bitmaps).  Write: fixed disks, created the way qemu-img creates
 * them, with and without force_size (see docs/block-formats.md).  Differencing
 * disks are refused with a clear message.
 *
 * Every field of the footer and the dynamic header is checked against the file size
 * and fixed maxima before it sizes an allocation or bounds a loop. */
#include "block/vhd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/vmdk-vdi-vhd.h"

/* Footer (spec "Hard Disk Footer Format"), big-endian. */
#define VHD_FOOTER_SIZE     512
#define VHD_COOKIE          "conectix"
#define VHD_F_FEATURES      8
#define VHD_F_VERSION       12
#define VHD_F_DATA_OFFSET   16
#define VHD_F_TIMESTAMP     24
#define VHD_F_CREATOR_APP   28
#define VHD_F_CREATOR_VER   32
#define VHD_F_CREATOR_OS    36
#define VHD_F_ORIG_SIZE     40
#define VHD_F_CUR_SIZE      48
#define VHD_F_GEOMETRY      56
#define VHD_F_DISK_TYPE     60
#define VHD_F_CHECKSUM      64
#define VHD_F_UUID          68

#define VHD_TYPE_FIXED      2
#define VHD_TYPE_DYNAMIC    3
#define VHD_TYPE_DIFF       4

/* Dynamic disk header (spec "Dynamic Disk Header Format"), big-endian. */
#define VHD_DYN_SIZE        1024
#define VHD_DYN_COOKIE      "cxsparse"
#define VHD_D_TABLE_OFFSET  16
#define VHD_D_VERSION       24
#define VHD_D_MAX_ENTRIES   28
#define VHD_D_BLOCK_SIZE    32
#define VHD_D_CHECKSUM      36

#define VHD_BAT_FREE        0xffffffffu
/* Largest size the spec allows (about 2040 GiB, "Current Size"); we accept up to 2 TiB
 * for fixed images and bound dynamic ones by the BAT. */
#define VHD_MAX_SIZE        (2ULL << 40)
#define VHD_MIN_BLOCK       (1u << 12)
#define VHD_MAX_BLOCK       (1u << 28)
/* CHS limits from the spec's geometry algorithm (Appendix "CHS Calculation"). */
#define VHD_CHS_MAX_SECTORS (65535ULL * 16 * 255)
/* Seconds from the Unix epoch to the VHD epoch, 2000-01-01 00:00:00 UTC. */
#define VHD_EPOCH           946684800

struct vhd {
    blk_file *file;
    bool writable;
    int type;
    uint64_t file_size;
    uint64_t size;              /* virtual size in bytes */
    uint8_t footer[VHD_FOOTER_SIZE];
    /* dynamic disks */
    uint32_t block_size;
    uint32_t bitmap_size;       /* bytes of sector bitmap before each block, 512-aligned */
    uint32_t nblocks;           /* BAT entries in use: ceil(size / block_size) */
    uint32_t *bat;              /* host byte order, sector numbers */
    uint8_t *bitmap;            /* cached bitmap of bitmap_block */
    int64_t bitmap_block;
};

static uint32_t vhd_checksum(const uint8_t *p, size_t len, size_t skip)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < skip || i >= skip + 4)
            sum += p[i];
    return ~sum;
}

/* The spec's CHS algorithm for a sector count; returns C*H*S. */
static uint64_t vhd_chs(uint64_t sectors, uint16_t *c, uint8_t *h, uint8_t *s)
{
    uint64_t spt, heads, cth;
    if (sectors > VHD_CHS_MAX_SECTORS)
        sectors = VHD_CHS_MAX_SECTORS;
    if (sectors >= 65535ULL * 16 * 63) {
        spt = 255;
        heads = 16;
        cth = sectors / spt;
    } else {
        spt = 17;
        cth = sectors / spt;
        heads = (cth + 1023) / 1024;
        if (heads < 4)
            heads = 4;
        if (cth >= heads * 1024 || heads > 16) {
            spt = 31;
            heads = 16;
            cth = sectors / spt;
        }
        if (cth >= heads * 1024) {
            spt = 63;
            heads = 16;
            cth = sectors / spt;
        }
    }
    *c = (uint16_t)(cth / heads);
    *h = (uint8_t)heads;
    *s = (uint8_t)spt;
    return (uint64_t)*c * heads * spt;
}

/* The size qemu-img gives a new image of `bytes` (qemu's documented vpc behaviour):
 * rounded up to whole sectors, then, unless force_size, up to the smallest CHS
 * geometry that covers it, because Virtual PC sizes a disk by its geometry.  Above
 * the largest geometry the size is kept and the geometry is the maximum. */
uint64_t vhd_create_size(uint64_t bytes, bool force_size, uint16_t *c, uint8_t *h, uint8_t *s)
{
    uint64_t sectors = (bytes + 511) / 512;
    if (force_size || sectors > VHD_CHS_MAX_SECTORS) {
        *c = 65535;
        *h = 16;
        *s = 255;
        return sectors * 512;
    }
    /* C*H*S <= n for the geometry of n and grows with n, so the first n whose
     * geometry covers the request is found within one track-group step (<= 4080). */
    for (uint64_t n = sectors;; n++) {
        uint64_t got = vhd_chs(n, c, h, s);
        if (got >= sectors)
            return got * 512;
        if (n >= VHD_CHS_MAX_SECTORS) {
            *c = 65535;
            *h = 16;
            *s = 255;
            return sectors * 512;
        }
    }
}

static int vhd_check_footer(const uint8_t *f, char *err, size_t errlen)
{
    if (memcmp(f, VHD_COOKIE, 8) != 0)
        return fmt_err(err, errlen, -EINVAL, "no VHD footer cookie");
    uint32_t want = vhd_checksum(f, VHD_FOOTER_SIZE, VHD_F_CHECKSUM);
    uint32_t got = be32(f + VHD_F_CHECKSUM);
    if (want != got)
        return fmt_err(err, errlen, -EINVAL,
                       "footer checksum mismatch (stored 0x%08x, computed 0x%08x)", got, want);
    if (be32(f + VHD_F_VERSION) >> 16 != 1)
        return fmt_err(err, errlen, -ENOTSUP, "unsupported file format version 0x%08x",
                       be32(f + VHD_F_VERSION));
    return 0;
}

bool vhd_probe(const uint8_t *head, size_t len, uint64_t file_size, const uint8_t *tail512)
{
    if (len >= 8 && memcmp(head, VHD_COOKIE, 8) == 0)
        return true;
    /* A fixed disk has only the footer, at the end. */
    return tail512 && file_size >= 512 && memcmp(tail512, VHD_COOKIE, 8) == 0;
}

static int vhd_open_dynamic(struct vhd *v, char *err, size_t errlen)
{
    uint64_t hoff = be64(v->footer + VHD_F_DATA_OFFSET);
    uint8_t d[VHD_DYN_SIZE];
    if (hoff % 512 || hoff > v->file_size || v->file_size - hoff < VHD_DYN_SIZE)
        return fmt_err(err, errlen, -EINVAL,
                       "dynamic header offset %" PRIu64 " lies outside the file", hoff);
    int r = fmt_pread(v->file, d, sizeof(d), hoff);
    if (r < 0)
        return fmt_err(err, errlen, r, "reading the dynamic header: %s", strerror(-r));
    if (memcmp(d, VHD_DYN_COOKIE, 8) != 0)
        return fmt_err(err, errlen, -EINVAL, "no dynamic header cookie at offset %" PRIu64, hoff);
    uint32_t want = vhd_checksum(d, sizeof(d), VHD_D_CHECKSUM);
    if (be32(d + VHD_D_CHECKSUM) != want)
        return fmt_err(err, errlen, -EINVAL,
                       "dynamic header checksum mismatch (stored 0x%08x, computed 0x%08x)",
                       be32(d + VHD_D_CHECKSUM), want);
    if (be32(d + VHD_D_VERSION) >> 16 != 1)
        return fmt_err(err, errlen, -ENOTSUP, "unsupported dynamic header version 0x%08x",
                       be32(d + VHD_D_VERSION));

    uint32_t bs = be32(d + VHD_D_BLOCK_SIZE);
    if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1)))
        return fmt_err(err, errlen, -EINVAL, "block size %u is not a power of two in [%u, %u]",
                       bs, VHD_MIN_BLOCK, VHD_MAX_BLOCK);
    v->block_size = bs;
    v->bitmap_size = ((bs / 512 / 8) + 511) & ~511u;

    uint64_t need = (v->size + bs - 1) / bs;
    uint32_t max = be32(d + VHD_D_MAX_ENTRIES);
    if (max < need)
        return fmt_err(err, errlen, -EINVAL,
                       "BAT has %u entries but a %" PRIu64 "-byte disk needs %" PRIu64,
                       max, v->size, need);
    uint64_t toff = be64(d + VHD_D_TABLE_OFFSET);
    if (toff % 512 || toff > v->file_size || (v->file_size - toff) / 4 < need)
        return fmt_err(err, errlen, -EINVAL,
                       "BAT at offset %" PRIu64 " with %" PRIu64 " entries lies past the end of the file",
                       toff, need);
    v->nblocks = (uint32_t)need;
    /* need <= file_size / 4 here, so this allocation is bounded by the file itself */
    v->bat = malloc(need ? need * 4 : 1);
    v->bitmap = malloc(v->bitmap_size);
    if (!v->bat || !v->bitmap)
        return fmt_err(err, errlen, -ENOMEM, "out of memory for the BAT");
    r = fmt_pread(v->file, v->bat, need * 4, toff);
    if (r < 0)
        return fmt_err(err, errlen, r, "reading the BAT: %s", strerror(-r));
    uint64_t span = (uint64_t)v->bitmap_size + bs;
    for (uint32_t i = 0; i < v->nblocks; i++) {
        uint32_t e = be32((uint8_t *)&v->bat[i]);
        v->bat[i] = e;
        if (e == VHD_BAT_FREE)
            continue;
        uint64_t off = (uint64_t)e * 512;
        if (off < 512 || off > v->file_size || v->file_size - off < span)
            return fmt_err(err, errlen, -EINVAL,
                           "BAT entry %u points to offset %" PRIu64 ", past the end of the file",
                           i, off);
        if (off < toff + (uint64_t)need * 4 && off + span > toff)
            return fmt_err(err, errlen, -EINVAL, "BAT entry %u overlaps the BAT", i);
        if (off < hoff + VHD_DYN_SIZE && off + span > hoff)
            return fmt_err(err, errlen, -EINVAL, "BAT entry %u overlaps the dynamic header", i);
    }
    v->bitmap_block = -1;
    return 0;
}

int vhd_open(struct vhd **out, blk_file *file, bool writable, char *err, size_t errlen)
{
    int64_t flen = blk_file_length(file);
    if (flen < 0)
        return fmt_err(err, errlen, (int)flen, "cannot get the file size: %s", strerror((int)-flen));
    struct vhd *v = calloc(1, sizeof(*v));
    if (!v)
        return fmt_err(err, errlen, -ENOMEM, "out of memory");
    v->file = file;
    v->writable = writable;
    v->file_size = (uint64_t)flen;
    int r;
    if (v->file_size < VHD_FOOTER_SIZE) {
        r = fmt_err(err, errlen, -EINVAL, "file is too small for a VHD footer");
        goto fail;
    }
    r = fmt_pread(file, v->footer, VHD_FOOTER_SIZE, v->file_size - VHD_FOOTER_SIZE);
    if (r < 0) {
        fmt_err(err, errlen, r, "reading the footer: %s", strerror(-r));
        goto fail;
    }
    if (memcmp(v->footer, VHD_COOKIE, 8) != 0) {
        /* The spec keeps a copy of the footer at offset 0 of dynamic disks so that a
         * damaged end can be recovered; use it when the end has none. */
        r = fmt_pread(file, v->footer, VHD_FOOTER_SIZE, 0);
        if (r < 0) {
            fmt_err(err, errlen, r, "reading the footer copy: %s", strerror(-r));
            goto fail;
        }
    }
    r = vhd_check_footer(v->footer, err, errlen);
    if (r < 0)
        goto fail;

    v->type = (int)be32(v->footer + VHD_F_DISK_TYPE);
    v->size = be64(v->footer + VHD_F_CUR_SIZE);
    if (v->size > VHD_MAX_SIZE) {
        r = fmt_err(err, errlen, -EINVAL, "disk size %" PRIu64 " exceeds the 2 TiB VHD limit", v->size);
        goto fail;
    }
    switch (v->type) {
    case VHD_TYPE_FIXED:
        if (v->size > v->file_size - VHD_FOOTER_SIZE) {
            r = fmt_err(err, errlen, -EINVAL,
                        "fixed disk of %" PRIu64 " bytes does not fit in a %" PRIu64 "-byte file",
                        v->size, v->file_size);
            goto fail;
        }
        break;
    case VHD_TYPE_DYNAMIC:
        if (writable) {
            r = fmt_err(err, errlen, -ENOTSUP, "dynamic VHD images are read-only in Vireo");
            goto fail;
        }
        r = vhd_open_dynamic(v, err, errlen);
        if (r < 0)
            goto fail;
        break;
    case VHD_TYPE_DIFF:
        r = fmt_err(err, errlen, -ENOTSUP, "differencing VHD images are not supported");
        goto fail;
    default:
        r = fmt_err(err, errlen, -EINVAL, "unknown disk type %d", v->type);
        goto fail;
    }
    *out = v;
    return 0;
fail:
    vhd_close(v);
    return r;
}

void vhd_close(struct vhd *v)
{
    if (!v)
        return;
    free(v->bat);
    free(v->bitmap);
    free(v);
}

uint64_t vhd_size(const struct vhd *v)
{
    return v->size;
}

bool vhd_is_fixed(const struct vhd *v)
{
    return v->type == VHD_TYPE_FIXED;
}

/* The bitmap of an allocated block, cached (reads are mostly sequential). */
static int vhd_load_bitmap(struct vhd *v, uint32_t blk)
{
    if (v->bitmap_block == blk)
        return 0;
    v->bitmap_block = -1;
    int r = fmt_pread(v->file, v->bitmap, v->bitmap_size, (uint64_t)v->bat[blk] * 512);
    if (r < 0)
        return r;
    v->bitmap_block = blk;
    return 0;
}

/* How the run starting at `off` (at most `len` bytes, within one block) is backed:
 * returns FMT_DATA with *host set, or FMT_ZERO; *pnum is the run length. */
static int vhd_map(void *img, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host)
{
    struct vhd *v = img;
    if (v->type == VHD_TYPE_FIXED) {
        *pnum = len;
        *host = off;
        return FMT_DATA;
    }
    uint32_t blk = (uint32_t)(off / v->block_size);
    uint64_t in = off % v->block_size;
    uint64_t n = v->block_size - in;
    if (n > len)
        n = len;
    if (v->bat[blk] == VHD_BAT_FREE) {
        *pnum = n;
        return FMT_ZERO;
    }
    int r = vhd_load_bitmap(v, blk);
    if (r < 0)
        return r;
    /* A sector whose bitmap bit is clear was never written: it reads as zeros
     * (spec "Sector bitmap"; bit 7 of byte 0 is the first sector). */
    uint64_t sec = in / 512, last = (in + n - 1) / 512;
    bool set = v->bitmap[sec / 8] & (0x80 >> (sec % 8));
    uint64_t s = sec + 1;
    while (s <= last && (bool)(v->bitmap[s / 8] & (0x80 >> (s % 8))) == set)
        s++;
    uint64_t end = s * 512;
    *pnum = (end < in + n ? end : in + n) - in;
    *host = (uint64_t)v->bat[blk] * 512 + v->bitmap_size + in;
    return set ? FMT_DATA : FMT_ZERO;
}

int vhd_read(struct vhd *v, uint64_t off, void *buf, size_t len)
{
    if (off > v->size || len > v->size - off)
        return -EINVAL;
    return fmt_read_mapped(v, vhd_map, v->file, off, buf, len);
}

int vhd_block_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host)
{
    if (off >= v->size)
        return -EINVAL;
    if (len > v->size - off)
        len = v->size - off;
    return fmt_status_mapped(v, vhd_map, off, len, pnum, host);
}

int vhd_write(struct vhd *v, uint64_t off, const void *buf, size_t len)
{
    if (!v->writable || v->type != VHD_TYPE_FIXED)
        return -EROFS;
    if (off > v->size || len > v->size - off)
        return -EINVAL;
    return fmt_pwrite(v->file, buf, len, off);
}

int vhd_flush(struct vhd *v)
{
    return blk_file_flush(v->file);
}

static void vhd_fill_footer(uint8_t *f, uint64_t size, uint16_t c, uint8_t h, uint8_t s,
                            bool force_size)
{
    memset(f, 0, VHD_FOOTER_SIZE);
    memcpy(f, VHD_COOKIE, 8);
    put_be32(f + VHD_F_FEATURES, 2);            /* "reserved", must be set */
    put_be32(f + VHD_F_VERSION, 0x00010000);
    put_be64(f + VHD_F_DATA_OFFSET, ~0ULL);     /* fixed disks have no dynamic header */
    time_t now = time(NULL);
    put_be32(f + VHD_F_TIMESTAMP, (uint32_t)(now > VHD_EPOCH ? now - VHD_EPOCH : 0));
    memcpy(f + VHD_F_CREATOR_APP, "vire", 4);
    put_be32(f + VHD_F_CREATOR_VER, 0x00010000);
    memcpy(f + VHD_F_CREATOR_OS, "Wi2k", 4);
    put_be64(f + VHD_F_ORIG_SIZE, size);
    put_be64(f + VHD_F_CUR_SIZE, size);
    put_be16(f + VHD_F_GEOMETRY, c);
    f[VHD_F_GEOMETRY + 2] = h;
    f[VHD_F_GEOMETRY + 3] = s;
    put_be32(f + VHD_F_DISK_TYPE, VHD_TYPE_FIXED);
    fmt_random(f + VHD_F_UUID, 16);
    (void)force_size;
    put_be32(f + VHD_F_CHECKSUM, vhd_checksum(f, VHD_FOOTER_SIZE, VHD_F_CHECKSUM));
}

int vhd_create_fixed(blk_file *file, uint64_t bytes, bool force_size, uint64_t *size_out,
                     char *err, size_t errlen)
{
    uint16_t c;
    uint8_t h, s;
    uint64_t size = vhd_create_size(bytes, force_size, &c, &h, &s);
    if (size > VHD_MAX_SIZE)
        return fmt_err(err, errlen, -EINVAL, "size %" PRIu64 " exceeds the 2 TiB VHD limit", bytes);
    uint8_t f[VHD_FOOTER_SIZE];
    vhd_fill_footer(f, size, c, h, s, force_size);
    /* The data area reads as zeros: a sparse file is a valid fixed disk. */
    int r = blk_file_truncate(file, size + VHD_FOOTER_SIZE);
    if (r < 0)
        return fmt_err(err, errlen, r, "cannot size the file: %s", strerror(-r));
    r = fmt_pwrite(file, f, sizeof(f), size);
    if (r < 0)
        return fmt_err(err, errlen, r, "writing the footer: %s", strerror(-r));
    if (size_out)
        *size_out = size;
    return 0;
}

/* ---- the block layer's "vpc" driver ---------------------------------------------- */

static int vpc_probe(const uint8_t *buf, size_t len, const char *filename)
{
    /* Only dynamic disks carry the cookie at the start (a copy of the footer).  A
     * fixed disk is raw data with a trailing footer and, as with qemu-img, needs -f vpc. */
    return vhd_probe(buf, len, 0, NULL) ? 100 : 0;
}

static int vpc_open(blk *bs, const blk_open_opts *opts, char **err)
{
    char msg[256];
    struct vhd *v;
    int r = vhd_open(&v, &bs->file, !bs->read_only, msg, sizeof(msg));
    if (r < 0) {
        fmt_open_error(err, bs->filename, "vpc", msg);
        return r;
    }
    bs->opaque = v;
    bs->size = vhd_size(v);
    return 0;
}

static void vpc_close(blk *bs)
{
    vhd_close(bs->opaque);
    bs->opaque = NULL;
}

static int vpc_read1(void *v, uint64_t off, void *buf, size_t len) { return vhd_read(v, off, buf, len); }
static int vpc_write1(void *v, uint64_t off, const void *buf, size_t len) { return vhd_write(v, off, buf, len); }

static int vpc_preadv(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    return fmt_readv(bs->opaque, vpc_read1, off, iov, iovcnt);
}

static int vpc_pwritev(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    return fmt_writev(bs->opaque, vpc_write1, off, iov, iovcnt);
}

static int vpc_flush(blk *bs)
{
    return vhd_flush(bs->opaque);
}

static int vpc_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    uint64_t n = 0, host = FMT_NO_HOST;
    int r = vhd_block_status(bs->opaque, off, len, &n, &host);
    return fmt_status(r, n, host, true, st);
}

static const blk_opt_desc vpc_create_opts[] = {
    { "size", "virtual disk size" },
    { "subformat", "fixed (Vireo creates fixed images only; dynamic ones are read)" },
    { "force_size", "on: keep the exact size instead of rounding it to a CHS geometry" },
    { NULL, NULL },
};

static int vpc_create(const char *filename, uint64_t size, const blk_kv *opts, int nopts,
                      char **err)
{
    const char *sub = blk_kv_get(opts, nopts, "subformat");
    if (!sub || strcmp(sub, "fixed") != 0) {
        blk_set_err(err, "'%s': Vireo creates VHD images with subformat=fixed only "
                    "(dynamic VHD is read-only)", filename);
        return -ENOTSUP;
    }
    bool force;
    int r = fmt_opt_bool(opts, nopts, "force_size", &force, err);
    if (r < 0)
        return r;
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        blk_set_err(err, "Could not create '%s': %s", filename, strerror(errno));
        return -errno;
    }
    blk_file f = { .fd = fd, .filename = (char *)filename, .align = 1 };
    char msg[256];
    r = vhd_create_fixed(&f, size, force, NULL, msg, sizeof(msg));
    if (r < 0)
        blk_set_err(err, "'%s': %s", filename, msg);
    if (close(fd) < 0 && r == 0) {
        r = -errno;
        blk_set_err(err, "'%s': %s", filename, strerror(errno));
    }
    return r;
}

static void vpc_get_info(blk *bs, blk_info *info)
{
    struct vhd *v = bs->opaque;
    /* dynamic images: the block size, as qemu-img shows it; fixed ones have none */
    info->cluster_size = v->type == VHD_TYPE_FIXED ? 0 : v->block_size;
}

const blk_driver blk_drv_vpc = {
    .name = "vpc",
    .probe = vpc_probe,
    .open = vpc_open,
    .close = vpc_close,
    .preadv = vpc_preadv,
    .pwritev = vpc_pwritev,
    .flush = vpc_flush,
    .block_status = vpc_block_status,
    .get_info = vpc_get_info,
    .create_opts = vpc_create_opts,
    .create = vpc_create,
};
