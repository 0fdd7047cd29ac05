/* vireo-riscv64: run a riscv64 Linux program on this host.
 *   vireo-riscv64 [options] PROGRAM [ARGS...]
 * Options follow qemu-user's where they overlap (see usage()). */
#include "user.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VIREO_VERSION "0.1"

struct user_options user_opts;
riscv_engine *user_engine;
/* Global so that they stay reachable while the guest runs and exits from deep
 * inside the run loop (LeakSanitizer would otherwise report them). */
char **user_guest_argv, **user_guest_envp;
struct user_thread *user_main_thread;

/* binfmt_misc (Linux Documentation/admin-guide/binfmt-misc.rst) starts us as
 * "vireo-riscv64 PATH [ARGV0] ARGS..." with no options of ours.  What it did is in
 * our own auxiliary vector: AT_FLAGS bit 0 (Linux >= 5.12) with the P flag, which
 * also inserts the program's original argv[0] after PATH; AT_EXECFD with O or C
 * (the program's file open for us: PATH may be unreadable); AT_SECURE when C made
 * us set-user/group-ID. */
#ifndef AT_FLAGS_PRESERVE_ARGV0
#define AT_FLAGS_PRESERVE_ARGV0 1
#endif

/* An auxv entry of our own: -1 when the kernel did not pass it. */
static long aux_entry(unsigned long type)
{
    errno = 0;
    unsigned long v = getauxval(type);
    return errno == ENOENT || v > LONG_MAX ? -1 : (long)v;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vireo-riscv64 [options] PROGRAM [ARGS...]\n"
        "Run a riscv64 (RV64GC) Linux program on this host.\n\n"
        "  -L PATH          sysroot for the ELF interpreter and absolute library paths\n"
        "                   (also QEMU_LD_PREFIX; default /usr/riscv64-linux-gnu if present)\n"
        "  -E VAR=VALUE     set an environment variable for the program\n"
        "  -U VAR           remove an environment variable\n"
        "  -0 ARGV0         argv[0] for the program (default: PROGRAM)\n"
        "  -strace          log system calls to stderr\n"
        "  -d ITEMS         JIT log items: in_asm,op,op_opt,out_asm,exec\n"
        "  -D FILE          write the JIT log to FILE\n"
        "  -accel tcg[,backend=native|interp]\n"
        "                   choose the JIT backend (also VIREO_BACKEND)\n"
        "  -h, -help        this text\n"
        "  -version         version\n");
}

static void die(const char *fmt, const char *what)
{
    fprintf(stderr, "vireo-riscv64: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n");
    exit(1);
}

static int set_backend(const char *name)
{
    enum riscv_backend b;
    if (riscv_backend_parse(name, &b) < 0)
        return -1;
    user_opts.backend = (int)b;
    return 0;
}

/* environ edited by -E/-U */
static char **env_edit(char **env, const char *set, const char *unset)
{
    size_t n = 0;
    while (env[n])
        n++;
    char **ne = calloc(n + 2, sizeof(char *));
    if (!ne)
        die("%s", "out of memory");
    size_t k = 0;
    const char *key = set ? set : unset;
    size_t klen = set ? (size_t)(strchr(set, '=') - set) : strlen(unset);
    for (size_t i = 0; i < n; i++)
        if (!(strncmp(env[i], key, klen) == 0 && env[i][klen] == '='))
            ne[k++] = env[i];
    if (set)
        ne[k++] = (char *)set;
    ne[k] = NULL;
    return ne;
}

int main(int argc, char **argv)
{
    extern char **environ;
    char **envp = environ;
    const char *argv0 = NULL;
    long at_flags = aux_entry(AT_FLAGS), exec_fd = aux_entry(AT_EXECFD);
    bool preserve_argv0 = at_flags > 0 && (at_flags & AT_FLAGS_PRESERVE_ARGV0);
    bool from_binfmt = preserve_argv0 || exec_fd >= 0;
    /* Set-ID: the environment is the caller's, so it does not choose the
     * interpreter and libraries (the guest's ld.so sees AT_SECURE too). */
    user_opts.secure = getauxval(AT_SECURE) != 0;
    user_opts.sysroot = user_opts.secure ? NULL : getenv("QEMU_LD_PREFIX");
    if (!user_opts.sysroot && access("/usr/riscv64-linux-gnu/lib", F_OK) == 0)
        user_opts.sysroot = "/usr/riscv64-linux-gnu";
    user_opts.backend = RISCV_BACKEND_DEFAULT;
    const char *be = getenv("VIREO_BACKEND");
    if (be && *be && set_backend(be) < 0)
        die("unknown backend '%s' in VIREO_BACKEND (native or interp)", be);

    /* Options worth repeating when the guest runs execve on another guest program. */
    user_opts.opt_argv = calloc(argc + 1, sizeof(char *));
    int i = 1;
    for (; !from_binfmt && i < argc && argv[i][0] == '-'; i++) {
        int opt_start = i;
        const char *o = argv[i];
        if (o[1] == '-')
            o++;   /* accept --option too */
        bool has_arg = i + 1 < argc;
        bool keep = false;
        if (!strcmp(o, "-L") && has_arg) {
            user_opts.sysroot = argv[++i];
            keep = true;
        } else if (!strcmp(o, "-E") && has_arg) {
            if (!strchr(argv[++i], '='))
                die("-E needs VAR=VALUE, not '%s'", argv[i]);
            char **ne = env_edit(envp, argv[i], NULL);
            if (envp != environ)
                free(envp);
            envp = user_guest_envp = ne;
        } else if (!strcmp(o, "-U") && has_arg) {
            char **ne = env_edit(envp, NULL, argv[++i]);
            if (envp != environ)
                free(envp);
            envp = user_guest_envp = ne;
        } else if (!strcmp(o, "-0") && has_arg) {
            argv0 = argv[++i];
        } else if (!strcmp(o, "-strace")) {
            user_opts.strace = true;
            keep = true;
        } else if (!strcmp(o, "-d") && has_arg) {
            user_opts.jit_debug = argv[++i];
            keep = true;
        } else if (!strcmp(o, "-D") && has_arg) {
            user_opts.jit_logfile = argv[++i];
            keep = true;
        } else if (!strcmp(o, "-accel") && has_arg) {
            const char *a = argv[++i];
            if (strncmp(a, "tcg", 3) || (a[3] && a[3] != ','))
                die("unsupported accelerator '%s' (only tcg)", a);
            const char *b = strstr(a, "backend=");
            if (b) {
                char name[32];
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(b + 8, ","), b + 8);
                if (set_backend(name) < 0)
                    die("unknown backend in '%s' (native or interp)", a);
            }
            keep = true;
        } else if (!strcmp(o, "-h") || !strcmp(o, "-help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "-version")) {
            printf("vireo-riscv64 version " VIREO_VERSION "\n");
            return 0;
        } else {
            fprintf(stderr, "vireo-riscv64: unknown option or missing argument: %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
        for (int k = opt_start; keep && k <= i; k++)
            user_opts.opt_argv[user_opts.opt_argc++] = argv[k];
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    const char *prog = argv[i];
    if (preserve_argv0) {
        if (i + 1 >= argc)
            die("%s: binfmt_misc's P flag is set but there is no argv[0] after the path", prog);
        argv0 = argv[++i];
    }
    char *guest_argv0 = (char *)(argv0 ? argv0 : prog);

    /* Without /proc (a chroot, binfmt_misc's F flag) the program still runs; only
     * its execve of another riscv64 program fails (ENOEXEC). */
    static char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        user_opts.self = self;
    }
    if (!realpath(prog, user_opts.exe_path)) {
        if (exec_fd < 0 || strlen(prog) >= sizeof(user_opts.exe_path)) {
            fprintf(stderr, "vireo-riscv64: %s: %s\n", prog, strerror(errno));
            return 1;
        }
        strcpy(user_opts.exe_path, prog);
    }
    if (exec_fd < 0 && access(user_opts.exe_path, R_OK) < 0)
        die("%s: not readable", prog);

    int r = user_mem_init();
    if (r < 0)
        die("cannot reserve the guest address space: %s", strerror(-r));

    FILE *logf = NULL;
    if (user_opts.jit_logfile) {
        logf = fopen(user_opts.jit_logfile, "w");
        if (!logf)
            die("cannot write the log file %s", user_opts.jit_logfile);
        setvbuf(logf, NULL, _IOLBF, 0);
    }
    riscv_engine_options eo = {
        .guest_base = guest_base,
        .guest_size = USER_SPACE_SIZE,
        .backend = (enum riscv_backend)user_opts.backend,
        .log_items = user_opts.jit_debug,
        .log_file = logf,
        .code_read = user_code_read,
    };
    int err = 0;
    user_engine = riscv_engine_new(&eo, &err);
    if (!user_engine) {
        fprintf(stderr, "vireo-riscv64: cannot start the CPU engine: %s\n", riscv_strerror(err));
        return 1;
    }

    struct user_image img;
    char msg[8192];
    if (user_load_elf_fd((int)exec_fd, user_opts.exe_path, &img, user_opts.sysroot, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "vireo-riscv64: %s\n", msg);
        return 1;
    }
    user_brk_init(img.brk);
    user_signal_init();

    int gargc = argc - i;
    char **gargv = user_guest_argv = calloc(gargc + 1, sizeof(char *));
    gargv[0] = guest_argv0;
    for (int k = 1; k < gargc; k++)
        gargv[k] = argv[i + k];
    uint64_t sp = user_setup_stack(&img, gargc, gargv, envp, prog);
    if (!sp)
        die("%s", "cannot set up the guest stack");

    struct user_thread *t = user_main_thread = calloc(1, sizeof(*t));
    t->cpu = riscv_cpu_new(user_engine);
    if (!t->cpu)
        die("%s", "cannot create the CPU");
    riscv_cpu_set_opaque(t->cpu, t);
    t->tid = (int)syscall(SYS_gettid);
    user_self = t;
    user_thread_register(t);
    /* The guest starts with the signal mask it inherited (as across execve). */
    t->sigmask = user_host_sigmask(SIG_BLOCK, 0);
    user_signal_set_host_mask(t->sigmask);
    user_cpu_set_x(t->cpu, RV_SP, sp);
    user_cpu_set_pc(t->cpu, img.interp_entry);
    user_cpu_loop(t);
}
