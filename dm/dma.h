/* DMA: device access to guest memory.  Devices never keep host pointers to guest
 * RAM across calls; they copy with dma_read/dma_write (bounded, through RAM or
 * MMIO like any bus master) or map briefly with dma_map/dma_unmap.  This works
 * the same for memfd RAM and for Xen's map cache. */
#ifndef DM_DMA_H
#define DM_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct address_space;

/* Copy len bytes between guest-physical addr and buf.  Returns 0, or -EFAULT if
 * some part was unassigned (reads of those bytes give 0xff, writes are dropped)
 * or the range wraps past the top of the space.  Writes to ROM are dropped. */
int dma_read(struct address_space *as, uint64_t addr, void *buf, size_t len);
int dma_write(struct address_space *as, uint64_t addr, const void *buf, size_t len);
/* Fill len bytes with c. */
int dma_set(struct address_space *as, uint64_t addr, uint8_t c, size_t len);

/* Little-endian helpers for descriptor fields (x86 and PCI are little-endian). */
int dma_read_u16(struct address_space *as, uint64_t addr, uint16_t *v);
int dma_read_u32(struct address_space *as, uint64_t addr, uint32_t *v);
int dma_read_u64(struct address_space *as, uint64_t addr, uint64_t *v);
int dma_write_u16(struct address_space *as, uint64_t addr, uint16_t v);
int dma_write_u32(struct address_space *as, uint64_t addr, uint32_t v);
int dma_write_u64(struct address_space *as, uint64_t addr, uint64_t v);

/* Map [addr, addr + *len) for direct access.  Returns a host pointer and
 * shrinks *len to the contiguous RAM available, or NULL (*len = 0) if addr is
 * not RAM (or is ROM and is_write): then use dma_read/dma_write.  Unmap before
 * returning to the caller that dispatched you; access_len = bytes actually
 * written (for dirty tracking). */
void *dma_map(struct address_space *as, uint64_t addr, uint64_t *len, bool is_write);
void dma_unmap(struct address_space *as, void *ptr, uint64_t len, bool is_write,
               uint64_t access_len);

#endif
