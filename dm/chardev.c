/* chardev: see dm/chardev.h. */
#include "dm/chardev.h"
