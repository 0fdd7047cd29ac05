/* A hostile guest: system calls with pointers outside the address space, into
 * unmapped or read-only memory, huge lengths and nonsense numbers.  Each must
 * fail with the errno Linux gives (compared with qemu-riscv64), and the emulator
 * must survive all of them.  (Addresses inside the space where qemu and Vireo
 * place things differently, such as 0x4000000000 for PIE programs, are left out.) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%-28s -> %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
    static const uintptr_t bad[] = { 0x1, 0x1000, 0x3fffffffff0ULL, 0x7fffffffffffULL,
                                     0xffffffffffffff00ULL, 0x8000000000000000ULL };
    char name[64];
    /* reads come from a pipe holding data, so that the kernel really writes the
     * buffer (a read at EOF returns 0 on Linux without touching it) */
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    static char fill[65536];
    memset(fill, 'x', sizeof(fill));
    fcntl(pfd[1], F_SETFL, O_NONBLOCK);
    if (write(pfd[1], fill, sizeof(fill)) <= 0)
        return 1;
    int fd = pfd[0];
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        void *p = (void *)bad[i];
        snprintf(name, sizeof(name), "write %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_write, 1, p, 16));
        snprintf(name, sizeof(name), "read %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_read, fd, p, 16));
        snprintf(name, sizeof(name), "openat %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        snprintf(name, sizeof(name), "fstat %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_fstat, 0, p));
        snprintf(name, sizeof(name), "clock_gettime %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_clock_gettime, 0, p));
        snprintf(name, sizeof(name), "rt_sigaction %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_rt_sigaction, SIGUSR1, p, NULL, 8));
        snprintf(name, sizeof(name), "uname %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_uname, p));
        snprintf(name, sizeof(name), "pipe2 %#lx", (unsigned long)bad[i]);
        show(name, syscall(SYS_pipe2, p, 0));
    }
    /* a buffer that starts mapped and runs off the end of the space */
    show("write huge length", syscall(SYS_write, 1, (void *)0x10000, (size_t)1 << 62));
    /* read-only memory as a destination */
    static const char ro[4096] __attribute__((aligned(4096))) = "read-only";
    show("read into rodata", syscall(SYS_read, fd, (void *)ro, 4));
    show("fstat into rodata", syscall(SYS_fstat, 0, (void *)ro));
    /* memory management nonsense */
    show("mmap len 0", (long)syscall(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    show("mmap unaligned fixed", (long)syscall(SYS_mmap, 0x12345, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    show("munmap unaligned", syscall(SYS_munmap, 0x12345, 4096));
    show("mprotect unmapped", syscall(SYS_mprotect, 0x1000, 4096, PROT_READ));
    show("mremap unmapped", (long)syscall(SYS_mremap, 0x1000, 4096, 8192, 0));
    show("brk huge", (long)(syscall(SYS_brk, 0xffffffffffff0000ULL) == syscall(SYS_brk, 0)));
    show("rt_sigaction SIGKILL", syscall(SYS_rt_sigaction, SIGKILL, ro, NULL, 8));
    show("rt_sigaction sig 0", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8));
    show("rt_sigaction sig 65", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8));
    show("rt_sigprocmask size 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, ro, NULL, 4));
    show("futex bad address", syscall(SYS_futex, (void *)0x1000, 0 /* WAIT */, 0, NULL, NULL, 0));
    show("execve bad path", syscall(SYS_execve, (void *)0x1000, NULL, NULL));
    show("syscall 9999", syscall(9999, 1, 2, 3));
    show("syscall -1", syscall(-1));
    show("writev bad iov", syscall(SYS_writev, 1, (void *)0x1000, 2));
    show("close -1", syscall(SYS_close, -1));
    printf("hostile: survived\n");
    return 0;
}
