# JIT unit tests (CUnit); every test runs on both backends.
$(eval $(call program,tests/jit-engine,tests/unit/jit/test_engine.c,jit testlib,-lcunit))
$(eval $(call test,jit-engine,$(BUILD)/tests/jit-engine,$(BUILD)/tests/jit-engine))
