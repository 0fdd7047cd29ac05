# PC devices: one device per file, each using dm/ only (see docs/devices.md).
DEVICES_SRCS := $(wildcard devices/*.c)
$(eval $(call library,devices,$(DEVICES_SRCS)))
