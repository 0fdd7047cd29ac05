# Shared test support: the CUnit runner that prints per-test PASS:/FAIL: lines.
$(eval $(call library,testlib,tests/lib/cunit-run.c))
