/* CUnit tests of the qcow2 metadata code: allocation, refcount updates (every
 * refcount width), L2 cache eviction, refcount table growth, snapshot
 * copy-on-write, compressed cluster round trips, zero clusters, check/repair;
 * plus raw sparse block status and the size parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block/qcow2-int.h"
#include "tests/lib/cunit-run.h"

static char dir[] = "/tmp/vireo-blk-unit-XXXXXX";
static char path[256];

static blk *make(const char *opts_cs, const char *rbits, const char *compat, uint64_t size)
{
    blk_kv kv[3];
    int n = 0;
    if (opts_cs) {
        kv[n++] = (blk_kv){ "cluster_size", opts_cs };
    }
    if (rbits) {
        kv[n++] = (blk_kv){ "refcount_bits", rbits };
    }
    if (compat) {
        kv[n++] = (blk_kv){ "compat", compat };
    }
    snprintf(path, sizeof(path), "%s/t.qcow2", dir);
    char *err = NULL;
    int r = blk_create("qcow2", path, size, kv, n, &err);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    blk_open_opts o = { .flags = BLK_O_RDWR | BLK_O_NO_LOCK };
    blk *bs = blk_open(path, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bs);
    return bs;
}

static void assert_clean(blk *bs)
{
    blk_check_result res;
    CU_ASSERT_EQUAL(blk_check(bs, &res, 0), 0);
    CU_ASSERT_EQUAL(res.corruptions, 0);
    CU_ASSERT_EQUAL(res.leaks, 0);
    CU_ASSERT_EQUAL(res.check_errors, 0);
    for (int i = 0; i < res.n_messages; i++) {
        fprintf(stderr, "  check: %s\n", res.messages[i]);
    }
    blk_check_result_free(&res);
}

static uint64_t rc_of(blk *bs, uint64_t host)
{
    uint64_t rc = 99;
    CU_ASSERT_EQUAL(q2_refcount_get(bs, host >> q2_of(bs)->cluster_bits, &rc), 0);
    return rc;
}

static uint64_t host_of(blk *bs, uint64_t guest)
{
    blk_status st;
    CU_ASSERT_EQUAL(blk_block_status(bs, guest, 1, &st), 0);
    return (st.flags & BLK_ST_OFFSET_VALID) ? st.map : 0;
}

static void test_alloc(void)
{
    blk *bs = make(NULL, NULL, NULL, 16 << 20);
    q2 *s = q2_of(bs);
    int64_t a = q2_alloc_clusters(bs, 3);
    int64_t b = q2_alloc_clusters(bs, 1);
    CU_ASSERT(a > 0 && b > 0);
    CU_ASSERT_EQUAL((uint64_t)a % s->cluster_size, 0);
    CU_ASSERT(b >= a + 3 * (int64_t)s->cluster_size || b + (int64_t)s->cluster_size <= a);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(rc_of(bs, a + i * s->cluster_size), 1);
    }
    /* freeing makes it the next candidate again */
    CU_ASSERT_EQUAL(q2_refcount_add(bs, a + s->cluster_size, 1, -1), 0);
    CU_ASSERT_EQUAL(rc_of(bs, a + s->cluster_size), 0);
    CU_ASSERT_EQUAL(q2_alloc_clusters(bs, 1), a + (int64_t)s->cluster_size);
    /* an underflow is refused as corruption, not wrapped */
    CU_ASSERT(q2_refcount_add(bs, (s->end_cluster + 5) * s->cluster_size, 1, -1) < 0);
    blk_close(bs);
}

static void test_refcount_widths(void)
{
    static const char *const bits[] = { "1", "2", "4", "8", "16", "32", "64" };
    for (int i = 0; i < 7; i++) {
        blk *bs = make("4k", bits[i], NULL, 4 << 20);
        q2 *s = q2_of(bs);
        CU_ASSERT_EQUAL(s->refcount_order, (uint32_t)i);
        uint8_t buf[8192];
        memset(buf, 0x40 + i, sizeof(buf));
        CU_ASSERT_EQUAL(blk_pwrite(bs, 12288, buf, sizeof(buf)), 0);
        uint64_t h = host_of(bs, 12288);
        CU_ASSERT(h != 0);
        CU_ASSERT_EQUAL(rc_of(bs, h), 1);
        /* the largest value that fits round-trips; its neighbour is untouched */
        uint64_t c = s->end_cluster + 2;
        CU_ASSERT_EQUAL(q2_refcount_set(bs, c, s->refcount_max), 0);
        uint64_t v;
        q2_refcount_get(bs, c, &v);
        CU_ASSERT_EQUAL(v, s->refcount_max);
        q2_refcount_get(bs, c + 1, &v);
        CU_ASSERT_EQUAL(v, 0);
        CU_ASSERT_EQUAL(q2_refcount_set(bs, c, 0), 0);
        assert_clean(bs);
        blk_close(bs);
    }
}

/* 512 B clusters: an L2 table covers 32 KiB, so 2 MiB of writes touch 64+
 * tables and evict from the L2 cache; the refcount table (one 512 B cluster
 * of 64 entries, 256 clusters each) must grow past 8 MiB of file. */
static void test_l2_eviction_and_growth(void)
{
    blk *bs = make("512", NULL, NULL, 32 << 20);
    q2 *s = q2_of(bs);
    uint64_t rt0 = s->rt_offset;
    uint8_t b[512];
    for (uint64_t i = 0; i < 480; i++) {
        memset(b, (int)(i % 251) + 1, sizeof(b));
        CU_ASSERT_EQUAL_FATAL(blk_pwrite(bs, i * 24576, b, sizeof(b)), 0);
    }
    for (uint64_t i = 0; i < 480; i++) {
        uint8_t r[512];
        CU_ASSERT_EQUAL_FATAL(blk_pread(bs, i * 24576, r, sizeof(r)), 0);
        CU_ASSERT_EQUAL(r[0], (uint8_t)(i % 251 + 1));
        CU_ASSERT_EQUAL(r[511], (uint8_t)(i % 251 + 1));
    }
    /* 10 MiB more of 512 B clusters: past the 8 MiB the first table covers */
    uint8_t *big = malloc(655360);
    for (int i = 0; i < 16; i++) {
        memset(big, 0xc0 + i, 655360);
        CU_ASSERT_EQUAL_FATAL(blk_pwrite(bs, (12 << 20) + i * 655360ull, big, 655360), 0);
    }
    for (int i = 0; i < 16; i++) {
        CU_ASSERT_EQUAL_FATAL(blk_pread(bs, (12 << 20) + i * 655360ull, big, 655360), 0);
        CU_ASSERT(big[0] == 0xc0 + i && big[655359] == 0xc0 + i);
    }
    free(big);
    CU_ASSERT(s->rt_offset != rt0);     /* the table moved when it grew */
    assert_clean(bs);
    blk_close(bs);
}

static void test_snapshot_cow(void)
{
    blk *bs = make(NULL, NULL, NULL, 4 << 20);
    uint8_t a[65536], r[65536];
    memset(a, 0xaa, sizeof(a));
    CU_ASSERT_EQUAL(blk_pwrite(bs, 0, a, sizeof(a)), 0);
    uint64_t h0 = host_of(bs, 0);
    char *err = NULL;
    CU_ASSERT_EQUAL(blk_snapshot_create(bs, "s", &err), 0);
    CU_ASSERT_EQUAL(rc_of(bs, h0), 2);  /* shared by the snapshot and the active L1 */
    memset(a, 0xbb, 4096);
    CU_ASSERT_EQUAL(blk_pwrite(bs, 4096, a, 4096), 0);
    uint64_t h1 = host_of(bs, 0);
    CU_ASSERT(h1 != h0);                /* copied on write */
    CU_ASSERT_EQUAL(rc_of(bs, h0), 1);
    CU_ASSERT_EQUAL(rc_of(bs, h1), 1);
    CU_ASSERT_EQUAL(blk_pread(bs, 0, r, sizeof(r)), 0);
    CU_ASSERT(r[0] == 0xaa && r[4096] == 0xbb && r[8191] == 0xbb && r[8192] == 0xaa);
    assert_clean(bs);
    CU_ASSERT_EQUAL(blk_snapshot_apply(bs, "s", &err), 0);
    CU_ASSERT_EQUAL(blk_pread(bs, 0, r, sizeof(r)), 0);
    CU_ASSERT(r[0] == 0xaa && r[4096] == 0xaa);
    CU_ASSERT_EQUAL(rc_of(bs, h1), 0);  /* the overwritten copy is free again */
    assert_clean(bs);
    CU_ASSERT_EQUAL(blk_snapshot_delete(bs, "s", &err), 0);
    CU_ASSERT_EQUAL(rc_of(bs, h0), 1);
    blk_snapshot *l;
    CU_ASSERT_EQUAL(blk_snapshot_list(bs, &l), 0);
    CU_ASSERT_PTR_NULL(l);              /* no snapshots: nothing allocated to free */
    assert_clean(bs);
    free(err);
    blk_close(bs);
}

static void test_compressed(void)
{
    blk *bs = make("4k", NULL, NULL, 1 << 20);
    uint8_t c[4096], r[4096];
    for (int i = 0; i < 4096; i++) {
        c[i] = (uint8_t)(i / 100);
    }
    CU_ASSERT_EQUAL(blk_pwrite_compressed(bs, 0, c, 4096), 0);
    CU_ASSERT_EQUAL(blk_pwrite_compressed(bs, 8192, c, 4096), 0);
    blk_status st;
    CU_ASSERT_EQUAL(blk_block_status(bs, 0, 4096, &st), 0);
    CU_ASSERT(st.flags & BLK_ST_COMPRESSED);
    CU_ASSERT_EQUAL(blk_pread(bs, 0, r, 4096), 0);
    CU_ASSERT_EQUAL(memcmp(c, r, 4096), 0);
    CU_ASSERT_EQUAL(blk_pread(bs, 8192, r, 4096), 0);
    CU_ASSERT_EQUAL(memcmp(c, r, 4096), 0);
    /* incompressible data is stored as a normal cluster */
    srand(1);
    for (int i = 0; i < 4096; i++) {
        c[i] = (uint8_t)rand();
    }
    CU_ASSERT_EQUAL(blk_pwrite_compressed(bs, 16384, c, 4096), 0);
    CU_ASSERT_EQUAL(blk_block_status(bs, 16384, 4096, &st), 0);
    CU_ASSERT(!(st.flags & BLK_ST_COMPRESSED) && (st.flags & BLK_ST_OFFSET_VALID));
    CU_ASSERT_EQUAL(blk_pread(bs, 16384, r, 4096), 0);
    CU_ASSERT_EQUAL(memcmp(c, r, 4096), 0);
    /* overwriting a compressed cluster copies it out and frees its bytes */
    memset(c, 0x5c, 100);
    CU_ASSERT_EQUAL(blk_pwrite(bs, 8192 + 50, c, 100), 0);
    CU_ASSERT_EQUAL(blk_pread(bs, 8192, r, 4096), 0);
    CU_ASSERT(r[49] == 0 && r[50] == 0x5c && r[149] == 0x5c && r[150] == (uint8_t)(150 / 100));
    assert_clean(bs);
    blk_close(bs);
}

static void test_zero_clusters(void)
{
    for (int v = 0; v < 2; v++) {
        blk *bs = make(NULL, NULL, v ? "1.1" : "0.10", 1 << 20);
        uint8_t b[131072];
        memset(b, 0x77, sizeof(b));
        CU_ASSERT_EQUAL(blk_pwrite(bs, 0, b, sizeof(b)), 0);
        uint64_t h = host_of(bs, 65536);
        CU_ASSERT_EQUAL(blk_pwrite_zeroes(bs, 65536, 65536, BLK_ZERO_MAY_UNMAP), 0);
        CU_ASSERT_EQUAL(rc_of(bs, h), 0);
        blk_status st;
        CU_ASSERT_EQUAL(blk_block_status_above(bs, 65536, 65536, &st), 0);
        CU_ASSERT(st.flags & BLK_ST_ZERO);
        CU_ASSERT_EQUAL(blk_pread(bs, 0, b, sizeof(b)), 0);
        CU_ASSERT(b[65535] == 0x77 && b[65536] == 0 && b[131071] == 0);
        assert_clean(bs);
        blk_close(bs);
    }
}

static void test_check_repair(void)
{
    blk *bs = make(NULL, NULL, NULL, 1 << 20);
    q2 *s = q2_of(bs);
    uint8_t b[4096] = { 1 };
    CU_ASSERT_EQUAL(blk_pwrite(bs, 0, b, sizeof(b)), 0);
    CU_ASSERT_EQUAL(blk_flush(bs), 0);
    /* a leak: a refcount on a cluster nobody uses (inside the file) */
    uint64_t leak = s->end_cluster;
    uint8_t z[65536] = { 0 };
    CU_ASSERT_EQUAL(blk_file_pwrite(&bs->file, leak * s->cluster_size, z, sizeof(z)), 0);
    CU_ASSERT_EQUAL(q2_refcount_set(bs, leak, 1), 0);
    blk_check_result res;
    CU_ASSERT_EQUAL(blk_check(bs, &res, 0), 0);
    CU_ASSERT_EQUAL(res.leaks, 1);
    CU_ASSERT_EQUAL(res.corruptions, 0);
    blk_check_result_free(&res);
    CU_ASSERT_EQUAL(blk_check(bs, &res, BLK_FIX_LEAKS), 0);
    CU_ASSERT_EQUAL(res.leaks_fixed, 1);
    CU_ASSERT_EQUAL(res.leaks, 0);
    blk_check_result_free(&res);
    /* a corruption: the data cluster's refcount dropped to 0 */
    uint64_t h = host_of(bs, 0);
    CU_ASSERT_EQUAL(q2_refcount_set(bs, h >> s->cluster_bits, 0), 0);
    CU_ASSERT_EQUAL(blk_check(bs, &res, 0), 0);
    CU_ASSERT(res.corruptions >= 1);
    blk_check_result_free(&res);
    CU_ASSERT_EQUAL(blk_check(bs, &res, BLK_FIX_LEAKS | BLK_FIX_ERRORS), 0);
    CU_ASSERT_EQUAL(res.corruptions, 0);
    CU_ASSERT(res.corruptions_fixed >= 1);
    blk_check_result_free(&res);
    CU_ASSERT_EQUAL(rc_of(bs, h), 1);
    uint8_t r[4096];
    CU_ASSERT_EQUAL(blk_pread(bs, 0, r, sizeof(r)), 0);
    CU_ASSERT_EQUAL(r[0], 1);
    assert_clean(bs);
    blk_close(bs);
}

static void test_raw_sparse(void)
{
    snprintf(path, sizeof(path), "%s/s.raw", dir);
    char *err = NULL;
    CU_ASSERT_EQUAL(blk_create("raw", path, 8 << 20, NULL, 0, &err), 0);
    blk_open_opts o = { .flags = BLK_O_RDWR | BLK_O_NO_LOCK, .format = "raw" };
    blk *bs = blk_open(path, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bs);
    uint8_t b[65536];
    memset(b, 9, sizeof(b));
    CU_ASSERT_EQUAL(blk_pwrite(bs, 4 << 20, b, sizeof(b)), 0);
    blk_status st;
    CU_ASSERT_EQUAL(blk_block_status(bs, 0, 8 << 20, &st), 0);
    if (st.len == 8 << 20) {
        fprintf(stderr, "  (file system without SEEK_HOLE: status is all data)\n");
    } else {
        CU_ASSERT(st.flags & BLK_ST_ZERO);
        CU_ASSERT(st.len <= 4 << 20);
        CU_ASSERT_EQUAL(blk_block_status(bs, 4 << 20, 65536, &st), 0);
        CU_ASSERT(st.flags & BLK_ST_DATA);
    }
    blk_close(bs);
}

static void test_parse_size(void)
{
    CU_ASSERT_EQUAL(blk_parse_size("512"), 512);
    CU_ASSERT_EQUAL(blk_parse_size("64k"), 65536);
    CU_ASSERT_EQUAL(blk_parse_size("1.5M"), 1572864);
    CU_ASSERT_EQUAL(blk_parse_size("2G"), 2147483648ll);
    CU_ASSERT_EQUAL(blk_parse_size("12Q"), -1);
    CU_ASSERT_EQUAL(blk_parse_size("-1"), -1);
    CU_ASSERT_EQUAL(blk_parse_size("0.3"), -1);
    CU_ASSERT_EQUAL(blk_parse_size("99999E"), -1);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        return 1;
    }
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("qcow2-metadata", NULL, NULL);
    CU_add_test(s, "allocation and refcount updates", test_alloc);
    CU_add_test(s, "refcount widths 1..64 bits", test_refcount_widths);
    CU_add_test(s, "L2 cache eviction and refcount table growth", test_l2_eviction_and_growth);
    CU_add_test(s, "snapshot copy-on-write", test_snapshot_cow);
    CU_add_test(s, "compressed cluster round trips", test_compressed);
    CU_add_test(s, "zero clusters v2 and v3", test_zero_clusters);
    CU_add_test(s, "check finds and repairs leaks and corruptions", test_check_repair);
    CU_pSuite r = CU_add_suite("raw-and-helpers", NULL, NULL);
    CU_add_test(r, "raw sparse block status", test_raw_sparse);
    CU_add_test(r, "size suffixes", test_parse_size);
    int ret = cunit_run_all();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) {
        /* leftovers in /tmp are harmless */
    }
    return ret;
}
