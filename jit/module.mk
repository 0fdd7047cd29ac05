# The target-independent JIT: IR, optimizer, x86-64 backend, interpreter,
# translation cache (docs/jit.md).
$(eval $(call library,jit,jit/ir.c jit/eval.c jit/opt.c jit/interp.c jit/runtime.c jit/x86.c jit/engine.c))
