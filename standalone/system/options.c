/* Command-line parsing for vireo-system-*.  See options.h and docs/manual.md. */
#include "standalone/system/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/chardev.h"
#include "dm/opts.h"

#define VIREO_VERSION "0.1.0"

int sys_parse_mem_size(const char *s, uint64_t *out)
{
    if (strncmp(s, "size=", 5) == 0)
        s += 5;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0)
        return -EINVAL;
    unsigned shift = 20;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': shift = 0; end++; break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -EINVAL;
    }
    if (*end)
        return -EINVAL;
    double bytes = v * (double)(1ull << shift);
    if (bytes >= 18446744073709551616.0)
        return -ERANGE;
    *out = (uint64_t)bytes;
    return 0;
}

/* -smp N or -smp [cpus=]N[,sockets=S][,cores=C][,threads=T][,maxcpus=M] */
static int parse_smp(const char *s, unsigned *cpus, struct dm_err *err)
{
    struct opts o;
    struct dm_err e;
    if (opts_parse(&o, s, "cpus", &e) < 0) {
        dm_err_set(err, "-smp '%s': %s", s, e.msg);
        return -1;
    }
    uint64_t n = 0, sockets = 1, cores = 1, threads = 1, maxcpus = 0;
    int r = 0;
    if (opts_get_u64(&o, "cpus", 0, &n, &e) < 0
        || opts_get_u64(&o, "sockets", 1, &sockets, &e) < 0
        || opts_get_u64(&o, "cores", 1, &cores, &e) < 0
        || opts_get_u64(&o, "threads", 1, &threads, &e) < 0
        || opts_get_u64(&o, "maxcpus", 0, &maxcpus, &e) < 0
        || opts_check_unused(&o, "-smp", &e) < 0) {
        dm_err_set(err, "-smp '%s': %s", s, e.msg);
        r = -1;
    } else {
        if (n == 0 && !opts_has(&o, "cpus"))
            n = sockets * cores * threads;
        if (n < 1 || n > 255 || (maxcpus && maxcpus < n)) {
            dm_err_set(err, "-smp '%s': the number of CPUs must be 1 to 255", s);
            r = -1;
        }
        *cpus = n;
    }
    opts_free(&o);
    return r;
}

/* -M/-machine TYPE[,accel=kvm|tcg] */
static int parse_machine(struct sys_options *o, const char *s, struct dm_err *err)
{
    struct opts m;
    struct dm_err e;
    if (opts_parse(&m, s, "type", &e) < 0) {
        dm_err_set(err, "-machine '%s': %s", s, e.msg);
        return -1;
    }
    int r = 0;
    const char *type = opts_get(&m, "type");
    const char *accel = opts_get(&m, "accel");
    if (type && !strcmp(type, "help")) {
        o->machine_help = true;
    } else if (type && strcmp(type, "pc") && strncmp(type, "pc-i440fx-", 10)) {
        dm_err_set(err, "-machine '%s': unknown machine type (only 'pc' is supported; "
                   "'-machine help' lists it)", type);
        r = -1;
    } else if (accel && strcmp(accel, "kvm") && strcmp(accel, "tcg")) {
        dm_err_set(err, "-machine accel='%s': unknown accelerator (kvm or tcg)", accel);
        r = -1;
    } else if (opts_check_unused(&m, "-machine", &e) < 0) {
        dm_err_set(err, "%s", e.msg);
        r = -1;
    } else if (accel) {
        o->accel = !strcmp(accel, "kvm") ? SYS_ACCEL_KVM : SYS_ACCEL_TCG;
    }
    opts_free(&m);
    return r;
}

static int add(const char **list, unsigned *n, const char *v, const char *opt,
               struct dm_err *err)
{
    if (*n >= SYS_MAX_LIST) {
        dm_err_set(err, "%s: at most %d may be given", opt, SYS_MAX_LIST);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

/* Options with an argument, and the ones without. */
static const char *const with_arg[] = {
    "M", "machine", "m", "smp", "accel", "cpu", "kernel", "initrd", "append", "bios",
    "display", "serial", "chardev", "device", "name", "monitor", "qmp",
};

int sys_options_parse(struct sys_options *o, int argc, char **argv, struct dm_err *err)
{
    const char *slash = strrchr(argv[0], '/');
    *o = (struct sys_options){ .prog = slash ? slash + 1 : argv[0],
                               .ram_size = 128ull << 20, .cpus = 1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            dm_err_set(err, "'%s': not an option (a disk image is given with an "
                       "option, and disks are not supported yet)", a);
            return -1;
        }
        const char *opt = a + 1 + (a[1] == '-');
        const char *val = NULL;
        bool needs = false;
        for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]); k++)
            needs |= !strcmp(opt, with_arg[k]);
        if (needs) {
            if (i + 1 >= argc) {
                dm_err_set(err, "option -%s needs an argument", opt);
                return -1;
            }
            val = argv[++i];
        }

        if (!strcmp(opt, "h") || !strcmp(opt, "help")) {
            o->help = true;
        } else if (!strcmp(opt, "version")) {
            o->version = true;
        } else if (!strcmp(opt, "M") || !strcmp(opt, "machine")) {
            if (parse_machine(o, val, err) < 0)
                return -1;
        } else if (!strcmp(opt, "m")) {
            if (sys_parse_mem_size(val, &o->ram_size) < 0 || o->ram_size < (1u << 20)) {
                dm_err_set(err, "-m '%s': not a memory size (e.g. 512, 512M, 2G; at "
                           "least 1M)", val);
                return -1;
            }
        } else if (!strcmp(opt, "smp")) {
            if (parse_smp(val, &o->cpus, err) < 0)
                return -1;
        } else if (!strcmp(opt, "accel")) {
            const char *comma = strchr(val, ',');
            size_t n = comma ? (size_t)(comma - val) : strlen(val);
            if (n == 3 && !strncmp(val, "kvm", 3)) {
                o->accel = SYS_ACCEL_KVM;
            } else if (n == 3 && !strncmp(val, "tcg", 3)) {
                o->accel = SYS_ACCEL_TCG;
            } else if (n == 4 && !strncmp(val, "none", 4)) {
                o->accel = SYS_ACCEL_NONE;
            } else {
                dm_err_set(err, "-accel '%s': unknown accelerator (kvm, tcg or none)", val);
                return -1;
            }
            if (comma) {
                dm_err_set(err, "-accel '%s': no accelerator options are supported", val);
                return -1;
            }
        } else if (!strcmp(opt, "enable-kvm")) {
            o->accel = SYS_ACCEL_KVM;
        } else if (!strcmp(opt, "cpu")) {
            if (!strcmp(val, "help")) {
                o->cpu_help = true;
            } else if (strcmp(val, "host") && strcmp(val, "max")) {
                dm_err_set(err, "-cpu '%s': unknown CPU model (host is supported; "
                           "max is the same under KVM)", val);
                return -1;
            }
        } else if (!strcmp(opt, "kernel")) {
            o->kernel = val;
        } else if (!strcmp(opt, "initrd")) {
            o->initrd = val;
        } else if (!strcmp(opt, "append")) {
            o->append = val;
        } else if (!strcmp(opt, "bios")) {
            o->bios = val;
        } else if (!strcmp(opt, "nographic")) {
            o->nographic = true;
        } else if (!strcmp(opt, "display")) {
            if (strcmp(val, "none")) {
                dm_err_set(err, "-display '%s': only 'none' is supported", val);
                return -1;
            }
            o->display_none = true;
        } else if (!strcmp(opt, "serial")) {
            struct dm_err e;
            if (strncmp(val, "chardev:", 8) && chardev_shorthand_check(val, &e) < 0) {
                dm_err_set(err, "-serial: %s", e.msg);
                return -1;
            }
            if (add(o->serial, &o->n_serial, val, "-serial", err) < 0)
                return -1;
        } else if (!strcmp(opt, "chardev")) {
            if (add(o->chardevs, &o->n_chardevs, val, "-chardev", err) < 0)
                return -1;
        } else if (!strcmp(opt, "device")) {
            if (!strcmp(val, "help") || !strcmp(val, "?"))
                o->device_help = true;
            else if (add(o->devices, &o->n_devices, val, "-device", err) < 0)
                return -1;
        } else if (!strcmp(opt, "no-reboot")) {
            o->no_reboot = true;
        } else if (!strcmp(opt, "S")) {
            o->start_paused = true;
        } else if (!strcmp(opt, "name")) {
            o->name = strncmp(val, "guest=", 6) ? val : val + 6;
        } else if (!strcmp(opt, "monitor")) {
            o->monitor = val;
        } else if (!strcmp(opt, "qmp")) {
            if (o->n_qmp >= 4) {
                dm_err_set(err, "-qmp: at most 4 may be given");
                return -1;
            }
            o->qmp[o->n_qmp++] = val;
        } else {
            dm_err_set(err, "unknown option '%s' (see '%s -h')", a, o->prog);
            return -1;
        }
    }
    if (o->n_serial > 4) {
        dm_err_set(err, "-serial: at most 4 serial ports (COM1..COM4)");
        return -1;
    }
    if (o->initrd && !o->kernel) {
        dm_err_set(err, "-initrd needs -kernel");
        return -1;
    }
    if (o->append && !o->kernel) {
        dm_err_set(err, "-append needs -kernel");
        return -1;
    }
    return 0;
}

void sys_print_version(const char *prog)
{
    printf("%s version " VIREO_VERSION " (Vireo)\n"
           "Vireo: a machine emulator and virtualizer\n", prog);
}

void sys_print_help(const char *prog)
{
    printf("usage: %s [options]\n"
           "Vireo full-system PC emulator (QEMU-compatible options)\n"
           "\n"
           "Machine:\n"
           "  -M, -machine pc[,accel=kvm]  the machine (i440FX + PIIX3 PC); 'help' lists it\n"
           "  -m SIZE                guest RAM; MiB unless suffixed K/M/G/T (default 128M)\n"
           "  -smp N                 N CPUs (also cpus=N,sockets=S,cores=C,threads=T)\n"
           "  -accel kvm, -enable-kvm   run on KVM (the default when /dev/kvm works)\n"
           "  -accel none            no CPU: the machine, its devices and the monitor only\n"
           "  -cpu host              the host CPU's features as KVM offers them\n"
           "  -device DRIVER[,prop=value...]   add a device; '-device help' lists them\n"
           "  -no-reboot             exit instead of rebooting when the guest resets\n"
           "  -S                     do not start the CPUs (use 'cont' in the monitor)\n"
           "  -name NAME             the VM's name\n"
           "\n"
           "Boot:\n"
           "  -bios FILE             firmware image (default: Debian's SeaBIOS)\n"
           "  -kernel bzImage        boot this Linux kernel directly (x86 boot protocol)\n"
           "  -initrd FILE           initial ramdisk for -kernel\n"
           "  -append CMDLINE        kernel command line for -kernel\n"
           "\n"
           "Display and character devices:\n"
           "  -nographic             no display; serial port and monitor on the terminal\n"
           "                         (Ctrl-A c switches, Ctrl-A x quits, Ctrl-A h helps)\n"
           "  -display none          no display\n"
           "  -serial DEV            COM1..COM4: stdio, mon:stdio, file:PATH, pipe:PATH, pty,\n"
           "                         tcp:[HOST]:PORT[,server,wait=off], unix:PATH[,server],\n"
           "                         null, chardev:ID\n"
           "  -chardev BACKEND,id=ID[,...]   a character device (null, stdio, file, pipe, pty,\n"
           "                         socket, ringbuf)\n"
           "  -monitor DEV           human monitor (HMP) on DEV, e.g. stdio\n"
           "  -qmp DEV               QMP on DEV, e.g. unix:PATH,server,wait=off\n"
           "\n"
           "  -h, -help              this help\n"
           "  -version               the version\n"
           "\n"
           "See docs/manual.md for the whole manual.\n", prog);
}
