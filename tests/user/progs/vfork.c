/* vfork ordering: the parent of vfork() resumes only when the child has exec'd or
 * exited (Linux's CLONE_VFORK; POSIX leaves the rest of vfork undefined, so the
 * child here only sleeps, writes files, then execs or _exits).  A child that sleeps
 * before leaving a marker file must have left it by the time vfork returns in the
 * parent; a child that execs a program which waits before writing must not have
 * written yet (the parent waits for the exec, not for the exit).  Also posix_spawn,
 * which glibc builds on clone(CLONE_VM|CLONE_VFORK).
 * qemu-riscv64 runs vfork as a fork without waiting and cannot execve a riscv64
 * program without binfmt_misc, so this one is judged by its own checks (the same
 * source passes natively on Linux).
 * vireo-test: selfcheck */
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
}

static int status_of(pid_t pid)
{
    int st = -1;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    /* The exec'd child: wait until the parent has looked (a byte or end of file
     * on the pipe fd argv[3]; at most 20 s, so a parent that waits for our exit
     * fails instead of hanging), then leave the file named in argv[2]. */
    if (argc >= 4 && strcmp(argv[1], "child") == 0) {
        struct pollfd pfd = { .fd = atoi(argv[3]), .events = POLLIN };
        poll(&pfd, 1, 20000);
        touch(argv[2]);
        return 5;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n > 0 ? n : 0] = 0;
    char dir[] = "/tmp/vireo-vfork-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char marker[64], before[64], after[64], spawned[64];
    snprintf(marker, sizeof(marker), "%s/marker", dir);
    snprintf(before, sizeof(before), "%s/before", dir);
    snprintf(after, sizeof(after), "%s/after", dir);
    snprintf(spawned, sizeof(spawned), "%s/spawned", dir);

    /* vfork + _exit: the parent resumes after the child's exit. */
    pid_t pid = vfork();
    if (pid == 0) {
        nap(300);
        touch(marker);
        _exit(7);
    }
    CHECK(pid > 0);
    CHECK(exists(marker));
    CHECK(status_of(pid) == 7);

    /* vfork + execve: the parent resumes at the exec, before the new program ends. */
    int go[2];
    CHECK(pipe(go) == 0 && fcntl(go[1], F_SETFD, FD_CLOEXEC) == 0);
    char gofd[16];
    snprintf(gofd, sizeof(gofd), "%d", go[0]);
    pid = vfork();
    if (pid == 0) {
        nap(300);
        touch(before);
        char *args[] = { self, "child", after, gofd, NULL };
        execve(self, args, environ);
        _exit(127);
    }
    CHECK(pid > 0);
    CHECK(exists(before));
    CHECK(!exists(after));
    close(go[1]);
    CHECK(status_of(pid) == 5);
    close(go[0]);
    CHECK(exists(after));

    /* vfork + a failed execve + _exit. */
    pid = vfork();
    if (pid == 0) {
        char *args[] = { "/nonexistent/program", NULL };
        execve(args[0], args, environ);
        _exit(126);
    }
    CHECK(pid > 0);
    CHECK(status_of(pid) == 126);

    /* posix_spawn: the child runs and exits with its own status. */
    CHECK(pipe(go) == 0 && fcntl(go[1], F_SETFD, FD_CLOEXEC) == 0);
    snprintf(gofd, sizeof(gofd), "%d", go[0]);
    char *args[] = { self, "child", spawned, gofd, NULL };
    CHECK(posix_spawn(&pid, self, NULL, NULL, args, environ) == 0);
    CHECK(!exists(spawned));
    close(go[1]);
    CHECK(status_of(pid) == 5);
    close(go[0]);
    CHECK(exists(spawned));

    unlink(marker);
    unlink(before);
    unlink(after);
    unlink(spawned);
    rmdir(dir);
    if (fails)
        return 1;
    printf("vfork: ok\n");
    return 0;
}
