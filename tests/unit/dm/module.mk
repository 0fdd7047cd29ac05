# Unit tests of the device-model core.
DM_UNIT_TESTS := memory

define dm_unit_test
$$(eval $$(call program,tests/unit/dm/test-$(1),tests/unit/dm/test-$(1).c,dm testlib,-lcunit))
$$(eval $$(call test,dm-$(1),$$(BUILD)/tests/unit/dm/test-$(1),$$(BUILD)/tests/unit/dm/test-$(1)))
endef
$(foreach t,$(DM_UNIT_TESTS),$(eval $(call dm_unit_test,$(t))))
