/* Private structures of the JIT shared by ir.c, opt.c, interp.c, x86.c and
 * engine.c.  Nothing outside jit/ includes this. */
#ifndef JIT_INTERNAL_H
#define JIT_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>

#include "jit/jit.h"

enum { TEMP_GLOBAL, TEMP_ENV, TEMP_CONST, TEMP_LOCAL };

typedef struct jit_tinfo {
    uint8_t kind;
    uint8_t type;
    uint64_t val;               /* constants */
} jit_tinfo;

#define JIT_OP_MAX_ARGS 8

typedef struct jit_op {
    uint8_t opc;
    uint8_t type;               /* type of the op (its destination, or operands) */
    uint8_t cond;
    uint8_t nargs;              /* calls: number of helper arguments */
    uint16_t memop;             /* memory ops; exit reason; amo; goto_tb slot */
    uint16_t pad;
    jit_temp a[JIT_OP_MAX_ARGS];
    int64_t imm;                /* displacement, offset, label, pc */
    const jit_helper *helper;
} jit_op;

struct jit_ctx {
    jit_engine *engine;
    jit_cpu *cpu;
    const jit_frontend *fe;
    jit_op *ops;
    unsigned nops, ops_cap;
    jit_tinfo *temps;
    unsigned ntemps, temps_cap;
    unsigned nlabels;
    unsigned ninsns, max_insns;
    uint64_t pc;
    uint32_t flags;
    uint64_t code_lo, code_hi;  /* guest bytes read: [lo, hi) */
    uint64_t cur_insn_pc;
    bool error;                 /* misuse of the API: translation fails */
    bool has_back_branch;
};

/* ir.c */
void jit_ctx_init(jit_ctx *c, jit_engine *e, jit_cpu *cpu, uint64_t pc, uint32_t flags,
                  unsigned max_insns);
void jit_ctx_free(jit_ctx *c);
jit_op *jit_emit(jit_ctx *c, jit_opc opc, jit_type type);
bool jit_op_has_def(const jit_op *op);
unsigned jit_op_nuses(const jit_op *op, unsigned *first);
void jit_dump_ops(jit_ctx *c, FILE *f);
void jit_check_back_branches(jit_ctx *c);

/* eval.c: the semantics of the arithmetic ops, shared by the interpreter and
 * the constant folder.  Inputs and result are canonical (i32 zero-extended). */
uint64_t jit_eval_binop(jit_opc op, jit_type t, uint64_t a, uint64_t b);
uint64_t jit_eval_unop(jit_opc op, jit_type t, uint64_t a);
uint64_t jit_eval_fop(jit_opc op, jit_type t, uint64_t a, uint64_t b, uint64_t c);
uint64_t jit_eval_fcmp(jit_cond cond, unsigned mode, jit_type t, uint64_t a, uint64_t b);
uint64_t jit_eval_i2f(jit_type dt, unsigned src_size, uint64_t a);
uint64_t jit_eval_f2i(jit_type dt, unsigned src_size, bool rtz, uint64_t a);
uint64_t jit_eval_fflags(void);
uint64_t jit_eval_f2f(jit_type dt, uint64_t a);
bool jit_eval_cond(jit_cond c, jit_type t, uint64_t a, uint64_t b);
uint64_t jit_eval_ext_load(uint64_t raw, unsigned memop, jit_type t);
bool jit_op_is_binop(jit_opc op);
bool jit_op_is_unop(jit_opc op);

/* opt.c; tests set jit_opt_disabled to compare optimized and plain IR */
void jit_optimize(jit_ctx *c);
extern int jit_opt_disabled;

/* Guest accesses made from C (interpreter, atomics, system hooks): recorded in
 * a thread-local so that jit_handle_fault can tell them from host bugs. */
typedef struct jit_access_rec {
    jit_cpu *cpu;
    uint64_t pc;
    volatile int active;
} jit_access_rec;
extern __thread jit_access_rec jit_cur_access;

/* runtime.c: C side of guest atomics and system-mode accesses, used by both
 * backends.  pc is the guest pc of the instruction (for faults). */
uint64_t jit_rt_cmpxchg(jit_cpu *cpu, uint64_t addr, uint64_t cmp, uint64_t v,
                        uint64_t memop, uint64_t pc);
uint64_t jit_rt_rmw(jit_cpu *cpu, uint64_t addr, uint64_t v, uint64_t op_memop,
                    uint64_t pc);
uint64_t jit_rt_sys_load(jit_cpu *cpu, uint64_t addr, uint64_t memop, uint64_t pc);
void jit_rt_sys_store(jit_cpu *cpu, uint64_t addr, uint64_t v, uint64_t memop,
                      uint64_t pc);

/* ---- translation blocks and the engine ---- */

typedef struct jit_fault_rec {
    uint32_t host_start, host_end;  /* offsets in the block's code */
    uint64_t guest_pc;
    uint16_t first_map, nmap;       /* slice of the block's map entries */
} jit_fault_rec;

typedef struct jit_fault_map {
    uint16_t global;
    uint8_t reg;
} jit_fault_map;

typedef struct jit_tb jit_tb;
struct jit_tb {
    uint64_t pc;
    uint32_t flags;
    uint32_t ninsns;
    uint64_t code_lo, code_hi;      /* guest bytes the translation read */
    jit_tb *hash_next;
    bool invalid;
    /* chaining: outgoing targets, and the list of blocks jumping to us,
     * threaded through their jmp_next (tagged pointers tb | slot) */
    jit_tb *_Atomic jmp_dest[JIT_TB_SLOTS];
    uintptr_t jmp_in;
    uintptr_t jmp_next[JIT_TB_SLOTS];
    /* native */
    uint8_t *code;                  /* entry from the engine (loads pinned globals) */
    uint8_t *chain_entry;           /* entry for chained jumps and the jump cache */
    uint32_t code_size;
    unsigned gen;                   /* pinning generation it was compiled for */
    bool has_loop;                  /* jumps back to its start inside its code */
    uint32_t jmp_patch[JIT_TB_SLOTS];   /* offset of the rel32 of goto_tb slot, or 0 */
    jit_fault_rec *faults;
    unsigned nfaults;
    jit_fault_map *fmap;
    /* interpreter */
    jit_op *ops;
    unsigned nops;
    jit_tinfo *temps;
    unsigned ntemps;
    size_t bytes;                   /* accounted against code_size */
} __attribute__((aligned(16)));

/* Per-CPU jump cache, probed by generated code for indirect jumps.  An entry
 * matches when pc and key = flags | bit 32 are equal; all-zero is empty. */
#define JIT_JC_KEY(flags, gen) ((uint64_t)(flags) | (1ull << 32) | ((uint64_t)(gen) << 33))

typedef struct jit_jc_entry {
    uint64_t pc;
    uint64_t key;
    void *code;                     /* native code entry (generated code jumps here) */
    jit_tb *tb;
} jit_jc_entry;

#define JIT_JC_BITS 14
#define JIT_JC_SIZE (1u << JIT_JC_BITS)

struct jit_cpu_priv {
    jit_jc_entry *jc;               /* first: generated code loads it */
    sigjmp_buf jmp;
    jit_exit_reason jmp_reason;
    jit_cpu *cpu;
    jit_cpu_priv *next;             /* engine's list */
    uint64_t *ivals;                /* interpreter temporaries */
    unsigned ivals_cap;
    bool in_exec;
    uint64_t dispatches;
};

static inline unsigned jit_jc_hash(uint64_t pc)
{
    return (unsigned)((pc >> 1) ^ (pc >> (JIT_JC_BITS + 1))) & (JIT_JC_SIZE - 1);
}

#define JIT_TB_HASH_BITS 15

struct jit_engine {
    const jit_frontend *fe;
    jit_options opt;
    FILE *log;
    FILE *perf_map;                 /* VIREO_PERF_MAP: /tmp/perf-PID.map for perf */
    pthread_mutex_t lock;           /* tcache, hash, chains, cpu list */
    pthread_rwlock_t exec_lock;     /* read: running code; write: flush */
    jit_tb *hash[1u << JIT_TB_HASH_BITS];
    jit_tb **tbs;                   /* in allocation (= code address) order */
    unsigned ntbs, tbs_cap;
    size_t bytes_used;
    jit_cpu_priv *cpus;
    /* page -> number of live translations touching it */
    uint32_t *page_count;
    uint64_t *page_key;
    unsigned page_cap, page_used;
    /* native code buffer */
    uint8_t *code_buf;
    size_t code_cap, code_used;
    uint8_t *prologue, *epilogue;
    jit_stats stats;
    unsigned flush_gen;             /* counts flushes: cached block pointers die */
    unsigned max_temps;             /* interpreter: largest block's temps */
    uint64_t dispatches_gone;       /* of destroyed CPUs */
    /* Pinning (native): after JIT_PIN_AFTER blocks, the globals used most in
     * translated code get fixed host registers across blocks; generation 1
     * code is compiled for that and generation 0 blocks are dropped. */
    unsigned pin_gen;
    int8_t pin_reg[JIT_MAX_GLOBALS];
    uint64_t gcount[JIT_MAX_GLOBALS];
    /* buffers of the last translation context, reused by the next */
    jit_op *spare_ops;
    unsigned spare_ops_cap;
    jit_tinfo *spare_temps;
    unsigned spare_temps_cap;
    uint8_t *opt_buf;               /* optimizer tables */
    size_t opt_buf_size;
};

/* Values returned by generated code (native) / the interpreter's block run. */
#define JIT_RET_LOOKUP   32u   /* cpu->pc set: look it up */
#define JIT_RET_REQUEST  33u   /* exit_request seen at a block entry */
#define JIT_RET_CHAIN    8u    /* (tb | 8 | slot): goto_tb not linked yet; tb is
                                  16-aligned, slot < 8 */

#define JIT_PIN_AFTER 400

/* x86.c */
void jit_x86_choose_pins(jit_engine *e);
int jit_x86_init(jit_engine *e);
int jit_x86_gen(jit_engine *e, jit_ctx *c, jit_tb *tb);
void jit_x86_patch(jit_tb *tb, unsigned slot, const void *target);
uintptr_t jit_x86_run(jit_engine *e, jit_cpu *cpu, jit_tb *tb);
bool jit_x86_fault(jit_engine *e, jit_tb *tb, jit_cpu *cpu, void *uc);

/* interp.c */
uintptr_t jit_interp_run(jit_engine *e, jit_cpu *cpu, jit_tb *tb);

/* engine.c, for the backends */
jit_tb *jit_lookup_fast(jit_engine *e, jit_cpu *cpu, uint64_t pc);

#endif
