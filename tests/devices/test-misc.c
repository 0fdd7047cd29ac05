/* The rest of the pc machine through the test executor: isa-debug-exit and
 * isa-debugcon as QEMU's command line spells them, system reset of every
 * device, state save/restore of every device into a fresh machine, hostile
 * saved state, two machines in one process, the external interrupt sink. */
#include "tests/devices/dt.h"

#include <string.h>

#include "dm/clock.h"
#include "dm/mainloop.h"
#include "dm/vmstate.h"

static void test_debug_exit(void)
{
    struct qtest_opts o = { .devices = { "isa-debug-exit,iobase=0xf4,iosize=0x04" } };
    DT_NEW(q, &o);
    CU_ASSERT_EQUAL(qtest_exit_status(q), -1);
    qtest_outb(q, 0xF4, 0x10);
    CU_ASSERT_EQUAL(qtest_exit_status(q), 0x21);
    qtest_outl(q, 0xF4, 0x7F);
    CU_ASSERT_EQUAL(qtest_exit_status(q), 0xFF);
    qtest_outb(q, 0xF7, 0x00);
    CU_ASSERT_EQUAL(qtest_exit_status(q), 1);
    qtest_free(q);
    /* defaults: 0x501, two ports */
    struct qtest_opts o2 = { .devices = { "isa-debug-exit" } };
    struct qtest *q2 = qtest_create(&o2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q2);
    qtest_outw(q2, 0x501, 0x0002);
    CU_ASSERT_EQUAL(qtest_exit_status(q2), 5);
    qtest_free(q2);
    /* a bad option is refused with a message, no machine */
    struct qtest_opts o3 = { .devices = { "isa-debug-exit,iosize=0" } };
    CU_ASSERT_PTR_NULL(qtest_create(&o3));
}

static void test_debugcon(void)
{
    struct qtest_opts o = { .chardevs = { "ringbuf,id=dbg" },
                            .devices = { "isa-debugcon,iobase=0x402,chardev=dbg" } };
    DT_NEW(q, &o);
    const char *msg = "SeaBIOS (version test)\n";
    for (const char *p = msg; *p; p++)
        qtest_outb(q, 0x402, (uint8_t)*p);
    char buf[64] = { 0 };
    CU_ASSERT_EQUAL(qtest_chardev_read(q, "dbg", buf, sizeof(buf) - 1), strlen(msg));
    CU_ASSERT_STRING_EQUAL(buf, msg);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x402), 0xE9);
    qtest_free(q);
}

/* Put every device in a non-reset state. */
static void stir(struct qtest *q)
{
    qtest_outb(q, 0x20, 0x11);             /* PIC */
    qtest_outb(q, 0x21, 0x30);
    qtest_outb(q, 0x21, 0x04);
    qtest_outb(q, 0x21, 0x01);
    qtest_outb(q, 0x21, 0xA5);
    qtest_outb(q, 0x4D1, 0x0C);
    pc_set_gsi(qtest_machine(q), 3, 1);
    qtest_outb(q, 0x43, 0x34);             /* PIT */
    qtest_outb(q, 0x40, 0x00);
    qtest_outb(q, 0x40, 0x10);
    qtest_outb(q, 0x43, 0xB6);
    qtest_outb(q, 0x42, 0x33);
    qtest_outb(q, 0x61, 0x03);
    qtest_outb(q, 0x70, 0x0B);             /* RTC */
    qtest_outb(q, 0x71, 0x46);
    qtest_outb(q, 0x70, 0x50);
    qtest_outb(q, 0x71, 0x99);
    qtest_outb(q, 0x3F8 + 7, 0x42);        /* UART */
    qtest_outb(q, 0x3F8 + 2, 0x07);
    qtest_outb(q, 0x3F8 + 4, 0x1B);
    qtest_outb(q, 0x3F8, 'r');
    qtest_outb(q, 0x64, 0x60);             /* i8042 */
    qtest_outb(q, 0x60, 0x45);
    qtest_outb(q, 0x64, 0xD2);
    qtest_outb(q, 0x60, 0x99);
    qtest_outb(q, 0x92, 0x02);             /* port 0x92 */
    qtest_outw(q, 0x510, 0x0000);          /* fw_cfg: 2 bytes into the signature */
    (void)qtest_inb(q, 0x511);
    (void)qtest_inb(q, 0x511);
    qtest_outl(q, 0xCF8, 0x80000058);      /* i440FX PAM */
    qtest_outl(q, 0xCFC, 0x33333000);
    qtest_outl(q, 0xCF8, 0x80000860);      /* PIIX3 PIRQ */
    qtest_outl(q, 0xCFC, 0x0B0A0980);
    qtest_clock_step(q, 12345678);
}

static void test_state_roundtrip(void)
{
    struct qtest_opts o = { .n_serial = 2, .chardevs = { "ringbuf,id=dbg" },
                            .devices = { "isa-debugcon,iobase=0x402,chardev=dbg",
                                         "isa-debug-exit,iobase=0xf4,iosize=4" } };
    DT_NEW(a, &o);
    stir(a);
    uint8_t *sa = NULL, *sb = NULL;
    size_t la = 0, lb = 0;
    CU_ASSERT_EQUAL_FATAL(qtest_save(a, &sa, &la), 0);
    struct qtest *b = qtest_create(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    qtest_clock_step(b, 12345678);         /* same virtual time */
    CU_ASSERT_EQUAL(qtest_load(b, sa, la), 0);
    CU_ASSERT_EQUAL_FATAL(qtest_save(b, &sb, &lb), 0);
    CU_ASSERT_EQUAL(la, lb);
    CU_ASSERT(la == lb && memcmp(sa, sb, la) == 0);
    /* and the restored machine behaves the same */
    static const uint16_t regs[] = { 0x21, 0xA1, 0x4D1, 0x3FF, 0x3FC, 0x92 };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        CU_ASSERT_EQUAL(qtest_inb(a, regs[i]), qtest_inb(b, regs[i]));
    CU_ASSERT_EQUAL(qtest_readl(a, 0xF0000), qtest_readl(b, 0xF0000));
    for (int step = 0; step < 5; step++) {
        qtest_outb(a, 0x43, 0x00);
        qtest_outb(b, 0x43, 0x00);
        CU_ASSERT_EQUAL(qtest_inb(a, 0x40), qtest_inb(b, 0x40));
        CU_ASSERT_EQUAL(qtest_inb(a, 0x40), qtest_inb(b, 0x40));
        CU_ASSERT_EQUAL(qtest_inb(a, 0x511), qtest_inb(b, 0x511));
        CU_ASSERT_EQUAL(qtest_inb(a, 0x60), qtest_inb(b, 0x60));
        qtest_outb(a, 0x70, 0x0C);
        qtest_outb(b, 0x70, 0x0C);
        CU_ASSERT_EQUAL(qtest_inb(a, 0x71), qtest_inb(b, 0x71));
        CU_ASSERT_EQUAL(qtest_intr(a), qtest_intr(b));
        qtest_clock_step(a, 3000000);
        qtest_clock_step(b, 3000000);
    }
    free(sa);
    free(sb);
    qtest_free(a);
    qtest_free(b);
}

static void test_hostile_state(void)
{
    DT_NEW(a, NULL);
    stir(a);
    uint8_t *s = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(qtest_save(a, &s, &len), 0);
    struct qtest *b = qtest_create(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    /* truncations and byte flips: refused or loaded, never a crash; the
     * machine then survives a round of accesses to every device */
    uint64_t rng = 12345;
    for (int i = 0; i < 300; i++) {
        uint8_t *m = malloc(len);
        memcpy(m, s, len);
        size_t l = len;
        if (i < 60) {
            l = (size_t)i * len / 60;
        } else {
            for (int k = 0; k < 4; k++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                m[(rng >> 33) % len] = (uint8_t)(rng >> 17);
            }
        }
        (void)qtest_load(b, m, l);
        static const uint16_t ports[] = { 0x20, 0x21, 0xA0, 0xA1, 0x40, 0x41, 0x42, 0x61,
                                          0x71, 0x60, 0x64, 0x3F8, 0x3FD, 0x511, 0xCFC, 0x92 };
        for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
            (void)qtest_inb(b, ports[p]);
            qtest_outb(b, ports[p], (uint8_t)(rng >> 40));
        }
        qtest_clock_step(b, 1000000);
        (void)qtest_ack(b);
        free(m);
    }
    free(s);
    qtest_free(a);
    qtest_free(b);
}

/* Every state description of the pc device types passes dm's checks. */
static void test_descriptions_valid(void)
{
    struct dev_registry *r = dev_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(pc_register_device_types(r), 0);
    unsigned n = 0;
    for (unsigned i = 0; dev_registry_get(r, i); i++, n++) {
        const struct device_type *t = dev_registry_get(r, i);
        struct dm_err err = { { 0 } };
        CU_ASSERT_PTR_NOT_NULL(t->vmstate);
        if (t->vmstate && vms_desc_validate(t->vmstate, &err) < 0) {
            printf("  %s: %s\n", t->name, err.msg);
            CU_FAIL("invalid state description");
        }
    }
    CU_ASSERT_EQUAL(n, 12);
    dev_registry_free(r);
}

/* device-hazards.md "Everywhere" 3: a size a register block does not take is
 * refused by the dispatch core before any handler sees it.  (Accesses that run
 * past a block into its neighbours are split into bytes by the core: on the ISA
 * bus that is what happens too.) */
static void test_access_sizes(void)
{
    struct qtest_opts o = { .n_serial = 1 };
    DT_NEW(q, &o);
    static const struct { uint16_t port; unsigned size; } bad[] = {
        { 0x3F8, 8 }, { 0x3F8, 4 }, { 0x3FA, 2 }, { 0x3FC, 4 }, { 0x40, 4 }, { 0x42, 2 },
        { 0x20, 2 }, { 0xA0, 2 }, { 0x70, 2 }, { 0x4D0, 2 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0x5A5A5A5A5A5A5A5Aull;
        CU_ASSERT_EQUAL(qtest_io(q, true, false, bad[i].port, bad[i].size, &v), IO_INVALID);
        CU_ASSERT_EQUAL(qtest_io(q, false, false, bad[i].port, bad[i].size, &v), IO_INVALID);
        CU_ASSERT_EQUAL(qtest_io(q, true, false, bad[i].port, 3, &v), IO_INVALID);
    }
    /* nothing reached the devices */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x21), 0x00);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x3FB), 0x00);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x3FC), 0x00);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x4D0), 0x00);
    qtest_outb(q, 0x43, 0xE2);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x40) & 0x40, 0);     /* no mode was written */
    qtest_free(q);
}

static void test_system_reset(void)
{
    struct qtest_opts o = { .n_serial = 1 };
    DT_NEW(q, &o);
    stir(q);
    qtest_system_reset(q);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x21), 0x00);     /* PIC IMR */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x4D1), 0x00);    /* ELCR */
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x61) & 0x0F, 0); /* port 0x61 */
    qtest_outb(q, 0x70, 0x0B);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x71) & 0x70, 0); /* RTC interrupt enables */
    qtest_outb(q, 0x70, 0x50);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x71), 0x99);     /* NVRAM survives */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x3F8 + 7), 0);   /* UART scratch */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x3F8 + 2), 0x01);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x64) & 0x01, 0); /* i8042 queue empty */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x92), 0);
    qtest_outl(q, 0xCF8, 0x80000058);
    CU_ASSERT_EQUAL(qtest_inl(q, 0xCFC) & 0xFFFFFF00, 0);
    qtest_outl(q, 0xCF8, 0x80000860);
    CU_ASSERT_EQUAL(qtest_inl(q, 0xCFC), 0x80808080);
    CU_ASSERT(qtest_a20(q));
    qtest_free(q);
}

/* The qtest protocol replies in QEMU's formats. */
static void test_qtest_protocol(void)
{
    DT_NEW(q, NULL);
    char r[64];
    CU_ASSERT_EQUAL(qtest_command(q, "outb 0x70 0x0d", r, sizeof(r)), 0);
    CU_ASSERT_STRING_EQUAL(r, "OK");
    CU_ASSERT_EQUAL(qtest_command(q, "inb 0x71", r, sizeof(r)), 0);
    CU_ASSERT_STRING_EQUAL(r, "OK 0x0080");
    CU_ASSERT_EQUAL(qtest_command(q, "writel 0x1000 0xdeadbeef", r, sizeof(r)), 0);
    CU_ASSERT_EQUAL(qtest_command(q, "readq 0x1000", r, sizeof(r)), 0);
    CU_ASSERT_STRING_EQUAL(r, "OK 0x00000000deadbeef");
    CU_ASSERT_EQUAL(qtest_command(q, "clock_step 1000", r, sizeof(r)), 0);
    CU_ASSERT_STRING_EQUAL(r, "OK 1000");
    CU_ASSERT_EQUAL(qtest_command(q, "outq 0x70 0", r, sizeof(r)), -1);
    CU_ASSERT_EQUAL(qtest_command(q, "foo", r, sizeof(r)), -1);
    CU_ASSERT_STRING_EQUAL(r, "FAIL Unknown command 'foo'");
    CU_ASSERT_EQUAL(qtest_command(q, "inb", r, sizeof(r)), -1);
    qtest_free(q);
}

static void test_two_machines(void)
{
    struct qtest *a = qtest_create(NULL), *b = qtest_create(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    qtest_writel(a, 0x1000, 0xAAAAAAAA);
    qtest_writel(b, 0x1000, 0xBBBBBBBB);
    CU_ASSERT_EQUAL(qtest_readl(a, 0x1000), 0xAAAAAAAA);
    CU_ASSERT_EQUAL(qtest_readl(b, 0x1000), 0xBBBBBBBB);
    qtest_outb(a, 0x3FF, 1);
    qtest_free(a);
    CU_ASSERT_EQUAL(qtest_readl(b, 0x1000), 0xBBBBBBBB);
    qtest_free(b);
}

struct sink_log { int n; int gsi[16]; int level[16]; };

static void sink(void *opaque, int gsi, int level)
{
    struct sink_log *l = opaque;
    if (l->n < 16) {
        l->gsi[l->n] = gsi;
        l->level[l->n] = level;
    }
    l->n++;
}

static void test_external_irqchip(void)
{
    struct sink_log log = { 0 };
    struct dm_ctx ctx = { 0 };
    dm_lock();
    ctx.clock_virt = clock_new(DM_CLOCK_TEST);
    struct pc_config cfg;
    pc_config_init(&cfg);
    cfg.irqchip = PC_IRQCHIP_EXTERNAL;
    cfg.gsi_sink = sink;
    cfg.gsi_sink_opaque = &log;
    cfg.rtc_start = QTEST_RTC_DEFAULT;
    struct pc_machine *pc = NULL;
    struct dm_err err = { { 0 } };
    CU_ASSERT_EQUAL_FATAL(pc_create(&cfg, &ctx, &pc, &err), 0);
    /* no PIC ports: a hypervisor emulates them */
    uint64_t v = 0;
    CU_ASSERT_EQUAL(io_read(ctx.io, 0x21, 1, &v), IO_UNASSIGNED);
    CU_ASSERT_EQUAL(pc_pic_ack(pc), -1);
    /* the PIT's OUT reaches GSI 0 through the sink */
    io_write(ctx.io, 0x43, 1, 0x34);
    io_write(ctx.io, 0x40, 1, 0xA9);
    io_write(ctx.io, 0x40, 1, 0x04);
    log.n = 0;
    clock_step(ctx.clock_virt, 10000000);
    CU_ASSERT(log.n >= 19 && log.n <= 21);  /* 10 periods of 1193 clocks: 20 level changes */
    CU_ASSERT_EQUAL(log.gsi[0], 0);
    /* e820 view */
    struct pc_e820_entry e[8];
    unsigned n = pc_e820(pc, e, 8);
    CU_ASSERT(n >= 4);
    CU_ASSERT_EQUAL(e[0].addr, 0);
    CU_ASSERT_EQUAL(e[0].type, PC_E820_RAM);
    CU_ASSERT_EQUAL(pc_ram_below_4g(pc), 128ull << 20);
    CU_ASSERT_EQUAL(pc_ram_above_4g(pc), 0);
    pc_destroy(pc);
    clock_free(ctx.clock_virt);
    dm_unlock();
    /* refused: external without a sink, zero CPUs, tiny RAM, a missing BIOS */
    struct pc_config bad;
    struct dm_ctx c2 = { 0 };
    dm_lock();
    c2.clock_virt = clock_new(DM_CLOCK_TEST);
    pc_config_init(&bad);
    bad.irqchip = PC_IRQCHIP_EXTERNAL;
    CU_ASSERT(pc_create(&bad, &c2, &pc, &err) < 0);
    pc_config_init(&bad);
    bad.smp_cpus = 0;
    CU_ASSERT(pc_create(&bad, &c2, &pc, &err) < 0);
    pc_config_init(&bad);
    bad.ram_size = 4096;
    CU_ASSERT(pc_create(&bad, &c2, &pc, &err) < 0);
    pc_config_init(&bad);
    bad.bios_path = "/nonexistent/bios.bin";
    CU_ASSERT(pc_create(&bad, &c2, &pc, &err) < 0);
    CU_ASSERT(strstr(err.msg, "/nonexistent/bios.bin") != NULL);
    clock_free(c2.clock_virt);
    dm_unlock();
}

DT_MAIN("misc",
    { "debug_exit", test_debug_exit },
    { "debugcon", test_debugcon },
    { "state_roundtrip", test_state_roundtrip },
    { "hostile_state", test_hostile_state },
    { "descriptions_valid", test_descriptions_valid },
    { "access_sizes", test_access_sizes },
    { "system_reset", test_system_reset },
    { "qtest_protocol", test_qtest_protocol },
    { "two_machines", test_two_machines },
    { "external_irqchip", test_external_irqchip })
