/* The table of image format drivers.  raw and qcow2 live in this folder; the
 * blockfmt engineer adds vmdk, vdi and vhd here. */
#include "block/block.h"

extern const blk_driver blk_drv_raw, blk_drv_qcow2;
extern const blk_driver blk_drv_vmdk, blk_drv_vdi, blk_drv_vpc;

const blk_driver *const blk_drivers[] = {
    &blk_drv_qcow2,
    &blk_drv_vmdk,
    &blk_drv_vdi,
    &blk_drv_vpc,
    &blk_drv_raw,
    NULL,
};
