/* Differential test against Debian's qemu-riscv64: random straight-line blocks from
 * riscv_gen_block() run under qemu (inside a tiny static program that loads the
 * registers, runs the block, and writes every register, fcsr and the scratch
 * memory to stdout) and under Vireo on both JIT backends from the same state.
 * Everything must agree.
 *
 *   riscv-qemu-diff [BLOCKS [FIRST_SEED]]      (default 40 blocks) */
#include "cpu/riscv/cpu.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TEXT        0x10000u
#define DATA        0x20000u
#define INIT        DATA                /* 32 x slots, then 32 f values */
#define SCRATCH     (DATA + 0x400)
#define SCRATCH_SZ  256u
#define DUMP        (SCRATCH + SCRATCH_SZ)
#define DUMP_WORDS  (32 + 32 + 1)       /* x0..x31, f0..f31, fcsr */
#define OUT_BYTES   (SCRATCH_SZ + 8 * DUMP_WORDS)
#define BLOCK_MAX   512
#define MEM_SIZE    (1u << 20)

static uint8_t *mem;
static char dir[] = "/tmp/vireo-qdiff-XXXXXX";

static uint64_t rs;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Register values that reach edge cases: small, negative, large, and for the f
 * registers boxed singles and doubles including NaNs, infinities, subnormals. */
static uint64_t pick_x(void)
{
    static const uint64_t special[] = { 0, 1, 2, 31, 32, 63, 64, ~0ull, 0x7fffffffull,
        0x80000000ull, 0xffffffff80000000ull, 0x8000000000000000ull, 0x7fffffffffffffffull,
        0xffffffffull, 0x100000000ull };
    switch (rnd() % 3) {
    case 0: return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    case 1: return (uint64_t)(int64_t)(int16_t)rnd();
    default: return rnd();
    }
}

static uint64_t pick_f(void)
{
    static const uint64_t special[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
        0xbff0000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
        0x7ff8000000000000ull, 0x7ff0000000000001ull, 0x0000000000000001ull,
        0x000fffffffffffffull, 0x7fefffffffffffffull, 0x41e0000000000000ull,
        0xc3e0000000000000ull, 0x4330000000000001ull, 0x3fe0000000000000ull,
        0xffffffff3f800000ull, 0xffffffffbf800000ull, 0xffffffff7f800000ull,
        0xffffffff7fc00000ull, 0xffffffff7f800001ull, 0xffffffff00000001ull,
        0xffffffff4f000000ull, 0xffffffff3effffffull, 0x000000003f800000ull,
    };
    switch (rnd() % 4) {
    case 0: case 1: return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    case 2: return 0xffffffff00000000ull | (uint32_t)rnd();
    default: return rnd();
    }
}

typedef struct state {
    uint64_t x[32], f[32], fcsr;
    uint8_t scratch[SCRATCH_SZ];
} state;

static int sh(const char *cmd)
{
    int r = system(cmd);
    return r == -1 ? -1 : WEXITSTATUS(r);
}

/* Build the program around block and run it under qemu; fills *out. */
static int run_qemu(const uint8_t *block, size_t n, const state *in, state *out)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/t.s", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, ".option norvc\n.text\n.globl _start\n_start:\n");
    fprintf(f, "  lui t0, %%hi(init)\n  addi t0, t0, %%lo(init)\n  csrw fcsr, zero\n");
    for (int r = 0; r < 32; r++)
        fprintf(f, "  fld f%d, %d(t0)\n", r, 256 + 8 * r);
    for (int r = 1; r < 32; r++)
        if (r != 5)
            fprintf(f, "  ld x%d, %d(t0)\n", r, 8 * r);
    fprintf(f, "  ld x5, 40(t0)\n");
    for (size_t i = 0; i < n; i += 2)
        fprintf(f, "  .2byte 0x%02x%02x\n", block[i + 1], block[i]);
    /* sp still points to the scratch area: dump right after it */
    for (int r = 0; r < 32; r++)
        fprintf(f, "  sd x%d, %u(sp)\n", r, SCRATCH_SZ + 8 * r);
    for (int r = 0; r < 32; r++)
        fprintf(f, "  fsd f%d, %u(sp)\n", r, SCRATCH_SZ + 256 + 8 * r);
    fprintf(f, "  frcsr t0\n  sd t0, %u(sp)\n", SCRATCH_SZ + 512);
    fprintf(f, "  li a0, 1\n  mv a1, sp\n  li a2, %u\n  li a7, 64\n  ecall\n", OUT_BYTES);
    fprintf(f, "  li a0, 0\n  li a7, 93\n  ecall\n");
    fprintf(f, ".data\n.balign 8\ninit:\n");
    for (int r = 0; r < 32; r++)
        fprintf(f, "  .dword 0x%llx\n", (unsigned long long)in->x[r]);
    for (int r = 0; r < 32; r++)
        fprintf(f, "  .dword 0x%llx\n", (unsigned long long)in->f[r]);
    fprintf(f, "  .org 0x400\nscratch:\n");
    for (unsigned i = 0; i < SCRATCH_SZ; i++)
        fprintf(f, "  .byte 0x%02x\n", in->scratch[i]);
    fprintf(f, "  .fill %u, 1, 0\n", OUT_BYTES);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd %s && riscv64-linux-gnu-as -march=rv64gc_zba_zbb_zbs t.s -o t.o && "
             "riscv64-linux-gnu-ld -static -Ttext=0x%x -Tdata=0x%x t.o -o t.elf && "
             "qemu-riscv64-static -cpu rv64,zba=true,zbb=true,zbs=true ./t.elf > t.out",
             dir, TEXT, DATA);
    if (sh(cmd))
        return -1;
    snprintf(path, sizeof(path), "%s/t.out", dir);
    f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t buf[OUT_BYTES];
    size_t got = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (got != OUT_BYTES)
        return -1;
    memcpy(out->scratch, buf, SCRATCH_SZ);
    memcpy(out->x, buf + SCRATCH_SZ, 256);
    memcpy(out->f, buf + SCRATCH_SZ + 256, 256);
    memcpy(&out->fcsr, buf + SCRATCH_SZ + 512, 8);
    return 0;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    riscv_cpu *cpu = riscv_cpu_current();
    if (cpu && riscv_cpu_host_fault(cpu, si, uc))
        return;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_vireo(enum riscv_backend be, const uint8_t *block, size_t n, const state *in,
                     state *out, const char **why)
{
    riscv_engine_options o = { .guest_base = mem, .guest_size = MEM_SIZE, .backend = be,
                               .code_cache_size = 1 << 20 };
    int err;
    riscv_engine *e = riscv_engine_new(&o, &err);
    if (!e) {
        *why = riscv_strerror(err);
        return 77;
    }
    riscv_cpu *cpu = riscv_cpu_new(e);
    memset(mem, 0, MEM_SIZE);
    memcpy(mem + TEXT, block, n);
    memcpy(mem + TEXT + n, "\x73\x00\x00\x00", 4);     /* ecall */
    memcpy(mem + SCRATCH, in->scratch, SCRATCH_SZ);
    for (unsigned r = 1; r < 32; r++)
        riscv_cpu_set_x(cpu, r, in->x[r]);
    for (unsigned r = 0; r < 32; r++)
        riscv_cpu_set_f(cpu, r, in->f[r]);
    riscv_cpu_set_fcsr(cpu, 0);
    riscv_cpu_set_pc(cpu, TEXT);
    riscv_exit ex;
    int rc = riscv_cpu_run(cpu, &ex);
    if (rc || ex.reason != RISCV_EXIT_ECALL || ex.pc != TEXT + n) {
        fprintf(stderr, "  stopped by %s at 0x%llx (insn 0x%x)\n", riscv_exit_name(ex.reason),
                (unsigned long long)ex.pc, ex.insn);
        rc = 1;
    }
    for (unsigned r = 0; r < 32; r++) {
        out->x[r] = riscv_cpu_get_x(cpu, r);
        out->f[r] = riscv_cpu_get_f(cpu, r);
    }
    out->fcsr = riscv_cpu_get_fcsr(cpu);
    memcpy(out->scratch, mem + SCRATCH, SCRATCH_SZ);
    riscv_cpu_free(cpu);
    riscv_engine_free(e);
    return rc;
}

static unsigned compare(const char *who, uint64_t seed, const uint8_t *block, size_t n,
                        const state *want, const state *got)
{
    unsigned bad = 0;
    for (unsigned r = 0; r < 32; r++)
        if (want->x[r] != got->x[r] && bad++ < 8)
            printf("  %s seed %llu: x%u = 0x%llx, qemu 0x%llx\n", who, (unsigned long long)seed,
                   r, (unsigned long long)got->x[r], (unsigned long long)want->x[r]);
    for (unsigned r = 0; r < 32; r++)
        if (want->f[r] != got->f[r] && bad++ < 8)
            printf("  %s seed %llu: f%u = 0x%llx, qemu 0x%llx\n", who, (unsigned long long)seed,
                   r, (unsigned long long)got->f[r], (unsigned long long)want->f[r]);
    if (want->fcsr != got->fcsr && bad++ < 8)
        printf("  %s seed %llu: fcsr = 0x%llx, qemu 0x%llx\n", who, (unsigned long long)seed,
               (unsigned long long)got->fcsr, (unsigned long long)want->fcsr);
    if (memcmp(want->scratch, got->scratch, SCRATCH_SZ) && bad++ < 8)
        printf("  %s seed %llu: scratch memory differs\n", who, (unsigned long long)seed);
    if (bad && getenv("VERBOSE")) {
        char text[128];
        for (size_t off = 0; off < n;) {
            uint32_t w = block[off] | block[off + 1] << 8;
            if ((w & 3) == 3)
                w |= (uint32_t)(block[off + 2] | block[off + 3] << 8) << 16;
            unsigned len = riscv_disas(TEXT + off, w, text, sizeof(text));
            printf("    %5zx: %08x  %s\n", TEXT + off, w, text);
            off += len;
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    unsigned blocks = argc > 1 ? (unsigned)atoi(argv[1]) : 40;
    uint64_t first = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    if (sh("command -v qemu-riscv64-static riscv64-linux-gnu-as riscv64-linux-gnu-ld "
           ">/dev/null")) {
        printf("SKIP: riscv-qemu-diff (qemu-riscv64-static or riscv64 binutils missing)\n");
        return 77;
    }
    if (!mkdtemp(dir))
        return 1;
    mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    unsigned failures = 0, compared = 0;
    bool skipped_native = false;
    for (unsigned b = 0; b < blocks; b++) {
        uint64_t seed = first + b;
        rs = seed * 0x9e3779b97f4a7c15ull | 1;
        riscv_gen_options go = { .seed = seed, .scratch_size = SCRATCH_SZ, .qemu_compat = true };
        uint8_t block[BLOCK_MAX];
        size_t n = riscv_gen_block(&go, block, sizeof(block));
        if (getenv("TRUNCATE") && (size_t)atoi(getenv("TRUNCATE")) < n)
            n = (size_t)atoi(getenv("TRUNCATE"));   /* debugging: a prefix only */
        state in, want;
        memset(&in, 0, sizeof(in));
        for (unsigned r = 1; r < 32; r++)
            in.x[r] = pick_x();
        in.x[2] = in.x[8] = SCRATCH;
        for (unsigned r = 0; r < 32; r++)
            in.f[r] = pick_f();
        for (unsigned i = 0; i < SCRATCH_SZ; i += 8) {
            uint64_t v = pick_f();
            memcpy(in.scratch + i, &v, 8);
        }
        if (getenv("DUMPIN"))     /* debugging: the initial registers */
            for (unsigned r = 0; r < 32; r++)
                printf("  in x%-2u = 0x%016llx   f%-2u = 0x%016llx\n", r,
                       (unsigned long long)in.x[r], r, (unsigned long long)in.f[r]);
        if (run_qemu(block, n, &in, &want)) {
            printf("FAIL: riscv-qemu-diff seed %llu: could not run under qemu\n",
                   (unsigned long long)seed);
            failures++;
            continue;
        }
        static const struct { enum riscv_backend be; const char *name; } bes[] = {
            { RISCV_BACKEND_INTERP, "interp" }, { RISCV_BACKEND_NATIVE, "native" } };
        for (unsigned i = 0; i < 2; i++) {
            state got;
            const char *why = NULL;
            int rc = run_vireo(bes[i].be, block, n, &in, &got, &why);
            if (rc == 77) {
                if (!skipped_native)
                    printf("SKIP: riscv-qemu-diff %s backend (%s)\n", bes[i].name, why);
                skipped_native = true;
                continue;
            }
            unsigned bad = rc ? 1 : compare(bes[i].name, seed, block, n, &want, &got);
            compared++;
            if (bad)
                failures++;
        }
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    sh(cmd);
    printf("%s: riscv-qemu-diff: %u blocks of up to %u bytes, %u runs compared, %u differ\n",
           failures ? "FAIL" : "PASS", blocks, BLOCK_MAX, compared, failures);
    return failures ? 1 : 0;
}
