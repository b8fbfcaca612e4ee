/* libFuzzer target: the switch's lease file parser (vsw_leases_parse, net/vswitch.h). The
 * input is the file's text. Checks: a rejected text leaves the table as it was; an accepted
 * one gives only bound leases inside the pool, with unicast MACs, no address or MAC twice,
 * none longer than a lease time; and dumping the table and parsing the dump gives it back. */
#include <stdlib.h>
#include <string.h>

#include "net/vswitch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S 1000000000ull
#define NOW_NS (50 * S)
#define NOW_S 1700000000

static const uint8_t srv_mac[6] = {0x02, 0x72, 0x76, 0xff, 0xff, 0xfe};

static void check_table(const struct vsw_dhcp *d)
{
    for (unsigned i = 0; i < VSW_DHCP_MAX_LEASES; i++) {
        const struct vsw_dhcp_lease *l = &d->leases[i];
        if (!l->ip)
            continue;
        if (!l->bound || l->ip < d->pool_first || l->ip > d->pool_last || (l->mac[0] & 1) ||
            l->expires_ns <= NOW_NS || l->expires_ns > NOW_NS + VSW_DHCP_LEASE_S * S)
            abort();
        for (unsigned k = 0; k < i; k++)
            if (d->leases[k].ip && (d->leases[k].ip == l->ip ||
                                    !memcmp(d->leases[k].mac, l->mac, 6)))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vsw_dhcp d, copy;
    vsw_dhcp_init(&d, 10u << 24, 24, (10u << 24) + 1, (10u << 24) + 2, srv_mac);
    d.leases[0] = (struct vsw_dhcp_lease){{2, 0, 0, 0, 0, 1}, (10u << 24) + 10, NOW_NS + S, true};
    copy = d;
    int n = vsw_leases_parse(&d, (const char *)data, size, NOW_NS, NOW_S);
    if (n < 0) {
        if (memcmp(&d, &copy, sizeof(d)))
            abort();
        return 0;
    }
    check_table(&d);
    char *text = vsw_leases_dump(&d, NOW_NS, NOW_S);
    if (!text)
        return 0;
    copy = d;
    if (vsw_leases_parse(&d, text, strlen(text), NOW_NS, NOW_S) != n)
        abort();
    for (unsigned i = 0; i < VSW_DHCP_MAX_LEASES; i++)
        if (d.leases[i].ip != copy.leases[i].ip || memcmp(d.leases[i].mac, copy.leases[i].mac, 6))
            abort();
    free(text);
    return 0;
}
