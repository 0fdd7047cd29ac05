/* Unit tests of the state-description engine: round trips, versions,
 * subsections, variable-length arrays, timers, and hostile streams. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/clock.h"
#include "dm/timer.h"
#include "dm/vmstate.h"
#include "tests/lib/cunit-run.h"

struct inner {
    uint16_t a;
    uint32_t b;
};

static const struct vms_field inner_fields[] = {
    VMS_UINT16(struct inner, a),
    VMS_UINT32(struct inner, b),
    VMS_END_OF_LIST,
};
static const struct vms_desc inner_desc = { .name = "inner", .version = 1, .fields = inner_fields };

struct dev {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    bool flag;
    uint8_t regs[16];
    uint32_t fifo_len;
    uint32_t fifo[8];
    struct inner in[2];
    uint32_t added_in_v2;
    uint8_t *ptrbuf;
    bool extra_needed;
    uint32_t extra;
    struct dm_timer timer;
    int post_load_calls;
    int post_load_version;
};

static bool extra_needed(void *opaque)
{
    return ((struct dev *)opaque)->extra_needed;
}

static const struct vms_field extra_fields[] = {
    VMS_UINT32(struct dev, extra),
    VMS_END_OF_LIST,
};
static const struct vms_desc extra_desc = {
    .name = "dev/extra", .version = 1, .fields = extra_fields, .needed = extra_needed,
};
static const struct vms_desc *const dev_subs[] = { &extra_desc, NULL };

static int dev_post_load(void *opaque, int version)
{
    struct dev *d = opaque;
    d->post_load_calls++;
    d->post_load_version = version;
    /* a device rejects state it cannot have produced */
    return d->u8 == 0xee ? -EINVAL : 0;
}

static const struct vms_field dev_fields[] = {
    VMS_UINT8(struct dev, u8),
    VMS_UINT16(struct dev, u16),
    VMS_UINT32(struct dev, u32),
    VMS_UINT64(struct dev, u64),
    VMS_INT32(struct dev, i32),
    VMS_BOOL(struct dev, flag),
    VMS_BUFFER(struct dev, regs),
    VMS_UINT32(struct dev, fifo_len),
    VMS_UINT32_VARRAY(struct dev, fifo, fifo_len, VMS_U32, 8),
    VMS_STRUCT_ARRAY(struct dev, in, 2, struct inner, inner_desc),
    VMS_UINT32_V(struct dev, added_in_v2, 2),
    VMS_BUFFER_PTR(struct dev, ptrbuf, 4),
    VMS_TIMER(struct dev, timer),
    VMS_END_OF_LIST,
};
static const struct vms_desc dev_desc = {
    .name = "dev", .version = 2, .min_version = 1, .fields = dev_fields,
    .subsections = dev_subs, .post_load = dev_post_load,
};
/* The same device as an older build saw it: version 1, no added_in_v2. */
static const struct vms_desc dev_desc_v1 = {
    .name = "dev", .version = 1, .min_version = 1, .fields = dev_fields,
    .subsections = dev_subs,
};

static struct dm_clock *clk;
static uint8_t bufa[4], bufb[4];

static void dummy_cb(void *opaque) { }

static void dev_init(struct dev *d, uint8_t *pb)
{
    memset(d, 0, sizeof(*d));
    d->ptrbuf = pb;
    timer_init(&d->timer, clk, dummy_cb, d);
}

static void dev_fill(struct dev *d)
{
    d->u8 = 0x12;
    d->u16 = 0x3456;
    d->u32 = 0x789abcde;
    d->u64 = 0x0123456789abcdefULL;
    d->i32 = -5;
    d->flag = true;
    for (int i = 0; i < 16; i++)
        d->regs[i] = (uint8_t)(i * 7);
    d->fifo_len = 3;
    d->fifo[0] = 10; d->fifo[1] = 20; d->fifo[2] = 30;
    d->in[0].a = 1; d->in[0].b = 2; d->in[1].a = 3; d->in[1].b = 4;
    d->added_in_v2 = 99;
    memcpy(d->ptrbuf, "\xde\xad\xbe\xef", 4);
    timer_mod(&d->timer, 123456);
}

static void test_roundtrip(void)
{
    struct dev a, b;
    struct dm_err err = {{0}};

    dev_init(&a, bufa);
    dev_init(&b, bufb);
    dev_fill(&a);
    CU_ASSERT_EQUAL(vms_desc_validate(&dev_desc, &err), 0);
    CU_ASSERT_EQUAL(vms_check_roundtrip(&dev_desc, &a, &b, &err), 0);
    CU_ASSERT_EQUAL(b.u8, 0x12);
    CU_ASSERT_EQUAL(b.u16, 0x3456);
    CU_ASSERT_EQUAL(b.u32, 0x789abcde);
    CU_ASSERT_EQUAL(b.u64, 0x0123456789abcdefULL);
    CU_ASSERT_EQUAL(b.i32, -5);
    CU_ASSERT(b.flag);
    CU_ASSERT_EQUAL(memcmp(a.regs, b.regs, 16), 0);
    CU_ASSERT_EQUAL(b.fifo_len, 3);
    CU_ASSERT_EQUAL(b.fifo[2], 30);
    CU_ASSERT_EQUAL(b.fifo[3], 0);
    CU_ASSERT_EQUAL(b.in[1].b, 4);
    CU_ASSERT_EQUAL(b.added_in_v2, 99);
    CU_ASSERT_EQUAL(memcmp(bufb, "\xde\xad\xbe\xef", 4), 0);
    CU_ASSERT(timer_pending(&b.timer));
    CU_ASSERT_EQUAL(timer_expire_time(&b.timer), 123456);
    CU_ASSERT_EQUAL(b.post_load_calls, 1);
    CU_ASSERT_EQUAL(b.post_load_version, 2);

    /* a difference the stream does not carry is not a difference... */
    b.post_load_calls = 7;
    CU_ASSERT_EQUAL(vms_check_roundtrip(&dev_desc, &a, &b, &err), 0);
    timer_del(&a.timer);
    timer_del(&b.timer);
}

static void test_stream_layout(void)
{
    /* The layout documented in vmstate.h, checked byte by byte. */
    struct dev a;
    struct vms_buf out = {0};

    dev_init(&a, bufa);
    dev_fill(&a);
    timer_del(&a.timer);
    CU_ASSERT_EQUAL_FATAL(vms_save(&dev_desc, &a, &out), 0);
    static const uint8_t expect_head[] = {
        0, 0, 0, 2,                     /* version */
        0x12,                           /* u8 */
        0x34, 0x56,                     /* u16 big-endian */
        0x78, 0x9a, 0xbc, 0xde,         /* u32 */
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0xff, 0xff, 0xff, 0xfb,         /* i32 -5 */
        1,                              /* bool */
    };
    CU_ASSERT_EQUAL_FATAL(out.len, sizeof(expect_head) + 16 + 4 + 4 + 3 * 4 + 2 * (4 + 2 + 4 + 1)
                          + 4 + 4 + 8 + 1);
    CU_ASSERT_EQUAL(memcmp(out.data, expect_head, sizeof(expect_head)), 0);
    /* timer not armed: -1; no subsection: final 0 */
    CU_ASSERT_EQUAL(out.data[out.len - 2], 0xff);
    CU_ASSERT_EQUAL(out.data[out.len - 1], 0);
    vms_buf_free(&out);
}

static void test_versions(void)
{
    struct dev a, b;
    struct vms_buf out = {0};
    struct dm_err err = {{0}};

    dev_init(&a, bufa);
    dev_init(&b, bufb);
    dev_fill(&a);
    /* an old (v1) stream loads into the v2 device; the v2 field keeps its value */
    CU_ASSERT_EQUAL_FATAL(vms_save(&dev_desc_v1, &a, &out), 0);
    b.added_in_v2 = 42;
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), 0);
    CU_ASSERT_EQUAL(b.added_in_v2, 42);
    CU_ASSERT_EQUAL(b.u32, a.u32);
    CU_ASSERT_EQUAL(b.post_load_version, 1);
    vms_buf_free(&out);
    /* a newer stream is refused by the older build */
    CU_ASSERT_EQUAL_FATAL(vms_save(&dev_desc, &a, &out), 0);
    CU_ASSERT_EQUAL(vms_load(&dev_desc_v1, &b, out.data, out.len, NULL, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "version 2"));
    vms_buf_free(&out);
    timer_del(&a.timer);
    timer_del(&b.timer);
}

static void test_subsections(void)
{
    struct dev a, b;
    struct vms_buf with = {0}, without = {0};
    struct dm_err err = {{0}};

    dev_init(&a, bufa);
    dev_init(&b, bufb);
    dev_fill(&a);
    a.extra = 0x5555;
    CU_ASSERT_EQUAL(vms_save(&dev_desc, &a, &without), 0);
    a.extra_needed = true;
    CU_ASSERT_EQUAL(vms_save(&dev_desc, &a, &with), 0);
    /* 1 + len + "dev/extra" + version + u32 + end marker */
    CU_ASSERT_EQUAL(with.len, without.len + 2 + 9 + 4 + 4 + 1);
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, without.data, without.len, NULL, &err), 0);
    CU_ASSERT_EQUAL(b.extra, 0);
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, with.data, with.len, NULL, &err), 0);
    CU_ASSERT_EQUAL(b.extra, 0x5555);

    /* an unknown subsection name is refused */
    size_t at = without.len - 1;
    CU_ASSERT_EQUAL(memcmp(with.data + at + 2, "dev/extra", 9), 0);
    with.data[at + 2] = 'X';
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, with.data, with.len, NULL, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown subsection"));
    vms_buf_free(&with);
    vms_buf_free(&without);
    timer_del(&a.timer);
    timer_del(&b.timer);
}

static void test_hostile(void)
{
    struct dev a, b;
    struct vms_buf out = {0};
    struct dm_err err = {{0}};

    dev_init(&a, bufa);
    dev_init(&b, bufb);
    dev_fill(&a);
    CU_ASSERT_EQUAL_FATAL(vms_save(&dev_desc, &a, &out), 0);

    /* every truncation fails cleanly */
    for (size_t len = 0; len < out.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);     /* exact size: ASan sees overreads */
        memcpy(copy, out.data, len);
        CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, copy, len, NULL, &err), -EINVAL);
        free(copy);
    }
    /* fifo count beyond the maximum of 8 */
    size_t count_at = 4 + 1 + 2 + 4 + 8 + 4 + 1 + 16 + 4;
    CU_ASSERT_EQUAL(out.data[count_at + 3], 3);
    out.data[count_at + 3] = 9;
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fifo"));
    out.data[count_at] = 0xff;      /* huge */
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), -EINVAL);
    out.data[count_at] = 0;
    out.data[count_at + 3] = 3;
    /* a bool that is neither 0 nor 1 */
    out.data[23] = 2;
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), -EINVAL);
    out.data[23] = 1;
    /* version 0 and a bad subsection marker */
    out.data[3] = 0;
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), -EINVAL);
    out.data[3] = 2;
    out.data[out.len - 1] = 7;
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), -EINVAL);
    out.data[out.len - 1] = 0;
    /* post_load veto */
    out.data[4] = 0xee;
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), -EINVAL);
    out.data[4] = 0x12;
    /* and the repaired stream loads */
    CU_ASSERT_EQUAL(vms_load(&dev_desc, &b, out.data, out.len, NULL, &err), 0);
    vms_buf_free(&out);
    timer_del(&a.timer);
    timer_del(&b.timer);
}

static int lossy_post_load(void *opaque, int version)
{
    /* a buggy device that masks a register on load */
    ((struct dev *)opaque)->u16 &= 0xff;
    return 0;
}

static void test_roundtrip_detects_loss(void)
{
    /* The helper must notice when loading does not reproduce the saved state,
     * and name the field. */
    struct dev a, b;
    struct dm_err err = {{0}};
    static const struct vms_field partial_fields[] = {
        VMS_UINT8(struct dev, u8),
        VMS_UINT16(struct dev, u16),
        VMS_END_OF_LIST,
    };
    static const struct vms_desc lossy = { .name = "lossy", .version = 1, .fields = partial_fields,
                                           .post_load = lossy_post_load };

    dev_init(&a, bufa);
    dev_init(&b, bufb);
    a.u8 = 5;
    a.u16 = 0x00ff;
    CU_ASSERT_EQUAL(vms_check_roundtrip(&lossy, &a, &b, &err), 0);
    a.u16 = 0x1234;
    CU_ASSERT_EQUAL(vms_check_roundtrip(&lossy, &a, &b, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'u16'"));
}

static void test_validate(void)
{
    struct dm_err err = {{0}};
    static const struct vms_field bad_fields[] = {
        { .name = "arr", .type = VMS_U32, .offset = 0, .flags = VMS_F_VARCOUNT, .count = 0 },
        VMS_END_OF_LIST,
    };
    static const struct vms_desc bad = { .name = "bad", .version = 1, .fields = bad_fields };
    static const struct vms_desc badver = { .name = "badver", .version = 1, .min_version = 2 };

    CU_ASSERT_EQUAL(vms_desc_validate(&bad, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "arr"));
    CU_ASSERT_EQUAL(vms_desc_validate(&badver, &err), -EINVAL);
}

int main(void)
{
    clk = clock_new(DM_CLOCK_TEST);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("vmstate", NULL, NULL);
    CU_add_test(s, "roundtrip", test_roundtrip);
    CU_add_test(s, "stream_layout", test_stream_layout);
    CU_add_test(s, "versions", test_versions);
    CU_add_test(s, "subsections", test_subsections);
    CU_add_test(s, "hostile", test_hostile);
    CU_add_test(s, "roundtrip_detects_loss", test_roundtrip_detects_loss);
    CU_add_test(s, "validate", test_validate);
    int ret = cunit_run_all();
    clock_free(clk);
    return ret;
}
