/* Unit tests of dm/memory.c: flattening, priorities, aliases, containers,
 * access splitting/merging and unassigned accesses.  Expected values are worked
 * out by hand from the layouts each test builds. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "dm/memory.h"
#include "tests/lib/cunit-run.h"

/* ---- a recording device: 64 bytes of little-endian registers ---------------- */

struct rec {
    uint8_t regs[64];
    unsigned n;
    struct { uint64_t addr; unsigned size; uint64_t value; bool write; } log[32];
};

static uint64_t rec_read(void *opaque, uint64_t addr, unsigned size)
{
    struct rec *r = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)r->regs[(addr + i) % 64] << (8 * i);
    if (r->n < 32)
        r->log[r->n++] = (typeof(r->log[0])){ addr, size, v, false };
    return v;
}

static void rec_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    struct rec *r = opaque;

    for (unsigned i = 0; i < size; i++)
        r->regs[(addr + i) % 64] = (uint8_t)(v >> (8 * i));
    if (r->n < 32)
        r->log[r->n++] = (typeof(r->log[0])){ addr, size, v, true };
}

static const struct mem_region_ops ops_any = {
    .read = rec_read, .write = rec_write, .endian = DM_ENDIAN_LITTLE,
    .valid = { 1, 8, true }, .impl = { 1, 8, true },
};
static const struct mem_region_ops ops_impl4 = {
    .read = rec_read, .write = rec_write, .endian = DM_ENDIAN_LITTLE,
    .valid = { 1, 8, false }, .impl = { 4, 4, false },
};
static const struct mem_region_ops ops_impl1 = {
    .read = rec_read, .write = rec_write, .endian = DM_ENDIAN_LITTLE,
    .valid = { 1, 4, false }, .impl = { 1, 1, false },
};
static const struct mem_region_ops ops_valid4 = {
    .read = rec_read, .write = rec_write, .endian = DM_ENDIAN_LITTLE,
    .valid = { 4, 4, false }, .impl = { 4, 4, false },
};
static const struct mem_region_ops ops_big = {
    .read = rec_read, .write = rec_write, .endian = DM_ENDIAN_BIG,
    .valid = { 1, 4, false }, .impl = { 4, 4, false },
};

/* Which region answers at addr (NULL if unassigned). */
static const char *who(struct address_space *as, uint64_t addr)
{
    const struct mem_section *s = address_space_lookup(as, addr);
    return s ? s->mr->name : NULL;
}

#define CU_ASSERT_WHO(as, addr, name) do { \
    const char *w_ = who(as, addr); \
    CU_ASSERT_PTR_NOT_NULL(w_); \
    if (w_) CU_ASSERT_STRING_EQUAL(w_, name); } while (0)

/* ---- tests ------------------------------------------------------------------ */

static void test_overlap_priority(void)
{
    struct mem_region root, low, high, same_a, same_b;
    struct rec r1 = {0}, r2 = {0}, r3 = {0}, r4 = {0};

    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_io(&low, "low", &ops_any, &r1, 0x1000);
    mem_region_init_io(&high, "high", &ops_any, &r2, 0x100);
    mem_region_add_subregion(&root, 0x1000, &low, 0);
    mem_region_add_subregion(&root, 0x1800, &high, 1);

    CU_ASSERT_PTR_NULL(who(as, 0xfff));
    CU_ASSERT_WHO(as, 0x1000, "low");
    CU_ASSERT_WHO(as, 0x17ff, "low");
    CU_ASSERT_WHO(as, 0x1800, "high");
    CU_ASSERT_WHO(as, 0x18ff, "high");
    CU_ASSERT_WHO(as, 0x1900, "low");
    CU_ASSERT_WHO(as, 0x1fff, "low");
    CU_ASSERT_PTR_NULL(who(as, 0x2000));
    /* the low region seen after the hole keeps its own offsets */
    const struct mem_section *s = address_space_lookup(as, 0x1900);
    CU_ASSERT_EQUAL(s->offset, 0x900);

    /* equal priority: the region added later wins */
    mem_region_init_io(&same_a, "same_a", &ops_any, &r3, 0x10);
    mem_region_init_io(&same_b, "same_b", &ops_any, &r4, 0x10);
    mem_region_add_subregion(&root, 0x5000, &same_a, 0);
    mem_region_add_subregion(&root, 0x5008, &same_b, 0);
    CU_ASSERT_WHO(as, 0x5007, "same_a");
    CU_ASSERT_WHO(as, 0x5008, "same_b");
    CU_ASSERT_WHO(as, 0x5017, "same_b");

    /* lower priority below: high wins although added first */
    mem_region_del_subregion(&root, &low);
    mem_region_add_subregion(&root, 0x1000, &low, -1);
    CU_ASSERT_WHO(as, 0x1800, "high");
    address_space_free(as);
}

static void test_containers(void)
{
    struct mem_region root, box, inner, under;
    struct rec r1 = {0}, r2 = {0};

    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_container(&box, "box", 0x100);
    mem_region_init_io(&inner, "inner", &ops_any, &r1, 0x1000);   /* larger than box */
    mem_region_init_io(&under, "under", &ops_any, &r2, 0x10000);
    mem_region_add_subregion(&box, 0x80, &inner, 0);
    mem_region_add_subregion(&root, 0x4000, &box, 1);
    mem_region_add_subregion(&root, 0x0, &under, 0);

    /* the container clips its child to its own size */
    CU_ASSERT_WHO(as, 0x4080, "inner");
    CU_ASSERT_WHO(as, 0x40ff, "inner");
    CU_ASSERT_WHO(as, 0x4100, "under");
    /* a container's holes show what is below it */
    CU_ASSERT_WHO(as, 0x4000, "under");
    const struct mem_section *sec = address_space_lookup(as, 0x4090);
    CU_ASSERT_EQUAL(sec->offset + (0x4090 - sec->addr), 0x10);

    /* io through nesting reaches the right offset */
    CU_ASSERT_EQUAL(io_write(as, 0x4084, 4, 0xdeadbeef), IO_OK);
    CU_ASSERT_EQUAL(r1.log[0].addr, 4);
    CU_ASSERT_EQUAL(r1.log[0].value, 0xdeadbeef);
    CU_ASSERT_EQUAL(r2.n, 0);
    address_space_free(as);
}

static void test_alias_and_ram(void)
{
    struct mem_region root, ram, alias, rom;
    struct ram_block *b = NULL, *rb = NULL;
    struct dm_err err;
    uint64_t v;

    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "ram", 0x10000, &b, &err), 0);
    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "rom", 0x1000, &rb, &err), 0);
    CU_ASSERT(b->fd >= 0);
    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_ram(&ram, "ram", b, 0, 0x10000);
    mem_region_init_alias(&alias, "alias", &ram, 0x2000, 0x1000);
    mem_region_init_rom(&rom, "rom", rb, 0, 0x1000);
    mem_region_add_subregion(&root, 0, &ram, 0);
    mem_region_add_subregion(&root, 0x100000, &alias, 0);
    mem_region_add_subregion(&root, 0xfffff000, &rom, 0);

    CU_ASSERT_EQUAL(io_write(as, 0x2010, 4, 0x11223344), IO_OK);
    CU_ASSERT_EQUAL(io_read(as, 0x100010, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0x11223344);
    /* RAM is the memfd's pages */
    CU_ASSERT_EQUAL(b->host[0x2010], 0x44);
    uint8_t byte;
    CU_ASSERT_EQUAL(pread(b->fd, &byte, 1, 0x2013), 1);
    CU_ASSERT_EQUAL(byte, 0x11);

    /* ROM: guest writes dropped, machine writes land */
    uint8_t fw[4] = { 0xea, 0x5b, 0xe0, 0x00 };
    CU_ASSERT_EQUAL(mem_region_rom_write(&rom, 0xff0, fw, 4), 0);
    CU_ASSERT_EQUAL(mem_region_rom_write(&rom, 0xffe, fw, 4), -ERANGE);
    CU_ASSERT_EQUAL(io_write(as, 0xfffffff0, 4, 0), IO_OK);
    CU_ASSERT_EQUAL(io_read(as, 0xfffffff0, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0x00e05bea);

    /* host pointer lookups */
    uint64_t len = 0x10000;
    uint8_t *p = address_space_host_ptr(as, 0x100ff0, &len, true);
    CU_ASSERT_PTR_EQUAL(p, b->host + 0x2ff0);
    CU_ASSERT_EQUAL(len, 0x10);
    len = 16;
    CU_ASSERT_PTR_NULL(address_space_host_ptr(as, 0xfffff000, &len, true));
    len = 16;
    CU_ASSERT_PTR_EQUAL(address_space_host_ptr(as, 0xfffff000, &len, false), rb->host);
    len = 16;
    CU_ASSERT_PTR_NULL(address_space_host_ptr(as, 0x200000, &len, false));

    /* moving the alias window */
    mem_region_set_alias_offset(&alias, 0x2010);
    CU_ASSERT_EQUAL(io_read(as, 0x100000, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0x11223344);

    /* a read-only alias (PAM "read from DRAM, write to PCI") drops writes */
    mem_region_set_readonly(&alias, true);
    CU_ASSERT_EQUAL(io_write(as, 0x100000, 4, 0x55555555), IO_OK);
    CU_ASSERT_EQUAL(io_read(as, 0x2010, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0x11223344);

    address_space_free(as);
    ram_block_free(b);
    ram_block_free(rb);
}

struct listener_rec {
    struct mem_listener l;
    int adds, dels, commits;
    uint64_t last_add_addr, last_add_size, last_del_addr;
};

static void l_add(struct mem_listener *l, const struct mem_section *s)
{
    struct listener_rec *r = (struct listener_rec *)l;
    r->adds++;
    r->last_add_addr = s->addr;
    r->last_add_size = s->size;
}

static void l_del(struct mem_listener *l, const struct mem_section *s)
{
    struct listener_rec *r = (struct listener_rec *)l;
    r->dels++;
    r->last_del_addr = s->addr;
}

static void l_commit(struct mem_listener *l)
{
    ((struct listener_rec *)l)->commits++;
}

static void test_flatten_changes(void)
{
    struct mem_region root, bar, other;
    struct rec r1 = {0}, r2 = {0};
    struct listener_rec lr = { .l = { .region_add = l_add, .region_del = l_del, .commit = l_commit } };
    uint64_t v;

    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_io(&other, "other", &ops_any, &r2, 0x1000);
    mem_region_add_subregion(&root, 0xe0000000, &other, 0);
    address_space_add_listener(as, &lr.l);
    CU_ASSERT_EQUAL(lr.adds, 1);                /* replay */
    CU_ASSERT_EQUAL(lr.last_add_addr, 0xe0000000);

    mem_region_init_io(&bar, "bar", &ops_any, &r1, 0x100);
    mem_region_add_subregion(&root, 0xf0000000, &bar, 1);
    CU_ASSERT_EQUAL(lr.adds, 2);
    CU_ASSERT_EQUAL(lr.dels, 0);
    CU_ASSERT_WHO(as, 0xf0000000, "bar");

    /* move (a BAR write): old place gone, new place answers */
    mem_region_set_address(&bar, 0xe0000800);
    CU_ASSERT_PTR_NULL(who(as, 0xf0000000));
    CU_ASSERT_WHO(as, 0xe0000800, "bar");
    CU_ASSERT_WHO(as, 0xe00008ff, "bar");
    CU_ASSERT_WHO(as, 0xe0000900, "other");
    CU_ASSERT_WHO(as, 0xe00007ff, "other");
    CU_ASSERT(lr.dels >= 2);    /* bar at old place, and "other" split in two */

    /* disable / enable */
    mem_region_set_enabled(&bar, false);
    CU_ASSERT_WHO(as, 0xe0000800, "other");
    mem_region_set_enabled(&bar, true);
    CU_ASSERT_WHO(as, 0xe0000800, "bar");

    /* remove */
    mem_region_del_subregion(&root, &bar);
    CU_ASSERT_WHO(as, 0xe0000800, "other");
    /* after removal "other" is one section again */
    CU_ASSERT_EQUAL(address_space_lookup(as, 0xe0000000)->size, 0x1000);
    CU_ASSERT_EQUAL(io_read(as, 0xf0000000, 4, &v), IO_UNASSIGNED);
    CU_ASSERT_EQUAL(v, 0xffffffff);

    /* a transaction batches: one commit for two changes */
    int before = lr.commits;
    mem_transaction_begin();
    mem_region_add_subregion(&root, 0xf0000000, &bar, 1);
    mem_region_set_address(&bar, 0xf0001000);
    CU_ASSERT_PTR_NULL(who(as, 0xf0001000));    /* not yet */
    mem_transaction_commit();
    CU_ASSERT_EQUAL(lr.commits, before + 1);
    CU_ASSERT_WHO(as, 0xf0001000, "bar");

    address_space_remove_listener(as, &lr.l);
    address_space_free(as);
}

/* What a hypervisor listener sees: the exact sections added and removed. */
struct slot_rec {
    struct mem_listener l;
    struct { uint64_t addr, size, block_offset; bool ram, ro; } live[16];
    unsigned n;
    int begins, commits;
    bool bad;
};

static void slot_add(struct mem_listener *l, const struct mem_section *s)
{
    struct slot_rec *r = (struct slot_rec *)l;
    if (r->n == 16) {
        r->bad = true;
        return;
    }
    r->live[r->n].addr = s->addr;
    r->live[r->n].size = s->size;
    r->live[r->n].block_offset = s->block_offset;
    r->live[r->n].ram = s->mr->kind != MEM_REGION_MMIO;
    r->live[r->n].ro = s->readonly;
    r->n++;
}

static void slot_del(struct mem_listener *l, const struct mem_section *s)
{
    struct slot_rec *r = (struct slot_rec *)l;
    for (unsigned i = 0; i < r->n; i++) {
        if (r->live[i].addr == s->addr && r->live[i].size == s->size) {
            r->live[i] = r->live[--r->n];
            return;
        }
    }
    r->bad = true;      /* deleting something never added */
}

static void slot_begin(struct mem_listener *l) { ((struct slot_rec *)l)->begins++; }
static void slot_commit(struct mem_listener *l) { ((struct slot_rec *)l)->commits++; }

static bool slot_has(struct slot_rec *r, uint64_t addr, uint64_t size, bool ram, bool ro,
                     uint64_t block_offset)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->live[i].addr == addr && r->live[i].size == size && r->live[i].ram == ram &&
            r->live[i].ro == ro && (!ram || r->live[i].block_offset == block_offset))
            return true;
    return false;
}

static void test_listener_sections(void)
{
    struct mem_region root, ram, bar, bios, shadow;
    struct ram_block *blk, *rom;
    struct rec rr = {0};
    struct slot_rec sr = { .l = { .begin = slot_begin, .region_add = slot_add,
                                  .region_del = slot_del, .commit = slot_commit } };

    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "ram", 0x100000, &blk, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "bios", 0x20000, &rom, NULL), 0);
    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_ram(&ram, "ram", blk, 0, 0x100000);
    mem_region_add_subregion(&root, 0, &ram, 0);
    address_space_add_listener(as, &sr.l);
    CU_ASSERT_EQUAL(sr.n, 1);
    CU_ASSERT(slot_has(&sr, 0, 0x100000, true, false, 0));

    /* an MMIO window over RAM splits the RAM slot in two */
    mem_region_init_io(&bar, "vga", &ops_any, &rr, 0x20000);
    mem_region_add_subregion(&root, 0xa0000, &bar, 1);
    CU_ASSERT_FALSE(sr.bad);
    CU_ASSERT_EQUAL(sr.n, 3);
    CU_ASSERT(slot_has(&sr, 0, 0xa0000, true, false, 0));
    CU_ASSERT(slot_has(&sr, 0xa0000, 0x20000, false, false, 0));
    CU_ASSERT(slot_has(&sr, 0xc0000, 0x40000, true, false, 0xc0000));

    /* BIOS ROM at the top of 4 GiB, and a read-only shadow of its last 128 KiB
     * below 1 MiB (PAM "read from ROM") */
    mem_region_init_rom(&bios, "bios", rom, 0, 0x20000);
    mem_region_add_subregion(&root, 0xfffe0000, &bios, 0);
    mem_region_init_alias(&shadow, "shadow", &bios, 0, 0x20000);
    mem_region_set_readonly(&shadow, true);
    mem_region_add_subregion(&root, 0xe0000, &shadow, 1);
    CU_ASSERT_FALSE(sr.bad);
    CU_ASSERT(slot_has(&sr, 0xfffe0000, 0x20000, true, true, 0));
    CU_ASSERT(slot_has(&sr, 0xe0000, 0x20000, true, true, 0));
    CU_ASSERT(slot_has(&sr, 0xc0000, 0x20000, true, false, 0xc0000));
    CU_ASSERT_EQUAL(sr.n, 5);

    /* the window goes away: RAM below 0xe0000 is one slot again */
    mem_region_del_subregion(&root, &bar);
    CU_ASSERT_FALSE(sr.bad);
    CU_ASSERT(slot_has(&sr, 0, 0xe0000, true, false, 0));
    CU_ASSERT_EQUAL(sr.n, 3);     /* RAM, shadow, BIOS */
    /* each change was one begin/commit pair */
    CU_ASSERT_EQUAL(sr.begins, sr.commits);

    /* the flat view printer shows what the listener holds */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    address_space_print_flat(as, f);
    address_space_print_tree(as, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "00000000000e0000-00000000000fffff (rom, readonly): bios"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "(prio 1, alias, readonly): shadow @bios"));
    free(text);

    address_space_remove_listener(as, &sr.l);
    address_space_free(as);
    ram_block_free(blk);
    ram_block_free(rom);
}

static void test_split_merge(void)
{
    struct mem_region root, a, b, c, d;
    struct rec ra = {0}, rb = {0}, rc = {0}, rd = {0};
    uint64_t v;

    mem_region_init_container(&root, "root", 0x10000);
    struct address_space *as = address_space_new("io", &root);
    mem_region_init_io(&a, "impl4", &ops_impl4, &ra, 0x40);
    mem_region_init_io(&b, "impl1", &ops_impl1, &rb, 0x40);
    mem_region_init_io(&c, "valid4", &ops_valid4, &rc, 0x40);
    mem_region_init_io(&d, "big", &ops_big, &rd, 0x40);
    mem_region_add_subregion(&root, 0x100, &a, 0);
    mem_region_add_subregion(&root, 0x200, &b, 0);
    mem_region_add_subregion(&root, 0x300, &c, 0);
    mem_region_add_subregion(&root, 0x400, &d, 0);

    /* 8-byte write to a 4-byte-only device: two dword writes, low first */
    CU_ASSERT_EQUAL(io_write(as, 0x108, 8, 0x8877665544332211ULL), IO_OK);
    CU_ASSERT_EQUAL_FATAL(ra.n, 2);
    CU_ASSERT_EQUAL(ra.log[0].addr, 8);
    CU_ASSERT_EQUAL(ra.log[0].size, 4);
    CU_ASSERT_EQUAL(ra.log[0].value, 0x44332211);
    CU_ASSERT_EQUAL(ra.log[1].addr, 12);
    CU_ASSERT_EQUAL(ra.log[1].value, 0x88776655);
    /* 1-byte read inside a dword: one dword read, the right lane */
    ra.n = 0;
    CU_ASSERT_EQUAL(io_read(as, 0x10a, 1, &v), IO_OK);
    CU_ASSERT_EQUAL(ra.n, 1);
    CU_ASSERT_EQUAL(ra.log[0].addr, 8);
    CU_ASSERT_EQUAL(ra.log[0].size, 4);
    CU_ASSERT_EQUAL(v, 0x33);
    /* 2-byte write into a dword: written in its lane, other lanes zero */
    ra.n = 0;
    CU_ASSERT_EQUAL(io_write(as, 0x112, 2, 0xbeef), IO_OK);
    CU_ASSERT_EQUAL(ra.n, 1);
    CU_ASSERT_EQUAL(ra.log[0].addr, 0x10);
    CU_ASSERT_EQUAL(ra.log[0].value, 0xbeef0000);

    /* byte-only device: a dword read is four byte reads, merged little-endian */
    memcpy(rb.regs + 4, "\x01\x02\x03\x04", 4);
    CU_ASSERT_EQUAL(io_read(as, 0x204, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(rb.n, 4);
    for (unsigned i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(rb.log[i].addr, 4 + i);
        CU_ASSERT_EQUAL(rb.log[i].size, 1);
    }
    CU_ASSERT_EQUAL(v, 0x04030201);
    /* 8 bytes is outside valid (max 4): all-ones, handler not called */
    rb.n = 0;
    CU_ASSERT_EQUAL(io_read(as, 0x200, 8, &v), IO_INVALID);
    CU_ASSERT_EQUAL(v, UINT64_MAX);
    CU_ASSERT_EQUAL(rb.n, 0);
    /* misaligned where valid forbids it */
    CU_ASSERT_EQUAL(io_write(as, 0x201, 2, 0x1234), IO_INVALID);
    CU_ASSERT_EQUAL(rb.n, 0);

    /* valid 4 only: a byte access is refused and counted as a guest error */
    unsigned long errs = dm_guest_error_count();
    CU_ASSERT_EQUAL(io_write(as, 0x300, 1, 0x12), IO_INVALID);
    CU_ASSERT_EQUAL(rc.n, 0);
    CU_ASSERT(dm_guest_error_count() > errs);
    CU_ASSERT_EQUAL(io_write(as, 0x304, 4, 0x12345678), IO_OK);
    CU_ASSERT_EQUAL(rc.n, 1);

    /* big-endian device: the register value 0x11223344 reads back as bytes
     * 11 22 33 44 in address order, i.e. 0x44332211 as a little-endian load */
    rd.regs[0] = 0x44; rd.regs[1] = 0x33; rd.regs[2] = 0x22; rd.regs[3] = 0x11;
    CU_ASSERT_EQUAL(io_read(as, 0x400, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0x44332211);
    CU_ASSERT_EQUAL(io_read(as, 0x400, 1, &v), IO_OK);  /* byte at address 0 is 0x11 */
    CU_ASSERT_EQUAL(v, 0x11);

    /* invalid sizes never reach a device */
    CU_ASSERT_EQUAL(io_read(as, 0x100, 3, &v), IO_INVALID);
    address_space_free(as);
}

static void test_unassigned_and_straddle(void)
{
    struct mem_region root, a, ram;
    struct rec ra = {0};
    struct ram_block *blk;
    uint64_t v = 0;

    CU_ASSERT_EQUAL_FATAL(ram_block_new(&mem_provider_memfd, "r", 4096, &blk, NULL), 0);
    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_io(&a, "dev", &ops_any, &ra, 0x10);
    mem_region_init_ram(&ram, "ram", blk, 0, 0x1000);
    mem_region_add_subregion(&root, 0x1000, &ram, 0);
    mem_region_add_subregion(&root, 0x2000, &a, 0);

    for (unsigned size = 1; size <= 8; size *= 2) {
        CU_ASSERT_EQUAL(io_read(as, 0x9000, size, &v), IO_UNASSIGNED);
        CU_ASSERT_EQUAL(v, size == 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1);
    }
    CU_ASSERT_EQUAL(io_write(as, 0x9000, 4, 1), IO_UNASSIGNED);

    /* a dword straddling the end of RAM into the device: bytes go to each */
    CU_ASSERT_EQUAL(io_write(as, 0x1ffe, 4, 0xa1b2c3d4), IO_OK);
    CU_ASSERT_EQUAL(blk->host[0xffe], 0xd4);
    CU_ASSERT_EQUAL(blk->host[0xfff], 0xc3);
    CU_ASSERT_EQUAL(ra.regs[0], 0xb2);
    CU_ASSERT_EQUAL(ra.regs[1], 0xa1);
    CU_ASSERT_EQUAL(io_read(as, 0x1ffe, 4, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0xa1b2c3d4);
    /* straddling into nothing: the missing bytes read 0xff */
    CU_ASSERT_EQUAL(io_read(as, 0x200e, 4, &v), IO_UNASSIGNED);
    CU_ASSERT_EQUAL(v & 0xffff0000, 0xffff0000);
    /* the top of the address space does not wrap around to 0 */
    CU_ASSERT_EQUAL(io_read(as, UINT64_MAX - 1, 4, &v), IO_UNASSIGNED);

    address_space_free(as);
    ram_block_free(blk);
}

/* A handler that moves its own region while being dispatched. */
struct mover {
    struct mem_region mr;
    int writes;
};

static void mover_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    struct mover *m = opaque;
    m->writes++;
    mem_region_set_address(&m->mr, 0x3000);
}

static uint64_t mover_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0x5a;
}

static const struct mem_region_ops mover_ops = {
    .read = mover_read, .write = mover_write, .valid = { 1, 8, false }, .impl = { 1, 1, false },
};

static void test_move_during_dispatch(void)
{
    struct mem_region root;
    struct mover m = { .writes = 0 };
    uint64_t v;

    mem_region_init_container(&root, "root", UINT64_MAX);
    struct address_space *as = address_space_new("test", &root);
    mem_region_init_io(&m.mr, "mover", &mover_ops, &m, 0x10);
    mem_region_add_subregion(&root, 0x1000, &m.mr, 0);
    /* 8 byte writes split into 8 byte accesses: the first moves the region,
     * the rest still run against the view they started with (ASan would see a
     * use after free otherwise). */
    CU_ASSERT_EQUAL(io_write(as, 0x1000, 8, 0), IO_OK);
    CU_ASSERT_EQUAL(m.writes, 8);
    CU_ASSERT_PTR_NULL(who(as, 0x1000));
    CU_ASSERT_EQUAL(io_read(as, 0x3000, 1, &v), IO_OK);
    CU_ASSERT_EQUAL(v, 0x5a);

    /* an access straddling into a second region walks the old view byte by
     * byte after the first byte moved the region */
    struct mem_region tail;
    struct rec rt = {0};
    mem_region_init_io(&tail, "tail", &ops_any, &rt, 0x10);
    mem_region_add_subregion(&root, 0x3000, &tail, 1);
    m.writes = 0;
    mem_region_set_address(&m.mr, 0x2ff0);      /* next write moves it to 0x3000 */
    CU_ASSERT_EQUAL(io_write(as, 0x2ffe, 4, 0x44332211), IO_OK);
    CU_ASSERT_EQUAL(m.writes, 2);
    CU_ASSERT_EQUAL(rt.regs[0], 0x33);
    CU_ASSERT_EQUAL(rt.regs[1], 0x44);
    address_space_free(as);
}

static void test_two_spaces(void)
{
    /* Two independent machines in one process. */
    struct mem_region r1, r2, d1, d2;
    struct rec a = {0}, b = {0};

    mem_region_init_container(&r1, "root1", 0x10000);
    mem_region_init_container(&r2, "root2", 0x10000);
    struct address_space *as1 = address_space_new("io1", &r1);
    struct address_space *as2 = address_space_new("io2", &r2);
    mem_region_init_io(&d1, "d1", &ops_any, &a, 8);
    mem_region_init_io(&d2, "d2", &ops_any, &b, 8);
    mem_region_add_subregion(&r1, 0x3f8, &d1, 0);
    mem_region_add_subregion(&r2, 0x3f8, &d2, 0);
    io_write(as1, 0x3f8, 1, 0x41);
    io_write(as2, 0x3f8, 1, 0x42);
    CU_ASSERT_EQUAL(a.regs[0], 0x41);
    CU_ASSERT_EQUAL(b.regs[0], 0x42);
    address_space_free(as1);
    CU_ASSERT_WHO(as2, 0x3f8, "d2");
    address_space_free(as2);
}

static void test_ram_too_big(void)
{
    struct ram_block *b = (void *)1;
    struct dm_err err = {{0}};

    CU_ASSERT_EQUAL(ram_block_new(&mem_provider_memfd, "huge", 1ULL << 62, &b, &err), -ENOMEM);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "huge"));
    CU_ASSERT_EQUAL(ram_block_new(&mem_provider_memfd, "zero", 0, &b, &err), -EINVAL);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("memory", NULL, NULL);
    CU_add_test(s, "overlap_priority", test_overlap_priority);
    CU_add_test(s, "containers", test_containers);
    CU_add_test(s, "alias_and_ram", test_alias_and_ram);
    CU_add_test(s, "flatten_changes", test_flatten_changes);
    CU_add_test(s, "listener_sections", test_listener_sections);
    CU_add_test(s, "split_merge", test_split_merge);
    CU_add_test(s, "unassigned_and_straddle", test_unassigned_and_straddle);
    CU_add_test(s, "move_during_dispatch", test_move_during_dispatch);
    CU_add_test(s, "two_spaces", test_two_spaces);
    CU_add_test(s, "ram_too_big", test_ram_too_big);
    return cunit_run_all();
}
