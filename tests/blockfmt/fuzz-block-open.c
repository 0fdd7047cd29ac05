/* Fuzz target block-open: the image parsers of the qcow2, VMDK, VDI and VHD drivers.
 *
 * The input becomes a memory-backed file (memfd) that every driver opens read-only:
 * the VMDK/VDI/VHD format code directly, and qcow2 (plus the three drivers' glue)
 * through blk_open of /proc/self/fd/N with the format named and no backing chain;
 * when one accepts it, the target reads a few ranges (start, middle, end, and where
 * block status says there is data) and walks the block status map a bounded number
 * of steps; then `check` runs over it as vireo-img check opens it (lenient VDI block
 * map, VMDK grain tables, qcow2 refcounts).  A crash, a sanitizer report or a hang is
 * a bug; errors are expected. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/vdi.h"
#include "block/vhd.h"
#include "block/vmdk.h"
#include "block/vmdk-vdi-vhd.h"

#define READ_MAX    (256 * 1024)
#define STEPS       64

static uint8_t buf[READ_MAX];

typedef int (*read_fn)(void *img, uint64_t off, void *buf, size_t len);
typedef int (*status_fn)(void *img, uint64_t off, uint64_t len, uint64_t *pnum);

static void exercise(void *img, uint64_t size, read_fn rd, status_fn bs)
{
    uint64_t at[] = { 0, size / 2, size > READ_MAX ? size - READ_MAX : 0 };
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        size_t n = size - at[i] < READ_MAX ? (size_t)(size - at[i]) : READ_MAX;
        rd(img, at[i], buf, n);
    }
    uint64_t off = 0;
    for (int i = 0; i < STEPS && off < size; i++) {
        uint64_t n = 0;
        int st = bs(img, off, size - off, &n);
        if (st < 0 || n == 0 || n > size - off)
            break;
        if (st == FMT_DATA)
            rd(img, off, buf, n < 4096 ? n : 4096);
        off += n;
    }
    /* a far jump: block status where the map is probably sparse */
    uint64_t n;
    if (size > 1)
        bs(img, size - 1, 1, &n);
}

static int vhd_rd(void *i, uint64_t o, void *b, size_t l) { return vhd_read(i, o, b, l); }
static int vhd_bs(void *i, uint64_t o, uint64_t l, uint64_t *p) { return vhd_block_status(i, o, l, p, NULL); }
static int vdi_rd(void *i, uint64_t o, void *b, size_t l) { return vdi_read(i, o, b, l); }
static int vdi_bs(void *i, uint64_t o, uint64_t l, uint64_t *p) { return vdi_block_status(i, o, l, p, NULL); }
static int vmdk_rd(void *i, uint64_t o, void *b, size_t l) { return vmdk_read(i, o, b, l); }
static int vmdk_bs(void *i, uint64_t o, uint64_t l, uint64_t *p) { return vmdk_block_status(i, o, l, p, NULL); }

static int blk_rd(void *b, uint64_t o, void *buf, size_t l) { return blk_pread(b, o, buf, l); }
static int blk_bs(void *b, uint64_t o, uint64_t l, uint64_t *p)
{
    blk_status st;
    int r = blk_block_status(b, o, l, &st);
    *p = st.len;
    return r < 0 ? r : (st.flags & BLK_ST_DATA) && !(st.flags & BLK_ST_ZERO) ? FMT_DATA : FMT_ZERO;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("block-open", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    blk_file file = { .fd = fd, .filename = "fuzz-input", .align = 1 };
    if (fmt_pwrite(&file, data, size, 0) < 0) {
        close(fd);
        return 0;
    }
    char err[256];
    struct vhd *vh;
    if (vhd_open(&vh, &file, false, err, sizeof(err)) == 0) {
        exercise(vh, vhd_size(vh), vhd_rd, vhd_bs);
        vhd_close(vh);
    }
    struct vdi *vd;
    if (vdi_open(&vd, &file, false, err, sizeof(err)) == 0) {
        exercise(vd, vdi_size(vd), vdi_rd, vdi_bs);
        vdi_close(vd);
    }
    if (vdi_open_lenient(&vd, &file, err, sizeof(err)) == 0) {
        blk_check_result res = { 0 };
        vdi_check(vd, &res);
        blk_check_result_free(&res);
        exercise(vd, vdi_size(vd), vdi_rd, vdi_bs);
        vdi_close(vd);
    }
    struct vmdk *vm;
    if (vmdk_open(&vm, &file, -1, false, err, sizeof(err)) == 0) {
        exercise(vm, vmdk_size(vm), vmdk_rd, vmdk_bs);
        blk_check_result res = { 0 };
        vmdk_check(vm, &res);
        blk_check_result_free(&res);
        vmdk_close(vm);
    }
    static const char *const formats[] = { "qcow2", "vmdk", "vdi", "vpc" };
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        blk_open_opts o = { .format = formats[i], .flags = BLK_O_NO_LOCK | BLK_O_NO_BACKING };
        char *e = NULL;
        blk *bs = blk_open(path, &o, &e);
        free(e);
        e = NULL;
        if (bs) {
            exercise(bs, blk_size(bs), blk_rd, blk_bs);
            blk_close(bs);
        }
        o.flags |= BLK_O_NO_REPAIR;     /* as check opens it */
        bs = blk_open(path, &o, &e);
        free(e);
        if (bs) {
            blk_check_result res = { 0 };
            blk_check(bs, &res, 0);
            blk_check_result_free(&res);
            blk_close(bs);
        }
    }
    close(fd);
    return 0;
}
