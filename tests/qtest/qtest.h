/* The test executor: a `pc` machine with no CPU, driven from C.  Device tests
 * and fuzz targets poke ports and memory, step the deterministic virtual clock
 * (timers fire in deadline order), play the CPU's side of the PIC (INTR and
 * acknowledge), watch IRQ lines, and read what the guest sent to serial ports
 * and other chardevs (ring buffers).
 *
 * A reset request from the guest (0xCF9, i8042, port 0x92) is carried out after
 * the access that made it returns, as a main loop would; isa-debug-exit and
 * shutdown requests are recorded.  Every call takes the device lock itself. */
#ifndef TESTS_QTEST_QTEST_H
#define TESTS_QTEST_QTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/device.h"
#include "machines/pc.h"

#define QTEST_MAX_LIST      8
/* The fixed guest time a test machine's RTC starts at unless told otherwise:
 * 2023-11-14 22:13:20 UTC. */
#define QTEST_RTC_DEFAULT   1700000000ull

struct qtest_opts {
    uint64_t ram_size;                  /* 0: 128 MiB */
    unsigned smp;                       /* 0: 1 */
    const char *bios;                   /* NULL: Debian's bios-256k.bin */
    const char *boot_order;             /* NULL: "cad" */
    unsigned n_serial;                  /* COM1..COMn on ring buffers "com1".."com4" */
    const char *chardevs[QTEST_MAX_LIST];   /* -chardev strings, created first */
    const char *devices[QTEST_MAX_LIST];    /* -device strings */
    uint64_t rtc_start;                 /* 0: QTEST_RTC_DEFAULT */
    bool no_reboot;
    /* device types besides the pc machine's (test devices for -device) */
    const struct device_type *extra_types[QTEST_MAX_LIST];
};

struct qtest;

/* NULL opts: all defaults.  Prints the reason and returns NULL on failure. */
struct qtest *qtest_create(const struct qtest_opts *opts);
void qtest_free(struct qtest *q);

struct pc_machine *qtest_machine(struct qtest *q);

/* Port I/O */
void qtest_outb(struct qtest *q, uint16_t port, uint8_t v);
void qtest_outw(struct qtest *q, uint16_t port, uint16_t v);
void qtest_outl(struct qtest *q, uint16_t port, uint32_t v);
uint8_t qtest_inb(struct qtest *q, uint16_t port);
uint16_t qtest_inw(struct qtest *q, uint16_t port);
uint32_t qtest_inl(struct qtest *q, uint16_t port);
/* Any size (1, 2, 4, 8); returns the io_* status (IO_OK, IO_UNASSIGNED, IO_INVALID). */
int qtest_io(struct qtest *q, bool is_write, bool is_mem, uint64_t addr, unsigned size,
             uint64_t *value);

/* Guest-physical memory, through the memory address space */
uint8_t qtest_readb(struct qtest *q, uint64_t addr);
uint16_t qtest_readw(struct qtest *q, uint64_t addr);
uint32_t qtest_readl(struct qtest *q, uint64_t addr);
uint64_t qtest_readq(struct qtest *q, uint64_t addr);
void qtest_writeb(struct qtest *q, uint64_t addr, uint8_t v);
void qtest_writew(struct qtest *q, uint64_t addr, uint16_t v);
void qtest_writel(struct qtest *q, uint64_t addr, uint32_t v);
void qtest_writeq(struct qtest *q, uint64_t addr, uint64_t v);
void qtest_memread(struct qtest *q, uint64_t addr, void *buf, size_t len);
void qtest_memwrite(struct qtest *q, uint64_t addr, const void *buf, size_t len);

/* Virtual clock (ns since creation) */
int64_t qtest_clock_now(struct qtest *q);
/* Advance, firing timers; returns how many fired. */
unsigned qtest_clock_step(struct qtest *q, int64_t ns);
/* Advance, then fire the timers that fell due, late (dm's clock_step_late). */
unsigned qtest_clock_step_late(struct qtest *q, int64_t ns);

/* Interrupts */
int qtest_intr(struct qtest *q);            /* PIC INT output */
int qtest_ack(struct qtest *q);             /* acknowledge: the vector */
int qtest_irq_level(struct qtest *q, int gsi);
/* Rising edges seen on a GSI since creation or the last reset of the count. */
unsigned long qtest_irq_count(struct qtest *q, int gsi);
void qtest_irq_count_reset(struct qtest *q);

/* I/O APIC messages: how many were sent, the last one, and a local APIC's EOI. */
struct ioapic_msg;
unsigned long qtest_ioapic_count(struct qtest *q);
bool qtest_ioapic_last(struct qtest *q, struct ioapic_msg *m);
void qtest_ioapic_eoi(struct qtest *q, uint8_t vector);

/* System reset, as the monitor's system_reset. */
void qtest_system_reset(struct qtest *q);
unsigned long qtest_resets_done(struct qtest *q);      /* guest-requested resets carried out */
unsigned long qtest_shutdowns(struct qtest *q);        /* no_reboot: requests seen */
/* Last isa-debug-exit status, or -1. */
int qtest_exit_status(struct qtest *q);
bool qtest_a20(struct qtest *q);

/* Chardevs: bytes the guest wrote (ring buffer backends) and input to it. */
size_t qtest_chardev_read(struct qtest *q, const char *id, void *buf, size_t len);
void qtest_chardev_input(struct qtest *q, const char *id, const void *buf, size_t len);
/* COM1..COM4 = index 0..3 ("com1".."com4"). */
size_t qtest_serial_read(struct qtest *q, unsigned index, void *buf, size_t len);
void qtest_serial_input(struct qtest *q, unsigned index, const void *buf, size_t len);

/* One line of QEMU's qtest protocol (outb/outw/outl ADDR VAL, inb/inw/inl
 * ADDR, readb..readq ADDR, writeb..writeq ADDR VAL, clock_step [NS],
 * clock_set NS) answered in QEMU's format ("OK", "OK 0x%04x" for in*,
 * "OK 0x%016x" for read*, "OK <ns>" for clock_*, "FAIL ..." otherwise), so the
 * same script can drive Vireo and qemu -qtest.  Returns 0 for OK, -1 for FAIL. */
int qtest_command(struct qtest *q, const char *line, char *reply, size_t len);

/* Whole-machine state (machines/pc.h); load returns 0 or -errno (message printed). */
int qtest_save(struct qtest *q, uint8_t **buf, size_t *len);
int qtest_load(struct qtest *q, const uint8_t *buf, size_t len);

#endif
