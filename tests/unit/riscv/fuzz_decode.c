/* Fuzz target: the decoder, the RVC expansion and the disassembler over arbitrary
 * instruction bytes.  Besides not crashing (sanitizers), it checks invariants:
 * every RVC expansion is a legal 32-bit instruction of the same meaning class,
 * decoding is deterministic, and the disassembler stays inside its buffer. */
#include "cpu/riscv/cpu.h"
#include "cpu/riscv/insn.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    riscv_disas_ctx ctx;
    riscv_disas_ctx_init(&ctx);
    for (size_t off = 0; off + 2 <= size;) {
        uint32_t w = data[off] | (uint32_t)data[off + 1] << 8;
        unsigned len = riscv_insn_len((uint16_t)w);
        if (len == 4) {
            if (off + 4 > size)
                break;
            w |= (uint32_t)(data[off + 2] | data[off + 3] << 8) << 16;
        }
        riscv_insn d, d2;
        bool ok = riscv_decode(w, &d);
        if (d.len != len || riscv_decode(w, &d2) != ok || memcmp(&d, &d2, sizeof(d)))
            abort();
        if (len == 2) {
            uint32_t e = riscv_expand_rvc((uint16_t)w);
            riscv_insn x;
            if (e && (!riscv_decode(e, &x) || x.op != d.op || x.len != 4))
                abort();
            if (!e && ok)
                abort();
        }
        /* every buffer size, including ones too small for the text */
        char buf[96];
        for (size_t n = 0; n <= sizeof(buf); n += 31) {
            memset(buf, 'Z', sizeof(buf));
            unsigned l = riscv_disas(off, w, n ? buf : NULL, n);
            if (l != len || (n && !memchr(buf, 0, n)))
                abort();
            for (size_t i = n; i < sizeof(buf); i++)
                if (buf[i] != 'Z')
                    abort();
        }
        riscv_disas_seq(&ctx, off, w, buf, sizeof(buf));
        off += len;
    }
    return 0;
}
