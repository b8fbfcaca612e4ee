/* libFuzzer target: the GDB stub's handling of what a client sends (src/debug/gdb_proto.c,
 * gdb_cmd.c): arbitrary bytes go through the packet framer, and every complete packet is
 * answered by the command handler against a real, halted VM (a 4-instruction bare-metal
 * program; its harts never start). Packets that would let harts run or end the VM (c, s,
 * vCont, k, vKill) are skipped: with no hart threads they would wait forever. Replies go
 * nowhere (no connection); the point is memory safety and no crash on any input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug/gdb_target.h"
#include "debug/gdbstub_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rv_vm *fuzz_vm(void)
{
    static struct rv_vm *vm;
    if (vm)
        return vm;
    char path[] = "/tmp/fuzz_gdb_XXXXXX";
    int fd = mkstemp(path);
    static const uint32_t prog[] = {0x00000013, 0x00000013, 0x0000006f, 0x00000013};
    if (fd < 0 || write(fd, prog, sizeof(prog)) != (ssize_t)sizeof(prog))
        abort();
    close(fd);
    struct rv_vm_config cfg = {.bios = path, .console_in_fd = -1, .console_out_fd = -1,
                               .accel = RV_ACCEL_INTERP};
    if (rv_vm_create(&cfg, &vm) != 0)
        abort();
    unlink(path);
    return vm;
}

static bool runs_harts(const char *p)
{
    return p[0] == 'c' || p[0] == 's' || p[0] == 'C' || p[0] == 'S' || p[0] == 'k' ||
           strncmp(p, "vCont;", 6) == 0 || strncmp(p, "vKill", 5) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rv_gdbstub s; /* large; reset per input below */
    memset(&s, 0, sizeof(s));
    s.vm = fuzz_vm();
    s.conn_fd = s.listen_fd = -1;
    s.xml_len = gdb_target_xml(s.xml, sizeof(s.xml));
    struct rv_debug_points *d = rv_vm_debug_points(s.vm);
    d->nbp = d->nwp = 0;
    for (size_t i = 0; i < size; i++) {
        if (gdb_rx_byte(&s.rx, data[i]) != GDB_RX_PACKET || runs_harts(s.rx.buf) ||
            s.rx.buf[0] == 'D')
            continue;
        gdb_handle_packet(&s, s.rx.buf, s.rx.len);
    }
    return 0;
}
