# Unit tests of the device-model core.
DM_UNIT_TESTS := memory vmstate pci clock chardev device opts

define dm_unit_test
$$(eval $$(call program,tests/unit/dm/test-$(1),tests/unit/dm/test-$(1).c,dm testlib,-lcunit))
$$(eval $$(call test,dm-$(1),$$(BUILD)/tests/unit/dm/test-$(1),$$(BUILD)/tests/unit/dm/test-$(1)))
endef
$(foreach t,$(DM_UNIT_TESTS),$(eval $(call dm_unit_test,$(t))))

# Fuzz targets: the state loader, and the -device/-chardev/-serial parsers.
$(eval $(call fuzzer,dm-vmstate,tests/unit/dm/fuzz-vmstate.c,dm,,20000))
$(eval $(call fuzzer,dm-opts,tests/unit/dm/fuzz-opts.c,dm,,20000))

# Dispatch cost against flat-view size (docs/dm.md).
$(eval $(call program,tests/unit/dm/bench-dispatch,tests/unit/dm/bench-dispatch.c,dm,))
$(eval $(call bench,dm-dispatch,$(BUILD)/tests/unit/dm/bench-dispatch,$(BUILD)/tests/unit/dm/bench-dispatch))

# The -chardev/-serial parsers against Debian's QEMU (skipped without it).
$(eval $(call program,tests/unit/dm/chardev-check,tests/unit/dm/chardev-check.c,dm,))
$(eval $(call test,dm-chardev-vs-qemu,$(BUILD)/tests/unit/dm/chardev-check,tests/unit/dm/chardev-vs-qemu.sh $(BUILD)/tests/unit/dm/chardev-check))
$(eval $(call fuzzer,dm-pci,tests/unit/dm/fuzz-pci.c,dm,,5000))
