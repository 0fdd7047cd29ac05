/* PCI: buses, devices, configuration space, BARs, INTx, capabilities, MSI.
 *
 * A PCI device's instance starts with `struct pci_device` (which starts with
 * `struct device`).  Its type has .bus = DEV_BUS_PCI; in realize it calls
 * pci_device_setup() with its const identity, then registers BARs and
 * capabilities.  The core owns the header: command/status, BARs, ROM BAR,
 * interrupt line/pin, capability list; the device may hook config reads/writes.
 * Device-specific registers: realize sets their initial value in config[] and
 * the guest-writable bits in wmask[] (and w1cmask[]); reset restores every
 * writable byte to its value at the end of realize.
 *
 * Host bridges forward configuration cycles with pci_config_read/write and tell
 * the bus how INTx pins route (pci_bus_set_irq_routing).  Specs: PCI Local Bus
 * 3.0 chapter 6 (configuration space), 6.2.5 (BARs), 6.8 (MSI). */
#ifndef DM_PCI_H
#define DM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/memory.h"

/* ---- configuration space registers (PCI 3.0 section 6.1) -------------------- */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_IO         0x0001
#define  PCI_COMMAND_MEMORY     0x0002
#define  PCI_COMMAND_MASTER     0x0004
#define  PCI_COMMAND_SERR       0x0100
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS              0x06
#define  PCI_STATUS_INTERRUPT   0x0008
#define  PCI_STATUS_CAP_LIST    0x0010
#define  PCI_STATUS_66MHZ       0x0020
#define  PCI_STATUS_FAST_BACK   0x0080
#define  PCI_STATUS_DEVSEL_MEDIUM 0x0200
#define  PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define  PCI_STATUS_REC_TARGET_ABORT 0x1000
#define  PCI_STATUS_REC_MASTER_ABORT 0x2000
#define  PCI_STATUS_SIG_SYSTEM_ERROR  0x4000
#define  PCI_STATUS_DETECTED_PARITY   0x8000
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a    /* 16 bits: base class << 8 | subclass */
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define  PCI_HEADER_TYPE_NORMAL 0x00
#define  PCI_HEADER_TYPE_BRIDGE 0x01
#define  PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BIST                0x0f
#define PCI_BASE_ADDRESS_0      0x10
#define  PCI_BASE_ADDRESS_SPACE_IO  0x01
#define  PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define  PCI_ROM_ADDRESS_ENABLE 0x01
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_MIN_GNT             0x3e
#define PCI_MAX_LAT             0x3f

#define PCI_CAP_ID_PM           0x01
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_VNDR         0x09
#define PCI_CAP_ID_EXP          0x10
#define PCI_CAP_ID_MSIX         0x11

#define PCI_CONFIG_SPACE_SIZE   256
#define PCIE_CONFIG_SPACE_SIZE  4096
#define PCI_NUM_BARS            6
#define PCI_ROM_SLOT            6       /* index of the ROM BAR in bars[] */
#define PCI_NUM_PINS            4       /* INTA..INTD */

#define PCI_DEVFN(slot, fn)     ((uint8_t)(((slot) << 3) | (fn)))
#define PCI_SLOT(devfn)         (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)         ((devfn) & 7)

/* BAR kinds for pci_register_bar. */
enum pci_bar_type {
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM32_PREFETCH,
    PCI_BAR_MEM64,              /* uses two BAR slots (bar and bar + 1) */
    PCI_BAR_MEM64_PREFETCH,
};

#define PCI_BAR_UNMAPPED UINT64_MAX

struct pci_bar {
    struct mem_region *region;  /* NULL: BAR not implemented */
    uint64_t size;              /* power of two */
    enum pci_bar_type type;
    uint64_t addr;              /* where mapped, or PCI_BAR_UNMAPPED */
};

struct pci_device;

/* A device's constant identity and hooks. */
struct pci_device_info {
    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint32_t class_code;        /* base class << 16 | subclass << 8 | prog-if */
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t header_type;        /* PCI_HEADER_TYPE_NORMAL (0) or _BRIDGE */
    uint8_t interrupt_pin;      /* 0 none, 1..4 = INTA..INTD */
    bool express;               /* 4 KiB config space */
    /* Optional hooks.  config_read gets the value the core read from config[]
     * and may change it; config_write runs after the core applied the masked
     * write (so BARs/command effects are already done). */
    uint32_t (*config_read)(struct pci_device *d, uint32_t offset, unsigned size, uint32_t value);
    void (*config_write)(struct pci_device *d, uint32_t offset, unsigned size, uint32_t value);
};

struct pci_bus;

struct pci_device {
    struct device dev;          /* first member */
    struct pci_bus *bus;
    uint8_t devfn;              /* "addr" property; 0xff = first free slot */
    bool multifunction;         /* "multifunction" property */
    const struct pci_device_info *info;
    uint32_t config_size;       /* 256 or 4096 */
    uint8_t *config;            /* current values */
    uint8_t *wmask;             /* bits the guest may write */
    uint8_t *w1cmask;           /* bits the guest clears by writing 1 */
    struct pci_bar bars[PCI_NUM_BARS + 1];      /* + ROM */
    int intx_level;             /* the device's INTx output before INTX_DISABLE */
    uint8_t msi_cap;            /* offset of the MSI capability, 0 if none */
    uint8_t msi_vectors;
    uint32_t msi_pending;       /* vectors pending while masked */
    uint8_t next_cap_offset;    /* private: allocation cursor for capabilities */
    bool intx_asserted;         /* private: what the bus currently sees */
    int intx_irq;               /* private: bus IRQ index while asserted */
    uint8_t *config_init;       /* private: config after realize, for reset */
    uint8_t *config_ext;        /* private: config + 256 for express devices */
};

/* Properties every PCI device accepts (addr=, multifunction=); the PCI bus
 * offers them as child_props. */
extern const struct dev_prop pci_device_common_props[];

struct pci_bus {
    struct dev_bus bus;         /* first member; kind DEV_BUS_PCI */
    struct mem_region *mem;     /* where memory BARs map (PCI memory space) */
    struct mem_region *io;      /* where I/O BARs map */
    struct address_space *dma_as;       /* what bus masters see (usually ctx->mem) */
    struct pci_device *devices[256];    /* by devfn */
    /* INTx routing, set by the host bridge: map_irq turns (device, pin 0..3)
     * into a bus IRQ index < n_irqs; set_irq is called when the wired-OR level
     * of that index changes. */
    int (*map_irq)(void *opaque, struct pci_device *d, int pin);
    void (*set_irq)(void *opaque, int irq, int level);
    void *irq_opaque;
    unsigned n_irqs;
    int irq_count[16];          /* devices asserting each bus IRQ */
};

/* Initialise a bus in ctx (root bus of a host bridge, which is owner). */
void pci_bus_init(struct pci_bus *bus, struct dm_ctx *ctx, const char *name,
                  struct device *owner, struct mem_region *mem, struct mem_region *io,
                  struct address_space *dma_as);
void pci_bus_set_irq_routing(struct pci_bus *bus,
                             int (*map_irq)(void *opaque, struct pci_device *d, int pin),
                             void (*set_irq)(void *opaque, int irq, int level),
                             void *opaque, unsigned n_irqs);
/* Standard swizzle for the slot: (pin + slot) % 4. */
int pci_swizzle_pin(struct pci_device *d, int pin);

/* Configuration cycles from the host bridge.  offset < 4096, size 1/2/4,
 * naturally aligned (misaligned: guest error, read all-ones).  Absent
 * functions read all-ones; writes to them are dropped. */
uint32_t pci_config_read(struct pci_bus *bus, uint8_t devfn, uint32_t offset, unsigned size);
void pci_config_write(struct pci_bus *bus, uint8_t devfn, uint32_t offset, unsigned size, uint32_t value);

/* Called from a PCI device's realize, first. */
void pci_device_setup(struct pci_device *d, const struct pci_device_info *info);
/* Register BAR number bar (0..5) for region mr of power-of-two size mr->size
 * (IO >= 4, MEM >= 16 bytes).  The core answers sizing, and maps mr into the bus
 * when the command register enables that space and the BAR holds an address. */
void pci_register_bar(struct pci_device *d, int bar, enum pci_bar_type type, struct mem_region *mr);
/* Expansion ROM BAR (offset 0x30) for a ROM region. */
void pci_register_rom(struct pci_device *d, struct mem_region *mr);
uint64_t pci_bar_address(const struct pci_device *d, int bar);

/* INTx: set the device's interrupt line level; honours INTX_DISABLE and sets
 * the status Interrupt bit. */
void pci_set_irq(struct pci_device *d, int level);

/* Capabilities: link a capability of size bytes with id into the list, at
 * offset (0: next free dword-aligned place after 0x40).  Returns the offset or
 * -ENOSPC. */
int pci_add_capability(struct pci_device *d, uint8_t id, uint8_t offset, uint8_t size);
/* Offset of the first capability with id, or 0. */
uint8_t pci_find_capability(const struct pci_device *d, uint8_t id);

/* MSI capability with nvectors (1, 2, 4, 8, 16, 32), 64-bit address and
 * optional per-vector masking.  Returns the capability offset or -errno. */
int pci_msi_init(struct pci_device *d, uint8_t offset, unsigned nvectors, bool is_64bit,
                 bool per_vector_mask);
bool pci_msi_enabled(const struct pci_device *d);
/* Send MSI vector (a memory write to the programmed address in dma_as);
 * pending if masked. */
void pci_msi_notify(struct pci_device *d, unsigned vector);

/* DMA as bus master: refused (-EPERM, guest error logged) unless the command
 * register's Bus Master bit is set. */
int pci_dma_read(struct pci_device *d, uint64_t addr, void *buf, size_t len);
int pci_dma_write(struct pci_device *d, uint64_t addr, const void *buf, size_t len);

/* Reset the core-owned part (command, status, BARs unmapped, MSI off); called
 * by device_reset before the type's reset. */
void pci_device_reset(struct pci_device *d);

/* Little-endian accessors of config[] (no bounds beyond config_size). */
static inline uint8_t pci_get_byte(const uint8_t *p) { return p[0]; }
static inline uint16_t pci_get_word(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pci_get_long(const uint8_t *p)
{ return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline void pci_set_byte(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void pci_set_word(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pci_set_long(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* State description of the core part, to nest in a device's own description
 * (VMS_STRUCT of struct pci_device at offset 0). */
extern const struct vms_desc pci_device_vmstate;

#endif
