# Hostile input to user mode: broken ELF files, a fuzz target of the loader, and a
# storm of random system calls from a riscv64 guest (docs/user-mode.md, "Hostile input").
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call program,user/hostile/mkelf,tests/user/hostile/mkelf.c,,))
$(eval $(call test,user-hostile-elf,$(BUILD)/vireo-riscv64 $(BUILD)/user/hostile/mkelf,tests/user/hostile/run-elf.sh $(BUILD)))
endif
ifneq ($(wildcard cpu/riscv/module.mk),)
# The loader on arbitrary bytes, as the program and as its interpreter.
$(eval $(call fuzzer,user-elf,tests/user/hostile/fuzz-elf.c $(filter-out standalone/user/main.c,$(USER_SRCS)),riscv jit,,3000 -max_len=8192))
endif
