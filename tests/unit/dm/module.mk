# Unit tests of the device-model core.
DM_UNIT_TESTS := memory vmstate pci clock

define dm_unit_test
$$(eval $$(call program,tests/unit/dm/test-$(1),tests/unit/dm/test-$(1).c,dm testlib,-lcunit))
$$(eval $$(call test,dm-$(1),$$(BUILD)/tests/unit/dm/test-$(1),$$(BUILD)/tests/unit/dm/test-$(1)))
endef
$(foreach t,$(DM_UNIT_TESTS),$(eval $(call dm_unit_test,$(t))))

# Fuzz targets: the state loader, and the -device/-chardev/-serial parsers.
$(eval $(call fuzzer,dm-vmstate,tests/unit/dm/fuzz-vmstate.c,dm,,20000))
