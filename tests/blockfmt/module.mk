# VMDK, VDI and VHD: interop with qemu-img, hostile images, fuzzing, crash consistency.
$(eval $(call program,tests/blockfmt/bf-tool,tests/blockfmt/bf-tool.c,block,-lz))
$(eval $(call test,blockfmt-interop,$(BUILD)/tests/blockfmt/bf-tool,tests/blockfmt/interop.sh $(BUILD)/tests/blockfmt/bf-tool $(BUILD)/vireo-img))
$(eval $(call long_test,blockfmt-interop-long,$(BUILD)/tests/blockfmt/bf-tool,env BLOCKFMT_LONG=1 tests/blockfmt/interop.sh $(BUILD)/tests/blockfmt/bf-tool $(BUILD)/vireo-img))
$(eval $(call test,blockfmt-hostile,$(BUILD)/tests/blockfmt/bf-tool,tests/blockfmt/hostile.sh $(BUILD)/tests/blockfmt/bf-tool $(BUILD)/vireo-img))
# RUNS also carries -max_len: the stream VMDK seed is 6.5 KiB and mutations must keep its footer
$(eval $(call fuzzer,block-open,tests/blockfmt/fuzz-block-open.c,block,-lz,5000 -max_len=8192))
$(eval $(call program,tests/blockfmt/crash-writer,tests/blockfmt/crash-writer.c,block,-lz))
$(eval $(call test,blockfmt-crash,$(BUILD)/tests/blockfmt/crash-writer $(BUILD)/vireo-img,tests/blockfmt/crash.sh $(BUILD)/tests/blockfmt/crash-writer $(BUILD)/vireo-img 6))
$(eval $(call long_test,blockfmt-crash-long,$(BUILD)/tests/blockfmt/crash-writer $(BUILD)/vireo-img,tests/blockfmt/crash.sh $(BUILD)/tests/blockfmt/crash-writer $(BUILD)/vireo-img 60 delete))
# every crash point of snapshot create/delete (strace kills after the k-th pwrite)
$(eval $(call test,blockfmt-crashpoints,$(BUILD)/vireo-img,tests/blockfmt/crashpoints.sh $(BUILD)/vireo-img))
