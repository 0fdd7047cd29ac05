/* device: see dm/device.h. */
#include "dm/device.h"
