/* VDI (VirtualBox): read support for normal (dynamic) and fixed (static) images. */
#ifndef BLOCK_VDI_H
#define BLOCK_VDI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

struct vdi;

bool vdi_probe(const uint8_t *head, size_t len);
int vdi_open(struct vdi **out, blk_file *file, bool writable, char *err, size_t errlen);
/* For check: block map entries out of range are kept for vdi_check and read as
 * zeros instead of failing the open. */
int vdi_open_lenient(struct vdi **out, blk_file *file, char *err, size_t errlen);
/* Block map consistency, findings in res (qemu-img check's messages). */
int vdi_check(struct vdi *v, blk_check_result *res);
void vdi_close(struct vdi *v);
uint64_t vdi_size(const struct vdi *v);
int vdi_read(struct vdi *v, uint64_t off, void *buf, size_t len);
/* host (may be NULL): file offset of a data run, or FMT_NO_HOST */
int vdi_block_status(struct vdi *v, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host);

#endif
