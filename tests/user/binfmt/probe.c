/* Run through binfmt_misc by run-binfmt.sh: prints what a program started by the
 * kernel sees (argv, /proc/self/exe's name, credentials, AT_SECURE, and the file
 * descriptors above 2, which must not include one the emulator was handed). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    printf("exe=%s\n", strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe);
    printf("uid=%d euid=%d secure=%lu\n", (int)getuid(), (int)geteuid(), getauxval(AT_SECURE));
    DIR *d = opendir("/proc/self/fd");
    int extra = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d))
            extra++;
    if (d)
        closedir(d);
    printf("extra fds=%d\n", extra);
    return 0;
}
