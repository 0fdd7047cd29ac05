/* Whole-machine device state: every realized device's state description in one
 * stream, for savevm/loadvm, migration and Xen's device-state save/restore.
 *
 * Stream: "VIREODM1", u32 device count, then per device (big-endian):
 *   u16 name length, name, u32 state length, the vmstate.h stream of the device.
 * A device's name is its id if it has one, else "TYPE#N" (the Nth device of that
 * type in creation order), which is stable for the same machine and command
 * line.  Loading requires exactly the devices of the running machine. */
#ifndef DM_SNAPSHOT_H
#define DM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "dm/dm.h"
#include "dm/log.h"
#include "dm/vmstate.h"

/* Append the state of every realized device of ctx to out.  -EINVAL naming a
 * device without a state description. */
int dm_state_save(struct dm_ctx *ctx, struct vms_buf *out, struct dm_err *err);
/* Load a stream made by dm_state_save into the same kind of machine.  On error
 * (naming the device and field) the machine should be reset. */
int dm_state_load(struct dm_ctx *ctx, const uint8_t *buf, size_t len, struct dm_err *err);

#endif
