/* The test executor: see tests/qtest/qtest.h. */
#include "tests/qtest/qtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioapic.h"
#include "dm/chardev.h"
#include "dm/clock.h"
#include "dm/dma.h"
#include "dm/mainloop.h"
#include "dm/memory.h"
#include "dm/vmstate.h"

struct qtest {
    struct dm_ctx ctx;
    struct dev_registry *types;
    struct pc_machine *pc;
    unsigned long irq_edges[PC_NUM_GSI];
    bool reset_pending;
    unsigned long resets_done;
    unsigned long shutdowns;
    int exit_status;
    unsigned long ioapic_msgs;
    struct ioapic_msg ioapic_last;
};

static void qt_ioapic(void *opaque, const struct ioapic_msg *m)
{
    struct qtest *q = opaque;
    q->ioapic_msgs++;
    q->ioapic_last = *m;
}

unsigned long qtest_ioapic_count(struct qtest *q)
{
    return q->ioapic_msgs;
}

bool qtest_ioapic_last(struct qtest *q, struct ioapic_msg *m)
{
    *m = q->ioapic_last;
    return q->ioapic_msgs != 0;
}

void qtest_ioapic_eoi(struct qtest *q, uint8_t vector)
{
    dm_lock();
    pc_ioapic_eoi(q->pc, vector);
    dm_unlock();
}

static void qt_reset_request(void *opaque)
{
    struct qtest *q = opaque;
    q->reset_pending = true;
}

static void qt_shutdown_request(void *opaque)
{
    struct qtest *q = opaque;
    q->shutdowns++;
}

static void qt_exit_request(void *opaque, int status)
{
    struct qtest *q = opaque;
    q->exit_status = status;
}

static void qt_gsi_observer(void *opaque, int gsi, int level)
{
    struct qtest *q = opaque;
    if (level && gsi >= 0 && gsi < PC_NUM_GSI)
        q->irq_edges[gsi]++;
}

/* Carry out a reset the guest asked for during the access that just ended. */
static void qt_after_access(struct qtest *q)
{
    if (q->reset_pending) {
        q->reset_pending = false;
        pc_reset(q->pc);
        q->resets_done++;
    }
}

struct qtest *qtest_create(const struct qtest_opts *opts)
{
    static const struct qtest_opts defaults;
    if (!opts)
        opts = &defaults;
    struct qtest *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    struct dm_err err = { { 0 } };
    struct pc_config cfg;
    pc_config_init(&cfg);
    q->exit_status = -1;

    dm_lock();
    q->ctx.clock_virt = clock_new(DM_CLOCK_TEST);
    q->ctx.clock_real = clock_new(DM_CLOCK_REALTIME);
    q->ctx.loop = main_loop_new();
    q->ctx.chardevs = q->ctx.loop ? chardev_set_new(q->ctx.loop) : NULL;
    if (!q->ctx.clock_virt || !q->ctx.clock_real || !q->ctx.chardevs) {
        fprintf(stderr, "qtest: cannot create the clocks, loop or chardev set\n");
        goto fail;
    }
    q->types = dev_registry_new();
    if (!q->types || pc_register_device_types(q->types) < 0) {
        fprintf(stderr, "qtest: cannot fill the device registry\n");
        goto fail;
    }
    for (unsigned i = 0; i < QTEST_MAX_LIST && opts->extra_types[i]; i++) {
        if (dev_registry_add(q->types, opts->extra_types[i]) < 0) {
            fprintf(stderr, "qtest: cannot register %s\n", opts->extra_types[i]->name);
            goto fail;
        }
    }
    q->ctx.types = q->types;
    for (unsigned i = 0; i < QTEST_MAX_LIST && opts->chardevs[i]; i++) {
        struct chardev *c;
        if (chardev_new_from_opts(q->ctx.chardevs, opts->chardevs[i], &c, &err) < 0) {
            fprintf(stderr, "qtest: -chardev %s: %s\n", opts->chardevs[i], err.msg);
            goto fail;
        }
    }
    for (unsigned i = 0; i < opts->n_serial && i < PC_MAX_SERIAL; i++) {
        char spec[64];
        snprintf(spec, sizeof(spec), "ringbuf,id=com%u,size=65536", i + 1);
        if (chardev_new_from_opts(q->ctx.chardevs, spec, &cfg.serial[i], &err) < 0) {
            fprintf(stderr, "qtest: %s: %s\n", spec, err.msg);
            goto fail;
        }
    }
    const char *devs[QTEST_MAX_LIST];
    size_t n_devs = 0;
    for (unsigned i = 0; i < QTEST_MAX_LIST && opts->devices[i]; i++)
        devs[n_devs++] = opts->devices[i];

    if (opts->ram_size)
        cfg.ram_size = opts->ram_size;
    if (opts->smp)
        cfg.smp_cpus = opts->smp;
    cfg.bios_path = opts->bios;
    cfg.boot_order = opts->boot_order;
    cfg.devices = devs;
    cfg.n_devices = n_devs;
    cfg.no_reboot = opts->no_reboot;
    cfg.rtc_start = opts->rtc_start ? opts->rtc_start : QTEST_RTC_DEFAULT;
    cfg.irqchip = PC_IRQCHIP_PIC;
    cfg.reset_request = qt_reset_request;
    cfg.reset_opaque = q;
    cfg.shutdown_request = qt_shutdown_request;
    cfg.shutdown_opaque = q;
    cfg.exit_request = qt_exit_request;
    cfg.exit_opaque = q;
    cfg.ioapic_deliver = qt_ioapic;
    cfg.ioapic_opaque = q;
    if (pc_create(&cfg, &q->ctx, &q->pc, &err) < 0) {
        fprintf(stderr, "qtest: cannot create the pc machine: %s\n", err.msg);
        goto fail;
    }
    pc_set_gsi_observer(q->pc, qt_gsi_observer, q);
    dm_unlock();
    return q;

fail:
    dm_unlock();
    qtest_free(q);
    return NULL;
}

void qtest_free(struct qtest *q)
{
    if (!q)
        return;
    dm_lock();
    if (q->pc)
        pc_destroy(q->pc);
    if (q->ctx.chardevs)
        chardev_set_free(q->ctx.chardevs);
    if (q->ctx.loop)
        main_loop_free(q->ctx.loop);
    if (q->ctx.clock_virt)
        clock_free(q->ctx.clock_virt);
    if (q->ctx.clock_real)
        clock_free(q->ctx.clock_real);
    if (q->types)
        dev_registry_free(q->types);
    dm_unlock();
    free(q);
}

struct pc_machine *qtest_machine(struct qtest *q)
{
    return q->pc;
}

/* ---- I/O --------------------------------------------------------------------- */

int qtest_io(struct qtest *q, bool is_write, bool is_mem, uint64_t addr, unsigned size,
             uint64_t *value)
{
    dm_lock();
    struct address_space *as = is_mem ? q->ctx.mem : q->ctx.io;
    int r = is_write ? io_write(as, addr, size, *value) : io_read(as, addr, size, value);
    qt_after_access(q);
    dm_unlock();
    return r;
}

static uint64_t qt_read(struct qtest *q, bool mem, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    qtest_io(q, false, mem, addr, size, &v);
    return v;
}

static void qt_write(struct qtest *q, bool mem, uint64_t addr, unsigned size, uint64_t v)
{
    qtest_io(q, true, mem, addr, size, &v);
}

void qtest_outb(struct qtest *q, uint16_t port, uint8_t v) { qt_write(q, false, port, 1, v); }
void qtest_outw(struct qtest *q, uint16_t port, uint16_t v) { qt_write(q, false, port, 2, v); }
void qtest_outl(struct qtest *q, uint16_t port, uint32_t v) { qt_write(q, false, port, 4, v); }
uint8_t qtest_inb(struct qtest *q, uint16_t port) { return (uint8_t)qt_read(q, false, port, 1); }
uint16_t qtest_inw(struct qtest *q, uint16_t port) { return (uint16_t)qt_read(q, false, port, 2); }
uint32_t qtest_inl(struct qtest *q, uint16_t port) { return (uint32_t)qt_read(q, false, port, 4); }

uint8_t qtest_readb(struct qtest *q, uint64_t a) { return (uint8_t)qt_read(q, true, a, 1); }
uint16_t qtest_readw(struct qtest *q, uint64_t a) { return (uint16_t)qt_read(q, true, a, 2); }
uint32_t qtest_readl(struct qtest *q, uint64_t a) { return (uint32_t)qt_read(q, true, a, 4); }
uint64_t qtest_readq(struct qtest *q, uint64_t a) { return qt_read(q, true, a, 8); }
void qtest_writeb(struct qtest *q, uint64_t a, uint8_t v) { qt_write(q, true, a, 1, v); }
void qtest_writew(struct qtest *q, uint64_t a, uint16_t v) { qt_write(q, true, a, 2, v); }
void qtest_writel(struct qtest *q, uint64_t a, uint32_t v) { qt_write(q, true, a, 4, v); }
void qtest_writeq(struct qtest *q, uint64_t a, uint64_t v) { qt_write(q, true, a, 8, v); }

void qtest_memread(struct qtest *q, uint64_t addr, void *buf, size_t len)
{
    dm_lock();
    dma_read(q->ctx.mem, addr, buf, len);
    dm_unlock();
}

void qtest_memwrite(struct qtest *q, uint64_t addr, const void *buf, size_t len)
{
    dm_lock();
    dma_write(q->ctx.mem, addr, buf, len);
    dm_unlock();
}

/* ---- clock and interrupts ---------------------------------------------------- */

int64_t qtest_clock_now(struct qtest *q)
{
    dm_lock();
    int64_t now = clock_get_ns(q->ctx.clock_virt);
    dm_unlock();
    return now;
}

unsigned qtest_clock_step(struct qtest *q, int64_t ns)
{
    dm_lock();
    unsigned n = clock_step(q->ctx.clock_virt, ns);
    qt_after_access(q);
    dm_unlock();
    return n;
}

unsigned qtest_clock_step_late(struct qtest *q, int64_t ns)
{
    dm_lock();
    unsigned n = clock_step_late(q->ctx.clock_virt, ns);
    qt_after_access(q);
    dm_unlock();
    return n;
}

int qtest_intr(struct qtest *q)
{
    dm_lock();
    int v = pc_pic_intr(q->pc);
    dm_unlock();
    return v;
}

int qtest_ack(struct qtest *q)
{
    dm_lock();
    int v = pc_pic_ack(q->pc);
    dm_unlock();
    return v;
}

int qtest_irq_level(struct qtest *q, int gsi)
{
    dm_lock();
    int v = pc_gsi_level(q->pc, gsi);
    dm_unlock();
    return v;
}

unsigned long qtest_irq_count(struct qtest *q, int gsi)
{
    return gsi >= 0 && gsi < PC_NUM_GSI ? q->irq_edges[gsi] : 0;
}

void qtest_irq_count_reset(struct qtest *q)
{
    memset(q->irq_edges, 0, sizeof(q->irq_edges));
}

void qtest_system_reset(struct qtest *q)
{
    dm_lock();
    pc_reset(q->pc);
    dm_unlock();
}

unsigned long qtest_resets_done(struct qtest *q)
{
    return q->resets_done;
}

unsigned long qtest_shutdowns(struct qtest *q)
{
    return q->shutdowns;
}

int qtest_exit_status(struct qtest *q)
{
    return q->exit_status;
}

bool qtest_a20(struct qtest *q)
{
    dm_lock();
    bool v = pc_a20_enabled(q->pc);
    dm_unlock();
    return v;
}

/* ---- chardevs ------------------------------------------------------------------ */

size_t qtest_chardev_read(struct qtest *q, const char *id, void *buf, size_t len)
{
    dm_lock();
    struct chardev *c = chardev_find(q->ctx.chardevs, id);
    size_t n = c ? chardev_ringbuf_read(c, buf, len) : 0;
    dm_unlock();
    return n;
}

void qtest_chardev_input(struct qtest *q, const char *id, const void *buf, size_t len)
{
    dm_lock();
    struct chardev *c = chardev_find(q->ctx.chardevs, id);
    if (c)
        chardev_inject_input(c, buf, len);
    dm_unlock();
}

size_t qtest_serial_read(struct qtest *q, unsigned index, void *buf, size_t len)
{
    char id[8];
    snprintf(id, sizeof(id), "com%u", index + 1);
    return qtest_chardev_read(q, id, buf, len);
}

void qtest_serial_input(struct qtest *q, unsigned index, const void *buf, size_t len)
{
    char id[8];
    snprintf(id, sizeof(id), "com%u", index + 1);
    qtest_chardev_input(q, id, buf, len);
}

/* ---- QEMU's qtest protocol -------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s)
        return -1;
    *v = strtoull(s, &end, 0);
    return *end ? -1 : 0;
}

int qtest_command(struct qtest *q, const char *line, char *reply, size_t len)
{
    char op[16], a[32] = "", b[32] = "";
    int n = sscanf(line, "%15s %31s %31s", op, a, b);
    uint64_t addr = 0, val = 0;
    if (n < 1) {
        snprintf(reply, len, "FAIL empty command");
        return -1;
    }
    if (!strcmp(op, "clock_step") || !strcmp(op, "clock_set")) {
        dm_lock();
        int64_t now = clock_get_ns(q->ctx.clock_virt);
        if (n >= 2 && parse_u64(a, &val) == 0) {
            if (op[6] == 's' && op[7] == 'e')
                clock_set_ns(q->ctx.clock_virt, (int64_t)val);
            else
                clock_step(q->ctx.clock_virt, (int64_t)val);
        } else if (op[6] == 's' && op[7] == 't') {
            int64_t next = clock_next_deadline(q->ctx.clock_virt);
            if (next != DM_CLOCK_NEVER && next > now)
                clock_set_ns(q->ctx.clock_virt, next);
        }
        qt_after_access(q);
        now = clock_get_ns(q->ctx.clock_virt);
        dm_unlock();
        snprintf(reply, len, "OK %lld", (long long)now);
        return 0;
    }
    size_t ol = strlen(op);
    char w = ol ? op[ol - 1] : 0;
    unsigned size = w == 'b' ? 1 : w == 'w' ? 2 : w == 'l' ? 4 : w == 'q' ? 8 : 0;
    bool in = !strncmp(op, "in", 2) && ol == 3, out = !strncmp(op, "out", 3) && ol == 4;
    bool rd = !strncmp(op, "read", 4) && ol == 5, wr = !strncmp(op, "write", 5) && ol == 6;
    if (!size || !(in || out || rd || wr) || ((in || out) && size == 8)) {
        snprintf(reply, len, "FAIL Unknown command '%s'", op);
        return -1;
    }
    if (parse_u64(a, &addr) < 0 || ((out || wr) && parse_u64(b, &val) < 0)) {
        snprintf(reply, len, "FAIL bad arguments for '%s'", op);
        return -1;
    }
    qtest_io(q, out || wr, rd || wr, addr, size, &val);
    if (out || wr)
        snprintf(reply, len, "OK");
    else if (in)
        snprintf(reply, len, "OK 0x%04llx", (unsigned long long)val);
    else
        snprintf(reply, len, "OK 0x%016llx", (unsigned long long)val);
    return 0;
}

/* ---- state ----------------------------------------------------------------------- */

int qtest_save(struct qtest *q, uint8_t **buf, size_t *len)
{
    struct vms_buf b = { 0 };
    dm_lock();
    int r = pc_save_state(q->pc, &b);
    dm_unlock();
    if (r < 0) {
        vms_buf_free(&b);
        return r;
    }
    *buf = b.data;
    *len = b.len;
    return 0;
}

int qtest_load(struct qtest *q, const uint8_t *buf, size_t len)
{
    struct dm_err err = { { 0 } };
    dm_lock();
    int r = pc_load_state(q->pc, buf, len, &err);
    dm_unlock();
    if (r < 0)
        fprintf(stderr, "qtest: load: %s\n", err.msg);
    return r;
}
