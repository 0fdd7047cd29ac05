/* Character devices: see dm/chardev.h.
 *
 * Every backend is a pair of fds (in_fd for input, out_fd for output; either
 * may be -1) plus a little state; the differences are in how they are opened.
 * Input is read by the main loop into a small per-chardev buffer and handed
 * to the front end as fast as it accepts it; while bytes wait, the fd is not
 * polled, so a slow guest UART applies back-pressure instead of losing data.
 * A mux runs the Ctrl-A escapes on that same path, byte by byte. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "dm/chardev.h"
#include "dm/mainloop.h"
#include "dm/opts.h"
#include "dm/util.h"

#define MUX_MAX 4
#define MUX_ESCAPE 0x01         /* Ctrl-A */
#define INBUF_SIZE 4096
#define RINGBUF_DEFAULT 65536

enum cd_kind { CD_NULL, CD_STDIO, CD_FILE, CD_PIPE, CD_PTY, CD_SOCKET, CD_RINGBUF, CD_SERIAL };

struct chardev {
    struct chardev_set *set;
    char *id;
    enum cd_kind kind;
    char *filename;             /* see chardev_filename() */
    int in_fd, out_fd;
    bool in_eof;

    /* socket */
    int listen_fd;
    bool server, is_unix;
    char *unix_path;            /* unlinked at close if we created it */
    bool connected;
    bool telnet;                /* RFC 854 negotiation and IAC handling */
    uint8_t telnet_state;

    /* pty: our own handle on the slave keeps the master from seeing HUP */
    int pty_slave_fd;

    /* ring buffer */
    uint8_t *ring;
    size_t ring_size, ring_head, ring_count;

    /* stdio */
    bool restore_termios;

    int log_fd;

    /* front ends */
    bool mux;
    struct chardev_fe *fes[MUX_MAX];
    unsigned n_fes;
    unsigned focus;
    bool escape_pending;

    /* input waiting for the front end */
    uint8_t inbuf[INBUF_SIZE];
    size_t in_off, in_len;

    struct chardev *next;
};

struct chardev_set {
    struct main_loop *loop;
    struct chardev *list;
    void (*quit)(void *opaque);
    void *quit_opaque;
};

/* The terminal belongs to the process: one stdio chardev at a time, and its
 * settings are restored at exit even if nobody closes it. */
static struct termios saved_termios;
static bool termios_saved;
static struct chardev *stdio_owner;

static void restore_terminal(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = false;
    }
}

/* ---- configuration (what the parsers produce) ------------------------------- */

struct cd_config {
    enum cd_kind kind;
    const char *backend;
    char *id;
    char *path;
    char *host, *port;
    bool server, wait, nodelay, append, mux, signal, telnet;
    uint64_t size;
    char *logfile;
    bool logappend;
    bool is_unix;
    char *ref;                  /* chardev:ID */
    bool none;                  /* "none": no chardev at all */
};

static void config_free(struct cd_config *c)
{
    free(c->id);
    free(c->path);
    free(c->host);
    free(c->port);
    free(c->logfile);
    free(c->ref);
    memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const struct {
    const char *name;
    enum cd_kind kind;
} backends[] = {
    { "null", CD_NULL }, { "stdio", CD_STDIO }, { "file", CD_FILE }, { "pipe", CD_PIPE },
    { "pty", CD_PTY }, { "socket", CD_SOCKET }, { "ringbuf", CD_RINGBUF },
    { "memory", CD_RINGBUF }, { "serial", CD_SERIAL }, { "tty", CD_SERIAL },
};

static int check_port(const char *what, const char *port, bool server, struct dm_err *err)
{
    uint64_t p;

    if (!port || dm_parse_u64(port, &p) < 0 || p > 65535 || (p == 0 && !server)) {
        dm_err_set(err, "%s: invalid port '%s'", what, port ? port : "");
        return -EINVAL;
    }
    return 0;
}

static int check_socket(const char *what, struct cd_config *c, struct dm_err *err)
{
    if (c->path && (c->host || c->port)) {
        dm_err_set(err, "%s: give either path= (unix) or host=/port= (tcp), not both", what);
        return -EINVAL;
    }
    if (c->path) {
        c->is_unix = true;
        if (!*c->path || strlen(c->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            dm_err_set(err, "%s: unix socket path '%s' is empty or too long", what, c->path);
            return -EINVAL;
        }
        return 0;
    }
    if (!c->port) {
        dm_err_set(err, "%s: socket needs path= or port=", what);
        return -EINVAL;
    }
    return check_port(what, c->port, c->server, err);
}

/* -chardev BACKEND,id=ID,... */
static int parse_chardev_opts(const char *str, struct cd_config *c, struct dm_err *err)
{
    struct opts o;
    const char *backend, *v;
    int ret;
    size_t i;

    memset(c, 0, sizeof(*c));
    if ((ret = opts_parse(&o, str, "backend", err)) < 0)
        return ret;
    backend = opts_get(&o, "backend");
    for (i = 0; backend && i < DM_ARRAY_SIZE(backends); i++)
        if (!strcmp(backend, backends[i].name))
            break;
    if (!backend || i == DM_ARRAY_SIZE(backends)) {
        dm_err_set(err, "-chardev: unknown backend '%s' (null, stdio, file, pipe, pty, socket, "
                   "ringbuf, serial)", backend ? backend : "");
        ret = -EINVAL;
        goto out;
    }
    c->kind = backends[i].kind;
    c->backend = backends[i].name;
    v = opts_get(&o, "id");
    if (!v || !*v) {
        dm_err_set(err, "-chardev %s: 'id' is required", backend);
        ret = -EINVAL;
        goto out;
    }
    c->id = strdup(v);
    c->signal = true;
    if ((ret = opts_get_bool(&o, "mux", false, &c->mux, err)) < 0)
        goto out;
    c->logfile = dup_or_null(opts_get(&o, "logfile"));
    if ((ret = opts_get_bool(&o, "logappend", false, &c->logappend, err)) < 0)
        goto out;

    switch (c->kind) {
    case CD_STDIO:
        ret = opts_get_bool(&o, "signal", true, &c->signal, err);
        break;
    case CD_FILE:
    case CD_PIPE:
    case CD_SERIAL:
        c->path = dup_or_null(opts_get(&o, "path"));
        if (!c->path || !*c->path) {
            dm_err_set(err, "-chardev %s,id=%s: 'path' is required", backend, c->id);
            ret = -EINVAL;
            break;
        }
        if (c->kind == CD_FILE)
            ret = opts_get_bool(&o, "append", false, &c->append, err);
        break;
    case CD_RINGBUF:
        ret = opts_get_u64(&o, "size", RINGBUF_DEFAULT, &c->size, err);
        if (ret == 0 && (c->size == 0 || (c->size & (c->size - 1)) || c->size > (1u << 30))) {
            dm_err_set(err, "-chardev ringbuf,id=%s: size must be a power of two up to 1G", c->id);
            ret = -EINVAL;
        }
        break;
    case CD_SOCKET:
        c->path = dup_or_null(opts_get(&o, "path"));
        c->host = dup_or_null(opts_get(&o, "host"));
        c->port = dup_or_null(opts_get(&o, "port"));
        if ((ret = opts_get_bool(&o, "server", false, &c->server, err)) < 0 ||
            (ret = opts_get_bool(&o, "wait", c->server, &c->wait, err)) < 0 ||
            (ret = opts_get_bool(&o, "nodelay", false, &c->nodelay, err)) < 0 ||
            (ret = opts_get_bool(&o, "telnet", false, &c->telnet, err)) < 0)
            break;
        if (opts_has(&o, "reconnect") || opts_has(&o, "tls-creds") || opts_has(&o, "websocket")) {
            dm_err_set(err, "-chardev socket,id=%s: reconnect, tls and websocket are not supported", c->id);
            ret = -ENOTSUP;
            break;
        }
        if (!c->server && opts_has(&o, "wait")) {
            dm_err_set(err, "-chardev socket,id=%s: 'wait' only applies to server=on", c->id);
            ret = -EINVAL;
            break;
        }
        ret = check_socket("-chardev socket", c, err);
        break;
    default:
        break;
    }
    if (ret == 0)
        ret = opts_check_unused(&o, "-chardev", err);
out:
    opts_free(&o);
    if (ret < 0)
        config_free(c);
    return ret;
}

/* Options after the address in tcp:/unix: shorthands: server[=on|off],
 * nowait, wait=on|off, nodelay. */
static int parse_socket_flags(const char *what, char *flags, struct cd_config *c, struct dm_err *err)
{
    struct opts o;
    int ret;

    c->wait = true;
    if (!flags || !*flags) {
        c->wait = false;
        return 0;
    }
    if ((ret = opts_parse(&o, flags, NULL, err)) < 0)
        return ret;
    bool nowait = false;
    if ((ret = opts_get_bool(&o, "server", false, &c->server, err)) < 0 ||
        (ret = opts_get_bool(&o, "nowait", false, &nowait, err)) < 0 ||
        (ret = opts_get_bool(&o, "wait", !nowait, &c->wait, err)) < 0 ||
        (ret = opts_get_bool(&o, "nodelay", false, &c->nodelay, err)) < 0)
        goto out;
    if (!c->server)
        c->wait = false;
    if (opts_has(&o, "reconnect")) {
        dm_err_set(err, "%s: reconnect is not supported", what);
        ret = -ENOTSUP;
        goto out;
    }
    ret = opts_check_unused(&o, what, err);
out:
    opts_free(&o);
    return ret;
}

static int parse_shorthand(const char *spec, const char *id, struct cd_config *c, struct dm_err *err)
{
    int ret = 0;

    memset(c, 0, sizeof(*c));
    if (!strncmp(spec, "mon:", 4)) {
        ret = parse_shorthand(spec + 4, id, c, err);
        if (ret == 0 && (c->ref || c->none)) {
            dm_err_set(err, "'%s': mon: needs a backend, not %s", spec, c->ref ? "chardev:" : "none");
            ret = -EINVAL;
        }
        if (ret < 0) {
            config_free(c);
            return ret;
        }
        c->mux = true;
        return 0;
    }
    c->signal = true;
    c->id = dup_or_null(id);
    if (!strcmp(spec, "stdio")) {
        c->kind = CD_STDIO;
    } else if (!strcmp(spec, "null") || !strcmp(spec, "vc") || !strncmp(spec, "vc:", 3)) {
        c->kind = CD_NULL;
    } else if (!strcmp(spec, "none")) {
        c->none = true;
    } else if (!strcmp(spec, "pty")) {
        c->kind = CD_PTY;
    } else if (!strncmp(spec, "file:", 5) || !strncmp(spec, "pipe:", 5)) {
        c->kind = spec[0] == 'f' ? CD_FILE : CD_PIPE;
        if (!spec[5]) {
            dm_err_set(err, "'%s': missing path", spec);
            ret = -EINVAL;
        }
        c->path = strdup(spec + 5);
    } else if (!strncmp(spec, "chardev:", 8)) {
        if (!spec[8]) {
            dm_err_set(err, "'%s': missing chardev id", spec);
            ret = -EINVAL;
        }
        c->ref = strdup(spec + 8);
    } else if (!strncmp(spec, "tcp:", 4) || !strncmp(spec, "telnet:", 7)) {
        /* tcp:[HOST]:PORT[,flags], HOST may be [v6]; telnet: the same with
         * telnet negotiation */
        c->telnet = spec[1] == 'e';
        char *addr = strdup(spec + (c->telnet ? 7 : 4)), *flags = strchr(addr, ','), *colon;
        c->kind = CD_SOCKET;
        if (flags)
            *flags++ = 0;
        if (addr[0] == '[' && (colon = strstr(addr, "]:"))) {
            *colon = 0;
            c->host = strdup(addr + 1);
            c->port = strdup(colon + 2);
        } else if ((colon = strrchr(addr, ':'))) {
            *colon = 0;
            c->host = *addr ? strdup(addr) : NULL;
            c->port = strdup(colon + 1);
        } else {
            dm_err_set(err, "'%s': expected %s:[HOST]:PORT", spec, c->telnet ? "telnet" : "tcp");
            ret = -EINVAL;
        }
        if (ret == 0)
            ret = parse_socket_flags(c->telnet ? "telnet:" : "tcp:", flags, c, err);
        if (ret == 0)
            ret = check_socket(spec, c, err);
        free(addr);
    } else if (!strncmp(spec, "unix:", 5)) {
        char *addr = strdup(spec + 5), *flags = strchr(addr, ',');
        c->kind = CD_SOCKET;
        if (flags)
            *flags++ = 0;
        c->path = strdup(addr);
        ret = parse_socket_flags("unix:", flags, c, err);
        if (ret == 0)
            ret = check_socket(spec, c, err);
        free(addr);
    } else if (spec[0] == '/') {
        c->kind = CD_SERIAL;        /* a host tty such as /dev/ttyS0 */
        c->path = strdup(spec);
    } else {
        dm_err_set(err, "'%s': unknown character device (stdio, mon:stdio, file:PATH, pipe:PATH, "
                   "pty, null, none, tcp:HOST:PORT, telnet:HOST:PORT, unix:PATH, chardev:ID)", spec);
        ret = -EINVAL;
    }
    if (ret < 0)
        config_free(c);
    return ret;
}

int chardev_parse_check(const char *opts, char *backend, size_t len, struct dm_err *err)
{
    struct cd_config c;
    int ret = parse_chardev_opts(opts, &c, err);

    if (ret == 0) {
        if (backend && len)
            snprintf(backend, len, "%s", c.backend);
        config_free(&c);
    }
    return ret;
}

int chardev_shorthand_check(const char *spec, struct dm_err *err)
{
    struct cd_config c;
    int ret = parse_shorthand(spec, "check", &c, err);

    if (ret == 0)
        config_free(&c);
    return ret;
}

/* ---- input path ------------------------------------------------------------- */

static void update_watch(struct chardev *c);

static void send_event(struct chardev_fe *fe, enum chardev_event ev)
{
    if (fe && fe->event)
        fe->event(fe->opaque, ev);
}

static void broadcast(struct chardev *c, enum chardev_event ev)
{
    for (unsigned i = 0; i < c->n_fes; i++)
        send_event(c->fes[i], ev);
}

static void backend_write(struct chardev *c, const uint8_t *buf, size_t len);

static void mux_set_focus(struct chardev *c, unsigned focus)
{
    if (focus >= c->n_fes || focus == c->focus)
        return;
    send_event(c->fes[c->focus], CHARDEV_MUX_OUT);
    c->focus = focus;
    send_event(c->fes[c->focus], CHARDEV_MUX_IN);
}

static void mux_help(struct chardev *c)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit emulator\r\n"
        "C-a c    switch between console and monitor\r\n"
        "C-a b    send break\r\n"
        "C-a C-a  send C-a\r\n";
    backend_write(c, (const uint8_t *)help, sizeof(help) - 1);
}

static void mux_quit(struct chardev *c)
{
    static const char msg[] = "\r\nvireo: terminating on signal from the console (C-a x)\r\n";

    backend_write(c, (const uint8_t *)msg, sizeof(msg) - 1);
    if (c->set->quit) {
        c->set->quit(c->set->quit_opaque);
    } else {
        restore_terminal();
        exit(0);
    }
}

/* Handle an escape byte; true if it was consumed. */
static bool mux_escape(struct chardev *c, uint8_t b)
{
    c->escape_pending = false;
    switch (b) {
    case 'h': case '?': mux_help(c); return true;
    case 'x': mux_quit(c); return true;
    case 'c': mux_set_focus(c, c->n_fes ? (c->focus + 1) % c->n_fes : 0); return true;
    case 'b':
        if (c->n_fes)
            send_event(c->fes[c->focus], CHARDEV_BREAK);
        return true;
    case MUX_ESCAPE: return false;     /* a literal Ctrl-A */
    default: return true;               /* unknown escapes are dropped */
    }
}

/* Hand buffered input to the front end(s); stops when the front end is full. */
static void deliver(struct chardev *c)
{
    while (c->in_off < c->in_len) {
        uint8_t *p = c->inbuf + c->in_off;
        size_t left = c->in_len - c->in_off;
        struct chardev_fe *fe = c->n_fes ? c->fes[c->mux ? c->focus : 0] : NULL;

        if (c->mux) {
            if (c->escape_pending) {
                if (mux_escape(c, *p)) {
                    c->in_off++;
                    continue;
                }
            } else if (*p == MUX_ESCAPE) {
                c->escape_pending = true;
                c->in_off++;
                continue;
            }
            left = 1;       /* byte by byte: the next one may be an escape */
        }
        if (!fe || !fe->receive) {
            c->in_off += left;      /* nobody listens: drop */
            continue;
        }
        size_t can = fe->can_receive ? fe->can_receive(fe->opaque) : left;
        if (can == 0)
            break;
        if (can > left)
            can = left;
        c->in_off += can;       /* before the callback: it may re-enter */
        fe->receive(fe->opaque, p, can);
    }
    if (c->in_off >= c->in_len)
        c->in_off = c->in_len = 0;
    update_watch(c);
}

static void disconnect(struct chardev *c);

/* ---- telnet (RFC 854): strip commands from input, double 0xff on output -- */

enum { TN_SE = 240, TN_SB = 250, TN_WILL = 251, TN_WONT = 252, TN_DO = 253, TN_DONT = 254,
       TN_IAC = 255, TN_OPT_ECHO = 1, TN_OPT_SGA = 3, TN_OPT_LINEMODE = 34 };
enum { TS_DATA, TS_IAC, TS_OPTION, TS_SB, TS_SB_IAC, TS_CR };

/* Filter buf in place; returns the number of data bytes left. */
static size_t telnet_filter(struct chardev *c, uint8_t *buf, size_t n)
{
    size_t out = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        switch (c->telnet_state) {
        case TS_CR:
            c->telnet_state = TS_DATA;
            if (b == 0)         /* "\r\0" is a bare carriage return */
                break;
            /* fall through */
        case TS_DATA:
            if (b == TN_IAC) {
                c->telnet_state = TS_IAC;
            } else {
                buf[out++] = b;
                if (b == '\r')
                    c->telnet_state = TS_CR;
            }
            break;
        case TS_IAC:
            if (b == TN_IAC) {
                buf[out++] = b;             /* escaped 0xff */
                c->telnet_state = TS_DATA;
            } else if (b >= TN_WILL) {
                c->telnet_state = TS_OPTION;
            } else if (b == TN_SB) {
                c->telnet_state = TS_SB;
            } else {
                c->telnet_state = TS_DATA;  /* NOP, AYT, BRK...: dropped */
            }
            break;
        case TS_OPTION:
            c->telnet_state = TS_DATA;      /* the option byte */
            break;
        case TS_SB:
            if (b == TN_IAC)
                c->telnet_state = TS_SB_IAC;
            break;
        case TS_SB_IAC:
            c->telnet_state = b == TN_SE ? TS_DATA : TS_SB;
            break;
        }
    }
    return out;
}

static void input_ready(void *opaque, int fd, unsigned revents)
{
    struct chardev *c = opaque;
    ssize_t n;

    if (c->in_len)
        return;
    n = read(fd, c->inbuf, sizeof(c->inbuf));
    if (n > 0 && c->telnet) {
        n = (ssize_t)telnet_filter(c, c->inbuf, (size_t)n);
        if (n == 0)
            return;
    }
    if (n > 0) {
        c->in_off = 0;
        c->in_len = (size_t)n;
        deliver(c);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* EOF or error */
    if (c->kind == CD_SOCKET) {
        disconnect(c);
    } else {
        c->in_eof = true;
        update_watch(c);
        broadcast(c, CHARDEV_CLOSED);
    }
}

static bool fe_wants_input(struct chardev *c)
{
    for (unsigned i = 0; i < c->n_fes; i++)
        if (c->fes[i]->receive)
            return true;
    return false;
}

/* Poll the input fd only while nothing is buffered and someone listens. */
static void update_watch(struct chardev *c)
{
    struct main_loop *loop = c->set->loop;

    if (!loop || c->in_fd < 0)
        return;
    if (c->in_eof) {
        main_loop_del_fd(loop, c->in_fd);
        return;
    }
    main_loop_set_fd(loop, c->in_fd, (!c->in_len && fe_wants_input(c)) ? POLLIN : 0,
                     input_ready, c);
}

void chardev_inject_input(struct chardev *c, const void *buf, size_t len)
{
    /* append to the buffer; whatever does not fit is dropped */
    if (c->in_off && c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (len > sizeof(c->inbuf) - c->in_len)
        len = sizeof(c->inbuf) - c->in_len;
    memcpy(c->inbuf + c->in_len, buf, len);
    c->in_len += len;
    deliver(c);
}

/* ---- output path ------------------------------------------------------------ */

/* send() with MSG_NOSIGNAL where it applies: a vanished socket peer must
 * give EPIPE, not kill the process. */
static ssize_t c_write_nosig(int fd, const void *buf, size_t len)
{
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

    if (n < 0 && errno == ENOTSOCK)
        n = write(fd, buf, len);
    return n;
}

/* Write all of buf to a blocking or non-blocking fd; on a full non-blocking fd
 * wait a little, then give up (a peer that does not read must not stall the
 * guest forever).  Returns false if the peer is gone. */
static bool write_fd(int fd, const uint8_t *buf, size_t len, int wait_ms)
{
    while (len > 0) {
        ssize_t n = c_write_nosig(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            if (wait_ms <= 0 || poll(&p, 1, wait_ms) <= 0)
                return true;    /* drop the rest */
            continue;
        }
        return false;
    }
    return true;
}

static void backend_write(struct chardev *c, const uint8_t *buf, size_t len)
{
    if (c->log_fd >= 0)
        write_fd(c->log_fd, buf, len, 100);
    switch (c->kind) {
    case CD_NULL:
        break;
    case CD_RINGBUF:
        for (size_t i = 0; i < len; i++) {
            c->ring[(c->ring_head + c->ring_count) & (c->ring_size - 1)] = buf[i];
            if (c->ring_count < c->ring_size)
                c->ring_count++;
            else
                c->ring_head = (c->ring_head + 1) & (c->ring_size - 1);
        }
        break;
    case CD_SOCKET:
        if (!c->connected)
            break;
        if (c->telnet) {
            /* a data byte 0xff goes out as IAC IAC */
            static const uint8_t iac2[2] = { TN_IAC, TN_IAC };
            while (len > 0 && c->connected) {
                const uint8_t *ff = memchr(buf, TN_IAC, len);
                size_t run = ff ? (size_t)(ff - buf) : len;
                if ((run && !write_fd(c->out_fd, buf, run, 100)) ||
                    (ff && !write_fd(c->out_fd, iac2, 2, 100))) {
                    disconnect(c);
                    break;
                }
                buf += run + (ff ? 1 : 0);
                len -= run + (ff ? 1 : 0);
            }
        } else if (!write_fd(c->out_fd, buf, len, 100)) {
            disconnect(c);
        }
        break;
    case CD_PTY:
        /* nobody may be reading the slave: never wait */
        write_fd(c->out_fd, buf, len, 0);
        break;
    default:
        if (c->out_fd >= 0)
            write_fd(c->out_fd, buf, len, 1000);
        break;
    }
}

ssize_t chardev_fe_write(struct chardev_fe *fe, const void *buf, size_t len)
{
    if (!fe->chr)
        return (ssize_t)len;
    backend_write(fe->chr, buf, len);
    return (ssize_t)len;
}

size_t chardev_ringbuf_read(struct chardev *c, void *buf, size_t len)
{
    uint8_t *out = buf;
    size_t n = 0;

    if (c->kind != CD_RINGBUF)
        return 0;
    while (n < len && c->ring_count) {
        out[n++] = c->ring[c->ring_head];
        c->ring_head = (c->ring_head + 1) & (c->ring_size - 1);
        c->ring_count--;
    }
    return n;
}

/* ---- front ends ------------------------------------------------------------- */

int chardev_fe_attach(struct chardev_fe *fe, struct chardev *chr,
                      chardev_can_receive_fn *can_receive, chardev_receive_fn *receive,
                      chardev_event_fn *event, void *opaque)
{
    memset(fe, 0, sizeof(*fe));
    if (!chr)
        return 0;
    if (chr->n_fes >= (chr->mux ? MUX_MAX : 1))
        return -EBUSY;
    fe->chr = chr;
    fe->can_receive = can_receive;
    fe->receive = receive;
    fe->event = event;
    fe->opaque = opaque;
    fe->mux_index = (int)chr->n_fes;
    chr->fes[chr->n_fes++] = fe;
    if (chr->mux) {
        /* the newest front end gets the focus (QEMU: the serial port, added
         * after the monitor, is what the user sees first) */
        if (chr->n_fes > 1)
            send_event(chr->fes[chr->focus], CHARDEV_MUX_OUT);
        chr->focus = chr->n_fes - 1;
    }
    if (chardev_is_connected(chr))
        send_event(fe, CHARDEV_OPENED);
    if (chr->mux)
        send_event(fe, CHARDEV_MUX_IN);
    update_watch(chr);
    return 0;
}

void chardev_fe_detach(struct chardev_fe *fe)
{
    struct chardev *c = fe->chr;
    unsigned i, j;

    if (!c)
        return;
    for (i = 0, j = 0; i < c->n_fes; i++) {
        if (c->fes[i] != fe) {
            c->fes[j] = c->fes[i];
            c->fes[j]->mux_index = (int)j;
            j++;
        }
    }
    c->n_fes = j;
    if (c->focus >= c->n_fes)
        c->focus = 0;
    fe->chr = NULL;
    update_watch(c);
}

void chardev_fe_accept_input(struct chardev_fe *fe)
{
    if (fe->chr)
        deliver(fe->chr);
}

void chardev_fe_focus(struct chardev_fe *fe)
{
    if (fe->chr && fe->chr->mux)
        mux_set_focus(fe->chr, (unsigned)fe->mux_index);
}

/* ---- sockets ---------------------------------------------------------------- */

static void listen_ready(void *opaque, int fd, unsigned revents);

static void set_connection(struct chardev *c, int fd)
{
    int fl = fcntl(fd, F_GETFL);

    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    c->in_fd = c->out_fd = fd;
    c->in_eof = false;
    c->connected = true;
    if (c->telnet) {
        /* character mode: we echo, no go-aheads, no client line editing */
        static const uint8_t hello[] = {
            TN_IAC, TN_WILL, TN_OPT_ECHO, TN_IAC, TN_WILL, TN_OPT_SGA,
            TN_IAC, TN_DO, TN_OPT_SGA, TN_IAC, TN_DONT, TN_OPT_LINEMODE,
        };
        c->telnet_state = TS_DATA;
        write_fd(fd, hello, sizeof(hello), 100);
    }
    if (c->listen_fd >= 0 && c->set->loop)
        main_loop_set_fd(c->set->loop, c->listen_fd, 0, listen_ready, c);
    update_watch(c);
    broadcast(c, CHARDEV_OPENED);
}

static void disconnect(struct chardev *c)
{
    if (!c->connected)
        return;
    if (c->set->loop)
        main_loop_del_fd(c->set->loop, c->in_fd);
    close(c->in_fd);
    c->in_fd = c->out_fd = -1;
    c->in_len = c->in_off = 0;
    c->connected = false;
    broadcast(c, CHARDEV_CLOSED);
    /* a server takes the next client */
    if (c->listen_fd >= 0 && c->set->loop)
        main_loop_set_fd(c->set->loop, c->listen_fd, POLLIN, listen_ready, c);
}

static void listen_ready(void *opaque, int fd, unsigned revents)
{
    struct chardev *c = opaque;
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (conn < 0)
        return;
    if (c->connected) {
        close(conn);        /* one client at a time */
        return;
    }
    if (!c->is_unix) {
        int one = 1;
        setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    set_connection(c, conn);
}

static char *format_addr(const struct sockaddr *sa, socklen_t len, bool is_unix, const char *path)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV], *out = NULL;

    if (is_unix) {
        if (asprintf(&out, "unix:%s", path) < 0)
            return NULL;
        return out;
    }
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
        return NULL;
    if (asprintf(&out, strchr(host, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", host, serv) < 0)
        return NULL;
    return out;
}

static int open_socket(struct chardev *c, const struct cd_config *cfg, struct dm_err *err)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = -1, ret, e = 0;

    c->server = cfg->server;
    c->telnet = cfg->telnet;
    c->is_unix = cfg->is_unix;
    if (cfg->is_unix) {
        struct stat st;
        snprintf(un.sun_path, sizeof(un.sun_path), "%s", cfg->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            goto sys_err;
        if (cfg->server) {
            /* a stale socket from an earlier run; never remove other files */
            if (lstat(cfg->path, &st) == 0 && S_ISSOCK(st.st_mode))
                unlink(cfg->path);
            if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 1) < 0)
                goto sys_err;
            c->unix_path = strdup(cfg->path);
        } else if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
            goto sys_err;
        }
        c->filename = format_addr(NULL, 0, true, cfg->path);
    } else {
        hints.ai_flags = cfg->server ? AI_PASSIVE : 0;
        ret = getaddrinfo(cfg->host && *cfg->host ? cfg->host : NULL, cfg->port, &hints, &res);
        if (ret) {
            dm_err_set(err, "chardev '%s': cannot resolve '%s': %s", c->id,
                       cfg->host ? cfg->host : "", gai_strerror(ret));
            return -EINVAL;
        }
        for (ai = res; ai; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd < 0)
                continue;
            if (cfg->server) {
                int one = 1;
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
                    break;
            } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                break;
            }
            e = errno;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0) {
            errno = e ? e : EADDRNOTAVAIL;
            goto sys_err;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (cfg->server ? getsockname(fd, (struct sockaddr *)&ss, &sl) : getpeername(fd, (struct sockaddr *)&ss, &sl))
            goto sys_err;
        c->filename = format_addr((struct sockaddr *)&ss, sl, false, NULL);
        if (!cfg->server && cfg->nodelay) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
    }
    if (!cfg->server) {
        set_connection(c, fd);
        return 0;
    }
    c->listen_fd = fd;
    if (cfg->wait) {
        fprintf(stderr, "vireo: waiting for connection on %s (chardev '%s')\n",
                c->filename ? c->filename : "?", c->id);
        int conn;
        do
            conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        while (conn < 0 && errno == EINTR);
        if (conn < 0)
            goto sys_err;
        set_connection(c, conn);
    } else if (c->set->loop) {
        main_loop_set_fd(c->set->loop, fd, POLLIN, listen_ready, c);
    }
    return 0;

sys_err:
    e = errno;
    if (fd >= 0 && fd != c->listen_fd)
        close(fd);
    dm_err_set(err, "chardev '%s': cannot %s %s%s%s%s: %s", c->id,
               cfg->server ? "listen on" : "connect to", cfg->is_unix ? "unix:" : "tcp:",
               cfg->is_unix ? cfg->path : (cfg->host ? cfg->host : ""),
               cfg->is_unix ? "" : ":", cfg->is_unix ? "" : cfg->port, strerror(e));
    return -e;
}

/* ---- opening and closing ---------------------------------------------------- */

static void make_raw(int fd, bool keep_signals)
{
    struct termios t;

    if (tcgetattr(fd, &t) < 0)
        return;
    /* raw input, but keep output post-processing so "\n" still moves the
     * cursor to column 0 for programs that write plain newlines */
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    if (!keep_signals)
        t.c_lflag &= ~(tcflag_t)ISIG;
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
}

static int open_backend(struct chardev *c, const struct cd_config *cfg, struct dm_err *err)
{
    int fd;

    switch (cfg->kind) {
    case CD_NULL:
        return 0;
    case CD_STDIO:
        if (stdio_owner) {
            dm_err_set(err, "chardev '%s': stdio is already used by chardev '%s'", c->id, stdio_owner->id);
            return -EBUSY;
        }
        stdio_owner = c;
        c->in_fd = STDIN_FILENO;
        c->out_fd = STDOUT_FILENO;
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
            static bool atexit_done;
            termios_saved = true;
            c->restore_termios = true;
            if (!atexit_done) {
                atexit(restore_terminal);
                atexit_done = true;
            }
            /* with a mux, Ctrl-C goes to the guest like any key; C-a x quits */
            make_raw(STDIN_FILENO, cfg->signal && !cfg->mux);
        }
        return 0;
    case CD_FILE:
        fd = open(cfg->path, O_WRONLY | O_CREAT | O_CLOEXEC | (cfg->append ? O_APPEND : O_TRUNC), 0666);
        if (fd < 0)
            goto sys_err;
        c->out_fd = fd;
        return 0;
    case CD_PIPE: {
        /* PATH.in / PATH.out if they exist, else PATH both ways.  O_RDWR so
         * opening a FIFO does not block waiting for the other side. */
        char *in = NULL, *out = NULL;
        if (asprintf(&in, "%s.in", cfg->path) < 0 || asprintf(&out, "%s.out", cfg->path) < 0) {
            free(in);
            return -ENOMEM;
        }
        c->in_fd = open(in, O_RDWR | O_CLOEXEC | O_NONBLOCK);
        c->out_fd = c->in_fd >= 0 ? open(out, O_RDWR | O_CLOEXEC) : -1;
        free(in);
        free(out);
        if (c->in_fd < 0 || c->out_fd < 0) {
            if (c->in_fd >= 0)
                close(c->in_fd);
            c->in_fd = open(cfg->path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
            if (c->in_fd < 0)
                goto sys_err;
            c->out_fd = dup(c->in_fd);
        }
        /* a FIFO nobody drains must not stall the guest for ever */
        fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
        return 0;
    }
    case CD_SERIAL:
        fd = open(cfg->path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            goto sys_err;
        if (isatty(fd))
            make_raw(fd, false);
        c->in_fd = fd;
        c->out_fd = fd;
        return 0;
    case CD_PTY: {
        char *name;
        fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || !(name = ptsname(fd))) {
            if (fd >= 0)
                close(fd);
            dm_err_set(err, "chardev '%s': cannot create a pty: %s", c->id, strerror(errno));
            return -errno;
        }
        c->filename = strdup(name);
        c->pty_slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (c->pty_slave_fd >= 0)
            make_raw(c->pty_slave_fd, false);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        c->in_fd = c->out_fd = fd;
        fprintf(stderr, "vireo: char device redirected to %s (label %s)\n", name, c->id);
        return 0;
    }
    case CD_RINGBUF:
        c->ring_size = (size_t)cfg->size;
        c->ring = calloc(1, c->ring_size);
        return c->ring ? 0 : -ENOMEM;
    case CD_SOCKET:
        return open_socket(c, cfg, err);
    }
    return -EINVAL;

sys_err:
    dm_err_set(err, "chardev '%s': cannot open '%s': %s", c->id, cfg->path, strerror(errno));
    return -errno;
}

static void close_chardev(struct chardev *c)
{
    struct main_loop *loop = c->set->loop;

    while (c->n_fes)
        chardev_fe_detach(c->fes[c->n_fes - 1]);
    if (loop) {
        if (c->in_fd >= 0)
            main_loop_del_fd(loop, c->in_fd);
        if (c->listen_fd >= 0)
            main_loop_del_fd(loop, c->listen_fd);
    }
    if (c->kind == CD_STDIO) {
        if (c->restore_termios)
            restore_terminal();
        if (stdio_owner == c)
            stdio_owner = NULL;
    } else {
        if (c->in_fd >= 0)
            close(c->in_fd);
        if (c->out_fd >= 0 && c->out_fd != c->in_fd)
            close(c->out_fd);
    }
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    if (c->pty_slave_fd >= 0)
        close(c->pty_slave_fd);
    if (c->log_fd >= 0)
        close(c->log_fd);
    if (c->unix_path) {
        unlink(c->unix_path);
        free(c->unix_path);
    }
    free(c->ring);
    free(c->filename);
    free(c->id);
    free(c);
}

static int open_from_config(struct chardev_set *set, struct cd_config *cfg, struct chardev **out,
                            struct dm_err *err)
{
    struct chardev *c;
    int ret;

    *out = NULL;
    if (cfg->none)
        return 0;
    if (cfg->ref) {
        c = chardev_find(set, cfg->ref);
        if (!c) {
            dm_err_set(err, "no chardev with id '%s'", cfg->ref);
            return -ENOENT;
        }
        *out = c;
        return 0;
    }
    if (!cfg->id || !*cfg->id) {
        dm_err_set(err, "chardev: an id is required");
        return -EINVAL;
    }
    if (chardev_find(set, cfg->id)) {
        dm_err_set(err, "chardev id '%s' is already in use", cfg->id);
        return -EEXIST;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->set = set;
    c->id = strdup(cfg->id);
    c->kind = cfg->kind;
    c->mux = cfg->mux;
    c->in_fd = c->out_fd = c->listen_fd = c->pty_slave_fd = c->log_fd = -1;
    if (cfg->logfile) {
        c->log_fd = open(cfg->logfile, O_WRONLY | O_CREAT | O_CLOEXEC |
                         (cfg->logappend ? O_APPEND : O_TRUNC), 0666);
        if (c->log_fd < 0) {
            dm_err_set(err, "chardev '%s': cannot open logfile '%s': %s", c->id, cfg->logfile,
                       strerror(errno));
            ret = -errno;
            close_chardev(c);
            return ret;
        }
    }
    if (cfg->kind == CD_FILE && cfg->path)
        c->filename = strdup(cfg->path);
    ret = open_backend(c, cfg, err);
    if (ret < 0) {
        close_chardev(c);
        return ret;
    }
    c->next = set->list;
    set->list = c;
    *out = c;
    return 0;
}

/* ---- sets ------------------------------------------------------------------- */

struct chardev_set *chardev_set_new(struct main_loop *loop)
{
    struct chardev_set *set = calloc(1, sizeof(*set));

    if (set)
        set->loop = loop;
    return set;
}

void chardev_set_free(struct chardev_set *set)
{
    if (!set)
        return;
    while (set->list) {
        struct chardev *c = set->list;
        set->list = c->next;
        close_chardev(c);
    }
    free(set);
}

struct chardev *chardev_find(struct chardev_set *set, const char *id)
{
    for (struct chardev *c = set ? set->list : NULL; c; c = c->next)
        if (!strcmp(c->id, id))
            return c;
    return NULL;
}

void chardev_set_quit_handler(struct chardev_set *set, void (*quit)(void *opaque), void *opaque)
{
    set->quit = quit;
    set->quit_opaque = opaque;
}

int chardev_new_from_opts(struct chardev_set *set, const char *opts, struct chardev **out,
                          struct dm_err *err)
{
    struct cd_config cfg;
    int ret = parse_chardev_opts(opts, &cfg, err);

    *out = NULL;
    if (ret < 0)
        return ret;
    ret = open_from_config(set, &cfg, out, err);
    config_free(&cfg);
    return ret;
}

int chardev_new_from_shorthand(struct chardev_set *set, const char *spec, const char *id,
                               struct chardev **out, struct dm_err *err)
{
    struct cd_config cfg;
    int ret = parse_shorthand(spec, id, &cfg, err);

    *out = NULL;
    if (ret < 0)
        return ret;
    ret = open_from_config(set, &cfg, out, err);
    config_free(&cfg);
    return ret;
}

const char *chardev_id(const struct chardev *c)
{
    return c->id;
}

const char *chardev_backend_name(const struct chardev *c)
{
    switch (c->kind) {
    case CD_NULL: return "null";
    case CD_STDIO: return "stdio";
    case CD_FILE: return "file";
    case CD_PIPE: return "pipe";
    case CD_PTY: return "pty";
    case CD_SOCKET: return "socket";
    case CD_RINGBUF: return "ringbuf";
    case CD_SERIAL: return "serial";
    }
    return "?";
}

const char *chardev_filename(const struct chardev *c)
{
    return c->filename;
}

bool chardev_is_mux(const struct chardev *c)
{
    return c->mux;
}

bool chardev_is_connected(const struct chardev *c)
{
    return c->kind == CD_SOCKET ? c->connected : true;
}
