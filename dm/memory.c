/* memory: see dm/memory.h. */
#include "dm/memory.h"
