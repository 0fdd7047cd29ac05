/* Guest side of the random-instruction differential test (riscv64, static).
 *   harness BLOCKFILE
 * BLOCKFILE holds records "u32 length, code bytes" made by rvgen from cpu/riscv's
 * generator.  For each block the harness builds, in one RWX buffer (rewritten for
 * every block, then fence.i), a prologue that loads every x and f register and fcsr
 * from a table, the block, and an epilogue that stores them all back; runs it; and
 * prints all registers, fcsr and a dump of the scratch memory the block may touch.
 * Run under qemu-riscv64 and under vireo-riscv64, the outputs must be identical. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SCRATCH 256
/* Offsets from s0 (the scratch base), all within a 12-bit immediate. */
#define OFF_IN_X 256
#define OFF_IN_F 512
#define OFF_IN_FCSR 768
#define OFF_OUT_X 776
#define OFF_OUT_F 1032
#define OFF_OUT_FCSR 1288
#define OFF_RET 1296
#define AREA 1312

static uint64_t area[AREA / 8] __attribute__((aligned(64)));

void harness_enter(void *s0, void *code);
void harness_return(void);
__asm__(
    ".text\n.globl harness_enter\nharness_enter:\n"
    "la t0, saved_ctx\n"
    "sd ra, 0(t0)\n sd sp, 8(t0)\n sd gp, 16(t0)\n sd tp, 24(t0)\n"
    "sd s0, 32(t0)\n sd s1, 40(t0)\n sd s2, 48(t0)\n sd s3, 56(t0)\n sd s4, 64(t0)\n sd s5, 72(t0)\n"
    "sd s6, 80(t0)\n sd s7, 88(t0)\n sd s8, 96(t0)\n sd s9, 104(t0)\n sd s10, 112(t0)\n sd s11, 120(t0)\n"
    "fsd fs0, 128(t0)\n fsd fs1, 136(t0)\n fsd fs2, 144(t0)\n fsd fs3, 152(t0)\n fsd fs4, 160(t0)\n"
    "fsd fs5, 168(t0)\n fsd fs6, 176(t0)\n fsd fs7, 184(t0)\n fsd fs8, 192(t0)\n fsd fs9, 200(t0)\n"
    "fsd fs10, 208(t0)\n fsd fs11, 216(t0)\n"
    "frcsr t1\n sd t1, 224(t0)\n"
    "mv s0, a0\n"
    "jr a1\n"
    ".globl harness_return\nharness_return:\n"
    "la t0, saved_ctx\n"
    "ld ra, 0(t0)\n ld sp, 8(t0)\n ld gp, 16(t0)\n ld tp, 24(t0)\n"
    "ld s0, 32(t0)\n ld s1, 40(t0)\n ld s2, 48(t0)\n ld s3, 56(t0)\n ld s4, 64(t0)\n ld s5, 72(t0)\n"
    "ld s6, 80(t0)\n ld s7, 88(t0)\n ld s8, 96(t0)\n ld s9, 104(t0)\n ld s10, 112(t0)\n ld s11, 120(t0)\n"
    "fld fs0, 128(t0)\n fld fs1, 136(t0)\n fld fs2, 144(t0)\n fld fs3, 152(t0)\n fld fs4, 160(t0)\n"
    "fld fs5, 168(t0)\n fld fs6, 176(t0)\n fld fs7, 184(t0)\n fld fs8, 192(t0)\n fld fs9, 200(t0)\n"
    "fld fs10, 208(t0)\n fld fs11, 216(t0)\n"
    "ld t1, 224(t0)\n fscsr t1\n"
    "ret\n"
    ".data\n.balign 8\nsaved_ctx: .space 232\n.text\n");

/* RV64 encodings (RISC-V unprivileged spec, chapter "RV32/64G Instruction Set
 * Listings"): loads/stores relative to s0 (x8). */
static uint32_t i_type(uint32_t op, uint32_t f3, uint32_t rd, uint32_t rs1, int32_t imm)
{
    return ((uint32_t)imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
static uint32_t s_type(uint32_t op, uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t imm)
{
    return (((uint32_t)imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (((uint32_t)imm & 31) << 7) | op;
}
#define LD(rd, off) i_type(0x03, 3, rd, 8, off)
#define FLD(rd, off) i_type(0x07, 3, rd, 8, off)
#define SD(rs, off) s_type(0x23, 3, 8, rs, off)
#define FSD(rs, off) s_type(0x27, 3, 8, rs, off)
#define FSCSR_T0 0x00329073u   /* csrrw x0, fcsr, t0 */
#define FRCSR_T0 0x003022f3u   /* csrrs t0, fcsr, x0 */
#define JR_T0 0x00028067u      /* jalr x0, 0(t0) */
#define MV_SP_S0 0x00040113u   /* addi sp, s0, 0 */

static uint64_t rng;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t interesting(void)
{
    static const uint64_t v[] = { 0, 1, 2, 0xffffffffffffffffULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
                                  0x7fffffff, 0x80000000, 0xffffffff, 0xffffffff80000000ULL, 31, 32, 63, 64 };
    uint64_t r = next();
    switch (r % 4) {
    case 0: return v[(r >> 8) % (sizeof(v) / sizeof(v[0]))];
    case 1: return (r >> 8) & 0xff;
    default: return next();
    }
}

static uint64_t interesting_f(void)
{
    static const uint64_t v[] = { 0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL,
                                  0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000000ULL,
                                  0x7ff4000000000000ULL, 0x0000000000000001ULL, 0x4340000000000000ULL,
                                  0x41dfffffffc00000ULL, 0x43e0000000000000ULL };
    static const uint32_t s[] = { 0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0x7fc00000, 0x7fa00000,
                                  0x00000001, 0x4f000000, 0x5f000000, 0x3eaaaaab };
    uint64_t r = next();
    switch (r % 4) {
    case 0: return v[(r >> 8) % (sizeof(v) / sizeof(v[0]))];
    case 1: return 0xffffffff00000000ULL | s[(r >> 8) % (sizeof(s) / sizeof(s[0]))];
    case 2: return 0xffffffff00000000ULL | (uint32_t)next();
    default: return next();
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: harness BLOCKFILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    uint32_t *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    uint32_t len;
    uint8_t *code = malloc(1 << 19);
    for (int blk = 0; fread(&len, 4, 1, f) == 1; blk++) {
        if (len > (1 << 19) || fread(code, 1, len, f) != len) {
            fprintf(stderr, "bad block file\n");
            return 2;
        }
        rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(blk + 1);
        memset(area, 0, sizeof(area));
        for (int i = 0; i < SCRATCH / 8; i++)
            area[i] = next();
        for (int i = 0; i < 32; i++) {
            area[OFF_IN_X / 8 + i] = interesting();
            area[OFF_IN_F / 8 + i] = interesting_f();
        }
        area[OFF_IN_FCSR / 8] = (next() % 5) << 5;   /* a legal rounding mode, no flags */
        area[OFF_RET / 8] = (uint64_t)(uintptr_t)harness_return;

        uint32_t *p = buf;
        for (int i = 0; i < 32; i++)
            *p++ = FLD(i, OFF_IN_F + 8 * i);
        *p++ = LD(5, OFF_IN_FCSR);
        *p++ = FSCSR_T0;
        *p++ = MV_SP_S0;
        for (int i = 1; i < 32; i++)
            if (i != 2 && i != 8)
                *p++ = LD(i, OFF_IN_X + 8 * i);
        memcpy(p, code, len);
        p = (uint32_t *)((uint8_t *)p + len);
        /* the block may end on a 2-byte boundary: 4-byte stores are fine there with C */
        uint8_t *q = (uint8_t *)p;
        uint32_t epi[70];
        int n = 0;
        for (int i = 1; i < 32; i++)
            if (i != 8)
                epi[n++] = SD(i, OFF_OUT_X + 8 * i);
        for (int i = 0; i < 32; i++)
            epi[n++] = FSD(i, OFF_OUT_F + 8 * i);
        epi[n++] = FRCSR_T0;
        epi[n++] = SD(5, OFF_OUT_FCSR);
        epi[n++] = LD(5, OFF_RET);
        epi[n++] = JR_T0;
        memcpy(q, epi, n * 4);
        __builtin___clear_cache((char *)buf, (char *)(q + n * 4));
        __asm__ volatile("fence.i" ::: "memory");
        harness_enter(area, buf);

        printf("block %d (%u bytes)\n", blk, len);
        for (int i = 1; i < 32; i++)
            if (i != 2 && i != 8)
                printf(" x%d=%016llx%s", i, (unsigned long long)area[OFF_OUT_X / 8 + i], i % 4 == 3 ? "\n" : "");
        printf("\n");
        for (int i = 0; i < 32; i++)
            printf(" f%d=%016llx%s", i, (unsigned long long)area[OFF_OUT_F / 8 + i], i % 4 == 3 ? "\n" : "");
        printf(" fcsr=%02llx\n mem:", (unsigned long long)area[OFF_OUT_FCSR / 8]);
        for (int i = 0; i < SCRATCH / 8; i++)
            printf(" %016llx", (unsigned long long)area[i]);
        printf("\n");
    }
    return 0;
}
