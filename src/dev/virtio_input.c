/* virtio-input device model (virtio 1.2 spec 5.8): a power button. See virtio_input.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/iov.h"
#include "core/serial.h"
#include "dev/virtio.h"
#include "dev/virtio_input.h"

#define EVENTQ 0
#define STATUSQ 1
#define QUEUE_SIZE 64u
#define INPUT_STATE_VERSION 1

/* struct virtio_input_config (5.8.4): u8 select, u8 subsel, u8 size, u8 reserved[5], then a
 * 128-byte union (string, bitmap, absinfo or devids). */
#define CFG_SELECT 0
#define CFG_SUBSEL 1
#define CFG_SIZE 2
#define CFG_UNION 8
#define CFG_UNION_SIZE 128u
#define CONFIG_SIZE (CFG_UNION + CFG_UNION_SIZE)

enum virtio_input_config_select {
    CFG_UNSET = 0x00,
    CFG_ID_NAME = 0x01,
    CFG_ID_SERIAL = 0x02,
    CFG_ID_DEVIDS = 0x03,
    CFG_PROP_BITS = 0x10,
    CFG_EV_BITS = 0x11,
    CFG_ABS_INFO = 0x12,
};

#define SERIAL "rvisor-power-0"
#define BUS_VIRTUAL 0x06 /* Linux input.h bus type, what evdev's EVIOCGID reports */
#define EVENT_SIZE 8u    /* struct virtio_input_event: le16 type, le16 code, le32 value */

struct input_event {
    uint16_t type, code;
    uint32_t value;
};

struct rv_virtio_input {
    struct rv_virtio *vd;
    pthread_mutex_t *dev_lock;
    uint8_t select, subsel;  /* written by the driver; the rest of the config follows them */
    /* events for the driver, oldest first (a ring: head + count) */
    struct input_event pending[RV_VIRTIO_INPUT_MAX_PENDING];
    unsigned head, count;
    struct rv_virtq_elem elem; /* used under the transport lock only */
};

/* Sets bit `bit` of a bitmap and returns the bitmap's size in bytes up to that bit. */
static uint8_t set_bit(uint8_t *map, unsigned bit)
{
    map[bit / 8] |= (uint8_t)(1u << (bit % 8));
    return (uint8_t)(bit / 8 + 1);
}

/* Fills the union for the current select/subsel and returns `size` (0: nothing there; the
 * device MUST then say 0, 5.8.5.2). */
static uint8_t config_union(const struct rv_virtio_input *in, uint8_t *u)
{
    memset(u, 0, CFG_UNION_SIZE);
    switch (in->select) {
    case CFG_ID_NAME: /* strings carry no NUL terminator (5.8.4) */
        if (in->subsel)
            return 0;
        memcpy(u, RV_VIRTIO_INPUT_NAME, sizeof(RV_VIRTIO_INPUT_NAME) - 1);
        return sizeof(RV_VIRTIO_INPUT_NAME) - 1;
    case CFG_ID_SERIAL:
        if (in->subsel)
            return 0;
        memcpy(u, SERIAL, sizeof(SERIAL) - 1);
        return sizeof(SERIAL) - 1;
    case CFG_ID_DEVIDS: /* struct virtio_input_devids: bustype, vendor, product, version */
        if (in->subsel)
            return 0;
        rv_put_le16(u, BUS_VIRTUAL);
        rv_put_le16(u + 2, 0);
        rv_put_le16(u + 4, 1);
        rv_put_le16(u + 6, 1);
        return 8;
    case CFG_EV_BITS: /* subsel = event type; bitmap of its codes */
        if (in->subsel == RV_INPUT_EV_KEY)
            return set_bit(u, RV_INPUT_KEY_POWER);
        if (in->subsel == RV_INPUT_EV_SYN)
            return set_bit(u, RV_INPUT_SYN_REPORT);
        return 0;
    default: /* PROP_BITS: no input properties; no ABS axes; UNSET */
        return 0;
    }
}

static void input_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
    struct rv_virtio_input *in = opaque;
    uint8_t cfg[CONFIG_SIZE] = {in->select, in->subsel};
    cfg[CFG_SIZE] = config_union(in, cfg + CFG_UNION);
    /* SAFETY: the transport calls with off + len <= config_size = sizeof(cfg). */
    memcpy(buf, cfg + off, len);
}

/* Only select and subsel are the driver's to write (5.8.5.1); other writes are ignored. */
static void input_config_write(void *opaque, uint32_t off, const void *buf, unsigned len)
{
    struct rv_virtio_input *in = opaque;
    const uint8_t *p = buf;
    for (unsigned i = 0; i < len; i++) {
        if (off + i == CFG_SELECT)
            in->select = p[i];
        else if (off + i == CFG_SUBSEL)
            in->subsel = p[i];
    }
}

/* Moves pending events into the driver's eventq buffers, one event per buffer (Linux gives
 * buffers of exactly one event). Transport lock held. */
static void deliver(struct rv_virtio_input *in)
{
    bool pushed = false;
    while (in->count && rv_virtq_pop(in->vd, EVENTQ, &in->elem) == 1) {
        if (in->elem.in_len < EVENT_SIZE) { /* 5.8.6.1: at least one event, device-writable */
            rv_virtio_fail(in->vd, "eventq buffer smaller than an event");
            break;
        }
        const struct input_event *e = &in->pending[in->head];
        uint8_t raw[EVENT_SIZE];
        rv_put_le16(raw, e->type);
        rv_put_le16(raw + 2, e->code);
        rv_put_le32(raw + 4, e->value);
        rv_iov_from_buf(in->elem.in, (int)in->elem.in_num, 0, raw, EVENT_SIZE);
        rv_virtq_push(in->vd, EVENTQ, &in->elem, EVENT_SIZE);
        in->head = (in->head + 1) % RV_VIRTIO_INPUT_MAX_PENDING;
        in->count--;
        pushed = true;
    }
    if (pushed)
        rv_virtq_notify(in->vd, EVENTQ);
}

/* statusq: feedback such as LEDs; a power button has none, so buffers go back unread. */
static void drain_status(struct rv_virtio_input *in)
{
    bool pushed = false;
    for (unsigned n = 0; n < QUEUE_SIZE; n++) { /* at most one ring's worth per notify */
        if (rv_virtq_pop(in->vd, STATUSQ, &in->elem) != 1)
            break;
        rv_virtq_push(in->vd, STATUSQ, &in->elem, 0);
        pushed = true;
    }
    if (pushed)
        rv_virtq_notify(in->vd, STATUSQ);
}

/* Called with the transport lock (and, from the MMIO path, the device lock) held. */
static void input_queue_notify(void *opaque, unsigned q)
{
    struct rv_virtio_input *in = opaque;
    if (q == EVENTQ)
        deliver(in); /* new buffers: events that waited for them go now */
    else if (q == STATUSQ)
        drain_status(in);
}

static void input_reset(void *opaque)
{
    struct rv_virtio_input *in = opaque;
    in->count = in->head = 0; /* meant for the driver that reset the device */
    in->select = in->subsel = 0;
}

static void lock_both(struct rv_virtio_input *in)
{
    pthread_mutex_lock(in->dev_lock);
    pthread_mutex_lock(rv_virtio_lock(in->vd));
}

static void unlock_both(struct rv_virtio_input *in)
{
    pthread_mutex_unlock(rv_virtio_lock(in->vd));
    pthread_mutex_unlock(in->dev_lock);
}

int rv_virtio_input_press(struct rv_virtio_input *in, uint16_t code)
{
    if (code != RV_INPUT_KEY_POWER)
        return rv_error_set(-EINVAL, "virtio-input: the device has no key %u", code);
    /* One update = press, SYN_REPORT, release, SYN_REPORT: queued whole or not at all
     * (5.8.6.2: a device should not drop part of a sequence). */
    const struct input_event seq[4] = {
        {RV_INPUT_EV_KEY, code, 1}, {RV_INPUT_EV_SYN, RV_INPUT_SYN_REPORT, 0},
        {RV_INPUT_EV_KEY, code, 0}, {RV_INPUT_EV_SYN, RV_INPUT_SYN_REPORT, 0}};
    int rc = 0;
    lock_both(in);
    if (!rv_virtio_running(in->vd)) {
        rc = rv_error_set(-ENODEV, "the guest has no driver for the power button "
                                   "(virtio-input): it cannot be asked to power off");
    } else if (in->count + 4 > RV_VIRTIO_INPUT_MAX_PENDING) {
        rc = rv_error_set(-EBUSY, "the guest has not taken the last %u power-button events",
                          in->count);
    } else {
        for (unsigned i = 0; i < 4; i++)
            in->pending[(in->head + in->count++) % RV_VIRTIO_INPUT_MAX_PENDING] = seq[i];
        deliver(in);
    }
    unlock_both(in);
    return rc;
}

bool rv_virtio_input_active(struct rv_virtio_input *in)
{
    lock_both(in);
    bool running = rv_virtio_running(in->vd);
    unlock_both(in);
    return running;
}

unsigned rv_virtio_input_pending(struct rv_virtio_input *in)
{
    lock_both(in);
    unsigned n = in->count;
    unlock_both(in);
    return n;
}

static int input_save(void *opaque, struct rv_state_writer *w)
{
    struct rv_virtio_input *in = opaque;
    lock_both(in);
    rv_put_u32(w, INPUT_STATE_VERSION);
    rv_put_u8(w, in->select);
    rv_put_u8(w, in->subsel);
    rv_put_u32(w, in->count);
    for (unsigned i = 0; i < in->count; i++) {
        const struct input_event *e = &in->pending[(in->head + i) % RV_VIRTIO_INPUT_MAX_PENDING];
        rv_put_u32(w, (uint32_t)e->type << 16 | e->code);
        rv_put_u32(w, e->value);
    }
    unlock_both(in);
    return w->error;
}

static int input_load(void *opaque, struct rv_state_reader *r)
{
    struct rv_virtio_input *in = opaque;
    if (rv_get_u32(r) != INPUT_STATE_VERSION)
        return rv_error_set(-EINVAL, "virtio-input: unsupported state version");
    uint8_t select = rv_get_u8(r), subsel = rv_get_u8(r);
    uint32_t count = rv_get_u32(r);
    if (r->error || count > RV_VIRTIO_INPUT_MAX_PENDING)
        return rv_error_set(-EINVAL, "virtio-input: truncated or invalid state");
    struct input_event ev[RV_VIRTIO_INPUT_MAX_PENDING];
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tc = rv_get_u32(r);
        ev[i] = (struct input_event){(uint16_t)(tc >> 16), (uint16_t)tc, rv_get_u32(r)};
    }
    if (r->error)
        return rv_error_set(-EINVAL, "virtio-input: truncated state");
    lock_both(in);
    in->select = select;
    in->subsel = subsel;
    memcpy(in->pending, ev, count * sizeof(ev[0]));
    in->head = 0;
    in->count = count;
    unlock_both(in); /* the transport kicks the live queues after loading: they get delivered */
    return 0;
}

static void input_destroy(void *opaque)
{
    free(opaque);
}

static const struct rv_virtio_ops input_ops = {
    .name = "virtio-input",
    .device_id = VIRTIO_ID_INPUT,
    .num_queues = 2,
    .queue_max = QUEUE_SIZE,
    .config_size = CONFIG_SIZE,
    .config_read = input_config_read,
    .config_write = input_config_write,
    .queue_notify = input_queue_notify,
    .reset = input_reset,
    .save = input_save,
    .load = input_load,
    .destroy = input_destroy,
};

int rv_virtio_input_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                           const struct rv_irq *irq, pthread_mutex_t *dev_lock,
                           struct rv_bus *bus, struct rv_virtio_input **out)
{
    struct rv_virtio_input *in = calloc(1, sizeof(*in));
    if (!in)
        return rv_error_set(-ENOMEM, "virtio-input: out of memory");
    in->dev_lock = dev_lock;
    /* No feature bits (5.8.3). */
    int rc = rv_virtio_create(map, fdt, base, irq, dev_lock, bus, &input_ops, in, 0, &in->vd);
    if (rc) {
        free(in);
        return rc;
    }
    *out = in;
    return 0;
}
