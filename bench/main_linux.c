/* Linux user-mode wrapper (for qemu-riscv64 and native runs): prints the checksum. */
#include <stdio.h>

#include "workload.h"

int main(void)
{
    printf("checksum %llu\n", (unsigned long long)workload(BENCH_ROUNDS));
    return 0;
}
