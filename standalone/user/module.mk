# vireo-riscv64: user-mode emulation of riscv64 Linux programs (docs/user-mode.md).
USER_SRCS := $(wildcard standalone/user/*.c)
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call program,vireo-riscv64,$(USER_SRCS),riscv jit,))
# A statically linked copy for binfmt_misc's F flag in chroots and containers that
# have no host libraries (docs/user-mode.md).  The sanitizers cannot link statically.
ifneq ($(SANITIZE),1)
$(eval $(call program,vireo-riscv64-static,$(USER_SRCS),riscv jit,-static))
endif
endif
