/* A signal frame written to, and read back by rt_sigreturn from, an alternate
 * stack that another thread unmaps and maps again all the time.  The emulator
 * checks the stack, then copies the frame: a frame whose memory vanished between
 * the two must end as on Linux (the guest dies of SIGSEGV), never as a crash of
 * the emulator itself.  Forks CHILDREN children; each exits 0 or dies of SIGSEGV.
 * Prints how each ended; exit 0 if every child ended one of those two ways.
 * Test: user-frame-race (which also checks stderr for "emulator itself"). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 8
#define RAISES 4000
#define STACK_SIZE (64 * 1024)

static char *stack_area;
static volatile int handled;

static void on_usr1(int sig)
{
    handled++;
}

static void *toggle(void *arg)
{
    for (;;) {
        munmap(stack_area, STACK_SIZE);
        mmap(stack_area, STACK_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
    return arg;
}

static void child(void)
{
    stack_area = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack_area == MAP_FAILED)
        _exit(2);
    stack_t ss = { .ss_sp = stack_area, .ss_size = STACK_SIZE };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, toggle, NULL);
    for (int i = 0; i < RAISES; i++)
        raise(SIGUSR1);
    _exit(0);
}

int main(void)
{
    int exited = 0, segv = 0, other = 0;
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork();
        if (pid == 0)
            child();
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
            other++;
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            exited++;
        else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
            segv++;
        else
            other++;
    }
    printf("frame-race: %d exited, %d died of SIGSEGV, %d otherwise\n", exited, segv, other);
    return other != 0;
}
