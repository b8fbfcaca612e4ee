/* The "tap" backend against a real tap interface. The test makes a private network namespace
 * (unshare: as root, or through a user namespace where the kernel allows it), creates the tap
 * there, gives it 10.9.0.1/24, and exchanges ARP and UDP with the host's stack. Where no
 * namespace can be made, only the option and error paths run (and the test says so). */
#include <fcntl.h>
#include <linux/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "net/net.h"
#include "test.h"
#include "test_net_frames.h"

#define TIMEOUT_MS 5000
#define IFNAME "rvtap0"

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

static bool enter_namespace(void)
{
    if (unshare(CLONE_NEWNET) == 0)
        return true;
    return unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
}

/* ifconfig IFNAME 10.9.0.1 netmask 255.255.255.0 up; returns the interface's MAC. */
static bool configure_tap(uint8_t mac[6])
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, IFNAME);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(ip4(10, 9, 0, 1));
    bool ok = s >= 0 && ioctl(s, SIOCSIFADDR, &ifr) == 0;
    sin->sin_addr.s_addr = htonl(0xffffff00);
    ok = ok && ioctl(s, SIOCSIFNETMASK, &ifr) == 0;
    ok = ok && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    ok = ok && ioctl(s, SIOCGIFHWADDR, &ifr) == 0;
    if (ok)
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    if (s >= 0)
        close(s);
    return ok;
}

/* The next frame of `type` (skipping the IPv6 chatter of a fresh interface). */
static bool next_of_type(struct collector *c, uint16_t type, uint8_t *f, size_t *n)
{
    while (collector_next(c, f, n, TIMEOUT_MS)) {
        if (*n >= 14 && eth_type(f) == type)
            return true;
    }
    return false;
}

static bool next_udp_to(struct collector *c, unsigned port, uint8_t *f, size_t *n,
                        const uint8_t **payload, size_t *plen)
{
    while (next_of_type(c, ETH_P_IPV4, f, n)) {
        size_t l4len;
        const uint8_t *u = frame_l4(f, *n, IPPROTO_UDP_, &l4len);
        if (u && l4len >= 8 && get16(u + 2) == port) {
            *payload = u + 8;
            *plen = l4len - 8;
            return true;
        }
    }
    return false;
}

static void test_tap(void)
{
    struct collector c;
    collector_init(&c);
    struct rv_net_client client = {.receive = collector_receive, .opaque = &c};
    struct rv_net *net = NULL;
    int rc = rv_net_open("tap,ifname=" IFNAME, guest_mac, &client, &net);
    if (rc == -EACCES || rc == -EPERM || rc == -ENOENT) {
        /* e.g. /dev/net/tun not open to this user: a clean error is all we can check */
        printf("tap: cannot use tap interfaces here (%s): only error checks ran\n",
               rv_error_get());
        CHECK(strstr(rv_error_get(), "net tap:") != NULL);
        collector_free(&c);
        return;
    }
    if (rc)
        fprintf(stderr, "tap: %s\n", rv_error_get());
    CHECK_EQ(rc, 0);
    if (rc) {
        collector_free(&c);
        return;
    }
    /* A second user of the same interface is refused with a message. */
    struct rv_net *other = NULL;
    CHECK(rv_net_open("tap,ifname=" IFNAME, guest_mac, &client, &other) < 0);
    CHECK(strstr(rv_error_get(), IFNAME) != NULL);

    uint8_t tap_mac[6], f[FRAME_MAX];
    size_t n;
    CHECK(configure_tap(tap_mac));

    /* ARP: the host's stack answers for 10.9.0.1 (and learns our address). */
    n = arp_frame(f, 1, bcast, guest_mac, ip4(10, 9, 0, 2), zero_mac, ip4(10, 9, 0, 1));
    struct iovec iov[2] = {{f, 6}, {f + 6, n - 6}};
    CHECK_EQ(rv_net_send(net, iov, 2), 0);
    CHECK(next_of_type(&c, ETH_P_ARPT, f, &n));
    CHECK_EQ(get16(f + 20), 2);
    CHECK_EQ(get32(f + 28), ip4(10, 9, 0, 1));
    CHECK(!memcmp(f + 22, tap_mac, 6));
    CHECK(!memcmp(f, guest_mac, 6));

    /* UDP from the guest to a socket on the host side. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(ip4(10, 9, 0, 1)),
                            .sin_port = htons(7777)};
    CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    n = udp_frame(f, tap_mac, guest_mac, ip4(10, 9, 0, 2), 1234, ip4(10, 9, 0, 1), 7777,
                  "from guest", 10, false);
    iov[0] = (struct iovec){f, n};
    CHECK_EQ(rv_net_send(net, iov, 1), 0);
    struct pollfd p = {.fd = s, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, TIMEOUT_MS), 1);
    char buf[32] = {0};
    CHECK_EQ(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 10);
    CHECK(!memcmp(buf, "from guest", 10));

    /* UDP from the host to the guest. */
    a.sin_addr.s_addr = htonl(ip4(10, 9, 0, 2));
    a.sin_port = htons(1234);
    CHECK_EQ(sendto(s, "to guest", 8, 0, (struct sockaddr *)&a, sizeof(a)), 8);
    const uint8_t *payload;
    size_t plen;
    CHECK(next_udp_to(&c, 1234, f, &n, &payload, &plen));
    CHECK_EQ(plen, 8);
    CHECK(!memcmp(payload, "to guest", 8));

    /* The guest is out of buffers: the frame waits until rv_net_rx_ready(). */
    pthread_mutex_lock(&c.lock);
    c.refuse = 1;
    pthread_mutex_unlock(&c.lock);
    CHECK_EQ(sendto(s, "second", 6, 0, (struct sockaddr *)&a, sizeof(a)), 6);
    for (int i = 0; i < TIMEOUT_MS; i++) {
        pthread_mutex_lock(&c.lock);
        unsigned refused = c.refused;
        pthread_mutex_unlock(&c.lock);
        if (refused)
            break;
        usleep(1000);
    }
    CHECK_EQ(c.refused, 1);
    rv_net_rx_ready(net);
    CHECK(next_udp_to(&c, 1234, f, &n, &payload, &plen));
    CHECK_EQ(plen, 6);
    CHECK(!memcmp(payload, "second", 6));

    close(s);
    rv_net_close(net);
    collector_free(&c);
}

int main(void)
{
    /* Before any thread exists: a user namespace needs a single-threaded caller. */
    bool ns = enter_namespace();

    struct collector c;
    collector_init(&c);
    struct rv_net_client client = {.receive = collector_receive, .opaque = &c};
    struct rv_net *net = NULL;
    CHECK_EQ(rv_net_open("tap", guest_mac, &client, &net), -EINVAL);
    CHECK_EQ(rv_net_open("tap,ifname=", guest_mac, &client, &net), -EINVAL);
    CHECK_EQ(rv_net_open("tap,ifname=x,mode=y", guest_mac, &client, &net), -EINVAL);
    CHECK_EQ(rv_net_open("tap,ifname=0123456789abcdef", guest_mac, &client, &net), -EINVAL);
    collector_free(&c);

    if (ns)
        test_tap();
    else
        printf("tap: no network namespace here (not root, user namespaces disabled): "
               "only option checks ran\n");
    TEST_MAIN_END();
}
