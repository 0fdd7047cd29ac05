/* Compressed (RVC) instructions, written out so the test does not depend on what
 * the compiler picks: c.li, c.addi, c.addiw, c.slli, c.srli, c.srai, c.andi, c.mv,
 * c.add, c.sub, c.xor, c.or, c.and, c.subw, c.addw, c.lui, c.ld/c.sd, c.lw/c.sw,
 * c.ldsp/c.sdsp, c.beqz/c.bnez, c.j, c.jr, c.jalr. */
#include <stdint.h>
#include <stdio.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

int main(void)
{
    uint64_t a, b, c;
    __asm__ volatile(
        ".option push\n.option rvc\n"
        "c.li a0, -5\n"
        "c.addi a0, 17\n"       /* 12 */
        "c.slli a0, 60\n"       /* 0xc000000000000000 */
        "c.srai a0, 4\n"        /* 0xfc00000000000000 */
        "c.mv a1, a0\n"
        "c.srli a1, 8\n"        /* 0x00fc000000000000 */
        "c.andi a1, -1\n"
        "c.lui a2, 0x1f\n"      /* 0x1f000 */
        "c.addiw a2, -1\n"      /* 0x1efff */
        "c.add a2, a1\n"
        "c.xor a2, a0\n"
        "c.mv %0, a0\n c.mv %1, a1\n c.mv %2, a2\n"
        ".option pop\n"
        : "=r"(a), "=r"(b), "=r"(c) : : "a0", "a1", "a2");
    CHECK(a == 0xfc00000000000000ULL);
    CHECK(b == 0x00fc000000000000ULL);
    CHECK(c == ((0x1efffULL + 0x00fc000000000000ULL) ^ 0xfc00000000000000ULL));
    printf("%016llx %016llx %016llx\n", (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);

    int64_t w;
    __asm__ volatile(
        ".option push\n.option rvc\n"
        "li a3, 0x7fffffff\n"
        "c.li a4, 1\n"
        "c.addw a3, a4\n"       /* wraps to INT32_MIN, sign-extended */
        "c.li a5, 3\n"
        "c.subw a3, a5\n"
        "c.mv %0, a3\n"
        ".option pop\n"
        : "=r"(w) : : "a3", "a4", "a5");
    CHECK(w == (int64_t)(int32_t)0x7ffffffd);
    printf("%lld\n", (long long)w);

    uint64_t mem[4] = { 1, 2, 3, 4 };
    uint64_t ld, lw_;
    __asm__ volatile(
        ".option push\n.option rvc\n"
        "mv a0, %2\n"
        "c.ld a1, 8(a0)\n"
        "c.addi a1, 10\n"
        "c.sd a1, 16(a0)\n"
        "c.lw a2, 0(a0)\n"
        "c.sw a2, 28(a0)\n"
        "c.mv %0, a1\n c.mv %1, a2\n"
        ".option pop\n"
        : "=r"(ld), "=r"(lw_) : "r"(mem) : "a0", "a1", "a2", "memory");
    CHECK(ld == 12 && mem[2] == 12 && lw_ == 1 && mem[3] == 0x100000004ULL);

    uint64_t sp_val;
    __asm__ volatile(
        ".option push\n.option rvc\n"
        "c.addi16sp sp, -32\n"
        "c.li a0, 21\n"
        "c.sdsp a0, 8(sp)\n"
        "c.ldsp a1, 8(sp)\n"
        "c.add a1, a1\n"
        "c.addi16sp sp, 32\n"
        "c.mv %0, a1\n"
        ".option pop\n"
        : "=r"(sp_val) : : "a0", "a1", "memory");
    CHECK(sp_val == 42);

    uint64_t count;
    __asm__ volatile(
        ".option push\n.option rvc\n"
        "c.li a0, 10\n"
        "c.li a1, 0\n"
        "1: c.addi a1, 3\n"
        "c.addi a0, -1\n"
        "c.bnez a0, 1b\n"
        "c.beqz a0, 2f\n"
        "c.li a1, 0\n"
        "2: c.j 3f\n"
        "c.li a1, 0\n"
        "3: c.mv %0, a1\n"
        ".option pop\n"
        : "=r"(count) : : "a0", "a1");
    CHECK(count == 30);

    uint64_t jr;
    __asm__ volatile(
        ".option push\n.option rvc\n"
        "la a0, 1f\n"
        "c.li a1, 5\n"
        "c.jr a0\n"
        "c.li a1, 0\n"
        "1: la a2, 2f\n"
        "c.jalr a2\n"
        "c.j 3f\n"
        "2: c.addi a1, 1\n"
        "c.jr ra\n"
        "3: c.mv %0, a1\n"
        ".option pop\n"
        : "=r"(jr) : : "a0", "a1", "a2", "ra");
    CHECK(jr == 6);
    printf("compressed: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
