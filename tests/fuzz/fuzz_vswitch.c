/* libFuzzer target: the virtual switch's parsers of guest frames (net/vswitch.h) and of the
 * port protocol (net/vsw_proto.h). The input is a sequence of records
 * [port byte][length le16][frame bytes]; each frame goes through vsw_ingress on a switch with
 * three VM ports and an uplink, and, when the switch keeps it for itself, through the DHCP
 * server. Checks: a frame is never sent back to its own port or to an unused port, a VM
 * port's accepted frames carry its MAC, every DHCP reply is a well-formed IPv4/UDP frame whose
 * BOOTP payload parses, and the hello/welcome decoders accept only what they should. */
#include <stdlib.h>
#include <string.h>

#include "net/vsw_proto.h"
#include "net/vswitch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t macs[3][6] = {{0x02, 0x72, 0x76, 0, 0, 1}, {0x02, 0x72, 0x76, 0, 0, 2},
                                   {0x02, 0x72, 0x76, 0, 0, 3}};
static const uint8_t srv_mac[6] = {0x02, 0x72, 0x76, 0xff, 0xff, 0xfe};

static void check_reply(const uint8_t *r, size_t n, size_t cap)
{
    struct vsw_udp u;
    struct vsw_dhcp_msg m;
    if (n > cap || !vsw_parse_udp(r, n, &u) || u.src_port != 67 || u.dst_port != 68 ||
        !vsw_dhcp_parse(u.payload, u.len, &m) || m.op != 2 || memcmp(r + 6, srv_mac, 6))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vsw s;
    static struct vsw_dhcp d;
    static uint8_t frame[70000], reply[2048];
    struct vsw_limits l = {.pps = 1000, .bps = 1000000, .flood_pps = 100};
    vsw_init(&s, &l);
    vsw_dhcp_init(&d, 10u << 24, 24, (10u << 24) + 1, (10u << 24) + 2, srv_mac);
    for (int i = 0; i < 3; i++)
        vsw_port_add(&s, false, macs[i], 0);
    vsw_port_add(&s, true, NULL, 0);
    uint64_t now = 0;
    while (size >= 3) {
        unsigned port = data[0] % 5; /* 4: an unused port */
        size_t len = (size_t)(data[1] | data[2] << 8);
        data += 3, size -= 3;
        if (len > size)
            len = size;
        memcpy(frame, data, len);
        /* Often give the frame a port's own source MAC, so that it gets past the filter. */
        if (port < 3 && len >= 12 && (data[0] & 1))
            memcpy(frame + 6, macs[port], 6);
        data += len, size -= len;
        now += 1000000;
        vsw_portmask out = 0;
        uint64_t retry = 0;
        enum vsw_verdict v = vsw_ingress(&s, port, frame, len, now, &out, &retry);
        if (v == VSW_FORWARD && (!out || (out >> port & 1) || (out >> 4)))
            abort();
        if ((v == VSW_FORWARD || v == VSW_LOCAL) && port < 3 && memcmp(frame + 6, macs[port], 6))
            abort();
        if (v == VSW_THROTTLE && !retry)
            abort();
        if (v == VSW_LOCAL) {
            size_t n = vsw_dhcp_handle(&d, frame, len, now, reply, sizeof(reply));
            if (n)
                check_reply(reply, n, sizeof(reply));
        }
        struct vsw_dhcp_msg m;
        vsw_dhcp_parse(frame, len, &m);
        struct vsw_hello h;
        struct vsw_welcome w;
        if (vsw_hello_decode(frame, len, &h) == 0 && (len != VSW_HELLO_LEN || (h.flags & ~1)))
            abort();
        if (vsw_welcome_decode(frame, len, &w) == 0 && strlen(w.msg) > VSW_MSG_MAX)
            abort();
    }
    return 0;
}
