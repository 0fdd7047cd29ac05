/* fw_cfg: how firmware (SeaBIOS) and boot loaders learn the machine's
 * configuration: RAM size, CPU count, e820 map, boot order, kernel and initrd.
 *
 * Reference: QEMU's public specification docs/specs/fw_cfg.rst: selector and
 * data registers, the file directory (big-endian count, then entries of be32
 * size, be16 select, be16 reserved, char name[56]), the DMA interface (a
 * FWCfgDmaAccess of be32 control, be32 length, be64 address in guest memory;
 * the control word is written back as 0 or with the error bit), the signature
 * "QEMU" and the ID bits.
 *
 * Hostile guests (device-hazards.md, fw_cfg): an unknown selector reads 0 and
 * ignores writes; the data offset never passes the item's length; a DMA
 * transfer's length and address are checked for wrap-around and every copy is
 * bounded by the item; items are read-only (a write request sets the error
 * bit). */
#include "devices/fw_cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dma.h"
#include "dm/vmstate.h"

#define FW_CFG_KEY_INDEX_MASK   0x3FFF
#define DMA_SIGNATURE           "QEMU CFG"      /* reading 0x514: be64 0x51454d5520434647 */

/* ---- items ------------------------------------------------------------------ */

static struct fw_cfg_item *fw_cfg_lookup(struct fw_cfg_state *s, uint16_t key)
{
    unsigned idx = key & FW_CFG_KEY_INDEX_MASK;
    if (idx >= FW_CFG_NUM_KEYS)
        return NULL;
    struct fw_cfg_item *it = &s->items[(key & FW_CFG_ARCH_LOCAL) ? 1 : 0][idx];
    return it->data ? it : NULL;
}

const struct fw_cfg_item *fw_cfg_get_item(const struct fw_cfg_state *s, uint16_t key)
{
    return fw_cfg_lookup((struct fw_cfg_state *)s, key);
}

static int fw_cfg_set(struct fw_cfg_item *it, const void *data, size_t len)
{
    if (len > FW_CFG_MAX_ITEM)
        return -E2BIG;
    /* one byte more so that an empty item still has a non-NULL buffer */
    uint8_t *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    if (len)
        memcpy(copy, data, len);
    free(it->data);
    it->data = copy;
    it->len = (uint32_t)len;
    return 0;
}

int fw_cfg_add_bytes(struct fw_cfg_state *s, uint16_t key, const void *data, size_t len)
{
    unsigned idx = key & FW_CFG_KEY_INDEX_MASK;
    if (idx >= FW_CFG_FILE_FIRST || (key & FW_CFG_WRITE_CHANNEL))
        return -EINVAL;
    return fw_cfg_set(&s->items[(key & FW_CFG_ARCH_LOCAL) ? 1 : 0][idx], data, len);
}

int fw_cfg_add_string(struct fw_cfg_state *s, uint16_t key, const char *str)
{
    return fw_cfg_add_bytes(s, key, str, strlen(str) + 1);
}

int fw_cfg_add_i16(struct fw_cfg_state *s, uint16_t key, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_i32(struct fw_cfg_state *s, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_i64(struct fw_cfg_state *s, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The directory item (key 0x19), rebuilt whenever a file changes. */
static int fw_cfg_rebuild_dir(struct fw_cfg_state *s)
{
    size_t len = 4 + (size_t)s->n_files * 64;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return -ENOMEM;
    put_be32(dir, s->n_files);
    for (unsigned i = 0; i < s->n_files; i++) {
        const struct fw_cfg_item *it = &s->items[0][FW_CFG_FILE_FIRST + i];
        uint8_t *e = dir + 4 + i * 64;
        put_be32(e, it->len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, it->name, FW_CFG_FILE_NAME_LEN);
    }
    int r = fw_cfg_set(&s->items[0][FW_CFG_FILE_DIR], dir, len);
    free(dir);
    return r;
}

int fw_cfg_add_file(struct fw_cfg_state *s, const char *name, const void *data, size_t len)
{
    if (strlen(name) >= FW_CFG_FILE_NAME_LEN)
        return -ENAMETOOLONG;
    unsigned i;
    for (i = 0; i < s->n_files; i++)
        if (!strcmp(s->items[0][FW_CFG_FILE_FIRST + i].name, name))
            break;
    if (i == FW_CFG_MAX_FILES)
        return -ENOSPC;
    struct fw_cfg_item *it = &s->items[0][FW_CFG_FILE_FIRST + i];
    int r = fw_cfg_set(it, data, len);
    if (r < 0)
        return r;
    memset(it->name, 0, sizeof(it->name));
    strcpy(it->name, name);
    if (i == s->n_files)
        s->n_files++;
    r = fw_cfg_rebuild_dir(s);
    return r < 0 ? r : (int)(FW_CFG_FILE_FIRST + i);
}

/* ---- traditional interface ------------------------------------------------------ */

static void fw_cfg_select(struct fw_cfg_state *s, uint16_t key)
{
    s->cur_key = key;
    s->cur_offset = 0;
}

static uint8_t fw_cfg_read_byte(struct fw_cfg_state *s)
{
    const struct fw_cfg_item *it = fw_cfg_lookup(s, s->cur_key);
    if (!it || s->cur_offset >= it->len)
        return 0;
    return it->data[s->cur_offset++];
}

static uint64_t fw_cfg_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct fw_cfg_state *s = opaque;
    if (addr == 1 && size == 1)
        return fw_cfg_read_byte(s);
    return 0;   /* the selector is write-only */
}

static void fw_cfg_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct fw_cfg_state *s = opaque;
    if (addr == 0)
        fw_cfg_select(s, (uint16_t)val);
    /* writes to the data register are ignored (items are read-only) */
}

/* ---- DMA interface ---------------------------------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Copy src (or zeros when src is NULL) into guest RAM at addr; false as soon as
 * the destination is not RAM.  Transfers go only to RAM, mapped directly: a
 * guest asking for 4 GiB into MMIO must not be able to stall the device model
 * with billions of handler calls. */
static bool dma_to_ram(struct fw_cfg_state *s, uint64_t addr, const uint8_t *src, uint64_t len)
{
    while (len) {
        uint64_t n = len;
        uint8_t *p = dma_map(s->dma_as, addr, &n, true);
        if (!p || !n)
            return false;
        if (src) {
            memcpy(p, src, n);
            src += n;
        } else {
            memset(p, 0, n);
        }
        dma_unmap(s->dma_as, p, n, true, n);
        addr += n;
        len -= n;
    }
    return true;
}

/* One FWCfgDmaAccess at guest address desc. */
static void fw_cfg_dma(struct fw_cfg_state *s, uint64_t desc)
{
    uint8_t raw[16];
    if (desc > UINT64_MAX - sizeof(raw) || dma_read(s->dma_as, desc, raw, sizeof(raw)) < 0) {
        dm_guest_error("fw_cfg: DMA descriptor at 0x%llx is not readable",
                       (unsigned long long)desc);
        return;
    }
    uint32_t control = get_be32(raw);
    uint32_t length = get_be32(raw + 4);
    uint64_t addr = get_be64(raw + 8);
    bool error = false;

    if (control & FW_CFG_DMA_SELECT)
        fw_cfg_select(s, (uint16_t)(control >> 16));

    if (control & FW_CFG_DMA_WRITE) {
        error = true;                   /* no item is writable */
    } else if (control & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP)) {
        bool read = control & FW_CFG_DMA_READ;
        if (read && length && addr > UINT64_MAX - (length - 1)) {
            error = true;               /* the destination wraps around */
        } else {
            const struct fw_cfg_item *it = fw_cfg_lookup(s, s->cur_key);
            uint32_t avail = (it && s->cur_offset < it->len) ? it->len - s->cur_offset : 0;
            uint32_t n = length < avail ? length : avail;
            if (n) {
                if (read && !dma_to_ram(s, addr, it->data + s->cur_offset, n))
                    error = true;
                s->cur_offset += n;
            }
            /* past the item's end a read gives zeros (and the offset stays) */
            if (!error && read && length > n && !dma_to_ram(s, addr + n, NULL, length - n))
                error = true;
        }
    }

    uint8_t out[4];
    put_be32(out, error ? FW_CFG_DMA_ERROR : 0);
    if (dma_write(s->dma_as, desc, out, sizeof(out)) < 0)
        dm_guest_error("fw_cfg: cannot write the DMA status at 0x%llx", (unsigned long long)desc);
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t addr, unsigned size)
{
    /* the signature, byte by byte in port order */
    static const char sig[8] = DMA_SIGNATURE;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && addr + i < 8; i++)
        v |= (uint64_t)(uint8_t)sig[addr + i] << (8 * i);
    return v;
}

static uint32_t bswap32(uint32_t v)
{
    return __builtin_bswap32(v);
}

static void fw_cfg_dma_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct fw_cfg_state *s = opaque;
    /* The register is big-endian: the guest stores the address's bytes most
     * significant first, which an x86 port write delivers as a byte-swapped
     * little-endian value. */
    if (size == 8 && addr == 0) {
        s->dma_addr = __builtin_bswap64(val);
        uint64_t a = s->dma_addr;
        s->dma_addr = 0;
        fw_cfg_dma(s, a);
    } else if (size == 4 && addr == 0) {
        s->dma_addr = (uint64_t)bswap32((uint32_t)val) << 32;
    } else if (size == 4 && addr == 4) {
        uint64_t a = s->dma_addr | bswap32((uint32_t)val);
        s->dma_addr = 0;
        fw_cfg_dma(s, a);
    } else {
        dm_guest_error("fw_cfg: DMA register write of size %u at offset %u ignored",
                       size, (unsigned)addr);
    }
}

/* ---- device ------------------------------------------------------------------ */

static const struct mem_region_ops fw_cfg_ops = {
    .read = fw_cfg_io_read,
    .write = fw_cfg_io_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 2 },
    .impl = { .min = 1, .max = 2 },
};

static const struct mem_region_ops fw_cfg_dma_ops = {
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .endian = DM_ENDIAN_LITTLE,
    .valid = { .min = 1, .max = 8 },
    .impl = { .min = 1, .max = 8 },
};

static int fw_cfg_realize(struct device *dev, struct dm_err *err)
{
    struct fw_cfg_state *s = (struct fw_cfg_state *)dev;
    struct mem_region *io = dev->bus ? dev->bus->io_root : NULL;
    if (!io) {
        dm_err_set(err, "fw_cfg: needs an ISA bus");
        return -EINVAL;
    }
    s->dma_as = dev->ctx->mem;
    uint32_t id = FW_CFG_ID_TRADITIONAL | (s->dma_enabled ? FW_CFG_ID_DMA : 0);
    if (fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4) < 0 ||
        fw_cfg_add_i32(s, FW_CFG_ID, id) < 0 || fw_cfg_rebuild_dir(s) < 0) {
        dm_err_set(err, "fw_cfg: out of memory");
        return -ENOMEM;
    }
    mem_region_init_io(&s->io, "fw_cfg", &fw_cfg_ops, s, 2);
    mem_region_add_subregion(io, s->iobase, &s->io, 0);
    if (s->dma_enabled) {
        mem_region_init_io(&s->io_dma, "fw_cfg-dma", &fw_cfg_dma_ops, s, 8);
        mem_region_add_subregion(io, s->iobase + 4, &s->io_dma, 0);
    }
    s->mapped = true;
    return 0;
}

static void fw_cfg_unrealize(struct device *dev)
{
    struct fw_cfg_state *s = (struct fw_cfg_state *)dev;
    if (s->mapped) {
        mem_region_del_subregion(s->io.parent, &s->io);
        if (s->dma_enabled)
            mem_region_del_subregion(s->io_dma.parent, &s->io_dma);
        s->mapped = false;
    }
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < FW_CFG_NUM_KEYS; i++) {
            free(s->items[a][i].data);
            s->items[a][i].data = NULL;
        }
}

static void fw_cfg_reset(struct device *dev)
{
    struct fw_cfg_state *s = (struct fw_cfg_state *)dev;
    fw_cfg_select(s, FW_CFG_SIGNATURE);
    s->dma_addr = 0;
}

/* ---- state description ------------------------------------------------------- */

static int fw_cfg_post_load(void *opaque, int version)
{
    struct fw_cfg_state *s = opaque;
    /* the offset is clamped to the item as a guest's reads would leave it */
    const struct fw_cfg_item *it = fw_cfg_lookup(s, s->cur_key);
    uint32_t len = it ? it->len : 0;
    if (s->cur_offset > len)
        s->cur_offset = len;
    return 0;
}

static const struct vms_field fw_cfg_fields[] = {
    VMS_UINT16(struct fw_cfg_state, cur_key),
    VMS_UINT32(struct fw_cfg_state, cur_offset),
    VMS_UINT64(struct fw_cfg_state, dma_addr),
    VMS_END_OF_LIST,
};

static const struct vms_desc fw_cfg_vmstate = {
    .name = "fw_cfg",
    .version = 1,
    .min_version = 1,
    .fields = fw_cfg_fields,
    .post_load = fw_cfg_post_load,
};

static const struct dev_prop fw_cfg_props[] = {
    DEV_PROP_U32("iobase", struct fw_cfg_state, iobase, 0x510, 0, 0xFFF0, "selector port"),
    DEV_PROP_BOOL("dma", struct fw_cfg_state, dma_enabled, 1, "DMA interface at iobase + 4"),
    DEV_PROP_END,
};

const struct device_type fw_cfg_type = {
    .name = "fw_cfg_io",
    .desc = "QEMU firmware configuration interface (I/O ports, DMA)",
    .instance_size = sizeof(struct fw_cfg_state),
    .bus = DEV_BUS_ISA,
    .user_creatable = false,
    .props = fw_cfg_props,
    .realize = fw_cfg_realize,
    .reset = fw_cfg_reset,
    .unrealize = fw_cfg_unrealize,
    .vmstate = &fw_cfg_vmstate,
};
