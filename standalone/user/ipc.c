/* System V IPC: message queues, semaphores and shared memory.
 *
 * The objects live in the host kernel; the calls go through with guest pointers
 * turned into host ones.  Both ABIs are 64-bit asm-generic or its x86-64 twin, so
 * every structure has the same layout (struct ipc64_perm, msqid64_ds, shmid64_ds,
 * seminfo, shminfo64, msgbuf, sembuf), except semid64_ds: x86-64 keeps a padding
 * word after each of sem_otime and sem_ctime (<asm/sembuf.h>), asm-generic does
 * not, so IPC_STAT/SEM_STAT/IPC_SET are converted.  shmat and shmdt go through the
 * guest address space (mem.c): a segment is attached inside the reservation. */
#include "user.h"

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

/* riscv64 numbers (asm-generic <asm/unistd.h>) */
enum {
    RV_msgget = 186, RV_msgctl = 187, RV_msgrcv = 188, RV_msgsnd = 189, RV_semget = 190,
    RV_semctl = 191, RV_semtimedop = 192, RV_semop = 193, RV_shmget = 194, RV_shmctl = 195,
    RV_shmat = 196, RV_shmdt = 197,
};

/* <linux/sem.h>, <linux/msg.h>, <linux/shm.h> command numbers */
enum {
    C_IPC_RMID = 0, C_IPC_SET = 1, C_IPC_STAT = 2, C_IPC_INFO = 3,
    C_GETALL = 13, C_SETALL = 17, C_SEM_STAT = 18, C_SEM_INFO = 19, C_SEM_STAT_ANY = 20,
    C_MSG_STAT = 11, C_MSG_INFO = 12, C_MSG_STAT_ANY = 13,
    C_SHM_STAT = 13, C_SHM_INFO = 14, C_SHM_STAT_ANY = 15,
};

/* semid64_ds of asm-generic (riscv64) and of x86-64 */
struct rv_semid_ds {
    uint8_t perm[48];
    int64_t otime, ctime;
    uint64_t nsems, unused3, unused4;
};
struct x86_semid_ds {
    uint8_t perm[48];
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2;
    uint64_t nsems, unused3, unused4;
};
_Static_assert(sizeof(struct rv_semid_ds) == 88, "riscv64 semid64_ds");
_Static_assert(sizeof(struct x86_semid_ds) == 104, "x86-64 semid64_ds");

static long host(long nr, long a, long b, long c, long d, long e)
{
    long r = syscall(nr, a, b, c, d, e);
    return r < 0 ? -errno : r;
}

/* A guest buffer of len bytes for the kernel: NULL stays NULL (the kernel answers
 * EFAULT where it needs one); outside the guest space becomes a pointer the kernel
 * refuses. */
static long gptr(uint64_t addr, uint64_t len)
{
    if (addr == 0)
        return 0;
    return guest_range_ok(addr, len) ? (long)g2h(addr) : (long)0x8000000000000000ULL;
}

static int64_t do_semctl(int id, int num, int cmd, uint64_t arg)
{
    struct x86_semid_ds hs;
    switch (cmd) {
    case C_IPC_STAT:
    case C_SEM_STAT:
    case C_SEM_STAT_ANY: {
        if (!user_access_ok(arg, sizeof(struct rv_semid_ds), true))
            return -EFAULT;
        long r = host(SYS_semctl, id, num, cmd, (long)&hs, 0);
        if (r < 0)
            return r;
        struct rv_semid_ds gs = { .otime = hs.otime, .ctime = hs.ctime, .nsems = hs.nsems };
        memcpy(gs.perm, hs.perm, sizeof(gs.perm));
        memcpy(g2h(arg), &gs, sizeof(gs));
        return r;
    }
    case C_IPC_SET: {
        if (!user_access_ok(arg, sizeof(struct rv_semid_ds), false))
            return -EFAULT;
        struct rv_semid_ds gs;
        memcpy(&gs, g2h(arg), sizeof(gs));
        memset(&hs, 0, sizeof(hs));
        memcpy(hs.perm, gs.perm, sizeof(hs.perm));
        hs.otime = gs.otime;
        hs.ctime = gs.ctime;
        hs.nsems = gs.nsems;
        return host(SYS_semctl, id, num, cmd, (long)&hs, 0);
    }
    case C_GETALL:
    case C_SETALL: {
        /* an array of unsigned short, one per semaphore of the set */
        long r = host(SYS_semctl, id, 0, C_IPC_STAT, (long)&hs, 0);
        if (r < 0)
            return r;
        if (!user_access_ok(arg, hs.nsems * 2, cmd == C_GETALL))
            return -EFAULT;
        return host(SYS_semctl, id, num, cmd, (long)g2h(arg), 0);
    }
    case C_IPC_INFO:
    case C_SEM_INFO:
        return host(SYS_semctl, id, num, cmd, gptr(arg, sizeof(struct seminfo)), 0);
    default:
        /* GETVAL, SETVAL (arg is the value), GETPID, GETNCNT, GETZCNT, IPC_RMID */
        return host(SYS_semctl, id, num, cmd, (long)arg, 0);
    }
}

static int64_t do_shmctl(int id, int cmd, uint64_t buf)
{
    switch (cmd) {
    case C_IPC_STAT:
    case C_IPC_SET:
    case C_SHM_STAT:
    case C_SHM_STAT_ANY:
        return host(SYS_shmctl, id, cmd, gptr(buf, sizeof(struct shmid_ds)), 0, 0);
    case C_IPC_INFO:
        return host(SYS_shmctl, id, cmd, gptr(buf, sizeof(struct shminfo)), 0, 0);
    case C_SHM_INFO:
        return host(SYS_shmctl, id, cmd, gptr(buf, sizeof(struct shm_info)), 0, 0);
    default:
        /* IPC_RMID, SHM_LOCK, SHM_UNLOCK */
        return host(SYS_shmctl, id, cmd, 0, 0, 0);
    }
}

static int64_t do_msgctl(int id, int cmd, uint64_t buf)
{
    switch (cmd) {
    case C_IPC_STAT:
    case C_IPC_SET:
    case C_MSG_STAT:
    case C_MSG_STAT_ANY:
        return host(SYS_msgctl, id, cmd, gptr(buf, 120), 0, 0);   /* msqid64_ds */
    case C_IPC_INFO:
    case C_MSG_INFO:
        return host(SYS_msgctl, id, cmd, gptr(buf, 32), 0, 0);    /* msginfo */
    default:
        return host(SYS_msgctl, id, cmd, 0, 0, 0);
    }
}

static int64_t do_shmat(int id, uint64_t addr, int flags)
{
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) < 0)
        return -errno;
    uint64_t len = (ds.shm_segsz + USER_PAGE - 1) & USER_PAGE_MASK;
    if (addr && (flags & SHM_RND))
        addr &= USER_PAGE_MASK;   /* SHMLBA is the page size on riscv64 */
    if (addr & ~USER_PAGE_MASK)
        return -EINVAL;
    return user_mem_shmat(id, addr, len, flags);
}

bool user_sys_ipc(struct user_thread *t, uint64_t nr, const uint64_t *a, int64_t *ret)
{
    switch (nr) {
    case RV_msgget:
        *ret = host(SYS_msgget, (long)a[0], (long)a[1], 0, 0, 0);
        return true;
    case RV_msgsnd:
        /* struct msgbuf: a long mtype, then the text */
        *ret = user_safe_syscall(t, SYS_msgsnd, (long)a[0], gptr(a[1], a[2] + 8), (long)a[2], (long)a[3], 0, 0);
        return true;
    case RV_msgrcv:
        user_mem_prepare_write(a[1], a[2] + 8);
        *ret = user_safe_syscall(t, SYS_msgrcv, (long)a[0], gptr(a[1], a[2] + 8), (long)a[2], (long)a[3],
                                 (long)a[4], 0);
        return true;
    case RV_msgctl:
        *ret = do_msgctl((int)a[0], (int)a[1], a[2]);
        return true;
    case RV_semget:
        *ret = host(SYS_semget, (long)a[0], (long)a[1], (long)a[2], 0, 0);
        return true;
    case RV_semop:
    case RV_semtimedop:
        /* struct sembuf is 6 bytes on both */
        *ret = user_safe_syscall(t, SYS_semtimedop, (long)a[0], gptr(a[1], a[2] * 6), (long)a[2],
                                 nr == RV_semop ? 0 : gptr(a[3], 16), 0, 0);
        return true;
    case RV_semctl:
        *ret = do_semctl((int)a[0], (int)a[1], (int)a[2], a[3]);
        return true;
    case RV_shmget:
        *ret = host(SYS_shmget, (long)a[0], (long)a[1], (long)a[2], 0, 0);
        return true;
    case RV_shmctl:
        *ret = do_shmctl((int)a[0], (int)a[1], a[2]);
        return true;
    case RV_shmat:
        *ret = do_shmat((int)a[0], a[1], (int)a[2]);
        return true;
    case RV_shmdt:
        *ret = user_mem_shmdt(a[0]);
        return true;
    }
    return false;
}
