/* Driver lookup and format probing. */
#include <string.h>
#include "block/block.h"

const blk_driver *blk_find_driver(const char *name)
{
    for (int i = 0; blk_drivers[i]; i++) {
        if (!strcmp(blk_drivers[i]->name, name)) {
            return blk_drivers[i];
        }
    }
    return NULL;
}

const blk_driver *blk_probe(const uint8_t *buf, size_t len, const char *filename)
{
    const blk_driver *best = NULL;
    int best_score = 0;
    for (int i = 0; blk_drivers[i]; i++) {
        int s = blk_drivers[i]->probe ? blk_drivers[i]->probe(buf, len, filename) : 0;
        if (s > best_score) {
            best_score = s;
            best = blk_drivers[i];
        }
    }
    return best ? best : blk_find_driver("raw");
}
