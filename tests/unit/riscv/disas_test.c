/* The disassembler against GNU objdump (Debian's binutils-riscv64-linux-gnu):
 * every row of the decoder table with random operand bits, and every 16-bit
 * encoding, are assembled as raw data into a stripped executable at address 0;
 * objdump's text for each instruction must equal ours up to whitespace. */
#include "cpu/riscv/cpu.h"
#include "cpu/riscv/insn.h"
#include "tests/lib/cunit-run.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INSNS 80000

static uint32_t words[MAX_INSNS];
static unsigned lens[MAX_INSNS];
static unsigned ninsns;
static char tmpdir[] = "/tmp/vireo-disas-XXXXXX";
static bool have_tools;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static void add(uint32_t w)
{
    if (ninsns < MAX_INSNS) {
        words[ninsns] = w;
        lens[ninsns] = riscv_insn_len((uint16_t)w);
        ninsns++;
    }
}

static void build_list(void)
{
    /* each row, with random bits outside its mask, 40 times */
    for (unsigned op = 1; op < RV_NUM_OPS; op++) {
        for (unsigned k = 0; k < 40; k++) {
            uint32_t w = riscv_ops[op].match | (rnd() & ~riscv_ops[op].mask);
            riscv_insn d;
            /* a reserved rounding mode makes it illegal; pick a legal one */
            if ((riscv_ops[op].flags & IF_RM) && !riscv_decode(w, &d))
                w = (w & ~0x7000u) | (rnd() % 5) << 12;
            add(w);
        }
    }
    /* every 16-bit encoding (low bits 00, 01, 10) */
    for (uint32_t h = 0; h < 0x10000; h++)
        if ((h & 3) != 3)
            add(h);
}

static int run(const char *cmd)
{
    int r = system(cmd);
    return r == -1 ? -1 : WEXITSTATUS(r);
}

static int suite_init(void)
{
    have_tools = run("command -v riscv64-linux-gnu-as riscv64-linux-gnu-ld "
                     "riscv64-linux-gnu-objdump riscv64-linux-gnu-strip >/dev/null") == 0;
    if (!have_tools)
        return 0;
    if (!mkdtemp(tmpdir))
        return 1;
    build_list();
    char path[256];
    snprintf(path, sizeof(path), "%s/t.s", tmpdir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, ".text\n.globl _start\n_start:\n");
    for (unsigned i = 0; i < ninsns; i++) {
        if (lens[i] == 2)
            fprintf(f, ".2byte 0x%04x\n", words[i] & 0xffff);
        else
            fprintf(f, ".4byte 0x%08x\n", words[i]);
    }
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd %s && riscv64-linux-gnu-as -march=rv64gc_zba_zbb_zbs t.s -o t.o && "
             "riscv64-linux-gnu-ld -Ttext=0 -e 0 t.o -o t.elf && riscv64-linux-gnu-strip t.elf && "
             "riscv64-linux-gnu-objdump -d t.elf > t.dis", tmpdir);
    return run(cmd) == 0 ? 0 : 1;
}

static int suite_clean(void)
{
    if (have_tools) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), getenv("KEEP") ? "true %s" : "rm -rf %s", tmpdir);
        run(cmd);
    }
    return 0;
}

/* collapse runs of whitespace to one space, trim the ends */
static void squash(char *s)
{
    char *w = s;
    bool space = false;
    for (char *r = s; *r; r++) {
        if (isspace((unsigned char)*r)) {
            space = w != s;
            continue;
        }
        if (space)
            *w++ = ' ';
        space = false;
        *w++ = *r;
    }
    *w = 0;
}

static void test_objdump(void)
{
    if (!have_tools) {
        printf("SKIP: riscv/disas objdump comparison (riscv64-linux-gnu binutils not installed)\n");
        return;
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/t.dis", tmpdir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    char line[512];
    unsigned idx = 0, bad = 0, seen = 0;
    uint64_t pc = 0;
    riscv_disas_ctx ctx;
    riscv_disas_ctx_init(&ctx);
    while (fgets(line, sizeof(line), f)) {
        /* "   1c:\t00b50e63          \tbeq\ta0,a1,0x38" */
        char *colon = strchr(line, ':');
        if (!colon || line[0] != ' ')
            continue;
        char *t1 = strchr(colon, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        uint64_t addr = strtoull(line, NULL, 16);
        if (idx >= ninsns || addr != pc) {
            bad++;
            break;
        }
        char theirs[256], ours[256];
        snprintf(theirs, sizeof(theirs), "%s", t2 + 1);
        squash(theirs);
        riscv_disas_seq(&ctx, pc, words[idx], ours, sizeof(ours));
        squash(ours);
        if (strcmp(theirs, ours)) {
            if (bad < 40 || getenv("VERBOSE"))
                printf("  mismatch at 0x%llx (%0*x): objdump \"%s\", vireo \"%s\"\n",
                       (unsigned long long)pc, lens[idx] * 2, words[idx], theirs, ours);
            bad++;
        }
        seen++;
        pc += lens[idx];
        idx++;
    }
    fclose(f);
    printf("  compared %u instructions, %u differ\n", seen, bad);
    CU_ASSERT_EQUAL(seen, ninsns);
    CU_ASSERT_EQUAL(bad, 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("riscv-disas", suite_init, suite_clean);
    CU_add_test(s, "objdump", test_objdump);
    return cunit_run_all();
}
