/* Intel 82441FX (i440FX) PCI and memory controller: the host bridge at 00:00.0.
 *
 * Reference: Intel 440FX PCIset datasheet (82441FX PMC, order 290549): section
 * 3.1 configuration mechanism #1 (CONFADD at 0xCF8, dword only; CONFDATA at
 * 0xCFC-0xCFF), 3.2.x PAM0-PAM6 at 0x59-0x5F (two 4-bit fields per register: bit 0
 * read enable, bit 1 write enable; PAM0's low nibble is reserved), SMRAM at 0x72
 * (D_OPEN, D_CLS, D_LCK, G_SMRAME, C_BASE_SEG = 010b for 0xA0000).
 *
 * The memory side (which region answers in each PAM segment and in the SMRAM
 * window) is the machine's: this device keeps the registers and calls
 * memory_update whenever PAM or SMRAM changes. */
#include "devices/i440fx.h"

#include <errno.h>
#include <string.h>

#include "dm/vmstate.h"

#define I440FX_PAM0         0x59
#define I440FX_SMRAM        0x72
#define SMRAM_D_OPEN        0x40
#define SMRAM_D_CLS         0x20
#define SMRAM_D_LCK         0x10
#define SMRAM_G_SMRAME      0x08
#define SMRAM_C_BASE_SEG    0x02        /* fixed: 0xA0000 */
#define CONFADD_ENABLE      0x80000000u

/* ---- PAM and SMRAM ------------------------------------------------------------ */

unsigned i440fx_pam_mode(const struct i440fx_state *s, unsigned seg)
{
    if (seg >= I440FX_PAM_SEGMENTS)
        return 0;
    /* segment 0 is 0xF0000-0xFFFFF in PAM0 bits 5:4; segment 1 + n is the
     * 16 KiB block 0xC0000 + n * 0x4000, in PAM1 + n / 2, low nibble first */
    if (seg == 0)
        return (s->pci.config[I440FX_PAM0] >> 4) & 3;
    unsigned n = seg - 1;
    uint8_t reg = s->pci.config[I440FX_PAM0 + 1 + n / 2];
    return (n & 1 ? reg >> 4 : reg) & 3;
}

bool i440fx_smram_open(const struct i440fx_state *s)
{
    uint8_t v = s->pci.config[I440FX_SMRAM];
    return (v & SMRAM_G_SMRAME) && (v & SMRAM_D_OPEN);
}

static void i440fx_config_write(struct pci_device *d, uint32_t offset, unsigned size, uint32_t value)
{
    struct i440fx_state *s = (struct i440fx_state *)d;
    if (offset <= I440FX_SMRAM && offset + size > I440FX_SMRAM) {
        /* D_LCK (sticky until reset) freezes the register and closes D_OPEN;
         * D_OPEN and D_CLS together are not allowed (datasheet 3.2.26). */
        uint8_t v = d->config[I440FX_SMRAM];
        if (s->smram_locked) {
            v = s->smram_shadow;
        } else {
            if (v & SMRAM_D_LCK) {
                s->smram_locked = 1;
                v &= ~SMRAM_D_OPEN;
            }
            if ((v & SMRAM_D_OPEN) && (v & SMRAM_D_CLS))
                v &= ~SMRAM_D_OPEN;
        }
        v = (v & ~7) | SMRAM_C_BASE_SEG;
        d->config[I440FX_SMRAM] = v;
        s->smram_shadow = v;
    }
    if (offset <= I440FX_SMRAM && offset + size > I440FX_PAM0 && s->memory_update)
        s->memory_update(s->memory_opaque);
}

/* ---- configuration mechanism #1 ------------------------------------------------ */

static uint64_t i440fx_addr_read(void *opaque, uint64_t addr, unsigned size)
{
    struct i440fx_state *s = opaque;
    if (addr == 0 && size == 4)
        return s->confadd;
    if (addr == 1 && size == 1 && s->cf9_read)
        return s->cf9_read(s->cf9_opaque);
    return (1ull << (8 * size)) - 1;
}

static void i440fx_addr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct i440fx_state *s = opaque;
    /* only dword accesses reach CONFADD; byte 0xCF9 is the PIIX3 reset control
     * register; other narrow accesses are ordinary I/O nobody claims */
    if (addr == 0 && size == 4)
        s->confadd = (uint32_t)val & 0x80FFFFFCu;
    else if (addr == 1 && size == 1 && s->cf9_write)
        s->cf9_write(s->cf9_opaque, (uint8_t)val);
}

static uint64_t i440fx_data_read(void *opaque, uint64_t addr, unsigned size)
{
    struct i440fx_state *s = opaque;
    uint32_t a = s->confadd;
    if (!(a & CONFADD_ENABLE) || ((a >> 16) & 0xFF) != 0 || !s->bus)
        return (1ull << (8 * size)) - 1;
    return pci_config_read(s->bus, (uint8_t)(a >> 8), (a & 0xFC) + (uint32_t)addr, size);
}

static void i440fx_data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct i440fx_state *s = opaque;
    uint32_t a = s->confadd;
    if (!(a & CONFADD_ENABLE) || ((a >> 16) & 0xFF) != 0 || !s->bus)
        return;     /* only bus 0 exists: no PCI-PCI bridges */
    pci_config_write(s->bus, (uint8_t)(a >> 8), (a & 0xFC) + (uint32_t)addr, size, (uint32_t)val);
}

static const struct mem_region_ops i440fx_addr_ops = {
    .read = i440fx_addr_read,
    .write = i440fx_addr_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 4, .unaligned = true },
    .impl = { .min = 1, .max = 4, .unaligned = true },
};

static const struct mem_region_ops i440fx_data_ops = {
    .read = i440fx_data_read,
    .write = i440fx_data_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 4 },
    .impl = { .min = 1, .max = 4 },
};

/* ---- device ------------------------------------------------------------------ */

static const struct pci_device_info i440fx_info = {
    .vendor_id = 0x8086,
    .device_id = 0x1237,
    .revision = 0x02,
    .class_code = 0x060000,             /* host bridge */
    .header_type = PCI_HEADER_TYPE_NORMAL,
    .config_write = i440fx_config_write,
};

static int i440fx_realize(struct device *dev, struct dm_err *err)
{
    struct i440fx_state *s = (struct i440fx_state *)dev;
    struct mem_region *io = s->io_root;
    if (!io) {
        dm_err_set(err, "i440FX: the machine must give it the port I/O root");
        return -EINVAL;
    }
    pci_device_setup(&s->pci, &i440fx_info);
    for (int i = 0; i < 7; i++)
        s->pci.wmask[I440FX_PAM0 + i] = i ? 0x33 : 0x30;
    s->pci.wmask[I440FX_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
    mem_region_init_io(&s->io_addr, "pci-conf-addr", &i440fx_addr_ops, s, 4);
    mem_region_init_io(&s->io_data, "pci-conf-data", &i440fx_data_ops, s, 4);
    mem_region_add_subregion(io, 0xCF8, &s->io_addr, 0);
    mem_region_add_subregion(io, 0xCFC, &s->io_data, 0);
    s->mapped = true;
    return 0;
}

static void i440fx_unrealize(struct device *dev)
{
    struct i440fx_state *s = (struct i440fx_state *)dev;
    if (s->mapped) {
        mem_region_del_subregion(s->io_addr.parent, &s->io_addr);
        mem_region_del_subregion(s->io_data.parent, &s->io_data);
        s->mapped = false;
    }
}

static void i440fx_reset(struct device *dev)
{
    struct i440fx_state *s = (struct i440fx_state *)dev;
    /* PAM all 0 (accesses go to PCI, i.e. the BIOS ROM); SMRAM closed */
    memset(&s->pci.config[I440FX_PAM0], 0, 7);
    s->pci.config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    s->smram_shadow = SMRAM_C_BASE_SEG;
    s->smram_locked = 0;
    s->confadd = 0;
    if (s->memory_update)
        s->memory_update(s->memory_opaque);
}

/* ---- state description ------------------------------------------------------- */

static int i440fx_post_load(void *opaque, int version)
{
    struct i440fx_state *s = opaque;
    s->confadd &= 0x80FFFFFCu;
    s->smram_locked = !!s->smram_locked;
    /* registers as a guest could have written them */
    s->pci.config[I440FX_PAM0] &= 0x30;
    for (int i = 1; i < 7; i++)
        s->pci.config[I440FX_PAM0 + i] &= 0x33;
    s->pci.config[I440FX_SMRAM] = (s->pci.config[I440FX_SMRAM] & 0x78) | SMRAM_C_BASE_SEG;
    if (s->memory_update)
        s->memory_update(s->memory_opaque);
    return 0;
}

static const struct vms_field i440fx_fields[] = {
    VMS_STRUCT(struct i440fx_state, pci, struct pci_device, pci_device_vmstate),
    VMS_UINT32(struct i440fx_state, confadd),
    VMS_UINT8(struct i440fx_state, smram_locked),
    VMS_UINT8(struct i440fx_state, smram_shadow),
    VMS_END_OF_LIST,
};

static const struct vms_desc i440fx_vmstate = {
    .name = "i440FX",
    .version = 1,
    .min_version = 1,
    .fields = i440fx_fields,
    .post_load = i440fx_post_load,
};

const struct device_type i440fx_type = {
    .name = "i440FX",
    .desc = "Intel 82441FX host bridge (PCI config mechanism #1, PAM, SMRAM)",
    .instance_size = sizeof(struct i440fx_state),
    .bus = DEV_BUS_PCI,
    .user_creatable = false,
    .realize = i440fx_realize,
    .reset = i440fx_reset,
    .unrealize = i440fx_unrealize,
    .vmstate = &i440fx_vmstate,
};
