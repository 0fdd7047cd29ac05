# tests/block: interoperability with Debian's qemu-img (both directions).
$(eval $(call program,tests/blkio,tests/block/blkio.c,block,-lz))
$(eval $(call test,block-interop,$(BUILD)/vireo-img $(BUILD)/tests/blkio,tests/block/interop.sh $(BUILD)))
$(eval $(call bench,block,$(BUILD)/vireo-img,tests/block/bench.sh $(BUILD)))
# locks against a running qemu-system-x86_64, both ways
$(eval $(call test,block-qemu-lock,$(BUILD)/vireo-img $(BUILD)/tests/blkio,tests/block/qemu-lock.sh $(BUILD)))
# differential audit of every subcommand against qemu-img (tests/block/diff.sh)
$(eval $(call test,block-diff,$(BUILD)/vireo-img,tests/block/diff.sh $(BUILD)))
