/* pc-io: the whole pc machine's guest-facing surface through the test executor.
 * The input is a program of port and memory reads and writes (every port and
 * MMIO region the machine has, any size, any value), PCI configuration cycles,
 * fw_cfg DMA descriptors, PIC acknowledges, serial input and virtual-clock
 * steps.  A fresh machine runs each input; the virtual time an input may spend
 * is capped so that one input stays cheap whatever it programs the timers to.
 * Success is: no crash, no sanitizer report. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/qtest/qtest.h"

#define MAX_OPS         2000
#define MAX_VIRT_NS     200000000ll     /* 200 ms of guest time per input */

static const uint16_t ports[] = {
    0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1,                   /* PIC, ELCR */
    0x40, 0x41, 0x42, 0x43, 0x61,                           /* PIT, port 0x61 */
    0x70, 0x71,                                             /* RTC */
    0x60, 0x64, 0x92,                                       /* i8042, port 0x92 */
    0x510, 0x511, 0x514, 0x518,                             /* fw_cfg */
    0xCF8, 0xCF9, 0xCFA, 0xCFB, 0xCFC, 0xCFD, 0xCFE, 0xCFF, /* PCI config, 0xCF9 */
    0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, /* COM1 */
    0x2F8, 0x2FA, 0x2FD, 0x3E8, 0x2E8,                      /* COM2-4 */
    0x402, 0xF4, 0xF7,                                      /* debugcon, debug-exit */
};

static const uint64_t mem_bases[] = {
    0x0, 0x1000, 0x9F000, 0xA0000, 0xB8000, 0xC0000, 0xC4000, 0xE0000, 0xEC000, 0xF0000,
    0xFFFF0, 0x100000, 0xFFF000, 0x1000000, 0xE0000000, 0xFEC00000, 0xFFFC0000,
    0xFFFFFFF0, 0x100000000ull, 0xFFFFFFFFFFFFFFF8ull,
};

struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->left; i++, in->left--, in->p++)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

static unsigned take_size(struct input *in)
{
    return 1u << (take(in, 1) & 3);
}

static uint16_t take_port(struct input *in)
{
    uint8_t k = (uint8_t)take(in, 1);
    if (k < 2 * sizeof(ports) / sizeof(ports[0]))
        return ports[k % (sizeof(ports) / sizeof(ports[0]))];
    return (uint16_t)take(in, 2);
}

static uint64_t take_addr(struct input *in)
{
    uint8_t k = (uint8_t)take(in, 1);
    size_t n = sizeof(mem_bases) / sizeof(mem_bases[0]);
    if (k < 8 * n)
        return mem_bases[k % n] + take(in, 2);
    return take(in, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qtest_opts o = {
        .ram_size = 16 << 20,
        .n_serial = 2,
        .chardevs = { "ringbuf,id=dbg,size=4096" },
        .devices = { "isa-debugcon,iobase=0x402,chardev=dbg", "isa-debug-exit,iobase=0xf4,iosize=4" },
    };
    struct qtest *q = qtest_create(&o);
    if (!q)
        __builtin_trap();
    struct input in = { data, size };
    int64_t virt = 0;
    uint8_t sink[256];

    for (int ops = 0; in.left && ops < MAX_OPS; ops++) {
        uint8_t op = (uint8_t)take(&in, 1);
        uint64_t v;
        switch (op % 13) {
        case 0: case 1: case 2: {               /* port write */
            uint16_t port = take_port(&in);
            unsigned sz = take_size(&in);
            v = take(&in, sz);
            qtest_io(q, true, false, port, sz, &v);
            break;
        }
        case 3: case 4: {                       /* port read */
            uint16_t port = take_port(&in);
            qtest_io(q, false, false, port, take_size(&in), &v);
            break;
        }
        case 5: {                               /* memory write */
            uint64_t a = take_addr(&in);
            unsigned sz = take_size(&in);
            v = take(&in, sz);
            qtest_io(q, true, true, a, sz, &v);
            break;
        }
        case 6:                                 /* memory read */
            qtest_io(q, false, true, take_addr(&in), take_size(&in), &v);
            break;
        case 7: {                               /* clock step, capped */
            int64_t ns = (int64_t)take(&in, 3) * 4;
            if (virt + ns > MAX_VIRT_NS)
                ns = MAX_VIRT_NS - virt;
            if (ns > 0) {
                qtest_clock_step(q, ns);
                virt += ns;
            }
            break;
        }
        case 8:                                 /* the CPU acknowledges */
            if (qtest_intr(q))
                qtest_ack(q);
            break;
        case 9: case 10: {                      /* PCI configuration cycle */
            uint32_t addr = 0x80000000u | (uint32_t)(take(&in, 1) & 0x0F) << 8 |
                            (uint32_t)(take(&in, 1) & 0xFC);
            unsigned sz = take_size(&in);
            if (sz == 8)
                sz = 4;
            uint16_t port = (uint16_t)(0xCFC + (take(&in, 1) & (4 - sz)));
            qtest_outl(q, 0xCF8, addr);
            v = take(&in, sz);
            qtest_io(q, op % 13 == 9, false, port, sz, &v);
            break;
        }
        case 11: {                              /* fw_cfg DMA descriptor in RAM */
            uint8_t d[16];
            uint64_t at = take(&in, 3) & 0xFFFFF0;
            for (int i = 0; i < 16; i++)
                d[i] = (uint8_t)take(&in, 1);
            qtest_memwrite(q, at, d, sizeof(d));
            qtest_outl(q, 0x514, 0);
            qtest_outl(q, 0x518, __builtin_bswap32((uint32_t)at));
            break;
        }
        default: {                              /* serial input, drains, rare reset */
            uint8_t b = (uint8_t)take(&in, 1);
            if (b == 0xFF) {
                qtest_system_reset(q);
            } else {
                qtest_serial_input(q, b & 1, &b, 1);
                qtest_serial_read(q, 0, sink, sizeof(sink));
                qtest_chardev_read(q, "dbg", sink, sizeof(sink));
            }
            break;
        }
        }
    }
    qtest_free(q);
    return 0;
}
