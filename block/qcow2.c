/* qcow2 v2/v3 (docs/interop/qcow2.txt of the format's public specification). */
#include <string.h>
#include "block/block.h"

static int qcow2_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return len >= 8 && !memcmp(buf, "QFI\xfb", 4) && buf[4] == 0 && buf[5] == 0 &&
           buf[6] == 0 && (buf[7] == 2 || buf[7] == 3) ? 100 : 0;
}

const blk_driver blk_drv_qcow2 = {
    .name = "qcow2",
    .probe = qcow2_probe,
};
