/* Sv48: see vm.inc */
/* isa-options: --mmu sv48 */
#define VM_LEVELS 4
#include "vm.inc"
