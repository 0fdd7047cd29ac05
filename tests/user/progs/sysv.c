/* System V IPC: message queues (types, IPC_NOWAIT, IPC_STAT), semaphores
 * (SETALL/GETALL, semop, semtimedop's timeout, IPC_STAT and IPC_SET, whose structure
 * is laid out differently on riscv64 and x86-64) and shared memory (attach anywhere
 * and at a rounded address, sharing with a forked child, a read-only attachment
 * that faults on a write, detach, IPC_STAT's counts).  Compared with qemu-riscv64. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct msg { long type; char text[64]; };
union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void msgs(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    printf("msgget: %s\n", q >= 0 ? "ok" : strerror(errno));
    for (int i = 1; i <= 5; i++) {
        struct msg m = { .type = i % 3 + 1 };
        int n = snprintf(m.text, sizeof(m.text), "message %d of type %ld", i, m.type);
        if (msgsnd(q, &m, (size_t)n + 1, 0) != 0)
            printf("msgsnd: %s\n", strerror(errno));
    }
    struct msqid_ds ds;
    if (msgctl(q, IPC_STAT, &ds) == 0)
        printf("IPC_STAT: qnum %lu mode %o bytes>0 %d\n", (unsigned long)ds.msg_qnum, ds.msg_perm.mode & 0777,
               ds.__msg_cbytes > 0);
    struct msg m;
    ssize_t n = msgrcv(q, &m, sizeof(m.text), 3, 0);
    printf("type 3: %zd '%s'\n", n, n > 0 ? m.text : "");
    n = msgrcv(q, &m, sizeof(m.text), -2, 0);
    printf("type <= 2: %zd '%s'\n", n, n > 0 ? m.text : "");
    n = msgrcv(q, &m, 4, 0, MSG_NOERROR);
    printf("truncated: %zd '%.4s'\n", n, m.text);
    n = msgrcv(q, &m, 4, 0, 0);
    printf("too big: %zd %s\n", n, strerror(errno));
    while (msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) > 0)
        printf("drained type %ld '%s'\n", m.type, m.text);
    printf("empty: %s\n", strerror(errno));
    ds.msg_perm.mode = 0640;
    printf("IPC_SET: %d\n", msgctl(q, IPC_SET, &ds));
    msgctl(q, IPC_STAT, &ds);
    printf("mode now %o\n", ds.msg_perm.mode & 0777);
    int r = msgctl(q, IPC_RMID, NULL);
    printf("IPC_RMID: %d; again: %s\n", r, msgctl(q, IPC_RMID, NULL) ? strerror(errno) : "ok");
}

static void sems(void)
{
    int s = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    printf("semget: %s\n", s >= 0 ? "ok" : strerror(errno));
    unsigned short vals[3] = { 1, 5, 0 }, back[3] = { 0 };
    printf("SETALL %d\n", semctl(s, 0, SETALL, (union semun){ .array = vals }));
    int r = semctl(s, 0, GETALL, (union semun){ .array = back });
    printf("GETALL %d: %u %u %u\n", r, back[0], back[1], back[2]);
    struct sembuf ops[2] = { { 0, -1, 0 }, { 1, 2, 0 } };
    printf("semop %d\n", semop(s, ops, 2));
    for (int i = 0; i < 3; i++)
        printf("GETVAL %d: %d\n", i, semctl(s, i, GETVAL));
    struct sembuf wait0 = { 0, -1, 0 };
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    r = semtimedop(s, &wait0, 1, &ts);
    printf("semtimedop on 0: %d %s\n", r, r ? strerror(errno) : "");
    struct sembuf nw = { 2, -1, IPC_NOWAIT };
    r = semop(s, &nw, 1);
    printf("IPC_NOWAIT: %d %s\n", r, r ? strerror(errno) : "");
    r = semctl(s, 2, SETVAL, (union semun){ .val = 9 });
    printf("SETVAL %d -> %d\n", r, semctl(s, 2, GETVAL));
    printf("GETPID is me: %d\n", semctl(s, 0, GETPID) == getpid());
    struct semid_ds ds;
    memset(&ds, 0x55, sizeof(ds));
    r = semctl(s, 0, IPC_STAT, (union semun){ .buf = &ds });
    printf("IPC_STAT %d: nsems %lu mode %o uid ok %d otime set %d ctime set %d\n", r, (unsigned long)ds.sem_nsems,
           ds.sem_perm.mode & 0777, ds.sem_perm.uid == getuid(), ds.sem_otime > 1600000000,
           ds.sem_ctime > 1600000000);
    ds.sem_perm.mode = 0604;
    printf("IPC_SET %d\n", semctl(s, 0, IPC_SET, (union semun){ .buf = &ds }));
    memset(&ds, 0, sizeof(ds));
    semctl(s, 0, IPC_STAT, (union semun){ .buf = &ds });
    printf("mode now %o nsems %lu\n", ds.sem_perm.mode & 0777, (unsigned long)ds.sem_nsems);
    /* a child blocks on semaphore 2 until the parent raises it */
    semctl(s, 2, SETVAL, (union semun){ .val = 0 });
    pid_t pid = fork();
    if (pid == 0) {
        struct sembuf w = { 2, -1, 0 };
        _exit(semop(s, &w, 1) == 0 ? 7 : 1);
    }
    struct timespec d = { 0, 20 * 1000 * 1000 };
    nanosleep(&d, NULL);
    struct sembuf up = { 2, 1, 0 };
    semop(s, &up, 1);
    int st;
    waitpid(pid, &st, 0);
    printf("child woke: exit %d\n", WEXITSTATUS(st));
    r = semctl(s, 0, IPC_RMID);
    int v = semctl(s, 0, GETVAL);
    printf("IPC_RMID %d; GETVAL after: %d %s\n", r, v, strerror(errno));
}

static void shms(void)
{
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    printf("shmget: %s\n", id >= 0 ? "ok" : strerror(errno));
    char *p = shmat(id, NULL, 0);
    printf("shmat: %s\n", p != (void *)-1 ? "ok" : strerror(errno));
    if (p == (void *)-1)
        return;
    strcpy(p, "parent wrote this");
    strcpy(p + 9000, "tail");
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: segsz %zu nattch %lu cpid is me %d mode %o\n", ds.shm_segsz, (unsigned long)ds.shm_nattch,
           ds.shm_cpid == getpid(), ds.shm_perm.mode & 0777);
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(p + 100, "child wrote this");
        _exit(strcmp(p, "parent wrote this") == 0 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d, parent reads '%s' and '%s'\n", WEXITSTATUS(st), p + 100, p + 9000);
    /* a second attachment of the same segment, read-only, sees the same bytes */
    char *ro = shmat(id, NULL, SHM_RDONLY);
    printf("read-only: %s '%s'\n", ro != (void *)-1 ? "ok" : strerror(errno), ro != (void *)-1 ? ro + 100 : "");
    shmctl(id, IPC_STAT, &ds);
    printf("nattch %lu\n", (unsigned long)ds.shm_nattch);
    pid = fork();
    if (pid == 0) {
        ro[0] = 'x';
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("write to read-only: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    int r1 = shmdt(ro), r2 = shmdt(p);
    printf("shmdt %d %d\n", r1, r2);
    r1 = shmdt(p);
    printf("shmdt again: %d %s\n", r1, strerror(errno));
    /* at an address of our choosing, rounded down with SHM_RND */
    char *want = (char *)0x3000000000ULL;
    char *q = shmat(id, want + 123, SHM_RND);
    printf("SHM_RND: %s, at the rounded address %d, content '%s'\n", q != (void *)-1 ? "ok" : strerror(errno),
           q == want, q != (void *)-1 ? q : "");
    char *q2 = shmat(id, want + 123, 0);
    printf("unaligned without SHM_RND: %s\n", q2 == (void *)-1 ? strerror(errno) : "attached");
    char *q3 = shmat(id, want, 0);
    printf("over an attachment: %s\n", q3 == (void *)-1 ? strerror(errno) : "attached");
    shmdt(q);
    shmctl(id, IPC_RMID, NULL);
    printf("after RMID: %s\n", shmat(id, NULL, 0) == (void *)-1 ? strerror(errno) : "attached");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    msgs();
    sems();
    shms();
    return 0;
}
