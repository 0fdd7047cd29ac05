/* i8042 through the test executor: controller self-test and interface tests,
 * command byte, output port, A20 (with port 0x92), reset pulses (0xFE, output
 * port bit 0), keyboard reset/identify, the AUX loopback that Linux's i8042
 * driver uses to find the mouse port, queue overflow, and a sweep of every
 * controller command.  Values from the IBM PS/2 technical reference. */
#include "tests/devices/dt.h"

static int wait_obf(struct qtest *q)
{
    return qtest_inb(q, 0x64) & 0x01;
}

static void test_self_tests(void)
{
    DT_NEW(q, NULL);
    CU_ASSERT_EQUAL(wait_obf(q), 0);
    qtest_outb(q, 0x64, 0xAA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x64) & 0x09, 0x09);  /* OBF, last write was a command */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x55);
    CU_ASSERT_EQUAL(wait_obf(q), 0);
    qtest_outb(q, 0x64, 0xAB);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x00);
    qtest_outb(q, 0x64, 0xA9);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x00);
    qtest_outb(q, 0x64, 0xA4);             /* no password */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xF1);
    qtest_free(q);
}

static void test_command_byte(void)
{
    DT_NEW(q, NULL);
    qtest_outb(q, 0x64, 0x20);
    /* power-on: both interrupts on, system flag clear until the self-test */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x03);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x64) & 0x04, 0);
    qtest_outb(q, 0x64, 0xAA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x55);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x64) & 0x04, 0x04);
    qtest_outb(q, 0x64, 0x60);
    qtest_outb(q, 0x60, 0x30);             /* both interfaces off, IRQs off, SYS clear */
    qtest_outb(q, 0x64, 0x20);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x30);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x64) & 0x04, 0);     /* status SYS follows */
    qtest_outb(q, 0x64, 0xAE);
    qtest_outb(q, 0x64, 0xA8);
    qtest_outb(q, 0x64, 0x20);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x00);
    /* other RAM bytes */
    qtest_outb(q, 0x64, 0x65);
    qtest_outb(q, 0x60, 0x77);
    qtest_outb(q, 0x64, 0x25);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x77);
    qtest_free(q);
}

static void test_keyboard_and_irq1(void)
{
    DT_NEW(q, NULL);
    qtest_outb(q, 0x64, 0x60);
    qtest_outb(q, 0x60, 0x47);             /* IRQ1 on, translation */
    qtest_irq_count_reset(q);
    qtest_outb(q, 0x60, 0xFF);             /* keyboard reset */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 1), 1);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xAA);
    CU_ASSERT_EQUAL(qtest_irq_count(q, 1), 2);          /* one edge per byte */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 1), 0);
    qtest_outb(q, 0x60, 0xF2);             /* identify: MF2, translated */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xAB);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x41);
    qtest_outb(q, 0x60, 0xED);             /* LEDs + argument */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFA);
    qtest_outb(q, 0x60, 0x07);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFA);
    qtest_outb(q, 0x60, 0xEE);             /* echo */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xEE);
    qtest_outb(q, 0x60, 0x01);             /* unknown: resend */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFE);
    qtest_free(q);
}

static void test_aux_loopback(void)
{
    DT_NEW(q, NULL);
    qtest_outb(q, 0x64, 0x60);
    qtest_outb(q, 0x60, 0x47 | 0x02);      /* IRQ12 on too */
    qtest_outb(q, 0x64, 0xD3);             /* write to the AUX output buffer */
    qtest_outb(q, 0x60, 0x5A);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x64) & 0x21, 0x21);  /* OBF from AUX */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 12), 1);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x5A);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 12), 0);
    /* mouse reset and ID through 0xD4 */
    qtest_outb(q, 0x64, 0xD4);
    qtest_outb(q, 0x60, 0xFF);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xAA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x00);
    qtest_outb(q, 0x64, 0xD4);
    qtest_outb(q, 0x60, 0xF2);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0xFA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x00);
    qtest_free(q);
}

static void test_reset_and_a20(void)
{
    DT_NEW(q, NULL);
    CU_ASSERT(qtest_a20(q));
    qtest_outb(q, 0x64, 0xD0);
    uint8_t op = qtest_inb(q, 0x60);
    CU_ASSERT_EQUAL(op & 0x03, 0x03);      /* not in reset, A20 on */
    qtest_outb(q, 0x64, 0xD1);
    qtest_outb(q, 0x60, 0x01);             /* A20 off */
    CU_ASSERT(!qtest_a20(q));
    qtest_outb(q, 0x92, 0x02);             /* fast A20 turns it on again */
    CU_ASSERT(qtest_a20(q));
    CU_ASSERT_EQUAL(qtest_inb(q, 0x92), 0x02);
    qtest_outb(q, 0x92, 0x00);
    CU_ASSERT(!qtest_a20(q));
    qtest_outb(q, 0x64, 0xDF);
    CU_ASSERT(qtest_a20(q));
    CU_ASSERT_EQUAL(qtest_resets_done(q), 0);
    qtest_outb(q, 0x64, 0xFE);             /* pulse the reset line */
    CU_ASSERT_EQUAL(qtest_resets_done(q), 1);
    qtest_outb(q, 0x64, 0xD1);
    qtest_outb(q, 0x60, 0x02);             /* output port bit 0 low: reset */
    CU_ASSERT_EQUAL(qtest_resets_done(q), 2);
    qtest_outb(q, 0x92, 0x01);             /* port 0x92 bit 0 */
    CU_ASSERT_EQUAL(qtest_resets_done(q), 3);
    CU_ASSERT(qtest_a20(q));               /* reset turns A20 back on */
    qtest_outb(q, 0x64, 0xFF);             /* pulse nothing */
    CU_ASSERT_EQUAL(qtest_resets_done(q), 3);
    qtest_free(q);
}

static void test_queue_full_and_sweep(void)
{
    DT_NEW(q, NULL);
    for (int i = 0; i < 40; i++) {         /* 40 bytes into a 16-byte queue + buffer */
        qtest_outb(q, 0x64, 0xD2);
        qtest_outb(q, 0x60, (uint8_t)i);
    }
    int n = 0;
    while ((qtest_inb(q, 0x64) & 0x01) && n < 100) {
        CU_ASSERT_EQUAL(qtest_inb(q, 0x60), n);
        n++;
    }
    CU_ASSERT_EQUAL(n, 17);
    /* every controller command, each followed by a data byte and drained:
     * nothing indexes out of bounds (device-hazards.md, i8042) */
    for (int c = 0; c <= 0xFF; c++) {
        qtest_outb(q, 0x64, (uint8_t)c);
        qtest_outb(q, 0x60, (uint8_t)(c ^ 0xA5));
        for (int k = 0; k < 40 && (qtest_inb(q, 0x64) & 0x01); k++)
            (void)qtest_inb(q, 0x60);
    }
    qtest_outb(q, 0x64, 0xAA);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x60), 0x55);
    qtest_free(q);
}

DT_MAIN("i8042",
    { "self_tests", test_self_tests },
    { "command_byte", test_command_byte },
    { "keyboard_and_irq1", test_keyboard_and_irq1 },
    { "aux_loopback", test_aux_loopback },
    { "reset_and_a20", test_reset_and_a20 },
    { "queue_full_and_sweep", test_queue_full_and_sweep })
