/* Unit tests of user mode's loader and guest address space (no CPU runs here):
 * mmap/munmap/mremap/mprotect/brk inside the reservation, the ELF loader on
 * cross-built riscv64 programs (static and dynamic), and the initial stack and
 * auxiliary vector.
 *   test-user PROGDIR     (PROGDIR holds static/ and dyn/ builds of tests/user/progs) */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "standalone/user/user.h"
#include "tests/lib/cunit-run.h"

static const char *progdir;
struct user_options user_opts;
riscv_engine *user_engine;

static void test_mmap_basic(void)
{
    int64_t a = user_mmap(0, 3 * USER_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT(a > 0);
    CU_ASSERT((a & (int64_t)~USER_PAGE_MASK) == 0);
    CU_ASSERT(guest_range_ok((uint64_t)a, 3 * USER_PAGE));
    CU_ASSERT(user_page_mapped((uint64_t)a) && user_page_mapped((uint64_t)a + 2 * USER_PAGE));
    uint8_t *h = g2h((uint64_t)a);
    CU_ASSERT(h[0] == 0 && h[3 * USER_PAGE - 1] == 0);   /* anonymous memory reads as zero */
    memset(h, 0xab, 3 * USER_PAGE);
    int64_t b = user_mmap(0, USER_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT(b > 0 && (b + (int64_t)USER_PAGE <= a || b >= a + 3 * (int64_t)USER_PAGE));
    /* a fixed mapping that must not replace */
    CU_ASSERT(user_mmap((uint64_t)a, USER_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == -EEXIST);
    /* unaligned or empty requests */
    CU_ASSERT(user_mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -EINVAL);
    CU_ASSERT(user_mmap(123, USER_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -EINVAL);
    /* outside the space, or over its never-mapped last page */
    CU_ASSERT(user_mmap(USER_SPACE_SIZE, USER_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -ENOMEM);
    CU_ASSERT(user_mmap(USER_SPACE_SIZE - USER_PAGE, USER_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -ENOMEM);
    CU_ASSERT(user_mmap(0, USER_SPACE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -ENOMEM);
    /* munmap of the middle page leaves a hole that the host reports as unmapped
     * (mincore fails with ENOMEM only for unmapped ranges: the reservation stays) */
    CU_ASSERT(user_munmap((uint64_t)a + USER_PAGE, USER_PAGE) == 0);
    CU_ASSERT(!user_page_mapped((uint64_t)a + USER_PAGE));
    CU_ASSERT(user_page_mapped((uint64_t)a) && user_page_mapped((uint64_t)a + 2 * USER_PAGE));
    unsigned char vec;
    CU_ASSERT(mincore(g2h((uint64_t)a + USER_PAGE), USER_PAGE, &vec) == 0);
    CU_ASSERT(h[0] == 0xab && h[2 * USER_PAGE] == 0xab);
    /* mprotect of a range with a hole fails */
    CU_ASSERT(user_mprotect((uint64_t)a, 3 * USER_PAGE, PROT_READ) == -ENOMEM);
    CU_ASSERT(user_mprotect((uint64_t)a, USER_PAGE, PROT_READ) == 0);
    CU_ASSERT((user_page_prot((uint64_t)a) & (UPF_R | UPF_W)) == UPF_R);
    user_munmap((uint64_t)a, 3 * USER_PAGE);
    user_munmap((uint64_t)b, USER_PAGE);
}

static void test_mremap(void)
{
    int64_t a = user_mmap(0, 2 * USER_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(a > 0);
    memset(g2h((uint64_t)a), 0x5a, 2 * USER_PAGE);
    /* block growth in place */
    int64_t blocker = user_mmap((uint64_t)a + 2 * USER_PAGE, USER_PAGE, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CU_ASSERT(blocker == a + 2 * (int64_t)USER_PAGE);
    CU_ASSERT(user_mremap((uint64_t)a, 2 * USER_PAGE, 8 * USER_PAGE, 0, 0) == -ENOMEM);
    int64_t m = user_mremap((uint64_t)a, 2 * USER_PAGE, 8 * USER_PAGE, MREMAP_MAYMOVE, 0);
    CU_ASSERT_FATAL(m > 0 && m != a);
    uint8_t *h = g2h((uint64_t)m);
    CU_ASSERT(h[0] == 0x5a && h[2 * USER_PAGE - 1] == 0x5a && h[2 * USER_PAGE] == 0 && h[8 * USER_PAGE - 1] == 0);
    CU_ASSERT(!user_page_mapped((uint64_t)a) && user_page_mapped((uint64_t)m + 7 * USER_PAGE));
    /* shrink in place */
    CU_ASSERT(user_mremap((uint64_t)m, 8 * USER_PAGE, 4 * USER_PAGE, 0, 0) == m);
    CU_ASSERT(!user_page_mapped((uint64_t)m + 4 * USER_PAGE));
    /* grow in place into the freed tail */
    CU_ASSERT(user_mremap((uint64_t)m, 4 * USER_PAGE, 6 * USER_PAGE, 0, 0) == m);
    CU_ASSERT(h[0] == 0x5a && user_page_mapped((uint64_t)m + 5 * USER_PAGE));
    user_munmap((uint64_t)m, 6 * USER_PAGE);
    user_munmap((uint64_t)blocker, USER_PAGE);
}

static void test_brk(void)
{
    uint64_t base = 0x40000000;
    user_brk_init(base + 100);
    uint64_t start = (uint64_t)user_brk(0);
    CU_ASSERT(start == base + USER_PAGE);
    CU_ASSERT((uint64_t)user_brk(start + 10000) == start + 10000);
    uint8_t *h = g2h(start);
    CU_ASSERT(h[0] == 0 && h[9999] == 0);
    memset(h, 1, 10000);
    CU_ASSERT((uint64_t)user_brk(start + 100) == start + 100);
    CU_ASSERT(!user_page_mapped(start + 2 * USER_PAGE));
    CU_ASSERT((uint64_t)user_brk(start + 10000) == start + 10000);
    CU_ASSERT(h[USER_PAGE + 5] == 0);             /* freshly zeroed after shrink + grow */
    /* brk below its start or into a mapping fails by returning the old break */
    CU_ASSERT((uint64_t)user_brk(base) == start + 10000);
    int64_t blk = user_mmap(start + 4 * USER_PAGE, USER_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CU_ASSERT(blk > 0);
    CU_ASSERT((uint64_t)user_brk(start + 8 * USER_PAGE) == start + 10000);
    size_t len;
    char *maps = user_mem_maps_text(&len);
    CU_ASSERT(maps && strstr(maps, "[heap]") != NULL);
    free(maps);
    user_munmap((uint64_t)blk, USER_PAGE);
    user_brk(start);
}

/* Read a file's ELF header and program headers independently of the loader. */
static int read_phdrs(const char *path, Elf64_Ehdr *eh, Elf64_Phdr *ph)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int ok = pread(fd, eh, sizeof(*eh), 0) == sizeof(*eh)
          && pread(fd, ph, eh->e_phnum * sizeof(*ph), eh->e_phoff) == (ssize_t)(eh->e_phnum * sizeof(*ph));
    close(fd);
    return ok ? 0 : -1;
}

static void check_segments(const char *path, uint64_t bias)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    CU_ASSERT_FATAL(read_phdrs(path, &eh, ph) == 0);
    int fd = open(path, O_RDONLY);
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        uint8_t *want = malloc(ph[i].p_filesz + 1);
        CU_ASSERT(pread(fd, want, ph[i].p_filesz, ph[i].p_offset) == (ssize_t)ph[i].p_filesz);
        CU_ASSERT(memcmp(g2h(ph[i].p_vaddr + bias), want, ph[i].p_filesz) == 0);
        /* the bss tail reads as zero, and so does the rest of the last page the file
         * fills (the loader maps the file there: what follows the segment in the
         * file must not show) */
        if (ph[i].p_memsz > ph[i].p_filesz)
            CU_ASSERT(((uint8_t *)g2h(ph[i].p_vaddr + bias))[ph[i].p_memsz - 1] == 0);
        uint64_t fend = ph[i].p_vaddr + bias + ph[i].p_filesz;
        uint64_t zend = (fend + USER_PAGE - 1) & USER_PAGE_MASK;
        if (zend < ph[i].p_vaddr + bias + ph[i].p_memsz)
            zend = ph[i].p_vaddr + bias + ph[i].p_memsz;
        size_t nonzero = 0;
        for (uint64_t a = fend; a < zend; a++)
            nonzero += *(uint8_t *)g2h(a) != 0;
        CU_ASSERT(nonzero == 0);
        int prot = user_page_prot(ph[i].p_vaddr + bias);
        CU_ASSERT(!!(prot & UPF_X) == !!(ph[i].p_flags & PF_X));
        CU_ASSERT(!!(prot & UPF_W) == !!(ph[i].p_flags & PF_W));
        free(want);
    }
    close(fd);
}

static void test_elf_static(void)
{
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/static/intedge", progdir);
    struct user_image img;
    CU_ASSERT_FATAL(user_load_elf(path, &img, NULL, err, sizeof(err)) == 0);
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    CU_ASSERT_FATAL(read_phdrs(path, &eh, ph) == 0);
    CU_ASSERT(img.entry == eh.e_entry + img.load_bias);
    CU_ASSERT(img.interp[0] == 0 && img.interp_entry == img.entry && img.interp_base == 0);
    CU_ASSERT(img.phnum == eh.e_phnum);
    CU_ASSERT(memcmp(g2h(img.phdr), ph, eh.e_phnum * sizeof(Elf64_Phdr)) == 0);
    check_segments(path, img.load_bias);
    CU_ASSERT(user_is_guest_elf(path));
    CU_ASSERT(!user_is_guest_elf("/bin/sh"));
    /* the host's own programs are refused with a message naming the file */
    CU_ASSERT(user_load_elf("/bin/sh", &img, NULL, err, sizeof(err)) < 0);
    CU_ASSERT(strstr(err, "/bin/sh") != NULL);
    CU_ASSERT(user_load_elf("/nonexistent", &img, NULL, err, sizeof(err)) < 0);
}

static void test_elf_dynamic_and_stack(void)
{
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/dyn/intedge", progdir);
    struct user_image img;
    if (access("/usr/riscv64-linux-gnu/lib", F_OK) != 0) {
        printf("SKIP: elf dynamic (no /usr/riscv64-linux-gnu sysroot)\n");
        return;
    }
    CU_ASSERT_FATAL(user_load_elf(path, &img, "/usr/riscv64-linux-gnu", err, sizeof(err)) == 0);
    CU_ASSERT(strstr(img.interp, "ld-linux-riscv64") != NULL);
    CU_ASSERT(img.interp_base != 0 && img.interp_entry != img.entry);
    CU_ASSERT(img.load_bias != 0);     /* Debian builds PIE by default */
    check_segments(path, img.load_bias);
    char ipath[4200];
    snprintf(ipath, sizeof(ipath), "/usr/riscv64-linux-gnu%s", img.interp);
    check_segments(ipath, img.interp_base);

    char *argv[] = { "prog", "arg1", NULL };
    char *envp[] = { "A=1", "B=two", NULL };
    uint64_t sp = user_setup_stack(&img, 2, argv, envp, "/path/prog");
    CU_ASSERT_FATAL(sp != 0);
    CU_ASSERT(sp % 16 == 0);
    uint64_t *w = g2h(sp);
    CU_ASSERT(w[0] == 2);
    CU_ASSERT(strcmp(g2h(w[1]), "prog") == 0 && strcmp(g2h(w[2]), "arg1") == 0 && w[3] == 0);
    CU_ASSERT(strcmp(g2h(w[4]), "A=1") == 0 && strcmp(g2h(w[5]), "B=two") == 0 && w[6] == 0);
    uint64_t aux[64] = { 0 };
    bool seen[64] = { 0 };
    for (uint64_t *a = &w[7]; a[0] != AT_NULL; a += 2) {
        CU_ASSERT_FATAL(a[0] < 64);
        aux[a[0]] = a[1];
        seen[a[0]] = true;
    }
    CU_ASSERT(aux[AT_PAGESZ] == 4096);
    CU_ASSERT(aux[AT_PHDR] == img.phdr && aux[AT_PHNUM] == img.phnum && aux[AT_PHENT] == sizeof(Elf64_Phdr));
    CU_ASSERT(aux[AT_ENTRY] == img.entry && aux[AT_BASE] == img.interp_base);
    /* RV64GC: the I, M, A, F, D and C letters as bits 'X' - 'A' */
    CU_ASSERT(aux[AT_HWCAP] == ((1 << 8) | (1 << 12) | (1 << 0) | (1 << 5) | (1 << 3) | (1 << 2)));
    CU_ASSERT(strcmp(g2h(aux[AT_PLATFORM]), "riscv64") == 0);
    CU_ASSERT(strcmp(g2h(aux[AT_EXECFN]), "/path/prog") == 0);
    CU_ASSERT(seen[AT_RANDOM] && aux[AT_RANDOM] > sp && user_page_mapped(aux[AT_RANDOM] + 15));
    CU_ASSERT(seen[AT_UID] && aux[AT_UID] == getuid() && seen[AT_SECURE] && seen[AT_CLKTCK]);
    size_t len;
    char *maps = user_mem_maps_text(&len);
    CU_ASSERT(maps && strstr(maps, "[stack]") != NULL && strstr(maps, "r-xp") != NULL);
    free(maps);
}

int main(int argc, char **argv)
{
    progdir = argc > 1 ? argv[1] : "build/user/progs";
    if (user_mem_init() < 0) {
        printf("FAIL: user_mem_init\n");
        return 1;
    }
    CU_initialize_registry();
    CU_pSuite mem = CU_add_suite("user-mem", NULL, NULL);
    CU_add_test(mem, "mmap", test_mmap_basic);
    CU_add_test(mem, "mremap", test_mremap);
    CU_add_test(mem, "brk", test_brk);
    CU_pSuite elf = CU_add_suite("user-elf", NULL, NULL);
    CU_add_test(elf, "static", test_elf_static);
    CU_add_test(elf, "dynamic-and-stack", test_elf_dynamic_and_stack);
    return cunit_run_all();
}
