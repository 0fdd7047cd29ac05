/* QEMU firmware configuration interface ("fw_cfg"), I/O variant: selector at
 * 0x510 (16 bits), data at 0x511 (8 bits), DMA address at 0x514 (64 bits,
 * big-endian; writing the low half starts the transfer).  See devices/fw_cfg.c.
 *
 * The machine adds items after realize; their data is copied.  Items are host
 * configuration, not guest state: a snapshot restores only the guest's cursor
 * (selected key, offset, DMA address), so both sides must add the same items. */
#ifndef DEVICES_FW_CFG_H
#define DEVICES_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/memory.h"

/* Selector keys (QEMU docs/specs/fw_cfg.rst and the firmware that reads them). */
#define FW_CFG_SIGNATURE        0x00
#define FW_CFG_ID               0x01
#define FW_CFG_UUID             0x02
#define FW_CFG_RAM_SIZE         0x03
#define FW_CFG_NOGRAPHIC        0x04
#define FW_CFG_NB_CPUS          0x05
#define FW_CFG_MACHINE_ID       0x06
#define FW_CFG_KERNEL_ADDR      0x07
#define FW_CFG_KERNEL_SIZE      0x08
#define FW_CFG_KERNEL_CMDLINE   0x09
#define FW_CFG_INITRD_ADDR      0x0a
#define FW_CFG_INITRD_SIZE      0x0b
#define FW_CFG_BOOT_DEVICE      0x0c
#define FW_CFG_NUMA             0x0d
#define FW_CFG_BOOT_MENU        0x0e
#define FW_CFG_MAX_CPUS         0x0f
#define FW_CFG_KERNEL_ENTRY     0x10
#define FW_CFG_KERNEL_DATA      0x11
#define FW_CFG_INITRD_DATA      0x12
#define FW_CFG_CMDLINE_ADDR     0x13
#define FW_CFG_CMDLINE_SIZE     0x14
#define FW_CFG_CMDLINE_DATA     0x15
#define FW_CFG_SETUP_ADDR       0x16
#define FW_CFG_SETUP_SIZE       0x17
#define FW_CFG_SETUP_DATA       0x18
#define FW_CFG_FILE_DIR         0x19
#define FW_CFG_FILE_FIRST       0x20
#define FW_CFG_WRITE_CHANNEL    0x4000
#define FW_CFG_ARCH_LOCAL       0x8000
#define FW_CFG_ACPI_TABLES      (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES   (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE    (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE       (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET             (FW_CFG_ARCH_LOCAL + 4)

#define FW_CFG_ID_TRADITIONAL   0x01
#define FW_CFG_ID_DMA           0x02

/* DMA control word bits */
#define FW_CFG_DMA_ERROR        0x01
#define FW_CFG_DMA_READ         0x02
#define FW_CFG_DMA_SKIP         0x04
#define FW_CFG_DMA_SELECT       0x08
#define FW_CFG_DMA_WRITE        0x10

#define FW_CFG_MAX_FILES        64
#define FW_CFG_NUM_KEYS         (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FW_CFG_FILE_NAME_LEN    56
/* The largest item the machine may add (a kernel or initrd fits). */
#define FW_CFG_MAX_ITEM         (1u << 31)

struct fw_cfg_item {
    uint8_t *data;
    uint32_t len;
    char name[FW_CFG_FILE_NAME_LEN];    /* files only */
};

struct fw_cfg_state {
    struct device dev;
    struct fw_cfg_item items[2][FW_CFG_NUM_KEYS];      /* [arch-local][index] */
    unsigned n_files;
    uint16_t cur_key;           /* as the guest wrote it */
    uint32_t cur_offset;
    uint64_t dma_addr;          /* latched address halves */
    uint32_t iobase;            /* property, default 0x510 */
    bool dma_enabled;           /* property "dma", default on */
    struct address_space *dma_as;
    struct mem_region io, io_dma;
    bool mapped;
};

extern const struct device_type fw_cfg_type;

/* Add or replace item key with a copy of data[0..len).  -EINVAL for a key out
 * of range or a file key, -E2BIG above FW_CFG_MAX_ITEM, -ENOMEM. */
int fw_cfg_add_bytes(struct fw_cfg_state *s, uint16_t key, const void *data, size_t len);
int fw_cfg_add_string(struct fw_cfg_state *s, uint16_t key, const char *str);    /* with NUL */
int fw_cfg_add_i16(struct fw_cfg_state *s, uint16_t key, uint16_t v);           /* little-endian */
int fw_cfg_add_i32(struct fw_cfg_state *s, uint16_t key, uint32_t v);
int fw_cfg_add_i64(struct fw_cfg_state *s, uint16_t key, uint64_t v);
/* Add (or replace, by name) a named file; returns its key (>= 0x20) or -errno
 * (-ENAMETOOLONG for names of 56 bytes or more, -ENOSPC when full). */
int fw_cfg_add_file(struct fw_cfg_state *s, const char *name, const void *data, size_t len);
/* The item behind key, or NULL (tests, the Linux loader). */
const struct fw_cfg_item *fw_cfg_get_item(const struct fw_cfg_state *s, uint16_t key);

#endif
