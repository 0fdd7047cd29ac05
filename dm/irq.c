/* irq: see dm/irq.h. */
#include "dm/irq.h"
