# Device tests: each test-NAME.c is a CUnit program on the test executor.
DEVICE_TESTS := pic pci pit rtc uart i8042 fwcfg misc qemuref ioapic
define device_test
$$(eval $$(call program,tests/devices/test-$(1),tests/devices/test-$(1).c,qtest machines devices dm testlib,-lcunit))
$$(eval $$(call test,devices-$(1),$(BUILD)/tests/devices/test-$(1),$(BUILD)/tests/devices/test-$(1)))
endef
$(foreach t,$(filter $(patsubst tests/devices/test-%.c,%,$(wildcard tests/devices/test-*.c)),$(DEVICE_TESTS)),$(eval $(call device_test,$(t))))

# pc-io: random port/MMIO/clock programs against a whole pc machine.
$(eval $(call fuzzer,pc-io,tests/devices/fuzz-pc-io.c,qtest machines devices dm,,2500))
