/* Guest memory: RAM blocks, regions, address spaces and the single I/O entry.
 *
 * RAM blocks hold guest RAM in host memory.  The standalone provider allocates
 * each block with memfd_create + mmap(MAP_SHARED), so KVM memory slots and test
 * harnesses see the same pages through (fd, fd_offset) or the host pointer.
 *
 * An address space (port I/O or memory) has a root region; regions form a tree:
 * containers hold subregions at offsets with priorities (higher wins where they
 * overlap; on equal priority the later-added wins), RAM/ROM map a slice of a RAM
 * block, MMIO regions dispatch to an ops table, aliases show a window of another
 * region.  Whenever the tree changes the address space rebuilds its flat view: a
 * sorted array of non-overlapping sections, so dispatch is a binary search and
 * allocates nothing.  Listeners hear about sections that appear or go away.
 *
 * Locking: every function here is called with the device lock held (dm_lock(),
 * see mainloop.h and docs/locking.md).  A handler may change the tree (move a
 * BAR) while it is being dispatched: the old flat view stays alive until the
 * dispatch that used it has finished. */
#ifndef DM_MEMORY_H
#define DM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dm/log.h"

/* ---- RAM blocks ------------------------------------------------------------- */

struct ram_block;
struct mem_provider;

struct mem_provider_ops {
    /* Allocate b->size bytes: set b->host (and b->fd/b->fd_offset if shareable). */
    int (*alloc)(const struct mem_provider *p, struct ram_block *b);
    void (*free)(const struct mem_provider *p, struct ram_block *b);
};

struct mem_provider {
    const char *name;
    const struct mem_provider_ops *ops;
    void *opaque;
};

/* The standalone provider: memfd-backed, shared mappings. */
extern const struct mem_provider mem_provider_memfd;

struct ram_block {
    char name[64];
    uint64_t size;          /* bytes, multiple of the host page size */
    uint8_t *host;          /* host mapping of the whole block */
    int fd;                 /* memfd (or -1 if the provider has none) */
    uint64_t fd_offset;     /* offset of the block inside fd */
    const struct mem_provider *provider;
};

/* Allocate a zeroed block; -errno with a message in err on failure (e.g. ENOMEM
 * when the host cannot give that much). */
int ram_block_new(const struct mem_provider *p, const char *name, uint64_t size,
                  struct ram_block **out, struct dm_err *err);
void ram_block_free(struct ram_block *b);

/* ---- regions ---------------------------------------------------------------- */

enum dm_endian {
    DM_ENDIAN_LITTLE,   /* the device's registers are little-endian (PC devices) */
    DM_ENDIAN_BIG,
    DM_ENDIAN_NATIVE,   /* host order, no swapping */
};

/* Access sizes in bytes (1, 2, 4, 8).  0 in min/max means 1 and 4. */
struct mem_access_sizes {
    unsigned min;
    unsigned max;
    bool unaligned;     /* accesses not aligned to their size are allowed */
};

/* MMIO / port handlers.  addr is the offset inside the region.  The core calls
 * read/write only with sizes inside impl; wider or narrower guest accesses that
 * are inside valid are split or merged (in the region's endianness).  Accesses
 * outside valid are logged as guest errors: reads give all-ones, writes are
 * dropped. */
struct mem_region_ops {
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t value, unsigned size);
    enum dm_endian endian;
    struct mem_access_sizes valid;  /* what the guest may do */
    struct mem_access_sizes impl;   /* what the handlers implement */
};

enum mem_region_kind {
    MEM_REGION_CONTAINER,
    MEM_REGION_RAM,
    MEM_REGION_ROM,     /* read-only to the guest; machine writes with mem_region_rom_write */
    MEM_REGION_MMIO,
    MEM_REGION_ALIAS,
};

struct address_space;

/* A region.  Embed it in the owner's state (no allocation); initialise with one
 * of the mem_region_init_* calls.  Fields are read-only outside memory.c. */
struct mem_region {
    const char *name;
    enum mem_region_kind kind;
    uint64_t size;              /* bytes; UINT64_MAX for "the whole space" */
    bool enabled;
    bool readonly;              /* RAM/alias: guest writes are dropped */
    int priority;

    /* RAM / ROM */
    struct ram_block *block;
    uint64_t block_offset;

    /* MMIO */
    const struct mem_region_ops *ops;
    void *opaque;

    /* alias */
    struct mem_region *alias;
    uint64_t alias_offset;

    /* tree */
    struct mem_region *parent;
    uint64_t addr;              /* offset inside parent */
    struct mem_region *children;        /* sorted: highest priority first */
    struct mem_region *next_sibling;
    unsigned add_seq;                   /* tie-break for equal priority */
    struct address_space *root_of;      /* set while root of an address space */
};

void mem_region_init_container(struct mem_region *mr, const char *name, uint64_t size);
void mem_region_init_ram(struct mem_region *mr, const char *name,
                         struct ram_block *block, uint64_t offset, uint64_t size);
void mem_region_init_rom(struct mem_region *mr, const char *name,
                         struct ram_block *block, uint64_t offset, uint64_t size);
void mem_region_init_io(struct mem_region *mr, const char *name,
                        const struct mem_region_ops *ops, void *opaque, uint64_t size);
void mem_region_init_alias(struct mem_region *mr, const char *name,
                           struct mem_region *target, uint64_t offset, uint64_t size);

/* Put child into container parent at offset addr.  A region has one parent. */
void mem_region_add_subregion(struct mem_region *parent, uint64_t addr,
                              struct mem_region *child, int priority);
void mem_region_del_subregion(struct mem_region *parent, struct mem_region *child);
void mem_region_set_enabled(struct mem_region *mr, bool enabled);
void mem_region_set_address(struct mem_region *mr, uint64_t addr);      /* move */
void mem_region_set_alias_offset(struct mem_region *mr, uint64_t offset);
void mem_region_set_readonly(struct mem_region *mr, bool readonly);
bool mem_region_is_mapped(const struct mem_region *mr);

/* Host pointer to the RAM/ROM behind mr at offset (NULL if not RAM-backed). */
void *mem_region_host_ptr(struct mem_region *mr, uint64_t offset);
/* Machine-side write into a RAM or ROM region (firmware loading); -ERANGE if the
 * range does not fit. */
int mem_region_rom_write(struct mem_region *mr, uint64_t offset, const void *buf, size_t len);

/* Batch changes: the flat views are rebuilt once at the outermost commit. */
void mem_transaction_begin(void);
void mem_transaction_commit(void);

/* ---- flat view and listeners ------------------------------------------------ */

/* One piece of the flat view: [addr, addr + size) maps to mr at offset. */
struct mem_section {
    uint64_t addr;
    uint64_t size;              /* never 0; a section never wraps */
    struct mem_region *mr;      /* the terminal region (RAM, ROM or MMIO) */
    uint64_t offset;            /* offset inside mr */
    bool readonly;              /* ROM, or RAM seen through a read-only region */
    /* RAM/ROM only: the host memory that backs the section */
    struct ram_block *block;
    uint64_t block_offset;
};

/* Sections of kind RAM/ROM are what a hypervisor maps as memory slots; MMIO
 * sections are what it must trap.  region_del for the old layout is called
 * before region_add for the new one, between begin and commit. */
struct mem_listener {
    void (*begin)(struct mem_listener *l);
    void (*region_add)(struct mem_listener *l, const struct mem_section *s);
    void (*region_del)(struct mem_listener *l, const struct mem_section *s);
    void (*commit)(struct mem_listener *l);
    void *opaque;
    struct mem_listener *next;          /* private */
    struct address_space *as;          /* private */
};

/* ---- address spaces --------------------------------------------------------- */

struct address_space;

/* An address space over root (usually a container of size UINT64_MAX for
 * memory, 0x10000 for port I/O). */
struct address_space *address_space_new(const char *name, struct mem_region *root);
void address_space_free(struct address_space *as);
const char *address_space_name(const struct address_space *as);

/* Register l and replay the current sections to it as region_add. */
void address_space_add_listener(struct address_space *as, struct mem_listener *l);
void address_space_remove_listener(struct address_space *as, struct mem_listener *l);

/* The section containing addr, or NULL if addr is unassigned.  Valid until the
 * next change to the tree. */
const struct mem_section *address_space_lookup(struct address_space *as, uint64_t addr);
/* Host pointer for guest address addr if it is RAM (or ROM when !is_write);
 * *len (in: wanted, out: contiguous bytes available).  NULL otherwise.  For an
 * executor's TLB fill: valid until the next change to the tree. */
void *address_space_host_ptr(struct address_space *as, uint64_t addr, uint64_t *len, bool is_write);

/* Print the region tree (`info mtree`) or the flat view. */
void address_space_print_tree(struct address_space *as, FILE *f);
void address_space_print_flat(struct address_space *as, FILE *f);

/* ---- the I/O entry every executor uses -------------------------------------- */

/* Results of io_read/io_write. */
enum {
    IO_OK = 0,
    IO_UNASSIGNED = 1,  /* nothing there: read all-ones, write dropped (logged) */
    IO_INVALID = 2,     /* size not allowed by the region's valid sizes (logged) */
};

/* size is 1, 2, 4 or 8; value is in host order (the guest's little-endian
 * register value for x86 I/O).  Never fails hard: an unassigned or invalid read
 * sets *value to all-ones of that size. */
int io_read(struct address_space *as, uint64_t addr, unsigned size, uint64_t *value);
int io_write(struct address_space *as, uint64_t addr, unsigned size, uint64_t value);

#endif
