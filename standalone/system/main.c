/* vireo-system-x86_64 / vireo-system-i386: the full-system PC emulator.
 *
 * Threads (docs/kvm.md): the main thread runs the main loop (chardevs, timers,
 * monitor) with the device lock held except while it polls; one thread per vCPU
 * runs the guest and takes the device lock to dispatch an exit.  Requests that
 * come from a vCPU thread (reset, shutdown, isa-debug-exit, KVM events) are
 * flags handled by a bottom half on the main loop, where the VM can be paused. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/kvm/kvm.h"
#include "dm/chardev.h"
#include "dm/clock.h"
#include "dm/device.h"
#include "dm/dm.h"
#include "dm/mainloop.h"
#include "dm/memory.h"
#include "dm/monitor.h"
#include "machines/pc.h"
#include "machines/x86-linux-boot.h"
#include "standalone/system/options.h"

struct sys_vm {
    struct sys_options opt;
    struct dm_ctx ctx;
    struct pc_machine *pc;
    struct kvm_vm *kvm;
    struct monitor_hub hub;
    enum vm_run_state state;
    struct dm_bh *bh;
    /* set from vCPU threads, handled by request_bh on the main loop */
    atomic_bool reset_req, shutdown_req, exit_req, kvm_error;
    atomic_int exit_code;
    int status;                 /* the program's exit status */
};

static const char *prog = "vireo-system";

/* ---- requests from the guest ---------------------------------------------- */

static void on_reset_request(void *opaque)
{
    struct sys_vm *vm = opaque;
    atomic_store(&vm->reset_req, true);
    bh_schedule(vm->bh);
}

static void on_shutdown_request(void *opaque)
{
    struct sys_vm *vm = opaque;
    atomic_store(&vm->shutdown_req, true);
    bh_schedule(vm->bh);
}

static void on_exit_request(void *opaque, int status)
{
    struct sys_vm *vm = opaque;
    atomic_store(&vm->exit_code, status);
    atomic_store(&vm->exit_req, true);
    bh_schedule(vm->bh);
}

static void on_kvm_event(void *opaque, enum kvm_event ev, int cpu)
{
    struct sys_vm *vm = opaque;
    switch (ev) {
    case KVM_EVENT_SHUTDOWN:        /* triple fault: a reset on a PC */
    case KVM_EVENT_RESET:
        if (vm->opt.no_reboot)
            atomic_store(&vm->shutdown_req, true);
        else
            atomic_store(&vm->reset_req, true);
        break;
    case KVM_EVENT_POWEROFF:
        atomic_store(&vm->shutdown_req, true);
        break;
    case KVM_EVENT_ERROR:
        atomic_store(&vm->kvm_error, true);
        break;
    }
    bh_schedule(vm->bh);
}

static void on_gsi(void *opaque, int gsi, int level)
{
    struct sys_vm *vm = opaque;
    if (vm->kvm)
        kvm_vm_set_irq(vm->kvm, gsi, level);
}

/* ---- VM control (main loop thread, device lock held) ------------------------ */

/* A vCPU may be waiting for the device lock to finish an exit: let it, while we
 * wait for all of them to leave the guest. */
static void pause_cpus(struct sys_vm *vm)
{
    if (!vm->kvm)
        return;
    dm_unlock();
    kvm_vm_pause(vm->kvm);
    dm_lock();
}

static void resume_cpus(struct sys_vm *vm)
{
    if (vm->kvm)
        kvm_vm_resume(vm->kvm);
}

static int guest_write(void *opaque, uint64_t gpa, const void *data, size_t len)
{
    struct sys_vm *vm = opaque;
    const uint8_t *p = data;
    while (len) {
        uint64_t n = len;
        void *host = address_space_host_ptr(vm->ctx.mem, gpa, &n, true);
        if (!host || n == 0)
            return -EFAULT;
        if (n > len)
            n = len;
        memcpy(host, p, n);
        p += n, gpa += n, len -= n;
    }
    return 0;
}

/* Direct kernel boot: load the kernel and point the boot CPU at it.  Done at
 * start and again at every reset (the guest may have overwritten it). */
static int load_kernel(struct sys_vm *vm, struct dm_err *err)
{
    struct pc_e820_entry pe[16];
    X86E820Entry map[16];
    unsigned n = pc_e820(vm->pc, pe, 16);
    for (unsigned i = 0; i < n && i < 16; i++)
        map[i] = (X86E820Entry){ pe[i].addr, pe[i].size, pe[i].type };
    X86LinuxBootConfig cfg = {
        .kernel_path = vm->opt.kernel, .initrd_path = vm->opt.initrd,
        .cmdline = vm->opt.append, .ram_below_4g = pc_ram_below_4g(vm->pc),
        .ram_above_4g = pc_ram_above_4g(vm->pc), .cpus = vm->opt.cpus,
        .e820 = map, .e820_count = n < 16 ? n : 16,
        .write = guest_write, .opaque = vm,
    };
    X86BootEntry e;
    if (x86_linux_load(&cfg, &e, err->msg, sizeof(err->msg)) < 0)
        return -1;
    if (!vm->kvm)
        return 0;               /* -accel none: loaded, but no CPU to start it */
    struct kvm_flat32_entry k = {
        .eip = e.eip, .esi = e.esi, .gdt_base = e.gdt_base, .gdt_limit = e.gdt_limit,
        .cs_sel = e.cs.selector, .ds_sel = e.ds.selector,
    };
    int r = kvm_vm_set_flat32_entry(vm->kvm, &k);
    if (r < 0) {
        dm_err_set(err, "KVM: cannot set the kernel's entry state: %s", strerror(-r));
        return -1;
    }
    return 0;
}

static void system_reset(struct sys_vm *vm, bool guest, const char *reason)
{
    pause_cpus(vm);
    pc_reset(vm->pc);
    if (vm->kvm && kvm_vm_reset_cpus(vm->kvm) < 0)
        dm_warn("KVM: the CPUs did not reset completely");
    if (vm->opt.kernel) {
        struct dm_err err;
        if (load_kernel(vm, &err) < 0)
            dm_error("%s", err.msg);
    }
    char data[96];
    snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
             guest ? "true" : "false", reason);
    monitor_event(&vm->hub, "RESET", data);
    if (vm->state == VM_RUNNING)
        resume_cpus(vm);
}

static void shutdown_and_quit(struct sys_vm *vm, bool guest, const char *reason)
{
    char data[96];
    snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
             guest ? "true" : "false", reason);
    monitor_event(&vm->hub, "SHUTDOWN", data);
    main_loop_quit(vm->ctx.loop);
}

static void request_bh(void *opaque)
{
    struct sys_vm *vm = opaque;
    if (atomic_exchange(&vm->exit_req, false)) {
        vm->status = atomic_load(&vm->exit_code);
        main_loop_quit(vm->ctx.loop);
        return;
    }
    if (atomic_exchange(&vm->shutdown_req, false)) {
        vm->state = VM_SHUTDOWN;
        shutdown_and_quit(vm, true, vm->opt.no_reboot ? "guest-reset" : "guest-shutdown");
        return;
    }
    if (atomic_exchange(&vm->kvm_error, false)) {
        vm->state = VM_INTERNAL_ERROR;
        clock_pause(vm->ctx.clock_virt);
        dm_error("the guest stopped: KVM cannot run it any more (see the message above)");
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (f && vm->kvm) {
            kvm_vm_print_registers(vm->kvm, f);
            fclose(f);
            fputs(text, stderr);
            free(text);
        }
        monitor_event(&vm->hub, "STOP", NULL);
        if (!vm->opt.monitor && !vm->opt.n_qmp && !vm->opt.nographic) {
            vm->status = 1;
            main_loop_quit(vm->ctx.loop);
        }
        return;
    }
    if (atomic_exchange(&vm->reset_req, false))
        system_reset(vm, true, "guest-reset");
}

/* ---- monitor hooks ----------------------------------------------------------- */

static enum vm_run_state mon_state(void *opaque)
{
    return ((struct sys_vm *)opaque)->state;
}

static int mon_stop(void *opaque)
{
    struct sys_vm *vm = opaque;
    if (vm->state != VM_RUNNING)
        return vm->state == VM_PAUSED ? 0 : -1;
    pause_cpus(vm);
    clock_pause(vm->ctx.clock_virt);
    vm->state = VM_PAUSED;
    monitor_event(&vm->hub, "STOP", NULL);
    return 0;
}

static int mon_cont(void *opaque)
{
    struct sys_vm *vm = opaque;
    if (vm->state == VM_RUNNING)
        return 0;
    if (vm->state != VM_PAUSED)
        return -1;
    vm->state = VM_RUNNING;
    clock_resume(vm->ctx.clock_virt);
    resume_cpus(vm);
    monitor_event(&vm->hub, "RESUME", NULL);
    return 0;
}

static int mon_reset(void *opaque)
{
    struct sys_vm *vm = opaque;
    if (vm->state == VM_SHUTDOWN || vm->state == VM_INTERNAL_ERROR)
        return -1;
    system_reset(vm, false, "host-qmp-system-reset");
    return 0;
}

static void mon_quit(void *opaque)
{
    struct sys_vm *vm = opaque;
    vm->status = 0;
    shutdown_and_quit(vm, false, "host-qmp-quit");
}

static int mon_info(void *opaque, const char *item, FILE *f)
{
    struct sys_vm *vm = opaque;
    if (!strcmp(item, "registers")) {
        /* vCPU registers can only be read while the vCPU is out of the guest */
        if (!vm->kvm) {
            fprintf(f, "no CPUs (-accel none)\n");
            return 0;
        }
        bool running = vm->state == VM_RUNNING;
        if (running)
            pause_cpus(vm);
        kvm_vm_print_registers(vm->kvm, f);
        if (running)
            resume_cpus(vm);
        return 0;
    }
    if (!strcmp(item, "qtree")) {
        dm_print_qtree(&vm->ctx, f);
        return 0;
    }
    if (!strcmp(item, "mtree")) {
        fprintf(f, "address-space: %s\n", address_space_name(vm->ctx.io));
        address_space_print_tree(vm->ctx.io, f);
        fprintf(f, "\naddress-space: %s\n", address_space_name(vm->ctx.mem));
        address_space_print_tree(vm->ctx.mem, f);
        return 0;
    }
    return -1;
}

static const struct monitor_vm_ops mon_ops = {
    .state = mon_state, .stop = mon_stop, .cont = mon_cont, .reset = mon_reset,
    .quit = mon_quit, .info = mon_info,
};

/* SIGINT/SIGTERM/SIGHUP end the program cleanly (terminal restored, SHUTDOWN
 * event sent): the handler only writes to a pipe that the main loop watches. */
static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* nothing to do: a byte is already pending */
    }
    errno = saved;
}

static void signal_ready(void *opaque, int fd, unsigned revents)
{
    struct sys_vm *vm = opaque;
    char c = 0;
    if (read(fd, &c, 1) == 1) {
        fprintf(stderr, "%s: terminating on signal %d\n", prog, c);
        vm->status = 0;
        shutdown_and_quit(vm, false, "host-signal");
    }
}

static void catch_signals(struct sys_vm *vm)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return;
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    main_loop_set_fd(vm->ctx.loop, signal_pipe[0], POLLIN, signal_ready, vm);
}

static void mux_quit(void *opaque)
{
    struct sys_vm *vm = opaque;
    vm->status = 0;
    shutdown_and_quit(vm, false, "host-signal");
}

/* ---- start-up ------------------------------------------------------------------ */

static int fail(const char *fmt, const char *msg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, msg);
    fputc('\n', stderr);
    return 1;
}

/* Checks of the user's input that need no machine: files and sizes. */
static int check_inputs(const struct sys_options *o)
{
    char msg[256];
    if (o->kernel && x86_linux_check(o->kernel, msg, sizeof(msg)) < 0)
        return fail("%s", msg);
    if (o->initrd && access(o->initrd, R_OK) < 0) {
        snprintf(msg, sizeof(msg), "initrd '%s': %s", o->initrd, strerror(errno));
        return fail("%s", msg);
    }
    if (o->bios && access(o->bios, R_OK) < 0) {
        snprintf(msg, sizeof(msg), "bios '%s': %s", o->bios, strerror(errno));
        return fail("%s", msg);
    }
    /* -device names: the properties are checked when the machine is built */
    struct dev_registry *types = dev_registry_new();
    pc_register_device_types(types);
    for (unsigned i = 0; i < o->n_devices; i++) {
        size_t len = strcspn(o->devices[i], ",");
        snprintf(msg, sizeof(msg), "%.*s", (int)len, o->devices[i]);
        if (!dev_registry_find(types, msg)) {
            dev_registry_free(types);
            char line[400];
            snprintf(line, sizeof(line), "-device '%s': no such device ('-device help' "
                     "lists them)", msg);
            return fail("%s", line);
        }
    }
    dev_registry_free(types);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t host = pages > 0 && page > 0 ? (uint64_t)pages * page : 0;
    if (host && o->ram_size > host) {
        snprintf(msg, sizeof(msg), "-m: %llu MiB of guest RAM is more than this host "
                 "has (%llu MiB)", (unsigned long long)(o->ram_size >> 20),
                 (unsigned long long)(host >> 20));
        return fail("%s", msg);
    }
    return 0;
}

static int open_chardevs(struct sys_vm *vm, struct pc_config *pc, struct dm_err *err)
{
    struct sys_options *o = &vm->opt;
    struct chardev *chr;
    for (unsigned i = 0; i < o->n_chardevs; i++)
        if (chardev_new_from_opts(vm->ctx.chardevs, o->chardevs[i], &chr, err) < 0)
            return -1;
    /* -nographic: COM1 and the monitor share the terminal unless told otherwise */
    const char *serial0 = o->n_serial ? o->serial[0] : o->nographic ? "mon:stdio" : "null";
    unsigned n = o->n_serial ? o->n_serial : 1;
    struct chardev *mux = NULL;
    for (unsigned i = 0; i < n; i++) {
        const char *spec = i == 0 ? serial0 : o->serial[i];
        char id[24];
        snprintf(id, sizeof(id), "serial%u", i);
        if (chardev_new_from_shorthand(vm->ctx.chardevs, spec, id, &chr, err) < 0)
            return -1;
        pc->serial[i] = chr;
        if (chr && chardev_is_mux(chr) && !mux)
            mux = chr;
    }
    const char *mon = o->monitor;
    if (mon) {
        if (chardev_new_from_shorthand(vm->ctx.chardevs, mon, "monitor0", &chr, err) < 0)
            return -1;
        if (chr && monitor_attach_chardev(&vm->hub, MONITOR_HMP, chr, err) < 0)
            return -1;
    } else if (mux) {
        if (monitor_attach_chardev(&vm->hub, MONITOR_HMP, mux, err) < 0)
            return -1;
    }
    for (unsigned i = 0; i < o->n_qmp; i++) {
        char id[24];
        snprintf(id, sizeof(id), "qmp%u", i);
        if (chardev_new_from_shorthand(vm->ctx.chardevs, o->qmp[i], id, &chr, err) < 0)
            return -1;
        if (chr && monitor_attach_chardev(&vm->hub, MONITOR_QMP, chr, err) < 0)
            return -1;
    }
    return 0;
}

static int print_device_help(void)
{
    struct dev_registry *r = dev_registry_new();
    pc_register_device_types(r);
    dev_registry_print(r, stdout);
    dev_registry_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    static struct sys_vm vm_storage;
    struct sys_vm *vm = &vm_storage;
    struct dm_err err = { { 0 } };
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];

    if (sys_options_parse(&vm->opt, argc, argv, &err) < 0)
        return fail("%s", err.msg);
    struct sys_options *o = &vm->opt;
    if (o->help) {
        sys_print_help(prog);
        return 0;
    }
    if (o->version) {
        sys_print_version(prog);
        return 0;
    }
    if (o->machine_help) {
        printf("Supported machines are:\npc                   Standard PC (i440FX + PIIX, 1996) (default)\n");
        return 0;
    }
    if (o->cpu_help) {
        printf("Available CPUs:\n  host    the host CPU's features as KVM offers them (default)\n");
        return 0;
    }
    if (o->device_help)
        return print_device_help();
    if (check_inputs(o))
        return 1;

    /* The best executor: KVM when it works here; the x86 JIT is not there yet. */
    char why[160];
    bool cpus = o->accel != SYS_ACCEL_NONE;
    if (o->accel == SYS_ACCEL_TCG)
        return fail("%s", "-accel tcg: no executor available: Vireo's x86 JIT is not "
                    "built yet; use -accel kvm on a host with /dev/kvm");
    if (cpus && !kvm_available(why, sizeof(why))) {
        char msg[300];
        snprintf(msg, sizeof(msg), "no executor available: KVM is not usable (%s) and "
                 "Vireo's x86 JIT is not built yet", why);
        return fail("%s", msg);
    }

    dm_lock();
    vm->ctx.loop = main_loop_new();
    vm->ctx.clock_virt = clock_new(DM_CLOCK_VIRTUAL);
    vm->ctx.clock_real = clock_new(DM_CLOCK_REALTIME);
    main_loop_add_clock(vm->ctx.loop, vm->ctx.clock_virt);
    main_loop_add_clock(vm->ctx.loop, vm->ctx.clock_real);
    vm->ctx.chardevs = chardev_set_new(vm->ctx.loop);
    chardev_set_quit_handler(vm->ctx.chardevs, mux_quit, vm);
    vm->bh = bh_new(vm->ctx.loop, request_bh, vm);
    catch_signals(vm);
    monitor_hub_init(&vm->hub, &mon_ops, vm);
    vm->state = o->start_paused ? VM_PAUSED : VM_RUNNING;

    struct pc_config pcc;
    pc_config_init(&pcc);
    pcc.ram_size = o->ram_size;
    pcc.smp_cpus = o->cpus;
    pcc.bios_path = o->bios;
    pcc.devices = o->devices;
    pcc.n_devices = o->n_devices;
    pcc.no_reboot = o->no_reboot;
    pcc.irqchip = PC_IRQCHIP_EXTERNAL;
    pcc.gsi_sink = on_gsi;
    pcc.gsi_sink_opaque = vm;
    pcc.reset_request = on_reset_request;
    pcc.reset_opaque = vm;
    pcc.shutdown_request = on_shutdown_request;
    pcc.shutdown_opaque = vm;
    pcc.exit_request = on_exit_request;
    pcc.exit_opaque = vm;

    int status = 1;
    if (open_chardevs(vm, &pcc, &err) < 0) {
        fail("%s", err.msg);
        goto out;
    }
    if (pc_create(&pcc, &vm->ctx, &vm->pc, &err) < 0) {
        fail("%s", err.msg);
        goto out;
    }
    struct kvm_vm_config kc = {
        .cpus = o->cpus, .mem = vm->ctx.mem, .io = vm->ctx.io,
        .event = on_kvm_event, .opaque = vm,
    };
    if (cpus && kvm_vm_new(&kc, &vm->kvm, &err) < 0) {
        fail("%s", err.msg);
        goto out;
    }
    pc_reset(vm->pc);
    if (o->kernel && load_kernel(vm, &err) < 0) {
        fail("%s", err.msg);
        goto out;
    }
    if (o->start_paused) {
        clock_pause(vm->ctx.clock_virt);
        if (vm->kvm)
            kvm_vm_pause(vm->kvm);      /* no thread yet: they park at once */
    }
    if (vm->kvm && kvm_vm_start(vm->kvm, &err) < 0) {
        fail("%s", err.msg);
        goto out;
    }
    vm->status = 0;
    main_loop_run(vm->ctx.loop);
    status = vm->status;
out:
    dm_unlock();
    kvm_vm_free(vm->kvm);               /* joins the vCPU threads */
    dm_lock();
    monitor_hub_fini(&vm->hub);
    if (vm->pc)
        pc_destroy(vm->pc);
    chardev_set_free(vm->ctx.chardevs); /* gives the terminal back */
    bh_free(vm->bh);
    main_loop_free(vm->ctx.loop);
    clock_free(vm->ctx.clock_virt);
    clock_free(vm->ctx.clock_real);
    dm_unlock();
    fflush(stdout);
    return status;
}
