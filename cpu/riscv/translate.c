/* RISC-V -> JIT IR.  One block: decode instructions from pc until a control
 * transfer, an exit, or the block limit.  x0 is folded here (reads give the
 * constant 0, writes go to a dead temp), guest registers are JIT globals, direct
 * branches chain through goto_tb and indirect ones use the engine's lookup.
 * lui/auipc + addi and compare-and-branch need no special case: the constants are
 * folded by the optimizer and branches compare registers directly. */
#include "cpu/riscv/internal.h"

#include <stddef.h>

/* Superblocks: a block goes on past a forward conditional branch (its target
 * becomes a label inside the block when translation reaches it, else a side
 * exit at the end), and after a path ends (jump, return, taken-only branch)
 * it resumes at the nearest pending target.  So if/else inside a loop body and
 * early returns stay in one block, and a branch back to the block's start is a
 * loop inside its code (jit_goto_tb to the own pc).  Bounds: JIT_TB_SLOTS
 * exits, SB_SPAN bytes of guest code, translation only moves forward. */
#define SB_SPAN 1024
#define SB_MAX_FWD 6

typedef struct fwd_label {
    uint64_t pc;
    jit_label l;
} fwd_label;

typedef struct tctx {
    jit_ctx *c;
    riscv_cpu *cpu;
    uint64_t start;         /* the block's pc */
    uint64_t pc;            /* of the current instruction */
    riscv_insn d;
    unsigned frm;           /* the dynamic rounding mode this block assumes */
    bool ended;             /* the current path has been closed */
    bool stop;              /* no resuming after this path */
    bool host_ff_clear;     /* host FP flags known clear here (see gen_csr) */
    uint64_t ff_store_pc;   /* last fsflags done as a plain store (needs linear
                               flow up to it: no branch back before it) */
    unsigned slots;         /* goto_tb slots used */
    uint64_t next_pc;       /* where translation goes on after this instruction */
    bool rd_to_temp;        /* wx() gives rd_temp (if-conversion) */
    jit_temp rd_temp;
    fwd_label fwd[SB_MAX_FWD];  /* forward branch targets not reached yet */
    unsigned nfwd;
    /* f registers known NaN-boxed on the current path (a single result was
     * written since the last join), the pc of that write, and the uses of the
     * knowledge: a branch back to T may not make a loop when some use at P
     * relied on a write at W with W < T <= P (the loop's back edge reaches P
     * without passing W). */
    uint32_t f_boxed;
    uint64_t boxed_pc[32];
    /* for a boxed f register, the i32 local holding its single value (the
     * op's result before boxing; JIT_NO_TEMP: take the low half), so that
     * the next op reads that local (which may still be in an xmm register) */
    jit_temp f_val[32];
    jit_temp new_val;       /* set by the instruction being translated */
    /* x register that holds the fflags value read by frflags at ff_pc, with
     * no flag raised and the register unchanged since (0: none): a fsflags of
     * it changes nothing.  Its uses go to box_use too (same loop rule). */
    unsigned ff_reg, new_ff_reg;
    uint64_t ff_pc;
    struct { uint64_t w, p; } box_use[64];
    unsigned nbox_use;
} tctx;

/* ---- helpers descriptors ---- */

#define HELPER(fn_, fl) { (void *)(fn_), #fn_, (fl) }
static const jit_helper h_csr = HELPER(riscv_helper_csr, JIT_CALL_MAY_EXIT);
static const jit_helper h_fence = HELPER(riscv_helper_fence, 0);
static const jit_helper h_orc_b = HELPER(riscv_helper_orc_b, JIT_CALL_PURE);
/* FP helpers write cpu->fflags, which is not a global: no flag needed beyond
 * "has memory effects". */
static const jit_helper h_fadd_s = HELPER(riscv_fp_add_s, 0);
static const jit_helper h_fsub_s = HELPER(riscv_fp_sub_s, 0);
static const jit_helper h_fmul_s = HELPER(riscv_fp_mul_s, 0);
static const jit_helper h_fdiv_s = HELPER(riscv_fp_div_s, 0);
static const jit_helper h_fsqrt_s = HELPER(riscv_fp_sqrt_s, 0);
static const jit_helper h_fadd_d = HELPER(riscv_fp_add_d, 0);
static const jit_helper h_fsub_d = HELPER(riscv_fp_sub_d, 0);
static const jit_helper h_fmul_d = HELPER(riscv_fp_mul_d, 0);
static const jit_helper h_fdiv_d = HELPER(riscv_fp_div_d, 0);
static const jit_helper h_fsqrt_d = HELPER(riscv_fp_sqrt_d, 0);
static const jit_helper h_fma_s = HELPER(riscv_fp_fma_s, 0);
/* RNE fast paths: no CPU argument; still not PURE, since they raise host flags */
static const jit_helper h_fma_d = HELPER(riscv_fp_fma_d, 0);
static const jit_helper h_minmax_s = HELPER(riscv_fp_minmax_s, 0);
static const jit_helper h_minmax_d = HELPER(riscv_fp_minmax_d, 0);
static const jit_helper h_class_s = HELPER(riscv_fp_class_s, JIT_CALL_PURE);
static const jit_helper h_class_d = HELPER(riscv_fp_class_d, JIT_CALL_PURE);
static const jit_helper h_cvt_x_s = HELPER(riscv_fp_cvt_x_s, 0);
static const jit_helper h_cvt_x_d = HELPER(riscv_fp_cvt_x_d, 0);
static const jit_helper h_cvt_s_x = HELPER(riscv_fp_cvt_s_x, 0);
static const jit_helper h_cvt_d_x = HELPER(riscv_fp_cvt_d_x, 0);
static const jit_helper h_cvt_s_d = HELPER(riscv_fp_cvt_s_d, 0);

/* ---- registers ---- */

static jit_temp rx(tctx *t, unsigned r)
{
    return r ? jit_global(RISCV_GLOBAL_X(r)) : jit_const(t->c, JIT_I64, 0);
}

/* Destination: writes to x0 go to a temp nobody reads (dead-code elimination
 * removes the op unless it has side effects, e.g. a load that may fault). */
static jit_temp wx(tctx *t, unsigned r)
{
    if (t->rd_to_temp)
        return t->rd_temp;
    return r ? jit_global(RISCV_GLOBAL_X(r)) : jit_temp_new(t->c, JIT_I64);
}

static jit_temp rf(unsigned r) { return jit_global(RISCV_GLOBAL_F(r)); }

static jit_temp ci(tctx *t, uint64_t v) { return jit_const(t->c, JIT_I64, v); }

/* ---- exits ---- */

static void exit_exception(tctx *t, unsigned cause)
{
    jit_exit(t->c, JIT_EXIT_EXCEPTION, ci(t, t->pc),
             ci(t, riscv_exit_arg(cause, t->d.len, 0, t->d.raw)));
    t->ended = true;
}

static void end_goto(tctx *t, uint64_t target)
{
    jit_goto_tb(t->c, t->slots++, target);
    t->ended = true;
}

/* Room for one more pending label and still for the worst block end (a
 * conditional branch: two exits) plus one exit per pending label. */
static bool can_continue(tctx *t)
{
    return t->nfwd < SB_MAX_FWD && t->slots + t->nfwd + 1 + 2 <= JIT_TB_SLOTS &&
           t->pc - t->start < SB_SPAN && !jit_block_full(t->c);
}

static jit_label fwd_label_for(tctx *t, uint64_t pc)
{
    for (unsigned i = 0; i < t->nfwd; i++)
        if (t->fwd[i].pc == pc)
            return t->fwd[i].l;
    jit_label l = jit_label_new(t->c);
    t->fwd[t->nfwd++] = (fwd_label){ pc, l };
    return l;
}

/* ---- integer ---- */

static void gen_binop(tctx *t, jit_opc op)
{
    jit_binop(t->c, op, wx(t, t->d.rd), rx(t, t->d.rs1), rx(t, t->d.rs2));
}

static void gen_binopi(tctx *t, jit_opc op)
{
    jit_binopi(t->c, op, wx(t, t->d.rd), rx(t, t->d.rs1), t->d.imm);
}

/* *W forms: 32-bit operation, result sign-extended to 64 bits (spec 5.2).
 * Where the low 32 bits of the 64-bit operation are the 32-bit result (add,
 * sub, mul, shift left by a constant) the operation is done in 64 bits and
 * sign-extended; constant right shifts extend first.  That is one host
 * instruction less per op than truncating the operands. */
static void gen_binop_w(tctx *t, jit_opc op, bool imm)
{
    jit_ctx *c = t->c;
    unsigned sh = (unsigned)t->d.imm & 31;
    if (op == JIT_OP_ADD || op == JIT_OP_SUB || op == JIT_OP_MUL || (op == JIT_OP_SHL && imm)) {
        jit_temp r = jit_temp_new(c, JIT_I64);
        if (imm)
            jit_binopi(c, op, r, rx(t, t->d.rs1), op == JIT_OP_SHL ? sh : t->d.imm);
        else
            jit_binop(c, op, r, rx(t, t->d.rs1), rx(t, t->d.rs2));
        jit_ext32s(c, wx(t, t->d.rd), r);
        return;
    }
    if (imm && sh && (op == JIT_OP_SHR || op == JIT_OP_SAR)) {
        /* srliw by 1..31 leaves bit 31 clear: zero- and sign-extension agree.
         * Extending into rd itself lets the backend do it in place (nothing
         * between the two ops can fault or exit). */
        jit_temp d = wx(t, t->d.rd);
        if (op == JIT_OP_SHR)
            jit_ext32u(c, d, rx(t, t->d.rs1));
        else
            jit_ext32s(c, d, rx(t, t->d.rs1));
        jit_binopi(c, op, d, d, sh);
        return;
    }
    jit_temp a = jit_temp_new(c, JIT_I32), r = jit_temp_new(c, JIT_I32);
    jit_trunc(c, a, rx(t, t->d.rs1));
    if (imm) {
        jit_binopi(c, op, r, a, t->d.imm);
    } else {
        jit_temp b = jit_temp_new(c, JIT_I32);
        jit_trunc(c, b, rx(t, t->d.rs2));
        jit_binop(c, op, r, a, b);
    }
    jit_ext32s(c, wx(t, t->d.rd), r);
}

static void gen_unop_w(tctx *t, jit_opc op)
{
    jit_ctx *c = t->c;
    jit_temp a = jit_temp_new(c, JIT_I32), r = jit_temp_new(c, JIT_I32);
    jit_trunc(c, a, rx(t, t->d.rs1));
    jit_unop(c, op, r, a);
    jit_ext32u(c, wx(t, t->d.rd), r);
}

static void gen_setcond(tctx *t, jit_cond cond, bool imm)
{
    jit_setcond(t->c, cond, wx(t, t->d.rd), rx(t, t->d.rs1),
                imm ? ci(t, (uint64_t)t->d.imm) : rx(t, t->d.rs2));
}

static void gen_minmax(tctx *t, jit_cond cond)
{
    jit_temp a = rx(t, t->d.rs1), b = rx(t, t->d.rs2);
    jit_movcond(t->c, cond, wx(t, t->d.rd), a, b, a, b);
}

/* rd = (zext32(rs1) or rs1) << sh + rs2 */
static void gen_shadd(tctx *t, unsigned sh, bool uw)
{
    jit_ctx *c = t->c;
    jit_temp a = jit_temp_new(c, JIT_I64);
    if (uw)
        jit_ext32u(c, a, rx(t, t->d.rs1));
    else
        jit_mov(c, a, rx(t, t->d.rs1));
    if (sh)
        jit_shli(c, a, a, sh);
    jit_add(c, wx(t, t->d.rd), a, rx(t, t->d.rs2));
}

/* Zbs: mask = 1 << (rs2 or shamt) */
static jit_temp bit_mask(tctx *t, bool imm)
{
    jit_temp m = jit_temp_new(t->c, JIT_I64);
    if (imm)
        jit_movi(t->c, m, 1ull << (t->d.imm & 63));
    else
        jit_shl(t->c, m, ci(t, 1), rx(t, t->d.rs2));
    return m;
}

static void translate_insn(tctx *t);

static bool box_loop_ok(tctx *t, uint64_t target)
{
    for (unsigned i = 0; i < t->nbox_use; i++)
        if (t->box_use[i].w < target && target <= t->box_use[i].p)
            return false;
    return true;
}

/* Integer ops that only compute rd from registers and immediates (no memory,
 * no exit, rd written once at the end): a branch over one of them becomes a
 * conditional move. */
static bool if_convertible(unsigned op)
{
    switch (op) {
    case RV_LUI: case RV_AUIPC: case RV_ADDI: case RV_SLTI: case RV_SLTIU: case RV_XORI:
    case RV_ORI: case RV_ANDI: case RV_SLLI: case RV_SRLI: case RV_SRAI: case RV_ADD:
    case RV_SUB: case RV_SLL: case RV_SLT: case RV_SLTU: case RV_XOR: case RV_SRL:
    case RV_SRA: case RV_OR: case RV_AND: case RV_ADDIW: case RV_SLLIW: case RV_SRLIW:
    case RV_SRAIW: case RV_ADDW: case RV_SUBW: case RV_SLLW: case RV_SRLW: case RV_SRAW:
    case RV_MUL: case RV_MULW: case RV_SH1ADD: case RV_SH2ADD: case RV_SH3ADD:
    case RV_ADD_UW: case RV_ANDN: case RV_ORN: case RV_XNOR: case RV_MAX: case RV_MAXU:
    case RV_MIN: case RV_MINU: case RV_SEXT_B: case RV_SEXT_H: case RV_ZEXT_H:
        return true;
    default:
        return false;
    }
}

static int fetch(jit_ctx *c, uint64_t pc, uint32_t *bits);

/* "b<cond> rs1, rs2, L; op rd, ...; L:" -> rd = cond ? rd : op(...).  A data-
 * dependent branch like Collatz's odd/even test mispredicts on the host half
 * of the time; the conditional move does not.  Returns false if the pattern
 * does not apply. */
static bool gen_branch_over(tctx *t, jit_cond cond, uint64_t target)
{
    jit_ctx *c = t->c;
    uint64_t next = t->pc + t->d.len;
    uint32_t bits;
    riscv_insn n;
    if (target <= next || target - next > 4 || fetch(c, next, &bits))
        return false;
    riscv_decode(bits, &n);
    if (next + n.len != target || n.rd == 0 || !if_convertible(n.op))
        return false;
    riscv_insn br = t->d;
    jit_temp v = jit_temp_new(c, JIT_I64);
    /* no jit_insn_start(next): nothing here faults, and a branch back must
     * not find a label point between the op and the conditional move */
    t->d = n;
    t->pc = next;
    t->rd_to_temp = true;
    t->rd_temp = v;
    translate_insn(t);
    t->rd_to_temp = false;
    jit_temp rd = jit_global(RISCV_GLOBAL_X(n.rd));
    jit_movcond(c, cond, rd, rx(t, br.rs1), rx(t, br.rs2), rd, v);
    t->next_pc = target;
    return true;
}

static void gen_branch(tctx *t, jit_cond cond)
{
    uint64_t target = t->pc + (uint64_t)t->d.imm;
    if (gen_branch_over(t, cond, target))
        return;
    if (target > t->pc && can_continue(t)) {
        /* forward: go on with the fall-through */
        jit_brcond(t->c, cond, rx(t, t->d.rs1), rx(t, t->d.rs2), fwd_label_for(t, target));
        return;
    }
    if (target > t->start && target < t->pc && target > t->ff_store_pc &&
        box_loop_ok(t, target) && can_continue(t)) {
        /* back to an instruction of this block: a loop inside it */
        jit_label l = jit_label_at_insn(t->c, target);
        if (l != JIT_NO_LABEL) {
            jit_brcond(t->c, cond, rx(t, t->d.rs1), rx(t, t->d.rs2), l);
            return;
        }
    }
    jit_label taken = jit_label_new(t->c);
    jit_brcond(t->c, cond, rx(t, t->d.rs1), rx(t, t->d.rs2), taken);
    jit_goto_tb(t->c, t->slots++, t->pc + t->d.len);
    jit_label_set(t->c, taken);
    end_goto(t, target);
}

/* jal: a forward jump within the block's span becomes a branch to a label */
static void gen_jal(tctx *t)
{
    uint64_t target = t->pc + (uint64_t)t->d.imm;
    jit_movi(t->c, wx(t, t->d.rd), t->pc + t->d.len);
    if (target > t->pc && target - t->start < SB_SPAN && can_continue(t)) {
        jit_br(t->c, fwd_label_for(t, target));
        t->ended = true;
        return;
    }
    end_goto(t, target);
}

static void gen_load(tctx *t, unsigned memop)
{
    jit_qld(t->c, wx(t, t->d.rd), rx(t, t->d.rs1), (int32_t)t->d.imm, memop);
}

static void gen_store(tctx *t, unsigned memop)
{
    jit_qst(t->c, rx(t, t->d.rs2), rx(t, t->d.rs1), (int32_t)t->d.imm, memop);
}

/* ---- A ---- */

static void gen_lr(tctx *t, unsigned memop)
{
    jit_ctx *c = t->c;
    jit_temp addr = jit_temp_new(c, JIT_I64), v = jit_temp_new(c, JIT_I64);
    jit_mov(c, addr, rx(t, t->d.rs1));
    /* An atomic add of 0 is an aligned, sequentially consistent load that
     * faults like the AMOs on a misaligned address (spec 8.2). */
    jit_atomic_rmw(c, JIT_AMO_ADD, v, addr, ci(t, 0), memop);
    jit_st(c, addr, jit_env(c), offsetof(riscv_cpu, res_addr), JIT_MO_64);
    jit_st(c, v, jit_env(c), offsetof(riscv_cpu, res_val), JIT_MO_64);
    jit_mov(c, wx(t, t->d.rd), v);
}

/* SC succeeds if this hart holds a reservation on the address and memory still
 * holds the value LR saw (a compare-and-swap; the ABA case counts as success, which
 * the spec permits since the reservation set may be larger than the hart's own
 * stores can observe).  The reservation is dropped either way. */
static void gen_sc(tctx *t, unsigned memop)
{
    jit_ctx *c = t->c;
    jit_temp addr = jit_temp_new(c, JIT_I64), ra = jit_temp_new(c, JIT_I64);
    jit_temp rv = jit_temp_new(c, JIT_I64), old = jit_temp_new(c, JIT_I64);
    jit_temp res = jit_temp_new(c, JIT_I64);
    jit_label fail = jit_label_new(c), done = jit_label_new(c);
    jit_mov(c, addr, rx(t, t->d.rs1));
    jit_ld(c, ra, jit_env(c), offsetof(riscv_cpu, res_addr), JIT_MO_64);
    jit_st(c, ci(t, RES_NONE), jit_env(c), offsetof(riscv_cpu, res_addr), JIT_MO_64);
    jit_brcond(c, JIT_NE, ra, addr, fail);
    jit_ld(c, rv, jit_env(c), offsetof(riscv_cpu, res_val), JIT_MO_64);
    jit_atomic_cmpxchg(c, old, addr, rv, rx(t, t->d.rs2), memop);
    jit_setcond(c, JIT_NE, res, old, rv);
    jit_br(c, done);
    jit_label_set(c, fail);
    jit_movi(c, res, 1);
    jit_label_set(c, done);
    jit_mov(c, wx(t, t->d.rd), res);
}

static void gen_amo(tctx *t, jit_amo op, unsigned memop)
{
    jit_atomic_rmw(t->c, op, wx(t, t->d.rd), rx(t, t->d.rs1), rx(t, t->d.rs2), memop);
}

/* ---- CSR ---- */

static void gen_fcmp_insn(tctx *t, const riscv_insn *d, jit_fcmp_mode mode);

/* fflags = cpu->fflags | the host's accrued flags (riscv_fp_sync), read
 * without clearing either */
static void read_fflags(tctx *t, jit_temp dst)
{
    jit_ctx *c = t->c;
    jit_temp h = jit_temp_new(c, JIT_I64), m = jit_temp_new(c, JIT_I64);
    jit_fflags(c, h);
    jit_ld(c, m, jit_env(c), offsetof(riscv_cpu, fflags), JIT_MO_32);
    jit_or(c, dst, h, m);
}

/* "frflags rX; f{eq,lt,le}.{s,d} rY, fa, fb; fsflags rX" (rX != rY, x0): a
 * comparison whose flags are discarded (glibc's sqrt domain checks, C's
 * isless & co.).  fflags ends as it began, so the three are one unit: rX =
 * fflags, rY = the comparison raising nothing, fsflags nothing at all.  No
 * insn_start for the last two, so no label (branch back) or fault lands
 * between them; a forward branch to them makes the idiom plain code. */
static bool gen_quiet_cmp_idiom(tctx *t)
{
    unsigned rx_ = t->d.rd;
    uint64_t pc2 = t->pc + t->d.len, pc3;
    uint32_t bits;
    riscv_insn cmp, ss;
    if (rx_ == 0 || fetch(t->c, pc2, &bits))
        return false;
    riscv_decode(bits, &cmp);
    switch (cmp.op) {
    case RV_FEQ_S: case RV_FLT_S: case RV_FLE_S: case RV_FEQ_D: case RV_FLT_D: case RV_FLE_D:
        break;
    default:
        return false;
    }
    pc3 = pc2 + cmp.len;
    if (cmp.rd == rx_ || fetch(t->c, pc3, &bits))
        return false;
    riscv_decode(bits, &ss);
    if (ss.op != RV_CSRRW || ss.csr != 0x001 || ss.rd != 0 || ss.rs1 != rx_)
        return false;
    for (unsigned i = 0; i < t->nfwd; i++)
        if (t->fwd[i].pc == pc2 || t->fwd[i].pc == pc3)
            return false;
    read_fflags(t, wx(t, rx_));
    gen_fcmp_insn(t, &cmp, JIT_FCMP_NOFLAGS);
    t->next_pc = pc3 + ss.len;
    return true;
}

static void gen_csr(tctx *t)
{
    unsigned f3 = t->d.rm, op = f3 & 3;
    bool imm = f3 & 4;
    /* csrrw with rd = x0 does not read; csrrs/c with rs1 = x0 (or uimm 0) do not
     * write (spec 9.1) */
    bool do_read = !(op == 1 && t->d.rd == 0);
    bool do_write = op == 1 || t->d.rs1 != 0;
    /* fsflags of the value frflags read, nothing raised since: no change */
    if (t->d.csr == 0x001 && op == 1 && !imm && t->d.rd == 0 && t->ff_reg &&
        t->d.rs1 == t->ff_reg && t->nbox_use < sizeof(t->box_use) / sizeof(t->box_use[0])) {
        t->box_use[t->nbox_use].w = t->ff_pc;
        t->box_use[t->nbox_use++].p = t->pc;
        return;
    }
    /* fsflags / csrw fflags right after a csr access to the FP CSRs (which left
     * the host flags clear, riscv_fp_sync) with no host FP arithmetic since:
     * the host has nothing to fold or clear, so the write is a plain store. */
    if (t->host_ff_clear && t->d.csr == 0x001 && op == 1 && t->d.rd == 0) {
        t->ff_store_pc = t->pc;
        jit_temp v = jit_temp_new(t->c, JIT_I64);
        jit_andi(t->c, v, imm ? ci(t, t->d.rs1) : rx(t, t->d.rs1), 31);
        jit_st(t->c, v, jit_env(t->c), offsetof(riscv_cpu, fflags), JIT_MO_32);
        return;
    }
    /* reads of the FP CSRs (always accessible) inline: fflags from the host's
     * status and cpu->fflags, frm is the block key's */
    if (t->d.csr >= 0x001 && t->d.csr <= 0x003 && do_read && !do_write) {
        if (t->d.csr == 0x001 && gen_quiet_cmp_idiom(t))
            return;
        if (t->d.csr == 0x002) {
            jit_movi(t->c, wx(t, t->d.rd), t->frm);
        } else if (t->d.csr == 0x001) {
            read_fflags(t, wx(t, t->d.rd));
            t->new_ff_reg = t->d.rd;
        } else {
            jit_temp f = jit_temp_new(t->c, JIT_I64);
            read_fflags(t, f);
            jit_ori(t->c, wx(t, t->d.rd), f, t->frm << 5);
        }
        return;
    }
    uint64_t ctl = t->d.csr | op << 12 | (uint64_t)do_read << 16 | (uint64_t)do_write << 17;
    jit_temp args[4] = { jit_env(t->c), ci(t, ctl),
                         imm ? ci(t, t->d.rs1) : rx(t, t->d.rs1),
                         ci(t, riscv_exit_arg(CAUSE_ILLEGAL, t->d.len, 0, t->d.raw)) };
    jit_temp r = jit_temp_new(t->c, JIT_I64);
    jit_call(t->c, &h_csr, r, 4, args);
    jit_mov(t->c, wx(t, t->d.rd), r);
    if (t->d.csr >= 0x001 && t->d.csr <= 0x003)
        t->host_ff_clear = true;
    /* a new frm selects other translations: continue through the lookup, which
     * uses the updated block key */
    if (do_write && (t->d.csr == 0x002 || t->d.csr == 0x003)) {
        jit_goto_ptr(t->c, ci(t, t->pc + t->d.len));
        t->ended = true;
    }
}

/* ---- F/D ---- */

#define BOX32 0xffffffff00000000ull

/* The rounding mode operand.  frm is part of the block key (jit_cpu.flags bits
 * 2:0, see RISCV_FLAGS_FRM), so the dynamic mode is a constant here too; a reserved
 * frm makes the instruction illegal (spec 11.2), decided before this is called. */
static jit_temp rounding_mode(tctx *t)
{
    return ci(t, t->d.rm == RM_DYN ? t->frm : t->d.rm);
}

static void call(tctx *t, const jit_helper *h, jit_temp dst, unsigned n, jit_temp a0,
                 jit_temp a1, jit_temp a2, jit_temp a3, jit_temp a4)
{
    jit_temp args[5] = { a0, a1, a2, a3, a4 };
    jit_temp r = jit_temp_new(t->c, JIT_I64);
    jit_call(t->c, h, r, n, args);
    jit_mov(t->c, dst, r);
}

static bool is_rne(tctx *t)
{
    return (t->d.rm == RM_DYN ? t->frm : t->d.rm) == RM_RNE;
}

/* ---- F/D arithmetic under round-to-nearest-even: inline jit_fop ----
 * frm is part of the block key, so RNE is known at translate time; the IR's
 * float ops round to nearest even, give the canonical NaN for a NaN result and
 * raise the host flags that riscv_fp_sync folds into fflags, exactly like the
 * *_rne helpers they replace.  Singles: an operand that is not NaN-boxed reads
 * as the canonical NaN (spec 12.2), the result is boxed. */

static jit_temp unbox_s(tctx *t, jit_temp v)
{
    jit_ctx *c = t->c;
    jit_temp hi = jit_temp_new(c, JIT_I64), lo = jit_temp_new(c, JIT_I32);
    jit_temp r = jit_temp_new(c, JIT_I32);
    /* boxed: the upper half all ones, i.e. v >> 32 (arithmetic) == -1, a
     * constant hosts compare with directly */
    jit_sari(c, hi, v, 32);
    jit_trunc(c, lo, v);
    jit_movcond(c, JIT_EQ, r, hi, jit_const(c, JIT_I64, ~0ull), lo,
                jit_const(c, JIT_I32, 0x7fc00000u));
    return r;
}

/* f register r as a binary32 operand.  Known boxed on this path: its low
 * half, no check (the use is recorded for box_loop_ok). */
static jit_temp unbox_f(tctx *t, unsigned r)
{
    if ((t->f_boxed >> r & 1) && t->nbox_use < sizeof(t->box_use) / sizeof(t->box_use[0])) {
        t->box_use[t->nbox_use].w = t->boxed_pc[r];
        t->box_use[t->nbox_use++].p = t->pc;
        if (t->f_val[r] != JIT_NO_TEMP)
            return t->f_val[r];
        jit_temp lo = jit_temp_new(t->c, JIT_I32);
        jit_trunc(t->c, lo, rf(r));
        return lo;
    }
    return unbox_s(t, rf(r));
}

/* f[rd] = the single r, NaN-boxed; r stands for it while rd stays boxed */
static void box_result(tctx *t, jit_temp r)
{
    jit_temp e = jit_temp_new(t->c, JIT_I64);
    jit_ext32u(t->c, e, r);
    jit_or(t->c, rf(t->d.rd), e, jit_const(t->c, JIT_I64, BOX32));
    t->new_val = r;
}

/* d = op(f[ra], f[rb], f[rc]) (rb, rc -1 when absent); neg bit 0 negates the
 * first operand, bit 1 the third (the fused ops' product and addend) */
static void fop_inline(tctx *t, jit_opc op, bool single, int ra, int rb, int rc, unsigned neg)
{
    jit_ctx *c = t->c;
    jit_temp v[3] = { JIT_NO_TEMP, JIT_NO_TEMP, JIT_NO_TEMP };
    int regs[3] = { ra, rb, rc };
    for (unsigned i = 0; i < 3; i++) {
        if (regs[i] < 0)
            continue;
        v[i] = single ? unbox_f(t, (unsigned)regs[i]) : rf((unsigned)regs[i]);
    }
    jit_temp dst = rf(t->d.rd), r = single ? jit_temp_new(c, JIT_I32) : dst;
    if (op == JIT_OP_FMA)
        jit_fma(c, r, v[0], v[1], v[2], neg);
    else
        jit_fop(c, op, r, v[0], v[1], v[2]);
    if (single)
        box_result(t, r);
}

static void gen_fp2(tctx *t, const jit_helper *h, jit_opc op, bool single)
{
    if (is_rne(t)) {
        fop_inline(t, op, single, t->d.rs1, t->d.rs2, -1, 0);
        return;
    }
    jit_temp rm = rounding_mode(t);
    call(t, h, rf(t->d.rd), 4, jit_env(t->c), rf(t->d.rs1), rf(t->d.rs2), rm, 0);
}

/* op JIT_OP_NOP: no inline form, always the helper */
static void gen_fp1(tctx *t, const jit_helper *h, jit_opc op, bool single)
{
    if (op != JIT_OP_NOP && is_rne(t)) {
        fop_inline(t, op, single, t->d.rs1, -1, -1, 0);
        return;
    }
    jit_temp rm = rounding_mode(t);
    call(t, h, rf(t->d.rd), 3, jit_env(t->c), rf(t->d.rs1), rm, 0, 0);
}

/* neg bit 0 negates the product, bit 1 the addend (jit_fma's, and the
 * helpers' rm_neg bits 8 and 9). */
static void gen_fma(tctx *t, const jit_helper *h, bool single, unsigned neg)
{
    jit_ctx *c = t->c;
    if (is_rne(t)) {
        fop_inline(t, JIT_OP_FMA, single, t->d.rs1, t->d.rs2, t->d.rs3, neg);
        return;
    }
    jit_temp rm = rounding_mode(t), rmneg = jit_temp_new(c, JIT_I64);
    jit_ori(c, rmneg, rm, neg << 8);
    call(t, h, rf(t->d.rd), 5, jit_env(c), rf(t->d.rs1), rf(t->d.rs2), rf(t->d.rs3), rmneg);
}

static void gen_fp_imm(tctx *t, const jit_helper *h, jit_temp dst, jit_temp src,
                       unsigned kind, bool rm)
{
    jit_temp m = rm ? rounding_mode(t) : ci(t, 0);
    call(t, h, dst, 4, jit_env(t->c), src, ci(t, kind), m, 0);
}

/* ---- compares and integer conversions inline ---- */

/* feq is quiet, flt/fle signaling (spec 11.8), unless the caller discards the
 * flags (mode NOFLAGS); funct3 2 eq, 1 lt, 0 le */
static void gen_fcmp_insn(tctx *t, const riscv_insn *d, jit_fcmp_mode mode)
{
    bool single = d->op == RV_FEQ_S || d->op == RV_FLT_S || d->op == RV_FLE_S;
    jit_cond cond = d->rm == 2 ? JIT_EQ : d->rm == 1 ? JIT_LT : JIT_LE;
    jit_temp a = single ? unbox_f(t, d->rs1) : rf(d->rs1);
    jit_temp b = single ? unbox_f(t, d->rs2) : rf(d->rs2);
    jit_fcmp(t->c, cond, mode, wx(t, d->rd), a, b);
}

/* fcvt.{w,l}.{s,d} toward zero or to nearest even (the host conversion's
 * saturation and flags are RISC-V's, table 11.4); false for the other kinds
 * and modes (helper) */
static bool gen_fcvt_to_int(tctx *t, bool single)
{
    jit_ctx *c = t->c;
    unsigned rm = t->d.rm == RM_DYN ? t->frm : t->d.rm, kind = t->d.rs2;
    if ((rm != RM_RNE && rm != RM_RTZ) || (kind != 0 && kind != 2))
        return false;
    jit_temp src = single ? unbox_f(t, t->d.rs1) : rf(t->d.rs1);
    if (kind == 2) {
        jit_fcvt_to_int(c, wx(t, t->d.rd), src, rm == RM_RTZ);
    } else {
        jit_temp r = jit_temp_new(c, JIT_I32);
        jit_fcvt_to_int(c, r, src, rm == RM_RTZ);
        jit_ext32s(c, wx(t, t->d.rd), r);
    }
    return true;
}

/* fcvt.{s,d}.{w,wu,l}: a 32-bit integer converts to a double exactly (any
 * mode), the others round: RNE only.  wu converts the zero-extended value
 * from 64 bits (one rounding). */
static bool gen_fcvt_from_int(tctx *t, bool single)
{
    jit_ctx *c = t->c;
    unsigned kind = t->d.rs2;
    bool exact = !single && kind < 2;
    if (kind == 3 || (!exact && !is_rne(t)))
        return false;
    jit_temp src = rx(t, t->d.rs1);
    if (kind == 0) {
        src = jit_temp_new(c, JIT_I32);
        jit_trunc(c, src, rx(t, t->d.rs1));
    } else if (kind == 1) {
        src = jit_temp_new(c, JIT_I64);
        jit_ext32u(c, src, rx(t, t->d.rs1));
    }
    if (!single) {
        jit_fcvt_from_int(c, rf(t->d.rd), src);
        return true;
    }
    jit_temp r = jit_temp_new(c, JIT_I32);
    jit_fcvt_from_int(c, r, src);
    box_result(t, r);
    return true;
}

/* fsgnj.s family: the same on the unboxed singles (an unboxed operand reads
 * as the canonical NaN, spec 12.2), boxed. */
static void gen_sgnj_s(tctx *t, unsigned kind)
{
    jit_ctx *c = t->c;
    jit_temp a = unbox_f(t, t->d.rs1), b = unbox_f(t, t->d.rs2);
    jit_temp m = jit_temp_new(c, JIT_I32), s = jit_temp_new(c, JIT_I32);
    jit_temp r = jit_temp_new(c, JIT_I32);
    if (kind == 2) {
        jit_andi(c, s, b, (int64_t)0x80000000u);
        jit_xor(c, r, a, s);
    } else {
        jit_andi(c, m, a, 0x7fffffff);
        if (kind == 1)
            jit_not(c, s, b);
        else
            jit_mov(c, s, b);
        jit_andi(c, s, s, (int64_t)0x80000000u);
        jit_or(c, r, m, s);
    }
    box_result(t, r);
}

/* fsgnj.d family inline: sign from rs2 (or its complement, or the xor). */
static void gen_sgnj_d(tctx *t, unsigned kind)
{
    jit_ctx *c = t->c;
    const uint64_t sign = 1ull << 63;
    jit_temp a = jit_temp_new(c, JIT_I64), s = jit_temp_new(c, JIT_I64);
    if (kind == 0 && t->d.rs1 == t->d.rs2) {     /* fmv.d */
        jit_mov(c, rf(t->d.rd), rf(t->d.rs1));
        return;
    }
    if (kind == 2) {
        jit_andi(c, s, rf(t->d.rs2), (int64_t)sign);
        jit_xor(c, rf(t->d.rd), rf(t->d.rs1), s);
        return;
    }
    jit_andi(c, a, rf(t->d.rs1), (int64_t)~sign);
    if (kind == 1)
        jit_not(c, s, rf(t->d.rs2));
    else
        jit_mov(c, s, rf(t->d.rs2));
    jit_andi(c, s, s, (int64_t)sign);
    jit_or(c, rf(t->d.rd), a, s);
}

/* ---- one instruction ---- */

static void translate_insn(tctx *t)
{
    jit_ctx *c = t->c;
    riscv_insn *d = &t->d;
    uint64_t next = t->pc + d->len;

    if ((riscv_ops[d->op].flags & IF_RM) && d->rm == RM_DYN && t->frm > RM_RMM) {
        exit_exception(t, CAUSE_ILLEGAL);
        return;
    }
    switch ((enum riscv_op)d->op) {
    case RV_INVALID: case RV_NUM_OPS:
        exit_exception(t, CAUSE_ILLEGAL);
        break;
    case RV_LUI: jit_movi(c, wx(t, d->rd), (uint64_t)d->imm); break;
    case RV_AUIPC: jit_movi(c, wx(t, d->rd), t->pc + (uint64_t)d->imm); break;
    case RV_JAL: gen_jal(t); break;
    case RV_JALR: {
        jit_temp target = jit_temp_new(c, JIT_I64);
        jit_addi(c, target, rx(t, d->rs1), d->imm);
        jit_andi(c, target, target, -2);
        jit_movi(c, wx(t, d->rd), next);
        jit_goto_ptr(c, target);
        t->ended = true;
        break;
    }
    case RV_BEQ: gen_branch(t, JIT_EQ); break;
    case RV_BNE: gen_branch(t, JIT_NE); break;
    case RV_BLT: gen_branch(t, JIT_LT); break;
    case RV_BGE: gen_branch(t, JIT_GE); break;
    case RV_BLTU: gen_branch(t, JIT_LTU); break;
    case RV_BGEU: gen_branch(t, JIT_GEU); break;
    case RV_LB: gen_load(t, JIT_MO_8 | JIT_MO_SIGN); break;
    case RV_LH: gen_load(t, JIT_MO_16 | JIT_MO_SIGN); break;
    case RV_LW: gen_load(t, JIT_MO_32 | JIT_MO_SIGN); break;
    case RV_LD: gen_load(t, JIT_MO_64); break;
    case RV_LBU: gen_load(t, JIT_MO_8); break;
    case RV_LHU: gen_load(t, JIT_MO_16); break;
    case RV_LWU: gen_load(t, JIT_MO_32); break;
    case RV_SB: gen_store(t, JIT_MO_8); break;
    case RV_SH: gen_store(t, JIT_MO_16); break;
    case RV_SW: gen_store(t, JIT_MO_32); break;
    case RV_SD: gen_store(t, JIT_MO_64); break;
    case RV_ADDI:
        if (d->rs1 == 0)
            jit_movi(c, wx(t, d->rd), (uint64_t)d->imm);
        else
            gen_binopi(t, JIT_OP_ADD);
        break;
    case RV_SLTI: gen_setcond(t, JIT_LT, true); break;
    case RV_SLTIU: gen_setcond(t, JIT_LTU, true); break;
    case RV_XORI: gen_binopi(t, JIT_OP_XOR); break;
    case RV_ORI: gen_binopi(t, JIT_OP_OR); break;
    case RV_ANDI: gen_binopi(t, JIT_OP_AND); break;
    case RV_SLLI: gen_binopi(t, JIT_OP_SHL); break;
    case RV_SRLI: gen_binopi(t, JIT_OP_SHR); break;
    case RV_SRAI: gen_binopi(t, JIT_OP_SAR); break;
    case RV_ADD: gen_binop(t, JIT_OP_ADD); break;
    case RV_SUB: gen_binop(t, JIT_OP_SUB); break;
    case RV_SLL: gen_binop(t, JIT_OP_SHL); break;
    case RV_SLT: gen_setcond(t, JIT_LT, false); break;
    case RV_SLTU: gen_setcond(t, JIT_LTU, false); break;
    case RV_XOR: gen_binop(t, JIT_OP_XOR); break;
    case RV_SRL: gen_binop(t, JIT_OP_SHR); break;
    case RV_SRA: gen_binop(t, JIT_OP_SAR); break;
    case RV_OR: gen_binop(t, JIT_OP_OR); break;
    case RV_AND: gen_binop(t, JIT_OP_AND); break;
    case RV_ADDIW: {
        jit_temp r = jit_temp_new(c, JIT_I64);
        jit_addi(c, r, rx(t, d->rs1), d->imm);
        jit_ext32s(c, wx(t, d->rd), r);
        break;
    }
    case RV_SLLIW: gen_binop_w(t, JIT_OP_SHL, true); break;
    case RV_SRLIW: gen_binop_w(t, JIT_OP_SHR, true); break;
    case RV_SRAIW: gen_binop_w(t, JIT_OP_SAR, true); break;
    case RV_ADDW: gen_binop_w(t, JIT_OP_ADD, false); break;
    case RV_SUBW: gen_binop_w(t, JIT_OP_SUB, false); break;
    case RV_SLLW: gen_binop_w(t, JIT_OP_SHL, false); break;
    case RV_SRLW: gen_binop_w(t, JIT_OP_SHR, false); break;
    case RV_SRAW: gen_binop_w(t, JIT_OP_SAR, false); break;
    case RV_FENCE:
        /* x86-TSO keeps every order but store -> load, so only a fence whose
         * predecessor set has W and successor set has R needs a host barrier
         * (pred = bits 27:24 PI PO PR PW, succ = 23:20 SI SO SR SW). */
        if ((d->raw >> 24 & 1) && (d->raw >> 21 & 1))
            jit_call(c, &h_fence, JIT_NO_TEMP, 0, NULL);
        break;
    case RV_FENCE_I:
        jit_exit(c, JIT_EXIT_EXCEPTION, ci(t, next),
                 ci(t, riscv_exit_arg(CAUSE_FENCE_I, d->len, 0, d->raw)));
        t->ended = true;
        break;
    case RV_ECALL:
        jit_exit(c, JIT_EXIT_SYSCALL, ci(t, t->pc), ci(t, 0));
        t->ended = true;
        break;
    case RV_EBREAK: exit_exception(t, CAUSE_BREAKPOINT); break;
    case RV_CSRRW: case RV_CSRRS: case RV_CSRRC:
    case RV_CSRRWI: case RV_CSRRSI: case RV_CSRRCI:
        gen_csr(t);
        break;

    case RV_MUL: gen_binop(t, JIT_OP_MUL); break;
    case RV_MULH: gen_binop(t, JIT_OP_MULH); break;
    case RV_MULHSU: gen_binop(t, JIT_OP_MULHSU); break;
    case RV_MULHU: gen_binop(t, JIT_OP_MULHU); break;
    case RV_DIV: gen_binop(t, JIT_OP_DIV); break;
    case RV_DIVU: gen_binop(t, JIT_OP_DIVU); break;
    case RV_REM: gen_binop(t, JIT_OP_REM); break;
    case RV_REMU: gen_binop(t, JIT_OP_REMU); break;
    case RV_MULW: gen_binop_w(t, JIT_OP_MUL, false); break;
    case RV_DIVW: gen_binop_w(t, JIT_OP_DIV, false); break;
    case RV_DIVUW: gen_binop_w(t, JIT_OP_DIVU, false); break;
    case RV_REMW: gen_binop_w(t, JIT_OP_REM, false); break;
    case RV_REMUW: gen_binop_w(t, JIT_OP_REMU, false); break;

    case RV_LR_W: gen_lr(t, JIT_MO_32 | JIT_MO_SIGN); break;
    case RV_LR_D: gen_lr(t, JIT_MO_64); break;
    case RV_SC_W: gen_sc(t, JIT_MO_32 | JIT_MO_SIGN); break;
    case RV_SC_D: gen_sc(t, JIT_MO_64); break;
#define AMO(name, op) \
    case RV_AMO##name##_W: gen_amo(t, op, JIT_MO_32 | JIT_MO_SIGN); break; \
    case RV_AMO##name##_D: gen_amo(t, op, JIT_MO_64); break;
    AMO(SWAP, JIT_AMO_XCHG)
    AMO(ADD, JIT_AMO_ADD)
    AMO(XOR, JIT_AMO_XOR)
    AMO(AND, JIT_AMO_AND)
    AMO(OR, JIT_AMO_OR)
    AMO(MIN, JIT_AMO_SMIN)
    AMO(MAX, JIT_AMO_SMAX)
    AMO(MINU, JIT_AMO_UMIN)
    AMO(MAXU, JIT_AMO_UMAX)
#undef AMO

    case RV_FLW: {
        jit_temp v = jit_temp_new(c, JIT_I64);
        jit_qld(c, v, rx(t, d->rs1), (int32_t)d->imm, JIT_MO_32);
        jit_ori(c, rf(d->rd), v, (int64_t)BOX32);
        break;
    }
    case RV_FLD: jit_qld(c, rf(d->rd), rx(t, d->rs1), (int32_t)d->imm, JIT_MO_64); break;
    case RV_FSW: jit_qst(c, rf(d->rs2), rx(t, d->rs1), (int32_t)d->imm, JIT_MO_32); break;
    case RV_FSD: jit_qst(c, rf(d->rs2), rx(t, d->rs1), (int32_t)d->imm, JIT_MO_64); break;
    case RV_FMADD_S: gen_fma(t, &h_fma_s, true, 0); break;
    case RV_FMSUB_S: gen_fma(t, &h_fma_s, true, 2); break;
    case RV_FNMSUB_S: gen_fma(t, &h_fma_s, true, 1); break;
    case RV_FNMADD_S: gen_fma(t, &h_fma_s, true, 3); break;
    case RV_FMADD_D: gen_fma(t, &h_fma_d, false, 0); break;
    case RV_FMSUB_D: gen_fma(t, &h_fma_d, false, 2); break;
    case RV_FNMSUB_D: gen_fma(t, &h_fma_d, false, 1); break;
    case RV_FNMADD_D: gen_fma(t, &h_fma_d, false, 3); break;
    case RV_FADD_S: gen_fp2(t, &h_fadd_s, JIT_OP_FADD, true); break;
    case RV_FSUB_S: gen_fp2(t, &h_fsub_s, JIT_OP_FSUB, true); break;
    case RV_FMUL_S: gen_fp2(t, &h_fmul_s, JIT_OP_FMUL, true); break;
    case RV_FDIV_S: gen_fp2(t, &h_fdiv_s, JIT_OP_FDIV, true); break;
    case RV_FSQRT_S: gen_fp1(t, &h_fsqrt_s, JIT_OP_FSQRT, true); break;
    case RV_FADD_D: gen_fp2(t, &h_fadd_d, JIT_OP_FADD, false); break;
    case RV_FSUB_D: gen_fp2(t, &h_fsub_d, JIT_OP_FSUB, false); break;
    case RV_FMUL_D: gen_fp2(t, &h_fmul_d, JIT_OP_FMUL, false); break;
    case RV_FDIV_D: gen_fp2(t, &h_fdiv_d, JIT_OP_FDIV, false); break;
    case RV_FSQRT_D: gen_fp1(t, &h_fsqrt_d, JIT_OP_FSQRT, false); break;
    case RV_FCVT_S_D:
        if (is_rne(t)) {
            jit_temp r = jit_temp_new(c, JIT_I32);
            jit_fcvt_float(c, r, rf(d->rs1));
            box_result(t, r);
        } else {
            gen_fp1(t, &h_cvt_s_d, JIT_OP_NOP, false);
        }
        break;
    case RV_FCVT_D_S:       /* exact in every mode */
        jit_fcvt_float(c, rf(d->rd), unbox_f(t, d->rs1));
        break;
    case RV_FSGNJ_S: case RV_FSGNJN_S: case RV_FSGNJX_S: gen_sgnj_s(t, d->rm); break;
    case RV_FSGNJ_D: case RV_FSGNJN_D: case RV_FSGNJX_D: gen_sgnj_d(t, d->rm); break;
    case RV_FMIN_S: case RV_FMAX_S:
        call(t, &h_minmax_s, rf(d->rd), 4, jit_env(c), rf(d->rs1), rf(d->rs2), ci(t, d->rm), 0);
        break;
    case RV_FMIN_D: case RV_FMAX_D:
        call(t, &h_minmax_d, rf(d->rd), 4, jit_env(c), rf(d->rs1), rf(d->rs2), ci(t, d->rm), 0);
        break;
    case RV_FEQ_S: case RV_FLT_S: case RV_FLE_S: case RV_FEQ_D: case RV_FLT_D: case RV_FLE_D:
        gen_fcmp_insn(t, d, d->rm == 2 ? JIT_FCMP_QUIET : JIT_FCMP_SIGNALING);
        break;
    case RV_FCLASS_S: call(t, &h_class_s, wx(t, d->rd), 1, rf(d->rs1), 0, 0, 0, 0); break;
    case RV_FCLASS_D: call(t, &h_class_d, wx(t, d->rd), 1, rf(d->rs1), 0, 0, 0, 0); break;
    case RV_FCVT_W_S: case RV_FCVT_WU_S: case RV_FCVT_L_S: case RV_FCVT_LU_S:
        if (!gen_fcvt_to_int(t, true))
            gen_fp_imm(t, &h_cvt_x_s, wx(t, d->rd), rf(d->rs1), d->rs2, true);
        break;
    case RV_FCVT_W_D: case RV_FCVT_WU_D: case RV_FCVT_L_D: case RV_FCVT_LU_D:
        if (!gen_fcvt_to_int(t, false))
            gen_fp_imm(t, &h_cvt_x_d, wx(t, d->rd), rf(d->rs1), d->rs2, true);
        break;
    case RV_FCVT_S_W: case RV_FCVT_S_WU: case RV_FCVT_S_L: case RV_FCVT_S_LU:
        if (!gen_fcvt_from_int(t, true))
            gen_fp_imm(t, &h_cvt_s_x, rf(d->rd), rx(t, d->rs1), d->rs2, true);
        break;
    case RV_FCVT_D_W: case RV_FCVT_D_WU: case RV_FCVT_D_L: case RV_FCVT_D_LU:
        if (!gen_fcvt_from_int(t, false))
            gen_fp_imm(t, &h_cvt_d_x, rf(d->rd), rx(t, d->rs1), d->rs2, true);
        break;
    case RV_FMV_X_W: {      /* bits moved as they are, sign-extended (spec 11.7) */
        jit_ext32s(c, wx(t, d->rd), rf(d->rs1));
        break;
    }
    case RV_FMV_W_X: {
        jit_temp v = jit_temp_new(c, JIT_I64);
        jit_ext32u(c, v, rx(t, d->rs1));
        jit_ori(c, rf(d->rd), v, (int64_t)BOX32);
        break;
    }
    case RV_FMV_X_D: jit_mov(c, wx(t, d->rd), rf(d->rs1)); break;
    case RV_FMV_D_X: jit_mov(c, rf(d->rd), rx(t, d->rs1)); break;

    case RV_SH1ADD: gen_shadd(t, 1, false); break;
    case RV_SH2ADD: gen_shadd(t, 2, false); break;
    case RV_SH3ADD: gen_shadd(t, 3, false); break;
    case RV_ADD_UW: gen_shadd(t, 0, true); break;
    case RV_SH1ADD_UW: gen_shadd(t, 1, true); break;
    case RV_SH2ADD_UW: gen_shadd(t, 2, true); break;
    case RV_SH3ADD_UW: gen_shadd(t, 3, true); break;
    case RV_SLLI_UW: {
        jit_temp a = jit_temp_new(c, JIT_I64);
        jit_ext32u(c, a, rx(t, d->rs1));
        jit_shli(c, wx(t, d->rd), a, d->imm);
        break;
    }
    case RV_ANDN: case RV_ORN: case RV_XNOR: {
        jit_temp nb = jit_temp_new(c, JIT_I64);
        jit_not(c, nb, rx(t, d->rs2));
        jit_binop(c, d->op == RV_ANDN ? JIT_OP_AND : d->op == RV_ORN ? JIT_OP_OR : JIT_OP_XOR,
                  wx(t, d->rd), rx(t, d->rs1), nb);
        break;
    }
    case RV_CLZ: jit_clz(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_CTZ: jit_ctz(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_CPOP: jit_popcnt(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_CLZW: gen_unop_w(t, JIT_OP_CLZ); break;
    case RV_CTZW: gen_unop_w(t, JIT_OP_CTZ); break;
    case RV_CPOPW: gen_unop_w(t, JIT_OP_POPCNT); break;
    case RV_MAX: gen_minmax(t, JIT_GT); break;
    case RV_MAXU: gen_minmax(t, JIT_GTU); break;
    case RV_MIN: gen_minmax(t, JIT_LT); break;
    case RV_MINU: gen_minmax(t, JIT_LTU); break;
    case RV_SEXT_B: jit_ext8s(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_SEXT_H: jit_ext16s(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_ZEXT_H: jit_ext16u(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_ROL: gen_binop(t, JIT_OP_ROTL); break;
    case RV_ROR: gen_binop(t, JIT_OP_ROTR); break;
    case RV_ROLW: gen_binop_w(t, JIT_OP_ROTL, false); break;
    case RV_RORW: gen_binop_w(t, JIT_OP_ROTR, false); break;
    case RV_RORI: gen_binopi(t, JIT_OP_ROTR); break;
    case RV_RORIW: gen_binop_w(t, JIT_OP_ROTR, true); break;
    case RV_ORC_B: call(t, &h_orc_b, wx(t, d->rd), 1, rx(t, d->rs1), 0, 0, 0, 0); break;
    case RV_REV8: jit_bswap(c, wx(t, d->rd), rx(t, d->rs1)); break;
    case RV_BCLR: case RV_BCLRI: {
        jit_temp m = bit_mask(t, d->op == RV_BCLRI);
        jit_not(c, m, m);
        jit_and(c, wx(t, d->rd), rx(t, d->rs1), m);
        break;
    }
    case RV_BEXT: case RV_BEXTI: {
        jit_temp v = jit_temp_new(c, JIT_I64);
        if (d->op == RV_BEXTI)
            jit_shri(c, v, rx(t, d->rs1), d->imm);
        else
            jit_shr(c, v, rx(t, d->rs1), rx(t, d->rs2));
        jit_andi(c, wx(t, d->rd), v, 1);
        break;
    }
    case RV_BINV: case RV_BINVI:
        jit_xor(c, wx(t, d->rd), rx(t, d->rs1), bit_mask(t, d->op == RV_BINVI));
        break;
    case RV_BSET: case RV_BSETI:
        jit_or(c, wx(t, d->rd), rx(t, d->rs1), bit_mask(t, d->op == RV_BSETI));
        break;
    }
}

/* ---- the block ---- */

/* Fetch the instruction at pc.  Returns 0, or the offset (1 + 0 or 2) of the half
 * that could not be read. */
static int fetch(jit_ctx *c, uint64_t pc, uint32_t *bits)
{
    uint16_t lo, hi;
    if (jit_code_read(c, pc, &lo, 2))
        return 1;
    if (riscv_insn_len(lo) == 2) {
        *bits = lo;
        return 0;
    }
    if (jit_code_read(c, pc + 2, &hi, 2))
        return 3;
    *bits = (uint32_t)hi << 16 | lo;
    return 0;
}

/* Whether an instruction writes its x register rd. */
static bool writes_x(const riscv_insn *d)
{
    switch (riscv_ops[d->op].fmt) {
    case FMT_R: case FMT_R1: case FMT_I: case FMT_SHIFT: case FMT_LOAD: case FMT_U:
    case FMT_J: case FMT_JALR: case FMT_CSR: case FMT_CSRI: case FMT_LR: case FMT_AMO:
    case FMT_FCMP: case FMT_FCVT_XF: case FMT_FMV_XF:
        return true;
    default:
        return false;
    }
}

/* What an instruction writes to its f register rd: nothing, a NaN-boxed
 * single (every single result, flw, fmv.w.x), or something else. */
enum { F_NONE, F_SINGLE, F_OTHER };

static int f_result(const riscv_insn *d)
{
    switch (riscv_ops[d->op].fmt) {
    case FMT_FLOAD: case FMT_FR: case FMT_FR1: case FMT_FR4: case FMT_FCVT_FX: case FMT_FMV_FX:
        break;
    default:
        return F_NONE;
    }
    switch (d->op) {
    case RV_FLW: case RV_FMADD_S: case RV_FMSUB_S: case RV_FNMSUB_S: case RV_FNMADD_S:
    case RV_FADD_S: case RV_FSUB_S: case RV_FMUL_S: case RV_FDIV_S: case RV_FSQRT_S:
    case RV_FSGNJ_S: case RV_FSGNJN_S: case RV_FSGNJX_S: case RV_FMIN_S: case RV_FMAX_S:
    case RV_FCVT_S_W: case RV_FCVT_S_WU: case RV_FCVT_S_L: case RV_FCVT_S_LU:
    case RV_FCVT_S_D: case RV_FMV_W_X:
        return F_SINGLE;
    default:
        return F_OTHER;
    }
}

/* Place the labels of pending forward targets at t->pc. */
static void place_labels(tctx *t)
{
    for (unsigned i = 0; i < t->nfwd;) {
        if (t->fwd[i].pc == t->pc) {
            jit_label_set(t->c, t->fwd[i].l);
            t->fwd[i] = t->fwd[--t->nfwd];
            /* another path joins here: nothing is known about host flags
             * nor about boxing */
            t->host_ff_clear = false;
            t->f_boxed = 0;
            t->ff_reg = 0;
        } else {
            i++;
        }
    }
}

/* After a path ended: the nearest pending target ahead, or 0. */
static uint64_t resume_pc(tctx *t)
{
    uint64_t best = 0;
    for (unsigned i = 0; i < t->nfwd; i++)
        if (t->fwd[i].pc > t->pc && t->fwd[i].pc - t->start < SB_SPAN &&
            (!best || t->fwd[i].pc < best))
            best = t->fwd[i].pc;
    return best;
}

int riscv_translate(jit_ctx *c, jit_cpu *jcpu, uint64_t pc, uint32_t flags)
{
    tctx t = { .c = c, .cpu = (riscv_cpu *)jcpu, .start = pc, .pc = pc,
               .frm = flags & RISCV_FLAGS_FRM };
    for (;;) {
        if (t.ended) {
            /* resume only with room for another conditional-branch end */
            uint64_t r = t.stop || jit_block_full(c) ||
                         t.slots + t.nfwd + 2 > JIT_TB_SLOTS ? 0 : resume_pc(&t);
            if (!r)
                break;
            t.pc = r;
            t.ended = false;
        }
        place_labels(&t);
        if (jit_insn_count(c) > 0 && jit_block_full(c)) {
            end_goto(&t, t.pc);
            break;
        }
        uint32_t bits = 0;
        int bad = fetch(c, t.pc, &bits);
        if (bad) {
            if (jit_insn_count(c) > 0) {    /* let the next block report it */
                end_goto(&t, t.pc);
                t.stop = true;
                continue;
            }
            jit_insn_start(c, t.pc);
            jit_exit(c, JIT_EXIT_EXCEPTION, ci(&t, t.pc),
                     ci(&t, riscv_exit_arg(CAUSE_FETCH_FAULT, 0, (unsigned)bad - 1, 0)));
            t.ended = t.stop = true;
            continue;
        }
        jit_insn_start(c, t.pc);
        riscv_decode(bits, &t.d);
        /* host FP arithmetic (every op with a rounding-mode field) and the
         * inline comparisons may raise host flags; the other F/D ops and all
         * integer ones raise none */
        if (t.d.op == RV_INVALID || (riscv_ops[t.d.op].flags & IF_RM) ||
            riscv_ops[t.d.op].fmt == FMT_FCMP)
            t.host_ff_clear = false;
        t.next_pc = t.pc + t.d.len;
        t.new_val = JIT_NO_TEMP;
        t.new_ff_reg = 0;
        translate_insn(&t);
        /* the frflags value: dropped when flags may change (FP arithmetic,
         * compares, CSR writes) or its register is written */
        if (t.d.op == RV_INVALID || (riscv_ops[t.d.op].flags & IF_RM) ||
            riscv_ops[t.d.op].fmt == FMT_FCMP || riscv_ops[t.d.op].fmt == FMT_CSR ||
            riscv_ops[t.d.op].fmt == FMT_CSRI || (writes_x(&t.d) && t.d.rd == t.ff_reg))
            t.ff_reg = 0;
        if (t.new_ff_reg) {
            t.ff_reg = t.new_ff_reg;
            t.ff_pc = t.pc;
        }
        switch (f_result(&t.d)) {
        case F_SINGLE:
            t.f_boxed |= 1u << t.d.rd;
            t.boxed_pc[t.d.rd] = t.pc;
            t.f_val[t.d.rd] = t.new_val;
            break;
        case F_OTHER:
            t.f_boxed &= ~(1u << t.d.rd);
            break;
        default:
            break;
        }
        t.pc = t.next_pc;
    }
    /* targets never reached inside the block: side exits */
    while (t.nfwd) {
        fwd_label f = t.fwd[--t.nfwd];
        jit_label_set(c, f.l);
        jit_goto_tb(c, t.slots++, f.pc);
    }
    return 0;
}
