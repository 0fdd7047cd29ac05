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

# Programs from Debian source packages (Lua, zlib), cross-built into the cache.
$(eval $(call test,user-realprogs,$(filter $(BUILD)/vireo-riscv64,$(ALL_PROGRAMS)),tests/user/run-realprogs.sh $(BUILD) 1))
$(eval $(call long_test,user-realprogs-long,$(filter $(BUILD)/vireo-riscv64,$(ALL_PROGRAMS)),tests/user/run-realprogs.sh $(BUILD) 20))
