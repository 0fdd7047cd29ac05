/* vireo-img: create, info, check, map, snapshot, resize, measure, amend, and
 * the dispatch to the data commands in copy.c.
 *
 * Read-only commands open images without locks (qemu-img's -U behaviour by
 * default): looking at a disk a guest is using is never refused.  Commands that
 * write take the QEMU-compatible locks and fail with the holder's name. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "standalone/img/img.h"

/* ---- shared helpers ------------------------------------------------------------------ */

void img_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vireo-img: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

int img_fail(char *err, const char *what)
{
    img_error("%s", err ? err : what);
    free(err);
    return 1;
}

int img_parse_opts(const char *s, blk_kv **kv, int *n)
{
    char *copy = strdup(s), *p = copy;
    while (*p) {
        char *item = p, *w = p;
        /* ",," is a literal comma */
        while (*p && !(*p == ',' && p[1] != ',')) {
            if (*p == ',' && p[1] == ',') {
                p++;
            }
            *w++ = *p++;
        }
        if (*p == ',') {
            p++;
        }
        *w = 0;
        if (!*item) {
            continue;
        }
        char *eq = strchr(item, '=');
        *kv = realloc(*kv, (*n + 1) * sizeof(**kv));
        (*kv)[*n].key = strndup(item, eq ? (size_t)(eq - item) : strlen(item));
        (*kv)[*n].val = strdup(eq ? eq + 1 : "on");
        (*n)++;
        if (!strcmp((*kv)[*n - 1].key, "help")) {
            free(copy);
            return 1;
        }
    }
    free(copy);
    return 0;
}

void img_free_opts(blk_kv *kv, int n)
{
    for (int i = 0; i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].val);
    }
    free(kv);
}

int img_parse_cache(const char *s, enum blk_cache *c)
{
    if (!strcmp(s, "writeback")) {
        *c = BLK_CACHE_WRITEBACK;
    } else if (!strcmp(s, "none")) {
        *c = BLK_CACHE_NONE;
    } else if (!strcmp(s, "unsafe")) {
        *c = BLK_CACHE_UNSAFE;
    } else if (!strcmp(s, "directsync")) {
        *c = BLK_CACHE_DIRECTSYNC;
    } else if (!strcmp(s, "writethrough")) {
        *c = BLK_CACHE_WRITEBACK;
    } else {
        img_error("Invalid cache option: %s", s);
        return -1;
    }
    return 0;
}

blk *img_open(const char *file, const char *fmt, unsigned flags, enum blk_cache cache)
{
    blk_open_opts o = { .flags = flags, .cache = cache, .format = fmt };
    char *err = NULL;
    blk *bs = blk_open(file, &o, &err);
    if (!bs) {
        img_fail(err, "cannot open image");
    } else if (!fmt && (flags & BLK_O_RDWR) && !strcmp(bs->drv->name, "raw")) {
        /* qemu-img's first line, word for word: scripts look for it */
        fprintf(stderr, "WARNING: Image format was not specified for '%s' and probing "
                "guessed raw.\n         Automatically detecting the format is dangerous "
                "for raw images.\n         Specify the 'raw' format explicitly.\n", file);
    }
    return bs;
}

bool img_is_zero(const uint8_t *p, size_t n)
{
    const uint64_t *q = (const uint64_t *)p;
    size_t i = 0;
    if (((uintptr_t)p & 7) == 0) {
        for (; i + 8 <= n; i += 8) {
            if (q[i / 8]) {
                return false;
            }
        }
    }
    for (; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

int img_progress_mode(const char *s)
{
    if (!s || !strcmp(s, "human")) {
        return 1;
    }
    if (!strcmp(s, "json")) {
        return 2;
    }
    img_error("--progress must be 'human' or 'json', not '%s'", s);
    return -1;
}

void img_progress(struct img_progress *p, uint64_t done, uint64_t total)
{
    if (!p->mode) {
        return;
    }
    double pct = total ? 100.0 * (double)done / (double)total : 100.0;
    if (pct < 100.0 && pct - p->last < 1.0 && done) {
        return;
    }
    p->last = pct;
    if (p->mode == 1) {
        printf("    (%.2f/100%%)%s", pct, pct >= 100.0 ? "\n" : "\r");
    } else {
        printf("{\"done\": %" PRIu64 ", \"total\": %" PRIu64 ", \"percent\": %.2f}\n",
               done, total, pct);
    }
    fflush(stdout);
}

/* qemu-img's human sizes: the largest binary unit in which the value is at
 * least 1000/1024, three significant digits. */
static void size_str(uint64_t v, char *buf, size_t n)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    double d = (double)v;
    while (u < 6 && d * 1.024 >= 1024.0) {
        d /= 1024.0;
        u++;
    }
    snprintf(buf, n, "%0.3g %s", d, units[u]);
}

static void usage(void)
{
    printf("usage: vireo-img COMMAND [options]\n"
           "commands: amend bench check commit compare convert create dd info map measure\n"
           "          rebase resize snapshot\n"
           "Options and output follow qemu-img's; see docs/block.md.\n");
}

/* ---- create --------------------------------------------------------------------------- */

/* The "Formatting" line lists options in qemu-img's order for the format, with
 * its defaults ("key=value") where the user gave none, sizes in bytes. */
static const struct {
    const char *fmt;
    const char *keys[13];
} create_order[] = {
    { "qcow2", { "cluster_size=65536", "extended_l2=off", "preallocation",
                 "compression_type=zlib", "size", "compat", "backing_file", "backing_fmt",
                 "data_file", "lazy_refcounts=off", "refcount_bits=16" } },
    { "raw", { "size", "preallocation" } },
    { "vmdk", { "size", "adapter_type", "backing_file", "compat6=off", "hwversion=undefined",
                "subformat", "toolsversion", "zeroed_grain" } },
    { "vpc", { "size", "subformat", "force_size" } },
    { "vdi", { "size", "static=off" } },
};

static void print_formatting(const char *file, const char *fmt, uint64_t size,
                             const blk_kv *o, int n)
{
    printf("Formatting '%s', fmt=%s", file, fmt);
    size_t f = 0;
    while (f < sizeof(create_order) / sizeof(create_order[0]) && strcmp(create_order[f].fmt, fmt)) {
        f++;
    }
    if (f == sizeof(create_order) / sizeof(create_order[0])) {
        for (int i = 0; i < n; i++) {
            printf(" %s=%s", o[i].key, o[i].val);
        }
        printf(" size=%" PRIu64 "\n", size);
        return;
    }
    for (const char *const *k = create_order[f].keys; *k; k++) {
        const char *eq = strchr(*k, '=');
        size_t kl = eq ? (size_t)(eq - *k) : strlen(*k);
        if (!strncmp(*k, "size", kl) && kl == 4) {
            printf(" size=%" PRIu64, size);
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        for (int i = 0; i < n; i++) {
            if (strlen(o[i].key) == kl && !strncmp(o[i].key, *k, kl)) {
                v = o[i].val;
            }
        }
        if (!v) {
            continue;
        }
        int64_t bytes = strcmp(*k, "cluster_size=65536") ? -1 : blk_parse_size(v);
        if (bytes >= 0) {
            printf(" %.*s=%" PRId64, (int)kl, *k, bytes);
        } else {
            printf(" %.*s=%s", (int)kl, *k, v);
        }
    }
    printf("\n");
}

static int img_create(int argc, char **argv)
{
    const char *fmt = "raw", *backing = NULL, *bfmt = NULL;
    bool quiet = false, unsafe = false;
    blk_kv *kv = NULL;
    int nkv = 0, c;
    while ((c = getopt(argc, argv, "+f:b:F:o:quh")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'q': quiet = true; break;
        case 'u': unsafe = true; break;
        case 'o':
            if (img_parse_opts(optarg, &kv, &nkv) > 0) {
                const blk_driver *d = blk_find_driver(fmt);
                printf("Supported options:\n");
                for (const blk_opt_desc *o = d ? d->create_opts : NULL; o && o->key; o++) {
                    printf("  %-24s - %s\n", o->key, o->help);
                }
                img_free_opts(kv, nkv);
                return 0;
            }
            break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        img_error("Expecting image file name");
        return 1;
    }
    const char *file = argv[optind];
    const char *size_s = optind + 1 < argc ? argv[optind + 1] : blk_kv_get(kv, nkv, "size");
    if (optind + 2 < argc) {
        img_error("Unexpected argument: %s", argv[optind + 2]);
        return 1;
    }
    if (!backing) {
        backing = blk_kv_get(kv, nkv, "backing_file");
    }
    if (!bfmt) {
        bfmt = blk_kv_get(kv, nkv, "backing_fmt");
    }
    int64_t size = -1;
    if (size_s) {
        size = blk_parse_size(size_s);
        if (size < 0) {
            img_error("Invalid image size specified. You may use k, M, G, T, P or E suffixes "
                      "for");
            img_error("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            return 1;
        }
    }
    char *probed_fmt = NULL;
    if (backing && (size < 0 || !bfmt)) {
        /* the backing file gives the size and, if not named, its format */
        const char *slash = strrchr(file, '/');
        char *path = backing[0] == '/' || !slash
                         ? strdup(backing)
                         : blk_strdup_printf("%.*s/%s", (int)(slash - file), file, backing);
        blk_open_opts bo = { .flags = BLK_O_NO_LOCK | BLK_O_NO_BACKING, .format = bfmt };
        char *err = NULL;
        blk *b = blk_open(path, &bo, &err);
        free(path);
        if (!b && !unsafe) {
            img_error("%s: %s\nCould not open backing image.", file,
                      err ? err : "cannot open the backing file");
            free(err);
            img_free_opts(kv, nkv);
            return 1;
        }
        free(err);
        if (b) {
            if (size < 0) {
                size = (int64_t)blk_size(b);
            }
            if (!bfmt) {
                bfmt = probed_fmt = strdup(b->drv->name);
            }
            blk_close(b);
        }
    }
    if (size < 0) {
        img_error("%s: Image creation needs a size parameter", file);
        img_free_opts(kv, nkv);
        return 1;
    }
    /* the options the driver sees: -o ones minus size, plus -b/-F */
    blk_kv *o = calloc(nkv + 3, sizeof(*o));
    int no = 0;
    for (int i = 0; i < nkv; i++) {
        if (strcmp(kv[i].key, "size") && strcmp(kv[i].key, "backing_file") &&
            strcmp(kv[i].key, "backing_fmt")) {
            o[no++] = kv[i];
        }
    }
    if (backing) {
        o[no++] = (blk_kv){ "backing_file", backing };
        if (bfmt) {
            o[no++] = (blk_kv){ "backing_fmt", bfmt };
        }
    }
    /* as qemu-img: unknown formats and options are refused before the
     * "Formatting" line, other errors after it; messages name the file */
    const blk_driver *drv = blk_find_driver(fmt);
    const char *bad = NULL;
    for (int i = 0; drv && i < no && !bad; i++) {
        bool known = false;
        for (const blk_opt_desc *d = drv->create_opts; d && d->key; d++) {
            known |= !strcmp(d->key, o[i].key);
        }
        bad = known ? NULL : o[i].key;
    }
    static const char *const bools[] = { "lazy_refcounts", "extended_l2", "compat6",
                                         "force_size", "static", "zeroed_grain", NULL };
    for (int i = 0; drv && i < no && !bad; i++) {
        for (const char *const *b = bools; *b; b++) {
            if (!strcmp(o[i].key, *b) && strcmp(o[i].val, "on") && strcmp(o[i].val, "off")) {
                img_error("%s: Parameter '%s' expects 'on' or 'off'", file, *b);
                bad = "";
            }
        }
    }
    int r = -1;
    char *err = NULL;
    if (bad && !*bad) {
        /* reported above */
    } else if (!drv) {
        img_error("%s: Unknown file format '%s'", file, fmt);
    } else if (bad) {
        img_error("%s: Invalid parameter '%s'", file, bad);
    } else {
        if (!quiet) {
            print_formatting(file, fmt, (uint64_t)size, o, no);
        }
        r = blk_create(fmt, file, (uint64_t)size, o, no, &err);
        if (r < 0) {
            img_error("%s: %s", file, err ? err : "image creation failed");
            free(err);
        }
    }
    free(o);
    free(probed_fmt);
    img_free_opts(kv, nkv);
    return r < 0 ? 1 : 0;
}

/* ---- info ------------------------------------------------------------------------------ */

static void snapshot_table(blk_snapshot *l, int n)
{
    printf("ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\n");
    for (int i = 0; i < n; i++) {
        char vs[32], date[32], clk[32], ic[32] = "";
        size_str(l[i].vm_state_size, vs, sizeof(vs));
        time_t t = l[i].date_sec;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t ms = l[i].vm_clock_nsec / 1000000;
        snprintf(clk, sizeof(clk), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
                 ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
        if (l[i].icount != ~0ull) {
            snprintf(ic, sizeof(ic), "%" PRIu64, l[i].icount);
        }
        printf("%-9s %-17s %7s%20s%13s%11s\n", l[i].id, l[i].name, vs, date, clk, ic);
    }
}

static void snapshots_json(blk_json *j, blk_snapshot *l, int n)
{
    for (int i = 0; i < n; i++) {
        blk_json_obj_begin(j, NULL);
        if (l[i].icount != ~0ull) {
            blk_json_uint(j, "icount", l[i].icount);
        }
        blk_json_uint(j, "vm-clock-nsec", l[i].vm_clock_nsec % 1000000000);
        blk_json_str(j, "name", l[i].name);
        blk_json_uint(j, "date-sec", l[i].date_sec);
        blk_json_uint(j, "date-nsec", l[i].date_nsec);
        blk_json_uint(j, "vm-clock-sec", l[i].vm_clock_nsec / 1000000000);
        blk_json_str(j, "id", l[i].id);
        blk_json_uint(j, "vm-state-size", l[i].vm_state_size);
        blk_json_obj_end(j);
    }
}

/* Print the human form of the format-specific JSON: "key: value" indented,
 * dashes turned to spaces, as qemu-img does. */
static void human_specific(const char *json)
{
    const char *p = strstr(json, "\"data\"");
    if (!p) {
        return;
    }
    printf("Format specific information:\n");
    p = strchr(p, '{');
    int depth = 0;
    /* per depth: inside an array, and the index of its next element */
    bool in_arr[16] = { false };
    int idx[16] = { 0 };
    for (; p && *p; p++) {
        if (*p == '{' || *p == '[') {
            if (depth > 0 && depth < 16 && in_arr[depth] && *p == '{') {
                /* an array element: "[i]:" at the array's indentation */
                printf("%*s[%d]:\n", depth * 4, "", idx[depth]++);
            }
            depth++;
            if (depth < 16) {
                in_arr[depth] = *p == '[';
                idx[depth] = 0;
            }
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0) {
                break;
            }
        } else if (*p == '"') {
            const char *k = p + 1, *ke = strchr(k, '"');
            if (!ke) {
                break;
            }
            const char *v = ke + 1;
            while (*v == ':' || *v == ' ') {
                v++;
            }
            if (*v == '{' || *v == '[') {
                printf("%*s%.*s:\n", depth * 4, "", (int)(ke - k), k);
                p = v - 1;
                continue;
            }
            const char *ve = v;
            if (*v == '"') {
                ve = strchr(v + 1, '"');
                v++;
            } else {
                while (*ve && *ve != ',' && *ve != '\n' && *ve != '}') {
                    ve++;
                }
            }
            printf("%*s", depth * 4, "");
            for (const char *q = k; q < ke; q++) {
                putchar(*q == '-' ? ' ' : *q);
            }
            printf(": %.*s\n", (int)(ve - v), v);
            p = *ve == '"' ? ve : ve - 1;
        }
    }
}

static void info_one(blk *bs, bool json, blk_json *j)
{
    blk_info in;
    blk_get_info(bs, &in);
    blk_snapshot *snaps;
    int ns = blk_snapshot_list(bs, &snaps);
    blk_json *fs = blk_json_new();
    blk_json_obj_begin(fs, NULL);
    bool has_fs = blk_format_specific(bs, fs);
    blk_json_obj_end(fs);
    if (json) {
        blk_json_obj_begin(j, NULL);
        if (in.backing_file && in.backing_format) {
            blk_json_str(j, "backing-filename-format", in.backing_format);
        }
        if (ns > 0) {
            blk_json_arr_begin(j, "snapshots");
            snapshots_json(j, snaps, ns);
            blk_json_arr_end(j);
        }
        blk_json_uint(j, "virtual-size", in.virtual_size);
        blk_json_str(j, "filename", bs->filename);
        if (in.cluster_size) {
            blk_json_uint(j, "cluster-size", in.cluster_size);
        }
        blk_json_str(j, "format", in.format);
        if (in.actual_size >= 0) {
            blk_json_int(j, "actual-size", in.actual_size);
        }
        if (has_fs) {
            blk_json_obj_begin(j, "format-specific");
            blk_format_specific(bs, j);
            blk_json_obj_end(j);
        }
        if (in.backing_file) {
            blk_json_str(j, "full-backing-filename",
                         bs->backing_path ? bs->backing_path : in.backing_file);
            blk_json_str(j, "backing-filename", in.backing_file);
        }
        blk_json_bool(j, "dirty-flag", in.dirty);
        blk_json_obj_end(j);
    } else {
        char vs[32], ds[32];
        size_str(in.virtual_size, vs, sizeof(vs));
        printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\n",
               bs->filename, in.format, vs, in.virtual_size);
        if (in.actual_size >= 0) {
            size_str((uint64_t)in.actual_size, ds, sizeof(ds));
            printf("disk size: %s\n", ds);
        } else {
            printf("disk size: unavailable\n");
        }
        if (in.cluster_size) {
            printf("cluster_size: %u\n", in.cluster_size);
        }
        if (in.backing_file) {
            printf("backing file: %s", in.backing_file);
            if (bs->backing_path && strcmp(bs->backing_path, in.backing_file)) {
                printf(" (actual path: %s)", bs->backing_path);
            }
            printf("\n");
            if (in.backing_format) {
                printf("backing file format: %s\n", in.backing_format);
            }
        }
        if (in.dirty) {
            printf("cleanly shut down: no\n");
        }
        if (ns > 0) {
            printf("Snapshot list:\n");
            snapshot_table(snaps, ns);
        }
        if (has_fs) {
            human_specific(blk_json_text(fs));
        }
    }
    blk_json_free(fs);
    blk_snapshot_list_free(snaps, ns > 0 ? ns : 0);
}

static int img_info(int argc, char **argv)
{
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "backing-chain", no_argument, NULL, 'B' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool json = false, chain = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:hU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case 'B': chain = true; break;
        case 'O':
            if (!strcmp(optarg, "json")) {
                json = true;
            } else if (strcmp(optarg, "human")) {
                img_error("--output must be used with human or json as argument.");
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_error("Expecting one image file name");
        return 1;
    }
    blk *bs = img_open(argv[optind], fmt, BLK_O_NO_LOCK | (chain ? 0 : 0), 0);
    if (!bs) {
        return 1;
    }
    blk_json *j = blk_json_new();
    if (chain && json) {
        blk_json_arr_begin(j, NULL);
    }
    for (blk *b = bs; b; b = chain ? b->backing : NULL) {
        if (!json && b != bs) {
            printf("\n");
        }
        info_one(b, json, j);
    }
    if (chain && json) {
        blk_json_arr_end(j);
    }
    if (json) {
        printf("%s\n", blk_json_text(j));
    }
    blk_json_free(j);
    blk_close(bs);
    return 0;
}

/* ---- check ------------------------------------------------------------------------------ */

static int img_check(int argc, char **argv)
{
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "repair", required_argument, NULL, 'r' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool json = false, quiet = false;
    unsigned fix = 0;
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    int c;
    while ((c = getopt_long(argc, argv, "f:r:T:qhU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;
        case 'T':
            if (img_parse_cache(optarg, &cache) < 0) {
                return 1;
            }
            break;
        case 'r':
            if (!strcmp(optarg, "leaks")) {
                fix = BLK_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = BLK_FIX_LEAKS | BLK_FIX_ERRORS;
            } else {
                img_error("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                          optarg);
                return 1;
            }
            break;
        case 'O':
            if (!strcmp(optarg, "json")) {
                json = true;
            } else if (strcmp(optarg, "human")) {
                img_error("--output must be used with human or json as argument.");
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_error("Expecting one image file name");
        return 1;
    }
    unsigned flags = BLK_O_NO_BACKING | BLK_O_NO_REPAIR;
    flags |= fix ? BLK_O_RDWR | BLK_O_IGNORE_CORRUPT : BLK_O_NO_LOCK;
    blk *bs = img_open(argv[optind], fmt, flags, cache);
    if (!bs) {
        return 1;
    }
    blk_check_result res;
    int r = blk_check(bs, &res, fix);
    if (r == -ENOTSUP) {
        img_error("This image format does not support checks");
        blk_close(bs);
        return 63;
    }
    if (r < 0) {
        img_error("Check failed: %s", strerror(-r));
        blk_close(bs);
        return 1;
    }
    /* the findings go to stderr whatever the output format, even with -q */
    for (int i = 0; i < res.n_messages; i++) {
        fprintf(stderr, "%s\n", res.messages[i]);
    }
    if (json) {
        /* qemu-img's key order; zero counts are left out as it does */
        blk_json *j = blk_json_new();
        blk_json_obj_begin(j, NULL);
        if (res.image_end_offset) {
            blk_json_uint(j, "image-end-offset", res.image_end_offset);
        }
        if (res.corruptions) {
            blk_json_int(j, "corruptions", res.corruptions);
        }
        if (res.leaks) {
            blk_json_int(j, "leaks", res.leaks);
        }
        if (res.corruptions_fixed) {
            blk_json_int(j, "corruptions-fixed", res.corruptions_fixed);
        }
        if (res.leaks_fixed) {
            blk_json_int(j, "leaks-fixed", res.leaks_fixed);
        }
        if (res.compressed_clusters) {
            blk_json_uint(j, "compressed-clusters", res.compressed_clusters);
        }
        if (res.total_clusters) {
            blk_json_uint(j, "total-clusters", res.total_clusters);
        }
        blk_json_int(j, "check-errors", res.check_errors);
        if (res.allocated_clusters) {
            blk_json_uint(j, "allocated-clusters", res.allocated_clusters);
        }
        blk_json_str(j, "filename", bs->filename);
        blk_json_str(j, "format", bs->drv->name);
        if (res.fragmented_clusters) {
            blk_json_uint(j, "fragmented-clusters", res.fragmented_clusters);
        }
        blk_json_obj_end(j);
        printf("%s\n", blk_json_text(j));
        blk_json_free(j);
    } else if (!quiet) {
        if (res.leaks_fixed || res.corruptions_fixed) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRId64 " leaked clusters\n    %" PRId64 " corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   res.leaks_fixed, res.corruptions_fixed);
        }
        if (!res.corruptions && !res.leaks && !res.check_errors) {
            printf("No errors were found on the image.\n");
        } else {
            if (res.corruptions) {
                printf("\n%" PRId64 " errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt "
                       "it.\n", res.corruptions);
            }
            if (res.leaks) {
                printf("\n%" PRId64 " leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.\n", res.leaks);
            }
            if (res.check_errors) {
                printf("\n%" PRId64 " internal errors have occurred during the check.\n",
                       res.check_errors);
            }
        }
        if (res.total_clusters && res.allocated_clusters) {
            double t = (double)res.total_clusters;
            printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, "
                   "%0.2f%% compressed clusters\n", res.allocated_clusters, res.total_clusters,
                   res.allocated_clusters * 100.0 / t,
                   res.fragmented_clusters * 100.0 / (double)res.allocated_clusters,
                   res.compressed_clusters * 100.0 / (double)res.allocated_clusters);
        }
        if (res.image_end_offset) {
            printf("Image end offset: %" PRIu64 "\n", res.image_end_offset);
        }
    }
    int code = res.check_errors ? 1 : res.corruptions ? 2 : res.leaks ? 3 : 0;
    blk_check_result_free(&res);
    blk_close(bs);
    return code;
}

/* ---- map ------------------------------------------------------------------------------------ */

typedef struct map_ent {
    uint64_t start, len, offset;
    int depth;
    bool present, zero, data, has_offset;
    const char *file;
} map_ent;

static void map_print(const map_ent *e, bool json, bool *first)
{
    if (json) {
        printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s",
               *first ? "[" : ",\n", e->start, e->len, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRIu64, e->offset);
        }
        printf("}");
    } else if (e->data && e->has_offset) {
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start, e->len,
               e->offset, e->file);
    }
    *first = false;
}

static int img_map(int argc, char **argv)
{
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "start-offset", required_argument, NULL, 's' },
        { "max-length", required_argument, NULL, 'l' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool json = false;
    int64_t start = 0, maxlen = -1;
    int c;
    while ((c = getopt_long(argc, argv, "f:hU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case 's': start = blk_parse_size(optarg); break;
        case 'l': maxlen = blk_parse_size(optarg); break;
        case 'O':
            if (!strcmp(optarg, "json")) {
                json = true;
            } else if (strcmp(optarg, "human")) {
                img_error("--output must be used with human or json as argument.");
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if (optind != argc - 1 || start < 0) {
        img_error(start < 0 ? "Invalid start offset" : "Expecting one image file name");
        return 1;
    }
    blk *bs = img_open(argv[optind], fmt, BLK_O_NO_LOCK, 0);
    if (!bs) {
        return 1;
    }
    uint64_t end = blk_size(bs);
    if (maxlen >= 0 && (uint64_t)start + (uint64_t)maxlen < end) {
        end = (uint64_t)start + (uint64_t)maxlen;
    }
    if (!json) {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    bool first = true, have = false;
    map_ent cur = { 0 };
    int r = 0;
    for (uint64_t off = (uint64_t)start; off < end;) {
        blk_status st;
        r = blk_block_status_above(bs, off, end - off, &st);
        if (r < 0) {
            img_error("map: error at offset %" PRIu64 ": %s", off, strerror(-r));
            break;
        }
        bool allocated = st.flags & BLK_ST_ALLOCATED;
        map_ent e = {
            .start = off, .len = st.len,
            .depth = st.depth,
            .present = allocated, .zero = st.flags & BLK_ST_ZERO,
            .data = st.flags & BLK_ST_DATA, .has_offset = st.flags & BLK_ST_OFFSET_VALID,
            .offset = st.map, .file = st.file,
        };
        if (!allocated) {
            e.depth = st.depth;
            e.zero = true;
            e.data = false;
        }
        if (have && cur.depth == e.depth && cur.present == e.present && cur.zero == e.zero &&
            cur.data == e.data && cur.has_offset == e.has_offset &&
            (!e.has_offset || cur.offset + cur.len == e.offset) &&
            (!e.has_offset || cur.file == e.file)) {
            cur.len += e.len;
        } else {
            if (have) {
                map_print(&cur, json, &first);
            }
            cur = e;
            have = true;
        }
        off += st.len;
    }
    if (have) {
        map_print(&cur, json, &first);
    }
    if (json) {
        printf(first ? "[]\n" : "]\n");
    }
    blk_close(bs);
    return r < 0 ? 1 : 0;
}

/* ---- snapshot ---------------------------------------------------------------------------------- */

static int img_snapshot(int argc, char **argv)
{
    static const struct option lo[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *name = NULL;
    char action = 0;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "la:c:d:f:qhU", lo, NULL)) != -1) {
        switch (c) {
        case 'l': case 'a': case 'c': case 'd':
            if (action) {
                img_error("Cannot mix '-l', '-a', '-c', '-d'");
                return 1;
            }
            action = (char)c;
            name = optarg;
            break;
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_error("Expecting one image file name");
        return 1;
    }
    if (!action) {
        action = 'l';
    }
    unsigned flags = action == 'l' ? BLK_O_NO_LOCK | BLK_O_NO_BACKING
                                   : BLK_O_RDWR | BLK_O_NO_BACKING;
    blk *bs = img_open(argv[optind], fmt, flags, 0);
    if (!bs) {
        return 1;
    }
    char *err = NULL;
    int r = 0;
    switch (action) {
    case 'l': {
        blk_snapshot *l;
        int n = blk_snapshot_list(bs, &l);
        if (n > 0) {
            printf("Snapshot list:\n");
            snapshot_table(l, n);
        }
        blk_snapshot_list_free(l, n > 0 ? n : 0);
        break;
    }
    case 'c': r = blk_snapshot_create(bs, name, &err); break;
    case 'a': r = blk_snapshot_apply(bs, name, &err); break;
    case 'd': r = blk_snapshot_delete(bs, name, &err); break;
    }
    (void)quiet;
    if (r >= 0) {
        r = blk_flush(bs);
    }
    blk_close(bs);
    if (r == -ENOENT && (action == 'a' || action == 'd')) {
        /* qemu-img's wording, which scripts match */
        img_error(action == 'd' ? "Could not delete snapshot '%s': snapshot not found"
                                : "Could not apply snapshot '%s': Failed to load snapshot: "
                                  "No such file or directory", name);
        free(err);
        return 1;
    }
    if (r < 0) {
        return img_fail(err, "snapshot operation failed");
    }
    return 0;
}

/* ---- resize ----------------------------------------------------------------------------------- */

static int img_resize(int argc, char **argv)
{
    static const struct option lo[] = {
        { "shrink", no_argument, NULL, 'S' },
        { "preallocation", required_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *prealloc = NULL;
    bool shrink = false, quiet = false;
    int c;
    /* "-1G" is a size, not an option: stop at the first non-option */
    while ((c = getopt_long(argc, argv, "+f:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'S': shrink = true; break;
        case 'P': prealloc = optarg; break;
        default: return 1;
        }
    }
    /* "--" may stand between the file and a negative size, as with qemu-img */
    const char *pos[3];
    int npos = 0;
    bool dashes = false;
    for (int i = optind; i < argc; i++) {
        if (!strcmp(argv[i], "--") && !dashes) {
            dashes = true;
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            npos++;
        }
    }
    if (npos != 2) {
        img_error("Expecting image file name and size");
        return 1;
    }
    const char *file = pos[0], *sz = pos[1];
    int sign = 0;
    if (*sz == '+' || *sz == '-') {
        sign = *sz == '+' ? 1 : -1;
        sz++;
    }
    int64_t n = blk_parse_size(sz);
    if (n < 0) {
        img_error("Invalid image size specified. You may use k, M, G, T, P or E suffixes.");
        return 1;
    }
    enum blk_prealloc p = BLK_PREALLOC_OFF;
    extern int blk_parse_prealloc(const char *s, enum blk_prealloc *p);
    if (prealloc && blk_parse_prealloc(prealloc, &p) < 0) {
        img_error("Invalid preallocation mode: '%s'", prealloc);
        return 1;
    }
    blk *bs = img_open(file, fmt, BLK_O_RDWR | BLK_O_NO_BACKING, 0);
    if (!bs) {
        return 1;
    }
    uint64_t cur = blk_size(bs), want;
    if (sign < 0 && (uint64_t)n > cur) {
        img_error("New image size must be positive");
        blk_close(bs);
        return 1;
    }
    want = sign > 0 ? cur + (uint64_t)n : sign < 0 ? cur - (uint64_t)n : (uint64_t)n;
    char *err = NULL;
    if (want < cur && !shrink) {
        img_error("Use the --shrink option to perform a shrink operation.");
        img_error("warning: Shrinking an image will delete all data beyond the shrunken "
                  "image's end. Before performing such an operation, make sure there is no "
                  "important data there.");
        blk_close(bs);
        return 1;
    }
    int r = blk_truncate(bs, want, shrink, p, &err);
    if (r >= 0) {
        r = blk_flush(bs);
    }
    blk_close(bs);
    if (r < 0) {
        return img_fail(err, "resize failed");
    }
    if (!quiet) {
        printf("Image resized.\n");
    }
    return 0;
}

/* ---- measure, amend ---------------------------------------------------------------------------- */

static int img_measure(int argc, char **argv)
{
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'J' },
        { "size", required_argument, NULL, 'S' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *ofmt = "raw";
    bool json = false;
    int64_t size = -1;
    blk_kv *kv = NULL;
    int nkv = 0, c;
    while ((c = getopt_long(argc, argv, "f:O:o:hU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'U': break;
        case 'o': img_parse_opts(optarg, &kv, &nkv); break;
        case 'S':
            size = blk_parse_size(optarg);
            if (size < 0) {
                img_error("Invalid size specified: %s", optarg);
                return 1;
            }
            break;
        case 'J':
            json = !strcmp(optarg, "json");
            if (!json && strcmp(optarg, "human")) {
                img_error("--output must be used with human or json as argument.");
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if ((size >= 0) == (optind < argc)) {
        img_error(size >= 0 ? "--size N cannot be used together with a filename."
                            : "Either --size N or one filename must be specified.");
        return 1;
    }
    blk *src = NULL;
    if (optind < argc) {
        src = img_open(argv[optind], fmt, BLK_O_NO_LOCK, 0);
        if (!src) {
            return 1;
        }
        size = (int64_t)blk_size(src);
    }
    uint64_t req, full;
    char *err = NULL;
    int r = blk_measure(ofmt, kv, nkv, (uint64_t)size, src, &req, &full, &err);
    /* qemu-img adds the size of persistent bitmaps to copy when both sides are
     * qcow2; Vireo neither keeps nor copies bitmaps, so that size is 0 */
    bool bitmaps = src && !strcmp(src->drv->name, "qcow2") && !strcmp(ofmt, "qcow2");
    blk_close(src);
    img_free_opts(kv, nkv);
    if (r < 0) {
        return img_fail(err, "measure failed");
    }
    if (json) {
        printf("{\n%s    \"required\": %" PRIu64 ",\n    \"fully-allocated\": %" PRIu64 "\n}\n",
               bitmaps ? "    \"bitmaps\": 0,\n" : "", req, full);
    } else {
        printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64 "\n%s", req, full,
               bitmaps ? "bitmaps size: 0\n" : "");
    }
    return 0;
}

static int img_amend(int argc, char **argv)
{
    const char *fmt = NULL;
    blk_kv *kv = NULL;
    int nkv = 0, c;
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    while ((c = getopt(argc, argv, "f:o:t:qhp")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o': img_parse_opts(optarg, &kv, &nkv); break;
        case 't':
            if (img_parse_cache(optarg, &cache) < 0) {
                return 1;
            }
            break;
        case 'q': case 'p': break;
        default: return 1;
        }
    }
    if (!nkv) {
        img_error("Must specify options (-o)");
        return 1;
    }
    if (optind != argc - 1) {
        img_error("Expecting one image file name");
        return 1;
    }
    blk *bs = img_open(argv[optind], fmt, BLK_O_RDWR | BLK_O_NO_BACKING, cache);
    if (!bs) {
        return 1;
    }
    char *err = NULL;
    int r = blk_amend(bs, kv, nkv, &err);
    blk_close(bs);
    img_free_opts(kv, nkv);
    return r < 0 ? img_fail(err, "amend failed") : 0;
}

/* ---- dispatch ------------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    { "amend", img_amend }, { "bench", img_bench }, { "check", img_check },
    { "commit", img_commit }, { "compare", img_compare }, { "convert", img_convert },
    { "create", img_create }, { "dd", img_dd }, { "info", img_info }, { "map", img_map },
    { "measure", img_measure }, { "rebase", img_rebase }, { "resize", img_resize },
    { "snapshot", img_snapshot },
};

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("vireo-img version 0.1\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            optind = 1;
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    img_error("Command not found: %s", argv[1]);
    return 1;
}
