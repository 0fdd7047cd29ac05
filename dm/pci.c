/* pci: see dm/pci.h. */
#include "dm/pci.h"
