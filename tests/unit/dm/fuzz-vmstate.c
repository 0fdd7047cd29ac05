/* Fuzz target: the state loader must reject or accept any byte stream without
 * reading or writing out of bounds.  Half the inputs are loaded as they are;
 * the other half are XORed onto a valid stream (input byte 0 picks which), so
 * the fuzzer gets past the version check and into fields and subsections. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm/clock.h"
#include "dm/timer.h"
#include "dm/vmstate.h"

struct elem { uint8_t x; uint64_t y; };
struct fz {
    uint8_t a;
    uint16_t b;
    bool c;
    uint8_t n;
    uint16_t arr[6];
    uint8_t blob[5];
    uint32_t m;
    struct elem el[3];
    struct dm_timer t;
    bool sub_needed;
    int32_t s;
};

static const struct vms_field elem_fields[] = {
    VMS_UINT8(struct elem, x), VMS_UINT64(struct elem, y), VMS_END_OF_LIST,
};
static const struct vms_desc elem_desc = { .name = "elem", .version = 1, .fields = elem_fields };
static const struct vms_field sub_fields[] = { VMS_INT32(struct fz, s), VMS_END_OF_LIST };
static bool sub_needed(void *o) { return ((struct fz *)o)->sub_needed; }
static const struct vms_desc sub_desc = {
    .name = "fz/sub", .version = 3, .min_version = 2, .fields = sub_fields, .needed = sub_needed,
};
static const struct vms_desc *const subs[] = { &sub_desc, NULL };
static const struct vms_field fz_fields[] = {
    VMS_UINT8(struct fz, a),
    VMS_UINT16(struct fz, b),
    VMS_BOOL(struct fz, c),
    VMS_UINT8(struct fz, n),
    VMS_UINT16_VARRAY(struct fz, arr, n, VMS_U8, 6),
    VMS_BUFFER(struct fz, blob),
    VMS_STRUCT_ARRAY(struct fz, el, 3, struct elem, elem_desc),
    VMS_TIMER(struct fz, t),
    VMS_END_OF_LIST,
};
static const struct vms_desc fz_desc = {
    .name = "fz", .version = 2, .fields = fz_fields, .subsections = subs,
};

static void noop(void *opaque) { }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dm_clock *clk;
    struct fz a, b;
    struct vms_buf valid = {0};
    struct dm_err err;
    uint8_t *in;
    size_t len;

    if (!clk)
        clk = clock_new(DM_CLOCK_TEST);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    timer_init(&a.t, clk, noop, &a);
    timer_init(&b.t, clk, noop, &b);
    a.n = 4;
    a.sub_needed = true;
    timer_mod(&a.t, 1000);
    vms_save(&fz_desc, &a, &valid);

    if (size > 0 && (data[0] & 1)) {
        len = valid.len + (size > valid.len ? size - valid.len : 0);
        in = calloc(1, len ? len : 1);
        memcpy(in, valid.data, valid.len);
        for (size_t i = 1; i < size; i++)
            in[i - 1] ^= data[i];
        len = data[0] & 2 ? len : (size % (len + 1));
    } else {
        len = size;
        in = malloc(size ? size : 1);
        memcpy(in, data, size);
    }
    /* exactly len bytes allocated or fewer used: ASan catches any overread */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, in, len);
    if (vms_load(&fz_desc, &b, exact, len, NULL, &err) == 0) {
        /* whatever loaded must respect the declared maxima */
        if (b.n > 6)
            abort();
    }
    free(exact);
    free(in);
    vms_buf_free(&valid);
    timer_del(&a.t);
    timer_del(&b.t);
    return 0;
}
