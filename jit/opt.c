#include "jit/internal.h"
void jit_optimize(jit_ctx *c) { (void)c; }
