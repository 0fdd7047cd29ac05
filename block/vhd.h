/* VHD ("vpc" in qemu-img): fixed and dynamic read, fixed write. */
#ifndef BLOCK_VHD_H
#define BLOCK_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

struct vhd;

bool vhd_probe(const uint8_t *head, size_t len, uint64_t file_size, const uint8_t *tail512);
int vhd_open(struct vhd **out, blk_file *file, bool writable, char *err, size_t errlen);
void vhd_close(struct vhd *v);
uint64_t vhd_size(const struct vhd *v);
bool vhd_is_fixed(const struct vhd *v);
int vhd_read(struct vhd *v, uint64_t off, void *buf, size_t len);
int vhd_write(struct vhd *v, uint64_t off, const void *buf, size_t len);
int vhd_flush(struct vhd *v);
/* FMT_DATA or FMT_ZERO for the run at off, its length in *pnum; or -errno */
/* host (may be NULL): file offset of a data run, or FMT_NO_HOST */
int vhd_block_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host);
/* The virtual size a new image of `bytes` gets, and its CHS geometry. */
uint64_t vhd_create_size(uint64_t bytes, bool force_size, uint16_t *c, uint8_t *h, uint8_t *s);
/* Make file (empty) a fixed VHD of at least `bytes`; the size chosen in *size_out. */
int vhd_create_fixed(blk_file *file, uint64_t bytes, bool force_size, uint64_t *size_out,
                     char *err, size_t errlen);

#endif
