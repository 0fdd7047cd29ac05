/* Fuzz target: the QMP byte stream (splitter, JSON parser, command dispatch) as a
 * client on the QMP socket would send it, against a VM stub; then the parser on
 * the whole input, with a writer round trip. */
#include "dm/json.h"
#include "dm/monitor.h"

#include <stdlib.h>
#include <string.h>

static enum vm_run_state st = VM_RUNNING;
static enum vm_run_state f_state(void *o) { return st; }
static int f_stop(void *o) { st = VM_PAUSED; return 0; }
static int f_cont(void *o) { st = VM_RUNNING; return 0; }
static int f_reset(void *o) { return 0; }
static void f_quit(void *o) { }
static int f_info(void *o, const char *item, FILE *f) { fputs("RIP=0\n", f); return 0; }
static const struct monitor_vm_ops ops = { f_state, f_stop, f_cont, f_reset, f_quit, f_info };
static void sink(void *opaque, const char *data, size_t len) { }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct monitor_hub hub;
    monitor_hub_init(&hub, &ops, NULL);
    struct monitor *q = monitor_new(&hub, MONITOR_QMP, sink, NULL);
    monitor_start(q);
    /* negotiated half of the time, so commands past the gate are reached too */
    if (size && (data[0] & 1))
        monitor_input(q, (const uint8_t *)"{\"execute\":\"qmp_capabilities\"}", 30);
    monitor_input(q, data, size);
    struct monitor *h = monitor_new(&hub, MONITOR_HMP, sink, NULL);
    monitor_input(h, data, size);
    monitor_hub_fini(&hub);

    struct json_value *v = json_parse((const char *)data, size, NULL);
    if (v) {
        struct json_buf b = { 0 };
        json_buf_value(&b, v);
        struct json_value *w = json_parse(b.data, b.len, NULL);
        if (!w)
            abort();        /* what the writer writes, the parser must read */
        json_free(w);
        json_buf_free(&b);
        json_free(v);
    }
    return 0;
}
