/* Character devices: byte streams between a front end (UART, monitor) and a
 * host backend.
 *
 * Backends: null, stdio (raw terminal while open, restored at exit), file
 * (output only), pipe (PATH.in/PATH.out or PATH), pty (name printed at open),
 * socket (tcp or unix; server with wait/nowait, or client), ringbuf (kept in
 * memory, size=), serial (a host tty), and mux (several front ends on one
 * backend: `mon:stdio`, Ctrl-A c switches focus, Ctrl-A x quits, Ctrl-A h help,
 * Ctrl-A b break, Ctrl-A Ctrl-A sends Ctrl-A).
 *
 * Chardevs of one machine live in a `struct chardev_set` (ids for chardev=ID
 * and -serial chardev:ID).  Input is read by the main loop and delivered to the
 * front end with the device lock held. */
#ifndef DM_CHARDEV_H
#define DM_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dm/log.h"

struct chardev;
struct chardev_set;
struct main_loop;

enum chardev_event {
    CHARDEV_OPENED,     /* a peer connected (socket) or the backend is ready */
    CHARDEV_CLOSED,     /* the peer went away */
    CHARDEV_MUX_IN,     /* mux: this front end now has the focus */
    CHARDEV_MUX_OUT,
    CHARDEV_BREAK,
};

/* Front-end callbacks: can_receive says how many bytes it accepts now (0 stops
 * input until chardev_fe_accept_input()); receive gets at most that many. */
typedef size_t chardev_can_receive_fn(void *opaque);
typedef void chardev_receive_fn(void *opaque, const uint8_t *buf, size_t len);
typedef void chardev_event_fn(void *opaque, enum chardev_event ev);

/* A front end's handle; embed it in the front end's state. */
struct chardev_fe {
    struct chardev *chr;
    chardev_can_receive_fn *can_receive;
    chardev_receive_fn *receive;
    chardev_event_fn *event;
    void *opaque;
    int mux_index;              /* private */
};

/* ---- sets, creation --------------------------------------------------------- */

struct chardev_set *chardev_set_new(struct main_loop *loop);
/* Closes every chardev (restoring the terminal). */
void chardev_set_free(struct chardev_set *set);
struct chardev *chardev_find(struct chardev_set *set, const char *id);

/* -chardev BACKEND,id=ID[,options]:
 *   null | stdio[,signal=on|off] | file,path=P[,append=on] | pipe,path=P
 *   pty | ringbuf[,size=N] | serial,path=P | socket,host=H,port=P | socket,path=P
 *   socket options: server=on|off, wait=on|off (server; default on), nodelay=on,
 *   telnet=on; reconnect, tls and websocket are refused.  Any backend: mux=on, logfile=P,
 *   logappend=on.  Booleans also take QEMU's bare "key" / "nokey" forms.
 * -EINVAL/-ENOENT/... with a message naming the option or file. */
int chardev_new_from_opts(struct chardev_set *set, const char *opts, struct chardev **out,
                          struct dm_err *err);
/* -serial/-monitor shorthand: stdio, mon:stdio (or mon:ANY), file:P, pipe:P,
 * pty, null, none (returns 0 with *out = NULL), tcp:[H]:P[,server][,nowait]
 * [,wait=off], telnet:[H]:P[,...] (as tcp:, with telnet), unix:P[,server][,nowait], chardev:ID (the existing chardev),
 * /dev/TTY (serial), vc (treated as null).
 * id names the new chardev ("serial0"); `mon:` makes it a mux. */
int chardev_new_from_shorthand(struct chardev_set *set, const char *spec, const char *id,
                               struct chardev **out, struct dm_err *err);

/* Parsers without side effects (for fuzzing and early option checking): they
 * validate and return the backend name in buf. */
int chardev_parse_check(const char *opts, char *backend, size_t len, struct dm_err *err);
int chardev_shorthand_check(const char *spec, struct dm_err *err);

const char *chardev_id(const struct chardev *c);
const char *chardev_backend_name(const struct chardev *c);
/* pty: the slave path; socket server: the bound address ("tcp:127.0.0.1:4444",
 * "unix:/path"); others: NULL.  Used by `info chardev` and tests. */
const char *chardev_filename(const struct chardev *c);
bool chardev_is_mux(const struct chardev *c);
bool chardev_is_connected(const struct chardev *c);

/* Ring buffer backend: take up to len buffered output bytes. */
size_t chardev_ringbuf_read(struct chardev *c, void *buf, size_t len);
/* Feed input bytes as if they came from the host side (tests, ringbuf-write). */
void chardev_inject_input(struct chardev *c, const void *buf, size_t len);

/* ---- front ends ------------------------------------------------------------- */

/* Attach fe to chr.  -EBUSY if chr is not a mux and already has a front end
 * (or a mux has 4).  The last attached front end of a mux gets the focus. */
int chardev_fe_attach(struct chardev_fe *fe, struct chardev *chr,
                      chardev_can_receive_fn *can_receive, chardev_receive_fn *receive,
                      chardev_event_fn *event, void *opaque);
void chardev_fe_detach(struct chardev_fe *fe);
/* Write all of buf to the backend.  Blocks briefly for files and terminals;
 * with no peer (unconnected socket/pty) the bytes are dropped.  Returns len, or
 * -errno.  A front end without chr (fe->chr NULL) writes nowhere. */
ssize_t chardev_fe_write(struct chardev_fe *fe, const void *buf, size_t len);
/* The front end can accept input again (after can_receive returned 0). */
void chardev_fe_accept_input(struct chardev_fe *fe);
/* Mux: give the focus to fe. */
void chardev_fe_focus(struct chardev_fe *fe);

/* Quit request from the mux (Ctrl-A x): set by the owner of the set. */
void chardev_set_quit_handler(struct chardev_set *set, void (*quit)(void *opaque), void *opaque);

#endif
