/* timer: see dm/timer.h. */
#include "dm/timer.h"
