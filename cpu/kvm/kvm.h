/* The KVM executor: x86 guests on /dev/kvm (see docs/kvm.md).
 *
 * One VM with KVM's in-kernel interrupt controllers (8259 pair, IOAPIC, one LAPIC
 * per vCPU); guest RAM/ROM are memory slots that follow the memory address
 * space's sections; one host thread per vCPU runs KVM_RUN and turns port and
 * MMIO exits into io_read/io_write under the device lock.  Devices raise ISA/GSI
 * interrupts with kvm_vm_set_irq (the machine's external interrupt sink).
 *
 * Threads: kvm_vm_new/start/pause/resume/reset/free are called from the main
 * thread (with the device lock held where noted); vCPU threads only run guests
 * and dispatch exits. */
#ifndef CPU_KVM_KVM_H
#define CPU_KVM_KVM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dm/log.h"

struct address_space;
struct kvm_vm;

#define KVM_MAX_VCPUS 64

/* Why a VM wants the program's attention (from a vCPU thread, no lock held). */
enum kvm_event {
    KVM_EVENT_SHUTDOWN,         /* triple fault / shutdown: reset, or quit with -no-reboot */
    KVM_EVENT_RESET,            /* the guest asked for a reset (PSCI-like system event) */
    KVM_EVENT_POWEROFF,
    KVM_EVENT_ERROR,            /* KVM could not go on (entry failure, internal error) */
};

struct kvm_vm_config {
    int cpus;                           /* 1..KVM_MAX_VCPUS */
    struct address_space *mem;          /* slots follow its RAM/ROM sections */
    struct address_space *io;           /* port exits go here */
    /* Called from a vCPU thread; the vCPU then waits until the VM is resumed or
     * reset.  Must not block on the vCPU (it may take the device lock). */
    void (*event)(void *opaque, enum kvm_event ev, int cpu);
    void *opaque;
};

/* Initial state of the boot CPU for a direct kernel boot: 32-bit flat protected
 * mode (Linux boot protocol, 32-bit entry). */
struct kvm_flat32_entry {
    uint32_t eip, esi;
    uint32_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs_sel, ds_sel;
};

/* Opens /dev/kvm and creates the VM, its irqchip and vCPUs (not running).  Call
 * with the device lock held (it registers a listener on cfg->mem).
 * -errno with one clear sentence in err: no /dev/kvm, no permission, API or
 * capability missing, too many vCPUs. */
int kvm_vm_new(const struct kvm_vm_config *cfg, struct kvm_vm **out, struct dm_err *err);
/* Stops and joins the vCPU threads and closes everything.  Call without the
 * device lock (a vCPU may be waiting for it). */
void kvm_vm_free(struct kvm_vm *vm);

/* True if /dev/kvm can create a VM here; reason filled otherwise (for SKIP lines
 * and the "no executor" message). */
bool kvm_available(char *reason, size_t len);

/* Starts the vCPU threads (the VM runs from its reset or entry state). */
int kvm_vm_start(struct kvm_vm *vm, struct dm_err *err);
/* Kicks every vCPU out of the guest and waits until all are parked.  Call
 * without the device lock (a vCPU may be waiting for it). */
void kvm_vm_pause(struct kvm_vm *vm);
void kvm_vm_resume(struct kvm_vm *vm);
/* With the VM paused: every vCPU and the in-kernel irqchip back to power-on
 * state (BSP at F000:FFF0, APs waiting for INIT/SIPI). */
int kvm_vm_reset_cpus(struct kvm_vm *vm);
/* With the VM paused (or not yet started): put the BSP at a 32-bit entry. */
int kvm_vm_set_flat32_entry(struct kvm_vm *vm, const struct kvm_flat32_entry *e);

/* Level of interrupt line gsi (0..23; ISA IRQs 0..15 go to both the 8259 and the
 * IOAPIC, IRQ 0 on IOAPIC pin 2 as on a PC).  Any thread. */
int kvm_vm_set_irq(struct kvm_vm *vm, unsigned gsi, int level);

/* `info registers` for every vCPU (VM paused or not: a running vCPU is shown as
 * of its last exit). */
void kvm_vm_print_registers(struct kvm_vm *vm, FILE *f);

/* Counters for tests and `info kvm`. */
struct kvm_vm_stats {
    uint64_t exits, io_exits, mmio_exits;
};
void kvm_vm_get_stats(struct kvm_vm *vm, struct kvm_vm_stats *st);

#endif
