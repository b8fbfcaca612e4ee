/* CRC-32 for the state stream and the volume metadata (bytes.h). */
#include "core/bytes.h"

#include <zlib.h>

uint32_t rv_crc32(const void *buf, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = buf;
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len; /* zlib takes uInt lengths */
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}
