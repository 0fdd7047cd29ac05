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

# The syscall storm: a static riscv64 guest, run under vireo-riscv64 in a sandbox.
$(BUILD)/user/hostile/storm: tests/user/hostile/storm.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $< -lpthread
ifneq ($(wildcard cpu/riscv/module.mk),)
STORM_SEED ?= 1
$(eval $(call test,user-storm,$(BUILD)/vireo-riscv64 $(BUILD)/user/hostile/storm,tests/user/hostile/run-storm.sh $(BUILD) $(STORM_SEED) 6 4 2500))
# make fuzz: storms with random seeds (printed) for FUZZ_SECONDS, both backends.
.PHONY: fuzz-long-user-storm
fuzz-long-user-storm: $(BUILD)/vireo-riscv64 $(BUILD)/user/hostile/storm
	@end=$$(( $$(date +%s) + $${FUZZ_SECONDS:-300} )); \
	while [ $$(date +%s) -lt $$end ]; do \
	    tests/user/hostile/run-storm.sh $(BUILD) random 16 4 5000 || exit 1; \
	done
FUZZ_LONG += fuzz-long-user-storm
endif

# Guest addresses outside the guest space (below 0, past 2^38) must fault on both
# backends and never reach the host memory around the reservation (docs/jit.md,
# "The guest space bound").
$(BUILD)/user/hostile/escape: tests/user/hostile/escape.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $<
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call test,user-escape,$(BUILD)/vireo-riscv64 $(BUILD)/user/hostile/escape,tests/user/hostile/run-escape.sh $(BUILD)))
endif

# One thread unmaps what another hands to calls the emulator completes itself,
# or the alternate stack the emulator writes signal frames to.
$(BUILD)/user/hostile/race $(BUILD)/user/hostile/frame-race: $(BUILD)/user/hostile/%: tests/user/hostile/%.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $< -lpthread
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call test,user-race,$(BUILD)/vireo-riscv64 $(BUILD)/user/hostile/race $(BUILD)/user/hostile/frame-race,tests/user/hostile/run-race.sh $(BUILD) 100000))
endif

# Guest rlimits on address space, data and stack must not starve the emulator.
$(BUILD)/user/hostile/rlimit: tests/user/hostile/rlimit.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $< -lpthread
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call test,user-rlimit,$(BUILD)/vireo-riscv64 $(BUILD)/user/hostile/rlimit,tests/user/hostile/run-vs-qemu.sh $(BUILD) rlimit))
endif
