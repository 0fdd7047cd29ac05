# JIT unit tests (CUnit); every test runs on both backends.
$(eval $(call program,tests/jit-engine,tests/unit/jit/test_engine.c,jit testlib,-lcunit))
$(eval $(call test,jit-engine,$(BUILD)/tests/jit-engine,$(BUILD)/tests/jit-engine))
$(eval $(call program,tests/jit-ops,tests/unit/jit/test_ops.c,jit testlib,-lcunit))
$(eval $(call test,jit-ops,$(BUILD)/tests/jit-ops,$(BUILD)/tests/jit-ops))
