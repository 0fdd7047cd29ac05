/* 16550A through the test executor: scratch and divisor latch, loopback and
 * modem lines, FIFO and overrun, IIR priorities and THRE semantics, character
 * timeout, output to and input from the chardev, IRQ4 gated by OUT2, COM2-4,
 * divisor 0.  Expected values follow the PC16550D datasheet. */
#include "tests/devices/dt.h"

#include <string.h>

#define COM1 0x3F8

static struct qtest *new_q(void)
{
    struct qtest_opts o = { .n_serial = 4 };
    return qtest_create(&o);
}

static void test_scratch_divisor(void)
{
    struct qtest *q = new_q();
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    qtest_outb(q, COM1 + 7, 0x5A);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 7), 0x5A);
    qtest_outb(q, COM1 + 3, 0x83);         /* DLAB, 8N1 */
    qtest_outb(q, COM1 + 0, 0x01);
    qtest_outb(q, COM1 + 1, 0x00);         /* 115200 baud */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 0), 0x01);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 1), 0x00);
    qtest_outb(q, COM1 + 3, 0x03);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 3), 0x03);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 1), 0x00);     /* IER again */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 5), 0x60);     /* THRE | TEMT */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x01);     /* no interrupt, no FIFO */
    /* all four ports are there */
    static const uint16_t base[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
    for (int i = 0; i < 4; i++) {
        qtest_outb(q, base[i] + 7, (uint8_t)(0x10 + i));
        CU_ASSERT_EQUAL(qtest_inb(q, base[i] + 7), 0x10 + i);
    }
    qtest_free(q);
}

static void test_output_and_input(void)
{
    struct qtest *q = new_q();
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    const char *msg = "hello, world\n";
    for (const char *p = msg; *p; p++)
        qtest_outb(q, COM1, (uint8_t)*p);
    char buf[64] = { 0 };
    CU_ASSERT_EQUAL(qtest_serial_read(q, 0, buf, sizeof(buf) - 1), strlen(msg));
    CU_ASSERT_STRING_EQUAL(buf, msg);
    CU_ASSERT_EQUAL(qtest_serial_read(q, 1, buf, sizeof(buf)), 0);   /* COM2 said nothing */
    /* input: IRQ4 with IER RDI and OUT2 */
    qtest_outb(q, COM1 + 4, 0x0B);         /* DTR RTS OUT2 */
    qtest_outb(q, COM1 + 1, 0x01);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 4), 0);
    qtest_serial_input(q, 0, "x", 1);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 5) & 0x01, 0x01);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x04);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 4), 1);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1), 'x');
    CU_ASSERT_EQUAL(qtest_irq_level(q, 4), 0);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 5) & 0x01, 0);
    /* without OUT2 the line stays low although the UART has an interrupt */
    qtest_outb(q, COM1 + 4, 0x03);
    qtest_serial_input(q, 0, "y", 1);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x04);
    CU_ASSERT_EQUAL(qtest_irq_level(q, 4), 0);
    qtest_free(q);
}

static void test_loopback_fifo(void)
{
    struct qtest *q = new_q();
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    qtest_outb(q, COM1 + 4, 0x10 | 0x03);  /* loopback, DTR, RTS */
    /* modem lines: RTS->CTS, DTR->DSR */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 6) & 0xF0, 0x30);
    qtest_outb(q, COM1 + 4, 0x10 | 0x0C);  /* OUT1->RI, OUT2->DCD */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 6) & 0xF0, 0xC0);
    /* non-FIFO: one byte holding register, the second overruns */
    qtest_outb(q, COM1, 'a');
    qtest_outb(q, COM1, 'b');
    uint8_t lsr = qtest_inb(q, COM1 + 5);
    CU_ASSERT_EQUAL(lsr & 0x03, 0x03);     /* DR, OE */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 5) & 0x02, 0);   /* OE cleared by the read */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1), 'a');
    /* FIFO: 16 bytes, then overrun; order kept */
    qtest_outb(q, COM1 + 2, 0x07);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2) & 0xC0, 0xC0);
    for (int i = 0; i < 20; i++)
        qtest_outb(q, COM1, (uint8_t)('A' + i));
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 5) & 0x03, 0x03);
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(qtest_inb(q, COM1), 'A' + i);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 5) & 0x01, 0);
    /* nothing leaked to the chardev in loopback */
    char buf[8];
    CU_ASSERT_EQUAL(qtest_serial_read(q, 0, buf, sizeof(buf)), 0);
    qtest_free(q);
}

static void test_iir_thre(void)
{
    struct qtest *q = new_q();
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    qtest_outb(q, COM1 + 4, 0x08);         /* OUT2 */
    qtest_outb(q, COM1 + 1, 0x02);         /* enabling ETBEI with THR empty: THRE at once */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 4), 1);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x02);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x01);     /* reading IIR cleared it */
    CU_ASSERT_EQUAL(qtest_irq_level(q, 4), 0);
    qtest_outb(q, COM1, 'z');              /* THR written and sent: THRE again */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x02);
    /* priorities: line status > received data > THRE */
    qtest_outb(q, COM1 + 4, 0x18);         /* loopback */
    qtest_outb(q, COM1 + 1, 0x07);
    qtest_outb(q, COM1, '1');
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x04);
    qtest_outb(q, COM1, '2');              /* overrun */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x06);
    (void)qtest_inb(q, COM1 + 5);          /* LSR read clears the error */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x04);
    (void)qtest_inb(q, COM1);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x02);
    /* modem status interrupt is the lowest */
    qtest_outb(q, COM1 + 1, 0x08);
    qtest_outb(q, COM1 + 4, 0x19);         /* DTR toggles DSR in loopback */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x00);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 6) & 0x02, 0x02);   /* DDSR */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0x01);
    qtest_free(q);
}

static void test_char_timeout_and_div0(void)
{
    struct qtest *q = new_q();
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    qtest_outb(q, COM1 + 3, 0x83);
    qtest_outb(q, COM1 + 0, 0x01);         /* 115200 baud: 86.8 us per 10-bit char */
    qtest_outb(q, COM1 + 1, 0x00);
    qtest_outb(q, COM1 + 3, 0x03);
    qtest_outb(q, COM1 + 2, 0xC1);         /* FIFO, trigger 14 */
    qtest_outb(q, COM1 + 1, 0x01);
    qtest_serial_input(q, 0, "ab", 2);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0xC1);     /* below the trigger: nothing yet */
    qtest_clock_step(q, 4 * 86806 + 1000);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0xCC);     /* character timeout */
    CU_ASSERT_EQUAL(qtest_inb(q, COM1), 'a');
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0xC1);     /* read restarts the timeout */
    /* trigger level reached: received-data interrupt */
    qtest_serial_input(q, 0, "0123456789abcdef", 16);
    CU_ASSERT_EQUAL(qtest_inb(q, COM1 + 2), 0xC4);
    /* divisor 0 never divides by zero (CVE-2016-8669) */
    qtest_outb(q, COM1 + 3, 0x83);
    qtest_outb(q, COM1 + 0, 0x00);
    qtest_outb(q, COM1 + 1, 0x00);
    qtest_outb(q, COM1 + 3, 0x03);
    qtest_outb(q, COM1 + 2, 0x07);
    qtest_serial_input(q, 0, "q", 1);
    qtest_clock_step(q, 1000000000);
    uint8_t last = 0;
    for (int i = 0; i < 32 && (qtest_inb(q, COM1 + 5) & 0x01); i++)
        last = qtest_inb(q, COM1);     /* the chardev may still hold 'f' from above */
    CU_ASSERT_EQUAL(last, 'q');
    qtest_free(q);
}

/* -device isa-serial takes the first free COM port, as QEMU does */
static void test_device_option(void)
{
    struct qtest_opts o = { .n_serial = 1, .chardevs = { "ringbuf,id=s2", "ringbuf,id=s3" },
                            .devices = { "isa-serial,chardev=s2", "isa-serial,chardev=s3" } };
    DT_NEW(q, &o);
    qtest_outb(q, 0x2F8, 'b');              /* COM2 */
    qtest_outb(q, 0x3E8, 'c');              /* COM3 */
    char buf[4] = { 0 };
    CU_ASSERT_EQUAL(qtest_chardev_read(q, "s2", buf, 3), 1);
    CU_ASSERT_EQUAL(buf[0], 'b');
    CU_ASSERT_EQUAL(qtest_chardev_read(q, "s3", buf, 3), 1);
    CU_ASSERT_EQUAL(buf[0], 'c');
    qtest_free(q);
    struct qtest_opts bad = { .devices = { "isa-serial,index=9" } };
    CU_ASSERT_PTR_NULL(qtest_create(&bad));
}

DT_MAIN("uart",
    { "device_option", test_device_option },
    { "scratch_divisor", test_scratch_divisor },
    { "output_and_input", test_output_and_input },
    { "loopback_fifo", test_loopback_fifo },
    { "iir_thre", test_iir_thre },
    { "char_timeout_and_div0", test_char_timeout_and_div0 })
