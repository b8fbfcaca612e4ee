/* IEEE-754 binary32/binary64 arithmetic with RISC-V semantics, in software.
 *
 * Values are raw bit patterns (uint32_t for binary32, uint64_t for binary64). Every operation
 * takes a rounding mode (RV_RM_*; never RV_RM_DYN, the caller resolves it) and ORs the exception
 * flags it raises into *flags (RV_FF_*). Semantics follow the RISC-V unprivileged spec chapter
 * "F" (sections "NaN Generation and Propagation", "Subnormal Arithmetic", conversions table):
 *  - every NaN result is the canonical NaN (0x7fc00000 / 0x7ff8000000000000);
 *  - tininess is detected after rounding; UF is raised only when the result is tiny and inexact;
 *  - conversions to integers saturate and raise NV (NaN converts to the largest positive value);
 *  - fmin/fmax follow the 2.2 rules (-0 < +0; one NaN operand returns the other; sNaN sets NV).
 * NaN-boxing of singles in 64-bit registers is the caller's business, not this module's. */
#ifndef RV_CPU_SOFTFLOAT_H
#define RV_CPU_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

enum { RV_RM_RNE = 0, RV_RM_RTZ = 1, RV_RM_RDN = 2, RV_RM_RUP = 3, RV_RM_RMM = 4, RV_RM_DYN = 7 };
enum { RV_FF_NX = 1, RV_FF_UF = 2, RV_FF_OF = 4, RV_FF_DZ = 8, RV_FF_NV = 16 };

#define RV_F32_CANONICAL_NAN 0x7fc00000u
#define RV_F64_CANONICAL_NAN 0x7ff8000000000000ull

/* binary32 */
uint32_t rv_f32_add(uint32_t a, uint32_t b, unsigned rm, unsigned *flags);
uint32_t rv_f32_sub(uint32_t a, uint32_t b, unsigned rm, unsigned *flags);
uint32_t rv_f32_mul(uint32_t a, uint32_t b, unsigned rm, unsigned *flags);
uint32_t rv_f32_div(uint32_t a, uint32_t b, unsigned rm, unsigned *flags);
uint32_t rv_f32_sqrt(uint32_t a, unsigned rm, unsigned *flags);
/* (a * b) + c with one rounding; negate_product / negate_addend give FMSUB, FNMSUB, FNMADD:
 * FMADD: (0,0)  FMSUB: (0,1)  FNMSUB: (1,0)  FNMADD: (1,1). */
uint32_t rv_f32_muladd(uint32_t a, uint32_t b, uint32_t c, bool negate_product, bool negate_addend,
                       unsigned rm, unsigned *flags);
uint32_t rv_f32_min(uint32_t a, uint32_t b, unsigned *flags);
uint32_t rv_f32_max(uint32_t a, uint32_t b, unsigned *flags);
bool rv_f32_eq(uint32_t a, uint32_t b, unsigned *flags); /* quiet: NV only for sNaN */
bool rv_f32_lt(uint32_t a, uint32_t b, unsigned *flags); /* signalling: NV for any NaN */
bool rv_f32_le(uint32_t a, uint32_t b, unsigned *flags);
uint32_t rv_f32_classify(uint32_t a); /* the FCLASS.S 10-bit mask */
int32_t rv_f32_to_i32(uint32_t a, unsigned rm, unsigned *flags);
uint32_t rv_f32_to_u32(uint32_t a, unsigned rm, unsigned *flags);
int64_t rv_f32_to_i64(uint32_t a, unsigned rm, unsigned *flags);
uint64_t rv_f32_to_u64(uint32_t a, unsigned rm, unsigned *flags);
uint32_t rv_i32_to_f32(int32_t a, unsigned rm, unsigned *flags);
uint32_t rv_u32_to_f32(uint32_t a, unsigned rm, unsigned *flags);
uint32_t rv_i64_to_f32(int64_t a, unsigned rm, unsigned *flags);
uint32_t rv_u64_to_f32(uint64_t a, unsigned rm, unsigned *flags);
uint64_t rv_f32_to_f64(uint32_t a, unsigned *flags); /* exact; sNaN raises NV */

/* binary64 */
uint64_t rv_f64_add(uint64_t a, uint64_t b, unsigned rm, unsigned *flags);
uint64_t rv_f64_sub(uint64_t a, uint64_t b, unsigned rm, unsigned *flags);
uint64_t rv_f64_mul(uint64_t a, uint64_t b, unsigned rm, unsigned *flags);
uint64_t rv_f64_div(uint64_t a, uint64_t b, unsigned rm, unsigned *flags);
uint64_t rv_f64_sqrt(uint64_t a, unsigned rm, unsigned *flags);
uint64_t rv_f64_muladd(uint64_t a, uint64_t b, uint64_t c, bool negate_product, bool negate_addend,
                       unsigned rm, unsigned *flags);
uint64_t rv_f64_min(uint64_t a, uint64_t b, unsigned *flags);
uint64_t rv_f64_max(uint64_t a, uint64_t b, unsigned *flags);
bool rv_f64_eq(uint64_t a, uint64_t b, unsigned *flags);
bool rv_f64_lt(uint64_t a, uint64_t b, unsigned *flags);
bool rv_f64_le(uint64_t a, uint64_t b, unsigned *flags);
uint32_t rv_f64_classify(uint64_t a);
int32_t rv_f64_to_i32(uint64_t a, unsigned rm, unsigned *flags);
uint32_t rv_f64_to_u32(uint64_t a, unsigned rm, unsigned *flags);
int64_t rv_f64_to_i64(uint64_t a, unsigned rm, unsigned *flags);
uint64_t rv_f64_to_u64(uint64_t a, unsigned rm, unsigned *flags);
uint64_t rv_i32_to_f64(int32_t a, unsigned rm, unsigned *flags);
uint64_t rv_u32_to_f64(uint32_t a, unsigned rm, unsigned *flags);
uint64_t rv_i64_to_f64(int64_t a, unsigned rm, unsigned *flags);
uint64_t rv_u64_to_f64(uint64_t a, unsigned rm, unsigned *flags);
uint32_t rv_f64_to_f32(uint64_t a, unsigned rm, unsigned *flags);

#endif
