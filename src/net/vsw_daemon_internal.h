/* Inside the switch process: state shared by the event loop (vsw_daemon.c), the uplink
 * (vsw_uplink.c) and the control socket (vsw_control.c). One thread runs all of it, except
 * the uplink's backend threads, which only talk to the loop through a socketpair. */
#ifndef RV_NET_VSW_DAEMON_INTERNAL_H
#define RV_NET_VSW_DAEMON_INTERNAL_H

#include <pthread.h>

#include "net/net_internal.h"
#include "net/vsw_daemon.h"

#define VSWD_PENDING 16      /* connections that have not said hello yet */
#define VSWD_CLIENTS 8       /* control connections */
#define VSWD_OUTQ 256        /* frames queued per port while its socket is full */
#define VSWD_BURST 32        /* frames read from one port per loop round (fairness) */
#define VSWD_LINE_MAX 4096
#define VSWD_HELLO_NS (5ull * 1000000000) /* a connection must say hello within this */

/* epoll tags: kind << 32 | index */
enum { TAG_LISTEN = 1, TAG_CTL_LISTEN, TAG_PENDING, TAG_PORT, TAG_CLIENT };

struct vswd_port {
    int fd;                  /* -1: free */
    bool uplink;
    uint32_t pid;            /* the VM process (from its hello) */
    struct rv_frameq outq;
    bool out_armed;          /* EPOLLOUT is on */
    bool paused;             /* over its rate: not read until resume_ns */
    uint64_t resume_ns;
    size_t held_len;         /* the frame that hit the limit, handled first on resume */
    uint8_t held[VSW_MAX_FRAME];
};

struct vswd_client {
    int fd;                  /* -1: free */
    char *buf;               /* VSWD_LINE_MAX */
    size_t len;
    bool discarding;
    int capture_fd;          /* -1: not capturing */
    uint64_t capture_left;   /* frames still to capture; UINT64_MAX: until closed */
    uint64_t captured;
};

struct vswd {
    const struct vsw_config *cfg;
    volatile sig_atomic_t *stop;
    bool shutdown;           /* a "shutdown" request */
    uint64_t start_ns;
    int epfd, listen_fd, ctl_fd;
    char ports_path[108], ctl_path[108], leases_path[108];
    struct vsw sw;
    struct vsw_dhcp dhcp;
    uint8_t server_mac[6];
    uint16_t mac_seq;
    struct vswd_port ports[VSW_MAX_PORTS];
    int pending[VSWD_PENDING];
    uint64_t pending_since[VSWD_PENDING]; /* accepted at; dropped after VSWD_HELLO_NS */
    uint64_t last_check_ns;  /* housekeeping: stale joins, the state directory */
    struct vswd_client clients[VSWD_CLIENTS];
    unsigned capturing;      /* clients with a capture */
    uint8_t *buf, *reply;    /* RV_NET_MAX_FRAME each */
    /* uplink (vsw_uplink.c) */
    struct rv_net *up;
    int up_peer;             /* the backend side of the uplink's socketpair */
    pthread_t up_thread;
    bool up_thread_started;
    int up_port;             /* -1: none */
};

uint64_t vswd_now(void);
int vswd_epoll(struct vswd *d, int op, int fd, uint32_t events, uint32_t kind, uint32_t index);
/* Sends a frame to a port (queued if its socket is full; dropped and counted if the queue is
 * full too), and captures it when it comes from the switch itself (DHCP). */
void vswd_output(struct vswd *d, unsigned port, const uint8_t *frame, size_t len);

/* Adds the uplink's end of its socketpair as a port (any source MAC, learned). */
int vswd_port_add_uplink(struct vswd *d, int fd);

/* uplink */
int vswd_uplink_open(struct vswd *d);
void vswd_uplink_close(struct vswd *d);

/* control socket and capture */
void vswd_client_accept(struct vswd *d);
void vswd_client_event(struct vswd *d, unsigned i, uint32_t events);
void vswd_clients_close(struct vswd *d);
void vswd_capture(struct vswd *d, const uint8_t *frame, size_t len);

#endif
