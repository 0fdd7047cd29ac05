# VMDK, VDI and VHD: interop with qemu-img, hostile images, fuzzing, crash consistency.
BLOCKFMT_SRCS := block/vhd.c block/vdi.c block/vmdk.c block/vmdk-stream.c block/vmdk-vdi-vhd.c
$(eval $(call library,blockfmt,$(BLOCKFMT_SRCS)))
$(eval $(call program,tests/blockfmt/bf-tool,tests/blockfmt/bf-tool.c,blockfmt,-lz))
