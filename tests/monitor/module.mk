# Monitor: JSON, QMP and HMP unit tests against a fake VM, and the QMP fuzz target.
# (The end-to-end QMP/HMP tests against a guest under KVM are in tests/kvm/.)
$(eval $(call program,tests/monitor/monitor-test,tests/monitor/monitor-test.c,dm testlib,-lcunit))
$(eval $(call test,monitor-unit,$(BUILD)/tests/monitor/monitor-test,$(BUILD)/tests/monitor/monitor-test))
$(eval $(call fuzzer,json,tests/monitor/fuzz-json.c,dm,,20000))
# End to end against a tiny guest under KVM (skipped without /dev/kvm).
$(eval $(call test,qmp,$(BUILD)/vireo-system-x86_64 $(BUILD)/tests/kvm/spin.bin,tests/monitor/qmp-e2e.py $(BUILD)))
$(eval $(call test,hmp,$(BUILD)/vireo-system-x86_64 $(BUILD)/tests/kvm/spin.bin,tests/monitor/hmp-e2e.sh $(BUILD)))
