/* mainloop: see dm/mainloop.h. */
#include "dm/mainloop.h"
