/* Control and status registers (Zicsr, unprivileged spec chapter 9; numbers from
 * the privileged spec, table 2.2).  One table keyed by CSR number: each entry has
 * a privilege hook and read/write functions, so S- and M-mode CSRs are added as
 * rows without touching the instruction translation. */
#include "cpu/riscv/internal.h"

#include <stddef.h>
#include <time.h>

/* Privileged spec 2.1: bits 11:10 == 3 is read-only, bits 9:8 the lowest privilege
 * level that may access the CSR. */
static bool csr_default_allowed(const riscv_cpu *cpu, unsigned num, bool write)
{
    if (write && ((num >> 10) & 3) == 3)
        return false;
    return ((num >> 8) & 3) <= cpu->priv;
}

static uint64_t rd_fflags(riscv_cpu *cpu) { return cpu->fflags & 31; }
static uint64_t rd_frm(riscv_cpu *cpu) { return cpu->frm & 7; }
static uint64_t rd_fcsr(riscv_cpu *cpu) { return (cpu->frm & 7) << 5 | (cpu->fflags & 31); }
static void wr_fflags(riscv_cpu *cpu, uint64_t v) { cpu->fflags = v & 31; }
static void wr_frm(riscv_cpu *cpu, uint64_t v) { cpu->frm = v & 7; }
static void wr_fcsr(riscv_cpu *cpu, uint64_t v)
{
    cpu->fflags = v & 31;
    cpu->frm = (v >> 5) & 7;
}

/* User counters.  Linux/riscv reports a 10 MHz timebase on the common boards, so
 * time counts 100 ns units.  Instructions are not counted; cycle and instret
 * advance with time (monotonic, which is what programs rely on). */
static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t rd_time(riscv_cpu *cpu) { return host_ns() / 100; }
static uint64_t rd_cycle(riscv_cpu *cpu) { return host_ns(); }

static const riscv_csr csr_table[] = {
    { 0x001, "fflags", csr_default_allowed, rd_fflags, wr_fflags },
    { 0x002, "frm", csr_default_allowed, rd_frm, wr_frm },
    { 0x003, "fcsr", csr_default_allowed, rd_fcsr, wr_fcsr },
    { 0xc00, "cycle", csr_default_allowed, rd_cycle, NULL },
    { 0xc01, "time", csr_default_allowed, rd_time, NULL },
    { 0xc02, "instret", csr_default_allowed, rd_cycle, NULL },
};

const riscv_csr *riscv_csr_find(unsigned num)
{
    for (size_t i = 0; i < sizeof(csr_table) / sizeof(csr_table[0]); i++)
        if (csr_table[i].num == num)
            return &csr_table[i];
    return NULL;
}

/* Names objdump prints for CSRs this front-end does not implement yet but that
 * the disassembler should still name (privileged spec table 2.2-2.5, subset). */
static const struct { uint16_t num; const char *name; } csr_names[] = {
    { 0x000, "ustatus" }, { 0x004, "uie" }, { 0x005, "utvec" },
    { 0x040, "uscratch" }, { 0x041, "uepc" }, { 0x042, "ucause" }, { 0x043, "utval" },
    { 0x044, "uip" },
    { 0x100, "sstatus" }, { 0x104, "sie" }, { 0x105, "stvec" }, { 0x106, "scounteren" },
    { 0x140, "sscratch" }, { 0x141, "sepc" }, { 0x142, "scause" }, { 0x143, "stval" },
    { 0x144, "sip" }, { 0x180, "satp" },
    { 0x300, "mstatus" }, { 0x301, "misa" }, { 0x302, "medeleg" }, { 0x303, "mideleg" },
    { 0x304, "mie" }, { 0x305, "mtvec" }, { 0x306, "mcounteren" },
    { 0x340, "mscratch" }, { 0x341, "mepc" }, { 0x342, "mcause" }, { 0x343, "mtval" },
    { 0x344, "mip" },
    { 0xb00, "mcycle" }, { 0xb02, "minstret" },
    { 0xf11, "mvendorid" }, { 0xf12, "marchid" }, { 0xf13, "mimpid" }, { 0xf14, "mhartid" },
};

const char *riscv_csr_name(unsigned num)
{
    const riscv_csr *c = riscv_csr_find(num);
    if (c)
        return c->name;
    for (size_t i = 0; i < sizeof(csr_names) / sizeof(csr_names[0]); i++)
        if (csr_names[i].num == num)
            return csr_names[i].name;
    return NULL;
}

uint64_t riscv_helper_csr(riscv_cpu *cpu, uint64_t ctl, uint64_t src, uint64_t insn)
{
    unsigned num = ctl & 0xfff, op = (ctl >> 12) & 3;
    bool do_read = (ctl >> 16) & 1, do_write = (ctl >> 17) & 1;
    const riscv_csr *c = riscv_csr_find(num);
    if (!c || !c->allowed(cpu, num, do_write) || (do_write && !c->write))
        jit_cpu_exit(&cpu->jit, JIT_EXIT_EXCEPTION, insn);
    /* csrrw with rd = x0 must not read, but the old value is still needed for
     * set/clear; reading is side-effect free for every CSR here. */
    uint64_t old = (do_read || op != 1) ? c->read(cpu) : 0;
    if (do_write) {
        uint64_t v = op == 1 ? src : op == 2 ? old | src : old & ~src;
        c->write(cpu, v);
    }
    return old;
}
