/* Goldfish RTC (Android's GOLDFISH-VIRTUAL-HARDWARE.TXT, "goldfish-rtc"). 32-bit registers:
 *   0x00 TIME_LOW        read: low half of the time now; latches the high half for TIME_HIGH
 *                        write: sets the low half of the time
 *   0x04 TIME_HIGH       read: the latched high half; write: sets the high half of the time
 *   0x08 ALARM_LOW       write: sets the low half of the alarm and arms it
 *   0x0c ALARM_HIGH      write: sets the high half of the alarm (used by the next ALARM_LOW)
 *   0x10 IRQ_ENABLED     bit 0 gates the interrupt line
 *   0x14 CLEAR_ALARM     write: disarms the alarm
 *   0x18 ALARM_STATUS    read: 1 while the alarm is armed
 *   0x1c CLEAR_INTERRUPT write: acknowledges a fired alarm
 * Linux (drivers/rtc/rtc-goldfish.c) reads TIME_LOW then TIME_HIGH, and sets the time by
 * writing TIME_HIGH then TIME_LOW; each write moves the offset so that the written half reads
 * back while the other half keeps running. The interrupt line is pending && enabled. */
#include "dev/rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/error.h"
#include "core/serial.h"

enum {
    REG_TIME_LOW = 0x00,
    REG_TIME_HIGH = 0x04,
    REG_ALARM_LOW = 0x08,
    REG_ALARM_HIGH = 0x0c,
    REG_IRQ_ENABLED = 0x10,
    REG_CLEAR_ALARM = 0x14,
    REG_ALARM_STATUS = 0x18,
    REG_CLEAR_INTERRUPT = 0x1c,
};

#define STATE_VERSION 1
#define LOW32 0xffffffffull

struct rv_rtc {
    struct rv_irq irq;
    bool has_irq, irq_level; /* irq_level: the level last driven onto the line */
    uint64_t (*now_ns)(void *opaque);
    void *clock_opaque;

    uint64_t offset;     /* guest time = host time + offset (mod 2^64) */
    uint64_t alarm_next; /* guest time of the alarm */
    uint32_t time_high;  /* latched by a TIME_LOW read */
    bool alarm_running, irq_pending, irq_enabled;
};

static uint64_t realtime_ns(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t host_now(const struct rv_rtc *rtc)
{
    return rtc->now_ns(rtc->clock_opaque);
}

static uint64_t guest_now(const struct rv_rtc *rtc)
{
    return host_now(rtc) + rtc->offset;
}

static void update_irq(struct rv_rtc *rtc)
{
    bool level = rtc->irq_pending && rtc->irq_enabled;
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        if (rtc->has_irq)
            rv_irq_set(&rtc->irq, level);
    }
}

static void fire_if_due(struct rv_rtc *rtc, uint64_t now)
{
    if (rtc->alarm_running && now >= rtc->alarm_next) {
        rtc->alarm_running = false;
        rtc->irq_pending = true;
    }
}

void rv_rtc_poll(struct rv_rtc *rtc)
{
    fire_if_due(rtc, guest_now(rtc));
    update_irq(rtc);
}

uint64_t rv_rtc_next_alarm_ns(const struct rv_rtc *rtc)
{
    return rtc->alarm_running ? rtc->alarm_next - rtc->offset : UINT64_MAX;
}

void rv_rtc_set_clock(struct rv_rtc *rtc, uint64_t (*now_ns)(void *opaque), void *opaque)
{
    rtc->now_ns = now_ns ? now_ns : realtime_ns;
    rtc->clock_opaque = now_ns ? opaque : NULL;
}

/* Moves the offset so that the guest's time now reads `t`. */
static void set_guest_time(struct rv_rtc *rtc, uint64_t t)
{
    rtc->offset = t - host_now(rtc);
}

static uint32_t read32(struct rv_rtc *rtc, uint64_t reg)
{
    switch (reg) {
    case REG_TIME_LOW: {
        uint64_t t = guest_now(rtc);
        rtc->time_high = (uint32_t)(t >> 32);
        return (uint32_t)t;
    }
    case REG_TIME_HIGH:
        return rtc->time_high;
    case REG_ALARM_LOW:
        return (uint32_t)rtc->alarm_next;
    case REG_ALARM_HIGH:
        return (uint32_t)(rtc->alarm_next >> 32);
    case REG_IRQ_ENABLED:
        return rtc->irq_enabled;
    case REG_ALARM_STATUS:
        return rtc->alarm_running;
    default:
        return 0;
    }
}

static void write32(struct rv_rtc *rtc, uint64_t reg, uint32_t v)
{
    switch (reg) {
    case REG_TIME_LOW:
        set_guest_time(rtc, (guest_now(rtc) & ~LOW32) | v);
        break;
    case REG_TIME_HIGH:
        set_guest_time(rtc, (guest_now(rtc) & LOW32) | (uint64_t)v << 32);
        break;
    case REG_ALARM_LOW:
        rtc->alarm_next = (rtc->alarm_next & ~LOW32) | v;
        rtc->alarm_running = true; /* an alarm already due fires right below */
        break;
    case REG_ALARM_HIGH:
        rtc->alarm_next = (rtc->alarm_next & LOW32) | (uint64_t)v << 32;
        break;
    case REG_IRQ_ENABLED:
        rtc->irq_enabled = v & 1;
        break;
    case REG_CLEAR_ALARM:
        rtc->alarm_running = false;
        break;
    case REG_CLEAR_INTERRUPT:
        rtc->irq_pending = false;
        break;
    default:
        break;
    }
}

/* Registers are 32 bits wide. An 8-byte access is two 32-bit accesses: a read takes the low
 * word first (so a 64-bit read at TIME_LOW returns the whole time, latched), a write the high
 * word first (so a 64-bit write sets the time, or arms the alarm, with both halves). A 1- or
 * 2-byte read sees part of the register; narrower writes are ignored. */
static uint64_t rtc_read(void *dev, uint64_t offset, unsigned size)
{
    struct rv_rtc *rtc = dev;
    rv_rtc_poll(rtc);
    uint64_t reg = offset & ~3ull, v;
    if (size == 8)
        v = read32(rtc, reg) | (uint64_t)read32(rtc, reg + 4) << 32;
    else
        v = (read32(rtc, reg) >> (8 * (offset & 3))) & ((1ull << (8 * size)) - 1);
    return v;
}

static void rtc_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_rtc *rtc = dev;
    if (size == 8) {
        write32(rtc, offset + 4, (uint32_t)(value >> 32));
        write32(rtc, offset, (uint32_t)value);
    } else if (size == 4) {
        write32(rtc, offset, (uint32_t)value);
    }
    rv_rtc_poll(rtc);
}

static void rtc_reset(void *dev)
{
    struct rv_rtc *rtc = dev;
    /* The clock keeps running across a reset, as a battery-backed RTC does. */
    rtc->alarm_next = 0;
    rtc->time_high = 0;
    rtc->alarm_running = rtc->irq_pending = rtc->irq_enabled = false;
    update_irq(rtc);
}

static int rtc_save(void *dev, struct rv_state_writer *w)
{
    struct rv_rtc *rtc = dev;
    rv_put_u8(w, STATE_VERSION);
    /* The offset from host time, not the guest time itself: after a restore (later, or on
     * another host) the guest's wall clock has moved on by the real time elapsed. */
    rv_put_u64(w, rtc->offset);
    rv_put_u64(w, rtc->alarm_next);
    rv_put_u32(w, rtc->time_high);
    rv_put_u8(w, (uint8_t)(rtc->alarm_running | rtc->irq_pending << 1 | rtc->irq_enabled << 2));
    return w->error;
}

static int rtc_load(void *dev, struct rv_state_reader *r)
{
    struct rv_rtc *rtc = dev;
    uint8_t version = rv_get_u8(r);
    uint64_t offset = rv_get_u64(r), alarm = rv_get_u64(r);
    uint32_t time_high = rv_get_u32(r);
    uint8_t flags = rv_get_u8(r);
    if (r->error)
        return rv_error_set(-EINVAL, "rtc: truncated state");
    if (version != STATE_VERSION)
        return rv_error_set(-EINVAL, "rtc: unsupported state version %u", version);
    if (flags & ~7u)
        return rv_error_set(-EINVAL, "rtc: invalid flags 0x%x", flags);
    rtc->offset = offset;
    rtc->alarm_next = alarm;
    rtc->time_high = time_high;
    rtc->alarm_running = flags & 1;
    rtc->irq_pending = (flags >> 1) & 1;
    rtc->irq_enabled = (flags >> 2) & 1;
    fire_if_due(rtc, guest_now(rtc));
    rtc->irq_level = rtc->irq_pending && rtc->irq_enabled;
    if (rtc->has_irq)
        rv_irq_set(&rtc->irq, rtc->irq_level);
    return 0;
}

static void rtc_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops rtc_ops = {
    .name = "goldfish-rtc",
    .read = rtc_read,
    .write = rtc_write,
    .reset = rtc_reset,
    .save = rtc_save,
    .load = rtc_load,
    .destroy = rtc_destroy,
};

int rv_rtc_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                  const struct rv_irq *irq, struct rv_rtc **out)
{
    struct rv_rtc *rtc = calloc(1, sizeof(*rtc));
    if (!rtc)
        return rv_error_set(-ENOMEM, "rtc: out of memory");
    if (irq) {
        rtc->irq = *irq;
        rtc->has_irq = true;
    }
    rtc->now_ns = realtime_ns;
    int rc = rv_iomap_attach(map, base, RV_RTC_SIZE, &rtc_ops, rtc);
    if (rc) {
        free(rtc);
        return rc;
    }
    if (fdt) {
        static const char compat[] = "google,goldfish-rtc";
        int node = rv_fdt_add_device(fdt, "rtc", base, RV_RTC_SIZE, compat, sizeof(compat));
        if (irq)
            rv_fdt_set_irq(fdt, node, irq);
    }
    *out = rtc;
    return 0;
}
