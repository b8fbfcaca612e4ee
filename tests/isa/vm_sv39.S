/* Sv39: see vm.inc */
#define VM_LEVELS 3
#include "vm.inc"
