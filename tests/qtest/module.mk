# The test executor (a CPU-less pc machine driven from C): library `qtest`.
$(eval $(call library,qtest,tests/qtest/qtest.c))
