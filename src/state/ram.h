/* Batches of 4 KiB pages in the state stream (RV_SEC_RAM_PAGES for guest RAM, and
 * RV_SEC_DISK_DATA for disk blocks copied by `migrate --copy-storage`).
 *
 * Payload (version 1): le32 tag (0 for RAM, the disk index for disk data), le32 count
 * (1..RV_PAGE_BATCH), le32 number of non-zero pages, then `count` le64 entries
 * (page number << 1 | 1 if the page is all zeros), then one zstd frame holding the non-zero
 * pages in entry order. Zero pages cost 8 bytes; a snapshot skips them altogether. */
#ifndef RV_STATE_RAM_H
#define RV_STATE_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/stream.h"

#define RV_PAGE_SIZE 4096u
#define RV_PAGE_BATCH 1024u

bool rv_page_is_zero(const void *page);

struct rv_page_writer;

/* A writer that emits records of section `id` (RV_SEC_RAM_PAGES or RV_SEC_DISK_DATA) tagged
 * `tag` into `s`; `level` is the zstd level. */
int rv_page_writer_new(struct rv_stream *s, uint32_t id, uint32_t tag, int level,
                       struct rv_page_writer **out);
/* Queues page number `index` with contents `data` (copied now); writes a record when the batch
 * is full. */
int rv_page_writer_add(struct rv_page_writer *w, uint64_t index, const void *data);
/* Writes what is queued. */
int rv_page_writer_flush(struct rv_page_writer *w);
void rv_page_writer_free(struct rv_page_writer *w);
/* Counters since creation. */
uint64_t rv_page_writer_pages(const struct rv_page_writer *w);
uint64_t rv_page_writer_zero_pages(const struct rv_page_writer *w);

/* Where page `index` goes: a 4 KiB destination the batch is decompressed into directly (zero
 * pages are cleared), or NULL with a message to stop with an error. */
typedef void *(*rv_page_dest)(void *opaque, uint64_t index);

/* Checks and decodes one page-batch payload: its tag must be `tag` and every page number below
 * `npages` (all checked before anything is written). A corrupt compressed frame is an error,
 * which may come after some pages were written. */
int rv_page_batch_apply(const uint8_t *payload, size_t len, uint32_t tag, uint64_t npages,
                        rv_page_dest dest, void *opaque);

#endif
