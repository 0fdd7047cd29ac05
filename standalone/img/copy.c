/* vireo-img data commands: convert, dd, commit, rebase, compare, bench. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "standalone/img/img.h"

static void *xalloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, n ? n : 1)) {
        fprintf(stderr, "vireo-img: out of memory\n");
        exit(1);
    }
    return p;
}

/* Write buf (n bytes at off) to the target, leaving runs of `gran` zero bytes
 * unwritten when the target already reads zeros there, else writing them as
 * zeroes (which drivers may store as holes or zero clusters). */
static int write_sparse(blk *t, uint64_t off, const uint8_t *buf, uint64_t n, uint64_t gran,
                        bool target_zero)
{
    if (!gran) {
        return blk_pwrite(t, off, buf, n);
    }
    uint64_t i = 0;
    while (i < n) {
        uint64_t j = i;
        bool zero = img_is_zero(buf + i, n - i < gran ? n - i : gran);
        while (j < n) {
            uint64_t k = n - j < gran ? n - j : gran;
            if (img_is_zero(buf + j, k) != zero) {
                break;
            }
            j += k;
        }
        int r = 0;
        if (!zero) {
            r = blk_pwrite(t, off + i, buf + i, j - i);
        } else if (!target_zero) {
            r = blk_pwrite_zeroes(t, off + i, j - i, BLK_ZERO_MAY_UNMAP);
        }
        if (r < 0) {
            return r;
        }
        i = j;
    }
    return 0;
}

/* convert -c from one source: worker threads take clusters in turn, read,
 * compress and store them (the store is serialised inside the block layer). */
typedef struct zjob {
    blk *s, *t;
    uint64_t cs, next, size, done;
    bool target_zero;
    int err;
    pthread_mutex_t lock;
    struct img_progress *prog;
} zjob;

static void *zworker(void *arg)
{
    zjob *j = arg;
    uint8_t *buf = xalloc(j->cs);
    for (;;) {
        pthread_mutex_lock(&j->lock);
        uint64_t off = j->next;
        bool stop = off >= j->size || j->err;
        j->next += j->cs;
        pthread_mutex_unlock(&j->lock);
        if (stop) {
            break;
        }
        uint64_t n = j->size - off < j->cs ? j->size - off : j->cs;
        blk_status st;
        int r = blk_block_status_above(j->s, off, n, &st);
        if (r >= 0 && (st.flags & BLK_ST_ZERO) && st.len >= n) {
            if (!j->target_zero) {
                r = blk_pwrite_zeroes(j->t, off, n, BLK_ZERO_MAY_UNMAP);
            }
        } else if (r >= 0) {
            r = blk_pread(j->s, off, buf, n);
            if (r >= 0 && img_is_zero(buf, n)) {
                r = j->target_zero ? 0 : blk_pwrite_zeroes(j->t, off, n, BLK_ZERO_MAY_UNMAP);
            } else if (r >= 0) {
                r = blk_pwrite_compressed(j->t, off, buf, n);
            }
        }
        pthread_mutex_lock(&j->lock);
        if (r < 0 && !j->err) {
            j->err = r;
        }
        j->done += n;
        img_progress(j->prog, j->done, j->size);
        pthread_mutex_unlock(&j->lock);
    }
    free(buf);
    return NULL;
}

static int convert_compressed(blk *s, blk *t, uint64_t cs, bool target_zero,
                              struct img_progress *prog)
{
    zjob j = { .s = s, .t = t, .cs = cs, .size = blk_size(s), .target_zero = target_zero,
               .prog = prog };
    pthread_mutex_init(&j.lock, NULL);
    /* 8 workers, as many requests as qemu-img convert keeps in flight: more
     * than the CPUs, so reads and stores overlap with compression */
    int nt = 8;
    pthread_t th[8];
    int started = 0;
    for (int i = 0; i < nt; i++) {
        if (pthread_create(&th[i], NULL, zworker, &j) == 0) {
            started++;
        }
    }
    if (!started) {
        zworker(&j);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_destroy(&j.lock);
    return j.err;
}

/* ---- convert ------------------------------------------------------------------------------ */

int img_convert(int argc, char **argv)
{
    static const struct option lo[] = {
        { "progress", optional_argument, NULL, 'P' },
        { "target-is-zero", no_argument, NULL, 'Z' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *ofmt = "raw", *backing = NULL, *bfmt = NULL, *snap = NULL;
    bool compress = false, no_create = false, quiet = false, target_is_zero = false;
    uint64_t gran = 4096;
    struct img_progress prog = { 0 };
    enum blk_cache scache = BLK_CACHE_WRITEBACK, tcache = BLK_CACHE_UNSAFE;
    blk_kv *kv = NULL;
    int nkv = 0, c;
    while ((c = getopt_long(argc, argv, "f:O:B:F:co:S:t:T:pnqUhm:Wl:s:", lo, NULL)) != -1) {
        switch (c) {
        case 'l': case 's':
            /* -l NAME, -l snapshot.name=NAME or snapshot.id=ID; -s ID_OR_NAME */
            snap = optarg;
            if (!strncmp(snap, "snapshot.name=", 14)) {
                snap += 14;
            } else if (!strncmp(snap, "snapshot.id=", 12)) {
                snap += 12;
            }
            break;
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'B': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'c': compress = true; break;
        case 'n': no_create = true; break;
        case 'q': quiet = true; break;
        case 'U': case 'm': case 'W': break;
        case 'Z': target_is_zero = true; break;
        case 'p': prog.mode = 1; break;
        case 'P':
            prog.mode = img_progress_mode(optarg);
            if (prog.mode < 0) {
                return 1;
            }
            break;
        case 'o':
            if (img_parse_opts(optarg, &kv, &nkv) > 0) {
                const blk_driver *d = blk_find_driver(ofmt);
                for (const blk_opt_desc *o = d ? d->create_opts : NULL; o && o->key; o++) {
                    printf("  %-24s - %s\n", o->key, o->help);
                }
                img_free_opts(kv, nkv);
                return 0;
            }
            break;
        case 'S': {
            int64_t s = blk_parse_size(optarg);
            if (s < 0 || (s && s < 512) || (s & 511)) {
                img_error("Invalid buffer size for sparse output specified. Valid sizes are "
                          "multiples of 512 up to 2 GiB.");
                return 1;
            }
            gran = (uint64_t)s;
            break;
        }
        case 't':
            if (img_parse_cache(optarg, &tcache) < 0) {
                return 1;
            }
            break;
        case 'T':
            if (img_parse_cache(optarg, &scache) < 0) {
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if (quiet) {
        prog.mode = 0;
    }
    if (argc - optind < 2) {
        img_error("Expecting image file name");
        return 1;
    }
    if (!strcmp(argv[argc - 1], argv[optind]) && argc - optind == 2) {
        img_error("Source and target image are the same file");
        return 1;
    }
    int nsrc = argc - optind - 1;
    blk **src = calloc(nsrc, sizeof(*src));
    uint64_t total = 0;
    int ret = 1;
    blk *t = NULL;
    for (int i = 0; i < nsrc; i++) {
        src[i] = img_open(argv[optind + i], fmt, BLK_O_NO_LOCK, scache);
        if (!src[i]) {
            goto out;
        }
        if (snap) {
            char *e = NULL;
            if (nsrc > 1) {
                img_error("No support for concatenating multiple snapshot");
                goto out;
            }
            if (blk_snapshot_load_tmp(src[i], snap, &e) < 0) {
                img_error("Failed to load snapshot: %s", e ? e : "error");
                free(e);
                goto out;
            }
        }
        total += blk_size(src[i]);
    }
    const char *target = argv[argc - 1];
    char *err = NULL;
    if (!no_create) {
        blk_kv *o = calloc(nkv + 2, sizeof(*o));
        int no = 0;
        for (int i = 0; i < nkv; i++) {
            if (strcmp(kv[i].key, "backing_file") && strcmp(kv[i].key, "backing_fmt")) {
                o[no++] = kv[i];
            }
        }
        if (!backing) {
            backing = blk_kv_get(kv, nkv, "backing_file");
        }
        if (!bfmt) {
            bfmt = blk_kv_get(kv, nkv, "backing_fmt");
        }
        if (backing) {
            o[no++] = (blk_kv){ "backing_file", backing };
            if (bfmt) {
                o[no++] = (blk_kv){ "backing_fmt", bfmt };
            }
        }
        int r = blk_create(ofmt, target, total, o, no, &err);
        free(o);
        if (r < 0) {
            img_fail(err, "cannot create the target");
            goto out;
        }
        target_is_zero = !backing;
    }
    t = img_open(target, ofmt, BLK_O_RDWR | (backing ? 0 : BLK_O_NO_BACKING),
                 tcache);
    if (!t) {
        goto out;
    }
    if (blk_size(t) < total) {
        img_error("output file is smaller than input file");
        goto out;
    }
    uint64_t cs = IMG_CHUNK;
    int nsrc_done = 0;
    if (compress) {
        blk_info in;
        blk_get_info(t, &in);
        if ((!t->drv->pwrite_compressed && !t->drv->compress) || !in.cluster_size) {
            img_error("Compression not supported for this file format");
            goto out;
        }
        cs = in.cluster_size;
    }
    int r = 0;
    img_progress(&prog, 0, total);
    if (compress && nsrc == 1 && !backing) {
        r = convert_compressed(src[0], t, cs, target_is_zero, &prog);
        nsrc_done = 1;
    }
    uint8_t *buf = xalloc(cs > IMG_CHUNK ? cs : IMG_CHUNK);
    uint64_t base = 0;
    for (int i = nsrc_done; i < nsrc && r >= 0; i++) {
        blk *s = src[i];
        uint64_t size = blk_size(s);
        for (uint64_t off = 0; off < size && r >= 0;) {
            blk_status st;
            uint64_t want = size - off;
            if (compress) {
                /* whole target clusters; a status run only skips whole zero ones */
                uint64_t in = (base + off) % cs;
                want = cs - in < want ? cs - in : want;
            } else if (want > IMG_CHUNK) {
                want = IMG_CHUNK;
            }
            r = backing ? blk_block_status(s, off, want, &st)
                        : blk_block_status_above(s, off, want, &st);
            if (r < 0) {
                break;
            }
            uint64_t n = compress ? want : st.len;
            bool unalloc_top = backing && !(st.flags & BLK_ST_ALLOCATED);
            if (unalloc_top && !compress) {
                off += n;                /* the target's backing file provides it */
                continue;
            }
            if (compress && (st.len < want || unalloc_top)) {
                st.flags = BLK_ST_DATA;  /* mixed cluster: read it whole */
            }
            if ((st.flags & BLK_ST_ZERO) && !(compress && st.len < want)) {
                if (!target_is_zero) {
                    r = blk_pwrite_zeroes(t, base + off, n, BLK_ZERO_MAY_UNMAP);
                }
            } else {
                r = blk_pread(s, off, buf, n);
                if (r >= 0 && compress) {
                    if (img_is_zero(buf, n)) {
                        if (!target_is_zero) {
                            r = blk_pwrite_zeroes(t, base + off, n, BLK_ZERO_MAY_UNMAP);
                        }
                    } else if ((base + off) % cs == 0 &&
                               (n == cs || base + off + n == blk_size(t))) {
                        r = blk_pwrite_compressed(t, base + off, buf, n);
                    } else {
                        r = blk_pwrite(t, base + off, buf, n);
                    }
                } else if (r >= 0) {
                    r = write_sparse(t, base + off, buf, n, gran, target_is_zero);
                }
            }
            off += n;
            img_progress(&prog, base + off, total);
        }
        base += size;
    }
    free(buf);
    if (r >= 0) {
        r = blk_flush(t);
    }
    if (r < 0) {
        img_error("error while converting to '%s': %s", target, strerror(-r));
        goto out;
    }
    img_progress(&prog, total, total);
    ret = 0;
out:
    img_free_opts(kv, nkv);
    blk_close(t);
    for (int i = 0; i < nsrc; i++) {
        blk_close(src[i]);
    }
    free(src);
    return ret;
}

/* ---- dd --------------------------------------------------------------------------------------- */

int img_dd(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw", *in = NULL, *out = NULL;
    int64_t bs = 512, count = -1, skip = 0;
    int c;
    while ((c = getopt(argc, argv, "f:O:hU")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'U': break;
        default: return 1;
        }
    }
    for (int i = optind; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            img_error("unrecognized operand %s", argv[i]);
            return 1;
        }
        const char *num = !strncmp(argv[i], "bs=", 3) ? "bs"
                        : !strncmp(argv[i], "count=", 6) ? "count"
                        : !strncmp(argv[i], "skip=", 5) ? "skip" : NULL;
        if (num && blk_parse_size(eq + 1) < 0) {
            img_error("Invalid %s specified. You may use k, M, G, T, P or E suffixes for", num);
            img_error("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            return 1;
        }
        const char *v = eq + 1;
        size_t kl = (size_t)(eq - argv[i]);
        if (!strncmp(argv[i], "if", kl) && kl == 2) {
            in = v;
        } else if (!strncmp(argv[i], "of", kl) && kl == 2) {
            out = v;
        } else if (!strncmp(argv[i], "bs", kl) && kl == 2) {
            bs = blk_parse_size(v);
        } else if (!strncmp(argv[i], "count", kl) && kl == 5) {
            count = blk_parse_size(v);
        } else if (!strncmp(argv[i], "skip", kl) && kl == 4) {
            skip = blk_parse_size(v);
        } else {
            img_error("unrecognized operand %.*s", (int)kl, argv[i]);
            return 1;
        }
    }
    if (bs <= 0 || bs > 0x7fffffff) {
        img_error("Invalid bs specified. Must be between 1 and 2147483647.");
        return 1;
    }
    if (!in || !out) {
        img_error("Must specify both input and output files");
        return 1;
    }
    blk *s = img_open(in, fmt, BLK_O_NO_LOCK, 0);
    if (!s) {
        return 1;
    }
    uint64_t start = (uint64_t)skip * (uint64_t)bs, size = blk_size(s);
    uint64_t len = start < size ? size - start : 0;
    if (count >= 0 && (uint64_t)count * (uint64_t)bs < len) {
        len = (uint64_t)count * (uint64_t)bs;
    }
    char *err = NULL;
    if (blk_create(ofmt, out, len, NULL, 0, &err) < 0) {
        blk_close(s);
        return img_fail(err, "cannot create the output");
    }
    blk *t = img_open(out, ofmt, BLK_O_RDWR | BLK_O_NO_BACKING, BLK_CACHE_UNSAFE);
    if (!t) {
        blk_close(s);
        return 1;
    }
    uint8_t *buf = xalloc(IMG_CHUNK);
    int r = 0;
    for (uint64_t o = 0; o < len && r >= 0; o += IMG_CHUNK) {
        uint64_t n = len - o < IMG_CHUNK ? len - o : IMG_CHUNK;
        r = blk_pread(s, start + o, buf, n);
        if (r >= 0) {
            r = write_sparse(t, o, buf, n, 4096, true);
        }
    }
    free(buf);
    if (r >= 0) {
        r = blk_flush(t);
    }
    blk_close(t);
    blk_close(s);
    if (r < 0) {
        img_error("error while copying: %s", strerror(-r));
        return 1;
    }
    return 0;
}

/* ---- commit ---------------------------------------------------------------------------------- */

int img_commit(int argc, char **argv)
{
    const char *fmt = NULL, *base_name = NULL;
    bool drop = false, quiet = false;
    struct img_progress prog = { 0 };
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    int c;
    while ((c = getopt(argc, argv, "f:t:b:dpqr:h")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': base_name = optarg; break;
        case 'd': drop = true; break;
        case 'p': prog.mode = 1; break;
        case 'q': quiet = true; break;
        case 'r': break;
        case 't':
            if (img_parse_cache(optarg, &cache) < 0) {
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
    if (quiet) {
        prog.mode = 0;
    }
    /* the chain without locks; then the locks we need: write on top and base */
    blk *top = img_open(argv[optind], fmt, BLK_O_RDWR | BLK_O_NO_LOCK, cache);
    if (!top) {
        return 1;
    }
    char *err = NULL;
    if (blk_lock_fd(top->file.fd, top->filename, BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE,
                    BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED, &err) < 0) {
        blk_close(top);
        return img_fail(err, "cannot lock the image");
    }
    if (!top->backing) {
        img_error("Image does not have a backing file");
        blk_close(top);
        return 1;
    }
    int depth = 1;
    blk *base = top->backing;
    if (base_name) {
        char *want = realpath(base_name, NULL);
        for (; base; base = base->backing, depth++) {
            char *have = realpath(base->filename, NULL);
            bool same = want && have && !strcmp(want, have);
            free(have);
            if (same) {
                break;
            }
        }
        free(want);
        if (!base) {
            img_error("Base '%s' not found in the backing chain of '%s'", base_name,
                      top->filename);
            blk_close(top);
            return 1;
        }
    }
    /* reopen the base for writing, alone (its own data only) */
    blk *wbase = img_open(base->filename, base->drv->name, BLK_O_RDWR | BLK_O_NO_BACKING,
                          cache);
    if (!wbase) {
        blk_close(top);
        return 1;
    }
    uint64_t size = blk_size(top);
    if (blk_size(wbase) < size) {
        int r = blk_truncate(wbase, size, false, BLK_PREALLOC_OFF, &err);
        if (r < 0) {
            blk_close(wbase);
            blk_close(top);
            return img_fail(err, "cannot grow the base image");
        }
    }
    uint8_t *buf = xalloc(IMG_CHUNK);
    int r = 0;
    for (uint64_t off = 0; off < size && r >= 0;) {
        blk_status st;
        uint64_t want = size - off < IMG_CHUNK ? size - off : IMG_CHUNK;
        r = blk_block_status_above(top, off, want, &st);
        if (r < 0) {
            break;
        }
        if ((st.flags & BLK_ST_ALLOCATED) && st.depth < depth) {
            if (st.flags & BLK_ST_ZERO) {
                r = blk_pwrite_zeroes(wbase, off, st.len, 0);
            } else {
                r = blk_pread(top, off, buf, st.len);
                if (r >= 0) {
                    r = blk_pwrite(wbase, off, buf, st.len);
                }
            }
        }
        off += st.len;
        img_progress(&prog, off, size);
    }
    free(buf);
    if (r >= 0) {
        r = blk_flush(wbase);
    }
    blk_close(wbase);
    if (r >= 0 && !drop && depth == 1) {
        int e = blk_make_empty(top);
        r = e == -ENOTSUP ? 0 : e;
    }
    if (r >= 0) {
        r = blk_flush(top);
    }
    blk_close(top);
    if (r < 0) {
        img_error("commit failed: %s", strerror(-r));
        return 1;
    }
    if (!quiet) {
        printf("Image committed.\n");
    }
    return 0;
}

/* ---- rebase ---------------------------------------------------------------------------------- */

int img_rebase(int argc, char **argv)
{
    static const struct option lo[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL, *nb = NULL, *nbfmt = NULL;
    bool unsafe = false, quiet = false, have_b = false;
    struct img_progress prog = { 0 };
    enum blk_cache cache = BLK_CACHE_WRITEBACK, scache = BLK_CACHE_WRITEBACK;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:F:ut:T:pqhU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': nb = optarg; have_b = true; break;
        case 'F': nbfmt = optarg; break;
        case 'u': unsafe = true; break;
        case 'p': prog.mode = 1; break;
        case 'q': quiet = true; break;
        case 'U': break;
        case 't':
            if (img_parse_cache(optarg, &cache) < 0) {
                return 1;
            }
            break;
        case 'T':
            if (img_parse_cache(optarg, &scache) < 0) {
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if (!have_b) {
        img_error("Must specify backing file (-b) or use unsafe mode (-u)");
        return 1;
    }
    if (optind != argc - 1) {
        img_error("Expecting one image file name");
        return 1;
    }
    if (quiet) {
        prog.mode = 0;
    }
    const char *file = argv[optind];
    blk *bs = img_open(file, fmt, BLK_O_RDWR | (unsafe ? BLK_O_NO_BACKING : 0), cache);
    if (!bs) {
        return 1;
    }
    char *err = NULL;
    blk *newb = NULL;
    char *path = NULL;
    if (nb && *nb) {
        const char *slash = strrchr(file, '/');
        path = nb[0] == '/' || !slash ? strdup(nb)
                                      : blk_strdup_printf("%.*s/%s", (int)(slash - file), file,
                                                          nb);
        blk_open_opts bo = { .flags = BLK_O_NO_LOCK, .cache = scache, .format = nbfmt };
        newb = blk_open(path, &bo, &err);
        if (!newb && !unsafe) {
            img_error("Could not open new backing file '%s': %s", path,
                      err ? err : "cannot open it");
            free(err);
            free(path);
            blk_close(bs);
            return 1;
        }
        free(err);
        err = NULL;
        if (newb && !nbfmt) {
            nbfmt = newb->drv->name;
        }
    }
    int r = 0;
    if (!unsafe) {
        uint64_t size = blk_size(bs);
        uint8_t *a = xalloc(IMG_CHUNK), *b = xalloc(IMG_CHUNK);
        for (uint64_t off = 0; off < size && r >= 0;) {
            blk_status st;
            uint64_t want = size - off < IMG_CHUNK ? size - off : IMG_CHUNK;
            r = blk_block_status(bs, off, want, &st);
            if (r < 0) {
                break;
            }
            if (!(st.flags & BLK_ST_ALLOCATED)) {
                /* old view (through the old chain) vs new view */
                r = blk_read_backing(bs, off, a, st.len);
                if (r >= 0) {
                    if (newb) {
                        uint64_t ns = blk_size(newb);
                        uint64_t n = off >= ns ? 0 : (ns - off < st.len ? ns - off : st.len);
                        memset(b + n, 0, st.len - n);
                        r = n ? blk_pread(newb, off, b, n) : 0;
                    } else {
                        memset(b, 0, st.len);
                    }
                }
                for (uint64_t i = 0; r >= 0 && i < st.len; i += 65536) {
                    uint64_t k = st.len - i < 65536 ? st.len - i : 65536;
                    if (memcmp(a + i, b + i, k)) {
                        r = blk_pwrite(bs, off + i, a + i, k);
                    }
                }
            }
            off += st.len;
            img_progress(&prog, off, size);
        }
        free(a);
        free(b);
    }
    if (r >= 0) {
        r = blk_change_backing(bs, nb && *nb ? nb : NULL, nb && *nb ? nbfmt : NULL, &err);
    }
    if (r >= 0) {
        r = blk_flush(bs);
    }
    blk_close(newb);
    blk_close(bs);
    free(path);
    if (r < 0) {
        return img_fail(err, "rebase failed");
    }
    return 0;
}

/* ---- compare --------------------------------------------------------------------------------- */

/* First non-zero byte of `bs` in [off, end), or end. */
static int64_t first_nonzero(blk *bs, uint64_t off, uint64_t end, uint8_t *buf)
{
    while (off < end) {
        blk_status st;
        uint64_t want = end - off < IMG_CHUNK ? end - off : IMG_CHUNK;
        int r = blk_block_status_above(bs, off, want, &st);
        if (r < 0) {
            return r;
        }
        if (!(st.flags & BLK_ST_ZERO)) {
            r = blk_pread(bs, off, buf, st.len);
            if (r < 0) {
                return r;
            }
            for (uint64_t i = 0; i < st.len; i++) {
                if (buf[i]) {
                    return (int64_t)(off + i);
                }
            }
        }
        off += st.len;
    }
    return (int64_t)end;
}

int img_compare(int argc, char **argv)
{
    static const struct option lo[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *f1 = NULL, *f2 = NULL;
    bool strict = false, quiet = false;
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    int c;
    while ((c = getopt_long(argc, argv, "f:F:T:pqshU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': f1 = optarg; break;
        case 'F': f2 = optarg; break;
        case 's': strict = true; break;
        case 'q': quiet = true; break;
        case 'p': case 'U': break;
        case 'T':
            if (img_parse_cache(optarg, &cache) < 0) {
                return 2;
            }
            break;
        default: return 2;
        }
    }
    if (optind != argc - 2) {
        img_error("Expecting two image file names");
        return 2;
    }
    if (!f2) {
        f2 = f1;
    }
    blk *a = img_open(argv[optind], f1, BLK_O_NO_LOCK, cache);
    blk *b = a ? img_open(argv[optind + 1], f2, BLK_O_NO_LOCK, cache) : NULL;
    if (!a || !b) {
        blk_close(a);
        return 2;
    }
    uint64_t sa = blk_size(a), sb = blk_size(b), common = sa < sb ? sa : sb;
    uint8_t *x = xalloc(IMG_CHUNK), *y = xalloc(IMG_CHUNK);
    int ret = 0;
    int64_t mismatch = -1;
    for (uint64_t off = 0; off < common && mismatch < 0;) {
        blk_status s1, s2;
        uint64_t want = common - off < IMG_CHUNK ? common - off : IMG_CHUNK;
        if (blk_block_status_above(a, off, want, &s1) < 0 ||
            blk_block_status_above(b, off, s1.len, &s2) < 0) {
            ret = 2;
            break;
        }
        uint64_t n = s2.len;
        bool top1 = (s1.flags & BLK_ST_ALLOCATED) && !s1.depth;
        bool top2 = (s2.flags & BLK_ST_ALLOCATED) && !s2.depth;
        if (strict && top1 != top2) {
            /* -s: allocation in the top layers must match too, as qemu-img
             * compares it (a raw image is allocated everywhere) */
            if (!quiet) {
                printf("Strict mode: Offset %" PRIu64 " block status mismatch!\n", off);
            }
            ret = 1;
            break;
        }
        if (!((s1.flags & BLK_ST_ZERO) && (s2.flags & BLK_ST_ZERO))) {
            if (blk_pread(a, off, x, n) < 0 || blk_pread(b, off, y, n) < 0) {
                ret = 2;
                break;
            }
            if (memcmp(x, y, n)) {
                for (uint64_t i = 0; i < n; i++) {
                    if (x[i] != y[i]) {
                        mismatch = (int64_t)((off + i) & ~511ull);
                        break;
                    }
                }
            }
        }
        off += n;
    }
    if (ret == 1) {
        /* reported above */
    } else if (!ret && mismatch < 0 && sa != sb) {
        if (strict) {
            if (!quiet) {
                printf("Strict mode: Image size mismatch!\n");
            }
            ret = 1;
        } else {
            if (!quiet) {
                printf("Warning: Image size mismatch!\n");
            }
            int64_t nz = first_nonzero(sa > sb ? a : b, common, sa > sb ? sa : sb, x);
            if (nz < 0) {
                ret = 2;
            } else if ((uint64_t)nz < (sa > sb ? sa : sb)) {
                mismatch = nz & ~511ll;
            }
        }
    }
    if (ret == 1) {
        /* reported */
    } else if (!ret && mismatch >= 0) {
        if (!quiet) {
            printf("Content mismatch at offset %" PRId64 "!\n", mismatch);
        }
        ret = 1;
    } else if (!ret && !quiet) {
        printf("Images are identical.\n");
    } else if (ret == 2) {
        img_error("Error while reading the images");
    }
    free(x);
    free(y);
    blk_close(a);
    blk_close(b);
    return ret;
}

/* ---- bench ------------------------------------------------------------------------------------ */

typedef struct bench {
    blk *bs;
    bool write;
    uint64_t bufsize, step, offset, size;
    int64_t remaining, inflight, errors, done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} bench;

typedef struct bench_req {
    bench *b;
    struct iovec iov;
} bench_req;

static void bench_submit(bench_req *q);

static void bench_cb(void *opaque, int ret)
{
    bench_req *q = opaque;
    bench *b = q->b;
    pthread_mutex_lock(&b->lock);
    b->inflight--;
    b->done++;
    if (ret < 0) {
        b->errors++;
    }
    bool more = b->remaining > 0 && !b->errors;
    pthread_mutex_unlock(&b->lock);
    if (more) {
        bench_submit(q);
    } else {
        pthread_mutex_lock(&b->lock);
        pthread_cond_signal(&b->cond);
        pthread_mutex_unlock(&b->lock);
    }
}

static void bench_submit(bench_req *q)
{
    bench *b = q->b;
    pthread_mutex_lock(&b->lock);
    if (b->remaining <= 0) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    b->remaining--;
    b->inflight++;
    uint64_t off = b->offset;
    b->offset += b->step;
    if (b->offset + b->bufsize > b->size) {
        b->offset = b->size > b->bufsize ? b->offset % (b->size - b->bufsize + 1) : 0;
        b->offset &= ~(b->bufsize - 1 < 511 ? 511ull : 511ull);
    }
    pthread_mutex_unlock(&b->lock);
    int r = b->write ? blk_aio_pwritev(b->bs, off, &q->iov, 1, bench_cb, q)
                     : blk_aio_preadv(b->bs, off, &q->iov, 1, bench_cb, q);
    if (r < 0) {
        bench_cb(q, r);
    }
}

int img_bench(int argc, char **argv)
{
    static const struct option lo[] = {
        { "pattern", required_argument, NULL, 'P' },
        { "flush-interval", required_argument, NULL, 'I' },
        { "no-drain", no_argument, NULL, 'D' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    long count = 75000, depth = 64;
    int64_t offset = 0, bufsize = 4096, step = 0;
    bool write = false, quiet = false;
    int pattern = 0;
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    int c;
    char *e;
    while ((c = getopt_long(argc, argv, "c:d:f:ni:o:qs:S:t:wUh", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            count = strtol(optarg, &e, 0);
            if (*e || !*optarg || count < 0 || count > 0x7fffffff) {
                img_error("Invalid request count specified");
                return 1;
            }
            break;
        case 'd':
            depth = strtol(optarg, &e, 0);
            if (*e || !*optarg || depth <= 0 || depth > 4096) {
                img_error("Invalid queue depth specified");
                return 1;
            }
            break;
        case 'f': fmt = optarg; break;
        case 'n': cache = BLK_CACHE_NONE; break;
        case 'i': break;
        case 'o': case 's': case 'S': {
            int64_t v = blk_parse_size(optarg);
            if (v < 0 || (c == 's' && v > 0x7fffffff)) {
                img_error(c == 's' ? "Invalid buffer size specified" :
                          "Invalid %s specified. You may use k, M, G, T, P or E suffixes for",
                          c == 'o' ? "offset" : "step_size");
                if (c != 's') {
                    img_error("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                              "exabytes.");
                }
                return 1;
            }
            *(c == 'o' ? &offset : c == 's' ? &bufsize : &step) = v;
            break;
        }
        case 'q': quiet = true; break;
        case 't':
            if (img_parse_cache(optarg, &cache) < 0) {
                return 1;
            }
            break;
        case 'w': write = true; break;
        case 'P': pattern = atoi(optarg); break;
        case 'I': case 'D': case 'U': break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_error("Expecting one image file name");
        return 1;
    }
    if (bufsize <= 0) {
        img_error("Invalid buffer size specified");
        return 1;
    }
    if (!step) {
        step = bufsize;
    }
    blk *bs = img_open(argv[optind], fmt, write ? BLK_O_RDWR : BLK_O_NO_LOCK, cache);
    if (!bs) {
        return 1;
    }
    bench b = { .bs = bs, .write = write, .bufsize = (uint64_t)bufsize, .step = (uint64_t)step,
                .offset = (uint64_t)offset, .size = blk_size(bs), .remaining = count };
    if (b.size < b.bufsize) {
        img_error("bench: image smaller than the buffer");
        blk_close(bs);
        return 1;
    }
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    if (!quiet) {
        printf("Sending %ld %s requests, %" PRId64 " bytes each, %ld in parallel "
               "(starting at offset %" PRId64 ", step size %" PRId64 ")\n",
               count, write ? "write" : "read", bufsize, depth, offset, step);
    }
    bench_req *reqs = calloc(depth, sizeof(*reqs));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < depth; i++) {
        reqs[i].b = &b;
        reqs[i].iov.iov_base = xalloc(bufsize);
        reqs[i].iov.iov_len = bufsize;
        memset(reqs[i].iov.iov_base, pattern, bufsize);
    }
    for (long i = 0; i < depth; i++) {
        bench_submit(&reqs[i]);
    }
    pthread_mutex_lock(&b.lock);
    while (b.done < count && !(b.errors && !b.inflight)) {
        pthread_cond_wait(&b.cond, &b.lock);
    }
    pthread_mutex_unlock(&b.lock);
    blk_aio_drain(bs);
    if (write) {
        blk_flush(bs);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (long i = 0; i < depth; i++) {
        free(reqs[i].iov.iov_base);
    }
    free(reqs);
    blk_close(bs);
    if (b.errors) {
        img_error("bench: %" PRId64 " requests failed", b.errors);
        return 1;
    }
    if (!quiet) {
        printf("Run completed in %3.3f seconds.\n", secs);
    }
    return 0;
}
