# vireo-riscv64: user-mode emulation of riscv64 Linux programs (docs/user-mode.md).
USER_SRCS := $(wildcard standalone/user/*.c)
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call program,vireo-riscv64,$(USER_SRCS),riscv jit,))
endif
