/* Run every registered CUnit test and report each as a PASS:/FAIL: line that
 * tests/run-test.sh counts.  A unit-test program registers its suites in main()
 * and returns cunit_run_all(). */
#ifndef TESTS_LIB_CUNIT_RUN_H
#define TESTS_LIB_CUNIT_RUN_H

#include <CUnit/CUnit.h>

int cunit_run_all(void);

#endif
