/* Inside net/: what a backend implements, and helpers shared by the backends. Not for use
 * outside src/net (devices see net.h only). */
#ifndef RV_NET_NET_INTERNAL_H
#define RV_NET_NET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "net/net.h"

/* Largest frame a backend accepts from the guest or hands to it: a 64 KiB IP packet plus an
 * Ethernet header (with a VLAN tag). */
#define RV_NET_MAX_FRAME (65535 + 18)
/* Smallest: an Ethernet header. */
#define RV_NET_MIN_FRAME 14

struct rv_net_backend_ops {
    const char *name;
    int (*send)(struct rv_net *n, const struct iovec *iov, int iovcnt);
    void (*rx_ready)(struct rv_net *n);
    void (*close)(struct rv_net *n); /* stops the backend's thread and frees it */
};

/* Every backend's instance begins with this. */
struct rv_net {
    const struct rv_net_backend_ops *ops;
    struct rv_net_client client;
    uint8_t mac[6];
};

/* --- option lists: "key=value,key=value" --- */

/* Takes the next comma-separated item of *p into key and value (value "" if the item has no
 * '='), and advances *p. Returns 1 for an item, 0 at the end, or -EINVAL (with a message)
 * when an item does not fit the buffers. */
int rv_net_opt_next(const char **p, char *key, size_t key_size, char *val, size_t val_size);
/* Parses "on"/"off" (also yes/no, true/false, 1/0). Returns 0, or -EINVAL. */
int rv_net_opt_bool(const char *backend, const char *key, const char *val, bool *out);

/* --- a bounded FIFO of frames, each a private copy --- */

struct rv_frame {
    size_t len;
    uint8_t data[]; /* len bytes */
};

struct rv_frameq {
    struct rv_frame **slots;
    unsigned cap, head, count;
};

int rv_frameq_init(struct rv_frameq *q, unsigned cap);
void rv_frameq_free(struct rv_frameq *q);
/* Copies the gathered frame in. Returns 0, -ENOBUFS when full, or -ENOMEM. */
int rv_frameq_push_iov(struct rv_frameq *q, const struct iovec *iov, int iovcnt, size_t len);
int rv_frameq_push(struct rv_frameq *q, const uint8_t *frame, size_t len);
/* The oldest frame, or NULL; rv_frameq_pop() removes it (the caller then frees it). */
struct rv_frame *rv_frameq_peek(const struct rv_frameq *q);
struct rv_frame *rv_frameq_pop(struct rv_frameq *q);
static inline bool rv_frameq_full(const struct rv_frameq *q)
{
    return q->count == q->cap;
}

/* Total length of an iovec array, or -EINVAL if it is negative-sized or overflows. */
long rv_net_iov_len(const struct iovec *iov, int iovcnt);

/* --- the backends --- */
int rv_net_user_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                     struct rv_net **out);
int rv_net_tap_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                    struct rv_net **out);
int rv_net_switch_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                       struct rv_net **out);

#endif
