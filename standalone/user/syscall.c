/* Linux riscv64 system calls on an x86-64 Linux host.
 *
 * riscv64 uses the asm-generic numbering; most calls have the same argument
 * structures on both 64-bit ABIs and go straight to the host with guest pointers
 * turned into host pointers.  Where the layouts differ (struct stat, struct
 * sigaction, struct epoll_event) the call is translated here.  Pointers a guest hands
 * us are checked against the guest space: outside it they become a host address the
 * kernel refuses (EFAULT), and buffers are checked with their length so that the
 * kernel never writes past the reservation. */
#include "user.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* riscv64 (asm-generic) system call numbers used below.  Source: <asm/unistd.h>. */
enum {
    RV_getcwd = 17, RV_eventfd2 = 19, RV_epoll_create1 = 20, RV_epoll_ctl = 21,
    RV_epoll_pwait = 22, RV_dup = 23, RV_dup3 = 24, RV_fcntl = 25, RV_ioctl = 29,
    RV_flock = 32, RV_mknodat = 33, RV_mkdirat = 34, RV_unlinkat = 35, RV_symlinkat = 36,
    RV_linkat = 37, RV_statfs = 43, RV_fstatfs = 44, RV_truncate = 45, RV_ftruncate = 46,
    RV_fallocate = 47, RV_faccessat = 48, RV_chdir = 49, RV_fchdir = 50, RV_fchmod = 52,
    RV_fchmodat = 53, RV_fchownat = 54, RV_fchown = 55, RV_openat = 56, RV_close = 57,
    RV_pipe2 = 59, RV_getdents64 = 61, RV_lseek = 62, RV_read = 63, RV_write = 64,
    RV_readv = 65, RV_writev = 66, RV_pread64 = 67, RV_pwrite64 = 68, RV_preadv = 69,
    RV_pwritev = 70, RV_sendfile = 71, RV_pselect6 = 72, RV_ppoll = 73, RV_readlinkat = 78,
    RV_newfstatat = 79, RV_fstat = 80, RV_sync = 81, RV_fsync = 82, RV_fdatasync = 83,
    RV_timerfd_create = 85, RV_timerfd_settime = 86, RV_timerfd_gettime = 87,
    RV_utimensat = 88, RV_personality = 92, RV_exit = 93, RV_exit_group = 94,
    RV_waitid = 95, RV_set_tid_address = 96, RV_futex = 98, RV_set_robust_list = 99,
    RV_get_robust_list = 100, RV_timer_create = 107, RV_timer_gettime = 108,
    RV_timer_getoverrun = 109, RV_timer_settime = 110, RV_timer_delete = 111,
    RV_nanosleep = 101, RV_getitimer = 102, RV_setitimer = 103, RV_clock_gettime = 113,
    RV_clock_getres = 114, RV_clock_nanosleep = 115, RV_sched_setaffinity = 122,
    RV_sched_getaffinity = 123, RV_sched_yield = 124, RV_kill = 129, RV_tkill = 130,
    RV_tgkill = 131, RV_sigaltstack = 132, RV_rt_sigsuspend = 133, RV_rt_sigaction = 134,
    RV_rt_sigprocmask = 135, RV_rt_sigpending = 136, RV_rt_sigtimedwait = 137,
    RV_rt_sigreturn = 139, RV_setpriority = 140, RV_getpriority = 141, RV_setregid = 143,
    RV_setgid = 144, RV_setreuid = 145, RV_setuid = 146, RV_setresuid = 147,
    RV_getresuid = 148, RV_setresgid = 149, RV_getresgid = 150, RV_times = 153,
    RV_setpgid = 154, RV_getpgid = 155, RV_getsid = 156, RV_setsid = 157,
    RV_getgroups = 158, RV_setgroups = 159, RV_uname = 160, RV_getrlimit = 163,
    RV_setrlimit = 164, RV_getrusage = 165, RV_umask = 166, RV_prctl = 167, RV_getcpu = 168,
    RV_gettimeofday = 169, RV_getpid = 172, RV_getppid = 173, RV_getuid = 174,
    RV_geteuid = 175, RV_getgid = 176, RV_getegid = 177, RV_gettid = 178, RV_sysinfo = 179,
    RV_socket = 198, RV_socketpair = 199, RV_bind = 200, RV_listen = 201, RV_accept = 202,
    RV_connect = 203, RV_getsockname = 204, RV_getpeername = 205, RV_sendto = 206,
    RV_recvfrom = 207, RV_setsockopt = 208, RV_getsockopt = 209, RV_shutdown = 210,
    RV_sendmsg = 211, RV_recvmsg = 212, RV_brk = 214, RV_munmap = 215, RV_mremap = 216,
    RV_clone = 220, RV_execve = 221, RV_mmap = 222, RV_fadvise64 = 223, RV_mprotect = 226,
    RV_msync = 227, RV_mlock = 228, RV_munlock = 229, RV_madvise = 233, RV_accept4 = 242,
    RV_riscv_hwprobe = 258, RV_riscv_flush_icache = 259, RV_wait4 = 260, RV_prlimit64 = 261,
    RV_renameat2 = 276, RV_getrandom = 278, RV_memfd_create = 279, RV_membarrier = 283,
    RV_copy_file_range = 285, RV_statx = 291, RV_rseq = 293, RV_clone3 = 435,
    RV_close_range = 436, RV_faccessat2 = 439,
};

/* Guest words at any alignment (a guest may hand us a misaligned struct; Linux
 * copies it byte-wise, and a typed load of it would be undefined behaviour). */
typedef uint64_t u64_any __attribute__((aligned(1), may_alias));
typedef uint32_t u32_any __attribute__((aligned(1), may_alias));

/* A host address the kernel always refuses: non-canonical on x86-64. */
#define BAD_PTR ((void *)0x8000000000000000ULL)

/* Guest pointer to a buffer of len bytes: NULL stays NULL (many calls give NULL a
 * meaning), anything not wholly inside the guest space becomes BAD_PTR. */
static void *gbuf(uint64_t addr, uint64_t len)
{
    if (addr == 0)
        return NULL;
    return guest_range_ok(addr, len) ? g2h(addr) : BAD_PTR;
}

/* Guest memory the emulator itself reads or writes (not the kernel): every page
 * must be mapped with that permission, else BAD_PTR (the caller returns EFAULT). */
static void *gread(uint64_t addr, uint64_t len)
{
    if (addr == 0)
        return NULL;
    return user_access_ok(addr, len, false) ? g2h(addr) : BAD_PTR;
}

static void *gwrite(uint64_t addr, uint64_t len)
{
    if (addr == 0)
        return NULL;
    return user_access_ok(addr, len, true) ? g2h(addr) : BAD_PTR;
}

/* A guest string: the last guest page is never mapped (see user_mmap), so the kernel
 * stops at a fault before it could read past the reservation. */
static void *gstr(uint64_t addr)
{
    return gbuf(addr, 1);
}

void user_mem_prepare_write(uint64_t addr, uint64_t len);

int user_log(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    return (int)write(2, buf, n);
}

/* ---- paths ----------------------------------------------------------------------- */

static const char *proc_self_exe(const char *p)
{
    static const char *const names[] = { "/proc/self/exe", NULL };
    for (int i = 0; names[i]; i++)
        if (strcmp(p, names[i]) == 0)
            return user_opts.exe_path;
    char pidexe[64];
    snprintf(pidexe, sizeof(pidexe), "/proc/%d/exe", getpid());
    if (strcmp(p, pidexe) == 0)
        return user_opts.exe_path;
    return NULL;
}

/* The host path for a guest path: /proc/self/exe is the guest program; absolute
 * paths are looked up under the sysroot first (how the dynamic loader finds the
 * guest's libraries), except the kernel's own file systems. */
static const char *host_path(uint64_t g, char *buf, size_t buflen)
{
    const char *p = gstr(g);
    if (p == NULL || p == BAD_PTR)
        return p;
    /* Copy it so that another guest thread cannot change it between our look and the
     * kernel's. */
    size_t i = 0;
    for (; i < buflen - 1 && user_access_ok(g + i, 1, false); i++) {
        buf[i] = p[i];
        if (!p[i])
            break;
    }
    if (i == buflen - 1 || !user_access_ok(g + i, 1, false))
        return BAD_PTR;
    const char *exe = proc_self_exe(buf);
    if (exe)
        return exe;
    const char *root = user_opts.sysroot;
    if (root && buf[0] == '/' && strncmp(buf, "/proc/", 6) && strncmp(buf, "/dev/", 5)
        && strncmp(buf, "/sys/", 5) && strcmp(buf, "/")) {
        char tmp[PATH_MAX + 512];
        int n = snprintf(tmp, sizeof(tmp), "%s%s", root, buf);
        struct stat st;
        if (n > 0 && (size_t)n < buflen && fstatat(AT_FDCWD, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            memcpy(buf, tmp, n + 1);
        }
    }
    return buf;
}

/* A fresh file holding text, for the /proc files shown as the guest expects. */
static int text_fd(const char *text, size_t len)
{
    int fd = memfd_create("vireo-proc", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -EIO;
    }
    return fd;
}

static const char cpuinfo_text[] =
    "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc_zicsr_zifencei_zba_zbb_zbs\n"
    "mmu\t\t: sv39\n\n";

static int64_t do_openat(int dirfd, uint64_t gpath, int flags, int mode)
{
    char buf[PATH_MAX];
    const char *p = host_path(gpath, buf, sizeof(buf));
    if (p == BAD_PTR || p == NULL)
        return -EFAULT;
    char self_maps[64];
    snprintf(self_maps, sizeof(self_maps), "/proc/%d/maps", getpid());
    if (strcmp(p, "/proc/self/maps") == 0 || strcmp(p, self_maps) == 0) {
        size_t len;
        char *t = user_mem_maps_text(&len);
        if (!t)
            return -ENOMEM;
        int fd = text_fd(t, len);
        free(t);
        if (fd >= 0 && !(flags & O_CLOEXEC))
            fcntl(fd, F_SETFD, 0);
        return fd;
    }
    if (strcmp(p, "/proc/cpuinfo") == 0) {
        int fd = text_fd(cpuinfo_text, sizeof(cpuinfo_text) - 1);
        if (fd >= 0 && !(flags & O_CLOEXEC))
            fcntl(fd, F_SETFD, 0);
        return fd;
    }
    long r = syscall(SYS_openat, dirfd, p, flags, mode);
    return r < 0 ? -errno : r;
}

/* ---- struct translation ---------------------------------------------------------- */

/* struct stat of asm-generic (riscv64), <asm-generic/stat.h>. */
struct rv_stat {
    uint64_t st_dev, st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev, pad1;
    int64_t st_size;
    int32_t st_blksize, pad2;
    int64_t st_blocks;
    int64_t st_atime_, st_atime_nsec, st_mtime_, st_mtime_nsec, st_ctime_, st_ctime_nsec;
    uint32_t unused4, unused5;
};
_Static_assert(sizeof(struct rv_stat) == 128, "riscv64 struct stat is 128 bytes");

static int64_t put_stat(uint64_t g, const struct stat *st)
{
    void *dst = gwrite(g, sizeof(struct rv_stat));
    if (dst == NULL || dst == BAD_PTR)
        return -EFAULT;
    struct rv_stat rs = {
        .st_dev = st->st_dev, .st_ino = st->st_ino, .st_mode = st->st_mode,
        .st_nlink = (uint32_t)st->st_nlink, .st_uid = st->st_uid, .st_gid = st->st_gid,
        .st_rdev = st->st_rdev, .st_size = st->st_size, .st_blksize = (int32_t)st->st_blksize,
        .st_blocks = st->st_blocks,
        .st_atime_ = st->st_atim.tv_sec, .st_atime_nsec = st->st_atim.tv_nsec,
        .st_mtime_ = st->st_mtim.tv_sec, .st_mtime_nsec = st->st_mtim.tv_nsec,
        .st_ctime_ = st->st_ctim.tv_sec, .st_ctime_nsec = st->st_ctim.tv_nsec,
    };
    memcpy(dst, &rs, sizeof(rs));
    return 0;
}

/* struct epoll_event: packed (12 bytes) on x86-64, naturally aligned (16) on riscv64. */
struct rv_epoll_event {
    uint32_t events;
    uint32_t pad;
    uint64_t data;
} __attribute__((packed));   /* the same layout; packed only so that it may sit anywhere */

/* struct iovec arrays carry guest pointers. */
static struct iovec *get_iov(uint64_t g, uint64_t cnt, bool for_write_to_guest)
{
    if (cnt > IOV_MAX)
        return NULL;
    const u64_any *src = gread(g, cnt * 16);
    if (src == BAD_PTR || (src == NULL && cnt))
        return NULL;
    struct iovec *iov = calloc(cnt ? cnt : 1, sizeof(*iov));
    if (!iov)
        return NULL;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t base = src[2 * i], len = src[2 * i + 1];
        iov[i].iov_base = gbuf(base, len);
        iov[i].iov_len = len;
        if (iov[i].iov_base == BAD_PTR)
            iov[i].iov_len = 1;
        else if (for_write_to_guest)
            user_mem_prepare_write(base, len);
    }
    return iov;
}

/* struct msghdr: same layout on both ABIs but it carries guest pointers. */
static int64_t do_msg(int fd, uint64_t gmsg, int flags, bool send)
{
    u64_any *m = gwrite(gmsg, 56);
    if (m == NULL || m == BAD_PTR)
        return -EFAULT;
    struct msghdr h = {
        .msg_name = gbuf(m[0], (uint32_t)m[1]),
        .msg_namelen = (socklen_t)m[1],
        .msg_iovlen = m[3],
        .msg_control = gbuf(m[4], m[5]),
        .msg_controllen = m[5],
        .msg_flags = (int)m[6],
    };
    struct iovec *iov = get_iov(m[2], m[3], !send);
    if (!iov)
        return -EFAULT;
    h.msg_iov = iov;
    long r = user_safe_syscall(user_self, send ? SYS_sendmsg : SYS_recvmsg, fd, (long)&h, flags, 0, 0, 0);
    free(iov);
    if (r < 0)
        return r;
    if (!send) {
        ((u32_any *)&m[1])[0] = h.msg_namelen;
        m[5] = h.msg_controllen;
        ((u32_any *)&m[6])[0] = h.msg_flags;
    }
    return r;
}

/* ---- execve ---------------------------------------------------------------------- */

static char **get_strv(uint64_t g)
{
    size_t n = 0, cap = 16;
    char **v = calloc(cap, sizeof(char *));
    if (!v)
        return NULL;
    for (;; n++) {
        u64_any *slot = gread(g + n * 8, 8);
        if (slot == NULL || slot == BAD_PTR || n > 100000) {
            free(v);
            return NULL;
        }
        if (*slot == 0)
            break;
        if (n + 2 >= cap) {
            cap *= 2;
            char **nv = realloc(v, cap * sizeof(char *));
            if (!nv) {
                free(v);
                return NULL;
            }
            v = nv;
        }
        v[n] = gread(*slot, 1);
        if (v[n] == NULL || v[n] == BAD_PTR) {
            free(v);
            return NULL;
        }
    }
    v[n] = NULL;
    return v;
}

/* execve of a riscv64 program re-executes this emulator on it with the same
 * options; anything else (a host program, a script for a host interpreter) is
 * handed to the host kernel as it is. */
static int64_t do_execve(uint64_t gpath, uint64_t gargv, uint64_t genvp)
{
    char buf[PATH_MAX];
    const char *p = host_path(gpath, buf, sizeof(buf));
    if (p == NULL || p == BAD_PTR)
        return -EFAULT;
    char **argv = get_strv(gargv), **envp = get_strv(genvp);
    if (!argv || !envp) {
        free(argv);
        free(envp);
        return -EFAULT;
    }
    if (access(p, X_OK) < 0) {
        int e = errno;
        free(argv);
        free(envp);
        return -e;
    }
    /* "#!interp arg" scripts whose interpreter is a guest program go through us too. */
    char script_interp[PATH_MAX] = "", script_arg[PATH_MAX] = "";
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char hdr[256];
        ssize_t n = read(fd, hdr, sizeof(hdr) - 1);
        close(fd);
        if (n > 2 && hdr[0] == '#' && hdr[1] == '!') {
            hdr[n] = 0;
            char *nl = strchr(hdr, '\n');
            if (nl) {
                *nl = 0;
                char *s = hdr + 2;
                while (*s == ' ' || *s == '\t')
                    s++;
                char *e = s;
                while (*e && *e != ' ' && *e != '\t')
                    e++;
                char *a = *e ? e + 1 : e;
                *e = 0;
                while (*a == ' ' || *a == '\t')
                    a++;
                snprintf(script_interp, sizeof(script_interp), "%s", s);
                snprintf(script_arg, sizeof(script_arg), "%s", a);
            }
        }
    }
    const char *prog = p;
    char ibuf[PATH_MAX + 512];
    if (script_interp[0]) {
        prog = script_interp;
        if (user_opts.sysroot && script_interp[0] == '/') {
            snprintf(ibuf, sizeof(ibuf), "%s%s", user_opts.sysroot, script_interp);
            if (access(ibuf, X_OK) == 0)
                prog = ibuf;
        }
    }
    if (!user_is_guest_elf(prog)) {
        execve(p, argv, envp);
        int e = errno;
        free(argv);
        free(envp);
        return -e;
    }
    if (!user_opts.self) {   /* no /proc to find ourselves with (main.c) */
        free(argv);
        free(envp);
        return -ENOEXEC;
    }
    int argc = 0;
    while (argv[argc])
        argc++;
    char **nv = calloc(user_opts.opt_argc + argc + 8, sizeof(char *));
    if (!nv) {
        free(argv);
        free(envp);
        return -ENOMEM;
    }
    int k = 0;
    nv[k++] = (char *)user_opts.self;
    for (int i = 0; i < user_opts.opt_argc; i++)
        nv[k++] = user_opts.opt_argv[i];
    nv[k++] = "-0";
    if (script_interp[0]) {
        nv[k++] = script_interp;
        nv[k++] = (char *)prog;
        nv[k++] = script_interp;
        if (script_arg[0])
            nv[k++] = script_arg;
        nv[k++] = (char *)p;
        for (int i = 1; i < argc; i++)
            nv[k++] = argv[i];
    } else {
        nv[k++] = argc ? argv[0] : (char *)p;
        nv[k++] = (char *)p;
        for (int i = 1; i < argc; i++)
            nv[k++] = argv[i];
    }
    nv[k] = NULL;
    execve(user_opts.self, nv, envp);
    int e = errno;
    free(nv);
    free(argv);
    free(envp);
    return -e;
}

/* ---- ioctl ----------------------------------------------------------------------- */

/* Terminal ioctls: riscv64 and x86-64 both use <asm-generic/termbits.h> and the
 * generic ioctl numbers, so struct termios/winsize pass through unchanged. */
static int64_t do_ioctl(int fd, uint64_t cmd, uint64_t arg)
{
    size_t sz;
    switch (cmd) {
    case 0x5401: /* TCGETS */
    case 0x5402: /* TCSETS */
    case 0x5403: /* TCSETSW */
    case 0x5404: /* TCSETSF */
        sz = 36;
        break;
    case 0x5413: /* TIOCGWINSZ */
    case 0x5414: /* TIOCSWINSZ */
        sz = 8;
        break;
    case 0x80045430: /* TIOCGPTN */
    case 0x40045431: /* TIOCSPTLCK */
    case 0x80045432: /* TIOCGDEV */
    case 0x540F: /* TIOCGPGRP */
    case 0x5410: /* TIOCSPGRP */
    case 0x541B: /* FIONREAD */
    case 0x5421: /* FIONBIO */
    case 0x5429: /* TIOCGSID */
    case 0x5452: /* FIOASYNC */
        sz = 4;
        break;
    case 0x5409: /* TCSBRK */
    case 0x540A: /* TCXONC */
    case 0x540B: /* TCFLSH */
    case 0x5450: /* FIONCLEX */
    case 0x5451: /* FIOCLEX */
    case 0x540E: /* TIOCSCTTY */
    case 0x5441: /* TIOCGPTPEER: arg is open flags */
        {
            long r = syscall(SYS_ioctl, fd, cmd, arg);
            return r < 0 ? -errno : r;
        }
    default:
        {
            static uint8_t logged[256];
            uint8_t h = (uint8_t)(cmd ^ (cmd >> 8));
            if (!logged[h]) {
                logged[h] = 1;
                user_log("vireo-riscv64: unsupported ioctl 0x%llx\n", (unsigned long long)cmd);
            }
            return -ENOTTY;
        }
    }
    void *p = gbuf(arg, sz);
    long r = syscall(SYS_ioctl, fd, cmd, p == NULL ? BAD_PTR : p);
    return r < 0 ? -errno : r;
}

/* ---- the dispatcher -------------------------------------------------------------- */

static uint8_t enosys_logged[USER_NR_MAX];

static int64_t enosys(uint64_t nr)
{
    if (nr < USER_NR_MAX) {
        if (!__atomic_exchange_n(&enosys_logged[nr], 1, __ATOMIC_RELAXED))
            user_log("vireo-riscv64: unsupported syscall %llu (%s)\n", (unsigned long long)nr,
                     user_syscall_names[nr] ? user_syscall_names[nr] : "?");
    } else {
        static int logged_big;
        if (!__atomic_exchange_n(&logged_big, 1, __ATOMIC_RELAXED))
            user_log("vireo-riscv64: unsupported syscall %llu\n", (unsigned long long)nr);
    }
    return -ENOSYS;
}

#define HOST(...)                                   \
    do {                                            \
        long r_ = syscall(__VA_ARGS__);             \
        ret = r_ < 0 ? -errno : r_;                 \
    } while (0)

/* A blocking call: interruptible by guest signals without a race (safe_syscall.c). */
#define SAFE(nr, a, b, c, d, e, f)                                                     \
    (ret = user_safe_syscall(t, nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

static int64_t dispatch(struct user_thread *t, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                        uint64_t a3, uint64_t a4, uint64_t a5)
{
    int64_t ret;
    char pb1[PATH_MAX], pb2[PATH_MAX];
    const char *p1, *p2;
    switch (nr) {
    /* files */
    case RV_openat:
        return do_openat((int)a0, a1, (int)a2, (int)a3);
    case RV_close:
        HOST(SYS_close, a0);
        break;
    case RV_read:
        user_mem_prepare_write(a1, a2);
        SAFE(SYS_read, a0, gbuf(a1, a2), a2, 0, 0, 0);
        break;
    case RV_write:
        SAFE(SYS_write, a0, gbuf(a1, a2), a2, 0, 0, 0);
        break;
    case RV_pread64:
        user_mem_prepare_write(a1, a2);
        SAFE(SYS_pread64, a0, gbuf(a1, a2), a2, a3, 0, 0);
        break;
    case RV_pwrite64:
        SAFE(SYS_pwrite64, a0, gbuf(a1, a2), a2, a3, 0, 0);
        break;
    case RV_readv:
    case RV_writev:
    case RV_preadv:
    case RV_pwritev: {
        bool in = nr == RV_readv || nr == RV_preadv;
        struct iovec *iov = get_iov(a1, a2, in);
        if (!iov)
            return a2 > IOV_MAX ? -EINVAL : -EFAULT;
        long sysno = nr == RV_readv ? SYS_readv : nr == RV_writev ? SYS_writev
                   : nr == RV_preadv ? SYS_preadv : SYS_pwritev;
        SAFE(sysno, a0, iov, a2, a3, a4, 0);
        free(iov);
        break;
    }
    case RV_lseek:
        HOST(SYS_lseek, a0, a1, a2);
        break;
    case RV_sendfile:
        HOST(SYS_sendfile, a0, a1, gbuf(a2, 8), a3);
        break;
    case RV_copy_file_range:
        HOST(SYS_copy_file_range, a0, gbuf(a1, 8), a2, gbuf(a3, 8), a4, a5);
        break;
    case RV_dup:
        HOST(SYS_dup, a0);
        break;
    case RV_dup3:
        HOST(SYS_dup3, a0, a1, a2);
        break;
    case RV_fcntl:
        switch ((int)a1) {
        case F_GETLK: case F_SETLK: case F_SETLKW:
        case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
            SAFE(SYS_fcntl, a0, a1, gbuf(a2, 32), 0, 0, 0);
            break;
        default:
            HOST(SYS_fcntl, a0, a1, a2);
        }
        break;
    case RV_ioctl:
        return do_ioctl((int)a0, a1, a2);
    case RV_flock:
        SAFE(SYS_flock, a0, a1, 0, 0, 0, 0);
        break;
    case RV_pipe2:
        HOST(SYS_pipe2, gbuf(a0, 8), a1);
        break;
    case RV_getdents64:
        user_mem_prepare_write(a1, a2);
        HOST(SYS_getdents64, a0, gbuf(a1, a2), a2);
        break;
    case RV_fstat: {
        struct stat st;
        if (fstat((int)a0, &st) < 0)
            return -errno;
        return put_stat(a1, &st);
    }
    case RV_newfstatat: {
        struct stat st;
        p1 = host_path(a1, pb1, sizeof(pb1));
        if (p1 == NULL || p1 == BAD_PTR)
            return -EFAULT;
        if (fstatat((int)a0, p1, &st, (int)a3) < 0)
            return -errno;
        return put_stat(a2, &st);
    }
    case RV_statx:
        p1 = host_path(a1, pb1, sizeof(pb1));
        if (p1 == BAD_PTR)
            return -EFAULT;
        HOST(SYS_statx, a0, p1, a2, a3, gbuf(a4, 256));
        break;
    case RV_statfs:
        p1 = host_path(a0, pb1, sizeof(pb1));
        HOST(SYS_statfs, p1, gbuf(a1, 120));
        break;
    case RV_fstatfs:
        HOST(SYS_fstatfs, a0, gbuf(a1, 120));
        break;
    case RV_readlinkat:
        p1 = host_path(a1, pb1, sizeof(pb1));
        if (p1 == NULL || p1 == BAD_PTR)
            return -EFAULT;
        if (p1 == user_opts.exe_path) {
            size_t n = strlen(p1);
            if (n > a3)
                n = a3;
            void *dst = gwrite(a2, n);
            if (dst == NULL || dst == BAD_PTR)
                return -EFAULT;
            memcpy(dst, p1, n);
            return (int64_t)n;
        }
        HOST(SYS_readlinkat, a0, p1, gbuf(a2, a3), a3);
        break;
    case RV_faccessat:
    case RV_faccessat2:
        p1 = host_path(a1, pb1, sizeof(pb1));
        if (nr == RV_faccessat)
            HOST(SYS_faccessat, a0, p1, a2);
        else
            HOST(SYS_faccessat2, a0, p1, a2, a3);
        break;
    case RV_mkdirat:
        HOST(SYS_mkdirat, a0, gstr(a1), a2);
        break;
    case RV_mknodat:
        HOST(SYS_mknodat, a0, gstr(a1), a2, a3);
        break;
    case RV_unlinkat:
        HOST(SYS_unlinkat, a0, gstr(a1), a2);
        break;
    case RV_symlinkat:
        HOST(SYS_symlinkat, gstr(a0), a1, gstr(a2));
        break;
    case RV_linkat:
        HOST(SYS_linkat, a0, gstr(a1), a2, gstr(a3), a4);
        break;
    case RV_renameat2:
        HOST(SYS_renameat2, a0, gstr(a1), a2, gstr(a3), a4);
        break;
    case RV_truncate:
        HOST(SYS_truncate, gstr(a0), a1);
        break;
    case RV_ftruncate:
        HOST(SYS_ftruncate, a0, a1);
        break;
    case RV_fallocate:
        HOST(SYS_fallocate, a0, a1, a2, a3);
        break;
    case RV_fadvise64:
        HOST(SYS_fadvise64, a0, a1, a2, a3);
        break;
    case RV_chdir:
        HOST(SYS_chdir, gstr(a0));
        break;
    case RV_fchdir:
        HOST(SYS_fchdir, a0);
        break;
    case RV_getcwd:
        HOST(SYS_getcwd, gbuf(a0, a1), a1);
        break;
    case RV_fchmod:
        HOST(SYS_fchmod, a0, a1);
        break;
    case RV_fchmodat:
        HOST(SYS_fchmodat, a0, gstr(a1), a2);
        break;
    case RV_fchown:
        HOST(SYS_fchown, a0, a1, a2);
        break;
    case RV_fchownat:
        HOST(SYS_fchownat, a0, gstr(a1), a2, a3, a4);
        break;
    case RV_utimensat:
        HOST(SYS_utimensat, a0, gstr(a1), gbuf(a2, 32), a3);
        break;
    case RV_umask:
        HOST(SYS_umask, a0);
        break;
    case RV_sync:
        sync();
        return 0;
    case RV_fsync:
        HOST(SYS_fsync, a0);
        break;
    case RV_fdatasync:
        HOST(SYS_fdatasync, a0);
        break;
    case RV_memfd_create:
        HOST(SYS_memfd_create, gstr(a0), a1);
        break;
    case RV_close_range:
        HOST(SYS_close_range, a0, a1, a2);
        break;
    case RV_eventfd2:
        HOST(SYS_eventfd2, a0, a1);
        break;
    case RV_timerfd_create:
        HOST(SYS_timerfd_create, a0, a1);
        break;
    case RV_timerfd_settime:
        HOST(SYS_timerfd_settime, a0, a1, gbuf(a2, 32), gbuf(a3, 32));
        break;
    case RV_timerfd_gettime:
        HOST(SYS_timerfd_gettime, a0, gbuf(a1, 32));
        break;
    case RV_pselect6: {
        /* the sixth argument is { const sigset_t *ss; size_t ss_len; } in guest memory */
        u64_any *sm = gread(a5, 16);
        uint64_t hsm[2];
        void *smp = NULL;
        if (sm == BAD_PTR)
            return -EFAULT;
        if (sm) {
            hsm[0] = (uint64_t)(uintptr_t)gbuf(sm[0], 8);
            hsm[1] = sm[1];
            smp = hsm;
        }
        SAFE(SYS_pselect6, a0, gbuf(a1, 128), gbuf(a2, 128), gbuf(a3, 128), gbuf(a4, 16), smp);
        break;
    }
    case RV_ppoll:
        SAFE(SYS_ppoll, gbuf(a0, a1 * 8), a1, gbuf(a2, 16), gbuf(a3, 8), a4, 0);
        break;
    case RV_epoll_create1:
        HOST(SYS_epoll_create1, a0);
        break;
    case RV_epoll_ctl: {
        struct rv_epoll_event *ge = gread(a3, sizeof(*ge));
        if (ge == BAD_PTR)
            return -EFAULT;
        struct epoll_event he = { 0 };
        if (ge) {
            he.events = ge->events;
            he.data.u64 = ge->data;
        }
        HOST(SYS_epoll_ctl, a0, a1, a2, ge ? &he : NULL);
        break;
    }
    case RV_epoll_pwait: {
        int maxev = (int)a2;
        if (maxev <= 0 || maxev > 65536)
            return -EINVAL;
        struct rv_epoll_event *ge = gwrite(a1, (uint64_t)maxev * sizeof(*ge));
        if (ge == NULL || ge == BAD_PTR)
            return -EFAULT;
        struct epoll_event *he = calloc(maxev, sizeof(*he));
        if (!he)
            return -ENOMEM;
        SAFE(SYS_epoll_pwait, a0, he, maxev, a3, gbuf(a4, 8), a5);
        for (int64_t i = 0; i < ret; i++) {
            ge[i].events = he[i].events;
            ge[i].pad = 0;
            ge[i].data = he[i].data.u64;
        }
        free(he);
        break;
    }

    /* sockets: the same structures on both ABIs */
    case RV_socket:
        HOST(SYS_socket, a0, a1, a2);
        break;
    case RV_socketpair:
        HOST(SYS_socketpair, a0, a1, a2, gbuf(a3, 8));
        break;
    case RV_bind:
        HOST(SYS_bind, a0, gbuf(a1, a2), a2);
        break;
    case RV_connect:
        SAFE(SYS_connect, a0, gbuf(a1, a2), a2, 0, 0, 0);
        break;
    case RV_listen:
        HOST(SYS_listen, a0, a1);
        break;
    case RV_accept:
        SAFE(SYS_accept, a0, gbuf(a1, 128), gbuf(a2, 4), 0, 0, 0);
        break;
    case RV_accept4:
        SAFE(SYS_accept4, a0, gbuf(a1, 128), gbuf(a2, 4), a3, 0, 0);
        break;
    case RV_getsockname:
        HOST(SYS_getsockname, a0, gbuf(a1, 128), gbuf(a2, 4));
        break;
    case RV_getpeername:
        HOST(SYS_getpeername, a0, gbuf(a1, 128), gbuf(a2, 4));
        break;
    case RV_sendto:
        SAFE(SYS_sendto, a0, gbuf(a1, a2), a2, a3, gbuf(a4, a5), a5);
        break;
    case RV_recvfrom:
        user_mem_prepare_write(a1, a2);
        SAFE(SYS_recvfrom, a0, gbuf(a1, a2), a2, a3, gbuf(a4, 128), gbuf(a5, 4));
        break;
    case RV_setsockopt:
        HOST(SYS_setsockopt, a0, a1, a2, gbuf(a3, a4), a4);
        break;
    case RV_getsockopt: {
        u32_any *lenp = gwrite(a4, 4);
        if (lenp == NULL || lenp == BAD_PTR)
            return -EFAULT;
        HOST(SYS_getsockopt, a0, a1, a2, gbuf(a3, *lenp), lenp);
        break;
    }
    case RV_shutdown:
        HOST(SYS_shutdown, a0, a1);
        break;
    case RV_sendmsg:
        return do_msg((int)a0, a1, (int)a2, true);
    case RV_recvmsg:
        return do_msg((int)a0, a1, (int)a2, false);

    /* memory */
    case RV_brk:
        return user_brk(a0);
    case RV_mmap:
        return user_mmap(a0, a1, (int)a2, (int)a3, (int)a4, (int64_t)a5);
    case RV_munmap:
        return user_munmap(a0, a1);
    case RV_mprotect:
        return user_mprotect(a0, a1, (int)a2);
    case RV_mremap:
        return user_mremap(a0, a1, a2, (int)a3, a4);
    case RV_madvise:
        if (!guest_range_ok(a0, a1))
            return -EINVAL;
        /* MADV_DONTNEED zero-fills anonymous memory: the guest relies on that. */
        if ((int)a2 == MADV_DONTNEED || (int)a2 == MADV_FREE || (int)a2 == MADV_WILLNEED)
            HOST(SYS_madvise, g2h(a0), a1, (int)a2 == MADV_FREE ? MADV_DONTNEED : a2);
        else
            ret = 0;
        break;
    case RV_msync:
        if (!guest_range_ok(a0, a1))
            return -ENOMEM;
        HOST(SYS_msync, g2h(a0), a1, a2);
        break;
    case RV_mlock:
    case RV_munlock:
        return guest_range_ok(a0, a1) ? 0 : -ENOMEM;
    case RV_membarrier:
        /* Guest threads are host threads of this process: the host's barrier
         * covers them (the flags and cpu_id arguments are plain values). */
        HOST(SYS_membarrier, a0, a1, a2);
        break;

    /* time */
    case RV_clock_gettime:
        HOST(SYS_clock_gettime, a0, gbuf(a1, 16));
        break;
    case RV_clock_getres:
        HOST(SYS_clock_getres, a0, gbuf(a1, 16));
        break;
    case RV_clock_nanosleep:
        SAFE(SYS_clock_nanosleep, a0, a1, gbuf(a2, 16), gbuf(a3, 16), 0, 0);
        break;
    case RV_nanosleep:
        SAFE(SYS_nanosleep, gbuf(a0, 16), gbuf(a1, 16), 0, 0, 0, 0);
        break;
    case RV_gettimeofday:
        HOST(SYS_gettimeofday, gbuf(a0, 16), gbuf(a1, 8));
        break;
    case RV_getitimer:
        HOST(SYS_getitimer, a0, gbuf(a1, 32));
        break;
    case RV_setitimer:
        HOST(SYS_setitimer, a0, gbuf(a1, 32), gbuf(a2, 32));
        break;
    case RV_times:
        HOST(SYS_times, gbuf(a0, 32));
        break;
    case RV_timer_create: {
        /* struct sigevent is 64 bytes with the same layout on both ABIs; its value
         * comes back untouched in the siginfo.  SIGEV_SIGNAL and SIGEV_THREAD_ID
         * (guest tids are host tids) are the kernel's; SIGEV_THREAD is glibc's, on
         * top of SIGEV_THREAD_ID. */
        uint64_t sev[8];
        const void *g = gread(a1, sizeof(sev));
        if (g == BAD_PTR)
            return -EFAULT;
        if (g)
            memcpy(sev, g, sizeof(sev));
        void *id = gwrite(a2, 4);
        if (id == NULL || id == BAD_PTR)
            return -EFAULT;
        HOST(SYS_timer_create, a0, g ? sev : NULL, id);
        break;
    }
    case RV_timer_settime:
        HOST(SYS_timer_settime, a0, a1, gbuf(a2, 32), gbuf(a3, 32));
        break;
    case RV_timer_gettime:
        HOST(SYS_timer_gettime, a0, gbuf(a1, 32));
        break;
    case RV_timer_getoverrun:
        HOST(SYS_timer_getoverrun, a0);
        break;
    case RV_timer_delete:
        HOST(SYS_timer_delete, a0);
        break;

    /* processes */
    case RV_getpid:
        return getpid();
    case RV_getppid:
        return getppid();
    case RV_gettid:
        return t->tid;
    case RV_getuid:
        return getuid();
    case RV_geteuid:
        return geteuid();
    case RV_getgid:
        return getgid();
    case RV_getegid:
        return getegid();
    case RV_getresuid:
        HOST(SYS_getresuid, gbuf(a0, 4), gbuf(a1, 4), gbuf(a2, 4));
        break;
    case RV_getresgid:
        HOST(SYS_getresgid, gbuf(a0, 4), gbuf(a1, 4), gbuf(a2, 4));
        break;
    case RV_setuid:
        HOST(SYS_setuid, a0);
        break;
    case RV_setgid:
        HOST(SYS_setgid, a0);
        break;
    case RV_setreuid:
        HOST(SYS_setreuid, a0, a1);
        break;
    case RV_setregid:
        HOST(SYS_setregid, a0, a1);
        break;
    case RV_setresuid:
        HOST(SYS_setresuid, a0, a1, a2);
        break;
    case RV_setresgid:
        HOST(SYS_setresgid, a0, a1, a2);
        break;
    case RV_getgroups:
        HOST(SYS_getgroups, a0, gbuf(a1, a0 * 4));
        break;
    case RV_setgroups:
        HOST(SYS_setgroups, a0, gbuf(a1, a0 * 4));
        break;
    case RV_getpgid:
        HOST(SYS_getpgid, a0);
        break;
    case RV_setpgid:
        HOST(SYS_setpgid, a0, a1);
        break;
    case RV_getsid:
        HOST(SYS_getsid, a0);
        break;
    case RV_setsid:
        HOST(SYS_setsid);
        break;
    case RV_getpriority:
        HOST(SYS_getpriority, a0, a1);
        break;
    case RV_setpriority:
        HOST(SYS_setpriority, a0, a1, a2);
        break;
    case RV_uname: {
        struct utsname *u = gwrite(a0, sizeof(struct utsname));
        if (u == NULL || u == BAD_PTR)
            return -EFAULT;
        HOST(SYS_uname, u);
        if (ret == 0)
            snprintf(u->machine, sizeof(u->machine), "riscv64");
        break;
    }
    case RV_sysinfo:
        HOST(SYS_sysinfo, gbuf(a0, 112));
        break;
    case RV_getrlimit:
        HOST(SYS_getrlimit, a0, gbuf(a1, 16));
        break;
    case RV_setrlimit:
    case RV_prlimit64: {
        /* Limits on address space, data and stack would bind the emulator (its
         * reservation, the JIT's buffers, host threads), not the guest: they are
         * accepted and not applied. */
        uint64_t res = nr == RV_setrlimit ? a0 : a1, newl = nr == RV_setrlimit ? a1 : a2;
        bool self = nr == RV_setrlimit || a0 == 0 || (pid_t)a0 == getpid();
        if (self && newl && ((int)res == RLIMIT_AS || (int)res == RLIMIT_DATA || (int)res == RLIMIT_STACK)) {
            if (gread(newl, 16) == BAD_PTR)
                return -EFAULT;
            if (nr == RV_setrlimit)
                return 0;
            HOST(SYS_prlimit64, a0, a1, NULL, gbuf(a3, 16));
            break;
        }
        if (nr == RV_setrlimit)
            HOST(SYS_setrlimit, a0, gbuf(a1, 16));
        else
            HOST(SYS_prlimit64, a0, a1, gbuf(a2, 16), gbuf(a3, 16));
        break;
    }
    case RV_getrusage:
        HOST(SYS_getrusage, a0, gbuf(a1, 144));
        break;
    case RV_getrandom:
        user_mem_prepare_write(a0, a1);
        HOST(SYS_getrandom, gbuf(a0, a1), a1, a2);
        break;
    case RV_prctl:
        switch ((int)a0) {
        case 15: /* PR_SET_NAME */
        case 16: /* PR_GET_NAME */
            HOST(SYS_prctl, a0, gbuf(a1, 16), 0, 0, 0);
            break;
        default:
            return -EINVAL;
        }
        break;
    case RV_personality:
        return a0 == 0xffffffff ? 0 : 0;
    case RV_sched_yield:
        HOST(SYS_sched_yield);
        break;
    case RV_sched_getaffinity:
        HOST(SYS_sched_getaffinity, a0, a1, gbuf(a2, a1));
        break;
    case RV_sched_setaffinity:
        HOST(SYS_sched_setaffinity, a0, a1, gbuf(a2, a1));
        break;
    case RV_getcpu:
        HOST(SYS_getcpu, gbuf(a0, 4), gbuf(a1, 4), NULL);
        break;
    case RV_wait4:
        SAFE(SYS_wait4, a0, gbuf(a1, 4), a2, gbuf(a3, 144), 0, 0);
        break;
    case RV_waitid:
        SAFE(SYS_waitid, a0, a1, gbuf(a2, 128), a3, gbuf(a4, 144), 0);
        break;
    case RV_kill:
        HOST(SYS_kill, a0, a1);
        break;
    case RV_tkill:
        HOST(SYS_tkill, a0, a1);
        break;
    case RV_tgkill:
        HOST(SYS_tgkill, a0, a1, a2);
        break;
    case RV_set_tid_address:
        t->clear_child_tid = a0;
        return t->tid;
    case RV_futex: {
        int op = (int)a1 & 0x7f;
        /* For the WAIT family the fourth argument is a timeout; for REQUEUE and
         * WAKE_OP it is a count (val2) and must pass unchanged. */
        bool timeout = op == 0 /* WAIT */ || op == 9 /* WAIT_BITSET */ || op == 6 /* LOCK_PI */
                    || op == 11 /* WAIT_REQUEUE_PI */ || op == 13 /* LOCK_PI2 */;
        void *uaddr = gbuf(a0, 4);
        if (uaddr == NULL)
            uaddr = BAD_PTR;
        SAFE(SYS_futex, uaddr, a1, a2, timeout ? gbuf(a3, 16) : (void *)(uintptr_t)a3, gbuf(a4, 4), a5);
        break;
    }
    case RV_set_robust_list:
        /* Kept here: the host kernel would walk the list with guest addresses as
         * host ones.  The emulator walks it when the thread exits (thread.c). */
        if (a1 != 24)
            return -EINVAL;
        t->robust_head = a0;
        return 0;
    case RV_get_robust_list: {
        /* Only the calling thread's own list is known here. */
        if (a0 != 0 && a0 != (uint64_t)t->tid)
            return -ESRCH;
        uint64_t *head = gwrite(a1, 8), *len = gwrite(a2, 8);
        if (head == NULL || head == BAD_PTR || len == NULL || len == BAD_PTR)
            return -EFAULT;
        *head = t->robust_head;
        *len = 24;
        return 0;
    }
    case RV_rseq:
        /* glibc registers it at start-up and carries on without it (its
         * __rseq_size stays 0); restartable sequences would need the emulator to
         * abort them on preemption and signals. */
    case RV_clone3:
        /* glibc tries clone3 first and falls back to clone on ENOSYS. */
    case RV_riscv_hwprobe:
        return -ENOSYS;
    case RV_riscv_flush_icache:
        user_cpu_invalidate(0, USER_SPACE_SIZE);
        return 0;
    case RV_clone:
        /* riscv64 argument order: flags, newsp, parent_tid, tls, child_tid */
        return user_sys_clone(t, a0, a1, a2, a3, a4);
    case RV_execve:
        return do_execve(a0, a1, a2);
    case RV_exit:
        user_thread_exit(t, (int)a0);
    case RV_exit_group:
        user_robust_release_all();
        exit((int)a0 & 0xff);

    /* signals */
    case RV_rt_sigaction:
        return user_sys_rt_sigaction((int)a0, a1, a2, a3);
    case RV_rt_sigprocmask:
        return user_sys_rt_sigprocmask((int)a0, a1, a2, a3);
    case RV_rt_sigreturn:
        return user_sys_rt_sigreturn(t);
    case RV_sigaltstack:
        return user_sys_sigaltstack(a0, a1);
    case RV_rt_sigpending: {
        u64_any *dst = gwrite(a0, 8);
        if (dst == NULL || dst == BAD_PTR)
            return -EFAULT;
        uint64_t hs = 0;   /* the raw call: glibc's sigismember refuses 32 and 33 */
        syscall(SYS_rt_sigpending, &hs, 8);
        *dst = t->pending | hs;
        return 0;
    }
    case RV_rt_sigsuspend: {
        u64_any *set = gread(a0, 8);
        if (set == NULL || set == BAD_PTR)
            return -EFAULT;
        extern int64_t user_sigsuspend(struct user_thread *t, uint64_t mask);
        return user_sigsuspend(t, *set);
    }
    case RV_rt_sigtimedwait:
        SAFE(SYS_rt_sigtimedwait, gbuf(a0, 8), gbuf(a1, 128), gbuf(a2, 16), a3, 0, 0);
        break;
    default:
        if (user_sys_ipc(t, nr, (const uint64_t[6]){ a0, a1, a2, a3, a4, a5 }, &ret))
            break;
        return enosys(nr);
    }
    (void)p2;
    (void)pb2;
    return ret;
}

/* -strace: which arguments are paths, printed as strings (bit i: argument i). */
static unsigned strace_paths(uint64_t nr)
{
    switch (nr) {
    case RV_execve: case RV_chdir: case RV_statfs: case RV_truncate:
        return 1;
    case RV_openat: case RV_newfstatat: case RV_faccessat: case RV_faccessat2:
    case RV_readlinkat: case RV_unlinkat: case RV_mkdirat: case RV_statx:
    case RV_fchmodat: case RV_fchownat: case RV_utimensat: case RV_mknodat:
        return 2;
    case RV_symlinkat:
        return 5;
    case RV_linkat: case RV_renameat2:
        return 10;
    }
    return 0;
}

/* A guest string for the log: at most 64 characters, escaped, from readable pages only. */
static int strace_str(char *out, size_t size, uint64_t g)
{
    size_t k = 0;
    out[k++] = '"';
    for (int i = 0; i < 64 && k + 6 < size; i++) {
        if (!user_access_ok(g + (uint64_t)i, 1, false)) {
            k = 0;
            break;
        }
        unsigned char c = *(const unsigned char *)g2h(g + (uint64_t)i);
        if (!c)
            break;
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, size - k, "\\x%02x", c);
    }
    if (k == 0)   /* unreadable: the raw address */
        return snprintf(out, size, "0x%llx", (unsigned long long)g);
    out[k++] = '"';
    out[k] = 0;
    return (int)k;
}

static void strace_line(struct user_thread *t, uint64_t nr, const uint64_t *a, int64_t ret, bool before)
{
    char buf[768];
    const char *name = nr < USER_NR_MAX && user_syscall_names[nr] ? user_syscall_names[nr] : "?";
    int n;
    if (before) {
        n = snprintf(buf, sizeof(buf), "%d %s(", t->tid, name);
        unsigned paths = strace_paths(nr);
        for (int i = 0; i < 6 && n < (int)sizeof(buf) - 100; i++) {
            if (i)
                buf[n++] = ',';
            if ((paths >> i) & 1)
                n += strace_str(buf + n, 90, a[i]);
            else
                n += snprintf(buf + n, sizeof(buf) - (size_t)n, "0x%llx", (unsigned long long)a[i]);
        }
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ")");
    } else if (ret < 0 && ret > -4096)
        n = snprintf(buf, sizeof(buf), " = -1 errno=%lld (%s)\n", (long long)-ret, strerror((int)-ret));
    else
        n = snprintf(buf, sizeof(buf), " = %lld\n", (long long)ret);
    if (n > 0)
        (void)!write(2, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

void user_syscall(struct user_thread *t)
{
    riscv_cpu *cpu = t->cpu;
    uint64_t nr = user_cpu_x(cpu, RV_A7);
    uint64_t a[6];
    for (int i = 0; i < 6; i++)
        a[i] = user_cpu_x(cpu, RV_A0 + i);
    uint64_t pc = user_cpu_pc(cpu);
    if (user_opts.strace)
        strace_line(t, nr, a, 0, true);
    /* The ecall is done: continue after it unless the call changed the pc
     * (rt_sigreturn, a thread's start). */
    user_cpu_set_pc(cpu, pc + 4);
    t->in_syscall = true;
    int64_t ret;
    if (sigsetjmp(t->syscall_fault, 0) == 0)
        ret = dispatch(t, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    else
        ret = -EFAULT;   /* from host_handler: guest memory vanished under our copy */
    t->in_syscall = false;
    if (user_opts.strace)
        strace_line(t, nr, a, ret, false);
    if (nr == RV_rt_sigreturn)
        return;
    /* A signal came before the host call started: run the guest's handler, then
     * this ecall again, as Linux delivers a signal before the next instruction. */
    if (ret == USER_ERESTART) {
        user_cpu_set_pc(cpu, pc);
        return;
    }
    /* An interrupted call restarts if the handler about to run asked for it. */
    if (ret == -EINTR && t->pending_any) {
        extern bool user_signal_wants_restart(struct user_thread *t);
        if (user_signal_wants_restart(t) && nr != RV_rt_sigsuspend && nr != RV_nanosleep
            && nr != RV_clock_nanosleep && nr != RV_ppoll && nr != RV_pselect6 && nr != RV_epoll_pwait) {
            user_cpu_set_pc(cpu, pc);
            return;
        }
    }
    user_cpu_set_x(cpu, RV_A0, (uint64_t)ret);
}
