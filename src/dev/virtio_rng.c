/* virtio-rng device model (virtio 1.2 spec 5.4). See virtio_rng.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio.h"
#include "dev/virtio_rng.h"

#define QUEUE_SIZE 64u
#define RNG_STATE_VERSION 1

struct rv_virtio_rng {
    struct rv_virtio *vd;
    struct rv_virtq_elem elem; /* used under the transport lock only */
};

/* Fills [p, p+len) from getrandom(2); returns the bytes filled (less only on a host error). */
static size_t fill_random(uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rv_warn("virtio-rng: getrandom: %s", strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    return done;
}

/* Called with the transport lock held. Serves every request available now. */
static void rng_queue_notify(void *opaque, unsigned q)
{
    struct rv_virtio_rng *r = opaque;
    bool pushed = false;
    if (q != 0)
        return;
    for (unsigned n = 0; n < QUEUE_SIZE; n++) { /* at most one ring's worth per notify */
        if (rv_virtq_pop(r->vd, 0, &r->elem) != 1)
            break;
        size_t budget = RV_VIRTIO_RNG_MAX_REQUEST, done = 0;
        for (unsigned i = 0; i < r->elem.in_num && done < budget; i++) {
            size_t len = r->elem.in[i].iov_len;
            if (len > budget - done)
                len = budget - done;
            size_t got = fill_random(r->elem.in[i].iov_base, len);
            done += got;
            if (got < len)
                break;
        }
        rv_virtq_push(r->vd, 0, &r->elem, (uint32_t)done);
        pushed = true;
    }
    if (pushed)
        rv_virtq_notify(r->vd, 0);
}

static int rng_save(void *opaque, struct rv_state_writer *w)
{
    (void)opaque;
    rv_put_u32(w, RNG_STATE_VERSION); /* stateless: requests are answered at once */
    return w->error;
}

static int rng_load(void *opaque, struct rv_state_reader *rd)
{
    (void)opaque;
    if (rv_get_u32(rd) != RNG_STATE_VERSION || rd->error)
        return rv_error_set(-EINVAL, "virtio-rng: unsupported or truncated state");
    return 0;
}

static void rng_destroy(void *opaque)
{
    free(opaque);
}

static const struct rv_virtio_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .queue_max = QUEUE_SIZE,
    .queue_notify = rng_queue_notify,
    .save = rng_save,
    .load = rng_load,
    .destroy = rng_destroy,
};

int rv_virtio_rng_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                         const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                         struct rv_virtio_rng **out)
{
    struct rv_virtio_rng *r = calloc(1, sizeof(*r));
    if (!r)
        return rv_error_set(-ENOMEM, "virtio-rng: out of memory");
    int rc = rv_virtio_create(map, fdt, base, irq, dev_lock, bus, &rng_ops, r, 0, &r->vd);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}
