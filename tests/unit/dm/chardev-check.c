/* chardev-check: print whether Vireo's parsers accept each option string.
 *   chardev-check -chardev STRING ... | -serial STRING ...
 * One line per string: "accept" or "reject: MESSAGE".  Used to compare with
 * what QEMU accepts (tests/unit/dm/chardev-vs-qemu.sh). */
#include <stdio.h>
#include <string.h>

#include "dm/chardev.h"

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        struct dm_err err = {{0}};
        char backend[32];
        int ret;

        if (!strcmp(argv[i], "-chardev"))
            ret = chardev_parse_check(argv[i + 1], backend, sizeof(backend), &err);
        else
            ret = chardev_shorthand_check(argv[i + 1], &err);
        if (ret < 0)
            printf("reject: %s\n", err.msg);
        else
            printf("accept\n");
    }
    return 0;
}
