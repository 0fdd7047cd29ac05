/* Control and status registers (Zicsr, unprivileged spec chapter 9; numbers from
 * the privileged spec, table 2.2).  One table keyed by CSR number: each entry has
 * a privilege hook and read/write functions, so S- and M-mode CSRs are added as
 * rows without touching the instruction translation. */
#include "cpu/riscv/internal.h"

#include <stddef.h>
#include <stdio.h>
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
static void wr_frm(riscv_cpu *cpu, uint64_t v) { riscv_set_frm(cpu, (uint32_t)v); }
static void wr_fcsr(riscv_cpu *cpu, uint64_t v)
{
    cpu->fflags = v & 31;
    riscv_set_frm(cpu, (uint32_t)(v >> 5));
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

/* CSR names for the disassembler: the privileged spec's CSR listing (1.12,
 * tables 2.2-2.6, with the hypervisor, debug, Sstc, Smstateen and AIA CSRs) as
 * binutils names them.  Numbered families are generated from a pattern. */
static const struct { uint16_t num; const char *name; } csr_names[] = {
    { 0x001, "fflags" }, { 0x002, "frm" }, { 0x003, "fcsr" },
    { 0x008, "vstart" }, { 0x009, "vxsat" }, { 0x00a, "vxrm" }, { 0x00f, "vcsr" },
    { 0x015, "seed" },
    { 0xc00, "cycle" }, { 0xc01, "time" }, { 0xc02, "instret" },
    { 0xc80, "cycleh" }, { 0xc81, "timeh" }, { 0xc82, "instreth" },
    { 0xc20, "vl" }, { 0xc21, "vtype" }, { 0xc22, "vlenb" },
    { 0x100, "sstatus" }, { 0x104, "sie" }, { 0x105, "stvec" }, { 0x106, "scounteren" },
    { 0x10a, "senvcfg" }, { 0x140, "sscratch" }, { 0x141, "sepc" }, { 0x142, "scause" },
    { 0x143, "stval" }, { 0x144, "sip" }, { 0x180, "satp" }, { 0x5a8, "scontext" },
    { 0x14d, "stimecmp" }, { 0x15d, "stimecmph" },
    { 0x10c, "sstateen0" }, { 0x10d, "sstateen1" }, { 0x10e, "sstateen2" }, { 0x10f, "sstateen3" },
    { 0x150, "siselect" }, { 0x151, "sireg" }, { 0x15c, "stopei" }, { 0xdb0, "stopi" },
    { 0x114, "sieh" }, { 0x154, "siph" }, { 0xda0, "scountovf" },
    { 0x600, "hstatus" }, { 0x602, "hedeleg" }, { 0x603, "hideleg" }, { 0x604, "hie" },
    { 0x605, "htimedelta" }, { 0x606, "hcounteren" }, { 0x607, "hgeie" },
    { 0x60a, "henvcfg" }, { 0x615, "htimedeltah" }, { 0x61a, "henvcfgh" },
    { 0x643, "htval" }, { 0x644, "hip" }, { 0x645, "hvip" }, { 0x64a, "htinst" },
    { 0xe12, "hgeip" }, { 0x680, "hgatp" }, { 0x6a8, "hcontext" },
    { 0x60c, "hstateen0" }, { 0x60d, "hstateen1" }, { 0x60e, "hstateen2" }, { 0x60f, "hstateen3" },
    { 0x61c, "hstateen0h" }, { 0x61d, "hstateen1h" }, { 0x61e, "hstateen2h" }, { 0x61f, "hstateen3h" },
    { 0x608, "hvien" }, { 0x609, "hvictl" }, { 0x646, "hviprio1" }, { 0x647, "hviprio2" },
    { 0x613, "hidelegh" }, { 0x618, "hvienh" }, { 0x655, "hviph" }, { 0x656, "hviprio1h" },
    { 0x657, "hviprio2h" },
    { 0x200, "vsstatus" }, { 0x204, "vsie" }, { 0x205, "vstvec" }, { 0x240, "vsscratch" },
    { 0x241, "vsepc" }, { 0x242, "vscause" }, { 0x243, "vstval" }, { 0x244, "vsip" },
    { 0x280, "vsatp" }, { 0x24d, "vstimecmp" }, { 0x25d, "vstimecmph" },
    { 0x250, "vsiselect" }, { 0x251, "vsireg" }, { 0x25c, "vstopei" }, { 0xeb0, "vstopi" },
    { 0x214, "vsieh" }, { 0x254, "vsiph" },
    { 0xf11, "mvendorid" }, { 0xf12, "marchid" }, { 0xf13, "mimpid" }, { 0xf14, "mhartid" },
    { 0xf15, "mconfigptr" },
    { 0x300, "mstatus" }, { 0x301, "misa" }, { 0x302, "medeleg" }, { 0x303, "mideleg" },
    { 0x304, "mie" }, { 0x305, "mtvec" }, { 0x306, "mcounteren" }, { 0x310, "mstatush" },
    { 0x30a, "menvcfg" }, { 0x31a, "menvcfgh" }, { 0x747, "mseccfg" }, { 0x757, "mseccfgh" },
    { 0x340, "mscratch" }, { 0x341, "mepc" }, { 0x342, "mcause" }, { 0x343, "mtval" },
    { 0x344, "mip" }, { 0x34a, "mtinst" }, { 0x34b, "mtval2" },
    { 0x30c, "mstateen0" }, { 0x30d, "mstateen1" }, { 0x30e, "mstateen2" }, { 0x30f, "mstateen3" },
    { 0x31c, "mstateen0h" }, { 0x31d, "mstateen1h" }, { 0x31e, "mstateen2h" }, { 0x31f, "mstateen3h" },
    { 0x350, "miselect" }, { 0x351, "mireg" }, { 0x35c, "mtopei" }, { 0xfb0, "mtopi" },
    { 0x308, "mvien" }, { 0x309, "mvip" }, { 0x313, "midelegh" }, { 0x314, "mieh" },
    { 0x318, "mvienh" }, { 0x319, "mviph" }, { 0x354, "miph" },
    { 0xb00, "mcycle" }, { 0xb02, "minstret" }, { 0xb80, "mcycleh" }, { 0xb82, "minstreth" },
    { 0x320, "mcountinhibit" },
    { 0x7a0, "tselect" }, { 0x7a1, "tdata1" }, { 0x7a2, "tdata2" }, { 0x7a3, "tdata3" },
    { 0x7a4, "tinfo" }, { 0x7a5, "tcontrol" }, { 0x7a8, "mcontext" }, { 0x7aa, "mscontext" },
    { 0x7b0, "dcsr" }, { 0x7b1, "dpc" }, { 0x7b2, "dscratch0" }, { 0x7b3, "dscratch1" },
};


static const char *family_name(unsigned num)
{
    static const struct { uint16_t first, last, base; const char *fmt; } fam[] = {
        { 0xc03, 0xc1f, 0xc00, "hpmcounter%u" }, { 0xc83, 0xc9f, 0xc80, "hpmcounter%uh" },
        { 0xb03, 0xb1f, 0xb00, "mhpmcounter%u" }, { 0xb83, 0xb9f, 0xb80, "mhpmcounter%uh" },
        { 0x323, 0x33f, 0x320, "mhpmevent%u" }, { 0x723, 0x73f, 0x720, "mhpmevent%uh" },
        { 0x3a0, 0x3af, 0x3a0, "pmpcfg%u" }, { 0x3b0, 0x3ef, 0x3b0, "pmpaddr%u" },
    };
    for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
        if (num >= fam[i].first && num <= fam[i].last) {
            /* one slot per family: the caller copies the name before the next call
             * in the same thread could overwrite it */
            static __thread char buf[24];
            snprintf(buf, sizeof(buf), fam[i].fmt, num - fam[i].base);
            return buf;
        }
    }
    return NULL;
}

const char *riscv_csr_name(unsigned num)
{
    for (size_t i = 0; i < sizeof(csr_names) / sizeof(csr_names[0]); i++)
        if (csr_names[i].num == num)
            return csr_names[i].name;
    return family_name(num);
}

uint64_t riscv_helper_csr(riscv_cpu *cpu, uint64_t ctl, uint64_t src, uint64_t insn)
{
    unsigned num = ctl & 0xfff, op = (ctl >> 12) & 3;
    bool do_read = (ctl >> 16) & 1, do_write = (ctl >> 17) & 1;
    const riscv_csr *c = riscv_csr_find(num);
    if (!c || !c->allowed(cpu, num, do_write) || (do_write && !c->write))
        jit_cpu_exit(&cpu->jit, JIT_EXIT_EXCEPTION, insn);
    if (num <= 3)
        riscv_fp_sync(cpu);     /* fflags/frm/fcsr: bring the host flags in */
    /* csrrw with rd = x0 must not read, but the old value is still needed for
     * set/clear; reading is side-effect free for every CSR here. */
    uint64_t old = (do_read || op != 1) ? c->read(cpu) : 0;
    if (do_write) {
        uint64_t v = op == 1 ? src : op == 2 ? old | src : old & ~src;
        c->write(cpu, v);
    }
    return old;
}
