/* VMDK streamOptimized writer ("Virtual Disk Format 1.1", "Stream-Optimized
 * Compressed Sparse Extents"): the format clouds and vSphere import.
 *
 * The file is written front to back and never seeked back, so it can go to a pipe:
 * header (grain directory "at end"), embedded descriptor, then per grain a grain
 * marker (LBA, compressed size) and the zlib-compressed grain; after the grains of one
 * grain table, a GT marker and the table; at the end a GD marker and the directory, a
 * footer marker and a copy of the header that holds the directory's offset, and the
 * end-of-stream marker.  Grains that are all zeros are not written; tables with no
 * grains are left out (directory entry 0), so both read as zeros. */
#include "block/vmdk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "block/vmdk-vdi-vhd.h"
#include "block/vmdk-priv.h"

#define STREAM_GRAIN_SECTORS    128     /* 64 KiB, as VMware and qemu-img use */
#define STREAM_GTES             512
#define STREAM_DESC_SECTORS     20
#define STREAM_OVERHEAD         128     /* header + descriptor, rounded to a grain */

struct vmdk_stream {
    blk_file *file;
    uint64_t capacity;          /* sectors */
    uint64_t gd_entries;
    uint32_t *gd;
    uint32_t gt[STREAM_GTES];
    uint64_t gt_index;          /* the table in gt[]; UINT64_MAX before the first */
    bool gt_used;
    uint8_t *grain;
    uint64_t cur;               /* grain in grain[]; UINT64_MAX = none */
    uint64_t done;              /* grains below this are written (or skipped) */
    uint8_t *cbuf;
    size_t cbuf_size;
    uint64_t pos;               /* next free sector */
    uint8_t header[512];
    int error;                  /* sticky: a failed write poisons the stream */
};

static int stream_emit(struct vmdk_stream *s, const void *buf, size_t len)
{
    int r = fmt_pwrite(s->file, buf, len, s->pos * 512);
    if (r < 0)
        return s->error = r;
    s->pos += (len + 511) / 512;
    return 0;
}

static int stream_marker(struct vmdk_stream *s, uint64_t sectors, uint32_t type)
{
    uint8_t m[512] = {0};
    put_le64(m, sectors);
    put_le32(m + 12, type);
    return stream_emit(s, m, sizeof(m));
}

static int stream_emit_gt(struct vmdk_stream *s)
{
    if (!s->gt_used)
        return 0;
    int r = stream_marker(s, STREAM_GTES * 4 / 512, VMDK_MARKER_GT);
    if (r < 0)
        return r;
    uint8_t t[STREAM_GTES * 4];
    for (int i = 0; i < STREAM_GTES; i++)
        put_le32(t + 4 * i, s->gt[i]);
    s->gd[s->gt_index] = (uint32_t)s->pos;
    r = stream_emit(s, t, sizeof(t));
    memset(s->gt, 0, sizeof(s->gt));
    s->gt_used = false;
    return r;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    const uint64_t *q = (const uint64_t *)p;
    for (size_t i = 0; i < n / 8; i++)
        if (q[i])
            return false;
    return true;
}

static int stream_flush_grain(struct vmdk_stream *s)
{
    if (s->cur == UINT64_MAX)
        return 0;
    uint64_t g = s->cur;
    size_t gbytes = STREAM_GRAIN_SECTORS * 512;
    s->cur = UINT64_MAX;
    s->done = g + 1;
    if (all_zero(s->grain, gbytes))
        return 0;
    if (g / STREAM_GTES != s->gt_index) {
        int r = stream_emit_gt(s);
        if (r < 0)
            return r;
        s->gt_index = g / STREAM_GTES;
    }
    if (s->pos > UINT32_MAX - 2 * STREAM_GRAIN_SECTORS)
        return s->error = -EFBIG;   /* grain table entries are 32-bit sector numbers */
    uLongf clen = s->cbuf_size - 12;
    if (compress2(s->cbuf + 12, &clen, s->grain, gbytes, Z_DEFAULT_COMPRESSION) != Z_OK)
        return s->error = -EIO;
    put_le64(s->cbuf, g * STREAM_GRAIN_SECTORS);
    put_le32(s->cbuf + 8, (uint32_t)clen);
    size_t total = (12 + clen + 511) & ~(size_t)511;
    memset(s->cbuf + 12 + clen, 0, total - 12 - clen);
    s->gt[g % STREAM_GTES] = (uint32_t)s->pos;
    s->gt_used = true;
    return stream_emit(s, s->cbuf, total);
}

static void stream_header(struct vmdk_stream *s, uint8_t *h, uint64_t gd_offset)
{
    memset(h, 0, 512);
    put_le32(h + VMDK_H_MAGIC, VMDK_MAGIC);
    put_le32(h + VMDK_H_VERSION, 3);
    put_le32(h + VMDK_H_FLAGS, VMDK_FLAG_NEWLINE_TEST | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS);
    put_le64(h + VMDK_H_CAPACITY, s->capacity);
    put_le64(h + VMDK_H_GRAIN_SIZE, STREAM_GRAIN_SECTORS);
    put_le64(h + VMDK_H_DESC_OFFSET, 1);
    put_le64(h + VMDK_H_DESC_SIZE, STREAM_DESC_SECTORS);
    put_le32(h + VMDK_H_NUM_GTES, STREAM_GTES);
    put_le64(h + VMDK_H_RGD_OFFSET, 0);
    put_le64(h + VMDK_H_GD_OFFSET, gd_offset);
    put_le64(h + VMDK_H_OVERHEAD, STREAM_OVERHEAD);
    /* the newline test characters let a reader detect text-mode transfer damage */
    memcpy(h + VMDK_H_NEWLINE_CHARS, "\n \r\n", 4);
    put_le16(h + VMDK_H_COMPRESS, VMDK_COMPRESS_DEFLATE);
}

int vmdk_stream_create(struct vmdk_stream **out, blk_file *file, const char *name, uint64_t size,
                       char *err, size_t errlen)
{
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == 0x7f)
            return fmt_err(err, errlen, -EINVAL, "file name \"%s\" cannot be put in a VMDK "
                           "descriptor (quote or control character)", name);
    if (!*name || strlen(name) > 1024)
        return fmt_err(err, errlen, -EINVAL, "bad VMDK file name");
    uint64_t capacity = (size + 511) / 512;
    if (capacity > VMDK_MAX_SECTORS)
        return fmt_err(err, errlen, -EINVAL, "size %" PRIu64 " is too large for VMDK", size);
    struct vmdk_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return fmt_err(err, errlen, -ENOMEM, "out of memory");
    s->file = file;
    s->capacity = capacity;
    uint64_t span = (uint64_t)STREAM_GRAIN_SECTORS * STREAM_GTES;
    s->gd_entries = (capacity + span - 1) / span;
    s->gd = calloc(s->gd_entries ? s->gd_entries : 1, 4);
    s->grain = malloc(STREAM_GRAIN_SECTORS * 512);
    s->cbuf_size = compressBound(STREAM_GRAIN_SECTORS * 512) + 12 + 512;
    s->cbuf = malloc(s->cbuf_size);
    if (!s->gd || !s->grain || !s->cbuf) {
        vmdk_stream_free(s);
        return fmt_err(err, errlen, -ENOMEM, "out of memory");
    }
    s->cur = UINT64_MAX;
    s->gt_index = UINT64_MAX;

    /* header with the directory "at end", then the descriptor */
    stream_header(s, s->header, VMDK_GD_AT_END);
    char desc[STREAM_DESC_SECTORS * 512];
    uint8_t cid[4];
    fmt_random(cid, sizeof(cid));
    uint64_t cyl = capacity / (16 * 63);
    int n = snprintf(desc, sizeof(desc),
                     "# Disk DescriptorFile\n"
                     "version=1\n"
                     "CID=%08x\n"
                     "parentCID=ffffffff\n"
                     "createType=\"streamOptimized\"\n"
                     "\n"
                     "# Extent description\n"
                     "RW %" PRIu64 " SPARSE \"%s\"\n"
                     "\n"
                     "# The Disk Data Base\n"
                     "#DDB\n"
                     "\n"
                     "ddb.virtualHWVersion = \"4\"\n"
                     "ddb.geometry.cylinders = \"%" PRIu64 "\"\n"
                     "ddb.geometry.heads = \"16\"\n"
                     "ddb.geometry.sectors = \"63\"\n"
                     "ddb.adapterType = \"ide\"\n",
                     le32(cid), capacity, name, cyl > 16383 ? 16383 : cyl);
    memset(desc + n, 0, sizeof(desc) - n);
    s->pos = 0;
    int r = stream_emit(s, s->header, 512);
    if (r == 0)
        r = stream_emit(s, desc, sizeof(desc));
    if (r < 0) {
        vmdk_stream_free(s);
        return fmt_err(err, errlen, r, "writing the header: %s", strerror(-r));
    }
    s->pos = STREAM_OVERHEAD;
    *out = s;
    return 0;
}

uint64_t vmdk_stream_size(const struct vmdk_stream *s)
{
    return s->capacity * 512;
}

int vmdk_stream_write(struct vmdk_stream *s, uint64_t off, const void *buf, size_t len)
{
    if (s->error)
        return s->error;
    if (off > s->capacity * 512 || len > s->capacity * 512 - off)
        return -EINVAL;
    const uint8_t *p = buf;
    size_t gbytes = STREAM_GRAIN_SECTORS * 512;
    while (len) {
        uint64_t g = off / gbytes, in = off % gbytes;
        size_t n = gbytes - in < len ? gbytes - in : len;
        if (g != s->cur) {
            if (g < s->done || (s->cur != UINT64_MAX && g < s->cur))
                return -ENOTSUP;    /* a stream cannot go back */
            int r = stream_flush_grain(s);
            if (r < 0)
                return r;
            s->cur = g;
            memset(s->grain, 0, gbytes);
        }
        memcpy(s->grain + in, p, n);
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Write the directory, footer and end-of-stream marker after the grains written so
 * far, and cut the file there.  `final` keeps them; otherwise (a flush in the middle
 * of a stream) the next grain overwrites them, so that the file is a complete image
 * at every flush. */
static int stream_trailer(struct vmdk_stream *s, bool final)
{
    uint64_t saved_pos = s->pos;
    uint64_t gti = s->gt_index;
    uint32_t saved_gde = s->gt_used ? s->gd[gti] : 0;
    uint32_t saved_gt[STREAM_GTES];
    bool used = s->gt_used;
    memcpy(saved_gt, s->gt, sizeof(saved_gt));
    int r = stream_emit_gt(s);
    if (r < 0)
        return r;
    uint64_t gd_bytes = s->gd_entries * 4, gd_padded = (gd_bytes + 511) & ~511ULL;
    r = stream_marker(s, gd_padded / 512, VMDK_MARKER_GD);
    if (r < 0)
        return r;
    uint64_t gd_at = s->pos;
    uint8_t *gd = calloc(1, gd_padded);
    if (!gd)
        return -ENOMEM;
    for (uint64_t i = 0; i < s->gd_entries; i++)
        put_le32(gd + 4 * i, s->gd[i]);
    r = stream_emit(s, gd, gd_padded);
    free(gd);
    uint8_t footer[512];
    stream_header(s, footer, gd_at);
    if (r == 0)
        r = stream_marker(s, 1, VMDK_MARKER_FOOTER);
    if (r == 0)
        r = stream_emit(s, footer, sizeof(footer));
    if (r == 0)
        r = stream_marker(s, 0, VMDK_MARKER_EOS);
    if (r == 0)
        r = blk_file_truncate(s->file, s->pos * 512);
    if (!final) {
        s->pos = saved_pos;
        if (used) {
            s->gd[gti] = saved_gde;
            memcpy(s->gt, saved_gt, sizeof(saved_gt));
            s->gt_used = true;
        }
    }
    return r;
}

int vmdk_stream_finish(struct vmdk_stream *s)
{
    int r = stream_flush_grain(s);
    if (r < 0)
        return r;
    if (s->error)
        return s->error;
    return stream_trailer(s, true);
}

int vmdk_stream_checkpoint(struct vmdk_stream *s)
{
    if (s->error)
        return s->error;
    int r = stream_trailer(s, false);
    return r < 0 ? r : blk_file_flush(s->file);
}

int vmdk_stream_zero(struct vmdk_stream *s, uint64_t off, uint64_t len)
{
    if (s->error)
        return s->error;
    if (off > s->capacity * 512 || len > s->capacity * 512 - off)
        return -EINVAL;
    uint64_t gbytes = STREAM_GRAIN_SECTORS * 512;
    while (len) {
        uint64_t g = off / gbytes, in = off % gbytes;
        uint64_t n = gbytes - in < len ? gbytes - in : len;
        if (g == s->cur)
            memset(s->grain + in, 0, n);
        else if (g < s->done || (s->cur != UINT64_MAX && g < s->cur))
            return -ENOTSUP;    /* a stream cannot go back */
        /* grains not written yet read as zeros already */
        off += n;
        len -= n;
    }
    return 0;
}

bool vmdk_stream_written(const struct vmdk_stream *s, uint64_t off)
{
    uint64_t g = off / (STREAM_GRAIN_SECTORS * 512);
    return g < s->done || g == s->cur;
}

void vmdk_stream_free(struct vmdk_stream *s)
{
    if (!s)
        return;
    free(s->gd);
    free(s->grain);
    free(s->cbuf);
    free(s);
}
