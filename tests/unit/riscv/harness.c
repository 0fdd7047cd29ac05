/* RISC-V front-end unit tests: harness and main.  Each test body runs on both JIT
 * backends (the interpreter and native x86-64 code). */
#include "tests/unit/riscv/harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

uint8_t *guest_mem;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    riscv_cpu *cpu = riscv_cpu_current();
    if (cpu && riscv_cpu_host_fault(cpu, si, uc))
        return;     /* not reached: the run returns RISCV_EXIT_FAULT */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Instruction fetch: only guest addresses below EXEC_LIMIT are executable. */
static int code_read(riscv_cpu *cpu, uint64_t addr, void *buf, size_t len)
{
    if (addr >= EXEC_LIMIT || len > EXEC_LIMIT - addr)
        return -EFAULT;
    memcpy(buf, guest_mem + addr, len);
    return 0;
}

void run_both(void (*body)(tenv *t))
{
    static const struct { enum riscv_backend b; const char *name; } backends[] = {
        { RISCV_BACKEND_INTERP, "interp" },
        { RISCV_BACKEND_NATIVE, "native" },
    };
    for (unsigned i = 0; i < 2; i++) {
        tenv t = { .backend = backends[i].b, .backend_name = backends[i].name };
        riscv_engine_options o = {
            .guest_base = guest_mem, .guest_size = MEM_SIZE, .backend = t.backend,
            .code_cache_size = 1 << 20, .code_read = code_read,
        };
        int err;
        t.eng = riscv_engine_new(&o, &err);
        if (!t.eng) {
            printf("SKIP: %s backend (%s)\n", t.backend_name, riscv_strerror(err));
            continue;
        }
        t.cpu = riscv_cpu_new(t.eng);
        CU_ASSERT_FATAL(t.cpu != NULL);
        t.mem = guest_mem;
        memset(guest_mem, 0, MEM_SIZE);
        t.pc = CODE;
        body(&t);
        riscv_cpu_free(t.cpu);
        riscv_engine_free(t.eng);
    }
}

void e32(tenv *t, uint32_t w)
{
    memcpy(t->mem + t->pc, &w, 4);
    t->pc += 4;
}

void e16(tenv *t, uint16_t h)
{
    memcpy(t->mem + t->pc, &h, 2);
    t->pc += 2;
}

riscv_exit *run_raw(tenv *t)
{
    riscv_engine_flush(t->eng);
    riscv_cpu_set_pc(t->cpu, CODE);
    int r = riscv_cpu_run(t->cpu, &t->ex);
    CU_ASSERT_EQUAL(r, 0);
    return &t->ex;
}

void run_to_ecall(tenv *t)
{
    uint32_t end = t->pc;
    e32(t, ECALL);
    riscv_exit *ex = run_raw(t);
    if (ex->reason != RISCV_EXIT_ECALL || ex->pc != end)
        printf("  [%s] stopped by %s at pc 0x%llx (insn 0x%x), expected the ecall at 0x%x\n",
               t->backend_name, riscv_exit_name(ex->reason), (unsigned long long)ex->pc,
               ex->insn, end);
    CU_ASSERT_EQUAL(ex->reason, RISCV_EXIT_ECALL);
    CU_ASSERT_EQUAL(ex->pc, end);
}

uint64_t X(tenv *t, unsigned r) { return riscv_cpu_get_x(t->cpu, r); }
void SETX(tenv *t, unsigned r, uint64_t v) { riscv_cpu_set_x(t->cpu, r, v); }
uint64_t F(tenv *t, unsigned r) { return riscv_cpu_get_f(t->cpu, r); }
void SETF(tenv *t, unsigned r, uint64_t v) { riscv_cpu_set_f(t->cpu, r, v); }
uint32_t FFLAGS(tenv *t) { return riscv_cpu_get_fcsr(t->cpu) & 31; }

uint64_t rd64(uint32_t a) { uint64_t v; memcpy(&v, guest_mem + a, 8); return v; }
uint32_t rd32(uint32_t a) { uint32_t v; memcpy(&v, guest_mem + a, 4); return v; }
void wr64(uint32_t a, uint64_t v) { memcpy(guest_mem + a, &v, 8); }
void wr32(uint32_t a, uint32_t v) { memcpy(guest_mem + a, &v, 4); }

void register_int_tests(void);
void register_fp_tests(void);
void register_ext_tests(void);
void register_block_tests(void);

int main(void)
{
    /* guest RAM followed by an inaccessible page for fault tests */
    uint8_t *m = mmap(NULL, MEM_SIZE + 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + MEM_SIZE, 4096, PROT_NONE))
        return 1;
    guest_mem = m;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    register_int_tests();
    register_fp_tests();
    register_ext_tests();
    register_block_tests();
    return cunit_run_all();
}
