/* Goldfish RTC as on QEMU's riscv "virt" board (base 0x101000, window 0x1000, DT compatible
 * "google,goldfish-rtc"): a 64-bit nanosecond wall clock with one alarm and a level interrupt.
 * Guest time is the host clock (CLOCK_REALTIME unless replaced) plus an offset the guest sets
 * by writing the time registers.
 *
 * Concurrency: like every device, call these with the machine's device lock held. */
#ifndef RV_DEV_RTC_H
#define RV_DEV_RTC_H

#include <stdint.h>

#include "dev/device.h"

struct rv_rtc;

#define RV_RTC_SIZE 0x1000u

/* Creates the RTC, attaches its window at `base` and, when fdt is not NULL, adds its
 * device-tree node "/soc/rtc@<base>". irq may be NULL (no interrupt line). The iomap owns the
 * device (ops->destroy frees it). */
int rv_rtc_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                  const struct rv_irq *irq, struct rv_rtc **rtc);

/* Replaces the host clock (nanoseconds; CLOCK_REALTIME by default), e.g. with a fake clock
 * in tests or a deterministic one for record/replay; call it before the guest runs. The
 * guest's offset is kept, so a fresh RTC reads exactly the new clock. now_ns NULL restores
 * CLOCK_REALTIME. */
void rv_rtc_set_clock(struct rv_rtc *rtc, uint64_t (*now_ns)(void *opaque), void *opaque);

/* Fires the alarm if it is due (sets the interrupt pending and raises the line when enabled).
 * The machine calls this when rv_rtc_next_alarm_ns() comes due; MMIO accesses also do it. */
void rv_rtc_poll(struct rv_rtc *rtc);

/* When the armed alarm is due, as an absolute time of the host clock (CLOCK_REALTIME ns, or
 * the clock given to rv_rtc_set_clock()); UINT64_MAX if no alarm is armed. A time in the past
 * means "poll now". */
uint64_t rv_rtc_next_alarm_ns(const struct rv_rtc *rtc);

#endif
