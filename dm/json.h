/* JSON (RFC 8259) for QMP: a bounded parser into a small value tree, a writer
 * into a growing buffer, and a splitter that cuts a byte stream into top-level
 * values.  Input is untrusted (anyone on the QMP socket): nesting depth, sizes and
 * escapes are checked, and every failure is an error message, never an abort. */
#ifndef DM_JSON_H
#define DM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/log.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_TEXT (1u << 20)    /* one QMP message; longer ones are refused */

enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_INT,       /* a number without fraction or exponent that fits int64 */
    JSON_DOUBLE,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

struct json_value {
    enum json_type type;
    bool b;
    int64_t i;
    double d;
    char *s;                    /* STRING: NUL-terminated UTF-8 (no NULs inside) */
    size_t n;                   /* ARRAY/OBJECT: number of items */
    struct json_value **items;  /* ARRAY/OBJECT values */
    char **keys;                /* OBJECT keys */
};

/* Parse exactly one value (surrounding whitespace allowed).  NULL with a message
 * in err on a syntax error, too deep nesting or a too long text. */
struct json_value *json_parse(const char *text, size_t len, struct dm_err *err);
void json_free(struct json_value *v);

/* OBJECT member by key (the last one if repeated), or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* Member of the given type, or NULL. */
const char *json_get_string(const struct json_value *obj, const char *key);

/* ---- writer ----------------------------------------------------------------- */

struct json_buf {
    char *data;     /* NUL-terminated */
    size_t len;
    size_t cap;
};

void json_buf_free(struct json_buf *b);
void json_buf_reset(struct json_buf *b);
void json_buf_append(struct json_buf *b, const char *s, size_t len);
void json_buf_printf(struct json_buf *b, const char *fmt, ...) DM_PRINTF(2, 3);
/* A string literal with quotes and escapes (control characters as \u00XX). */
void json_buf_string(struct json_buf *b, const char *s);
/* A whole value, compact form. */
void json_buf_value(struct json_buf *b, const struct json_value *v);

/* ---- stream splitter -------------------------------------------------------- */

/* Feeds bytes and calls out once per complete top-level value (object, array or
 * scalar separated by whitespace) with its text.  A value longer than
 * JSON_MAX_TEXT or with nesting deeper than JSON_MAX_DEPTH is given to out as an
 * error (text NULL, err set) and skipped up to the end of its nesting. */
struct json_splitter {
    struct json_buf buf;
    int depth;
    bool in_string, escape, overflow;
    void (*out)(void *opaque, const char *text, size_t len, const char *err);
    void *opaque;
};

void json_splitter_init(struct json_splitter *s,
                        void (*out)(void *opaque, const char *text, size_t len,
                                    const char *err),
                        void *opaque);
void json_splitter_feed(struct json_splitter *s, const uint8_t *data, size_t len);
void json_splitter_reset(struct json_splitter *s);
void json_splitter_free(struct json_splitter *s);

#endif
