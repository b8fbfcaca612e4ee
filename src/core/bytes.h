/* Fixed-width integers in byte buffers (file formats, wire protocols), and CRC-32.
 * Little-endian: the state stream, volume metadata, pcap. Big-endian (network order): qcow2,
 * NBD, DHCP. */
#ifndef RV_CORE_BYTES_H
#define RV_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t rv_get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rv_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rv_get_le64(const uint8_t *p)
{
    return (uint64_t)rv_get_le32(p) | (uint64_t)rv_get_le32(p + 4) << 32;
}

static inline void rv_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void rv_put_le32(uint8_t *p, uint32_t v)
{
    rv_put_le16(p, (uint16_t)v);
    rv_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void rv_put_le64(uint8_t *p, uint64_t v)
{
    rv_put_le32(p, (uint32_t)v);
    rv_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t rv_get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rv_get_be32(const uint8_t *p)
{
    return (uint32_t)rv_get_be16(p) << 16 | rv_get_be16(p + 2);
}

static inline uint64_t rv_get_be64(const uint8_t *p)
{
    return (uint64_t)rv_get_be32(p) << 32 | rv_get_be32(p + 4);
}

static inline void rv_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void rv_put_be32(uint8_t *p, uint32_t v)
{
    rv_put_be16(p, (uint16_t)(v >> 16));
    rv_put_be16(p + 2, (uint16_t)v);
}

static inline void rv_put_be64(uint8_t *p, uint64_t v)
{
    rv_put_be32(p, (uint32_t)(v >> 32));
    rv_put_be32(p + 4, (uint32_t)v);
}

/* CRC-32 (IEEE 802.3, zlib's crc32) of any length. */
uint32_t rv_crc32(const void *buf, size_t len);

#endif
