/* The guest address space: one reservation, a byte of flags per guest page, and the
 * brk/mmap/munmap/mprotect/mremap calls done inside it.
 *
 * Guest and host pages are both 4 KiB, so a guest mapping is a host mapping at
 * guest_base + address with MAP_FIXED; an unmapped guest range goes back to being a
 * PROT_NONE, unbacked part of the reservation (never a hole the host could reuse). */
#include "user.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>

uint8_t *guest_base;

#define NPAGES (USER_SPACE_SIZE / USER_PAGE)
/* mmap searches downwards from here: below the stack, its 8 MiB and a guard gap. */
#define MMAP_TOP (USER_SPACE_SIZE - USER_STACK_SIZE - (256ULL << 20))
/* Lowest address mmap hands out unless asked (keeps page 0 and low non-PIE
 * program addresses free, like the host's mmap_min_addr). */
#define MMAP_FLOOR (1ULL << 20)

static uint8_t *pages;            /* UPF_* per guest page */
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t mmap_hint = MMAP_TOP;
static uint64_t brk_start, brk_cur;

static inline uint64_t pg(uint64_t addr)
{
    return addr / USER_PAGE;
}

/* The last guest page is never mapped, so a string the kernel reads from the guest
 * ends in a fault before it could run past the reservation. */
static bool space_ok(uint64_t addr, uint64_t len)
{
    return guest_range_ok(addr, len) && addr + len <= USER_SPACE_SIZE - USER_PAGE;
}

int user_mem_init(void)
{
    /* Reserve the space; the host kernel places it, so hosts with mmap hardening
     * (a high mmap_min_addr, randomized layout) and guests linked at fixed low
     * addresses both work: guest addresses are offsets, never host addresses. */
    /* 2 GiB of PROT_NONE on either side: the JIT checks a guest address against
     * USER_SPACE_SIZE but adds a 32-bit displacement after the check, so the
     * guards keep every checked access inside the reservation (jit/x86.c). */
    void *p = mmap(NULL, USER_SPACE_SIZE + 2 * USER_GUARD_SIZE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    guest_base = (uint8_t *)p + USER_GUARD_SIZE;
    void *f = mmap(NULL, NPAGES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (f == MAP_FAILED)
        return -errno;
    pages = f;
    return 0;
}

static int host_prot(int flags)
{
    int p = 0;
    if (flags & (UPF_R | UPF_X))
        p |= PROT_READ;
    if ((flags & UPF_W) && !(flags & UPF_CODE))
        p |= PROT_WRITE | PROT_READ;
    return p;
}

static int guest_flags(int prot)
{
    int f = UPF_USED;
    if (prot & PROT_READ)
        f |= UPF_R;
    if (prot & PROT_WRITE)
        f |= UPF_W;
    if (prot & PROT_EXEC)
        f |= UPF_X;
    return f;
}

static bool range_free(uint64_t addr, uint64_t len)
{
    for (uint64_t p = pg(addr); p < pg(addr + len); p++)
        if (pages[p] & UPF_USED)
            return false;
    return true;
}

/* Forget translations of a range whose contents or protection is about to change:
 * only pages the guest could execute can hold translated code. */
static void drop_code(uint64_t addr, uint64_t len)
{
    for (uint64_t p = pg(addr); p < pg(addr + len); p++) {
        if (pages[p] & (UPF_X | UPF_CODE)) {
            user_cpu_invalidate(addr, len);
            return;
        }
    }
}

static void set_flags(uint64_t addr, uint64_t len, int flags)
{
    memset(pages + pg(addr), flags, pg(len));
}

static int reserve_again(uint64_t addr, uint64_t len)
{
    void *p = mmap(g2h(addr), len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? -errno : 0;
}

/* Find len free bytes, searching down from the hint, then from the top. */
static uint64_t find_free_locked(uint64_t len)
{
    uint64_t n = pg(len);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t top = pass == 0 ? mmap_hint : MMAP_TOP;
        uint64_t run = 0;
        for (uint64_t p = pg(top); p > pg(MMAP_FLOOR); p--) {
            if (pages[p - 1] & UPF_USED) {
                run = 0;
                continue;
            }
            if (++run == n) {
                mmap_hint = (p - 1) * USER_PAGE;
                return (p - 1) * USER_PAGE;
            }
        }
    }
    return 0;
}

uint64_t user_find_free(uint64_t len, uint64_t hint)
{
    pthread_mutex_lock(&mem_lock);
    len = (len + USER_PAGE - 1) & USER_PAGE_MASK;
    uint64_t a = 0;
    if (hint && !(hint & ~USER_PAGE_MASK) && guest_range_ok(hint, len) && range_free(hint, len))
        a = hint;
    else
        a = find_free_locked(len);
    pthread_mutex_unlock(&mem_lock);
    return a;
}

int64_t user_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, int64_t off)
{
    if (len == 0 || (addr & ~USER_PAGE_MASK) || (off & (int64_t)~USER_PAGE_MASK))
        return -EINVAL;
    len = (len + USER_PAGE - 1) & USER_PAGE_MASK;
    if (len == 0 || len >= USER_SPACE_SIZE)
        return -ENOMEM;
    pthread_mutex_lock(&mem_lock);
    int64_t ret;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (!space_ok(addr, len)) {
            ret = -ENOMEM;
            goto out;
        }
        if ((flags & MAP_FIXED_NOREPLACE) && !range_free(addr, len)) {
            ret = -EEXIST;
            goto out;
        }
    } else if (!(addr && space_ok(addr, len) && addr >= MMAP_FLOOR && range_free(addr, len))) {
        addr = find_free_locked(len);
        if (!addr) {
            ret = -ENOMEM;
            goto out;
        }
    }
    drop_code(addr, len);
    int gflags = guest_flags(prot);
    int hflags = (flags & ~(MAP_FIXED_NOREPLACE | MAP_GROWSDOWN | MAP_32BIT | MAP_HUGETLB)) | MAP_FIXED;
    void *p = mmap(g2h(addr), len, host_prot(gflags), hflags, fd, off);
    if (p == MAP_FAILED) {
        ret = -errno;
        goto out;
    }
    set_flags(addr, len, gflags);
    ret = (int64_t)addr;
out:
    pthread_mutex_unlock(&mem_lock);
    return ret;
}

int64_t user_munmap(uint64_t addr, uint64_t len)
{
    if ((addr & ~USER_PAGE_MASK) || len == 0)
        return -EINVAL;
    len = (len + USER_PAGE - 1) & USER_PAGE_MASK;
    if (!guest_range_ok(addr, len))
        return -EINVAL;
    pthread_mutex_lock(&mem_lock);
    drop_code(addr, len);
    int r = reserve_again(addr, len);
    if (r == 0)
        set_flags(addr, len, 0);
    pthread_mutex_unlock(&mem_lock);
    return r;
}

/* System V shared memory (ipc.c): a segment is attached inside the reservation
 * (SHM_REMAP replaces the reserved range), and the attachments are remembered so
 * that shmdt knows their length.  A guest munmap of part of one is not tracked. */
#define SHM_MAX 256
static struct { uint64_t addr, len; } shm_att[SHM_MAX];

int64_t user_mem_shmat(int id, uint64_t addr, uint64_t len, int shmflg)
{
    if (len == 0 || len >= USER_SPACE_SIZE)
        return -EINVAL;
    pthread_mutex_lock(&mem_lock);
    int64_t ret;
    int slot = 0;
    while (slot < SHM_MAX && shm_att[slot].len)
        slot++;
    if (slot == SHM_MAX) {
        ret = -EMFILE;
        goto out;
    }
    if (addr == 0) {
        addr = find_free_locked(len);
        if (!addr) {
            ret = -ENOMEM;
            goto out;
        }
    } else if (!space_ok(addr, len) || (!(shmflg & SHM_REMAP) && !range_free(addr, len))) {
        ret = -EINVAL;
        goto out;
    }
    drop_code(addr, len);
    void *p = shmat(id, g2h(addr), (shmflg & (SHM_RDONLY | SHM_EXEC)) | SHM_REMAP);
    if (p == (void *)-1) {
        ret = -errno;
        goto out;
    }
    set_flags(addr, len, UPF_USED | UPF_R | (shmflg & SHM_RDONLY ? 0 : UPF_W) | (shmflg & SHM_EXEC ? UPF_X : 0));
    shm_att[slot].addr = addr;
    shm_att[slot].len = len;
    ret = (int64_t)addr;
out:
    pthread_mutex_unlock(&mem_lock);
    return ret;
}

int64_t user_mem_shmdt(uint64_t addr)
{
    pthread_mutex_lock(&mem_lock);
    int64_t ret = -EINVAL;
    for (int i = 0; i < SHM_MAX; i++) {
        if (shm_att[i].len && shm_att[i].addr == addr) {
            uint64_t len = shm_att[i].len;
            drop_code(addr, len);
            if (shmdt(g2h(addr)) < 0) {
                ret = -errno;
                break;
            }
            ret = reserve_again(addr, len);
            set_flags(addr, len, 0);
            shm_att[i].len = 0;
            break;
        }
    }
    pthread_mutex_unlock(&mem_lock);
    return ret;
}

int64_t user_mprotect(uint64_t addr, uint64_t len, int prot)
{
    if (addr & ~USER_PAGE_MASK)
        return -EINVAL;
    len = (len + USER_PAGE - 1) & USER_PAGE_MASK;
    if (!guest_range_ok(addr, len))
        return -ENOMEM;
    pthread_mutex_lock(&mem_lock);
    int64_t ret = 0;
    for (uint64_t p = pg(addr); p < pg(addr + len); p++) {
        if (!(pages[p] & UPF_USED)) {
            ret = -ENOMEM;
            goto out;
        }
    }
    /* drop_code invalidated every translation from the range, so no page of
     * it needs to stay read-only for code: one call for the whole range (a
     * call per page made the ELF loader's mprotects a tenth of start-up). */
    drop_code(addr, len);
    int gflags = guest_flags(prot);
    if (mprotect(g2h(addr), len, host_prot(gflags)) < 0) {
        ret = -errno;
        goto out;
    }
    set_flags(addr, len, gflags);
out:
    pthread_mutex_unlock(&mem_lock);
    return ret;
}

int64_t user_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
    if ((old & ~USER_PAGE_MASK) || new_len == 0)
        return -EINVAL;
    old_len = (old_len + USER_PAGE - 1) & USER_PAGE_MASK;
    new_len = (new_len + USER_PAGE - 1) & USER_PAGE_MASK;
    if (!guest_range_ok(old, old_len) || old_len == 0 || new_len >= USER_SPACE_SIZE)
        return -EINVAL;
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED))
        return -EINVAL;
    pthread_mutex_lock(&mem_lock);
    int64_t ret;
    for (uint64_t p = pg(old); p < pg(old + old_len); p++) {
        if (!(pages[p] & UPF_USED)) {
            ret = -EFAULT;
            goto out;
        }
    }
    int f = pages[pg(old)];
    drop_code(old, old_len);
    if (new_len <= old_len && !(flags & MREMAP_FIXED)) {
        if (new_len < old_len) {
            reserve_again(old + new_len, old_len - new_len);
            set_flags(old + new_len, old_len - new_len, 0);
        }
        ret = (int64_t)old;
        goto out;
    }
    if (!(flags & MREMAP_FIXED) && space_ok(old, new_len)
        && range_free(old + old_len, new_len - old_len)) {
        /* Grow in place: open a hole in the reservation right after the mapping. */
        munmap(g2h(old + old_len), new_len - old_len);
        void *p = mremap(g2h(old), old_len, new_len, 0);
        if (p != MAP_FAILED) {
            set_flags(old + old_len, new_len - old_len, f);
            ret = (int64_t)old;
            goto out;
        }
        reserve_again(old + old_len, new_len - old_len);
    }
    if (!(flags & MREMAP_MAYMOVE)) {
        ret = -ENOMEM;
        goto out;
    }
    uint64_t dst;
    if (flags & MREMAP_FIXED) {
        if ((new_addr & ~USER_PAGE_MASK) || !space_ok(new_addr, new_len)
            || (new_addr < old + old_len && old < new_addr + new_len)) {
            ret = -EINVAL;
            goto out;
        }
        dst = new_addr;
        drop_code(dst, new_len);
    } else {
        dst = find_free_locked(new_len);
        if (!dst) {
            ret = -ENOMEM;
            goto out;
        }
    }
    void *p = mremap(g2h(old), old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, g2h(dst));
    if (p == MAP_FAILED) {
        ret = -errno;
        goto out;
    }
    reserve_again(old, old_len);
    set_flags(old, old_len, 0);
    set_flags(dst, new_len, f);
    ret = (int64_t)dst;
out:
    pthread_mutex_unlock(&mem_lock);
    return ret;
}

void user_brk_init(uint64_t start)
{
    brk_start = brk_cur = (start + USER_PAGE - 1) & USER_PAGE_MASK;
}

int64_t user_brk(uint64_t want)
{
    pthread_mutex_lock(&mem_lock);
    if (want >= brk_start && space_ok(want, 0)) {
        uint64_t have = (brk_cur + USER_PAGE - 1) & USER_PAGE_MASK;
        uint64_t need = (want + USER_PAGE - 1) & USER_PAGE_MASK;
        if (need > have) {
            if (range_free(have, need - have)) {
                void *p = mmap(g2h(have), need - have, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                if (p != MAP_FAILED) {
                    set_flags(have, need - have, UPF_USED | UPF_R | UPF_W);
                    brk_cur = want;
                }
            }
        } else {
            if (need < have) {
                drop_code(need, have - need);
                reserve_again(need, have - need);
                set_flags(need, have - need, 0);
            }
            brk_cur = want;
        }
    }
    uint64_t r = brk_cur;
    pthread_mutex_unlock(&mem_lock);
    return (int64_t)r;
}

bool user_access_ok(uint64_t addr, uint64_t len, bool write)
{
    if (len == 0)
        return guest_range_ok(addr, 0);
    if (!guest_range_ok(addr, len))
        return false;
    int need = UPF_USED | (write ? UPF_W : UPF_R);
    for (uint64_t p = pg(addr); p <= pg(addr + len - 1); p++)
        if ((pages[p] & need) != need)
            return false;
    return true;
}

bool user_page_mapped(uint64_t addr)
{
    return guest_range_ok(addr, 1) && (pages[pg(addr)] & UPF_USED);
}

/* fork: hold the lock across it so that the child's page flags are whole. */
void user_mem_fork_prepare(void)
{
    pthread_mutex_lock(&mem_lock);
}

void user_mem_fork_done(bool child)
{
    if (child)
        pthread_mutex_init(&mem_lock, NULL);
    else
        pthread_mutex_unlock(&mem_lock);
}

int user_page_prot(uint64_t addr)
{
    return guest_range_ok(addr, 1) ? pages[pg(addr)] : 0;
}

/* The JIT reads guest code to translate it (riscv_engine_options.code_read).  Only
 * pages the guest mapped executable may be fetched; a writable one is
 * write-protected from now on, so that a store to code that has been translated
 * faults into user_mem_code_fault first.  Lock-free: this runs inside the JIT's
 * translation (under its lock), and the holders of mem_lock call into the JIT
 * (invalidation), so taking mem_lock here could deadlock. */
int user_code_read(riscv_cpu *cpu, uint64_t addr, void *buf, size_t len)
{
    if (len == 0 || !guest_range_ok(addr, len))
        return -EFAULT;
    for (uint64_t p = pg(addr); p <= pg(addr + len - 1); p++) {
        uint8_t f = __atomic_load_n(&pages[p], __ATOMIC_ACQUIRE);
        if (!(f & UPF_USED) || !(f & UPF_X))
            return -EFAULT;
        if ((f & UPF_W) && !(f & UPF_CODE)) {
            __atomic_fetch_or(&pages[p], UPF_CODE, __ATOMIC_ACQ_REL);
            mprotect(g2h(p * USER_PAGE), USER_PAGE, PROT_READ);
        }
    }
    memcpy(buf, g2h(addr), len);
    return 0;
}

bool user_mem_code_fault(uint64_t addr)
{
    if (!guest_range_ok(addr, 1))
        return false;
    /* Runs in the host SIGSEGV handler of the faulting thread; the lock is never
     * held across guest execution or while this file writes guest memory, so
     * taking it here cannot deadlock. */
    pthread_mutex_lock(&mem_lock);
    uint8_t *f = &pages[pg(addr)];
    bool code = (*f & UPF_CODE) && (*f & UPF_W);
    if (code) {
        __atomic_fetch_and(f, (uint8_t)~UPF_CODE, __ATOMIC_ACQ_REL);
        user_cpu_invalidate(addr & USER_PAGE_MASK, USER_PAGE);
        mprotect(g2h(addr & USER_PAGE_MASK), USER_PAGE, host_prot(*f));
    } else if (!(*f & UPF_CODE) && (*f & UPF_W) && (*f & UPF_USED)) {
        /* Another thread unprotected it between the fault and now, or a race with
         * user_code_read left the host page read-only: make it what the flags say. */
        mprotect(g2h(addr & USER_PAGE_MASK), USER_PAGE, host_prot(*f));
        code = true;
    }
    pthread_mutex_unlock(&mem_lock);
    return code;
}

/* Make a guest buffer the kernel is about to write writable if it holds code, so
 * that read() into it fails neither with EFAULT nor leaves stale translations.
 * The kernel stops at the first page it cannot write, and so does this walk: a
 * huge length over unmapped space must not cost a pass over the whole table. */
void user_mem_prepare_write(uint64_t addr, uint64_t len)
{
    if (!guest_range_ok(addr, len) || len == 0)
        return;
    for (uint64_t p = pg(addr); p <= pg(addr + len - 1); p++) {
        if ((pages[p] & (UPF_USED | UPF_W)) != (UPF_USED | UPF_W))
            break;
        if (pages[p] & UPF_CODE)
            user_mem_code_fault(p * USER_PAGE);
    }
}

char *user_mem_maps_text(size_t *lenp)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    pthread_mutex_lock(&mem_lock);
    uint64_t stack_lo = USER_SPACE_SIZE - USER_STACK_SIZE - USER_PAGE;
    for (uint64_t p = 0; p < NPAGES;) {
        /* skip unused space a word at a time */
        if (!(p & 7) && p + 8 <= NPAGES && *(uint64_t *)(pages + p) == 0) {
            p += 8;
            continue;
        }
        if (!(pages[p] & UPF_USED)) {
            p++;
            continue;
        }
        int f = pages[p] & ~UPF_CODE;
        uint64_t q = p + 1;
        while (q < NPAGES && (pages[q] & ~UPF_CODE) == f)
            q++;
        uint64_t lo = p * USER_PAGE, hi = q * USER_PAGE;
        const char *name = "";
        if (lo >= stack_lo)
            name = "[stack]";
        else if (lo >= brk_start && hi <= ((brk_cur + USER_PAGE - 1) & USER_PAGE_MASK) && brk_cur > brk_start)
            name = "[heap]";
        if (cap - len < 256) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        len += snprintf(buf + len, cap - len, "%08llx-%08llx %c%c%cp 00000000 00:00 0 %s%s\n",
                        (unsigned long long)lo, (unsigned long long)hi,
                        f & UPF_R ? 'r' : '-', f & UPF_W ? 'w' : '-', f & UPF_X ? 'x' : '-',
                        *name ? "                         " : "", name);
        p = q;
    }
    pthread_mutex_unlock(&mem_lock);
    *lenp = len;
    return buf;
}
