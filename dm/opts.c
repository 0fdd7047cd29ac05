/* opts: see dm/opts.h. */
#include "dm/opts.h"
