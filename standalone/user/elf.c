/* ELF loader for riscv64 Linux programs (static, dynamic, PIE and fixed-address),
 * and the initial stack with argv, envp and the auxiliary vector.
 * References: the System V gABI (ELF64 headers, PT_LOAD/PT_INTERP/PT_PHDR) and the
 * Linux ELF loader's documented stack layout (argc, argv[], NULL, envp[], NULL, auxv). */
#include "user.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* Where a PIE main program goes (like Linux: two thirds up the user space, so that
 * brk has room above it), and where its interpreter goes when it is ET_DYN. */
#define PIE_BASE 0x2aaaaab000ULL

static bool header_ok(const Elf64_Ehdr *eh)
{
    return memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64
        && eh->e_ident[EI_DATA] == ELFDATA2LSB && eh->e_machine == EM_RISCV
        && (eh->e_type == ET_EXEC || eh->e_type == ET_DYN) && eh->e_phentsize == sizeof(Elf64_Phdr)
        && eh->e_phnum > 0 && eh->e_phnum <= 128;
}

bool user_is_guest_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool ok = pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && header_ok(&eh);
    close(fd);
    return ok;
}

static int prot_of(uint32_t pf)
{
    return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) | (pf & PF_X ? PROT_EXEC : 0);
}

/* Map one ELF image.  Segments are copied in with pread (not file-mapped): the
 * emulator loads only the program and its interpreter this way, and copying keeps
 * partial pages and the bss tail exact without caring about file alignment. */
static int load_one(const char *path, bool is_interp, uint64_t *bias_out, Elf64_Ehdr *eh_out,
                    struct user_image *img, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    Elf64_Ehdr eh;
    Elf64_Phdr ph[128];
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || !header_ok(&eh)) {
        snprintf(err, errlen, "%s: not a riscv64 ELF executable", path);
        close(fd);
        return -1;
    }
    size_t phsz = eh.e_phnum * sizeof(Elf64_Phdr);
    if (pread(fd, ph, phsz, eh.e_phoff) != (ssize_t)phsz) {
        snprintf(err, errlen, "%s: truncated program headers", path);
        close(fd);
        return -1;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_vaddr + ph[i].p_memsz < ph[i].p_vaddr) {
            snprintf(err, errlen, "%s: bad PT_LOAD segment", path);
            close(fd);
            return -1;
        }
        if (ph[i].p_vaddr < lo)
            lo = ph[i].p_vaddr;
        if (ph[i].p_vaddr + ph[i].p_memsz > hi)
            hi = ph[i].p_vaddr + ph[i].p_memsz;
    }
    if (hi <= lo) {
        snprintf(err, errlen, "%s: no loadable segment", path);
        close(fd);
        return -1;
    }
    lo &= USER_PAGE_MASK;
    hi = (hi + USER_PAGE - 1) & USER_PAGE_MASK;
    uint64_t bias = 0;
    if (eh.e_type == ET_DYN) {
        uint64_t want = is_interp ? 0 : PIE_BASE;
        uint64_t at = user_find_free(hi - lo, want);
        if (!at) {
            snprintf(err, errlen, "%s: no room for %llu bytes", path, (unsigned long long)(hi - lo));
            close(fd);
            return -1;
        }
        bias = at - lo;
    }
    if (!guest_range_ok(lo + bias, hi - lo)) {
        snprintf(err, errlen, "%s: loads outside the guest address space", path);
        close(fd);
        return -1;
    }
    /* One anonymous read-write mapping for the whole image, filled, then each
     * segment gets its own protection. */
    int64_t r = user_mmap(lo + bias, hi - lo, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (r < 0) {
        snprintf(err, errlen, "%s: cannot map: %s", path, strerror((int)-r));
        close(fd);
        return -1;
    }
    uint64_t brk = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        uint64_t va = ph[i].p_vaddr + bias;
        if (ph[i].p_filesz
            && pread(fd, g2h(va), ph[i].p_filesz, ph[i].p_offset) != (ssize_t)ph[i].p_filesz) {
            snprintf(err, errlen, "%s: truncated segment", path);
            close(fd);
            return -1;
        }
        if (va + ph[i].p_memsz > brk)
            brk = va + ph[i].p_memsz;
        if ((ph[i].p_flags & PF_X) && img && !is_interp) {
            img->start_code = va;
            img->end_code = va + ph[i].p_filesz;
        }
    }
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        uint64_t s = (ph[i].p_vaddr + bias) & USER_PAGE_MASK;
        uint64_t e = (ph[i].p_vaddr + bias + ph[i].p_memsz + USER_PAGE - 1) & USER_PAGE_MASK;
        user_mprotect(s, e - s, prot_of(ph[i].p_flags));
    }
    if (img && !is_interp) {
        img->brk = brk;
        img->phnum = eh.e_phnum;
        img->phdr = 0;
        for (int i = 0; i < eh.e_phnum; i++) {
            if (ph[i].p_type == PT_PHDR)
                img->phdr = ph[i].p_vaddr + bias;
            if (ph[i].p_type == PT_INTERP) {
                if (ph[i].p_filesz == 0 || ph[i].p_filesz >= sizeof(img->interp)
                    || pread(fd, img->interp, ph[i].p_filesz, ph[i].p_offset) != (ssize_t)ph[i].p_filesz) {
                    snprintf(err, errlen, "%s: bad PT_INTERP", path);
                    close(fd);
                    return -1;
                }
                img->interp[ph[i].p_filesz] = 0;
            }
        }
        /* Without PT_PHDR, the headers are where the first segment maps the file. */
        if (!img->phdr) {
            for (int i = 0; i < eh.e_phnum; i++) {
                if (ph[i].p_type == PT_LOAD && ph[i].p_offset <= eh.e_phoff
                    && eh.e_phoff + phsz <= ph[i].p_offset + ph[i].p_filesz) {
                    img->phdr = ph[i].p_vaddr + bias + (eh.e_phoff - ph[i].p_offset);
                    break;
                }
            }
        }
    }
    close(fd);
    *bias_out = bias;
    *eh_out = eh;
    return 0;
}

int user_load_elf(const char *path, struct user_image *img, const char *sysroot, char *err, size_t errlen)
{
    memset(img, 0, sizeof(*img));
    Elf64_Ehdr eh;
    uint64_t bias;
    if (load_one(path, false, &bias, &eh, img, err, errlen) < 0)
        return -1;
    img->load_bias = bias;
    img->entry = eh.e_entry + bias;
    img->interp_entry = img->entry;
    if (img->interp[0]) {
        char ipath[8192];
        const char *use = img->interp;
        if (sysroot && img->interp[0] == '/') {
            snprintf(ipath, sizeof(ipath), "%s%s", sysroot, img->interp);
            if (access(ipath, R_OK) == 0)
                use = ipath;
        }
        Elf64_Ehdr ieh;
        uint64_t ibias;
        if (load_one(use, true, &ibias, &ieh, NULL, err, errlen) < 0)
            return -1;
        img->interp_base = ibias;
        img->interp_entry = ieh.e_entry + ibias;
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
        { AT_SECURE, 0 },
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
