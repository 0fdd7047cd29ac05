/* Image locking compatible with QEMU's.
 *
 * The facts (observed on Debian's qemu-io 7.2 through /proc/locks): a process
 * holding permission bit i keeps a shared OFD lock on byte 100+i of the image
 * file; a process that does not let others have bit i keeps a shared OFD lock
 * on byte 200+i.  Bits: 0 consistent read, 1 write, 2 write unchanged, 3 resize.
 * A writer thus locks 100,101,103 and 201,203.  A conflict is visible as a
 * failed exclusive test lock (F_OFD_GETLK) on the other side's byte.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block/block.h"

#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200
#define LOCK_BITS        4

static const char *const perm_names[LOCK_BITS] = {
    "consistent read", "write", "write unchanged", "resize",
};

static int lock_byte(int fd, int byte, short type, int cmd)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    return fcntl(fd, cmd, &fl) < 0 ? -errno : 0;
}

/* Is byte `byte` share-locked by someone else? */
static bool byte_taken(int fd, int byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        return false;
    }
    return fl.l_type != F_UNLCK;
}

/* Find a process (not us) with a lock covering `byte` on the file of `fd`:
 * /proc/PID/fdinfo/FD lists the locks on that open file. */
static char *find_holder(int fd, int byte)
{
    struct stat me;
    if (fstat(fd, &me) < 0) {
        return NULL;
    }
    DIR *proc = opendir("/proc");
    if (!proc) {
        return NULL;
    }
    char *who = NULL;
    struct dirent *p;
    while (!who && (p = readdir(proc))) {
        if (!isdigit((unsigned char)p->d_name[0]) || atoi(p->d_name) == getpid()) {
            continue;
        }
        char path[600];
        snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(path);
        if (!fds) {
            continue;
        }
        struct dirent *f;
        while (!who && (f = readdir(fds))) {
            struct stat st;
            snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
            if (f->d_name[0] == '.' || stat(path, &st) < 0 || st.st_dev != me.st_dev ||
                st.st_ino != me.st_ino) {
                continue;
            }
            snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", p->d_name, f->d_name);
            FILE *fi = fopen(path, "r");
            char line[256];
            while (fi && !who && fgets(line, sizeof(line), fi)) {
                long long a, b;
                char *l = strstr(line, "OFDLCK");
                if (!l || sscanf(l, "OFDLCK %*s %*s %*s %*s %lld %lld", &a, &b) != 2 ||
                    byte < a || byte > b) {
                    continue;
                }
                char comm[64] = "?";
                snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
                FILE *c = fopen(path, "r");
                if (c) {
                    if (fgets(comm, sizeof(comm), c)) {
                        comm[strcspn(comm, "\n")] = 0;
                    }
                    fclose(c);
                }
                who = blk_strdup_printf("process %s (%s)", p->d_name, comm);
            }
            if (fi) {
                fclose(fi);
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return who;
}

int blk_lock_fd(int fd, const char *filename, unsigned perm, unsigned shared, char **err)
{
    /* Take ours first, then look for conflicts: two processes racing both see
     * each other (the same order QEMU uses). */
    for (int i = 0; i < LOCK_BITS; i++) {
        int r = 0;
        if (perm & (1u << i)) {
            r = lock_byte(fd, LOCK_PERM_BASE + i, F_RDLCK, F_OFD_SETLK);
        }
        if (r >= 0 && !(shared & (1u << i))) {
            r = lock_byte(fd, LOCK_SHARED_BASE + i, F_RDLCK, F_OFD_SETLK);
        }
        if (r == -EINVAL || r == -ENOTSUP) {
            return 0;                   /* no OFD locks on this file system */
        }
        if (r < 0) {
            blk_unlock_fd(fd);
            char *who = find_holder(fd, (perm & (1u << i)) ? LOCK_PERM_BASE + i
                                                           : LOCK_SHARED_BASE + i);
            blk_set_err(err, "Failed to get \"%s\" lock on '%s': the image is in use by %s",
                        perm_names[i], filename, who ? who : "another process");
            free(who);
            return -EAGAIN;
        }
    }
    for (int i = 0; i < LOCK_BITS; i++) {
        int byte = -1;
        if ((perm & (1u << i)) && byte_taken(fd, LOCK_SHARED_BASE + i)) {
            byte = LOCK_SHARED_BASE + i;    /* someone refuses to share what we want */
        } else if (!(shared & (1u << i)) && byte_taken(fd, LOCK_PERM_BASE + i)) {
            byte = LOCK_PERM_BASE + i;      /* someone has what we refuse to share */
        }
        if (byte >= 0) {
            char *who = find_holder(fd, byte);
            blk_unlock_fd(fd);
            /* the hint helps readers only: a writer cannot share a written image */
            blk_set_err(err, "Failed to get \"%s\" lock on '%s': the image is in use by %s%s",
                        perm_names[i], filename, who ? who : "another process",
                        perm & ~1u ? "" : " (use -U / force-share for read-only access)");
            free(who);
            return -EAGAIN;
        }
    }
    return 0;
}

void blk_unlock_fd(int fd)
{
    struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = LOCK_PERM_BASE,
                        .l_len = LOCK_SHARED_BASE + LOCK_BITS - LOCK_PERM_BASE };
    fcntl(fd, F_OFD_SETLK, &fl);
}
