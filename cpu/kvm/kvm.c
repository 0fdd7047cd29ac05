/* The KVM executor.  API: the kernel's Documentation/virt/kvm/api.rst.
 * Design notes (in-kernel irqchip, locking, reset): docs/kvm.md. */
#include "cpu/kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dm/mainloop.h"
#include "dm/memory.h"

#define KVM_SLOTS 64
#define KICK_SIGNAL SIGUSR1
/* Intel VMX needs three pages for the real-mode TSS and one for the identity
 * page table, somewhere the guest does not use: just below the 256 KiB BIOS. */
#define KVM_TSS_ADDR 0xfffbd000u
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000u

struct kvm_slot {
    bool used;
    uint64_t gpa, size;
    void *host;
    uint32_t flags;
};

struct kvm_vcpu {
    struct kvm_vm *vm;
    int index;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool started;
    /* power-on state, captured after creation, restored at reset */
    struct kvm_regs reset_regs;
    struct kvm_sregs reset_sregs;
    struct kvm_fpu reset_fpu;
    struct kvm_lapic_state reset_lapic;
    struct kvm_mp_state reset_mp;
};

struct kvm_vm {
    struct kvm_vm_config cfg;
    int kvm_fd, vm_fd;
    size_t run_size;
    struct kvm_cpuid2 *cpuid;
    struct kvm_vcpu vcpus[KVM_MAX_VCPUS];
    struct kvm_slot slots[KVM_SLOTS];
    unsigned max_slots;
    struct mem_listener listener;
    struct kvm_irqchip reset_chips[3];

    /* Pausing: vCPU threads park at the top of their loop while pause_req is
     * set; the counter tells the pauser when all are out of the guest. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool pause_req, quit;
    int parked;

    _Atomic uint64_t exits, io_exits, mmio_exits;
};

static void kick_handler(int sig)
{
    /* only here to interrupt KVM_RUN with EINTR */
}

static int kvm_ioctl_err(struct dm_err *err, const char *what)
{
    int e = errno;
    dm_err_set(err, "KVM: %s failed: %s", what, strerror(e));
    return -e;
}

bool kvm_available(char *reason, size_t len)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(reason, len, "/dev/kvm: %s", strerror(errno));
        return false;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    int vm = version == KVM_API_VERSION ? ioctl(fd, KVM_CREATE_VM, 0) : -1;
    if (vm < 0)
        snprintf(reason, len, "/dev/kvm cannot create a VM (%s)",
                 version != KVM_API_VERSION ? "unexpected API version" : strerror(errno));
    else
        close(vm);
    close(fd);
    return vm >= 0;
}

/* ---- memory slots ----------------------------------------------------------- */

static int slot_set(struct kvm_vm *vm, unsigned i)
{
    struct kvm_slot *s = &vm->slots[i];
    struct kvm_userspace_memory_region r = {
        .slot = i,
        .flags = s->used ? s->flags : 0,
        .guest_phys_addr = s->gpa,
        .memory_size = s->used ? s->size : 0,
        .userspace_addr = (uintptr_t)s->host,
    };
    return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* RAM and ROM sections become slots; ROM is KVM_MEM_READONLY so that a guest
 * write exits as MMIO and reaches the region (which drops it, or a PAM setting
 * has mapped RAM there instead and the section is RAM). */
static void listener_add(struct mem_listener *l, const struct mem_section *sec)
{
    struct kvm_vm *vm = l->opaque;
    if (!sec->block)
        return;             /* MMIO: accesses exit to us */
    uintptr_t host = (uintptr_t)sec->block->host + sec->block_offset;
    long page = sysconf(_SC_PAGESIZE);
    if ((sec->addr | sec->size | host) & (page - 1)) {
        /* KVM maps whole pages; a partial page stays MMIO and is served by
         * io_read/io_write from the region itself. */
        dm_log(DM_LOG_MEMORY, "kvm: section %#llx+%#llx not page aligned, trapped\n",
               (unsigned long long)sec->addr, (unsigned long long)sec->size);
        return;
    }
    for (unsigned i = 0; i < vm->max_slots; i++) {
        struct kvm_slot *s = &vm->slots[i];
        if (s->used)
            continue;
        *s = (struct kvm_slot){ true, sec->addr, sec->size, (void *)host,
                                sec->readonly ? KVM_MEM_READONLY : 0 };
        if (slot_set(vm, i) < 0) {
            dm_error("KVM: cannot map guest memory %#llx+%#llx: %s",
                     (unsigned long long)sec->addr, (unsigned long long)sec->size,
                     strerror(errno));
            s->used = false;
        }
        return;
    }
    dm_error("KVM: out of memory slots (%u) mapping %#llx", vm->max_slots,
             (unsigned long long)sec->addr);
}

static void listener_del(struct mem_listener *l, const struct mem_section *sec)
{
    struct kvm_vm *vm = l->opaque;
    for (unsigned i = 0; i < vm->max_slots; i++) {
        struct kvm_slot *s = &vm->slots[i];
        if (s->used && s->gpa == sec->addr && s->size == sec->size) {
            s->used = false;
            slot_set(vm, i);
            return;
        }
    }
}

/* ---- CPUID and MSRs --------------------------------------------------------- */

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
    for (int n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        if (!c)
            return NULL;
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        free(c);
        if (errno != E2BIG)
            return NULL;
    }
    return NULL;
}

/* -cpu host: what KVM supports, with the topology made to match Vireo's: one
 * core per package, APIC id = vCPU index (Intel SDM vol. 2A, CPUID leaves 01H,
 * 04H and 0BH/1FH). */
static int set_cpuid(struct kvm_vcpu *v)
{
    const struct kvm_cpuid2 *sup = v->vm->cpuid;
    size_t size = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
    struct kvm_cpuid2 *c = malloc(size);
    if (!c)
        return -ENOMEM;
    memcpy(c, sup, size);
    uint32_t apic = v->index;
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            e->ebx = (e->ebx & 0xffff) | 1u << 16 | apic << 24;
            e->edx &= ~(1u << 28);          /* HTT: one logical CPU per package */
            e->ecx |= 1u << 31;             /* running under a hypervisor */
            break;
        case 4:
            e->eax &= 0x3fff;               /* one core, one thread per cache */
            break;
        case 0xb:
        case 0x1f:
            e->eax = 0;                     /* no bits of the id per level */
            e->ebx = e->index < 2 ? 1 : 0;
            e->ecx = e->index < 2 ? (e->index + 1) << 8 | e->index : e->index;
            e->edx = apic;
            break;
        case 0x80000008:
            e->ecx &= ~0xffu;               /* AMD: one core */
            break;
        }
    }
    int r = ioctl(v->fd, KVM_SET_CPUID2, c);
    free(c);
    return r < 0 ? -errno : 0;
}

/* MSRs a reset must clear (Intel SDM vol. 3A, 9.1 table 9-1 "IA-32 Processor
 * States Following Power-up, Reset, or INIT"); the rest KVM resets itself. */
static const struct { uint32_t index; uint64_t value; } reset_msrs[] = {
    { 0x174, 0 },                           /* IA32_SYSENTER_CS */
    { 0x175, 0 },                           /* IA32_SYSENTER_ESP */
    { 0x176, 0 },                           /* IA32_SYSENTER_EIP */
    { 0x277, 0x0007040600070406ull },       /* IA32_PAT */
    { 0xc0000081, 0 },                      /* STAR */
    { 0xc0000082, 0 },                      /* LSTAR */
    { 0xc0000083, 0 },                      /* CSTAR */
    { 0xc0000084, 0 },                      /* FMASK */
    { 0xc0000102, 0 },                      /* KERNEL_GS_BASE */
};

static int set_reset_msrs(struct kvm_vcpu *v)
{
    enum { N = sizeof(reset_msrs) / sizeof(reset_msrs[0]) };
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[N];
    } m;
    memset(&m, 0, sizeof(m));
    m.hdr.nmsrs = N;
    for (int i = 0; i < N; i++) {
        m.e[i].index = reset_msrs[i].index;
        m.e[i].data = reset_msrs[i].value;
    }
    int r = ioctl(v->fd, KVM_SET_MSRS, &m);
    return r == N ? 0 : -EINVAL;
}

/* ---- exits ------------------------------------------------------------------ */

static uint64_t get_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static void put_le(uint8_t *p, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++, v >>= 8)
        p[i] = v;
}

/* Port I/O: one access, or count accesses for string I/O (rep ins/outs), whose
 * data KVM lays out one after the other in the run page. */
static void handle_io(struct kvm_vm *vm, struct kvm_run *run)
{
    unsigned size = run->io.size;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    if (size != 1 && size != 2 && size != 4)
        return;
    if (run->io.data_offset + (uint64_t)run->io.count * size > vm->run_size)
        return;
    dm_lock();
    for (uint32_t i = 0; i < run->io.count; i++, data += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            io_write(vm->cfg.io, run->io.port, size, get_le(data, size));
        } else {
            uint64_t v = 0;
            io_read(vm->cfg.io, run->io.port, size, &v);
            put_le(data, size, v);
        }
    }
    dm_unlock();
}

static void handle_mmio(struct kvm_vm *vm, struct kvm_run *run)
{
    unsigned len = run->mmio.len;
    uint64_t addr = run->mmio.phys_addr;
    if (len == 0 || len > 8)
        return;
    dm_lock();
    if (len == 1 || len == 2 || len == 4 || len == 8) {
        if (run->mmio.is_write) {
            io_write(vm->cfg.mem, addr, len, get_le(run->mmio.data, len));
        } else {
            uint64_t v = 0;
            io_read(vm->cfg.mem, addr, len, &v);
            put_le(run->mmio.data, len, v);
        }
    } else {
        /* odd lengths (3, 5..7 bytes of an unaligned access): byte by byte */
        for (unsigned i = 0; i < len; i++) {
            if (run->mmio.is_write) {
                io_write(vm->cfg.mem, addr + i, 1, run->mmio.data[i]);
            } else {
                uint64_t v = 0;
                io_read(vm->cfg.mem, addr + i, 1, &v);
                run->mmio.data[i] = v;
            }
        }
    }
    dm_unlock();
}

/* A vCPU that cannot go on stops the whole VM and tells the program. */
static void self_pause(struct kvm_vcpu *v, enum kvm_event ev)
{
    struct kvm_vm *vm = v->vm;
    pthread_mutex_lock(&vm->lock);
    vm->pause_req = true;
    for (int i = 0; i < vm->cfg.cpus; i++) {
        struct kvm_vcpu *o = &vm->vcpus[i];
        if (o != v && o->started) {
            o->run->immediate_exit = 1;
            pthread_kill(o->thread, KICK_SIGNAL);
        }
    }
    pthread_mutex_unlock(&vm->lock);
    if (vm->cfg.event)
        vm->cfg.event(vm->cfg.opaque, ev, v->index);
}

static void *vcpu_thread(void *arg)
{
    struct kvm_vcpu *v = arg;
    struct kvm_vm *vm = v->vm;
    struct kvm_run *run = v->run;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    for (;;) {
        pthread_mutex_lock(&vm->lock);
        /* Cleared under the lock before looking at pause_req: a pauser that sets
         * both after this point makes the KVM_RUN below return at once. */
        run->immediate_exit = 0;
        while (vm->pause_req && !vm->quit) {
            vm->parked++;
            pthread_cond_broadcast(&vm->cond);
            pthread_cond_wait(&vm->cond, &vm->lock);
            vm->parked--;
        }
        bool quit = vm->quit;
        pthread_mutex_unlock(&vm->lock);
        if (quit)
            break;

        int r = ioctl(v->fd, KVM_RUN, 0);
        atomic_fetch_add_explicit(&vm->exits, 1, memory_order_relaxed);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            dm_error("KVM: vCPU %d: KVM_RUN failed: %s", v->index, strerror(errno));
            self_pause(v, KVM_EVENT_ERROR);
            continue;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            atomic_fetch_add_explicit(&vm->io_exits, 1, memory_order_relaxed);
            handle_io(vm, run);
            break;
        case KVM_EXIT_MMIO:
            atomic_fetch_add_explicit(&vm->mmio_exits, 1, memory_order_relaxed);
            handle_mmio(vm, run);
            break;
        case KVM_EXIT_INTR:
        case KVM_EXIT_HLT:          /* not with the in-kernel LAPIC; harmless */
            break;
        case KVM_EXIT_SHUTDOWN:     /* triple fault */
            self_pause(v, KVM_EVENT_SHUTDOWN);
            break;
        case KVM_EXIT_SYSTEM_EVENT:
            self_pause(v, run->system_event.type == KVM_SYSTEM_EVENT_RESET
                              ? KVM_EVENT_RESET : KVM_EVENT_POWEROFF);
            break;
        case KVM_EXIT_FAIL_ENTRY:
            dm_error("KVM: vCPU %d: entry failed, hardware reason %#llx", v->index,
                     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            self_pause(v, KVM_EVENT_ERROR);
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            dm_error("KVM: vCPU %d: internal error, suberror %u", v->index,
                     run->internal.suberror);
            self_pause(v, KVM_EVENT_ERROR);
            break;
        default:
            dm_error("KVM: vCPU %d: unhandled exit reason %u", v->index, run->exit_reason);
            self_pause(v, KVM_EVENT_ERROR);
            break;
        }
    }
    return NULL;
}

/* ---- VM life cycle ---------------------------------------------------------- */

/* ISA IRQs reach the 8259 pair and the IOAPIC, IRQ 0 on IOAPIC pin 2 (the PC
 * wiring that firmware MP/ACPI tables describe); GSIs 16..23 the IOAPIC only. */
static int set_gsi_routing(struct kvm_vm *vm)
{
    struct {
        struct kvm_irq_routing hdr;
        struct kvm_irq_routing_entry e[64];
    } rt;
    memset(&rt, 0, sizeof(rt));
    unsigned n = 0;
    for (unsigned gsi = 0; gsi < 24; gsi++) {
        if (gsi < 16 && gsi != 2) {
            rt.e[n].gsi = gsi;
            rt.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
            rt.e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
            rt.e[n].u.irqchip.pin = gsi & 7;
            n++;
        }
        if (gsi != 2) {
            rt.e[n].gsi = gsi;
            rt.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
            rt.e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
            rt.e[n].u.irqchip.pin = gsi == 0 ? 2 : gsi;
            n++;
        }
    }
    rt.hdr.nr = n;
    return ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &rt);
}

static int vcpu_create(struct kvm_vm *vm, int index, struct dm_err *err)
{
    struct kvm_vcpu *v = &vm->vcpus[index];
    v->vm = vm;
    v->index = index;
    v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
    if (v->fd < 0)
        return kvm_ioctl_err(err, "KVM_CREATE_VCPU");
    v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        return kvm_ioctl_err(err, "mmap of the vCPU run page");
    }
    int r = set_cpuid(v);
    if (r < 0) {
        dm_err_set(err, "KVM: KVM_SET_CPUID2 failed: %s", strerror(-r));
        return r;
    }
    if (ioctl(v->fd, KVM_GET_REGS, &v->reset_regs) < 0
        || ioctl(v->fd, KVM_GET_SREGS, &v->reset_sregs) < 0
        || ioctl(v->fd, KVM_GET_FPU, &v->reset_fpu) < 0
        || ioctl(v->fd, KVM_GET_LAPIC, &v->reset_lapic) < 0
        || ioctl(v->fd, KVM_GET_MP_STATE, &v->reset_mp) < 0)
        return kvm_ioctl_err(err, "reading the vCPU's power-on state");
    if (set_reset_msrs(v) < 0)
        dm_warn("KVM: vCPU %d: some MSRs could not be reset", index);
    return 0;
}

int kvm_vm_new(const struct kvm_vm_config *cfg, struct kvm_vm **out, struct dm_err *err)
{
    if (cfg->cpus < 1 || cfg->cpus > KVM_MAX_VCPUS) {
        dm_err_set(err, "KVM: %d vCPUs asked for; 1 to %d are possible", cfg->cpus,
                   KVM_MAX_VCPUS);
        return -EINVAL;
    }
    struct kvm_vm *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        dm_err_set(err, "KVM: out of memory");
        return -ENOMEM;
    }
    vm->cfg = *cfg;
    vm->kvm_fd = vm->vm_fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    for (int i = 0; i < KVM_MAX_VCPUS; i++)
        vm->vcpus[i].fd = -1;
    int r;

    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        r = -errno;
        dm_err_set(err, "KVM is not available: /dev/kvm: %s%s", strerror(errno),
                   errno == ENOENT ? " (no kvm module, or no hardware virtualization)"
                   : errno == EACCES ? " (add yourself to the kvm group)" : "");
        goto fail;
    }
    if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        r = -EINVAL;
        dm_err_set(err, "KVM: unexpected API version on /dev/kvm");
        goto fail;
    }
    static const struct { int cap; const char *name; } caps[] = {
        { KVM_CAP_IRQCHIP, "in-kernel irqchip" },
        { KVM_CAP_USER_MEMORY, "user memory" },
        { KVM_CAP_SET_TSS_ADDR, "TSS address" },
        { KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID" },
        { KVM_CAP_READONLY_MEM, "read-only memory slots" },
        { KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
        { KVM_CAP_IRQ_ROUTING, "GSI routing" },
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
            r = -ENOTSUP;
            dm_err_set(err, "KVM on this host lacks %s, which Vireo needs", caps[i].name);
            goto fail;
        }
    }
    int slots = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    vm->max_slots = slots > 0 && slots < KVM_SLOTS ? slots : KVM_SLOTS;
    int max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max_vcpus > 0 && cfg->cpus > max_vcpus) {
        r = -EINVAL;
        dm_err_set(err, "KVM on this host allows at most %d vCPUs (-smp %d)", max_vcpus,
                   cfg->cpus);
        goto fail;
    }
    vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if ((long)vm->run_size <= 0) {
        r = kvm_ioctl_err(err, "KVM_GET_VCPU_MMAP_SIZE");
        goto fail;
    }
    if (!(vm->cpuid = supported_cpuid(vm->kvm_fd))) {
        r = kvm_ioctl_err(err, "KVM_GET_SUPPORTED_CPUID");
        goto fail;
    }
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        r = kvm_ioctl_err(err, "KVM_CREATE_VM");
        goto fail;
    }
    uint64_t identity = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0
        || (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0
            && ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)) {
        r = kvm_ioctl_err(err, "setting the TSS / identity map address");
        goto fail;
    }
    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        r = kvm_ioctl_err(err, "KVM_CREATE_IRQCHIP");
        goto fail;
    }
    if (set_gsi_routing(vm) < 0) {
        r = kvm_ioctl_err(err, "KVM_SET_GSI_ROUTING");
        goto fail;
    }
    for (int i = 0; i < 3; i++) {
        vm->reset_chips[i].chip_id = i;
        if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &vm->reset_chips[i]) < 0) {
            r = kvm_ioctl_err(err, "KVM_GET_IRQCHIP");
            goto fail;
        }
    }
    for (int i = 0; i < cfg->cpus; i++)
        if ((r = vcpu_create(vm, i, err)) < 0)
            goto fail;

    struct sigaction sa = { .sa_handler = kick_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(KICK_SIGNAL, &sa, NULL);      /* no SA_RESTART: KVM_RUN gets EINTR */

    vm->listener = (struct mem_listener){
        .region_add = listener_add, .region_del = listener_del, .opaque = vm,
    };
    address_space_add_listener(cfg->mem, &vm->listener);
    *out = vm;
    return 0;
fail:
    kvm_vm_free(vm);
    return r;
}

int kvm_vm_start(struct kvm_vm *vm, struct dm_err *err)
{
    /* vCPU threads must not take the kick signal outside KVM_RUN's reach before
     * their loop unblocks it; they inherit this mask. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    for (int i = 0; i < vm->cfg.cpus; i++) {
        struct kvm_vcpu *v = &vm->vcpus[i];
        if (v->started)
            continue;
        int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
        if (r) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            dm_err_set(err, "KVM: cannot start vCPU thread %d: %s", i, strerror(r));
            return -r;
        }
        v->started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

static int started_count(struct kvm_vm *vm)
{
    int n = 0;
    for (int i = 0; i < vm->cfg.cpus; i++)
        n += vm->vcpus[i].started;
    return n;
}

void kvm_vm_pause(struct kvm_vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    vm->pause_req = true;
    for (int i = 0; i < vm->cfg.cpus; i++) {
        struct kvm_vcpu *v = &vm->vcpus[i];
        if (v->started) {
            v->run->immediate_exit = 1;
            pthread_kill(v->thread, KICK_SIGNAL);
        }
    }
    while (vm->parked < started_count(vm))
        pthread_cond_wait(&vm->cond, &vm->lock);
    pthread_mutex_unlock(&vm->lock);
}

void kvm_vm_resume(struct kvm_vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    vm->pause_req = false;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
}

int kvm_vm_reset_cpus(struct kvm_vm *vm)
{
    int r = 0;
    for (int i = 0; i < 3; i++)
        if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &vm->reset_chips[i]) < 0)
            r = -errno;
    for (int i = 0; i < vm->cfg.cpus; i++) {
        struct kvm_vcpu *v = &vm->vcpus[i];
        struct kvm_vcpu_events ev;
        memset(&ev, 0, sizeof(ev));
        if (ioctl(v->fd, KVM_SET_SREGS, &v->reset_sregs) < 0
            || ioctl(v->fd, KVM_SET_REGS, &v->reset_regs) < 0
            || ioctl(v->fd, KVM_SET_FPU, &v->reset_fpu) < 0
            || ioctl(v->fd, KVM_SET_LAPIC, &v->reset_lapic) < 0
            || ioctl(v->fd, KVM_SET_MP_STATE, &v->reset_mp) < 0
            || ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
            r = -errno;
        if (set_reset_msrs(v) < 0)
            r = -EINVAL;
    }
    return r;
}

int kvm_vm_set_flat32_entry(struct kvm_vm *vm, const struct kvm_flat32_entry *e)
{
    struct kvm_vcpu *v = &vm->vcpus[0];
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
        return -errno;
    struct kvm_segment code = {
        .base = 0, .limit = 0xffffffff, .selector = e->cs_sel, .type = 0xb,
        .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
    };
    struct kvm_segment data = code;
    data.selector = e->ds_sel;
    data.type = 0x3;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.gdt.base = e->gdt_base;
    s.gdt.limit = e->gdt_limit;
    s.cr0 = (s.cr0 | 1) & ~(1u << 31);      /* PE on, PG off */
    s.efer = 0;
    if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
        return -errno;
    struct kvm_regs r;
    memset(&r, 0, sizeof(r));
    r.rip = e->eip;
    r.rsi = e->esi;
    r.rflags = 2;                           /* IF = 0 */
    if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
        return -errno;
    return 0;
}

int kvm_vm_set_irq(struct kvm_vm *vm, unsigned gsi, int level)
{
    struct kvm_irq_level l = { .irq = gsi, .level = level != 0 };
    if (gsi >= 24)
        return -EINVAL;
    return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static void print_seg(FILE *f, const char *name, const struct kvm_segment *s)
{
    unsigned flags = s->type << 8 | s->s << 12 | s->dpl << 13 | s->present << 15
                     | s->avl << 20 | s->l << 21 | s->db << 22 | s->g << 23;
    fprintf(f, "%-3s=%04x %016llx %08x %08x\n", name, s->selector,
            (unsigned long long)s->base, s->limit, flags);
}

void kvm_vm_print_registers(struct kvm_vm *vm, FILE *f)
{
    for (int i = 0; i < vm->cfg.cpus; i++) {
        struct kvm_vcpu *v = &vm->vcpus[i];
        struct kvm_regs r;
        struct kvm_sregs s;
        struct kvm_mp_state mp = { 0 };
        if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
            fprintf(f, "CPU#%d: registers not readable: %s\n", i, strerror(errno));
            continue;
        }
        ioctl(v->fd, KVM_GET_MP_STATE, &mp);
        fprintf(f, "CPU#%d%s\n", i, mp.mp_state == KVM_MP_STATE_HALTED ? " (halted)"
                : mp.mp_state == KVM_MP_STATE_INIT_RECEIVED ? " (INIT received, waiting for SIPI)"
                : mp.mp_state == KVM_MP_STATE_UNINITIALIZED ? " (waiting for INIT)" : "");
        fprintf(f, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n",
                r.rax, r.rbx, r.rcx, r.rdx);
        fprintf(f, "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n",
                r.rsi, r.rdi, r.rbp, r.rsp);
        fprintf(f, "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n",
                r.r8, r.r9, r.r10, r.r11);
        fprintf(f, "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n",
                r.r12, r.r13, r.r14, r.r15);
        fprintf(f, "RIP=%016llx RFL=%08llx CPL=%d\n", r.rip, r.rflags, s.cs.dpl);
        print_seg(f, "ES", &s.es);
        print_seg(f, "CS", &s.cs);
        print_seg(f, "SS", &s.ss);
        print_seg(f, "DS", &s.ds);
        print_seg(f, "FS", &s.fs);
        print_seg(f, "GS", &s.gs);
        print_seg(f, "LDT", &s.ldt);
        print_seg(f, "TR", &s.tr);
        fprintf(f, "GDT=     %016llx %08x\n", (unsigned long long)s.gdt.base, s.gdt.limit);
        fprintf(f, "IDT=     %016llx %08x\n", (unsigned long long)s.idt.base, s.idt.limit);
        fprintf(f, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx\n",
                s.cr0, s.cr2, s.cr3, s.cr4);
        fprintf(f, "EFER=%016llx APIC_BASE=%016llx\n", s.efer, s.apic_base);
        struct kvm_lapic_state la;
        if (ioctl(v->fd, KVM_GET_LAPIC, &la) == 0) {
            uint32_t reg[5];
            static const unsigned off[5] = { 0x20, 0xf0, 0x300, 0x310, 0x350 };
            for (int k = 0; k < 5; k++)
                memcpy(&reg[k], la.regs + off[k], 4);
            fprintf(f, "LAPIC ID=%08x SVR=%08x ICR=%08x:%08x LVT0=%08x\n", reg[0], reg[1],
                    reg[3], reg[2], reg[4]);
        }
    }
}

void kvm_vm_get_stats(struct kvm_vm *vm, struct kvm_vm_stats *st)
{
    st->exits = atomic_load(&vm->exits);
    st->io_exits = atomic_load(&vm->io_exits);
    st->mmio_exits = atomic_load(&vm->mmio_exits);
}

void kvm_vm_free(struct kvm_vm *vm)
{
    if (!vm)
        return;
    pthread_mutex_lock(&vm->lock);
    vm->quit = true;
    for (int i = 0; i < vm->cfg.cpus; i++) {
        struct kvm_vcpu *v = &vm->vcpus[i];
        if (v->started) {
            v->run->immediate_exit = 1;
            pthread_kill(v->thread, KICK_SIGNAL);
        }
    }
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    for (int i = 0; i < vm->cfg.cpus; i++)
        if (vm->vcpus[i].started)
            pthread_join(vm->vcpus[i].thread, NULL);
    if (vm->listener.as) {
        dm_lock();
        address_space_remove_listener(vm->cfg.mem, &vm->listener);
        dm_unlock();
    }
    for (int i = 0; i < KVM_MAX_VCPUS; i++) {
        struct kvm_vcpu *v = &vm->vcpus[i];
        if (v->run)
            munmap(v->run, vm->run_size);
        if (v->fd >= 0)
            close(v->fd);
    }
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    free(vm->cpuid);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}
