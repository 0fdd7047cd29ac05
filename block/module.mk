# block/: the image format drivers and the generic block layer (libblock).
# Programs linking libblock also need -lz (qcow2 compression).
BLOCK_SRCS := $(wildcard block/*.c)
$(eval $(call library,block,$(BLOCK_SRCS)))
