/* QMP, the QEMU Machine Protocol (QEMU's docs/interop/qmp-spec.rst): a greeting,
 * capabilities negotiation, then one JSON object per command:
 *   -> {"execute": "query-status", "id": 1}
 *   <- {"return": {"status": "running", "singlestep": false, "running": true}, "id": 1}
 * Errors: {"error": {"class": "GenericError", "desc": "..."}}.  Input is untrusted;
 * a malformed message gets an error reply and the session goes on. */
#include "dm/monitor.h"

#include <string.h>

/* The version a client sees in the greeting: Vireo's own, in QEMU's shape. */
#define VIREO_MAJOR 0
#define VIREO_MINOR 1
#define VIREO_MICRO 0

static void reply_error(struct monitor *m, const struct json_value *id,
                        const char *cls, const char *desc)
{
    struct json_buf b = { 0 };
    json_buf_printf(&b, "{\"error\": {\"class\": \"%s\", \"desc\": ", cls);
    json_buf_string(&b, desc);
    json_buf_append(&b, "}", 1);
    if (id) {
        json_buf_append(&b, ", \"id\": ", 8);
        json_buf_value(&b, id);
    }
    json_buf_append(&b, "}\r\n", 3);
    monitor_puts(m, b.data, b.len);
    json_buf_free(&b);
}

/* ret is the text of the "return" value. */
static void reply_return(struct monitor *m, const struct json_value *id, const char *ret)
{
    struct json_buf b = { 0 };
    json_buf_printf(&b, "{\"return\": %s", ret);
    if (id) {
        json_buf_append(&b, ", \"id\": ", 8);
        json_buf_value(&b, id);
    }
    json_buf_append(&b, "}\r\n", 3);
    monitor_puts(m, b.data, b.len);
    json_buf_free(&b);
}

void qmp_start(struct monitor *m)
{
    m->negotiated = false;
    json_splitter_reset(&m->splitter);
    monitor_printf(m, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": %d, \"minor\": %d, "
                   "\"major\": %d}, \"package\": \"vireo\"}, \"capabilities\": []}}\r\n",
                   VIREO_MICRO, VIREO_MINOR, VIREO_MAJOR);
}

typedef int qmp_cmd_fn(struct monitor *m, const struct json_value *args,
                       struct json_buf *ret, struct dm_err *err);

static int cmd_qmp_capabilities(struct monitor *m, const struct json_value *args,
                                struct json_buf *ret, struct dm_err *err)
{
    if (m->negotiated) {
        dm_err_set(err, "Capabilities negotiation is already complete, command ignored");
        return -1;
    }
    const struct json_value *enable = json_get(args, "enable");
    if (enable && (enable->type != JSON_ARRAY || enable->n > 0)) {
        dm_err_set(err, "Parameter 'enable' names a capability this server does not have");
        return -1;
    }
    m->negotiated = true;
    return 0;
}

static int cmd_query_status(struct monitor *m, const struct json_value *args,
                            struct json_buf *ret, struct dm_err *err)
{
    const struct monitor_hub *hub = m->hub;
    enum vm_run_state s = hub->ops->state(hub->opaque);
    json_buf_reset(ret);
    json_buf_printf(ret, "{\"status\": \"%s\", \"singlestep\": false, \"running\": %s}",
                    vm_run_state_name(s), s == VM_RUNNING ? "true" : "false");
    return 0;
}

static int vm_call(struct monitor *m, int (*fn)(void *), const char *what,
                   struct dm_err *err)
{
    if (fn(m->hub->opaque) < 0) {
        dm_err_set(err, "%s failed in the current VM state (%s)", what,
                   vm_run_state_name(m->hub->ops->state(m->hub->opaque)));
        return -1;
    }
    return 0;
}

static int cmd_stop(struct monitor *m, const struct json_value *args,
                    struct json_buf *ret, struct dm_err *err)
{
    return vm_call(m, m->hub->ops->stop, "stop", err);
}

static int cmd_cont(struct monitor *m, const struct json_value *args,
                    struct json_buf *ret, struct dm_err *err)
{
    return vm_call(m, m->hub->ops->cont, "cont", err);
}

static int cmd_system_reset(struct monitor *m, const struct json_value *args,
                            struct json_buf *ret, struct dm_err *err)
{
    return vm_call(m, m->hub->ops->reset, "system_reset", err);
}

static int cmd_quit(struct monitor *m, const struct json_value *args,
                    struct json_buf *ret, struct dm_err *err)
{
    return 0;       /* the program ends after the reply is out (qmp_execute) */
}

static int cmd_query_commands(struct monitor *m, const struct json_value *args,
                              struct json_buf *ret, struct dm_err *err);

static const struct qmp_cmd {
    const char *name;
    qmp_cmd_fn *fn;
} qmp_cmds[] = {
    { "qmp_capabilities", cmd_qmp_capabilities },
    { "query-status", cmd_query_status },
    { "query-commands", cmd_query_commands },
    { "stop", cmd_stop },
    { "cont", cmd_cont },
    { "system_reset", cmd_system_reset },
    { "quit", cmd_quit },
};

static int cmd_query_commands(struct monitor *m, const struct json_value *args,
                              struct json_buf *ret, struct dm_err *err)
{
    json_buf_reset(ret);
    json_buf_append(ret, "[", 1);
    for (size_t i = 0; i < sizeof(qmp_cmds) / sizeof(qmp_cmds[0]); i++)
        json_buf_printf(ret, "%s{\"name\": \"%s\"}", i ? ", " : "", qmp_cmds[i].name);
    json_buf_append(ret, "]", 1);
    return 0;
}

void qmp_execute(struct monitor *m, const char *text, size_t len)
{
    struct dm_err err = { { 0 } };
    struct json_value *req = json_parse(text, len, &err);
    if (!req) {
        reply_error(m, NULL, "GenericError", err.msg);
        return;
    }
    const struct json_value *id = json_get(req, "id");
    if (req->type != JSON_OBJECT) {
        reply_error(m, NULL, "GenericError", "QMP input must be a JSON object");
        goto out;
    }
    const struct json_value *exec = json_get(req, "execute");
    if (!exec || exec->type != JSON_STRING) {
        reply_error(m, id, "GenericError",
                    "QMP input lacks member 'execute' (a string naming the command)");
        goto out;
    }
    for (size_t i = 0; i < req->n; i++) {
        const char *k = req->keys[i];
        if (strcmp(k, "execute") && strcmp(k, "arguments") && strcmp(k, "id")) {
            char msg[160];
            snprintf(msg, sizeof(msg), "QMP input member '%.64s' is unexpected", k);
            reply_error(m, id, "GenericError", msg);
            goto out;
        }
    }
    const struct json_value *args = json_get(req, "arguments");
    if (args && args->type != JSON_OBJECT) {
        reply_error(m, id, "GenericError", "QMP input member 'arguments' must be an object");
        goto out;
    }
    const struct qmp_cmd *cmd = NULL;
    for (size_t i = 0; i < sizeof(qmp_cmds) / sizeof(qmp_cmds[0]); i++)
        if (strcmp(qmp_cmds[i].name, exec->s) == 0)
            cmd = &qmp_cmds[i];
    if (!m->negotiated && (!cmd || cmd->fn != cmd_qmp_capabilities)) {
        reply_error(m, id, "CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        goto out;
    }
    if (!cmd) {
        char msg[160];
        snprintf(msg, sizeof(msg), "The command %.64s has not been found", exec->s);
        reply_error(m, id, "CommandNotFound", msg);
        goto out;
    }
    /* these commands take no arguments */
    if (args && args->n && cmd->fn != cmd_qmp_capabilities) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Parameter '%.64s' is unexpected", args->keys[0]);
        reply_error(m, id, "GenericError", msg);
        goto out;
    }
    struct json_buf ret = { 0 };
    json_buf_append(&ret, "{}", 2);
    if (cmd->fn(m, args, &ret, &err) < 0)
        reply_error(m, id, "GenericError", err.msg);
    else
        reply_return(m, id, ret.data);
    json_buf_free(&ret);
    if (cmd->fn == cmd_quit)
        m->hub->ops->quit(m->hub->opaque);
out:
    json_free(req);
}

static void splitter_out(void *opaque, const char *text, size_t len, const char *err)
{
    struct monitor *m = opaque;
    if (!text)
        reply_error(m, NULL, "GenericError", err);
    else
        qmp_execute(m, text, len);
}

void qmp_input(struct monitor *m, const uint8_t *data, size_t len)
{
    if (!m->splitter.out)
        json_splitter_init(&m->splitter, splitter_out, m);
    json_splitter_feed(&m->splitter, data, len);
}
