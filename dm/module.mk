# Device-model core: libdm from every dm/*.c.
DM_SRCS := $(wildcard dm/*.c)
$(eval $(call library,dm,$(DM_SRCS)))
