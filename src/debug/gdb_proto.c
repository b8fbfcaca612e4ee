/* GDB remote protocol framing and encodings (gdb_proto.h). */
#include "debug/gdb_proto.h"

#include <string.h>

enum { ST_IDLE, ST_DATA, ST_CS1, ST_CS2 };

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
    switch (rx->state) {
    case ST_IDLE:
        if (c == '$') {
            rx->state = ST_DATA;
            rx->len = 0;
            rx->sum = 0;
            rx->overflow = false;
            return GDB_RX_NONE;
        }
        if (c == 0x03)
            return GDB_RX_INTERRUPT;
        if (c == '+')
            return GDB_RX_ACK;
        if (c == '-')
            return GDB_RX_NAK;
        return GDB_RX_NONE; /* noise between packets is ignored */
    case ST_DATA:
        if (c == '#') {
            rx->state = ST_CS1;
            return GDB_RX_NONE;
        }
        rx->sum = (uint8_t)(rx->sum + c);
        if (rx->len < GDB_PACKET_MAX)
            rx->buf[rx->len++] = (char)c;
        else
            rx->overflow = true;
        return GDB_RX_NONE;
    case ST_CS1: {
        int d = gdb_hex_digit((char)c);
        rx->check = (uint8_t)(d < 0 ? 0 : d << 4);
        rx->overflow |= d < 0;
        rx->state = ST_CS2;
        return GDB_RX_NONE;
    }
    default: {
        int d = gdb_hex_digit((char)c);
        rx->state = ST_IDLE;
        rx->buf[rx->len] = 0;
        if (d < 0 || rx->overflow || (uint8_t)(rx->check | d) != rx->sum)
            return GDB_RX_BAD;
        return GDB_RX_PACKET;
    }
    }
}

size_t gdb_frame(const char *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    uint8_t sum = 0;
    out[n++] = '$';
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            out[n++] = '}';
            sum = (uint8_t)(sum + '}');
            c ^= 0x20;
        }
        out[n++] = c;
        sum = (uint8_t)(sum + (uint8_t)c);
    }
    out[n++] = '#';
    out[n++] = hex[sum >> 4];
    out[n++] = hex[sum & 15];
    return n;
}

int gdb_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void gdb_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * len] = 0;
}

long gdb_hex_decode(const char *in, size_t chars, uint8_t *out, size_t max)
{
    if (chars % 2 || chars / 2 > max)
        return -1;
    for (size_t i = 0; i < chars / 2; i++) {
        int hi = gdb_hex_digit(in[2 * i]), lo = gdb_hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(chars / 2);
}

void gdb_hex_le(uint64_t v, unsigned bytes, char *out)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    gdb_hex_encode(b, bytes, out);
}

bool gdb_parse_le(const char *in, unsigned bytes, uint64_t *v)
{
    uint8_t b[8];
    if (strnlen(in, 2 * bytes) < 2 * bytes || gdb_hex_decode(in, 2 * bytes, b, 8) < 0)
        return false;
    *v = 0;
    for (unsigned i = 0; i < bytes; i++)
        *v |= (uint64_t)b[i] << (8 * i);
    return true;
}

bool gdb_parse_hex(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t r = 0;
    unsigned n = 0;
    int d;
    while ((d = gdb_hex_digit(*s)) >= 0) {
        if (++n > 16)
            return false;
        r = r << 4 | (uint64_t)d;
        s++;
    }
    if (!n)
        return false;
    *v = r;
    *p = s;
    return true;
}

bool gdb_parse_tid(const char **p, int64_t *tid)
{
    if ((*p)[0] == '-' && (*p)[1] == '1') {
        *p += 2;
        *tid = -1;
        return true;
    }
    uint64_t v;
    if (!gdb_parse_hex(p, &v) || v > 0x7fffffff)
        return false;
    *tid = (int64_t)v;
    return true;
}

long gdb_unescape(char *data, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '}') {
            if (++i == len)
                return -1;
            data[o++] = (char)(data[i] ^ 0x20);
        } else {
            data[o++] = data[i];
        }
    }
    return (long)o;
}
