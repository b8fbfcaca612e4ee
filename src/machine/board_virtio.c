/* The virt board's virtio-mmio slots (QEMU virt: 8 slots of 0x1000 bytes at 0x10001000, PLIC
 * sources 1..8): disks first, then network interfaces, rng, balloon, console. The power
 * button (virtio-input) has a window of its own after them, at 0x10009000 with PLIC source 9,
 * so that it takes no slot and has the same address whatever else is configured. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/token_bucket.h"
#include "dev/plic.h"
#include "dev/virtio_balloon.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_console.h"
#include "dev/virtio_input.h"
#include "dev/virtio_net.h"
#include "dev/virtio_rng.h"
#include "machine/vm_internal.h"

#define VIRTIO_SLOTS 8
#define VIRTIO_SLOT_SIZE 0x1000ull
#define VIRTIO_FIRST_IRQ 1

/* Splits ",mac=xx:xx:xx:xx:xx:xx" and ",rate=BYTES" out of a --net spec (the rest goes to the
 * backend). The switch backend keeps the MAC: the switch assigns it, the one asked for or its
 * own choice. */
static int take_mac(const char *spec, char *rest, size_t rest_size, uint8_t mac[6], unsigned index,
                    uint64_t *rate)
{
    *rate = 0;
    /* QEMU's default prefix 52:54:00 (locally administered), then 12:34:56 + index */
    const uint8_t def[6] = {0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index)};
    memcpy(mac, def, 6);
    if (strlen(spec) >= rest_size)
        return rv_error_set(-EINVAL, "--net: specification too long");
    rest[0] = '\0';
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 4 && strncmp(p, "mac=", 4) == 0 && strncmp(spec, "switch:", 7) != 0) {
            unsigned b[6];
            char tail;
            char buf[32];
            if (len - 4 >= sizeof(buf))
                return rv_error_set(-EINVAL, "--net: bad mac address");
            memcpy(buf, p + 4, len - 4);
            buf[len - 4] = '\0';
            if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                       &b[5], &tail) != 6 || (b[0] & 1))
                return rv_error_set(-EINVAL, "--net: bad mac address '%s' (need a unicast "
                                             "xx:xx:xx:xx:xx:xx)", buf);
            for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)b[i];
        } else if (len > 5 && strncmp(p, "rate=", 5) == 0) {
            char buf[32];
            if (len - 5 >= sizeof(buf))
                return rv_error_set(-EINVAL, "--net: bad rate");
            memcpy(buf, p + 5, len - 5);
            buf[len - 5] = '\0';
            if (rv_tb_parse_rate(buf, true, rate))
                return rv_error_set(-EINVAL, "--net: rate=%s: expected bytes per second, "
                                             "1..%llu (K, M, G suffixes)", buf,
                                    (unsigned long long)RV_TB_MAX);
        } else {
            if (rest[0])
                strcat(rest, ",");
            strncat(rest, p, len);
        }
        p = end ? end + 1 : p + len;
    }
    return 0;
}

int board_virtio(struct rv_vm *vm, struct rv_fdt *f)
{
    unsigned needed = vm->cfg.ndisks + vm->cfg.nnics + vm->cfg.rng + vm->cfg.balloon +
                      vm->cfg.virtio_console;
    if (needed > VIRTIO_SLOTS)
        return rv_error_set(-ENOSPC, "%u virtio devices asked for; the board has %d slots",
                            needed, VIRTIO_SLOTS);
    /* fdt_add_subnode prepends: create in reverse slot order so that the tree lists slot 0
     * first, which Linux probes first (vda is the first --disk); the power button last. */
    int rc = 0;
    if (!vm->cfg.no_power_button) {
        struct rv_irq irq;
        rv_plic_irq(vm->plic, VIRT_POWER_BUTTON_IRQ, &irq);
        rc = rv_virtio_input_create(&vm->iomap, f, VIRT_POWER_BUTTON_BASE, &irq, &vm->dev_lock,
                                    &vm->bus, &vm->power_button);
    }
    for (int s = (int)needed - 1; s >= 0 && !rc; s--) {
        uint64_t base = VIRT_VIRTIO_BASE + VIRTIO_SLOT_SIZE * (uint64_t)s;
        struct rv_irq irq;
        rv_plic_irq(vm->plic, VIRTIO_FIRST_IRQ + (unsigned)s, &irq);
        unsigned i = (unsigned)s;
        if (i < vm->cfg.ndisks) {
            struct rv_virtio_blk *b = NULL;
            rc = rv_virtio_blk_create(&vm->iomap, f, base, &irq, &vm->dev_lock, &vm->bus,
                                      vm->cfg.disks[i], &b);
            vm->blks[i] = b;
            vm->disk_specs[i] = rc ? NULL : strdup(vm->cfg.disks[i]);
            if (!rc && !vm->disk_specs[i])
                rc = rv_error_set(-ENOMEM, "out of memory");
            if (rc)
                rv_error_prefix(rc, "--disk %s: ", vm->cfg.disks[i]);
            continue;
        }
        i -= vm->cfg.ndisks;
        if (i < vm->cfg.nnics) {
            char rest[512];
            uint8_t mac[6];
            uint64_t rate;
            rc = take_mac(vm->cfg.nics[i], rest, sizeof(rest), mac, i, &rate);
            struct rv_virtio_net *n = NULL;
            if (!rc)
                rc = rv_virtio_net_create(&vm->iomap, f, base, &irq, &vm->dev_lock, &vm->bus,
                                          rest, mac, &n);
            if (!rc)
                rv_virtio_net_set_rate(n, rate);
            vm->nets[i] = n;
            if (rc)
                rv_error_prefix(rc, "--net %s: ", vm->cfg.nics[i]);
            continue;
        }
        i -= vm->cfg.nnics;
        if (vm->cfg.rng && i == 0) {
            struct rv_virtio_rng *r;
            rc = rv_virtio_rng_create(&vm->iomap, f, base, &irq, &vm->dev_lock, &vm->bus, &r);
            continue;
        }
        i -= vm->cfg.rng;
        if (vm->cfg.balloon && i == 0) {
            rc = rv_virtio_balloon_create(&vm->iomap, f, base, &irq, &vm->dev_lock, &vm->bus,
                                          &vm->balloon);
            continue;
        }
        rc = rv_virtio_console_create(&vm->iomap, f, base, &irq, &vm->dev_lock, &vm->bus,
                                      &vm->console, &vm->vconsole);
    }
    return rc;
}
