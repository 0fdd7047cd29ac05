/* KVM executor tests: small guest programs (tests/kvm/guest/, one .asm each,
 * the build) run on the pc machine under cpu/kvm, with a probe device that logs
 * every port and MMIO access it sees:
 *
 *   real16, prot32, long64  port exits of 1/2/4 bytes, string I/O (rep outsb,
 *                           rep insw), MMIO exits of 1/2/4 (and 8) bytes, in
 *                           real, 32-bit protected and 64-bit long mode
 *   pit                     Vireo's 8254 -> GSI 0 -> KVM's in-kernel 8259 ->
 *                           LAPIC LINT0 -> the guest's IDT handler, 5 ticks
 *   smp                     two vCPUs; the AP, woken by INIT-SIPI-SIPI, reports
 *                           its APIC id
 *   timer-path (no CPU)     the 8254 in mode 3 at 1 kHz keeps reaching the
 *                           external interrupt sink (timer-path-mode2: the
 *                           same in mode 2)
 * Every guest ends with isa-debug-exit (status 33), which ends the run.
 *
 *   kvm-test GUEST_DIR [NAME...]   runs them all (or the named ones: real16 prot32
 *                                  long64 pit smp); SKIP lines where /dev/kvm is
 *                                  unusable */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu/kvm/kvm.h"
#include "dm/clock.h"
#include "dm/device.h"
#include "dm/dm.h"
#include "dm/mainloop.h"
#include "dm/memory.h"
#include "machines/pc.h"

#define PROBE_PORT 0x700
#define PROBE_MMIO 0xd0000
#define EXIT_PASS_STATUS 33
/* A hung guest must not hang `make check`: this is a bound, not a measurement. */
#define WATCHDOG_SECONDS 120

struct access {
    bool mmio, write;
    uint64_t addr;
    unsigned size;
    uint64_t value;
};

struct run {
    struct dm_ctx ctx;
    struct pc_machine *pc;
    struct kvm_vm *kvm;
    struct mem_region probe_io, probe_mem;
    struct access log[256];
    unsigned n;
    int exit_status;
    bool exited;
    struct dm_bh *quit_bh;
};

/* What the probe answers: byte i of a read at offset o is (o + i) ^ 0x5a, so a
 * value shows both the offset and the size it was read with. */
static uint64_t pattern(uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = v << 8 | (((offset + i) ^ 0x5a) & 0xff);
    return v;
}

static void probe_log(struct run *r, bool mmio, bool write, uint64_t addr, unsigned size,
                      uint64_t value)
{
    if (r->n < sizeof(r->log) / sizeof(r->log[0]))
        r->log[r->n++] = (struct access){ mmio, write, addr, size, value };
}

static uint64_t probe_io_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = pattern(addr, size);
    probe_log(opaque, false, false, addr, size, v);
    return v;
}

static void probe_io_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    probe_log(opaque, false, true, addr, size, value);
}

static uint64_t probe_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = pattern(addr, size);
    probe_log(opaque, true, false, addr, size, v);
    return v;
}

static void probe_mem_write(void *opaque, uint64_t addr, uint64_t value, unsigned size)
{
    probe_log(opaque, true, true, addr, size, value);
}

static const struct mem_region_ops probe_io_ops = {
    .read = probe_io_read, .write = probe_io_write, .endian = DM_ENDIAN_LITTLE,
    .valid = { 1, 4, true }, .impl = { 1, 4, true },
};

static const struct mem_region_ops probe_mem_ops = {
    .read = probe_mem_read, .write = probe_mem_write, .endian = DM_ENDIAN_LITTLE,
    .valid = { 1, 8, true }, .impl = { 1, 8, true },
};

static void quit_bh(void *opaque)
{
    struct run *r = opaque;
    main_loop_quit(r->ctx.loop);
}

static void on_exit_request(void *opaque, int status)
{
    struct run *r = opaque;
    r->exit_status = status;
    r->exited = true;
    bh_schedule(r->quit_bh);
}

static void on_gsi(void *opaque, int gsi, int level)
{
    struct run *r = opaque;
    if (r->kvm)
        kvm_vm_set_irq(r->kvm, gsi, level);
}

static void on_kvm_event(void *opaque, enum kvm_event ev, int cpu)
{
    struct run *r = opaque;
    printf("# KVM event %d on vCPU %d\n", ev, cpu);
    bh_schedule(r->quit_bh);
}

/* The watchdog: each guest run gets WATCHDOG_SECONDS from its start. */
static atomic_bool watchdog_done;
static struct kvm_vm *_Atomic running_vm;
static _Atomic double run_started;
static const char *_Atomic run_name = "kvm";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *watchdog(void *arg)
{
    while (!atomic_load(&watchdog_done)) {
        struct timespec ts = { 0, 100000000 };
        nanosleep(&ts, NULL);
        if (now() - atomic_load(&run_started) > WATCHDOG_SECONDS) {
            printf("FAIL: %s: the guest did not finish within %d s\n", atomic_load(&run_name),
                   WATCHDOG_SECONDS);
            struct kvm_vm *vm = atomic_load(&running_vm);
            if (vm) {
                /* where the vCPUs are, for whoever reads the log */
                kvm_vm_pause(vm);
                kvm_vm_print_registers(vm, stdout);
            }
            fflush(stdout);
            _exit(1);
        }
    }
    return NULL;
}

/* Runs one guest image to its isa-debug-exit.  Returns 0 or -1 (message printed). */
static int run_guest(struct run *r, const char *name, const char *image, int cpus)
{
    static const char *const devices[] = { "isa-debug-exit,iobase=0xf4,iosize=0x04" };
    struct dm_err err = { { 0 } };
    memset(r, 0, sizeof(*r));
    atomic_store(&run_name, name);
    atomic_store(&run_started, now());
    dm_lock();
    r->ctx.loop = main_loop_new();
    r->ctx.clock_virt = clock_new(DM_CLOCK_VIRTUAL);
    main_loop_add_clock(r->ctx.loop, r->ctx.clock_virt);
    r->quit_bh = bh_new(r->ctx.loop, quit_bh, r);

    struct pc_config cfg;
    pc_config_init(&cfg);
    cfg.ram_size = 16 << 20;
    cfg.smp_cpus = cpus;
    cfg.bios_path = image;
    cfg.devices = devices;
    cfg.n_devices = 1;
    cfg.irqchip = PC_IRQCHIP_EXTERNAL;
    cfg.gsi_sink = on_gsi;
    cfg.gsi_sink_opaque = r;
    cfg.exit_request = on_exit_request;
    cfg.exit_opaque = r;
    int ret = -1;
    if (pc_create(&cfg, &r->ctx, &r->pc, &err) < 0) {
        printf("FAIL: %s: pc_create: %s\n", name, err.msg);
        goto out;
    }
    /* the probe: ports through the ISA bus, memory in the PCI window that the
     * PAM registers show at 0xC0000-0xFFFFF after reset */
    struct dev_bus *isa = dm_find_bus(&r->ctx, NULL, DEV_BUS_ISA);
    mem_region_init_io(&r->probe_io, "probe", &probe_io_ops, r, 0x10);
    mem_region_add_subregion(isa->io_root, PROBE_PORT, &r->probe_io, 2);
    mem_region_init_io(&r->probe_mem, "probe", &probe_mem_ops, r, 0x1000);
    mem_region_add_subregion(isa->mem_root, PROBE_MMIO, &r->probe_mem, 2);

    struct kvm_vm_config kc = {
        .cpus = cpus, .mem = r->ctx.mem, .io = r->ctx.io, .event = on_kvm_event, .opaque = r,
    };
    if (kvm_vm_new(&kc, &r->kvm, &err) < 0) {
        printf("FAIL: %s: %s\n", name, err.msg);
        goto out;
    }
    pc_reset(r->pc);
    atomic_store(&running_vm, r->kvm);
    if (kvm_vm_start(r->kvm, &err) < 0) {
        printf("FAIL: %s: %s\n", name, err.msg);
        goto out;
    }
    main_loop_run(r->ctx.loop);
    atomic_store(&running_vm, NULL);
    struct kvm_vm_stats st;
    kvm_vm_get_stats(r->kvm, &st);
    printf("# %s: %.1f s, %llu exits (%llu port, %llu MMIO)\n", name,
           now() - atomic_load(&run_started), (unsigned long long)st.exits,
           (unsigned long long)st.io_exits, (unsigned long long)st.mmio_exits);
    if (!r->exited)
        printf("FAIL: %s: the guest stopped without isa-debug-exit\n", name);
    else if (r->exit_status != EXIT_PASS_STATUS)
        printf("FAIL: %s: isa-debug-exit status %d, expected %d\n", name, r->exit_status,
               EXIT_PASS_STATUS);
    else
        ret = 0;
out:
    dm_unlock();
    kvm_vm_free(r->kvm);
    r->kvm = NULL;
    dm_lock();
    if (r->pc) {
        mem_region_del_subregion(r->probe_io.parent, &r->probe_io);
        mem_region_del_subregion(r->probe_mem.parent, &r->probe_mem);
        pc_destroy(r->pc);
    }
    bh_free(r->quit_bh);
    main_loop_free(r->ctx.loop);
    clock_free(r->ctx.clock_virt);
    dm_unlock();
    return ret;
}

/* The accesses a guest's port_sequence / mmio_sequence make (common.inc), in
 * order.  Reads carry the probe's pattern; each is echoed by a write of the
 * same value and size. */
static unsigned expect_port_sequence(struct access *e)
{
    unsigned n = 0;
#define IO(w, a, s, v) e[n++] = (struct access){ false, w, a, s, v }
#define MM(w, a, s, v) e[n++] = (struct access){ true, w, a, s, v }
    IO(true, 0, 1, 0x11);
    IO(true, 0, 2, 0x2233);
    IO(true, 0, 4, 0x44556677);
    for (unsigned s = 1; s <= 4; s *= 2) {
        IO(false, 4, s, pattern(4, s));
        IO(true, 8, s, pattern(4, s));
    }
    for (int i = 0; i < 4; i++)
        IO(true, 0xc, 1, "abcd"[i]);
    for (int i = 0; i < 3; i++)
        IO(false, 0xe, 2, pattern(0xe, 2));
    for (int i = 0; i < 3; i++)
        IO(true, 8, 2, pattern(0xe, 2));
    return n;
}

static unsigned expect_mmio_sequence(struct access *e, bool with8)
{
    unsigned n = 0;
    MM(true, 0x10, 1, 0x12);
    MM(true, 0x20, 2, 0x3456);
    MM(true, 0x30, 4, 0x789abcde);
    for (unsigned s = 1; s <= 4; s *= 2) {
        MM(false, 0x40, s, pattern(0x40, s));
        IO(true, 8, s, pattern(0x40, s));
    }
    if (with8) {
        MM(true, 0x50, 8, 0x1122334455667788ull);
        MM(false, 0x58, 8, pattern(0x58, 8));
        MM(true, 0x60, 8, pattern(0x58, 8));
    }
    return n;
#undef IO
#undef MM
}

static const char *describe(const struct access *a, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %#llx size %u value %#llx", a->mmio ? "MMIO" : "port",
             a->write ? "write" : "read", (unsigned long long)a->addr, a->size,
             (unsigned long long)a->value);
    return buf;
}

static int compare(const char *name, const struct run *r, const struct access *e, unsigned n)
{
    char got[96], want[96];
    for (unsigned i = 0; i < n; i++) {
        if (i >= r->n) {
            printf("FAIL: %s: access %u missing: expected %s\n", name, i,
                   describe(&e[i], want, sizeof(want)));
            return -1;
        }
        const struct access *a = &r->log[i];
        if (a->mmio != e[i].mmio || a->write != e[i].write || a->addr != e[i].addr
            || a->size != e[i].size || a->value != e[i].value) {
            printf("FAIL: %s: access %u: got %s, expected %s\n", name, i,
                   describe(a, got, sizeof(got)), describe(&e[i], want, sizeof(want)));
            return -1;
        }
    }
    if (r->n != n) {
        printf("FAIL: %s: %u accesses, expected %u; the first extra: %s\n", name, r->n, n,
               describe(&r->log[n], got, sizeof(got)));
        return -1;
    }
    return 0;
}

static void test_io(const char *dir, const char *mode, bool with8)
{
    char image[512], name[64];
    snprintf(image, sizeof(image), "%s/%s.bin", dir, mode);
    snprintf(name, sizeof(name), "kvm/%s", mode);
    struct run *r = calloc(1, sizeof(*r));
    if (run_guest(r, name, image, 1) == 0) {
        struct access e[64];
        unsigned n = expect_port_sequence(e);
        n += expect_mmio_sequence(e + n, with8);
        if (compare(name, r, e, n) == 0)
            printf("PASS: %s: %u port/MMIO accesses with the right sizes and values, "
                   "isa-debug-exit status %d\n", name, n, r->exit_status);
    }
    free(r);
}

static void test_pit(const char *dir)
{
    char image[512];
    snprintf(image, sizeof(image), "%s/pit.bin", dir);
    struct run *r = calloc(1, sizeof(*r));
    if (run_guest(r, "kvm/pit", image, 1) == 0) {
        /* the guest's last probe write is its tick count (>= 5) */
        const struct access *last = r->n ? &r->log[r->n - 1] : NULL;
        if (!last || last->mmio || !last->write || last->addr != 0)
            printf("FAIL: kvm/pit: no tick count reported\n");
        else if (last->value < 5)
            printf("FAIL: kvm/pit: %llu ticks, expected at least 5\n",
                   (unsigned long long)last->value);
        else
            printf("PASS: kvm/pit: %llu PIT interrupts reached the guest's IDT handler\n",
                   (unsigned long long)last->value);
    }
    free(r);
}

static void test_smp(const char *dir)
{
    char image[512];
    snprintf(image, sizeof(image), "%s/smp.bin", dir);
    struct run *r = calloc(1, sizeof(*r));
    if (run_guest(r, "kvm/smp", image, 2) == 0) {
        /* the AP's APIC id (1), then the BSP's mark */
        if (r->n == 2 && r->log[0].write && r->log[0].value == 1 && r->log[1].value == 0xbbbb)
            printf("PASS: kvm/smp: the AP (APIC id 1) ran after INIT-SIPI-SIPI, then the BSP\n");
        else
            printf("FAIL: kvm/smp: %u probe accesses, first value %#llx (expected the AP's "
                   "id 1, then 0xbbbb)\n", r->n, r->n ? (unsigned long long)r->log[0].value : 0ull);
    }
    free(r);
}

/* The timer path under the executor, without a CPU: the main loop, the virtual
 * clock and Vireo's 8254 programmed for 1 kHz must deliver a steady stream of
 * rising edges of GSI 0 to the machine's external sink (the one that calls
 * KVM_IRQ_LINE), in mode 3 (square wave, SeaBIOS) and mode 2 (rate generator,
 * Linux's PIT clock event).  Runs with or without KVM. */
static unsigned gsi0_edges;
static void count_gsi(void *opaque, int gsi, int level)
{
    if (gsi == 0 && level)
        gsi0_edges++;
}

static void test_timer_path(const char *dir, int mode)
{
    char image[512];
    snprintf(image, sizeof(image), "%s/exit.bin", dir);
    struct dm_ctx ctx;
    struct pc_machine *pc;
    struct dm_err err;
    memset(&ctx, 0, sizeof(ctx));
    dm_lock();
    ctx.loop = main_loop_new();
    ctx.clock_virt = clock_new(DM_CLOCK_VIRTUAL);
    main_loop_add_clock(ctx.loop, ctx.clock_virt);
    struct pc_config cfg;
    pc_config_init(&cfg);
    cfg.ram_size = 16 << 20;
    cfg.irqchip = PC_IRQCHIP_EXTERNAL;
    cfg.gsi_sink = count_gsi;
    cfg.bios_path = image;          /* never run: no CPU here */
    if (pc_create(&cfg, &ctx, &pc, &err) < 0) {
        printf("FAIL: timer-path-mode%d: pc_create: %s\n", mode, err.msg);
        dm_unlock();
        return;
    }
    pc_reset(pc);
    gsi0_edges = 0;
    /* 8254 channel 0: lobyte/hibyte, mode 2 (rate generator: OUT low for one
     * input clock per period) or 3 (square wave), divisor 1193 (1 kHz) */
    io_write(ctx.io, 0x43, 1, 0x30 | mode << 1);
    io_write(ctx.io, 0x40, 1, 1193 & 0xff);
    io_write(ctx.io, 0x40, 1, 1193 >> 8);
    double t0 = now();
    while (now() - t0 < 1.0)
        main_loop_iterate(ctx.loop, 10000000);
    double secs = now() - t0;
    unsigned edges = gsi0_edges;
    pc_destroy(pc);
    main_loop_free(ctx.loop);
    clock_free(ctx.clock_virt);
    dm_unlock();
    double rate = edges / secs;
    /* Late timers may merge ticks on a loaded host, so this asks only for a
     * steady stream (at least 20 of the 1000 periods); rates are informative. */
    printf("# timer-path-mode%d: %u rising edges in %.2f s (%.0f/s)\n", mode, edges, secs,
           rate);
    if (edges >= 20)
        printf("PASS: timer-path-mode%d: the 8254 at 1 kHz raises GSI 0 periodically "
               "(%u edges in %.1f s)\n", mode, edges, secs);
    else
        printf("FAIL: timer-path-mode%d: the 8254 at 1 kHz raised GSI 0 only %u times in "
               "%.1f s: the periodic interrupt does not reach the interrupt sink\n", mode,
               edges, secs);
}

static bool wanted(int argc, char **argv, const char *name)
{
    if (argc <= 2)
        return true;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {
        "kvm/real16", "kvm/prot32", "kvm/long64", "kvm/pit", "kvm/smp",
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    char why[160];
    if (argc < 2) {
        fprintf(stderr, "usage: kvm-test GUEST_DIR\n");
        return 2;
    }
    if (wanted(argc, argv, "timer-path"))
        test_timer_path(argv[1], 3);
    /* Mode 2, Linux's choice: OUT is low for one 838 ns clock per period, and
     * every period must still reach the sink (devices/i8254.c counts pulses). */
    if (wanted(argc, argv, "timer-path-mode2"))
        test_timer_path(argv[1], 2);
    if (!kvm_available(why, sizeof(why))) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            printf("SKIP: %s (%s)\n", names[i], why);
        return 0;
    }
    pthread_t wd;
    atomic_store(&run_started, now());
    pthread_create(&wd, NULL, watchdog, NULL);
    if (wanted(argc, argv, "real16"))
        test_io(argv[1], "real16", false);
    if (wanted(argc, argv, "prot32"))
        test_io(argv[1], "prot32", true);
    if (wanted(argc, argv, "long64"))
        test_io(argv[1], "long64", true);
    if (wanted(argc, argv, "pit"))
        test_pit(argv[1]);
    if (wanted(argc, argv, "smp"))
        test_smp(argv[1]);
    atomic_store(&watchdog_done, true);
    pthread_join(wd, NULL);
    return 0;
}
