/* Exit status and death by signal: "exit N" exits with N, "abort" dies of SIGABRT,
 * "segv" dies of SIGSEGV with no handler; the emulator must end the same way.
 * vireo-test-run: exit 0
 * vireo-test-run: exit 7
 * vireo-test-run: exit 255
 * vireo-test-run: abort
 * vireo-test-run: segv */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "exit") == 0) {
        printf("exiting with %s\n", argv[2]);
        return atoi(argv[2]);
    }
    if (argc > 1 && strcmp(argv[1], "abort") == 0) {
        printf("aborting\n");
        fflush(stdout);
        abort();
    }
    if (argc > 1 && strcmp(argv[1], "segv") == 0) {
        printf("null store\n");
        fflush(stdout);
        *(volatile int *)16 = 1;
    }
    printf("usage\n");
    return 2;
}
