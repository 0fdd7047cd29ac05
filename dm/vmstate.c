/* vmstate: see dm/vmstate.h. */
#include "dm/vmstate.h"
