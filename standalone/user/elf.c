/* ELF loader for riscv64 Linux programs (static, dynamic, PIE and fixed-address),
 * and the initial stack with argv, envp and the auxiliary vector.
 * References: the System V gABI (ELF64 headers, PT_LOAD/PT_INTERP/PT_PHDR) and the
 * Linux ELF loader's documented stack layout (argc, argv[], NULL, envp[], NULL, auxv). */
#include "user.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* Where a PIE main program goes (like Linux: two thirds up the user space, so that
 * brk has room above it), and where its interpreter goes when it is ET_DYN. */
#define PIE_BASE 0x2aaaaab000ULL
/* The lowest address a segment may load at: Linux's default vm.mmap_min_addr. */
#define LOAD_MIN_ADDR 0x10000ULL
/* Segments end below the stack area (its 8 MiB and the guard page above it), which
 * user_setup_stack maps later with MAP_FIXED. */
#define LOAD_LIMIT (USER_SPACE_SIZE - USER_PAGE - USER_STACK_SIZE)
/* Linux reads at most 64 KiB of program headers (fs/binfmt_elf.c, ELF_MIN_ALIGN
 * aside); so do we. */
#define MAX_PHNUM (65536 / sizeof(Elf64_Phdr))

/* The checks every riscv64 executable passes; the message says which failed (the
 * file's identity ones all begin alike, for scripts that look for it). */
#define NOT_RV "not a riscv64 ELF executable ("
static const char *header_problem(const Elf64_Ehdr *eh, char *buf, size_t len)
{
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return NOT_RV "not an ELF file)";
    if (eh->e_ident[EI_CLASS] == ELFCLASS32)
        return NOT_RV "32-bit ELF, ELFCLASS32; riscv64 programs are ELFCLASS64)";
    if (eh->e_ident[EI_CLASS] != ELFCLASS64) {
        snprintf(buf, len, NOT_RV "unknown ELF class %u)", eh->e_ident[EI_CLASS]);
        return buf;
    }
    if (eh->e_ident[EI_DATA] == ELFDATA2MSB)
        return NOT_RV "big-endian ELF, ELFDATA2MSB; riscv64 is little-endian)";
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
        snprintf(buf, len, NOT_RV "unknown ELF data encoding %u)", eh->e_ident[EI_DATA]);
        return buf;
    }
    if (eh->e_machine != EM_RISCV) {
        snprintf(buf, len, NOT_RV "ELF machine %u is not RISC-V, %u)", eh->e_machine, EM_RISCV);
        return buf;
    }
    if (eh->e_type == ET_REL)
        return NOT_RV "a relocatable object, ET_REL)";
    if (eh->e_type == ET_CORE)
        return NOT_RV "a core dump, ET_CORE)";
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) {
        snprintf(buf, len, NOT_RV "ELF type %u)", eh->e_type);
        return buf;
    }
    if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
        snprintf(buf, len, "program header entry size %u (ELF64 has %zu)", eh->e_phentsize,
                 sizeof(Elf64_Phdr));
        return buf;
    }
    if (eh->e_phnum == 0)
        return "no program headers (e_phnum 0)";
    if (eh->e_phnum > MAX_PHNUM) {
        snprintf(buf, len, "%u program headers (at most %zu)", eh->e_phnum, MAX_PHNUM);
        return buf;
    }
    return NULL;
}

bool user_is_guest_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    char why[128];
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
           && pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !header_problem(&eh, why, sizeof(why));
    close(fd);
    return ok;
}

static int prot_of(uint32_t pf)
{
    return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) | (pf & PF_X ? PROT_EXEC : 0);
}

/* One ELF file being loaded; name is how messages call it. */
struct elf_file {
    const char *name;
    int fd;
    struct stat st;
    Elf64_Ehdr eh;
    Elf64_Phdr *ph;
    char *err;
    size_t errlen;
};

static int fail(struct elf_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct elf_file *f, const char *fmt, ...)
{
    int n = snprintf(f->err, f->errlen, "%s: ", f->name);
    if (n >= 0 && (size_t)n < f->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->err + n, f->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void close_elf(struct elf_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->ph);
    f->ph = NULL;
}

/* Open the file and check its header and program headers against the file and the
 * guest address space: nothing is mapped until everything a segment needs is known
 * to be there. */
static int open_elf(struct elf_file *f, const char *path, int fd)
{
    f->ph = NULL;
    /* O_NONBLOCK: a FIFO must not stall the open (it is refused just below).  fd:
     * the file already open (binfmt_misc's AT_EXECFD), or -1. */
    f->fd = fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0)
        return fail(f, "%s", strerror(errno));
    if (fstat(f->fd, &f->st) < 0)
        return fail(f, "%s", strerror(errno));
    if (S_ISDIR(f->st.st_mode))
        return fail(f, "is a directory");
    if (!S_ISREG(f->st.st_mode))
        return fail(f, "not a regular file");
    if (f->st.st_size == 0)
        return fail(f, "empty file");
    memset(&f->eh, 0, sizeof(f->eh));
    ssize_t n = pread(f->fd, &f->eh, sizeof(f->eh), 0);
    if (n < 0)
        return fail(f, "%s", strerror(errno));
    if (n < SELFMAG || memcmp(f->eh.e_ident, ELFMAG, SELFMAG) != 0)
        return fail(f, NOT_RV "not an ELF file)");
    if (n < (ssize_t)sizeof(f->eh))
        return fail(f, "truncated ELF header (%zd of %zu bytes)", n, sizeof(f->eh));
    char why[128];
    const char *bad = header_problem(&f->eh, why, sizeof(why));
    if (bad)
        return fail(f, "%s", bad);
    uint64_t size = (uint64_t)f->st.st_size;
    size_t phsz = f->eh.e_phnum * sizeof(Elf64_Phdr);
    if (f->eh.e_phoff > size || phsz > size - f->eh.e_phoff)
        return fail(f, "program headers at offset 0x%llx run past the end of the file (%llu bytes)",
                    (unsigned long long)f->eh.e_phoff, (unsigned long long)size);
    f->ph = malloc(phsz);
    if (!f->ph)
        return fail(f, "out of memory");
    if (pread(f->fd, f->ph, phsz, f->eh.e_phoff) != (ssize_t)phsz)
        return fail(f, "cannot read the program headers");
    int nload = 0, prev = -1, ninterp = 0;
    for (int i = 0; i < f->eh.e_phnum; i++) {
        const Elf64_Phdr *p = &f->ph[i];
        if (p->p_type == PT_INTERP)
            ninterp++;
        if (p->p_type != PT_LOAD)
            continue;
        nload++;
        if (p->p_filesz > p->p_memsz)
            return fail(f, "segment %d: p_filesz 0x%llx is larger than p_memsz 0x%llx", i,
                        (unsigned long long)p->p_filesz, (unsigned long long)p->p_memsz);
        if (p->p_align > 1 && (p->p_align & (p->p_align - 1)))
            return fail(f, "segment %d: p_align 0x%llx is not a power of two", i,
                        (unsigned long long)p->p_align);
        if (p->p_vaddr + p->p_memsz < p->p_vaddr || p->p_vaddr + p->p_memsz > UINT64_MAX - USER_PAGE)
            return fail(f, "segment %d: address range 0x%llx + 0x%llx wraps around", i,
                        (unsigned long long)p->p_vaddr, (unsigned long long)p->p_memsz);
        if (p->p_offset > size || p->p_filesz > size - p->p_offset)
            return fail(f, "segment %d: file range 0x%llx + 0x%llx runs past the end of the file (%llu bytes)",
                        i, (unsigned long long)p->p_offset, (unsigned long long)p->p_filesz,
                        (unsigned long long)size);
        /* gABI: loadable segments are sorted by p_vaddr; they may share a page but
         * never bytes. */
        if (prev >= 0 && p->p_vaddr < f->ph[prev].p_vaddr + f->ph[prev].p_memsz)
            return fail(f, "segment %d [0x%llx, 0x%llx) overlaps or precedes segment %d [0x%llx, 0x%llx)",
                        i, (unsigned long long)p->p_vaddr, (unsigned long long)(p->p_vaddr + p->p_memsz),
                        prev, (unsigned long long)f->ph[prev].p_vaddr,
                        (unsigned long long)(f->ph[prev].p_vaddr + f->ph[prev].p_memsz));
        prev = i;
    }
    if (nload == 0)
        return fail(f, "no loadable segment (PT_LOAD)");
    if (ninterp > 1)
        return fail(f, "%d PT_INTERP headers (at most one)", ninterp);
    return 0;
}

/* The interpreter path of PT_INTERP: NUL-terminated inside the segment, as Linux
 * requires, and no longer than a path can be. */
static int read_interp(struct elf_file *f, const Elf64_Phdr *p, char *out, size_t outlen)
{
    uint64_t size = (uint64_t)f->st.st_size;
    if (p->p_filesz < 2)
        return fail(f, "empty PT_INTERP");
    if (p->p_filesz > outlen)
        return fail(f, "PT_INTERP is %llu bytes, longer than PATH_MAX (%zu)",
                    (unsigned long long)p->p_filesz, outlen);
    if (p->p_offset > size || p->p_filesz > size - p->p_offset)
        return fail(f, "PT_INTERP at offset 0x%llx runs past the end of the file",
                    (unsigned long long)p->p_offset);
    if (pread(f->fd, out, p->p_filesz, p->p_offset) != (ssize_t)p->p_filesz)
        return fail(f, "cannot read PT_INTERP");
    if (out[p->p_filesz - 1] != 0)
        return fail(f, "PT_INTERP is not NUL-terminated");
    if (out[0] == 0)
        return fail(f, "empty PT_INTERP");
    return 0;
}

/* Map one checked ELF image at its place (ET_EXEC) or a free one (ET_DYN): one
 * anonymous mapping for it all, then its segments from the file (or copied in when
 * the file's layout does not allow mapping them).  MAP_FIXED_NOREPLACE:
 * an image never lands on anything already mapped (the program, for its
 * interpreter). */
static int map_elf(struct elf_file *f, bool is_interp, uint64_t *bias_out, uint64_t map[2])
{
    const Elf64_Phdr *ph = f->ph;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < f->eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ph[i].p_vaddr < lo)
            lo = ph[i].p_vaddr;
        if (ph[i].p_vaddr + ph[i].p_memsz > hi)
            hi = ph[i].p_vaddr + ph[i].p_memsz;
    }
    lo &= USER_PAGE_MASK;
    hi = (hi + USER_PAGE - 1) & USER_PAGE_MASK;
    if (hi <= lo)
        return fail(f, "loadable segments are all empty");
    uint64_t bias = 0;
    if (f->eh.e_type == ET_DYN) {
        if (hi - lo > LOAD_LIMIT - LOAD_MIN_ADDR)
            return fail(f, "segments span 0x%llx bytes, more than the guest address space",
                        (unsigned long long)(hi - lo));
        uint64_t at = user_find_free(hi - lo, is_interp ? 0 : PIE_BASE);
        if (!at)
            return fail(f, "no room for 0x%llx bytes in the guest address space", (unsigned long long)(hi - lo));
        bias = at - lo;
    } else if (lo < LOAD_MIN_ADDR) {
        return fail(f, "loads at 0x%llx, below 0x%llx (the lowest address Linux maps)",
                    (unsigned long long)lo, LOAD_MIN_ADDR);
    } else if (hi > USER_SPACE_SIZE) {
        return fail(f, "loads up to 0x%llx, above the guest address space (0x%llx)",
                    (unsigned long long)hi, USER_SPACE_SIZE);
    } else if (hi > LOAD_LIMIT) {
        return fail(f, "loads up to 0x%llx, into the stack area reserved at [0x%llx, 0x%llx)",
                    (unsigned long long)hi, LOAD_LIMIT, USER_SPACE_SIZE);
    }
    /* One anonymous read-write mapping for the whole image, filled, then each
     * segment gets its own protection. */
    int64_t r = user_mmap(lo + bias, hi - lo, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == -EEXIST)
        return fail(f, "segments at [0x%llx, 0x%llx) overlap what is already loaded there",
                    (unsigned long long)(lo + bias), (unsigned long long)(hi + bias));
    if (r < 0)
        return fail(f, "cannot map [0x%llx, 0x%llx): %s", (unsigned long long)(lo + bias),
                    (unsigned long long)(hi + bias), strerror((int)-r));
    map[0] = lo + bias;
    map[1] = hi - lo;
    uint64_t prev_end = 0;   /* the previous segment's last page, exclusive */
    for (int i = 0; i < f->eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
            continue;
        uint64_t va = ph[i].p_vaddr + bias;
        uint64_t page = va & USER_PAGE_MASK;
        uint64_t fend = va + ph[i].p_filesz;
        uint64_t fpage_end = (fend + USER_PAGE - 1) & USER_PAGE_MASK;
        bool own_pages = page >= prev_end;
        prev_end = (va + ph[i].p_memsz + USER_PAGE - 1) & USER_PAGE_MASK;
        if (!ph[i].p_filesz)
            continue;
        for (int j = i + 1; j < f->eh.e_phnum; j++)
            if (ph[j].p_type == PT_LOAD && ph[j].p_memsz) {
                own_pages = own_pages && ((ph[j].p_vaddr + bias) & USER_PAGE_MASK) >= fpage_end;
                break;
            }
        /* A segment whose file offset and address agree modulo the page size and
         * whose pages no other segment shares is mapped from the file (private,
         * copy-on-write, as Linux does: no copy, and pages come in as they are
         * touched); the bytes after p_filesz in its last page are zeroed (bss or
         * nothing), as the copy left them.  Anything else is copied. */
        if (own_pages && ((va - ph[i].p_offset) & (USER_PAGE - 1)) == 0) {
            int64_t r = user_mmap(page, fpage_end - page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                                  f->fd, (int64_t)(ph[i].p_offset - (va - page)));
            if (r >= 0) {
                memset(g2h(fend), 0, fpage_end - fend);
                continue;
            }
        }
        if (pread(f->fd, g2h(va), ph[i].p_filesz, ph[i].p_offset) != (ssize_t)ph[i].p_filesz) {
            user_munmap(map[0], map[1]);
            map[0] = map[1] = 0;
            return fail(f, "segment %d: cannot read 0x%llx bytes at offset 0x%llx", i,
                        (unsigned long long)ph[i].p_filesz, (unsigned long long)ph[i].p_offset);
        }
    }
    for (int i = 0; i < f->eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
            continue;
        uint64_t s = (ph[i].p_vaddr + bias) & USER_PAGE_MASK;
        uint64_t e = (ph[i].p_vaddr + bias + ph[i].p_memsz + USER_PAGE - 1) & USER_PAGE_MASK;
        user_mprotect(s, e - s, prot_of(ph[i].p_flags));
    }
    /* Pages between segments are not the program's: give them back, as Linux
     * never maps them. */
    uint64_t end = 0;
    for (int i = 0; i < f->eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
            continue;
        uint64_t s = (ph[i].p_vaddr + bias) & USER_PAGE_MASK;
        if (end && s > end)
            user_munmap(end, s - end);
        end = (ph[i].p_vaddr + bias + ph[i].p_memsz + USER_PAGE - 1) & USER_PAGE_MASK;
    }
    *bias_out = bias;
    return 0;
}

void user_unload_elf(struct user_image *img)
{
    for (int i = 0; i < 2; i++) {
        if (img->map[i][1])
            user_munmap(img->map[i][0], img->map[i][1]);
        img->map[i][0] = img->map[i][1] = 0;
    }
}

static int load_main(const char *path, int fd, struct user_image *img, char *err, size_t errlen,
                     struct stat *st)
{
    struct elf_file f = { .name = path, .err = err, .errlen = errlen };
    if (open_elf(&f, path, fd) < 0) {
        close_elf(&f);
        return -1;
    }
    *st = f.st;
    for (int i = 0; i < f.eh.e_phnum; i++) {
        if (f.ph[i].p_type == PT_INTERP && read_interp(&f, &f.ph[i], img->interp, sizeof(img->interp)) < 0) {
            close_elf(&f);
            return -1;
        }
    }
    uint64_t bias;
    if (map_elf(&f, false, &bias, img->map[0]) < 0) {
        close_elf(&f);
        return -1;
    }
    const Elf64_Phdr *ph = f.ph;
    img->load_bias = bias;
    img->entry = f.eh.e_entry + bias;
    img->interp_entry = img->entry;
    img->phnum = f.eh.e_phnum;
    for (int i = 0; i < f.eh.e_phnum; i++) {
        if (ph[i].p_type == PT_PHDR)
            img->phdr = ph[i].p_vaddr + bias;
        if (ph[i].p_type != PT_LOAD)
            continue;
        uint64_t va = ph[i].p_vaddr + bias;
        if (va + ph[i].p_memsz > img->brk)
            img->brk = va + ph[i].p_memsz;
        if (ph[i].p_flags & PF_X) {
            img->start_code = va;
            img->end_code = va + ph[i].p_filesz;
        }
    }
    /* Without PT_PHDR, the headers are where the first segment maps the file. */
    size_t phsz = f.eh.e_phnum * sizeof(Elf64_Phdr);
    for (int i = 0; i < f.eh.e_phnum && !img->phdr; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset <= f.eh.e_phoff
            && f.eh.e_phoff + phsz <= ph[i].p_offset + ph[i].p_filesz)
            img->phdr = ph[i].p_vaddr + bias + (f.eh.e_phoff - ph[i].p_offset);
    }
    close_elf(&f);
    return 0;
}

static int load_interp(const char *path, const char *name, const struct stat *main_st,
                       struct user_image *img, char *err, size_t errlen)
{
    struct elf_file f = { .name = name, .err = err, .errlen = errlen };
    int r = open_elf(&f, path, -1);
    if (r == 0 && f.st.st_dev == main_st->st_dev && f.st.st_ino == main_st->st_ino)
        r = fail(&f, "is the program itself");
    /* ld.so has no PT_INTERP; Linux ignores one in an interpreter, but a file that
     * asks for another interpreter is not one (and following it could loop). */
    for (int i = 0; r == 0 && i < f.eh.e_phnum; i++)
        if (f.ph[i].p_type == PT_INTERP)
            r = fail(&f, "asks for an interpreter itself (PT_INTERP); chains of interpreters are not followed");
    uint64_t bias;
    if (r == 0)
        r = map_elf(&f, true, &bias, img->map[1]);
    if (r == 0) {
        img->interp_base = bias;
        img->interp_entry = f.eh.e_entry + bias;
    }
    close_elf(&f);
    return r;
}

int user_load_elf(const char *path, struct user_image *img, const char *sysroot, char *err, size_t errlen)
{
    return user_load_elf_fd(-1, path, img, sysroot, err, errlen);
}

int user_load_elf_fd(int fd, const char *path, struct user_image *img, const char *sysroot, char *err,
                     size_t errlen)
{
    memset(img, 0, sizeof(*img));
    struct stat st;
    if (load_main(path, fd, img, err, errlen, &st) < 0)
        return -1;
    if (!img->interp[0])
        return 0;
    char ipath[sizeof(img->interp) + 4096];
    const char *use = img->interp;
    if (sysroot && img->interp[0] == '/') {
        int n = snprintf(ipath, sizeof(ipath), "%s%s", sysroot, img->interp);
        if (n > 0 && (size_t)n < sizeof(ipath) && access(ipath, F_OK) == 0)
            use = ipath;
    }
    char name[sizeof(ipath) + 4200];
    snprintf(name, sizeof(name), "%s: interpreter %s", path, use);
    if (load_interp(use, name, &st, img, err, errlen) < 0) {
        user_unload_elf(img);
        return -1;
    }
    return 0;
}

/* ---- initial stack -------------------------------------------------------------- */

/* AT_HWCAP on riscv: one bit per single-letter extension, bit (letter - 'A'). */
#define HWCAP_RV64GC ((1UL << ('I' - 'A')) | (1UL << ('M' - 'A')) | (1UL << ('A' - 'A')) \
                      | (1UL << ('F' - 'A')) | (1UL << ('D' - 'A')) | (1UL << ('C' - 'A')))

static uint64_t push_bytes(uint64_t sp, const void *data, size_t len)
{
    sp -= len;
    memcpy(g2h(sp), data, len);
    return sp;
}

uint64_t user_setup_stack(const struct user_image *img, int argc, char **argv, char **envp, const char *execfn)
{
    uint64_t top = USER_SPACE_SIZE - USER_PAGE; /* a guard page above the stack */
    uint64_t base = top - USER_STACK_SIZE;
    if (user_mmap(base, USER_STACK_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) < 0)
        return 0;
    int envc = 0;
    while (envp[envc])
        envc++;
    /* Linux refuses (E2BIG) arguments and environment beyond a quarter of the stack;
     * past that they would not fit. */
    uint64_t need = strlen(execfn) + 1 + 8 * (argc + envc + 64);
    for (int i = 0; i < argc; i++)
        need += strlen(argv[i]) + 1;
    for (int i = 0; i < envc; i++)
        need += strlen(envp[i]) + 1;
    if (need > USER_STACK_SIZE / 4)
        return 0;
    uint64_t sp = top;
    sp = push_bytes(sp, execfn, strlen(execfn) + 1);
    uint64_t execfn_g = sp;
    sp = push_bytes(sp, "riscv64", 8);
    uint64_t platform_g = sp;
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        memset(rnd, 0x5a, sizeof(rnd));
    sp = push_bytes(sp, rnd, sizeof(rnd));
    uint64_t random_g = sp;
    uint64_t *argp = calloc(argc + 1, sizeof(uint64_t));
    uint64_t *envpp = calloc(envc + 1, sizeof(uint64_t));
    if (!argp || !envpp)
        return 0;
    for (int i = envc - 1; i >= 0; i--) {
        sp = push_bytes(sp, envp[i], strlen(envp[i]) + 1);
        envpp[i] = sp;
    }
    for (int i = argc - 1; i >= 0; i--) {
        sp = push_bytes(sp, argv[i], strlen(argv[i]) + 1);
        argp[i] = sp;
    }
    uint64_t aux[][2] = {
        { AT_PHDR, img->phdr },
        { AT_PHENT, sizeof(Elf64_Phdr) },
        { AT_PHNUM, img->phnum },
        { AT_PAGESZ, USER_PAGE },
        { AT_BASE, img->interp_base },
        { AT_FLAGS, 0 },
        { AT_ENTRY, img->entry },
        { AT_UID, getuid() },
        { AT_EUID, geteuid() },
        { AT_GID, getgid() },
        { AT_EGID, getegid() },
        { AT_SECURE, user_opts.secure },
        { AT_CLKTCK, (uint64_t)sysconf(_SC_CLK_TCK) },
        { AT_HWCAP, HWCAP_RV64GC },
        { AT_PLATFORM, platform_g },
        { AT_RANDOM, random_g },
        { AT_EXECFN, execfn_g },
        { AT_NULL, 0 },
    };
    size_t nwords = 1 + argc + 1 + envc + 1 + 2 * (sizeof(aux) / sizeof(aux[0]));
    sp = (sp - nwords * 8) & ~15ULL;
    uint64_t *w = g2h(sp);
    *w++ = argc;
    for (int i = 0; i < argc; i++)
        *w++ = argp[i];
    *w++ = 0;
    for (int i = 0; i < envc; i++)
        *w++ = envpp[i];
    *w++ = 0;
    for (size_t i = 0; i < sizeof(aux) / sizeof(aux[0]); i++) {
        *w++ = aux[i][0];
        *w++ = aux[i][1];
    }
    free(argp);
    free(envpp);
    return sp;
}
