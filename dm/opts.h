/* QEMU-style option strings: "value0,key=value,key2=value2".  A comma inside a
 * value is written ",,".  The first item may be a bare value naming an implied
 * key ("socket,id=x" -> backend=socket).  Used by -device, -chardev and the CLI. */
#ifndef DM_OPTS_H
#define DM_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/log.h"

#define OPTS_MAX 64

struct opt {
    char *key;
    char *value;        /* NULL for a bare flag ("server" in "tcp:...,server") */
    bool used;          /* set by opts_get*; opts_check_unused reports the rest */
};

struct opts {
    unsigned n;
    struct opt items[OPTS_MAX];
};

/* Parse str.  implied_key names a bare first item (NULL: bare items are flags).
 * -EINVAL with a message on empty keys or too many items. */
int opts_parse(struct opts *o, const char *str, const char *implied_key, struct dm_err *err);
void opts_free(struct opts *o);

/* Last value of key (NULL if absent; "" for a bare flag); marks it used. */
const char *opts_get(struct opts *o, const char *key);
bool opts_has(struct opts *o, const char *key);
/* Booleans: on/off, yes/no, true/false, 1/0, a bare flag = on, or a bare
 * "noKEY" = off (QEMU's short form).  -EINVAL names key. */
int opts_get_bool(struct opts *o, const char *key, bool def, bool *out, struct dm_err *err);
int opts_get_u64(struct opts *o, const char *key, uint64_t def, uint64_t *out, struct dm_err *err);
/* -EINVAL "what: unknown option 'key'" for the first item nobody read. */
int opts_check_unused(struct opts *o, const char *what, struct dm_err *err);

/* Strict number parsing (decimal, 0x hex, 0 octal as strtoull with base 0; no
 * trailing garbage, no sign). */
int dm_parse_u64(const char *s, uint64_t *out);
/* Sizes with suffix k/M/G/T (binary) as in -m 512M; default unit is bytes. */
int dm_parse_size(const char *s, uint64_t *out);
int dm_parse_bool(const char *s, bool *out);

#endif
