/* libFuzzer target: the state stream reader and every record parser behind it (stream.c,
 * ram.c, vm_state.c, cpu/hart_state.c, each device's load), the code that reads snapshot files
 * and migration streams. Inputs are state streams; before loading, the target recomputes the
 * CRCs (except for one input in eight), so that mutations reach the parsers instead of failing
 * the checksum. The configuration is pointed at a small firmware file of the target's own, with
 * 16 MiB of RAM and no disks or NICs (paths in the input must not reach the host's files).
 * LLVMFuzzerInitialize writes a real snapshot into the corpus directory as the seed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/error.h"
#include "machine/vm_internal.h"
#include "rvisor/state.h"
#include "state/stream.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t program[] = {0x00100297, 0x00130313, 0x0062b023, 0xff9ff06f};
static char bios[] = "/tmp/rvisor-fuzz-state-XXXXXX";

static void adjust(void *opaque, struct rv_vm_config *cfg)
{
    (void)opaque;
    cfg->bios = bios;
    cfg->kernel = cfg->initrd = cfg->dtb = NULL;
    cfg->ndisks = cfg->nnics = 0;
    cfg->ram_size = 16ull << 20;
    if (cfg->nharts > 2)
        cfg->nharts = 2;
    cfg->accel = RV_ACCEL_INTERP;
}

static void seed(const char *corpus)
{
    struct rv_vm_config cfg = {.bios = bios, .ram_size = 16ull << 20, .console_in_fd = -1,
                               .console_out_fd = -1, .accel = RV_ACCEL_INTERP, .rng = true,
                               .balloon = true, .virtio_console = true};
    struct rv_vm *vm;
    if (rv_vm_create(&cfg, &vm))
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/seed-snapshot", corpus);
    rv_vm_pause(vm); /* not started: paused at once */
    struct rv_snapshot_opts o = {.path = path};
    if (rv_vm_snapshot(vm, &o, NULL))
        fprintf(stderr, "fuzz_state: no seed: %s\n", rv_error_get());
    rv_vm_destroy(vm);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd = mkstemp(bios);
    if (fd < 0 || write(fd, program, sizeof(program)) != (ssize_t)sizeof(program))
        abort();
    close(fd);
    for (int i = 1; i < *argc; i++)
        if ((*argv)[i][0] != '-') {
            seed((*argv)[i]); /* the first corpus directory */
            break;
        }
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* little-endian host */
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void fix_crcs(uint8_t *b, size_t len)
{
    if (len < RV_STREAM_HEADER_SIZE)
        return;
    put32(b + 28, rv_crc32(b, 28));
    size_t pos = RV_STREAM_HEADER_SIZE;
    while (len - pos >= RV_STREAM_RECORD_SIZE) {
        uint8_t *h = b + pos;
        uint64_t plen = get64(h + 8);
        pos += RV_STREAM_RECORD_SIZE;
        if (plen <= len - pos)
            put32(h + 16, rv_crc32(b + pos, (size_t)plen));
        put32(h + 20, rv_crc32(h, 20));
        if (plen > len - pos)
            break;
        pos += (size_t)plen;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    if (size == 0 || data[size - 1] % 8 != 0)
        fix_crcs(b, size);
    struct rv_stream s;
    rv_stream_init_mem(&s, b, size, "fuzz");
    rv_error_clear();
    struct rv_restore_opts ro = {.console_in_fd = -1, .console_out_fd = -1};
    struct vm_loader_opts lo = {.ro = &ro, .adjust = adjust};
    struct rv_vm *vm = NULL;
    if (rv_stream_read_header(&s) == 0 && vm_state_load(&s, &lo, &vm) == 0) {
        if (!vm)
            abort();
        rv_vm_destroy(vm);
    } else if (!*rv_error_get()) {
        abort(); /* every rejection says why */
    }
    free(b);
    return 0;
}
