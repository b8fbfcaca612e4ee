#ifndef RV_BENCH_WORKLOAD_H
#define RV_BENCH_WORKLOAD_H
#include <stdint.h>
uint64_t workload(unsigned rounds);
#define BENCH_ROUNDS 4
#endif
