# RISC-V front-end tests (CUnit).  riscv-unit runs every semantic test on both JIT
# backends; riscv-disas compares the disassembler with GNU objdump.
$(eval $(call program,tests/riscv-unit,tests/unit/riscv/harness.c tests/unit/riscv/test_int.c \
    tests/unit/riscv/test_fp.c tests/unit/riscv/test_ext.c tests/unit/riscv/test_blocks.c,riscv jit testlib,-lcunit))
$(eval $(call test,riscv-unit,$(BUILD)/tests/riscv-unit,$(BUILD)/tests/riscv-unit))
$(eval $(call program,tests/riscv-disas,tests/unit/riscv/disas_test.c,riscv jit testlib,-lcunit))
$(eval $(call test,riscv-disas,$(BUILD)/tests/riscv-disas,$(BUILD)/tests/riscv-disas))
# Random blocks under Debian's qemu-riscv64 and Vireo (both backends): 40 blocks in
# `make check`, 2000 in `make check-long`.
$(eval $(call program,tests/riscv-qemu-diff,tests/unit/riscv/qemu_diff.c,riscv jit))
$(eval $(call test,riscv-qemu-diff,$(BUILD)/tests/riscv-qemu-diff,$(BUILD)/tests/riscv-qemu-diff 40))
$(eval $(call long_test,riscv-qemu-diff-long,$(BUILD)/tests/riscv-qemu-diff,$(BUILD)/tests/riscv-qemu-diff 2000 1000))
# Decoder/disassembler fuzz target: 3000 inputs in `make check`.
$(eval $(call fuzzer,riscv-decode,tests/unit/riscv/fuzz_decode.c,riscv jit,,3000))
