/* Scatter/gather helpers. All walks skip whole entries until `offset` is reached, then work
 * entry by entry; ranges are checked by the callers (block.c validates request lengths). */
#include "core/iov.h"

#include <string.h>

uint64_t rv_iov_size(const struct iovec *iov, int iovcnt)
{
    uint64_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > UINT64_MAX - total)
            return UINT64_MAX;
        total += iov[i].iov_len;
    }
    return total;
}

/* Finds the entry holding byte `offset`; sets *skip to the offset inside it. */
static int iov_find(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t *skip)
{
    int i = 0;
    while (i < iovcnt && offset >= iov[i].iov_len) {
        offset -= iov[i].iov_len;
        i++;
    }
    *skip = offset;
    return i;
}

int rv_iov_slice(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len,
                 struct iovec *out, int max)
{
    uint64_t skip;
    int n = 0;
    for (int i = iov_find(iov, iovcnt, offset, &skip); len > 0; i++, skip = 0) {
        if (i >= iovcnt || n >= max)
            return -1;
        uint64_t avail = iov[i].iov_len - skip;
        uint64_t take = avail < len ? avail : len;
        if (take == 0)
            continue;
        out[n].iov_base = (char *)iov[i].iov_base + skip;
        out[n].iov_len = take;
        n++;
        len -= take;
    }
    return n;
}

size_t rv_iov_to_buf(const struct iovec *iov, int iovcnt, uint64_t offset, void *buf, size_t len)
{
    uint64_t skip;
    char *p = buf;
    size_t done = 0;
    for (int i = iov_find(iov, iovcnt, offset, &skip); len > 0 && i < iovcnt; i++, skip = 0) {
        size_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;
        memcpy(p, (const char *)iov[i].iov_base + skip, take);
        p += take;
        len -= take;
        done += take;
    }
    return done;
}

size_t rv_iov_from_buf(const struct iovec *iov, int iovcnt, uint64_t offset, const void *buf,
                       size_t len)
{
    uint64_t skip;
    const char *p = buf;
    size_t done = 0;
    for (int i = iov_find(iov, iovcnt, offset, &skip); len > 0 && i < iovcnt; i++, skip = 0) {
        size_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;
        memcpy((char *)iov[i].iov_base + skip, p, take);
        p += take;
        len -= take;
        done += take;
    }
    return done;
}

void rv_iov_memset(const struct iovec *iov, int iovcnt, uint64_t offset, int c, uint64_t len)
{
    uint64_t skip;
    for (int i = iov_find(iov, iovcnt, offset, &skip); len > 0 && i < iovcnt; i++, skip = 0) {
        uint64_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;
        memset((char *)iov[i].iov_base + skip, c, take);
        len -= take;
    }
}

static int buf_is_zero(const unsigned char *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        if (*p++)
            return 0;
        len--;
    }
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (w)
            return 0;
    }
    while (len--)
        if (*p++)
            return 0;
    return 1;
}

int rv_iov_is_zero(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len)
{
    uint64_t skip;
    for (int i = iov_find(iov, iovcnt, offset, &skip); len > 0 && i < iovcnt; i++, skip = 0) {
        uint64_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;
        if (!buf_is_zero((const unsigned char *)iov[i].iov_base + skip, take))
            return 0;
        len -= take;
    }
    return 1;
}
