/* Disassembler in the syntax of GNU objdump for RISC-V (ABI register names,
 * the standard pseudo-instructions of the unprivileged spec, chapter 25, and
 * objdump's own choices of aliases and number formats), so that `-d in_asm`
 * reads like `riscv64-linux-gnu-objdump -d`. */
#include "cpu/riscv/internal.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const xname[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
    "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
    "s10", "s11", "t3", "t4", "t5", "t6",
};

static const char *const fname[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
    "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
    "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

static const char *const rm_name[8] = { "rne", "rtz", "rdn", "rup", "rmm", "", "", "dyn" };

typedef struct out {
    char *buf;
    size_t size, len;
} out;

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (o->len < o->size) {
        int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        if (n > 0)
            o->len += (size_t)n;
    }
    va_end(ap);
}

static void csr_operand(out *o, unsigned csr)
{
    const char *n = riscv_csr_name(csr);
    if (n)
        put(o, "%s", n);
    else
        put(o, "0x%x", csr);
}

static void fence_set(out *o, unsigned s)
{
    if (s & 8) put(o, "i");
    if (s & 4) put(o, "o");
    if (s & 2) put(o, "r");
    if (s & 1) put(o, "w");
    if (!s) put(o, "unknown");
}

static void rm_suffix(out *o, const riscv_insn *d)
{
    if (d->rm != RM_DYN)
        put(o, ",%s", rm_name[d->rm]);
}

static void hex(out *o, int64_t v)
{
    if (v < 0)
        put(o, "-0x%llx", (unsigned long long)-(uint64_t)v);
    else
        put(o, "0x%llx", (unsigned long long)v);
}

/* objdump names compressed instructions through their own table: most print like
 * the alias of their expansion, but the HINT forms keep a c. name (spec 16.7). */
static bool alias_c(out *o, const riscv_insn *d)
{
    uint16_t c = (uint16_t)d->raw;
    unsigned q = c & 3, f3 = c >> 13, rd = (c >> 7) & 31, rs2 = (c >> 2) & 31;
    int imm6 = (int)(((c >> 7) & 0x20) | ((c >> 2) & 0x1f));
    if (imm6 & 0x20)
        imm6 -= 64;
    if (q == 1 && f3 == 0 && rd == 0) {
        if (imm6)
            put(o, "c.nop %d", imm6);
        else
            put(o, "nop");
        return true;
    }
    if (q == 1 && f3 == 0 && imm6 == 0) {
        put(o, "add %s,%s,0", xname[rd], xname[rd]);
        return true;
    }
    if (q == 1 && f3 == 2 && rd == 0) { put(o, "c.li zero,%d", imm6); return true; }
    if (q == 1 && f3 == 3 && rd == 0) { put(o, "c.lui zero,0x%x", imm6 & 0xfffff); return true; }
    if (q == 2 && f3 == 0 && rd == 0) {
        if (imm6)
            put(o, "c.slli zero,0x%x", imm6 & 63);
        else
            put(o, "c.slli64 zero");
        return true;
    }
    if (q == 2 && f3 == 0 && imm6 == 0) { put(o, "c.slli64 %s", xname[rd]); return true; }
    if (q == 1 && f3 == 4 && ((c >> 10) & 3) < 2 && imm6 == 0) {
        put(o, ((c >> 10) & 3) ? "c.srai64 %s" : "c.srli64 %s", xname[8 + ((c >> 7) & 7)]);
        return true;
    }
    if (q == 2 && f3 == 4 && rd == 0 && rs2 != 0) {
        put(o, (c >> 12) & 1 ? "c.add zero,%s" : "c.mv zero,%s", xname[rs2]);
        return true;
    }
    if (q == 2 && f3 == 4 && !((c >> 12) & 1) && rs2 != 0) {
        put(o, "mv %s,%s", xname[rd], xname[rs2]);
        return true;
    }
    return false;
}

/* Encodings objdump declines to name (it prints them as data): fence/fence.i
 * with nonzero reserved fields, and the exact conversions with a rounding mode
 * other than RNE, which binutils only knows in the form compilers emit. */
static bool objdump_unnamed(const riscv_insn *d)
{
    uint32_t e = d->expanded;
    switch (d->op) {
    case RV_FENCE:
        return (e & 0x000f8f80) != 0 || ((e >> 28) != 0 && e != 0x8330000f);
    case RV_FENCE_I:
        return e != 0x0000100f;
    case RV_FCVT_D_S: case RV_FCVT_D_W: case RV_FCVT_D_WU:
        return d->rm != 0;
    default:
        return false;
    }
}

/* The immediate forms objdump prints under the register form's name. */
static const char *imm_name(unsigned op)
{
    switch (op) {
    case RV_ADDI: return "add";
    case RV_ADDIW: return "addw";
    case RV_ANDI: return "and";
    case RV_ORI: return "or";
    case RV_XORI: return "xor";
    case RV_SLLI: return "sll";
    case RV_SRLI: return "srl";
    case RV_SRAI: return "sra";
    case RV_SLLIW: return "sllw";
    case RV_SRLIW: return "srlw";
    case RV_SRAIW: return "sraw";
    case RV_RORI: return "ror";
    case RV_RORIW: return "rorw";
    case RV_BSETI: return "bset";
    case RV_BCLRI: return "bclr";
    case RV_BINVI: return "binv";
    case RV_BEXTI: return "bext";
    case RV_CSRRWI: return "csrrw";
    case RV_CSRRSI: return "csrrs";
    case RV_CSRRCI: return "csrrc";
    default: return NULL;
    }
}

/* The pseudo-instructions objdump prints in place of base instructions.
 * Returns true if it printed one. */
static bool alias(out *o, const riscv_insn *d, uint64_t pc)
{
    unsigned rd = d->rd, rs1 = d->rs1, rs2 = d->rs2;
    int64_t imm = d->imm;
    uint64_t target = pc + (uint64_t)imm;
    switch (d->op) {
    case RV_ADDI:
        if (rd == 0 && rs1 == 0 && imm == 0) { put(o, "nop"); return true; }
        if (rs1 == 0) { put(o, "li %s,%lld", xname[rd], (long long)imm); return true; }
        if (imm == 0) { put(o, "mv %s,%s", xname[rd], xname[rs1]); return true; }
        return false;
    case RV_ADDIW:
        if (imm == 0) { put(o, "sext.w %s,%s", xname[rd], xname[rs1]); return true; }
        return false;
    case RV_XORI:
        if (imm == -1) { put(o, "not %s,%s", xname[rd], xname[rs1]); return true; }
        return false;
    case RV_SLTIU:
        if (imm == 1) { put(o, "seqz %s,%s", xname[rd], xname[rs1]); return true; }
        return false;
    case RV_SUB:
        if (rs1 == 0) { put(o, "neg %s,%s", xname[rd], xname[rs2]); return true; }
        return false;
    case RV_SUBW:
        if (rs1 == 0) { put(o, "negw %s,%s", xname[rd], xname[rs2]); return true; }
        return false;
    case RV_SLTU:
        if (rs1 == 0) { put(o, "snez %s,%s", xname[rd], xname[rs2]); return true; }
        return false;
    case RV_SLT:
        if (rs2 == 0) { put(o, "sltz %s,%s", xname[rd], xname[rs1]); return true; }
        if (rs1 == 0) { put(o, "sgtz %s,%s", xname[rd], xname[rs2]); return true; }
        return false;
    case RV_ADD_UW:
        if (rs2 == 0) { put(o, "zext.w %s,%s", xname[rd], xname[rs1]); return true; }
        return false;
    case RV_BEQ: case RV_BNE: case RV_BLT: case RV_BGE: {
        const char *z = NULL;
        unsigned r = rs1;
        if (rs1 == 0 && d->op == RV_BGE)
            z = "blez", r = rs2;
        else if (rs2 == 0)
            z = d->op == RV_BEQ ? "beqz" : d->op == RV_BNE ? "bnez" :
                d->op == RV_BLT ? "bltz" : "bgez";
        else if (rs1 == 0 && d->op == RV_BLT)
            z = "bgtz", r = rs2;
        if (!z)
            return false;
        put(o, "%s %s,0x%llx", z, xname[r], (unsigned long long)target);
        return true;
    }
    case RV_JAL:
        if (rd == 0) { put(o, "j 0x%llx", (unsigned long long)target); return true; }
        if (rd == 1) { put(o, "jal 0x%llx", (unsigned long long)target); return true; }
        return false;
    case RV_JALR:
        if (rd == 0 && rs1 == 1 && imm == 0) { put(o, "ret"); return true; }
        if (rd == 0 && imm == 0) { put(o, "jr %s", xname[rs1]); return true; }
        if (rd == 0) { put(o, "jr %lld(%s)", (long long)imm, xname[rs1]); return true; }
        if (rd == 1 && imm == 0) { put(o, "jalr %s", xname[rs1]); return true; }
        if (rd == 1) { put(o, "jalr %lld(%s)", (long long)imm, xname[rs1]); return true; }
        if (imm == 0) { put(o, "jalr %s,%s", xname[rd], xname[rs1]); return true; }
        return false;
    case RV_FENCE: {
        unsigned pred = (d->expanded >> 24) & 15, succ = (d->expanded >> 20) & 15;
        unsigned fm = d->expanded >> 28;
        if (fm == 8 && pred == 3 && succ == 3) { put(o, "fence.tso"); return true; }
        if (fm == 0 && pred == 1 && succ == 0) { put(o, "pause"); return true; }
        if (pred == 15 && succ == 15) { put(o, "fence"); return true; }
        return false;
    }
    case RV_CSRRS:
        if (rs1 != 0 && rd == 0) {
            put(o, "csrs ");
            csr_operand(o, d->csr);
            put(o, ",%s", xname[rs1]);
            return true;
        }
        if (rs1 != 0)
            return false;
        switch (d->csr) {
        case 0x001: put(o, "frflags %s", xname[rd]); return true;
        case 0x002: put(o, "frrm %s", xname[rd]); return true;
        case 0x003: put(o, "frcsr %s", xname[rd]); return true;
        case 0xc00: put(o, "rdcycle %s", xname[rd]); return true;
        case 0xc01: put(o, "rdtime %s", xname[rd]); return true;
        case 0xc02: put(o, "rdinstret %s", xname[rd]); return true;
        }
        put(o, "csrr %s,", xname[rd]);
        csr_operand(o, d->csr);
        return true;
    case RV_CSRRW:
        if (d->csr >= 1 && d->csr <= 3) {
            static const char *const n[4] = { "", "fsflags", "fsrm", "fscsr" };
            if (rd == 0)
                put(o, "%s %s", n[d->csr], xname[rs1]);
            else
                put(o, "%s %s,%s", n[d->csr], xname[rd], xname[rs1]);
            return true;
        }
        if (rd != 0)
            return false;
        put(o, "csrw ");
        csr_operand(o, d->csr);
        put(o, ",%s", xname[rs1]);
        return true;
    case RV_CSRRC:
        if (rd != 0)
            return false;
        put(o, "csrc ");
        csr_operand(o, d->csr);
        put(o, ",%s", xname[rs1]);
        return true;
    case RV_CSRRWI:
        if (d->csr >= 1 && d->csr <= 2) {
            const char *n = d->csr == 1 ? "fsflagsi" : "fsrmi";
            if (rd == 0)
                put(o, "%s %lld", n, (long long)imm);
            else
                put(o, "%s %s,%lld", n, xname[rd], (long long)imm);
            return true;
        }
        if (rd != 0)
            return false;
        put(o, "csrw ");
        csr_operand(o, d->csr);
        put(o, ",%lld", (long long)imm);
        return true;
    case RV_CSRRSI: case RV_CSRRCI:
        if (rd != 0)
            return false;
        put(o, d->op == RV_CSRRSI ? "csrs " : "csrc ");
        csr_operand(o, d->csr);
        put(o, ",%lld", (long long)imm);
        return true;
    case RV_FSGNJ_S: case RV_FSGNJ_D: case RV_FSGNJN_S: case RV_FSGNJN_D:
    case RV_FSGNJX_S: case RV_FSGNJX_D: {
        if (rs1 != rs2)
            return false;
        bool dbl = d->op == RV_FSGNJ_D || d->op == RV_FSGNJN_D || d->op == RV_FSGNJX_D;
        const char *n = (d->op == RV_FSGNJ_S || d->op == RV_FSGNJ_D) ? "fmv" :
                        (d->op == RV_FSGNJN_S || d->op == RV_FSGNJN_D) ? "fneg" : "fabs";
        put(o, "%s.%s %s,%s", n, dbl ? "d" : "s", fname[rd], fname[rs1]);
        return true;
    }
    }
    return false;
}

void riscv_disas_ctx_init(riscv_disas_ctx *ctx)
{
    ctx->known = 0;
}

/* objdump's address comments: lui/auipc define a register's value; the next
 * addi/addiw/load/store/jalr based on it prints base + offset and forgets the
 * value.  A base of zero or tp prints the bare offset (loads, stores and jalr;
 * for addi only tp), and jalr prefers that form even when tp was defined.
 * Compressed loads, stores and jumps print nothing. */
static void track(riscv_disas_ctx *ctx, const riscv_insn *d, out *o, uint64_t pc)
{
    unsigned fmt = riscv_ops[d->op].fmt, b = d->rs1;
    bool known = ctx->known >> b & 1, addi = d->op == RV_ADDI || d->op == RV_ADDIW;
    uint64_t v;
    if (fmt == FMT_U) {
        if (d->rd) {
            ctx->value[d->rd] = d->op == RV_AUIPC ? pc + (uint64_t)d->imm : (uint64_t)d->imm;
            ctx->known |= 1u << d->rd;
        }
        return;
    }
    if (addi) {
        if (b == 0 || (d->imm == 0 && (d->len == 4 || d->op == RV_ADDIW))) /* li, mv, sext.w */
            return;
        if (d->len == 2 && b == 2)                     /* c.addi16sp, c.addi4spn */
            return;
    } else if (d->len == 2 || (fmt != FMT_LOAD && fmt != FMT_S && fmt != FMT_FLOAD &&
                               fmt != FMT_FSTORE && fmt != FMT_JALR)) {
        return;
    }
    if (known) {
        v = ctx->value[b] + (uint64_t)d->imm;
        ctx->known &= ~(1u << b);
        if (d->op == RV_JALR && b == 4)
            v = (uint64_t)d->imm;
    } else if (b == 4 || (b == 0 && !addi)) {
        v = (uint64_t)d->imm;
    } else {
        return;
    }
    if (d->op == RV_ADDIW)
        v = (uint64_t)(int64_t)(int32_t)v;
    put(o, " # 0x%llx", (unsigned long long)v);
}

static unsigned disas_one(riscv_disas_ctx *ctx, uint64_t pc, uint32_t insn, char *buf,
                          size_t size);

unsigned riscv_disas(uint64_t pc, uint32_t insn, char *buf, size_t size)
{
    return disas_one(NULL, pc, insn, buf, size);
}

unsigned riscv_disas_seq(riscv_disas_ctx *ctx, uint64_t pc, uint32_t insn, char *buf,
                         size_t size)
{
    return disas_one(ctx, pc, insn, buf, size);
}

static void operands(out *o, const riscv_insn *d, uint64_t pc);

static unsigned disas_one(riscv_disas_ctx *ctx, uint64_t pc, uint32_t insn, char *buf,
                          size_t size)
{
    out o = { buf, size, 0 };
    riscv_insn d;
    if (size)
        buf[0] = 0;
    if ((insn & 0xffff) == 0) {
        put(&o, "unimp");
        return 2;
    }
    if ((insn & 0xffff) == 0x6101) {    /* c.addi16sp with 0: objdump's reading */
        put(&o, "add sp,sp,0");
        return 2;
    }
    if (!riscv_decode(insn, &d)) {
        if (d.len == 2)
            put(&o, ".2byte 0x%x", insn & 0xffff);
        else
            put(&o, ".4byte 0x%x", insn);
        return d.len;
    }
    if (objdump_unnamed(&d)) {
        put(&o, ".4byte 0x%x", insn);
        return d.len;
    }
    if (!(d.len == 2 && alias_c(&o, &d)) && !alias(&o, &d, pc))
        operands(&o, &d, pc);
    if (ctx)
        track(ctx, &d, &o, pc);
    return d.len;
}

static void operands(out *o_, const riscv_insn *dp, uint64_t pc)
{
    out o = *o_;
    riscv_insn d = *dp;
    size_t size = o.size;
    char *buf = o.buf;
    const riscv_opinfo *oi = &riscv_ops[d.op];
    put(&o, "%s", imm_name(d.op) ? imm_name(d.op) : oi->name);
    if (oi->fmt == FMT_LR || oi->fmt == FMT_AMO) {
        if (d.aqrl == 3) put(&o, ".aqrl");
        else if (d.aqrl == 2) put(&o, ".aq");
        else if (d.aqrl == 1) put(&o, ".rl");
    }
    put(&o, " ");
    unsigned rd = d.rd, rs1 = d.rs1, rs2 = d.rs2;
    switch (oi->fmt) {
    case FMT_NONE: o.len--; if (o.len < size) buf[o.len] = 0; break;
    case FMT_R: put(&o, "%s,%s,%s", xname[rd], xname[rs1], xname[rs2]); break;
    case FMT_R1: put(&o, "%s,%s", xname[rd], xname[rs1]); break;
    case FMT_I: put(&o, "%s,%s,%lld", xname[rd], xname[rs1], (long long)d.imm); break;
    case FMT_SHIFT: put(&o, "%s,%s,0x%llx", xname[rd], xname[rs1], (unsigned long long)d.imm); break;
    case FMT_LOAD: case FMT_JALR:
        put(&o, "%s,%lld(%s)", xname[rd], (long long)d.imm, xname[rs1]);
        break;
    case FMT_S: put(&o, "%s,%lld(%s)", xname[rs2], (long long)d.imm, xname[rs1]); break;
    case FMT_B:
        put(&o, "%s,%s,0x%llx", xname[rs1], xname[rs2], (unsigned long long)(pc + (uint64_t)d.imm));
        break;
    case FMT_U: put(&o, "%s,0x%llx", xname[rd], (unsigned long long)((uint64_t)d.imm >> 12) & 0xfffff); break;
    case FMT_J:
        put(&o, "%s,0x%llx", xname[rd], (unsigned long long)(pc + (uint64_t)d.imm));
        break;
    case FMT_FENCE:
        fence_set(&o, (d.expanded >> 24) & 15);
        put(&o, ",");
        fence_set(&o, (d.expanded >> 20) & 15);
        break;
    case FMT_CSR:
        put(&o, "%s,", xname[rd]);
        csr_operand(&o, d.csr);
        put(&o, ",%s", xname[rs1]);
        break;
    case FMT_CSRI:
        put(&o, "%s,", xname[rd]);
        csr_operand(&o, d.csr);
        put(&o, ",%lld", (long long)d.imm);
        break;
    case FMT_LR: put(&o, "%s,(%s)", xname[rd], xname[rs1]); break;
    case FMT_AMO: put(&o, "%s,%s,(%s)", xname[rd], xname[rs2], xname[rs1]); break;
    case FMT_FLOAD: put(&o, "%s,%lld(%s)", fname[rd], (long long)d.imm, xname[rs1]); break;
    case FMT_FSTORE: put(&o, "%s,%lld(%s)", fname[rs2], (long long)d.imm, xname[rs1]); break;
    case FMT_FR:
        put(&o, "%s,%s,%s", fname[rd], fname[rs1], fname[rs2]);
        if (oi->flags & IF_RM)
            rm_suffix(&o, &d);
        break;
    case FMT_FR1:
        put(&o, "%s,%s", fname[rd], fname[rs1]);
        if (d.op != RV_FCVT_D_S)
            rm_suffix(&o, &d);
        break;
    case FMT_FR4:
        put(&o, "%s,%s,%s,%s", fname[rd], fname[rs1], fname[rs2], fname[d.rs3]);
        rm_suffix(&o, &d);
        break;
    case FMT_FCMP: put(&o, "%s,%s,%s", xname[rd], fname[rs1], fname[rs2]); break;
    case FMT_FCVT_XF:
        put(&o, "%s,%s", xname[rd], fname[rs1]);
        rm_suffix(&o, &d);
        break;
    case FMT_FCVT_FX:
        put(&o, "%s,%s", fname[rd], xname[rs1]);
        if (d.op != RV_FCVT_D_W && d.op != RV_FCVT_D_WU)
            rm_suffix(&o, &d);
        break;
    case FMT_FMV_XF: put(&o, "%s,%s", xname[rd], fname[rs1]); break;
    case FMT_FMV_FX: put(&o, "%s,%s", fname[rd], xname[rs1]); break;
    }
    (void)hex;
    *o_ = o;
}
