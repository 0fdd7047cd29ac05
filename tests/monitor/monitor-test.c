/* Unit tests of the JSON parser/writer and of the QMP and HMP sessions, driven
 * directly (no chardev) against a fake VM whose calls are recorded. */
#include "dm/json.h"
#include "dm/monitor.h"
#include "tests/lib/cunit-run.h"

#include <stdlib.h>
#include <string.h>

/* ---- JSON ------------------------------------------------------------------- */

static struct json_value *parse(const char *s)
{
    return json_parse(s, strlen(s), NULL);
}

static void test_json_values(void)
{
    struct json_value *v = parse(" {\"a\": [1, -2, 3.5e1, true, false, null],"
                                 " \"b\": \"x\\u00e9\\ud83d\\ude00\\n\", \"a\": 7} ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->type, JSON_OBJECT);
    CU_ASSERT_EQUAL(v->n, 3);
    const struct json_value *a = v->items[0];
    CU_ASSERT_EQUAL(a->type, JSON_ARRAY);
    CU_ASSERT_EQUAL(a->n, 6);
    CU_ASSERT_EQUAL(a->items[1]->i, -2);
    CU_ASSERT_EQUAL(a->items[2]->type, JSON_DOUBLE);
    CU_ASSERT_DOUBLE_EQUAL(a->items[2]->d, 35.0, 1e-9);
    CU_ASSERT(a->items[3]->b && !a->items[4]->b);
    CU_ASSERT_EQUAL(a->items[5]->type, JSON_NULL);
    /* U+00E9 and U+1F600 in UTF-8 */
    CU_ASSERT_STRING_EQUAL(json_get_string(v, "b"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
    CU_ASSERT_EQUAL(json_get(v, "a")->i, 7);          /* the last duplicate wins */
    struct json_buf b = { 0 };
    json_buf_value(&b, v);
    struct json_value *again = json_parse(b.data, b.len, NULL);
    CU_ASSERT_PTR_NOT_NULL(again);
    struct json_buf b2 = { 0 };
    if (again)
        json_buf_value(&b2, again);
    CU_ASSERT_STRING_EQUAL(b.data, b2.data ? b2.data : "");
    json_free(again);
    json_free(v);
    json_buf_free(&b);
    json_buf_free(&b2);
}

static void test_json_errors(void)
{
    static const char *bad[] = {
        "", "{", "[1,]", "{\"a\" 1}", "{a: 1}", "01", "1.", "-", "\"abc", "\"\\x\"",
        "\"\\ud800\"", "\"\\u0000\"", "tru", "[1] x", "\"a\nb\"", "{\"a\":1,}", "1e",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dm_err err = { { 0 } };
        struct json_value *v = json_parse(bad[i], strlen(bad[i]), &err);
        CU_ASSERT_PTR_NULL(v);
        CU_ASSERT(strstr(err.msg, "JSON parse error") != NULL);
        json_free(v);
    }
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    CU_ASSERT_PTR_NULL(json_parse(deep, 200, NULL));
    struct json_value *ok = json_parse(deep + 40, 120, NULL);     /* depth 60 */
    CU_ASSERT_PTR_NOT_NULL(ok);
    json_free(ok);
}

static int pieces;
static char last_piece[256];
static void piece(void *opaque, const char *text, size_t len, const char *err)
{
    pieces++;
    snprintf(last_piece, sizeof(last_piece), "%.*s", (int)len, text ? text : err);
}

static void test_json_splitter(void)
{
    struct json_splitter s;
    json_splitter_init(&s, piece, NULL);
    pieces = 0;
    const char *in = "  {\"a\": \"}{\\\"\"} [1,[2]]\n{\"b\":";
    json_splitter_feed(&s, (const uint8_t *)in, strlen(in));
    CU_ASSERT_EQUAL(pieces, 2);
    CU_ASSERT_STRING_EQUAL(last_piece, "[1,[2]]");
    json_splitter_feed(&s, (const uint8_t *)"2}", 2);
    CU_ASSERT_EQUAL(pieces, 3);
    CU_ASSERT_STRING_EQUAL(last_piece, "{\"b\":2}");
    json_splitter_feed(&s, (const uint8_t *)"garbage\n", 8);
    CU_ASSERT_EQUAL(pieces, 4);
    CU_ASSERT_STRING_EQUAL(last_piece, "garbage");
    json_splitter_free(&s);
}

/* ---- a fake VM -------------------------------------------------------------- */

static enum vm_run_state state;
static int resets, quits;
static struct json_buf out;

static enum vm_run_state fake_state(void *o) { return state; }
static int fake_stop(void *o) { state = VM_PAUSED; return 0; }
static int fake_cont(void *o)
{
    if (state == VM_SHUTDOWN)
        return -1;
    state = VM_RUNNING;
    return 0;
}
static int fake_reset(void *o) { resets++; return 0; }
static void fake_quit(void *o) { quits++; }
static int fake_info(void *o, const char *item, FILE *f)
{
    if (strcmp(item, "registers"))
        return -1;
    fprintf(f, "RAX=0000000000000001\nRIP=fff0\n");
    return 0;
}

static const struct monitor_vm_ops fake_ops = {
    fake_state, fake_stop, fake_cont, fake_reset, fake_quit, fake_info,
};

static void collect(void *opaque, const char *data, size_t len)
{
    json_buf_append(&out, data, len);
}

static struct monitor_hub hub;

static struct monitor *session(enum monitor_kind kind)
{
    state = VM_RUNNING;
    resets = quits = 0;
    json_buf_reset(&out);
    monitor_hub_init(&hub, &fake_ops, NULL);
    struct monitor *m = monitor_new(&hub, kind, collect, NULL);
    monitor_start(m);
    return m;
}

/* Sends text and returns the parsed first reply line after what was there. */
static struct json_value *qmp(struct monitor *m, const char *text)
{
    json_buf_reset(&out);
    monitor_input(m, (const uint8_t *)text, strlen(text));
    char *nl = out.data ? strstr(out.data, "\r\n") : NULL;
    return nl ? json_parse(out.data, nl - out.data, NULL) : NULL;
}

static const char *error_class(const struct json_value *r)
{
    return json_get_string(json_get(r, "error"), "class");
}

static void test_qmp_negotiation(void)
{
    struct monitor *m = session(MONITOR_QMP);
    struct json_value *g = json_parse(out.data, strlen(out.data) - 2, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    const struct json_value *ver = json_get(json_get(json_get(g, "QMP"), "version"), "qemu");
    CU_ASSERT_PTR_NOT_NULL(json_get(ver, "major"));
    CU_ASSERT_EQUAL(json_get(json_get(g, "QMP"), "capabilities")->type, JSON_ARRAY);
    json_free(g);

    struct json_value *r = qmp(m, "{\"execute\": \"query-status\"}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "CommandNotFound");
    json_free(r);
    r = qmp(m, "{\"execute\": \"qmp_capabilities\", \"id\": \"a1\"}");
    CU_ASSERT_EQUAL(json_get(r, "return")->type, JSON_OBJECT);
    CU_ASSERT_STRING_EQUAL(json_get_string(r, "id"), "a1");
    json_free(r);
    r = qmp(m, "{\"execute\": \"qmp_capabilities\"}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "GenericError");
    json_free(r);
    monitor_hub_fini(&hub);
}

static void test_qmp_commands(void)
{
    struct monitor *m = session(MONITOR_QMP);
    json_free(qmp(m, "{\"execute\": \"qmp_capabilities\"}"));
    struct json_value *r = qmp(m, "{\"execute\":\"query-status\",\"id\":7}");
    const struct json_value *ret = json_get(r, "return");
    CU_ASSERT_STRING_EQUAL(json_get_string(ret, "status"), "running");
    CU_ASSERT_TRUE(json_get(ret, "running")->b);
    CU_ASSERT_EQUAL(json_get(r, "id")->i, 7);
    json_free(r);
    r = qmp(m, "{\"execute\":\"stop\"}");
    CU_ASSERT_PTR_NOT_NULL(json_get(r, "return"));
    CU_ASSERT_EQUAL(state, VM_PAUSED);
    json_free(r);
    r = qmp(m, "{\"execute\":\"query-status\"}");
    CU_ASSERT_STRING_EQUAL(json_get_string(json_get(r, "return"), "status"), "paused");
    CU_ASSERT_FALSE(json_get(json_get(r, "return"), "running")->b);
    json_free(r);
    json_free(qmp(m, "{\"execute\":\"cont\"}"));
    CU_ASSERT_EQUAL(state, VM_RUNNING);
    json_free(qmp(m, "{\"execute\":\"system_reset\"}"));
    CU_ASSERT_EQUAL(resets, 1);
    state = VM_SHUTDOWN;
    r = qmp(m, "{\"execute\":\"cont\"}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "GenericError");
    json_free(r);
    r = qmp(m, "{\"execute\":\"no-such-thing\"}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "CommandNotFound");
    json_free(r);
    r = qmp(m, "{\"execute\":\"stop\", \"arguments\": {\"x\": 1}}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "GenericError");
    json_free(r);
    r = qmp(m, "{\"execute\": 5}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "GenericError");
    json_free(r);
    r = qmp(m, "[1, 2]");
    CU_ASSERT_STRING_EQUAL(error_class(r), "GenericError");
    json_free(r);
    r = qmp(m, "{\"execute\": \"stop\" oops}");
    CU_ASSERT_STRING_EQUAL(error_class(r), "GenericError");
    json_free(r);
    /* the session survives all of that */
    r = qmp(m, "{\"execute\":\"quit\"}");
    CU_ASSERT_PTR_NOT_NULL(json_get(r, "return"));
    CU_ASSERT_EQUAL(quits, 1);
    json_free(r);
    monitor_hub_fini(&hub);
}

static void test_qmp_events(void)
{
    struct monitor *m = session(MONITOR_QMP);
    json_buf_reset(&out);
    monitor_event(&hub, "STOP", NULL);
    CU_ASSERT_EQUAL(out.len, 0);                /* not before negotiation */
    json_free(qmp(m, "{\"execute\": \"qmp_capabilities\"}"));
    json_buf_reset(&out);
    monitor_event(&hub, "RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
    struct json_value *e = json_parse(out.data, out.len, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(json_get_string(e, "event"), "RESET");
    CU_ASSERT_FALSE(json_get(json_get(e, "data"), "guest")->b);
    const struct json_value *ts = json_get(e, "timestamp");
    CU_ASSERT(json_get(ts, "seconds")->i > 1600000000);
    CU_ASSERT(json_get(ts, "microseconds")->i < 1000000);
    json_free(e);
    monitor_hub_fini(&hub);
}

static void hmp(struct monitor *m, const char *line)
{
    json_buf_reset(&out);
    monitor_input(m, (const uint8_t *)line, strlen(line));
}

static void test_hmp(void)
{
    struct monitor *m = session(MONITOR_HMP);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "(vireo) "));
    hmp(m, "info status\r");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "VM status: running"));
    hmp(m, "stop\n");
    CU_ASSERT_EQUAL(state, VM_PAUSED);
    hmp(m, "info status\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "VM status: paused"));
    hmp(m, "cont\n");
    CU_ASSERT_EQUAL(state, VM_RUNNING);
    hmp(m, "system_reset\n");
    CU_ASSERT_EQUAL(resets, 1);
    hmp(m, "info registers\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "RAX=0000000000000001\r\nRIP=fff0\r\n"));
    hmp(m, "info nothing\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "unknown item"));
    hmp(m, "frobnicate\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "unknown command"));
    hmp(m, "stopx\x7f\n");                     /* backspace edits the line */
    CU_ASSERT_EQUAL(state, VM_PAUSED);
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    hmp(m, big);
    hmp(m, "\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "line too long"));
    hmp(m, "quit\n");
    CU_ASSERT_EQUAL(quits, 1);
    monitor_hub_fini(&hub);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("json", NULL, NULL);
    CU_add_test(s, "values", test_json_values);
    CU_add_test(s, "errors", test_json_errors);
    CU_add_test(s, "splitter", test_json_splitter);
    s = CU_add_suite("monitor", NULL, NULL);
    CU_add_test(s, "qmp_negotiation", test_qmp_negotiation);
    CU_add_test(s, "qmp_commands", test_qmp_commands);
    CU_add_test(s, "qmp_events", test_qmp_events);
    CU_add_test(s, "hmp", test_hmp);
    int r = cunit_run_all();
    json_buf_free(&out);
    return r;
}
