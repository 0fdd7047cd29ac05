/* RISC-V (RV64GC + Zba/Zbb/Zbs) guest CPU: the interface user-mode emulation and the
 * tests use.
 *
 * Two objects:
 *  - riscv_engine: one per guest process.  It owns the JIT engine (translation cache,
 *    backend choice, debug log) and knows where guest memory is (guest_base: guest
 *    address A is host address guest_base + A).  All CPUs (threads) of the process
 *    share it, so code translated by one thread is reused by the others.
 *  - riscv_cpu: one per guest thread.  Architectural state plus a little run-time
 *    bookkeeping.  riscv_cpu_run() executes guest code until something needs the
 *    caller (a system call, a fault, an illegal instruction, ...), and returns why.
 *
 * Every function returns 0 / a pointer on success and a negative errno / NULL on
 * failure; riscv_strerror() gives a text for the codes.
 *
 * Threads: a riscv_cpu is used by one host thread at a time.  riscv_cpu_interrupt()
 * is the only call that may be made on a CPU from another thread or from a signal
 * handler.  LR/SC and AMOs use host atomics, so CPUs on different host threads see a
 * coherent memory (RVWMO is weaker than x86-TSO, so the host order is always legal).
 */
#ifndef CPU_RISCV_CPU_H
#define CPU_RISCV_CPU_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct riscv_engine riscv_engine;
typedef struct riscv_cpu riscv_cpu;

/* ---- engine ------------------------------------------------------------------- */

enum riscv_backend {
    RISCV_BACKEND_DEFAULT = 0,  /* native on x86-64 hosts, else interp */
    RISCV_BACKEND_NATIVE,       /* x86-64 machine code */
    RISCV_BACKEND_INTERP,       /* the JIT's IR interpreter (reference) */
};

typedef struct riscv_engine_options {
    void *guest_base;           /* host address of guest address 0 */
    uint64_t guest_size;        /* bytes of guest space at guest_base: addresses at or
                                   above it fault (0: every access faults) */
    enum riscv_backend backend;
    /* "-d" items, comma separated, passed to the JIT: in_asm, op, op_opt, out_asm,
     * exec, ... (NULL or "" = none), and the stream they go to (NULL = stderr). */
    const char *log_items;
    FILE *log_file;
    size_t code_cache_size;     /* bytes for translated code, 0 = default */
    /* Fetch guest code for translation: copy len bytes at guest address addr to
     * buf and return 0, or return -EFAULT if they are not mapped executable (the
     * CPU then exits with RISCV_EXIT_FAULT, access EXEC, at that address).  May be
     * called from any thread running a CPU.  NULL: copy from guest_base + addr
     * without a check (only for callers that know every fetch is mapped). */
    int (*code_read)(riscv_cpu *cpu, uint64_t addr, void *buf, size_t len);
    /* fence.i drops every translation (the guest may have written code by plain
     * stores) unless the caller catches writes to translated code itself (write
     * protection + riscv_engine_invalidate) and sets this. */
    bool smc_detected_by_caller;
} riscv_engine_options;

/* Parse a backend name ("native", "interp", "default"); -EINVAL if unknown. */
int riscv_backend_parse(const char *name, enum riscv_backend *out);

riscv_engine *riscv_engine_new(const riscv_engine_options *opts, int *err);
void riscv_engine_free(riscv_engine *e);

/* The guest wrote to (or unmapped, or changed the protection of) [addr, addr+len):
 * drop translations of code there.  Safe to call from any thread. */
void riscv_engine_invalidate(riscv_engine *e, uint64_t addr, uint64_t len);
/* Drop every translation (e.g. after execve or a fence.i from another hart). */
void riscv_engine_flush(riscv_engine *e);

/* ---- CPU ---------------------------------------------------------------------- */

/* A new CPU with every register 0, fcsr 0, pc 0. */
riscv_cpu *riscv_cpu_new(riscv_engine *e);
/* A new CPU on the same engine with a copy of src's architectural state (registers,
 * fcsr, pc), for clone(CLONE_VM) threads.  The LR reservation is not copied. */
riscv_cpu *riscv_cpu_clone(const riscv_cpu *src);
void riscv_cpu_free(riscv_cpu *cpu);
riscv_engine *riscv_cpu_engine(const riscv_cpu *cpu);

/* Per-CPU pointer for the caller (e.g. the user-mode thread structure). */
void riscv_cpu_set_opaque(riscv_cpu *cpu, void *opaque);
void *riscv_cpu_opaque(const riscv_cpu *cpu);

/* Register access.  x0 reads as 0 and writes to it are ignored.  f registers are
 * 64 bits; a single-precision value lives NaN-boxed in the low 32 bits (upper 32
 * bits all ones), so set them with riscv_cpu_set_f32() to box them. */
uint64_t riscv_cpu_get_x(const riscv_cpu *cpu, unsigned reg);
void riscv_cpu_set_x(riscv_cpu *cpu, unsigned reg, uint64_t value);
uint64_t riscv_cpu_get_f(const riscv_cpu *cpu, unsigned reg);
void riscv_cpu_set_f(riscv_cpu *cpu, unsigned reg, uint64_t bits);
void riscv_cpu_set_f32(riscv_cpu *cpu, unsigned reg, uint32_t bits);
uint64_t riscv_cpu_get_pc(const riscv_cpu *cpu);
void riscv_cpu_set_pc(riscv_cpu *cpu, uint64_t pc);
/* fcsr = frm << 5 | fflags; only the low 8 bits are kept. */
uint32_t riscv_cpu_get_fcsr(const riscv_cpu *cpu);
void riscv_cpu_set_fcsr(riscv_cpu *cpu, uint32_t fcsr);

/* Drop the LR reservation (a signal was delivered, the kernel does the same on a
 * context switch: RISC-V unprivileged spec, section 8.2 "Load-Reserved/Store-
 * Conditional"). */
void riscv_cpu_clear_reservation(riscv_cpu *cpu);

/* ---- running ------------------------------------------------------------------ */

enum riscv_exit_reason {
    RISCV_EXIT_ECALL = 1,   /* pc = the ecall; caller does the syscall, then pc += 4 */
    RISCV_EXIT_EBREAK,      /* pc = the ebreak (or c.ebreak); len says which */
    RISCV_EXIT_ILLEGAL,     /* pc, insn, len: an illegal/unsupported instruction */
    RISCV_EXIT_FAULT,       /* pc, addr, access: a guest memory access failed */
    RISCV_EXIT_FENCE_I,     /* fence.i executed; pc = the next instruction.  Stale
                             * translations are gone (see smc_detected_by_caller) */
    RISCV_EXIT_INTERRUPT,   /* riscv_cpu_interrupt() was called; pc = the next
                             * instruction to run */
};

enum riscv_access {
    RISCV_ACCESS_READ = 1,
    RISCV_ACCESS_WRITE,
    RISCV_ACCESS_EXEC,
};

typedef struct riscv_exit {
    enum riscv_exit_reason reason;
    uint64_t pc;            /* guest pc of the instruction concerned */
    uint32_t insn;          /* its bits (16-bit forms in the low half) */
    unsigned len;           /* its length, 2 or 4 (0 when unknown) */
    uint64_t addr;          /* FAULT: guest address */
    enum riscv_access access; /* FAULT: what kind of access */
} riscv_exit;

/* Run from the current pc until an exit; fills *ex and returns 0, or a negative
 * errno if the CPU could not run at all.  On return the architectural state is
 * exact: every instruction before ex->pc has completed and none after it has
 * started (for FAULT/ILLEGAL/ECALL/EBREAK the faulting one has not). */
int riscv_cpu_run(riscv_cpu *cpu, riscv_exit *ex);

/* Ask the CPU to leave riscv_cpu_run() with RISCV_EXIT_INTERRUPT at the next block
 * boundary (or at once if it is not running: the next run returns immediately).
 * Async-signal-safe and callable from any thread. */
void riscv_cpu_interrupt(riscv_cpu *cpu);

/* A host SIGSEGV/SIGBUS taken while cpu was running guest code: call this from the
 * signal handler (SA_SIGINFO) with its siginfo and ucontext.  If the fault came
 * from a guest access of this CPU it does not return: riscv_cpu_run() returns
 * RISCV_EXIT_FAULT with the guest pc and address.  Returns false if the fault is
 * not the guest's (the caller then treats it as a host crash).  Writes to pages
 * holding translated code must be handled before (jit.h, jit_handle_fault). */
bool riscv_cpu_host_fault(riscv_cpu *cpu, const siginfo_t *si, void *ucontext);

/* The CPU the calling host thread is running (inside riscv_cpu_run), or NULL. */
riscv_cpu *riscv_cpu_current(void);

const char *riscv_strerror(int err);
const char *riscv_exit_name(enum riscv_exit_reason r);

/* ---- disassembler ------------------------------------------------------------- */

/* Disassemble one instruction at pc in the syntax of binutils' objdump (aliases
 * such as li, mv, ret).  insn holds the bits (a 16-bit instruction in the low half).
 * Writes at most size bytes (NUL-terminated) and returns the instruction length. */
unsigned riscv_disas(uint64_t pc, uint32_t insn, char *buf, size_t size);

/* The same over a sequence: like objdump, remember what lui/auipc put in a
 * register and print the address an addi, load, store or jalr then forms from it
 * as a "# 0x..." comment.  Zero-initialise the context (or call _init) at the
 * start of the sequence. */
typedef struct riscv_disas_ctx {
    uint64_t value[32];
    uint32_t known;     /* bit r: value[r] is valid */
} riscv_disas_ctx;
void riscv_disas_ctx_init(riscv_disas_ctx *ctx);
unsigned riscv_disas_seq(riscv_disas_ctx *ctx, uint64_t pc, uint32_t insn, char *buf,
                         size_t size);

/* ---- random instructions for differential tests -------------------------------- */

/* Straight-line RV64GC(+Zba/Zbb/Zbs) code with valid encodings only: no branches,
 * jumps, system instructions (ecall, csr writes other than fflags/frm/fcsr with
 * legal values), counters or fences.  Memory instructions address only the scratch
 * area: registers RISCV_GEN_BASE_REG (s0/x8) and sp (x2) are never written by the
 * generated code, and the caller sets both to the scratch area's guest address
 * (aligned to 8) before running it.  The area must be scratch_size bytes (>= 64,
 * a multiple of 8).  LR is always followed at once by an SC to the same address. */
#define RISCV_GEN_BASE_REG 8

typedef struct riscv_gen_options {
    uint64_t seed;          /* the same seed gives the same code */
    unsigned scratch_size;  /* bytes */
    bool no_fp;             /* only integer (I, M, A, C, Zba, Zbb, Zbs) */
    bool no_compressed;     /* only 32-bit encodings */
    bool no_atomics;
    /* leave out what Debian's qemu 7.2 gets wrong: ctzw (it counts past bit 31
     * when the low word is zero; the spec's answer is 32) */
    bool qemu_compat;
} riscv_gen_options;

/* Fill buf with up to max_bytes of instructions (little-endian) and return the
 * number of bytes written (a whole number of instructions). */
size_t riscv_gen_block(const riscv_gen_options *opts, uint8_t *buf, size_t max_bytes);

#endif
