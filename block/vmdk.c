/* VMDK: VMware "Virtual Disk Format 1.1".
 *
 * Read: a text descriptor (its own file, or embedded in a hosted sparse extent) naming
 * FLAT, SPARSE and ZERO extents; hosted sparse extents (monolithicSparse,
 * twoGbMaxExtentSparse) with grain directory and grain tables, zeroed-grain entries and
 * the redundant directory as fallback; streamOptimized extents (compressed grains with
 * grain markers, the directory found through the footer when the header says it is at
 * the end).  Write: flat extents in place; new streamOptimized images in vmdk-stream.c.
 *
 * Extent paths in a descriptor must be relative and stay in the descriptor's directory
 * (no "..", no absolute path): a descriptor from elsewhere must not be able to make
 * `convert` read an arbitrary host file.  An embedded descriptor may only describe the
 * file it is in. */
#include "block/vmdk.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "block/vmdk-vdi-vhd.h"
#include "block/vmdk-priv.h"

#define VMDK_MAX_EXTENTS        256
#define VMDK_GT_CACHE           8

enum vmdk_ext_type { EXT_FLAT, EXT_SPARSE, EXT_ZERO };

struct vmdk_gt_slot {
    uint64_t gd_index;          /* which grain table; UINT64_MAX = empty */
    uint32_t *gt;               /* host byte order */
    uint64_t use;
};

struct vmdk_extent {
    enum vmdk_ext_type type;
    uint64_t sectors;           /* size in the virtual disk */
    uint64_t start;             /* first virtual sector */
    blk_file *file;
    blk_file own;               /* the extent's own file (descriptor files), fd -1 if none */
    uint64_t file_size;
    uint64_t flat_offset;       /* FLAT: byte offset in the file */
    /* SPARSE */
    uint32_t flags;
    bool compressed;
    uint64_t grain_sectors;
    uint32_t gt_entries;        /* entries per grain table */
    uint64_t gd_entries;
    uint32_t *gd;               /* sector offsets of the grain tables */
    struct vmdk_gt_slot slots[VMDK_GT_CACHE];
    uint64_t use_clock;
    uint8_t *grain;             /* decompressed grain cache */
    uint64_t grain_index;       /* UINT64_MAX = empty */
    uint8_t *cbuf;              /* compressed grain read buffer */
    size_t cbuf_size;
    char *name;                 /* as the descriptor names it; NULL = the image itself */
    uint64_t gd_sector;         /* the grain directory in use (check) */
};

struct vmdk {
    bool writable;
    bool unsafe;                /* cache=unsafe: flushes do nothing */
    uint64_t size;
    uint32_t cid;               /* content id from the descriptor (info only) */
    char create_type[64];
    int nextents;
    struct vmdk_extent ext[VMDK_MAX_EXTENTS];
    char err[256];              /* last error of a read, for the caller's message */
};

/* ---- sparse extent header ------------------------------------------------------ */

bool vmdk_probe(const uint8_t *head, size_t len)
{
    if (len >= 4 && le32(head) == VMDK_MAGIC)
        return true;
    static const char desc[] = "# Disk DescriptorFile";
    return len >= sizeof(desc) - 1 && memcmp(head, desc, sizeof(desc) - 1) == 0;
}

static int vmdk_seterr(struct vmdk *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int vmdk_seterr(struct vmdk *v, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, sizeof(v->err), fmt, ap);
    va_end(ap);
    return code;
}

const char *vmdk_last_error(const struct vmdk *v)
{
    return v->err;
}

/* Check a sparse extent header (at the start of the file, or the footer copy) and
 * fill the extent's geometry.  `e->file_size` is set. */
static int vmdk_parse_sparse_header(struct vmdk *v, struct vmdk_extent *e, const uint8_t *h,
                                    uint64_t *gd_off, uint64_t *rgd_off)
{
    if (le32(h + VMDK_H_MAGIC) != VMDK_MAGIC)
        return vmdk_seterr(v, -EINVAL, "no sparse extent magic");
    uint32_t version = le32(h + VMDK_H_VERSION);
    if (version < 1 || version > 3)
        return vmdk_seterr(v, -ENOTSUP, "unsupported sparse extent version %u", version);
    e->flags = le32(h + VMDK_H_FLAGS);
    e->compressed = e->flags & VMDK_FLAG_COMPRESSED;
    if (e->compressed && le16(h + VMDK_H_COMPRESS) != VMDK_COMPRESS_DEFLATE)
        return vmdk_seterr(v, -ENOTSUP, "unsupported grain compression %u",
                           le16(h + VMDK_H_COMPRESS));
    uint64_t capacity = le64(h + VMDK_H_CAPACITY);
    uint64_t gs = le64(h + VMDK_H_GRAIN_SIZE);
    uint32_t nte = le32(h + VMDK_H_NUM_GTES);
    if (gs < 1 || gs > VMDK_MAX_GRAIN_SECTORS || (gs & (gs - 1)))
        return vmdk_seterr(v, -EINVAL, "grain size %" PRIu64 " sectors is not a power of two "
                           "in [1, %u]", gs, VMDK_MAX_GRAIN_SECTORS);
    if (nte < 1 || nte > VMDK_MAX_GTES || (nte & (nte - 1)))
        return vmdk_seterr(v, -EINVAL, "%u grain table entries is not a power of two in [1, %u]",
                           nte, VMDK_MAX_GTES);
    if (capacity > VMDK_MAX_SECTORS)
        return vmdk_seterr(v, -EINVAL, "capacity of %" PRIu64 " sectors is too large", capacity);
    e->grain_sectors = gs;
    e->gt_entries = nte;
    uint64_t span = gs * nte;
    e->gd_entries = (capacity + span - 1) / span;
    e->sectors = capacity;
    *gd_off = le64(h + VMDK_H_GD_OFFSET);
    *rgd_off = le64(h + VMDK_H_RGD_OFFSET);
    return 0;
}

/* Does the grain directory at sector `off` lie inside the file? */
static bool vmdk_gd_fits(const struct vmdk_extent *e, uint64_t off)
{
    return off && off <= e->file_size / 512 && (e->file_size - off * 512) / 4 >= e->gd_entries;
}

static int vmdk_load_gd(struct vmdk *v, struct vmdk_extent *e, uint64_t gd_off, uint64_t rgd_off)
{
    uint64_t use = gd_off;
    if (!vmdk_gd_fits(e, use)) {
        /* the redundant directory (flag bit 1) is a copy kept for this case */
        if ((e->flags & VMDK_FLAG_RGD) && vmdk_gd_fits(e, rgd_off))
            use = rgd_off;
        else
            return vmdk_seterr(v, -EINVAL, "grain directory at sector %" PRIu64 " with %" PRIu64
                               " entries lies outside the file", gd_off, e->gd_entries);
    }
    e->gd_sector = use;
    /* gd_entries * 4 <= file size, checked above */
    e->gd = malloc(e->gd_entries ? e->gd_entries * 4 : 1);
    if (!e->gd)
        return vmdk_seterr(v, -ENOMEM, "out of memory for the grain directory");
    int r = fmt_pread(e->file, e->gd, e->gd_entries * 4, use * 512);
    if (r < 0)
        return vmdk_seterr(v, r, "reading the grain directory: %s", strerror(-r));
    uint64_t gt_bytes = (uint64_t)e->gt_entries * 4;
    for (uint64_t i = 0; i < e->gd_entries; i++) {
        uint32_t s = le32((uint8_t *)&e->gd[i]);
        e->gd[i] = s;
        if (s == 0)
            continue;
        uint64_t off = (uint64_t)s * 512;
        if (off > e->file_size || e->file_size - off < gt_bytes)
            return vmdk_seterr(v, -EINVAL, "grain directory entry %" PRIu64 " points past the end "
                               "of the file", i);
    }
    for (int i = 0; i < VMDK_GT_CACHE; i++) {
        e->slots[i].gd_index = UINT64_MAX;
        e->slots[i].gt = malloc(gt_bytes);
        if (!e->slots[i].gt)
            return vmdk_seterr(v, -ENOMEM, "out of memory for grain tables");
    }
    e->grain_index = UINT64_MAX;
    e->grain = malloc(e->grain_sectors * 512);
    if (!e->grain)
        return vmdk_seterr(v, -ENOMEM, "out of memory for a grain");
    return 0;
}

/* Open the sparse extent in e->file.  For streamOptimized files whose header says the
 * directory is at the end, the footer (a header copy before the end-of-stream marker)
 * has its location. */
static int vmdk_open_sparse(struct vmdk *v, struct vmdk_extent *e)
{
    uint8_t h[512];
    if (e->file_size < 512)
        return vmdk_seterr(v, -EINVAL, "sparse extent is smaller than its header");
    int r = fmt_pread(e->file, h, 512, 0);
    if (r < 0)
        return vmdk_seterr(v, r, "reading the sparse header: %s", strerror(-r));
    uint64_t gd_off, rgd_off;
    r = vmdk_parse_sparse_header(v, e, h, &gd_off, &rgd_off);
    if (r < 0)
        return r;
    if (gd_off == VMDK_GD_AT_END) {
        uint8_t f[1024];
        if (e->file_size < 512 + 1536)
            return vmdk_seterr(v, -EINVAL, "stream file too short for a footer");
        r = fmt_pread(e->file, f, sizeof(f), e->file_size - 1536);
        if (r < 0)
            return vmdk_seterr(v, r, "reading the footer: %s", strerror(-r));
        if (le32(f + 12) != VMDK_MARKER_FOOTER)
            return vmdk_seterr(v, -EINVAL, "no footer marker before the end of the stream");
        struct vmdk_extent copy = *e;
        r = vmdk_parse_sparse_header(v, &copy, f + 512, &gd_off, &rgd_off);
        if (r < 0)
            return r;
        if (copy.sectors != e->sectors || copy.grain_sectors != e->grain_sectors ||
            copy.gt_entries != e->gt_entries || copy.compressed != e->compressed)
            return vmdk_seterr(v, -EINVAL, "footer does not match the header");
        if (gd_off == VMDK_GD_AT_END)
            return vmdk_seterr(v, -EINVAL, "footer has no grain directory offset");
    }
    return vmdk_load_gd(v, e, gd_off, rgd_off);
}

/* ---- descriptor ---------------------------------------------------------------- */

static bool vmdk_safe_name(const char *s)
{
    if (!*s || *s == '/')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    /* no ".." path component */
    for (const char *p = s; *p;) {
        const char *q = strchrnul(p, '/');
        if (q - p == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p = *q ? q + 1 : q;
    }
    return true;
}

static void vmdk_free_extent(struct vmdk_extent *e)
{
    if (e->own.fd >= 0)
        close(e->own.fd);
    free(e->own.filename);
    free(e->name);
    free(e->gd);
    for (int i = 0; i < VMDK_GT_CACHE; i++)
        free(e->slots[i].gt);
    free(e->grain);
    free(e->cbuf);
}

/* Parse descriptor text and open its extents.  `self` is the file the descriptor is
 * embedded in (or NULL for a descriptor file); `dirfd` the directory extent names are
 * relative to (-1: none may be opened). */
static int vmdk_parse_descriptor(struct vmdk *v, char *text, blk_file *self,
                                 uint64_t self_size, int dirfd)
{
    bool have_type = false;
    char *save = NULL;
    uint64_t start = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = 0;
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#')
            continue;
        if (!strncmp(line, "createType=", 11)) {
            char *val = line + 11;
            size_t len = strlen(val);
            if (len >= 2 && val[0] == '"' && val[len - 1] == '"') {
                val[len - 1] = 0;
                val++;
            }
            snprintf(v->create_type, sizeof(v->create_type), "%s", val);
            have_type = true;
            continue;
        }
        if (!strncmp(line, "CID=", 4)) {
            v->cid = (uint32_t)strtoul(line + 4, NULL, 16);
            continue;
        }
        if (!strncmp(line, "parentCID=", 10)) {
            if (strcmp(line + 10, "ffffffff") != 0)
                return vmdk_seterr(v, -ENOTSUP, "VMDK images with a parent (%s) are not "
                                   "supported", line);
            continue;
        }
        char access[16], type[16];
        unsigned long long sectors;
        int used = 0;
        if (sscanf(line, "%15s %llu %15s %n", access, &sectors, type, &used) < 3 ||
            (strcmp(access, "RW") && strcmp(access, "RDONLY") && strcmp(access, "NOACCESS")))
            continue;   /* not an extent line: ddb.* and other keys we do not need */

        if (v->nextents == VMDK_MAX_EXTENTS)
            return vmdk_seterr(v, -EINVAL, "more than %d extents", VMDK_MAX_EXTENTS);
        if (sectors == 0 || sectors > VMDK_MAX_SECTORS || start + sectors > VMDK_MAX_SECTORS)
            return vmdk_seterr(v, -EINVAL, "extent of %llu sectors is out of range", sectors);
        struct vmdk_extent *e = &v->ext[v->nextents];
        memset(e, 0, sizeof(*e));
        e->own.fd = -1;
        e->sectors = sectors;
        e->start = start;
        if (!strcmp(type, "ZERO")) {
            e->type = EXT_ZERO;
        } else if (!strcmp(type, "FLAT") || !strcmp(type, "VMFS")) {
            e->type = EXT_FLAT;
        } else if (!strcmp(type, "SPARSE")) {
            e->type = EXT_SPARSE;
        } else {
            return vmdk_seterr(v, -ENOTSUP, "unsupported extent type %s", type);
        }
        v->nextents++;
        start += sectors;
        if (e->type == EXT_ZERO)
            continue;

        /* "NAME" [OFFSET] */
        char *q = line + used;
        char *end = q[0] == '"' ? strchr(q + 1, '"') : NULL;
        if (!end)
            return vmdk_seterr(v, -EINVAL, "extent line without a quoted file name: %.80s", line);
        *end = 0;
        const char *name = q + 1;
        unsigned long long offset = 0;
        if (e->type == EXT_FLAT) {
            char *rest = end + 1;
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (*rest) {
                char *stop;
                errno = 0;
                offset = strtoull(rest, &stop, 10);
                if (errno || *stop || !isdigit((unsigned char)*rest) || offset > VMDK_MAX_SECTORS)
                    return vmdk_seterr(v, -EINVAL, "bad flat extent offset \"%s\"", rest);
            }
        }
        if (self) {
            /* embedded descriptor: it describes this very file and nothing else */
            if (e->type != EXT_SPARSE || v->nextents != 1)
                return vmdk_seterr(v, -EINVAL, "embedded descriptor names an extent other "
                                   "than its own file (\"%s\")", name);
            e->file = self;
            e->file_size = self_size;
            continue;
        }
        e->name = strdup(name);
        if (!vmdk_safe_name(name))
            return vmdk_seterr(v, -EPERM, "extent file name \"%s\" is absolute or leaves the "
                               "descriptor's directory", name);
        if (dirfd < 0)
            return vmdk_seterr(v, -ENOENT, "cannot open extent \"%s\" without a directory", name);
        e->own.fd = openat(dirfd, name, (v->writable && e->type == EXT_FLAT ? O_RDWR : O_RDONLY) |
                           O_CLOEXEC);
        if (e->own.fd < 0)
            return vmdk_seterr(v, -errno, "cannot open extent \"%s\": %s", name, strerror(errno));
        e->own.filename = strdup(name);
        e->own.align = 1;
        e->own.unsafe = v->unsafe;
        e->file = &e->own;
        struct stat st;
        if (fstat(e->own.fd, &st) < 0 || !S_ISREG(st.st_mode))
            return vmdk_seterr(v, -EINVAL, "extent \"%s\" is not a regular file", name);
        e->file_size = (uint64_t)st.st_size;
        if (e->type == EXT_FLAT) {
            e->flat_offset = offset * 512;
            if (e->flat_offset > e->file_size || (e->file_size - e->flat_offset) / 512 < sectors)
                return vmdk_seterr(v, -EINVAL, "flat extent \"%s\" is smaller than the %llu "
                                   "sectors the descriptor gives it", name, sectors);
        }
    }
    if (!have_type)
        return vmdk_seterr(v, -EINVAL, "descriptor has no createType");
    if (v->nextents == 0)
        return vmdk_seterr(v, -EINVAL, "descriptor names no extents");
    v->size = start * 512;
    return 0;
}

/* Open each sparse extent's metadata once the descriptor is parsed. */
static int vmdk_open_extents(struct vmdk *v)
{
    for (int i = 0; i < v->nextents; i++) {
        struct vmdk_extent *e = &v->ext[i];
        if (e->type != EXT_SPARSE)
            continue;
        if (v->writable)
            return vmdk_seterr(v, -ENOTSUP, "sparse VMDK extents are read-only in Vireo");
        uint64_t want = e->sectors;
        int r = vmdk_open_sparse(v, e);
        if (r < 0)
            return r;
        if (e->sectors < want)
            return vmdk_seterr(v, -EINVAL, "sparse extent holds %" PRIu64 " sectors but the "
                               "descriptor gives it %" PRIu64, e->sectors, want);
        e->sectors = want;
    }
    return 0;
}

int vmdk_open(struct vmdk **out, blk_file *file, int dirfd, bool writable, char *err,
              size_t errlen)
{
    int64_t flen = blk_file_length(file);
    if (flen < 0)
        return fmt_err(err, errlen, (int)flen, "cannot get the file size: %s", strerror((int)-flen));
    struct vmdk *v = calloc(1, sizeof(*v));
    if (!v)
        return fmt_err(err, errlen, -ENOMEM, "out of memory");
    v->writable = writable;
    v->unsafe = file->unsafe;
    uint64_t file_size = (uint64_t)flen;
    char *text = NULL;
    uint8_t head[4] = {0};
    int r = file_size >= 4 ? fmt_pread(file, head, 4, 0) : 0;
    if (r < 0) {
        vmdk_seterr(v, r, "reading the file: %s", strerror(-r));
        goto fail;
    }
    if (le32(head) == VMDK_MAGIC) {
        /* hosted sparse extent with its descriptor inside */
        if (writable) {
            r = vmdk_seterr(v, -ENOTSUP, "sparse VMDK extents are read-only in Vireo");
            goto fail;
        }
        /* check the header before trusting its descriptor location */
        uint8_t h[512];
        struct vmdk_extent probe = { .file = file, .file_size = file_size };
        uint64_t gd_off, rgd_off;
        r = file_size < 512 ? vmdk_seterr(v, -EINVAL, "sparse extent is smaller than its header")
                            : fmt_pread(file, h, 512, 0);
        if (r < 0 || (r = vmdk_parse_sparse_header(v, &probe, h, &gd_off, &rgd_off)) < 0)
            goto fail;
        uint64_t doff = le64(h + VMDK_H_DESC_OFFSET), dsize = le64(h + VMDK_H_DESC_SIZE);
        if (doff == 0 || dsize == 0) {
            r = vmdk_seterr(v, -EINVAL, "sparse extent has no embedded descriptor");
            goto fail;
        }
        if (dsize > VMDK_MAX_DESC_SECTORS || doff > file_size / 512 ||
            file_size / 512 - doff < dsize) {
            r = vmdk_seterr(v, -EINVAL, "embedded descriptor (sector %" PRIu64 ", %" PRIu64
                            " sectors) is too large or lies outside the file", doff, dsize);
            goto fail;
        }
        text = calloc(1, dsize * 512 + 1);
        if (!text) {
            r = vmdk_seterr(v, -ENOMEM, "out of memory");
            goto fail;
        }
        r = fmt_pread(file, text, dsize * 512, doff * 512);
        if (r < 0) {
            vmdk_seterr(v, r, "reading the descriptor: %s", strerror(-r));
            goto fail;
        }
        r = vmdk_parse_descriptor(v, text, file, file_size, -1);
        if (r < 0)
            goto fail;
        r = vmdk_open_extents(v);
        if (r < 0)
            goto fail;
    } else {
        if (file_size > VMDK_MAX_DESC_SECTORS * 512) {
            r = vmdk_seterr(v, -EINVAL, "descriptor file is larger than %d bytes",
                            VMDK_MAX_DESC_SECTORS * 512);
            goto fail;
        }
        text = calloc(1, file_size + 1);
        if (!text) {
            r = vmdk_seterr(v, -ENOMEM, "out of memory");
            goto fail;
        }
        r = fmt_pread(file, text, file_size, 0);
        if (r < 0) {
            vmdk_seterr(v, r, "reading the descriptor: %s", strerror(-r));
            goto fail;
        }
        /* qemu-img pads descriptor files with NULs: the text ends at the first one */
        if (!vmdk_probe((uint8_t *)text, file_size)) {
            r = vmdk_seterr(v, -EINVAL, "not a VMDK descriptor or sparse extent");
            goto fail;
        }
        r = vmdk_parse_descriptor(v, text, NULL, 0, dirfd);
        if (r < 0)
            goto fail;
        r = vmdk_open_extents(v);
        if (r < 0)
            goto fail;
    }
    free(text);
    v->err[0] = 0;
    *out = v;
    return 0;
fail:
    fmt_err(err, errlen, r, "%s", v->err);
    free(text);
    vmdk_close(v);
    return r;
}

void vmdk_close(struct vmdk *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->nextents; i++)
        vmdk_free_extent(&v->ext[i]);
    free(v);
}

uint64_t vmdk_size(const struct vmdk *v)
{
    return v->size;
}

const char *vmdk_create_type(const struct vmdk *v)
{
    return v->create_type;
}

/* ---- check ---------------------------------------------------------------------- */

struct vmdk_span {
    uint64_t start, end;        /* bytes in the extent file */
    uint64_t what;              /* grain: first virtual sector; metadata: ~0 */
};

static int span_cmp(const void *a, const void *b)
{
    const struct vmdk_span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* One sparse extent: every grain inside the file, and no two of grains, grain
 * tables, the directory and the header sharing bytes (VMDK sparse extent
 * format: a grain table entry is the grain's sector, 0 unallocated, 1 zeroed).
 * Compressed grains are taken as one sector (their marker) for overlaps. */
static int vmdk_check_extent(struct vmdk *v, struct vmdk_extent *e, blk_check_result *res)
{
    uint64_t gbytes = e->grain_sectors * 512, gt_bytes = (uint64_t)e->gt_entries * 4;
    uint64_t grains = (e->sectors + e->grain_sectors - 1) / e->grain_sectors;
    /* spans that do not overlap are at least a sector apart: more than the file
     * has sectors means overlaps anyway, so the list is capped there */
    size_t cap = e->file_size / 512 + 16, n = 0;
    bool capped = false;
    struct vmdk_span *sp = malloc(cap * sizeof(*sp));
    uint32_t *gt = malloc(gt_bytes ? gt_bytes : 1);
    if (!sp || !gt) {
        free(sp);
        free(gt);
        return -ENOMEM;
    }
    sp[n++] = (struct vmdk_span){ 0, 512, ~0ull };
    sp[n++] = (struct vmdk_span){ e->gd_sector * 512, e->gd_sector * 512 + e->gd_entries * 4, ~0ull };
    int r = 0;
    for (uint64_t i = 0; i < e->gd_entries && r >= 0; i++) {
        if (!e->gd[i])
            continue;
        if (n < cap)
            sp[n++] = (struct vmdk_span){ (uint64_t)e->gd[i] * 512,
                                          (uint64_t)e->gd[i] * 512 + gt_bytes, ~0ull };
        else
            capped = true;
        r = fmt_pread(e->file, gt, gt_bytes, (uint64_t)e->gd[i] * 512);
        for (uint64_t j = 0; r >= 0 && j < e->gt_entries; j++) {
            uint64_t g = i * e->gt_entries + j, s = le32((uint8_t *)&gt[j]);
            if (g >= grains || s <= 1)
                continue;
            uint64_t len = e->compressed ? 512 : gbytes;
            if (s * 512 > e->file_size || e->file_size - s * 512 < len) {
                blk_check_msg(res, "ERROR: cluster offset for sector %" PRIu64 " points after EOF",
                              g * e->grain_sectors);
                res->corruptions++;
                continue;
            }
            if (n < cap)
                sp[n++] = (struct vmdk_span){ s * 512, s * 512 + len, g * e->grain_sectors };
            else
                capped = true;
        }
    }
    if (r < 0) {
        res->check_errors++;
        blk_check_msg(res, "ERROR: reading a grain table: %s", strerror(-r));
    }
    qsort(sp, n, sizeof(*sp), span_cmp);
    uint64_t reach = 0;
    size_t last = 0;
    for (size_t k = 0; k < n; k++) {
        if (k && sp[k].start < reach) {
            const struct vmdk_span *a = &sp[last], *b = &sp[k];
            if (b->what != ~0ull && a->what != ~0ull)
                blk_check_msg(res, "ERROR: grains for sectors %" PRIu64 " and %" PRIu64
                              " overlap at offset %" PRIu64, a->what, b->what, b->start);
            else if (b->what != ~0ull || a->what != ~0ull)
                blk_check_msg(res, "ERROR: grain for sector %" PRIu64 " overlaps image "
                              "metadata at offset %" PRIu64,
                              b->what != ~0ull ? b->what : a->what, b->start);
            else
                blk_check_msg(res, "ERROR: grain tables or directory overlap at offset %"
                              PRIu64, b->start);
            res->corruptions++;
        }
        if (sp[k].end > reach) {
            reach = sp[k].end;
            last = k;
        }
    }
    if (capped) {
        blk_check_msg(res, "ERROR: more grains and grain tables than the file has room for: "
                      "they overlap");
        res->corruptions++;
    }
    free(sp);
    free(gt);
    return 0;
}

int vmdk_check(struct vmdk *v, blk_check_result *res)
{
    for (int i = 0; i < v->nextents; i++) {
        if (v->ext[i].type != EXT_SPARSE)
            continue;
        int r = vmdk_check_extent(v, &v->ext[i], res);
        if (r < 0)
            return r;
    }
    return 0;
}

uint32_t vmdk_cid(const struct vmdk *v)
{
    return v->cid;
}

int vmdk_extent_info(const struct vmdk *v, int i, struct vmdk_extent_info *out)
{
    if (i < 0 || i >= v->nextents)
        return -1;
    const struct vmdk_extent *e = &v->ext[i];
    out->name = e->name;
    out->size = e->sectors * 512;
    out->type = e->type == EXT_FLAT ? "FLAT" : e->type == EXT_ZERO ? "ZERO" : "";
    out->grain = e->type == EXT_SPARSE ? e->grain_sectors * 512 : 0;
    out->compressed = e->type == EXT_SPARSE && e->compressed;
    return 0;
}

/* ---- reading ------------------------------------------------------------------- */

static int vmdk_load_gt(struct vmdk *v, struct vmdk_extent *e, uint64_t gdi, uint32_t **gt)
{
    struct vmdk_gt_slot *victim = &e->slots[0];
    for (int i = 0; i < VMDK_GT_CACHE; i++) {
        struct vmdk_gt_slot *s = &e->slots[i];
        if (s->gd_index == gdi) {
            s->use = ++e->use_clock;
            *gt = s->gt;
            return 0;
        }
        if (s->use < victim->use)
            victim = s;
    }
    victim->gd_index = UINT64_MAX;
    int r = fmt_pread(e->file, victim->gt, (size_t)e->gt_entries * 4, (uint64_t)e->gd[gdi] * 512);
    if (r < 0)
        return vmdk_seterr(v, r, "reading grain table %" PRIu64 ": %s", gdi, strerror(-r));
    for (uint32_t i = 0; i < e->gt_entries; i++)
        victim->gt[i] = le32((uint8_t *)&victim->gt[i]);
    victim->gd_index = gdi;
    victim->use = ++e->use_clock;
    *gt = victim->gt;
    return 0;
}

/* The grain table entry of grain `g` of a sparse extent (0: unallocated). */
static int vmdk_gte(struct vmdk *v, struct vmdk_extent *e, uint64_t g, uint32_t *gte)
{
    uint64_t gdi = g / e->gt_entries;
    if (gdi >= e->gd_entries || e->gd[gdi] == 0) {
        *gte = 0;
        return 0;
    }
    uint32_t *gt = NULL;
    int r = vmdk_load_gt(v, e, gdi, &gt);
    if (r < 0)
        return r;
    *gte = gt[g % e->gt_entries];
    return 0;
}

/* Decompress grain g whose marker is at sector `sec` into e->grain. */
static int vmdk_load_compressed(struct vmdk *v, struct vmdk_extent *e, uint64_t g, uint64_t sec)
{
    if (e->grain_index == g)
        return 0;
    e->grain_index = UINT64_MAX;
    uint64_t off = sec * 512, gbytes = e->grain_sectors * 512;
    uint8_t m[12];
    if (off > e->file_size || e->file_size - off < sizeof(m))
        return vmdk_seterr(v, -EINVAL, "grain %" PRIu64 " points past the end of the file", g);
    int r = fmt_pread(e->file, m, sizeof(m), off);
    if (r < 0)
        return vmdk_seterr(v, r, "reading grain %" PRIu64 ": %s", g, strerror(-r));
    uint64_t lba = le64(m);
    uint32_t csize = le32(m + 8);
    if (lba != g * e->grain_sectors)
        return vmdk_seterr(v, -EINVAL, "grain marker at sector %" PRIu64 " says LBA %" PRIu64
                           ", expected %" PRIu64, sec, lba, g * e->grain_sectors);
    /* deflate expands incompressible data by a few bytes per 16 KiB block */
    if (csize == 0 || csize > gbytes + gbytes / 8 + 1024 || csize > e->file_size - off - sizeof(m))
        return vmdk_seterr(v, -EINVAL, "compressed grain %" PRIu64 " has a bad size %u", g, csize);
    if (e->cbuf_size < csize) {
        uint8_t *p = realloc(e->cbuf, csize);
        if (!p)
            return vmdk_seterr(v, -ENOMEM, "out of memory");
        e->cbuf = p;
        e->cbuf_size = csize;
    }
    r = fmt_pread(e->file, e->cbuf, csize, off + sizeof(m));
    if (r < 0)
        return vmdk_seterr(v, r, "reading grain %" PRIu64 ": %s", g, strerror(-r));
    z_stream z = {0};
    /* zlib stream (RFC 1950) as written by VMware and qemu */
    if (inflateInit(&z) != Z_OK)
        return vmdk_seterr(v, -ENOMEM, "inflateInit failed");
    z.next_in = e->cbuf;
    z.avail_in = csize;
    z.next_out = e->grain;
    z.avail_out = (uInt)gbytes;
    int zr = inflate(&z, Z_FINISH);
    uint64_t got = gbytes - z.avail_out;
    inflateEnd(&z);
    /* the last grain of a disk may be shorter; what is missing reads as zeros */
    uint64_t need = e->sectors - g * e->grain_sectors;
    need = (need < e->grain_sectors ? need : e->grain_sectors) * 512;
    if (zr != Z_STREAM_END || got < need)
        return vmdk_seterr(v, -EINVAL, "compressed grain %" PRIu64 " is corrupt", g);
    memset(e->grain + got, 0, gbytes - got);
    e->grain_index = g;
    return 0;
}

/* How extent sector range starting at byte `in` (extent-relative) is backed. */
static int vmdk_map(struct vmdk *v, struct vmdk_extent *e, uint64_t in, uint64_t len,
                    uint64_t *pnum, uint64_t *host, bool *cached, bool want_data)
{
    *cached = false;
    if (e->type == EXT_ZERO) {
        *pnum = len;
        return FMT_ZERO;
    }
    if (e->type == EXT_FLAT) {
        *pnum = len;
        *host = e->flat_offset + in;
        return FMT_DATA;
    }
    uint64_t gbytes = e->grain_sectors * 512;
    uint64_t g = in / gbytes, gin = in % gbytes;
    *pnum = gbytes - gin < len ? gbytes - gin : len;
    uint32_t gte;
    int r = vmdk_gte(v, e, g, &gte);
    if (r < 0)
        return r;
    if (gte == 0 || gte == 1)       /* unallocated, or a zeroed grain (spec 1.1) */
        return FMT_ZERO;
    if (e->compressed && !want_data)
        return FMT_DATA;    /* status only: no need to inflate */
    if (e->compressed) {
        r = vmdk_load_compressed(v, e, g, gte);
        if (r < 0)
            return r;
        *cached = true;
        *host = gin;
        return FMT_DATA;
    }
    uint64_t off = (uint64_t)gte * 512;
    if (off > e->file_size || e->file_size - off < gin + *pnum)
        return vmdk_seterr(v, -EINVAL, "grain %" PRIu64 " points past the end of the file", g);
    *host = off + gin;
    return FMT_DATA;
}

static struct vmdk_extent *vmdk_find(struct vmdk *v, uint64_t off)
{
    uint64_t sec = off / 512;
    for (int i = 0; i < v->nextents; i++)
        if (sec >= v->ext[i].start && sec - v->ext[i].start < v->ext[i].sectors)
            return &v->ext[i];
    return NULL;
}

/* One step: the run at `off` within one extent and one grain. */
static int vmdk_step(struct vmdk *v, uint64_t off, uint64_t len, uint64_t *pnum,
                     struct vmdk_extent **pe, uint64_t *host, bool *cached, bool want_data)
{
    struct vmdk_extent *e = vmdk_find(v, off);
    if (!e)
        return -EINVAL;
    uint64_t in = off - e->start * 512;
    uint64_t left = e->sectors * 512 - in;
    *pe = e;
    return vmdk_map(v, e, in, len < left ? len : left, pnum, host, cached, want_data);
}

int vmdk_read(struct vmdk *v, uint64_t off, void *buf, size_t len)
{
    if (off > v->size || len > v->size - off)
        return -EINVAL;
    uint8_t *p = buf;
    while (len) {
        uint64_t n, host = 0;
        struct vmdk_extent *e;
        bool cached;
        int st = vmdk_step(v, off, len, &n, &e, &host, &cached, true);
        if (st < 0)
            return st;
        if (st == FMT_ZERO) {
            memset(p, 0, n);
        } else if (cached) {
            memcpy(p, e->grain + host, n);
        } else {
            int r = fmt_pread(e->file, p, n, host);
            if (r < 0)
                return vmdk_seterr(v, r, "reading data: %s", strerror(-r));
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int vmdk_block_status(struct vmdk *v, uint64_t off, uint64_t len, uint64_t *pnum,
                      uint64_t *phost)
{
    if (off >= v->size)
        return -EINVAL;
    if (len > v->size - off)
        len = v->size - off;
    uint64_t host = FMT_NO_HOST, h = FMT_NO_HOST;
    struct vmdk_extent *e, *e2;
    bool cached;
    int st = vmdk_step(v, off, len, pnum, &e, &host, &cached, false);
    if (st < 0)
        return st;
    /* an offset means something only in the image's own file (one sparse
     * extent, embedded descriptor) and for grains stored as they are */
    bool hosted = st == FMT_DATA && v->nextents == 1 && e->type == EXT_SPARSE && !e->name &&
                  !e->compressed;
    /* grows over following grains of the same kind (and host-contiguous when
     * hosted); metadata only unless compressed */
    while (*pnum < len && *pnum < (64u << 20)) {
        uint64_t n;
        int st2 = vmdk_step(v, off + *pnum, len - *pnum, &n, &e2, &h, &cached, false);
        if (st2 != st || (hosted && h != host + *pnum))
            break;
        *pnum += n;
    }
    if (phost)
        *phost = hosted ? host : FMT_NO_HOST;
    return st;
}

int vmdk_write(struct vmdk *v, uint64_t off, const void *buf, size_t len)
{
    if (!v->writable)
        return -EROFS;
    if (off > v->size || len > v->size - off)
        return -EINVAL;
    const uint8_t *p = buf;
    while (len) {
        struct vmdk_extent *e = vmdk_find(v, off);
        if (!e || e->type != EXT_FLAT)
            return -EROFS;
        uint64_t in = off - e->start * 512, left = e->sectors * 512 - in;
        uint64_t n = len < left ? len : left;
        int r = fmt_pwrite(e->file, p, n, e->flat_offset + in);
        if (r < 0)
            return r;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int vmdk_flush(struct vmdk *v)
{
    for (int i = 0; i < v->nextents; i++)
        if (v->ext[i].file) {
            int r = blk_file_flush(v->ext[i].file);
            if (r < 0)
                return r;
        }
    return 0;
}

bool vmdk_has_data(struct vmdk *v)
{
    for (uint64_t off = 0; off < v->size;) {
        uint64_t n = 0;
        int st = vmdk_block_status(v, off, v->size - off, &n, NULL);
        if (st != FMT_ZERO || n == 0)
            return true;    /* data, or an error: treat as not empty */
        off += n;
    }
    return false;
}
