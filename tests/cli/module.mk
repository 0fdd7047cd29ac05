# Command-line tests of vireo-system-x86_64 (bad options, files, sizes, help).
$(eval $(call test,cli,$(BUILD)/vireo-system-x86_64 $(BUILD)/tests/kvm/exit.bin,tests/cli/cli-test.sh $(BUILD)))
$(eval $(call program,tests/cli/options-test,tests/cli/options-test.c standalone/system/options.c,dm testlib,-lcunit))
$(eval $(call test,system-options,$(BUILD)/tests/cli/options-test,$(BUILD)/tests/cli/options-test))
