/* Monitor sessions and the hub that sends events to them.  See monitor.h. */
#include "dm/monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

const char *vm_run_state_name(enum vm_run_state s)
{
    switch (s) {
    case VM_RUNNING: return "running";
    case VM_PAUSED: return "paused";
    case VM_SHUTDOWN: return "shutdown";
    case VM_INTERNAL_ERROR: return "internal-error";
    }
    return "unknown";
}

void monitor_hub_init(struct monitor_hub *hub, const struct monitor_vm_ops *ops,
                      void *opaque)
{
    *hub = (struct monitor_hub){ .ops = ops, .opaque = opaque };
}

void monitor_hub_fini(struct monitor_hub *hub)
{
    while (hub->sessions)
        monitor_free(hub->sessions);
}

struct monitor *monitor_new(struct monitor_hub *hub, enum monitor_kind kind,
                            monitor_write_fn *write, void *opaque)
{
    struct monitor *m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->hub = hub;
    m->kind = kind;
    m->write = write;
    m->opaque = opaque;
    m->next = hub->sessions;
    hub->sessions = m;
    return m;
}

void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    for (struct monitor **p = &m->hub->sessions; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    if (m->cleanup)
        m->cleanup(m);
    json_splitter_free(&m->splitter);
    free(m);
}

void monitor_puts(struct monitor *m, const char *s, size_t len)
{
    if (m->write && len)
        m->write(m->opaque, s, len);
}

void monitor_printf(struct monitor *m, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        monitor_puts(m, small, n);
        return;
    }
    char *big = malloc(n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, n + 1, fmt, ap);
    va_end(ap);
    monitor_puts(m, big, n);
    free(big);
}

void monitor_start(struct monitor *m)
{
    if (m->kind == MONITOR_QMP)
        qmp_start(m);
    else
        hmp_start(m);
}

void monitor_input(struct monitor *m, const uint8_t *data, size_t len)
{
    if (m->kind == MONITOR_QMP)
        qmp_input(m, data, len);
    else
        hmp_input(m, data, len);
}

/* QMP events (QEMU's docs/interop/qmp-spec: "Asynchronous events"):
 * {"event": NAME, "data": {...}, "timestamp": {"seconds": S, "microseconds": U}} */
void monitor_event(struct monitor_hub *hub, const char *name, const char *data)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct json_buf b = { 0 };
    json_buf_append(&b, "{\"event\": ", 10);
    json_buf_string(&b, name);
    if (data)
        json_buf_printf(&b, ", \"data\": %s", data);
    json_buf_printf(&b, ", \"timestamp\": {\"seconds\": %lld, \"microseconds\": %ld}}\r\n",
                    (long long)tv.tv_sec, (long)tv.tv_usec);
    for (struct monitor *m = hub->sessions; m; m = m->next)
        if (m->kind == MONITOR_QMP && m->negotiated)
            monitor_puts(m, b.data, b.len);
    json_buf_free(&b);
}

