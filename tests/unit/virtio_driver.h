/* A fake virtio-mmio driver for the device tests: guest RAM is an anonymous mapping behind a
 * struct rv_bus, registers are driven through the iomap region's ops with the (recursive)
 * device lock held as the machine does, and split rings are built by hand so that tests can
 * also break every rule. Header-only (static inline) so each test binary stays one file. */
#ifndef RV_TEST_VIRTIO_DRIVER_H
#define RV_TEST_VIRTIO_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "cpu/bus.h"
#include "dev/device.h"
#include "dev/virtio.h"

#define VD_RAM_BASE 0x80000000ull
#define VD_RAM_SIZE (8ull << 20)
#define VD_BASE 0x10001000ull
#define VD_IRQ 7

enum {
    VR_MAGIC = 0x000, VR_VERSION = 0x004, VR_DEVICE_ID = 0x008, VR_VENDOR = 0x00c,
    VR_DEV_FEATURES = 0x010, VR_DEV_FEATURES_SEL = 0x014, VR_DRV_FEATURES = 0x020,
    VR_DRV_FEATURES_SEL = 0x024, VR_QUEUE_SEL = 0x030, VR_QUEUE_NUM_MAX = 0x034,
    VR_QUEUE_NUM = 0x038, VR_QUEUE_READY = 0x044, VR_QUEUE_NOTIFY = 0x050,
    VR_INT_STATUS = 0x060, VR_INT_ACK = 0x064, VR_STATUS = 0x070, VR_DESC_LO = 0x080,
    VR_DESC_HI = 0x084, VR_DRIVER_LO = 0x090, VR_DRIVER_HI = 0x094, VR_DEVICE_LO = 0x0a0,
    VR_DEVICE_HI = 0x0a4, VR_GENERATION = 0x0fc, VR_CONFIG = 0x100,
};

enum { VS_ACK = 1, VS_DRIVER = 2, VS_DRIVER_OK = 4, VS_FEATURES_OK = 8, VS_NEEDS_RESET = 64 };
enum { VD_F_NEXT = 1, VD_F_WRITE = 2, VD_F_INDIRECT = 4 };

struct vd_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

struct vd_seg {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

struct vd_queue {
    uint16_t num;
    uint64_t desc, avail, used;  /* guest-physical */
    uint16_t avail_idx, last_used, next_desc;
};

struct vdrv {
    struct rv_bus bus;
    struct rv_iomap map;
    pthread_mutex_t dev_lock;
    struct rv_region *r;
    unsigned irq_level, irq_raises; /* written by the irq callback (any thread), atomics */
    /* Every call of the irq callback is an event the waits below wake up for (under irq_lock):
     * the device raises its line after every change a test waits for (used entries with the
     * driver asking for interrupts, DEVICE_NEEDS_RESET). */
    pthread_mutex_t irq_lock;
    pthread_cond_t irq_cond;
    unsigned irq_events;
    uint64_t heap;                  /* bump allocator in guest RAM */
    struct vd_queue q[RV_VIRTIO_MAX_QUEUES];
};

static inline void vd_irq_set(void *ctrl, unsigned source, bool level)
{
    struct vdrv *d = ctrl;
    (void)source;
    unsigned old = __atomic_exchange_n(&d->irq_level, level ? 1u : 0u, __ATOMIC_SEQ_CST);
    if (level && !old)
        __atomic_add_fetch(&d->irq_raises, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&d->irq_lock);
    d->irq_events++;
    pthread_cond_broadcast(&d->irq_cond);
    pthread_mutex_unlock(&d->irq_lock);
}

static inline unsigned vd_irq_level(struct vdrv *d)
{
    return __atomic_load_n(&d->irq_level, __ATOMIC_SEQ_CST);
}

static inline unsigned vd_irq_raises(struct vdrv *d)
{
    return __atomic_load_n(&d->irq_raises, __ATOMIC_SEQ_CST);
}

/* How long a wait may take before it is reported as a failure: never the normal path, only a
 * guard against a hang on a heavily loaded machine. */
#define VD_DEADLINE_S 60

static inline struct timespec vd_deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += VD_DEADLINE_S;
    return ts;
}

static inline unsigned vd_irq_events(struct vdrv *d)
{
    pthread_mutex_lock(&d->irq_lock);
    unsigned n = d->irq_events;
    pthread_mutex_unlock(&d->irq_lock);
    return n;
}

/* Waits for an irq callback after the one *seen counted; updates *seen. False at `deadline`.
 * Callers read *seen before they look at the device, so no event in between is missed. */
static inline bool vd_wait_event(struct vdrv *d, unsigned *seen, const struct timespec *deadline)
{
    int rc = 0;
    pthread_mutex_lock(&d->irq_lock);
    while (d->irq_events == *seen && rc == 0)
        rc = pthread_cond_timedwait(&d->irq_cond, &d->irq_lock, deadline);
    bool got = d->irq_events != *seen;
    *seen = d->irq_events;
    pthread_mutex_unlock(&d->irq_lock);
    return got;
}

/* Waits until the interrupt line is high. */
static inline bool vd_wait_irq(struct vdrv *d)
{
    struct timespec deadline = vd_deadline();
    unsigned seen = vd_irq_events(d);
    while (!vd_irq_level(d)) {
        if (!vd_wait_event(d, &seen, &deadline)) {
            fprintf(stderr, "virtio driver: no interrupt after %d s\n", VD_DEADLINE_S);
            return false;
        }
    }
    return true;
}

static inline struct rv_irq vd_rv_irq(struct vdrv *d)
{
    return (struct rv_irq){.set = vd_irq_set, .ctrl = d, .source = VD_IRQ, .phandle = 3};
}

/* Maps RAM and the lock; the caller then creates the device with &d->map, &d->bus, ... */
static inline bool vd_init(struct vdrv *d)
{
    memset(d, 0, sizeof(*d));
    void *ram = mmap(NULL, VD_RAM_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        return false;
    d->bus.ram = ram;
    d->bus.ram_base = VD_RAM_BASE;
    d->bus.ram_size = VD_RAM_SIZE;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&d->dev_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&d->irq_lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&d->irq_cond, &cattr);
    pthread_condattr_destroy(&cattr);
    d->heap = VD_RAM_BASE + 0x1000;
    return true;
}

/* Finds the device's region after creation. */
static inline bool vd_attach(struct vdrv *d)
{
    d->r = rv_iomap_find(&d->map, VD_BASE, 4);
    return d->r != NULL;
}

static inline void vd_free_locks(struct vdrv *d)
{
    pthread_mutex_destroy(&d->dev_lock);
    pthread_cond_destroy(&d->irq_cond);
    pthread_mutex_destroy(&d->irq_lock);
}

static inline void vd_free(struct vdrv *d)
{
    if (d->r && d->r->ops->destroy)
        d->r->ops->destroy(d->r->dev);
    munmap(d->bus.ram, VD_RAM_SIZE);
    vd_free_locks(d);
}

static inline void *vd_ptr(struct vdrv *d, uint64_t gpa)
{
    return d->bus.ram + (gpa - VD_RAM_BASE);
}

static inline uint64_t vd_alloc(struct vdrv *d, uint64_t size, uint64_t align)
{
    d->heap = (d->heap + align - 1) & ~(align - 1);
    uint64_t gpa = d->heap;
    d->heap += size;
    memset(vd_ptr(d, gpa), 0, size);
    return gpa;
}

static inline uint32_t vd_rd(struct vdrv *d, uint64_t off, unsigned size)
{
    pthread_mutex_lock(&d->dev_lock);
    uint64_t v = d->r->ops->read(d->r->dev, off, size);
    pthread_mutex_unlock(&d->dev_lock);
    return (uint32_t)v;
}

static inline void vd_wr(struct vdrv *d, uint64_t off, uint32_t v, unsigned size)
{
    pthread_mutex_lock(&d->dev_lock);
    d->r->ops->write(d->r->dev, off, v, size);
    pthread_mutex_unlock(&d->dev_lock);
}

static inline uint32_t vd_rd32(struct vdrv *d, uint64_t off)
{
    return vd_rd(d, off, 4);
}

static inline void vd_wr32(struct vdrv *d, uint64_t off, uint32_t v)
{
    vd_wr(d, off, v, 4);
}

static inline uint64_t vd_device_features(struct vdrv *d)
{
    vd_wr32(d, VR_DEV_FEATURES_SEL, 1);
    uint64_t hi = vd_rd32(d, VR_DEV_FEATURES);
    vd_wr32(d, VR_DEV_FEATURES_SEL, 0);
    return hi << 32 | vd_rd32(d, VR_DEV_FEATURES);
}

/* Steps 1-6 of driver initialization (3.1.1) up to FEATURES_OK; returns the status read back. */
static inline uint32_t vd_negotiate(struct vdrv *d, uint64_t features)
{
    vd_wr32(d, VR_STATUS, 0);
    vd_wr32(d, VR_STATUS, VS_ACK);
    vd_wr32(d, VR_STATUS, VS_ACK | VS_DRIVER);
    vd_wr32(d, VR_DRV_FEATURES_SEL, 0);
    vd_wr32(d, VR_DRV_FEATURES, (uint32_t)features);
    vd_wr32(d, VR_DRV_FEATURES_SEL, 1);
    vd_wr32(d, VR_DRV_FEATURES, (uint32_t)(features >> 32));
    vd_wr32(d, VR_STATUS, VS_ACK | VS_DRIVER | VS_FEATURES_OK);
    return vd_rd32(d, VR_STATUS);
}

static inline void vd_queue_setup(struct vdrv *d, unsigned q, uint16_t num)
{
    struct vd_queue *v = &d->q[q];
    memset(v, 0, sizeof(*v));
    v->num = num;
    v->desc = vd_alloc(d, 16ull * num, 16);
    v->avail = vd_alloc(d, 6 + 2ull * num, 2);
    v->used = vd_alloc(d, 6 + 8ull * num, 4);
    vd_wr32(d, VR_QUEUE_SEL, q);
    vd_wr32(d, VR_QUEUE_NUM, num);
    vd_wr32(d, VR_DESC_LO, (uint32_t)v->desc);
    vd_wr32(d, VR_DESC_HI, (uint32_t)(v->desc >> 32));
    vd_wr32(d, VR_DRIVER_LO, (uint32_t)v->avail);
    vd_wr32(d, VR_DRIVER_HI, (uint32_t)(v->avail >> 32));
    vd_wr32(d, VR_DEVICE_LO, (uint32_t)v->used);
    vd_wr32(d, VR_DEVICE_HI, (uint32_t)(v->used >> 32));
    vd_wr32(d, VR_QUEUE_READY, 1);
}

/* Full initialization with `nq` queues of `num` entries; returns the final status. */
static inline uint32_t vd_setup(struct vdrv *d, uint64_t features, unsigned nq, uint16_t num)
{
    uint32_t st = vd_negotiate(d, features);
    if (!(st & VS_FEATURES_OK))
        return st;
    for (unsigned q = 0; q < nq; q++)
        vd_queue_setup(d, q, num);
    vd_wr32(d, VR_STATUS, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
    return vd_rd32(d, VR_STATUS);
}

static inline struct vd_desc *vd_desc(struct vdrv *d, unsigned q, unsigned i)
{
    return (struct vd_desc *)vd_ptr(d, d->q[q].desc) + i;
}

static inline uint16_t *vd_avail(struct vdrv *d, unsigned q)
{
    return vd_ptr(d, d->q[q].avail); /* flags, idx, ring[num], used_event */
}

static inline uint16_t *vd_used16(struct vdrv *d, unsigned q)
{
    return vd_ptr(d, d->q[q].used); /* flags, idx, {u32 id, u32 len}[num], avail_event */
}

/* Makes descriptor `head` available (no notify). */
static inline void vd_publish(struct vdrv *d, unsigned q, uint16_t head)
{
    struct vd_queue *v = &d->q[q];
    uint16_t *avail = vd_avail(d, q);
    avail[2 + v->avail_idx % v->num] = head;
    v->avail_idx++;
    __atomic_store_n(&avail[1], v->avail_idx, __ATOMIC_RELEASE);
}

/* Builds a chain from the next free descriptors and publishes it; returns the head. */
static inline uint16_t vd_submit(struct vdrv *d, unsigned q, const struct vd_seg *segs,
                                 unsigned n)
{
    struct vd_queue *v = &d->q[q];
    uint16_t head = v->next_desc % v->num;
    for (unsigned i = 0; i < n; i++) {
        uint16_t idx = (uint16_t)((head + i) % v->num);
        struct vd_desc *ds = vd_desc(d, q, idx);
        ds->addr = segs[i].gpa;
        ds->len = segs[i].len;
        ds->flags = (uint16_t)((segs[i].write ? VD_F_WRITE : 0) | (i + 1 < n ? VD_F_NEXT : 0));
        ds->next = (uint16_t)((idx + 1) % v->num);
    }
    v->next_desc = (uint16_t)((head + n) % v->num);
    vd_publish(d, q, head);
    return head;
}

/* The same chain through one indirect descriptor (the table is allocated in guest RAM). */
static inline uint16_t vd_submit_indirect(struct vdrv *d, unsigned q, const struct vd_seg *segs,
                                          unsigned n)
{
    struct vd_queue *v = &d->q[q];
    uint64_t table = vd_alloc(d, 16ull * n, 16);
    struct vd_desc *t = vd_ptr(d, table);
    for (unsigned i = 0; i < n; i++) {
        t[i].addr = segs[i].gpa;
        t[i].len = segs[i].len;
        t[i].flags = (uint16_t)((segs[i].write ? VD_F_WRITE : 0) | (i + 1 < n ? VD_F_NEXT : 0));
        t[i].next = (uint16_t)(i + 1);
    }
    uint16_t head = v->next_desc % v->num;
    struct vd_desc *ds = vd_desc(d, q, head);
    ds->addr = table;
    ds->len = 16 * n;
    ds->flags = VD_F_INDIRECT;
    ds->next = 0;
    v->next_desc = (uint16_t)((head + 1) % v->num);
    vd_publish(d, q, head);
    return head;
}

static inline void vd_kick(struct vdrv *d, unsigned q)
{
    vd_wr32(d, VR_QUEUE_NOTIFY, q);
}

/* Takes the next used entry if there is one. */
static inline bool vd_get_used(struct vdrv *d, unsigned q, uint32_t *id, uint32_t *len)
{
    struct vd_queue *v = &d->q[q];
    uint16_t *used = vd_used16(d, q);
    if (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) == v->last_used)
        return false;
    uint32_t *ring = (uint32_t *)(used + 2);
    unsigned slot = v->last_used % v->num;
    *id = ring[2 * slot];
    *len = ring[2 * slot + 1];
    v->last_used++;
    return true;
}

/* Waits for the next used entry the way a driver sleeps (2.7.10): it asks for an interrupt
 * at that entry (used_event, read by devices with VIRTIO_F_EVENT_IDX; without it interrupts
 * are on unless the test set VIRTQ_AVAIL_F_NO_INTERRUPT), looks again, then sleeps until the
 * next interrupt. */
static inline bool vd_wait_used(struct vdrv *d, unsigned q, uint32_t *id, uint32_t *len)
{
    struct vd_queue *v = &d->q[q];
    struct timespec deadline = vd_deadline();
    unsigned seen = vd_irq_events(d);
    for (;;) {
        if (vd_get_used(d, q, id, len))
            return true;
        __atomic_store_n(&vd_avail(d, q)[2 + v->num], v->last_used, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* used_event before the used index */
        if (vd_get_used(d, q, id, len))
            return true;
        if (!vd_wait_event(d, &seen, &deadline)) {
            fprintf(stderr, "virtio driver: queue %u: no used entry %u after %d s (status %#x)\n",
                    q, (unsigned)v->last_used, VD_DEADLINE_S, (unsigned)vd_rd32(d, VR_STATUS));
            return false;
        }
    }
}

/* Waits until every bit of `bits` is set in the status register (DEVICE_NEEDS_RESET comes
 * with a configuration change interrupt once DRIVER_OK is set, 2.1.2). */
static inline bool vd_wait_status(struct vdrv *d, uint32_t bits)
{
    struct timespec deadline = vd_deadline();
    unsigned seen = vd_irq_events(d);
    while ((vd_rd32(d, VR_STATUS) & bits) != bits) {
        if (!vd_wait_event(d, &seen, &deadline)) {
            fprintf(stderr, "virtio driver: status %#x lacks %#x after %d s\n",
                    (unsigned)vd_rd32(d, VR_STATUS), (unsigned)bits, VD_DEADLINE_S);
            return false;
        }
    }
    return true;
}

/* Acknowledges all interrupt reasons; returns them. */
static inline uint32_t vd_ack(struct vdrv *d)
{
    uint32_t isr = vd_rd32(d, VR_INT_STATUS);
    vd_wr32(d, VR_INT_ACK, isr);
    return isr;
}

#endif
