/* The VM state stream: header, checksummed records, end marker (stream.h). */
#include "state/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/error.h"

static const char magic[8] = "RVSTATE";

void rv_stream_init_fd(struct rv_stream *s, int fd, const char *what)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->what = what;
    struct stat st;
    s->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

void rv_stream_init_mem(struct rv_stream *s, const void *buf, size_t len, const char *what)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->mem = buf;
    s->mem_len = len;
    s->what = what;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Sleeps as long as the bytes written so far are ahead of the rate limit. */
static void rate_wait(struct rv_stream *s, size_t len)
{
    if (!s->rate_limit)
        return;
    if (!s->rate_t0_ns)
        s->rate_t0_ns = now_ns();
    s->rate_bytes += len;
    uint64_t due = s->rate_t0_ns + s->rate_bytes * 1000000000ull / s->rate_limit;
    uint64_t now = now_ns();
    if (due > now) {
        uint64_t ns = due - now;
        struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
}

int rv_stream_write_all(struct rv_stream *s, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t left = len;
    if (s->fd < 0)
        return rv_error_set(-EINVAL, "%s: not writable", s->what);
    while (left) {
        /* Pieces of 1 MiB, so that the rate limit sleeps evenly. */
        size_t chunk = left > (1u << 20) ? (1u << 20) : left;
        /* MSG_NOSIGNAL: a closed connection is an error to report, not a SIGPIPE. */
        ssize_t n = s->is_socket ? send(s->fd, p, chunk, MSG_NOSIGNAL) : write(s->fd, p, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return rv_error_set(n < 0 ? -errno : -EIO, "%s: write failed at byte %llu: %s",
                                s->what, (unsigned long long)s->pos,
                                n < 0 ? strerror(errno) : "no progress");
        p += n;
        left -= (size_t)n;
        s->pos += (uint64_t)n;
        rate_wait(s, (size_t)n);
    }
    return 0;
}

int rv_stream_read_all(struct rv_stream *s, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t left = len;
    if (s->fd < 0) {
        if (len > s->mem_len - s->mem_pos)
            return rv_error_set(-EINVAL, "%s: truncated at byte %llu", s->what,
                                (unsigned long long)s->pos);
        memcpy(buf, s->mem + s->mem_pos, len);
        s->mem_pos += len;
        s->pos += len;
        return 0;
    }
    while (left) {
        ssize_t n = read(s->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rv_error_set(-errno, "%s: read failed at byte %llu: %s", s->what,
                                (unsigned long long)s->pos, strerror(errno));
        if (n == 0)
            return rv_error_set(-EINVAL, "%s: truncated at byte %llu", s->what,
                                (unsigned long long)s->pos);
        p += n;
        left -= (size_t)n;
        s->pos += (uint64_t)n;
    }
    return 0;
}

int rv_stream_write_header(struct rv_stream *s, uint64_t flags)
{
    uint8_t h[RV_STREAM_HEADER_SIZE] = {0};
    memcpy(h, magic, 8);
    rv_put_le32(h + 8, RV_STREAM_MAJOR);
    rv_put_le32(h + 12, RV_STREAM_MINOR);
    rv_put_le64(h + 16, flags);
    rv_put_le32(h + 28, rv_crc32(h, 28));
    s->flags = flags;
    return rv_stream_write_all(s, h, sizeof(h));
}

int rv_stream_read_header(struct rv_stream *s)
{
    uint8_t h[RV_STREAM_HEADER_SIZE];
    int rc = rv_stream_read_all(s, h, sizeof(h));
    if (rc)
        return rc;
    if (memcmp(h, magic, 8) != 0)
        return rv_error_set(-EINVAL, "%s: not an rvisor state stream (bad magic)", s->what);
    if (rv_get_le32(h + 28) != rv_crc32(h, 28))
        return rv_error_set(-EINVAL, "%s: header checksum mismatch", s->what);
    uint32_t major = rv_get_le32(h + 8);
    if (major != RV_STREAM_MAJOR)
        return rv_error_set(-EINVAL, "%s: unsupported format version %u (this rvisor reads %u)",
                            s->what, major, RV_STREAM_MAJOR);
    uint64_t flags = rv_get_le64(h + 16);
    if ((flags & ~RV_STREAM_F_MAPPABLE) || rv_get_le32(h + 24) != 0)
        return rv_error_set(-EINVAL, "%s: unknown header flags 0x%llx", s->what,
                            (unsigned long long)flags);
    s->flags = flags;
    return 0;
}

int rv_stream_write_record(struct rv_stream *s, uint32_t id, uint32_t version,
                           const void *payload, size_t len)
{
    if (len > RV_STREAM_MAX_PAYLOAD)
        return rv_error_set(-EFBIG, "%s: section %u too large (%zu bytes)", s->what, id, len);
    uint8_t h[RV_STREAM_RECORD_SIZE];
    rv_put_le32(h, id);
    rv_put_le32(h + 4, version);
    rv_put_le64(h + 8, len);
    rv_put_le32(h + 16, len ? rv_crc32(payload, len) : rv_crc32("", 0));
    rv_put_le32(h + 20, rv_crc32(h, 20));
    int rc = rv_stream_write_all(s, h, sizeof(h));
    if (!rc && len)
        rc = rv_stream_write_all(s, payload, len);
    if (!rc && id != RV_SEC_END)
        s->records++;
    return rc;
}

int rv_stream_write_end(struct rv_stream *s)
{
    uint8_t p[8];
    rv_put_le64(p, s->records);
    return rv_stream_write_record(s, RV_SEC_END, 1, p, sizeof(p));
}

static bool known_section(uint32_t id)
{
    return (id >= RV_SEC_CONFIG && id <= RV_SEC_SYNC) || id == RV_SEC_END;
}

int rv_stream_read_record(struct rv_stream *s, struct rv_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    uint8_t h[RV_STREAM_RECORD_SIZE];
    uint64_t at = s->pos;
    int rc = rv_stream_read_all(s, h, sizeof(h));
    if (rc)
        return rc;
    if (rv_get_le32(h + 20) != rv_crc32(h, 20))
        return rv_error_set(-EINVAL, "%s: record header checksum mismatch at byte %llu", s->what,
                            (unsigned long long)at);
    uint32_t id = rv_get_le32(h), version = rv_get_le32(h + 4);
    uint64_t len = rv_get_le64(h + 8);
    if (!known_section(id))
        return rv_error_set(-EINVAL, "%s: unknown section %u at byte %llu", s->what, id,
                            (unsigned long long)at);
    if (len > RV_STREAM_MAX_PAYLOAD)
        return rv_error_set(-EINVAL, "%s: section %u at byte %llu claims %llu bytes (limit %u)",
                            s->what, id, (unsigned long long)at, (unsigned long long)len,
                            RV_STREAM_MAX_PAYLOAD);
    uint8_t *p = malloc((size_t)len + 1);
    if (!p)
        return rv_error_set(-ENOMEM, "%s: out of memory", s->what);
    rc = rv_stream_read_all(s, p, (size_t)len);
    if (rc) {
        free(p);
        return rc;
    }
    p[len] = 0;
    if (rv_get_le32(h + 16) != rv_crc32(p, (size_t)len)) {
        free(p);
        return rv_error_set(-EINVAL, "%s: section %u at byte %llu: checksum mismatch", s->what,
                            id, (unsigned long long)at);
    }
    if (id == RV_SEC_END && (len != 8 || rv_get_le64(p) != s->records)) {
        free(p);
        return rv_error_set(-EINVAL, "%s: end marker does not match the %llu records read",
                            s->what, (unsigned long long)s->records);
    }
    if (id != RV_SEC_END)
        s->records++;
    rec->id = id;
    rec->version = version;
    rec->payload = p;
    rec->len = (size_t)len;
    return 0;
}
