/* virtio-console device model (virtio 1.2 spec 5.3), single port. See virtio_console.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/serial.h"
#include "dev/virtio.h"
#include "dev/virtio_console.h"

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE 128u
/* struct virtio_console_config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. Only
 * meaningful with SIZE/MULTIPORT/EMERG_WRITE, none of which is offered: reads give zeros. */
#define CONFIG_SIZE 12u
#define CONSOLE_STATE_VERSION 1

struct rv_virtio_console {
    struct rv_virtio *vd;
    pthread_mutex_t *dev_lock;
    struct rv_console output;
    struct rv_virtq_elem rx, tx; /* used under the transport lock only */
};

static void console_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
    (void)opaque;
    (void)off;
    memset(buf, 0, len);
}

/* transmitq0: hand every readable byte to the backend, give the buffers back. */
static void console_transmit(struct rv_virtio_console *c)
{
    bool pushed = false;
    for (unsigned n = 0; n < QUEUE_SIZE; n++) { /* at most one ring's worth per notify */
        if (rv_virtq_pop(c->vd, TXQ, &c->tx) != 1)
            break;
        for (unsigned i = 0; i < c->tx.out_num; i++)
            if (c->output.write && c->tx.out[i].iov_len)
                c->output.write(c->output.opaque, c->tx.out[i].iov_base, c->tx.out[i].iov_len);
        rv_virtq_push(c->vd, TXQ, &c->tx, 0);
        pushed = true;
    }
    if (pushed)
        rv_virtq_notify(c->vd, TXQ);
}

/* Called with the transport lock (and, from the MMIO path, the device lock) held. */
static void console_queue_notify(void *opaque, unsigned q)
{
    struct rv_virtio_console *c = opaque;
    if (q == TXQ)
        console_transmit(c);
    /* receiveq0: new buffers; input is pushed by rv_virtio_console_receive() */
}

size_t rv_virtio_console_receive(struct rv_virtio_console *c, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    bool pushed = false;
    /* Both locks across pop..push: a reset cannot come between taking a buffer and filling
     * it (the device lock first, the order rv_virtq_pop needs on a broken ring). */
    pthread_mutex_lock(c->dev_lock);
    pthread_mutex_lock(rv_virtio_lock(c->vd));
    while (done < len && rv_virtq_pop(c->vd, RXQ, &c->rx) == 1) {
        size_t n = rv_iov_from_buf(c->rx.in, c->rx.in_num, 0, buf + done, len - done);
        rv_virtq_push(c->vd, RXQ, &c->rx, (uint32_t)n);
        pushed = true;
        done += n;
    }
    if (pushed)
        rv_virtq_notify(c->vd, RXQ);
    pthread_mutex_unlock(rv_virtio_lock(c->vd));
    pthread_mutex_unlock(c->dev_lock);
    return done;
}

bool rv_virtio_console_rx_room(struct rv_virtio_console *c)
{
    return rv_virtq_avail(c->vd, RXQ) != 0;
}

bool rv_virtio_console_active(const struct rv_virtio_console *c)
{
    return rv_virtio_running(c->vd);
}

static int console_save(void *opaque, struct rv_state_writer *w)
{
    (void)opaque;
    rv_put_u32(w, CONSOLE_STATE_VERSION); /* nothing else: input is never held back */
    return w->error;
}

static int console_load(void *opaque, struct rv_state_reader *r)
{
    (void)opaque;
    if (rv_get_u32(r) != CONSOLE_STATE_VERSION || r->error)
        return rv_error_set(-EINVAL, "virtio-console: unsupported or truncated state");
    return 0;
}

static void console_destroy(void *opaque)
{
    free(opaque);
}

static const struct rv_virtio_ops console_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queue_max = QUEUE_SIZE,
    .config_size = CONFIG_SIZE,
    .config_read = console_config_read,
    .queue_notify = console_queue_notify,
    .save = console_save,
    .load = console_load,
    .destroy = console_destroy,
};

int rv_virtio_console_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                             const struct rv_irq *irq, pthread_mutex_t *dev_lock,
                             struct rv_bus *bus, const struct rv_console *output,
                             struct rv_virtio_console **out)
{
    struct rv_virtio_console *c = calloc(1, sizeof(*c));
    if (!c)
        return rv_error_set(-ENOMEM, "virtio-console: out of memory");
    c->dev_lock = dev_lock;
    if (output)
        c->output = *output;
    int rc = rv_virtio_create(map, fdt, base, irq, dev_lock, bus, &console_ops, c, 0, &c->vd);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}
