/* Fuzz target of the user-mode ELF loader (standalone/user/elf.c): every input is
 * loaded through user_load_elf() twice, as the main program and as the PT_INTERP
 * interpreter of a fixed good program, with a real guest address space
 * (user_mem_init) under it.  A load either succeeds, and its image is torn down
 * with user_unload_elf(), or fails with one line that starts with the file's name;
 * either way nothing may stay mapped (checked every CHECK_EVERY inputs and at the
 * end of each corpus file's run, from the page table's /proc/self/maps text). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "standalone/user/user.h"

/* main.c's globals, which the rest of standalone/user refers to */
struct user_options user_opts;
riscv_engine *user_engine;

#define CHECK_EVERY 32
#define FIXED_VA 0x100000000ULL   /* the fixed program: above where inputs usually load */

static char dir[64] = "/tmp/vireo-fuzz-elf-XXXXXX";
static char prog_path[128], interp_path[128], fixed_path[128];
static unsigned long runs, loaded;

static void write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) {
        fprintf(stderr, "fuzz-elf: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
    close(fd);
}

/* ET_EXEC at FIXED_VA: one PT_LOAD holding the headers and PT_INTERP "/interp". */
static void write_fixed_program(void)
{
    static const char interp[] = "/interp";
    struct {
        Elf64_Ehdr eh;
        Elf64_Phdr ph[2];
        char interp[sizeof(interp)];
    } f;
    memset(&f, 0, sizeof(f));
    memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
    f.eh.e_ident[EI_CLASS] = ELFCLASS64;
    f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    f.eh.e_ident[EI_VERSION] = EV_CURRENT;
    f.eh.e_type = ET_EXEC;
    f.eh.e_machine = 243; /* EM_RISCV */
    f.eh.e_version = EV_CURRENT;
    f.eh.e_entry = FIXED_VA;
    f.eh.e_phoff = sizeof(Elf64_Ehdr);
    f.eh.e_ehsize = sizeof(Elf64_Ehdr);
    f.eh.e_phentsize = sizeof(Elf64_Phdr);
    f.eh.e_phnum = 2;
    uint64_t ioff = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    f.ph[0] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = ioff,
                            .p_vaddr = FIXED_VA + ioff, .p_filesz = sizeof(interp),
                            .p_memsz = sizeof(interp), .p_align = 1 };
    f.ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = FIXED_VA,
                            .p_filesz = sizeof(f), .p_memsz = sizeof(f), .p_align = 0x1000 };
    memcpy(f.interp, interp, sizeof(interp));
    write_file(fixed_path, &f, sizeof(f));
}

static void cleanup(void)
{
    fprintf(stderr, "fuzz-elf: %lu of %lu loads succeeded\n", loaded, 2 * runs);
    unlink(prog_path);
    unlink(interp_path);
    unlink(fixed_path);
    rmdir(dir);
}

static void setup(void)
{
    if (user_mem_init() < 0 || !mkdtemp(dir)) {
        fprintf(stderr, "fuzz-elf: cannot set up: %s\n", strerror(errno));
        abort();
    }
    snprintf(prog_path, sizeof(prog_path), "%s/prog", dir);
    snprintf(interp_path, sizeof(interp_path), "%s/interp", dir);
    snprintf(fixed_path, sizeof(fixed_path), "%s/fixed", dir);
    write_fixed_program();
    atexit(cleanup);
}

static void nothing_mapped(const char *when)
{
    size_t len;
    char *maps = user_mem_maps_text(&len);
    if (!maps || len) {
        fprintf(stderr, "fuzz-elf: guest mappings left %s:\n%.*s", when, (int)len, maps ? maps : "");
        abort();
    }
    free(maps);
}

static void load(const char *path)
{
    struct user_image img;
    char err[8192];
    err[0] = 0;
    if (user_load_elf(path, &img, dir, err, sizeof(err)) == 0) {
        if (!user_page_mapped(img.map[0][0]) || (img.interp[0] && !user_page_mapped(img.map[1][0]))) {
            fprintf(stderr, "fuzz-elf: %s loaded but its image is not mapped\n", path);
            abort();
        }
        user_unload_elf(&img);
        loaded++;
        return;
    }
    if (strncmp(err, path, strlen(path)) != 0 || strchr(err, '\n')) {
        fprintf(stderr, "fuzz-elf: message does not name %s in one line: %s\n", path, err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!runs)
        setup();
    write_file(prog_path, data, size);
    load(prog_path);
    write_file(interp_path, data, size);
    load(fixed_path);
    if (++runs % CHECK_EVERY == 0 || runs < CHECK_EVERY)
        nothing_mapped("after a load");
    return 0;
}
