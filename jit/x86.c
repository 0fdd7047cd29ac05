/* x86-64 backend: optimized IR -> machine code in the engine's code buffer.
 *
 * Fixed registers: rbp = env (the jit_cpu), r15 = guest_base, rsp = a frame of
 * spill slots for locals.  rax, rcx, rdx are scratch (division, shifts, the
 * jump-cache probe) and never hold temporaries.  The other ten registers hold
 * temporaries; globals are loaded on first use and written back lazily (at
 * block exits, labels, branches and calls that need them), so a block touches
 * env once per guest register it uses, not once per instruction.
 *
 * Faults: every guest load/store records its host code range, the guest pc and
 * which dirty globals live in which registers; jit_x86_fault() writes those
 * back from the signal context, so guest state is precise without syncing
 * before each access. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "jit/internal.h"

#if defined(__x86_64__)

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

#define NSLOTS 2048
#define PIN_EXIT_ROOM 128           /* bytes reserved for e->pin_exit */
#define FRAME (NSLOTS * 8 + 8)

/* rax, rcx and rdx come last: some ops need them as scratch (clobber_mask) */
static const uint8_t alloc_order[] = { RBX, R12, R13, R14, RSI, RDI, R8, R9, R10, R11,
                                       RDX, RCX, RAX };
#define NALLOC (sizeof(alloc_order))
#define SCRATCH ((1 << RAX) | (1 << RCX) | (1 << RDX))
static const uint16_t caller_saved = (1 << RSI) | (1 << RDI) | (1 << R8) | (1 << R9) |
                                     (1 << R10) | (1 << R11) | SCRATCH;
static const uint8_t arg_regs[6] = { RDI, RSI, RDX, RCX, R8, R9 };

typedef struct fixup {
    uint32_t pos;                   /* rel32 position */
    uint32_t label;
} fixup;

typedef struct gen {
    jit_engine *e;
    jit_ctx *c;
    uint8_t *buf, *p, *end;
    bool overflow;
    unsigned nglobals;
    /* register state */
    jit_temp reg_temp[16];
    int8_t *treg;
    uint8_t *tdirty;
    int32_t *slot;
    uint32_t *last_use;
    unsigned nslots;
    uint16_t locked;
    uint16_t clobber;               /* scratch registers the current op uses */
    unsigned cur;                   /* index of the op being generated */
    uint64_t insn_pc;
    /* labels */
    int32_t *label_pos;
    fixup *fix;
    unsigned nfix, fix_cap;
    /* fault records */
    jit_fault_rec *faults;
    unsigned nfaults, faults_cap;
    jit_fault_map *fmap;
    unsigned nfmap, fmap_cap;
    uint8_t *req_stub_jumps[64];
    unsigned nreq;
    bool use_popcnt;
    bool use_bmi2;
    bool use_fma;
    jit_temp xmm_hold[3];           /* temp whose value xmm0-2 still hold (xmm_track) */
    unsigned slots_seen;
    uint16_t pinned;                /* host registers holding pinned globals */
    /* Loops: a block whose goto_tb returns to its own start jumps back inside
     * its code, and for its duration the pin registers hold the globals it
     * uses (bmap) instead of the engine-wide choice (gmap). */
    jit_temp gmap[16], bmap[16];    /* register -> pinned global, or JIT_NO_TEMP */
    bool loop, swapped;             /* self loop; bmap differs from gmap */
    unsigned tbgen;                 /* pinning generation of the block */
    uint32_t loop_head;             /* code offset of the loop head */
    int32_t *label_op;              /* label -> index of its op */
    uint8_t *loop_label;            /* label is the target of a backward branch */
    /* Loop heads that keep globals in registers: only fallen into from above
     * and reached by backward branches, which move the registers back into
     * the head's map (head_map) on their taken path. */
    uint8_t *keep;
    jit_temp (*head_map)[16];
    struct req_stub { uint32_t fix; uint64_t pc; int32_t label; } *reqs;  /* exit_request checks */
    unsigned nreqs;
    /* guest accesses whose address failed the guest_limit check (bound_check) */
    struct bound_stub { uint32_t fix; unsigned rec; int32_t disp; uint8_t index; bool store; } *bounds;
    unsigned nbounds;
    /* temps whose value passed the guest_limit check and has not changed since
     * (forgotten at labels, definitions and helpers that write globals) */
    uint8_t *checked;
    uint32_t *slot_tmp;             /* compute_last_use: first occurrence */
    /* Exit tails: a label reached only by one forward brcond and not by
     * falling in (a side exit).  The branch keeps dirty registers as they
     * are; the tail starts from the register state saved at the branch. */
    uint8_t *tail;                  /* label: 1 = exit tail, 2 = state saved,
                                       3 = transparent (only fallen into) */
    jit_temp (*tail_temp)[16];
    uint8_t (*tail_dirty)[16];
    uint32_t *labels_before;        /* op index -> labels at or before it */
} gen;

/* ---- byte emission ---- */

static void b1(gen *g, uint8_t x)
{
    if (g->p < g->end)
        *g->p++ = x;
    else
        g->overflow = true;
}

static void b4(gen *g, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        b1(g, (uint8_t)(x >> (8 * i)));
}

static void b8(gen *g, uint64_t x)
{
    b4(g, (uint32_t)x);
    b4(g, (uint32_t)(x >> 32));
}

static uint32_t pos(gen *g) { return (uint32_t)(g->p - g->buf); }

/* REX prefix; force for byte access to sil/dil/spl/bpl */
static void rex(gen *g, bool w, unsigned r, unsigned x, unsigned b, bool force)
{
    uint8_t v = (uint8_t)(0x40 | (w << 3) | ((r >> 3) << 2) | ((x >> 3) << 1) | (b >> 3));
    if (v != 0x40 || force)
        b1(g, v);
}

static void modrm_rr(gen *g, unsigned reg, unsigned rm)
{
    b1(g, (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
}

/* [base + disp] */
static void modrm_mem(gen *g, unsigned reg, unsigned base, int32_t disp)
{
    unsigned mod = disp == 0 && (base & 7) != RBP ? 0 : (disp >= -128 && disp <= 127 ? 1 : 2);
    b1(g, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7)));
    if ((base & 7) == RSP)
        b1(g, 0x24);
    if (mod == 1)
        b1(g, (uint8_t)disp);
    else if (mod == 2)
        b4(g, (uint32_t)disp);
}

/* [base + index + disp] */
static void modrm_sib(gen *g, unsigned reg, unsigned base, unsigned index, int32_t disp)
{
    unsigned mod = disp == 0 && (base & 7) != RBP ? 0 : (disp >= -128 && disp <= 127 ? 1 : 2);
    b1(g, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4));
    b1(g, (uint8_t)(((index & 7) << 3) | (base & 7)));
    if (mod == 1)
        b1(g, (uint8_t)disp);
    else if (mod == 2)
        b4(g, (uint32_t)disp);
}

/* op reg, rm (register form) */
static void op_rr(gen *g, bool w, uint8_t opc, unsigned reg, unsigned rm)
{
    rex(g, w, reg, 0, rm, false);
    b1(g, opc);
    modrm_rr(g, reg, rm);
}

static void op0f_rr(gen *g, bool w, uint8_t opc, unsigned reg, unsigned rm)
{
    rex(g, w, reg, 0, rm, false);
    b1(g, 0x0F);
    b1(g, opc);
    modrm_rr(g, reg, rm);
}

static void op_rm(gen *g, bool w, uint8_t opc, unsigned reg, unsigned base, int32_t disp)
{
    rex(g, w, reg, 0, base, false);
    b1(g, opc);
    modrm_mem(g, reg, base, disp);
}

/* i32 values are kept zero-extended, so a move to the same register is a
 * no-op; zext32 is the move that clears the upper half on purpose */
static void mov_rr(gen *g, bool w, unsigned d, unsigned s)
{
    if (d != s)
        op_rr(g, w, 0x89, s, d);
}

static void zext32(gen *g, unsigned d, unsigned s)
{
    op_rr(g, false, 0x89, s, d);
}

static void mov_ri(gen *g, unsigned d, uint64_t v)
{
    if (v == 0) {
        op_rr(g, false, 0x31, d, d);            /* xor d32, d32 */
    } else if (v <= UINT32_MAX) {
        rex(g, false, 0, 0, d, false);
        b1(g, (uint8_t)(0xB8 + (d & 7)));
        b4(g, (uint32_t)v);
    } else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
        rex(g, true, 0, 0, d, false);
        b1(g, 0xC7);
        modrm_rr(g, 0, d);
        b4(g, (uint32_t)v);
    } else {
        rex(g, true, 0, 0, d, false);
        b1(g, (uint8_t)(0xB8 + (d & 7)));
        b8(g, v);
    }
}

/* mov_ri without the xor form, for use between a compare and its consumer */
static void mov_ri_keep_flags(gen *g, unsigned d, uint64_t v)
{
    if (v <= UINT32_MAX) {
        rex(g, false, 0, 0, d, false);
        b1(g, (uint8_t)(0xB8 + (d & 7)));
        b4(g, (uint32_t)v);
    } else {
        mov_ri(g, d, v);        /* non-zero: no xor */
    }
}

static void load_mem(gen *g, bool w, unsigned d, unsigned base, int32_t disp)
{
    op_rm(g, w, 0x8B, d, base, disp);
}

static void store_mem(gen *g, bool w, unsigned s, unsigned base, int32_t disp)
{
    op_rm(g, w, 0x89, s, base, disp);
}

/* group-1 ALU op with immediate: /n = add 0, or 1, and 4, sub 5, xor 6, cmp 7 */
static void alu_ri(gen *g, bool w, unsigned n, unsigned r, int32_t imm)
{
    rex(g, w, 0, 0, r, false);
    if (imm >= -128 && imm <= 127) {
        b1(g, 0x83);
        modrm_rr(g, n, r);
        b1(g, (uint8_t)imm);
    } else {
        b1(g, 0x81);
        modrm_rr(g, n, r);
        b4(g, (uint32_t)imm);
    }
}

static void jmp_to(gen *g, const void *target)
{
    b1(g, 0xE9);
    b4(g, (uint32_t)((const uint8_t *)target - (g->p + 4)));
}

static void call_abs(gen *g, const void *fn)
{
    mov_ri(g, RAX, (uint64_t)(uintptr_t)fn);
    b1(g, 0xFF);
    modrm_rr(g, 2, RAX);
}

/* short forward jump: returns the position of its rel8 */
static uint8_t *jcc8(gen *g, uint8_t cc)
{
    b1(g, (uint8_t)(0x70 | cc));
    b1(g, 0);
    return g->p - 1;
}

static uint8_t *jmp8(gen *g)
{
    b1(g, 0xEB);
    b1(g, 0);
    return g->p - 1;
}

static void land8(gen *g, uint8_t *at)
{
    if (!g->overflow && at >= g->buf)
        *at = (uint8_t)(g->p - (at + 1));
}

/* ---- temporaries ---- */

static jit_tinfo *ti(gen *g, jit_temp t) { return &g->c->temps[t]; }
static bool is_const(gen *g, jit_temp t) { return ti(g, t)->kind == TEMP_CONST; }
static bool w64(jit_type t) { return t != JIT_I32; }

static bool fits_i32(uint64_t v) { return (int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX; }

/* constant usable as an imm32 of an op of type t */
static bool const_imm(gen *g, jit_temp t, jit_type ty, int32_t *imm)
{
    if (!is_const(g, t))
        return false;
    uint64_t v = ti(g, t)->val;
    if (ty == JIT_I32) {
        *imm = (int32_t)(uint32_t)v;
        return true;
    }
    if (!fits_i32(v))
        return false;
    *imm = (int32_t)v;
    return true;
}

static int32_t slot_disp(gen *g, jit_temp t)
{
    if (g->slot[t] < 0) {
        if (g->nslots >= NSLOTS) {
            g->overflow = true;      /* reported as E2BIG */
            g->slot[t] = 0;
        } else {
            g->slot[t] = (int32_t)g->nslots++;
        }
    }
    return g->slot[t] * 8;
}

/* write a register's temp back to its home if dirty */
static void writeback(gen *g, unsigned r)
{
    jit_temp t = g->reg_temp[r];
    if (t == JIT_NO_TEMP || !g->tdirty[t])
        return;
    jit_tinfo *i = ti(g, t);
    if (i->kind == TEMP_GLOBAL)
        store_mem(g, i->type != JIT_I32, r, RBP, (int32_t)g->e->fe->globals[t].offset);
    else if (i->kind == TEMP_LOCAL && g->last_use[t] >= g->cur)
        store_mem(g, true, r, RSP, slot_disp(g, t));
    g->tdirty[t] = 0;
}

static void unassign(gen *g, unsigned r)
{
    jit_temp t = g->reg_temp[r];
    if (t != JIT_NO_TEMP && !(g->pinned & (1 << r))) {
        g->treg[t] = -1;
        g->reg_temp[r] = JIT_NO_TEMP;
    }
}

static void spill(gen *g, unsigned r)
{
    if (g->pinned & (1 << r))
        return;             /* calls save caller-saved pinned registers themselves */
    writeback(g, r);
    unassign(g, r);
}

/* A free register (not locked, pinned or scratch of this op), or -1. */
static int free_reg(gen *g)
{
    for (unsigned i = 0; i < NALLOC; i++) {
        unsigned r = alloc_order[i];
        if (g->reg_temp[r] == JIT_NO_TEMP && !((g->locked | g->pinned | g->clobber) & (1 << r)))
            return (int)r;
    }
    return -1;
}

/* How far ahead t is used next: ops from the current one up to the next label
 * (where registers are written back and forgotten anyway); NEXT_USE_NEVER if
 * not before it. */
#define NEXT_USE_NEVER 256u
static unsigned next_use_from(gen *g, jit_temp t, unsigned from)
{
    jit_ctx *c = g->c;
    for (unsigned i = from; i < c->nops && i - g->cur < NEXT_USE_NEVER; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_LABEL && i > g->cur)
            break;
        unsigned f, n = jit_op_nuses(op, &f);
        for (unsigned k = 0; k < n; k++)
            if (op->a[f + k] == t)
                return i - g->cur;
    }
    return NEXT_USE_NEVER;
}

static unsigned next_use(gen *g, jit_temp t) { return next_use_from(g, t, g->cur); }

/* An x86 memory operand for t instead of a register: when its value is in its
 * env field (a global) or spill slot (a local), not in a register, and not
 * needed again before the next label (loading it would buy nothing). */
static bool mem_operand(gen *g, jit_temp t, unsigned *base, int32_t *disp)
{
    jit_tinfo *i = ti(g, t);
    if (g->treg[t] >= 0 || next_use_from(g, t, g->cur + 1) != NEXT_USE_NEVER)
        return false;
    if (i->kind == TEMP_GLOBAL) {
        *base = RBP;
        *disp = (int32_t)g->e->fe->globals[t].offset;
        return true;
    }
    if (i->kind == TEMP_LOCAL && g->slot[t] >= 0) {
        *base = RSP;
        *disp = g->slot[t] * 8;
        return true;
    }
    return false;
}

static unsigned alloc_reg(gen *g)
{
    int fr = free_reg(g);
    if (fr >= 0)
        return (unsigned)fr;
    /* evict the value needed furthest ahead (Belady); on a tie a clean one,
     * which costs no store */
    int best = -1;
    unsigned best_score = 0;
    for (unsigned i = 0; i < NALLOC; i++) {
        unsigned r = alloc_order[i];
        if ((g->locked | g->pinned | g->clobber) & (1 << r))
            continue;
        jit_temp t = g->reg_temp[r];
        unsigned score = next_use(g, t) * 2 + !g->tdirty[t];
        if (best < 0 || score > best_score) {
            best = (int)r;
            best_score = score;
        }
    }
    if (best < 0) {
        g->overflow = true;     /* cannot happen: at most 5 operands are locked */
        return RBX;
    }
    spill(g, (unsigned)best);
    return (unsigned)best;
}

/* Before an op that uses some of rax, rcx, rdx as scratch: temps living there
 * move to free registers (or go to memory), and the op allocates none of them. */
static void clobber_regs(gen *g, uint16_t mask)
{
    g->clobber = mask;
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (!(mask & (1 << r)) || t == JIT_NO_TEMP)
            continue;
        int fr = free_reg(g);
        if (fr >= 0) {
            mov_rr(g, true, (unsigned)fr, r);
            g->reg_temp[r] = JIT_NO_TEMP;
            g->reg_temp[fr] = t;
            g->treg[t] = (int8_t)fr;
        } else {
            spill(g, r);
        }
    }
}

static void assign(gen *g, unsigned r, jit_temp t)
{
    g->reg_temp[r] = t;
    g->treg[t] = (int8_t)r;
}

/* Load temp t's value into register r (not assigning it). */
static void load_into(gen *g, unsigned r, jit_temp t)
{
    jit_tinfo *i = ti(g, t);
    if (g->treg[t] >= 0) {
        mov_rr(g, true, r, (unsigned)g->treg[t]);
        return;
    }
    switch (i->kind) {
    case TEMP_GLOBAL:
        load_mem(g, i->type != JIT_I32, r, RBP, (int32_t)g->e->fe->globals[t].offset);
        break;
    case TEMP_ENV:
        mov_rr(g, true, r, RBP);
        break;
    case TEMP_CONST:
        mov_ri(g, r, i->val);
        break;
    default:
        if (g->slot[t] >= 0)
            load_mem(g, true, r, RSP, g->slot[t] * 8);
        else
            mov_ri_keep_flags(g, r, 0); /* read before written: defined as 0 */
        break;
    }
}

/* A register holding t's value, locked for the current op. */
static unsigned use(gen *g, jit_temp t)
{
    if (ti(g, t)->kind == TEMP_ENV)
        return RBP;
    if (g->treg[t] < 0) {
        unsigned r = alloc_reg(g);
        load_into(g, r, t);
        assign(g, r, t);
        g->tdirty[t] = 0;
    }
    g->locked |= (uint16_t)(1 << g->treg[t]);
    return (unsigned)g->treg[t];
}

/* A register to receive t's new value (marked dirty). */
static unsigned def(gen *g, jit_temp t)
{
    if (g->treg[t] < 0)
        assign(g, alloc_reg(g), t);
    unsigned r = (unsigned)g->treg[t];
    g->locked |= (uint16_t)(1 << r);
    g->tdirty[t] = 1;
    return r;
}

/* A register for d's new value when the op computes it in place from a's
 * register (mov rd, ra; op rd, ...): a local that dies here gives its register
 * to d, which saves the move. */
static unsigned def_from(gen *g, jit_temp d, jit_temp a, unsigned ra)
{
    if (g->treg[d] < 0 && a != d && ti(g, a)->kind == TEMP_LOCAL && g->treg[a] == (int)ra &&
        g->last_use[a] == g->cur && !(g->pinned & (1 << ra))) {
        g->tdirty[a] = 0;
        g->treg[a] = -1;
        assign(g, ra, d);
        g->locked |= (uint16_t)(1 << ra);
        g->tdirty[d] = 1;
        return ra;
    }
    return def(g, d);
}

/* Store dirty globals (and live dirty locals if locals_too).  Pinned globals
 * stay in their registers: sync_pinned stores them where memory must be
 * current. */
static void sync_regs(gen *g, bool locals_too)
{
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (t == JIT_NO_TEMP || !g->tdirty[t] || (g->pinned & (1 << r)))
            continue;
        if (ti(g, t)->kind == TEMP_GLOBAL || locals_too)
            writeback(g, r);
    }
}

static void pinned_move(gen *g, bool store)
{
    for (unsigned r = 0; r < 16; r++) {
        if (!(g->pinned & (1 << r)))
            continue;
        jit_temp t = g->reg_temp[r];
        bool w = ti(g, t)->type != JIT_I32;
        int32_t off = (int32_t)g->e->fe->globals[t].offset;
        if (store)
            store_mem(g, w, r, RBP, off);
        else
            load_mem(g, w, r, RBP, off);
    }
}

static void sync_pinned(gen *g) { pinned_move(g, true); }
static void reload_pinned(gen *g) { pinned_move(g, false); }

static void map_move(gen *g, unsigned r, jit_temp t, bool store)
{
    bool w = g->e->fe->globals[t].type != JIT_I32;
    int32_t off = (int32_t)g->e->fe->globals[t].offset;
    if (store)
        store_mem(g, w, r, RBP, off);
    else
        load_mem(g, w, r, RBP, off);
}

/* Store every global of a pin map from its register. */
static void map_store(gen *g, const jit_temp *map)
{
    for (unsigned r = 0; r < 16; r++)
        if (map[r] != JIT_NO_TEMP)
            map_move(g, r, map[r], true);
}

/* Change the pin registers from one map to the other: the globals leaving
 * go to env, the ones arriving come from env. */
static void map_switch(gen *g, const jit_temp *from, const jit_temp *to)
{
    for (unsigned r = 0; r < 16; r++) {
        if (from[r] == to[r])
            continue;
        if (from[r] != JIT_NO_TEMP)
            map_move(g, r, from[r], true);
        if (to[r] != JIT_NO_TEMP)
            map_move(g, r, to[r], false);
    }
}

/* Around a call: pinned globals in caller-saved registers go to env and come
 * back (the callee-saved ones survive by themselves). */
static void call_save_pinned(gen *g)
{
    uint16_t keep = g->pinned;
    g->pinned &= caller_saved;
    pinned_move(g, true);
    g->pinned = keep;
}

static void call_restore_pinned(gen *g)
{
    uint16_t keep = g->pinned;
    g->pinned &= caller_saved;
    pinned_move(g, false);
    g->pinned = keep;
}

static void forget_all(gen *g)
{
    for (unsigned r = 0; r < 16; r++)
        unassign(g, r);
}

static void forget_globals(gen *g)
{
    for (unsigned r = 0; r < 16; r++)
        if (g->reg_temp[r] != JIT_NO_TEMP && ti(g, g->reg_temp[r])->kind == TEMP_GLOBAL)
            unassign(g, r);
}

/* Free registers of temps that are dead after the current op. */
static void release_dead(gen *g)
{
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (t == JIT_NO_TEMP)
            continue;
        jit_tinfo *i = ti(g, t);
        if ((i->kind == TEMP_LOCAL || i->kind == TEMP_CONST) && g->last_use[t] <= g->cur) {
            g->tdirty[t] = 0;
            unassign(g, r);
        }
    }
}

/* ---- fault records ---- */

static void fault_begin(gen *g, uint32_t *start) { *start = pos(g); }

static jit_fault_rec *fault_rec_new(gen *g)
{
    if (g->nfaults == g->faults_cap) {
        unsigned cap = g->faults_cap ? g->faults_cap * 2 : 16;
        jit_fault_rec *f = realloc(g->faults, cap * sizeof(*f));
        if (!f) {
            g->overflow = true;
            return NULL;
        }
        g->faults = f;
        g->faults_cap = cap;
    }
    return &g->faults[g->nfaults++];
}

static void fault_end(gen *g, uint32_t start)
{
    jit_fault_rec *rec = fault_rec_new(g);
    if (!rec)
        return;
    rec->host_start = start;
    rec->host_end = pos(g);
    rec->guest_pc = g->insn_pc;
    rec->first_map = (uint16_t)g->nfmap;
    rec->nmap = 0;
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (t == JIT_NO_TEMP || !g->tdirty[t] || ti(g, t)->kind != TEMP_GLOBAL)
            continue;
        if (g->nfmap == g->fmap_cap) {
            unsigned cap = g->fmap_cap ? g->fmap_cap * 2 : 64;
            jit_fault_map *m = realloc(g->fmap, cap * sizeof(*m));
            if (!m) {
                g->overflow = true;
                return;
            }
            g->fmap = m;
            g->fmap_cap = cap;
        }
        g->fmap[g->nfmap++] = (jit_fault_map){ (uint16_t)t, (uint8_t)r };
        rec->nmap++;
    }
}

/* ---- the guest space bound ----
 *
 * guest_base + address must never leave the guest's reservation, or a hostile
 * guest reads and writes the emulator's own memory.  The owner keeps 2 GiB of
 * PROT_NONE on both sides of [guest_base, guest_base + guest_limit), so only the
 * index register needs checking: with it below the limit, no 32-bit displacement
 * reaches past the guards.  The check is one fused compare and a branch that is
 * never taken; the stub it would jump to (emitted after the block's code) stores
 * the real guest address in cpu->bad_addr and faults on host address 0, which no
 * checked access can produce.  The stub shares the access's fault record, so the
 * fault is precise; jit_handle_fault takes the address from bad_addr. */

static void bound_check(gen *g, jit_temp addr, unsigned index, int32_t disp, bool store)
{
    if (g->e->fe->addr_bits == 64) {
        if (g->checked[addr])
            return;         /* addr < guest_limit still holds: the guards cover disp */
        g->checked[addr] = 1;
    }
    struct bound_stub *b = realloc(g->bounds, (g->nbounds + 1) * sizeof(*b));
    if (!b) {
        g->overflow = true;
        return;
    }
    g->bounds = b;
    op_rm(g, true, 0x3B, index, RBP, offsetof(jit_cpu, guest_limit));   /* cmp index, [limit] */
    b1(g, 0x0F);
    b1(g, 0x83);                                                        /* jae rel32: stub */
    b4(g, 0);
    g->bounds[g->nbounds++] = (struct bound_stub){ pos(g) - 4, g->nfaults, disp, (uint8_t)index, store };
}

static void emit_bound_stubs(gen *g)
{
    for (unsigned k = 0; k < g->nbounds && !g->overflow; k++) {
        struct bound_stub *b = &g->bounds[k];
        int32_t rel = (int32_t)(pos(g) - (b->fix + 4));
        memcpy(g->buf + b->fix, &rel, 4);
        uint32_t start = pos(g);
        /* no scratch register: rax may hold a dirty temp the fault record names */
        op_rm(g, true, 0x89, b->index, RBP, offsetof(jit_cpu, bad_addr));
        if (b->disp) {
            rex(g, true, 0, 0, RBP, false);
            b1(g, 0x81);
            modrm_mem(g, 0, RBP, offsetof(jit_cpu, bad_addr));           /* add [bad_addr], disp */
            b4(g, (uint32_t)b->disp);
        }
        b1(g, b->store ? 0x88 : 0x8A);                                  /* mov [0], al / mov al, [0] */
        b1(g, 0x04);
        b1(g, 0x25);
        b4(g, 0);
        jit_fault_rec *rec = b->rec < g->nfaults ? fault_rec_new(g) : NULL;
        if (!rec)
            return;
        *rec = g->faults[b->rec];       /* the access's pc and registers */
        rec->host_start = start;
        rec->host_end = pos(g);
    }
}

/* ---- ops ---- */

static const uint8_t cc_of[JIT_COND_COUNT] = {
    [JIT_EQ] = 0x4, [JIT_NE] = 0x5, [JIT_LT] = 0xC, [JIT_GE] = 0xD, [JIT_LE] = 0xE,
    [JIT_GT] = 0xF, [JIT_LTU] = 0x2, [JIT_GEU] = 0x3, [JIT_LEU] = 0x6, [JIT_GTU] = 0x7,
};

static jit_cond swap_cond(jit_cond c)
{
    switch (c) {
    case JIT_LT: return JIT_GT;
    case JIT_GT: return JIT_LT;
    case JIT_LE: return JIT_GE;
    case JIT_GE: return JIT_LE;
    case JIT_LTU: return JIT_GTU;
    case JIT_GTU: return JIT_LTU;
    case JIT_LEU: return JIT_GEU;
    case JIT_GEU: return JIT_LEU;
    default: return c;
    }
}

/* cmp a, b for op type ty; returns the x86 condition code for cond */
static uint8_t emit_cmp(gen *g, jit_type ty, jit_cond cond, jit_temp a, jit_temp b)
{
    int32_t imm;
    if (is_const(g, a) && !is_const(g, b)) {
        jit_temp t = a;
        a = b;
        b = t;
        cond = swap_cond(cond);
    }
    unsigned ra = use(g, a);
    if (const_imm(g, b, ty, &imm)) {
        if (imm == 0 && (cond == JIT_EQ || cond == JIT_NE))
            op_rr(g, w64(ty), 0x85, ra, ra);    /* test */
        else
            alu_ri(g, w64(ty), 7, ra, imm);
    } else {
        unsigned mb;
        int32_t disp;
        if (mem_operand(g, b, &mb, &disp)) {
            op_rm(g, w64(ty), 0x3B, ra, mb, disp);  /* cmp ra, [b] */
        } else {
            unsigned rb = use(g, b);
            op_rr(g, w64(ty), 0x39, rb, ra);    /* cmp ra, rb */
        }
    }
    return cc_of[cond];
}

static void gen_alu(gen *g, const jit_op *op)
{
    jit_type ty = (jit_type)op->type;
    bool w = w64(ty);
    jit_opc opc = (jit_opc)op->opc;
    jit_temp d = op->a[0], a = op->a[1], b = op->a[2];
    bool comm = opc == JIT_OP_ADD || opc == JIT_OP_AND || opc == JIT_OP_OR ||
                opc == JIT_OP_XOR || opc == JIT_OP_MUL;
    if (comm && is_const(g, a) && !is_const(g, b)) {
        jit_temp t = a;
        a = b;
        b = t;
    }
    static const uint8_t rr_opc[] = {
        [JIT_OP_ADD] = 0x01, [JIT_OP_SUB] = 0x29, [JIT_OP_AND] = 0x21,
        [JIT_OP_OR] = 0x09, [JIT_OP_XOR] = 0x31,
    };
    static const uint8_t ri_n[] = {
        [JIT_OP_ADD] = 0, [JIT_OP_SUB] = 5, [JIT_OP_AND] = 4, [JIT_OP_OR] = 1,
        [JIT_OP_XOR] = 6,
    };
    int32_t imm;
    unsigned ra = use(g, a);
    if (const_imm(g, b, ty, &imm)) {
        unsigned rd = opc == JIT_OP_MUL || opc == JIT_OP_ADD ? def(g, d) : def_from(g, d, a, ra);
        if (opc == JIT_OP_MUL) {
            rex(g, w, rd, 0, ra, false);
            b1(g, 0x69);
            modrm_rr(g, rd, ra);
            b4(g, (uint32_t)imm);
            return;
        }
        if (opc == JIT_OP_ADD && rd != ra) {
            op_rm(g, w, 0x8D, rd, ra, imm);     /* lea */
            return;
        }
        mov_rr(g, w, rd, ra);
        alu_ri(g, w, ri_n[opc], rd, imm);
        return;
    }
    unsigned mb;
    int32_t disp;
    if (mem_operand(g, b, &mb, &disp)) {
        /* op rd, [b] */
        unsigned rd = def_from(g, d, a, ra);
        mov_rr(g, w, rd, ra);
        if (opc == JIT_OP_MUL) {
            rex(g, w, rd, 0, mb, false);
            b1(g, 0x0F);
            b1(g, 0xAF);
            modrm_mem(g, rd, mb, disp);
        } else {
            op_rm(g, w, (uint8_t)(rr_opc[opc] + 2), rd, mb, disp);
        }
        return;
    }
    unsigned rb = use(g, b);
    unsigned rd = def_from(g, d, a, ra);
    if (rd == rb && rd != ra) {
        if (comm) {
            rb = ra;
        } else {
            /* d = a - d: -d + a (sub is the only non-commutative one) */
            rex(g, w, 0, 0, rd, false);
            b1(g, 0xF7);
            modrm_rr(g, 3, rd);                 /* neg rd */
            op_rr(g, w, 0x01, ra, rd);          /* add rd, ra */
            return;
        }
    } else {
        mov_rr(g, w, rd, ra);
    }
    if (opc == JIT_OP_MUL)
        op0f_rr(g, w, 0xAF, rd, rb);
    else
        op_rr(g, w, rr_opc[opc], rb, rd);
}

static void gen_mulh(gen *g, const jit_op *op)
{
    jit_type ty = (jit_type)op->type;
    jit_opc opc = (jit_opc)op->opc;
    unsigned ra = use(g, op->a[1]), rb = use(g, op->a[2]);
    if (ty == JIT_I32) {
        /* 64-bit product of the extended halves */
        if (opc == JIT_OP_MULHU)
            mov_rr(g, false, RAX, ra);
        else
            op_rr(g, true, 0x63, RAX, ra);       /* movsxd rax, ra */
        if (opc == JIT_OP_MULH)
            op_rr(g, true, 0x63, RCX, rb);
        else
            mov_rr(g, false, RCX, rb);
        op0f_rr(g, true, 0xAF, RAX, RCX);        /* imul rax, rcx */
        rex(g, true, 0, 0, RAX, false);
        b1(g, 0xC1);
        modrm_rr(g, 5, RAX);                     /* shr rax, 32 */
        b1(g, 32);
        unsigned rd = def(g, op->a[0]);
        mov_rr(g, false, rd, RAX);
        return;
    }
    mov_rr(g, true, RAX, ra);
    rex(g, true, 0, 0, rb, false);
    b1(g, 0xF7);
    modrm_rr(g, opc == JIT_OP_MULH ? 5 : 4, rb); /* imul/mul rb */
    if (opc == JIT_OP_MULHSU) {
        /* signed a x unsigned b = unsigned product - (a < 0 ? b << 64 : 0) */
        mov_rr(g, true, RCX, ra);
        rex(g, true, 0, 0, RCX, false);
        b1(g, 0xC1);
        modrm_rr(g, 7, RCX);                     /* sar rcx, 63 */
        b1(g, 63);
        op_rr(g, true, 0x21, rb, RCX);           /* and rcx, rb */
        op_rr(g, true, 0x29, RCX, RDX);          /* sub rdx, rcx */
    }
    unsigned rd = def(g, op->a[0]);
    mov_rr(g, true, rd, RDX);
}

static void gen_div(gen *g, const jit_op *op)
{
    jit_type ty = (jit_type)op->type;
    bool w = w64(ty);
    jit_opc opc = (jit_opc)op->opc;
    bool sign = opc == JIT_OP_DIV || opc == JIT_OP_REM;
    bool rem = opc == JIT_OP_REM || opc == JIT_OP_REMU;
    unsigned ra = use(g, op->a[1]), rb = use(g, op->a[2]);
    mov_rr(g, w, RAX, ra);
    mov_rr(g, w, RCX, rb);
    op_rr(g, w, 0x85, RCX, RCX);                 /* test rcx, rcx */
    uint8_t *to_zero = jcc8(g, 0x4);
    uint8_t *to_done1 = NULL;
    if (sign) {
        alu_ri(g, w, 7, RCX, -1);                /* cmp rcx, -1 */
        uint8_t *to_do = jcc8(g, 0x5);
        if (rem) {
            op_rr(g, false, 0x31, RAX, RAX);     /* MIN % -1 = 0 (and x % -1 = 0) */
        } else {
            rex(g, w, 0, 0, RAX, false);
            b1(g, 0xF7);
            modrm_rr(g, 3, RAX);                 /* neg: x / -1 = -x, MIN wraps */
        }
        to_done1 = jmp8(g);
        land8(g, to_do);
        if (w)
            b1(g, 0x48);
        b1(g, 0x99);                             /* cqo / cdq */
    } else {
        op_rr(g, false, 0x31, RDX, RDX);
    }
    rex(g, w, 0, 0, RCX, false);
    b1(g, 0xF7);
    modrm_rr(g, sign ? 7 : 6, RCX);              /* idiv / div rcx */
    if (rem)
        mov_rr(g, w, RAX, RDX);
    uint8_t *to_done2 = jmp8(g);
    land8(g, to_zero);
    if (!rem)
        mov_ri(g, RAX, w ? UINT64_MAX : UINT32_MAX);
    /* remainder by zero: rax already holds the dividend */
    if (to_done1)
        land8(g, to_done1);
    land8(g, to_done2);
    unsigned rd = def(g, op->a[0]);
    mov_rr(g, w, rd, RAX);
}

static void gen_shift(gen *g, const jit_op *op)
{
    jit_type ty = (jit_type)op->type;
    bool w = w64(ty);
    static const uint8_t n_of[] = {
        [JIT_OP_SHL] = 4, [JIT_OP_SHR] = 5, [JIT_OP_SAR] = 7, [JIT_OP_ROTL] = 0,
        [JIT_OP_ROTR] = 1,
    };
    unsigned n = n_of[op->opc];
    int32_t imm;
    unsigned ra = use(g, op->a[1]);
    if (const_imm(g, op->a[2], ty, &imm)) {
        unsigned rd = def_from(g, op->a[0], op->a[1], ra);
        mov_rr(g, w, rd, ra);
        unsigned cnt = (unsigned)imm & (w ? 63 : 31);
        if (cnt) {
            rex(g, w, 0, 0, rd, false);
            b1(g, 0xC1);
            modrm_rr(g, n, rd);
            b1(g, (uint8_t)cnt);
        }
        return;
    }
    unsigned rb = use(g, op->a[2]);
    if (g->use_bmi2 && op->opc != JIT_OP_ROTL && op->opc != JIT_OP_ROTR) {
        /* shlx/shrx/sarx rd, ra, rb: any count register, three operands */
        unsigned rd = def_from(g, op->a[0], op->a[1], ra);
        static const uint8_t pp[] = { [JIT_OP_SHL] = 1, [JIT_OP_SAR] = 2, [JIT_OP_SHR] = 3 };
        b1(g, 0xC4);
        b1(g, (uint8_t)((rd & 8 ? 0 : 0x80) | 0x40 | (ra & 8 ? 0 : 0x20) | 0x02));
        b1(g, (uint8_t)((w ? 0x80 : 0) | ((~rb & 15) << 3) | pp[op->opc]));
        b1(g, 0xF7);
        modrm_rr(g, rd, ra);
        return;
    }
    mov_rr(g, false, RCX, rb);
    unsigned rd = def_from(g, op->a[0], op->a[1], ra);
    mov_rr(g, w, rd, ra);
    rex(g, w, 0, 0, rd, false);
    b1(g, 0xD3);
    modrm_rr(g, n, rd);
}

static uint64_t popcnt_helper(uint64_t x) { return (uint64_t)__builtin_popcountll(x); }

static void gen_unop(gen *g, const jit_op *op)
{
    jit_opc opc = (jit_opc)op->opc;
    jit_type ty = (jit_type)op->type;
    bool w = w64(ty);
    jit_temp d = op->a[0], a = op->a[1];
    if (opc == JIT_OP_MOV && is_const(g, a)) {
        unsigned rd = def(g, d);
        mov_ri(g, rd, ti(g, a)->val);
        return;
    }
    unsigned ra = use(g, a);
    unsigned rd;
    switch (opc) {
    case JIT_OP_MOV:
        rd = def(g, d);
        mov_rr(g, w, rd, ra);
        break;
    case JIT_OP_NOT: case JIT_OP_NEG:
        rd = def_from(g, d, a, ra);
        mov_rr(g, w, rd, ra);
        rex(g, w, 0, 0, rd, false);
        b1(g, 0xF7);
        modrm_rr(g, opc == JIT_OP_NOT ? 2 : 3, rd);
        break;
    case JIT_OP_CLZ:
        op0f_rr(g, w, 0xBD, RAX, ra);            /* bsr rax, ra */
        mov_ri(g, RCX, UINT64_MAX);
        op0f_rr(g, true, 0x44, RAX, RCX);        /* cmovz rax, rcx */
        rd = def(g, d);
        mov_ri(g, RCX, w ? 63 : 31);
        op_rr(g, true, 0x29, RAX, RCX);          /* sub rcx, rax */
        mov_rr(g, true, rd, RCX);
        break;
    case JIT_OP_CTZ:
        op0f_rr(g, w, 0xBC, RAX, ra);            /* bsf rax, ra */
        mov_ri(g, RCX, w ? 64 : 32);
        op0f_rr(g, true, 0x44, RAX, RCX);        /* cmovz */
        rd = def(g, d);
        mov_rr(g, false, rd, RAX);
        break;
    case JIT_OP_POPCNT:
        if (g->use_popcnt) {
            rd = def(g, d);
            b1(g, 0xF3);
            op0f_rr(g, w, 0xB8, rd, ra);
        } else {
            /* rare host without popcnt: a pure call that clobbers only
             * caller-saved registers, which we save around it */
            for (unsigned r = 0; r < 16; r++)
                if (caller_saved & (1 << r))
                    spill(g, r);
            call_save_pinned(g);
            load_into(g, RDI, a);
            call_abs(g, (const void *)popcnt_helper);
            call_restore_pinned(g);
            rd = def(g, d);
            mov_rr(g, true, rd, RAX);
        }
        break;
    case JIT_OP_BSWAP:
        rd = def_from(g, d, a, ra);
        mov_rr(g, w, rd, ra);
        rex(g, w, 0, 0, rd, false);
        b1(g, 0x0F);
        b1(g, (uint8_t)(0xC8 + (rd & 7)));
        break;
    case JIT_OP_EXT8S: case JIT_OP_EXT8U:
        rd = def(g, d);
        rex(g, w && opc == JIT_OP_EXT8S, rd, 0, ra, true);
        b1(g, 0x0F);
        b1(g, opc == JIT_OP_EXT8S ? 0xBE : 0xB6);
        modrm_rr(g, rd, ra);
        break;
    case JIT_OP_EXT16S: case JIT_OP_EXT16U:
        rd = def(g, d);
        op0f_rr(g, w && opc == JIT_OP_EXT16S, opc == JIT_OP_EXT16S ? 0xBF : 0xB7, rd, ra);
        break;
    case JIT_OP_EXT32S:
        rd = def(g, d);
        op_rr(g, true, 0x63, rd, ra);            /* movsxd */
        break;
    case JIT_OP_EXT32U: case JIT_OP_TRUNC:
        rd = def(g, d);
        zext32(g, rd, ra);
        break;
    default:
        g->overflow = true;
        break;
    }
}

static void gen_setcond(gen *g, const jit_op *op)
{
    jit_type ty = (jit_type)op->type;
    if (is_const(g, op->a[1]) && is_const(g, op->a[2])) {
        bool r = jit_eval_cond((jit_cond)op->cond, ty, ti(g, op->a[1])->val, ti(g, op->a[2])->val);
        mov_ri(g, def(g, op->a[0]), r);
        return;
    }
    uint8_t cc = emit_cmp(g, ty, (jit_cond)op->cond, op->a[1], op->a[2]);
    unsigned rd = def(g, op->a[0]);      /* may emit a spill (mov): flags survive */
    rex(g, false, 0, 0, rd, true);
    b1(g, 0x0F);
    b1(g, (uint8_t)(0x90 | cc));
    modrm_rr(g, 0, rd);                  /* setcc rd8 */
    rex(g, false, rd, 0, rd, true);
    b1(g, 0x0F);
    b1(g, 0xB6);
    modrm_rr(g, rd, rd);                 /* movzx rd32, rd8 */
}

/* d = (a cond b) ? t : f, computed in rax so that at most three registers
 * (a, b, d) are allocated: with six pinned globals only four are free. */
static void gen_movcond(gen *g, const jit_op *op)
{
    jit_type ty = (jit_type)op->type;
    jit_temp d = op->a[0];
    bool consts = is_const(g, op->a[1]) && is_const(g, op->a[2]);
    if (!consts && (d == op->a[3] || d == op->a[4]) && op->a[3] != op->a[4] &&
        !is_const(g, d) && ti(g, d)->kind != TEMP_ENV) {
        /* d = cond ? d : x (or cond ? x : d): one cmov into d's register */
        bool keep_if_true = d == op->a[3];
        jit_temp x = keep_if_true ? op->a[4] : op->a[3];
        unsigned rx;
        if (is_const(g, x)) {
            mov_ri(g, RDX, ti(g, x)->val);          /* before the compare */
            rx = RDX;
        } else {
            rx = use(g, x);
        }
        use(g, d);
        uint8_t cc = emit_cmp(g, ty, (jit_cond)op->cond, op->a[1], op->a[2]);
        unsigned rd = def(g, d);
        op0f_rr(g, true, (uint8_t)(0x40 | (keep_if_true ? cc ^ 1 : cc)), rd, rx);
        return;
    }
    load_into(g, RAX, op->a[4]);
    uint8_t cc;
    if (is_const(g, op->a[1]) && is_const(g, op->a[2])) {
        unsigned ra = use(g, op->a[1]), rb = use(g, op->a[2]);
        op_rr(g, w64(ty), 0x39, rb, ra);
        cc = cc_of[op->cond];
    } else {
        cc = emit_cmp(g, ty, (jit_cond)op->cond, op->a[1], op->a[2]);
    }
    unsigned rt;
    if (g->treg[op->a[3]] >= 0) {
        rt = (unsigned)g->treg[op->a[3]];
    } else {
        /* mov does not touch the flags */
        jit_tinfo *i = ti(g, op->a[3]);
        if (i->kind == TEMP_CONST)
            mov_ri_keep_flags(g, RDX, i->val);
        else
            load_into(g, RDX, op->a[3]);
        rt = RDX;
    }
    op0f_rr(g, true, (uint8_t)(0x40 | cc), RAX, rt);    /* cmovcc rax, rt */
    unsigned rd = def(g, op->a[0]);
    mov_rr(g, true, rd, RAX);
}

static void emit_label_jump(gen *g, uint32_t label)
{
    if (g->label_pos[label] >= 0) {
        b4(g, (uint32_t)(g->label_pos[label] - (int32_t)(pos(g) + 4)));
        return;
    }
    if (g->nfix == g->fix_cap) {
        unsigned cap = g->fix_cap ? g->fix_cap * 2 : 32;
        fixup *f = realloc(g->fix, cap * sizeof(*f));
        if (!f) {
            g->overflow = true;
            return;
        }
        g->fix = f;
        g->fix_cap = cap;
    }
    g->fix[g->nfix++] = (fixup){ pos(g), label };
    b4(g, 0);
}

static void bind_label(gen *g, uint32_t label)
{
    g->label_pos[label] = (int32_t)pos(g);
    for (unsigned i = 0; i < g->nfix; i++)
        if (g->fix[i].label == label && !g->overflow) {
            int32_t rel = (int32_t)pos(g) - (int32_t)(g->fix[i].pos + 4);
            memcpy(g->buf + g->fix[i].pos, &rel, 4);
        }
}

static bool need_swap(gen *g, unsigned memop)
{
    return g->e->fe->big_endian ^ !!(memop & JIT_MO_BSWAP);
}

/* Guest address operand: returns (base, index, disp) for [r15 + index + disp]. */
static void guest_addr(gen *g, jit_temp addr, int32_t disp, unsigned *index, int32_t *d)
{
    unsigned ra = use(g, addr);
    if (g->e->fe->addr_bits == 32) {
        op_rm(g, false, 0x8D, RCX, ra, disp);   /* lea ecx, [ra + disp] (wraps at 32) */
        *index = RCX;
        *d = 0;
    } else {
        *index = ra;
        *d = disp;
    }
}

/* extend rax (raw value of the memop size, host order) per memop into type ty */
static void extend_rax(gen *g, unsigned memop, jit_type ty)
{
    bool s = memop & JIT_MO_SIGN, w = w64(ty);
    switch (memop & JIT_MO_SIZE) {
    case 0:
        rex(g, w && s, RAX, 0, RAX, false);
        b1(g, 0x0F);
        b1(g, s ? 0xBE : 0xB6);
        modrm_rr(g, RAX, RAX);
        break;
    case 1:
        op0f_rr(g, w && s, s ? 0xBF : 0xB7, RAX, RAX);
        break;
    case 2:
        if (s && w)
            op_rr(g, true, 0x63, RAX, RAX);
        else
            zext32(g, RAX, RAX);
        break;
    default:
        break;
    }
}

static void bswap_rax(gen *g, unsigned size)
{
    if (size == 1) {
        b1(g, 0x66);
        b1(g, 0xC1);
        modrm_rr(g, 0, RAX);                     /* rol ax, 8 */
        b1(g, 8);
    } else if (size >= 2) {
        rex(g, size == 3, 0, 0, RAX, false);
        b1(g, 0x0F);
        b1(g, 0xC8);
    }
}

static void gen_call_common(gen *g, const void *fn, unsigned flags, unsigned nargs,
                            const jit_temp *args, const uint64_t *imm_args,
                            jit_temp ret, jit_type ret_type);

/* ---- floating point (jit_fop): SSE2 scalar, FMA3 when the host has it ----
 * Operands travel from their integer registers to xmm0..xmm2 (caller-saved and
 * otherwise unused by generated code).  The host op raises the IEEE flags in
 * MXCSR as the op defines; only a NaN result takes the slow path, which
 * replaces it with the canonical NaN (x86 would propagate an operand's payload
 * or produce its negative "indefinite") and, for FMA, raises invalid for
 * inf * 0 + qNaN, which x86 does not. */

static void sse_rr(gen *g, uint8_t prefix, bool w, uint8_t opc, unsigned reg, unsigned rm)
{
    if (prefix)
        b1(g, prefix);
    rex(g, w, reg, 0, rm, false);
    b1(g, 0x0F);
    b1(g, opc);
    modrm_rr(g, reg, rm);
}

static void movq_to_xmm(gen *g, bool w, unsigned x, unsigned r) { sse_rr(g, 0x66, w, 0x6E, x, r); }
static void movq_from_xmm(gen *g, bool w, unsigned r, unsigned x) { sse_rr(g, 0x66, w, 0x7E, x, r); }

/* Which temps xmm0-xmm2 still hold: the float emitters leave their operands
 * and result there, so a chain of float ops (a product feeding a sum, an FMA
 * chain) skips the round trip through an integer register, which is two
 * transfers of latency per link.  A held NaN result may be the host's
 * non-canonical one: every float op treats all quiet NaN operands alike.
 * Forgotten at labels and at any op not known to leave xmm registers alone
 * (calls clobber them); a redefined temp is dropped. */
static void xmm_forget(gen *g)
{
    for (unsigned k = 0; k < 3; k++)
        g->xmm_hold[k] = JIT_NO_TEMP;
}

static void xmm_drop(gen *g, jit_temp t)
{
    for (unsigned k = 0; k < 3; k++)
        if (g->xmm_hold[k] == t)
            g->xmm_hold[k] = JIT_NO_TEMP;
}

static void xmm_track(gen *g, const jit_op *op)
{
    jit_opc opc = (jit_opc)op->opc;
    switch (opc) {
    case JIT_OP_NOP: case JIT_OP_INSN_START: case JIT_OP_SETCOND: case JIT_OP_MOVCOND:
    case JIT_OP_BRCOND: case JIT_OP_LD: case JIT_OP_ST: case JIT_OP_FFLAGS:
        break;
    case JIT_OP_FADD: case JIT_OP_FSUB: case JIT_OP_FMUL: case JIT_OP_FDIV: case JIT_OP_FSQRT:
    case JIT_OP_FMA: case JIT_OP_FCMP: case JIT_OP_I2F: case JIT_OP_F2I: case JIT_OP_F2F:
        return;     /* their emitters update the holds */
    case JIT_OP_QLD: case JIT_OP_QST:
        if (g->e->opt.mem_mode == JIT_MEM_SYSTEM) {
            xmm_forget(g);
            return;
        }
        break;
    case JIT_OP_POPCNT:
        if (!g->use_popcnt) {
            xmm_forget(g);
            return;
        }
        break;
    default:
        if (!jit_op_is_binop(opc) && !jit_op_is_unop(opc)) {
            xmm_forget(g);
            return;
        }
        break;
    }
    if (jit_op_has_def(op))
        xmm_drop(g, op->a[0]);
}

/* xmm k = temp t: from an xmm register that holds it, from its host register,
 * or straight from memory (env for a global, the frame for a spilled local),
 * which takes no host register: float operands then add no register pressure */
static void to_xmm(gen *g, bool w, unsigned k, jit_temp t)
{
    if (g->xmm_hold[k] == t)
        return;
    for (unsigned j = 0; j < 3; j++)
        if (g->xmm_hold[j] == t) {
            sse_rr(g, 0, false, 0x28, k, j);            /* movaps xmm_k, xmm_j */
            g->xmm_hold[k] = t;
            return;
        }
    jit_tinfo *i = ti(g, t);
    int32_t disp = 0;
    unsigned base = RAX;
    if (g->treg[t] >= 0) {
        movq_to_xmm(g, w, k, (unsigned)g->treg[t]);
    } else {
        if (i->kind == TEMP_GLOBAL) {
            base = RBP;
            disp = (int32_t)g->e->fe->globals[t].offset;
        } else if (i->kind == TEMP_LOCAL && g->slot[t] >= 0) {
            base = RSP;
            disp = g->slot[t] * 8;
        }
        if (base == RAX) {                              /* a constant */
            load_into(g, RAX, t);
            movq_to_xmm(g, w, k, RAX);
        } else {
            b1(g, 0x66);                                /* movq/movd xmm_k, [base + disp] */
            rex(g, w, k, 0, base, false);
            b1(g, 0x0F);
            b1(g, 0x6E);
            modrm_mem(g, k, base, disp);
        }
    }
    g->xmm_hold[k] = t;
}

/* the op's result d is in xmm0 (and in its register) */
static void xmm_result(gen *g, jit_temp d)
{
    xmm_drop(g, d);
    g->xmm_hold[0] = d;
}

static uint64_t fma_helper_d(uint64_t a, uint64_t b, uint64_t c)
{
    return jit_eval_fop(JIT_OP_FMA, JIT_I64, a, b, c);
}

static uint64_t fma_helper_s(uint64_t a, uint64_t b, uint64_t c)
{
    return jit_eval_fop(JIT_OP_FMA, JIT_I32, a, b, c);
}

static void gen_fop(gen *g, const jit_op *op)
{
    jit_opc opc = (jit_opc)op->opc;
    bool w = w64((jit_type)op->type);
    uint8_t pfx = w ? 0xF2 : 0xF3;      /* sd / ss */
    if (opc == JIT_OP_FMA && !g->use_fma) {
        /* host without FMA3: libm's fma in a pure call (see POPCNT) */
        for (unsigned r = 0; r < 16; r++)
            if (caller_saved & (1 << r))
                spill(g, r);
        call_save_pinned(g);
        load_into(g, RDI, op->a[1]);
        load_into(g, RSI, op->a[2]);
        load_into(g, RDX, op->a[3]);
        for (unsigned k = 0; k < 2; k++) {
            if (!(op->memop & (1u << k)))
                continue;
            op0f_rr(g, w, 0xBA, 7, k ? RDX : RDI);      /* btc reg, sign bit */
            b1(g, w ? 63 : 31);
        }
        call_abs(g, (const void *)(w ? fma_helper_d : fma_helper_s));
        call_restore_pinned(g);
        unsigned rd = def(g, op->a[0]);
        mov_rr(g, true, rd, RAX);
        xmm_forget(g);
        return;
    }
    /* operands into xmm first (no host registers), then the destination's */
    if (opc == JIT_OP_FSQRT) {
        to_xmm(g, w, 1, op->a[1]);
    } else if (opc == JIT_OP_FMA) {
        to_xmm(g, w, 0, op->a[3]);
        to_xmm(g, w, 1, op->a[1]);
        to_xmm(g, w, 2, op->a[2]);
    } else {
        to_xmm(g, w, 0, op->a[1]);
        to_xmm(g, w, 1, op->a[2]);
    }
    unsigned rd = def(g, op->a[0]);
    static const uint8_t sse_opc[] = {
        [JIT_OP_FADD] = 0x58, [JIT_OP_FSUB] = 0x5C, [JIT_OP_FMUL] = 0x59,
        [JIT_OP_FDIV] = 0x5E, [JIT_OP_FSQRT] = 0x51,
    };
    switch (opc) {
    case JIT_OP_FSQRT:
        sse_rr(g, pfx, false, 0x51, 0, 1);              /* sqrtsd xmm0, xmm1 */
        break;
    case JIT_OP_FMA:
        /* vf(n)madd/msub231sd/ss xmm0, xmm1, xmm2: xmm0 = +-(xmm1 * xmm2) +- xmm0 */
        b1(g, 0xC4);
        b1(g, 0xE2);
        b1(g, w ? 0xF1 : 0x71);
        b1(g, (uint8_t[]){ 0xB9, 0xBD, 0xBB, 0xBF }[op->memop & 3]);
        modrm_rr(g, 0, 2);
        break;
    default:
        sse_rr(g, pfx, false, sse_opc[opc], 0, 1);
        break;
    }
    /* xmm1 is changed below (FMA's slow path); xmm0 holds the result */
    if (opc == JIT_OP_FMA)
        g->xmm_hold[1] = JIT_NO_TEMP;
    xmm_result(g, op->a[0]);
    movq_from_xmm(g, w, rd, 0);
    sse_rr(g, w ? 0x66 : 0, false, 0x2E, 0, 0);         /* ucomisd xmm0, xmm0 */
    uint8_t *done = jcc8(g, 0xB);                       /* jnp: not a NaN */
    if (opc == JIT_OP_FMA) {
        /* invalid iff one factor is infinite and the other zero: compare
         * the factors' bits without their signs */
        movq_from_xmm(g, w, RAX, 1);
        movq_from_xmm(g, w, RDX, 2);
        op_rr(g, w, 0xD1, 4, RAX);                      /* shl rax, 1 */
        op_rr(g, w, 0xD1, 4, RDX);
        op_rr(g, w, 0x85, RAX, RAX);
        uint8_t *a_zero = jcc8(g, 0x4);                 /* jz */
        op_rr(g, w, 0x85, RDX, RDX);
        uint8_t *no1 = jcc8(g, 0x5);                    /* jnz: neither is zero */
        land8(g, a_zero);
        op_rr(g, w, 0x09, RDX, RAX);                    /* or rax, rdx: the other */
        mov_ri(g, RCX, w ? 0xffe0000000000000ull : 0xff000000u);
        op_rr(g, w, 0x39, RCX, RAX);                    /* cmp rax, rcx */
        uint8_t *no2 = jcc8(g, 0x5);
        sse_rr(g, pfx, false, 0x59, 1, 2);              /* mulsd xmm1, xmm2: inf*0 */
        land8(g, no1);
        land8(g, no2);
    }
    mov_ri(g, rd, w ? 0x7ff8000000000000ull : 0x7fc00000u);
    land8(g, done);
}

/* MXCSR to the red zone below rsp (the kernel skips it when it delivers a
 * signal, and nothing else runs on this stack meanwhile) */
static void stmxcsr_red(gen *g) { b1(g, 0x0F); b1(g, 0xAE); modrm_mem(g, 3, RSP, -8); }

/* fcmp: (u)comisd/ss raise invalid exactly as IEEE's compareQuiet (ucomis: only
 * for a signaling NaN) and compareSignaling (comis: any NaN).  NOFLAGS tests
 * the operands for NaN in integer registers first (the magnitude shifted left
 * above the infinity's) and compares only ordered ones, which raises nothing;
 * no MXCSR access, which would wait for the FP operations before it. */
static void gen_fcmp(gen *g, const jit_op *op)
{
    bool w = w64((jit_type)op->type);
    unsigned ra = use(g, op->a[1]), rb = use(g, op->a[2]);
    unsigned rd = def(g, op->a[0]);
    uint8_t *nan[2] = { NULL, NULL };
    to_xmm(g, w, 0, op->a[1]);
    to_xmm(g, w, 1, op->a[2]);
    if (op->memop == JIT_FCMP_NOFLAGS) {
        if (w)
            mov_ri(g, RCX, 0xffe0000000000000ull);
        for (unsigned k = 0; k < 2; k++) {
            mov_rr(g, w, RAX, k ? rb : ra);
            op_rr(g, w, 0x01, RAX, RAX);                /* add rax, rax */
            if (w)
                op_rr(g, true, 0x39, RCX, RAX);         /* cmp rax, rcx */
            else
                alu_ri(g, false, 7, RAX, (int32_t)0xff000000u);
            nan[k] = jcc8(g, 0x7);                      /* ja */
        }
    }
    uint8_t opc = op->memop == JIT_FCMP_SIGNALING ? 0x2F : 0x2E;
    /* eq: compare a with b; lt/le: b with a, so that "above" means a < b and
     * unordered (CF = 1) reads as false */
    if (op->cond == JIT_EQ)
        sse_rr(g, w ? 0x66 : 0, false, opc, 0, 1);
    else
        sse_rr(g, w ? 0x66 : 0, false, opc, 1, 0);
    b1(g, 0x0F);
    if (op->cond == JIT_EQ) {
        b1(g, 0x94);
        modrm_rr(g, 0, RAX);                            /* sete al */
        b1(g, 0x0F);
        b1(g, 0x9B);
        modrm_rr(g, 0, RCX);                            /* setnp cl */
        op_rr(g, false, 0x20, RCX, RAX);                /* and al, cl */
    } else {
        b1(g, op->cond == JIT_LT ? 0x97 : 0x93);        /* seta / setae al */
        modrm_rr(g, 0, RAX);
    }
    op0f_rr(g, false, 0xB6, rd, RAX);                   /* movzx rd32, al */
    xmm_drop(g, op->a[0]);
    if (op->memop == JIT_FCMP_NOFLAGS) {
        uint8_t *done = jmp8(g);
        land8(g, nan[0]);
        land8(g, nan[1]);
        mov_ri(g, rd, 0);
        land8(g, done);
    }
}

/* i2f: cvtsi2sd/ss (one rounding in the current mode, RNE; inexact).  xorps
 * first: cvtsi2* writes only the low lane and would wait for xmm0's last
 * writer. */
static void gen_i2f(gen *g, const jit_op *op)
{
    bool dw = w64((jit_type)op->type);
    unsigned ra = use(g, op->a[1]);
    unsigned rd = def(g, op->a[0]);
    sse_rr(g, 0, false, 0x57, 0, 0);                    /* xorps xmm0, xmm0 */
    sse_rr(g, dw ? 0xF2 : 0xF3, op->memop == JIT_MO_64, 0x2A, 0, ra);
    movq_from_xmm(g, dw, rd, 0);
    xmm_result(g, op->a[0]);
}

/* f2i: cvt(t)sd/ss2si raises invalid alone for NaN and out of range and gives
 * the "integer indefinite" (the minimum), inexact otherwise when inexact; so
 * only a minimum result needs a look: a NaN or positive operand saturates to
 * the maximum instead. */
static void gen_f2i(gen *g, const jit_op *op)
{
    bool dw = w64((jit_type)op->type), fw = op->memop == JIT_MO_64;
    to_xmm(g, fw, 0, op->a[1]);
    unsigned rd = def(g, op->a[0]);
    g->xmm_hold[1] = JIT_NO_TEMP;                       /* zeroed below */
    xmm_drop(g, op->a[0]);
    sse_rr(g, fw ? 0xF2 : 0xF3, dw, op->cond ? 0x2C : 0x2D, rd, 0);
    alu_ri(g, dw, 7, rd, 1);                            /* cmp rd, 1: OF iff minimum */
    uint8_t *done = jcc8(g, 0x1);                       /* jno */
    sse_rr(g, 0, false, 0x57, 1, 1);                    /* xorps xmm1, xmm1 */
    sse_rr(g, fw ? 0x66 : 0, false, 0x2E, 0, 1);        /* ucomis xmm0, xmm1 */
    uint8_t *nan = jcc8(g, 0xA);                        /* jp */
    uint8_t *neg = jcc8(g, 0x2);                        /* jb: keep the minimum */
    land8(g, nan);
    mov_ri(g, rd, dw ? (uint64_t)INT64_MAX : 0x7fffffffu);
    land8(g, neg);
    land8(g, done);
}

/* f2f: cvtsd2ss (nearest even) / cvtss2sd, and the canonical NaN as in gen_fop
 * (x86 keeps the payload of a NaN operand, quieted) */
static void gen_f2f(gen *g, const jit_op *op)
{
    bool dw = w64((jit_type)op->type);
    to_xmm(g, !dw, 1, op->a[1]);
    unsigned rd = def(g, op->a[0]);
    sse_rr(g, dw ? 0xF3 : 0xF2, false, 0x5A, 0, 1);    /* cvtss2sd / cvtsd2ss xmm0, xmm1 */
    xmm_result(g, op->a[0]);
    movq_from_xmm(g, dw, rd, 0);
    sse_rr(g, dw ? 0x66 : 0, false, 0x2E, 0, 0);        /* ucomis xmm0, xmm0 */
    uint8_t *done = jcc8(g, 0xB);                       /* jnp */
    mov_ri(g, rd, dw ? 0x7ff8000000000000ull : 0x7fc00000u);
    land8(g, done);
}

/* fflags: MXCSR's IE ZE OE UE PE (bits 0, 2-5) in RISC-V's order NV DZ OF UF
 * NX (4-0): IE moves to bit 4, bits 2-5 reversed into 3-0 through a table of
 * sixteen nibbles indexed by (mxcsr & 0x3c) = 4 * ((mxcsr >> 2) & 15). */
static void gen_fflags(gen *g, const jit_op *op)
{
    unsigned rd = def(g, op->a[0]);
    uint64_t lut = 0;
    for (unsigned i = 0; i < 16; i++) {
        unsigned rev = (i & 1) << 3 | (i & 2) << 1 | (i & 4) >> 1 | (i & 8) >> 3;
        lut |= (uint64_t)rev << (4 * i);
    }
    stmxcsr_red(g);
    load_mem(g, false, RAX, RSP, -8);
    mov_rr(g, false, RCX, RAX);
    alu_ri(g, false, 4, RCX, 0x3c);                     /* and ecx, 0x3c */
    mov_ri(g, rd, lut);
    op_rr(g, true, 0xD3, 5, rd);                        /* shr rd, cl */
    alu_ri(g, false, 4, rd, 15);
    alu_ri(g, false, 4, RAX, 1);
    op_rr(g, false, 0xC1, 4, RAX);                      /* shl eax, 4 */
    b1(g, 4);
    op_rr(g, true, 0x09, RAX, rd);                      /* or rd, rax */
}

static void gen_qld(gen *g, const jit_op *op)
{
    unsigned memop = op->memop, size = memop & JIT_MO_SIZE;
    jit_type ty = (jit_type)op->type;
    if (g->e->opt.mem_mode == JIT_MEM_SYSTEM) {
        jit_temp args[4] = { jit_env(g->c), op->a[1], JIT_NO_TEMP, JIT_NO_TEMP };
        uint64_t imm[4] = { 0, 0, memop, g->insn_pc };
        /* the address displacement is added in a scratch temp-free way: the
         * helper receives addr and we add disp before the call */
        (void)imm;
        gen_call_common(g, (const void *)jit_rt_sys_load, JIT_CALL_MAY_EXIT, 4, args,
                        (uint64_t[]){ 0, (uint64_t)op->imm, memop, g->insn_pc },
                        JIT_NO_TEMP, ty);
        extend_rax(g, memop, ty);
        unsigned rd = def(g, op->a[0]);
        mov_rr(g, true, rd, RAX);
        return;
    }
    unsigned index;
    int32_t disp;
    guest_addr(g, op->a[1], (int32_t)op->imm, &index, &disp);
    bool swap = need_swap(g, memop);
    unsigned lmo = swap ? size : memop;        /* load raw when swapping */
    /* Without a byte swap the load goes straight into the destination's
     * register.  Until it has executed, that register holds d's old value
     * (or nothing), so the fault record must not name d as dirty unless it
     * already was. */
    unsigned dst = RAX;
    jit_temp d = op->a[0];
    uint8_t d_dirty = 0;
    if (!swap) {
        d_dirty = g->treg[d] >= 0 && g->tdirty[d];
        dst = def(g, d);
        g->tdirty[d] = d_dirty;
    }
    uint32_t start;
    fault_begin(g, &start);
    bound_check(g, op->a[1], index, disp, false);
    bool s = lmo & JIT_MO_SIGN, w = w64(ty);
    switch (size) {
    case 0:
        rex(g, w && s, dst, index, R15, false);
        b1(g, 0x0F);
        b1(g, s ? 0xBE : 0xB6);
        break;
    case 1:
        rex(g, w && s, dst, index, R15, false);
        b1(g, 0x0F);
        b1(g, s ? 0xBF : 0xB7);
        break;
    case 2:
        if (s && w) {
            rex(g, true, dst, index, R15, false);
            b1(g, 0x63);
        } else {
            rex(g, false, dst, index, R15, false);
            b1(g, 0x8B);
        }
        break;
    default:
        rex(g, true, dst, index, R15, false);
        b1(g, 0x8B);
        break;
    }
    modrm_sib(g, dst, R15, index, disp);
    fault_end(g, start);
    if (!swap) {
        g->tdirty[d] = 1;
        return;
    }
    bswap_rax(g, size);
    extend_rax(g, memop, ty);
    unsigned rd = def(g, d);
    mov_rr(g, true, rd, RAX);
}

static void gen_qst(gen *g, const jit_op *op)
{
    unsigned memop = op->memop, size = memop & JIT_MO_SIZE;
    if (g->e->opt.mem_mode == JIT_MEM_SYSTEM) {
        jit_temp args[5] = { jit_env(g->c), op->a[1], op->a[0], JIT_NO_TEMP, JIT_NO_TEMP };
        gen_call_common(g, (const void *)jit_rt_sys_store, JIT_CALL_MAY_EXIT, 5, args,
                        (uint64_t[]){ 0, (uint64_t)op->imm, 0, memop, g->insn_pc },
                        JIT_NO_TEMP, JIT_I64);
        return;
    }
    unsigned rv = use(g, op->a[0]);
    unsigned index;
    int32_t disp;
    guest_addr(g, op->a[1], (int32_t)op->imm, &index, &disp);
    if (need_swap(g, memop)) {
        mov_rr(g, true, RAX, rv);
        bswap_rax(g, size);
        rv = RAX;
    }
    uint32_t start;
    fault_begin(g, &start);
    bound_check(g, op->a[1], index, disp, true);
    if (size == 1)
        b1(g, 0x66);
    rex(g, size == 3, rv, index, R15, size == 0);
    b1(g, size == 0 ? 0x88 : 0x89);
    modrm_sib(g, rv, R15, index, disp);
    fault_end(g, start);
}

static void gen_host_ld(gen *g, const jit_op *op)
{
    unsigned memop = op->memop, size = memop & JIT_MO_SIZE;
    jit_type ty = (jit_type)op->type;
    unsigned rb = use(g, op->a[1]);
    int32_t disp = (int32_t)op->imm;
    bool s = memop & JIT_MO_SIGN, w = w64(ty);
    unsigned rd = def(g, op->a[0]);
    switch (size) {
    case 0: case 1:
        rex(g, w && s, rd, 0, rb, false);
        b1(g, 0x0F);
        b1(g, size == 0 ? (s ? 0xBE : 0xB6) : (s ? 0xBF : 0xB7));
        modrm_mem(g, rd, rb, disp);
        break;
    case 2:
        op_rm(g, s && w, s && w ? 0x63 : 0x8B, rd, rb, disp);
        break;
    default:
        op_rm(g, true, 0x8B, rd, rb, disp);
        break;
    }
}

static void gen_host_st(gen *g, const jit_op *op)
{
    unsigned size = op->memop & JIT_MO_SIZE;
    unsigned rv = use(g, op->a[0]);
    unsigned rb = use(g, op->a[1]);
    if (size == 1)
        b1(g, 0x66);
    rex(g, size == 3, rv, 0, rb, size == 0);
    b1(g, size == 0 ? 0x88 : 0x89);
    modrm_mem(g, rv, rb, (int32_t)op->imm);
}

/* A call.  args[i] == JIT_NO_TEMP means "use imm_args[i]"; for the system
 * mode hooks, imm_args[1] is a displacement added to args[1].  The result is
 * left in rax (and moved to ret if given). */
static void gen_call_common(gen *g, const void *fn, unsigned flags, unsigned nargs,
                            const jit_temp *args, const uint64_t *imm_args,
                            jit_temp ret, jit_type ret_type)
{
    bool may_exit = flags & JIT_CALL_MAY_EXIT;
    bool reads = may_exit || (flags & JIT_CALL_READS_GLOBALS);
    bool writes = may_exit || (flags & JIT_CALL_WRITES_GLOBALS);
    if (reads || writes) {
        sync_regs(g, false);
        sync_pinned(g);
    } else {
        call_save_pinned(g);
    }
    for (unsigned r = 0; r < 16; r++)
        if (caller_saved & (1 << r))
            spill(g, r);
    if (may_exit) {
        mov_ri(g, RAX, g->insn_pc);
        store_mem(g, true, RAX, RBP, offsetof(jit_cpu, pc));
    }
    for (unsigned i = 0; i < nargs; i++) {
        unsigned r = arg_regs[i];
        if (args[i] == JIT_NO_TEMP) {
            mov_ri(g, r, imm_args[i]);
        } else {
            load_into(g, r, args[i]);
            if (imm_args && i == 1 && imm_args[1])
                op_rm(g, true, 0x8D, r, r, (int32_t)imm_args[1]);   /* lea r, [r+disp] */
        }
    }
    call_abs(g, fn);
    if (writes) {
        forget_globals(g);
        reload_pinned(g);
    } else {
        call_restore_pinned(g);
    }
    if (ret != JIT_NO_TEMP) {
        unsigned rd = def(g, ret);
        mov_rr(g, w64(ret_type), rd, RAX);
    }
}

static void gen_call(gen *g, const jit_op *op)
{
    gen_call_common(g, op->helper->fn, op->helper->flags, op->nargs, &op->a[1], NULL,
                    op->a[0], (jit_type)op->type);
}

static void gen_atomic(gen *g, const jit_op *op)
{
    uint64_t tybit = op->type == JIT_I64 ? 0x100 : 0;
    if (op->opc == JIT_OP_ATOMIC_CMPXCHG) {
        jit_temp args[6] = { jit_env(g->c), op->a[1], op->a[2], op->a[3], JIT_NO_TEMP,
                             JIT_NO_TEMP };
        uint64_t imm[6] = { 0, 0, 0, 0, op->memop | tybit, g->insn_pc };
        gen_call_common(g, (const void *)jit_rt_cmpxchg, JIT_CALL_READS_GLOBALS, 6, args,
                        imm, op->a[0], (jit_type)op->type);
    } else {
        jit_temp args[5] = { jit_env(g->c), op->a[1], op->a[2], JIT_NO_TEMP, JIT_NO_TEMP };
        uint64_t imm[5] = { 0, 0, 0, op->memop | tybit, g->insn_pc };
        gen_call_common(g, (const void *)jit_rt_rmw, JIT_CALL_READS_GLOBALS, 5, args, imm,
                        op->a[0], (jit_type)op->type);
    }
}

static void exit_with(gen *g, uint64_t value)
{
    mov_ri(g, RAX, value);
    jmp_to(g, g->e->epilogue);
}

/* Leave to the engine (rax already holds the value) with the engine-wide pins
 * stored: through the shared stub in generation 1, directly in generation 0
 * (no pins).  Only for a register state in the chained-entry convention (the
 * gmap pins in their registers, everything else in env). */
static void exit_gmap(gen *g)
{
    if (g->tbgen && g->e->pin_exit) {
        jmp_to(g, g->e->pin_exit);
        return;
    }
    map_store(g, g->gmap);
    jmp_to(g, g->e->epilogue);
}

static void store_pc_imm(gen *g, uint64_t pc)
{
    mov_ri(g, RAX, pc);
    store_mem(g, true, RAX, RBP, offsetof(jit_cpu, pc));
}

static void jmp_back(gen *g, uint32_t target)
{
    b1(g, 0xE9);
    b4(g, (uint32_t)((int32_t)target - (int32_t)(pos(g) + 4)));
}

static void gen_goto_tb(gen *g, const jit_op *op, jit_tb *tb)
{
    unsigned slot = op->memop % JIT_TB_SLOTS;
    sync_regs(g, false);
    if (g->loop && (uint64_t)op->imm == g->c->pc) {
        jmp_back(g, g->loop_head);      /* pins stay where the loop head wants them */
        return;
    }
    if (g->swapped)
        map_switch(g, g->bmap, g->gmap);
    /* jmp rel32 with its displacement 4-aligned, so patching is one atomic
     * store; it starts out jumping to the next instruction */
    while ((pos(g) + 1) & 3)
        b1(g, 0x90);
    b1(g, 0xE9);
    /* two exits through one slot: that slot never chains */
    tb->jmp_patch[slot] = g->slots_seen & (1u << slot) ? 0 : pos(g);
    g->slots_seen |= 1u << slot;
    b4(g, 0);
    store_pc_imm(g, (uint64_t)op->imm);
    /* rax = tb | 8 | slot: the engine links this slot */
    mov_ri(g, RAX, (uint64_t)(uintptr_t)tb | JIT_RET_CHAIN | slot);
    exit_gmap(g);
}

/* An indirect jump: probe the CPU's jump cache inline and jump to the target's
 * chained entry on a hit; only a miss returns to the engine.  The entry's key
 * is the block's own flags and generation, a constant here: a block runs with
 * cpu->flags equal to the flags it was translated for, and a front-end that
 * changes them in a helper leaves through a goto_ptr of a constant pc (as riscv
 * does after writing frm), which checks cpu->flags as they are now. */
static void gen_goto_ptr(gen *g, const jit_op *op)
{
    bool dyn_key = is_const(g, op->a[0]);
    unsigned rp = use(g, op->a[0]);
    sync_regs(g, false);
    bool pc_stored = false;
    if (g->swapped) {
        /* the target expects the engine-wide pins; rp may be one of them */
        store_mem(g, true, rp, RBP, offsetof(jit_cpu, pc));
        map_switch(g, g->bmap, g->gmap);
        rp = RSI;           /* free: nothing is live after this exit */
        load_mem(g, true, rp, RBP, offsetof(jit_cpu, pc));
        pc_stored = true;
    }
    if (g->e->opt.log & JIT_LOG_EXEC) {
        if (!pc_stored)
            store_mem(g, true, rp, RBP, offsetof(jit_cpu, pc));
        map_store(g, g->gmap);
        exit_with(g, JIT_RET_LOOKUP);
        return;
    }
    if (g->e->count_ptr) {
        load_mem(g, true, RAX, RBP, offsetof(jit_cpu, priv));
        rex(g, true, 0, 0, RAX, false);
        b1(g, 0xFF);
        modrm_mem(g, 0, RAX, offsetof(jit_cpu_priv, n_ptr));   /* inc qword */
    }
    /* rdx = key; rcx = jit_jc_hash(pc) * 32; rax = jump cache */
    if (dyn_key) {
        op_rm(g, false, 0x8B, RDX, RBP, offsetof(jit_cpu, flags));
        rex(g, true, 0, 0, RDX, false);
        b1(g, 0x0F);
        b1(g, 0xBA);
        modrm_rr(g, 5, RDX);
        b1(g, 32);                                   /* bts rdx, 32: JIT_JC_KEY */
        if (g->tbgen) {
            rex(g, true, 0, 0, RDX, false);
            b1(g, 0x0F);
            b1(g, 0xBA);
            modrm_rr(g, 5, RDX);
            b1(g, 33);                               /* generation 1 */
        }
    } else {
        mov_ri(g, RDX, JIT_JC_KEY(g->c->flags, g->tbgen));
    }
    load_mem(g, true, RAX, RBP, offsetof(jit_cpu, jc));
    op_rr(g, false, 0x89, rp, RCX);                  /* mov ecx, rp32 */
    alu_ri(g, false, 4, RCX, (JIT_JC_SIZE - 1) << 1);   /* and ecx, mask << 1 */
    rex(g, true, 0, 0, RCX, false);
    b1(g, 0xC1);
    modrm_rr(g, 4, RCX);
    b1(g, 4);                                        /* shl rcx, 4 */
    rex(g, true, rp, RCX, RAX, false);
    b1(g, 0x3B);
    modrm_sib(g, rp, RAX, RCX, 0);                   /* cmp rp, [rax + rcx] */
    uint8_t *miss1 = jcc8(g, 0x5);
    rex(g, true, RDX, RCX, RAX, false);
    b1(g, 0x3B);
    modrm_sib(g, RDX, RAX, RCX, 8);                  /* cmp rdx, [rax + rcx + 8] */
    uint8_t *miss2 = jcc8(g, 0x5);
    rex(g, false, 0, RCX, RAX, false);
    b1(g, 0xFF);
    modrm_sib(g, 4, RAX, RCX, 16);                   /* jmp [rax + rcx + 16] */
    land8(g, miss1);
    land8(g, miss2);
    if (!pc_stored)
        store_mem(g, true, rp, RBP, offsetof(jit_cpu, pc));
    mov_ri(g, RAX, JIT_RET_LOOKUP);
    exit_gmap(g);
}

static void gen_exit(gen *g, const jit_op *op)
{
    unsigned rpc = use(g, op->a[0]);
    unsigned rarg = use(g, op->a[1]);
    sync_regs(g, false);
    store_mem(g, true, rpc, RBP, offsetof(jit_cpu, pc));
    store_mem(g, true, rarg, RBP, offsetof(jit_cpu, exit_arg));
    sync_pinned(g);
    exit_with(g, op->memop);
}

/* ---- block ---- */

/* Last use of every temp, in op order.  That is exact while branches only go
 * forward.  With a loop inside the block a local's value may come around the
 * back edge; linear order is still exact for a local whose first occurrence
 * is its definition with no label between it and the last use (every path to
 * a use passes the definition: front-ends' per-instruction temporaries);
 * any other local lives to the end. */
static void compute_last_use(gen *g)
{
    jit_ctx *c = g->c;
    uint32_t *first = g->slot_tmp;
    for (unsigned t = 0; t < c->ntemps; t++) {
        g->last_use[t] = 0;
        first[t] = UINT32_MAX;
    }
    unsigned nlabels = 0;
    for (unsigned i = 0; i < c->nops; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_LABEL)
            nlabels++;
        g->labels_before[i] = nlabels;
        unsigned f, n = jit_op_nuses(op, &f);
        for (unsigned k = 0; k < n; k++) {
            jit_temp t = op->a[f + k];
            if (t == JIT_NO_TEMP)
                continue;
            g->last_use[t] = i;
            if (first[t] == UINT32_MAX)
                first[t] = i | 0x80000000u;         /* used before defined */
        }
        if (jit_op_has_def(op) && op->a[0] != JIT_NO_TEMP && first[op->a[0]] == UINT32_MAX)
            first[op->a[0]] = i;
    }
    if (!c->has_back_branch)
        return;
    for (unsigned t = 0; t < c->ntemps; t++) {
        if (c->temps[t].kind != TEMP_LOCAL || first[t] == UINT32_MAX)
            continue;
        if (g->last_use[t] == 0 && !(first[t] & 0x80000000u) && first[t] > 0)
            continue;                           /* defined, never used */
        if ((first[t] & 0x80000000u) || g->last_use[t] < first[t] ||
            g->labels_before[g->last_use[t]] != g->labels_before[first[t]])
            g->last_use[t] = UINT32_MAX;
    }
}

static bool is_loop_back(gen *g, uint32_t label);

/* A block that jumps back to its own start (a loop) keeps the globals it uses
 * in the pin registers across iterations: the engine-wide pins it does not
 * use make room for its own most used globals.  Other blocks: bmap = gmap. */
static void choose_loop_pins(gen *g)
{
    static const uint8_t pin_regs[] = { RBX, R12, R13, R14, R10, R11 };
    jit_ctx *c = g->c;
    memcpy(g->bmap, g->gmap, sizeof(g->bmap));
    g->loop = false;
    if (g->e->opt.log & JIT_LOG_EXEC)
        return;             /* every block execution passes through the engine */
    for (unsigned i = 0; i < c->nops; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_GOTO_TB && (uint64_t)op->imm == c->pc)
            g->loop = true;
        if ((op->opc == JIT_OP_BR || op->opc == JIT_OP_BRCOND) &&
            g->label_op[op->imm] >= 0 && (unsigned)g->label_op[op->imm] < i) {
            g->loop = true;
            g->loop_label[op->imm] = 1;
        }
    }
    if (!g->loop)
        return;
    /* The block's own loop (back to its start) ends at its last jump there:
     * the ops after it (the way out) count 8 times less.  Uses count 8 times
     * more inside each inner loop (label .. back branch). */
    unsigned self_end = 0;
    for (unsigned i = 0; i < c->nops; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_GOTO_TB && (uint64_t)op->imm == c->pc)
            self_end = i;
        if (op->opc == JIT_OP_BRCOND && g->label_op[op->imm] >= 0 &&
            (unsigned)g->label_op[op->imm] > i && is_loop_back(g, (uint32_t)op->imm))
            self_end = i > self_end ? i : self_end;
    }
    uint32_t count[JIT_MAX_GLOBALS] = { 0 };
    for (unsigned i = 0; i < c->nops; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_NOP || op->opc == JIT_OP_INSN_START)
            continue;
        uint32_t w = i <= self_end ? 8 : 1;
        for (unsigned j = i; j < c->nops; j++) {
            const jit_op *b = &c->ops[j];
            if ((b->opc == JIT_OP_BR || b->opc == JIT_OP_BRCOND) && g->label_op[b->imm] >= 0 &&
                (unsigned)g->label_op[b->imm] <= i && w < (1u << 20))
                w *= 8;
        }
        for (unsigned k = 0; k < JIT_OP_MAX_ARGS; k++)
            if (op->a[k] < g->nglobals)
                count[op->a[k]] += w;
    }
    /* the most used globals (an engine-wide pin wins a tie: it needs no
     * move at entry and exit) */
    bool want[JIT_MAX_GLOBALS] = { false };
    for (unsigned i = 0; i < sizeof(pin_regs); i++) {
        int best = -1;
        uint64_t best_score = 0;
        for (unsigned t = 0; t < g->nglobals; t++) {
            bool engine_pin = false;
            for (unsigned k = 0; k < 16; k++)
                engine_pin |= g->gmap[k] == t;
            uint64_t score = (uint64_t)count[t] * 2 + engine_pin;
            if (count[t] && !want[t] && (best < 0 || score > best_score)) {
                best = (int)t;
                best_score = score;
            }
        }
        if (best < 0)
            break;
        want[best] = true;
    }
    /* wanted globals already in a pin register stay; the other pin
     * registers take the remaining wanted ones */
    bool placed[JIT_MAX_GLOBALS] = { false };
    for (unsigned i = 0; i < sizeof(pin_regs); i++)
        if (g->bmap[pin_regs[i]] != JIT_NO_TEMP && want[g->bmap[pin_regs[i]]])
            placed[g->bmap[pin_regs[i]]] = true;
    for (unsigned i = 0; i < sizeof(pin_regs); i++) {
        unsigned r = pin_regs[i];
        if (g->bmap[r] != JIT_NO_TEMP && want[g->bmap[r]])
            continue;
        int next = -1;
        for (unsigned t = 0; t < g->nglobals && next < 0; t++)
            if (want[t] && !placed[t])
                next = (int)t;
        if (next < 0)
            break;
        g->bmap[r] = (jit_temp)next;
        placed[next] = true;
        g->swapped = true;
    }
}

/* Whether the branch at op index `from` is the only one to label l. */
static bool label_refs_from(jit_ctx *c, unsigned l, int from)
{
    for (unsigned i = 0; i < c->nops; i++)
        if ((c->ops[i].opc == JIT_OP_BR || c->ops[i].opc == JIT_OP_BRCOND) &&
            c->ops[i].imm == (int64_t)l && (int)i != from)
            return false;
    return true;
}

/* Labels that only one forward brcond reaches and that nothing falls into. */
static void find_exit_tails(gen *g)
{
    jit_ctx *c = g->c;
    uint32_t *refs = g->slot_tmp;       /* free again after compute_last_use */
    memset(refs, 0, (c->nlabels + 1) * sizeof(*refs));
    for (unsigned i = 0; i < c->nops; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_BR)
            refs[op->imm] += 2;         /* never a tail */
        else if (op->opc == JIT_OP_BRCOND)
            refs[op->imm] += g->label_op[op->imm] > (int32_t)i ? 1 : 2;
    }
    for (unsigned l = 0; l < c->nlabels; l++) {
        if (refs[l] > 2 || g->label_op[l] < 0 || g->loop_label[l])
            continue;
        jit_opc prev = JIT_OP_NOP;
        int prev_i = -1;
        for (int i = g->label_op[l] - 1; i >= 0; i--)
            if (c->ops[i].opc != JIT_OP_NOP && c->ops[i].opc != JIT_OP_INSN_START) {
                prev = (jit_opc)c->ops[i].opc;
                prev_i = i;
                break;
            }
        bool ends = prev == JIT_OP_GOTO_TB || prev == JIT_OP_GOTO_PTR ||
                    prev == JIT_OP_EXIT || prev == JIT_OP_BR;
        if (refs[l] == 1)
            g->tail[l] = ends;
        /* a label nothing branches to, or whose only branch is the br just
         * before it ("br L; L:"), is a point the code passes straight through */
        else if ((refs[l] == 0 && !ends && prev_i >= 0) ||
                 (refs[l] == 2 && prev == JIT_OP_BR && c->ops[prev_i].imm == (int64_t)l &&
                  label_refs_from(c, l, prev_i)))
            g->tail[l] = 3;
    }
}

/* An inner loop's head checks exit_request like the block's entry: a kick
 * must not wait for an inner loop to end.  The stub (emitted at the end)
 * leaves with the pc of the guest instruction after the label. */
static void loop_check(gen *g, unsigned label_idx)
{
    uint64_t pc = g->c->pc;
    for (unsigned i = label_idx + 1; i < g->c->nops; i++)
        if (g->c->ops[i].opc == JIT_OP_INSN_START) {
            pc = (uint64_t)g->c->ops[i].imm;
            break;
        }
    struct req_stub *r = realloc(g->reqs, (g->nreqs + 1) * sizeof(*r));
    if (!r) {
        g->overflow = true;
        return;
    }
    g->reqs = r;
    op_rm(g, false, 0x83, 7, RBP, offsetof(jit_cpu, exit_request));
    b1(g, 0);                                    /* cmp dword [rbp+req], 0 */
    b1(g, 0x0F);
    b1(g, 0x85);
    g->reqs[g->nreqs++] = (struct req_stub){ pos(g), pc,
        g->keep[g->c->ops[label_idx].imm] ? (int32_t)g->c->ops[label_idx].imm : -1 };
    b4(g, 0);
}

/* Whether a label only leads back to the loop head: the branch to it can
 * jump there directly (memory is current after a branch's sync). */
static bool is_loop_back(gen *g, uint32_t label)
{
    if (!g->loop)
        return false;
    jit_ctx *c = g->c;
    for (unsigned i = (unsigned)g->label_op[label] + 1; i < c->nops; i++) {
        const jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_NOP || op->opc == JIT_OP_INSN_START)
            continue;
        return op->opc == JIT_OP_GOTO_TB && (uint64_t)op->imm == c->pc;
    }
    return false;
}

/* Whether op i only computes a value into a global that the next op naming
 * that global overwrites without reading it, with nothing in between that
 * could see the global (a memory access that may fault, a call, a branch, a
 * label, an exit): RISC-V's auipc + addi into one register. */
static bool dead_global_write(gen *g, unsigned i)
{
    jit_ctx *c = g->c;
    const jit_op *op = &c->ops[i];
    jit_opc o = (jit_opc)op->opc;
    bool pure = jit_op_is_binop(o) || (jit_op_is_unop(o) && o != JIT_OP_POPCNT) ||
                o == JIT_OP_SETCOND || o == JIT_OP_MOVCOND;
    if (!pure || op->a[0] >= g->nglobals)
        return false;
    jit_temp d = op->a[0];
    for (unsigned j = i + 1; j < c->nops; j++) {
        const jit_op *b = &c->ops[j];
        switch (b->opc) {
        case JIT_OP_NOP: case JIT_OP_INSN_START:
            continue;
        case JIT_OP_QLD: case JIT_OP_QST: case JIT_OP_LD: case JIT_OP_ST:
        case JIT_OP_ATOMIC_CMPXCHG: case JIT_OP_ATOMIC_RMW: case JIT_OP_CALL:
        case JIT_OP_GOTO_TB: case JIT_OP_GOTO_PTR: case JIT_OP_EXIT: case JIT_OP_LABEL:
        case JIT_OP_BR: case JIT_OP_BRCOND:
            return false;
        default:
            break;
        }
        unsigned f, n = jit_op_nuses(b, &f);
        for (unsigned k = 0; k < n; k++)
            if (b->a[f + k] == d)
                return false;
        if (jit_op_has_def(b) && b->a[0] == d)
            return true;
    }
    return false;
}

/* "shl t, x, 32" at op i followed (nothing but instruction marks between) by
 * "shr d, t, 32" where t is d or a local that dies there: returns the index
 * of the shr (the pair is a zero extension of x into d), else 0.  The value
 * of t in between is never seen: nothing between them can fault. */
static unsigned zext_pair(gen *g, unsigned i)
{
    jit_ctx *c = g->c;
    const jit_op *a = &c->ops[i];
    if (a->opc != JIT_OP_SHL || a->type != JIT_I64 || !is_const(g, a->a[2]) ||
        ti(g, a->a[2])->val != 32 || is_const(g, a->a[1]) || ti(g, a->a[1])->kind == TEMP_ENV)
        return 0;
    unsigned j = i + 1;
    while (j < c->nops && (c->ops[j].opc == JIT_OP_NOP || c->ops[j].opc == JIT_OP_INSN_START))
        j++;
    if (j >= c->nops)
        return 0;
    const jit_op *b = &c->ops[j];
    jit_temp t = a->a[0];
    if (b->opc != JIT_OP_SHR || b->type != JIT_I64 || b->a[1] != t || !is_const(g, b->a[2]) ||
        ti(g, b->a[2])->val != 32)
        return 0;
    if (b->a[0] != t && !(ti(g, t)->kind == TEMP_LOCAL && g->last_use[t] == j))
        return 0;
    return j;
}

/* The scratch registers (rax, rcx, rdx) an op's code uses; no temp may live
 * in them during the op. */
static uint16_t clobber_mask(gen *g, const jit_op *op)
{
    switch (op->opc) {
    case JIT_OP_SHL: case JIT_OP_SHR: case JIT_OP_SAR:
        if (g->use_bmi2)
            return 0;
        /* fall through */
    case JIT_OP_ROTL: case JIT_OP_ROTR:
    {
        int32_t imm;
        return const_imm(g, op->a[2], (jit_type)op->type, &imm) ? 0 : 1 << RCX;
    }
    case JIT_OP_MOVCOND:
        return (1 << RAX) | (1 << RDX);
    case JIT_OP_QLD: case JIT_OP_QST:
        if (g->e->opt.mem_mode == JIT_MEM_SYSTEM)
            return SCRATCH;
        return (need_swap(g, op->memop) ? 1 << RAX : 0) |
               (g->e->fe->addr_bits == 32 ? 1 << RCX : 0);
    case JIT_OP_ADD: case JIT_OP_SUB: case JIT_OP_MUL: case JIT_OP_AND: case JIT_OP_OR:
    case JIT_OP_XOR: case JIT_OP_SETCOND: case JIT_OP_LD: case JIT_OP_ST:
    case JIT_OP_BRCOND: case JIT_OP_BR: case JIT_OP_LABEL: case JIT_OP_NOP:
    case JIT_OP_INSN_START: case JIT_OP_MOV: case JIT_OP_NOT: case JIT_OP_NEG:
    case JIT_OP_BSWAP: case JIT_OP_EXT8S: case JIT_OP_EXT8U: case JIT_OP_EXT16S:
    case JIT_OP_EXT16U: case JIT_OP_EXT32S: case JIT_OP_EXT32U: case JIT_OP_TRUNC:
        return 0;
    case JIT_OP_POPCNT:
        return g->use_popcnt ? 0 : SCRATCH;
    default:    /* mulh, div, clz/ctz, float ops, calls, atomics, block exits */
        return SCRATCH;
    }
}

/* Loop heads that can keep globals in registers: the code before falls into
 * them and every branch to them is a backward one (so the head's register
 * map is known when the branches are generated). */
static void find_kept_heads(gen *g)
{
    jit_ctx *c = g->c;
    for (unsigned l = 0; l < c->nlabels; l++) {
        if (!g->loop_label[l] || g->label_op[l] < 0)
            continue;
        bool ok = true;
        for (int i = g->label_op[l] - 1; i >= 0; i--) {
            jit_opc o = (jit_opc)c->ops[i].opc;
            if (o == JIT_OP_NOP || o == JIT_OP_INSN_START || o == JIT_OP_LABEL)
                continue;
            ok = o != JIT_OP_GOTO_TB && o != JIT_OP_GOTO_PTR && o != JIT_OP_EXIT && o != JIT_OP_BR;
            break;
        }
        for (int i = 0; i < g->label_op[l] && ok; i++)
            if ((c->ops[i].opc == JIT_OP_BR || c->ops[i].opc == JIT_OP_BRCOND) &&
                c->ops[i].imm == (int64_t)l)
                ok = false;
        g->keep[l] = ok;
    }
}

/* At a kept loop head: locals leave the registers (written back if live),
 * the globals the loop uses most are loaded into free registers (leaving
 * three for the loop's temporaries), and the map is recorded.  Every global
 * in it is dirty from here on: a back edge may bring a changed value. */
static void enter_loop_head(gen *g, unsigned label)
{
    jit_ctx *c = g->c;
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (t != JIT_NO_TEMP && !(g->pinned & (1 << r)) && ti(g, t)->kind != TEMP_GLOBAL) {
            writeback(g, r);
            unassign(g, r);
        }
    }
    unsigned last = (unsigned)g->label_op[label];
    for (unsigned i = last; i < c->nops; i++)
        if ((c->ops[i].opc == JIT_OP_BR || c->ops[i].opc == JIT_OP_BRCOND) &&
            c->ops[i].imm == (int64_t)label)
            last = i;
    uint32_t count[JIT_MAX_GLOBALS] = { 0 };
    for (unsigned i = (unsigned)g->label_op[label]; i <= last; i++) {
        const jit_op *op = &c->ops[i];
        unsigned f, n = jit_op_nuses(op, &f);
        for (unsigned k = 0; k < n; k++)
            if (op->a[f + k] < g->nglobals)
                count[op->a[f + k]]++;
        if (jit_op_has_def(op) && op->a[0] < g->nglobals)
            count[op->a[0]]++;
    }
    for (;;) {
        unsigned nfree = 0;
        for (unsigned i = 0; i < NALLOC; i++)
            nfree += g->reg_temp[alloc_order[i]] == JIT_NO_TEMP &&
                     !(g->pinned & (1 << alloc_order[i]));
        int best = -1;
        for (unsigned t = 0; t < g->nglobals; t++)
            if (count[t] >= 2 && g->treg[t] < 0 && (best < 0 || count[t] > count[best]))
                best = (int)t;
        if (nfree <= 3 || best < 0)
            break;
        unsigned r = (unsigned)free_reg(g);
        load_into(g, r, (jit_temp)best);
        assign(g, r, (jit_temp)best);
        count[best] = 0;
    }
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        bool keep = t != JIT_NO_TEMP && !(g->pinned & (1 << r));
        g->head_map[label][r] = keep ? t : JIT_NO_TEMP;
        if (keep)
            g->tdirty[t] = 1;
    }
}

/* Whether the registers differ from a kept head's map in a way that needs code. */
static bool head_mismatch(gen *g, unsigned label)
{
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r], want = g->head_map[label][r];
        if (g->pinned & (1 << r) || t == want)
            continue;
        if (want != JIT_NO_TEMP || (ti(g, t)->kind == TEMP_GLOBAL && g->tdirty[t]))
            return true;
    }
    return false;
}

/* On a back edge to a kept head: dirty globals that the head does not expect
 * where they are go to env, then the head's registers are loaded from env.
 * Emits code only; the generator's state (the fall-through path's) is not
 * changed.  Dirty locals were written back before. */
static void head_conform(gen *g, unsigned label)
{
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (!(g->pinned & (1 << r)) && t != JIT_NO_TEMP && t != g->head_map[label][r] &&
            ti(g, t)->kind == TEMP_GLOBAL && g->tdirty[t])
            map_move(g, r, t, true);
    }
    for (unsigned r = 0; r < 16; r++) {
        jit_temp want = g->head_map[label][r];
        if (want != JIT_NO_TEMP && g->reg_temp[r] != want)
            map_move(g, r, want, false);
    }
}

/* Write back the dirty locals (a branch to a label: locals live across it are
 * in their slots there). */
static void sync_locals(gen *g)
{
    for (unsigned r = 0; r < 16; r++) {
        jit_temp t = g->reg_temp[r];
        if (t != JIT_NO_TEMP && ti(g, t)->kind != TEMP_GLOBAL && !(g->pinned & (1 << r)))
            writeback(g, r);
    }
}

int jit_x86_gen(jit_engine *e, jit_ctx *c, jit_tb *tb)
{
    size_t room = e->code_cap - e->code_used;
    size_t need = (size_t)c->nops * 96 + 512;
    if (room < need)
        return -ENOSPC;
    gen g;
    memset(&g, 0, sizeof(g));
    g.e = e;
    g.c = c;
    g.buf = g.p = e->code_buf + e->code_used;
    g.end = e->code_buf + e->code_cap;
    g.nglobals = e->fe->nglobals;
    g.use_popcnt = __builtin_cpu_supports("popcnt");
    g.use_fma = __builtin_cpu_supports("fma") && !getenv("VIREO_JIT_NO_FMA");
    g.use_bmi2 = __builtin_cpu_supports("bmi2") && !getenv("VIREO_JIT_NO_BMI2");
    g.treg = malloc(c->ntemps);
    g.tdirty = calloc(c->ntemps, 1);
    g.checked = calloc(c->ntemps, 1);
    g.slot = malloc(c->ntemps * sizeof(int32_t));
    g.last_use = malloc(c->ntemps * sizeof(uint32_t));
    g.label_pos = malloc((c->nlabels + 1) * sizeof(int32_t));
    g.label_op = malloc((c->nlabels + 1) * sizeof(int32_t));
    g.loop_label = calloc(c->nlabels + 1, 1);
    g.keep = calloc(c->nlabels + 1, 1);
    g.head_map = malloc((c->nlabels + 1) * sizeof(*g.head_map));
    g.slot_tmp = malloc((c->ntemps > c->nlabels ? c->ntemps : c->nlabels + 1) * sizeof(uint32_t));
    g.labels_before = malloc(c->nops * sizeof(uint32_t));
    g.tail = calloc(c->nlabels + 1, 1);
    g.tail_temp = malloc((c->nlabels + 1) * sizeof(*g.tail_temp));
    g.tail_dirty = malloc((c->nlabels + 1) * sizeof(*g.tail_dirty));
    int err = 0;
    if (!g.treg || !g.tdirty || !g.checked || !g.slot || !g.last_use || !g.label_pos || !g.label_op ||
        !g.loop_label || !g.keep || !g.head_map || !g.slot_tmp || !g.labels_before || !g.tail || !g.tail_temp ||
        !g.tail_dirty) {
        err = -ENOMEM;
        goto out;
    }
    memset(g.treg, -1, c->ntemps);
    memset(g.slot, -1, c->ntemps * sizeof(int32_t));
    for (unsigned i = 0; i <= c->nlabels; i++)
        g.label_pos[i] = g.label_op[i] = -1;
    for (unsigned i = 0; i < c->nops; i++)
        if (c->ops[i].opc == JIT_OP_LABEL)
            g.label_op[c->ops[i].imm] = (int32_t)i;
    for (unsigned r = 0; r < 16; r++)
        g.reg_temp[r] = JIT_NO_TEMP;
    jit_check_back_branches(c);
    compute_last_use(&g);
    find_exit_tails(&g);
    g.insn_pc = c->pc;

    /* entry from the engine: pinned globals into their registers */
    g.tbgen = tb->gen;
    for (unsigned r = 0; r < 16; r++)
        g.gmap[r] = JIT_NO_TEMP;
    if (tb->gen)
        for (unsigned t = 0; t < g.nglobals; t++)
            if (e->pin_reg[t] >= 0)
                g.gmap[e->pin_reg[t]] = t;
    choose_loop_pins(&g);
    find_kept_heads(&g);
    for (unsigned r = 0; r < 16; r++)
        if (g.bmap[r] != JIT_NO_TEMP) {
            assign(&g, r, g.bmap[r]);
            g.tdirty[g.bmap[r]] = 1;
            g.pinned |= (uint16_t)(1 << r);
        }
    for (unsigned r = 0; r < 16; r++)
        if (g.gmap[r] != JIT_NO_TEMP)
            map_move(&g, r, g.gmap[r], false);
    uint32_t chain_off = pos(&g);
    if (g.swapped)
        map_switch(&g, g.gmap, g.bmap);
    g.loop_head = pos(&g);
    tb->has_loop = g.loop;

    /* chained entry (loop head): leave if another thread or a signal asked us to */
    op_rm(&g, false, 0x83, 7, RBP, offsetof(jit_cpu, exit_request));
    b1(&g, 0);                                   /* cmp dword [rbp+req], 0 */
    b1(&g, 0x0F);
    b1(&g, 0x85);
    uint32_t req_fix = pos(&g);
    b4(&g, 0);

    xmm_forget(&g);
    for (unsigned i = 0; i < c->nops && !g.overflow; i++) {
        const jit_op *op = &c->ops[i];
        g.cur = i;
        g.locked = 0;
        if (dead_global_write(&g, i)) {
            xmm_track(&g, op);
            release_dead(&g);
            continue;
        }
        jit_op fused;
        unsigned skip_to = zext_pair(&g, i);
        if (skip_to) {
            /* shl t, x, 32; shr d, t, 32 (RISC-V's zero extension): one
             * 32-bit move */
            fused = (jit_op){ .opc = JIT_OP_EXT32U, .type = JIT_I64 };
            fused.a[0] = c->ops[skip_to].a[0];
            fused.a[1] = op->a[1];
            op = &fused;
        }
        jit_opc opc = (jit_opc)op->opc;
        clobber_regs(&g, clobber_mask(&g, op));
        xmm_track(&g, op);
        switch (opc) {
        case JIT_OP_NOP:
            break;
        case JIT_OP_INSN_START:
            g.insn_pc = (uint64_t)op->imm;
            break;
        case JIT_OP_ADD: case JIT_OP_SUB: case JIT_OP_MUL: case JIT_OP_AND:
        case JIT_OP_OR: case JIT_OP_XOR:
            gen_alu(&g, op);
            break;
        case JIT_OP_MULH: case JIT_OP_MULHU: case JIT_OP_MULHSU:
            gen_mulh(&g, op);
            break;
        case JIT_OP_DIV: case JIT_OP_DIVU: case JIT_OP_REM: case JIT_OP_REMU:
            gen_div(&g, op);
            break;
        case JIT_OP_SHL: case JIT_OP_SHR: case JIT_OP_SAR: case JIT_OP_ROTL:
        case JIT_OP_ROTR:
            gen_shift(&g, op);
            break;
        case JIT_OP_SETCOND:
            gen_setcond(&g, op);
            break;
        case JIT_OP_MOVCOND:
            gen_movcond(&g, op);
            break;
        case JIT_OP_LABEL:
            if (g.tail[op->imm] == 3) {
                bind_label(&g, (uint32_t)op->imm);
                break;
            }
            if (g.tail[op->imm] == 2) {
                /* nothing falls in: take the registers as the branch left them */
                for (unsigned r = 0; r < 16; r++)
                    if (g.reg_temp[r] != JIT_NO_TEMP && !(g.pinned & (1 << r)))
                        g.tdirty[g.reg_temp[r]] = 0;
                forget_all(&g);
                for (unsigned r = 0; r < 16; r++) {
                    jit_temp t = g.tail_temp[op->imm][r];
                    if (t == JIT_NO_TEMP || (g.pinned & (1 << r)) ||
                        (ti(&g, t)->kind == TEMP_LOCAL && g.last_use[t] < i) ||
                        ti(&g, t)->kind == TEMP_CONST)
                        continue;
                    assign(&g, r, t);
                    g.tdirty[t] = g.tail_dirty[op->imm][r];
                }
                bind_label(&g, (uint32_t)op->imm);
                break;
            }
            if (g.keep[op->imm]) {
                enter_loop_head(&g, (unsigned)op->imm);
            } else {
                sync_regs(&g, true);
                forget_all(&g);
            }
            bind_label(&g, (uint32_t)op->imm);
            if (g.loop_label[op->imm])
                loop_check(&g, i);
            break;
        case JIT_OP_BR:
            if (g.tail[op->imm] == 3)
                break;      /* to the label right after it */
            if (g.keep[op->imm] && g.label_pos[op->imm] >= 0) {
                sync_locals(&g);
                head_conform(&g, (unsigned)op->imm);
            } else {
                sync_regs(&g, true);
            }
            b1(&g, 0xE9);
            emit_label_jump(&g, (uint32_t)op->imm);
            forget_all(&g);
            break;
        case JIT_OP_BRCOND: {
            jit_type ty = (jit_type)op->type;
            uint8_t cc;
            if (is_const(&g, op->a[0]) && is_const(&g, op->a[1])) {
                bool taken = jit_eval_cond((jit_cond)op->cond, ty, ti(&g, op->a[0])->val,
                                           ti(&g, op->a[1])->val);
                sync_regs(&g, true);
                if (taken) {
                    b1(&g, 0xE9);
                    emit_label_jump(&g, (uint32_t)op->imm);
                }
                break;
            }
            /* operands into registers first, then the write-backs (movs keep
             * flags, but loads must come before the compare); so are constants
             * that are no immediate: emit_cmp must not take a register after a
             * side exit saved the register state.  The second operand may stay
             * in memory (emit_cmp) when the first is in a register: the
             * write-backs below store other temps only. */
            int32_t imm;
            unsigned mb_;
            int32_t md_;
            if (!is_const(&g, op->a[0]) || !const_imm(&g, op->a[0], ty, &imm))
                use(&g, op->a[0]);
            if ((!is_const(&g, op->a[1]) || !const_imm(&g, op->a[1], ty, &imm)) &&
                (is_const(&g, op->a[0]) || is_const(&g, op->a[1]) ||
                 !mem_operand(&g, op->a[1], &mb_, &md_)))
                use(&g, op->a[1]);
            uint32_t lb = (uint32_t)op->imm;
            bool back = is_loop_back(&g, lb);     /* jumps to the head: memory current */
            if (g.keep[lb] && g.label_pos[lb] >= 0) {
                /* back edge to a kept head: its registers on the taken path */
                sync_locals(&g);
                cc = emit_cmp(&g, ty, (jit_cond)op->cond, op->a[0], op->a[1]);
                b1(&g, 0x0F);
                if (!head_mismatch(&g, lb)) {
                    b1(&g, (uint8_t)(0x80 | cc));
                    emit_label_jump(&g, lb);
                    break;
                }
                b1(&g, (uint8_t)(0x80 | (cc ^ 1)));       /* j!cc over */
                uint32_t over = pos(&g);
                b4(&g, 0);
                head_conform(&g, lb);
                b1(&g, 0xE9);
                emit_label_jump(&g, lb);
                int32_t rel = (int32_t)(pos(&g) - (over + 4));
                if (!g.overflow)
                    memcpy(g.buf + over, &rel, 4);
                break;
            }
            if (g.tail[lb] == 1 && !back) {
                /* side exit: its tail writes back what is dirty now */
                for (unsigned r = 0; r < 16; r++) {
                    jit_temp t = g.reg_temp[r];
                    g.tail_temp[lb][r] = t;
                    g.tail_dirty[lb][r] = t != JIT_NO_TEMP && g.tdirty[t];
                }
                g.tail[lb] = 2;
            } else {
                sync_regs(&g, true);
            }
            cc = emit_cmp(&g, ty, (jit_cond)op->cond, op->a[0], op->a[1]);
            b1(&g, 0x0F);
            b1(&g, (uint8_t)(0x80 | cc));
            if (back)
                b4(&g, (uint32_t)((int32_t)g.loop_head - (int32_t)(pos(&g) + 4)));
            else
                emit_label_jump(&g, (uint32_t)op->imm);
            break;
        }
        case JIT_OP_QLD:
            gen_qld(&g, op);
            break;
        case JIT_OP_QST:
            gen_qst(&g, op);
            break;
        case JIT_OP_LD:
            gen_host_ld(&g, op);
            break;
        case JIT_OP_ST:
            gen_host_st(&g, op);
            break;
        case JIT_OP_ATOMIC_CMPXCHG: case JIT_OP_ATOMIC_RMW:
            gen_atomic(&g, op);
            break;
        case JIT_OP_FADD: case JIT_OP_FSUB: case JIT_OP_FMUL: case JIT_OP_FDIV:
        case JIT_OP_FSQRT: case JIT_OP_FMA:
            gen_fop(&g, op);
            break;
        case JIT_OP_FCMP:
            gen_fcmp(&g, op);
            break;
        case JIT_OP_I2F:
            gen_i2f(&g, op);
            break;
        case JIT_OP_F2I:
            gen_f2i(&g, op);
            break;
        case JIT_OP_FFLAGS:
            gen_fflags(&g, op);
            break;
        case JIT_OP_F2F:
            gen_f2f(&g, op);
            break;
        case JIT_OP_CALL:
            gen_call(&g, op);
            break;
        case JIT_OP_GOTO_TB:
            gen_goto_tb(&g, op, tb);
            break;
        case JIT_OP_GOTO_PTR:
            gen_goto_ptr(&g, op);
            break;
        case JIT_OP_EXIT:
            gen_exit(&g, op);
            break;
        default:
            if (jit_op_is_unop(opc))
                gen_unop(&g, op);
            else
                err = -EINVAL;
            break;
        }
        if (err)
            break;
        if (jit_op_has_def(op))
            g.checked[op->a[0]] = 0;
        if ((opc == JIT_OP_LABEL && g.tail[op->imm] != 3) ||
            (opc == JIT_OP_CALL &&
             (op->helper->flags & (JIT_CALL_WRITES_GLOBALS | JIT_CALL_MAY_EXIT))))
            memset(g.checked, 0, c->ntemps);
        if (skip_to) {
            for (unsigned k = i + 1; k < skip_to; k++)
                if (c->ops[k].opc == JIT_OP_INSN_START)
                    g.insn_pc = (uint64_t)c->ops[k].imm;
            g.cur = i = skip_to;
        }
        release_dead(&g);
        if ((size_t)(g.end - g.p) < 1024)
            g.overflow = true;
    }
    emit_bound_stubs(&g);
    /* exit-request stub: state at block entry is clean */
    if (!g.overflow) {
        int32_t rel = (int32_t)(pos(&g) - (req_fix + 4));
        memcpy(g.buf + req_fix, &rel, 4);
        g.cur = 0;
        /* without a block-local pin map, the pins are the engine-wide ones */
        if (!g.swapped) {
            store_pc_imm(&g, c->pc);
            mov_ri(&g, RAX, JIT_RET_REQUEST);
            exit_gmap(&g);
        } else {
            sync_pinned(&g);
            store_pc_imm(&g, c->pc);
            exit_with(&g, JIT_RET_REQUEST);
        }
        /* inner loop heads: state there is memory plus the pin registers */
        for (unsigned k = 0; k < g.nreqs && !g.overflow; k++) {
            int32_t rel2 = (int32_t)(pos(&g) - (g.reqs[k].fix + 4));
            memcpy(g.buf + g.reqs[k].fix, &rel2, 4);
            /* the head's registers first: store_pc_imm takes rax */
            if (g.reqs[k].label >= 0)
                map_store(&g, g.head_map[g.reqs[k].label]);
            store_pc_imm(&g, g.reqs[k].pc);
            if (!g.swapped) {
                mov_ri(&g, RAX, JIT_RET_REQUEST);
                exit_gmap(&g);
            } else {
                sync_pinned(&g);
                exit_with(&g, JIT_RET_REQUEST);
            }
        }
    }
    if (!err && g.overflow)
        err = g.nslots >= NSLOTS ? -E2BIG : ((size_t)(g.end - g.p) < 1024 ? -ENOSPC : -E2BIG);
    if (!err) {
        tb->code = g.buf;
        tb->chain_entry = g.buf + chain_off;
        tb->code_size = pos(&g);
        /* into the metadata arena (engine.c), exactly sized */
        tb->faults = jit_meta_copy(e, g.faults, g.nfaults * sizeof(*g.faults));
        tb->nfaults = g.nfaults;
        tb->fmap = jit_meta_copy(e, g.fmap, g.nfmap * sizeof(*g.fmap));
        if ((g.nfaults && !tb->faults) || (g.nfmap && !tb->fmap))
            err = -ENOSPC;
        else
            e->code_used += (tb->code_size + 15) & ~15u;
    }
out:
    free(g.treg);
    free(g.tdirty);
    free(g.checked);
    free(g.slot);
    free(g.last_use);
    free(g.label_pos);
    free(g.label_op);
    free(g.loop_label);
    free(g.keep);
    free(g.head_map);
    free(g.slot_tmp);
    free(g.labels_before);
    free(g.tail);
    free(g.tail_temp);
    free(g.tail_dirty);
    free(g.reqs);
    free(g.bounds);
    free(g.fix);
    free(g.faults);
    free(g.fmap);
    return err;
}

void jit_x86_patch(jit_tb *tb, unsigned slot, const void *target)
{
    uint8_t *at = tb->code + tb->jmp_patch[slot];
    int32_t rel = target ? (int32_t)((const uint8_t *)target - (at + 4)) : 0;
    __atomic_store_n((int32_t *)at, rel, __ATOMIC_RELEASE);
}

static void emit_pin_exit(jit_engine *e);

/* Six registers hold the most used globals: the four callee-saved ones outside
 * the fixed registers (they survive helper calls) and r10/r11 (not argument
 * registers; saved around calls).  Four remain for temporaries. */
void jit_x86_choose_pins(jit_engine *e)
{
    static const uint8_t regs[] = { RBX, R12, R13, R14, R10, R11 };
    bool taken[JIT_MAX_GLOBALS] = { false };
    for (unsigned i = 0; i < sizeof(regs); i++) {
        int best = -1;
        for (unsigned t = 0; t < e->fe->nglobals; t++)
            if (!taken[t] && e->gcount[t] && (best < 0 || e->gcount[t] > e->gcount[best]))
                best = (int)t;
        if (best < 0 && i < e->fe->nglobals && e->fe->globals[i].type != JIT_PTR)
            best = (int)i;      /* nothing counted yet (pinning from the start) */
        if (best < 0 || taken[best])
            break;
        taken[best] = true;
        e->pin_reg[best] = (int8_t)regs[i];
    }
    emit_pin_exit(e);
}

/* The shared exit of generation-1 code: every pinned global to env, then the
 * epilogue (rax holds the value for the engine).  Block exits jump here
 * instead of repeating the six stores (exit_gmap); pins never change after
 * this, and a flush keeps the stub (it lies before code_start). */
static void emit_pin_exit(jit_engine *e)
{
    gen g;
    memset(&g, 0, sizeof(g));
    g.e = e;
    g.buf = g.p = e->epilogue + 64;
    g.end = g.p + PIN_EXIT_ROOM;
    for (unsigned t = 0; t < e->fe->nglobals; t++)
        if (e->pin_reg[t] >= 0)
            store_mem(&g, e->fe->globals[t].type != JIT_I32, (unsigned)e->pin_reg[t], RBP,
                      (int32_t)e->fe->globals[t].offset);
    jmp_to(&g, e->epilogue);
    if (!g.overflow)
        e->pin_exit = g.buf;
}

typedef uintptr_t (*entry_fn)(jit_cpu *cpu, const void *code);

uintptr_t jit_x86_run(jit_engine *e, jit_cpu *cpu, jit_tb *tb)
{
    return ((entry_fn)(void *)e->prologue)(cpu, tb->code);
}

int jit_x86_init(jit_engine *e)
{
    gen g;
    memset(&g, 0, sizeof(g));
    g.e = e;
    g.buf = g.p = e->code_buf;
    g.end = e->code_buf + e->code_cap;
    /* prologue(cpu = rdi, code = rsi) */
    static const uint8_t saved[] = { RBX, RBP, R12, R13, R14, R15 };
    e->prologue = g.p;
    for (unsigned i = 0; i < sizeof(saved); i++) {
        rex(&g, false, 0, 0, saved[i], false);
        b1(&g, (uint8_t)(0x50 + (saved[i] & 7)));
    }
    mov_rr(&g, true, RBP, RDI);
    load_mem(&g, true, R15, RBP, offsetof(jit_cpu, guest_base));
    rex(&g, true, 0, 0, RSP, false);
    b1(&g, 0x81);
    modrm_rr(&g, 5, RSP);
    b4(&g, FRAME);                               /* sub rsp, FRAME */
    b1(&g, 0xFF);
    modrm_rr(&g, 4, RSI);                        /* jmp rsi */
    while (pos(&g) & 15)
        b1(&g, 0xCC);
    e->epilogue = g.p;
    rex(&g, true, 0, 0, RSP, false);
    b1(&g, 0x81);
    modrm_rr(&g, 0, RSP);
    b4(&g, FRAME);                               /* add rsp, FRAME */
    for (unsigned i = sizeof(saved); i-- > 0;) {
        rex(&g, false, 0, 0, saved[i], false);
        b1(&g, (uint8_t)(0x58 + (saved[i] & 7)));
    }
    b1(&g, 0xC3);
    /* room for the pin_exit stub (jit_x86_choose_pins) */
    e->code_start = (size_t)(e->epilogue - e->code_buf) + 64 + PIN_EXIT_ROOM;
    e->code_used = e->code_start;
    return g.overflow ? -ENOMEM : 0;
}

static const int greg_of[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

bool jit_x86_fault(jit_engine *e, jit_tb *tb, jit_cpu *cpu, void *ucv)
{
    ucontext_t *uc = ucv;
    uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uint32_t off = (uint32_t)(rip - (uintptr_t)tb->code);
    for (unsigned i = 0; i < tb->nfaults; i++) {
        jit_fault_rec *r = &tb->faults[i];
        if (off < r->host_start || off >= r->host_end)
            continue;
        for (unsigned k = 0; k < r->nmap; k++) {
            jit_fault_map *m = &tb->fmap[r->first_map + k];
            uint64_t v = (uint64_t)uc->uc_mcontext.gregs[greg_of[m->reg]];
            uint8_t *p = (uint8_t *)cpu + e->fe->globals[m->global].offset;
            if (e->fe->globals[m->global].type == JIT_I32) {
                uint32_t x = (uint32_t)v;
                memcpy(p, &x, 4);
            } else {
                memcpy(p, &v, 8);
            }
        }
        cpu->pc = r->guest_pc;
        return true;
    }
    return false;
}

#else /* not x86-64: the interpreter is the only backend */

int jit_x86_init(jit_engine *e) { return -ENOTSUP; }
int jit_x86_gen(jit_engine *e, jit_ctx *c, jit_tb *tb) { return -ENOTSUP; }
void jit_x86_patch(jit_tb *tb, unsigned slot, const void *target) {}
uintptr_t jit_x86_run(jit_engine *e, jit_cpu *cpu, jit_tb *tb) { return JIT_EXIT_EXCEPTION; }
bool jit_x86_fault(jit_engine *e, jit_tb *tb, jit_cpu *cpu, void *uc) { return false; }

#endif
