/* The command line of vireo-system-*: the QEMU-compatible subset documented in
 * docs/manual.md.  Parsing only checks syntax and values; files and the host are
 * checked later (main.c), each with its own message. */
#ifndef STANDALONE_SYSTEM_OPTIONS_H
#define STANDALONE_SYSTEM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/log.h"

#define SYS_MAX_LIST 32

enum sys_accel {
    SYS_ACCEL_BEST,     /* no -accel: the best executor the host has */
    SYS_ACCEL_KVM,
    SYS_ACCEL_TCG,      /* Vireo's JIT (a later issue) */
    SYS_ACCEL_NONE,     /* no CPU at all: machine, devices and monitor only (tests) */
};

struct sys_options {
    const char *prog;                   /* argv[0]'s base name, for messages */
    uint64_t ram_size;                  /* bytes */
    unsigned cpus;
    enum sys_accel accel;
    const char *kernel, *initrd, *append, *bios;
    const char *name;
    bool nographic, display_none, no_reboot, start_paused;
    const char *serial[SYS_MAX_LIST];   /* -serial specs, COM1.. in order */
    unsigned n_serial;
    const char *chardevs[SYS_MAX_LIST];
    unsigned n_chardevs;
    const char *devices[SYS_MAX_LIST];
    unsigned n_devices;
    const char *monitor;                /* -monitor spec (HMP) */
    const char *qmp[4];                 /* -qmp specs */
    unsigned n_qmp;
    /* what to do instead of running */
    bool help, version, device_help, machine_help, cpu_help;
};

/* Parses argv into o.  Returns 0, or -1 with one sentence naming the option in
 * err.  Options may start with one or two dashes, as with QEMU. */
int sys_options_parse(struct sys_options *o, int argc, char **argv, struct dm_err *err);

/* -m SIZE: a number with an optional fraction and suffix B/K/M/G/T (binary);
 * no suffix means MiB, as in QEMU.  "size=SIZE" is accepted too. */
int sys_parse_mem_size(const char *s, uint64_t *out);

void sys_print_help(const char *prog);
void sys_print_version(const char *prog);

#endif
