/* Option strings: see dm/opts.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/opts.h"

/* Copy one item of str (up to an unescaped ',') into a fresh string with ",,"
 * turned into ','; *end gets where the item stopped. */
static char *take_item(const char *str, const char **end)
{
    size_t n = 0, cap = strlen(str) + 1;
    char *out = malloc(cap);
    const char *p = str;

    if (!out)
        return NULL;
    while (*p) {
        if (*p == ',') {
            if (p[1] != ',')
                break;
            p++;
        }
        out[n++] = *p++;
    }
    out[n] = 0;
    *end = p;
    return out;
}

int opts_parse(struct opts *o, const char *str, const char *implied_key, struct dm_err *err)
{
    const char *p = str;

    memset(o, 0, sizeof(*o));
    if (!*p) {
        dm_err_set(err, "empty option string");
        return -EINVAL;
    }
    for (;;) {
        const char *end;
        char *item = take_item(p, &end);
        char *eq;
        struct opt *opt;

        if (!item) {
            opts_free(o);
            dm_err_set(err, "out of memory");
            return -ENOMEM;
        }
        if (o->n == OPTS_MAX) {
            free(item);
            opts_free(o);
            dm_err_set(err, "too many options (at most %d)", OPTS_MAX);
            return -EINVAL;
        }
        opt = &o->items[o->n];
        eq = strchr(item, '=');
        if (eq) {
            *eq = 0;
            opt->key = item;
            opt->value = strdup(eq + 1);
            if (!opt->value) {
                free(item);
                opts_free(o);
                return -ENOMEM;
            }
        } else if (o->n == 0 && implied_key) {
            opt->key = strdup(implied_key);
            opt->value = item;
            if (!opt->key) {
                free(item);
                opts_free(o);
                return -ENOMEM;
            }
        } else {
            opt->key = item;
            opt->value = NULL;
        }
        o->n++;
        if (!*opt->key) {
            opts_free(o);
            dm_err_set(err, "option without a name in '%s'", str);
            return -EINVAL;
        }
        if (!*end)
            break;
        p = end + 1;
        if (!*p) {
            /* trailing comma: tolerated, as QEMU users write "a=b," */
            break;
        }
    }
    return 0;
}

void opts_free(struct opts *o)
{
    for (unsigned i = 0; i < o->n; i++) {
        free(o->items[i].key);
        free(o->items[i].value);
    }
    o->n = 0;
}

static struct opt *find(struct opts *o, const char *key)
{
    struct opt *found = NULL;

    /* the last occurrence wins, all are marked used */
    for (unsigned i = 0; i < o->n; i++) {
        if (!strcmp(o->items[i].key, key)) {
            o->items[i].used = true;
            found = &o->items[i];
        }
    }
    return found;
}

const char *opts_get(struct opts *o, const char *key)
{
    struct opt *opt = find(o, key);

    if (!opt)
        return NULL;
    return opt->value ? opt->value : "";
}

bool opts_has(struct opts *o, const char *key)
{
    for (unsigned i = 0; i < o->n; i++)
        if (!strcmp(o->items[i].key, key))
            return true;
    return false;
}

int opts_get_bool(struct opts *o, const char *key, bool def, bool *out, struct dm_err *err)
{
    struct opt *opt = find(o, key);

    if (!opt) {
        /* QEMU's short form: a bare "nokey" means key=off */
        char nokey[64];
        snprintf(nokey, sizeof(nokey), "no%s", key);
        opt = find(o, nokey);
        if (opt && !opt->value) {
            *out = false;
            return 0;
        }
        if (opt)
            opt->used = false;      /* "nokey=..." is some other option */
        *out = def;
        return 0;
    }
    if (!opt->value) {
        *out = true;
        return 0;
    }
    if (dm_parse_bool(opt->value, out) < 0) {
        dm_err_set(err, "option '%s': '%s' is not on/off", key, opt->value);
        return -EINVAL;
    }
    return 0;
}

int opts_get_u64(struct opts *o, const char *key, uint64_t def, uint64_t *out, struct dm_err *err)
{
    struct opt *opt = find(o, key);

    if (!opt) {
        *out = def;
        return 0;
    }
    if (!opt->value || dm_parse_u64(opt->value, out) < 0) {
        dm_err_set(err, "option '%s': '%s' is not a number", key, opt->value ? opt->value : "");
        return -EINVAL;
    }
    return 0;
}

int opts_check_unused(struct opts *o, const char *what, struct dm_err *err)
{
    for (unsigned i = 0; i < o->n; i++) {
        if (!o->items[i].used) {
            dm_err_set(err, "%s: unknown option '%s'", what, o->items[i].key);
            return -EINVAL;
        }
    }
    return 0;
}

int dm_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

int dm_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': shift = 0; end++; break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -EINVAL;
    }
    if (*end)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = (uint64_t)v << shift;
    return 0;
}

int dm_parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1")) {
        *out = true;
        return 0;
    }
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0")) {
        *out = false;
        return 0;
    }
    return -EINVAL;
}
