/* Write hand-made riscv64 ELF files, three good ones and one per way of being
 * broken, for tests/user/hostile/run-elf.sh.
 *   mkelf DIR
 * DIR/cases lists "NAME EXPECT" lines: EXPECT is "exit:N" for a program that must
 * run and exit with N, otherwise text the loader's one-line message must contain
 * (the word DIR stands for the directory).
 * Interpreters are named as absolute paths and found with -L DIR.
 *
 * The good program is two PT_LOADs (code R-X at 0x10000, bss RW at 0x20000) and
 * three instructions: addi a0, zero, N; addi a7, zero, 93 (exit); ecall. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

#define CODE_VA 0x10000ULL
#define DATA_VA 0x20000ULL
#define NPH_MAX 4

struct elf {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[NPH_MAX];
    uint8_t tail[8192];        /* interpreter string and code, after the headers */
    size_t tail_len;
};

static const char *dir;
static FILE *cases;

static uint32_t addi(int rd, int imm)
{
    return ((uint32_t)(imm & 0xfff) << 20) | ((uint32_t)rd << 7) | 0x13;
}

/* A program (or, with type ET_DYN and va 0, a position-independent one) that exits
 * with status; interp, if not NULL, becomes its PT_INTERP. */
static void build(struct elf *e, uint16_t type, uint64_t va, int status, const char *interp)
{
    memset(e, 0, sizeof(*e));
    memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
    e->eh.e_ident[EI_CLASS] = ELFCLASS64;
    e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    e->eh.e_ident[EI_VERSION] = EV_CURRENT;
    e->eh.e_type = type;
    e->eh.e_machine = EM_RISCV;
    e->eh.e_version = EV_CURRENT;
    e->eh.e_phoff = sizeof(Elf64_Ehdr);
    e->eh.e_ehsize = sizeof(Elf64_Ehdr);
    e->eh.e_phentsize = sizeof(Elf64_Phdr);
    int n = 0;
    uint64_t hdrs = sizeof(Elf64_Ehdr) + NPH_MAX * sizeof(Elf64_Phdr);
    if (interp) {
        size_t len = strlen(interp) + 1;
        memcpy(e->tail, interp, len);
        e->ph[n++] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = hdrs,
                                   .p_vaddr = va + hdrs, .p_filesz = len, .p_memsz = len, .p_align = 1 };
        e->tail_len = (len + 7) & ~7UL;
    }
    uint32_t code[3] = { addi(10, status), addi(17, 93), 0x00000073 };
    memcpy(e->tail + e->tail_len, code, sizeof(code));
    e->eh.e_entry = va + hdrs + e->tail_len;
    e->tail_len += sizeof(code);
    uint64_t size = hdrs + e->tail_len;
    e->ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = va,
                               .p_paddr = va, .p_filesz = size, .p_memsz = size, .p_align = 0x1000 };
    e->ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = size,
                               .p_vaddr = va + DATA_VA - CODE_VA, .p_filesz = 0, .p_memsz = 0x1000,
                               .p_align = 0x1000 };
    e->eh.e_phnum = (uint16_t)n;
}

static int load_index(const struct elf *e, int which)
{
    for (int i = 0; i < e->eh.e_phnum; i++)
        if (e->ph[i].p_type == PT_LOAD && which-- == 0)
            return i;
    return -1;
}

static void write_bytes(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "mkelf: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    chmod(path, 0755);
}

static size_t elf_size(const struct elf *e)
{
    return sizeof(Elf64_Ehdr) + NPH_MAX * sizeof(Elf64_Phdr) + e->tail_len;
}

static void emit(const char *name, const struct elf *e, const char *expect)
{
    write_bytes(name, e, elf_size(e));
    fprintf(cases, "%s %s\n", name, expect);
}

static void emit_raw(const char *name, const void *data, size_t len, const char *expect)
{
    write_bytes(name, data, len);
    fprintf(cases, "%s %s\n", name, expect);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkelf DIR\n");
        return 2;
    }
    dir = argv[1];
    char path[4096];
    snprintf(path, sizeof(path), "%s/cases", dir);
    cases = fopen(path, "w");
    if (!cases) {
        fprintf(stderr, "mkelf: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct elf e, base;
    build(&base, ET_EXEC, CODE_VA, 0, NULL);

    /* The good ones: if these do not run, the broken ones prove nothing. */
    emit("good-static", &base, "exit:0");
    build(&e, ET_DYN, 0, 7, NULL);
    emit("good-pie", &e, "exit:7");
    build(&e, ET_DYN, 0, 42, NULL);
    emit("ld-good", &e, "exit:42");
    build(&e, ET_EXEC, CODE_VA, 0, "/ld-good");
    emit("good-interp", &e, "exit:42");        /* the interpreter's exit, not the program's */

    /* The file itself */
    emit_raw("empty", "", 0, "empty");
    snprintf(path, sizeof(path), "%s/a-directory", dir);
    mkdir(path, 0755);
    fprintf(cases, "a-directory directory\n");
    emit_raw("truncated-header", &base, 40, "truncated");
    emit_raw("not-elf", "#!/bin/false\nnot an ELF file\n", 28, "not an ELF");

    /* The ELF header */
    e = base, e.eh.e_ident[EI_CLASS] = ELFCLASS32;
    emit("class32", &e, "32-bit");
    e = base, e.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    emit("big-endian", &e, "big-endian");
    e = base, e.eh.e_machine = EM_X86_64;
    emit("wrong-machine", &e, "not RISC-V");
    e = base, e.eh.e_type = ET_REL;
    emit("et-rel", &e, "ET_REL");
    e = base, e.eh.e_type = ET_CORE;
    emit("et-core", &e, "ET_CORE");
    e = base, e.eh.e_phnum = 0;
    emit("phnum-0", &e, "no program headers");
    e = base, e.eh.e_phnum = 0xffff;
    emit("phnum-huge", &e, "65535 program headers");
    e = base, e.eh.e_phnum = 1000;             /* allowed count, but not in the file */
    emit("phnum-past-eof", &e, "past the end");
    e = base, e.eh.e_phentsize = 32;
    emit("phentsize", &e, "entry size");
    e = base, e.eh.e_phoff = 1 << 20;
    emit("phoff-past-eof", &e, "past the end");
    e = base, e.eh.e_phoff = UINT64_MAX - 8;
    emit("phoff-wraps", &e, "past the end");

    /* Program headers */
    int c = load_index(&base, 0), d = load_index(&base, 1);
    e = base, e.ph[d].p_vaddr = CODE_VA + 0x10;
    emit("overlapping-loads", &e, "overlaps");
    e = base, e.ph[d].p_vaddr = CODE_VA - 0x2000;
    emit("unsorted-loads", &e, "precedes");
    e = base, e.ph[c].p_filesz = e.ph[c].p_memsz + 1;
    emit("filesz-gt-memsz", &e, "larger than p_memsz");
    e = base, e.ph[d].p_vaddr = 0xfffffffffffff000ULL, e.ph[d].p_memsz = 0x2000;
    emit("vaddr-wraps", &e, "wraps around");
    e = base, e.ph[d].p_vaddr = 0xffffffffffffe000ULL, e.ph[d].p_memsz = 0x1800;
    emit("vaddr-near-top", &e, "wraps around");
    e = base, e.ph[d].p_offset = 1 << 20, e.ph[d].p_filesz = 16, e.ph[d].p_memsz = 0x1000;
    emit("offset-past-eof", &e, "past the end");
    e = base, e.ph[c].p_offset = UINT64_MAX - 0x100;
    emit("offset-wraps", &e, "segment 0: file range");
    e = base, e.ph[d].p_align = 0x1800;
    emit("align-not-pow2", &e, "not a power of two");
    e = base, e.ph[d].p_vaddr = 1ULL << 38;        /* the guest space is 256 GiB */
    emit("above-space", &e, "above the guest address space");
    e = base, e.ph[d].p_vaddr = (1ULL << 38) - 0x200000;
    emit("stack-area", &e, "stack area");
    e = base, e.ph[d].p_vaddr = (1ULL << 38) - 0x1000; /* the never-mapped last page */
    emit("last-page", &e, "stack area");
    e = base;
    for (int i = 0; i < e.eh.e_phnum; i++) {
        e.ph[i].p_vaddr -= CODE_VA;
        e.ph[i].p_paddr = e.ph[i].p_vaddr;
    }
    e.eh.e_entry -= CODE_VA;
    emit("page-zero", &e, "below 0x10000");
    build(&e, ET_DYN, 0, 0, NULL);
    e.ph[load_index(&e, 1)].p_memsz = 1ULL << 39;
    emit("pie-huge", &e, "more than the guest address space");
    e = base;
    for (int i = 0; i < e.eh.e_phnum; i++)
        e.ph[i].p_type = PT_NOTE;
    emit("no-load", &e, "no loadable segment");

    /* PT_INTERP */
    build(&e, ET_EXEC, CODE_VA, 0, "/ld-good");
    e.tail[strlen("/ld-good")] = 'x';            /* the NUL becomes a letter */
    emit("interp-unterminated", &e, "not NUL-terminated");
    char longpath[5000];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    build(&e, ET_EXEC, CODE_VA, 0, longpath);
    emit("interp-too-long", &e, "longer than PATH_MAX");
    build(&e, ET_EXEC, CODE_VA, 0, "/interp-self");
    emit("interp-self", &e, "interpreter DIR/interp-self: is the program itself");
    build(&e, ET_EXEC, CODE_VA, 0, "/not-elf");
    emit("interp-not-elf", &e, "interpreter DIR/not-elf: not a riscv64 ELF executable (not an ELF file)");
    build(&e, ET_EXEC, CODE_VA, 0, "/a-directory");
    emit("interp-directory", &e, "interpreter DIR/a-directory: is a directory");
    build(&e, ET_EXEC, CODE_VA, 0, "/no-such-interpreter");
    emit("interp-missing", &e, "interpreter /no-such-interpreter: No such file");
    build(&e, ET_EXEC, CODE_VA, 0, "/interp-loop-b");
    emit("interp-loop-a", &e, "interpreter DIR/interp-loop-b: asks for an interpreter");
    build(&e, ET_EXEC, CODE_VA, 0, "/interp-loop-a");
    emit("interp-loop-b", &e, "interpreter DIR/interp-loop-a: asks for an interpreter");
    build(&e, ET_EXEC, CODE_VA, 0, "/good-static");   /* ET_EXEC interpreter on top of the program */
    emit("interp-overlaps", &e, "interpreter DIR/good-static: segments at");
    build(&e, ET_EXEC, CODE_VA, 0, "");
    emit("interp-empty", &e, "empty PT_INTERP");
    build(&e, ET_EXEC, CODE_VA, 0, "/ld-good");
    e.ph[0].p_offset = 1 << 20;
    emit("interp-past-eof", &e, "past the end");
    fclose(cases);
    return 0;
}
