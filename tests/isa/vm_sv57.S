/* Sv57: see vm.inc */
/* isa-options: --mmu sv57 */
#define VM_LEVELS 5
#include "vm.inc"
