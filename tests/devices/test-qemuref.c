/* Differential device tests: the same register script runs on Vireo's pc
 * machine (test executor) and on Debian's qemu-system-x86_64 -M pc under its
 * qtest accelerator, and every value read must be equal.  QEMU is the
 * reference nobody here wrote; the scripts cover what both must agree on from
 * the datasheets: CMOS NVRAM fields for several RAM sizes and CPU counts, PCI
 * IDs and PAM/SMRAM/PIRQ register masks, PIC and ELCR registers, PIT counters
 * and status on the virtual clock, RTC control registers and periodic flags,
 * UART reset values, i8042 replies, fw_cfg items and the e820 file.
 * Skipped when qemu-system-x86_64 is not installed. */
#include "tests/devices/dt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define QEMU "/usr/bin/qemu-system-x86_64"

/* ---- QEMU over its qtest protocol ------------------------------------------------ */

struct qemu {
    pid_t pid;
    FILE *to, *from;
};

static int qemu_start(struct qemu *qm, const char *mem, const char *smp)
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    qm->pid = fork();
    if (qm->pid < 0)
        return -1;
    if (qm->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(QEMU, QEMU, "-M", "pc", "-m", mem, "-smp", smp, "-display", "none",
              "-nodefaults", "-serial", "null", "-qtest", "stdio",
              "-qtest-log", "/dev/null", "-S", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    qm->to = fdopen(in[1], "w");
    qm->from = fdopen(out[0], "r");
    return 0;
}

static void qemu_stop(struct qemu *qm)
{
    fclose(qm->to);
    fclose(qm->from);
    kill(qm->pid, SIGTERM);
    waitpid(qm->pid, NULL, 0);
}

/* Send one command; return the value of "OK 0x...", 0 for a plain "OK", or
 * UINT64_MAX on a protocol error. */
static uint64_t qemu_cmd(struct qemu *qm, const char *cmd)
{
    char line[256];
    fprintf(qm->to, "%s\n", cmd);
    fflush(qm->to);
    while (fgets(line, sizeof(line), qm->from)) {
        if (strncmp(line, "OK", 2) != 0) {
            if (!strncmp(line, "FAIL", 4) || !strncmp(line, "ERR", 3))
                return UINT64_MAX;
            continue;       /* IRQ notices and the like */
        }
        if (line[2] == ' ')
            return strtoull(line + 3, NULL, 0);
        return 0;
    }
    return UINT64_MAX;
}

/* ---- the same script on Vireo --------------------------------------------------- */

/* The same line through Vireo's implementation of the protocol. */
static uint64_t vireo_cmd(struct qtest *q, const char *cmd)
{
    char reply[64];
    if (qtest_command(q, cmd, reply, sizeof(reply)) < 0)
        return UINT64_MAX;
    if (strncmp(cmd, "clock_", 6) && reply[2] == ' ')
        return strtoull(reply + 3, NULL, 0);
    return 0;
}

struct ref_case {
    const char *mem, *smp;
    uint64_t ram;
    unsigned cpus;
};

static int failures;

/* Run script on both; every read must agree.  Lines with a trailing "#skip"
 * are executed but not compared. */
static void compare(const struct ref_case *rc, const char *const *script)
{
    struct qemu qm;
    CU_ASSERT_EQUAL_FATAL(qemu_start(&qm, rc->mem, rc->smp), 0);
    struct qtest_opts o = { .ram_size = rc->ram, .smp = rc->cpus, .n_serial = 1 };
    struct qtest *q = qtest_create(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    for (unsigned i = 0; script[i]; i++) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "%s", script[i]);
        char *skip = strstr(cmd, "#skip");
        if (skip)
            *skip = 0;
        uint64_t want = qemu_cmd(&qm, cmd);
        uint64_t got = vireo_cmd(q, cmd);
        if (want == UINT64_MAX) {
            CU_FAIL("qemu did not answer");
            break;
        }
        if (!skip && want != got) {
            printf("  -m %s -smp %s: '%s': qemu 0x%llx, vireo 0x%llx\n", rc->mem, rc->smp, cmd,
                   (unsigned long long)want, (unsigned long long)got);
            failures++;
            CU_FAIL("differs from qemu");
        }
    }
    qtest_free(q);
    qemu_stop(&qm);
}

static const struct ref_case sizes[] = {
    { "16M", "1", 16ull << 20, 1 },
    { "128M", "2", 128ull << 20, 2 },
    { "1G", "4", 1ull << 30, 4 },
    { "3584M", "1", 3584ull << 20, 1 },
    { "5G", "8", 5ull << 30, 8 },
};

/* ---- scripts ---------------------------------------------------------------------- */

static void test_cmos_nvram(void)
{
    static const char *script[] = {
        "outb 0x70 0x10", "inb 0x71", "outb 0x70 0x12", "inb 0x71", "outb 0x70 0x14", "inb 0x71",
        "outb 0x70 0x15", "inb 0x71", "outb 0x70 0x16", "inb 0x71", "outb 0x70 0x17", "inb 0x71",
        "outb 0x70 0x18", "inb 0x71", "outb 0x70 0x30", "inb 0x71", "outb 0x70 0x31", "inb 0x71",
        "outb 0x70 0x34", "inb 0x71", "outb 0x70 0x35", "inb 0x71", "outb 0x70 0x38", "inb 0x71",
        "outb 0x70 0x3d", "inb 0x71", "outb 0x70 0x5b", "inb 0x71", "outb 0x70 0x5c", "inb 0x71",
        "outb 0x70 0x5d", "inb 0x71", "outb 0x70 0x5f", "inb 0x71",
        "outb 0x70 0x0a", "inb 0x71", "outb 0x70 0x0b", "inb 0x71", "outb 0x70 0x0d", "inb 0x71",
        NULL,
    };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        compare(&sizes[i], script);
}

static void test_pci_chipset(void)
{
    static const char *script[] = {
        "outl 0xcf8 0x80000000", "inl 0xcfc", "outl 0xcf8 0x80000008", "inl 0xcfc",
        "outl 0xcf8 0x8000000c", "inl 0xcfc",
        "outl 0xcf8 0x80000800", "inl 0xcfc", "outl 0xcf8 0x80000808", "inl 0xcfc",
        "outl 0xcf8 0x8000080c", "inl 0xcfc", "outl 0xcf8 0x80000860", "inl 0xcfc",
        "outl 0xcf8 0x80002800", "inl 0xcfc",                   /* empty slot 5 */
        "outl 0xcf8 0x80000058", "inl 0xcfc", "outl 0xcf8 0x8000005c", "inl 0xcfc",
        "outl 0xcf8 0x80000070", "inl 0xcfc",
        /* BIOS shadow with PAM open: RAM at 0xF0000 */
        "outl 0xcf8 0x80000058", "outl 0xcfc 0x00000000", "readl 0xffff0", "readl 0xfffffff0",
        "outl 0xcf8 0x80000058", "outl 0xcfc 0x30000000", "writel 0xf0000 0x12345678",
        "readl 0xf0000",
        "outl 0xcf8 0x80000058", "outl 0xcfc 0x10000000", "writel 0xf0000 0x9abcdef0",
        "readl 0xf0000",
        "outl 0xcf8 0x80000058", "outl 0xcfc 0x00000000", "readl 0xf0000",
        /* PIRQ routing values (QEMU does not mask the reserved bits, so only
         * datasheet-valid values are compared) */
        "outl 0xcf8 0x80000860", "outl 0xcfc 0x0b0a0509", "inl 0xcfc",
        "inl 0xcf8",
        NULL,
    };
    compare(&sizes[1], script);
}

static void test_pic_elcr(void)
{
    static const char *script[] = {
        "inb 0x21", "inb 0xa1", "inb 0x20", "inb 0xa0",
        "outb 0x20 0x11", "outb 0x21 0x08", "outb 0x21 0x04", "outb 0x21 0x01",
        "outb 0xa0 0x11", "outb 0xa1 0x70", "outb 0xa1 0x02", "outb 0xa1 0x01",
        "inb 0x21", "inb 0xa1", "outb 0x21 0xb8", "inb 0x21",
        "outb 0x20 0x0a", "inb 0x20", "outb 0x20 0x0b", "inb 0x20",
        "outb 0xa0 0x0b", "inb 0xa0", "outb 0x20 0x0c", "inb 0x20",
        "inb 0x4d0", "inb 0x4d1", "outb 0x4d0 0xff", "outb 0x4d1 0xff", "inb 0x4d0", "inb 0x4d1",
        NULL,
    };
    compare(&sizes[1], script);
}

/* Debian's QEMU has no qtest accelerator, so its virtual clock stands still
 * under -S: the PIT is compared at time 0 (counts, latches, status bytes). */
static void test_pit(void)
{
    static const char *script[] = {
        "outb 0x43 0x34", "outb 0x40 0x00", "outb 0x40 0x10",
        "outb 0x43 0x00", "inb 0x40", "inb 0x40",
        /* QEMU models mode 2's OUT as a high pulse (low at load); the datasheet
         * has it high from the load on: the status byte is not compared */
        "outb 0x43 0xe2", "inb 0x40 #skip",
        /* mode 3 with an odd count: the datasheet loads N - 1, QEMU shows N */
        "outb 0x43 0x36", "outb 0x40 0xa9", "outb 0x40 0x04",
        "outb 0x43 0xc2", "inb 0x40", "inb 0x40 #skip", "inb 0x40",
        "outb 0x43 0x70", "outb 0x41 0x34", "outb 0x41 0x12", "outb 0x43 0x40", "inb 0x41",
        "inb 0x41", "outb 0x43 0xe4", "inb 0x41",
        "outb 0x43 0x31", "outb 0x40 0x34", "outb 0x40 0x12", "outb 0x43 0xc2", "inb 0x40",
        "inb 0x40", "inb 0x40",
        /* channel 2 through port 0x61: mode 0, gate, OUT2 */
        "outb 0x61 0x00", "outb 0x43 0xb0", "outb 0x42 0x64", "outb 0x42 0x00",
        "inb 0x61 #skip", "outb 0x61 0x01", "outb 0x43 0x80", "inb 0x42",
        "inb 0x42", "outb 0x43 0xe8", "inb 0x42",
        NULL,
    };
    compare(&sizes[1], script);
}

static void test_rtc_uart_kbd(void)
{
    static const char *script[] = {
        /* RTC: control registers, periodic flag after a period, C cleared */
        "outb 0x70 0x0c", "inb 0x71", "outb 0x70 0x0a", "outb 0x71 0x26",
        "outb 0x70 0x0b", "outb 0x71 0x02", "inb 0x71",
        "outb 0x70 0x0c", "inb 0x71", "outb 0x70 0x0d", "inb 0x71",
        /* UART reset values, scratch, loopback */
        /* QEMU resets MCR with OUT2 set; the datasheet clears MCR */
        "inb 0x3f9", "inb 0x3fa", "inb 0x3fb", "inb 0x3fc #skip", "inb 0x3fd", "inb 0x3fe",
        "outb 0x3ff 0x5a", "inb 0x3ff", "outb 0x3fb 0x80", "inb 0x3f8", "inb 0x3f9",
        /* entering loopback changes DCD: the datasheet's delta bit, not QEMU's */
        "outb 0x3fb 0x03", "outb 0x3fc 0x13", "inb 0x3fe #skip", "outb 0x3f8 0x41", "inb 0x3fd",
        "inb 0x3f8", "outb 0x3fa 0x07", "inb 0x3fa", "outb 0x3f9 0x02", "inb 0x3fa",
        "inb 0x3fa",
        /* i8042 */
        "inb 0x64", "outb 0x64 0xaa", "inb 0x64", "inb 0x60", "outb 0x64 0xab", "inb 0x60",
        "outb 0x64 0xa9", "inb 0x60", "outb 0x64 0x20", "inb 0x60",
        "outb 0x64 0x60", "outb 0x60 0x47", "outb 0x60 0xff", "inb 0x60", "inb 0x60",
        "outb 0x60 0xf2", "inb 0x60", "inb 0x60", "inb 0x60",
        /* status bit 3 after a data write: 0 per IBM, QEMU keeps 1 */
        "outb 0x64 0xd3", "outb 0x60 0x5a", "inb 0x64 #skip", "inb 0x60",
        "outb 0x64 0xd4", "outb 0x60 0xf2", "inb 0x60", "inb 0x60",
        "inb 0x92",
        NULL,
    };
    compare(&sizes[1], script);
}

static void test_fw_cfg(void)
{
    /* signature, ID, RAM size, CPU counts, then the e820 file found by name
     * in QEMU's directory (its key differs; the contents must not) */
    static const char *head[] = {
        "outw 0x510 0x0000", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511",
        "outw 0x510 0x0001", "inl 0x511 #skip", "inb 0x511",
        "outw 0x510 0x0003", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511",
        "inb 0x511", "inb 0x511", "inb 0x511",
        "outw 0x510 0x0005", "inb 0x511", "inb 0x511", "outw 0x510 0x000f", "inb 0x511",
        "inl 0x514", "inl 0x518",
        NULL,
    };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const struct ref_case *rc = &sizes[i];
        /* the fixed part */
        (void)head;
        struct qemu qm;
        CU_ASSERT_EQUAL_FATAL(qemu_start(&qm, rc->mem, rc->smp), 0);
        struct qtest_opts o = { .ram_size = rc->ram, .smp = rc->cpus };
        struct qtest *q = qtest_create(&o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(q);
        for (unsigned k = 0; head[k]; k++) {
            char cmd[64];
            snprintf(cmd, sizeof(cmd), "%s", head[k]);
            char *skip = strstr(cmd, "#skip");
            if (skip)
                *skip = 0;
            uint64_t a = qemu_cmd(&qm, cmd), b = vireo_cmd(q, cmd);
            if (a == UINT64_MAX) {
                CU_FAIL("qemu did not answer");
                break;
            }
            if (!skip && a != b) {
                printf("  fw_cfg -m %s: '%s': qemu 0x%llx, vireo 0x%llx\n", rc->mem, cmd,
                       (unsigned long long)a, (unsigned long long)b);
                CU_FAIL("fw_cfg differs from qemu");
            }
        }
        /* etc/e820 by name on both */
        uint8_t e820[2][128];
        uint32_t len[2] = { 0, 0 };
        for (int side = 0; side < 2; side++) {
            uint64_t (*cmdf)(void *, const char *) = NULL;
            (void)cmdf;
#define CMD(s) (side ? vireo_cmd(q, s) : qemu_cmd(&qm, s))
            CMD("outw 0x510 0x0019");
            uint32_t n = 0;
            for (int b = 0; b < 4; b++)
                n = n << 8 | (uint32_t)CMD("inb 0x511");
            for (uint32_t f = 0; f < n && f < 200; f++) {
                uint8_t ent[64];
                for (int b = 0; b < 64; b++)
                    ent[b] = (uint8_t)CMD("inb 0x511");
                if (!strcmp((char *)ent + 8, "etc/e820")) {
                    len[side] = (uint32_t)ent[0] << 24 | ent[1] << 16 | ent[2] << 8 | ent[3];
                    char sel[32];
                    snprintf(sel, sizeof(sel), "outw 0x510 0x%x", ent[4] << 8 | ent[5]);
                    CMD(sel);
                    for (uint32_t b = 0; b < len[side] && b < sizeof(e820[0]); b++)
                        e820[side][b] = (uint8_t)CMD("inb 0x511");
                    CMD("outw 0x510 0x0019");   /* (directory reading stops here) */
                    break;
                }
            }
#undef CMD
        }
        /* the RAM entries (type 1) must be the same; QEMU adds reserved ones
         * of its own (e.g. the AMD HyperTransport hole below 1 TiB) */
        uint8_t ram[2][128];
        uint32_t rl[2] = { 0, 0 };
        for (int side = 0; side < 2; side++)
            for (uint32_t off = 0; off + 20 <= len[side] && off + 20 <= sizeof(e820[0]); off += 20)
                if (e820[side][off + 16] == 1 && rl[side] + 20 <= sizeof(ram[0])) {
                    memcpy(ram[side] + rl[side], e820[side] + off, 20);
                    rl[side] += 20;
                }
        CU_ASSERT(rl[0] > 0);
        if (rl[0] != rl[1] || memcmp(ram[0], ram[1], rl[0])) {
            printf("  etc/e820 -m %s: RAM entries differ (qemu %u bytes, vireo %u)\n", rc->mem,
                   rl[0], rl[1]);
            CU_FAIL("e820 RAM entries differ from qemu");
        }
        qtest_free(q);
        qemu_stop(&qm);
    }
}

/* fw_cfg DMA, including requests the guest should not make: both sides must
 * write the same control word and the same bytes.  Descriptor at 0x1000 (be32
 * control, be32 length, be64 address), data at 0x2000; the descriptor address is
 * written big-endian through 0x514/0x518. */
static void test_fw_cfg_dma(void)
{
    static const char *script[] = {
        /* select the signature (0) and read 4 bytes */
        "writel 0x2000 0xeeeeeeee", "writel 0x2004 0xeeeeeeee",
        "writel 0x1000 0x0a000000", "writel 0x1004 0x04000000",
        "writel 0x1008 0x00000000", "writel 0x100c 0x00200000",
        "outl 0x514 0x00000000", "outl 0x518 0x00100000",
        "readl 0x1000", "readl 0x2000", "readl 0x2004",
        /* read 8 more: past the end of the item */
        "writel 0x1000 0x02000000", "writel 0x1004 0x08000000",
        "outl 0x514 0x00000000", "outl 0x518 0x00100000",
        "readl 0x1000", "readl 0x2000", "readl 0x2004",
        /* select ID (1), skip 1, read 3 */
        "writel 0x1000 0x0c000100", "writel 0x1004 0x01000000",
        "outl 0x514 0x00000000", "outl 0x518 0x00100000", "readl 0x1000",
        "writel 0x1000 0x02000000", "writel 0x1004 0x03000000",
        "outl 0x514 0x00000000", "outl 0x518 0x00100000", "readl 0x1000", "readl 0x2000",
        /* a write to the read-only signature: error bit, nothing changes */
        "writel 0x1000 0x18000000", "writel 0x1004 0x04000000",
        "outl 0x514 0x00000000", "outl 0x518 0x00100000", "readl 0x1000",
        "outw 0x510 0x0000", "inb 0x511", "inb 0x511",
        /* an unknown key reads zeros */
        "writel 0x2000 0xeeeeeeee",
        "writel 0x1000 0x0a00ff3f", "writel 0x1004 0x04000000",
        "outl 0x514 0x00000000", "outl 0x518 0x00100000", "readl 0x1000", "readl 0x2000",
        /* the DMA address register reads "QEMU CFG" */
        "inl 0x514", "inl 0x518",
        NULL,
    };
    compare(&sizes[1], script);
}

int main(void)
{
    dt_require_bios();
    if (access(QEMU, X_OK) != 0) {
        printf("SKIP: qemuref (%s not installed: Debian package qemu-system-x86)\n", QEMU);
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("qemuref", NULL, NULL);
    CU_add_test(s, "cmos_nvram", test_cmos_nvram);
    CU_add_test(s, "pci_chipset", test_pci_chipset);
    CU_add_test(s, "pic_elcr", test_pic_elcr);
    CU_add_test(s, "pit", test_pit);
    CU_add_test(s, "rtc_uart_kbd", test_rtc_uart_kbd);
    CU_add_test(s, "fw_cfg", test_fw_cfg);
    CU_add_test(s, "fw_cfg_dma", test_fw_cfg_dma);
    return cunit_run_all();
}
