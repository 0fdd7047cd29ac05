/* Integer edge cases of RV64IM: division by zero and overflow (defined results, no
 * trap: RISC-V unprivileged spec, "Division Operations"), shift amounts taken modulo
 * the width, word ops sign-extending.  Prints every result; self-checks the ones the
 * spec fixes. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static int64_t div_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("div %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static uint64_t divu_(uint64_t a, uint64_t b) { uint64_t r; __asm__ volatile("divu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t rem_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("rem %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static uint64_t remu_(uint64_t a, uint64_t b) { uint64_t r; __asm__ volatile("remu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t divw_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("divw %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t remw_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("remw %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t divuw_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("divuw %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t remuw_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("remuw %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static uint64_t sll_(uint64_t a, uint64_t s) { uint64_t r; __asm__ volatile("sll %0,%1,%2" : "=r"(r) : "r"(a), "r"(s)); return r; }
static uint64_t srl_(uint64_t a, uint64_t s) { uint64_t r; __asm__ volatile("srl %0,%1,%2" : "=r"(r) : "r"(a), "r"(s)); return r; }
static int64_t sra_(int64_t a, uint64_t s) { int64_t r; __asm__ volatile("sra %0,%1,%2" : "=r"(r) : "r"(a), "r"(s)); return r; }
static int64_t sllw_(int64_t a, uint64_t s) { int64_t r; __asm__ volatile("sllw %0,%1,%2" : "=r"(r) : "r"(a), "r"(s)); return r; }
static int64_t srlw_(int64_t a, uint64_t s) { int64_t r; __asm__ volatile("srlw %0,%1,%2" : "=r"(r) : "r"(a), "r"(s)); return r; }
static int64_t sraw_(int64_t a, uint64_t s) { int64_t r; __asm__ volatile("sraw %0,%1,%2" : "=r"(r) : "r"(a), "r"(s)); return r; }
static int64_t mulh_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("mulh %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static uint64_t mulhu_(uint64_t a, uint64_t b) { uint64_t r; __asm__ volatile("mulhu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t mulhsu_(int64_t a, uint64_t b) { int64_t r; __asm__ volatile("mulhsu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t mulw_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("mulw %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int64_t addw_(int64_t a, int64_t b) { int64_t r; __asm__ volatile("addw %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }

int main(void)
{
    /* division by zero: quotient all ones, remainder the dividend */
    CHECK(div_(42, 0) == -1);
    CHECK(divu_(42, 0) == UINT64_MAX);
    CHECK(rem_(42, 0) == 42);
    CHECK(remu_(42, 0) == 42);
    CHECK(divw_(42, 0) == -1);
    CHECK(remw_(-7, 0) == -7);
    CHECK(divuw_(42, 0) == -1);
    CHECK(remuw_(0x80000001, 0) == (int32_t)0x80000001);
    /* signed overflow: quotient the dividend, remainder 0 */
    CHECK(div_(INT64_MIN, -1) == INT64_MIN);
    CHECK(rem_(INT64_MIN, -1) == 0);
    CHECK(divw_(INT32_MIN, -1) == INT32_MIN);
    CHECK(remw_(INT32_MIN, -1) == 0);
    /* rounding toward zero */
    CHECK(div_(-7, 2) == -3 && rem_(-7, 2) == -1);
    CHECK(div_(7, -2) == -3 && rem_(7, -2) == 1);
    /* shift amounts use the low 6 (or 5 for W) bits */
    CHECK(sll_(1, 64) == 1 && sll_(1, 65) == 2 && sll_(1, 63) == 1ULL << 63);
    CHECK(srl_(1ULL << 63, 127) == 1);
    CHECK(sra_(INT64_MIN, 63 + 64) == -1);
    CHECK(sllw_(1, 32) == 1 && sllw_(1, 31) == INT32_MIN);
    CHECK(srlw_(0x80000000, 31) == 1 && srlw_(-1, 0) == -1);
    CHECK(sraw_(0x80000000, 63) == -1);
    /* high products */
    CHECK(mulh_(INT64_MIN, INT64_MIN) == (int64_t)0x4000000000000000);
    CHECK(mulhu_(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1);
    CHECK(mulhsu_(-1, UINT64_MAX) == -1);
    CHECK(mulw_(0x10000, 0x10000) == 0);
    CHECK(addw_(INT32_MAX, 1) == INT32_MIN);

    uint64_t vals[] = { 0, 1, 2, 3, 7, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
                        INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX, (uint64_t)-2, 0x123456789abcdefULL };
    unsigned n = sizeof(vals) / sizeof(vals[0]);
    uint64_t h = 1469598103934665603ULL;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            uint64_t a = vals[i], b = vals[j];
            uint64_t r[] = { div_(a, b), divu_(a, b), rem_(a, b), remu_(a, b), divw_(a, b), remw_(a, b),
                             divuw_(a, b), remuw_(a, b), sll_(a, b), srl_(a, b), sra_(a, b), sllw_(a, b),
                             srlw_(a, b), sraw_(a, b), mulh_(a, b), mulhu_(a, b), mulhsu_(a, b), mulw_(a, b),
                             a * b, addw_(a, b) };
            for (unsigned k = 0; k < sizeof(r) / sizeof(r[0]); k++)
                h = (h ^ r[k]) * 1099511628211ULL;
        }
        printf("after %016llx: %016llx\n", (unsigned long long)vals[i], (unsigned long long)h);
    }
    printf("intedge: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
