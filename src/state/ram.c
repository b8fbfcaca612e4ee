/* Page batches of the state stream (ram.h), compressed with zstd. */
#include "state/ram.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/bytes.h"
#include "core/error.h"

#define BATCH_HEADER 12u
#define ENTRY_SIZE 8u

struct rv_page_writer {
    struct rv_stream *s;
    uint32_t id, tag;
    int level;
    ZSTD_CCtx *cctx;
    unsigned count, nonzero;
    uint64_t entries[RV_PAGE_BATCH];
    uint8_t *pages;          /* RV_PAGE_BATCH pages */
    uint8_t *out;            /* header, entries, compressed frame */
    size_t out_cap;
    uint64_t total, zero;
};

bool rv_page_is_zero(const void *page)
{
    const uint64_t *p = page;
    for (unsigned i = 0; i < RV_PAGE_SIZE / 8; i += 8)
        if (p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] | p[i + 7])
            return false;
    return true;
}

int rv_page_writer_new(struct rv_stream *s, uint32_t id, uint32_t tag, int level,
                       struct rv_page_writer **out)
{
    struct rv_page_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return rv_error_set(-ENOMEM, "out of memory");
    w->s = s;
    w->id = id;
    w->tag = tag;
    w->level = level;
    w->out_cap = BATCH_HEADER + ENTRY_SIZE * RV_PAGE_BATCH +
                 ZSTD_compressBound((size_t)RV_PAGE_BATCH * RV_PAGE_SIZE);
    w->cctx = ZSTD_createCCtx();
    w->pages = malloc((size_t)RV_PAGE_BATCH * RV_PAGE_SIZE);
    w->out = malloc(w->out_cap);
    if (!w->cctx || !w->pages || !w->out) {
        rv_page_writer_free(w);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    *out = w;
    return 0;
}

void rv_page_writer_free(struct rv_page_writer *w)
{
    if (!w)
        return;
    ZSTD_freeCCtx(w->cctx);
    free(w->pages);
    free(w->out);
    free(w);
}

uint64_t rv_page_writer_pages(const struct rv_page_writer *w)
{
    return w->total;
}

uint64_t rv_page_writer_zero_pages(const struct rv_page_writer *w)
{
    return w->zero;
}

int rv_page_writer_flush(struct rv_page_writer *w)
{
    if (!w->count)
        return 0;
    uint8_t *o = w->out;
    rv_put_le32(o, w->tag);
    rv_put_le32(o + 4, w->count);
    rv_put_le32(o + 8, w->nonzero);
    for (unsigned i = 0; i < w->count; i++)
        rv_put_le64(o + BATCH_HEADER + ENTRY_SIZE * i, w->entries[i]);
    size_t head = BATCH_HEADER + ENTRY_SIZE * w->count;
    size_t clen = 0;
    if (w->nonzero)
        clen = ZSTD_compressCCtx(w->cctx, o + head, w->out_cap - head, w->pages,
                                 (size_t)w->nonzero * RV_PAGE_SIZE, w->level);
    if (ZSTD_isError(clen))
        return rv_error_set(-EIO, "zstd: %s", ZSTD_getErrorName(clen));
    w->count = w->nonzero = 0;
    return rv_stream_write_record(w->s, w->id, 1, o, head + clen);
}

int rv_page_writer_add(struct rv_page_writer *w, uint64_t index, const void *data)
{
    bool zero = rv_page_is_zero(data);
    w->entries[w->count++] = index << 1 | (zero ? 1 : 0);
    if (!zero)
        memcpy(w->pages + (size_t)w->nonzero++ * RV_PAGE_SIZE, data, RV_PAGE_SIZE);
    w->total++;
    w->zero += zero;
    return w->count == RV_PAGE_BATCH ? rv_page_writer_flush(w) : 0;
}

int rv_page_batch_apply(const uint8_t *payload, size_t len, uint32_t tag, uint64_t npages,
                        rv_page_dest dest, void *opaque)
{
    if (len < BATCH_HEADER)
        return rv_error_set(-EINVAL, "page batch: truncated");
    uint32_t count = rv_get_le32(payload + 4), nonzero = rv_get_le32(payload + 8);
    if (rv_get_le32(payload) != tag)
        return rv_error_set(-EINVAL, "page batch: for device %u, expected %u", rv_get_le32(payload),
                            tag);
    if (count == 0 || count > RV_PAGE_BATCH || nonzero > count ||
        len < BATCH_HEADER + (size_t)ENTRY_SIZE * count)
        return rv_error_set(-EINVAL, "page batch: bad page count %u (%u non-zero)", count,
                            nonzero);
    const uint8_t *entries = payload + BATCH_HEADER;
    unsigned zeros = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = rv_get_le64(entries + ENTRY_SIZE * i);
        if ((e >> 1) >= npages)
            return rv_error_set(-EINVAL, "page batch: page %llu out of range (%llu pages)",
                                (unsigned long long)(e >> 1), (unsigned long long)npages);
        zeros += e & 1;
    }
    if (zeros != count - nonzero)
        return rv_error_set(-EINVAL, "page batch: zero-page count does not match");
    size_t head = BATCH_HEADER + (size_t)ENTRY_SIZE * count;
    size_t want = (size_t)nonzero * RV_PAGE_SIZE;
    if (want && ZSTD_getFrameContentSize(payload + head, len - head) != want)
        return rv_error_set(-EINVAL, "page batch: compressed data has the wrong size");
    if (!want && len != head)
        return rv_error_set(-EINVAL, "page batch: trailing bytes");
    /* One decompression context per thread, kept: a restore applies thousands of batches.
     * The frame is decompressed page by page straight into each page's destination. */
    static __thread ZSTD_DCtx *dctx;
    if (want && !dctx && !(dctx = ZSTD_createDCtx()))
        return rv_error_set(-ENOMEM, "out of memory");
    if (want)
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    ZSTD_inBuffer in = {payload + head, len - head, 0};
    size_t ret = 1;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = rv_get_le64(entries + ENTRY_SIZE * i);
        uint8_t *d = dest(opaque, e >> 1);
        if (!d)
            return -EINVAL;
        if (e & 1) {
            memset(d, 0, RV_PAGE_SIZE);
            continue;
        }
        ZSTD_outBuffer out = {d, RV_PAGE_SIZE, 0};
        while (out.pos < out.size) {
            size_t in_before = in.pos;
            ret = ZSTD_decompressStream(dctx, &out, &in);
            if (ZSTD_isError(ret))
                return rv_error_set(-EINVAL, "page batch: corrupt compressed data (%s)",
                                    ZSTD_getErrorName(ret));
            if (out.pos < out.size && in.pos == in_before && in.pos == in.size)
                return rv_error_set(-EINVAL, "page batch: compressed data ends early");
        }
    }
    /* The frame must end exactly with the last page. */
    while (want && ret != 0) {
        uint8_t extra;
        ZSTD_outBuffer out = {&extra, 1, 0};
        size_t in_before = in.pos;
        ret = ZSTD_decompressStream(dctx, &out, &in);
        if (ZSTD_isError(ret) || out.pos || (ret && in.pos == in_before))
            return rv_error_set(-EINVAL, "page batch: corrupt compressed data (bad frame end)");
    }
    if (in.pos != in.size)
        return rv_error_set(-EINVAL, "page batch: trailing bytes");
    return 0;
}
