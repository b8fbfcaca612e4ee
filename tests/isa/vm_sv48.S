/* Sv48: see vm.inc */
#define VM_LEVELS 4
#include "vm.inc"
