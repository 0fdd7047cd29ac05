/* Shared bits of the device tests: every test program runs its CUnit suites on
 * fresh test-executor machines (tests/qtest/qtest.h). */
#ifndef TESTS_DEVICES_DT_H
#define TESTS_DEVICES_DT_H

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "machines/pc.h"
#include "tests/lib/cunit-run.h"
#include "tests/qtest/qtest.h"

/* The machine needs Debian's SeaBIOS image; without it the test is skipped. */
static inline void dt_require_bios(void)
{
    if (access(PC_DEFAULT_BIOS, R_OK) != 0) {
        printf("SKIP: device tests (%s missing: install the seabios package)\n", PC_DEFAULT_BIOS);
        exit(77);
    }
}

#define DT_NEW(q, opts)                                 \
    struct qtest *q = qtest_create(opts);               \
    CU_ASSERT_PTR_NOT_NULL_FATAL(q)

/* Register tests: DT_SUITE("name", { "test", fn }, ...). */
struct dt_case {
    const char *name;
    CU_TestFunc fn;
};

static inline int dt_run(const char *suite, const struct dt_case *cases, unsigned n)
{
    dt_require_bios();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (unsigned i = 0; i < n; i++)
        CU_add_test(s, cases[i].name, cases[i].fn);
    return cunit_run_all();
}

#define DT_MAIN(suite, ...)                                                     \
    int main(void)                                                              \
    {                                                                           \
        static const struct dt_case cases[] = { __VA_ARGS__ };                  \
        return dt_run(suite, cases, sizeof(cases) / sizeof(cases[0]));          \
    }

#endif
