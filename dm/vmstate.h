/* State descriptions: declarative lists of a device's migratable fields, and the
 * one engine that saves them to and loads them from a byte stream (snapshots,
 * migration, Xen device-state save/restore).
 *
 * Stream of one description (all integers big-endian):
 *   u32 version, then each field with first_version <= version in list order,
 *   then for each subsection whose needed() is true:
 *     u8 1, u8 name length, name, u32 version, subsection body (recursively)
 *   and finally u8 0.
 * Loading checks every length and count against the stream and the field's
 * maximum: a truncated or hostile stream returns -EINVAL with a message naming
 * the field, never reads or writes out of bounds. */
#ifndef DM_VMSTATE_H
#define DM_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/log.h"

enum vms_type {
    VMS_END = 0,
    VMS_U8, VMS_U16, VMS_U32, VMS_U64,
    VMS_I8, VMS_I16, VMS_I32, VMS_I64,
    VMS_BOOL,           /* bool, one byte 0/1 (other values rejected) */
    VMS_BUFFER,         /* count raw bytes */
    VMS_STRUCT,         /* nested description (sub) of elem_size bytes */
    VMS_TIMER,          /* struct dm_timer: saves the deadline (-1 = not armed) */
};

enum {
    VMS_F_VARCOUNT = 1u << 0,   /* element count read from count_offset (a
                                   count_type field), at most count */
    VMS_F_POINTER  = 1u << 1,   /* the field is a pointer to the data */
};

struct vms_desc;

struct vms_field {
    const char *name;
    enum vms_type type;
    size_t offset;
    uint32_t count;             /* array length (0 or 1: scalar); BUFFER: bytes;
                                   VARCOUNT: the maximum */
    size_t elem_size;           /* VMS_STRUCT: size of one element */
    const struct vms_desc *sub; /* VMS_STRUCT */
    size_t count_offset;        /* VARCOUNT: offset of the count field */
    enum vms_type count_type;   /* VARCOUNT: VMS_U8/U16/U32/I32 */
    int first_version;          /* field present from this version on */
    unsigned flags;
};

struct vms_desc {
    const char *name;
    int version;                /* what we save */
    int min_version;            /* oldest stream version we load */
    const struct vms_field *fields;             /* VMS_END-terminated */
    const struct vms_desc *const *subsections;  /* NULL-terminated, may be NULL */
    bool (*needed)(void *opaque);       /* subsection: save only if true */
    int (*pre_save)(void *opaque);
    /* After load; touches only its own device.  -errno rejects the stream. */
    int (*post_load)(void *opaque, int version);
};

/* Field helpers: state struct, field name (saved under that name).  *_V take
 * the first version. */
#define VMS_FIELD_(ty, st, f, n, v, fl) \
    { .name = #f, .type = ty, .offset = offsetof(st, f), .count = n, \
      .first_version = v, .flags = fl }
#define VMS_UINT8(st, f)        VMS_FIELD_(VMS_U8, st, f, 0, 0, 0)
#define VMS_UINT16(st, f)       VMS_FIELD_(VMS_U16, st, f, 0, 0, 0)
#define VMS_UINT32(st, f)       VMS_FIELD_(VMS_U32, st, f, 0, 0, 0)
#define VMS_UINT64(st, f)       VMS_FIELD_(VMS_U64, st, f, 0, 0, 0)
#define VMS_INT8(st, f)         VMS_FIELD_(VMS_I8, st, f, 0, 0, 0)
#define VMS_INT16(st, f)        VMS_FIELD_(VMS_I16, st, f, 0, 0, 0)
#define VMS_INT32(st, f)        VMS_FIELD_(VMS_I32, st, f, 0, 0, 0)
#define VMS_INT64(st, f)        VMS_FIELD_(VMS_I64, st, f, 0, 0, 0)
#define VMS_BOOL(st, f)         VMS_FIELD_(VMS_BOOL, st, f, 0, 0, 0)
#define VMS_UINT8_V(st, f, v)   VMS_FIELD_(VMS_U8, st, f, 0, v, 0)
#define VMS_UINT16_V(st, f, v)  VMS_FIELD_(VMS_U16, st, f, 0, v, 0)
#define VMS_UINT32_V(st, f, v)  VMS_FIELD_(VMS_U32, st, f, 0, v, 0)
#define VMS_UINT64_V(st, f, v)  VMS_FIELD_(VMS_U64, st, f, 0, v, 0)
#define VMS_INT32_V(st, f, v)   VMS_FIELD_(VMS_I32, st, f, 0, v, 0)
#define VMS_BOOL_V(st, f, v)    VMS_FIELD_(VMS_BOOL, st, f, 0, v, 0)
/* Fixed arrays: field is an array, n elements. */
#define VMS_UINT8_ARRAY(st, f, n)  VMS_FIELD_(VMS_U8, st, f, n, 0, 0)
#define VMS_UINT16_ARRAY(st, f, n) VMS_FIELD_(VMS_U16, st, f, n, 0, 0)
#define VMS_UINT32_ARRAY(st, f, n) VMS_FIELD_(VMS_U32, st, f, n, 0, 0)
#define VMS_UINT64_ARRAY(st, f, n) VMS_FIELD_(VMS_U64, st, f, n, 0, 0)
#define VMS_BOOL_ARRAY(st, f, n)   VMS_FIELD_(VMS_BOOL, st, f, n, 0, 0)
#define VMS_BUFFER(st, f)          VMS_FIELD_(VMS_BUFFER, st, f, sizeof(((st *)0)->f), 0, 0)
/* A buffer reached through a pointer field, n bytes. */
#define VMS_BUFFER_PTR(st, f, n)   VMS_FIELD_(VMS_BUFFER, st, f, n, 0, VMS_F_POINTER)
/* Variable-length arrays: count in field cf (of vms type ct), at most max. */
#define VMS_VARRAY_(ty, st, f, cf, ct, mx) \
    { .name = #f, .type = ty, .offset = offsetof(st, f), .count = mx, \
      .count_offset = offsetof(st, cf), .count_type = ct, .flags = VMS_F_VARCOUNT }
#define VMS_UINT8_VARRAY(st, f, cf, ct, mx)  VMS_VARRAY_(VMS_U8, st, f, cf, ct, mx)
#define VMS_UINT16_VARRAY(st, f, cf, ct, mx) VMS_VARRAY_(VMS_U16, st, f, cf, ct, mx)
#define VMS_UINT32_VARRAY(st, f, cf, ct, mx) VMS_VARRAY_(VMS_U32, st, f, cf, ct, mx)
#define VMS_UINT64_VARRAY(st, f, cf, ct, mx) VMS_VARRAY_(VMS_U64, st, f, cf, ct, mx)
/* Nested struct (type T, description d) and arrays of them. */
#define VMS_STRUCT(st, f, T, d) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f), .elem_size = sizeof(T), .sub = &(d) }
#define VMS_STRUCT_ARRAY(st, f, n, T, d) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f), .count = n, \
      .elem_size = sizeof(T), .sub = &(d) }
#define VMS_TIMER(st, f)        VMS_FIELD_(VMS_TIMER, st, f, 0, 0, 0)
#define VMS_END_OF_LIST         { .type = VMS_END }

/* A growable output buffer. */
struct vms_buf {
    uint8_t *data;
    size_t len, cap;
};
void vms_buf_free(struct vms_buf *b);
/* Append raw bytes / a big-endian integer of size bytes; -ENOMEM. */
int vms_buf_append(struct vms_buf *b, const void *data, size_t len);
int vms_buf_put_be(struct vms_buf *b, uint64_t v, unsigned size);

/* Append the state of opaque to out.  -errno from pre_save or ENOMEM. */
int vms_save(const struct vms_desc *d, void *opaque, struct vms_buf *out);
/* Load from buf[0..len); *used (may be NULL) gets the bytes consumed. */
int vms_load(const struct vms_desc *d, void *opaque, const uint8_t *buf, size_t len,
             size_t *used, struct dm_err *err);

/* Save a, load into b, save b, and compare the two streams.  0 if equal;
 * -EINVAL with a message naming the first differing field otherwise. */
int vms_check_roundtrip(const struct vms_desc *d, void *a, void *b, struct dm_err *err);

/* Check a description for mistakes (counts without maximum, missing sub, ...):
 * used by tests of every device. */
int vms_desc_validate(const struct vms_desc *d, struct dm_err *err);

#endif
