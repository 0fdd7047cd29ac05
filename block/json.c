/* A tiny JSON writer for format-specific info (qemu-img's layout: 4-space
 * indent, "key": value). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/block.h"

struct blk_json {
    char *buf;
    size_t len, cap;
    int depth;
    bool first;                         /* nothing written yet at this depth */
};

static void put(blk_json *j, const char *s, size_t n)
{
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 256;
        while (cap < j->len + n + 1) {
            cap *= 2;
        }
        char *b = realloc(j->buf, cap);
        if (!b) {
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = 0;
}

static void puts_(blk_json *j, const char *s)
{
    put(j, s, strlen(s));
}

static void put_string(blk_json *j, const char *s)
{
    puts_(j, "\"");
    for (; *s; s++) {
        char esc[8];
        unsigned char c = *s;
        if (c == '"' || c == '\\') {
            snprintf(esc, sizeof(esc), "\\%c", c);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
        } else {
            esc[0] = c;
            esc[1] = 0;
        }
        puts_(j, esc);
    }
    puts_(j, "\"");
}

static void member(blk_json *j, const char *key)
{
    if (j->depth > 0) {
        puts_(j, j->first ? "\n" : ",\n");
        for (int i = 0; i < j->depth; i++) {
            puts_(j, "    ");
        }
    }
    j->first = false;
    if (key) {
        put_string(j, key);
        puts_(j, ": ");
    }
}

blk_json *blk_json_new(void)
{
    blk_json *j = calloc(1, sizeof(*j));
    j->first = true;
    puts_(j, "");
    return j;
}

void blk_json_free(blk_json *j)
{
    if (j) {
        free(j->buf);
        free(j);
    }
}

static void open_(blk_json *j, const char *key, const char *c)
{
    member(j, key);
    puts_(j, c);
    j->depth++;
    j->first = true;
}

static void close_(blk_json *j, const char *c)
{
    j->depth--;
    if (!j->first) {
        puts_(j, "\n");
        for (int i = 0; i < j->depth; i++) {
            puts_(j, "    ");
        }
    }
    puts_(j, c);
    j->first = false;
}

void blk_json_obj_begin(blk_json *j, const char *key) { open_(j, key, "{"); }
void blk_json_obj_end(blk_json *j) { close_(j, "}"); }
void blk_json_arr_begin(blk_json *j, const char *key) { open_(j, key, "["); }
void blk_json_arr_end(blk_json *j) { close_(j, "]"); }

void blk_json_str(blk_json *j, const char *key, const char *val)
{
    member(j, key);
    put_string(j, val);
}

void blk_json_int(blk_json *j, const char *key, int64_t val)
{
    char b[32];
    member(j, key);
    snprintf(b, sizeof(b), "%" PRId64, val);
    puts_(j, b);
}

void blk_json_uint(blk_json *j, const char *key, uint64_t val)
{
    char b[32];
    member(j, key);
    snprintf(b, sizeof(b), "%" PRIu64, val);
    puts_(j, b);
}

void blk_json_bool(blk_json *j, const char *key, bool val)
{
    member(j, key);
    puts_(j, val ? "true" : "false");
}

const char *blk_json_text(blk_json *j)
{
    return j->buf ? j->buf : "";
}
