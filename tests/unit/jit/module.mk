# JIT unit tests (CUnit); every test runs on both backends.
$(eval $(call program,tests/jit-engine,tests/unit/jit/test_engine.c,jit testlib,-lcunit))
$(eval $(call test,jit-engine,$(BUILD)/tests/jit-engine,$(BUILD)/tests/jit-engine))
$(eval $(call program,tests/jit-ops,tests/unit/jit/test_ops.c,jit testlib,-lcunit))
$(eval $(call test,jit-ops,$(BUILD)/tests/jit-ops,$(BUILD)/tests/jit-ops))
$(eval $(call program,tests/jit-opt,tests/unit/jit/test_opt.c,jit testlib,-lcunit))
$(eval $(call test,jit-opt,$(BUILD)/tests/jit-opt,$(BUILD)/tests/jit-opt))
# interpreter vs native vs unoptimized on random blocks; 2000 inputs in make check
$(eval $(call fuzzer,jit_diff,tests/unit/jit/fuzz_jit_diff.c,jit,,2000))
