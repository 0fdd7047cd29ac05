# User-mode tests: guest programs cross-compiled for riscv64 (static and dynamic),
# run under vireo-riscv64 and compared with Debian's qemu-riscv64.
RV_CC ?= riscv64-linux-gnu-gcc
RV_CFLAGS := -O2 -g -Wall
USER_PROGS := $(basename $(notdir $(wildcard tests/user/progs/*.c)))
USER_PROG_BINS := $(foreach p,$(USER_PROGS),$(BUILD)/user/progs/static/$(p) $(BUILD)/user/progs/dyn/$(p))

$(BUILD)/user/progs/static/%: tests/user/progs/%.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $< -lpthread -lm

$(BUILD)/user/progs/dyn/%: tests/user/progs/%.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -o $@ $< -lpthread -lm

.PHONY: user-progs
user-progs: $(USER_PROG_BINS)

$(eval $(call test,user-progs,$(filter $(BUILD)/vireo-riscv64,$(ALL_PROGRAMS)) $(USER_PROG_BINS),tests/user/run-progs.sh $(BUILD)))

# Programs from Debian source packages (Lua, zlib, SQLite), cross-built into the cache.
$(eval $(call test,user-realprogs,$(filter $(BUILD)/vireo-riscv64,$(ALL_PROGRAMS)),tests/user/run-realprogs.sh $(BUILD) 1))
$(eval $(call long_test,user-realprogs-long,$(filter $(BUILD)/vireo-riscv64,$(ALL_PROGRAMS)),tests/user/run-realprogs.sh $(BUILD) 10))

# Random-instruction differential test against qemu-riscv64.
$(BUILD)/user/rvdiff-harness: tests/user/rvdiff/harness.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $<
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call program,user/rvgen,tests/user/rvdiff/rvgen.c,riscv jit,))
RVDIFF_DEPS := $(BUILD)/vireo-riscv64 $(BUILD)/user/rvgen $(BUILD)/user/rvdiff-harness
endif
RVDIFF_SEED ?= 1
$(eval $(call test,user-rvdiff,$(RVDIFF_DEPS),tests/user/rvdiff/run-rvdiff.sh $(BUILD) $(RVDIFF_SEED) 200))
$(eval $(call long_test,user-rvdiff-long,$(RVDIFF_DEPS),tests/user/rvdiff/run-rvdiff.sh $(BUILD) 100000 5000))

# make bench: riscv64 kernels, Lua, zlib and SQLite, native vs vireo-riscv64 vs qemu-riscv64.
$(eval $(call bench,riscv-user,$(filter $(BUILD)/vireo-riscv64,$(ALL_PROGRAMS)),tests/bench/riscv-bench.sh $(BUILD) 5))

# Unit tests of the loader and the guest address space.
ifneq ($(wildcard cpu/riscv/module.mk),)
$(eval $(call program,user/test-user,tests/user/test_user.c $(filter-out standalone/user/main.c,$(USER_SRCS)),testlib riscv jit,-lcunit))
$(eval $(call test,user-unit,$(BUILD)/user/test-user $(USER_PROG_BINS),$(BUILD)/user/test-user $(BUILD)/user/progs))
endif

# The command line, compared with qemu-riscv64's where they share options.
$(eval $(call test,user-cli,$(filter $(BUILD)/vireo-riscv64 $(BUILD)/vireo-riscv64-static,$(ALL_PROGRAMS)) $(BUILD)/user/progs/static/args $(BUILD)/user/progs/dyn/args $(BUILD)/user/binfmt/probe-static $(BUILD)/user/binfmt/probe-dyn,tests/user/run-cli.sh $(BUILD)))

# make fuzz: the differential test for FUZZ_SECONDS from a new seed each time (printed;
# RVDIFF_FUZZ_SEED=N repeats a run).
.PHONY: fuzz-rvdiff
fuzz-rvdiff: $(RVDIFF_DEPS)
	@tests/user/rvdiff/run-rvdiff.sh $(BUILD) $${RVDIFF_FUZZ_SEED:-$$(( $$(date +%s) % 1000000000 * 1000 ))} 100000000 $(FUZZ_SECONDS)
FUZZ_LONG += fuzz-rvdiff

# binfmt_misc flags (tests/user/binfmt/run-binfmt.sh, run by user-cli): the probe
# the kernel starts through vireo-riscv64.
$(BUILD)/user/binfmt/probe-static: tests/user/binfmt/probe.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -static -o $@ $<
$(BUILD)/user/binfmt/probe-dyn: tests/user/binfmt/probe.c
	@mkdir -p $(@D)
	$(RV_CC) $(RV_CFLAGS) -o $@ $<
