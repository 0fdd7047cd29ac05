/* User-mode emulation of riscv64 Linux programs: shared state of the loader, the
 * guest address space, the system call layer, signals and threads.
 * See docs/user-mode.md for the design. */
#ifndef USER_H
#define USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/types.h>

#include "cpu/riscv/cpu.h"

/* ---- guest address space ---------------------------------------------------------
 * The whole guest space (Sv39's 256 GiB user half) is reserved once, PROT_NONE and
 * unbacked, at a host offset chosen by the host kernel, so a guest address g lives at
 * host guest_base + g and every guest access is one host instruction. */
#define USER_SPACE_BITS 38
#define USER_SPACE_SIZE (1ULL << USER_SPACE_BITS)
#define USER_GUARD_SIZE (2ULL << 30)   /* PROT_NONE below and above the guest space */
#define USER_PAGE 4096ULL
#define USER_PAGE_MASK (~(USER_PAGE - 1))
#define USER_STACK_SIZE (8ULL << 20)

/* Per guest page: what the guest asked for, and UPF_CODE when the page is writable
 * and executable, the JIT translated code from it, and its host page is kept
 * read-only, so that writes to that code fault into user_mem_code_fault first. */
enum {
    UPF_USED = 1,
    UPF_R = 2,
    UPF_W = 4,
    UPF_X = 8,
    UPF_CODE = 16,
};

extern uint8_t *guest_base;

static inline bool guest_range_ok(uint64_t addr, uint64_t len)
{
    return addr < USER_SPACE_SIZE && len <= USER_SPACE_SIZE - addr;
}

static inline void *g2h(uint64_t addr)
{
    return guest_base + addr;
}

static inline uint64_t h2g(const void *p)
{
    return (uint64_t)((const uint8_t *)p - guest_base);
}

int user_mem_init(void);
/* Map [addr, addr+len) (page aligned) for the guest; fixed or searched from the
 * mmap area.  Returns the guest address or a negative errno. */
int64_t user_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, int64_t off);
int64_t user_munmap(uint64_t addr, uint64_t len);
int64_t user_mprotect(uint64_t addr, uint64_t len, int prot);
int64_t user_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
int64_t user_brk(uint64_t want);
void user_brk_init(uint64_t start);
uint64_t user_find_free(uint64_t len, uint64_t hint);
bool user_page_mapped(uint64_t addr);
/* Whether the emulator itself may read (or write) guest [addr, addr+len): every
 * page mapped with that permission. */
bool user_access_ok(uint64_t addr, uint64_t len, bool write);
int user_page_prot(uint64_t addr);
/* Around a host fork (thread.c): take the lock, then release it in the parent or
 * make it anew in the child (where its holder may not exist). */
/* System V shared memory inside the guest space (addr 0: anywhere). */
int64_t user_mem_shmat(int id, uint64_t addr, uint64_t len, int shmflg);
int64_t user_mem_shmdt(uint64_t addr);
void user_mem_fork_prepare(void);
void user_mem_fork_done(bool child);
/* riscv_engine_options.code_read: fetch guest code for the JIT. */
int user_code_read(riscv_cpu *cpu, uint64_t addr, void *buf, size_t len);
void user_mem_prepare_write(uint64_t addr, uint64_t len);
/* A host write fault at guest address addr: true if it was a code page (now
 * invalidated and writable again) and the write should simply be retried. */
bool user_mem_code_fault(uint64_t addr);
/* Text of /proc/self/maps for the guest. */
char *user_mem_maps_text(size_t *len);

/* ---- loader ---------------------------------------------------------------------- */
struct user_image {
    uint64_t entry;        /* program entry */
    uint64_t load_bias;    /* added to the ELF's addresses */
    uint64_t phdr;         /* guest address of the program headers */
    uint64_t phnum;
    uint64_t interp_base;  /* AT_BASE: the interpreter's load bias (0 if none) */
    uint64_t interp_entry; /* where execution starts when there is an interpreter */
    uint64_t brk;          /* end of the highest segment */
    uint64_t start_code, end_code;
    uint64_t map[2][2];    /* guest [start, length) of the program and the interpreter */
    char interp[4096];     /* PT_INTERP, at most PATH_MAX with its NUL */
};

/* Load the program at path and its PT_INTERP (looked up under sysroot first).  On
 * error nothing stays mapped and err holds one line naming the file and the fault. */
int user_load_elf(const char *path, struct user_image *img, const char *sysroot, char *err, size_t errlen);
/* The same with the program's file already open (fd >= 0, closed by the call; path
 * names it in messages), as binfmt_misc's open-binary flag hands it over. */
int user_load_elf_fd(int fd, const char *path, struct user_image *img, const char *sysroot, char *err,
                     size_t errlen);
/* Unmap what user_load_elf mapped (for tests and fuzzing: a loaded image is torn down). */
void user_unload_elf(struct user_image *img);
/* Check that path is a riscv64 ELF executable (for execve). */
bool user_is_guest_elf(const char *path);
uint64_t user_setup_stack(const struct user_image *img, int argc, char **argv, char **envp, const char *execfn);

/* ---- options and process state ---------------------------------------------------- */
struct user_options {
    const char *sysroot;
    bool strace;
    const char *jit_debug;   /* -d items, passed to the JIT */
    const char *jit_logfile; /* -D file */
    int backend;             /* 0 native, 1 interpreter */
    const char *self;        /* host path of this emulator, for execve */
    char exe_path[4096];     /* absolute host path of the guest program */
    char **opt_argv;         /* options to repeat when re-executing ourselves */
    int opt_argc;
    bool secure;             /* AT_SECURE: started set-user/group-ID (binfmt_misc C flag) */
};
extern struct user_options user_opts;

/* ---- threads and signals ----------------------------------------------------------- */
#define USER_NSIG 64

struct user_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t mask;
};

struct user_thread {
    riscv_cpu *cpu;                 /* this thread's CPU state */
    int tid;
    uint64_t clear_child_tid;       /* guest address, CLONE_CHILD_CLEARTID */
    uint64_t sigmask;               /* guest signal mask, bit (n-1) for signal n */
    volatile sig_atomic_t pending_any;
    uint64_t pending;               /* signals raised for this thread, not yet delivered */
    siginfo_t pending_info[USER_NSIG + 1];
    uint64_t altstack_sp, altstack_size;
    int altstack_flags;
    bool in_syscall;
    uint64_t robust_head;           /* set_robust_list: guest address of the list head */
    struct user_thread *next;       /* the list of live threads (thread.c) */
    /* Where a host fault on guest memory during a system call returns to (the
     * page was unmapped by another thread after our check): the call fails with
     * EFAULT, as Linux's copy_to_user does. */
    sigjmp_buf syscall_fault;
};

extern __thread struct user_thread *user_self;
extern struct user_sigaction user_sigactions[USER_NSIG + 1];

void user_signal_init(void);
/* Deliver what is pending to the guest (sets up frames); returns after the CPU state
 * points at the handler, or terminates the process for default-fatal signals. */
void user_signal_deliver_pending(struct user_thread *t);
/* A synchronous guest fault (SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP) at the current pc. */
void user_signal_fault(struct user_thread *t, int sig, int code, uint64_t addr);
int64_t user_sys_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t size);
int64_t user_sys_rt_sigprocmask(int how, uint64_t set, uint64_t oset, uint64_t size);
int64_t user_sys_rt_sigreturn(struct user_thread *t);
int64_t user_sys_sigaltstack(uint64_t ss, uint64_t oss);
void user_signal_set_host_mask(uint64_t guest_mask);
/* Set the calling thread's host signal mask (bit n-1 for signal n, 32 and 33
 * included, which glibc's calls leave out); returns the old one. */
uint64_t user_host_sigmask(int how, uint64_t set);
void user_signal_fork_prepare(void);
void user_signal_fork_done(bool child);
/* Die the way the guest died: re-raise sig with the default action. */
void user_die_by_signal(int sig) __attribute__((noreturn));
extern uint64_t user_sigtramp;       /* guest address of the rt_sigreturn trampoline */

/* ---- system calls ---------------------------------------------------------------- */
#define USER_NR_MAX 452
extern const char *const user_syscall_names[USER_NR_MAX];
/* Run the system call in a7 with a0..a5, put the result in a0.  Returns false when the
 * thread must not continue at pc+4 (rt_sigreturn, execve success never returns). */
void user_syscall(struct user_thread *t);
/* A host call a guest signal can interrupt (safe_syscall.c): returns the result or
 * -errno, or USER_ERESTART if a signal came before the call started. */
#define USER_ERESTART (-512)
long user_safe_syscall(struct user_thread *t, long nr, long a0, long a1, long a2, long a3, long a4, long a5);
/* From the host signal handler: a thread between the pending check and the
 * syscall instruction is sent to the USER_ERESTART return. */
void user_safe_syscall_adjust(void *ucontext);
int64_t user_sys_clone(struct user_thread *t, uint64_t flags, uint64_t newsp, uint64_t ptid,
                       uint64_t tls, uint64_t ctid);
void user_thread_exit(struct user_thread *t, int status) __attribute__((noreturn));
/* System V IPC (ipc.c): true if nr is one of its calls, with the result in *ret. */
bool user_sys_ipc(struct user_thread *t, uint64_t nr, const uint64_t *a, int64_t *ret);
/* CLONE_CHILD_CLEARTID's cousin for robust futexes: mark the futexes on the
 * thread's robust list as owned by a dead thread and wake a waiter (thread.c). */
void user_robust_release(struct user_thread *t);
/* exit_group: the same for every live thread. */
void user_robust_release_all(void);
/* Enter a thread in the list of live threads (the main thread; clone does it for
 * the others). */
void user_thread_register(struct user_thread *t);
int user_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the CPU (cpu/riscv/cpu.h), and the process-wide engine ------------------------- */
extern riscv_engine *user_engine;
static inline uint64_t user_cpu_x(riscv_cpu *c, int r) { return riscv_cpu_get_x(c, (unsigned)r); }
static inline void user_cpu_set_x(riscv_cpu *c, int r, uint64_t v) { riscv_cpu_set_x(c, (unsigned)r, v); }
static inline uint64_t user_cpu_pc(riscv_cpu *c) { return riscv_cpu_get_pc(c); }
static inline void user_cpu_set_pc(riscv_cpu *c, uint64_t pc) { riscv_cpu_set_pc(c, pc); }
static inline uint64_t user_cpu_f(riscv_cpu *c, int r) { return riscv_cpu_get_f(c, (unsigned)r); }
static inline void user_cpu_set_f(riscv_cpu *c, int r, uint64_t v) { riscv_cpu_set_f(c, (unsigned)r, v); }
static inline uint32_t user_cpu_fcsr(riscv_cpu *c) { return riscv_cpu_get_fcsr(c); }
static inline void user_cpu_set_fcsr(riscv_cpu *c, uint32_t v) { riscv_cpu_set_fcsr(c, v); }
static inline void user_cpu_invalidate(uint64_t addr, uint64_t len)
{
    if (user_engine)
        riscv_engine_invalidate(user_engine, addr, len);
}
/* Run a guest thread until it exits (never returns). */
void user_cpu_loop(struct user_thread *t) __attribute__((noreturn));

/* register numbers (RISC-V ABI names) */
enum { RV_RA = 1, RV_SP = 2, RV_GP = 3, RV_TP = 4, RV_A0 = 10, RV_A1, RV_A2, RV_A3, RV_A4, RV_A5, RV_A6, RV_A7 };

#endif
