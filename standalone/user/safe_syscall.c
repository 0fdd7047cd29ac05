/* Blocking host system calls that a guest signal can always interrupt.
 *
 * The race: a guest signal arrives after the run loop looked for pending signals
 * but before the host call starts to block; the call then sleeps with the signal
 * undelivered (think alarm() + read()).  The fix: the check of the thread's pending
 * flag and the syscall instruction sit between two labels; if our signal handler
 * interrupts the thread anywhere in that range, it moves the thread to a third
 * label that returns USER_ERESTART, and the ecall is run again after the guest's
 * handler.  Once the syscall instruction has run, the kernel itself returns -EINTR
 * for an interrupted blocking call (our host handlers have no SA_RESTART). */
#include "user.h"

#include <errno.h>
#include <stdarg.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)
/* long user_safe_syscall_base(volatile sig_atomic_t *pending, long nr,
 *                             long a0, long a1, long a2, long a3, long a4, long a5)
 * System V AMD64 in: rdi, rsi, rdx, rcx, r8, r9, then the stack; the Linux syscall
 * ABI wants nr in rax and arguments in rdi, rsi, rdx, r10, r8, r9 (and clobbers
 * rcx and r11). */
__asm__(
    ".text\n"
    ".globl user_safe_syscall_base\n"
    ".type user_safe_syscall_base, @function\n"
    "user_safe_syscall_base:\n"
    "    mov %rdi, %r11\n"
    "    mov %rsi, %rax\n"
    "    mov %rdx, %rdi\n"
    "    mov %rcx, %rsi\n"
    "    mov %r8, %rdx\n"
    "    mov %r9, %r10\n"
    "    mov 8(%rsp), %r8\n"
    "    mov 16(%rsp), %r9\n"
    ".globl user_safe_syscall_start\n"
    "user_safe_syscall_start:\n"
    "    cmpl $0, (%r11)\n"
    "    jne user_safe_syscall_restart\n"
    "    syscall\n"
    ".globl user_safe_syscall_end\n"
    "user_safe_syscall_end:\n"
    "    ret\n"
    ".globl user_safe_syscall_restart\n"
    "user_safe_syscall_restart:\n"
    "    mov $" "-512" ", %rax\n"
    "    ret\n"
    ".size user_safe_syscall_base, .-user_safe_syscall_base\n");

long user_safe_syscall_base(volatile sig_atomic_t *pending, long nr, long a0, long a1, long a2,
                            long a3, long a4, long a5);
extern char user_safe_syscall_start[], user_safe_syscall_end[], user_safe_syscall_restart[];

long user_safe_syscall(struct user_thread *t, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    _Static_assert(USER_ERESTART == -512, "the assembly returns -512");
    return user_safe_syscall_base(&t->pending_any, nr, a0, a1, a2, a3, a4, a5);
}

void user_safe_syscall_adjust(void *ucontext)
{
    ucontext_t *uc = ucontext;
    greg_t *ip = &uc->uc_mcontext.gregs[REG_RIP];
    if ((uintptr_t)*ip >= (uintptr_t)user_safe_syscall_start && (uintptr_t)*ip < (uintptr_t)user_safe_syscall_end)
        *ip = (greg_t)(uintptr_t)user_safe_syscall_restart;
}
#else
/* Other hosts: check, then call; the race stays (a signal can wait for the call). */
long user_safe_syscall(struct user_thread *t, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    if (t->pending_any)
        return USER_ERESTART;
    long r = syscall(nr, a0, a1, a2, a3, a4, a5);
    return r < 0 ? -errno : r;
}

void user_safe_syscall_adjust(void *ucontext)
{
}
#endif
