/* Logging: see dm/log.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dm/log.h"

unsigned dm_log_mask;

static FILE *log_file;
static atomic_ulong guest_error_count;

void dm_err_set(struct dm_err *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];

    vsnprintf(line, sizeof(line), fmt, ap);
    fprintf(stderr, "vireo: %s%s\n", prefix, line);
}

void dm_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void dm_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

static const struct {
    const char *name;
    unsigned bit;
    const char *help;
} mask_names[] = {
    { "guest_errors", DM_LOG_GUEST_ERROR, "every guest error, without rate limit" },
    { "unimp", DM_LOG_UNIMP, "guest use of unimplemented features" },
    { "io", DM_LOG_IO, "every io_read/io_write" },
    { "pci", DM_LOG_PCI, "PCI configuration and BAR mapping" },
    { "irq", DM_LOG_IRQ, "IRQ line changes" },
    { "chardev", DM_LOG_CHARDEV, "character device events" },
    { "timer", DM_LOG_TIMER, "timer arming and firing" },
    { "memory", DM_LOG_MEMORY, "address space flat view rebuilds" },
};

int dm_log_parse_mask(const char *list, unsigned *mask, struct dm_err *err)
{
    unsigned m = 0;
    const char *p = list;

    while (*p) {
        size_t n = strcspn(p, ",");
        size_t i;

        for (i = 0; i < sizeof(mask_names) / sizeof(mask_names[0]); i++) {
            if (strlen(mask_names[i].name) == n && !strncmp(p, mask_names[i].name, n))
                break;
        }
        if (i == sizeof(mask_names) / sizeof(mask_names[0])) {
            dm_err_set(err, "-d: unknown log item '%.*s' (try -d help)", (int)n, p);
            return -EINVAL;
        }
        m |= mask_names[i].bit;
        p += n;
        if (*p == ',')
            p++;
    }
    *mask = m;
    return 0;
}

void dm_log_list_masks(FILE *f)
{
    for (size_t i = 0; i < sizeof(mask_names) / sizeof(mask_names[0]); i++)
        fprintf(f, "%-14s %s\n", mask_names[i].name, mask_names[i].help);
}

void dm_log_set_file(FILE *f)
{
    log_file = f;
}

void dm_log_printf(const char *fmt, ...)
{
    va_list ap;
    FILE *f = log_file ? log_file : stderr;

    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool dm_ratelimit_ok(struct dm_ratelimit *rl)
{
    int64_t now = now_ns();

    if (rl->window_start == 0 || now - rl->window_start >= DM_RATELIMIT_INTERVAL_NS) {
        if (rl->suppressed) {
            FILE *f = log_file ? log_file : stderr;
            fprintf(f, "vireo: guest error: (%u similar messages suppressed)\n", rl->suppressed);
        }
        rl->window_start = now;
        rl->printed = 0;
        rl->suppressed = 0;
    }
    if (rl->printed < DM_RATELIMIT_BURST) {
        rl->printed++;
        return true;
    }
    rl->suppressed++;
    return false;
}

void dm_guest_error_at(struct dm_ratelimit *rl, const char *fmt, ...)
{
    va_list ap;
    FILE *f = log_file ? log_file : stderr;
    char line[512];

    atomic_fetch_add(&guest_error_count, 1);
    if (!(dm_log_mask & DM_LOG_GUEST_ERROR) && !dm_ratelimit_ok(rl))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(f, "vireo: guest error: %s\n", line);
}

unsigned long dm_guest_error_count(void)
{
    return atomic_load(&guest_error_count);
}
