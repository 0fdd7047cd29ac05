/* The monitor: HMP (human monitor, one command per line) and QMP (QEMU Machine
 * Protocol: JSON over a chardev), with the command names and result shapes the
 * QEMU ecosystem uses.
 *
 * The device model knows no CPU, so whatever concerns the running VM (status,
 * stop/cont, reset, quit, registers) goes through monitor_vm_ops, which the
 * program (standalone/system) provides.  Everything here runs on the main loop
 * thread with the device lock held.
 *
 * A session is transport-free at its core (monitor_input() takes bytes, output
 * goes to a write callback) so tests and the fuzzer drive it directly;
 * monitor_attach_chardev() binds it to a chardev. */
#ifndef DM_MONITOR_H
#define DM_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dm/chardev.h"
#include "dm/json.h"
#include "dm/log.h"


/* Run states, named as QMP's query-status names them. */
enum vm_run_state {
    VM_RUNNING,
    VM_PAUSED,          /* "paused": stopped by stop / -S */
    VM_SHUTDOWN,        /* guest powered off or reset with -no-reboot */
    VM_INTERNAL_ERROR,  /* an executor could not go on */
};
const char *vm_run_state_name(enum vm_run_state s);

struct monitor_vm_ops {
    enum vm_run_state (*state)(void *opaque);
    int (*stop)(void *opaque);
    int (*cont)(void *opaque);
    int (*reset)(void *opaque);         /* system_reset */
    void (*quit)(void *opaque);         /* ends the program after the reply */
    /* HMP `info ITEM` for registers, qtree, mtree: prints to f, or returns -1 for
     * an item the program does not know. */
    int (*info)(void *opaque, const char *item, FILE *f);
};

/* Per-program monitor state: the VM hooks and every session (for events). */
struct monitor_hub {
    const struct monitor_vm_ops *ops;
    void *opaque;
    struct monitor *sessions;
};

void monitor_hub_init(struct monitor_hub *hub, const struct monitor_vm_ops *ops,
                      void *opaque);
/* Frees every session. */
void monitor_hub_fini(struct monitor_hub *hub);

/* Send event NAME (with data, a JSON object text or NULL for none) to every QMP
 * session past capabilities negotiation, stamped with the host's wall time. */
void monitor_event(struct monitor_hub *hub, const char *name, const char *data);

enum monitor_kind { MONITOR_HMP, MONITOR_QMP };

typedef void monitor_write_fn(void *opaque, const char *data, size_t len);

struct monitor *monitor_new(struct monitor_hub *hub, enum monitor_kind kind,
                            monitor_write_fn *write, void *opaque);
void monitor_free(struct monitor *m);
/* The peer connected: QMP sends its greeting (and forgets negotiation), HMP its
 * banner and prompt. */
void monitor_start(struct monitor *m);
/* Bytes from the peer. */
void monitor_input(struct monitor *m, const uint8_t *data, size_t len);

/* A session on chardev chr (which may be a mux: `mon:stdio`).  -errno with a
 * message if the chardev already has a front end. */
int monitor_attach_chardev(struct monitor_hub *hub, enum monitor_kind kind,
                           struct chardev *chr, struct dm_err *err);

/* ---- used by the two protocols (monitor.c, hmp.c, qmp.c) -------------------- */

#define HMP_LINE_MAX 1024

struct monitor {
    struct monitor_hub *hub;
    enum monitor_kind kind;
    monitor_write_fn *write;
    void *opaque;
    struct monitor *next;
    struct chardev_fe fe;               /* when attached to a chardev */
    void (*cleanup)(struct monitor *m); /* transport's part of monitor_free */
    bool started;                       /* greeting or banner sent */
    bool attaching;                     /* inside monitor_attach_chardev */
    /* HMP: the line being typed */
    char line[HMP_LINE_MAX];
    size_t line_len;
    bool line_overflow;
    /* QMP */
    struct json_splitter splitter;
    bool negotiated;                    /* qmp_capabilities done */
};

void monitor_printf(struct monitor *m, const char *fmt, ...) DM_PRINTF(2, 3);
void monitor_puts(struct monitor *m, const char *s, size_t len);

void hmp_start(struct monitor *m);
void hmp_input(struct monitor *m, const uint8_t *data, size_t len);
/* Runs one HMP command line; output through monitor_printf. */
void hmp_execute(struct monitor *m, const char *line);

void qmp_start(struct monitor *m);
void qmp_input(struct monitor *m, const uint8_t *data, size_t len);
/* Handles one QMP message text; the reply (and nothing else) goes to m. */
void qmp_execute(struct monitor *m, const char *text, size_t len);

#endif
