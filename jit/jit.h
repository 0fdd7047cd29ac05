/* Vireo JIT engine: translation cache, execution loop, backends.
 *
 * A guest front-end (cpu/<arch>/) is a const jit_frontend: its CPU state struct
 * begins with a jit_cpu header, it lists the state fields it wants kept in host
 * registers (globals), and it translates one block at a time by emitting IR
 * (jit/ir.h).  A user of the engine (user-mode emulator, system emulator)
 * creates one jit_engine per guest, one jit_cpu per guest thread / vCPU, and
 * calls jit_exec() in a loop, handling the exit reasons it returns.
 *
 * Threads: every jit_cpu runs on its own host thread; all of them share the
 * engine and its translation cache.  jit_exec, jit_invalidate, jit_flush,
 * jit_page_has_code and jit_cpu_kick may be called from any thread; see
 * docs/jit.md for the locking scheme.
 *
 * Errors: functions returning int return 0 or a negative errno value;
 * jit_strerror() names it. */
#ifndef JIT_JIT_H
#define JIT_JIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jit/ir.h"

typedef struct jit_engine jit_engine;
typedef struct jit_cpu_priv jit_cpu_priv;

/* Kinds of guest memory faults (jit_cpu.fault_kind). */
typedef enum {
    JIT_FAULT_UNMAPPED,     /* no mapping (SEGV_MAPERR) */
    JIT_FAULT_PROT,         /* mapping forbids the access (SEGV_ACCERR) */
    JIT_FAULT_MISALIGNED,   /* an atomic op on a misaligned address */
    JIT_FAULT_FETCH,        /* instruction fetch failed during translation */
} jit_fault_kind;

typedef enum {
    JIT_ACCESS_READ,
    JIT_ACCESS_WRITE,
    JIT_ACCESS_EXEC,
} jit_access;

/* Bits of jit_cpu.exit_request. */
#define JIT_EXIT_REQ_USER   1u     /* jit_cpu_kick(): return JIT_EXIT_INTERRUPT */
#define JIT_EXIT_REQ_ENGINE 2u     /* engine-internal (flush); never seen by users */

/* The common header of every CPU state struct ("env").  Global offsets are
 * relative to the start of this header, so the header must be the first member
 * of the front-end's state struct. */
typedef struct jit_cpu {
    uint64_t pc;                /* guest pc: where execution continues */
    uint32_t flags;             /* mode bits that select translations (the block
                                   key is pc + flags); front-end defined */
    volatile uint32_t exit_request; /* JIT_EXIT_REQ_*; checked at every block entry */
    uintptr_t guest_base;       /* user mode: host address of guest address 0 */
    void *tlb;                  /* system mode: reserved for an inline TLB probe */
    uint64_t exit_arg;          /* argument of the jit_exit op / jit_cpu_exit */
    uint64_t fault_addr;        /* JIT_EXIT_FAULT: guest address */
    uint32_t fault_kind;        /* JIT_EXIT_FAULT: jit_fault_kind */
    uint32_t fault_access;      /* JIT_EXIT_FAULT: jit_access */
    jit_engine *engine;         /* set by jit_cpu_init */
    void *opaque;               /* free for the owner (user-mode thread, vCPU) */
    jit_cpu_priv *priv;         /* engine-private per-CPU state */
    uint64_t guest_limit;       /* user mode: guest addresses at or above this fault
                                   without touching the host (0: every access faults) */
    uint64_t bad_addr;          /* x86 backend: the address that failed that check */
    void *jc;                   /* engine-private: this CPU's jump cache (generated
                                   code probes it for indirect jumps) */
    uint64_t reserved[3];       /* keeps the layout stable when fields are added */
} jit_cpu;

/* A field of the front-end's state struct that blocks use as a global temp.
 * Listed in the order of jit_global(0), jit_global(1), ... */
typedef struct jit_global_desc {
    const char *name;           /* for debug output, e.g. "a0" */
    jit_type type;              /* JIT_I32 or JIT_I64 */
    uint32_t offset;            /* offsetof(state struct, field) */
} jit_global_desc;

/* A guest front-end. */
typedef struct jit_frontend {
    const char *name;                   /* e.g. "riscv64" */
    const jit_global_desc *globals;
    unsigned nglobals;                  /* at most JIT_MAX_GLOBALS */
    bool big_endian;                    /* guest byte order of jit_qld/jit_qst */
    unsigned addr_bits;                 /* 32 or 64: guest addresses wrap here */

    /* Emit one block starting at pc under flags (cpu->flags at lookup time).
     * The front-end reads guest code only through jit_code_read(), emits
     * jit_insn_start() before each guest instruction, and ends every path with
     * jit_goto_tb, jit_goto_ptr or jit_exit.  Generated code runs with
     * cpu->flags equal to the flags it was translated for: a helper that
     * changes them must be followed by a jit_goto_ptr of a constant pc (the
     * jump cache then checks the new flags) or an exit.  Returns 0 or -errno
     * (the engine then stops with JIT_EXIT_EXCEPTION; a front-end should
     * rather translate a bad instruction into a jit_exit). */
    int (*translate)(jit_ctx *c, jit_cpu *cpu, uint64_t pc, uint32_t flags);

    /* Disassemble one instruction at pc from bytes[0..len) into buf (NUL
     * terminated); return its length in bytes, or 0 if bytes are too few.  May
     * be NULL (then `-d in_asm` prints hex). */
    unsigned (*disassemble)(uint64_t pc, const uint8_t *bytes, size_t len,
                            char *buf, size_t bufsize);
} jit_frontend;

/* Read guest code for the block being translated; records the guest bytes the
 * block depends on (for invalidation).  Returns 0, or -EFAULT if the bytes are
 * not executable (the front-end then ends the block with an exit; if it is
 * the block's first instruction, it raises the guest's fetch fault). */
int jit_code_read(jit_ctx *c, uint64_t pc, void *buf, unsigned len);

typedef enum {
    JIT_BACKEND_NATIVE,         /* x86-64 machine code (x86-64 hosts only) */
    JIT_BACKEND_INTERP,         /* IR interpreter, any host; the reference */
} jit_backend;

typedef enum {
    JIT_MEM_USER,               /* guest address + cpu->guest_base, one host insn */
    JIT_MEM_SYSTEM,             /* every guest access calls mem_load/mem_store */
} jit_mem_mode;

/* -d flags (QEMU's names) */
enum {
    JIT_LOG_IN_ASM = 1,         /* guest instructions of each new block */
    JIT_LOG_OP = 2,             /* IR as emitted by the front-end */
    JIT_LOG_OP_OPT = 4,         /* IR after the optimizer */
    JIT_LOG_OUT_ASM = 8,        /* host code (hex bytes) */
    JIT_LOG_EXEC = 16,          /* every block executed (slow: disables chaining) */
};

typedef struct jit_options {
    jit_backend backend;
    jit_mem_mode mem_mode;
    size_t code_size;           /* code buffer bytes; 0 = 32 MiB.  Also bounds the
                                   interpreter's block store.  Full = flush. */
    unsigned max_block_insns;   /* 0 = 512 */
    unsigned page_bits;         /* guest page size for jit_page_has_code; 0 = 12 */
    unsigned log;               /* JIT_LOG_* */
    FILE *log_file;             /* NULL = stderr */

    /* Fetch guest code for translation.  NULL = copy from guest_base + addr
     * (user mode; the caller guarantees the memory is mapped). */
    int (*code_read)(jit_cpu *cpu, uint64_t addr, void *buf, size_t len);

    /* JIT_MEM_SYSTEM only: guest memory slow path.  A failing access calls
     * jit_cpu_fault() and does not return. */
    uint64_t (*mem_load)(jit_cpu *cpu, uint64_t addr, unsigned memop);
    void (*mem_store)(jit_cpu *cpu, uint64_t addr, uint64_t value, unsigned memop);

    /* Native backend: from the pin_after-th block on, the globals used most
     * so far get fixed host registers across blocks (docs/jit.md, "Pinned
     * globals").  0 = default (400); 1 = from the start; UINT32_MAX = never. */
    uint32_t pin_after;
} jit_options;

/* Create an engine for a front-end.  opt may be NULL (native backend where
 * available, user mode, defaults).  Returns 0 or -errno. */
int jit_engine_new(const jit_frontend *fe, const jit_options *opt, jit_engine **out);
void jit_engine_free(jit_engine *e);

/* Parse a -d list ("in_asm,op,op_opt,out_asm,exec") into JIT_LOG_* bits; returns
 * 0 or -EINVAL naming nothing (the caller prints the list it was given). */
int jit_parse_log(const char *spec, unsigned *mask);
/* Change logging at run time (file NULL = keep). */
void jit_set_log(jit_engine *e, unsigned mask, FILE *file);

/* Attach a CPU to the engine (fills engine and priv; keeps every other header
 * field).  Each jit_cpu is used by one host thread at a time. */
int jit_cpu_init(jit_engine *e, jit_cpu *cpu);
void jit_cpu_destroy(jit_cpu *cpu);

/* Run guest code from cpu->pc until something the caller must handle; returns
 * the reason (never JIT_EXIT_NONE).  cpu->pc is the guest pc to resume at
 * (syscall/exception: the pc given to jit_exit; fault: the faulting
 * instruction), and all globals are in the state struct. */
jit_exit_reason jit_exec(jit_cpu *cpu);

/* From a helper declared JIT_CALL_MAY_EXIT (or a mem_load/mem_store hook): leave
 * the block; jit_exec returns reason with cpu->exit_arg = arg.  cpu->pc holds
 * the guest pc of the current instruction unless the helper changed it. */
__attribute__((noreturn)) void jit_cpu_exit(jit_cpu *cpu, jit_exit_reason reason,
                                            uint64_t arg);
/* From a mem_load/mem_store hook: a guest memory fault at addr. */
__attribute__((noreturn)) void jit_cpu_fault(jit_cpu *cpu, uint64_t addr,
                                             jit_fault_kind kind, jit_access access);

/* Ask the CPU to leave generated code at the next block boundary; jit_exec then
 * returns JIT_EXIT_INTERRUPT (and clears JIT_EXIT_REQ_USER).  Async-signal-safe,
 * any thread. */
void jit_cpu_kick(jit_cpu *cpu);

/* For the owner's SIGSEGV/SIGBUS handler, on the faulting thread.  If the fault
 * is a guest memory access made by generated code (or the interpreter) on
 * behalf of cpu, restore precise guest state (cpu->pc = the faulting guest
 * instruction, globals in the state struct), fill fault_addr/kind/access and
 * leave the signal handler into jit_exec, which returns JIT_EXIT_FAULT: this
 * call does not return then.  Otherwise it returns false (not a guest access:
 * the fault is the caller's business).  Handle write-protected code pages
 * (jit_page_has_code + jit_invalidate, then unprotect and return from the
 * handler) before calling this. */
bool jit_handle_fault(jit_cpu *cpu, const siginfo_t *si, void *ucontext);

/* Self-modifying code.  Drop every translation that read guest bytes in
 * [start, start+len): its chains are unlinked and lookups miss, so the next
 * execution retranslates.  Threads that are inside such a block finish it.
 * Safe from a synchronous SIGSEGV handler of a thread running guest code. */
void jit_invalidate(jit_engine *e, uint64_t start, uint64_t len);
/* Whether some live translation read guest bytes in the page holding addr. */
bool jit_page_has_code(jit_engine *e, uint64_t addr);
/* Drop every translation (waits until no thread runs generated code, so it
 * must not be called from inside jit_exec: not from a helper or a fault
 * handler; jit_invalidate is the call for those). */
void jit_flush(jit_engine *e);

/* fork() in a process whose other threads may hold the engine's locks (while
 * translating, chaining or running generated code): call jit_fork_prepare just
 * before fork, then jit_fork_parent in the parent or jit_fork_child in the child.
 * The calling thread must not be inside jit_exec.  The child reinitialises the
 * locks (its other threads are gone, with whatever they held) and forgets every
 * CPU but keep, which must be the calling thread's (or NULL). */
void jit_fork_prepare(jit_engine *e);
void jit_fork_parent(jit_engine *e);
void jit_fork_child(jit_engine *e, jit_cpu *keep);

typedef struct jit_stats {
    uint64_t blocks_translated;
    uint64_t blocks_live;
    uint64_t flushes;
    uint64_t invalidations;
    uint64_t chains_linked;
    uint64_t code_bytes_used;
    uint64_t code_bytes_total;
    uint64_t translate_ns;      /* time spent translating (front-end + passes +
                                   backend) */
    uint64_t dispatches;        /* returns from generated code to the engine's
                                   loop (exits, unchained jumps, jump-cache
                                   misses), summed over CPUs */
} jit_stats;
void jit_get_stats(jit_engine *e, jit_stats *st);

const char *jit_strerror(int err);
const char *jit_exit_name(jit_exit_reason r);
jit_backend jit_default_backend(void);

#endif
