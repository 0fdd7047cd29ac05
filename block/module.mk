# block/: the image format drivers and the generic block layer (libblock).
BLOCK_SRCS := $(wildcard block/*.c)
$(eval $(call library,block,$(BLOCK_SRCS)))
