/* fork + execve + wait: the parent forks children that execve this same program
 * (through /proc/self/exe, which must name the guest program) with arguments, and
 * checks their exit statuses and a death by signal; a pipe carries the child's
 * output back.
 * qemu-riscv64 without binfmt_misc cannot execve a riscv64 program, so this one is
 * judged by its own checks only.
 * vireo-test: selfcheck */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fails;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "child") == 0) {
        if (strcmp(argv[2], "kill") == 0)
            raise(SIGTERM);
        printf("child says %s\n", argv[2]);
        return atoi(argv[2]);
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n > 0 ? n : 0] = 0;
    CHECK(strstr(self, "forkexec") != NULL);

    const char *codes[] = { "0", "3", "42" };
    for (int i = 0; i < 3; i++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            char *args[] = { "forkexec", "child", (char *)codes[i], NULL };
            execv("/proc/self/exe", args);
            _exit(127);
        }
        close(fds[1]);
        char buf[128] = { 0 };
        ssize_t got = 0, r;
        while ((r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
            got += r;
        close(fds[0]);
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == atoi(codes[i]));
        printf("child %s: exit %d, said: %s", codes[i], WEXITSTATUS(st), buf);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *args[] = { "forkexec", "child", "kill", NULL };
        execv(self, args);
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    printf("killed child: signaled %d sig %d\n", WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    /* plain fork: memory is copied, not shared */
    static volatile int shared_test = 1;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        shared_test = 2;
        _exit(shared_test == 2 ? 9 : 1);
    }
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 9 && shared_test == 1);
    /* the C library's system-like path (posix_spawn: clone with CLONE_VM|CLONE_VFORK) */
    fflush(stdout);
    FILE *pp = popen("echo spawned-host-shell", "r");
    char line[64] = { 0 };
    CHECK(pp && fgets(line, sizeof(line), pp));
    CHECK(pp && pclose(pp) == 0);
    printf("popen: %s", line);
    printf("forkexec: %s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
