/* The VM-to-switch channel candidates, measured on the host alone (docs/networks.md, "The
 * channel"): two processes exchange Ethernet-sized frames over
 *   seqpacket  a unix SOCK_SEQPACKET socketpair (what rvisor uses)
 *   dgram      a unix SOCK_DGRAM socketpair
 *   shm        a shared-memory single-producer ring per direction, with an eventfd to wake
 *              a consumer that went to sleep (the usual vhost-user/netmap style)
 * Prints one-way throughput (1514-byte frames, one second) and ping-pong round trips (64-byte
 * frames). Never part of the tests. Usage: vnet_chan [SECONDS]  (build: make vnet_chan in
 * the build's bench directory) */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 256
#define SLOT_SIZE 2048
#define BIG 1514
#define SMALL 64

struct ring {
    _Atomic uint32_t head, tail; /* producer writes head, consumer tail */
    _Atomic int sleeping;        /* the consumer waits on efd */
    int efd;
    uint32_t len[SLOTS];
    uint8_t data[SLOTS][SLOT_SIZE];
};

struct chan {
    int kind;                    /* 0 seqpacket, 1 dgram, 2 shm */
    int fd[2];
    struct ring *r[2];           /* r[0]: side 0 -> side 1 */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ring_put(struct ring *r, const uint8_t *p, uint32_t len)
{
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    while (h - atomic_load_explicit(&r->tail, memory_order_acquire) == SLOTS)
        ; /* full: the consumer is draining (a real ring would sleep here too) */
    memcpy(r->data[h % SLOTS], p, len);
    r->len[h % SLOTS] = len;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    if (atomic_load(&r->sleeping)) {
        uint64_t one = 1;
        if (write(r->efd, &one, 8) < 0)
            perror("eventfd");
    }
}

static uint32_t ring_get(struct ring *r, uint8_t *p)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    for (int spin = 0; atomic_load_explicit(&r->head, memory_order_acquire) == t; spin++) {
        if (spin < 200)
            continue;
        atomic_store(&r->sleeping, 1);
        if (atomic_load_explicit(&r->head, memory_order_acquire) == t) {
            uint64_t v;
            if (read(r->efd, &v, 8) < 0)
                perror("eventfd");
        }
        atomic_store(&r->sleeping, 0);
    }
    uint32_t len = r->len[t % SLOTS];
    memcpy(p, r->data[t % SLOTS], len);
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return len;
}

static void chan_send(struct chan *c, int side, const uint8_t *p, uint32_t len)
{
    if (c->kind == 2) {
        ring_put(c->r[side], p, len);
        return;
    }
    while (send(c->fd[side], p, len, 0) < 0)
        if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN) {
            perror("send");
            exit(1);
        }
}

static uint32_t chan_recv(struct chan *c, int side, uint8_t *p)
{
    if (c->kind == 2)
        return ring_get(c->r[!side], p);
    ssize_t n;
    while ((n = recv(c->fd[side], p, SLOT_SIZE, 0)) < 0)
        if (errno != EINTR) {
            perror("recv");
            exit(1);
        }
    return (uint32_t)n;
}

static int chan_open(struct chan *c, int kind)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    if (kind < 2)
        return socketpair(AF_UNIX, kind ? SOCK_DGRAM : SOCK_SEQPACKET, 0, c->fd);
    for (int i = 0; i < 2; i++) {
        c->r[i] = mmap(NULL, sizeof(struct ring), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (c->r[i] == MAP_FAILED)
            return -1;
        c->r[i]->efd = eventfd(0, 0);
    }
    return 0;
}

/* Side 1 runs in a child: it echoes (pingpong) or counts (throughput) until a zero-length
 * frame... a 1-byte frame ends it. */
static void child(struct chan *c, int echo)
{
    uint8_t buf[SLOT_SIZE];
    for (;;) {
        uint32_t n = chan_recv(c, 1, buf);
        if (n == 1)
            break;
        if (echo)
            chan_send(c, 1, buf, n);
    }
    if (!echo)
        chan_send(c, 1, buf, 1); /* "all received" */
    _exit(0);
}

static double run(int kind, int echo, double seconds)
{
    struct chan c;
    uint8_t buf[SLOT_SIZE] = {0};
    if (chan_open(&c, kind)) {
        perror("channel");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0)
        child(&c, echo);
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 64; i++, n++) {
            chan_send(&c, 0, buf, echo ? SMALL : BIG);
            if (echo)
                chan_recv(&c, 0, buf);
        }
        t = now_s();
    } while (t - t0 < seconds);
    chan_send(&c, 0, buf, 1);
    if (!echo)
        chan_recv(&c, 0, buf);
    t = now_s();
    waitpid(pid, NULL, 0);
    return echo ? (t - t0) / (double)n * 1e6 : (double)n * BIG / (t - t0) / 1048576;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    static const char *const names[] = {"unix SOCK_SEQPACKET", "unix SOCK_DGRAM",
                                        "shared-memory ring + eventfd"};
    printf("%-30s %16s %18s\n", "channel (process to process)", "1514 B frames MiB/s",
           "64 B round trip us");
    for (int k = 0; k < 3; k++)
        printf("%-30s %16.0f %18.1f\n", names[k], run(k, 0, seconds), run(k, 1, seconds));
    return 0;
}
