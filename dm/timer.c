/* Timers live in dm/clock.c beside the clock that orders them. */
#include "dm/timer.h"
