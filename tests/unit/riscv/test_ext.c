/* C, A, Zba/Zbb/Zbs, the decoder table, and the random code generator. */
#include "tests/unit/riscv/harness.h"
#include "cpu/riscv/insn.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EQ(t, reg, val) do { \
        uint64_t got_ = X(t, reg), want_ = (uint64_t)(val); \
        if (got_ != want_) \
            printf("  [%s] x%u = 0x%llx, expected 0x%llx\n", (t)->backend_name, (unsigned)(reg), \
                   (unsigned long long)got_, (unsigned long long)want_); \
        CU_ASSERT_EQUAL(got_, want_); \
    } while (0)

/* ---- decoder ---- */

/* No two rows of the table can match the same encoding. */
static void test_table_disjoint(void)
{
    unsigned overlaps = 0;
    for (unsigned i = 1; i < RV_NUM_OPS; i++)
        for (unsigned j = i + 1; j < RV_NUM_OPS; j++) {
            const riscv_opinfo *a = &riscv_ops[i], *b = &riscv_ops[j];
            if (((a->match ^ b->match) & a->mask & b->mask) == 0) {
                printf("  rows %s and %s overlap\n", a->name, b->name);
                overlaps++;
            }
        }
    CU_ASSERT_EQUAL(overlaps, 0);

    /* and every row is found by the decoder, whatever its free bits hold */
    uint64_t x = 0x2545f4914f6cdd1dull;
    unsigned missed = 0;
    for (unsigned op = 1; op < RV_NUM_OPS; op++)
        for (unsigned k = 0; k < 256; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint32_t w = riscv_ops[op].match | ((uint32_t)x & ~riscv_ops[op].mask);
            if ((riscv_ops[op].flags & IF_RM) && ((w >> 12) & 7) >= 5 && ((w >> 12) & 7) <= 6)
                w &= ~0x7000u;
            riscv_insn d;
            if (!riscv_decode(w, &d) || d.op != op) {
                if (missed++ < 5)
                    printf("  0x%08x: expected %s\n", w, riscv_ops[op].name);
            }
        }
    CU_ASSERT_EQUAL(missed, 0);
}

/* RVC expansions, each worked out from the spec's encoding tables (16.8) and the
 * 32-bit formats (chapter 24). */
static void test_rvc_expand(void)
{
    static const struct { uint16_t c; uint32_t w; } ex[] = {
        { 0x4505, 0x00100513 },     /* c.li a0,1        -> addi a0,x0,1 */
        { 0x0505, 0x00150513 },     /* c.addi a0,1      -> addi a0,a0,1 */
        { 0x157d, 0xfff50513 },     /* c.addi a0,-1     -> addi a0,a0,-1 */
        { 0x6505, 0x00001537 },     /* c.lui a0,1       -> lui a0,0x1 */
        { 0x757d, 0xfffff537 },     /* c.lui a0,-1      -> lui a0,0xfffff */
        { 0x1141, 0xff010113 },     /* c.addi16sp -16   -> addi sp,sp,-16 */
        { 0x0808, 0x01010513 },     /* c.addi4spn a0,16 -> addi a0,sp,16 */
        { 0x6582, 0x00013583 },     /* c.ldsp a1,0(sp)  -> ld a1,0(sp) */
        { 0xe42e, 0x00b13423 },     /* c.sdsp a1,8(sp)  -> sd a1,8(sp) */
        { 0x6408, 0x00843503 },     /* c.ld a0,8(s0)    -> ld a0,8(s0) */
        { 0xe408, 0x00a43423 },     /* c.sd a0,8(s0)    -> sd a0,8(s0) */
        { 0x4008, 0x00042503 },     /* c.lw a0,0(s0)    -> lw a0,0(s0) */
        { 0x8082, 0x00008067 },     /* c.jr ra (ret)    -> jalr x0,0(ra) */
        { 0x9502, 0x000500e7 },     /* c.jalr a0        -> jalr ra,0(a0) */
        { 0x852e, 0x00b00533 },     /* c.mv a0,a1       -> add a0,x0,a1 */
        { 0x952e, 0x00b50533 },     /* c.add a0,a1      -> add a0,a0,a1 */
        { 0x8d0d, 0x40b50533 },     /* c.sub a0,a1      -> sub a0,a0,a1 */
        { 0x9d2d, 0x00b5053b },     /* c.addw a0,a1     -> addw a0,a0,a1 */
        { 0x9d0d, 0x40b5053b },     /* c.subw a0,a1     -> subw a0,a0,a1 */
        { 0x2505, 0x0015051b },     /* c.addiw a0,1     -> addiw a0,a0,1 */
        { 0x050e, 0x00351513 },     /* c.slli a0,3      -> slli a0,a0,3 */
        { 0x9101, 0x02055513 },     /* c.srli a0,32     -> srli a0,a0,32 */
        { 0x9501, 0x42055513 },     /* c.srai a0,32     -> srai a0,a0,32 */
        { 0x897d, 0x01f57513 },     /* c.andi a0,31     -> andi a0,a0,31 */
        { 0x9002, 0x00100073 },     /* c.ebreak */
        { 0xa001, 0x0000006f },     /* c.j 0            -> jal x0,0 */
        { 0xc101, 0x00050063 },     /* c.beqz a0,0      -> beq a0,x0,0 */
        { 0x2008, 0x00043507 },     /* c.fld fa0,0(s0)  -> fld fa0,0(s0) */
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        uint32_t got = riscv_expand_rvc(ex[i].c);
        if (got != ex[i].w)
            printf("  0x%04x expands to 0x%08x, expected 0x%08x\n", ex[i].c, got, ex[i].w);
        CU_ASSERT_EQUAL(got, ex[i].w);
    }
    /* reserved encodings (16.8): all zeros, c.addi4spn 0, c.lui 0, c.addi16sp 0,
     * c.lwsp/c.ldsp to x0, c.jr x0, c.addiw to x0, quadrant-0 funct3 100, the
     * reserved c.subw/c.addw neighbours */
    static const uint16_t bad[] = { 0x0000, 0x0004, 0x6501, 0x6101, 0x4002, 0x6002,
                                    0x8002, 0x2001, 0x8000, 0x9d41, 0x9d61 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (riscv_expand_rvc(bad[i]))
            printf("  reserved 0x%04x expanded\n", bad[i]);
        CU_ASSERT_EQUAL(riscv_expand_rvc(bad[i]), 0);
    }
}

/* ---- compressed code running ---- */

static void body_rvc(tenv *t)
{
    wr64(DATA, 0x1122334455667788ull);
    SETX(t, S0, DATA);
    SETX(t, SP, DATA + 0x100);
    e16(t, 0x4505);         /* c.li a0,1 */
    e16(t, 0x0505);         /* c.addi a0,1: 2 */
    e16(t, 0x050e);         /* c.slli a0,3: 16 */
    e16(t, 0x6585);         /* c.lui a1,1: 0x1000 */
    e16(t, 0x952e);         /* c.add a0,a1: 0x1010 */
    e16(t, 0x6410);         /* c.ld a2,8(s0)? no: 0x6410 = c.ld a2,8(s0) */
    e16(t, 0x1141);         /* c.addi16sp -16: sp = DATA + 0xf0 */
    e16(t, 0xe02a);         /* c.sdsp a0,0(sp) */
    e16(t, 0x6682);         /* c.ldsp a3,0(sp) */
    e16(t, 0x0818);         /* c.addi4spn a4,sp,16: DATA + 0x100 */
    e16(t, 0x8d0d);         /* c.sub a0,a1: 0x10 */
    e16(t, 0x9101);         /* c.srli a0,32: 0 */
    e16(t, 0x157d);         /* c.addi a0,-1: -1 */
    e16(t, 0x2501);         /* c.addiw a0,0 (sext.w): -1 */
    e16(t, 0x8105);         /* c.srli a0,1: 0x7fff...ffff */
    e16(t, 0x897d);         /* c.andi a0,31: 31 */
    e16(t, 0x87aa);         /* c.mv a5,a0: 31 */
    e16(t, 0xc399);         /* c.beqz a5,+6: not taken */
    e16(t, 0xa019);         /* c.j +6: skips the next two halfwords */
    e32(t, ADDI(A6, ZERO, 99));
    e16(t, 0x4821);         /* c.li a6,8 */
    run_to_ecall(t);
    EQ(t, A1, 0x1000);
    EQ(t, A2, rd64(DATA + 8));
    EQ(t, SP, DATA + 0xf0);
    EQ(t, A3, 0x1010);
    EQ(t, A4, DATA + 0x100);
    EQ(t, A0, 31);
    EQ(t, A5, 31);
    EQ(t, A6, 8);
    CU_ASSERT_EQUAL(rd64(DATA + 0xf0), 0x1010);
}

/* Reserved compressed encodings raise illegal instruction. */
static void body_rvc_illegal(tenv *t)
{
    static const uint16_t bad[] = { 0x6501 /* c.lui a0,0 */, 0x4002 /* c.lwsp x0 */,
                                    0x8002 /* c.jr x0 */, 0x2001 /* c.addiw x0 */ };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t->pc = CODE;
        e16(t, 0x4505);     /* c.li a0,1 first: the fault is on the second */
        e16(t, bad[i]);
        riscv_exit *ex = run_raw(t);
        CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);
        CU_ASSERT_EQUAL(ex->pc, CODE + 2);
        CU_ASSERT_EQUAL(ex->insn, bad[i]);
        CU_ASSERT_EQUAL(ex->len, 2);
    }
}

/* ---- A ---- */

static void body_lrsc(tenv *t)
{
    wr64(DATA, 5);
    wr32(DATA + 8, 0x80000000u);
    SETX(t, A0, DATA);
    SETX(t, A1, 42);
    SETX(t, A4, DATA + 8);
    e32(t, LR_D(S2, A0));           /* s2 = 5, reserve DATA */
    e32(t, SC_D(S3, A0, A1));       /* succeeds: s3 = 0, mem = 42 */
    e32(t, SC_D(S4, A0, A1));       /* no reservation left: s4 = 1 */
    e32(t, LR_D(S5, A0));           /* 42 */
    e32(t, SD(ZERO, A0, 0));        /* the value changes under the reservation */
    e32(t, SC_D(S6, A0, A1));       /* fails: memory is not what LR saw */
    e32(t, LR_W(S7, A4));           /* lr.w sign-extends: 0xffffffff80000000 */
    e32(t, SC_D(S8, A0, A1));       /* another address than reserved: fails */
    e32(t, LR_W(S9, A4));
    e32(t, SC_W(S10, A4, A1));      /* succeeds */
    run_to_ecall(t);
    EQ(t, S2, 5);
    EQ(t, S3, 0);
    EQ(t, S4, 1);
    EQ(t, S5, 42);
    EQ(t, S6, 1);
    EQ(t, S7, 0xffffffff80000000ull);
    EQ(t, S8, 1);
    EQ(t, S9, 0xffffffff80000000ull);
    EQ(t, S10, 0);
    CU_ASSERT_EQUAL(rd64(DATA), 0);
    CU_ASSERT_EQUAL(rd32(DATA + 8), 42);
}

static void body_amo(tenv *t)
{
    wr32(DATA, 0xfffffff0u);        /* -16 as a word */
    wr64(DATA + 8, 7);
    wr64(DATA + 16, 0xf0f0);
    SETX(t, A0, DATA);
    SETX(t, A1, DATA + 8);
    SETX(t, A2, DATA + 16);
    SETX(t, A3, 5);
    SETX(t, A4, ~0ull);             /* -1 */
    e32(t, AMO(0x00, 1, S2, A0, A3));   /* amoadd.w: old -16 (sext), mem -11 */
    e32(t, AMO(0x10, 1, S3, A0, A3));   /* amomin.w: old -11, mem min(-11,5) = -11 */
    e32(t, AMO(0x18, 1, S4, A0, A3));   /* amominu.w: old 0xfffffff5, mem 5 */
    e32(t, AMO(0x14, 0, S5, A1, A4));   /* amomax.d: old 7, mem max(7,-1) = 7 */
    e32(t, AMO(0x1c, 0, S6, A1, A4));   /* amomaxu.d: old 7, mem 2^64-1 */
    e32(t, AMO(0x01, 0, S7, A1, A3));   /* amoswap.d: old -1, mem 5 */
    e32(t, AMO(0x0c, 0, S8, A2, A4));   /* amoand.d with -1: old 0xf0f0 */
    e32(t, AMO(0x08, 0, S9, A2, A3));   /* amoor.d: mem 0xf0f5 */
    e32(t, AMO(0x04, 0, S10, A2, A3));  /* amoxor.d: mem 0xf0f0 */
    e32(t, AMO(0x00, 0, ZERO, A2, A3)); /* rd = x0: memory still updated: 0xf0f5 */
    run_to_ecall(t);
    EQ(t, S2, (uint64_t)-16);
    EQ(t, S3, (uint64_t)-11);
    EQ(t, S4, 0xfffffffffffffff5ull);   /* old word sign-extended */
    CU_ASSERT_EQUAL(rd32(DATA), 5);
    EQ(t, S5, 7);
    EQ(t, S6, 7);
    EQ(t, S7, ~0ull);
    CU_ASSERT_EQUAL(rd64(DATA + 8), 5);
    EQ(t, S8, 0xf0f0);
    EQ(t, S9, 0xf0f0);
    EQ(t, S10, 0xf0f5);
    CU_ASSERT_EQUAL(rd64(DATA + 16), 0xf0f5);
}

/* A misaligned AMO faults (the engine reports the address). */
static void body_amo_misaligned(tenv *t)
{
    SETX(t, A0, DATA + 4);
    e32(t, AMO(0x00, 0, S2, A0, A0));   /* amoadd.d at a 4-aligned address */
    riscv_exit *ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, CODE);
    CU_ASSERT_EQUAL(ex->addr, DATA + 4);
}

/* Several host threads increment one counter with amoadd.d and another with an
 * lr.d/sc.d loop; no increment may be lost. */
#define THREADS 4
#define ITERS 20000

typedef struct worker {
    riscv_cpu *cpu;
    riscv_exit ex;
    int rc;
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    w->rc = riscv_cpu_run(w->cpu, &w->ex);
    return NULL;
}

static void body_threads(tenv *t)
{
    /* a0 = counter address, a1 = iterations; s0 = second counter */
    wr64(DATA, 0);
    wr64(DATA + 64, 0);
    SETX(t, A0, DATA);
    SETX(t, S0, DATA + 64);
    SETX(t, A1, ITERS);
    SETX(t, A2, 1);
    uint32_t loop = t->pc;
    e32(t, AMO(0x00, 0, ZERO, A0, A2));         /* amoadd.d x0, a2, (a0) */
    uint32_t retry = t->pc;
    e32(t, LR_D(T0, S0));
    e32(t, ADDI(T0, T0, 1));
    e32(t, SC_D(T1, S0, T0));
    e32(t, BNE(T1, ZERO, (int32_t)(retry - t->pc)));
    e32(t, ADDI(A1, A1, -1));
    e32(t, BNE(A1, ZERO, (int32_t)(loop - t->pc)));
    e32(t, ECALL);
    riscv_cpu_set_pc(t->cpu, CODE);
    worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].cpu = riscv_cpu_clone(t->cpu);
        CU_ASSERT_FATAL(w[i].cpu != NULL);
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(w[i].rc, 0);
        CU_ASSERT_EQUAL(w[i].ex.reason, RISCV_EXIT_ECALL);
        CU_ASSERT_EQUAL(riscv_cpu_get_x(w[i].cpu, A1), 0);
        riscv_cpu_free(w[i].cpu);
    }
    CU_ASSERT_EQUAL(rd64(DATA), (uint64_t)THREADS * ITERS);
    CU_ASSERT_EQUAL(rd64(DATA + 64), (uint64_t)THREADS * ITERS);
}

/* Another thread stops a CPU spinning in a chained self-loop. */
static void *kick_later(void *p)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    riscv_cpu_interrupt(p);
    return NULL;
}

static void body_interrupt(tenv *t)
{
    e32(t, ADDI(A0, A0, 1));
    e32(t, JAL(ZERO, -4));              /* forever */
    pthread_t th;
    pthread_create(&th, NULL, kick_later, t->cpu);
    riscv_exit *ex = run_raw(t);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_INTERRUPT);
    CU_ASSERT(ex->pc == CODE);          /* between two whole iterations */
    CU_ASSERT(X(t, A0) > 0);
}

/* ---- Zba / Zbb / Zbs (bit-manipulation spec 1.0.0, chapter 2) ---- */

static void body_zba(tenv *t)
{
    SETX(t, A0, 0xffffffff00000003ull);
    SETX(t, A1, 100);
    e32(t, OP(0x10, 2, S2, A0, A1));        /* sh1add: (a0 << 1) + 100 */
    e32(t, OP(0x10, 4, S3, A0, A1));        /* sh2add */
    e32(t, OP(0x10, 6, S4, A0, A1));        /* sh3add */
    e32(t, OPW(0x04, 0, S5, A0, A1));       /* add.uw: zext32(a0) + 100 = 103 */
    e32(t, OPW(0x10, 2, S6, A0, A1));       /* sh1add.uw: (3 << 1) + 100 */
    e32(t, OPW(0x10, 6, S7, A0, A1));       /* sh3add.uw: 24 + 100 */
    e32(t, enc_i(0x080 | 4, A0, 1, S8, 0x1b));  /* slli.uw a0, 4: 3 << 4 */
    e32(t, OPW(0x04, 0, S9, A0, ZERO));     /* zext.w */
    run_to_ecall(t);
    EQ(t, S2, 0xfffffffe00000006ull + 100);
    EQ(t, S3, 0xfffffffc0000000cull + 100);
    EQ(t, S4, 0xfffffff800000018ull + 100);
    EQ(t, S5, 103);
    EQ(t, S6, 106);
    EQ(t, S7, 124);
    EQ(t, S8, 48);
    EQ(t, S9, 3);
}

static void body_zbb(tenv *t)
{
    SETX(t, A0, 0x00f0000000000080ull);
    SETX(t, A1, 0xff00ff00ff00ff00ull);
    SETX(t, A2, (uint64_t)-5);
    SETX(t, A3, 3);
    SETX(t, A4, 0x0000000080000001ull);
#define UNARY(imm12, f3, opc, rd, rs) enc_i(imm12, rs, f3, rd, opc)
    e32(t, OP(0x20, 7, S2, A1, A0));        /* andn: a1 & ~a0 */
    e32(t, OP(0x20, 6, S3, ZERO, A1));      /* orn: 0 | ~a1 */
    e32(t, OP(0x20, 4, S4, A1, A1));        /* xnor x,x: all ones */
    e32(t, UNARY(0x600, 1, 0x13, S5, A0));  /* clz: 8 */
    e32(t, UNARY(0x601, 1, 0x13, S6, A0));  /* ctz: 7 */
    e32(t, UNARY(0x602, 1, 0x13, S7, A1));  /* cpop: 32 */
    e32(t, UNARY(0x600, 1, 0x13, S8, ZERO));/* clz 0: 64 */
    e32(t, UNARY(0x600, 1, 0x1b, S9, A0));  /* clzw of 0x80: 24 */
    e32(t, UNARY(0x601, 1, 0x1b, S10, ZERO));/* ctzw 0: 32 */
    e32(t, UNARY(0x602, 1, 0x1b, S11, A1)); /* cpopw of 0xff00ff00: 16 */
    e32(t, OP(0x05, 6, T3, A2, A3));        /* max(-5, 3) = 3 */
    e32(t, OP(0x05, 7, T4, A2, A3));        /* maxu: 2^64-5 */
    e32(t, OP(0x05, 4, T5, A2, A3));        /* min: -5 */
    e32(t, OP(0x05, 5, T6, A2, A3));        /* minu: 3 */
    e32(t, UNARY(0x604, 1, 0x13, GP, A0));  /* sext.b of 0x80: -128 */
    e32(t, UNARY(0x605, 1, 0x13, TP, A1));  /* sext.h of 0xff00: 0xffff...ff00 */
    e32(t, enc_r(0x04, 0, A1, 4, RA, 0x3b));/* zext.h: 0xff00 */
    run_to_ecall(t);
    EQ(t, S2, 0xff00ff00ff00ff00ull);
    EQ(t, S3, 0x00ff00ff00ff00ffull);
    EQ(t, S4, ~0ull);
    EQ(t, S5, 8);
    EQ(t, S6, 7);
    EQ(t, S7, 32);
    EQ(t, S8, 64);
    EQ(t, S9, 24);
    EQ(t, S10, 32);
    EQ(t, S11, 16);
    EQ(t, T3, 3);
    EQ(t, T4, (uint64_t)-5);
    EQ(t, T5, (uint64_t)-5);
    EQ(t, T6, 3);
    EQ(t, GP, (uint64_t)-128);
    EQ(t, TP, 0xffffffffffffff00ull);
    EQ(t, RA, 0xff00);

    /* rotations, orc.b, rev8 */
    t->pc = CODE;
    SETX(t, A5, 0x8000000000000001ull);
    SETX(t, A6, 65);                        /* & 63 = 1 */
    e32(t, OP(0x30, 1, S2, A5, A6));        /* rol by 1: 0x3 */
    e32(t, OP(0x30, 5, S3, A5, A6));        /* ror by 1: 0xc000000000000000 */
    e32(t, OPW(0x30, 1, S4, A4, A6));       /* rolw 0x80000001 by 1: 0x3 */
    e32(t, OPW(0x30, 5, S5, A4, A6));       /* rorw by 1: 0xc0000000, sext */
    e32(t, enc_i(0x600 | 4, A5, 5, S6, 0x13));   /* rori by 4: 0x1800000000000000 */
    e32(t, enc_i(0x600 | 31, A4, 5, S7, 0x1b));  /* roriw by 31 = rolw by 1: 3 */
    e32(t, enc_i(0x287, A0, 5, S8, 0x13));  /* orc.b */
    e32(t, enc_i(0x6b8, A0, 5, S9, 0x13));  /* rev8 */
    run_to_ecall(t);
    EQ(t, S2, 3);
    EQ(t, S3, 0xc000000000000000ull);
    EQ(t, S4, 3);
    EQ(t, S5, 0xffffffffc0000000ull);
    EQ(t, S6, 0x1800000000000000ull);
    EQ(t, S7, 3);
    EQ(t, S8, 0x00ff0000000000ffull);
    EQ(t, S9, 0x800000000000f000ull);     /* byte 0 (0x80) to 7, byte 6 (0xf0) to 1 */
#undef UNARY
}

static void body_zbs(tenv *t)
{
    SETX(t, A0, 0xf0);
    SETX(t, A1, 68);                        /* & 63 = 4 */
    e32(t, OP(0x24, 1, S2, A0, A1));        /* bclr bit 4: 0xe0 */
    e32(t, OP(0x24, 5, S3, A0, A1));        /* bext bit 4: 1 */
    e32(t, OP(0x34, 1, S4, A0, A1));        /* binv bit 4: 0xe0 */
    e32(t, OP(0x14, 1, S5, A0, A1));        /* bset bit 4: 0xf0 */
    e32(t, enc_i(0x480 | 7, A0, 1, S6, 0x13));  /* bclri 7: 0x70 */
    e32(t, enc_i(0x480 | 3, A0, 5, S7, 0x13));  /* bexti 3: 0 */
    e32(t, enc_i(0x680 | 63, A0, 1, S8, 0x13)); /* binvi 63 */
    e32(t, enc_i(0x280 | 0, A0, 1, S9, 0x13));  /* bseti 0: 0xf1 */
    run_to_ecall(t);
    EQ(t, S2, 0xe0);
    EQ(t, S3, 1);
    EQ(t, S4, 0xe0);
    EQ(t, S5, 0xf0);
    EQ(t, S6, 0x70);
    EQ(t, S7, 0);
    EQ(t, S8, 0x80000000000000f0ull);
    EQ(t, S9, 0xf1);
}

/* ---- random code generator ---- */

/* Blocks decode fully, never write sp/s0, use no control flow, and run to the end
 * on both backends with the same final state. */
static uint64_t gen_state[2][64];
static unsigned gen_round;

static void body_gen(tenv *t)
{
    riscv_gen_options o = { .seed = 1000 + gen_round, .scratch_size = 256 };
    uint8_t buf[1024];
    size_t n = riscv_gen_block(&o, buf, sizeof(buf));
    CU_ASSERT(n > 900);
    unsigned bad = 0;
    for (size_t off = 0; off < n;) {
        uint32_t w = buf[off] | buf[off + 1] << 8;
        if ((w & 3) == 3)
            w |= (uint32_t)(buf[off + 2] | buf[off + 3] << 8) << 16;
        riscv_insn d;
        if (!riscv_decode(w, &d)) {
            bad++;
            break;
        }
        const riscv_opinfo *oi = &riscv_ops[d.op];
        if (oi->fmt == FMT_B || oi->fmt == FMT_J || oi->fmt == FMT_JALR || d.op == RV_ECALL ||
            d.op == RV_EBREAK)
            bad++;
        off += d.len;
    }
    CU_ASSERT_EQUAL(bad, 0);
    memcpy(t->mem + CODE, buf, n);
    t->pc = CODE + (uint32_t)n;
    for (unsigned r = 1; r < 32; r++)
        SETX(t, r, 0x9e3779b97f4a7c15ull * r);
    for (unsigned r = 0; r < 32; r++)
        SETF(t, r, r & 1 ? 0x400921fb54442d18ull * r : 0xffffffff3fc00000ull + r);
    SETX(t, SP, DATA);
    SETX(t, S0, DATA);
    run_to_ecall(t);
    unsigned which = t->backend == RISCV_BACKEND_INTERP ? 0 : 1;
    for (unsigned r = 0; r < 32; r++) {
        gen_state[which][r] = X(t, r);
        gen_state[which][32 + r] = F(t, r);
    }
    CU_ASSERT_EQUAL(X(t, SP), DATA);
    CU_ASSERT_EQUAL(X(t, S0), DATA);
}

static void test_gen(void)
{
    for (gen_round = 0; gen_round < 20; gen_round++) {
        memset(gen_state, 0, sizeof(gen_state));
        run_both(body_gen);
        if (memcmp(gen_state[0], gen_state[1], sizeof(gen_state[0])))
            printf("  seed %u: interp and native disagree\n", 1000 + gen_round);
        CU_ASSERT(memcmp(gen_state[0], gen_state[1], sizeof(gen_state[0])) == 0);
    }
}

#define T(name) static void test_##name(void) { run_both(body_##name); }
T(rvc) T(rvc_illegal) T(interrupt) T(lrsc) T(amo) T(amo_misaligned) T(threads) T(zba) T(zbb) T(zbs)
#undef T

void register_ext_tests(void)
{
    CU_pSuite s = CU_add_suite("riscv-decode", NULL, NULL);
    CU_add_test(s, "table-disjoint", test_table_disjoint);
    CU_add_test(s, "rvc-expand", test_rvc_expand);
    s = CU_add_suite("riscv-ext", NULL, NULL);
    CU_add_test(s, "rvc-run", test_rvc);
    CU_add_test(s, "rvc-illegal", test_rvc_illegal);
    CU_add_test(s, "lr-sc", test_lrsc);
    CU_add_test(s, "amo", test_amo);
    CU_add_test(s, "amo-misaligned", test_amo_misaligned);
    CU_add_test(s, "atomics-threads", test_threads);
    CU_add_test(s, "interrupt-from-thread", test_interrupt);
    CU_add_test(s, "zba", test_zba);
    CU_add_test(s, "zbb", test_zbb);
    CU_add_test(s, "zbs", test_zbs);
    CU_add_test(s, "random-blocks", test_gen);
}
