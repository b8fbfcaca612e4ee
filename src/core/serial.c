#include "core/serial.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rv_state_writer_init(struct rv_state_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void rv_state_writer_free(struct rv_state_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

void rv_put_bytes(struct rv_state_writer *w, const void *p, size_t n)
{
    if (w->error)
        return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->error = -ENOMEM;
                return;
            }
            cap *= 2;
        }
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->error = -ENOMEM;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void rv_put_u8(struct rv_state_writer *w, uint8_t v)
{
    rv_put_bytes(w, &v, 1);
}

void rv_put_u32(struct rv_state_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (unsigned i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    rv_put_bytes(w, b, 4);
}

void rv_put_u64(struct rv_state_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    rv_put_bytes(w, b, 8);
}

void rv_state_reader_init(struct rv_state_reader *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->error = 0;
}

void rv_get_bytes(struct rv_state_reader *r, void *p, size_t n)
{
    if (r->error || n > r->len - r->pos) {
        r->error = -EINVAL;
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->buf + r->pos, n);
    r->pos += n;
}

uint8_t rv_get_u8(struct rv_state_reader *r)
{
    uint8_t v;
    rv_get_bytes(r, &v, 1);
    return v;
}

uint32_t rv_get_u32(struct rv_state_reader *r)
{
    uint8_t b[4];
    rv_get_bytes(r, b, 4);
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)b[i] << (8 * i);
    return v;
}

uint64_t rv_get_u64(struct rv_state_reader *r)
{
    uint8_t b[8];
    rv_get_bytes(r, b, 8);
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}
