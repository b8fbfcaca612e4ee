/* Byte streams for serializing VM state: every component (harts, devices) writes its fields
 * with these helpers, little-endian, and reads them back with bounds checks. A reader never
 * reads past its buffer: an overrun sets `error` and yields zeros, so a truncated or hostile
 * snapshot gives a clear error instead of garbage state. */
#ifndef RV_CORE_SERIAL_H
#define RV_CORE_SERIAL_H

#include <stddef.h>
#include <stdint.h>

struct rv_state_writer {
    uint8_t *buf;
    size_t len, cap;
    int error; /* 0, or -ENOMEM after a failed allocation */
};

struct rv_state_reader {
    const uint8_t *buf;
    size_t len, pos;
    int error; /* 0, or -EINVAL after an overrun or a bad value */
};

void rv_state_writer_init(struct rv_state_writer *w);
void rv_state_writer_free(struct rv_state_writer *w);
void rv_put_bytes(struct rv_state_writer *w, const void *p, size_t n);
void rv_put_u8(struct rv_state_writer *w, uint8_t v);
void rv_put_u32(struct rv_state_writer *w, uint32_t v);
void rv_put_u64(struct rv_state_writer *w, uint64_t v);

void rv_state_reader_init(struct rv_state_reader *r, const void *buf, size_t len);
void rv_get_bytes(struct rv_state_reader *r, void *p, size_t n);
uint8_t rv_get_u8(struct rv_state_reader *r);
uint32_t rv_get_u32(struct rv_state_reader *r);
uint64_t rv_get_u64(struct rv_state_reader *r);

#endif
