/* GDB remote serial protocol framing and encodings (gdb manual, "Remote Protocol": "Overview",
 * "Binary Data", "Packet Acknowledgment", "Interrupts"). Pure functions over bytes, so the
 * parsing of what a client sends can be fuzzed (tests/fuzz/fuzz_gdb.c). */
#ifndef RV_DEBUG_GDB_PROTO_H
#define RV_DEBUG_GDB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest packet payload accepted or sent (advertised as PacketSize). */
#define GDB_PACKET_MAX 4096

enum gdb_rx_event {
    GDB_RX_NONE,      /* nothing complete yet */
    GDB_RX_PACKET,    /* rx->buf[0..len) holds a packet with a good checksum (NUL-terminated) */
    GDB_RX_BAD,       /* a packet with a bad checksum, or too long: answer '-' */
    GDB_RX_INTERRUPT, /* 0x03 between packets: Ctrl-C */
    GDB_RX_ACK,       /* '+' */
    GDB_RX_NAK,       /* '-': send the last packet again */
};

struct gdb_rx {
    int state;          /* 0 between packets, 1 payload, 2 and 3 checksum digits */
    size_t len;
    uint8_t sum;        /* of the payload so far */
    uint8_t check;      /* the checksum received */
    bool overflow;
    char buf[GDB_PACKET_MAX + 1];
};

/* Feeds one received byte. */
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

/* Frames `data` as "$data#cc" into out (size >= 2 * len + 4), escaping '#', '$', '}' and
 * '*'. Returns the framed length. */
size_t gdb_frame(const char *data, size_t len, char *out);

/* Hex helpers. gdb_hex_decode returns the bytes decoded, or -1 on an odd length or a
 * non-hex digit. */
int gdb_hex_digit(char c);
void gdb_hex_encode(const uint8_t *in, size_t len, char *out); /* writes 2 * len + NUL */
long gdb_hex_decode(const char *in, size_t chars, uint8_t *out, size_t max);
/* Little-endian register value as 2 * bytes hex digits (target byte order). */
void gdb_hex_le(uint64_t v, unsigned bytes, char *out);
bool gdb_parse_le(const char *in, unsigned bytes, uint64_t *v);

/* Parses a hex number at *p up to a character not a hex digit; fails on no digits or more
 * than 16. Advances *p. */
bool gdb_parse_hex(const char **p, uint64_t *v);
/* Parses a thread id: hex, or -1 (all), stored as -1. */
bool gdb_parse_tid(const char **p, int64_t *tid);

/* Removes binary escapes ('}' x ^ 0x20) in place; returns the new length, or -1 if the data
 * ends in the middle of an escape. */
long gdb_unescape(char *data, size_t len);

#endif
