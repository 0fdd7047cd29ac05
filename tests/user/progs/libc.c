/* libc-heavy code: printf formats, qsort, malloc/realloc/free of many sizes,
 * files (write, seek, read back, stat, rename, unlink), directories (mkdir,
 * readdir through getdents64, rmdir), time (clock_gettime, gmtime, strftime),
 * environment and uname.  Output is deterministic; results are self-checked. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    /* printf */
    printf("%d %i %u %x %X %o %5.2f %e %g %s %c %% %lld %-6s| %+d %#x %.3s\n", -42, 7, 3000000000u,
           0xbeef, 0xbeef, 8, 3.14159, 12345.678, 0.0001, "str", 'c', -9000000000LL, "ab", 5, 255, "abcdef");
    printf("%a %.0f %.20g %g %g\n", 1.0, 2.5, 0.1, 1e300 * 1e10, -0.0);
    char buf[64];
    snprintf(buf, sizeof(buf), "%08.3f|%*d|%-*d|", -3.5, 6, 42, 4, 7);
    printf("%s\n", buf);
    CHECK(strtol("-0x1f", NULL, 16) == -31 && strtoull("18446744073709551615", NULL, 10) == UINT64_MAX);
    CHECK(atof("1e-3") == 0.001);

    /* qsort */
    int arr[1000];
    unsigned seed = 12345;
    for (int i = 0; i < 1000; i++) {
        seed = seed * 1103515245 + 12345;
        arr[i] = (int)(seed >> 8) % 100000 - 50000;
    }
    qsort(arr, 1000, sizeof(int), cmp_int);
    for (int i = 1; i < 1000; i++)
        CHECK(arr[i - 1] <= arr[i]);
    printf("sorted: %d %d %d\n", arr[0], arr[500], arr[999]);
    char *words[] = { "pear", "apple", "fig", "banana", "cherry", "date" };
    qsort(words, 6, sizeof(char *), cmp_str);
    for (int i = 0; i < 6; i++)
        printf("%s%s", words[i], i < 5 ? "," : "\n");

    /* malloc */
    void *ptrs[500];
    uint64_t sum = 0;
    for (int i = 0; i < 500; i++) {
        size_t sz = (size_t)(i * 37 % 300) * (i % 7 == 0 ? 4096 : 1) + 1;
        ptrs[i] = malloc(sz);
        CHECK(ptrs[i] != NULL);
        memset(ptrs[i], i & 0xff, sz);
        sum += sz;
    }
    for (int i = 0; i < 500; i += 2) {
        ptrs[i] = realloc(ptrs[i], 100000);
        CHECK(((unsigned char *)ptrs[i])[0] == (i & 0xff));
    }
    for (int i = 0; i < 500; i++)
        free(ptrs[i]);
    void *huge = malloc(64 << 20);   /* mmap-backed */
    CHECK(huge != NULL);
    memset(huge, 1, 64 << 20);
    free(huge);
    printf("malloc: %llu bytes\n", (unsigned long long)sum);

    /* files */
    char dir[] = "/tmp/vireo-libc-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/file.txt", dir);
    FILE *f = fopen(path, "w+");
    CHECK(f != NULL);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "line %d\n", i);
    fflush(f);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    printf("size %lld mode %o regular %d\n", (long long)st.st_size, st.st_mode & 0777, S_ISREG(st.st_mode));
    CHECK(fseek(f, 7 * 100, SEEK_SET) == 0);
    char line[64];
    CHECK(fgets(line, sizeof(line), f) != NULL);
    printf("at 700: %s", line);
    fclose(f);
    int fd = open(path, O_RDONLY);
    struct stat fst;
    CHECK(fstat(fd, &fst) == 0 && fst.st_size == st.st_size && fst.st_ino == st.st_ino);
    CHECK(lseek(fd, -8, SEEK_END) == st.st_size - 8);
    CHECK(read(fd, line, 8) == 8);
    close(fd);
    char path2[300];
    snprintf(path2, sizeof(path2), "%s/renamed", dir);
    CHECK(rename(path, path2) == 0);
    CHECK(access(path, F_OK) < 0 && errno == ENOENT);
    CHECK(open("/nonexistent/x", O_RDONLY) < 0 && errno == ENOENT);

    /* directories */
    for (int i = 0; i < 5; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s/sub%d", dir, i);
        CHECK(mkdir(p, 0755) == 0);
    }
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    char *names[16];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 16)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_str);
    printf("dir:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        char p[300];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        if (strncmp(names[i], "sub", 3) == 0)
            CHECK(rmdir(p) == 0);
        else
            CHECK(unlink(p) == 0);
        free(names[i]);
    }
    printf("\n");
    CHECK(rmdir(dir) == 0);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);

    /* time */
    struct timespec t0, t1;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0);
    volatile uint64_t spin = 0;
    for (int i = 0; i < 100000; i++)
        spin += i;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0);
    CHECK(t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec));
    time_t now = time(NULL);
    CHECK(now > 1600000000);
    time_t fixed = 1234567890;
    struct tm tm;
    gmtime_r(&fixed, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %A", &tm);
    printf("time: %s\n", buf);
    struct timespec req = { 0, 1000000 };
    CHECK(nanosleep(&req, NULL) == 0);

    /* /proc/self/maps as the guest sees it: the stack line holds a local's address,
     * and the text of main is in an executable mapping */
    FILE *mf = fopen("/proc/self/maps", "r");
    CHECK(mf != NULL);
    int stack_ok = 0, text_ok = 0;
    char ml[512];
    uintptr_t local = (uintptr_t)&n, text = (uintptr_t)&main;
    while (mf && fgets(ml, sizeof(ml), mf)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(ml, "%lx-%lx %7s", &lo, &hi, perms) != 3)
            continue;
        if (local >= lo && local < hi && strstr(ml, "[stack]"))
            stack_ok = 1;
        if (text >= lo && text < hi && perms[2] == 'x')
            text_ok = 1;
    }
    if (mf)
        fclose(mf);
    CHECK(stack_ok && text_ok);
    printf("maps: stack %d text %d\n", stack_ok, text_ok);
    pthread_attr_t pa;
    void *stk;
    size_t stksz;
    CHECK(pthread_getattr_np(pthread_self(), &pa) == 0);
    CHECK(pthread_attr_getstack(&pa, &stk, &stksz) == 0);
    CHECK((uintptr_t)stk < local && local < (uintptr_t)stk + stksz);

    struct utsname u;
    CHECK(uname(&u) == 0);
    printf("machine: %s\n", u.machine);
    setenv("VIREO_TEST_VAR", "value", 1);
    printf("env: %s\n", getenv("VIREO_TEST_VAR"));
    printf("libc: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
