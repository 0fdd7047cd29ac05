/* 16550A UART, "isa-serial": COM1..COM4 by index (0x3F8/IRQ4, 0x2F8/IRQ3,
 * 0x3E8/IRQ4, 0x2E8/IRQ3) or explicit iobase/irq.  See devices/serial16550.c. */
#ifndef DEVICES_SERIAL16550_H
#define DEVICES_SERIAL16550_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/chardev.h"
#include "dm/device.h"
#include "dm/irq.h"
#include "dm/memory.h"
#include "dm/timer.h"

#define UART_FIFO_SIZE 16
#define UART_DEFAULT 0xFFFFFFFFu    /* iobase/irq property: take it from index */

struct uart_state {
    struct device dev;
    uint16_t divisor;
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    uint8_t thr_pending;        /* THRE interrupt source armed */
    uint8_t timeout_pending;    /* character-timeout source armed */
    uint32_t index, iobase, irq_num;    /* properties */
    struct chardev *backend;            /* property "chardev" */
    struct chardev_fe chr;
    struct irq_line *irq;
    struct dm_clock *clock;
    struct dm_timer timeout_timer;
    struct mem_region io;
    char name[16];
    bool mapped;
};

extern const struct device_type serial16550_type;

#endif
