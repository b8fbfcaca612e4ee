/* The VM state stream (DESIGN.md "State, snapshots, migration"): one format for snapshot files
 * and live-migration connections.
 *
 *   header   32 bytes: magic "RVSTATE\0", le32 major, le32 minor, le64 flags, le32 reserved 0,
 *            le32 CRC-32 of the 28 bytes before it
 *   records  24-byte header: le32 section id, le32 section version, le64 payload length,
 *            le32 CRC-32 of the payload, le32 CRC-32 of the 20 header bytes before it;
 *            then the payload
 *   end      a record of section RV_SEC_END whose payload is the le64 number of records before
 *            it: a stream without it is truncated
 *
 * A reader rejects a wrong magic, an unknown major version, any bad CRC, an unknown section, a
 * payload longer than RV_STREAM_MAX_PAYLOAD and a stream that ends early, each with a message
 * saying which and where. The one exception to "every byte is checksummed" is the page-aligned
 * RAM image of a mappable snapshot (RV_SEC_RAM_MAPPED): it is guest data mapped lazily, and
 * reading it all to check it would defeat the lazy restore; its place and size are checked. */
#ifndef RV_STATE_STREAM_H
#define RV_STATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RV_STREAM_MAJOR 1
#define RV_STREAM_MINOR 0
#define RV_STREAM_HEADER_SIZE 32
#define RV_STREAM_RECORD_SIZE 24
#define RV_STREAM_MAX_PAYLOAD (64u << 20)

#define RV_STREAM_F_MAPPABLE 1ull /* the RAM is one page-aligned image (RV_SEC_RAM_MAPPED) */

enum rv_section {
    RV_SEC_CONFIG = 1,     /* the machine configuration (vm_state.c) */
    RV_SEC_CLOCK = 2,      /* le64 mtime at the moment of saving */
    RV_SEC_HART = 3,       /* le32 index, vCPU run state, then cpu/hart_state.c's record */
    RV_SEC_DEVICE = 4,     /* le64 base, name, then the device's own save record */
    RV_SEC_RAM_PAGES = 5,  /* a batch of RAM pages (state/ram.h) */
    RV_SEC_RAM_MAPPED = 6, /* le64 file offset, le64 size of the raw RAM image */
    RV_SEC_DISK = 7,       /* le32 index, the image holding the disk's contents */
    RV_SEC_DISK_DATA = 8,  /* migration --copy-storage: a piece of a disk (vm_storage.c) */
    RV_SEC_SYNC = 9,       /* migration: the destination answers 'S' once it has applied
                              everything before it (no payload) */
    RV_SEC_END = 0xffff,
};

/* Where bytes go to or come from: a file descriptor (file or socket) or a memory buffer. */
struct rv_stream {
    int fd;                  /* -1 for a memory stream */
    bool is_socket;
    const uint8_t *mem;      /* memory stream input */
    size_t mem_len, mem_pos;
    uint64_t pos;            /* bytes written or read so far */
    uint64_t records;        /* records written or read (END excluded) */
    uint64_t flags;          /* the header's flags */
    /* Writers: at most this many bytes per second (0: no limit), for migration. */
    uint64_t rate_limit;
    uint64_t rate_t0_ns, rate_bytes;
    const char *what;        /* for messages: "snapshot file", "migration stream" */
};

void rv_stream_init_fd(struct rv_stream *s, int fd, const char *what);
void rv_stream_init_mem(struct rv_stream *s, const void *buf, size_t len, const char *what);

int rv_stream_write_all(struct rv_stream *s, const void *buf, size_t len);
int rv_stream_read_all(struct rv_stream *s, void *buf, size_t len);

int rv_stream_write_header(struct rv_stream *s, uint64_t flags);
int rv_stream_read_header(struct rv_stream *s);

/* Writes one record; `payload` may be NULL when len is 0. */
int rv_stream_write_record(struct rv_stream *s, uint32_t id, uint32_t version,
                           const void *payload, size_t len);
/* Writes the END record. */
int rv_stream_write_end(struct rv_stream *s);

struct rv_record {
    uint32_t id, version;
    uint8_t *payload;        /* malloc'd (NUL-terminated past len, for convenience) */
    size_t len;
};
/* Reads and checks the next record. The END record's count is verified here; after it,
 * rec->id is RV_SEC_END. The caller frees rec->payload. */
int rv_stream_read_record(struct rv_stream *s, struct rv_record *rec);

#endif
