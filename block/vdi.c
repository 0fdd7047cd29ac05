/* VDI: VirtualBox Disk Image, read support for normal (dynamic) and fixed (static)
 * images, header version 1.1 as VirtualBox and qemu-img write it.
 *
 * Layout (little-endian): a 64-byte text banner, the signature and version, then the
 * version-1 header; a block map of 32-bit entries at offset_bmap; image blocks from
 * offset_data on, each `block_extra` bytes of per-block data and `block_size` bytes of
 * disk data.  A map entry is the index of the block in the file, or FREE (never
 * written; reads as zeros since we do not open differencing images), or ZERO. */
#include "block/vdi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "block/vmdk-vdi-vhd.h"

#define VDI_SIGNATURE       0xbeda107fu
#define VDI_H_SIGNATURE     64
#define VDI_H_VERSION       68
#define VDI_H_HEADER_SIZE   72
#define VDI_H_TYPE          76
#define VDI_H_OFFSET_BMAP   340
#define VDI_H_OFFSET_DATA   344
#define VDI_H_SECTOR_SIZE   360
#define VDI_H_DISK_SIZE     368
#define VDI_H_BLOCK_SIZE    376
#define VDI_H_BLOCK_EXTRA   380
#define VDI_H_BLOCKS        384
#define VDI_H_ALLOCATED     388
#define VDI_HEADER_V1_MIN   384         /* bytes after offset 72, through uuid_parent */
#define VDI_HEADER_READ     512

#define VDI_TYPE_NORMAL     1
#define VDI_TYPE_FIXED      2
#define VDI_TYPE_UNDO       3
#define VDI_TYPE_DIFF       4

#define VDI_BLOCK_FREE      0xffffffffu
#define VDI_BLOCK_ZERO      0xfffffffeu
#define VDI_MIN_BLOCK       (1u << 9)
#define VDI_MAX_BLOCK       (1u << 28)
#define VDI_MAX_EXTRA       (1u << 20)

struct vdi {
    blk_file *file;
    uint64_t file_size;
    uint64_t size;
    uint32_t block_size;
    uint32_t block_extra;
    uint64_t offset_data;
    uint32_t nblocks;
    uint32_t *map;
    /* lenient opens (check): the header's counts and the map as stored, bad
     * entries included; `map` holds them as FREE so reads stay in bounds */
    uint32_t hdr_blocks, hdr_allocated;
    uint32_t *raw;
};

bool vdi_probe(const uint8_t *head, size_t len)
{
    return len >= VDI_H_SIGNATURE + 4 && le32(head + VDI_H_SIGNATURE) == VDI_SIGNATURE;
}

static int vdi_open_common(struct vdi **out, blk_file *file, bool writable, bool lenient,
                           char *err, size_t errlen)
{
    if (writable)
        return fmt_err(err, errlen, -ENOTSUP, "VDI images are read-only in Vireo");
    int64_t flen = blk_file_length(file);
    if (flen < 0)
        return fmt_err(err, errlen, (int)flen, "cannot get the file size: %s", strerror((int)-flen));
    struct vdi *v = calloc(1, sizeof(*v));
    if (!v)
        return fmt_err(err, errlen, -ENOMEM, "out of memory");
    v->file = file;
    v->file_size = (uint64_t)flen;
    int r;
    uint8_t h[VDI_HEADER_READ];
    if (v->file_size < sizeof(h)) {
        r = fmt_err(err, errlen, -EINVAL, "file is too small for a VDI header");
        goto fail;
    }
    r = fmt_pread(file, h, sizeof(h), 0);
    if (r < 0) {
        fmt_err(err, errlen, r, "reading the header: %s", strerror(-r));
        goto fail;
    }
    r = -EINVAL;
    if (le32(h + VDI_H_SIGNATURE) != VDI_SIGNATURE) {
        fmt_err(err, errlen, r, "no VDI signature");
        goto fail;
    }
    uint32_t version = le32(h + VDI_H_VERSION);
    if (version >> 16 != 1) {
        r = fmt_err(err, errlen, -ENOTSUP, "unsupported VDI version %u.%u",
                    version >> 16, version & 0xffff);
        goto fail;
    }
    uint32_t hsize = le32(h + VDI_H_HEADER_SIZE);
    if (hsize < VDI_HEADER_V1_MIN || hsize > 4096) {
        fmt_err(err, errlen, r, "header size %u is out of range", hsize);
        goto fail;
    }
    uint32_t type = le32(h + VDI_H_TYPE);
    if (type == VDI_TYPE_UNDO || type == VDI_TYPE_DIFF) {
        r = fmt_err(err, errlen, -ENOTSUP, "VDI %s images are not supported",
                    type == VDI_TYPE_DIFF ? "differencing" : "undo");
        goto fail;
    }
    if (type != VDI_TYPE_NORMAL && type != VDI_TYPE_FIXED) {
        fmt_err(err, errlen, r, "unknown image type %u", type);
        goto fail;
    }
    if (le32(h + VDI_H_SECTOR_SIZE) != 512) {
        fmt_err(err, errlen, r, "sector size %u is not 512", le32(h + VDI_H_SECTOR_SIZE));
        goto fail;
    }
    uint32_t bs = le32(h + VDI_H_BLOCK_SIZE);
    if (bs < VDI_MIN_BLOCK || bs > VDI_MAX_BLOCK || (bs & (bs - 1))) {
        fmt_err(err, errlen, r, "block size %u is not a power of two in [%u, %u]",
                bs, VDI_MIN_BLOCK, VDI_MAX_BLOCK);
        goto fail;
    }
    uint32_t extra = le32(h + VDI_H_BLOCK_EXTRA);
    if (extra > VDI_MAX_EXTRA) {
        fmt_err(err, errlen, r, "block extra data size %u is out of range", extra);
        goto fail;
    }
    v->block_size = bs;
    v->block_extra = extra;
    v->size = le64(h + VDI_H_DISK_SIZE);
    uint32_t nblocks = le32(h + VDI_H_BLOCKS);
    uint64_t need = (v->size + bs - 1) / bs;
    if (need > nblocks) {
        fmt_err(err, errlen, r, "disk size %" PRIu64 " needs %" PRIu64 " blocks but the image has %u",
                v->size, need, nblocks);
        goto fail;
    }
    uint64_t bmap = le32(h + VDI_H_OFFSET_BMAP);
    uint64_t data = le32(h + VDI_H_OFFSET_DATA);
    if (bmap < VDI_H_HEADER_SIZE + (uint64_t)hsize || bmap > v->file_size ||
        (v->file_size - bmap) / 4 < need) {
        fmt_err(err, errlen, r, "block map at offset %" PRIu64 " with %" PRIu64
                " entries lies outside the file", bmap, need);
        goto fail;
    }
    if (data < bmap + need * 4) {
        fmt_err(err, errlen, r, "data offset %" PRIu64 " overlaps the block map", data);
        goto fail;
    }
    v->offset_data = data;
    v->nblocks = (uint32_t)need;
    v->hdr_blocks = nblocks;
    v->hdr_allocated = le32(h + VDI_H_ALLOCATED);
    /* bounded by the file size, checked above */
    v->map = malloc(need ? need * 4 : 1);
    if (!v->map) {
        r = fmt_err(err, errlen, -ENOMEM, "out of memory for the block map");
        goto fail;
    }
    r = fmt_pread(file, v->map, need * 4, bmap);
    if (r < 0) {
        fmt_err(err, errlen, r, "reading the block map: %s", strerror(-r));
        goto fail;
    }
    if (lenient && !(v->raw = malloc(need ? need * 4 : 1))) {
        r = fmt_err(err, errlen, -ENOMEM, "out of memory for the block map");
        goto fail;
    }
    uint64_t stride = (uint64_t)bs + extra;
    for (uint32_t i = 0; i < v->nblocks; i++) {
        uint32_t e = le32((uint8_t *)&v->map[i]);
        v->map[i] = e;
        if (v->raw)
            v->raw[i] = e;
        if (e == VDI_BLOCK_FREE || e == VDI_BLOCK_ZERO)
            continue;
        /* only the part of the last block inside the disk has to be in the file */
        uint64_t used = v->size - (uint64_t)i * bs < bs ? v->size - (uint64_t)i * bs : bs;
        uint64_t off = data + (uint64_t)e * stride + extra;
        if (e >= nblocks || off > v->file_size || v->file_size - off < used) {
            if (lenient) {
                v->map[i] = VDI_BLOCK_FREE;     /* reported by vdi_check */
                continue;
            }
            r = fmt_err(err, errlen, -EINVAL, "block map entry %u (%u) points past the end of the file",
                        i, e);
            goto fail;
        }
    }
    *out = v;
    return 0;
fail:
    vdi_close(v);
    return r;
}

int vdi_open(struct vdi **out, blk_file *file, bool writable, char *err, size_t errlen)
{
    return vdi_open_common(out, file, writable, false, err, errlen);
}

int vdi_open_lenient(struct vdi **out, blk_file *file, char *err, size_t errlen)
{
    return vdi_open_common(out, file, false, true, err, errlen);
}

/* Consistency of the block map (VDI specification: one 32-bit entry per
 * virtual block, an index into the image blocks or FREE/ZERO): every index
 * below the header's block count and inside the file, no image block used
 * twice, and the header's allocated count equal to the entries in range. */
int vdi_check(struct vdi *v, blk_check_result *res)
{
    if (!v->raw)
        return -EINVAL;
    /* who uses each image block, for the blocks the file can hold: the header's
     * block count alone must not size an allocation */
    uint64_t stride = (uint64_t)v->block_size + v->block_extra;
    uint64_t in_file = v->file_size > v->offset_data ? (v->file_size - v->offset_data) / stride + 1 : 1;
    uint64_t nown = in_file < v->hdr_blocks ? in_file : v->hdr_blocks;
    uint32_t *owner = malloc((nown ? nown : 1) * sizeof(*owner));
    if (!owner)
        return -ENOMEM;
    memset(owner, 0xff, (nown ? nown : 1) * sizeof(*owner));
    uint32_t counted = 0;
    for (uint32_t i = 0; i < v->nblocks; i++) {
        uint32_t e = v->raw[i];
        if (e == VDI_BLOCK_FREE || e == VDI_BLOCK_ZERO)
            continue;
        if (e >= v->hdr_blocks) {
            blk_check_msg(res, "ERROR: block index %u too large, is %u", i, e);
            res->corruptions++;
            continue;
        }
        counted++;
        if (v->map[i] == VDI_BLOCK_FREE || e >= nown) {
            blk_check_msg(res, "ERROR: block index %u (image block %u) lies past the end "
                          "of the file", i, e);
            res->corruptions++;
        } else if (owner[e] != 0xffffffffu) {
            blk_check_msg(res, "ERROR: block index %u also used by %u", e, owner[e]);
            res->corruptions++;
        } else {
            owner[e] = i;
        }
    }
    if (counted != v->hdr_allocated) {
        blk_check_msg(res, "ERROR: allocated blocks mismatch, is %u, should be %u", counted,
                      v->hdr_allocated);
        res->corruptions++;
    }
    free(owner);
    return 0;
}

void vdi_close(struct vdi *v)
{
    if (!v)
        return;
    free(v->raw);
    free(v->map);
    free(v);
}

uint64_t vdi_size(const struct vdi *v)
{
    return v->size;
}

static int vdi_map(void *img, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host)
{
    struct vdi *v = img;
    uint32_t blk = (uint32_t)(off / v->block_size);
    uint64_t in = off % v->block_size;
    uint64_t n = v->block_size - in;
    *pnum = n < len ? n : len;
    uint32_t e = v->map[blk];
    if (e == VDI_BLOCK_FREE || e == VDI_BLOCK_ZERO)
        return FMT_ZERO;
    *host = v->offset_data + (uint64_t)e * ((uint64_t)v->block_size + v->block_extra)
            + v->block_extra + in;
    return FMT_DATA;
}

int vdi_read(struct vdi *v, uint64_t off, void *buf, size_t len)
{
    if (off > v->size || len > v->size - off)
        return -EINVAL;
    return fmt_read_mapped(v, vdi_map, v->file, off, buf, len);
}

int vdi_block_status(struct vdi *v, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host)
{
    if (off >= v->size)
        return -EINVAL;
    if (len > v->size - off)
        len = v->size - off;
    return fmt_status_mapped(v, vdi_map, off, len, pnum, host);
}

/* ---- the block layer's "vdi" driver (read-only: no pwritev, no create) ----------- */

static int vdi_drv_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return vdi_probe(buf, len) ? 100 : 0;
}

static int vdi_drv_open(blk *bs, const blk_open_opts *opts, char **err)
{
    char msg[256];
    struct vdi *v;
    /* check opens leniently: bad map entries are findings, not open errors */
    int r = (opts->flags & BLK_O_NO_REPAIR) && bs->read_only
                ? vdi_open_lenient(&v, &bs->file, msg, sizeof(msg))
                : vdi_open(&v, &bs->file, !bs->read_only, msg, sizeof(msg));
    if (r < 0) {
        fmt_open_error(err, bs->filename, "vdi", msg);
        return r;
    }
    bs->opaque = v;
    bs->size = vdi_size(v);
    return 0;
}

static void vdi_drv_close(blk *bs)
{
    vdi_close(bs->opaque);
    bs->opaque = NULL;
}

static int vdi_read1(void *v, uint64_t off, void *buf, size_t len) { return vdi_read(v, off, buf, len); }

static int vdi_drv_preadv(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    return fmt_readv(bs->opaque, vdi_read1, off, iov, iovcnt);
}

static int vdi_drv_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    uint64_t n = 0, host = FMT_NO_HOST;
    int r = vdi_block_status(bs->opaque, off, len, &n, &host);
    return fmt_status(r, n, host, true, st);
}

static int vdi_drv_check(blk *bs, blk_check_result *res, unsigned fix)
{
    if (fix)
        return -ENOTSUP;            /* VDI images are read-only in Vireo */
    return vdi_check(bs->opaque, res);
}

static void vdi_drv_get_info(blk *bs, blk_info *info)
{
    struct vdi *v = bs->opaque;
    info->cluster_size = v->block_size;     /* qemu-img shows the block size */
}

const blk_driver blk_drv_vdi = {
    .name = "vdi",
    .probe = vdi_drv_probe,
    .open = vdi_drv_open,
    .close = vdi_drv_close,
    .preadv = vdi_drv_preadv,
    .block_status = vdi_drv_block_status,
    .get_info = vdi_drv_get_info,
    .check = vdi_drv_check,
};
