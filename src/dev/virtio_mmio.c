/* virtio-mmio transport, version 2 ("modern"), and split virtqueues (virtio 1.2 spec 4.2.2,
 * 2.7). Every value the driver controls is validated before use: ring addresses and sizes at
 * QueueReady, descriptor addresses and lengths per chain, chain length and loops, indirect
 * tables, the available index. A violation marks the device DEVICE_NEEDS_RESET (2.1.2); the
 * host never touches memory outside guest RAM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio.h"

#define MMIO_SIZE 0x200
#define MMIO_MAGIC 0x74726976   /* "virt" */
#define MMIO_VERSION 2
#define MMIO_VENDOR 0x52565352  /* "RSVR" */

/* Register offsets (4.2.2) */
enum {
    REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010, REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020, REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080, REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_DRIVER_LOW = 0x090, REG_QUEUE_DRIVER_HIGH = 0x094,
    REG_QUEUE_DEVICE_LOW = 0x0a0, REG_QUEUE_DEVICE_HIGH = 0x0a4,
    REG_SHM_SEL = 0x0ac, REG_SHM_LEN_LOW = 0x0b0, REG_SHM_LEN_HIGH = 0x0b4,
    REG_SHM_BASE_LOW = 0x0b8, REG_SHM_BASE_HIGH = 0x0bc,
    REG_CONFIG_GENERATION = 0x0fc, REG_CONFIG = 0x100,
};

/* Device status bits (2.1) */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 64
#define STATUS_FAILED 128

#define INT_USED 1
#define INT_CONFIG 2

/* Descriptor flags (2.7.5) */
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct vq {
    uint32_t num;                 /* queue size chosen by the driver */
    bool ready;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* Host views, valid while ready (guest RAM never moves). */
    struct vring_desc *desc;
    uint16_t *avail;              /* flags, idx, ring[num], used_event */
    uint16_t *used;               /* flags, idx, then {u32 id, u32 len}[num], avail_event */
    uint16_t last_avail;          /* next available entry to take */
    uint16_t used_idx;            /* next used entry to fill */
    uint16_t signalled_used;      /* used_idx when the driver was last interrupted */
    bool signalled_valid;
};

struct rv_virtio {
    const struct rv_virtio_ops *ops;
    void *dev;
    struct rv_bus *bus;
    struct rv_irq irq;
    pthread_mutex_t *dev_lock;
    pthread_mutex_t lock;
    uint64_t base;
    uint64_t host_features;       /* offered: device bits + transport bits */
    uint64_t driver_features;
    uint32_t device_features_sel, driver_features_sel, queue_sel;
    uint32_t status, int_status, config_generation;
    bool failed;                  /* NEEDS_RESET: ignore the queues until reset */
    struct vq vq[RV_VIRTIO_MAX_QUEUES];
};

static bool has_feature(const struct rv_virtio *vd, unsigned bit)
{
    return (vd->driver_features >> bit) & 1;
}

/* --- interrupts --- */

static void update_irq(struct rv_virtio *vd)
{
    rv_irq_set(&vd->irq, vd->int_status != 0);
}

/* Raises interrupt reasons. Lock order: device lock, then transport lock. */
static void raise_interrupt(struct rv_virtio *vd, uint32_t why)
{
    pthread_mutex_lock(vd->dev_lock);
    pthread_mutex_lock(&vd->lock);
    vd->int_status |= why;
    update_irq(vd);
    pthread_mutex_unlock(&vd->lock);
    pthread_mutex_unlock(vd->dev_lock);
}

void rv_virtio_fail(struct rv_virtio *vd, const char *why)
{
    pthread_mutex_lock(vd->dev_lock);
    pthread_mutex_lock(&vd->lock);
    if (!vd->failed) {
        rv_warn("%s@%llx: %s: device needs reset", vd->ops->name,
                (unsigned long long)vd->base, why);
        vd->failed = true;
        vd->status |= STATUS_NEEDS_RESET; /* 2.1.2: also before DRIVER_OK */
        if (vd->status & STATUS_DRIVER_OK) {
            vd->config_generation++;
            vd->int_status |= INT_CONFIG;
            update_irq(vd);
        }
    }
    pthread_mutex_unlock(&vd->lock);
    pthread_mutex_unlock(vd->dev_lock);
}

void rv_virtio_config_changed(struct rv_virtio *vd)
{
    pthread_mutex_lock(&vd->lock);
    vd->config_generation++;
    pthread_mutex_unlock(&vd->lock);
    raise_interrupt(vd, INT_CONFIG);
}

/* --- virtqueues --- */

static inline uint16_t load16(const uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store16(uint16_t *p, uint16_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Host view of a guest-physical range, or NULL if it is not entirely RAM. */
static void *guest_ptr(struct rv_virtio *vd, uint64_t gpa, uint64_t len)
{
    if (!rv_bus_in_ram(vd->bus, gpa, len))
        return NULL;
    return rv_bus_ram_ptr(vd->bus, gpa);
}

/* The device wrote the used ring: tell dirty-page tracking (live migration). */
static void used_dirty(struct rv_virtio *vd, const struct vq *v)
{
    rv_bus_mark_dirty(vd->bus, v->used_gpa, 6 + 8ull * v->num);
}

static bool vq_is_live(const struct rv_virtio *vd, unsigned q)
{
    return q < vd->ops->num_queues && vd->vq[q].ready && !vd->failed &&
           (vd->status & STATUS_DRIVER_OK);
}

/* Adds one descriptor's buffer to the element; enforces "readable before writable". */
static int add_segment(struct rv_virtio *vd, struct rv_virtq_elem *e, const struct vring_desc *d,
                       const char **why)
{
    if (e->out_num + e->in_num >= RV_VIRTQ_MAX_SEGS) {
        *why = "descriptor chain too long";
        return -1;
    }
    void *p = guest_ptr(vd, d->addr, d->len);
    if (!p) {
        *why = "descriptor buffer outside guest RAM";
        return -1;
    }
    if (d->flags & DESC_F_WRITE) {
        rv_bus_note_write(vd->bus, d->addr, d->len); /* the device writes it (src/jit) */
        e->in[e->in_num++] = (struct iovec){p, d->len};
        e->in_len += d->len;
    } else {
        if (e->in_num) {
            *why = "readable descriptor after a writable one";
            return -1;
        }
        e->out[e->out_num++] = (struct iovec){p, d->len};
        e->out_len += d->len;
    }
    return 0;
}

/* Walks an indirect table (2.7.5.3.1). */
static int walk_indirect(struct rv_virtio *vd, struct rv_virtq_elem *e, const struct vring_desc *d,
                         const char **why)
{
    if (!has_feature(vd, VIRTIO_F_RING_INDIRECT_DESC) || (d->flags & DESC_F_NEXT) ||
        d->len == 0 || d->len % sizeof(struct vring_desc) ||
        d->len / sizeof(struct vring_desc) > RV_VIRTQ_MAX_SEGS) {
        *why = "bad indirect descriptor";
        return -1;
    }
    unsigned n = d->len / sizeof(struct vring_desc);
    const struct vring_desc *table = guest_ptr(vd, d->addr, d->len);
    if (!table) {
        *why = "indirect table outside guest RAM";
        return -1;
    }
    unsigned i = 0;
    for (unsigned count = 0;; count++) {
        if (count >= n) {
            *why = "loop in indirect table";
            return -1;
        }
        struct vring_desc id;
        memcpy(&id, &table[i], sizeof(id)); /* the driver may change it: read once */
        if (id.flags & DESC_F_INDIRECT) {
            *why = "nested indirect descriptor";
            return -1;
        }
        if (add_segment(vd, e, &id, why))
            return -1;
        if (!(id.flags & DESC_F_NEXT))
            return 0;
        if (id.next >= n) {
            *why = "indirect next index out of range";
            return -1;
        }
        i = id.next;
    }
}

int rv_virtq_pop(struct rv_virtio *vd, unsigned q, struct rv_virtq_elem *e)
{
    const char *why = NULL;
    pthread_mutex_lock(&vd->lock);
    if (!vq_is_live(vd, q)) {
        pthread_mutex_unlock(&vd->lock);
        return 0;
    }
    struct vq *v = &vd->vq[q];
    uint16_t avail_idx = load16(&v->avail[1]);
    uint16_t pending = (uint16_t)(avail_idx - v->last_avail);
    if (pending == 0) {
        pthread_mutex_unlock(&vd->lock);
        return 0;
    }
    if (pending > v->num) {
        why = "available index moved by more than the queue size";
        goto bad;
    }
    uint16_t head = load16(&v->avail[2 + v->last_avail % v->num]);
    if (head >= v->num) {
        why = "available ring entry out of range";
        goto bad;
    }
    e->head = head;
    e->out_num = e->in_num = 0;
    e->out_len = e->in_len = 0;
    unsigned i = head;
    for (unsigned count = 0;; count++) {
        if (count >= v->num) {
            why = "loop in descriptor chain";
            goto bad;
        }
        struct vring_desc d;
        memcpy(&d, &v->desc[i], sizeof(d));
        if (d.flags & DESC_F_INDIRECT) {
            if (count != 0 || walk_indirect(vd, e, &d, &why)) {
                if (!why)
                    why = "indirect descriptor inside a chain";
                goto bad;
            }
            break;
        }
        if (add_segment(vd, e, &d, &why))
            goto bad;
        if (!(d.flags & DESC_F_NEXT))
            break;
        if (d.next >= v->num) {
            why = "next index out of range";
            goto bad;
        }
        i = d.next;
    }
    v->last_avail++;
    if (has_feature(vd, VIRTIO_F_RING_EVENT_IDX)) {
        store16(&v->used[2 + 4 * v->num], v->last_avail); /* avail_event */
        used_dirty(vd, v);
        /* Store-load order with the next read of avail->idx (2.7.10), or a chain added now
         * could be missed by both sides. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&vd->lock);
    return 1;
bad:
    pthread_mutex_unlock(&vd->lock);
    rv_virtio_fail(vd, why);
    return -1;
}

void rv_virtq_push(struct rv_virtio *vd, unsigned q, const struct rv_virtq_elem *e,
                   uint32_t written)
{
    pthread_mutex_lock(&vd->lock);
    if (q < vd->ops->num_queues && vd->vq[q].ready && !vd->failed) {
        struct vq *v = &vd->vq[q];
        uint32_t *ring = (uint32_t *)(v->used + 2);
        uint32_t slot = v->used_idx % v->num;
        if (written > e->in_len)
            written = (uint32_t)e->in_len;
        __atomic_store_n(&ring[2 * slot], (uint32_t)e->head, __ATOMIC_RELAXED);
        __atomic_store_n(&ring[2 * slot + 1], written, __ATOMIC_RELAXED);
        v->used_idx++;
        store16(&v->used[1], v->used_idx); /* release: the entry is visible first */
        used_dirty(vd, v);
    }
    pthread_mutex_unlock(&vd->lock);
}

void rv_virtq_notify(struct rv_virtio *vd, unsigned q)
{
    pthread_mutex_lock(vd->dev_lock);
    pthread_mutex_lock(&vd->lock);
    if (q < vd->ops->num_queues && vd->vq[q].ready && !vd->failed) {
        struct vq *v = &vd->vq[q];
        bool need;
        /* The used index store must be visible before we read the driver's wishes. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (has_feature(vd, VIRTIO_F_RING_EVENT_IDX)) {
            uint16_t event = load16(&v->avail[2 + v->num]); /* used_event */
            uint16_t old = v->signalled_used, now = v->used_idx;
            /* vring_need_event (2.7.10): interrupt if `event` lies in (old, now]. */
            need = !v->signalled_valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
            v->signalled_used = now;
            v->signalled_valid = true;
        } else {
            need = !(load16(&v->avail[0]) & AVAIL_F_NO_INTERRUPT);
        }
        if (need) {
            vd->int_status |= INT_USED;
            update_irq(vd);
        }
    }
    pthread_mutex_unlock(&vd->lock);
    pthread_mutex_unlock(vd->dev_lock);
}

unsigned rv_virtq_avail(struct rv_virtio *vd, unsigned q)
{
    pthread_mutex_lock(&vd->lock);
    unsigned n = 0;
    if (vq_is_live(vd, q)) {
        struct vq *v = &vd->vq[q];
        n = (uint16_t)(load16(&v->avail[1]) - v->last_avail);
        if (n > v->num)
            n = 0; /* rv_virtq_pop reports the error */
    }
    pthread_mutex_unlock(&vd->lock);
    return n;
}

void rv_virtq_unpop(struct rv_virtio *vd, unsigned q, unsigned n)
{
    pthread_mutex_lock(&vd->lock);
    if (q < vd->ops->num_queues)
        vd->vq[q].last_avail = (uint16_t)(vd->vq[q].last_avail - n);
    pthread_mutex_unlock(&vd->lock);
}

void rv_virtq_set_notify(struct rv_virtio *vd, unsigned q, bool enable)
{
    pthread_mutex_lock(&vd->lock);
    if (vq_is_live(vd, q)) {
        struct vq *v = &vd->vq[q];
        if (has_feature(vd, VIRTIO_F_RING_EVENT_IDX)) {
            /* With EVENT_IDX the avail_event written at each pop already asks for the next
             * notification; suppressing means not updating it, so nothing to do here. */
        } else {
            uint16_t flags = load16(&v->used[0]);
            store16(&v->used[0], enable ? flags & ~USED_F_NO_NOTIFY : flags | USED_F_NO_NOTIFY);
            used_dirty(vd, v);
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&vd->lock);
}

/* --- registers --- */

/* QueueReady = 1: validate and map the three ring areas (2.7 alignment and sizes). */
static int vq_enable(struct rv_virtio *vd, struct vq *v)
{
    if (v->num == 0)
        return -1;
    size_t desc_len = 16ull * v->num, avail_len = 6 + 2ull * v->num, used_len = 6 + 8ull * v->num;
    if ((v->desc_gpa & 15) || (v->avail_gpa & 1) || (v->used_gpa & 3))
        return -1;
    v->desc = guest_ptr(vd, v->desc_gpa, desc_len);
    v->avail = guest_ptr(vd, v->avail_gpa, avail_len);
    v->used = guest_ptr(vd, v->used_gpa, used_len);
    if (!v->desc || !v->avail || !v->used)
        return -1;
    v->ready = true;
    return 0;
}

static void vq_reset(struct vq *v)
{
    memset(v, 0, sizeof(*v));
}

static void device_reset(struct rv_virtio *vd)
{
    if (vd->ops->reset)
        vd->ops->reset(vd->dev);
    for (unsigned i = 0; i < RV_VIRTIO_MAX_QUEUES; i++)
        vq_reset(&vd->vq[i]);
    vd->driver_features = 0;
    vd->device_features_sel = vd->driver_features_sel = vd->queue_sel = 0;
    vd->status = 0;
    vd->int_status = 0;
    vd->failed = false;
    update_irq(vd);
}

/* Notifications written before DRIVER_OK are not passed on (the device must not use buffers
 * yet), but drivers do write them: Linux's balloon primes its statsq in probe. So at DRIVER_OK,
 * and after a restore, every live queue gets one notification; a spurious one is harmless. */
static void kick_live_queues(struct rv_virtio *vd)
{
    for (unsigned q = 0; q < vd->ops->num_queues && vd->ops->queue_notify; q++)
        if (vq_is_live(vd, q))
            vd->ops->queue_notify(vd->dev, q);
}

static void write_status(struct rv_virtio *vd, uint32_t v)
{
    if (v == 0) {
        device_reset(vd);
        return;
    }
    uint32_t added = v & ~vd->status;
    if (added & STATUS_FEATURES_OK) {
        /* 3.1.1: the device accepts only features it offered; a modern-only device needs
         * VERSION_1. */
        bool ok = !(vd->driver_features & ~vd->host_features) &&
                  has_feature(vd, VIRTIO_F_VERSION_1) &&
                  (!vd->ops->features_ok || vd->ops->features_ok(vd->dev, vd->driver_features));
        if (!ok)
            v &= ~STATUS_FEATURES_OK;
    }
    if ((added & STATUS_DRIVER_OK) && !(v & STATUS_FEATURES_OK))
        v &= ~STATUS_DRIVER_OK; /* DRIVER_OK without FEATURES_OK is a driver bug: ignore */
    vd->status = (v & ~STATUS_NEEDS_RESET) | (vd->status & STATUS_NEEDS_RESET);
    if (!(added & STATUS_DRIVER_OK) || !(vd->status & STATUS_DRIVER_OK))
        return;
    if (vd->failed) { /* broken before DRIVER_OK: tell the driver now (2.1.2) */
        vd->config_generation++;
        vd->int_status |= INT_CONFIG;
        update_irq(vd);
        return;
    }
    if (vd->ops->driver_ok)
        vd->ops->driver_ok(vd->dev);
    kick_live_queues(vd);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct rv_virtio *vd = opaque;
    uint64_t r = 0;
    pthread_mutex_lock(&vd->lock);
    if (off >= REG_CONFIG) {
        uint64_t coff = off - REG_CONFIG;
        if (coff + size <= vd->ops->config_size && vd->ops->config_read)
            vd->ops->config_read(vd->dev, (uint32_t)coff, &r, size);
        pthread_mutex_unlock(&vd->lock);
        return r;
    }
    struct vq *v = vd->queue_sel < vd->ops->num_queues ? &vd->vq[vd->queue_sel] : NULL;
    if (size == 4) {
        switch (off) {
        case REG_MAGIC: r = MMIO_MAGIC; break;
        case REG_VERSION: r = MMIO_VERSION; break;
        case REG_DEVICE_ID: r = vd->ops->device_id; break;
        case REG_VENDOR_ID: r = MMIO_VENDOR; break;
        case REG_DEVICE_FEATURES:
            r = vd->device_features_sel < 2 ? (uint32_t)(vd->host_features >>
                                                         (32 * vd->device_features_sel))
                                            : 0;
            break;
        case REG_QUEUE_NUM_MAX: r = v ? vd->ops->queue_max : 0; break;
        case REG_QUEUE_READY: r = v ? v->ready : 0; break;
        case REG_INTERRUPT_STATUS: r = vd->int_status; break;
        case REG_STATUS: r = vd->status; break;
        case REG_CONFIG_GENERATION: r = vd->config_generation; break;
        case REG_SHM_LEN_LOW: case REG_SHM_LEN_HIGH: r = 0xffffffff; break; /* no regions */
        case REG_QUEUE_DESC_LOW: r = v ? (uint32_t)v->desc_gpa : 0; break;
        case REG_QUEUE_DESC_HIGH: r = v ? v->desc_gpa >> 32 : 0; break;
        case REG_QUEUE_DRIVER_LOW: r = v ? (uint32_t)v->avail_gpa : 0; break;
        case REG_QUEUE_DRIVER_HIGH: r = v ? v->avail_gpa >> 32 : 0; break;
        case REG_QUEUE_DEVICE_LOW: r = v ? (uint32_t)v->used_gpa : 0; break;
        case REG_QUEUE_DEVICE_HIGH: r = v ? v->used_gpa >> 32 : 0; break;
        }
    }
    pthread_mutex_unlock(&vd->lock);
    return r;
}

static void set_addr_half(uint64_t *addr, bool high, uint32_t value)
{
    if (high)
        *addr = (*addr & 0xffffffffull) | (uint64_t)value << 32;
    else
        *addr = (*addr & ~0xffffffffull) | value;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    struct rv_virtio *vd = opaque;
    unsigned notify = RV_VIRTIO_MAX_QUEUES;
    pthread_mutex_lock(&vd->lock);
    if (off >= REG_CONFIG) {
        uint64_t coff = off - REG_CONFIG;
        if (coff + size <= vd->ops->config_size && vd->ops->config_write)
            vd->ops->config_write(vd->dev, (uint32_t)coff, &value, size);
        pthread_mutex_unlock(&vd->lock);
        return;
    }
    if (size != 4) {
        pthread_mutex_unlock(&vd->lock);
        return;
    }
    uint32_t val = (uint32_t)value;
    struct vq *v = vd->queue_sel < vd->ops->num_queues ? &vd->vq[vd->queue_sel] : NULL;
    /* Ring addresses and sizes may change only while the queue is disabled (4.2.2.3). */
    bool v_idle = v && !v->ready;
    switch (off) {
    case REG_DEVICE_FEATURES_SEL: vd->device_features_sel = val; break;
    case REG_DRIVER_FEATURES_SEL: vd->driver_features_sel = val; break;
    case REG_DRIVER_FEATURES:
        if (vd->driver_features_sel < 2 && !(vd->status & STATUS_FEATURES_OK)) {
            unsigned shift = 32 * vd->driver_features_sel;
            vd->driver_features = (vd->driver_features & ~(0xffffffffull << shift)) |
                                  (uint64_t)val << shift;
        }
        break;
    case REG_QUEUE_SEL: vd->queue_sel = val; break;
    case REG_QUEUE_NUM:
        if (v_idle && val >= 1 && val <= vd->ops->queue_max)
            v->num = val;
        break;
    case REG_QUEUE_READY:
        if (v && val == 1 && !v->ready) {
            if (vq_enable(vd, v)) {
                pthread_mutex_unlock(&vd->lock);
                rv_virtio_fail(vd, "invalid queue layout");
                return;
            }
        } else if (v && val == 0) {
            v->ready = false;
        }
        break;
    case REG_QUEUE_NOTIFY:
        if (val < vd->ops->num_queues && vq_is_live(vd, val))
            notify = val;
        break;
    case REG_INTERRUPT_ACK:
        vd->int_status &= ~val;
        update_irq(vd);
        break;
    case REG_STATUS: write_status(vd, val); break;
    case REG_QUEUE_DESC_LOW: case REG_QUEUE_DESC_HIGH:
        if (v_idle) set_addr_half(&v->desc_gpa, off == REG_QUEUE_DESC_HIGH, val);
        break;
    case REG_QUEUE_DRIVER_LOW: case REG_QUEUE_DRIVER_HIGH:
        if (v_idle) set_addr_half(&v->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, val);
        break;
    case REG_QUEUE_DEVICE_LOW: case REG_QUEUE_DEVICE_HIGH:
        if (v_idle) set_addr_half(&v->used_gpa, off == REG_QUEUE_DEVICE_HIGH, val);
        break;
    case REG_SHM_SEL: break;
    }
    if (notify < RV_VIRTIO_MAX_QUEUES && vd->ops->queue_notify)
        vd->ops->queue_notify(vd->dev, notify);
    pthread_mutex_unlock(&vd->lock);
}

/* --- lifecycle and state --- */

#define VIRTIO_STATE_VERSION 1

static void mmio_reset(void *opaque)
{
    struct rv_virtio *vd = opaque;
    pthread_mutex_lock(&vd->lock);
    device_reset(vd);
    vd->config_generation = 0;
    pthread_mutex_unlock(&vd->lock);
}

static int mmio_save(void *opaque, struct rv_state_writer *w)
{
    struct rv_virtio *vd = opaque;
    pthread_mutex_lock(&vd->lock);
    rv_put_u32(w, VIRTIO_STATE_VERSION);
    rv_put_u64(w, vd->driver_features);
    rv_put_u32(w, vd->device_features_sel);
    rv_put_u32(w, vd->driver_features_sel);
    rv_put_u32(w, vd->queue_sel);
    rv_put_u32(w, vd->status);
    rv_put_u32(w, vd->int_status);
    rv_put_u32(w, vd->config_generation);
    rv_put_u8(w, vd->failed);
    for (unsigned i = 0; i < vd->ops->num_queues; i++) {
        const struct vq *v = &vd->vq[i];
        rv_put_u32(w, v->num);
        rv_put_u8(w, v->ready);
        rv_put_u64(w, v->desc_gpa);
        rv_put_u64(w, v->avail_gpa);
        rv_put_u64(w, v->used_gpa);
        rv_put_u32(w, v->last_avail);
        rv_put_u32(w, v->used_idx);
        rv_put_u32(w, v->signalled_used);
        rv_put_u8(w, v->signalled_valid);
    }
    pthread_mutex_unlock(&vd->lock);
    int rc = w->error;
    if (!rc && vd->ops->save)
        rc = vd->ops->save(vd->dev, w);
    return rc;
}

static int mmio_load(void *opaque, struct rv_state_reader *r)
{
    struct rv_virtio *vd = opaque;
    if (rv_get_u32(r) != VIRTIO_STATE_VERSION)
        return rv_error_set(-EINVAL, "%s: unsupported state version", vd->ops->name);
    struct rv_virtio n = *vd;
    n.driver_features = rv_get_u64(r);
    n.device_features_sel = rv_get_u32(r);
    n.driver_features_sel = rv_get_u32(r);
    n.queue_sel = rv_get_u32(r);
    n.status = rv_get_u32(r);
    n.int_status = rv_get_u32(r) & (INT_USED | INT_CONFIG);
    n.config_generation = rv_get_u32(r);
    n.failed = rv_get_u8(r) != 0;
    for (unsigned i = 0; i < vd->ops->num_queues; i++) {
        struct vq *v = &n.vq[i];
        vq_reset(v);
        v->num = rv_get_u32(r);
        bool ready = rv_get_u8(r) != 0;
        v->desc_gpa = rv_get_u64(r);
        v->avail_gpa = rv_get_u64(r);
        v->used_gpa = rv_get_u64(r);
        v->last_avail = (uint16_t)rv_get_u32(r);
        v->used_idx = (uint16_t)rv_get_u32(r);
        v->signalled_used = (uint16_t)rv_get_u32(r);
        v->signalled_valid = rv_get_u8(r) != 0;
        if (v->num > vd->ops->queue_max || (ready && vq_enable(vd, v)))
            return rv_error_set(-EINVAL, "%s: invalid queue %u in state", vd->ops->name, i);
    }
    if (r->error || (n.driver_features & ~vd->host_features))
        return rv_error_set(-EINVAL, "%s: truncated or invalid state", vd->ops->name);
    if (vd->ops->load) {
        int rc = vd->ops->load(vd->dev, r);
        if (rc)
            return rc;
    }
    pthread_mutex_lock(&vd->lock);
    memcpy(vd->vq, n.vq, sizeof(vd->vq));
    vd->driver_features = n.driver_features;
    vd->device_features_sel = n.device_features_sel;
    vd->driver_features_sel = n.driver_features_sel;
    vd->queue_sel = n.queue_sel;
    vd->status = n.status;
    vd->int_status = n.int_status;
    vd->config_generation = n.config_generation;
    vd->failed = n.failed;
    update_irq(vd);
    kick_live_queues(vd);
    pthread_mutex_unlock(&vd->lock);
    return 0;
}

static void mmio_destroy(void *opaque)
{
    struct rv_virtio *vd = opaque;
    if (vd->ops->destroy)
        vd->ops->destroy(vd->dev);
    pthread_mutex_destroy(&vd->lock);
    free(vd);
}

static const struct rv_device_ops virtio_mmio_ops = {
    .name = "virtio-mmio",
    .read = mmio_read,
    .write = mmio_write,
    .reset = mmio_reset,
    .save = mmio_save,
    .load = mmio_load,
    .destroy = mmio_destroy,
};

int rv_virtio_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                     const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                     const struct rv_virtio_ops *ops, void *dev, uint64_t features,
                     struct rv_virtio **out)
{
    if (ops->num_queues == 0 || ops->num_queues > RV_VIRTIO_MAX_QUEUES || ops->queue_max == 0 ||
        ops->queue_max > RV_VIRTQ_MAX_SIZE || ops->config_size > MMIO_SIZE - REG_CONFIG)
        return rv_error_set(-EINVAL, "%s: bad virtio device description", ops->name);
    struct rv_virtio *vd = calloc(1, sizeof(*vd));
    if (!vd)
        return rv_error_set(-ENOMEM, "%s: out of memory", ops->name);
    vd->ops = ops;
    vd->dev = dev;
    vd->bus = bus;
    vd->irq = *irq;
    vd->dev_lock = dev_lock;
    vd->base = base;
    vd->host_features = features | (1ull << VIRTIO_F_VERSION_1) |
                        (1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&vd->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    int rc = rv_iomap_attach(map, base, MMIO_SIZE, &virtio_mmio_ops, vd);
    if (rc) {
        pthread_mutex_destroy(&vd->lock);
        free(vd);
        return rc;
    }
    if (fdt && fdt->blob) {
        static const char compat[] = "virtio,mmio";
        int node = rv_fdt_add_device(fdt, "virtio_mmio", base, MMIO_SIZE, compat, sizeof(compat));
        rv_fdt_set_irq(fdt, node, irq);
    }
    *out = vd;
    return 0;
}

pthread_mutex_t *rv_virtio_lock(struct rv_virtio *vd)
{
    return &vd->lock;
}

uint64_t rv_virtio_features(const struct rv_virtio *vd)
{
    return vd->driver_features;
}

bool rv_virtio_running(const struct rv_virtio *vd)
{
    return (vd->status & STATUS_DRIVER_OK) && !vd->failed;
}
