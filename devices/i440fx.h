/* i440FX host bridge (00:00.0): PCI configuration mechanism #1 at 0xCF8/0xCFC,
 * PAM and SMRAM registers.  See devices/i440fx.c.
 *
 * The machine sets, before realize: io_root (where 0xCF8/0xCFC go), bus (the
 * PCI bus the configuration cycles reach), memory_update (called when PAM or
 * SMRAM change) and the 0xCF9 hooks (the PIIX3 reset control register shares
 * the CONFADD dword but is decoded for byte accesses only). */
#ifndef DEVICES_I440FX_H
#define DEVICES_I440FX_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/pci.h"

/* Segment 0: 0xF0000-0xFFFFF; segments 1..12: 16 KiB blocks from 0xC0000. */
#define I440FX_PAM_SEGMENTS 13
/* PAM field values */
#define PAM_PCI         0   /* reads and writes go to PCI (the BIOS ROM) */
#define PAM_READ_RAM    1   /* reads from RAM, writes to PCI */
#define PAM_WRITE_RAM   2   /* writes to RAM, reads from PCI */
#define PAM_RAM         3   /* RAM */

struct i440fx_state {
    struct pci_device pci;
    uint32_t confadd;
    uint8_t smram_locked, smram_shadow;
    struct pci_bus *bus;
    struct mem_region *io_root;
    void (*memory_update)(void *opaque);
    void *memory_opaque;
    uint8_t (*cf9_read)(void *opaque);
    void (*cf9_write)(void *opaque, uint8_t v);
    void *cf9_opaque;
    struct mem_region io_addr, io_data;
    bool mapped;
};

extern const struct device_type i440fx_type;

/* Segment start address and size. */
static inline uint32_t i440fx_pam_base(unsigned seg)
{
    return seg == 0 ? 0xF0000 : 0xC0000 + (seg - 1) * 0x4000;
}
static inline uint32_t i440fx_pam_size(unsigned seg)
{
    return seg == 0 ? 0x10000 : 0x4000;
}
/* PAM_* of a segment. */
unsigned i440fx_pam_mode(const struct i440fx_state *s, unsigned seg);
/* SMRAM (0xA0000-0xBFFFF) visible as RAM to ordinary accesses. */
bool i440fx_smram_open(const struct i440fx_state *s);

#endif
