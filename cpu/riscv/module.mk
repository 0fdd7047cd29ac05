# RISC-V front-end: decoder, translator to JIT IR, FP helpers, CSRs, disassembler,
# random code generator.
$(eval $(call library,riscv,cpu/riscv/cpu.c cpu/riscv/csr.c cpu/riscv/decode.c \
    cpu/riscv/disas.c cpu/riscv/fpu.c cpu/riscv/gen.c cpu/riscv/rvc.c cpu/riscv/translate.c))
