/* PCI core: configuration space, BARs, INTx, capabilities, MSI.  Register
 * layouts follow the PCI Local Bus Specification 3.0, chapter 6. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dma.h"
#include "dm/util.h"
#include "dm/pci.h"
#include "dm/vmstate.h"

#define PCI_CAP_START 0x40

/* MSI capability (6.8.1) */
#define MSI_FLAGS       2
#define  MSI_FLAGS_ENABLE 0x0001
#define  MSI_FLAGS_QMASK  0x000e   /* multiple message capable, log2 */
#define  MSI_FLAGS_QSIZE  0x0070   /* multiple message enable, log2 */
#define  MSI_FLAGS_64BIT  0x0080
#define  MSI_FLAGS_MASKBIT 0x0100
#define MSI_ADDR_LO     4

const struct dev_prop pci_device_common_props[] = {
    { .name = "addr", .type = DEV_PROP_PCI_DEVFN, .offset = offsetof(struct pci_device, devfn),
      .def = 0xff, .help = "slot[.function] (hex), default: first free slot" },
    DEV_PROP_BOOL("multifunction", struct pci_device, multifunction, false,
                  "set the multi-function bit of the header type"),
    DEV_PROP_END,
};

/* ---- bus -------------------------------------------------------------------- */

static int pci_plug(struct dev_bus *b, struct device *dev, struct dm_err *err)
{
    struct pci_bus *bus = (struct pci_bus *)b;
    struct pci_device *d = (struct pci_device *)dev;

    if (d->devfn == 0xff) {
        for (unsigned slot = 0; slot < 32; slot++) {
            if (!bus->devices[PCI_DEVFN(slot, 0)]) {
                d->devfn = PCI_DEVFN(slot, 0);
                break;
            }
        }
        if (d->devfn == 0xff) {
            dm_err_set(err, "device '%s': no free slot on PCI bus '%s'", dev->type->name, b->name);
            return -ENOSPC;
        }
    } else if (bus->devices[d->devfn]) {
        dm_err_set(err, "device '%s': PCI address %02x.%u on bus '%s' is already used by '%s'",
                   dev->type->name, PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), b->name,
                   bus->devices[d->devfn]->dev.type->name);
        return -EBUSY;
    }
    d->bus = bus;
    bus->devices[d->devfn] = d;
    return 0;
}

static void update_irq(struct pci_device *d);
static void update_mappings(struct pci_device *d);

static void pci_unplug(struct dev_bus *b, struct device *dev)
{
    struct pci_bus *bus = (struct pci_bus *)b;
    struct pci_device *d = (struct pci_device *)dev;

    if (d->config) {
        /* drop the bus IRQ and every BAR mapping before the memory goes */
        d->intx_level = 0;
        update_irq(d);
        pci_set_word(d->config + PCI_COMMAND, 0);
        update_mappings(d);
    }
    if (bus->devices[d->devfn] == d)
        bus->devices[d->devfn] = NULL;
    free(d->config);
    free(d->wmask);
    free(d->w1cmask);
    free(d->config_init);
    d->config = d->wmask = d->w1cmask = d->config_init = d->config_ext = NULL;
}

void pci_bus_init(struct pci_bus *bus, struct dm_ctx *ctx, const char *name,
                  struct device *owner, struct mem_region *mem, struct mem_region *io,
                  struct address_space *dma_as)
{
    memset(bus, 0, sizeof(*bus));
    dev_bus_init(&bus->bus, ctx, name, DEV_BUS_PCI, owner);
    bus->bus.child_props = pci_device_common_props;
    bus->bus.plug = pci_plug;
    bus->bus.unplug = pci_unplug;
    bus->mem = mem;
    bus->io = io;
    bus->dma_as = dma_as;
}

void pci_bus_set_irq_routing(struct pci_bus *bus,
                             int (*map_irq)(void *opaque, struct pci_device *d, int pin),
                             void (*set_irq)(void *opaque, int irq, int level),
                             void *opaque, unsigned n_irqs)
{
    bus->map_irq = map_irq;
    bus->set_irq = set_irq;
    bus->irq_opaque = opaque;
    bus->n_irqs = n_irqs > DM_ARRAY_SIZE(bus->irq_count) ? DM_ARRAY_SIZE(bus->irq_count) : n_irqs;
}

int pci_swizzle_pin(struct pci_device *d, int pin)
{
    return (pin + PCI_SLOT(d->devfn)) % PCI_NUM_PINS;
}

/* ---- config space ----------------------------------------------------------- */

void pci_device_setup(struct pci_device *d, const struct pci_device_info *info)
{
    uint32_t size = info->express ? PCIE_CONFIG_SPACE_SIZE : PCI_CONFIG_SPACE_SIZE;
    uint8_t *c;

    d->info = info;
    d->config_size = size;
    d->config = c = calloc(1, size);
    d->wmask = calloc(1, size);
    d->w1cmask = calloc(1, size);
    if (!d->config || !d->wmask || !d->w1cmask) {
        dm_error("out of memory for PCI configuration space");
        abort();
    }
    d->config_ext = info->express ? c + PCI_CONFIG_SPACE_SIZE : NULL;
    pci_set_word(c + PCI_VENDOR_ID, info->vendor_id);
    pci_set_word(c + PCI_DEVICE_ID, info->device_id);
    c[PCI_REVISION_ID] = info->revision;
    c[PCI_CLASS_PROG] = (uint8_t)info->class_code;
    pci_set_word(c + PCI_CLASS_DEVICE, (uint16_t)(info->class_code >> 8));
    c[PCI_HEADER_TYPE] = info->header_type | (d->multifunction ? PCI_HEADER_TYPE_MULTI_FUNCTION : 0);
    pci_set_word(c + PCI_SUBSYSTEM_VENDOR_ID, info->subsystem_vendor_id);
    pci_set_word(c + PCI_SUBSYSTEM_ID, info->subsystem_id);
    c[PCI_INTERRUPT_PIN] = info->interrupt_pin <= 4 ? info->interrupt_pin : 0;
    pci_set_word(c + PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);

    /* 6.2.2 command: I/O, memory, bus master, parity, SERR#, interrupt disable */
    pci_set_word(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                 PCI_COMMAND_MASTER | 0x0040 | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    /* 6.2.3 status error bits are write-1-to-clear */
    pci_set_word(d->w1cmask + PCI_STATUS, PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR |
                 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_REC_TARGET_ABORT |
                 PCI_STATUS_SIG_TARGET_ABORT | 0x0100);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    d->next_cap_offset = PCI_CAP_START;
    for (int i = 0; i <= PCI_NUM_BARS; i++)
        d->bars[i].addr = PCI_BAR_UNMAPPED;
}

static uint32_t bar_reg(int bar)
{
    return bar == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * (uint32_t)bar;
}

static bool bar_is_io(const struct pci_bar *b)
{
    return b->type == PCI_BAR_IO;
}

static bool bar_is_64(const struct pci_bar *b)
{
    return b->type == PCI_BAR_MEM64 || b->type == PCI_BAR_MEM64_PREFETCH;
}

void pci_register_bar(struct pci_device *d, int bar, enum pci_bar_type type, struct mem_region *mr)
{
    struct pci_bar *b;
    uint64_t size = mr->size, mask;
    uint32_t reg, flags = 0;

    if (bar < 0 || bar >= PCI_NUM_BARS || (size & (size - 1)) ||
        ((type == PCI_BAR_MEM64 || type == PCI_BAR_MEM64_PREFETCH) && bar == PCI_NUM_BARS - 1) ||
        (type == PCI_BAR_IO ? size < 4 : size < 16)) {
        dm_error("PCI device '%s': invalid BAR %d (size 0x%" PRIx64 ")", d->dev.type->name, bar, size);
        abort();
    }
    b = &d->bars[bar];
    b->region = mr;
    b->size = size;
    b->type = type;
    b->addr = PCI_BAR_UNMAPPED;
    reg = bar_reg(bar);
    mask = ~(size - 1);
    switch (type) {
    case PCI_BAR_IO: flags = PCI_BASE_ADDRESS_SPACE_IO; break;
    case PCI_BAR_MEM32: flags = 0; break;
    case PCI_BAR_MEM32_PREFETCH: flags = PCI_BASE_ADDRESS_MEM_PREFETCH; break;
    case PCI_BAR_MEM64: flags = PCI_BASE_ADDRESS_MEM_TYPE_64; break;
    case PCI_BAR_MEM64_PREFETCH: flags = PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH; break;
    }
    /* 6.2.5.1: the low bits are read-only type bits; the address bits below
     * the size read as zero, which is how software sizes the BAR. */
    pci_set_long(d->config + reg, flags);
    pci_set_long(d->wmask + reg, (uint32_t)mask & (type == PCI_BAR_IO ? ~3u : ~15u));
    if (bar_is_64(b)) {
        pci_set_long(d->config + reg + 4, 0);
        pci_set_long(d->wmask + reg + 4, (uint32_t)(mask >> 32));
    }
}

void pci_register_rom(struct pci_device *d, struct mem_region *mr)
{
    struct pci_bar *b = &d->bars[PCI_ROM_SLOT];
    uint64_t size = mr->size;

    if ((size & (size - 1)) || size < 2048) {
        dm_error("PCI device '%s': invalid ROM size 0x%" PRIx64, d->dev.type->name, size);
        abort();
    }
    b->region = mr;
    b->size = size;
    b->type = PCI_BAR_MEM32;
    b->addr = PCI_BAR_UNMAPPED;
    pci_set_long(d->config + PCI_ROM_ADDRESS, 0);
    /* 6.2.5.2: address bits 31..11 and the enable bit */
    pci_set_long(d->wmask + PCI_ROM_ADDRESS, ((uint32_t)~(size - 1) & 0xfffff800u) | PCI_ROM_ADDRESS_ENABLE);
}

/* Where BAR bar should be mapped now, or PCI_BAR_UNMAPPED. */
static uint64_t bar_target(const struct pci_device *d, int bar)
{
    const struct pci_bar *b = &d->bars[bar];
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    uint32_t reg = bar_reg(bar);
    uint64_t addr, last;

    if (bar == PCI_ROM_SLOT) {
        uint32_t v = pci_get_long(d->config + reg);
        if (!(cmd & PCI_COMMAND_MEMORY) || !(v & PCI_ROM_ADDRESS_ENABLE))
            return PCI_BAR_UNMAPPED;
        addr = v & ~0x7ffu;
    } else if (bar_is_io(b)) {
        if (!(cmd & PCI_COMMAND_IO))
            return PCI_BAR_UNMAPPED;
        addr = pci_get_long(d->config + reg) & ~3u;
    } else {
        if (!(cmd & PCI_COMMAND_MEMORY))
            return PCI_BAR_UNMAPPED;
        addr = pci_get_long(d->config + reg) & ~15u;
        if (bar_is_64(b))
            addr |= (uint64_t)pci_get_long(d->config + reg + 4) << 32;
    }
    addr &= ~(b->size - 1);
    last = addr + b->size - 1;
    /* Address 0 means "not assigned"; a BAR that reaches the top of its space
     * (or of 4 GiB) holds the all-ones sizing pattern, not a placement. */
    if (addr == 0 || last < addr)
        return PCI_BAR_UNMAPPED;
    if (bar_is_io(b) && last > 0xffff)
        return PCI_BAR_UNMAPPED;
    if (!bar_is_64(b) && last >= 0xffffffffULL)
        return PCI_BAR_UNMAPPED;
    if (last == UINT64_MAX || last == 0xffffffffULL)
        return PCI_BAR_UNMAPPED;
    return addr;
}

static void update_mappings(struct pci_device *d)
{
    struct pci_bus *bus = d->bus;

    mem_transaction_begin();
    for (int i = 0; i <= PCI_NUM_BARS; i++) {
        struct pci_bar *b = &d->bars[i];
        struct mem_region *space;
        uint64_t target;

        if (!b->region)
            continue;
        space = bar_is_io(b) ? bus->io : bus->mem;
        target = space ? bar_target(d, i) : PCI_BAR_UNMAPPED;
        if (target == b->addr)
            continue;
        if (b->addr != PCI_BAR_UNMAPPED)
            mem_region_del_subregion(space, b->region);
        b->addr = target;
        if (target != PCI_BAR_UNMAPPED)
            mem_region_add_subregion(space, target, b->region, 1);
        dm_log(DM_LOG_PCI, "pci: %s BAR %d %s 0x%" PRIx64, d->dev.type->name, i,
               target == PCI_BAR_UNMAPPED ? "unmapped" : "mapped at", target);
    }
    mem_transaction_commit();
}

uint64_t pci_bar_address(const struct pci_device *d, int bar)
{
    if (bar < 0 || bar > PCI_NUM_BARS)
        return PCI_BAR_UNMAPPED;
    return d->bars[bar].addr;
}

/* ---- INTx ------------------------------------------------------------------- */

static void update_irq(struct pci_device *d)
{
    struct pci_bus *bus = d->bus;
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    uint16_t status = pci_get_word(d->config + PCI_STATUS);
    int pin = d->config[PCI_INTERRUPT_PIN];
    bool assert;

    /* 6.2.3: the status bit shows the device's interrupt even when disabled */
    status = d->intx_level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
    pci_set_word(d->config + PCI_STATUS, status);
    assert = d->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) && pin >= 1 && pin <= 4;
    if (assert == d->intx_asserted || !bus)
        return;
    if (assert) {
        int irq = bus->map_irq ? bus->map_irq(bus->irq_opaque, d, pin - 1) : -1;
        if (irq < 0 || (unsigned)irq >= bus->n_irqs)
            return;
        d->intx_irq = irq;
        if (bus->irq_count[irq]++ == 0 && bus->set_irq)
            bus->set_irq(bus->irq_opaque, irq, 1);
    } else {
        int irq = d->intx_irq;
        if (--bus->irq_count[irq] == 0 && bus->set_irq)
            bus->set_irq(bus->irq_opaque, irq, 0);
    }
    d->intx_asserted = assert;
}

void pci_set_irq(struct pci_device *d, int level)
{
    d->intx_level = level != 0;
    if (d->config)
        update_irq(d);
}

/* ---- capabilities and MSI --------------------------------------------------- */

int pci_add_capability(struct pci_device *d, uint8_t id, uint8_t offset, uint8_t size)
{
    unsigned off = offset ? offset : (d->next_cap_offset + 3u) & ~3u;

    if (off < PCI_CAP_START || (off & 3) || off + size > PCI_CONFIG_SPACE_SIZE || size < 2)
        return -ENOSPC;
    d->config[off] = id;
    d->config[off + 1] = d->config[PCI_CAPABILITY_LIST];
    d->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
    pci_set_word(d->config + PCI_STATUS, pci_get_word(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    if (off + size > d->next_cap_offset)
        d->next_cap_offset = (uint8_t)DM_MIN(off + size, 0xffu);
    return (int)off;
}

uint8_t pci_find_capability(const struct pci_device *d, uint8_t id)
{
    uint8_t off = d->config[PCI_CAPABILITY_LIST] & ~3;

    /* at most 48 capabilities fit; the bound also stops a looped list */
    for (int i = 0; i < 48 && off >= PCI_CAP_START; i++) {
        if (d->config[off] == id)
            return off;
        off = d->config[off + 1] & ~3;
    }
    return 0;
}

static bool msi_64(const struct pci_device *d)
{
    return pci_get_word(d->config + d->msi_cap + MSI_FLAGS) & MSI_FLAGS_64BIT;
}

static bool msi_maskbit(const struct pci_device *d)
{
    return pci_get_word(d->config + d->msi_cap + MSI_FLAGS) & MSI_FLAGS_MASKBIT;
}

static unsigned msi_data_off(const struct pci_device *d)
{
    return d->msi_cap + (msi_64(d) ? 12 : 8);
}

static unsigned msi_mask_off(const struct pci_device *d)
{
    return d->msi_cap + (msi_64(d) ? 16 : 12);
}

int pci_msi_init(struct pci_device *d, uint8_t offset, unsigned nvectors, bool is_64bit,
                 bool per_vector_mask)
{
    unsigned log2 = 0, size;
    int off;
    uint16_t flags;

    if (nvectors == 0 || nvectors > 32 || (nvectors & (nvectors - 1)))
        return -EINVAL;
    while ((1u << log2) < nvectors)
        log2++;
    size = 10 + (is_64bit ? 4 : 0) + (per_vector_mask ? 10 : 0);
    off = pci_add_capability(d, PCI_CAP_ID_MSI, offset, (uint8_t)size);
    if (off < 0)
        return off;
    d->msi_cap = (uint8_t)off;
    d->msi_vectors = (uint8_t)nvectors;
    flags = (uint16_t)(log2 << 1) | (is_64bit ? MSI_FLAGS_64BIT : 0) |
            (per_vector_mask ? MSI_FLAGS_MASKBIT : 0);
    pci_set_word(d->config + off + MSI_FLAGS, flags);
    pci_set_word(d->wmask + off + MSI_FLAGS, MSI_FLAGS_ENABLE | MSI_FLAGS_QSIZE);
    pci_set_long(d->wmask + off + MSI_ADDR_LO, 0xfffffffc);
    if (is_64bit)
        pci_set_long(d->wmask + off + 8, 0xffffffff);
    pci_set_word(d->wmask + msi_data_off(d), 0xffff);
    if (per_vector_mask)
        pci_set_long(d->wmask + msi_mask_off(d), nvectors == 32 ? 0xffffffffu : (1u << nvectors) - 1);
    return off;
}

bool pci_msi_enabled(const struct pci_device *d)
{
    return d->msi_cap && (pci_get_word(d->config + d->msi_cap + MSI_FLAGS) & MSI_FLAGS_ENABLE);
}

static void msi_send(struct pci_device *d, unsigned vector)
{
    uint64_t addr = pci_get_long(d->config + d->msi_cap + MSI_ADDR_LO);
    uint16_t data = pci_get_word(d->config + msi_data_off(d));
    unsigned enabled = 1u << ((pci_get_word(d->config + d->msi_cap + MSI_FLAGS) & MSI_FLAGS_QSIZE) >> 4);

    if (msi_64(d))
        addr |= (uint64_t)pci_get_long(d->config + d->msi_cap + 8) << 32;
    /* 6.8.3.4: the device modifies the low bits of the data for its vector */
    data = (uint16_t)((data & ~(enabled - 1)) | (vector & (enabled - 1)));
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        dm_guest_error("PCI %s: MSI with bus mastering disabled", d->dev.type->name);
        return;
    }
    dm_log(DM_LOG_PCI, "pci: %s MSI vector %u -> [0x%" PRIx64 "] = 0x%04x", d->dev.type->name,
           vector, addr, data);
    dma_write_u32(d->bus->dma_as, addr, data);
}

void pci_msi_notify(struct pci_device *d, unsigned vector)
{
    if (!pci_msi_enabled(d) || vector >= d->msi_vectors)
        return;
    if (msi_maskbit(d) && (pci_get_long(d->config + msi_mask_off(d)) & (1u << vector))) {
        d->msi_pending |= 1u << vector;
        pci_set_long(d->config + msi_mask_off(d) + 4, d->msi_pending);
        return;
    }
    msi_send(d, vector);
}

/* After a config write that may have unmasked vectors: send what is pending. */
static void msi_update(struct pci_device *d)
{
    uint32_t mask;

    if (!msi_maskbit(d) || !pci_msi_enabled(d) || !d->msi_pending)
        return;
    mask = pci_get_long(d->config + msi_mask_off(d));
    for (unsigned v = 0; v < d->msi_vectors; v++) {
        if ((d->msi_pending & (1u << v)) && !(mask & (1u << v))) {
            d->msi_pending &= ~(1u << v);
            pci_set_long(d->config + msi_mask_off(d) + 4, d->msi_pending);
            msi_send(d, v);
        }
    }
}

/* ---- config cycles ---------------------------------------------------------- */

static bool ranges_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

static bool config_access_ok(struct pci_bus *bus, uint8_t devfn, uint32_t offset, unsigned size,
                             struct pci_device **out)
{
    struct pci_device *d = bus->devices[devfn];

    if ((size != 1 && size != 2 && size != 4) || (offset & (size - 1))) {
        dm_guest_error("PCI config access of size %u at offset 0x%x is misaligned", size, offset);
        return false;
    }
    if (!d || !d->config || offset >= d->config_size)
        return false;
    *out = d;
    return true;
}

uint32_t pci_config_read(struct pci_bus *bus, uint8_t devfn, uint32_t offset, unsigned size)
{
    struct pci_device *d;
    uint32_t v = 0;

    if (!config_access_ok(bus, devfn, offset, size, &d))
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)d->config[offset + i] << (8 * i);
    if (d->info && d->info->config_read)
        v = d->info->config_read(d, offset, size, v);
    return v;
}

void pci_config_write(struct pci_bus *bus, uint8_t devfn, uint32_t offset, unsigned size, uint32_t value)
{
    struct pci_device *d;

    if (!config_access_ok(bus, devfn, offset, size, &d))
        return;
    for (unsigned i = 0; i < size; i++) {
        uint32_t a = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        d->config[a] = (uint8_t)((d->config[a] & ~d->wmask[a]) | (b & d->wmask[a]));
        d->config[a] &= (uint8_t)~(b & d->w1cmask[a]);
    }
    if (ranges_overlap(offset, size, PCI_COMMAND, 2) ||
        ranges_overlap(offset, size, PCI_BASE_ADDRESS_0, 24) ||
        ranges_overlap(offset, size, PCI_ROM_ADDRESS, 4))
        update_mappings(d);
    if (ranges_overlap(offset, size, PCI_COMMAND, 2))
        update_irq(d);
    if (d->msi_cap && ranges_overlap(offset, size, d->msi_cap, 24))
        msi_update(d);
    if (d->info && d->info->config_write)
        d->info->config_write(d, offset, size, value);
}

/* ---- DMA, reset, state ------------------------------------------------------ */

static int bus_master_ok(struct pci_device *d)
{
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        dm_guest_error("PCI %s: DMA with bus mastering disabled", d->dev.type->name);
        return -EPERM;
    }
    return 0;
}

int pci_dma_read(struct pci_device *d, uint64_t addr, void *buf, size_t len)
{
    int ret = bus_master_ok(d);

    if (ret < 0) {
        memset(buf, 0xff, len);
        return ret;
    }
    return dma_read(d->bus->dma_as, addr, buf, len);
}

int pci_dma_write(struct pci_device *d, uint64_t addr, const void *buf, size_t len)
{
    int ret = bus_master_ok(d);

    return ret < 0 ? ret : dma_write(d->bus->dma_as, addr, buf, len);
}

void pci_device_reset(struct pci_device *d)
{
    if (!d->config)
        return;
    if (!d->config_init) {
        /* first reset, right after realize: remember the power-on values */
        d->config_init = malloc(d->config_size);
        if (!d->config_init) {
            dm_error("out of memory for PCI configuration space");
            abort();
        }
        memcpy(d->config_init, d->config, d->config_size);
    }
    for (uint32_t i = 0; i < d->config_size; i++)
        if (d->wmask[i] | d->w1cmask[i])
            d->config[i] = d->config_init[i];
    d->msi_pending = 0;
    if (d->msi_cap && msi_maskbit(d))
        pci_set_long(d->config + msi_mask_off(d) + 4, 0);
    d->intx_level = 0;
    update_irq(d);
    update_mappings(d);
}

static int pci_post_load(void *opaque, int version)
{
    struct pci_device *d = opaque;

    /* Read-only bits come back from their realize values: a stream must not
     * change what the device is (IDs, BAR types, capability layout).  Devices
     * that change read-only bits themselves re-derive them in their own
     * post_load, which runs after this one. */
    if (d->config_init) {
        for (uint32_t i = 0; i < d->config_size; i++) {
            uint8_t rw = d->wmask[i] | d->w1cmask[i];
            d->config[i] = (uint8_t)((d->config[i] & rw) | (d->config_init[i] & ~rw));
        }
    }
    d->intx_level = d->intx_level != 0;
    if (d->msi_vectors < 32)
        d->msi_pending &= (1u << d->msi_vectors) - 1;
    if (d->msi_cap && msi_maskbit(d))
        pci_set_long(d->config + msi_mask_off(d) + 4, d->msi_pending);
    update_irq(d);
    update_mappings(d);
    return 0;
}

static bool pci_express_needed(void *opaque)
{
    return ((struct pci_device *)opaque)->config_ext != NULL;
}

static const struct vms_field pci_express_fields[] = {
    VMS_BUFFER_PTR(struct pci_device, config_ext, PCIE_CONFIG_SPACE_SIZE - PCI_CONFIG_SPACE_SIZE),
    VMS_END_OF_LIST,
};

static const struct vms_desc pci_express_vmstate = {
    .name = "pci/express", .version = 1, .fields = pci_express_fields,
    .needed = pci_express_needed,
};

static const struct vms_desc *const pci_subsections[] = { &pci_express_vmstate, NULL };

static const struct vms_field pci_fields[] = {
    VMS_BUFFER_PTR(struct pci_device, config, PCI_CONFIG_SPACE_SIZE),
    VMS_INT32(struct pci_device, intx_level),
    VMS_UINT32(struct pci_device, msi_pending),
    VMS_END_OF_LIST,
};

const struct vms_desc pci_device_vmstate = {
    .name = "pci", .version = 1, .min_version = 1, .fields = pci_fields,
    .subsections = pci_subsections, .post_load = pci_post_load,
};
