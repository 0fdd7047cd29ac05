/* qcow2 consistency check and repair.
 *
 * The check walks every structure that references clusters (header, L1 tables
 * of the active state and of every snapshot, L2 tables, data and compressed
 * clusters, snapshot table, refcount table and blocks), counts the references
 * per host cluster and compares them with the stored refcounts: fewer stored
 * than referenced is a corruption, more is a leak.  Repair of leaks lowers the
 * stored counts; repair of errors (-r all) drops invalid mappings and rebuilds
 * the whole refcount structure from the computed counts at the end of the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "block/qcow2-int.h"

#define CHECK_MAX_CLUSTERS (64ull << 20)

typedef struct walk {
    blk *bs;
    blk_check_result *res;
    uint32_t *refs;
    uint64_t nb;                        /* clusters counted (file size) */
    bool rt_broken;                     /* a refcount block pointer is invalid */
    /* bad active entries to drop in -r all: (l2 offset or 0 for L1, index) */
    uint64_t (*bad)[2];
    size_t n_bad;
    uint64_t next_contig;
} walk;

static void add_bad(walk *w, uint64_t table, uint64_t index)
{
    w->bad = realloc(w->bad, (w->n_bad + 1) * sizeof(*w->bad));
    w->bad[w->n_bad][0] = table;
    w->bad[w->n_bad][1] = index;
    w->n_bad++;
}

/* One reference to every cluster of [off, off+len). */
static bool ref(walk *w, uint64_t off, uint64_t len, const char *what)
{
    q2 *s = q2_of(w->bs);
    if (!len) {
        return true;
    }
    uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
    if (last >= w->nb) {
        blk_check_msg(w->res, "ERROR %s at offset %#llx lies past the end of the image",
                      what, (unsigned long long)off);
        w->res->corruptions++;
        return false;
    }
    for (uint64_t c = first; c <= last; c++) {
        if (w->refs[c] < UINT32_MAX) {
            w->refs[c]++;
        }
    }
    return true;
}

static int walk_l1(walk *w, const uint64_t *l1, uint32_t n, bool active)
{
    blk *bs = w->bs;
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    uint8_t *t = malloc(cs);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2off = l1[i] & Q2_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        if ((l2off & (cs - 1)) || (l1[i] & Q2_L1_RESERVED)) {
            blk_check_msg(w->res, "ERROR invalid L1 entry %u: %#llx", i,
                          (unsigned long long)l1[i]);
            w->res->corruptions++;
            if (active) {
                add_bad(w, 0, i);
            }
            continue;
        }
        if (!ref(w, l2off, cs, "L2 table")) {
            if (active) {
                add_bad(w, 0, i);
            }
            continue;
        }
        if (blk_file_pread(&bs->file, l2off, t, cs) < 0) {
            w->res->check_errors++;
            continue;
        }
        w->next_contig = 0;             /* fragmentation is counted per L2 table */
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = q2_be64(t + j * 8), host, csize;
            enum q2_ctype ty = q2_decode(s, e, &host, &csize);
            bool ok = true;
            switch (ty) {
            case Q2_NORMAL:
            case Q2_ZERO_ALLOC:
                if (e & Q2_L2_RESERVED) {
                    ok = false;
                    break;
                }
                ok = ref(w, host, 1, "data cluster");
                if (active) {
                    /* preallocated zero clusters count as allocated, and in
                     * the contiguity of the data, as qemu-img counts them */
                    w->res->allocated_clusters++;
                    if (w->next_contig && host != w->next_contig) {
                        w->res->fragmented_clusters++;
                    }
                    w->next_contig = host + cs;
                }
                break;
            case Q2_COMPRESSED:
                ok = ref(w, host, csize, "compressed cluster");
                if (active) {
                    /* qemu-img counts every compressed cluster as fragmented */
                    w->res->allocated_clusters++;
                    w->res->compressed_clusters++;
                    w->res->fragmented_clusters++;
                }
                break;
            case Q2_ZERO:                   /* no host cluster: not allocated */
                break;
            case Q2_BAD:
                ok = false;
                break;
            default:
                break;
            }
            if (!ok) {
                if (ty == Q2_BAD || (e & Q2_L2_RESERVED)) {
                    blk_check_msg(w->res, "ERROR invalid L2 entry %#llx in table %#llx",
                                  (unsigned long long)e, (unsigned long long)l2off);
                    w->res->corruptions++;
                }
                if (active) {
                    add_bad(w, l2off, j);
                }
            }
        }
    }
    free(t);
    return 0;
}

/* Count every reference; refs[] has w->nb entries. */
static int count_refs(walk *w, bool with_refcount_structs)
{
    blk *bs = w->bs;
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    ref(w, 0, cs, "header");
    ref(w, s->l1_offset, (uint64_t)s->l1_size * 8, "L1 table");
    walk_l1(w, s->l1, s->l1_size, true);
    ref(w, s->snapshots_offset, s->snapshots_size, "snapshot table");
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        q2_snap *sn = &s->snaps[i];
        uint64_t bytes = (uint64_t)sn->l1_size * 8;
        if (!ref(w, sn->l1_offset, bytes, "snapshot L1 table")) {
            continue;
        }
        uint8_t *b = malloc(bytes + 8);
        uint64_t *l1 = calloc(sn->l1_size + 1, 8);
        if (blk_file_pread(&bs->file, sn->l1_offset, b, bytes) >= 0) {
            for (uint32_t k = 0; k < sn->l1_size; k++) {
                l1[k] = q2_be64(b + k * 8ull);
            }
            walk_l1(w, l1, sn->l1_size, false);
        } else {
            w->res->check_errors++;
        }
        free(b);
        free(l1);
    }
    if (!with_refcount_structs) {
        return 0;
    }
    ref(w, s->rt_offset, (uint64_t)s->rt_clusters * cs, "refcount table");
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t off = s->rt[i] & ~511ull;
        if (!off) {
            continue;
        }
        if ((off & (cs - 1)) || (off >> s->cluster_bits) >= w->nb) {
            blk_check_msg(w->res, "ERROR refcount block %llu is not cluster aligned or lies "
                          "past the end of the image; refcount table entry corrupted",
                          (unsigned long long)i);
            w->res->corruptions++;
            w->rt_broken = true;
            continue;
        }
        ref(w, off, cs, "refcount block");
    }
    return 0;
}

/* Compare stored with computed refcounts; with `fix_leaks`, lower leaked ones. */
static int compare(walk *w, bool fix_leaks, bool quiet, int64_t *leaks_fixed)
{
    blk *bs = w->bs;
    q2 *s = q2_of(bs);
    uint64_t limit = w->nb;
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t off = s->rt[i] & ~511ull;
        if (off && !(off & (s->cluster_size - 1)) && (off >> s->cluster_bits) < w->nb &&
            (i + 1) * s->rpb > limit) {
            limit = (i + 1) * s->rpb;
        }
    }
    for (uint64_t c = 0; c < limit; c++) {
        uint64_t bi = c / s->rpb;
        if (c >= w->nb && (bi >= s->rt_size || !(s->rt[bi] & ~511ull))) {
            c = (bi + 1) * s->rpb - 1;  /* no block: nothing stored here */
            continue;
        }
        uint64_t stored = 0, want = c < w->nb ? w->refs[c] : 0;
        uint64_t off = bi < s->rt_size ? s->rt[bi] & ~511ull : 0;
        if (off && ((off & (s->cluster_size - 1)) || (off >> s->cluster_bits) >= w->nb)) {
            off = 0;                    /* broken pointer: reported already */
        }
        if (off && q2_refcount_get(bs, c, &stored) < 0) {
            w->res->check_errors++;
            continue;
        }
        if (stored && ((c + 1) << s->cluster_bits) > w->res->image_end_offset) {
            /* qemu-img's image end counts stored refcounts, leaks included */
            w->res->image_end_offset = (c + 1) << s->cluster_bits;
        }
        if (stored == want) {
            continue;
        }
        if (stored < want) {
            if (!quiet) {
                blk_check_msg(w->res, "ERROR cluster %llu refcount=%llu reference=%llu",
                              (unsigned long long)c, (unsigned long long)stored,
                              (unsigned long long)want);
            }
            w->res->corruptions++;
        } else if (fix_leaks) {
            if (!quiet) {
                blk_check_msg(w->res, "Repairing cluster %llu refcount=%llu reference=%llu",
                              (unsigned long long)c, (unsigned long long)stored,
                              (unsigned long long)want);
            }
            if (q2_refcount_set(bs, c, want) >= 0) {
                (*leaks_fixed)++;
            }
        } else {
            if (!quiet) {
                blk_check_msg(w->res, "Leaked cluster %llu refcount=%llu reference=%llu",
                              (unsigned long long)c, (unsigned long long)stored,
                              (unsigned long long)want);
            }
            w->res->leaks++;
        }
    }
    return 0;
}

/* COPIED must be set exactly where the stored refcount is 1 (active tables;
 * qcow2 spec, "Cluster mapping").  A mismatch is a corruption.  With `repair`,
 * a flag is rewritten where the stored refcount equals the computed number of
 * references: the count is right there, so the flag is what is wrong.  This
 * is what leaves an image clean after its leaks were repaired, for the
 * lowered refcounts change what the flags must say (qemu-img repairs the
 * flags under -r leaks as well).  Returns the number of mismatches found;
 * those not repaired are added to the corruptions. */
static int64_t check_copied(walk *w, bool repair)
{
    blk *bs = w->bs;
    q2 *s = q2_of(bs);
    int64_t found = 0;
    uint8_t *t = malloc(s->cluster_size);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2off = s->l1[i] & Q2_OFFSET_MASK, rc;
        if (!l2off || (l2off & (s->cluster_size - 1)) || (l2off >> s->cluster_bits) >= w->nb ||
            q2_refcount_get(bs, l2off >> s->cluster_bits, &rc) < 0) {
            continue;
        }
        if ((rc == 1) != !!(s->l1[i] & Q2_OFLAG_COPIED)) {
            bool fix = repair && rc == w->refs[l2off >> s->cluster_bits];
            blk_check_msg(w->res, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%llx "
                          "refcount=%llu", fix ? "Repairing" : "ERROR", i,
                          (unsigned long long)s->l1[i], (unsigned long long)rc);
            if (fix) {
                s->l1[i] ^= Q2_OFLAG_COPIED;
                if (q2_write_l1_entries(bs, i, 1) < 0) {
                    w->res->check_errors++;
                }
            } else {
                w->res->corruptions++;
            }
            found++;
        }
        if (blk_file_pread(&bs->file, l2off, t, s->cluster_size) < 0) {
            continue;
        }
        bool changed = false;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = q2_be64(t + j * 8), host, csize, drc;
            enum q2_ctype ty = q2_decode(s, e, &host, &csize);
            if ((ty != Q2_NORMAL && ty != Q2_ZERO_ALLOC) || (host >> s->cluster_bits) >= w->nb ||
                q2_refcount_get(bs, host >> s->cluster_bits, &drc) < 0) {
                continue;
            }
            if ((drc == 1) != !!(e & Q2_OFLAG_COPIED)) {
                bool fix = repair && drc == w->refs[host >> s->cluster_bits];
                blk_check_msg(w->res, "%s OFLAG_COPIED data cluster: l2_entry=%llx "
                              "refcount=%llu", fix ? "Repairing" : "ERROR",
                              (unsigned long long)e, (unsigned long long)drc);
                if (fix) {
                    q2_st64(t + j * 8, e ^ Q2_OFLAG_COPIED);
                    changed = true;
                } else {
                    w->res->corruptions++;
                }
                found++;
            }
        }
        if (changed) {
            /* the table on disk is the truth from here on: drop the cached copy */
            q2_cache_drop(&s->l2c, l2off);
            if (blk_file_pwrite(&bs->file, l2off, t, s->cluster_size) < 0) {
                w->res->check_errors++;
            }
        }
    }
    free(t);
    return found;
}

/* Replace the refcount structure by one built from computed counts, placed at
 * the end of the file, with entries `order` bits wide (log2).  The header
 * switch (table offset, size and width in one write of bytes 48..99, inside
 * the first sector) is the commit point; the old structure becomes free. */
static int rebuild_refcounts(blk *bs, walk *w, uint32_t order)
{
    q2 *s = q2_of(bs);
    uint64_t cs = s->cluster_size;
    uint64_t rpb = cs * 8 >> order;
    uint64_t rmax = order == 6 ? ~0ull : (1ull << (1u << order)) - 1;
    uint64_t end = 0;
    for (uint64_t c = 0; c < w->nb; c++) {
        if (w->refs[c]) {
            end = c + 1;
        }
    }
    uint64_t start = w->nb > end ? w->nb : end;
    uint64_t nrb = 1, t = 1;
    for (int i = 0; i < 64; i++) {
        uint64_t total = start + t + nrb;
        uint64_t n2 = (total + rpb - 1) / rpb;
        uint64_t t2 = (n2 * 8 + cs - 1) / cs;
        if (n2 == nrb && t2 == t) {
            break;
        }
        nrb = n2;
        t = t2;
    }
    uint64_t total = start + t + nrb;
    uint8_t *rbs = calloc(nrb, cs);
    uint8_t *tab = calloc(t, cs);
    if (!rbs || !tab) {
        free(rbs);
        free(tab);
        return -ENOMEM;
    }
    for (uint64_t c = 0; c < total; c++) {
        uint64_t v = c < w->nb ? w->refs[c] : (c >= start ? 1 : 0);
        if (v > rmax) {
            v = rmax;
        }
        if (v) {
            /* entry width 2^order bits: big-endian bytes from 8 bits up, packed
             * from the least significant bit below (qcow2 spec, refcount blocks) */
            uint8_t *rb = rbs + (c / rpb) * cs;
            uint64_t i = c % rpb;
            if (order >= 3) {
                uint32_t bytes = 1u << (order - 3);
                for (uint32_t k = 0; k < bytes; k++) {
                    rb[i * bytes + bytes - 1 - k] = (uint8_t)(v >> (8 * k));
                }
            } else {
                uint32_t bits = 1u << order;
                rb[i * bits / 8] |= (uint8_t)(v << (i * bits % 8));
            }
        }
    }
    for (uint64_t i = 0; i < nrb; i++) {
        q2_st64(tab + i * 8, (start + t + i) * cs);
    }
    int r = blk_file_pwrite(&bs->file, (start + t) * cs, rbs, nrb * cs);
    if (r >= 0) {
        r = blk_file_pwrite(&bs->file, start * cs, tab, t * cs);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    uint8_t h[52];
    if (r >= 0) {
        r = blk_file_pread(&bs->file, 48, h, sizeof(h));
    }
    if (r >= 0) {
        q2_st64(h, start * cs);
        q2_st32(h + 8, (uint32_t)t);
        if (s->version >= 3) {
            q2_st32(h + 96 - 48, order);
        }
        r = blk_file_pwrite(&bs->file, 48, h, s->version >= 3 ? sizeof(h) : 12);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    free(rbs);
    if (r < 0) {
        free(tab);
        return r;
    }
    free(s->rt);
    s->rt_size = t * cs / 8;
    s->rt = calloc(s->rt_size, 8);
    for (uint64_t i = 0; i < nrb; i++) {
        s->rt[i] = (start + t + i) * cs;
    }
    free(tab);
    s->rt_offset = start * cs;
    s->rt_clusters = (uint32_t)t;
    s->refcount_order = order;
    s->rpb = rpb;
    s->refcount_max = rmax;
    q2_cache_clear(&s->rbc);
    s->free_hint = 0;
    s->free_byte = 0;
    s->end_cluster = total;
    return 0;
}

static int run_check(blk *bs, blk_check_result *res, walk *w, bool with_rc)
{
    q2 *s = q2_of(bs);
    uint64_t fc;
    int r = q2_file_clusters(bs, &fc);
    if (r < 0) {
        return r;
    }
    memset(w, 0, sizeof(*w));
    w->bs = bs;
    w->res = res;
    w->nb = fc;
    if (w->nb > CHECK_MAX_CLUSTERS) {
        blk_check_msg(res, "The image has too many clusters (%llu) to check",
                      (unsigned long long)w->nb);
        res->check_errors++;
        return -EFBIG;
    }
    w->refs = calloc(w->nb + 1, sizeof(*w->refs));
    if (!w->refs) {
        res->check_errors++;
        return -ENOMEM;
    }
    count_refs(w, with_rc);
    res->total_clusters = (bs->size + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t end = 0;
    for (uint64_t c = 0; c < w->nb; c++) {
        if (w->refs[c]) {
            end = c + 1;
        }
    }
    res->image_end_offset = end << s->cluster_bits;
    return 0;
}

static void free_walk(walk *w)
{
    free(w->refs);
    free(w->bad);
    w->refs = NULL;
    w->bad = NULL;
}

int q2_check(blk *bs, blk_check_result *res, unsigned fix)
{
    q2 *s = q2_of(bs);
    walk w;
    int r = run_check(bs, res, &w, true);
    if (r < 0) {
        free_walk(&w);
        return 0;                       /* reported through check_errors */
    }
    int64_t leaks_fixed = 0;
    compare(&w, false, false, &leaks_fixed);
    int64_t copied_bad = check_copied(&w, false);
    if (!fix || (!res->corruptions && !res->leaks && !(s->incompat & Q2_INCOMPAT_DIRTY))) {
        free_walk(&w);
        return 0;
    }

    int64_t corruptions = res->corruptions, leaks = res->leaks;
    bool repaired_errors = false;
    if ((fix & BLK_FIX_ERRORS) && corruptions) {
        /* drop invalid active mappings, then rebuild the refcounts from scratch */
        for (size_t i = 0; i < w.n_bad && r >= 0; i++) {
            uint64_t table = w.bad[i][0], idx = w.bad[i][1];
            uint8_t z[8] = { 0 };
            if (!table) {
                s->l1[idx] = 0;
                r = q2_write_l1_entries(bs, (uint32_t)idx, 1);
            } else {
                r = blk_file_pwrite(&bs->file, table + idx * 8, z, 8);
            }
        }
        q2_cache_clear(&s->l2c);
        walk w2 = { 0 };
        blk_check_result tmp = { 0 };
        free_walk(&w);
        if (r >= 0) {
            r = run_check(bs, &tmp, &w2, false);
        }
        if (r >= 0) {
            r = rebuild_refcounts(bs, &w2, s->refcount_order);
        }
        /* COPIED flags are judged against the rebuilt counts, as qemu-img
         * does: a flag that only disagreed with a wrong count is no
         * corruption of its own */
        corruptions -= copied_bad;
        if (r >= 0) {
            corruptions += check_copied(&w2, true);
        }
        free_walk(&w2);
        blk_check_result_free(&tmp);
        if (r >= 0) {
            r = q2_update_copied(bs);
        }
        repaired_errors = r >= 0;
    } else if (fix & BLK_FIX_LEAKS) {
        /* Lower the leaked counts, then make the COPIED flags agree with the
         * counts as they are now.  As qemu-img does, the flag mismatches are
         * counted as they stand after the leak repair: those found before it
         * may have been leaks in disguise (a count too high, the flag right). */
        if (leaks) {
            compare(&w, true, true, &leaks_fixed);
        }
        corruptions += check_copied(&w, true) - copied_bad;
        free_walk(&w);
    } else {
        free_walk(&w);
    }
    if (r >= 0 && (fix & BLK_FIX_ERRORS) && !bs->read_only && s->version >= 3 &&
        (s->incompat & (Q2_INCOMPAT_DIRTY | Q2_INCOMPAT_CORRUPT))) {
        s->incompat &= ~(Q2_INCOMPAT_DIRTY | Q2_INCOMPAT_CORRUPT);
        uint8_t b[8];
        q2_st64(b, s->incompat);
        r = q2_hdr_write(bs, 72, b, 8);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    /* double check the fixed image */
    blk_check_result after = { 0 };
    r = run_check(bs, &after, &w, true);
    if (r >= 0) {
        compare(&w, false, true, &leaks_fixed);
        check_copied(&w, false);
    }
    free_walk(&w);
    res->corruptions_fixed = corruptions - after.corruptions;
    res->leaks_fixed = leaks - after.leaks;
    if (!repaired_errors && res->leaks_fixed < 0) {
        res->leaks_fixed = 0;
    }
    if (res->corruptions_fixed < 0) {
        res->corruptions_fixed = 0;
    }
    if (res->leaks_fixed < 0) {
        res->leaks_fixed = 0;
    }
    res->corruptions = after.corruptions;
    res->leaks = after.leaks;
    res->check_errors += after.check_errors;
    res->allocated_clusters = after.allocated_clusters;
    res->fragmented_clusters = after.fragmented_clusters;
    res->compressed_clusters = after.compressed_clusters;
    res->image_end_offset = after.image_end_offset;
    res->total_clusters = after.total_clusters;
    blk_check_result_free(&after);
    return 0;
}

/* amend -o refcount_bits: count every reference (as check does, leaving out
 * the old refcount structure), refuse a width too narrow for the highest
 * count, then write a new structure of the new width and switch the header to
 * it.  A crash before the switch leaves the old structure in force and the new
 * one as leaked clusters past its end. */
int q2_change_refcount_order(blk *bs, uint32_t order, char **err)
{
    q2 *s = q2_of(bs);
    if (order == s->refcount_order) {
        return 0;
    }
    blk_check_result res = { 0 };
    walk w;
    int r = run_check(bs, &res, &w, false);
    if (r >= 0 && (res.corruptions || res.check_errors)) {
        blk_set_err(err, "Cannot change the refcount width of an inconsistent image; "
                    "run 'check -r all' first");
        r = -EINVAL;
    }
    uint64_t rmax = order == 6 ? ~0ull : (1ull << (1u << order)) - 1;
    for (uint64_t c = 0; r >= 0 && c < w.nb; c++) {
        if (w.refs[c] > rmax) {
            blk_set_err(err, "Cannot decrease refcount entry width to %u bits: Cluster at "
                        "offset %#llx has a refcount of %u", 1u << order,
                        (unsigned long long)(c << s->cluster_bits), w.refs[c]);
            r = -EINVAL;
        }
    }
    if (r >= 0) {
        r = rebuild_refcounts(bs, &w, order);
        if (r < 0) {
            blk_set_err(err, "Could not write the new refcount structure: %s", strerror(-r));
        }
    }
    free_walk(&w);
    blk_check_result_free(&res);
    return r;
}
