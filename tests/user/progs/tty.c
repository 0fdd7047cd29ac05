/* Terminal ioctls through a pseudo-terminal pair: posix_openpt/grantpt/unlockpt/
 * ptsname (TIOCGPTN, TIOCSPTLCK), tcgetattr/tcsetattr (TCGETS/TCSETS*: raw mode,
 * speeds, c_cc), TIOCSWINSZ/TIOCGWINSZ, isatty, and data both ways with and
 * without echo/ICRNL processing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

int main(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    CHECK(grantpt(m) == 0 && unlockpt(m) == 0);
    char *name = ptsname(m);
    CHECK(name && strncmp(name, "/dev/pts/", 9) == 0);
    int s = open(name, O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    CHECK(isatty(s) == 1 && isatty(m) == 1);
    int p[2];
    CHECK(pipe(p) == 0 && isatty(p[0]) == 0);

    struct termios t;
    CHECK(tcgetattr(s, &t) == 0);
    printf("default: icanon %d echo %d icrnl %d vmin %d vintr %d\n", !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO),
           !!(t.c_iflag & ICRNL), t.c_cc[VMIN], t.c_cc[VINTR]);
    /* canonical mode with ICRNL: "ab\r" arrives as "ab\n" */
    CHECK(write(m, "ab\r", 3) == 3);
    char buf[64] = { 0 };
    ssize_t n = read(s, buf, sizeof(buf));
    CHECK(n == 3 && memcmp(buf, "ab\n", 3) == 0);
    /* the echo comes back on the master */
    char echo[64] = { 0 };
    n = read(m, echo, sizeof(echo));
    printf("echo: %zd bytes\n", n);

    cfmakeraw(&t);
    cfsetispeed(&t, B9600);
    cfsetospeed(&t, B9600);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    CHECK(tcsetattr(s, TCSANOW, &t) == 0);
    struct termios u;
    CHECK(tcgetattr(s, &u) == 0);
    CHECK(!(u.c_lflag & (ICANON | ECHO)) && !(u.c_iflag & ICRNL) && cfgetospeed(&u) == B9600);
    printf("raw: icanon %d echo %d ospeed %d\n", !!(u.c_lflag & ICANON), !!(u.c_lflag & ECHO), (int)cfgetospeed(&u));
    CHECK(write(m, "x\r", 2) == 2);
    n = read(s, buf, 2);
    CHECK(n == 2 && buf[0] == 'x' && buf[1] == '\r');
    CHECK(tcsetattr(s, TCSAFLUSH, &t) == 0 && tcsetattr(s, TCSADRAIN, &t) == 0);

    struct winsize ws = { .ws_row = 33, .ws_col = 101 }, got;
    CHECK(ioctl(m, TIOCSWINSZ, &ws) == 0);
    CHECK(ioctl(s, TIOCGWINSZ, &got) == 0 && got.ws_row == 33 && got.ws_col == 101);
    printf("winsize: %dx%d\n", got.ws_col, got.ws_row);
    int avail = -1;
    CHECK(write(m, "hello", 5) == 5);
    usleep(10000);
    CHECK(ioctl(s, FIONREAD, &avail) == 0 && avail == 5);
    printf("fionread: %d\n", avail);
    CHECK(tcflush(s, TCIFLUSH) == 0);
    CHECK(tcgetattr(p[0], &t) < 0);   /* not a terminal: ENOTTY */
    printf("tty: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
