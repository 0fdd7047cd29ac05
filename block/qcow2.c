/* qcow2 v2/v3: header, L1/L2 mapping with an L2 cache, refcounts, allocation,
 * guest I/O, zero and compressed clusters, creation and resizing.
 *
 * Crash consistency without journaling: metadata is written through (no dirty
 * cache) in an order where a crash at any point leaves at worst leaked
 * clusters: a cluster's refcount is raised before anything points at it, data
 * is written before the L2 entry that maps it, and an old cluster's refcount is
 * dropped only after nothing points at it any more.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "block/qcow2-int.h"

#define L2_CACHE_BYTES (4u << 20)
#define RB_CACHE_BYTES (1u << 20)

int blk_parse_prealloc(const char *s, enum blk_prealloc *p);

/* ---- small helpers ---------------------------------------------------------------- */

int q2_mark_corrupt(blk *bs, const char *fmt, ...)
{
    q2 *s = q2_of(bs);
    if (!s->corrupt_reported++) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "qcow2: '%s': image is corrupt: ", bs->filename);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "; further writes refused (run 'vireo-img check -r all')\n");
        va_end(ap);
    }
    if (!bs->read_only && s->version >= 3 && !(s->incompat & Q2_INCOMPAT_CORRUPT)) {
        s->incompat |= Q2_INCOMPAT_CORRUPT;
        uint8_t b[8];
        q2_st64(b, s->incompat);
        blk_file_pwrite(&bs->file, 72, b, 8);
    }
    bs->read_only = true;
    return -EIO;
}

int q2_flush_file(blk *bs)
{
    return blk_file_flush(&bs->file);
}

int q2_hdr_write(blk *bs, uint32_t field, const void *val, size_t len)
{
    return blk_file_pwrite(&bs->file, field, val, len);
}

int q2_file_clusters(blk *bs, uint64_t *n)
{
    int64_t len = blk_file_length(&bs->file);
    if (len < 0) {
        return (int)len;
    }
    *n = q2_size_to_clusters(q2_of(bs), len);
    return 0;
}

/* Read a metadata table, refusing one that lies past the end of the file. */
int q2_read_table(blk *bs, uint64_t off, uint64_t bytes, void *buf, const char *what, char **err)
{
    int64_t flen = blk_file_length(&bs->file);
    if (flen < 0 || off > (uint64_t)flen || bytes > (uint64_t)flen - off) {
        blk_set_err(err, "'%s': %s (offset %llu, %llu bytes) lies past the end of the file",
                    bs->filename, what, (unsigned long long)off, (unsigned long long)bytes);
        return -EINVAL;
    }
    int r = blk_file_pread(&bs->file, off, buf, bytes);
    if (r < 0) {
        blk_set_err(err, "'%s': cannot read %s: %s", bs->filename, what, strerror(-r));
    }
    return r;
}

enum q2_ctype q2_decode(q2 *s, uint64_t e, uint64_t *host, uint64_t *csize)
{
    if (e & Q2_OFLAG_COMPRESSED) {
        /* "Compressed Clusters Descriptor": x = 62 - (cluster_bits - 8) */
        uint32_t x = 62 - (s->cluster_bits - 8);
        uint64_t off = e & ((1ull << x) - 1);
        uint64_t nsec = ((e >> x) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
        *host = off;
        *csize = nsec * 512 - (off & 511);
        return off ? Q2_COMPRESSED : Q2_BAD;
    }
    uint64_t off = e & Q2_OFFSET_MASK;
    *host = off;
    *csize = 0;
    if (s->version >= 3 && (e & Q2_OFLAG_ZERO)) {
        if (off & (s->cluster_size - 1)) {
            return Q2_BAD;
        }
        return off ? Q2_ZERO_ALLOC : Q2_ZERO;
    }
    if (!off) {
        return Q2_UNALLOC;
    }
    return (off & (s->cluster_size - 1)) ? Q2_BAD : Q2_NORMAL;
}

/* ---- metadata caches (write-through) -------------------------------------------------- */

static void cache_init(q2_cache *c, int n)
{
    c->n = n < 2 ? 2 : n;
    c->ent = calloc(c->n, sizeof(*c->ent));
}

static void cache_free(q2_cache *c)
{
    for (int i = 0; i < c->n && c->ent; i++) {
        free(c->ent[i].data);
    }
    free(c->ent);
    c->ent = NULL;
}

void q2_cache_drop(q2_cache *c, uint64_t off)
{
    for (int i = 0; i < c->n; i++) {
        if (c->ent[i].off == off) {
            c->ent[i].off = 0;
        }
    }
}

void q2_cache_clear(q2_cache *c)
{
    for (int i = 0; i < c->n; i++) {
        c->ent[i].off = 0;
    }
}

/* The cached copy of the cluster at `off`, loaded on a miss (evicting the least
 * recently used) or, with `fresh`, zero-filled without reading. */
static int cache_get(blk *bs, q2_cache *c, uint64_t off, bool fresh, uint8_t **out)
{
    q2 *s = q2_of(bs);
    int victim = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->ent[i].off == off) {
            c->ent[i].used = ++c->clock;
            *out = c->ent[i].data;
            if (fresh) {
                memset(*out, 0, s->cluster_size);
            }
            return 0;
        }
        if (c->ent[i].used < c->ent[victim].used || !c->ent[i].off) {
            if (c->ent[victim].off || !c->ent[i].off) {
                victim = c->ent[victim].off ? i : victim;
            }
        }
    }
    q2_cache_ent *e = &c->ent[victim];
    if (!e->data && posix_memalign((void **)&e->data, 4096, s->cluster_size)) {
        e->data = NULL;
        return -ENOMEM;
    }
    e->off = 0;
    if (fresh) {
        memset(e->data, 0, s->cluster_size);
    } else {
        int r = blk_file_pread(&bs->file, off, e->data, s->cluster_size);
        if (r < 0) {
            return r;
        }
    }
    e->off = off;
    e->used = ++c->clock;
    *out = e->data;
    return 0;
}

int q2_l2_load(blk *bs, uint64_t off, uint8_t **table)
{
    return cache_get(bs, &q2_of(bs)->l2c, off, false, table);
}

/* Write entries [first, first+n) of the cached L2 table at `off` through to disk. */
int q2_l2_store(blk *bs, uint64_t off, uint32_t first, uint32_t n)
{
    uint8_t *t;
    int r = q2_l2_load(bs, off, &t);
    if (r < 0) {
        return r;
    }
    return blk_file_pwrite(&bs->file, off + first * 8ull, t + first * 8ull, n * 8ull);
}

int q2_write_l1_entries(blk *bs, uint32_t first, uint32_t n)
{
    q2 *s = q2_of(bs);
    uint8_t *b = malloc(n * 8ull);
    if (!b) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        q2_st64(b + i * 8ull, s->l1[first + i]);
    }
    int r = blk_file_pwrite(&bs->file, s->l1_offset + first * 8ull, b, n * 8ull);
    free(b);
    return r;
}

/* ---- refcounts ("Host cluster management") -------------------------------------------- */

static uint64_t rb_get(q2 *s, const uint8_t *rb, uint64_t i)
{
    uint32_t order = s->refcount_order;
    if (order >= 3) {
        uint32_t bytes = 1u << (order - 3);
        uint64_t v = 0;
        for (uint32_t k = 0; k < bytes; k++) {
            v = v << 8 | rb[i * bytes + k];
        }
        return v;
    }
    uint32_t bits = 1u << order;
    return (rb[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
}

/* Sets entry i and returns the byte range that changed. */
static void rb_set(q2 *s, uint8_t *rb, uint64_t i, uint64_t v, uint64_t *byte, uint32_t *nbytes)
{
    uint32_t order = s->refcount_order;
    if (order >= 3) {
        uint32_t bytes = 1u << (order - 3);
        for (uint32_t k = 0; k < bytes; k++) {
            rb[i * bytes + bytes - 1 - k] = (uint8_t)(v >> (8 * k));
        }
        *byte = i * bytes;
        *nbytes = bytes;
        return;
    }
    uint32_t bits = 1u << order;
    uint32_t mask = ((1u << bits) - 1) << (i * bits % 8);
    uint8_t *p = &rb[i * bits / 8];
    *p = (uint8_t)((*p & ~mask) | ((v << (i * bits % 8)) & mask));
    *byte = i * bits / 8;
    *nbytes = 1;
}

static int rb_load(blk *bs, uint64_t bi, uint8_t **rb)
{
    q2 *s = q2_of(bs);
    uint64_t off = s->rt[bi] & ~511ull;
    if (off & (s->cluster_size - 1)) {
        return q2_mark_corrupt(bs, "refcount block %llu at unaligned offset %#llx",
                               (unsigned long long)bi, (unsigned long long)off);
    }
    return cache_get(bs, &s->rbc, off, false, rb);
}

int q2_refcount_get(blk *bs, uint64_t cluster, uint64_t *rc)
{
    q2 *s = q2_of(bs);
    uint64_t bi = cluster / s->rpb;
    *rc = 0;
    if (bi >= s->rt_size || !(s->rt[bi] & ~511ull)) {
        return 0;
    }
    uint8_t *rb;
    int r = rb_load(bs, bi, &rb);
    if (r < 0) {
        return r;
    }
    *rc = rb_get(s, rb, cluster % s->rpb);
    return 0;
}

static int grow_refcount_table(blk *bs, uint64_t need_bi, uint64_t busy_end);

/* A new refcount block for block index bi, placed inside the range it describes
 * (so it counts itself) and outside [busy, busy_end), the clusters being
 * allocated right now. */
static int new_refblock(blk *bs, uint64_t bi, uint64_t busy, uint64_t busy_end)
{
    q2 *s = q2_of(bs);
    if (bi >= s->rt_size) {
        int r = grow_refcount_table(bs, bi, busy_end);
        if (r < 0) {
            return r;
        }
        if (s->rt[bi] & ~511ull) {
            return 0;                   /* the growth placed one there already */
        }
    }
    uint64_t c = bi * s->rpb;
    while (c >= busy && c < busy_end) {
        c++;
    }
    if (c >= (bi + 1) * s->rpb) {
        return -ENOSPC;                 /* cannot happen: a block covers > 1 cluster */
    }
    uint8_t *rb;
    int r = cache_get(bs, &s->rbc, c << s->cluster_bits, true, &rb);
    if (r < 0) {
        return r;
    }
    uint64_t byte;
    uint32_t nb;
    rb_set(s, rb, c % s->rpb, 1, &byte, &nb);
    r = blk_file_pwrite(&bs->file, c << s->cluster_bits, rb, s->cluster_size);
    if (r < 0) {
        q2_cache_drop(&s->rbc, c << s->cluster_bits);
        return r;
    }
    s->rt[bi] = c << s->cluster_bits;
    uint8_t e[8];
    q2_st64(e, s->rt[bi]);
    r = blk_file_pwrite(&bs->file, s->rt_offset + bi * 8, e, 8);
    if (c + 1 > s->end_cluster) {
        s->end_cluster = c + 1;
    }
    return r;
}

static int refcount_set_busy(blk *bs, uint64_t cluster, uint64_t rc, uint64_t busy,
                             uint64_t busy_end)
{
    q2 *s = q2_of(bs);
    uint64_t bi = cluster / s->rpb;
    if (rc > s->refcount_max) {
        return q2_mark_corrupt(bs, "refcount of cluster %llu overflows",
                               (unsigned long long)cluster);
    }
    if (bi >= s->rt_size || !(s->rt[bi] & ~511ull)) {
        if (!rc) {
            return 0;
        }
        int r = new_refblock(bs, bi, busy, busy_end);
        if (r < 0) {
            return r;
        }
    }
    uint8_t *rb;
    int r = rb_load(bs, bi, &rb);
    if (r < 0) {
        return r;
    }
    uint64_t byte;
    uint32_t nb;
    rb_set(s, rb, cluster % s->rpb, rc, &byte, &nb);
    r = blk_file_pwrite(&bs->file, (s->rt[bi] & ~511ull) + byte, rb + byte, nb);
    if (rc == 0 && cluster < s->free_hint) {
        s->free_hint = cluster;
    }
    return r;
}

int q2_refcount_set(blk *bs, uint64_t cluster, uint64_t rc)
{
    return refcount_set_busy(bs, cluster, rc, 0, 0);
}

/* Cached state that must forget cluster `c`, whose refcount just became 0. */
static void cluster_freed(blk *bs, uint64_t c)
{
    q2 *s = q2_of(bs);
    q2_cache_drop(&s->l2c, c << s->cluster_bits);
    q2_cache_drop(&s->rbc, c << s->cluster_bits);
    if (s->zbuf_off && ((s->zbuf_off - 1) >> s->cluster_bits) == c) {
        s->zbuf_off = 0;
    }
    if (s->free_byte && (s->free_byte >> s->cluster_bits) == c) {
        s->free_byte = 0;
    }
    if (c < s->free_hint) {
        s->free_hint = c;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Add `addend` once per occurrence of each cluster index in c[0..n) (sorted in
 * place).  Each refcount block is changed in its cache and written once, so a
 * whole-table update (snapshot create/delete) is a few writes, not one per
 * cluster: the moments at which a crash finds the update half done are few. */
int q2_refcount_add_clusters(blk *bs, uint64_t *c, size_t n, int addend)
{
    q2 *s = q2_of(bs);
    qsort(c, n, sizeof(*c), cmp_u64);
    for (size_t i = 0; i < n;) {
        uint64_t bi = c[i] / s->rpb;
        size_t end = i;
        while (end < n && c[end] / s->rpb == bi) {
            end++;
        }
        if (bi >= s->rt_size || !(s->rt[bi] & ~511ull)) {
            /* no block yet: the one-by-one path creates it */
            for (; i < end; i++) {
                int r = q2_refcount_add(bs, c[i] << s->cluster_bits, 1, addend);
                if (r < 0) {
                    return r;
                }
            }
            continue;
        }
        uint8_t *rb;
        int r = rb_load(bs, bi, &rb);
        if (r < 0) {
            return r;
        }
        /* check every new count before changing any */
        for (size_t k = i; k < end;) {
            size_t m = k;
            while (m < end && c[m] == c[k]) {
                m++;
            }
            uint64_t rc = rb_get(s, rb, c[k] % s->rpb);
            int64_t d = (int64_t)addend * (int64_t)(m - k);
            if ((d < 0 && rc < (uint64_t)-d) || (d > 0 && rc + (uint64_t)d > s->refcount_max)) {
                return q2_mark_corrupt(bs, "refcount of cluster %llu would go from %llu by %lld",
                                       (unsigned long long)c[k], (unsigned long long)rc,
                                       (long long)d);
            }
            k = m;
        }
        uint64_t lo = UINT64_MAX, hi = 0;
        for (size_t k = i; k < end;) {
            size_t m = k;
            while (m < end && c[m] == c[k]) {
                m++;
            }
            uint64_t rc = rb_get(s, rb, c[k] % s->rpb), byte;
            uint32_t nb;
            rb_set(s, rb, c[k] % s->rpb, rc + (int64_t)addend * (int64_t)(m - k), &byte, &nb);
            lo = byte < lo ? byte : lo;
            hi = byte + nb > hi ? byte + nb : hi;
            k = m;
        }
        r = blk_file_pwrite(&bs->file, (s->rt[bi] & ~511ull) + lo, rb + lo, hi - lo);
        if (r < 0) {
            q2_cache_drop(&s->rbc, s->rt[bi] & ~511ull);    /* the cache is ahead of disk */
            return r;
        }
        if (addend < 0) {
            for (size_t k = i; k < end; k++) {
                uint64_t rc;
                if ((k == i || c[k] != c[k - 1]) && q2_refcount_get(bs, c[k], &rc) >= 0 && !rc) {
                    cluster_freed(bs, c[k]);
                }
            }
        }
        i = end;
    }
    return 0;
}

/* Add `addend` to the refcount of every cluster touched by [off, off+len). */
int q2_refcount_add(blk *bs, uint64_t off, uint64_t len, int addend)
{
    q2 *s = q2_of(bs);
    if (!len) {
        return 0;
    }
    uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        uint64_t rc;
        int r = q2_refcount_get(bs, c, &rc);
        if (r < 0) {
            return r;
        }
        if ((addend < 0 && rc < (uint64_t)-addend) ||
            (addend > 0 && rc + addend > s->refcount_max)) {
            return q2_mark_corrupt(bs, "refcount of cluster %llu would go from %llu by %d",
                                   (unsigned long long)c, (unsigned long long)rc, addend);
        }
        r = q2_refcount_set(bs, c, rc + addend);
        if (r < 0) {
            return r;
        }
        if (rc + addend == 0) {
            cluster_freed(bs, c);
        }
    }
    return 0;
}

/* n contiguous free clusters, their refcounts set to 1; returns the host offset. */
int64_t q2_alloc_clusters(blk *bs, uint64_t n)
{
    q2 *s = q2_of(bs);
    uint64_t c = s->free_hint, first_free = ~0ull;
    for (uint64_t i = 0; i < n;) {
        uint64_t rc;
        int r = q2_refcount_get(bs, c + i, &rc);
        if (r < 0) {
            return r;
        }
        if (!rc && first_free == ~0ull) {
            first_free = c + i;
        }
        if (rc) {
            c = c + i + 1;
            i = 0;
        } else {
            i++;
        }
        if (((c + n) << s->cluster_bits) >= Q2_MAX_SIZE) {
            return -ENOSPC;
        }
    }
    /* set the refcounts block by block: one write per refcount block touched */
    for (uint64_t i = 0; i < n;) {
        uint64_t bi = (c + i) / s->rpb;
        if (bi >= s->rt_size || !(s->rt[bi] & ~511ull)) {
            int r = refcount_set_busy(bs, c + i, 1, c, c + n);   /* makes the block */
            if (r < 0) {
                return r;
            }
            i++;
            continue;
        }
        uint8_t *rb;
        int r = rb_load(bs, bi, &rb);
        if (r < 0) {
            return r;
        }
        uint64_t first_byte = ~0ull, end_byte = 0;
        for (; i < n && (c + i) / s->rpb == bi; i++) {
            uint64_t byte;
            uint32_t nb;
            rb_set(s, rb, (c + i) % s->rpb, 1, &byte, &nb);
            first_byte = byte < first_byte ? byte : first_byte;
            end_byte = byte + nb > end_byte ? byte + nb : end_byte;
        }
        r = blk_file_pwrite(&bs->file, (s->rt[bi] & ~511ull) + first_byte, rb + first_byte,
                            end_byte - first_byte);
        if (r < 0) {
            return r;
        }
    }
    /* everything below the first free cluster seen is in use */
    s->free_hint = first_free == c ? c + n : first_free;
    if (c + n > s->end_cluster) {
        s->end_cluster = c + n;
    }
    return (int64_t)(c << s->cluster_bits);
}

/* Move the refcount table to the end of the image with room for block index
 * need_bi.  The new table's own clusters get their refcounts before the header
 * points at it, so a crash leaves only leaks. */
static int grow_refcount_table(blk *bs, uint64_t need_bi, uint64_t busy_end)
{
    q2 *s = q2_of(bs);
    uint64_t fc = 0;
    int r = q2_file_clusters(bs, &fc);
    if (r < 0) {
        return r;
    }
    uint64_t start = fc;
    if (s->end_cluster > start) {
        start = s->end_cluster;
    }
    if (busy_end > start) {
        start = busy_end;
    }
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t entries = s->rt_size * 2 > need_bi + 1 ? s->rt_size * 2 : need_bi + 1;
    uint64_t k, m, nb_new;
    for (;;) {
        entries = (entries + per_cluster - 1) / per_cluster * per_cluster;
        k = entries / per_cluster;
        /* refblocks needed for [start, start + k + m) not covered by the old table */
        m = 0;
        for (;;) {
            nb_new = 0;
            uint64_t end = start + k + m;
            for (uint64_t bi = start / s->rpb; bi <= (end - 1) / s->rpb; bi++) {
                if (bi >= s->rt_size || !(s->rt[bi] & ~511ull)) {
                    nb_new++;
                }
            }
            if (nb_new == m) {
                break;
            }
            m = nb_new;
        }
        if ((start + k + m - 1) / s->rpb < entries && need_bi < entries) {
            break;
        }
        entries *= 2;
    }
    if (k * s->cluster_size > Q2_MAX_RT_BYTES * 16ull) {
        return -EFBIG;
    }
    uint64_t *nrt = calloc(entries, 8);
    uint8_t *buf = calloc(k, s->cluster_size);
    if (!nrt || !buf) {
        free(nrt);
        free(buf);
        return -ENOMEM;
    }
    memcpy(nrt, s->rt, s->rt_size * 8);
    uint64_t end = start + k + m, next_rb = start + k;
    /* new refblocks, each counting the new clusters in its range */
    uint8_t *rb = calloc(1, s->cluster_size);
    for (uint64_t bi = start / s->rpb; bi <= (end - 1) / s->rpb && r >= 0; bi++) {
        if (bi < s->rt_size && (s->rt[bi] & ~511ull)) {
            continue;
        }
        memset(rb, 0, s->cluster_size);
        for (uint64_t c = bi * s->rpb; c < (bi + 1) * s->rpb; c++) {
            if (c >= start && c < end) {
                uint64_t byte;
                uint32_t nb;
                rb_set(s, rb, c % s->rpb, 1, &byte, &nb);
            }
        }
        nrt[bi] = next_rb << s->cluster_bits;
        r = blk_file_pwrite(&bs->file, next_rb << s->cluster_bits, rb, s->cluster_size);
        next_rb++;
    }
    free(rb);
    /* new clusters in ranges the old table already covers */
    for (uint64_t c = start; c < end && r >= 0; c++) {
        uint64_t bi = c / s->rpb;
        if (bi < s->rt_size && (s->rt[bi] & ~511ull)) {
            r = q2_refcount_set(bs, c, 1);
        }
    }
    for (uint64_t i = 0; i < entries && r >= 0; i++) {
        q2_st64(buf + i * 8, nrt[i]);
    }
    if (r >= 0) {
        r = blk_file_pwrite(&bs->file, start << s->cluster_bits, buf, k * s->cluster_size);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        uint8_t h[12];
        q2_st64(h, start << s->cluster_bits);
        q2_st32(h + 8, (uint32_t)k);
        r = q2_hdr_write(bs, 48, h, 12);
    }
    free(buf);
    if (r < 0) {
        free(nrt);
        return r;
    }
    q2_flush_file(bs);
    uint64_t old_off = s->rt_offset, old_k = s->rt_clusters;
    free(s->rt);
    s->rt = nrt;
    s->rt_size = entries;
    s->rt_offset = start << s->cluster_bits;
    s->rt_clusters = (uint32_t)k;
    if (end > s->end_cluster) {
        s->end_cluster = end;
    }
    return q2_refcount_add(bs, old_off, old_k << s->cluster_bits, -1);
}

/* ---- L1 resizing ------------------------------------------------------------------------- */

/* Replace the active L1 table by `l1` (n entries) at a new place. */
int q2_set_l1(blk *bs, const uint64_t *l1, uint32_t n, char **err)
{
    q2 *s = q2_of(bs);
    if ((uint64_t)n * 8 > Q2_MAX_L1_BYTES) {
        blk_set_err(err, "'%s': L1 table would be too large", bs->filename);
        return -EFBIG;
    }
    uint64_t bytes = (uint64_t)n * 8, clusters = q2_size_to_clusters(s, bytes ? bytes : 1);
    int64_t off = q2_alloc_clusters(bs, clusters);
    if (off < 0) {
        blk_set_err(err, "'%s': cannot allocate an L1 table: %s", bs->filename,
                    strerror((int)-off));
        return (int)off;
    }
    uint8_t *b = calloc(clusters, s->cluster_size);
    for (uint32_t i = 0; i < n; i++) {
        q2_st64(b + i * 8ull, l1[i]);
    }
    int r = blk_file_pwrite(&bs->file, off, b, clusters * s->cluster_size);
    free(b);
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        uint8_t h[12];
        q2_st32(h, n);
        q2_st64(h + 4, off);
        r = q2_hdr_write(bs, 36, h, 12);
    }
    if (r < 0) {
        blk_set_err(err, "'%s': cannot write the L1 table: %s", bs->filename, strerror(-r));
        return r;
    }
    uint64_t old = s->l1_offset, old_bytes = (uint64_t)s->l1_size * 8;
    uint64_t *nl1 = calloc(n ? n : 1, 8);
    memcpy(nl1, l1, bytes);
    free(s->l1);
    s->l1 = nl1;
    s->l1_size = n;
    s->l1_offset = off;
    if (old && old_bytes) {
        r = q2_refcount_add(bs, old, old_bytes, -1);
    }
    return r;
}

static int grow_l1(blk *bs, uint32_t need)
{
    q2 *s = q2_of(bs);
    if (need <= s->l1_size) {
        return 0;
    }
    uint64_t n = need + need / 2 > need ? (uint64_t)need + need / 2 : need;
    if (n * 8 > Q2_MAX_L1_BYTES) {
        n = need;
    }
    uint64_t *l1 = calloc(n, 8);
    memcpy(l1, s->l1, (uint64_t)s->l1_size * 8);
    int r = q2_set_l1(bs, l1, (uint32_t)n, NULL);
    free(l1);
    return r;
}

/* ---- mapping ------------------------------------------------------------------------------ */

/* The L2 entry for guest offset `off`: *e = 0 if the L1 entry is empty. */
static int get_l2_entry(blk *bs, uint64_t off, uint64_t *e)
{
    q2 *s = q2_of(bs);
    uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
    *e = 0;
    if (l1i >= s->l1_size) {
        return 0;
    }
    uint64_t l2off = s->l1[l1i] & Q2_OFFSET_MASK;
    if (!l2off) {
        return 0;
    }
    if (l2off & (s->cluster_size - 1)) {
        return q2_mark_corrupt(bs, "L2 table at unaligned offset %#llx",
                               (unsigned long long)l2off);
    }
    uint8_t *t;
    int r = q2_l2_load(bs, l2off, &t);
    if (r < 0) {
        return r;
    }
    *e = q2_be64(t + ((off >> s->cluster_bits) & (s->l2_entries - 1)) * 8);
    return 0;
}

/* An L2 table for guest offset `off` that may be written: allocated if absent,
 * copied if shared with a snapshot (refcount > 1). */
static int get_l2_for_write(blk *bs, uint64_t off, uint64_t *l2off_out)
{
    q2 *s = q2_of(bs);
    uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
    int r = grow_l1(bs, (uint32_t)(l1i + 1));
    if (r < 0) {
        return r;
    }
    uint64_t ent = s->l1[l1i], old = ent & Q2_OFFSET_MASK;
    if (old && (ent & Q2_OFLAG_COPIED)) {
        *l2off_out = old;
        return 0;
    }
    if (old & (s->cluster_size - 1)) {
        return q2_mark_corrupt(bs, "L2 table at unaligned offset %#llx",
                               (unsigned long long)old);
    }
    int64_t n = q2_alloc_clusters(bs, 1);
    if (n < 0) {
        return (int)n;
    }
    uint8_t *t;
    if (old) {
        uint8_t *src;
        r = q2_l2_load(bs, old, &src);
        if (r < 0) {
            return r;
        }
        uint8_t *copy = malloc(s->cluster_size);
        memcpy(copy, src, s->cluster_size);
        r = cache_get(bs, &s->l2c, n, true, &t);
        if (r >= 0) {
            memcpy(t, copy, s->cluster_size);
        }
        free(copy);
    } else {
        r = cache_get(bs, &s->l2c, n, true, &t);
    }
    if (r >= 0) {
        r = blk_file_pwrite(&bs->file, n, t, s->cluster_size);
    }
    if (r < 0) {
        q2_cache_drop(&s->l2c, n);
        return r;
    }
    s->l1[l1i] = (uint64_t)n | Q2_OFLAG_COPIED;
    r = q2_write_l1_entries(bs, (uint32_t)l1i, 1);
    if (r >= 0 && old) {
        r = q2_refcount_add(bs, old, 1, -1);
    }
    *l2off_out = n;
    return r;
}

/* ---- reading ------------------------------------------------------------------------------- */

static int read_compressed(blk *bs, uint64_t host, uint64_t csize, uint8_t **out)
{
    q2 *s = q2_of(bs);
    if (s->zbuf_off == host + 1) {
        *out = s->zbuf;
        return 0;
    }
    if (csize > 2 * s->cluster_size + 512) {
        return q2_mark_corrupt(bs, "compressed cluster too big");
    }
    uint8_t *in = malloc(csize);
    int r = in ? blk_file_pread(&bs->file, host, in, csize) : -ENOMEM;
    if (r >= 0) {
        z_stream z = { 0 };
        /* raw deflate, 4 KiB window ("Compressed Clusters Descriptor") */
        if (inflateInit2(&z, -12) != Z_OK) {
            r = -ENOMEM;
        } else {
            z.next_in = in;
            z.avail_in = (uInt)csize;
            z.next_out = s->zbuf;
            z.avail_out = (uInt)s->cluster_size;
            int zr = inflate(&z, Z_FINISH);
            if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || z.avail_out != 0) {
                r = q2_mark_corrupt(bs, "compressed cluster at %#llx does not inflate",
                                    (unsigned long long)host);
            }
            inflateEnd(&z);
        }
    }
    free(in);
    if (r < 0) {
        s->zbuf_off = 0;
        return r;
    }
    s->zbuf_off = host + 1;
    *out = s->zbuf;
    return 0;
}

/* Read guest [off, off+len) of this layer into buf; within one cluster. */
static int read_in_cluster(blk *bs, uint64_t off, uint8_t *buf, uint64_t len)
{
    q2 *s = q2_of(bs);
    uint64_t e, host, csize;
    int r = get_l2_entry(bs, off, &e);
    if (r < 0) {
        return r;
    }
    uint64_t in = off & (s->cluster_size - 1);
    switch (q2_decode(s, e, &host, &csize)) {
    case Q2_UNALLOC:
        return blk_read_backing(bs, off, buf, len);
    case Q2_ZERO:
    case Q2_ZERO_ALLOC:
        memset(buf, 0, len);
        return 0;
    case Q2_NORMAL:
        return blk_file_pread(&bs->file, host + in, buf, len);
    case Q2_COMPRESSED: {
        uint8_t *z = NULL;
        r = read_compressed(bs, host, csize, &z);
        if (r >= 0) {
            memcpy(buf, z + in, len);
        }
        return r;
    }
    default:
        return q2_mark_corrupt(bs, "bad L2 entry %#llx", (unsigned long long)e);
    }
}

static int q2_read_buf(blk *bs, uint64_t off, uint8_t *buf, uint64_t len)
{
    q2 *s = q2_of(bs);
    while (len) {
        uint64_t in = off & (s->cluster_size - 1);
        uint64_t n = s->cluster_size - in;
        if (n > len) {
            n = len;
        }
        uint64_t e, host, csize;
        int r = get_l2_entry(bs, off, &e);
        if (r < 0) {
            return r;
        }
        enum q2_ctype t = q2_decode(s, e, &host, &csize);
        if (t == Q2_NORMAL) {
            /* extend over host-contiguous clusters: one pread */
            while (n < len) {
                uint64_t e2, h2, c2;
                if (get_l2_entry(bs, off + n, &e2) < 0 ||
                    q2_decode(s, e2, &h2, &c2) != Q2_NORMAL || h2 != host + in + n) {
                    break;
                }
                n += len - n < s->cluster_size ? len - n : s->cluster_size;
            }
            r = blk_file_pread(&bs->file, host + in, buf, n);
        } else {
            r = read_in_cluster(bs, off, buf, n);
        }
        if (r < 0) {
            return r;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static int q2_preadv(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    if (iovcnt == 1) {
        return q2_read_buf(bs, off, iov[0].iov_base, len);
    }
    uint8_t *b = malloc(len);
    if (!b) {
        return -ENOMEM;
    }
    int r = q2_read_buf(bs, off, b, len);
    if (r >= 0) {
        blk_iov_from_buf(iov, iovcnt, 0, b, len);
    }
    free(b);
    return r;
}

/* ---- writing ------------------------------------------------------------------------------- */

static bool blk_buf_is_zero(const uint8_t *p, uint64_t n)
{
    return !n || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* Drop the reference an L2 entry held (after it no longer points there). */
static int release_entry(blk *bs, uint64_t e)
{
    q2 *s = q2_of(bs);
    uint64_t host, csize;
    switch (q2_decode(s, e, &host, &csize)) {
    case Q2_NORMAL:
    case Q2_ZERO_ALLOC:
        return q2_refcount_add(bs, host, 1, -1);
    case Q2_COMPRESSED:
        return q2_refcount_add(bs, host, csize, -1);
    default:
        return 0;
    }
}

/* Make fresh host clusters read as zeros without writing them: allocated,
 * unwritten extents (so the file is not sparse there), extending the file when
 * they lie past its end. */
static int zero_fill(blk *bs, uint64_t off, uint64_t len)
{
    if (bs->file.is_blockdev) {
        return -ENOTSUP;
    }
    int64_t flen = blk_file_length(&bs->file);
    int mode = flen >= 0 && (uint64_t)flen <= off ? 0 : FALLOC_FL_ZERO_RANGE;
    return fallocate(bs->file.fd, mode, off, len) < 0 ? -errno : 0;
}

/* Does the old content of the guest cluster at g read as zeros in this layer?
 * (need = 0: nothing of it is kept, so it does not matter) */
static bool old_reads_zero(blk *bs, uint64_t g, int need)
{
    q2 *s = q2_of(bs);
    if (!need) {
        return true;
    }
    uint64_t e, host, csize;
    if (get_l2_entry(bs, g, &e) < 0) {
        return false;
    }
    switch (q2_decode(s, e, &host, &csize)) {
    case Q2_ZERO:
    case Q2_ZERO_ALLOC:
        return true;
    case Q2_UNALLOC:
        return !bs->backing || g >= bs->backing->size;
    default:
        return false;
    }
}

/* Fill k freshly allocated host clusters at nh for guest clusters from gstart:
 * request bytes [in, in+n) come from buf, the rest is copied on write from the
 * old content.  When that old content is zeros, it is not written: clusters past
 * the end of the file already read as zeros, others are punched first. */
static int write_new_clusters(blk *bs, uint64_t gstart, uint64_t nh, uint64_t k, uint64_t in,
                              const uint8_t *buf, uint64_t n)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size, total = k * cs, tail = in + n;
    uint64_t vend = bs->size - gstart < total ? bs->size - gstart : total;
    if (!bs->file.direct && old_reads_zero(bs, gstart, in) &&
        old_reads_zero(bs, gstart + total - cs, tail < total ? 1 : 0)) {
        /* nothing to copy: no buffer, no reads */
        if (zero_fill(bs, nh, total) >= 0) {
            return blk_file_pwrite(&bs->file, nh + in, buf, n);
        }
    }
    uint8_t *data = NULL;
    if (posix_memalign((void **)&data, 4096, total)) {
        return -ENOMEM;
    }
    int r = 0;
    if (in) {
        r = read_in_cluster(bs, gstart, data, in);
    }
    if (r >= 0 && tail < vend) {
        r = read_in_cluster(bs, gstart + tail, data + tail, vend - tail);
    }
    if (vend < total && tail < total) {
        uint64_t z = vend > tail ? vend : tail;
        memset(data + z, 0, total - z);
    }
    bool zero_cow = r >= 0 && blk_buf_is_zero(data, in) &&
                    blk_buf_is_zero(data + tail, total - tail);
    if (r >= 0 && zero_cow && !bs->file.direct) {
        zero_cow = zero_fill(bs, nh, total) >= 0;
        if (zero_cow) {
            r = blk_file_pwrite(&bs->file, nh + in, buf, n);
            free(data);
            return r;
        }
    }
    if (r >= 0) {
        memcpy(data + in, buf, n);
        r = blk_file_pwrite(&bs->file, nh, data, total);
    }
    free(data);
    return r;
}

/* Write guest [off, off+len) from buf: in place where the clusters are ours
 * alone, else into newly allocated clusters (copy-on-write of partial clusters
 * from the old content: compressed, backing, zero).  Works per L2 table. */
static int q2_write_buf(blk *bs, uint64_t off, const uint8_t *buf, uint64_t len)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    while (len) {
        uint64_t l2off;
        int r = get_l2_for_write(bs, off, &l2off);
        if (r < 0) {
            return r;
        }
        uint8_t *t;
        r = q2_l2_load(bs, l2off, &t);
        if (r < 0) {
            return r;
        }
        uint64_t idx = (off >> s->cluster_bits) & (s->l2_entries - 1);
        uint64_t in = off & (cs - 1);
        /* how far this L2 table reaches into the request */
        uint64_t span = (s->l2_entries - idx) * cs - in;
        if (span > len) {
            span = len;
        }
        uint64_t e = q2_be64(t + idx * 8), host, csize;
        enum q2_ctype ty = q2_decode(s, e, &host, &csize);
        if (ty == Q2_BAD) {
            return q2_mark_corrupt(bs, "bad L2 entry %#llx", (unsigned long long)e);
        }
        if (ty == Q2_NORMAL && (e & Q2_OFLAG_COPIED)) {
            /* in place, over host-contiguous clusters we own */
            uint64_t n = cs - in < span ? cs - in : span;
            while (n < span) {
                uint64_t e2 = q2_be64(t + (idx + ((in + n) >> s->cluster_bits)) * 8), h2, c2;
                if (q2_decode(s, e2, &h2, &c2) != Q2_NORMAL || !(e2 & Q2_OFLAG_COPIED) ||
                    h2 != host + in + n) {
                    break;
                }
                n += span - n < cs ? span - n : cs;
            }
            r = blk_file_pwrite(&bs->file, host + in, buf, n);
            if (r < 0) {
                return r;
            }
            off += n;
            buf += n;
            len -= n;
            continue;
        }
        /* a run of clusters that all need new allocation */
        uint64_t k = 1;
        while (in + span > k * cs) {
            uint64_t e2 = q2_be64(t + (idx + k) * 8), h2, c2;
            enum q2_ctype t2 = q2_decode(s, e2, &h2, &c2);
            if (t2 == Q2_BAD || (t2 == Q2_NORMAL && (e2 & Q2_OFLAG_COPIED))) {
                break;
            }
            k++;
        }
        uint64_t n = k * cs - in < span ? k * cs - in : span;
        uint64_t gstart = off - in;             /* guest offset of the first cluster */
        int64_t nh = q2_alloc_clusters(bs, k);
        if (nh < 0) {
            return (int)nh;
        }
        r = write_new_clusters(bs, gstart, (uint64_t)nh, k, in, buf, n);
        if (r < 0) {
            return r;
        }
        /* the table may have been evicted by allocation (refblock loads share
         * nothing with it, but be safe) */
        r = q2_l2_load(bs, l2off, &t);
        if (r < 0) {
            return r;
        }
        uint64_t *old = malloc(k * 8);
        for (uint64_t i = 0; i < k; i++) {
            old[i] = q2_be64(t + (idx + i) * 8);
            q2_st64(t + (idx + i) * 8, ((uint64_t)nh + i * cs) | Q2_OFLAG_COPIED);
        }
        r = q2_l2_store(bs, l2off, (uint32_t)idx, (uint32_t)k);
        for (uint64_t i = 0; i < k && r >= 0; i++) {
            r = release_entry(bs, old[i]);
        }
        free(old);
        if (r < 0) {
            return r;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static int q2_pwritev(blk *bs, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt)
{
    if (iovcnt == 1) {
        return q2_write_buf(bs, off, iov[0].iov_base, len);
    }
    uint8_t *b = malloc(len);
    if (!b) {
        return -ENOMEM;
    }
    blk_iov_to_buf(iov, iovcnt, 0, b, len);
    int r = q2_write_buf(bs, off, b, len);
    free(b);
    return r;
}

static int q2_flush(blk *bs)
{
    return q2_flush_file(bs);
}

/* Set whole clusters [off, off+len) to `newent` (0 = unallocated, or the zero
 * flag), releasing what they pointed at. */
static int set_clusters(blk *bs, uint64_t off, uint64_t len, uint64_t newent)
{
    q2 *s = q2_of(bs);
    while (len) {
        uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
        uint64_t idx = (off >> s->cluster_bits) & (s->l2_entries - 1);
        uint64_t k = s->l2_entries - idx;
        if (k > len >> s->cluster_bits) {
            k = len >> s->cluster_bits;
        }
        if (newent == 0 && (l1i >= s->l1_size || !(s->l1[l1i] & Q2_OFFSET_MASK))) {
            off += k << s->cluster_bits;   /* already unallocated */
            len -= k << s->cluster_bits;
            continue;
        }
        uint64_t l2off;
        int r = get_l2_for_write(bs, off, &l2off);
        uint8_t *t;
        if (r >= 0) {
            r = q2_l2_load(bs, l2off, &t);
        }
        if (r < 0) {
            return r;
        }
        uint64_t *old = malloc(k * 8);
        for (uint64_t i = 0; i < k; i++) {
            old[i] = q2_be64(t + (idx + i) * 8);
            q2_st64(t + (idx + i) * 8, newent);
        }
        r = q2_l2_store(bs, l2off, (uint32_t)idx, (uint32_t)k);
        for (uint64_t i = 0; i < k && r >= 0; i++) {
            r = release_entry(bs, old[i]);
        }
        free(old);
        if (r < 0) {
            return r;
        }
        off += k << s->cluster_bits;
        len -= k << s->cluster_bits;
    }
    return 0;
}

/* Whole clusters inside [off, off+len), clipped at the virtual end (a short
 * last cluster counts as whole). */
static void whole_clusters(blk *bs, uint64_t off, uint64_t len, uint64_t *a, uint64_t *b)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    *a = (off + cs - 1) & ~(cs - 1);
    uint64_t end = off + len;
    *b = end == bs->size ? (end + cs - 1) & ~(cs - 1) : end & ~(cs - 1);
    if (*b < *a) {
        *b = *a;
    }
}

static int write_zero_bytes(blk *bs, uint64_t off, uint64_t len)
{
    if (!len) {
        return 0;
    }
    uint8_t *z = calloc(1, len);
    int r = z ? q2_write_buf(bs, off, z, len) : -ENOMEM;
    free(z);
    return r;
}

static int q2_pwrite_zeroes(blk *bs, uint64_t off, uint64_t len, unsigned flags)
{
    q2 *s = q2_of(bs);
    uint64_t a, b;
    whole_clusters(bs, off, len, &a, &b);
    uint64_t end = off + len;
    if (a >= b || (s->version < 3 && bs->backing)) {
        /* nothing whole, or v2 over a backing file: zeros must be written */
        return (flags & BLK_ZERO_NO_FALLBACK) ? -ENOTSUP : write_zero_bytes(bs, off, len);
    }
    int r = write_zero_bytes(bs, off, a - off);
    if (r >= 0) {
        r = set_clusters(bs, a, b - a, s->version >= 3 ? Q2_OFLAG_ZERO : 0);
    }
    if (r >= 0 && b < end) {
        r = write_zero_bytes(bs, b, end - b);
    }
    return r;
}

static int q2_discard(blk *bs, uint64_t off, uint64_t len)
{
    q2 *s = q2_of(bs);
    uint64_t a, b;
    whole_clusters(bs, off, len, &a, &b);
    if (a >= b) {
        return 0;
    }
    /* with a backing file, unallocated would show the backing data again */
    uint64_t ent = bs->backing ? (s->version >= 3 ? Q2_OFLAG_ZERO : ~0ull) : 0;
    return ent == ~0ull ? 0 : set_clusters(bs, a, b - a, ent);
}

/* One compressed cluster (convert -c).  Data that does not shrink is written
 * as a normal cluster. */
/* One deflate stream per thread, reset for each cluster: setting one up costs
 * a few hundred KiB of allocation and clearing per cluster otherwise. */
static pthread_key_t zkey;
static pthread_once_t zkey_once = PTHREAD_ONCE_INIT;

static void zstream_free(void *p)
{
    deflateEnd(p);
    free(p);
}

static void zkey_init(void)
{
    pthread_key_create(&zkey, zstream_free);
}

static z_stream *thread_zstream(void)
{
    pthread_once(&zkey_once, zkey_init);
    z_stream *z = pthread_getspecific(zkey);
    if (z) {
        return deflateReset(z) == Z_OK ? z : NULL;
    }
    z = calloc(1, sizeof(*z));
    /* raw deflate, 4 KiB window ("Compressed Clusters Descriptor"), zlib's
     * default level, as qemu-img writes them */
    if (!z || deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                           Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return NULL;
    }
    pthread_setspecific(zkey, z);
    return z;
}

/* Data that is already compressed or random costs deflate three times what
 * text does, only to be stored as it is.  Four 1 KiB samples spread over the
 * cluster are deflated first: if together they do not shrink at all, the
 * cluster is taken as incompressible.  (A cluster random in all four places
 * but compressible elsewhere is then stored uncompressed: larger, never wrong.) */
#define Q2_SAMPLE 1024
static bool looks_incompressible(z_stream *z, const uint8_t *p, uint64_t cs)
{
    if (cs < 16 * Q2_SAMPLE) {
        return false;
    }
    uint8_t out[8 * Q2_SAMPLE];
    z->next_out = out;
    z->avail_out = sizeof(out);
    for (int i = 0; i < 4; i++) {
        z->next_in = (uint8_t *)p + (cs / 4) * i;
        z->avail_in = Q2_SAMPLE;
        if (deflate(z, i == 3 ? Z_FINISH : Z_NO_FLUSH) == Z_STREAM_ERROR) {
            return false;
        }
    }
    bool incompressible = z->total_out >= z->total_in;
    deflateReset(z);
    return incompressible;
}

/* Deflate one cluster (zero-padded) into out (cluster_size bytes): thread safe,
 * uses no image state but the cluster size.  *clen = 0: it does not shrink. */
static int q2_compress(blk *bs, const void *buf, size_t len, void *out, size_t *clen)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    *clen = 0;
    if (len > cs) {
        return -EINVAL;
    }
    uint8_t *full = NULL;
    const uint8_t *in = buf;
    if (len < cs) {
        full = calloc(1, cs);
        if (!full) {
            return -ENOMEM;
        }
        memcpy(full, buf, len);
        in = full;
    }
    z_stream *z = thread_zstream();
    int r = 0;
    if (!z) {
        r = -ENOMEM;
    } else if (!looks_incompressible(z, in, cs)) {
        z->next_in = (uint8_t *)in;
        z->avail_in = (uInt)cs;
        z->next_out = out;
        z->avail_out = (uInt)len;       /* out holds len bytes; more would not shrink */
        int zr = deflate(z, Z_FINISH);
        uint64_t n = len - z->avail_out;
        *clen = zr == Z_STREAM_END && n < len ? n : 0;
    }
    free(full);
    return r;
}

/* Store clen bytes of deflated data as the compressed cluster at off. */
static int q2_pwrite_precompressed(blk *bs, uint64_t off, const void *cdata, size_t clen)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    const uint8_t *out = cdata;
    if ((off & (cs - 1)) || !clen || clen >= cs) {
        return -EINVAL;
    }
    int r = 0;
    uint64_t l2off;
    r = get_l2_for_write(bs, off, &l2off);
    /* place it: after the previous compressed cluster if it fits in that host
     * cluster, else in fresh clusters */
    uint64_t host = 0;
    if (r >= 0 && s->free_byte && (s->free_byte & (cs - 1)) &&
        (s->free_byte & (cs - 1)) + clen <= cs) {
        host = s->free_byte;
        r = q2_refcount_add(bs, host, 1, +1);
    } else if (r >= 0) {
        int64_t h = q2_alloc_clusters(bs, q2_size_to_clusters(s, clen));
        if (h < 0) {
            r = (int)h;
        }
        host = h;
    }
    if (r >= 0) {
        r = blk_file_pwrite(&bs->file, host, out, clen);
    }
    if (r < 0) {
        return r;
    }
    s->free_byte = host + clen;
    if (!(s->free_byte & (cs - 1))) {
        s->free_byte = 0;
    }
    uint32_t x = 62 - (s->cluster_bits - 8);
    uint64_t nsec_extra = ((host + clen - 1) >> 9) - (host >> 9);
    uint64_t ent = Q2_OFLAG_COMPRESSED | (nsec_extra << x) | host;
    uint8_t *t;
    r = q2_l2_load(bs, l2off, &t);
    if (r < 0) {
        return r;
    }
    uint64_t idx = (off >> s->cluster_bits) & (s->l2_entries - 1);
    uint64_t old = q2_be64(t + idx * 8);
    q2_st64(t + idx * 8, ent);
    r = q2_l2_store(bs, l2off, (uint32_t)idx, 1);
    return r < 0 ? r : release_entry(bs, old);
}

static int q2_block_status(blk *bs, uint64_t off, uint64_t len, blk_status *st)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    uint64_t e, host, csize;
    int r = get_l2_entry(bs, off, &e);
    if (r < 0) {
        return r;
    }
    enum q2_ctype t = q2_decode(s, e, &host, &csize);
    uint64_t in = off & (cs - 1);
    uint64_t n = cs - in;
    uint64_t next_host = host + cs;
    while (n < len) {
        uint64_t e2, h2, c2;
        if (get_l2_entry(bs, off + n, &e2) < 0) {
            break;
        }
        enum q2_ctype t2 = q2_decode(s, e2, &h2, &c2);
        /* allocated clusters (data or zero) extend a run only where their
         * host clusters are contiguous too: map shows one offset per run */
        bool hosted = t == Q2_NORMAL || t == Q2_ZERO_ALLOC;
        if (t2 != t || (hosted && h2 != next_host) || t == Q2_COMPRESSED) {
            break;
        }
        next_host += cs;
        n += cs;
    }
    st->len = n < len ? n : len;
    st->file = bs->filename;
    switch (t) {
    case Q2_UNALLOC:
        st->flags = 0;
        break;
    case Q2_ZERO:
        st->flags = BLK_ST_ALLOCATED | BLK_ST_ZERO;
        break;
    case Q2_ZERO_ALLOC:
        st->flags = BLK_ST_ALLOCATED | BLK_ST_ZERO | BLK_ST_OFFSET_VALID;
        st->map = host + in;
        break;
    case Q2_NORMAL:
        st->flags = BLK_ST_ALLOCATED | BLK_ST_DATA | BLK_ST_OFFSET_VALID;
        st->map = host + in;
        break;
    case Q2_COMPRESSED:
        st->flags = BLK_ST_ALLOCATED | BLK_ST_DATA | BLK_ST_COMPRESSED;
        break;
    default:
        return q2_mark_corrupt(bs, "bad L2 entry %#llx", (unsigned long long)e);
    }
    return 0;
}

/* ---- header ------------------------------------------------------------------------------- */

static int parse_extensions(blk *bs, const uint8_t *h, uint64_t hlen, uint64_t end, char **err)
{
    q2 *s = q2_of(bs);
    uint64_t p = hlen;
    while (p + 8 <= end) {
        uint32_t type = q2_be32(h + p), len = q2_be32(h + p + 4);
        p += 8;
        if (type == Q2_EXT_END) {
            return 0;
        }
        if (len > end - p) {
            blk_set_err(err, "'%s': header extension %#x runs past the header cluster",
                        bs->filename, type);
            return -EINVAL;
        }
        if (type == Q2_EXT_BACKING_FMT) {
            free(bs->backing_fmt);
            bs->backing_fmt = strndup((const char *)h + p, len);
        } else {
            if (s->n_exts >= 64) {
                blk_set_err(err, "'%s': too many header extensions", bs->filename);
                return -EINVAL;
            }
            s->exts = realloc(s->exts, (s->n_exts + 1) * sizeof(*s->exts));
            q2_ext *x = &s->exts[s->n_exts++];
            x->type = type;
            x->len = len;
            x->data = malloc(len ? len : 1);
            memcpy(x->data, h + p, len);
            if (type == Q2_EXT_FEATURES) {
                s->feature_names = (char *)x->data;
                s->feature_names_len = len;
            }
        }
        p += (len + 7) & ~7ull;
    }
    return 0;
}

/* The name of an incompatible feature bit from the feature name table. */
static const char *feature_name(q2 *s, int bit, char *buf, size_t n)
{
    for (uint32_t p = 0; s->feature_names && p + 48 <= s->feature_names_len; p += 48) {
        const uint8_t *f = (const uint8_t *)s->feature_names + p;
        if (f[0] == 0 && f[1] == bit) {
            snprintf(buf, n, "%.46s", (const char *)f + 2);
            return buf;
        }
    }
    snprintf(buf, n, "bit %d", bit);
    return buf;
}

static void q2_close(blk *bs)
{
    q2 *s = q2_of(bs);
    if (!s) {
        return;
    }
    if (!bs->read_only && s->l1) {
        q2_flush_file(bs);
    }
    cache_free(&s->l2c);
    cache_free(&s->rbc);
    free(s->l1);
    free(s->rt);
    q2_snap_free(s);
    for (int i = 0; i < s->n_exts; i++) {
        free(s->exts[i].data);
    }
    free(s->exts);
    free(s->zbuf);
    memset(s, 0, sizeof(*s));
}

static int q2_open(blk *bs, const blk_open_opts *opts, char **err)
{
    q2 *s = q2_of(bs);
    uint8_t h[Q2_V3_HEADER_LEN + 8] = { 0 };
    int64_t flen = blk_file_length(&bs->file);
    int r = blk_file_pread(&bs->file, 0, h, sizeof(h));
    if (r < 0 || flen < Q2_V2_HEADER_LEN) {
        blk_set_err(err, "'%s': too short for a qcow2 header", bs->filename);
        return -EINVAL;
    }
    if (q2_be32(h) != Q2_MAGIC) {
        blk_set_err(err, "'%s': not a qcow2 image (bad magic)", bs->filename);
        return -EINVAL;
    }
    s->version = q2_be32(h + 4);
    if (s->version != 2 && s->version != 3) {
        blk_set_err(err, "'%s': unsupported qcow2 version %u", bs->filename, s->version);
        return -ENOTSUP;
    }
    s->cluster_bits = q2_be32(h + 20);
    if (s->cluster_bits < Q2_MIN_CLUSTER_BITS || s->cluster_bits > Q2_MAX_CLUSTER_BITS) {
        blk_set_err(err, "'%s': cluster_bits %u out of range (9..21)", bs->filename,
                    s->cluster_bits);
        return -EINVAL;
    }
    uint64_t cs = s->cluster_size = 1ull << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_entries = cs / 8;
    if (s->version == 3) {
        s->incompat = q2_be64(h + 72);
        s->compat = q2_be64(h + 80);
        s->autoclear = q2_be64(h + 88);
        s->refcount_order = q2_be32(h + 96);
        s->header_length = q2_be32(h + 100);
        if (s->header_length < Q2_V3_HEADER_LEN || s->header_length > cs ||
            (s->header_length & 7)) {
            blk_set_err(err, "'%s': header_length %u invalid", bs->filename, s->header_length);
            return -EINVAL;
        }
        if (s->header_length > Q2_V3_HEADER_LEN) {
            s->compression_type = h[104];
        }
    } else {
        s->refcount_order = 4;
        s->header_length = Q2_V2_HEADER_LEN;
    }
    if (s->refcount_order > 6) {
        blk_set_err(err, "'%s': refcount_order %u out of range (0..6)", bs->filename,
                    s->refcount_order);
        return -EINVAL;
    }
    s->refcount_max = s->refcount_order == 6 ? ~0ull : (1ull << (1u << s->refcount_order)) - 1;
    s->rpb = cs * 8 >> s->refcount_order;

    /* the header cluster, extensions and backing name */
    uint8_t *hc = calloc(1, cs);
    r = blk_file_pread(&bs->file, 0, hc, cs);
    uint64_t bf_off = q2_be64(hc + 8);
    uint32_t bf_size = q2_be32(hc + 16);
    uint64_t ext_end = bf_off && bf_off < cs ? bf_off : cs;
    if (r >= 0) {
        r = parse_extensions(bs, hc, s->header_length, ext_end, err);
    }
    if (r >= 0 && bf_off) {
        if (bf_size > 1023 || bf_off > cs || bf_size > cs - bf_off) {
            blk_set_err(err, "'%s': backing file name (offset %llu, %u bytes) outside the "
                        "header cluster or too long", bs->filename,
                        (unsigned long long)bf_off, bf_size);
            r = -EINVAL;
        } else if (bf_size) {
            free(bs->backing_name);
            bs->backing_name = strndup((const char *)hc + bf_off, bf_size);
        }
    }
    free(hc);
    if (r < 0) {
        return r;
    }

    uint64_t known = Q2_INCOMPAT_DIRTY | Q2_INCOMPAT_CORRUPT | Q2_INCOMPAT_COMPRESSION;
    if (s->incompat & ~known) {
        char nb[64];
        int bit = __builtin_ctzll(s->incompat & ~known);
        blk_set_err(err, "'%s': unsupported qcow2 feature: %s", bs->filename,
                    feature_name(s, bit, nb, sizeof(nb)));
        return -ENOTSUP;
    }
    if ((s->incompat & Q2_INCOMPAT_COMPRESSION) ? s->compression_type != 0
                                                : s->compression_type != 0) {
        blk_set_err(err, "'%s': unsupported compression type %u (only zlib)", bs->filename,
                    s->compression_type);
        return -ENOTSUP;
    }
    if (q2_be32(h + 32)) {
        blk_set_err(err, "'%s': encrypted qcow2 images are not supported", bs->filename);
        return -ENOTSUP;
    }
    if ((s->incompat & Q2_INCOMPAT_CORRUPT) && !bs->read_only &&
        !(opts->flags & BLK_O_IGNORE_CORRUPT)) {
        blk_set_err(err, "'%s': image is marked corrupt; it can only be opened read-only "
                    "(repair with 'vireo-img check -r all')", bs->filename);
        return -EIO;
    }

    bs->size = q2_be64(h + 24);
    if (bs->size > Q2_MAX_SIZE) {
        blk_set_err(err, "'%s': virtual size %llu too large", bs->filename,
                    (unsigned long long)bs->size);
        return -EINVAL;
    }
    /* L1 ("Header": l1_size, l1_table_offset) */
    s->l1_size = q2_be32(h + 36);
    s->l1_offset = q2_be64(h + 40);
    uint64_t l2_cover = cs * s->l2_entries;
    uint64_t need_l1 = (bs->size + l2_cover - 1) / l2_cover;
    if ((uint64_t)s->l1_size * 8 > Q2_MAX_L1_BYTES || s->l1_size < need_l1) {
        blk_set_err(err, "'%s': L1 size %u invalid for a %llu byte disk", bs->filename,
                    s->l1_size, (unsigned long long)bs->size);
        return -EINVAL;
    }
    if (s->l1_size && ((s->l1_offset & (cs - 1)) || !s->l1_offset)) {
        blk_set_err(err, "'%s': L1 table offset %#llx invalid", bs->filename,
                    (unsigned long long)s->l1_offset);
        return -EINVAL;
    }
    s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
    if (s->l1_size) {
        uint8_t *b = malloc((uint64_t)s->l1_size * 8);
        r = q2_read_table(bs, s->l1_offset, (uint64_t)s->l1_size * 8, b, "L1 table", err);
        for (uint32_t i = 0; r >= 0 && i < s->l1_size; i++) {
            s->l1[i] = q2_be64(b + i * 8ull);
        }
        free(b);
        if (r < 0) {
            return r;
        }
    }
    /* refcount table */
    s->rt_offset = q2_be64(h + 48);
    s->rt_clusters = q2_be32(h + 56);
    if ((s->rt_offset & (cs - 1)) || !s->rt_offset || !s->rt_clusters ||
        (uint64_t)s->rt_clusters * cs > Q2_MAX_RT_BYTES * 16ull) {
        blk_set_err(err, "'%s': refcount table (offset %#llx, %u clusters) invalid",
                    bs->filename, (unsigned long long)s->rt_offset, s->rt_clusters);
        return -EINVAL;
    }
    s->rt_size = (uint64_t)s->rt_clusters * cs / 8;
    s->rt = calloc(s->rt_size, 8);
    uint8_t *b = malloc(s->rt_size * 8);
    if (!s->rt || !b) {
        free(b);
        return -ENOMEM;
    }
    r = q2_read_table(bs, s->rt_offset, s->rt_size * 8, b, "refcount table", err);
    for (uint64_t i = 0; r >= 0 && i < s->rt_size; i++) {
        s->rt[i] = q2_be64(b + i * 8);
    }
    free(b);
    if (r < 0) {
        return r;
    }
    /* snapshots */
    s->nb_snapshots = q2_be32(h + 60);
    s->snapshots_offset = q2_be64(h + 64);
    if (s->nb_snapshots > Q2_MAX_SNAPSHOTS ||
        (s->nb_snapshots && (!s->snapshots_offset || (s->snapshots_offset & (cs - 1))))) {
        blk_set_err(err, "'%s': snapshot table (%u snapshots at %#llx) invalid", bs->filename,
                    s->nb_snapshots, (unsigned long long)s->snapshots_offset);
        return -EINVAL;
    }
    r = q2_snap_load(bs, err);
    if (r < 0) {
        return r;
    }
    int l2n = (int)(L2_CACHE_BYTES / cs);
    cache_init(&s->l2c, l2n > 64 ? 64 : l2n);
    cache_init(&s->rbc, (int)(RB_CACHE_BYTES / cs) > 16 ? 16 : (int)(RB_CACHE_BYTES / cs));
    s->zbuf = malloc(cs);
    uint64_t fc = 0;
    q2_file_clusters(bs, &fc);
    s->end_cluster = fc;

    if (!bs->read_only) {
        /* bits we do not maintain (e.g. bitmaps) must go when we write */
        if (s->autoclear && s->version >= 3) {
            s->autoclear = 0;
            uint8_t z[8] = { 0 };
            r = q2_hdr_write(bs, 88, z, 8);
        }
        if ((s->incompat & Q2_INCOMPAT_DIRTY) && !(opts->flags & BLK_O_NO_REPAIR)) {
            /* lazy refcounts left behind by a crash: rebuild them */
            blk_check_result res;
            r = q2_check(bs, &res, BLK_FIX_LEAKS | BLK_FIX_ERRORS);
            blk_check_result_free(&res);
            if (r < 0) {
                blk_set_err(err, "'%s': repairing the dirty image failed", bs->filename);
                return r;
            }
        }
    }
    return r < 0 ? r : 0;
}

/* Write the whole header cluster from the state: fields, the extensions we
 * keep (unknown ones intact), backing format and name. */
int q2_rewrite_header(blk *bs, char **err)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    uint8_t *h = calloc(1, cs);
    int r = blk_file_pread(&bs->file, 0, h, s->version == 3 ? 112 : Q2_V2_HEADER_LEN);
    if (r < 0) {
        free(h);
        return r;
    }
    uint32_t hl = s->version == 3 ? (s->header_length < 112 ? 112 : s->header_length)
                                  : Q2_V2_HEADER_LEN;
    if (s->version == 2) {
        memset(h + Q2_V2_HEADER_LEN, 0, 112 - Q2_V2_HEADER_LEN);
    }
    q2_st32(h, Q2_MAGIC);
    q2_st32(h + 4, s->version);
    q2_st32(h + 20, s->cluster_bits);
    q2_st64(h + 24, bs->size);
    q2_st32(h + 36, s->l1_size);
    q2_st64(h + 40, s->l1_offset);
    q2_st64(h + 48, s->rt_offset);
    q2_st32(h + 56, s->rt_clusters);
    q2_st32(h + 60, s->nb_snapshots);
    q2_st64(h + 64, s->snapshots_offset);
    if (s->version == 3) {
        q2_st64(h + 72, s->incompat);
        q2_st64(h + 80, s->compat);
        q2_st64(h + 88, s->autoclear);
        q2_st32(h + 96, s->refcount_order);
        q2_st32(h + 100, hl);
        if (s->header_length < 112) {
            memset(h + 104, 0, 8);
        }
    }
    uint64_t p = hl;
    const char *bf = bs->backing_name, *bfmt = bs->backing_fmt;
    size_t need = p + 8 + (bf && bfmt ? 8 + ((strlen(bfmt) + 7) & ~7ull) : 0) +
                  (bf ? strlen(bf) : 0);
    for (int i = 0; i < s->n_exts; i++) {
        need += 8 + ((s->exts[i].len + 7ull) & ~7ull);
    }
    if (need > cs || (bf && strlen(bf) > 1023)) {
        blk_set_err(err, "'%s': header extensions and backing name do not fit in a cluster",
                    bs->filename);
        free(h);
        return -ENOSPC;
    }
    if (bf && bfmt) {
        q2_st32(h + p, Q2_EXT_BACKING_FMT);
        q2_st32(h + p + 4, (uint32_t)strlen(bfmt));
        memcpy(h + p + 8, bfmt, strlen(bfmt));
        p += 8 + ((strlen(bfmt) + 7) & ~7ull);
    }
    for (int i = 0; i < s->n_exts; i++) {
        q2_st32(h + p, s->exts[i].type);
        q2_st32(h + p + 4, s->exts[i].len);
        memcpy(h + p + 8, s->exts[i].data, s->exts[i].len);
        p += 8 + ((s->exts[i].len + 7ull) & ~7ull);
    }
    q2_st64(h + p, 0);                  /* end of extensions */
    p += 8;
    if (bf && *bf) {
        memcpy(h + p, bf, strlen(bf));
        q2_st64(h + 8, p);
        q2_st32(h + 16, (uint32_t)strlen(bf));
        p += strlen(bf);
    } else {
        q2_st64(h + 8, 0);
        q2_st32(h + 16, 0);
    }
    r = blk_file_pwrite(&bs->file, 0, h, (p + 511) & ~511ull);
    free(h);
    s->header_length = hl;
    if (r < 0) {
        blk_set_err(err, "'%s': cannot write the header: %s", bs->filename, strerror(-r));
    }
    return r;
}

static int q2_change_backing(blk *bs, const char *backing, const char *fmt, char **err)
{
    char *ob = bs->backing_name, *of = bs->backing_fmt;
    bs->backing_name = backing && *backing ? strdup(backing) : NULL;
    bs->backing_fmt = bs->backing_name && fmt && *fmt ? strdup(fmt) : NULL;
    int r = q2_rewrite_header(bs, err);
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    free(bs->backing_name);
    free(bs->backing_fmt);
    bs->backing_name = ob;              /* the generic layer installs the new ones */
    bs->backing_fmt = of;
    return r;
}

/* ---- info -------------------------------------------------------------------------------- */

static void q2_get_info(blk *bs, blk_info *info)
{
    q2 *s = q2_of(bs);
    info->cluster_size = (uint32_t)s->cluster_size;
    info->dirty = s->incompat & Q2_INCOMPAT_DIRTY;
}

static bool q2_format_specific(blk *bs, blk_json *j)
{
    q2 *s = q2_of(bs);
    blk_json_str(j, "type", "qcow2");
    blk_json_obj_begin(j, "data");
    blk_json_str(j, "compat", s->version == 3 ? "1.1" : "0.10");
    blk_json_str(j, "compression-type", "zlib");
    if (s->version == 3) {
        blk_json_bool(j, "lazy-refcounts", s->compat & Q2_COMPAT_LAZY_REFCOUNTS);
    }
    blk_json_int(j, "refcount-bits", 1 << s->refcount_order);
    if (s->version == 3) {
        blk_json_bool(j, "corrupt", s->incompat & Q2_INCOMPAT_CORRUPT);
        blk_json_bool(j, "extended-l2", false);
    }
    blk_json_obj_end(j);
    return true;
}

/* ---- resize, make_empty -------------------------------------------------------------------- */

static int q2_truncate(blk *bs, uint64_t size, bool shrink, enum blk_prealloc p, char **err)
{
    q2 *s = q2_of(bs);
    /* v3 snapshots record their own disk size (extra data), which apply
     * restores; v2 ones do not, so their size must not change */
    if (s->nb_snapshots && s->version < 3) {
        blk_set_err(err, "Can't resize a v2 image which has snapshots");
        return -ENOTSUP;
    }
    if (size > Q2_MAX_SIZE) {
        blk_set_err(err, "Size %llu too large for qcow2", (unsigned long long)size);
        return -EFBIG;
    }
    if (p != BLK_PREALLOC_OFF) {
        blk_set_err(err, "Preallocation on resize is not supported for qcow2");
        return -ENOTSUP;
    }
    int r = 0;
    uint64_t l2_cover = s->cluster_size * s->l2_entries;
    uint64_t need_l1 = (size + l2_cover - 1) / l2_cover;
    if (size < bs->size) {
        uint64_t a = (size + s->cluster_size - 1) & ~(s->cluster_size - 1);
        uint64_t old_end = (bs->size + s->cluster_size - 1) & ~(s->cluster_size - 1);
        if (a < old_end) {
            r = set_clusters(bs, a, old_end - a, 0);
        }
        if (r >= 0 && (size & (s->cluster_size - 1))) {
            /* the kept part of the last cluster: zero its tail so growing again
             * reads zeros */
            uint64_t keep_end = a, zstart = size;
            uint64_t saved = bs->size;
            r = write_zero_bytes(bs, zstart, keep_end - zstart);
            bs->size = saved;
        }
    } else if (need_l1 > s->l1_size) {
        if (need_l1 * 8 > Q2_MAX_L1_BYTES) {
            blk_set_err(err, "Size %llu too large for cluster size %llu",
                        (unsigned long long)size, (unsigned long long)s->cluster_size);
            return -EFBIG;
        }
        uint64_t *l1 = calloc(need_l1, 8);
        memcpy(l1, s->l1, (uint64_t)s->l1_size * 8);
        r = q2_set_l1(bs, l1, (uint32_t)need_l1, err);
        free(l1);
    }
    if (r < 0) {
        return r;
    }
    uint8_t b[8];
    q2_st64(b, size);
    r = q2_hdr_write(bs, 24, b, 8);
    if (r >= 0) {
        bs->size = size;
        r = q2_flush_file(bs);
    }
    return r;
}

static int q2_make_empty(blk *bs)
{
    q2 *s = q2_of(bs);
    uint64_t *old = malloc((uint64_t)s->l1_size * 8 + 8);
    memcpy(old, s->l1, (uint64_t)s->l1_size * 8);
    memset(s->l1, 0, (uint64_t)s->l1_size * 8);
    int r = q2_write_l1_entries(bs, 0, s->l1_size);
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        r = q2_update_refcounts(bs, old, s->l1_size, -1);
    }
    free(old);
    q2_cache_clear(&s->l2c);
    return r;
}

/* ---- creation ------------------------------------------------------------------------------ */

static int parse_bool(const char *v, bool *out)
{
    if (!v) {
        return 0;
    }
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
    } else {
        return -EINVAL;
    }
    return 0;
}

typedef struct q2_create_params {
    uint32_t version, cluster_bits, refcount_order;
    bool lazy;
    const char *backing, *backing_fmt;
    enum blk_prealloc prealloc;
} q2_create_params;

static int parse_create(const blk_kv *o, int n, q2_create_params *p, char **err)
{
    memset(p, 0, sizeof(*p));
    p->version = 3;
    p->cluster_bits = 16;
    p->refcount_order = 4;
    const char *v;
    if ((v = blk_kv_get(o, n, "compat"))) {
        if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
            p->version = 2;
        } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
            p->version = 3;
        } else {
            blk_set_err(err, "Parameter 'version' does not accept value '%s'", v);
            return -EINVAL;
        }
    }
    if ((v = blk_kv_get(o, n, "cluster_size"))) {
        int64_t cs = blk_parse_size(v);
        if (cs < 512 || cs > (2 << 20) || (cs & (cs - 1))) {
            blk_set_err(err, "Cluster size must be a power of two between 512 and 2048k");
            return -EINVAL;
        }
        p->cluster_bits = (uint32_t)__builtin_ctzll(cs);
    }
    if ((v = blk_kv_get(o, n, "refcount_bits"))) {
        char *e;
        unsigned long b = strtoul(v, &e, 10);
        if (*e || !b || b > 64 || (b & (b - 1))) {
            blk_set_err(err, "Refcount width must be a power of two and may not exceed 64 "
                        "bits");
            return -EINVAL;
        }
        p->refcount_order = (uint32_t)__builtin_ctzl(b);
    }
    if (parse_bool(blk_kv_get(o, n, "lazy_refcounts"), &p->lazy) < 0) {
        blk_set_err(err, "Parameter 'lazy_refcounts' expects 'on' or 'off'");
        return -EINVAL;
    }
    if (p->version == 2 && (p->lazy || p->refcount_order != 4)) {
        blk_set_err(err, p->lazy ? "Lazy refcounts only supported with compatibility level 1.1 "
                                   "and above (use version=v3 or greater)"
                                 : "Different refcount widths than 16 bits require "
                                   "compatibility level 1.1 or above (use version=v3 or "
                                   "greater)");
        return -EINVAL;
    }
    bool b = false;
    if (parse_bool(blk_kv_get(o, n, "extended_l2"), &b) < 0 || b) {
        blk_set_err(err, "extended_l2 is not supported");
        return -ENOTSUP;
    }
    if ((v = blk_kv_get(o, n, "compression_type")) && strcmp(v, "zlib")) {
        blk_set_err(err, "Compression type '%s' is not supported (zlib only)", v);
        return -ENOTSUP;
    }
    if ((v = blk_kv_get(o, n, "encryption")) && strcmp(v, "off")) {
        blk_set_err(err, "Encryption is not supported");
        return -ENOTSUP;
    }
    if ((v = blk_kv_get(o, n, "encrypt.format"))) {
        blk_set_err(err, "Encryption is not supported");
        return -ENOTSUP;
    }
    if (blk_kv_get(o, n, "data_file")) {
        blk_set_err(err, "External data files are not supported");
        return -ENOTSUP;
    }
    if (blk_parse_prealloc(blk_kv_get(o, n, "preallocation"), &p->prealloc) < 0) {
        blk_set_err(err, "Invalid preallocation mode: '%s' (off, metadata, falloc, full)",
                    blk_kv_get(o, n, "preallocation"));
        return -EINVAL;
    }
    p->backing = blk_kv_get(o, n, "backing_file");
    p->backing_fmt = blk_kv_get(o, n, "backing_fmt");
    if (p->backing && strlen(p->backing) > 1023) {
        blk_set_err(err, "Backing file name too long");
        return -EINVAL;
    }
    if (p->backing && p->prealloc != BLK_PREALLOC_OFF) {
        blk_set_err(err, "Backing file and preallocation can only be used at the same time "
                    "if extended_l2 is on");
        return -EINVAL;
    }
    return 0;
}

/* Metadata layout of a fresh image: header, refcount table, refcount blocks,
 * L1 table, each at cluster granularity; refblocks count everything. */
static void fresh_layout(uint32_t cb, uint32_t order, uint64_t l1_bytes, uint64_t extra_clusters,
                         uint64_t *t_out, uint64_t *r_out, uint64_t *l_out)
{
    uint64_t cs = 1ull << cb, rpb = cs * 8 >> order;
    uint64_t l = (l1_bytes + cs - 1) / cs;
    uint64_t t = 1, r = 1;
    for (int i = 0; i < 64; i++) {
        uint64_t total = 1 + t + r + l + extra_clusters;
        uint64_t nr = (total + rpb - 1) / rpb;
        uint64_t nt = (nr * 8 + cs - 1) / cs;
        if (nr == r && nt == t) {
            break;
        }
        r = nr;
        t = nt;
    }
    *t_out = t;
    *r_out = r;
    *l_out = l;
}

static int q2_create(const char *filename, uint64_t size, const blk_kv *o, int n, char **err)
{
    q2_create_params p;
    int r = parse_create(o, n, &p, err);
    if (r < 0) {
        return r;
    }
    uint64_t cs = 1ull << p.cluster_bits;
    if (size > Q2_MAX_SIZE) {
        blk_set_err(err, "Image size too large for qcow2");
        return -EFBIG;
    }
    uint64_t l2_cover = cs * (cs / 8);
    uint64_t l1_size = (size + l2_cover - 1) / l2_cover;
    if (l1_size * 8 > Q2_MAX_L1_BYTES) {
        blk_set_err(err, "Image size too large for cluster size %llu", (unsigned long long)cs);
        return -EFBIG;
    }
    uint64_t t, rb, l;
    fresh_layout(p.cluster_bits, p.refcount_order, l1_size * 8, 0, &t, &rb, &l);
    uint64_t total = 1 + t + rb + l;
    uint8_t *img = calloc(total, cs);
    if (!img) {
        return -ENOMEM;
    }
    /* refcount table and blocks */
    q2 s = { .refcount_order = p.refcount_order, .rpb = cs * 8 >> p.refcount_order };
    for (uint64_t i = 0; i < rb; i++) {
        q2_st64(img + cs * 1 + i * 8, (1 + t + i) * cs);
    }
    for (uint64_t c = 0; c < total; c++) {
        uint8_t *blkp = img + (1 + t + c / s.rpb) * cs;
        uint64_t byte;
        uint32_t nb;
        rb_set(&s, blkp, c % s.rpb, 1, &byte, &nb);
    }
    /* header */
    uint8_t *h = img;
    q2_st32(h, Q2_MAGIC);
    q2_st32(h + 4, p.version);
    q2_st32(h + 20, p.cluster_bits);
    q2_st64(h + 24, size);
    q2_st32(h + 36, (uint32_t)l1_size);
    q2_st64(h + 40, (1 + t + rb) * cs);
    q2_st64(h + 48, cs);
    q2_st32(h + 56, (uint32_t)t);
    uint64_t pos = Q2_V2_HEADER_LEN;
    if (p.version == 3) {
        q2_st64(h + 80, p.lazy ? Q2_COMPAT_LAZY_REFCOUNTS : 0);
        q2_st32(h + 96, p.refcount_order);
        q2_st32(h + 100, 112);
        pos = 112;
    }
    char *bfmt = NULL;
    if (p.backing) {
        /* the format recorded is the one given, else the one probed now */
        bfmt = p.backing_fmt ? strdup(p.backing_fmt) : NULL;
        if (!bfmt) {
            char *path = p.backing[0] == '/' ? strdup(p.backing) : NULL;
            if (!path) {
                char *copy = strdup(filename), *slash = strrchr(copy, '/');
                if (slash) {
                    slash[1] = 0;
                    path = blk_strdup_printf("%s%s", copy, p.backing);
                } else {
                    path = strdup(p.backing);
                }
                free(copy);
            }
            blk_open_opts bo = { .flags = BLK_O_NO_LOCK | BLK_O_NO_BACKING };
            blk *b = blk_open(path, &bo, NULL);
            if (b) {
                bfmt = strdup(b->drv->name);
                blk_close(b);
            }
            free(path);
        }
    }
    if (bfmt) {
        q2_st32(h + pos, Q2_EXT_BACKING_FMT);
        q2_st32(h + pos + 4, (uint32_t)strlen(bfmt));
        memcpy(h + pos + 8, bfmt, strlen(bfmt));
        pos += 8 + ((strlen(bfmt) + 7) & ~7ull);
    }
    pos += 8;                           /* end-of-extensions marker (zeros) */
    if (p.backing) {
        if (pos + strlen(p.backing) > cs) {
            free(bfmt);
            free(img);
            blk_set_err(err, "Backing file name does not fit in the header cluster");
            return -EINVAL;
        }
        memcpy(h + pos, p.backing, strlen(p.backing));
        q2_st64(h + 8, pos);
        q2_st32(h + 16, (uint32_t)strlen(p.backing));
    }
    free(bfmt);
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = -errno;
        blk_set_err(err, "Could not create '%s': %s", filename, strerror(errno));
        free(img);
        return r;
    }
    blk_file f = { .fd = fd, .align = 1 };
    r = blk_file_pwrite(&f, 0, img, total * cs);
    close(fd);
    free(img);
    if (r < 0) {
        blk_set_err(err, "Could not write '%s': %s", filename, strerror(-r));
        return r;
    }
    if (p.prealloc == BLK_PREALLOC_OFF) {
        return 0;
    }
    /* preallocation: map every cluster, in order, then allocate the file */
    blk_open_opts oo = { .flags = BLK_O_RDWR | BLK_O_NO_LOCK | BLK_O_NO_BACKING,
                         .format = "qcow2" };
    blk *bs = blk_open(filename, &oo, err);
    if (!bs) {
        return -EIO;
    }
    q2 *qs = q2_of(bs);
    uint64_t nclusters = (size + cs - 1) / cs;
    for (uint64_t c = 0; c < nclusters && r >= 0;) {
        uint64_t l2off;
        r = get_l2_for_write(bs, c * cs, &l2off);
        if (r < 0) {
            break;
        }
        uint64_t idx = c & (qs->l2_entries - 1);
        uint64_t k = qs->l2_entries - idx < nclusters - c ? qs->l2_entries - idx : nclusters - c;
        int64_t h0 = q2_alloc_clusters(bs, k);
        uint8_t *tb;
        if (h0 < 0 || q2_l2_load(bs, l2off, &tb) < 0) {
            r = h0 < 0 ? (int)h0 : -EIO;
            break;
        }
        for (uint64_t i = 0; i < k; i++) {
            q2_st64(tb + (idx + i) * 8, ((uint64_t)h0 + i * cs) | Q2_OFLAG_COPIED);
        }
        r = q2_l2_store(bs, l2off, (uint32_t)idx, (uint32_t)k);
        c += k;
    }
    uint64_t end = qs->end_cluster * cs;
    if (r >= 0 && p.prealloc == BLK_PREALLOC_FALLOC) {
        r = fallocate(bs->file.fd, 0, 0, end) < 0 ? -errno : 0;
    } else if (r >= 0 && p.prealloc == BLK_PREALLOC_FULL) {
        int64_t flen = blk_file_length(&bs->file);
        uint8_t *z = calloc(1, 1 << 20);
        for (uint64_t o2 = flen > 0 ? (uint64_t)flen : 0; o2 < end && r >= 0; o2 += 1 << 20) {
            r = blk_file_pwrite(&bs->file, o2, z, end - o2 < (1u << 20) ? end - o2 : 1 << 20);
        }
        free(z);
    } else if (r >= 0) {
        r = blk_file_truncate(&bs->file, end);
    }
    if (r < 0) {
        blk_set_err(err, "Preallocation of '%s' failed: %s", filename, strerror(-r));
    }
    blk_close(bs);
    return r;
}

/* v3 -> v2: zero clusters have no v2 form; without a backing file they
 * become unallocated (reads zero), with one they are written out as data. */
static int downgrade_zero_clusters(blk *bs)
{
    q2 *s = q2_of(bs);
    int r = 0;
    for (uint64_t g = 0; g < bs->size && r >= 0; g += s->cluster_size) {
        uint64_t e, hh, cc;
        r = get_l2_entry(bs, g, &e);
        if (r < 0) {
            break;
        }
        enum q2_ctype t = q2_decode(s, e, &hh, &cc);
        if (t == Q2_ZERO || t == Q2_ZERO_ALLOC) {
            uint64_t len = bs->size - g < s->cluster_size ? bs->size - g : s->cluster_size;
            r = set_clusters(bs, g, s->cluster_size, 0);
            if (r >= 0 && bs->backing) {
                r = write_zero_bytes(bs, g, len);
            }
        }
    }
    return r;
}

/* amend: all options are parsed and checked first, then applied in an order
 * that keeps every step valid: upgrade to v3, refcount width, lazy refcounts,
 * downgrade to v2, size.  The backing file is changed by rebase only. */
static int q2_amend(blk *bs, const blk_kv *o, int n, char **err)
{
    q2 *s = q2_of(bs);
    uint32_t ver = s->version, order = s->refcount_order;
    bool lazy = s->compat & Q2_COMPAT_LAZY_REFCOUNTS, lazy_given = false;
    int64_t size = -1;
    for (int i = 0; i < n; i++) {
        const char *k = o[i].key, *v = o[i].val;
        if (!strcmp(k, "compat")) {
            ver = !strcmp(v, "0.10") || !strcmp(v, "v2") ? 2
                : !strcmp(v, "1.1") || !strcmp(v, "v3") ? 3 : 0;
            if (!ver) {
                blk_set_err(err, "Unknown compatibility level %s", v);
                return -EINVAL;
            }
        } else if (!strcmp(k, "lazy_refcounts")) {
            if (parse_bool(v, &lazy) < 0) {
                blk_set_err(err, "Parameter 'lazy_refcounts' expects 'on' or 'off'");
                return -EINVAL;
            }
            lazy_given = true;
        } else if (!strcmp(k, "refcount_bits")) {
            char *e;
            unsigned long b = strtoul(v, &e, 10);
            if (*e || !b || b > 64 || (b & (b - 1))) {
                blk_set_err(err, "Refcount width must be a power of two and may not exceed "
                            "64 bits");
                return -EINVAL;
            }
            order = (uint32_t)__builtin_ctzl(b);
        } else if (!strcmp(k, "size")) {
            size = blk_parse_size(v);
            if (size < 0) {
                blk_set_err(err, "Parameter 'size' expects a non-negative number below 2^64");
                return -EINVAL;
            }
        } else if (!strcmp(k, "backing_file") || !strcmp(k, "backing_fmt")) {
            const char *cur = !strcmp(k, "backing_file") ? bs->backing_name : bs->backing_fmt;
            if (!cur || strcmp(cur, v)) {
                blk_set_err(err, "Cannot amend the backing file\n"
                            "You can use 'vireo-img rebase' instead.");
                return -ENOTSUP;
            }
        } else {
            blk_set_err(err, "Invalid parameter '%s'\n"
                        "This option is only supported for image creation", k);
            return -ENOTSUP;
        }
    }
    if (ver == 2 && lazy) {
        if (lazy_given) {
            blk_set_err(err, "Lazy refcounts only supported with compatibility level 1.1 "
                        "and above (use compat=1.1 or greater)");
            return -EINVAL;
        }
        lazy = false;                   /* a downgrade drops them */
    }
    if (ver == 2 && order != 4) {
        blk_set_err(err, "Refcount widths other than 16 bits require compatibility level "
                    "1.1 or above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (ver == 2 && s->version == 3 && s->incompat) {
        blk_set_err(err, "Cannot downgrade an image with incompatible features %#llx set",
                    (unsigned long long)s->incompat);
        return -ENOTSUP;
    }
    int r = 0;
    if (ver == 3 && s->version == 2) {
        s->version = 3;
        if (s->header_length < 112) {
            s->header_length = 112;
        }
        r = q2_rewrite_header(bs, err);
    }
    if (r >= 0 && order != s->refcount_order) {
        r = q2_change_refcount_order(bs, order, err);
    }
    if (r >= 0 && lazy != !!(s->compat & Q2_COMPAT_LAZY_REFCOUNTS)) {
        /* Vireo keeps refcounts up to date even with the flag on, so turning
         * it off needs no refcount repair */
        s->compat = lazy ? s->compat | Q2_COMPAT_LAZY_REFCOUNTS
                         : s->compat & ~Q2_COMPAT_LAZY_REFCOUNTS;
        uint8_t b[8];
        q2_st64(b, s->compat);
        r = q2_hdr_write(bs, 80, b, 8);
    }
    if (r >= 0 && ver == 2 && s->version == 3) {
        r = downgrade_zero_clusters(bs);
        if (r >= 0) {
            r = q2_flush_file(bs);
        }
        if (r >= 0) {
            s->version = 2;
            r = q2_rewrite_header(bs, err);
        }
    }
    if (r >= 0 && size >= 0 && (uint64_t)size != bs->size) {
        r = q2_truncate(bs, (uint64_t)size, false, BLK_PREALLOC_OFF, err);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    return r;
}

/* measure, as qemu-img reports it: "fully allocated" is every cluster of the
 * virtual size plus the metadata to map and count them; "required" is that
 * metadata (all L2 tables, refcounts for the full size) plus one cluster for
 * each target cluster the source has non-zero status in (all of them with
 * preallocation=falloc/full). */
static int q2_measure(const blk_kv *o, int n, uint64_t size, blk *src, uint64_t *required,
                      uint64_t *fully, char **err)
{
    q2_create_params p;
    int r = parse_create(o, n, &p, err);
    if (r < 0) {
        return r;
    }
    uint64_t cs = 1ull << p.cluster_bits;
    uint64_t l2_cover = cs * (cs / 8);
    uint64_t l1_size = (size + l2_cover - 1) / l2_cover;
    if (size > Q2_MAX_SIZE || l1_size * 8 > Q2_MAX_L1_BYTES) {
        blk_set_err(err, "The image size is too large (try using a larger cluster size)");
        return -EFBIG;
    }
    uint64_t vclusters = (size + cs - 1) / cs;
    uint64_t all_l2 = (vclusters + cs / 8 - 1) / (cs / 8);
    uint64_t t, rb, l;
    fresh_layout(p.cluster_bits, p.refcount_order, l1_size * 8, vclusters + all_l2, &t, &rb, &l);
    *fully = (1 + t + rb + l + vclusters + all_l2) * cs;
    uint64_t data = 0;
    if (p.prealloc == BLK_PREALLOC_FALLOC || p.prealloc == BLK_PREALLOC_FULL) {
        data = vclusters;
    } else if (src) {
        uint64_t next = 0;                  /* first target cluster not yet counted */
        uint64_t end = src->size < size ? src->size : size;
        for (uint64_t off = 0; off < end;) {
            blk_status st;
            r = blk_block_status_above(src, off, end - off, &st);
            if (r < 0) {
                blk_set_err(err, "Error reading the block status of the source: %s",
                            strerror(-r));
                return r;
            }
            if (!st.len) {
                break;
            }
            if (!(st.flags & BLK_ST_ZERO)) {
                uint64_t c0 = off / cs, c1 = (off + st.len - 1) / cs + 1;
                if (c0 < next) {
                    c0 = next;
                }
                if (c1 > c0) {
                    data += c1 - c0;
                    next = c1;
                }
            }
            off += st.len;
        }
    }
    *required = *fully - vclusters * cs + data * cs;
    return 0;
}

static int q2_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return len >= 8 && q2_be32(buf) == Q2_MAGIC && (q2_be32(buf + 4) == 2 ||
                                                   q2_be32(buf + 4) == 3) ? 100 : 0;
}

static const blk_opt_desc q2_create_opts[] = {
    { "size", "Virtual disk size" },
    { "compat", "Compatibility level (v2 = 0.10, v3 = 1.1)" },
    { "backing_file", "File name of a base image" },
    { "backing_fmt", "Image format of the base image" },
    { "cluster_size", "qcow2 cluster size (512 B .. 2 MiB)" },
    { "preallocation", "Preallocation mode (allowed values: off, metadata, falloc, full)" },
    { "lazy_refcounts", "Postpone refcount updates" },
    { "refcount_bits", "Width of a reference count entry in bits" },
    { "compression_type", "Compression method used for image cluster compression (zlib)" },
    { "extended_l2", "Extended L2 tables (off)" },
    { "encryption", "Encrypt the image (off)" },
    { "data_file", "File name of an external data file (unsupported)" },
    { NULL, NULL },
};

const blk_driver blk_drv_qcow2 = {
    .name = "qcow2",
    .state_size = sizeof(q2),
    .probe = q2_probe,
    .open = q2_open,
    .close = q2_close,
    .preadv = q2_preadv,
    .pwritev = q2_pwritev,
    .flush = q2_flush,
    .pwrite_zeroes = q2_pwrite_zeroes,
    .discard = q2_discard,
    .compress = q2_compress,
    .pwrite_precompressed = q2_pwrite_precompressed,
    .block_status = q2_block_status,
    .truncate = q2_truncate,
    .snapshot_create = q2_snapshot_create,
    .snapshot_list = q2_snapshot_list,
    .snapshot_apply = q2_snapshot_apply,
    .snapshot_load_tmp = q2_snapshot_load_tmp,
    .snapshot_delete = q2_snapshot_delete,
    .check = q2_check,
    .get_info = q2_get_info,
    .format_specific = q2_format_specific,
    .create_opts = q2_create_opts,
    .create = q2_create,
    .amend = q2_amend,
    .change_backing = q2_change_backing,
    .make_empty = q2_make_empty,
    .measure = q2_measure,
};
