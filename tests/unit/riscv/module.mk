# RISC-V front-end tests (CUnit).  riscv-unit runs every semantic test on both JIT
# backends; riscv-disas compares the disassembler with GNU objdump.
$(eval $(call program,tests/riscv-unit,tests/unit/riscv/harness.c tests/unit/riscv/test_int.c \
    tests/unit/riscv/test_fp.c tests/unit/riscv/test_ext.c,riscv jit testlib,-lcunit))
$(eval $(call test,riscv-unit,$(BUILD)/tests/riscv-unit,$(BUILD)/tests/riscv-unit))
$(eval $(call program,tests/riscv-disas,tests/unit/riscv/disas_test.c,riscv jit testlib,-lcunit))
$(eval $(call test,riscv-disas,$(BUILD)/tests/riscv-disas,$(BUILD)/tests/riscv-disas))
