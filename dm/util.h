/* Small helpers shared by the device-model core and everything above it. */
#ifndef DM_UTIL_H
#define DM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The structure that embeds MEMBER, given a pointer to that member. */
#define DM_CONTAINER_OF(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define DM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Size of FIELD in struct TYPE. */
#define DM_SIZEOF_FIELD(type, field) (sizeof(((type *)0)->field))

#endif
