/* Unit tests of chardev backends (file, pipe, pty, sockets, ring buffer, mux)
 * and of the -chardev / -serial parsers.  The far side of every backend is
 * driven with plain system calls, not with another chardev, where possible. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "dm/chardev.h"
#include "dm/mainloop.h"
#include "tests/lib/cunit-run.h"

static char tmpdir[] = "/tmp/vireo-chardev-XXXXXX";

struct fe_rec {
    struct chardev_fe fe;
    char buf[8192];
    size_t len;
    size_t room;            /* what can_receive reports; SIZE_MAX: unlimited */
    int opened, closed, mux_in, mux_out, breaks;
};

static size_t rec_can(void *opaque)
{
    struct fe_rec *r = opaque;
    size_t space = sizeof(r->buf) - 1 - r->len;
    return r->room < space ? r->room : space;
}

static void rec_recv(void *opaque, const uint8_t *buf, size_t len)
{
    struct fe_rec *r = opaque;
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
    r->buf[r->len] = 0;
    if (r->room != SIZE_MAX)
        r->room -= len;
}

static void rec_event(void *opaque, enum chardev_event ev)
{
    struct fe_rec *r = opaque;
    switch (ev) {
    case CHARDEV_OPENED: r->opened++; break;
    case CHARDEV_CLOSED: r->closed++; break;
    case CHARDEV_MUX_IN: r->mux_in++; break;
    case CHARDEV_MUX_OUT: r->mux_out++; break;
    case CHARDEV_BREAK: r->breaks++; break;
    }
}

static int attach(struct fe_rec *r, struct chardev *c)
{
    memset(r, 0, sizeof(*r));
    r->room = SIZE_MAX;
    return chardev_fe_attach(&r->fe, c, rec_can, rec_recv, rec_event, r);
}

static char *path_in_tmp(const char *name)
{
    static char buf[4][256];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* Iterate the loop until cond holds (bounded by iterations, not time). */
#define SPIN(loop, cond) do { \
    for (int spin_ = 0; spin_ < 200 && !(cond); spin_++) main_loop_iterate(loop, 10000000); \
} while (0)

static struct main_loop *loop;
static struct chardev_set *set;

static int setup(void)
{
    if (!mkdtemp(tmpdir))
        return -1;
    loop = main_loop_new();
    set = chardev_set_new(loop);
    return 0;
}

static int teardown(void)
{
    chardev_set_free(set);
    main_loop_free(loop);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 ? (size_t)n : 0;
}

static void test_file(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    char opts[400], buf[64];

    snprintf(opts, sizeof(opts), "file,id=f1,path=%s", path_in_tmp("out.txt"));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(set, opts, &c, &err), 0);
    CU_ASSERT_STRING_EQUAL(chardev_backend_name(c), "file");
    CU_ASSERT_EQUAL(attach(&r, c), 0);
    CU_ASSERT_EQUAL(r.opened, 1);
    CU_ASSERT_EQUAL(chardev_fe_write(&r.fe, "hello\n", 6), 6);
    read_file(path_in_tmp("out.txt"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "hello\n");
    /* one front end per non-mux chardev */
    struct fe_rec r2;
    CU_ASSERT_EQUAL(attach(&r2, c), -EBUSY);
    chardev_fe_detach(&r.fe);

    /* shorthand, and a logfile copy */
    snprintf(opts, sizeof(opts), "file:%s", path_in_tmp("serial.txt"));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_shorthand(set, opts, "serial0", &c, &err), 0);
    CU_ASSERT_STRING_EQUAL(chardev_id(c), "serial0");
    attach(&r, c);
    chardev_fe_write(&r.fe, "abc", 3);
    read_file(path_in_tmp("serial.txt"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "abc");
    chardev_fe_detach(&r.fe);

    snprintf(opts, sizeof(opts), "null,id=n1,logfile=%s", path_in_tmp("log.txt"));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(set, opts, &c, &err), 0);
    attach(&r, c);
    chardev_fe_write(&r.fe, "logged", 6);
    read_file(path_in_tmp("log.txt"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "logged");
    chardev_fe_detach(&r.fe);

    /* a file that cannot be created: error names the path */
    CU_ASSERT_EQUAL(chardev_new_from_opts(set, "file,id=bad,path=/nonexistent-dir/x", &c, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent-dir/x"));
    CU_ASSERT_PTR_NULL(chardev_find(set, "bad"));
    /* ids are unique */
    CU_ASSERT_EQUAL(chardev_new_from_opts(set, "null,id=f1", &c, &err), -EEXIST);
}

static void test_pipe(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    char opts[400], buf[64];

    CU_ASSERT_EQUAL_FATAL(mkfifo(path_in_tmp("p.in"), 0600), 0);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path_in_tmp("p.out"), 0600), 0);
    snprintf(opts, sizeof(opts), "pipe:%s", path_in_tmp("p"));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_shorthand(set, opts, "pipe0", &c, &err), 0);
    attach(&r, c);
    int to = open(path_in_tmp("p.in"), O_WRONLY);
    int from = open(path_in_tmp("p.out"), O_RDONLY | O_NONBLOCK);
    CU_ASSERT_EQUAL(write(to, "guest", 5), 5);
    SPIN(loop, r.len >= 5);
    CU_ASSERT_STRING_EQUAL(r.buf, "guest");
    chardev_fe_write(&r.fe, "host", 4);
    CU_ASSERT_EQUAL(read(from, buf, sizeof(buf)), 4);
    CU_ASSERT_EQUAL(memcmp(buf, "host", 4), 0);
    close(to);
    close(from);
    chardev_fe_detach(&r.fe);
}

static void test_pty(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    char buf[64];

    CU_ASSERT_EQUAL_FATAL(chardev_new_from_shorthand(set, "pty", "ptyser", &c, &err), 0);
    const char *slave = chardev_filename(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(slave);
    CU_ASSERT_EQUAL(strncmp(slave, "/dev/pts/", 9), 0);
    attach(&r, c);
    int fd = open(slave, O_RDWR | O_NOCTTY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "typed", 5), 5);
    SPIN(loop, r.len >= 5);
    CU_ASSERT_STRING_EQUAL(r.buf, "typed");
    chardev_fe_write(&r.fe, "shown", 5);
    ssize_t n = 0;
    for (int i = 0; i < 100 && n < 5; i++) {
        ssize_t k = read(fd, buf + n, sizeof(buf) - (size_t)n);
        if (k > 0)
            n += k;
    }
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(memcmp(buf, "shown", 5), 0);
    close(fd);
    chardev_fe_detach(&r.fe);
}

static int tcp_connect(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_tcp_server(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    char buf[64];

    CU_ASSERT_EQUAL_FATAL(chardev_new_from_shorthand(set, "tcp:127.0.0.1:0,server,nowait", "tcpser", &c,
                                                     &err), 0);
    const char *addr = chardev_filename(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(addr);
    CU_ASSERT_EQUAL(strncmp(addr, "tcp:127.0.0.1:", 14), 0);
    int port = atoi(addr + 14);
    CU_ASSERT(port > 0);
    attach(&r, c);
    CU_ASSERT_EQUAL(r.opened, 0);              /* nobody connected yet */
    CU_ASSERT_FALSE(chardev_is_connected(c));
    /* output with no client is dropped, not an error */
    CU_ASSERT_EQUAL(chardev_fe_write(&r.fe, "lost", 4), 4);

    int fd = tcp_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    SPIN(loop, r.opened == 1);
    CU_ASSERT_EQUAL(r.opened, 1);
    CU_ASSERT_EQUAL(write(fd, "ping", 4), 4);
    SPIN(loop, r.len >= 4);
    CU_ASSERT_STRING_EQUAL(r.buf, "ping");
    chardev_fe_write(&r.fe, "pong", 4);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 4);
    CU_ASSERT_EQUAL(memcmp(buf, "pong", 4), 0);
    /* a second client waits in the backlog while the first is connected... */
    int fd2 = tcp_connect(port);
    CU_ASSERT_FATAL(fd2 >= 0);
    SPIN(loop, 0);
    CU_ASSERT_EQUAL(r.opened, 1);
    /* ...and is served once the first disconnects */
    close(fd);
    SPIN(loop, r.opened == 2);
    CU_ASSERT_EQUAL(r.closed, 1);
    CU_ASSERT_EQUAL(r.opened, 2);
    fd = fd2;
    CU_ASSERT_EQUAL(write(fd, "again", 5), 5);
    SPIN(loop, r.len >= 9);
    CU_ASSERT_STRING_EQUAL(r.buf, "pingagain");
    close(fd);
    SPIN(loop, r.closed == 2);
    chardev_fe_detach(&r.fe);
}

static void test_telnet_server(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    uint8_t buf[64];

    CU_ASSERT_EQUAL_FATAL(chardev_new_from_shorthand(set, "telnet:127.0.0.1:0,server,nowait", "tn", &c,
                                                     &err), 0);
    int port = atoi(chardev_filename(c) + 14);
    attach(&r, c);
    int fd = tcp_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    SPIN(loop, r.opened == 1);
    /* RFC 854/857/858: IAC WILL ECHO, IAC WILL SGA, IAC DO SGA, IAC DONT LINEMODE */
    static const uint8_t hello[] = { 255, 251, 1, 255, 251, 3, 255, 253, 3, 255, 254, 34 };
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(hello)), (ssize_t)sizeof(hello));
    CU_ASSERT_EQUAL(memcmp(buf, hello, sizeof(hello)), 0);
    /* commands are stripped, IAC IAC is a data 0xff, CR NUL is a CR */
    static const uint8_t in[] = {
        'a', 255, 251, 1, 'b', 255, 255, 'c', 255, 250, 24, 0, 'x', 255, 240,
        'd', '\r', 0, 'e', 255, 241, 'f',
    };
    CU_ASSERT_EQUAL(write(fd, in, 11), 11);     /* split inside the subnegotiation */
    SPIN(loop, r.len >= 4);
    CU_ASSERT_EQUAL(write(fd, in + 11, sizeof(in) - 11), (ssize_t)(sizeof(in) - 11));
    SPIN(loop, r.len >= 8);
    CU_ASSERT_EQUAL(r.len, 8);
    CU_ASSERT_EQUAL(memcmp(r.buf, "ab\xff" "cd\ref", 8), 0);
    /* output: 0xff doubled */
    chardev_fe_write(&r.fe, "x\xffy", 3);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 4);
    CU_ASSERT_EQUAL(memcmp(buf, "x\xff\xffy", 4), 0);
    close(fd);
    SPIN(loop, r.closed == 1);
    chardev_fe_detach(&r.fe);
}

static void test_tcp_client(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    char spec[64], buf[16];

    /* a plain listening socket plays the server */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    snprintf(spec, sizeof(spec), "socket,id=tc,host=127.0.0.1,port=%u,nodelay=on", ntohs(sa.sin_port));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(set, spec, &c, &err), 0);
    CU_ASSERT(chardev_is_connected(c));
    attach(&r, c);
    CU_ASSERT_EQUAL(r.opened, 1);
    int fd = accept(lfd, NULL, NULL);
    CU_ASSERT_FATAL(fd >= 0);
    chardev_fe_write(&r.fe, "hi", 2);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 2);
    CU_ASSERT_EQUAL(write(fd, "yo", 2), 2);
    SPIN(loop, r.len >= 2);
    CU_ASSERT_STRING_EQUAL(r.buf, "yo");
    /* the server goes away: CLOSED, and writes are dropped without SIGPIPE */
    close(fd);
    SPIN(loop, r.closed == 1);
    CU_ASSERT_EQUAL(r.closed, 1);
    CU_ASSERT_FALSE(chardev_is_connected(c));
    CU_ASSERT_EQUAL(chardev_fe_write(&r.fe, "gone", 4), 4);
    chardev_fe_detach(&r.fe);
    close(lfd);
    /* nobody listening: a clear error */
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
    CU_ASSERT(chardev_new_from_shorthand(set, spec, "refused", &c, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "connect"));
}

static void test_unix_server_and_client(void)
{
    struct chardev *srv, *cli;
    struct fe_rec rs, rc;
    struct dm_err err = {{0}};
    char opts[400];

    snprintf(opts, sizeof(opts), "socket,id=qmp,path=%s,server=on,wait=off", path_in_tmp("qmp.sock"));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(set, opts, &srv, &err), 0);
    attach(&rs, srv);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path_in_tmp("qmp.sock"), &st), 0);
    CU_ASSERT(S_ISSOCK(st.st_mode));
    /* a chardev client connects to it */
    snprintf(opts, sizeof(opts), "unix:%s", path_in_tmp("qmp.sock"));
    CU_ASSERT_EQUAL_FATAL(chardev_new_from_shorthand(set, opts, "qmpclient", &cli, &err), 0);
    attach(&rc, cli);
    CU_ASSERT_EQUAL(rc.opened, 1);
    SPIN(loop, rs.opened == 1);
    chardev_fe_write(&rc.fe, "{\"execute\":\"qmp_capabilities\"}", 30);
    SPIN(loop, rs.len >= 30);
    CU_ASSERT_EQUAL(rs.len, 30);
    chardev_fe_write(&rs.fe, "{\"return\": {}}", 14);
    SPIN(loop, rc.len >= 14);
    CU_ASSERT_STRING_EQUAL(rc.buf, "{\"return\": {}}");
    chardev_fe_detach(&rc.fe);
    chardev_fe_detach(&rs.fe);

    /* connecting to nothing fails with a message naming the address */
    snprintf(opts, sizeof(opts), "socket,id=nope,path=%s", path_in_tmp("absent.sock"));
    CU_ASSERT(chardev_new_from_opts(set, opts, &cli, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "absent.sock"));
}

static void test_ringbuf_and_backpressure(void)
{
    struct chardev *c;
    struct fe_rec r;
    struct dm_err err = {{0}};
    char buf[32];

    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(set, "ringbuf,id=rb,size=8", &c, &err), 0);
    attach(&r, c);
    chardev_fe_write(&r.fe, "0123456789", 10);
    CU_ASSERT_EQUAL(chardev_ringbuf_read(c, buf, sizeof(buf)), 8);
    CU_ASSERT_EQUAL(memcmp(buf, "23456789", 8), 0);
    CU_ASSERT_EQUAL(chardev_ringbuf_read(c, buf, sizeof(buf)), 0);
    /* a front end that takes 2 bytes at a time */
    r.room = 2;
    chardev_inject_input(c, "abcdef", 6);
    CU_ASSERT_STRING_EQUAL(r.buf, "ab");
    r.room = 3;
    chardev_fe_accept_input(&r.fe);
    CU_ASSERT_STRING_EQUAL(r.buf, "abcde");
    r.room = SIZE_MAX;
    chardev_fe_accept_input(&r.fe);
    CU_ASSERT_STRING_EQUAL(r.buf, "abcdef");
    chardev_fe_detach(&r.fe);
}

static int quits;
static void on_quit(void *opaque) { quits++; }

static void test_mux(void)
{
    struct chardev *c;
    struct fe_rec mon, ser;
    struct dm_err err = {{0}};
    char buf[512];

    CU_ASSERT_EQUAL_FATAL(chardev_new_from_opts(set, "ringbuf,id=muxed,mux=on", &c, &err), 0);
    CU_ASSERT(chardev_is_mux(c));
    chardev_set_quit_handler(set, on_quit, NULL);
    attach(&mon, c);
    attach(&ser, c);            /* the last attached has the focus */
    CU_ASSERT_EQUAL(mon.mux_out, 1);
    chardev_inject_input(c, "ls\r", 3);
    CU_ASSERT_STRING_EQUAL(ser.buf, "ls\r");
    CU_ASSERT_EQUAL(mon.len, 0);
    /* C-a c: focus to the monitor */
    chardev_inject_input(c, "\x01" "cinfo", 6);
    CU_ASSERT_STRING_EQUAL(mon.buf, "info");
    CU_ASSERT_EQUAL(ser.mux_out, 1);
    CU_ASSERT_EQUAL(mon.mux_in, 2);
    CU_ASSERT_STRING_EQUAL(ser.buf, "ls\r");
    /* and back; C-a C-a is a literal C-a; C-a b is a break */
    chardev_inject_input(c, "\x01" "c" "\x01\x01" "\x01" "b", 6);
    CU_ASSERT_EQUAL(ser.len, 4);
    CU_ASSERT_EQUAL(ser.buf[3], 0x01);
    CU_ASSERT_EQUAL(ser.breaks, 1);
    /* an escape split across two reads still works */
    chardev_inject_input(c, "\x01", 1);
    chardev_inject_input(c, "c", 1);
    CU_ASSERT_EQUAL(mon.mux_in, 3);
    /* C-a h prints help to the terminal, C-a x quits */
    chardev_ringbuf_read(c, buf, sizeof(buf));
    chardev_inject_input(c, "\x01h", 2);
    size_t n = chardev_ringbuf_read(c, buf, sizeof(buf) - 1);
    buf[n] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "C-a x"));
    chardev_inject_input(c, "\x01x", 2);
    CU_ASSERT_EQUAL(quits, 1);
    /* both front ends write to the same backend */
    chardev_fe_write(&mon.fe, "(vireo) ", 8);
    chardev_fe_write(&ser.fe, "login: ", 7);
    n = chardev_ringbuf_read(c, buf, sizeof(buf) - 1);
    buf[n] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(vireo) login: "));
    chardev_fe_detach(&ser.fe);
    chardev_fe_detach(&mon.fe);
}

static void test_serial_shorthand(void)
{
    struct chardev *c, *ref;
    struct dm_err err = {{0}};

    CU_ASSERT_EQUAL(chardev_new_from_shorthand(set, "none", "s", &c, &err), 0);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(chardev_new_from_shorthand(set, "null", "snull", &c, &err), 0);
    CU_ASSERT_STRING_EQUAL(chardev_backend_name(c), "null");
    CU_ASSERT_EQUAL(chardev_new_from_opts(set, "ringbuf,id=shared", &c, &err), 0);
    CU_ASSERT_EQUAL(chardev_new_from_shorthand(set, "chardev:shared", "serial1", &ref, &err), 0);
    CU_ASSERT_PTR_EQUAL(ref, c);
    CU_ASSERT_EQUAL(chardev_new_from_shorthand(set, "chardev:missing", "serial2", &ref, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing"));
    /* stdio once per process (stdin is /dev/null under make check: fine) */
    CU_ASSERT_EQUAL(chardev_new_from_shorthand(set, "mon:stdio", "compat_monitor0", &c, &err), 0);
    CU_ASSERT(chardev_is_mux(c));
    CU_ASSERT_EQUAL(chardev_new_from_opts(set, "stdio,id=again", &c, &err), -EBUSY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "compat_monitor0"));
}

static void test_parse_errors(void)
{
    static const struct { const char *opts; const char *msg; } bad_opts[] = {
        { "", "empty" },
        { "bogus,id=x", "unknown backend 'bogus'" },
        { "null", "'id' is required" },
        { "file,id=x", "'path' is required" },
        { "null,id=x,foo=bar", "unknown option 'foo'" },
        { "socket,id=x", "path= or port=" },
        { "socket,id=x,path=/tmp/a,port=4", "not both" },
        { "socket,id=x,port=70000", "invalid port '70000'" },
        { "socket,id=x,port=4x", "invalid port '4x'" },
        { "socket,id=x,port=44,server=maybe", "'server'" },
        { "socket,id=x,port=1,wait=off", "'wait' only applies" },
        { "socket,id=x,host=h,port=1,reconnect=1", "not supported" },
        { "socket,id=x,host=h,port=1,telnet=perhaps", "'telnet'" },
        { "ringbuf,id=r,size=3", "power of two" },
        { "stdio,id=s,signal=2", "'signal'" },
        { "null,id=x,=y", "without a name" },
    };
    static const struct { const char *spec; const char *msg; } bad_short[] = {
        { "tcp:", "expected tcp:" },
        { "tcp:localhost", "expected tcp:" },
        { "tcp::99999", "invalid port" },
        { "tcp:host:0", "invalid port" },           /* port 0 only for servers */
        { "unix:", "empty or too long" },
        { "tcp::4444,server,bogus", "unknown option 'bogus'" },
        { "file:", "missing path" },
        { "chardev:", "missing chardev id" },
        { "mon:none", "mon: needs" },
        { "mon:chardev:x", "mon: needs" },
        { "xyz", "unknown character device" },
        { "telnet:localhost", "expected telnet:" },
        { "udp::4444", "unknown character device" },
    };
    static const char *good_short[] = {
        "tcp::4444,server,nowait", "tcp:localhost:4444", "tcp:[::1]:4444,server=on,wait=off",
        "unix:/tmp/x.sock,server,nowait", "unix:/tmp/x.sock,server=on,wait=off", "mon:stdio",
        "pty", "null", "none", "vc", "file:/tmp/out", "pipe:/tmp/p", "chardev:foo",
        "/dev/ttyS0", "mon:tcp::5555,server,nowait", "telnet::4444,server,nowait",
        "mon:telnet:127.0.0.1:4444,server=on,wait=off",
    };
    struct dm_err err;
    char backend[32];

    for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
        memset(&err, 0, sizeof(err));
        int ret = chardev_parse_check(bad_opts[i].opts, backend, sizeof(backend), &err);
        CU_ASSERT(ret < 0);
        if (!strstr(err.msg, bad_opts[i].msg)) {
            printf("-chardev '%s': message '%s' lacks '%s'\n", bad_opts[i].opts, err.msg, bad_opts[i].msg);
            CU_FAIL("error message");
        }
    }
    for (size_t i = 0; i < sizeof(bad_short) / sizeof(bad_short[0]); i++) {
        memset(&err, 0, sizeof(err));
        CU_ASSERT(chardev_shorthand_check(bad_short[i].spec, &err) < 0);
        if (!strstr(err.msg, bad_short[i].msg)) {
            printf("-serial '%s': message '%s' lacks '%s'\n", bad_short[i].spec, err.msg, bad_short[i].msg);
            CU_FAIL("error message");
        }
    }
    for (size_t i = 0; i < sizeof(good_short) / sizeof(good_short[0]); i++) {
        int ret = chardev_shorthand_check(good_short[i], &err);
        if (ret < 0)
            printf("-serial '%s' refused: %s\n", good_short[i], err.msg);
        CU_ASSERT_EQUAL(ret, 0);
    }
    CU_ASSERT_EQUAL(chardev_parse_check("socket,id=q,path=/tmp/q.sock,server=on,wait=off", backend,
                                        sizeof(backend), &err), 0);
    CU_ASSERT_STRING_EQUAL(backend, "socket");
    CU_ASSERT_EQUAL(chardev_parse_check("memory,id=m", backend, sizeof(backend), &err), 0);
    CU_ASSERT_STRING_EQUAL(backend, "memory");
    /* ",," escapes a comma inside a value */
    CU_ASSERT_EQUAL(chardev_parse_check("file,id=f,path=/tmp/a,,b", backend, sizeof(backend), &err), 0);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("chardev", setup, teardown);
    CU_add_test(s, "file", test_file);
    CU_add_test(s, "pipe", test_pipe);
    /* a host without ptys skips the test instead of passing it */
    if (access("/dev/ptmx", R_OK | W_OK) == 0)
        CU_add_test(s, "pty", test_pty);
    else
        printf("SKIP: chardev/pty (no usable /dev/ptmx)\n");
    CU_add_test(s, "tcp_server", test_tcp_server);
    CU_add_test(s, "telnet_server", test_telnet_server);
    CU_add_test(s, "tcp_client", test_tcp_client);
    CU_add_test(s, "unix_server_and_client", test_unix_server_and_client);
    CU_add_test(s, "ringbuf_and_backpressure", test_ringbuf_and_backpressure);
    CU_add_test(s, "mux", test_mux);
    CU_add_test(s, "serial_shorthand", test_serial_shorthand);
    CU_add_test(s, "parse_errors", test_parse_errors);
    return cunit_run_all();
}
