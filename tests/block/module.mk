# tests/block: interoperability with Debian's qemu-img (both directions).
$(eval $(call program,tests/blkio,tests/block/blkio.c,block,-lz))
$(eval $(call test,block-interop,$(BUILD)/vireo-img $(BUILD)/tests/blkio,tests/block/interop.sh $(BUILD)))
$(eval $(call bench,block,$(BUILD)/vireo-img,tests/block/bench.sh $(BUILD)))
