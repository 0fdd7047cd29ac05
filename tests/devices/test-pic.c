/* 8259A pair through the test executor: initialisation, masking, priorities,
 * EOI, ELCR level mode, spurious IRQ 7/15, poll, rotation, AEOI, special mask.
 * Expected values follow the Intel 8259A datasheet.  IRQ inputs are driven with
 * pc_set_gsi (a source outside the device model). */
#include "tests/devices/dt.h"

/* The PC BIOS initialisation: master vectors 0x08, slave 0x70, cascade on IR2. */
static void pic_init(struct qtest *q, uint8_t icw4)
{
    qtest_outb(q, 0x20, 0x11);
    qtest_outb(q, 0x21, 0x08);
    qtest_outb(q, 0x21, 0x04);
    qtest_outb(q, 0x21, icw4);
    qtest_outb(q, 0xA0, 0x11);
    qtest_outb(q, 0xA1, 0x70);
    qtest_outb(q, 0xA1, 0x02);
    qtest_outb(q, 0xA1, icw4);
    qtest_outb(q, 0x21, 0x00);
    qtest_outb(q, 0xA1, 0x00);
}

static void irq(struct qtest *q, int n, int level)
{
    pc_set_gsi(qtest_machine(q), n, level);
}

static uint8_t isr(struct qtest *q, uint16_t port)
{
    qtest_outb(q, port, 0x0B);      /* OCW3: read ISR */
    return qtest_inb(q, port);
}

static uint8_t irr(struct qtest *q, uint16_t port)
{
    qtest_outb(q, port, 0x0A);      /* OCW3: read IRR */
    return qtest_inb(q, port);
}

static void test_init_and_eoi(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x21), 0x00);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    irq(q, 3, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    CU_ASSERT_EQUAL(irr(q, 0x20), 0x08);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0B);
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x08);
    CU_ASSERT_EQUAL(irr(q, 0x20), 0x00);    /* edge: the request moved to ISR */
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    qtest_outb(q, 0x20, 0x20);              /* non-specific EOI */
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x00);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);      /* edge mode: a held line does not re-trigger */
    irq(q, 3, 0);
    qtest_free(q);
}

static void test_masking(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    qtest_outb(q, 0x21, 0x08);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x21), 0x08);
    irq(q, 3, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    CU_ASSERT_EQUAL(irr(q, 0x20), 0x08);    /* IRR latches even when masked */
    qtest_outb(q, 0x21, 0x00);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0B);
    /* masking the cascade input hides every slave interrupt */
    qtest_outb(q, 0x20, 0x20);
    qtest_outb(q, 0x21, 0x04);
    irq(q, 12, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    qtest_outb(q, 0x21, 0x00);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x74);
    qtest_free(q);
}

static void test_priorities(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    irq(q, 5, 1);
    irq(q, 3, 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0B);    /* IR3 beats IR5 */
    CU_ASSERT_EQUAL(qtest_intr(q), 0);      /* IR5 is blocked by IR3 in service */
    irq(q, 1, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);      /* IR1 nests above IR3 */
    CU_ASSERT_EQUAL(qtest_ack(q), 0x09);
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x0A);
    qtest_outb(q, 0x20, 0x20);              /* EOI goes to the highest: IR1 */
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x08);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    qtest_outb(q, 0x20, 0x63);              /* specific EOI for IR3 */
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x00);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0D);
    qtest_free(q);
}

static void test_cascade(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    irq(q, 10, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x72);
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x04);
    CU_ASSERT_EQUAL(isr(q, 0xA0), 0x04);
    /* an IRQ of the master below IR2 waits; above it nests */
    irq(q, 4, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    irq(q, 0, 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x08);
    qtest_free(q);
}

static void test_elcr_level(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    /* reserved ELCR bits (IRQ 0-2, 8, 13) stay 0 */
    qtest_outb(q, 0x4D0, 0xFF);
    qtest_outb(q, 0x4D1, 0xFF);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x4D0), 0xF8);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x4D1), 0xDE);
    qtest_outb(q, 0x4D0, 0x00);
    qtest_outb(q, 0x4D1, 0x04);             /* IRQ10 level triggered */
    irq(q, 10, 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x72);
    qtest_outb(q, 0xA0, 0x20);
    qtest_outb(q, 0x20, 0x20);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);      /* still asserted: delivered again */
    CU_ASSERT_EQUAL(qtest_ack(q), 0x72);
    irq(q, 10, 0);                          /* the handler quiets the device, then EOIs */
    qtest_outb(q, 0xA0, 0x20);
    qtest_outb(q, 0x20, 0x20);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    CU_ASSERT_EQUAL(irr(q, 0xA0), 0x00);
    qtest_free(q);
}

static void test_spurious(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    /* acknowledge with nothing pending: IR7's vector, ISR untouched */
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0F);
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x00);
    /* a level request on the slave withdrawn before the acknowledge: the master
     * acknowledges its cascade input, the slave answers with IR7 (vector 0x77) */
    qtest_outb(q, 0x4D1, 0x08);             /* IRQ11 level */
    irq(q, 11, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    irq(q, 11, 0);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x77);
    CU_ASSERT_EQUAL(isr(q, 0xA0), 0x00);
    qtest_free(q);
}

static void test_poll_rotate_aeoi_smm(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    irq(q, 3, 1);
    qtest_outb(q, 0x20, 0x0C);              /* OCW3 poll */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x20), 0x83);
    CU_ASSERT_EQUAL(isr(q, 0x20), 0x08);
    qtest_outb(q, 0x20, 0x0C);
    CU_ASSERT_EQUAL(qtest_inb(q, 0x20), 0x00);
    /* rotate on non-specific EOI: IR3 becomes the lowest priority */
    qtest_outb(q, 0x20, 0xA0);
    irq(q, 1, 1);
    irq(q, 5, 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0D);    /* 4,5,6,7,0,1,2,3: IR5 first */
    qtest_outb(q, 0x20, 0x20);
    qtest_outb(q, 0x20, 0xC7);              /* set priority: IR7 lowest again */
    CU_ASSERT_EQUAL(qtest_ack(q), 0x09);
    qtest_outb(q, 0x20, 0x20);
    irq(q, 1, 0);
    irq(q, 3, 0);
    irq(q, 5, 0);

    /* special mask mode: a masked in-service level lets lower ones through */
    irq(q, 3, 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0B);
    irq(q, 5, 1);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    qtest_outb(q, 0x21, 0x08);
    qtest_outb(q, 0x20, 0x68);              /* OCW3: set special mask */
    CU_ASSERT_EQUAL(qtest_intr(q), 1);
    CU_ASSERT_EQUAL(qtest_ack(q), 0x0D);
    qtest_outb(q, 0x20, 0x48);              /* reset special mask */
    qtest_free(q);

    /* automatic EOI (ICW4 bit 1): nothing stays in service */
    struct qtest *q2 = qtest_create(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q2);
    pic_init(q2, 0x03);
    irq(q2, 4, 1);
    CU_ASSERT_EQUAL(qtest_ack(q2), 0x0C);
    CU_ASSERT_EQUAL(isr(q2, 0x20), 0x00);
    qtest_free(q2);
}

static void test_reinit_clears(void)
{
    DT_NEW(q, NULL);
    pic_init(q, 0x01);
    qtest_outb(q, 0x21, 0x5A);
    irq(q, 6, 1);
    CU_ASSERT_EQUAL(irr(q, 0x20), 0x40 | 0x00);
    pic_init(q, 0x01);                      /* ICW1 clears IMR and the edge latch */
    CU_ASSERT_EQUAL(qtest_inb(q, 0x21), 0x00);
    CU_ASSERT_EQUAL(irr(q, 0x20), 0x00);
    CU_ASSERT_EQUAL(qtest_intr(q), 0);
    qtest_free(q);
}

DT_MAIN("pic",
    { "init_and_eoi", test_init_and_eoi },
    { "masking", test_masking },
    { "priorities", test_priorities },
    { "cascade", test_cascade },
    { "elcr_level", test_elcr_level },
    { "spurious", test_spurious },
    { "poll_rotate_aeoi_smm", test_poll_rotate_aeoi_smm },
    { "reinit_clears", test_reinit_clears })
