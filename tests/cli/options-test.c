/* Unit tests of vireo-system's option parser (standalone/system/options.c):
 * QEMU's conventions for sizes, -smp forms, defaults and the repeatable options. */
#include "standalone/system/options.h"
#include "tests/lib/cunit-run.h"

#include <string.h>

static int parse(struct sys_options *o, const char *const *args, struct dm_err *err)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"/usr/bin/vireo-system-x86_64";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    return sys_options_parse(o, argc, argv, err);
}

static void test_mem_sizes(void)
{
    uint64_t v;
    CU_ASSERT(sys_parse_mem_size("512", &v) == 0 && v == 512ull << 20);     /* MiB */
    CU_ASSERT(sys_parse_mem_size("512M", &v) == 0 && v == 512ull << 20);
    CU_ASSERT(sys_parse_mem_size("2G", &v) == 0 && v == 2ull << 30);
    CU_ASSERT(sys_parse_mem_size("2g", &v) == 0 && v == 2ull << 30);
    CU_ASSERT(sys_parse_mem_size("1.5G", &v) == 0 && v == 3ull << 29);
    CU_ASSERT(sys_parse_mem_size("65536K", &v) == 0 && v == 64ull << 20);
    CU_ASSERT(sys_parse_mem_size("size=1T", &v) == 0 && v == 1ull << 40);
    CU_ASSERT(sys_parse_mem_size("", &v) < 0);
    CU_ASSERT(sys_parse_mem_size("-1", &v) < 0);
    CU_ASSERT(sys_parse_mem_size("1X", &v) < 0);
    CU_ASSERT(sys_parse_mem_size("1GB", &v) < 0);
    CU_ASSERT(sys_parse_mem_size("99999999999T", &v) < 0);
}

static void test_defaults_and_forms(void)
{
    struct sys_options o;
    struct dm_err err;
    const char *none[] = { NULL };
    CU_ASSERT_EQUAL_FATAL(parse(&o, none, &err), 0);
    CU_ASSERT_EQUAL(o.ram_size, 128ull << 20);
    CU_ASSERT_EQUAL(o.cpus, 1);
    CU_ASSERT_EQUAL(o.accel, SYS_ACCEL_BEST);
    CU_ASSERT_STRING_EQUAL(o.prog, "vireo-system-x86_64");

    const char *a[] = { "--m", "1G", "-smp", "4", "-enable-kvm", "-cpu", "host",
                        "-machine", "pc,accel=kvm", "-nographic", "-no-reboot",
                        "-serial", "null", "-serial", "file:/tmp/x", "-device",
                        "isa-debug-exit", "-device", "isa-debugcon,iobase=0x402",
                        "-name", "guest=vm1", "-qmp", "unix:/tmp/q,server,wait=off", NULL };
    CU_ASSERT_EQUAL_FATAL(parse(&o, a, &err), 0);
    CU_ASSERT_EQUAL(o.ram_size, 1ull << 30);
    CU_ASSERT_EQUAL(o.cpus, 4);
    CU_ASSERT_EQUAL(o.accel, SYS_ACCEL_KVM);
    CU_ASSERT(o.nographic && o.no_reboot);
    CU_ASSERT_EQUAL(o.n_serial, 2);
    CU_ASSERT_STRING_EQUAL(o.serial[1], "file:/tmp/x");
    CU_ASSERT_EQUAL(o.n_devices, 2);
    CU_ASSERT_STRING_EQUAL(o.name, "vm1");
    CU_ASSERT_EQUAL(o.n_qmp, 1);

    const char *smp[] = { "-smp", "sockets=2,cores=2,threads=2", NULL };
    CU_ASSERT(parse(&o, smp, &err) == 0 && o.cpus == 8);
    const char *smp2[] = { "-smp", "cpus=3,maxcpus=4", NULL };
    CU_ASSERT(parse(&o, smp2, &err) == 0 && o.cpus == 3);
}

static void test_errors(void)
{
    struct sys_options o;
    struct dm_err err;
    const char *const cases[][4] = {
        { "-smp", "cpus=4,maxcpus=2", NULL },
        { "-M", "pc,foo=bar", NULL },
        { "-accel", "kvm,thread=multi", NULL },
        { "-append", "quiet", NULL },
        { "-serial", "a", "-serial", NULL },
        { "-machine", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err.msg[0] = 0;
        CU_ASSERT_EQUAL(parse(&o, cases[i], &err), -1);
        CU_ASSERT(strlen(err.msg) > 0);
    }
    const char *five[] = { "-serial", "null", "-serial", "null", "-serial", "null",
                           "-serial", "null", "-serial", "null", NULL };
    CU_ASSERT_EQUAL(parse(&o, five, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "COM1..COM4"));
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("options", NULL, NULL);
    CU_add_test(s, "mem_sizes", test_mem_sizes);
    CU_add_test(s, "defaults_and_forms", test_defaults_and_forms);
    CU_add_test(s, "errors", test_errors);
    return cunit_run_all();
}
