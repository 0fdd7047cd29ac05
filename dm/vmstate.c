/* The state-description engine: see dm/vmstate.h for the stream format.
 *
 * Loading trusts nothing in the stream: every read is checked against the
 * remaining length, every count against the field's maximum, every subsection
 * name against the description.  A failed load may leave the device partly
 * loaded; the caller resets the machine in that case. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/timer.h"
#include "dm/vmstate.h"

/* ---- output ----------------------------------------------------------------- */

void vms_buf_free(struct vms_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int put(struct vms_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return -ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int put_be(struct vms_buf *b, uint64_t v, unsigned size)
{
    uint8_t tmp[8];

    for (unsigned i = 0; i < size; i++)
        tmp[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    return put(b, tmp, size);
}

int vms_buf_append(struct vms_buf *b, const void *data, size_t len)
{
    return put(b, data, len);
}

int vms_buf_put_be(struct vms_buf *b, uint64_t v, unsigned size)
{
    return size > 8 ? -EINVAL : put_be(b, v, size);
}

/* ---- input ------------------------------------------------------------------ */

struct vms_in {
    const uint8_t *buf;
    size_t len, pos;
    struct dm_err *err;
};

static int get(struct vms_in *in, void *p, size_t n, const char *what)
{
    if (in->len - in->pos < n) {
        dm_err_set(in->err, "state stream truncated in '%s' (need %zu bytes at offset %zu, have %zu)",
                   what, n, in->pos, in->len - in->pos);
        return -EINVAL;
    }
    memcpy(p, in->buf + in->pos, n);
    in->pos += n;
    return 0;
}

static int get_be(struct vms_in *in, uint64_t *v, unsigned size, const char *what)
{
    uint8_t tmp[8];
    int ret = get(in, tmp, size, what);

    if (ret < 0)
        return ret;
    *v = 0;
    for (unsigned i = 0; i < size; i++)
        *v = *v << 8 | tmp[i];
    return 0;
}

/* ---- element access --------------------------------------------------------- */

static unsigned type_size(enum vms_type t)
{
    switch (t) {
    case VMS_U8: case VMS_I8: case VMS_BOOL: case VMS_BUFFER: return 1;
    case VMS_U16: case VMS_I16: return 2;
    case VMS_U32: case VMS_I32: return 4;
    case VMS_U64: case VMS_I64: return 8;
    default: return 0;
    }
}

static uint64_t read_int(const void *p, enum vms_type t)
{
    switch (t) {
    case VMS_U8: return *(const uint8_t *)p;
    case VMS_I8: return (uint64_t)(int64_t)*(const int8_t *)p;
    case VMS_BOOL: return *(const bool *)p;
    case VMS_U16: return *(const uint16_t *)p;
    case VMS_I16: return (uint64_t)(int64_t)*(const int16_t *)p;
    case VMS_U32: return *(const uint32_t *)p;
    case VMS_I32: return (uint64_t)(int64_t)*(const int32_t *)p;
    case VMS_U64: return *(const uint64_t *)p;
    case VMS_I64: return (uint64_t)*(const int64_t *)p;
    default: return 0;
    }
}

static void write_int(void *p, enum vms_type t, uint64_t v)
{
    switch (t) {
    case VMS_U8: *(uint8_t *)p = (uint8_t)v; break;
    case VMS_I8: *(int8_t *)p = (int8_t)v; break;
    case VMS_BOOL: *(bool *)p = v != 0; break;
    case VMS_U16: *(uint16_t *)p = (uint16_t)v; break;
    case VMS_I16: *(int16_t *)p = (int16_t)v; break;
    case VMS_U32: *(uint32_t *)p = (uint32_t)v; break;
    case VMS_I32: *(int32_t *)p = (int32_t)v; break;
    case VMS_U64: *(uint64_t *)p = v; break;
    case VMS_I64: *(int64_t *)p = (int64_t)v; break;
    default: break;
    }
}

/* Where the field's data starts (through the pointer for VMS_F_POINTER). */
static uint8_t *field_base(const struct vms_field *f, void *opaque)
{
    uint8_t *p = (uint8_t *)opaque + f->offset;

    if (f->flags & VMS_F_POINTER)
        p = *(uint8_t **)p;
    return p;
}

static uint32_t fixed_count(const struct vms_field *f)
{
    return f->count ? f->count : 1;
}

/* ---- save ------------------------------------------------------------------- */

static int save_desc(const struct vms_desc *d, void *opaque, struct vms_buf *out);

static int save_field(const struct vms_field *f, void *opaque, struct vms_buf *out)
{
    uint8_t *base = field_base(f, opaque);
    uint64_t n = fixed_count(f);
    int ret = 0;

    if (f->flags & VMS_F_VARCOUNT) {
        n = read_int((uint8_t *)opaque + f->count_offset, f->count_type);
        if (n > f->count) {
            dm_error("vmstate: field '%s' has count %llu above its maximum %u", f->name,
                     (unsigned long long)n, f->count);
            return -EINVAL;
        }
        ret = put_be(out, n, 4);
    }
    if (!base && n)
        return -EINVAL;
    switch (f->type) {
    case VMS_BUFFER:
        return ret < 0 ? ret : put(out, base, n);
    case VMS_STRUCT:
        for (uint64_t i = 0; ret == 0 && i < n; i++)
            ret = save_desc(f->sub, base + i * f->elem_size, out);
        return ret;
    case VMS_TIMER: {
        const struct dm_timer *t = (const struct dm_timer *)base;
        return put_be(out, (uint64_t)(t->expire >= 0 ? t->expire : -1), 8);
    }
    default: {
        unsigned sz = type_size(f->type);
        for (uint64_t i = 0; ret == 0 && i < n; i++)
            ret = put_be(out, read_int(base + i * sz, f->type), sz);
        return ret;
    }
    }
}

static int save_desc(const struct vms_desc *d, void *opaque, struct vms_buf *out)
{
    int ret;

    if (d->pre_save && (ret = d->pre_save(opaque)) < 0)
        return ret;
    if ((ret = put_be(out, (uint64_t)d->version, 4)) < 0)
        return ret;
    for (const struct vms_field *f = d->fields; f && f->type != VMS_END; f++) {
        if (f->first_version > d->version)
            continue;
        if ((ret = save_field(f, opaque, out)) < 0)
            return ret;
    }
    for (const struct vms_desc *const *s = d->subsections; s && *s; s++) {
        const struct vms_desc *sub = *s;
        size_t nl = strlen(sub->name);
        uint8_t hdr[2] = { 1, (uint8_t)nl };

        if (sub->needed && !sub->needed(opaque))
            continue;
        if (nl > 255)
            return -EINVAL;
        if ((ret = put(out, hdr, 2)) < 0 || (ret = put(out, sub->name, nl)) < 0 ||
            (ret = save_desc(sub, opaque, out)) < 0)
            return ret;
    }
    return put_be(out, 0, 1);
}

int vms_save(const struct vms_desc *d, void *opaque, struct vms_buf *out)
{
    return save_desc(d, opaque, out);
}

/* ---- load ------------------------------------------------------------------- */

static int load_desc(const struct vms_desc *d, void *opaque, struct vms_in *in, int depth);

static int load_field(const struct vms_desc *d, const struct vms_field *f, void *opaque,
                      struct vms_in *in, int depth)
{
    uint8_t *base = field_base(f, opaque);
    uint64_t n = fixed_count(f), v;
    int ret;

    if (f->flags & VMS_F_VARCOUNT) {
        if ((ret = get_be(in, &n, 4, f->name)) < 0)
            return ret;
        if (n > f->count) {
            dm_err_set(in->err, "state '%s': field '%s' count %llu exceeds its maximum %u",
                       d->name, f->name, (unsigned long long)n, f->count);
            return -EINVAL;
        }
        write_int((uint8_t *)opaque + f->count_offset, f->count_type, n);
    }
    if (!base && n) {
        dm_err_set(in->err, "state '%s': field '%s' has no storage", d->name, f->name);
        return -EINVAL;
    }
    switch (f->type) {
    case VMS_BUFFER:
        return get(in, base, n, f->name);
    case VMS_STRUCT:
        for (uint64_t i = 0; i < n; i++)
            if ((ret = load_desc(f->sub, base + i * f->elem_size, in, depth + 1)) < 0)
                return ret;
        return 0;
    case VMS_TIMER: {
        struct dm_timer *t = (struct dm_timer *)base;
        if ((ret = get_be(in, &v, 8, f->name)) < 0)
            return ret;
        if ((int64_t)v < -1) {
            dm_err_set(in->err, "state '%s': timer '%s' has an invalid deadline", d->name, f->name);
            return -EINVAL;
        }
        if (!t->clock) {
            dm_err_set(in->err, "state '%s': timer '%s' is not initialised", d->name, f->name);
            return -EINVAL;
        }
        if ((int64_t)v == -1)
            timer_del(t);
        else
            timer_mod(t, (int64_t)v);
        return 0;
    }
    default: {
        unsigned sz = type_size(f->type);
        for (uint64_t i = 0; i < n; i++) {
            if ((ret = get_be(in, &v, sz, f->name)) < 0)
                return ret;
            if (f->type == VMS_BOOL && v > 1) {
                dm_err_set(in->err, "state '%s': bool field '%s' holds %llu", d->name, f->name,
                           (unsigned long long)v);
                return -EINVAL;
            }
            write_int(base + i * sz, f->type, v);
        }
        return 0;
    }
    }
}

static int load_desc(const struct vms_desc *d, void *opaque, struct vms_in *in, int depth)
{
    uint64_t version, marker;
    int ret;

    if (depth > 32) {
        dm_err_set(in->err, "state '%s': nested too deeply", d->name);
        return -EINVAL;
    }
    if ((ret = get_be(in, &version, 4, d->name)) < 0)
        return ret;
    if ((int64_t)version > d->version || (int64_t)version < d->min_version || version == 0) {
        dm_err_set(in->err, "state '%s': unsupported version %llu (this build loads %d..%d)",
                   d->name, (unsigned long long)version, d->min_version ? d->min_version : 1,
                   d->version);
        return -EINVAL;
    }
    for (const struct vms_field *f = d->fields; f && f->type != VMS_END; f++) {
        if ((uint64_t)(int64_t)f->first_version > version)
            continue;
        if ((ret = load_field(d, f, opaque, in, depth)) < 0)
            return ret;
    }
    for (;;) {
        const struct vms_desc *sub = NULL;
        uint64_t nl;
        char name[256];

        if ((ret = get_be(in, &marker, 1, d->name)) < 0)
            return ret;
        if (marker == 0)
            break;
        if (marker != 1) {
            dm_err_set(in->err, "state '%s': bad subsection marker 0x%02llx", d->name,
                       (unsigned long long)marker);
            return -EINVAL;
        }
        if ((ret = get_be(in, &nl, 1, d->name)) < 0 || (ret = get(in, name, nl, d->name)) < 0)
            return ret;
        name[nl] = 0;
        for (const struct vms_desc *const *s = d->subsections; s && *s; s++)
            if (strlen((*s)->name) == nl && !memcmp((*s)->name, name, nl))
                sub = *s;
        if (!sub) {
            dm_err_set(in->err, "state '%s': unknown subsection '%.*s'", d->name, (int)nl, name);
            return -EINVAL;
        }
        if ((ret = load_desc(sub, opaque, in, depth + 1)) < 0)
            return ret;
    }
    if (d->post_load && (ret = d->post_load(opaque, (int)version)) < 0) {
        dm_err_set(in->err, "state '%s': rejected after load (%s)", d->name, strerror(-ret));
        return ret;
    }
    return 0;
}

int vms_load(const struct vms_desc *d, void *opaque, const uint8_t *buf, size_t len,
             size_t *used, struct dm_err *err)
{
    struct vms_in in = { .buf = buf, .len = len, .err = err };
    int ret = load_desc(d, opaque, &in, 0);

    if (used)
        *used = in.pos;
    return ret;
}

/* ---- tests' helpers --------------------------------------------------------- */

int vms_check_roundtrip(const struct vms_desc *d, void *a, void *b, struct dm_err *err)
{
    struct vms_buf sa = {0}, sb = {0};
    size_t used = 0;
    int ret;

    if ((ret = vms_save(d, a, &sa)) < 0) {
        dm_err_set(err, "state '%s': save failed (%s)", d->name, strerror(-ret));
        goto out;
    }
    if ((ret = vms_load(d, b, sa.data, sa.len, &used, err)) < 0)
        goto out;
    if (used != sa.len) {
        dm_err_set(err, "state '%s': load used %zu of %zu bytes", d->name, used, sa.len);
        ret = -EINVAL;
        goto out;
    }
    if ((ret = vms_save(d, b, &sb)) < 0) {
        dm_err_set(err, "state '%s': second save failed", d->name);
        goto out;
    }
    if (sa.len != sb.len || memcmp(sa.data, sb.data, sa.len)) {
        /* Name the first top-level field that differs. */
        const char *what = "subsections";
        for (const struct vms_field *f = d->fields; f && f->type != VMS_END; f++) {
            struct vms_buf fa = {0}, fb = {0};
            bool differ = save_field(f, a, &fa) < 0 || save_field(f, b, &fb) < 0 ||
                          fa.len != fb.len || memcmp(fa.data, fb.data, fa.len);
            vms_buf_free(&fa);
            vms_buf_free(&fb);
            if (differ) {
                what = f->name;
                break;
            }
        }
        dm_err_set(err, "state '%s': field '%s' differs after save/load", d->name, what);
        ret = -EINVAL;
    }
out:
    vms_buf_free(&sa);
    vms_buf_free(&sb);
    return ret;
}

int vms_desc_validate(const struct vms_desc *d, struct dm_err *err)
{
    int ret;

    if (!d || !d->name || !*d->name) {
        dm_err_set(err, "state description without a name");
        return -EINVAL;
    }
    if (d->version < 1 || d->min_version > d->version || strlen(d->name) > 255) {
        dm_err_set(err, "state '%s': bad version %d (min %d)", d->name, d->version, d->min_version);
        return -EINVAL;
    }
    for (const struct vms_field *f = d->fields; f && f->type != VMS_END; f++) {
        const char *bad = NULL;
        if (!f->name)
            bad = "field without a name";
        else if (f->type > VMS_TIMER)
            bad = "unknown field type";
        else if (f->first_version > d->version)
            bad = "field newer than the description";
        else if (f->type == VMS_STRUCT && (!f->sub || !f->elem_size))
            bad = "struct field without description or size";
        else if (f->type == VMS_BUFFER && !f->count)
            bad = "buffer without a size";
        else if ((f->flags & VMS_F_VARCOUNT) && (!f->count || !type_size(f->count_type) ||
                                                 f->count_type == VMS_BOOL))
            bad = "variable count without a maximum or count type";
        else if (f->type == VMS_TIMER && (f->count > 1 || (f->flags & VMS_F_VARCOUNT)))
            bad = "timer arrays are not supported";
        if (bad) {
            dm_err_set(err, "state '%s': field '%s': %s", d->name, f->name ? f->name : "?", bad);
            return -EINVAL;
        }
        if (f->type == VMS_STRUCT && (ret = vms_desc_validate(f->sub, err)) < 0)
            return ret;
    }
    for (const struct vms_desc *const *s = d->subsections; s && *s; s++)
        if ((ret = vms_desc_validate(*s, err)) < 0)
            return ret;
    return 0;
}
