#include "tests/lib/cunit-run.h"

#include <stdio.h>

static void report(const CU_pTest test, const CU_pSuite suite, const CU_pFailureRecord failure)
{
    if (!failure) {
        printf("PASS: %s/%s\n", suite->pName, test->pName);
        return;
    }
    for (CU_pFailureRecord f = failure; f; f = f->pNext)
        printf("FAIL: %s/%s: %s:%u: %s\n", suite->pName, test->pName,
               f->strFileName ? f->strFileName : "?", f->uiLineNumber,
               f->strCondition ? f->strCondition : "?");
}

static void report_suite_init_failure(const CU_pSuite suite)
{
    printf("FAIL: %s: suite initialisation failed\n", suite->pName);
}

int cunit_run_all(void)
{
    CU_set_test_complete_handler(report);
    CU_set_suite_init_failure_handler(report_suite_init_failure);
    if (CU_run_all_tests() != CUE_SUCCESS) {
        printf("FAIL: CUnit: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 1;
    }
    unsigned failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
