/* JSON parser, writer and stream splitter (RFC 8259).  See json.h. */
#include "dm/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *start, *p, *end;
    struct dm_err *err;
    bool failed;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();        /* host out of memory: nothing sensible left to do */
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static void perr(struct parser *ps, const char *what)
{
    if (!ps->failed)
        dm_err_set(ps->err, "JSON parse error at offset %zu: %s",
                   (size_t)(ps->p - ps->start), what);
    ps->failed = true;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n'
                               || *ps->p == '\r'))
        ps->p++;
}

static struct json_value *new_value(enum json_type t)
{
    struct json_value *v = xcalloc(1, sizeof(*v));
    v->type = t;
    return v;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static void put_utf8(struct json_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = 0xc0 | cp >> 6, u[1] = 0x80 | (cp & 0x3f), n = 2;
    } else if (cp < 0x10000) {
        u[0] = 0xe0 | cp >> 12, u[1] = 0x80 | ((cp >> 6) & 0x3f);
        u[2] = 0x80 | (cp & 0x3f), n = 3;
    } else {
        u[0] = 0xf0 | cp >> 18, u[1] = 0x80 | ((cp >> 12) & 0x3f);
        u[2] = 0x80 | ((cp >> 6) & 0x3f), u[3] = 0x80 | (cp & 0x3f), n = 4;
    }
    json_buf_append(b, u, n);
}

/* RFC 8259, 7 "Strings".  ps->p is at the opening quote. */
static char *parse_string(struct parser *ps)
{
    struct json_buf b = { 0 };
    ps->p++;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = *ps->p++;
        if (c < 0x20) {
            perr(ps, "control character in string");
            goto fail;
        }
        if (c != '\\') {
            json_buf_append(&b, (const char *)&c, 1);
            continue;
        }
        if (ps->p >= ps->end)
            break;
        char e = *ps->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            json_buf_append(&b, &map[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        if (e != 'u' || ps->end - ps->p < 4 || hex4(ps->p) < 0) {
            perr(ps, "bad escape in string");
            goto fail;
        }
        uint32_t cp = hex4(ps->p);
        ps->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {          /* high surrogate: need a low one */
            int lo = ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u'
                     ? hex4(ps->p + 2) : -1;
            if (lo < 0xdc00 || lo > 0xdfff) {
                perr(ps, "unpaired surrogate in string");
                goto fail;
            }
            ps->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            perr(ps, "unpaired surrogate in string");
            goto fail;
        }
        if (cp == 0) {
            perr(ps, "\\u0000 in string");
            goto fail;
        }
        put_utf8(&b, cp);
    }
    if (ps->p >= ps->end) {
        perr(ps, "unterminated string");
        goto fail;
    }
    ps->p++;
    if (!b.data)
        json_buf_append(&b, "", 0);
    return b.data;
fail:
    json_buf_free(&b);
    return NULL;
}

/* RFC 8259, 6 "Numbers" */
static struct json_value *parse_number(struct parser *ps)
{
    const char *s = ps->p, *p = s;
    bool integer = true;
    if (p < ps->end && *p == '-')
        p++;
    if (p < ps->end && *p == '0')
        p++;
    else if (p < ps->end && *p >= '1' && *p <= '9')
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    else
        goto bad;
    if (p < ps->end && *p == '.') {
        integer = false;
        if (++p >= ps->end || *p < '0' || *p > '9')
            goto bad;
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            goto bad;
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    char tmp[64];
    if ((size_t)(p - s) >= sizeof(tmp)) {
        perr(ps, "number too long");
        return NULL;
    }
    memcpy(tmp, s, p - s);
    tmp[p - s] = 0;
    ps->p = p;
    struct json_value *v;
    if (integer) {
        errno = 0;
        long long i = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            v = new_value(JSON_INT);
            v->i = i;
            v->d = i;
            return v;
        }
    }
    v = new_value(JSON_DOUBLE);
    v->d = strtod(tmp, NULL);
    return v;
bad:
    perr(ps, "bad number");
    return NULL;
}

static struct json_value *parse_value(struct parser *ps, int depth);

static struct json_value *parse_container(struct parser *ps, int depth, bool object)
{
    struct json_value *v = new_value(object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';
    size_t cap = 0;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                perr(ps, "expected a member name");
                goto fail;
            }
            if (!(key = parse_string(ps)))
                goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                perr(ps, "expected ':'");
                goto fail;
            }
            ps->p++;
        }
        struct json_value *item = parse_value(ps, depth + 1);
        if (!item) {
            free(key);
            goto fail;
        }
        if (v->n == cap) {
            cap = cap ? 2 * cap : 4;
            v->items = xrealloc(v->items, cap * sizeof(*v->items));
            if (object)
                v->keys = xrealloc(v->keys, cap * sizeof(*v->keys));
        }
        if (object)
            v->keys[v->n] = key;
        v->items[v->n++] = item;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }
fail:
    json_free(v);
    return NULL;
}

static bool literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

static struct json_value *parse_value(struct parser *ps, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        perr(ps, "nesting too deep");
        return NULL;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        perr(ps, "unexpected end of text");
        return NULL;
    }
    struct json_value *v;
    switch (*ps->p) {
    case '{':
        return parse_container(ps, depth, true);
    case '[':
        return parse_container(ps, depth, false);
    case '"': {
        char *s = parse_string(ps);
        if (!s)
            return NULL;
        v = new_value(JSON_STRING);
        v->s = s;
        return v;
    }
    case 't':
    case 'f':
        if (literal(ps, "true") || literal(ps, "false")) {
            v = new_value(JSON_BOOL);
            v->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
            return v;
        }
        break;
    case 'n':
        if (literal(ps, "null"))
            return new_value(JSON_NULL);
        break;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
    }
    perr(ps, "unexpected character");
    return NULL;
}

struct json_value *json_parse(const char *text, size_t len, struct dm_err *err)
{
    if (len > JSON_MAX_TEXT) {
        dm_err_set(err, "JSON text of %zu bytes is too long", len);
        return NULL;
    }
    struct parser ps = { text, text, text + len, err, false };
    struct json_value *v = parse_value(&ps, 0);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        perr(&ps, "trailing characters after the value");
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(struct json_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = obj->n; i-- > 0;)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const char *json_get_string(const struct json_value *obj, const char *key)
{
    const struct json_value *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->s : NULL;
}

/* ---- writer ----------------------------------------------------------------- */

void json_buf_free(struct json_buf *b)
{
    free(b->data);
    *b = (struct json_buf){ 0 };
}

void json_buf_reset(struct json_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void json_buf_append(struct json_buf *b, const char *s, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = 0;
}

void json_buf_printf(struct json_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        json_buf_append(b, small, n);
        return;
    }
    char *big = xcalloc(n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(big, n + 1, fmt, ap);
    va_end(ap);
    json_buf_append(b, big, n);
    free(big);
}

void json_buf_string(struct json_buf *b, const char *s)
{
    json_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': json_buf_append(b, "\\\"", 2); break;
        case '\\': json_buf_append(b, "\\\\", 2); break;
        case '\n': json_buf_append(b, "\\n", 2); break;
        case '\r': json_buf_append(b, "\\r", 2); break;
        case '\t': json_buf_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                json_buf_printf(b, "\\u%04x", *p);
            else
                json_buf_append(b, (const char *)p, 1);
        }
    }
    json_buf_append(b, "\"", 1);
}

void json_buf_value(struct json_buf *b, const struct json_value *v)
{
    switch (v->type) {
    case JSON_NULL: json_buf_append(b, "null", 4); break;
    case JSON_BOOL: json_buf_printf(b, "%s", v->b ? "true" : "false"); break;
    case JSON_INT: json_buf_printf(b, "%lld", (long long)v->i); break;
    case JSON_DOUBLE: json_buf_printf(b, "%.17g", v->d); break;
    case JSON_STRING: json_buf_string(b, v->s); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        json_buf_append(b, v->type == JSON_OBJECT ? "{" : "[", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                json_buf_append(b, ", ", 2);
            if (v->type == JSON_OBJECT) {
                json_buf_string(b, v->keys[i]);
                json_buf_append(b, ": ", 2);
            }
            json_buf_value(b, v->items[i]);
        }
        json_buf_append(b, v->type == JSON_OBJECT ? "}" : "]", 1);
        break;
    }
}

/* ---- splitter --------------------------------------------------------------- */

void json_splitter_init(struct json_splitter *s,
                        void (*out)(void *opaque, const char *text, size_t len,
                                    const char *err),
                        void *opaque)
{
    *s = (struct json_splitter){ .out = out, .opaque = opaque };
}

void json_splitter_reset(struct json_splitter *s)
{
    json_buf_reset(&s->buf);
    s->depth = 0;
    s->in_string = s->escape = s->overflow = false;
}

void json_splitter_free(struct json_splitter *s)
{
    json_buf_free(&s->buf);
}

static void emit(struct json_splitter *s)
{
    if (s->overflow)
        s->out(s->opaque, NULL, 0, "JSON message too long or nested too deeply");
    else
        s->out(s->opaque, s->buf.data, s->buf.len, NULL);
    json_splitter_reset(s);
}

static void keep(struct json_splitter *s, char c)
{
    if (s->buf.len >= JSON_MAX_TEXT)
        s->overflow = true;
    else
        json_buf_append(&s->buf, &c, 1);
}

/* A top-level value is an object or array (QMP messages); anything else at the
 * top level is collected up to the end of its line and handed on, so that the
 * reader reports it as an error. */
void json_splitter_feed(struct json_splitter *s, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (s->depth == 0) {
            bool junk = s->buf.len > 0;
            if (!junk && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
                continue;
            if (!junk && (c == '{' || c == '[')) {
                keep(s, c);
                s->depth = 1;
                continue;
            }
            if (c == '\n')
                emit(s);
            else
                keep(s, c);
            continue;
        }
        keep(s, c);
        if (s->in_string) {
            if (s->escape)
                s->escape = false;
            else if (c == '\\')
                s->escape = true;
            else if (c == '"')
                s->in_string = false;
            continue;
        }
        if (c == '"') {
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            if (++s->depth > JSON_MAX_DEPTH)
                s->overflow = true;
        } else if (c == '}' || c == ']') {
            if (--s->depth == 0)
                emit(s);
        }
    }
}
