/* qcow2 internal snapshots ("Snapshots" section of the qcow2 specification).
 *
 * A snapshot is a copy of the L1 table.  Refcounts count references per L1
 * table: creating a snapshot adds one to every L2 table and data cluster the
 * active L1 reaches, so later writes see refcount > 1 and copy on write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "block/qcow2-int.h"

#define SNAP_FIXED 40
#define SNAP_EXTRA 24                   /* vm_state_size_large, disk_size, icount */

void q2_snap_free(q2 *s)
{
    for (uint32_t i = 0; s->snaps && i < s->nb_snapshots; i++) {
        free(s->snaps[i].id);
        free(s->snaps[i].name);
    }
    free(s->snaps);
    s->snaps = NULL;
}

int q2_snap_load(blk *bs, char **err)
{
    q2 *s = q2_of(bs);
    if (!s->nb_snapshots) {
        return 0;
    }
    s->snaps = calloc(s->nb_snapshots, sizeof(*s->snaps));
    uint64_t off = s->snapshots_offset;
    int64_t flen = blk_file_length(&bs->file);
    uint8_t fixed[SNAP_FIXED];
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        q2_snap *sn = &s->snaps[i];
        int r = q2_read_table(bs, off, SNAP_FIXED, fixed, "snapshot table", err);
        if (r < 0) {
            s->nb_snapshots = i;
            return r;
        }
        sn->l1_offset = q2_be64(fixed);
        sn->l1_size = q2_be32(fixed + 8);
        uint16_t id_len = q2_be16(fixed + 12), name_len = q2_be16(fixed + 14);
        sn->date_sec = q2_be32(fixed + 16);
        sn->date_nsec = q2_be32(fixed + 20);
        sn->vm_clock_nsec = q2_be64(fixed + 24);
        sn->vm_state_size = q2_be32(fixed + 32);
        sn->extra_size = q2_be32(fixed + 36);
        sn->icount = ~0ull;
        sn->disk_size = bs->size;
        if (sn->extra_size > Q2_MAX_SNAP_EXTRA || (uint64_t)sn->l1_size * 8 > Q2_MAX_L1_BYTES ||
            (sn->l1_offset & (s->cluster_size - 1)) || (sn->l1_size && !sn->l1_offset)) {
            blk_set_err(err, "'%s': snapshot %u has an invalid header (L1 %#llx/%u, extra %u)",
                        bs->filename, i, (unsigned long long)sn->l1_offset, sn->l1_size,
                        sn->extra_size);
            s->nb_snapshots = i;
            return -EINVAL;
        }
        uint64_t var = (uint64_t)sn->extra_size + id_len + name_len;
        uint8_t *v = malloc(var + 1);
        r = q2_read_table(bs, off + SNAP_FIXED, var, v, "snapshot table", err);
        if (r < 0) {
            free(v);
            s->nb_snapshots = i;
            return r;
        }
        if (sn->extra_size >= 8) {
            sn->vm_state_size = q2_be64(v);
        }
        if (sn->extra_size >= 16) {
            sn->disk_size = q2_be64(v + 8);
        }
        if (sn->extra_size >= 24) {
            sn->icount = q2_be64(v + 16);
        }
        sn->id = strndup((char *)v + sn->extra_size, id_len);
        sn->name = strndup((char *)v + sn->extra_size + id_len, name_len);
        free(v);
        off += (SNAP_FIXED + var + 7) & ~7ull;
        if (flen < 0 || off > (uint64_t)flen + 8) {
            blk_set_err(err, "'%s': snapshot table runs past the end of the file", bs->filename);
            s->nb_snapshots = i + 1;
            return -EINVAL;
        }
        if (sn->disk_size > Q2_MAX_SIZE) {
            blk_set_err(err, "'%s': snapshot %s has an invalid disk size", bs->filename, sn->id);
            s->nb_snapshots = i + 1;
            return -EINVAL;
        }
    }
    s->snapshots_size = off - s->snapshots_offset;
    return 0;
}

/* Write the snapshot table to new clusters and point the header at it. */
static int snap_write(blk *bs)
{
    q2 *s = q2_of(bs);
    uint64_t size = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        size += (SNAP_FIXED + SNAP_EXTRA + strlen(s->snaps[i].id) + strlen(s->snaps[i].name) +
                 7) & ~7ull;
    }
    uint8_t *b = calloc(1, size + 8);
    uint64_t p = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        q2_snap *sn = &s->snaps[i];
        size_t il = strlen(sn->id), nl = strlen(sn->name);
        q2_st64(b + p, sn->l1_offset);
        q2_st32(b + p + 8, sn->l1_size);
        q2_st16(b + p + 12, (uint16_t)il);
        q2_st16(b + p + 14, (uint16_t)nl);
        q2_st32(b + p + 16, sn->date_sec);
        q2_st32(b + p + 20, sn->date_nsec);
        q2_st64(b + p + 24, sn->vm_clock_nsec);
        q2_st32(b + p + 32, sn->vm_state_size > 0xffffffffu ? 0 : (uint32_t)sn->vm_state_size);
        q2_st32(b + p + 36, SNAP_EXTRA);
        q2_st64(b + p + 40, sn->vm_state_size);
        q2_st64(b + p + 48, sn->disk_size);
        q2_st64(b + p + 56, sn->icount);
        memcpy(b + p + 64, sn->id, il);
        memcpy(b + p + 64 + il, sn->name, nl);
        p += (SNAP_FIXED + SNAP_EXTRA + il + nl + 7) & ~7ull;
    }
    int64_t off = 0;
    int r = 0;
    if (size) {
        off = q2_alloc_clusters(bs, q2_size_to_clusters(s, size));
        r = off < 0 ? (int)off : blk_file_pwrite(&bs->file, off, b, size);
    }
    free(b);
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        uint8_t h[12];
        q2_st32(h, s->nb_snapshots);
        q2_st64(h + 4, size ? (uint64_t)off : 0);
        r = q2_hdr_write(bs, 60, h, 12);
    }
    if (r < 0) {
        return r;
    }
    q2_flush_file(bs);
    uint64_t old = s->snapshots_offset, old_size = s->snapshots_size;
    s->snapshots_offset = size ? (uint64_t)off : 0;
    s->snapshots_size = size;
    return old && old_size ? q2_refcount_add(bs, old, old_size, -1) : 0;
}

/* The clusters an L1 table reaches (its L2 tables, data and compressed
 * clusters), one index per reference, in a malloc'd array. */
static int l1_clusters(blk *bs, const uint64_t *l1, uint32_t l1_size, uint64_t **out, size_t *nout)
{
    q2 *s = q2_of(bs);
    uint64_t *c = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    for (uint32_t i = 0; i < l1_size && r >= 0; i++) {
        uint64_t l2off = l1[i] & Q2_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        if (l2off & (s->cluster_size - 1)) {
            r = q2_mark_corrupt(bs, "L2 table at unaligned offset %#llx",
                                (unsigned long long)l2off);
            break;
        }
        uint8_t *t;
        r = q2_l2_load(bs, l2off, &t);
        for (uint64_t j = 0; j <= s->l2_entries && r >= 0; j++) {
            /* entry l2_entries stands for the table itself */
            uint64_t host = l2off, csize = 1, e = j < s->l2_entries ? q2_be64(t + j * 8) : 0;
            if (j < s->l2_entries) {
                enum q2_ctype ty = q2_decode(s, e, &host, &csize);
                if (ty == Q2_NORMAL || ty == Q2_ZERO_ALLOC) {
                    csize = 1;
                } else if (ty != Q2_COMPRESSED) {
                    continue;
                }
            }
            uint64_t first = host >> s->cluster_bits;
            uint64_t last = (host + csize - 1) >> s->cluster_bits;
            for (uint64_t k = first; k <= last && r >= 0; k++) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 1024;
                    uint64_t *nc = realloc(c, cap * sizeof(*c));
                    if (!nc) {
                        r = -ENOMEM;
                        break;
                    }
                    c = nc;
                }
                c[n++] = k;
            }
        }
    }
    if (r < 0) {
        free(c);
        return r;
    }
    *out = c;
    *nout = n;
    return 0;
}

/* Add `addend` to everything an L1 table reaches.  All tables are read before
 * any count changes (so a table is freed only after its entries were read),
 * then the counts change one refcount block at a time. */
int q2_update_refcounts(blk *bs, const uint64_t *l1, uint32_t l1_size, int addend)
{
    uint64_t *c;
    size_t n;
    int r = l1_clusters(bs, l1, l1_size, &c, &n);
    if (r >= 0) {
        r = q2_refcount_add_clusters(bs, c, n, addend);
        free(c);
    }
    return r;
}

/* Make the COPIED flags of the active tables say "refcount is exactly 1". */
int q2_update_copied(blk *bs)
{
    q2 *s = q2_of(bs);
    int r = 0;
    for (uint32_t i = 0; i < s->l1_size && r >= 0; i++) {
        uint64_t l2off = s->l1[i] & Q2_OFFSET_MASK, rc;
        if (!l2off) {
            continue;
        }
        r = q2_refcount_get(bs, l2off >> s->cluster_bits, &rc);
        if (r < 0) {
            break;
        }
        uint64_t want = rc == 1 ? (s->l1[i] | Q2_OFLAG_COPIED) : (s->l1[i] & ~Q2_OFLAG_COPIED);
        if (want != s->l1[i]) {
            s->l1[i] = want;
            r = q2_write_l1_entries(bs, i, 1);
        }
        if (r < 0) {
            break;
        }
        /* entries of shared tables too: their flags are what check reads */
        uint8_t *t;
        r = q2_l2_load(bs, l2off, &t);
        bool changed = false;
        for (uint64_t j = 0; j < s->l2_entries && r >= 0; j++) {
            uint64_t host, csize, e = q2_be64(t + j * 8), ne = e;
            enum q2_ctype ty = q2_decode(s, e, &host, &csize);
            if (ty == Q2_NORMAL || ty == Q2_ZERO_ALLOC) {
                uint64_t drc;
                r = q2_refcount_get(bs, host >> s->cluster_bits, &drc);
                ne = drc == 1 ? e | Q2_OFLAG_COPIED : e & ~Q2_OFLAG_COPIED;
                /* the refcount lookup may evict the table: reload */
                if (r >= 0) {
                    r = q2_l2_load(bs, l2off, &t);
                }
            } else if (ty == Q2_COMPRESSED) {
                ne = e & ~Q2_OFLAG_COPIED;
            }
            if (r >= 0 && ne != e) {
                q2_st64(t + j * 8, ne);
                changed = true;
            }
        }
        if (r >= 0 && changed) {
            r = blk_file_pwrite(&bs->file, l2off, t, s->cluster_size);
        }
    }
    return r;
}

/* Clear every COPIED flag of the active tables, L2 entries first, then the L1.
 * Creating a snapshot does this before it raises any refcount: a crash in
 * between leaves a flag clear on a cluster whose refcount is still 1, which
 * costs at worst a needless copy on the next write (and is repaired by check
 * -r leaks), never a flag that lets a write land in a shared cluster. */
static int clear_copied(blk *bs)
{
    q2 *s = q2_of(bs);
    int r = 0;
    bool l1_changed = false;
    for (uint32_t i = 0; i < s->l1_size && r >= 0; i++) {
        uint64_t l2off = s->l1[i] & Q2_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        uint8_t *t;
        r = q2_l2_load(bs, l2off, &t);
        bool changed = false;
        for (uint64_t j = 0; j < s->l2_entries && r >= 0; j++) {
            uint64_t e = q2_be64(t + j * 8);
            if (e & Q2_OFLAG_COPIED) {
                q2_st64(t + j * 8, e & ~Q2_OFLAG_COPIED);
                changed = true;
            }
        }
        if (r >= 0 && changed) {
            r = blk_file_pwrite(&bs->file, l2off, t, s->cluster_size);
        }
        l1_changed |= !!(s->l1[i] & Q2_OFLAG_COPIED);
        s->l1[i] &= ~Q2_OFLAG_COPIED;
    }
    if (r >= 0 && l1_changed) {
        r = q2_write_l1_entries(bs, 0, s->l1_size);
    }
    return r;
}

static int find_snap(q2 *s, const char *name_or_id)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snaps[i].id, name_or_id)) {
            return (int)i;
        }
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snaps[i].name, name_or_id)) {
            return (int)i;
        }
    }
    return -1;
}

static int read_l1(blk *bs, const q2_snap *sn, uint64_t **out, char **err)
{
    uint8_t *b = malloc((uint64_t)sn->l1_size * 8 + 8);
    uint64_t *l1 = calloc((uint64_t)sn->l1_size + 1, 8);
    int r = q2_read_table(bs, sn->l1_offset, (uint64_t)sn->l1_size * 8, b,
                          "snapshot L1 table", err);
    for (uint32_t i = 0; r >= 0 && i < sn->l1_size; i++) {
        l1[i] = q2_be64(b + i * 8ull);
    }
    free(b);
    if (r < 0) {
        free(l1);
        return r;
    }
    *out = l1;
    return 0;
}

int q2_snapshot_create(blk *bs, const char *name, char **err)
{
    q2 *s = q2_of(bs);
    if (!name || !*name || strlen(name) > 1024) {
        blk_set_err(err, "Invalid snapshot name");
        return -EINVAL;
    }
    if (find_snap(s, name) >= 0) {
        blk_set_err(err, "A snapshot named '%s' already exists in '%s'", name, bs->filename);
        return -EEXIST;
    }
    if (s->nb_snapshots >= Q2_MAX_SNAPSHOTS) {
        blk_set_err(err, "Too many snapshots in '%s'", bs->filename);
        return -EFBIG;
    }
    unsigned long max_id = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        unsigned long v = strtoul(s->snaps[i].id, NULL, 10);
        max_id = v > max_id ? v : max_id;
    }
    /* 1. the COPIED flags go (everything will be shared); 2. everything
     * reachable gains a reference; 3. the L1 copy; 4. the snapshot table (the
     * commit point).  A crash before 4 leaves leaks, and flags clear where a
     * refcount is still 1; never a flag on a refcount > 1.  The flushes keep
     * that order on the disk too. */
    uint64_t *refs = NULL;
    size_t nrefs = 0;
    int r = l1_clusters(bs, s->l1, s->l1_size, &refs, &nrefs);    /* reads before 1. */
    if (r >= 0) {
        r = clear_copied(bs);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        r = q2_refcount_add_clusters(bs, refs, nrefs, +1);
    }
    free(refs);
    uint64_t bytes = (uint64_t)s->l1_size * 8;
    int64_t l1off = 0;
    if (r >= 0 && bytes) {
        l1off = q2_alloc_clusters(bs, q2_size_to_clusters(s, bytes));
        if (l1off < 0) {
            r = (int)l1off;
        }
    }
    if (r >= 0 && bytes) {
        uint8_t *b = malloc(bytes);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            q2_st64(b + i * 8ull, s->l1[i] & ~Q2_OFLAG_COPIED);
        }
        r = blk_file_pwrite(&bs->file, l1off, b, bytes);
        free(b);
    }
    if (r < 0) {
        blk_set_err(err, "Could not create snapshot '%s': %s", name, strerror(-r));
        return r;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    q2_snap sn = {
        .l1_offset = l1off, .l1_size = s->l1_size,
        .id = blk_strdup_printf("%lu", max_id + 1), .name = strdup(name),
        .date_sec = (uint32_t)ts.tv_sec, .date_nsec = (uint32_t)ts.tv_nsec,
        .disk_size = bs->size, .icount = 0,     /* what qemu-img writes outside a VM */
    };
    s->snaps = realloc(s->snaps, (s->nb_snapshots + 1) * sizeof(*s->snaps));
    s->snaps[s->nb_snapshots++] = sn;
    r = snap_write(bs);
    if (r < 0) {
        s->nb_snapshots--;
        free(sn.id);
        free(sn.name);
        blk_set_err(err, "Could not write the snapshot table: %s", strerror(-r));
    }
    return r < 0 ? r : q2_flush_file(bs);
}

/* An image without snapshots gives NULL and 0: nothing is allocated that a
 * caller seeing no snapshots would have to free. */
int q2_snapshot_list(blk *bs, blk_snapshot **list)
{
    q2 *s = q2_of(bs);
    *list = NULL;
    if (!s->nb_snapshots) {
        return 0;
    }
    blk_snapshot *l = calloc(s->nb_snapshots, sizeof(*l));
    if (!l) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        q2_snap *sn = &s->snaps[i];
        snprintf(l[i].id, sizeof(l[i].id), "%s", sn->id);
        l[i].name = strdup(sn->name);
        l[i].vm_state_size = sn->vm_state_size;
        l[i].date_sec = sn->date_sec;
        l[i].date_nsec = sn->date_nsec;
        l[i].vm_clock_nsec = sn->vm_clock_nsec;
        l[i].disk_size = sn->disk_size;
        l[i].icount = sn->icount;
    }
    *list = l;
    return (int)s->nb_snapshots;
}

/* Read-only: the snapshot's L1 table becomes the active one in memory. */
int q2_snapshot_load_tmp(blk *bs, const char *name_or_id, char **err)
{
    q2 *s = q2_of(bs);
    int i = find_snap(s, name_or_id);
    if (i < 0) {
        blk_set_err(err, "Can't find snapshot");
        return -ENOENT;
    }
    uint64_t *snl1;
    int r = read_l1(bs, &s->snaps[i], &snl1, err);
    if (r < 0) {
        return r;
    }
    free(s->l1);
    s->l1 = snl1;
    s->l1_size = s->snaps[i].l1_size;
    q2_cache_clear(&s->l2c);          /* the size stays the image's, as qemu-img shows it */
    return 0;
}

int q2_snapshot_apply(blk *bs, const char *name_or_id, char **err)
{
    q2 *s = q2_of(bs);
    int i = find_snap(s, name_or_id);
    if (i < 0) {
        blk_set_err(err, "Can't find the snapshot '%s' in '%s'", name_or_id, bs->filename);
        return -ENOENT;
    }
    q2_snap *sn = &s->snaps[i];
    uint64_t *snl1;
    int r = read_l1(bs, sn, &snl1, err);
    if (r < 0) {
        return r;
    }
    uint32_t old_n = s->l1_size;
    uint64_t *old = malloc((uint64_t)old_n * 8 + 8);
    memcpy(old, s->l1, (uint64_t)old_n * 8);
    r = q2_update_refcounts(bs, snl1, sn->l1_size, +1);
    if (r >= 0 && sn->l1_size > s->l1_size) {
        r = q2_set_l1(bs, snl1, sn->l1_size, err);
    } else if (r >= 0) {
        memset(s->l1, 0, (uint64_t)s->l1_size * 8);
        memcpy(s->l1, snl1, (uint64_t)sn->l1_size * 8);
        r = q2_write_l1_entries(bs, 0, s->l1_size);
    }
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        r = q2_update_refcounts(bs, old, old_n, -1);
    }
    if (r >= 0 && sn->disk_size != bs->size) {
        uint8_t b[8];
        q2_st64(b, sn->disk_size);
        r = q2_hdr_write(bs, 24, b, 8);
        bs->size = sn->disk_size;
    }
    if (r >= 0) {
        r = q2_flush_file(bs);          /* lowered refcounts first, then flags */
    }
    if (r >= 0) {
        r = q2_update_copied(bs);
    }
    free(old);
    free(snl1);
    if (r < 0) {
        blk_set_err(err, "Could not apply snapshot '%s': %s", name_or_id, strerror(-r));
        return r;
    }
    return q2_flush_file(bs);
}

int q2_snapshot_delete(blk *bs, const char *name_or_id, char **err)
{
    q2 *s = q2_of(bs);
    int i = find_snap(s, name_or_id);
    if (i < 0) {
        blk_set_err(err, "Can't find the snapshot '%s' in '%s'", name_or_id, bs->filename);
        return -ENOENT;
    }
    q2_snap sn = s->snaps[i];
    uint64_t *snl1;
    int r = read_l1(bs, &sn, &snl1, err);
    if (r < 0) {
        return r;
    }
    memmove(&s->snaps[i], &s->snaps[i + 1], (s->nb_snapshots - i - 1) * sizeof(*s->snaps));
    s->nb_snapshots--;
    r = snap_write(bs);                 /* the commit point; after it only leaks */
    if (r >= 0) {
        r = q2_update_refcounts(bs, snl1, sn.l1_size, -1);
    }
    if (r >= 0 && sn.l1_size) {
        r = q2_refcount_add(bs, sn.l1_offset, (uint64_t)sn.l1_size * 8, -1);
    }
    /* COPIED is set only where the lowered refcount (1) is already on disk */
    if (r >= 0) {
        r = q2_flush_file(bs);
    }
    if (r >= 0) {
        r = q2_update_copied(bs);
    }
    free(snl1);
    free(sn.id);
    free(sn.name);
    if (r < 0) {
        blk_set_err(err, "Could not delete snapshot '%s': %s", name_or_id, strerror(-r));
        return r;
    }
    return q2_flush_file(bs);
}
