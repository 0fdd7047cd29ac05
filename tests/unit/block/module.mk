# tests/unit/block: CUnit tests of the qcow2 metadata code.
$(eval $(call program,tests/unit-block,tests/unit/block/test_qcow2.c,block testlib,-lz -lcunit))
$(eval $(call test,unit-block,$(BUILD)/tests/unit-block,$(BUILD)/tests/unit-block))
