/* 82093AA I/O APIC through the test executor: ID/version/arbitration registers,
 * redirection entries and their read-only bits, edge and level delivery with
 * remote IRR and EOI, polarity, masking, the PC wiring (IRQ0 on pin 2, ISA IRQ n
 * on pin n, PIRQ A-D on pins 16-19).  Values from the 82093AA datasheet. */
#include "tests/devices/dt.h"

#include "devices/ioapic.h"

#define BASE 0xFEC00000ull

static uint32_t rd(struct qtest *q, uint8_t idx)
{
    qtest_writel(q, BASE, idx);
    return qtest_readl(q, BASE + 0x10);
}

static void wr(struct qtest *q, uint8_t idx, uint32_t v)
{
    qtest_writel(q, BASE, idx);
    qtest_writel(q, BASE + 0x10, v);
}

static void test_registers(void)
{
    DT_NEW(q, NULL);
    CU_ASSERT_EQUAL(rd(q, 0x01), 0x00170011);          /* 24 entries, version 0x11 */
    wr(q, 0x00, 0x0F000000 | 0xFFFFFF);
    CU_ASSERT_EQUAL(rd(q, 0x00), 0x0F000000);          /* ID bits 27:24 only */
    CU_ASSERT_EQUAL(rd(q, 0x02), 0x0F000000);
    wr(q, 0x01, 0);                                    /* version is read-only */
    CU_ASSERT_EQUAL(rd(q, 0x01), 0x00170011);
    for (int pin = 0; pin < 24; pin++)                 /* masked after reset */
        CU_ASSERT_EQUAL(rd(q, (uint8_t)(0x10 + 2 * pin)) & 0x10000, 0x10000);
    wr(q, 0x10 + 2 * 5, 0xFFFFFFFF);
    CU_ASSERT_EQUAL(rd(q, 0x10 + 2 * 5), 0x0001AFFF);  /* delivery status, remote IRR read-only */
    wr(q, 0x11 + 2 * 5, 0xFFFFFFFF);
    CU_ASSERT_EQUAL(rd(q, 0x11 + 2 * 5), 0xFF000000);
    CU_ASSERT_EQUAL(rd(q, 0x50), 0);                   /* past the table */
    CU_ASSERT_EQUAL(qtest_readl(q, BASE), 0x50);       /* IOREGSEL reads back */
    /* only dword accesses */
    uint64_t v = 0;
    CU_ASSERT_EQUAL(qtest_io(q, false, true, BASE + 0x10, 1, &v), IO_INVALID);
    qtest_free(q);
}

static void test_edge_and_level(void)
{
    DT_NEW(q, NULL);
    struct pc_machine *pc = qtest_machine(q);
    struct ioapic_msg m;
    /* ISA IRQ 4 -> pin 4, edge, vector 0x34, physical destination 1 */
    wr(q, 0x11 + 2 * 4, 0x01000000);
    wr(q, 0x10 + 2 * 4, 0x34);
    pc_set_gsi(pc, 4, 1);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 1);
    CU_ASSERT(qtest_ioapic_last(q, &m));
    CU_ASSERT_EQUAL(m.vector, 0x34);
    CU_ASSERT_EQUAL(m.dest, 1);
    CU_ASSERT_EQUAL(m.pin, 4);
    CU_ASSERT_EQUAL(m.level, 0);
    pc_set_gsi(pc, 4, 1);                              /* no edge, no message */
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 1);
    pc_set_gsi(pc, 4, 0);
    wr(q, 0x10 + 2 * 4, 0x10034);                      /* masked: lost */
    pc_set_gsi(pc, 4, 1);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 1);
    pc_set_gsi(pc, 4, 0);

    /* level, active high: once until EOI, again after EOI while asserted */
    wr(q, 0x10 + 2 * 9, 0x8049);
    pc_set_gsi(pc, 9, 1);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 2);
    CU_ASSERT_EQUAL(rd(q, 0x10 + 2 * 9) & 0x4000, 0x4000);     /* remote IRR */
    qtest_ioapic_eoi(q, 0x48);                                  /* another vector */
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 2);
    qtest_ioapic_eoi(q, 0x49);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 3);
    pc_set_gsi(pc, 9, 0);
    qtest_ioapic_eoi(q, 0x49);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 3);
    CU_ASSERT_EQUAL(rd(q, 0x10 + 2 * 9) & 0x4000, 0);
    /* active low: an idle (low) pin is asserted as soon as it is unmasked */
    wr(q, 0x10 + 2 * 11, 0xA04B);
    CU_ASSERT_EQUAL(qtest_ioapic_count(q), 4);
    CU_ASSERT(qtest_ioapic_last(q, &m));
    CU_ASSERT_EQUAL(m.pin, 11);
    CU_ASSERT_EQUAL(m.level, 1);
    qtest_free(q);
}

static void test_pc_wiring(void)
{
    DT_NEW(q, NULL);
    struct ioapic_msg m;
    /* the PIT's channel 0 on pin 2 */
    wr(q, 0x10 + 2 * 2, 0x30);
    qtest_outb(q, 0x43, 0x34);
    qtest_outb(q, 0x40, 0xA9);
    qtest_outb(q, 0x40, 0x04);
    unsigned long before = qtest_ioapic_count(q);
    qtest_clock_step(q, 10000000);
    CU_ASSERT(qtest_ioapic_count(q) - before >= 9);
    CU_ASSERT(qtest_ioapic_last(q, &m));
    CU_ASSERT_EQUAL(m.pin, 2);
    CU_ASSERT_EQUAL(m.vector, 0x30);
    /* the RTC on pin 8 */
    wr(q, 0x10 + 2 * 2, 0x10030);
    wr(q, 0x10 + 2 * 8, 0x38);
    qtest_outb(q, 0x70, 0x0B);
    qtest_outb(q, 0x71, 0x42);
    qtest_clock_step(q, 2000000);
    CU_ASSERT(qtest_ioapic_last(q, &m));
    CU_ASSERT_EQUAL(m.pin, 8);
    qtest_free(q);
}

DT_MAIN("ioapic",
    { "registers", test_registers },
    { "edge_and_level", test_edge_and_level },
    { "pc_wiring", test_pc_wiring })
