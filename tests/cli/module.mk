# Command-line tests of vireo-system-x86_64 (bad options, files, sizes, help).
$(eval $(call test,cli,$(BUILD)/vireo-system-x86_64 $(BUILD)/tests/kvm/exit.bin,tests/cli/cli-test.sh $(BUILD)))
