/* Whole-machine device state: see dm/snapshot.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dm/device.h"
#include "dm/memory.h"
#include "dm/snapshot.h"

#define MAGIC "VIREODM1"
#define MAGIC_LEN 8

static void device_name(struct dm_ctx *ctx, struct device *dev, char *buf, size_t len)
{
    unsigned n = 0;

    if (dev->id) {
        snprintf(buf, len, "%s", dev->id);
        return;
    }
    for (struct device *d = ctx->devices; d && d != dev; d = d->ctx_next)
        if (d->type == dev->type && !d->id)
            n++;
    snprintf(buf, len, "%s#%u", dev->type->name, n);
}

int dm_state_save(struct dm_ctx *ctx, struct vms_buf *out, struct dm_err *err)
{
    unsigned count = 0;
    char name[256];
    int ret;

    for (struct device *d = ctx->devices; d; d = d->ctx_next) {
        if (!d->realized)
            continue;
        if (!d->type->vmstate) {
            dm_err_set(err, "device '%s' has no state description and cannot be saved", d->type->name);
            return -EINVAL;
        }
        count++;
    }
    if ((ret = vms_buf_append(out, MAGIC, MAGIC_LEN)) < 0 ||
        (ret = vms_buf_put_be(out, count, 4)) < 0)
        return ret;
    for (struct device *d = ctx->devices; d; d = d->ctx_next) {
        struct vms_buf one = {0};
        size_t nl;

        if (!d->realized)
            continue;
        device_name(ctx, d, name, sizeof(name));
        nl = strlen(name);
        if ((ret = vms_save(d->type->vmstate, d, &one)) < 0) {
            dm_err_set(err, "device '%s': saving its state failed (%s)", name, strerror(-ret));
            vms_buf_free(&one);
            return ret;
        }
        if ((ret = vms_buf_put_be(out, nl, 2)) < 0 || (ret = vms_buf_append(out, name, nl)) < 0 ||
            (ret = vms_buf_put_be(out, one.len, 4)) < 0 ||
            (ret = vms_buf_append(out, one.data, one.len)) < 0) {
            vms_buf_free(&one);
            return ret;
        }
        vms_buf_free(&one);
    }
    return 0;
}

static uint64_t get_be(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v = v << 8 | p[i];
    return v;
}

static struct device *find_by_name(struct dm_ctx *ctx, const char *name)
{
    char buf[256];

    for (struct device *d = ctx->devices; d; d = d->ctx_next) {
        if (!d->realized)
            continue;
        device_name(ctx, d, buf, sizeof(buf));
        if (!strcmp(buf, name))
            return d;
    }
    return NULL;
}

int dm_state_load(struct dm_ctx *ctx, const uint8_t *buf, size_t len, struct dm_err *err)
{
    size_t pos = MAGIC_LEN + 4;
    unsigned count, expected = 0, loaded = 0;
    int ret = 0;

    if (len < pos || memcmp(buf, MAGIC, MAGIC_LEN)) {
        dm_err_set(err, "not a Vireo device state stream");
        return -EINVAL;
    }
    count = (unsigned)get_be(buf + MAGIC_LEN, 4);
    for (struct device *d = ctx->devices; d; d = d->ctx_next)
        if (d->realized)
            expected++;
    if (count != expected) {
        dm_err_set(err, "device state holds %u devices, this machine has %u", count, expected);
        return -EINVAL;
    }
    /* every BAR or PAM change of the load lands in one flat-view rebuild */
    mem_transaction_begin();
    for (unsigned i = 0; i < count; i++) {
        char name[256];
        size_t nl, sl, used;
        struct device *d;

        if (len - pos < 2 || (nl = (size_t)get_be(buf + pos, 2)) >= sizeof(name) ||
            len - pos - 2 < nl + 4) {
            dm_err_set(err, "device state truncated at device %u", i);
            ret = -EINVAL;
            break;
        }
        memcpy(name, buf + pos + 2, nl);
        name[nl] = 0;
        pos += 2 + nl;
        sl = (size_t)get_be(buf + pos, 4);
        pos += 4;
        if (sl > len - pos) {
            dm_err_set(err, "device state of '%s' truncated", name);
            ret = -EINVAL;
            break;
        }
        d = find_by_name(ctx, name);
        if (!d) {
            dm_err_set(err, "device state names device '%s', which this machine does not have", name);
            ret = -ENOENT;
            break;
        }
        ret = vms_load(d->type->vmstate, d, buf + pos, sl, &used, err);
        if (ret == 0 && used != sl) {
            dm_err_set(err, "device '%s': %zu bytes of state left over", name, sl - used);
            ret = -EINVAL;
        }
        if (ret < 0)
            break;
        pos += sl;
        loaded++;
    }
    mem_transaction_commit();
    if (ret == 0 && pos != len) {
        dm_err_set(err, "device state has %zu trailing bytes", len - pos);
        ret = -EINVAL;
    }
    return ret;
}
