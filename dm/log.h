/* Logging: user-facing errors, rate-limited guest errors, debug log masks.
 *
 * dm_error() is for the person at the terminal (bad option, missing file): one
 * line "vireo: ..." on stderr.  dm_guest_error() is for things a guest did wrong
 * (bad register, DMA out of range); a hostile guest can trigger it in a loop, so
 * each call site is rate-limited.  dm_log(mask, ...) is debug output enabled with
 * `-d` masks (dm_log_parse_mask). */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DM_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Error message holder for functions that parse user input.  Functions take a
 * `struct dm_err *` (may be NULL) and return a negative errno on failure after
 * filling msg with one human-readable sentence that names the culprit. */
struct dm_err {
    char msg[256];
};
void dm_err_set(struct dm_err *err, const char *fmt, ...) DM_PRINTF(2, 3);

/* "vireo: <message>\n" on stderr.  dm_warn adds "warning: ". */
void dm_error(const char *fmt, ...) DM_PRINTF(1, 2);
void dm_warn(const char *fmt, ...) DM_PRINTF(1, 2);

/* Debug masks for `-d LIST`. */
enum {
    DM_LOG_GUEST_ERROR = 1u << 0, /* "guest_errors": also un-rate-limits guest errors */
    DM_LOG_UNIMP       = 1u << 1, /* "unimp": guest used an unimplemented feature */
    DM_LOG_IO          = 1u << 2, /* "io": every io_read/io_write (slow) */
    DM_LOG_PCI         = 1u << 3, /* "pci": config space, BAR mapping */
    DM_LOG_IRQ         = 1u << 4, /* "irq": IRQ line changes */
    DM_LOG_CHARDEV     = 1u << 5, /* "chardev" */
    DM_LOG_TIMER       = 1u << 6, /* "timer" */
    DM_LOG_MEMORY      = 1u << 7, /* "memory": flat view rebuilds */
};
extern unsigned dm_log_mask;

/* Parse "guest_errors,unimp" or "help" into *mask; -EINVAL with err on an unknown name. */
int dm_log_parse_mask(const char *list, unsigned *mask, struct dm_err *err);
/* Print the mask names and what they log. */
void dm_log_list_masks(FILE *f);
/* Where log output goes (default stderr). */
void dm_log_set_file(FILE *f);

void dm_log_printf(const char *fmt, ...) DM_PRINTF(1, 2);
#define dm_log(mask, ...) \
    do { if (dm_log_mask & (mask)) dm_log_printf(__VA_ARGS__); } while (0)

/* Per-call-site rate limit: at most DM_RATELIMIT_BURST messages per
 * DM_RATELIMIT_INTERVAL_NS, then one "N messages suppressed" note. */
#define DM_RATELIMIT_BURST 10
#define DM_RATELIMIT_INTERVAL_NS 5000000000LL
struct dm_ratelimit {
    int64_t window_start;
    unsigned printed;
    unsigned suppressed;
};
/* True if a message may be printed now; updates rl. */
bool dm_ratelimit_ok(struct dm_ratelimit *rl);

void dm_guest_error_at(struct dm_ratelimit *rl, const char *fmt, ...) DM_PRINTF(2, 3);
/* Log a guest error ("guest error: ..."), rate-limited per call site. */
#define dm_guest_error(...) \
    do { static struct dm_ratelimit dm_rl_; dm_guest_error_at(&dm_rl_, __VA_ARGS__); } while (0)

/* How many guest errors were reported in this process (printed or not); tests
 * use it to check that a hostile access was noticed. */
unsigned long dm_guest_error_count(void);

#endif
