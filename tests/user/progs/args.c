/* Prints its arguments and two environment variables; the CLI test runs it with
 * -0, -E and -U under vireo-riscv64 and qemu-riscv64. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *a = getenv("VIREO_A"), *b = getenv("VIREO_B");
    printf("VIREO_A=%s VIREO_B=%s\n", a ? a : "(unset)", b ? b : "(unset)");
    return argc;
}
