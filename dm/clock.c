/* clock: see dm/clock.h. */
#include "dm/clock.h"
