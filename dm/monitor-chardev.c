/* A monitor session on a chardev (-monitor, -qmp, mon:stdio).  Kept apart from
 * monitor.c so that the protocol core links without the chardev layer. */
#include "dm/monitor.h"

/* ---- chardev binding -------------------------------------------------------- */

static void chr_write(void *opaque, const char *data, size_t len)
{
    struct monitor *m = opaque;
    chardev_fe_write(&m->fe, data, len);
}

static size_t chr_can_receive(void *opaque)
{
    return 4096;
}

static void chr_receive(void *opaque, const uint8_t *buf, size_t len)
{
    monitor_input(opaque, buf, len);
}

static void chr_event(void *opaque, enum chardev_event ev)
{
    struct monitor *m = opaque;
    switch (ev) {
    case CHARDEV_OPENED:
        /* On a shared terminal (mux) the monitor speaks only once it has the
         * focus (Ctrl-A c); elsewhere as soon as the peer is there. */
        if (!chardev_is_mux(m->fe.chr)) {
            monitor_start(m);
            m->started = true;
        }
        break;
    case CHARDEV_MUX_IN:
        /* the focus a mux gives its newest front end while it attaches is not a
         * user's Ctrl-A c: the serial port attached after us takes it back */
        if (m->attaching)
            break;
        if (!m->started) {
            monitor_start(m);
            m->started = true;
        } else if (m->kind == MONITOR_HMP) {
            monitor_puts(m, "\r\n(vireo) ", 10);
        }
        break;
    case CHARDEV_CLOSED:
        m->started = false;
        m->negotiated = false;
        json_splitter_reset(&m->splitter);
        m->line_len = 0;
        break;
    default:
        break;
    }
}

static void chr_cleanup(struct monitor *m)
{
    if (m->fe.chr)
        chardev_fe_detach(&m->fe);
}

int monitor_attach_chardev(struct monitor_hub *hub, enum monitor_kind kind,
                           struct chardev *chr, struct dm_err *err)
{
    struct monitor *m = monitor_new(hub, kind, chr_write, NULL);
    m->opaque = m;
    m->cleanup = chr_cleanup;
    m->attaching = true;
    int r = chardev_fe_attach(&m->fe, chr, chr_can_receive, chr_receive, chr_event, m);
    m->attaching = false;
    if (r < 0) {
        dm_err_set(err, "monitor: chardev '%s' is already in use", chardev_id(chr));
        m->fe.chr = NULL;
        monitor_free(m);
        return r;
    }
    /* The greeting or banner goes out on CHARDEV_OPENED: at once for a backend
     * that is open from the start (stdio, file), when a client connects for a
     * socket server. */
    return 0;
}
