# Monitor: JSON, QMP and HMP unit tests against a fake VM, and the QMP fuzz target.
# (The end-to-end QMP/HMP tests against a guest under KVM are in tests/kvm/.)
$(eval $(call program,tests/monitor/monitor-test,tests/monitor/monitor-test.c,dm testlib,-lcunit))
$(eval $(call test,monitor,$(BUILD)/tests/monitor/monitor-test,$(BUILD)/tests/monitor/monitor-test))
$(eval $(call fuzzer,json,tests/monitor/fuzz-json.c,dm,,20000))
