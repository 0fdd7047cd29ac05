/* Unit tests of QEMU-style option strings and the number/size/bool parsers. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <string.h>

#include "dm/opts.h"
#include "tests/lib/cunit-run.h"

static void test_parse(void)
{
    struct opts o;
    struct dm_err err = {{0}};
    bool b;
    uint64_t v;

    CU_ASSERT_EQUAL_FATAL(opts_parse(&o, "e1000,mac=52:54:00:12:34:56,id=n,,x,flag,size=4096", "driver", &err), 0);
    CU_ASSERT_EQUAL(o.n, 5);
    CU_ASSERT_STRING_EQUAL(opts_get(&o, "driver"), "e1000");
    CU_ASSERT_STRING_EQUAL(opts_get(&o, "mac"), "52:54:00:12:34:56");
    CU_ASSERT_STRING_EQUAL(opts_get(&o, "id"), "n,x");          /* ",," is a comma */
    CU_ASSERT_STRING_EQUAL(opts_get(&o, "flag"), "");
    CU_ASSERT_PTR_NULL(opts_get(&o, "absent"));
    CU_ASSERT_EQUAL(opts_get_u64(&o, "size", 0, &v, &err), 0);
    CU_ASSERT_EQUAL(v, 4096);
    CU_ASSERT_EQUAL(opts_get_bool(&o, "flag", false, &b, &err), 0);
    CU_ASSERT(b);
    CU_ASSERT_EQUAL(opts_check_unused(&o, "-device", &err), 0);
    opts_free(&o);

    /* the last occurrence wins; unread options are reported by name */
    CU_ASSERT_EQUAL_FATAL(opts_parse(&o, "a=1,a=2,b=3,", NULL, &err), 0);
    CU_ASSERT_STRING_EQUAL(opts_get(&o, "a"), "2");
    CU_ASSERT_EQUAL(opts_check_unused(&o, "-thing", &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "-thing: unknown option 'b'");
    opts_free(&o);

    /* QEMU short-form booleans */
    CU_ASSERT_EQUAL_FATAL(opts_parse(&o, "server,nowait,nodelay=on", NULL, &err), 0);
    CU_ASSERT_EQUAL(opts_get_bool(&o, "server", false, &b, &err), 0);
    CU_ASSERT(b);
    CU_ASSERT_EQUAL(opts_get_bool(&o, "wait", true, &b, &err), 0);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(opts_get_bool(&o, "delay", true, &b, &err), 0);     /* "nodelay=on" is not short form */
    CU_ASSERT(b);
    CU_ASSERT_EQUAL(opts_check_unused(&o, "x", &err), -EINVAL);        /* nodelay unread */
    opts_free(&o);

    CU_ASSERT_EQUAL_FATAL(opts_parse(&o, "x=maybe,n=12q", NULL, &err), 0);
    CU_ASSERT_EQUAL(opts_get_bool(&o, "x", false, &b, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'x'"));
    CU_ASSERT_EQUAL(opts_get_u64(&o, "n", 0, &v, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'n'"));
    opts_free(&o);

    CU_ASSERT_EQUAL(opts_parse(&o, "", NULL, &err), -EINVAL);
    CU_ASSERT_EQUAL(opts_parse(&o, "a=1,=2", NULL, &err), -EINVAL);
    CU_ASSERT_EQUAL(o.n, 0);
    char many[OPTS_MAX * 4 + 8] = "";
    for (int i = 0; i <= OPTS_MAX; i++)
        strcat(many, "a=1,");
    CU_ASSERT_EQUAL(opts_parse(&o, many, NULL, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too many"));
}

static void test_numbers(void)
{
    uint64_t v;
    bool b;

    CU_ASSERT_EQUAL(dm_parse_u64("0", &v), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(dm_parse_u64("0x3f8", &v), 0);
    CU_ASSERT_EQUAL(v, 0x3f8);
    CU_ASSERT_EQUAL(dm_parse_u64("18446744073709551615", &v), 0);
    CU_ASSERT_EQUAL(v, UINT64_MAX);
    CU_ASSERT_EQUAL(dm_parse_u64("18446744073709551616", &v), -EINVAL);   /* overflow */
    CU_ASSERT_EQUAL(dm_parse_u64("-1", &v), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_u64(" 1", &v), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_u64("1 ", &v), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_u64("", &v), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_u64("0x", &v), -EINVAL);

    CU_ASSERT_EQUAL(dm_parse_size("512M", &v), 0);
    CU_ASSERT_EQUAL(v, 512ULL << 20);
    CU_ASSERT_EQUAL(dm_parse_size("4k", &v), 0);
    CU_ASSERT_EQUAL(v, 4096);
    CU_ASSERT_EQUAL(dm_parse_size("2G", &v), 0);
    CU_ASSERT_EQUAL(v, 2ULL << 30);
    CU_ASSERT_EQUAL(dm_parse_size("1T", &v), 0);
    CU_ASSERT_EQUAL(v, 1ULL << 40);
    CU_ASSERT_EQUAL(dm_parse_size("100", &v), 0);
    CU_ASSERT_EQUAL(v, 100);
    CU_ASSERT_EQUAL(dm_parse_size("16777216T", &v), -ERANGE);
    CU_ASSERT_EQUAL(dm_parse_size("1X", &v), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_size("1MB", &v), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_size("M", &v), -EINVAL);

    for (const char *const *s = (const char *const[]){ "on", "yes", "true", "1", NULL }; *s; s++) {
        CU_ASSERT_EQUAL(dm_parse_bool(*s, &b), 0);
        CU_ASSERT(b);
    }
    for (const char *const *s = (const char *const[]){ "off", "no", "false", "0", NULL }; *s; s++) {
        CU_ASSERT_EQUAL(dm_parse_bool(*s, &b), 0);
        CU_ASSERT_FALSE(b);
    }
    CU_ASSERT_EQUAL(dm_parse_bool("On", &b), -EINVAL);
    CU_ASSERT_EQUAL(dm_parse_bool("", &b), -EINVAL);
}

static void test_log_mask(void)
{
    unsigned m = 0;
    struct dm_err err = {{0}};

    CU_ASSERT_EQUAL(dm_log_parse_mask("guest_errors,unimp", &m, &err), 0);
    CU_ASSERT_EQUAL(m, DM_LOG_GUEST_ERROR | DM_LOG_UNIMP);
    CU_ASSERT_EQUAL(dm_log_parse_mask("pci,bogus", &m, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'bogus'"));
    CU_ASSERT_EQUAL(dm_log_parse_mask("", &m, &err), 0);
    CU_ASSERT_EQUAL(m, 0);
}

static void test_ratelimit(void)
{
    struct dm_ratelimit rl = {0};
    unsigned ok = 0;

    for (int i = 0; i < 100; i++)
        ok += dm_ratelimit_ok(&rl);
    CU_ASSERT_EQUAL(ok, DM_RATELIMIT_BURST);
    CU_ASSERT_EQUAL(rl.suppressed, 100 - DM_RATELIMIT_BURST);
    unsigned long before = dm_guest_error_count();
    dm_guest_error("counted even when %s", "suppressed");
    CU_ASSERT_EQUAL(dm_guest_error_count(), before + 1);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("opts", NULL, NULL);
    CU_add_test(s, "parse", test_parse);
    CU_add_test(s, "numbers", test_numbers);
    CU_add_test(s, "log_mask", test_log_mask);
    CU_add_test(s, "ratelimit", test_ratelimit);
    return cunit_run_all();
}
