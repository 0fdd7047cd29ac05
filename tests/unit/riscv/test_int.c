/* RV64I and M semantics.  Expected values follow from the unprivileged spec
 * (chapters 2, 5 and 7), worked out in the comments. */
#include "tests/unit/riscv/harness.h"

#include <stdio.h>

#define EQ(t, reg, val) do { \
        uint64_t got_ = X(t, reg), want_ = (uint64_t)(val); \
        if (got_ != want_) \
            printf("  [%s] x%u = 0x%llx, expected 0x%llx\n", (t)->backend_name, (unsigned)(reg), \
                   (unsigned long long)got_, (unsigned long long)want_); \
        CU_ASSERT_EQUAL(got_, want_); \
    } while (0)

/* x0 reads as zero even after writes; lui/addi build constants. */
static void body_basic(tenv *t)
{
    e32(t, ADDI(ZERO, ZERO, 5));        /* write to x0: dropped */
    e32(t, ADD(A0, ZERO, ZERO));        /* a0 = 0 */
    e32(t, LUI(A1, 0x12345));           /* a1 = 0x12345000 */
    e32(t, ADDI(A1, A1, 0x678));        /* a1 = 0x12345678 */
    e32(t, LUI(A2, 0x80000));           /* lui sign-extends bit 31: 0xffffffff80000000 */
    e32(t, ADDI(A3, ZERO, -1));         /* a3 = all ones */
    e32(t, SLTI(A4, A3, 0));            /* -1 < 0 signed: 1 */
    e32(t, SLTIU(A5, A3, 0));           /* 2^64-1 < 0 unsigned: 0 */
    e32(t, SLTU(A6, ZERO, A1));         /* 0 < a1: 1 (snez) */
    e32(t, SLT(A7, A2, ZERO));          /* negative < 0: 1 */
    e32(t, XORI(S2, A1, -1));           /* not a1 */
    e32(t, SUB(S3, ZERO, A1));          /* neg a1 */
    e32(t, ANDI(S4, A3, 0x7ff));        /* 0x7ff */
    run_to_ecall(t);
    EQ(t, ZERO, 0);
    EQ(t, A0, 0);
    EQ(t, A1, 0x12345678);
    EQ(t, A2, 0xffffffff80000000ull);
    EQ(t, A3, ~0ull);
    EQ(t, A4, 1);
    EQ(t, A5, 0);
    EQ(t, A6, 1);
    EQ(t, A7, 1);
    EQ(t, S2, ~0x12345678ull);
    EQ(t, S3, -(uint64_t)0x12345678);
    EQ(t, S4, 0x7ff);
}

/* Shift amounts are the low 6 bits (64-bit ops) or low 5 bits (W ops) of rs2
 * (spec 2.4.2, 5.2); W results are sign-extended from bit 31. */
static void body_shifts(tenv *t)
{
    SETX(t, A0, 1);
    SETX(t, A1, 65);                    /* & 63 = 1 */
    SETX(t, A2, 33);                    /* & 31 = 1 */
    SETX(t, A3, 0x80000000ull);
    SETX(t, A4, 0x8000000000000000ull);
    e32(t, SLL(S2, A0, A1));            /* 1 << 1 = 2 */
    e32(t, SLLW(S3, A3, A2));           /* low 32 of 0x80000000 << 1 = 0 */
    e32(t, SRLW(S4, A3, ZERO));         /* 0x80000000 >> 0, sext = 0xffffffff80000000 */
    e32(t, SRAW(S5, A3, A2));           /* 0x80000000 >>a 1 = 0xc0000000, sext */
    e32(t, SRA(S6, A4, A1));            /* >>a 1 = 0xc000000000000000 */
    e32(t, SRL(S7, A4, A1));            /* >> 1 = 0x4000000000000000 */
    e32(t, SLLI(S8, A0, 63));           /* 0x8000000000000000 */
    e32(t, SRAI(S9, A4, 63));           /* all ones */
    e32(t, SLLIW(S10, A0, 31));         /* 0x80000000 sext */
    e32(t, SRLIW(S11, A4, 0));          /* low 32 bits are 0: 0 */
    e32(t, SRAIW(T3, A3, 31));          /* sign bit 31 set: -1 */
    e32(t, SLLW(T4, A0, A1));           /* 65 & 31 = 1: 2 */
    run_to_ecall(t);
    EQ(t, S2, 2);
    EQ(t, S3, 0);
    EQ(t, S4, 0xffffffff80000000ull);
    EQ(t, S5, 0xffffffffc0000000ull);
    EQ(t, S6, 0xc000000000000000ull);
    EQ(t, S7, 0x4000000000000000ull);
    EQ(t, S8, 0x8000000000000000ull);
    EQ(t, S9, ~0ull);
    EQ(t, S10, 0xffffffff80000000ull);
    EQ(t, S11, 0);
    EQ(t, T3, ~0ull);
    EQ(t, T4, 2);
}

/* *W arithmetic wraps at 32 bits and sign-extends (spec 5.2). */
static void body_wops(tenv *t)
{
    SETX(t, A0, 0x7fffffff);
    SETX(t, A1, 1);
    SETX(t, A2, 0x123456789abcdef0ull);
    e32(t, ADDW(S2, A0, A1));           /* 0x80000000 -> 0xffffffff80000000 */
    e32(t, SUBW(S3, ZERO, A0));         /* -0x7fffffff = 0xffffffff80000001 */
    e32(t, ADDIW(S4, A2, 0));           /* sext.w of 0x9abcdef0 */
    e32(t, ADDIW(S5, A0, 1));           /* 0xffffffff80000000 */
    e32(t, MULW(S6, A0, A0));           /* 0x7fffffff^2 = 0x3fffffff00000001: low 32 = 1 */
    e32(t, MULW(S7, A2, A1));           /* low 32 of a2 = 0x9abcdef0, sext */
    run_to_ecall(t);
    EQ(t, S2, 0xffffffff80000000ull);
    EQ(t, S3, 0xffffffff80000001ull);
    EQ(t, S4, 0xffffffff9abcdef0ull);
    EQ(t, S5, 0xffffffff80000000ull);
    EQ(t, S6, 1);
    EQ(t, S7, 0xffffffff9abcdef0ull);
}

/* *W shifts by a constant (spec 5.2): only the low 32 bits of rs1 count, the
 * 32-bit result is sign-extended; also with rd = rs1. */
static void body_wshifts(tenv *t)
{
    SETX(t, A0, 0xfedcba9880000001ull);
    SETX(t, A1, 0x0000000040000001ull);
    SETX(t, A2, 0x7fffffffffffff00ull);
    SETX(t, A3, 0x0000000180000000ull);
    e32(t, SRLIW(S2, A0, 1));           /* 0x80000001 >> 1 = 0x40000000 */
    e32(t, SRLIW(S3, A0, 31));          /* 1 */
    e32(t, SRAIW(S4, A0, 1));           /* 0xc0000000, sext */
    e32(t, SRAIW(S5, A0, 31));          /* -1 */
    e32(t, SLLIW(S6, A1, 1));           /* 0x80000002, sext */
    e32(t, SRLIW(S7, A3, 0));           /* sext.w of 0x80000000 */
    e32(t, SRLIW(A0, A0, 4));           /* rd = rs1: 0x08000000 */
    e32(t, SRAIW(A2, A2, 8));           /* (int32)0xffffff00 >> 8 = -1 */
    run_to_ecall(t);
    EQ(t, S2, 0x40000000);
    EQ(t, S3, 1);
    EQ(t, S4, 0xffffffffc0000000ull);
    EQ(t, S5, 0xffffffffffffffffull);
    EQ(t, S6, 0xffffffff80000002ull);
    EQ(t, S7, 0xffffffff80000000ull);
    EQ(t, A0, 0x08000000);
    EQ(t, A2, 0xffffffffffffffffull);
}

/* Division by zero and overflow (spec 7.2, table 7.1): x/0 = -1 (all ones),
 * x%0 = x, MIN/-1 = MIN, MIN%-1 = 0; the W forms do the same at 32 bits. */
static void body_div(tenv *t)
{
    SETX(t, A0, 1234);
    SETX(t, A1, 0);
    SETX(t, A2, 0x8000000000000000ull);
    SETX(t, A3, ~0ull);                 /* -1 */
    SETX(t, A4, 0xffffffff80000000ull); /* INT32_MIN sign-extended */
    SETX(t, A5, 0x1234567800000007ull); /* W ops see 7 */
    e32(t, DIV(S2, A0, A1));
    e32(t, DIVU(S3, A0, A1));
    e32(t, REM(S4, A0, A1));
    e32(t, REMU(S5, A0, A1));
    e32(t, DIV(S6, A2, A3));
    e32(t, REM(S7, A2, A3));
    e32(t, DIVW(S8, A4, A3));
    e32(t, REMW(S9, A4, A3));
    e32(t, DIVUW(S10, A5, A1));         /* 7 / 0 = 2^32-1, sext = -1 */
    e32(t, REMUW(S11, A4, A1));         /* 0x80000000 % 0 = 0x80000000, sext */
    e32(t, DIVW(T3, A5, A1));           /* -1 */
    e32(t, REMW(T4, A5, A1));           /* 7 */
    e32(t, DIV(T5, A3, A0));            /* -1 / 1234 = 0 (toward zero) */
    e32(t, REM(T6, A3, A0));            /* -1 % 1234 = -1 */
    e32(t, DIVU(GP, A3, A0));           /* (2^64-1)/1234 */
    run_to_ecall(t);
    EQ(t, S2, ~0ull);
    EQ(t, S3, ~0ull);
    EQ(t, S4, 1234);
    EQ(t, S5, 1234);
    EQ(t, S6, 0x8000000000000000ull);
    EQ(t, S7, 0);
    EQ(t, S8, 0xffffffff80000000ull);
    EQ(t, S9, 0);
    EQ(t, S10, ~0ull);
    EQ(t, S11, 0xffffffff80000000ull);
    EQ(t, T3, ~0ull);
    EQ(t, T4, 7);
    EQ(t, T5, 0);
    EQ(t, T6, ~0ull);
    EQ(t, GP, 18446744073709551615ull / 1234);
}

/* High halves of 128-bit products (spec 7.1). */
static void body_mulh(tenv *t)
{
    SETX(t, A0, ~0ull);                 /* -1 or 2^64-1 */
    SETX(t, A1, 2);
    SETX(t, A2, 0x8000000000000000ull);
    e32(t, MULH(S2, A0, A0));           /* (-1)(-1) = 1: high 0 */
    e32(t, MULHU(S3, A0, A0));          /* (2^64-1)^2 = 2^128 - 2^65 + 1: high 2^64-2 */
    e32(t, MULHSU(S4, A0, A0));         /* (-1)(2^64-1) = -2^64 + 1: high -1 */
    e32(t, MULH(S5, A2, A1));           /* -2^63 * 2 = -2^64: high -1 */
    e32(t, MULHU(S6, A2, A1));          /* 2^63 * 2 = 2^64: high 1 */
    e32(t, MULHSU(S7, A1, A2));         /* 2 * 2^63 = 2^64: high 1 */
    e32(t, MUL(S8, A2, A1));            /* low 64 of 2^64: 0 */
    run_to_ecall(t);
    EQ(t, S2, 0);
    EQ(t, S3, 0xfffffffffffffffeull);
    EQ(t, S4, ~0ull);
    EQ(t, S5, ~0ull);
    EQ(t, S6, 1);
    EQ(t, S7, 1);
    EQ(t, S8, 0);
}

/* Loads extend per width and signedness; stores write only their bytes. */
static void body_mem(tenv *t)
{
    wr64(DATA, 0x8899aabbccddeeffull);
    SETX(t, A0, DATA);
    SETX(t, A1, 0x0102030405060708ull);
    e32(t, LB(S2, A0, 0));              /* 0xff -> -1 */
    e32(t, LBU(S3, A0, 0));             /* 0xff */
    e32(t, LH(S4, A0, 2));              /* 0xccdd -> sext */
    e32(t, LHU(S5, A0, 2));
    e32(t, LW(S6, A0, 4));              /* 0x8899aabb -> sext */
    e32(t, LWU(S7, A0, 4));
    e32(t, LD(S8, A0, 0));
    e32(t, SB(A1, A0, 8));              /* byte 0x08 at DATA+8 */
    e32(t, SH(A1, A0, 10));             /* 0x0708 at DATA+10 */
    e32(t, SW(A1, A0, 12));             /* 0x05060708 at DATA+12 */
    e32(t, SD(A1, A0, 16));
    e32(t, LD(S9, A0, 8));
    e32(t, ADDI(A2, A0, 2047));         /* negative offsets reach back */
    e32(t, LD(S10, A2, -2047));
    e32(t, LD(ZERO, A0, 0));            /* a load into x0 is still a load */
    run_to_ecall(t);
    EQ(t, S2, ~0ull);
    EQ(t, S3, 0xff);
    EQ(t, S4, 0xffffffffffffccddull);
    EQ(t, S5, 0xccdd);
    EQ(t, S6, 0xffffffff8899aabbull);
    EQ(t, S7, 0x8899aabb);
    EQ(t, S8, 0x8899aabbccddeeffull);
    EQ(t, S9, 0x0506070807080008ull);   /* bytes 08 00 08 07 08 07 06 05 */
    EQ(t, S10, 0x8899aabbccddeeffull);
    EQ(t, ZERO, 0);
    CU_ASSERT_EQUAL(rd64(DATA + 16), 0x0102030405060708ull);
}

/* A counted loop (branches back), jal/jalr links, jalr clears bit 0. */
static void body_control(tenv *t)
{
    /* a0 = sum 1..10 */
    e32(t, ADDI(A0, ZERO, 0));
    e32(t, ADDI(A1, ZERO, 10));
    uint32_t loop = t->pc;
    e32(t, ADD(A0, A0, A1));
    e32(t, ADDI(A1, A1, -1));
    e32(t, BNE(A1, ZERO, (int32_t)(loop - t->pc)));
    /* jal over one instruction; ra = address after the jal */
    uint32_t jal_at = t->pc;
    e32(t, JAL(RA, 8));
    e32(t, ADDI(A2, ZERO, 99));         /* skipped */
    /* jalr to (t0 + 1): bit 0 cleared, lands on the target */
    uint32_t auipc_target = t->pc + 16;
    e32(t, LUI(T0, auipc_target >> 12));
    e32(t, ADDI(T0, T0, (int32_t)(auipc_target & 0xfff) + 1));
    e32(t, JALR(S2, T0, 0));
    e32(t, ADDI(A3, ZERO, 99));         /* skipped */
    /* auipc_target: */
    CU_ASSERT_EQUAL(t->pc, auipc_target);
    e32(t, BLT(A1, A0, 8));             /* 0 < 55: taken */
    e32(t, ADDI(A4, ZERO, 99));         /* skipped */
    e32(t, BGEU(A1, A0, 8));            /* 0 >= 55 unsigned: no */
    e32(t, ADDI(A5, ZERO, 7));
    run_to_ecall(t);
    EQ(t, A0, 55);
    EQ(t, A1, 0);
    EQ(t, RA, jal_at + 4);
    EQ(t, A2, 0);
    EQ(t, S2, auipc_target - 4);
    EQ(t, A3, 0);
    EQ(t, A4, 0);
    EQ(t, A5, 7);
}

/* Exits: ebreak, illegal instruction with pc and bits, memory fault with address,
 * fence.i. */
static void body_exits(tenv *t)
{
    e32(t, ADDI(A0, ZERO, 1));
    e32(t, EBREAK);
    riscv_exit *ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_EBREAK);
    CU_ASSERT_EQUAL(ex->pc, CODE + 4);
    EQ(t, A0, 1);

    t->pc = CODE;
    e32(t, ADDI(A0, ZERO, 2));
    e32(t, 0xffffffffu);                /* no such instruction */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);
    CU_ASSERT_EQUAL(ex->pc, CODE + 4);
    CU_ASSERT_EQUAL(ex->insn, 0xffffffffu);
    CU_ASSERT_EQUAL(ex->len, 4);
    EQ(t, A0, 2);

    t->pc = CODE;
    e16(t, 0x0000);                     /* the all-zero halfword is illegal (16.1) */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);
    CU_ASSERT_EQUAL(ex->pc, CODE);
    CU_ASSERT_EQUAL(ex->insn, 0);
    CU_ASSERT_EQUAL(ex->len, 2);

    t->pc = CODE;
    e32(t, CSRRS(A0, 0x300, ZERO));     /* mstatus from user mode: illegal */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);
    CU_ASSERT_EQUAL(ex->pc, CODE);
    CU_ASSERT_EQUAL(ex->insn, CSRRS(A0, 0x300, ZERO));

    t->pc = CODE;
    e32(t, CSRRW(ZERO, 0xc00, A0));     /* writing read-only cycle: illegal */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ILLEGAL);

    t->pc = CODE;
    SETX(t, A1, GUARD_ADDR + 8);
    e32(t, ADDI(A0, ZERO, 3));
    e32(t, LD(A2, A1, 0));              /* the guard page */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, CODE + 4);
    CU_ASSERT_EQUAL(ex->addr, GUARD_ADDR + 8);
    CU_ASSERT_EQUAL(ex->access, RISCV_ACCESS_READ);
    EQ(t, A0, 3);

    t->pc = CODE;
    e32(t, ADDI(A0, ZERO, 4));
    e32(t, SW(A0, A1, -4));             /* GUARD_ADDR + 4 */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->addr, GUARD_ADDR + 4);
    CU_ASSERT_EQUAL(ex->access, RISCV_ACCESS_WRITE);
    EQ(t, A0, 4);

    t->pc = CODE;
    e32(t, FENCE_I);
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FENCE_I);
    CU_ASSERT_EQUAL(ex->pc, CODE + 4);

    /* ecall: the exit names the ecall itself; resuming after it continues */
    t->pc = CODE;
    e32(t, ECALL);
    e32(t, ADDI(A0, ZERO, 5));
    e32(t, EBREAK);
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ECALL);
    CU_ASSERT_EQUAL(ex->pc, CODE);
    riscv_cpu_set_pc(t->cpu, CODE + 4);
    CU_ASSERT_EQUAL(riscv_cpu_run(t->cpu, &t->ex), 0);
    CU_ASSERT_EQUAL(t->ex.reason, RISCV_EXIT_EBREAK);
    EQ(t, A0, 5);

    /* fetching from a non-executable address: a fault on the fetch */
    t->pc = CODE;
    e32(t, LUI(A0, EXEC_LIMIT >> 12));
    e32(t, JALR(RA, A0, 0));
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, EXEC_LIMIT);
    CU_ASSERT_EQUAL(ex->addr, EXEC_LIMIT);
    CU_ASSERT_EQUAL(ex->access, RISCV_ACCESS_EXEC);
    EQ(t, RA, CODE + 8);

    /* a 32-bit instruction whose second half is not executable */
    t->pc = CODE;
    e32(t, LUI(A0, EXEC_LIMIT >> 12));
    e32(t, JALR(ZERO, A0, -2));
    t->pc = EXEC_LIMIT - 2;
    e16(t, 0x0513);                     /* low half of addi a0,... */
    ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FAULT);
    CU_ASSERT_EQUAL(ex->pc, EXEC_LIMIT - 2);
    CU_ASSERT_EQUAL(ex->addr, EXEC_LIMIT);
    CU_ASSERT_EQUAL(ex->access, RISCV_ACCESS_EXEC);

    /* an interrupt request made before running stops at once */
    riscv_cpu_interrupt(t->cpu);
    riscv_cpu_set_pc(t->cpu, CODE + 4);
    CU_ASSERT_EQUAL(riscv_cpu_run(t->cpu, &t->ex), 0);
    CU_ASSERT_EQUAL(t->ex.reason, RISCV_EXIT_INTERRUPT);
}

/* Code written after it ran is retranslated once the engine is told, or after
 * the guest's own fence.i (Zifencei). */
static void body_smc(tenv *t)
{
    /* the guest rewrites its own instruction, then fence.i */
    uint32_t target = CODE + 0x100;
    uint32_t new_insn = ADDI(A0, ZERO, 7);
    SETX(t, A1, target);
    SETX(t, A2, new_insn);
    e32(t, JAL(RA, (int32_t)(target - t->pc)));     /* run the old code once */
    e32(t, SW(A2, A1, 0));                          /* overwrite it */
    e32(t, FENCE_I);
    e32(t, JAL(RA, (int32_t)(target - t->pc)));     /* and run it again */
    e32(t, EBREAK);
    uint32_t end = t->pc;
    t->pc = target;
    e32(t, ADDI(A0, ZERO, 3));
    e32(t, ADD(A3, A3, A0));                        /* a3 sums what ran */
    e32(t, JALR(ZERO, RA, 0));
    t->pc = end;
    SETX(t, A3, 0);
    riscv_exit *ex = run_raw(t);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_FENCE_I);
    CU_ASSERT_EQUAL(riscv_cpu_run(t->cpu, &t->ex), 0);
    CU_ASSERT_EQUAL(t->ex.reason, RISCV_EXIT_EBREAK);
    EQ(t, A3, 3 + 7);

    t->pc = CODE;
    e32(t, ADDI(A0, ZERO, 1));
    run_to_ecall(t);
    EQ(t, A0, 1);
    uint32_t w = ADDI(A0, ZERO, 2);
    memcpy(t->mem + CODE, &w, 4);
    riscv_engine_invalidate(t->eng, CODE, 4);
    riscv_cpu_set_pc(t->cpu, CODE);
    CU_ASSERT_EQUAL(riscv_cpu_run(t->cpu, &t->ex), 0);
    EQ(t, A0, 2);
}

#define T(name) static void test_##name(void) { run_both(body_##name); }
T(basic) T(shifts) T(wops) T(wshifts) T(div) T(mulh) T(mem) T(control) T(exits) T(smc)
#undef T

void register_int_tests(void)
{
    CU_pSuite s = CU_add_suite("riscv-int", NULL, NULL);
    CU_add_test(s, "basic", test_basic);
    CU_add_test(s, "shifts", test_shifts);
    CU_add_test(s, "w-ops", test_wops);
    CU_add_test(s, "w-shifts-by-constant", test_wshifts);
    CU_add_test(s, "div-rem-edges", test_div);
    CU_add_test(s, "mulh", test_mulh);
    CU_add_test(s, "loads-stores", test_mem);
    CU_add_test(s, "control-flow", test_control);
    CU_add_test(s, "exits", test_exits);
    CU_add_test(s, "self-modifying", test_smc);
}
