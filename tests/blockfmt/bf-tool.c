/* bf-tool: drive the VMDK/VDI/VHD format code directly, for the interop and hostile
 * image tests (independent of vireo-img, so the format code is tested on its own).
 *
 *   bf-tool info FMT IMAGE              print "size N" or one error line; exit 1 on error
 *   bf-tool toraw FMT IMAGE RAW         read the whole image into a raw file
 *   bf-tool map FMT IMAGE               print "data|zero OFFSET LENGTH" runs
 *   bf-tool fromraw FMT RAW IMAGE [force_size]
 *                                       FMT vpc: fixed VHD; FMT vmdk: streamOptimized
 *   bf-tool blkconvert SRCFMT SRC DSTFMT DST [key=val,...]
 *                                       the same through the block layer (blk_open,
 *                                       blk_create, the driver table): a mini convert
 *   bf-tool blkprobe IMAGE              print the probed format and virtual size
 * FMT is vmdk, vdi or vpc (qemu-img's names); SRCFMT may be "probe". */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/vdi.h"
#include "block/vhd.h"
#include "block/vmdk.h"
#include "block/vmdk-vdi-vhd.h"

struct img {
    const char *fmt;
    blk_file file;
    struct vhd *vhd;
    struct vdi *vdi;
    struct vmdk *vmdk;
};

static int img_open(struct img *im, const char *fmt, const char *path, char *err, size_t errlen)
{
    memset(im, 0, sizeof(*im));
    im->fmt = fmt;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fmt_err(err, errlen, -errno, "%s", strerror(errno));
    im->file = (blk_file){ .fd = fd, .filename = (char *)path, .align = 1 };
    int r;
    if (!strcmp(fmt, "vpc")) {
        r = vhd_open(&im->vhd, &im->file, false, err, errlen);
    } else if (!strcmp(fmt, "vdi")) {
        r = vdi_open(&im->vdi, &im->file, false, err, errlen);
    } else if (!strcmp(fmt, "vmdk")) {
        char *copy = strdup(path);
        int dirfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(copy);
        r = vmdk_open(&im->vmdk, &im->file, dirfd, false, err, errlen);
        if (dirfd >= 0)
            close(dirfd);
    } else {
        r = fmt_err(err, errlen, -EINVAL, "unknown format %s", fmt);
    }
    return r;
}

static uint64_t img_size(struct img *im)
{
    return im->vhd ? vhd_size(im->vhd) : im->vdi ? vdi_size(im->vdi) : vmdk_size(im->vmdk);
}

static int img_read(struct img *im, uint64_t off, void *buf, size_t len)
{
    return im->vhd ? vhd_read(im->vhd, off, buf, len)
         : im->vdi ? vdi_read(im->vdi, off, buf, len) : vmdk_read(im->vmdk, off, buf, len);
}

static int img_status(struct img *im, uint64_t off, uint64_t len, uint64_t *pnum)
{
    return im->vhd ? vhd_block_status(im->vhd, off, len, pnum, NULL)
         : im->vdi ? vdi_block_status(im->vdi, off, len, pnum, NULL)
                   : vmdk_block_status(im->vmdk, off, len, pnum, NULL);
}

static const char *img_error(struct img *im, int r)
{
    if (im->vmdk && vmdk_last_error(im->vmdk)[0])
        return vmdk_last_error(im->vmdk);
    return strerror(-r);
}

static void img_close(struct img *im)
{
    vhd_close(im->vhd);
    vdi_close(im->vdi);
    vmdk_close(im->vmdk);
    if (im->file.fd > 0)
        close(im->file.fd);
}

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "bf-tool: %s: %s\n", what, msg);
    return 1;
}

static int run(int argc, char **argv, struct img *im);
static int blk_main(int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc > 1 && !strncmp(argv[1], "blk", 3))
        return blk_main(argc, argv);
    struct img im = {0};
    int r = run(argc, argv, &im);
    img_close(&im);
    return r;
}

static int run(int argc, char **argv, struct img *imp)
{
    char err[512] = "";
    if (argc < 4)
        return die("usage", "bf-tool info|toraw|map|fromraw FMT IMAGE [RAW]");
    const char *cmd = argv[1], *fmt = argv[2];
    if (!strcmp(cmd, "fromraw")) {
        if (argc < 5)
            return die("usage", "fromraw FMT RAW IMAGE [force_size]");
        int in = open(argv[3], O_RDONLY | O_CLOEXEC);
        if (in < 0)
            return die(argv[3], strerror(errno));
        struct stat st;
        fstat(in, &st);
        int out = open(argv[4], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
            return die(argv[4], strerror(errno));
        blk_file of = { .fd = out, .filename = argv[4], .align = 1 };
        bool force = argc > 5 && !strcmp(argv[5], "force_size");
        static uint8_t buf[1 << 20];
        struct vmdk_stream *vs = NULL;
        uint64_t size = (uint64_t)st.st_size;
        int r;
        if (!strcmp(fmt, "vpc")) {
            r = vhd_create_fixed(&of, size, force, &size, err, sizeof(err));
        } else if (!strcmp(fmt, "vmdk")) {
            char *copy = strdup(argv[4]);
            r = vmdk_stream_create(&vs, &of, basename(copy), size, err, sizeof(err));
            free(copy);
        } else {
            return die(fmt, "no writer for this format");
        }
        if (r < 0)
            return die(argv[4], err);
        for (uint64_t off = 0; off < (uint64_t)st.st_size;) {
            ssize_t n = pread(in, buf, sizeof(buf), (off_t)off);
            if (n <= 0)
                return die(argv[3], "read error");
            r = vs ? vmdk_stream_write(vs, off, buf, (size_t)n) : fmt_pwrite(&of, buf, (size_t)n, off);
            if (r < 0)
                return die(argv[4], strerror(-r));
            off += (uint64_t)n;
        }
        if (vs) {
            r = vmdk_stream_finish(vs);
            vmdk_stream_free(vs);
            if (r < 0)
                return die(argv[4], strerror(-r));
        }
        return close(out) < 0 ? die(argv[4], strerror(errno)) : 0;
    }

#define im (*imp)
    int r = img_open(&im, fmt, argv[3], err, sizeof(err));
    if (r < 0)
        return die(argv[3], err);
    uint64_t size = img_size(&im);
    if (!strcmp(cmd, "info")) {
        printf("size %" PRIu64 "\n", size);
        return 0;
    }
    if (!strcmp(cmd, "map")) {
        for (uint64_t off = 0; off < size;) {
            uint64_t n;
            int st = img_status(&im, off, size - off, &n);
            if (st < 0)
                return die(argv[3], img_error(&im, st));
            printf("%s %" PRIu64 " %" PRIu64 "\n", st == FMT_DATA ? "data" : "zero", off, n);
            off += n;
        }
        return 0;
    }
    if (!strcmp(cmd, "toraw") && argc > 4) {
        int out = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0 || ftruncate(out, (off_t)size) < 0)
            return die(argv[4], strerror(errno));
        static uint8_t buf[1 << 20];
        for (uint64_t off = 0; off < size;) {
            uint64_t n;
            int st = img_status(&im, off, size - off, &n);
            if (st < 0)
                return die(argv[3], img_error(&im, st));
            if (st == FMT_DATA) {
                for (uint64_t done = 0; done < n;) {
                    size_t chunk = n - done < sizeof(buf) ? n - done : sizeof(buf);
                    r = img_read(&im, off + done, buf, chunk);
                    if (r < 0)
                        return die(argv[3], img_error(&im, r));
                    if (pwrite(out, buf, chunk, (off_t)(off + done)) != (ssize_t)chunk)
                        return die(argv[4], strerror(errno));
                    done += chunk;
                }
            }
            off += n;
        }
        return close(out) < 0 ? die(argv[4], strerror(errno)) : 0;
    }
    return die("usage", "unknown command");
}

/* ---- through the block layer ---------------------------------------------------- */

static int blk_fail(const char *what, char *err, int r)
{
    fprintf(stderr, "bf-tool: %s\n", err ? err : what);
    (void)r;
    free(err);
    return 1;
}

static int blk_main(int argc, char **argv)
{
    char *err = NULL;
    if (!strcmp(argv[1], "blkprobe") && argc == 3) {
        blk_open_opts o = { .flags = BLK_O_NO_LOCK };
        blk *bs = blk_open(argv[2], &o, &err);
        if (!bs)
            return blk_fail(argv[2], err, -1);
        printf("%s %" PRIu64 "\n", bs->drv->name, blk_size(bs));
        blk_close(bs);
        return 0;
    }
    if (strcmp(argv[1], "blkconvert") != 0 || argc < 6)
        return die("usage", "blkconvert SRCFMT SRC DSTFMT DST [key=val,...] | blkprobe IMAGE");
    blk_open_opts so = { .format = strcmp(argv[2], "probe") ? argv[2] : NULL };
    blk *src = blk_open(argv[3], &so, &err);
    if (!src)
        return blk_fail(argv[3], err, -1);
    blk_kv kv[8];
    int nkv = 0;
    char *opts = argc > 6 ? strdup(argv[6]) : NULL, *save = NULL;
    for (char *t = opts ? strtok_r(opts, ",", &save) : NULL; t && nkv < 8;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            return die(t, "option without '='");
        *eq = 0;
        kv[nkv++] = (blk_kv){ t, eq + 1 };
    }
    uint64_t size = blk_size(src);
    int r = blk_create(argv[4], argv[5], size, kv, nkv, &err);
    free(opts);
    if (r < 0) {
        blk_close(src);
        return blk_fail(argv[5], err, r);
    }
    blk_open_opts dopts = { .flags = BLK_O_RDWR, .format = argv[4] };
    blk *dst = blk_open(argv[5], &dopts, &err);
    if (!dst) {
        blk_close(src);
        return blk_fail(argv[5], err, -1);
    }
    static uint8_t buf[1 << 20];
    r = 0;
    for (uint64_t off = 0; off < size && r >= 0;) {
        blk_status st;
        r = blk_block_status_above(src, off, size - off, &st);
        if (r < 0)
            break;
        uint64_t n = st.len;
        if (!(st.flags & BLK_ST_ZERO) && (st.flags & BLK_ST_DATA)) {
            for (uint64_t done = 0; done < n && r >= 0;) {
                size_t chunk = n - done < sizeof(buf) ? n - done : sizeof(buf);
                r = blk_pread(src, off + done, buf, chunk);
                if (r >= 0)
                    r = blk_pwrite(dst, off + done, buf, chunk);
                done += chunk;
            }
        }
        off += n;
    }
    if (r >= 0)
        r = blk_flush(dst);
    blk_close(dst);
    blk_close(src);
    if (r < 0) {
        fprintf(stderr, "bf-tool: converting %s: %s\n", argv[3], strerror(-r));
        return 1;
    }
    return 0;
}
