/* Regions, address spaces, flat views and the io_read/io_write entry.
 *
 * Every change to a region tree marks the world dirty; at the end of the
 * outermost transaction every address space renders its tree into a new flat
 * view (sorted, non-overlapping sections), tells its listeners what went away and
 * what appeared, and swaps the view in.  Dispatch is a binary search in the
 * current view.  A view is reference-counted so a handler that moves a region
 * while being dispatched does not free the view its caller still reads.
 * All of this runs under the device lock (docs/locking.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "dm/memory.h"

typedef __int128 i128;

#define ALIAS_DEPTH_MAX 16

struct flat_view {
    unsigned refs;
    unsigned nr, cap;
    struct mem_section *sec;
};

struct address_space {
    char *name;
    struct mem_region *root;
    struct flat_view *view;
    struct mem_listener *listeners;
    struct address_space *next;
    struct dm_ratelimit unassigned_rl;
};

/* Process-wide bookkeeping, protected by the device lock: the list of address
 * spaces to re-render and the transaction depth.  No device state lives here. */
static struct address_space *all_spaces;
static int txn_depth;
static bool txn_dirty;
static unsigned add_seq_counter;

static void mem_fatal(const char *what, const char *name)
{
    /* API misuse by the machine or a device model, never guest-triggered. */
    dm_error("memory: %s (region '%s')", what, name ? name : "?");
    abort();
}

/* ---- RAM blocks ------------------------------------------------------------- */

static int memfd_alloc(const struct mem_provider *p, struct ram_block *b)
{
    int fd = memfd_create(b->name, MFD_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)b->size) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    void *host = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (host == MAP_FAILED) {
        int e = -errno;
        close(fd);
        return e;
    }
    b->host = host;
    b->fd = fd;
    b->fd_offset = 0;
    return 0;
}

static void memfd_free(const struct mem_provider *p, struct ram_block *b)
{
    if (b->host)
        munmap(b->host, b->size);
    if (b->fd >= 0)
        close(b->fd);
}

static const struct mem_provider_ops memfd_ops = {
    .alloc = memfd_alloc,
    .free = memfd_free,
};

const struct mem_provider mem_provider_memfd = {
    .name = "memfd",
    .ops = &memfd_ops,
};

int ram_block_new(const struct mem_provider *p, const char *name, uint64_t size,
                  struct ram_block **out, struct dm_err *err)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    struct sysinfo si;
    struct ram_block *b;
    int ret;

    *out = NULL;
    if (size == 0 || size > UINT64_MAX - page) {
        dm_err_set(err, "RAM block '%s': invalid size %" PRIu64, name, size);
        return -EINVAL;
    }
    size = (size + page - 1) & ~(page - 1);
    /* memfd pages are allocated lazily, so an impossible size would only fail
     * later with SIGBUS; refuse what RAM plus swap cannot hold. */
    if (sysinfo(&si) == 0) {
        unsigned __int128 host = ((unsigned __int128)si.totalram + si.totalswap) * si.mem_unit;
        if (size > host) {
            dm_err_set(err, "cannot allocate %" PRIu64 " MiB of guest RAM for '%s': the host has %"
                       PRIu64 " MiB of RAM and swap", size >> 20, name, (uint64_t)(host >> 20));
            return -ENOMEM;
        }
    }
    b = calloc(1, sizeof(*b));
    if (!b) {
        dm_err_set(err, "out of memory");
        return -ENOMEM;
    }
    snprintf(b->name, sizeof(b->name), "%s", name);
    b->size = size;
    b->fd = -1;
    b->provider = p;
    ret = p->ops->alloc(p, b);
    if (ret < 0) {
        dm_err_set(err, "cannot allocate %" PRIu64 " MiB of guest RAM for '%s': %s",
                   size >> 20, name, strerror(-ret));
        free(b);
        return ret;
    }
    *out = b;
    return 0;
}

void ram_block_free(struct ram_block *b)
{
    if (!b)
        return;
    b->provider->ops->free(b->provider, b);
    free(b);
}

/* ---- regions ---------------------------------------------------------------- */

static void memory_changed(void);

static void region_init(struct mem_region *mr, const char *name, enum mem_region_kind kind,
                        uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = name;
    mr->kind = kind;
    mr->size = size;
    mr->enabled = true;
}

void mem_region_init_container(struct mem_region *mr, const char *name, uint64_t size)
{
    region_init(mr, name, MEM_REGION_CONTAINER, size);
}

static void init_backed(struct mem_region *mr, const char *name, enum mem_region_kind kind,
                        struct ram_block *block, uint64_t offset, uint64_t size)
{
    if (!block || offset > block->size || size > block->size - offset)
        mem_fatal("RAM region outside its block", name);
    region_init(mr, name, kind, size);
    mr->block = block;
    mr->block_offset = offset;
    mr->readonly = kind == MEM_REGION_ROM;
}

void mem_region_init_ram(struct mem_region *mr, const char *name,
                         struct ram_block *block, uint64_t offset, uint64_t size)
{
    init_backed(mr, name, MEM_REGION_RAM, block, offset, size);
}

void mem_region_init_rom(struct mem_region *mr, const char *name,
                         struct ram_block *block, uint64_t offset, uint64_t size)
{
    init_backed(mr, name, MEM_REGION_ROM, block, offset, size);
}

void mem_region_init_io(struct mem_region *mr, const char *name,
                        const struct mem_region_ops *ops, void *opaque, uint64_t size)
{
    region_init(mr, name, MEM_REGION_MMIO, size);
    mr->ops = ops;
    mr->opaque = opaque;
}

void mem_region_init_alias(struct mem_region *mr, const char *name,
                           struct mem_region *target, uint64_t offset, uint64_t size)
{
    region_init(mr, name, MEM_REGION_ALIAS, size);
    mr->alias = target;
    mr->alias_offset = offset;
}

void mem_region_add_subregion(struct mem_region *parent, uint64_t addr,
                              struct mem_region *child, int priority)
{
    struct mem_region **pp;

    if (parent->kind != MEM_REGION_CONTAINER)
        mem_fatal("subregion added to a region that is not a container", parent->name);
    if (child->parent || child->root_of)
        mem_fatal("region already has a parent", child->name);
    child->parent = parent;
    child->addr = addr;
    child->priority = priority;
    child->add_seq = ++add_seq_counter;
    /* Highest priority first; on a tie the region added last wins, so it comes
     * first. */
    for (pp = &parent->children; *pp; pp = &(*pp)->next_sibling) {
        if ((*pp)->priority <= priority)
            break;
    }
    child->next_sibling = *pp;
    *pp = child;
    memory_changed();
}

void mem_region_del_subregion(struct mem_region *parent, struct mem_region *child)
{
    struct mem_region **pp;

    for (pp = &parent->children; *pp; pp = &(*pp)->next_sibling) {
        if (*pp == child) {
            *pp = child->next_sibling;
            child->next_sibling = NULL;
            child->parent = NULL;
            memory_changed();
            return;
        }
    }
    mem_fatal("subregion is not a child of this container", child->name);
}

void mem_region_set_enabled(struct mem_region *mr, bool enabled)
{
    if (mr->enabled == enabled)
        return;
    mr->enabled = enabled;
    memory_changed();
}

void mem_region_set_address(struct mem_region *mr, uint64_t addr)
{
    if (mr->addr == addr)
        return;
    mr->addr = addr;
    memory_changed();
}

void mem_region_set_alias_offset(struct mem_region *mr, uint64_t offset)
{
    if (mr->alias_offset == offset)
        return;
    mr->alias_offset = offset;
    memory_changed();
}

void mem_region_set_readonly(struct mem_region *mr, bool readonly)
{
    if (mr->readonly == readonly)
        return;
    mr->readonly = readonly;
    memory_changed();
}

bool mem_region_is_mapped(const struct mem_region *mr)
{
    return mr->parent != NULL || mr->root_of != NULL;
}

void *mem_region_host_ptr(struct mem_region *mr, uint64_t offset)
{
    for (int depth = 0; depth < ALIAS_DEPTH_MAX; depth++) {
        if (offset >= mr->size)
            return NULL;
        switch (mr->kind) {
        case MEM_REGION_RAM:
        case MEM_REGION_ROM:
            return mr->block->host + mr->block_offset + offset;
        case MEM_REGION_ALIAS:
            offset += mr->alias_offset;
            mr = mr->alias;
            break;
        default:
            return NULL;
        }
    }
    return NULL;
}

int mem_region_rom_write(struct mem_region *mr, uint64_t offset, const void *buf, size_t len)
{
    uint8_t *p;

    if (offset > mr->size || len > mr->size - offset)
        return -ERANGE;
    if (len == 0)
        return 0;
    p = mem_region_host_ptr(mr, offset);
    if (!p || !mem_region_host_ptr(mr, offset + len - 1))
        return -EINVAL;
    memcpy(p, buf, len);
    return 0;
}

/* ---- rendering the flat view ------------------------------------------------ */

static void view_unref(struct flat_view *v)
{
    if (v && --v->refs == 0) {
        free(v->sec);
        free(v);
    }
}

static void view_insert(struct flat_view *v, unsigned at, const struct mem_section *s)
{
    if (v->nr == v->cap) {
        unsigned cap = v->cap ? v->cap * 2 : 16;
        struct mem_section *n = realloc(v->sec, cap * sizeof(*n));
        if (!n)
            mem_fatal("out of memory rendering a flat view", s->mr->name);
        v->sec = n;
        v->cap = cap;
    }
    memmove(&v->sec[at + 1], &v->sec[at], (v->nr - at) * sizeof(*s));
    v->sec[at] = *s;
    v->nr++;
}

/* Add terminal region mr for [start, end) where mr's offset 0 sits at base;
 * only the gaps not already claimed by higher-priority regions are filled. */
static void view_add_terminal(struct flat_view *v, struct mem_region *mr, i128 base,
                              i128 start, i128 end, bool readonly)
{
    unsigned i, lo = 0, hi = v->nr;
    i128 cur = start;

    /* first section that ends after start */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if ((i128)v->sec[mid].addr + v->sec[mid].size <= cur)
            lo = mid + 1;
        else
            hi = mid;
    }
    i = lo;
    while (cur < end) {
        i128 gap_end = end;
        if (i < v->nr) {
            i128 s_start = v->sec[i].addr, s_end = s_start + v->sec[i].size;
            if (s_start <= cur) {
                cur = s_end;
                i++;
                continue;
            }
            if (s_start < gap_end)
                gap_end = s_start;
        }
        struct mem_section s = {
            .addr = (uint64_t)cur,
            .size = (uint64_t)(gap_end - cur),
            .mr = mr,
            .offset = (uint64_t)(cur - base),
            .readonly = readonly || mr->kind == MEM_REGION_ROM,
        };
        if (mr->kind != MEM_REGION_MMIO) {
            s.block = mr->block;
            s.block_offset = mr->block_offset + s.offset;
        }
        view_insert(v, i, &s);
        i++;
        cur = gap_end;
    }
}

static void render(struct flat_view *v, struct mem_region *mr, i128 base,
                   i128 clip_start, i128 clip_end, bool readonly, int depth)
{
    i128 start, end;

    if (!mr->enabled || depth > ALIAS_DEPTH_MAX)
        return;
    start = base > clip_start ? base : clip_start;
    end = base + (i128)mr->size;
    if (end > clip_end)
        end = clip_end;
    if (start >= end)
        return;
    readonly = readonly || mr->readonly;
    switch (mr->kind) {
    case MEM_REGION_ALIAS:
        render(v, mr->alias, base - (i128)mr->alias_offset, start, end, readonly, depth + 1);
        break;
    case MEM_REGION_CONTAINER:
        for (struct mem_region *c = mr->children; c; c = c->next_sibling)
            render(v, c, base + (i128)c->addr, start, end, readonly, depth + 1);
        break;
    default:
        view_add_terminal(v, mr, base, start, end, readonly);
        break;
    }
}

static bool section_continues(const struct mem_section *a, const struct mem_section *b)
{
    return a->mr == b->mr && a->readonly == b->readonly &&
           (i128)a->addr + a->size == b->addr && a->offset + a->size == b->offset;
}

static struct flat_view *render_space(struct address_space *as)
{
    struct flat_view *v = calloc(1, sizeof(*v));
    unsigned out = 0;

    if (!v)
        mem_fatal("out of memory rendering a flat view", as->root->name);
    v->refs = 1;
    render(v, as->root, 0, 0, (i128)UINT64_MAX, false, 0);
    /* Merge neighbours split only by the rendering order. */
    for (unsigned i = 0; i < v->nr; i++) {
        if (out > 0 && section_continues(&v->sec[out - 1], &v->sec[i]))
            v->sec[out - 1].size += v->sec[i].size;
        else
            v->sec[out++] = v->sec[i];
    }
    v->nr = out;
    return v;
}

static bool section_equal(const struct mem_section *a, const struct mem_section *b)
{
    return a->addr == b->addr && a->size == b->size && a->mr == b->mr &&
           a->offset == b->offset && a->readonly == b->readonly;
}

static bool view_contains(const struct flat_view *v, const struct mem_section *s)
{
    /* Views are sorted by address: binary search for s->addr. */
    unsigned lo = 0, hi = v ? v->nr : 0;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (v->sec[mid].addr < s->addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < (v ? v->nr : 0) && section_equal(&v->sec[lo], s);
}

static void notify_listeners(struct address_space *as, struct flat_view *old, struct flat_view *new)
{
    for (struct mem_listener *l = as->listeners; l; l = l->next) {
        if (l->begin)
            l->begin(l);
        if (old && l->region_del) {
            for (unsigned i = 0; i < old->nr; i++)
                if (!view_contains(new, &old->sec[i]))
                    l->region_del(l, &old->sec[i]);
        }
        if (l->region_add) {
            for (unsigned i = 0; i < new->nr; i++)
                if (!view_contains(old, &new->sec[i]))
                    l->region_add(l, &new->sec[i]);
        }
        if (l->commit)
            l->commit(l);
    }
}

static void space_rebuild(struct address_space *as)
{
    struct flat_view *old = as->view, *new = render_space(as);

    notify_listeners(as, old, new);
    as->view = new;
    view_unref(old);
    dm_log(DM_LOG_MEMORY, "memory: %s: flat view rebuilt, %u sections", as->name, new->nr);
}

static void memory_changed(void)
{
    if (txn_depth > 0) {
        txn_dirty = true;
        return;
    }
    /* Any region may be reachable from any space through aliases: render all. */
    for (struct address_space *as = all_spaces; as; as = as->next)
        space_rebuild(as);
}

void mem_transaction_begin(void)
{
    txn_depth++;
}

void mem_transaction_commit(void)
{
    if (txn_depth <= 0)
        mem_fatal("transaction commit without begin", NULL);
    if (--txn_depth == 0 && txn_dirty) {
        txn_dirty = false;
        memory_changed();
    }
}

/* ---- address spaces --------------------------------------------------------- */

struct address_space *address_space_new(const char *name, struct mem_region *root)
{
    struct address_space *as = calloc(1, sizeof(*as));

    if (!as || !(as->name = strdup(name)))
        mem_fatal("out of memory", name);
    if (root->parent || root->root_of)
        mem_fatal("address space root already in use", root->name);
    as->root = root;
    root->root_of = as;
    as->next = all_spaces;
    all_spaces = as;
    as->view = render_space(as);
    return as;
}

void address_space_free(struct address_space *as)
{
    struct address_space **pp;

    if (!as)
        return;
    for (pp = &all_spaces; *pp; pp = &(*pp)->next) {
        if (*pp == as) {
            *pp = as->next;
            break;
        }
    }
    as->root->root_of = NULL;
    view_unref(as->view);
    free(as->name);
    free(as);
}

const char *address_space_name(const struct address_space *as)
{
    return as->name;
}

void address_space_add_listener(struct address_space *as, struct mem_listener *l)
{
    l->as = as;
    l->next = as->listeners;
    as->listeners = l;
    if (l->begin)
        l->begin(l);
    if (l->region_add)
        for (unsigned i = 0; i < as->view->nr; i++)
            l->region_add(l, &as->view->sec[i]);
    if (l->commit)
        l->commit(l);
}

void address_space_remove_listener(struct address_space *as, struct mem_listener *l)
{
    for (struct mem_listener **pp = &as->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            l->next = NULL;
            l->as = NULL;
            return;
        }
    }
}

static const struct mem_section *view_lookup(const struct flat_view *v, uint64_t addr)
{
    unsigned lo = 0, hi = v->nr;

    /* Last section starting at or below addr. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (v->sec[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct mem_section *s = &v->sec[lo - 1];
    return addr - s->addr < s->size ? s : NULL;
}

const struct mem_section *address_space_lookup(struct address_space *as, uint64_t addr)
{
    return view_lookup(as->view, addr);
}

void *address_space_host_ptr(struct address_space *as, uint64_t addr, uint64_t *len, bool is_write)
{
    const struct mem_section *s = view_lookup(as->view, addr);
    uint64_t avail;

    if (!s || s->mr->kind == MEM_REGION_MMIO || (is_write && s->readonly)) {
        *len = 0;
        return NULL;
    }
    avail = s->size - (addr - s->addr);
    if (*len > avail)
        *len = avail;
    return s->block->host + s->block_offset + (addr - s->addr);
}

static const char *kind_name(enum mem_region_kind k)
{
    switch (k) {
    case MEM_REGION_CONTAINER: return "container";
    case MEM_REGION_RAM: return "ram";
    case MEM_REGION_ROM: return "rom";
    case MEM_REGION_MMIO: return "i/o";
    case MEM_REGION_ALIAS: return "alias";
    }
    return "?";
}

static void print_region(FILE *f, struct mem_region *mr, i128 base, int indent)
{
    uint64_t last = mr->size ? (uint64_t)(base + mr->size - 1) : (uint64_t)base;

    fprintf(f, "%*s%016" PRIx64 "-%016" PRIx64 " (prio %d, %s%s): %s", indent * 2, "",
            (uint64_t)base, last, mr->priority, kind_name(mr->kind),
            mr->readonly && mr->kind != MEM_REGION_ROM ? ", readonly" : "", mr->name);
    if (!mr->enabled)
        fprintf(f, " [disabled]");
    if (mr->kind == MEM_REGION_ALIAS)
        fprintf(f, " @%s %016" PRIx64 "-%016" PRIx64, mr->alias->name, mr->alias_offset,
                mr->alias_offset + mr->size - 1);
    fputc('\n', f);
    if (indent > 32)
        return;
    for (struct mem_region *c = mr->children; c; c = c->next_sibling)
        print_region(f, c, base + c->addr, indent + 1);
}

void address_space_print_tree(struct address_space *as, FILE *f)
{
    fprintf(f, "address-space: %s\n", as->name);
    print_region(f, as->root, 0, 1);
}

void address_space_print_flat(struct address_space *as, FILE *f)
{
    fprintf(f, "FlatView (%s)\n", as->name);
    for (unsigned i = 0; i < as->view->nr; i++) {
        const struct mem_section *s = &as->view->sec[i];
        fprintf(f, "  %016" PRIx64 "-%016" PRIx64 " (%s%s): %s @%016" PRIx64 "\n",
                s->addr, s->addr + s->size - 1, kind_name(s->mr->kind),
                s->readonly ? ", readonly" : "", s->mr->name, s->offset);
    }
}

/* ---- dispatch --------------------------------------------------------------- */

static uint64_t ones(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
}

static unsigned size_min(const struct mem_access_sizes *a)
{
    return a->min ? a->min : 1;
}

static unsigned size_max(const struct mem_access_sizes *a)
{
    return a->max ? a->max : 4;
}

/* The value of an access is the little-endian reading of its bytes (what x86
 * and RISC-V guests expect); a big-endian device register is byte-swapped. */
static uint64_t swap_if_big(const struct mem_region_ops *ops, uint64_t v, unsigned size)
{
    if (ops->endian != DM_ENDIAN_BIG)
        return v;
    switch (size) {
    case 2: return __builtin_bswap16((uint16_t)v);
    case 4: return __builtin_bswap32((uint32_t)v);
    case 8: return __builtin_bswap64(v);
    default: return v;
    }
}

static bool impl_direct(const struct mem_region_ops *ops, uint64_t off, unsigned size)
{
    return size >= size_min(&ops->impl) && size <= size_max(&ops->impl) &&
           (ops->impl.unaligned || (off & (size - 1)) == 0);
}

/* Chunk size used to split an access the handlers cannot take directly. */
static unsigned impl_chunk(const struct mem_region_ops *ops, unsigned size)
{
    if (size > size_max(&ops->impl))
        return size_max(&ops->impl);
    return size_min(&ops->impl);
}

static bool valid_access(struct mem_region *mr, uint64_t off, unsigned size)
{
    const struct mem_region_ops *ops = mr->ops;

    if (size < size_min(&ops->valid) || size > size_max(&ops->valid))
        return false;
    if (!ops->valid.unaligned && (off & (size - 1)))
        return false;
    return true;
}

static uint64_t mmio_read(struct mem_region *mr, uint64_t off, unsigned size)
{
    const struct mem_region_ops *ops = mr->ops;
    uint8_t bytes[8];
    unsigned chunk;
    uint64_t v = 0;

    if (impl_direct(ops, off, size)) {
        v = ops->read ? ops->read(mr->opaque, off, size) : 0;
        return swap_if_big(ops, v & ones(size), size);
    }
    /* Split into (or widen to) naturally aligned chunks of a size the handler
     * implements; gather the bytes of [off, off + size) in address order. */
    chunk = impl_chunk(ops, size);
    for (uint64_t c = off & ~(uint64_t)(chunk - 1); c < off + size; c += chunk) {
        uint64_t cv = ops->read ? ops->read(mr->opaque, c, chunk) : 0;
        cv = swap_if_big(ops, cv & ones(chunk), chunk);
        for (unsigned j = 0; j < chunk; j++) {
            uint64_t a = c + j;
            if (a >= off && a < off + size)
                bytes[a - off] = (uint8_t)(cv >> (8 * j));
        }
    }
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)bytes[i] << (8 * i);
    return v;
}

static void mmio_write(struct mem_region *mr, uint64_t off, unsigned size, uint64_t v)
{
    const struct mem_region_ops *ops = mr->ops;
    unsigned chunk;

    if (!ops->write)
        return;
    if (impl_direct(ops, off, size)) {
        ops->write(mr->opaque, off, swap_if_big(ops, v & ones(size), size), size);
        return;
    }
    /* Bytes of a chunk outside the access are written as zero: handlers that
     * take only wide accesses get the narrow write in its lane. */
    chunk = impl_chunk(ops, size);
    for (uint64_t c = off & ~(uint64_t)(chunk - 1); c < off + size; c += chunk) {
        uint64_t cv = 0;
        for (unsigned j = 0; j < chunk; j++) {
            uint64_t a = c + j;
            if (a >= off && a < off + size)
                cv |= ((v >> (8 * (a - off))) & 0xff) << (8 * j);
        }
        ops->write(mr->opaque, c, swap_if_big(ops, cv, chunk), chunk);
    }
}

static void log_unassigned(struct address_space *as, uint64_t addr, unsigned size,
                           bool is_write, uint64_t value)
{
    /* PC firmware and kernels probe absent ports all the time, so unassigned
     * accesses are logged only with -d guest_errors (rate-limited). */
    if ((dm_log_mask & DM_LOG_GUEST_ERROR) && dm_ratelimit_ok(&as->unassigned_rl))
        dm_log_printf("vireo: guest error: %s: unassigned %s of size %u at 0x%" PRIx64
                      " (value 0x%" PRIx64 ")", as->name, is_write ? "write" : "read",
                      size, addr, value);
}

static int access_one(struct address_space *as, struct flat_view *v, uint64_t addr,
                      unsigned size, uint64_t *value, bool is_write);

/* An access that straddles two sections: do it byte by byte. */
static int access_bytes(struct address_space *as, struct flat_view *v, uint64_t addr,
                        unsigned size, uint64_t *value, bool is_write)
{
    int ret = IO_OK;
    uint64_t out = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t b = is_write ? (*value >> (8 * i)) & 0xff : 0;
        int r = access_one(as, v, addr + i, 1, &b, is_write);
        if (r != IO_OK)
            ret = r;
        out |= (b & 0xff) << (8 * i);
    }
    if (!is_write)
        *value = out;
    return ret;
}

static int access_one(struct address_space *as, struct flat_view *v, uint64_t addr,
                      unsigned size, uint64_t *value, bool is_write)
{
    const struct mem_section *s = view_lookup(v, addr);
    uint64_t off;

    if (!s) {
        log_unassigned(as, addr, size, is_write, is_write ? *value : 0);
        if (!is_write)
            *value = ones(size);
        return IO_UNASSIGNED;
    }
    off = addr - s->addr;
    if (size > 1 && (size - 1 > s->size - off - 1 || addr + size - 1 < addr))
        return access_bytes(as, v, addr, size, value, is_write);
    off += s->offset;

    if (s->mr->kind != MEM_REGION_MMIO) {
        uint8_t *p = s->block->host + s->block_offset + (addr - s->addr);
        if (is_write) {
            if (!s->readonly)
                memcpy(p, value, size);     /* little-endian host */
        } else {
            *value = 0;
            memcpy(value, p, size);
        }
        return IO_OK;
    }

    struct mem_region *mr = s->mr;
    if (!valid_access(mr, off, size)) {
        dm_guest_error("%s: %s of size %u at 0x%" PRIx64 " (region '%s' + 0x%" PRIx64
                       ") is not a valid access", as->name, is_write ? "write" : "read",
                       size, addr, mr->name, off);
        if (!is_write)
            *value = ones(size);
        return IO_INVALID;
    }
    if (is_write)
        mmio_write(mr, off, size, *value);
    else
        *value = mmio_read(mr, off, size);
    return IO_OK;
}

static int dispatch(struct address_space *as, uint64_t addr, unsigned size, uint64_t *value,
                    bool is_write)
{
    struct flat_view *v = as->view;
    int ret;

    if (size != 1 && size != 2 && size != 4 && size != 8) {
        dm_guest_error("%s: access of invalid size %u at 0x%" PRIx64, as->name, size, addr);
        if (!is_write)
            *value = UINT64_MAX;
        return IO_INVALID;
    }
    /* Hold the view: a handler may rebuild it under us. */
    v->refs++;
    ret = access_one(as, v, addr, size, value, is_write);
    view_unref(v);
    if (dm_log_mask & DM_LOG_IO)
        dm_log_printf("io: %s %s 0x%" PRIx64 " size %u value 0x%" PRIx64, as->name,
                      is_write ? "write" : "read", addr, size, *value);
    return ret;
}

int io_read(struct address_space *as, uint64_t addr, unsigned size, uint64_t *value)
{
    return dispatch(as, addr, size, value, false);
}

int io_write(struct address_space *as, uint64_t addr, unsigned size, uint64_t value)
{
    return dispatch(as, addr, size, &value, true);
}
