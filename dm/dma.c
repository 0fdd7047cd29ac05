/* dma: see dm/dma.h. */
#include "dm/dma.h"
