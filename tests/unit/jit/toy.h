/* A made-up guest ISA for testing the engine: 16 64-bit registers, one 32-bit
 * register, fixed 8-byte little-endian instructions
 *     byte 0 opcode, 1 rd, 2 rs1, 3 rs2, 4..7 imm (signed 32-bit)
 * Branches end a block.  Guest memory is a host mapping at cpu.h.guest_base. */
#ifndef TESTS_UNIT_JIT_TOY_H
#define TESTS_UNIT_JIT_TOY_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "jit/jit.h"

enum {
    T_HALT, T_ADDI, T_ADD, T_SUB, T_MUL, T_BNE, T_BLT, T_LD, T_ST, T_LW, T_JR,
    T_SYSCALL, T_DIV, T_REM, T_SHL, T_SLT, T_CALL, T_AMOADD, T_J, T_SB, T_LBU, T_LI,
    T_WADD,     /* w = w + (i32)rs1: exercises an i32 global */
    T_SETF,     /* cpu flags = rs1 (a helper), then on through the lookup */
    T_FLAGADD,  /* rd = rs1 + flags * imm, flags as translated (the block key) */
    T_COUNT
};

typedef struct toy_cpu {
    jit_cpu h;
    uint64_t r[16];
    uint32_t w;
    uint32_t pad;
    uint64_t helper_calls;
} toy_cpu;

#define TOY_G(i) { "r" #i, JIT_I64, offsetof(toy_cpu, r) + 8 * (i) }
static const jit_global_desc toy_globals[] = {
    TOY_G(0), TOY_G(1), TOY_G(2), TOY_G(3), TOY_G(4), TOY_G(5), TOY_G(6), TOY_G(7),
    TOY_G(8), TOY_G(9), TOY_G(10), TOY_G(11), TOY_G(12), TOY_G(13), TOY_G(14), TOY_G(15),
    { "w", JIT_I32, offsetof(toy_cpu, w) },
};
#define TOY_W 16

/* helper for T_CALL: rd = rs1 * 3 + 1, counts calls in env; with imm == 1 it
 * raises a guest exception from C instead */
static uint64_t toy_helper(jit_cpu *cpu, uint64_t x)
{
    ((toy_cpu *)cpu)->helper_calls++;
    return x * 3 + 1;
}

static uint64_t toy_helper_raise(jit_cpu *cpu, uint64_t x)
{
    jit_cpu_exit(cpu, JIT_EXIT_EXCEPTION, 99 + x);
}

/* helper for T_SETF: the block key changes, so the translation ends with a
 * goto_ptr of a constant pc, as jit.h asks */
static uint64_t toy_helper_setf(jit_cpu *cpu, uint64_t v)
{
    cpu->flags = (uint32_t)v;
    return 0;
}

static const jit_helper toy_h_setf = { (void *)toy_helper_setf, "toy_setf", 0 };
static const jit_helper toy_h = { (void *)toy_helper, "toy_helper", JIT_CALL_READS_GLOBALS };
static const jit_helper toy_h_raise = { (void *)toy_helper_raise, "toy_raise",
                                        JIT_CALL_MAY_EXIT };

static int toy_translate(jit_ctx *c, jit_cpu *cpu, uint64_t pc, uint32_t flags)
{
    for (;;) {
        uint8_t insn[8];
        if (jit_code_read(c, pc, insn, 8) < 0) {
            jit_exit(c, JIT_EXIT_EXCEPTION, jit_const(c, JIT_I64, pc), jit_const(c, JIT_I64, 1));
            return 0;
        }
        unsigned op = insn[0], rd = insn[1] & 15, rs1 = insn[2] & 15, rs2 = insn[3] & 15;
        int32_t imm;
        memcpy(&imm, insn + 4, 4);
        jit_insn_start(c, pc);
        jit_temp d = jit_global(rd), a = jit_global(rs1), b = jit_global(rs2);
        uint64_t next = pc + 8;
        switch (op) {
        case T_HALT:
            jit_exit(c, JIT_EXIT_HALT, jit_const(c, JIT_I64, pc), d);
            return 0;
        case T_ADDI: jit_addi(c, d, a, imm); break;
        case T_ADD: jit_add(c, d, a, b); break;
        case T_SUB: jit_sub(c, d, a, b); break;
        case T_MUL: jit_mul(c, d, a, b); break;
        case T_DIV: jit_div(c, d, a, b); break;
        case T_REM: jit_rem(c, d, a, b); break;
        case T_SHL: jit_shl(c, d, a, b); break;
        case T_SLT: jit_setcond(c, JIT_LT, d, a, b); break;
        case T_LI: jit_movi(c, d, (uint64_t)(int64_t)imm); break;
        case T_BNE: case T_BLT: {
            jit_label l = jit_label_new(c);
            jit_brcond(c, op == T_BNE ? JIT_EQ : JIT_GE, a, b, l);
            jit_goto_tb(c, 0, pc + (int64_t)imm);
            jit_label_set(c, l);
            jit_goto_tb(c, 1, next);
            return 0;
        }
        case T_J:
            jit_goto_tb(c, 0, pc + (int64_t)imm);
            return 0;
        case T_JR: {
            jit_temp t = jit_temp_new(c, JIT_I64);
            jit_addi(c, t, a, imm);
            jit_goto_ptr(c, t);
            return 0;
        }
        case T_LD: jit_qld(c, d, a, imm, JIT_MO_64); break;
        case T_LW: jit_qld(c, d, a, imm, JIT_MO_32 | JIT_MO_SIGN); break;
        case T_LBU: jit_qld(c, d, a, imm, JIT_MO_8); break;
        case T_ST: jit_qst(c, b, a, imm, JIT_MO_64); break;
        case T_SB: jit_qst(c, b, a, imm, JIT_MO_8); break;
        case T_AMOADD: jit_atomic_rmw(c, JIT_AMO_ADD, d, a, b, JIT_MO_64); break;
        case T_SYSCALL:
            jit_exit(c, JIT_EXIT_SYSCALL, jit_const(c, JIT_I64, next),
                     jit_const(c, JIT_I64, (uint64_t)(int64_t)imm));
            return 0;
        case T_CALL: {
            jit_temp args[2] = { jit_env(c), a };
            jit_call(c, imm == 1 ? &toy_h_raise : &toy_h, d, 2, args);
            break;
        }
        case T_SETF: {
            jit_temp args[2] = { jit_env(c), a }, r = jit_temp_new(c, JIT_I64);
            jit_call(c, &toy_h_setf, r, 2, args);
            jit_goto_ptr(c, jit_const(c, JIT_I64, next));
            return 0;
        }
        case T_FLAGADD: jit_addi(c, d, a, (int64_t)flags * imm); break;
        case T_WADD: {
            jit_temp t = jit_temp_new(c, JIT_I32);
            jit_trunc(c, t, a);
            jit_add(c, jit_global(TOY_W), jit_global(TOY_W), t);
            break;
        }
        default:
            jit_exit(c, JIT_EXIT_EXCEPTION, jit_const(c, JIT_I64, pc), jit_const(c, JIT_I64, 2));
            return 0;
        }
        pc = next;
        if (jit_block_full(c)) {
            jit_goto_tb(c, 0, pc);
            return 0;
        }
    }
}

static const char *const toy_names[T_COUNT] = {
    "halt", "addi", "add", "sub", "mul", "bne", "blt", "ld", "st", "lw", "jr", "syscall",
    "div", "rem", "shl", "slt", "call", "amoadd", "j", "sb", "lbu", "li", "wadd", "setf",
    "flagadd",
};

static unsigned toy_disas(uint64_t pc, const uint8_t *b, size_t len, char *buf, size_t size)
{
    if (len < 8)
        return 0;
    int32_t imm;
    memcpy(&imm, b + 4, 4);
    snprintf(buf, size, "%s r%u, r%u, r%u, %d", b[0] < T_COUNT ? toy_names[b[0]] : "?",
             b[1] & 15, b[2] & 15, b[3] & 15, imm);
    return 8;
}

static const jit_frontend toy_frontend = {
    .name = "toy",
    .globals = toy_globals,
    .nglobals = sizeof(toy_globals) / sizeof(toy_globals[0]),
    .big_endian = false,
    .addr_bits = 64,
    .translate = toy_translate,
    .disassemble = toy_disas,
};

/* assemble one instruction at *p (a byte pointer into guest memory) */
static inline uint8_t *toy_emit(uint8_t *p, unsigned op, unsigned rd, unsigned rs1,
                                unsigned rs2, int32_t imm)
{
    p[0] = (uint8_t)op;
    p[1] = (uint8_t)rd;
    p[2] = (uint8_t)rs1;
    p[3] = (uint8_t)rs2;
    memcpy(p + 4, &imm, 4);
    return p + 8;
}

#endif
