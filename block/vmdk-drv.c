/* The block layer's "vmdk" driver over the reader (vmdk.c) and the streamOptimized
 * writer (vmdk-stream.c).
 *
 * Read-only opens use the reader for every subformat.  A read-write open works on
 * flat extents (monolithicFlat, twoGbMaxExtentFlat) in place, and on a
 * streamOptimized image that holds no data yet (what `create` makes): that becomes a
 * stream written front to back, which is how `convert -O vmdk -o
 * subformat=streamOptimized` fills it.  Sparse extents are not written in place. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "block/vmdk.h"
#include "block/vmdk-vdi-vhd.h"

struct vmdk_drv {
    struct vmdk *rd;
    struct vmdk_stream *wr;
    char create_type[64];
};

static int vmdk_drv_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return vmdk_probe(buf, len) ? 100 : 0;
}

static int open_dir_of(const char *filename)
{
    char *copy = strdup(filename);
    int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(copy);
    return fd;
}

static int vmdk_drv_open(blk *bs, const blk_open_opts *opts, char **err)
{
    struct vmdk_drv *d = bs->opaque;
    char msg[256];
    int dirfd = open_dir_of(bs->filename);
    int r = vmdk_open(&d->rd, &bs->file, dirfd, false, msg, sizeof(msg));
    if (r == 0) {
        snprintf(d->create_type, sizeof(d->create_type), "%s", vmdk_create_type(d->rd));
        bs->size = vmdk_size(d->rd);
    }
    if (r == 0 && !bs->read_only) {
        if (!strcmp(d->create_type, "streamOptimized")) {
            if (vmdk_has_data(d->rd)) {
                r = -ENOTSUP;
                snprintf(msg, sizeof(msg), "a streamOptimized image cannot be changed once "
                         "written (convert into a new one)");
            } else {
                vmdk_close(d->rd);
                d->rd = NULL;
                char *copy = strdup(bs->filename);
                r = copy ? vmdk_stream_create(&d->wr, &bs->file, basename(copy), bs->size,
                                              msg, sizeof(msg)) : -ENOMEM;
                free(copy);
            }
        } else {
            vmdk_close(d->rd);
            d->rd = NULL;
            r = vmdk_open(&d->rd, &bs->file, dirfd, true, msg, sizeof(msg));
        }
    }
    if (dirfd >= 0)
        close(dirfd);
    if (r < 0) {
        vmdk_close(d->rd);
        d->rd = NULL;
        fmt_open_error(err, bs->filename, "vmdk", msg);
    }
    return r;
}

static void vmdk_drv_close(blk *bs)
{
    struct vmdk_drv *d = bs->opaque;
    if (!d)
        return;
    if (d->wr) {
        /* close cannot report; a failure here leaves the last flush's image */
        vmdk_stream_finish(d->wr);
        vmdk_stream_free(d->wr);
        d->wr = NULL;
    }
    vmdk_close(d->rd);
    d->rd = NULL;
}

static int vmdk_read1(void *v, uint64_t off, void *buf, size_t len) { return vmdk_read(v, off, buf, len); }
static int vmdk_write1(void *v, uint64_t off, const void *buf, size_t len) { return vmdk_write(v, off, buf, len); }
static int vmdk_stream1(void *s, uint64_t off, const void *buf, size_t len)
{
    return vmdk_stream_write(s, off, buf, len);
}

static int vmdk_drv_preadv(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    struct vmdk_drv *d = bs->opaque;
    if (!d->rd)
        return -ENOTSUP;    /* a stream being written is not read back */
    return fmt_readv(d->rd, vmdk_read1, off, iov, iovcnt);
}

static int vmdk_drv_pwritev(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    struct vmdk_drv *d = bs->opaque;
    if (d->wr)
        return fmt_writev(d->wr, vmdk_stream1, off, iov, iovcnt);
    return fmt_writev(d->rd, vmdk_write1, off, iov, iovcnt);
}

static int vmdk_drv_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags)
{
    struct vmdk_drv *d = bs->opaque;
    if (d->wr)
        return vmdk_stream_zero(d->wr, off, len);
    static const uint8_t zeros[65536];
    while (len) {
        size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
        int r = vmdk_write(d->rd, off, zeros, n);
        if (r < 0)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

static int vmdk_drv_flush(blk *bs)
{
    struct vmdk_drv *d = bs->opaque;
    return d->wr ? vmdk_stream_checkpoint(d->wr) : vmdk_flush(d->rd);
}

static int vmdk_drv_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    struct vmdk_drv *d = bs->opaque;
    if (d->wr) {
        /* what the stream has not reached yet reads as zeros */
        uint64_t g = 64 * 1024, n = g - off % g;
        return fmt_status(vmdk_stream_written(d->wr, off) ? FMT_DATA : FMT_ZERO,
                          n < len ? n : len, FMT_NO_HOST, false, st);
    }
    uint64_t n = 0, host = FMT_NO_HOST;
    int r = vmdk_block_status(d->rd, off, len, &n, &host);
    return fmt_status(r, n, host, false, st);
}

/* qemu-img's fields: cid, parent-cid (Vireo opens no VMDK with a parent),
 * create-type, and per extent its size, file (next to the descriptor) and
 * kind; the image's cluster size is the first sparse extent's grain. */
static bool vmdk_drv_format_specific(blk *bs, blk_json *j)
{
    struct vmdk_drv *d = bs->opaque;
    blk_json_str(j, "type", "vmdk");
    blk_json_obj_begin(j, "data");
    if (d->rd) {
        blk_json_uint(j, "cid", vmdk_cid(d->rd));
        blk_json_uint(j, "parent-cid", 0xffffffffu);
    }
    blk_json_str(j, "create-type", d->create_type);
    struct vmdk_extent_info e;
    if (d->rd && vmdk_extent_info(d->rd, 0, &e) == 0) {
        blk_json_arr_begin(j, "extents");
        for (int i = 0; vmdk_extent_info(d->rd, i, &e) == 0; i++) {
            blk_json_obj_begin(j, NULL);
            if (e.compressed)
                blk_json_bool(j, "compressed", true);
            blk_json_uint(j, "virtual-size", e.size);
            const char *slash = strrchr(bs->filename, '/');
            char *path = !e.name ? strdup(bs->filename)
                         : slash ? blk_strdup_printf("%.*s/%s", (int)(slash - bs->filename),
                                                     bs->filename, e.name)
                                 : strdup(e.name);
            blk_json_str(j, "filename", path);
            free(path);
            if (e.grain)
                blk_json_uint(j, "cluster-size", e.grain);
            blk_json_str(j, "format", e.type);
            blk_json_obj_end(j);
        }
        blk_json_arr_end(j);
    }
    blk_json_obj_end(j);
    return true;
}

static int vmdk_drv_check(blk *bs, blk_check_result *res, unsigned fix)
{
    struct vmdk_drv *d = bs->opaque;
    if (fix || !d->rd)
        return -ENOTSUP;            /* Vireo does not rewrite VMDK metadata */
    return vmdk_check(d->rd, res);
}

static void vmdk_drv_get_info(blk *bs, blk_info *info)
{
    struct vmdk_drv *d = bs->opaque;
    struct vmdk_extent_info e;
    for (int i = 0; d->rd && vmdk_extent_info(d->rd, i, &e) == 0; i++) {
        if (e.grain) {
            info->cluster_size = (uint32_t)e.grain;
            break;
        }
    }
}

static const blk_opt_desc vmdk_create_opts[] = {
    { "size", "virtual disk size" },
    { "subformat", "streamOptimized (default in Vireo) or monolithicFlat" },
    { NULL, NULL },
};

static int create_flat(const char *filename, uint64_t size, char **err)
{
    /* NAME.vmdk (descriptor) and NAME-flat.vmdk (data) in the same directory */
    char *copy = strdup(filename);
    const char *base = copy ? basename(copy) : "";
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".vmdk"))
        bl -= 5;
    char flat[4096], *path = NULL;
    snprintf(flat, sizeof(flat), "%.*s-flat.vmdk", (int)bl, base);
    free(copy);
    for (const char *p = flat; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"') {
            blk_set_err(err, "'%s': file name cannot be put in a VMDK descriptor", filename);
            return -EINVAL;
        }
    copy = strdup(filename);
    if (!copy || asprintf(&path, "%s/%s", dirname(copy), flat) < 0) {
        free(copy);
        return -ENOMEM;
    }
    free(copy);
    uint64_t sectors = (size + 511) / 512;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)(sectors * 512)) < 0) {
        blk_set_err(err, "Could not create '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return -EIO;
    }
    close(fd);
    free(path);
    uint8_t cid[4];
    fmt_random(cid, sizeof(cid));
    uint64_t cyl = sectors / (16 * 63);
    char text[8192];
    int n = snprintf(text, sizeof(text),
                     "# Disk DescriptorFile\nversion=1\nCID=%08x\nparentCID=ffffffff\n"
                     "createType=\"monolithicFlat\"\n\n# Extent description\n"
                     "RW %" PRIu64 " FLAT \"%s\" 0\n\n# The Disk Data Base\n#DDB\n\n"
                     "ddb.virtualHWVersion = \"4\"\nddb.geometry.cylinders = \"%" PRIu64 "\"\n"
                     "ddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n"
                     "ddb.adapterType = \"ide\"\n",
                     le32(cid), sectors, flat, cyl > 16383 ? 16383 : cyl);
    fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, (size_t)n) != n) {
        blk_set_err(err, "Could not create '%s': %s", filename, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    close(fd);
    return 0;
}

static int vmdk_drv_create(const char *filename, uint64_t size, const blk_kv *opts, int nopts,
                           char **err)
{
    const char *sub = blk_kv_get(opts, nopts, "subformat");
    if (sub && !strcmp(sub, "monolithicFlat"))
        return create_flat(filename, size, err);
    if (sub && strcmp(sub, "streamOptimized") != 0) {
        blk_set_err(err, "'%s': Vireo creates VMDK subformat streamOptimized or monolithicFlat, "
                    "not '%s'", filename, sub);
        return -ENOTSUP;
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        blk_set_err(err, "Could not create '%s': %s", filename, strerror(errno));
        return -errno;
    }
    blk_file f = { .fd = fd, .filename = (char *)filename, .align = 1 };
    char msg[256] = "";
    char *copy = strdup(filename);
    struct vmdk_stream *s = NULL;
    int r = copy ? vmdk_stream_create(&s, &f, basename(copy), size, msg, sizeof(msg)) : -ENOMEM;
    free(copy);
    /* an image with no grains, complete with directory and footer */
    if (r == 0)
        r = vmdk_stream_finish(s);
    vmdk_stream_free(s);
    if (r < 0)
        blk_set_err(err, "'%s': %s", filename, msg[0] ? msg : strerror(-r));
    if (close(fd) < 0 && r == 0) {
        r = -errno;
        blk_set_err(err, "'%s': %s", filename, strerror(errno));
    }
    return r;
}

const blk_driver blk_drv_vmdk = {
    .name = "vmdk",
    .state_size = sizeof(struct vmdk_drv),
    .probe = vmdk_drv_probe,
    .open = vmdk_drv_open,
    .close = vmdk_drv_close,
    .preadv = vmdk_drv_preadv,
    .pwritev = vmdk_drv_pwritev,
    .pwrite_zeroes = vmdk_drv_pwrite_zeroes,
    .flush = vmdk_drv_flush,
    .block_status = vmdk_drv_block_status,
    .get_info = vmdk_drv_get_info,
    .check = vmdk_drv_check,
    .format_specific = vmdk_drv_format_specific,
    .create_opts = vmdk_create_opts,
    .create = vmdk_drv_create,
};
