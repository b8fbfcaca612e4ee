/* Shared by gdbstub.c (connection, run control) and gdb_cmd.c (packets). */
#ifndef RV_DEBUG_GDBSTUB_INTERNAL_H
#define RV_DEBUG_GDBSTUB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "debug/gdb_proto.h"
#include "debug/gdbstub.h"
#include "machine/vm_debug.h"

struct rv_gdbstub {
    struct rv_vm *vm;
    int listen_fd, conn_fd;
    unsigned port;
    int wake[2];            /* written by harts (a stop) and rv_gdbstub_stop() (quit) */
    pthread_t thread;
    bool thread_started;
    _Atomic bool quit;
    int exit_status;

    /* per connection */
    bool no_ack;            /* QStartNoAckMode accepted */
    bool running;           /* the harts run: the debugger waits for a stop reply */
    bool phys;              /* 'monitor phys on': m/M/X take physical addresses */
    unsigned g_hart, c_hart; /* Hg and Hc selections */
    struct rv_vm_stop stop; /* the last stop */
    int stop_signal;        /* its signal number (5 SIGTRAP, 2 SIGINT) */
    struct gdb_rx rx;
    char out[2 * GDB_PACKET_MAX + 8]; /* the last packet sent, framed (resent after '-') */
    size_t out_len;
    char reply[GDB_PACKET_MAX + 1];
    char xml[16384];
    size_t xml_len;
};

/* gdbstub.c */
void gdb_send(struct rv_gdbstub *s, const char *data, size_t len);
void gdb_send_str(struct rv_gdbstub *s, const char *str);
/* Sends the stop reply for s->stop. */
void gdb_send_stop(struct rv_gdbstub *s);
/* Lets the harts in `run` run and those in `step` execute one instruction (bit i: hart i);
 * the reply comes with the stop. */
void gdb_resume(struct rv_gdbstub *s, uint32_t run, uint32_t step);

/* gdb_cmd.c: answers one packet (NUL-terminated, len bytes). */
void gdb_handle_packet(struct rv_gdbstub *s, char *pkt, size_t len);

#endif
