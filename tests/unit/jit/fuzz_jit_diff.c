/* Differential fuzz target: the input drives the random block generator of
 * irtest.h; the block runs on the interpreter (with and without the optimizer)
 * and on the native backend (with and without pinned globals), and any difference in registers, host scratch
 * fields, guest memory or exit is a crash. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/jit/irtest.h"
#include "jit/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jit_engine *eng[3];
static uint8_t *mem[4];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eng[0]) {
        jit_options oi = { .backend = JIT_BACKEND_INTERP };
        jit_options on = { .backend = jit_default_backend() };
        /* globals pinned from the first block on: the register state the
         * blocks start from differs, and so does the code */
        jit_options op = { .backend = jit_default_backend(), .pin_after = 1 };
        if (jit_engine_new(&ir_frontend, &oi, &eng[0]) ||
            jit_engine_new(&ir_frontend, &on, &eng[1]) ||
            jit_engine_new(&ir_frontend, &op, &eng[2]))
            abort();
        for (int i = 0; i < 4; i++) {
            mem[i] = mmap(NULL, IR_MEM, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (mem[i] == MAP_FAILED)
                abort();
        }
        /* JIT_DIFF_LOG=op_opt,out_asm (jit_parse_log's names): the native
         * engine's log on stderr, to study a failing input. */
        unsigned mask;
        const char *log = getenv("JIT_DIFF_LOG");
        if (log && jit_parse_log(log, &mask) == 0)
            jit_set_log(eng[1], mask, NULL);
    }
    if (size < 2)
        return 0;
    ir_rng r0 = { .data = data, .size = size, .state = 0x9E3779B97F4A7C15ull };
    ir_cpu in, out[4];
    ir_random_state(&r0, &in, mem[0]);
    memcpy(mem[1] + IR_DATA, mem[0] + IR_DATA, IR_DATA_SIZE);
    memcpy(mem[2] + IR_DATA, mem[0] + IR_DATA, IR_DATA_SIZE);
    memcpy(mem[3] + IR_DATA, mem[0] + IR_DATA, IR_DATA_SIZE);
    unsigned nops = 4 + data[0] % 96;
    ir_rng start = r0;
    /* 0: interpreter, 1: native, 2: unoptimized interpreter, 3: native pinned */
    static const int engine_of[4] = { 0, 1, 0, 2 };
    for (int k = 0; k < 4; k++) {
        ir_rng r = start;
        ir_gen g = { &r, nops };
        jit_opt_disabled = k == 2;
        ir_run(eng[engine_of[k]], mem[k], ir_random_block, &g, &in, &out[k]);
    }
    jit_opt_disabled = 0;
    int d1 = ir_compare(&out[0], &out[1], mem[0], mem[1]);
    int d2 = ir_compare(&out[0], &out[2], mem[0], mem[2]);
    int d3 = ir_compare(&out[0], &out[3], mem[0], mem[3]);
    if (d1 >= 0 || d2 >= 0 || d3 >= 0) {
        fprintf(stderr, "jit differential: native differs at %d, unoptimized at %d, "
                "native pinned at %d\n", d1, d2, d3);
        abort();
    }
    return 0;
}
