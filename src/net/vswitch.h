/* The virtual switch of `rvisor net` (docs/networks.md): the pure logic, without I/O, so that it
 * can be tested and fuzzed alone. The switch process (vsw_daemon.c) owns the sockets and calls
 * into this.
 *
 *   vsw_ingress()   one frame that arrived on a port: checks (size, source MAC, rate limits),
 *                   learning, and the forwarding decision (a set of output ports)
 *   vsw_dhcp_*      the network's DHCP server (RFC 2131/2132): parsing, leases, replies
 *
 * Ports are numbered 0..VSW_MAX_PORTS-1. A VM port has an assigned MAC (the only source MAC it
 * may use); an uplink port (libslirp NAT, tap) may use any. */
#ifndef RV_NET_VSWITCH_H
#define RV_NET_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSW_MAX_PORTS 64
#define VSW_FDB_SIZE 256
#define VSW_FDB_AGE_NS (300ull * 1000000000) /* learned entries forgotten after 5 minutes */
/* Largest frame: 1500 bytes of payload, an Ethernet header and an 802.1Q tag (no FCS). */
#define VSW_MAX_FRAME 1518
#define VSW_MIN_FRAME 14

typedef uint64_t vsw_portmask; /* bit p: port p */

/* Why a frame was dropped; counted per port (the ingress port, except queue_full: the egress
 * port whose queue was full). */
enum vsw_drop {
    VSW_DROP_MALFORMED,   /* shorter than an Ethernet header, or a multicast/zero source MAC */
    VSW_DROP_OVERSIZE,    /* longer than VSW_MAX_FRAME */
    VSW_DROP_SPOOFED,     /* source MAC is not the port's assigned MAC */
    VSW_DROP_STORM,       /* broadcast/multicast/unknown unicast over the port's flood limit */
    VSW_DROP_DHCP_SERVER, /* a DHCP server answer from a VM (only the switch serves DHCP) */
    VSW_DROP_QUEUE_FULL,  /* the destination port's bounded queue was full */
    VSW_DROP_NO_ROUTE,    /* nowhere to go (destination on the same port, or no other port) */
    VSW_DROP_REASONS
};
extern const char *const vsw_drop_names[VSW_DROP_REASONS];

struct vsw_counters {
    uint64_t in_frames, in_bytes;   /* accepted from the port (the VM sent) */
    uint64_t out_frames, out_bytes; /* delivered to the port (the VM received) */
    uint64_t drops[VSW_DROP_REASONS];
    uint64_t throttled;             /* times the port's reading paused for its rate limit */
};

/* A token bucket: `rate` tokens per second, at most `burst`, in units of 1/1024 token. */
struct vsw_bucket {
    uint64_t rate, burst, tokens, last_ns;
};

struct vsw_limits {
    uint64_t pps;       /* frames per second a port may send; 0: unlimited */
    uint64_t bps;       /* bytes per second; 0: unlimited */
    uint64_t flood_pps; /* broadcast, multicast and unknown-unicast frames per second */
};

struct vsw_port {
    bool used;
    bool uplink;               /* any source MAC; learned */
    uint8_t mac[6];            /* the assigned MAC of a VM port */
    struct vsw_bucket pps, bps, flood;
    struct vsw_counters c;
};

struct vsw_fdb_entry {
    uint8_t mac[6];
    int16_t port;              /* -1: free */
    bool fixed;                /* a VM port's assigned MAC: never relearned or aged */
    uint64_t seen_ns;
};

struct vsw {
    struct vsw_port ports[VSW_MAX_PORTS];
    struct vsw_fdb_entry fdb[VSW_FDB_SIZE];
    struct vsw_limits limits;
};

enum vsw_verdict {
    VSW_FORWARD,  /* to the ports in *out (never the ingress port) */
    VSW_LOCAL,    /* for the switch itself: a DHCP request */
    VSW_DROP,     /* counted on the ingress port */
    VSW_THROTTLE, /* over the port's rate: not taken; retry after *retry_ns (nothing counted) */
};

void vsw_init(struct vsw *s, const struct vsw_limits *limits);
/* Adds a port. A VM port (uplink false) gets `mac` as its only source MAC. Returns the port
 * number, -ENOSPC when all are in use, -EADDRINUSE when another port has that MAC. */
int vsw_port_add(struct vsw *s, bool uplink, const uint8_t mac[6], uint64_t now_ns);
void vsw_port_remove(struct vsw *s, unsigned port);
/* True when some port in use has this assigned or learned MAC. */
bool vsw_mac_in_use(const struct vsw *s, const uint8_t mac[6]);

/* Decides what happens to a frame that arrived on `port`. Counts it (accepted or the drop
 * reason) on the port; learning happens here. Output ports are counted by vsw_count_out(). */
enum vsw_verdict vsw_ingress(struct vsw *s, unsigned port, const uint8_t *frame, size_t len,
                             uint64_t now_ns, vsw_portmask *out, uint64_t *retry_ns);
void vsw_count_out(struct vsw *s, unsigned port, size_t len);
void vsw_count_drop(struct vsw *s, unsigned port, enum vsw_drop why);

/* Token buckets (exposed for tests). */
void vsw_bucket_init(struct vsw_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Takes n tokens if there are; otherwise returns false and the nanoseconds until there are. */
bool vsw_bucket_take(struct vsw_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns);

/* --- frames --- */

/* The UDP payload of an IPv4/UDP frame (no 802.1Q tag, no IP fragment), with its ports and
 * addresses; false when the frame is anything else or malformed. */
struct vsw_udp {
    uint32_t src_ip, dst_ip;   /* host byte order */
    uint16_t src_port, dst_port;
    const uint8_t *payload;
    size_t len;
};
bool vsw_parse_udp(const uint8_t *frame, size_t len, struct vsw_udp *u);
/* Writes an Ethernet + IPv4 + UDP frame around `payload` (checksums filled). Returns its
 * length, or 0 if it does not fit `cap`. */
size_t vsw_build_udp(uint8_t *frame, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                     uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                     const uint8_t *payload, size_t len);

/* --- DHCP server (RFC 2131; options RFC 2132) --- */

#define VSW_DHCP_MAX_LEASES 256
#define VSW_DHCP_LEASE_S 3600

enum { DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE,
       DHCPINFORM };

/* A parsed BOOTP/DHCP message (either direction). */
struct vsw_dhcp_msg {
    uint8_t op, type;           /* op 1 request, 2 reply; type: option 53 (0: BOOTP) */
    uint32_t xid;
    uint16_t flags;
    uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host byte order */
    uint8_t chaddr[6];
    uint32_t requested_ip, server_id;        /* options 50 and 54; 0 when absent */
    uint32_t subnet_mask, router, dns, lease_s; /* options 1, 3, 6 (first), 51 */
};
/* Parses a BOOTP message (the UDP payload). Returns false if it is malformed. */
bool vsw_dhcp_parse(const uint8_t *p, size_t len, struct vsw_dhcp_msg *m);

struct vsw_dhcp_lease {
    uint8_t mac[6];
    uint32_t ip;                /* 0: free slot */
    uint64_t expires_ns;        /* 0: offered, not yet acknowledged */
    bool bound;
};

struct vsw_dhcp {
    uint32_t net, mask;         /* the subnet (host byte order) */
    uint32_t server_ip;         /* the DHCP server's address (network + 1) */
    uint32_t router, dns;       /* offered when nonzero (uplinked networks) */
    uint32_t pool_first, pool_last;
    uint8_t server_mac[6];
    bool changed;               /* a bound lease was made, renewed or freed (to be saved) */
    struct vsw_dhcp_lease leases[VSW_DHCP_MAX_LEASES];
};

/* Sets up the server for net/prefix (prefix 8..30). Returns 0 or -EINVAL. */
int vsw_dhcp_init(struct vsw_dhcp *d, uint32_t net, unsigned prefix, uint32_t router,
                  uint32_t dns, const uint8_t server_mac[6]);
/* Handles a client frame (an IPv4/UDP frame to port 67). Returns the length of the reply frame
 * written to `reply` (for the port the request came from), or 0 when there is none. */
size_t vsw_dhcp_handle(struct vsw_dhcp *d, const uint8_t *frame, size_t len, uint64_t now_ns,
                       uint8_t *reply, size_t cap);
/* The lease of a MAC, or NULL. */
const struct vsw_dhcp_lease *vsw_dhcp_lease_of(const struct vsw_dhcp *d, const uint8_t mac[6]);

/* The lease table as a file (vsw_leases.c; the format is in docs/networks.md). now_ns is the
 * monotonic clock of the lease times, now_s the wall clock (seconds since the epoch). */
#define VSW_LEASES_FILE_MAX 65536
/* The bound, unexpired leases as JSON text (malloc'd; NULL without memory). */
char *vsw_leases_dump(const struct vsw_dhcp *d, uint64_t now_ns, int64_t now_s);
/* Replaces the leases with those of the text. Returns how many are still valid, or -EINVAL
 * with a message (and the table unchanged) when the text is not a valid table of this pool. */
int vsw_leases_parse(struct vsw_dhcp *d, const char *text, size_t len, uint64_t now_ns,
                     int64_t now_s);
/* Writes the file atomically (a temporary file renamed over it). 0 or -errno with a message. */
int vsw_leases_save(const struct vsw_dhcp *d, const char *path, uint64_t now_ns, int64_t now_s);
/* Reads the file: the number of leases taken, 0 when there is no file, or -errno with a
 * message (the table unchanged). */
int vsw_leases_load(struct vsw_dhcp *d, const char *path, uint64_t now_ns, int64_t now_s);

/* --- pcap (the classic libpcap file format, LINKTYPE_ETHERNET) --- */
#define VSW_PCAP_HEADER_LEN 24
#define VSW_PCAP_RECORD_LEN 16
void vsw_pcap_header(uint8_t out[VSW_PCAP_HEADER_LEN]);
void vsw_pcap_record(uint8_t out[VSW_PCAP_RECORD_LEN], uint64_t realtime_ns, size_t len);

#endif
