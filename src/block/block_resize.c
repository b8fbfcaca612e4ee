/* Size change notifications from a backend to the device using it (block.h). In a file of its
 * own so that a device test with a fake backend links without the rest of block.c. */
#include "block/block_int.h"

void rv_block_set_resize_handler(struct rv_block *b, void (*fn)(void *ctx, uint64_t size),
                                 void *ctx)
{
    b->resize_ctx = ctx;
    __atomic_store_n(&b->resize_fn, fn, __ATOMIC_RELEASE);
}

void rv_block_notify_resize(struct rv_block *b, uint64_t size)
{
    void (*fn)(void *, uint64_t) = __atomic_load_n(&b->resize_fn, __ATOMIC_ACQUIRE);
    if (fn)
        fn(b->resize_ctx, size);
}
