/* A stand-in for libFuzzer's driver, so every fuzz target also runs in the
 * ordinary gcc (and sanitizer) build of `make check`.
 *
 *   fuzz-target [-runs=N] [-seed=S] [-max_len=L] [CORPUS_DIR_OR_FILE...]
 *
 * Each corpus file is run once, then N inputs of pseudo-random bytes and lengths
 * (a fixed seed, so a failure repeats).  Half of the random inputs are mutations
 * of a corpus file, which keeps them near the format the target parses. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: small and good enough to scatter bytes */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

struct seed { uint8_t *data; size_t size; };
static struct seed *seeds;
static size_t nseeds;

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64 << 20)) {
        uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
        size_t got = fread(buf, 1, st.st_size, f);
        seeds = realloc(seeds, (nseeds + 1) * sizeof(*seeds));
        seeds[nseeds++] = (struct seed){ buf, got };
    }
    fclose(f);
}

static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
        add_file(buf);
    }
    closedir(d);
}

/* The input being run, written to ./crash-input when the target crashes or
 * aborts, so that it can be run again alone (as libFuzzer's crash-* files). */
static const uint8_t *current;
static size_t current_len;

static void save_crash(int sig)
{
    static const char msg[] = "fuzz driver: the input is in ./crash-input\n";
    int fd = open("crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0 && write(fd, current, current_len) == (ssize_t)current_len
        && write(2, msg, sizeof(msg) - 1) > 0)
        close(fd);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void run_one(const uint8_t *data, size_t len)
{
    current = data;
    current_len = len;
    LLVMFuzzerTestOneInput(data, len);
}

int main(int argc, char **argv)
{
    signal(SIGABRT, save_crash);
    signal(SIGSEGV, save_crash);
    long runs = 1000;
    size_t max_len = 4096;
    rng_state = 1;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "-runs=", 6))
            runs = atol(argv[i] + 6);
        else if (!strncmp(argv[i], "-seed=", 6))
            rng_state = strtoull(argv[i] + 6, NULL, 0) * 0x9E3779B97F4A7C15ULL + 1;
        else if (!strncmp(argv[i], "-max_len=", 9))
            max_len = strtoul(argv[i] + 9, NULL, 0);
        else if (argv[i][0] != '-')
            add_path(argv[i]);
    }
    for (size_t i = 0; i < nseeds; i++)
        run_one(seeds[i].data, seeds[i].size);

    uint8_t *buf = malloc(max_len ? max_len : 1);
    for (long r = 0; r < runs; r++) {
        size_t len;
        if (nseeds && (rng() & 1)) {
            struct seed *s = &seeds[rng() % nseeds];
            len = s->size < max_len ? s->size : max_len;
            memcpy(buf, s->data, len);
            for (int m = 1 + rng() % 8; m > 0 && len; m--)
                buf[rng() % len] = (uint8_t)rng();
        } else {
            len = max_len ? rng() % (max_len + 1) : 0;
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)rng();
        }
        run_one(buf, len);
    }
    printf("fuzz driver: %zu corpus inputs and %ld random inputs ran without a crash\n", nseeds, runs);
    free(buf);
    return 0;
}
