/* An NBD server for logical volumes (`rvisor vol serve --nbd`), following the protocol document
 * of the NBD project (doc/proto.md): fixed newstyle negotiation with NBD_OPT_EXPORT_NAME, LIST,
 * INFO, GO and ABORT; simple replies; READ, WRITE (FUA), FLUSH, TRIM, WRITE_ZEROES and DISC.
 * Export names are "VG/LV". One thread per client; each export is an rv_block opened through the
 * `vol:` backend, so an LV served read-write holds the in-use lock like a VM does. */
#include "block/volume/nbd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "block/block.h"
#include "block/volume/vol.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"

#define NBD_MAGIC 0x4e42444d41474943ull       /* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454f5054ull    /* "IHAVEOPT" */
#define NBD_REP_MAGIC 0x3e889045565a9ull
#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u

#define FLAG_FIXED_NEWSTYLE 1u
#define FLAG_NO_ZEROES 2u
#define FLAG_C_FIXED_NEWSTYLE 1u
#define FLAG_C_NO_ZEROES 2u

enum { OPT_EXPORT_NAME = 1, OPT_ABORT = 2, OPT_LIST = 3, OPT_INFO = 6, OPT_GO = 7 };
#define REP_ACK 1u
#define REP_SERVER 2u
#define REP_INFO 3u
#define REP_ERR_UNSUP (0x80000000u + 1)
#define REP_ERR_POLICY (0x80000000u + 2)
#define REP_ERR_INVALID (0x80000000u + 3)
#define REP_ERR_UNKNOWN (0x80000000u + 6)
#define INFO_EXPORT 0
#define INFO_BLOCK_SIZE 3

/* Transmission flags */
#define TF_HAS_FLAGS (1u << 0)
#define TF_READ_ONLY (1u << 1)
#define TF_SEND_FLUSH (1u << 2)
#define TF_SEND_FUA (1u << 3)
#define TF_SEND_TRIM (1u << 5)
#define TF_SEND_WRITE_ZEROES (1u << 6)

enum { CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3, CMD_TRIM = 4,
       CMD_WRITE_ZEROES = 6 };
#define CMD_FLAG_FUA 1u
#define CMD_FLAG_NO_HOLE 2u

#define NBD_EPERM 1u
#define NBD_EIO 5u
#define NBD_EINVAL 22u
#define NBD_ENOSPC 28u
#define NBD_EOVERFLOW 75u

#define MAX_OPTION (64u << 10)
#define MAX_PAYLOAD (32u << 20)

struct client {
    int fd;
    const char *devices;
    bool readonly;
    bool no_zeroes;
    struct rv_block *disk;
};

/* --- socket I/O (big-endian on the wire) --- */

static int io_full(int fd, void *buf, size_t len, bool write)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
                          : recv(fd, (char *)buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}


static int opt_reply(struct client *c, uint32_t opt, uint32_t type, const void *data,
                     uint32_t len)
{
    uint8_t h[20];
    rv_put_be64(h, NBD_REP_MAGIC);
    rv_put_be32(h + 8, opt);
    rv_put_be32(h + 12, type);
    rv_put_be32(h + 16, len);
    if (io_full(c->fd, h, sizeof(h), true) || (len && io_full(c->fd, (void *)data, len, true)))
        return -1;
    return 0;
}

static int opt_error(struct client *c, uint32_t opt, uint32_t type, const char *msg)
{
    return opt_reply(c, opt, type, msg, (uint32_t)strlen(msg));
}

/* --- exports --- */

static int list_exports(struct client *c, uint32_t opt)
{
    struct vol_scan_pv *s;
    unsigned n;
    if (vol_scan(c->devices, &s, &n))
        return opt_error(c, opt, REP_ERR_UNSUP, "cannot scan the physical volumes");
    int rc = 0;
    for (unsigned i = 0; i < n && !rc; i++) {
        bool seen = !s[i].meta;
        for (unsigned k = 0; k < i && !seen; k++)
            seen = s[k].meta && strcmp(s[k].meta->name, s[i].meta->name) == 0;
        struct vol_vg *vg;
        if (seen || vol_vg_open(c->devices, s[i].meta->name, VOL_OPEN_READ, &vg))
            continue;
        for (uint32_t l = 0; l < vg->nlvs && !rc; l++) {
            uint8_t buf[4 + 2 * (VOL_NAME_MAX + 1)];
            int len = snprintf((char *)buf + 4, sizeof(buf) - 4, "%s/%s", vg->name,
                               vg->lvs[l].name);
            rv_put_be32(buf, (uint32_t)len);
            rc = opt_reply(c, opt, REP_SERVER, buf, (uint32_t)len + 4);
        }
        vol_vg_close(vg);
    }
    vol_scan_free(s, n);
    return rc ? rc : opt_reply(c, opt, REP_ACK, NULL, 0);
}

static uint16_t export_flags(const struct client *c)
{
    uint16_t f = TF_HAS_FLAGS | TF_SEND_FLUSH | TF_SEND_FUA | TF_SEND_TRIM | TF_SEND_WRITE_ZEROES;
    return c->readonly || rv_block_readonly(c->disk) ? (uint16_t)(f | TF_READ_ONLY) : f;
}

/* Opens the export `name` ("VG/LV") as c->disk. */
static int export_open(struct client *c, const char *name)
{
    char spec[2 * (VOL_NAME_MAX + 1) + 8];
    struct rv_block_opts opts = {.format = RV_BLOCK_RAW, .readonly = c->readonly};
    if (strlen(name) > 2 * VOL_NAME_MAX + 1 || !strchr(name, '/'))
        return rv_error_set(-ENOENT, "no export named '%.*s'", 2 * VOL_NAME_MAX + 1, name);
    snprintf(spec, sizeof(spec), "vol:%s", name);
    return rv_block_open(spec, &opts, &c->disk);
}

/* NBD_OPT_INFO / NBD_OPT_GO: name length, name, info requests. */
static int info_or_go(struct client *c, uint32_t opt, const uint8_t *data, uint32_t len)
{
    if (len < 6)
        return opt_error(c, opt, REP_ERR_INVALID, "option data too short");
    uint32_t nlen = rv_get_be32(data);
    if (nlen > len - 6 || rv_get_be16(data + 4 + nlen) * 2u != len - 6 - nlen)
        return opt_error(c, opt, REP_ERR_INVALID, "malformed option data");
    char name[256];
    if (nlen >= sizeof(name))
        return opt_error(c, opt, REP_ERR_UNKNOWN, "export name too long");
    memcpy(name, data + 4, nlen);
    name[nlen] = 0;
    if (export_open(c, name)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", rv_error_get());
        return opt_error(c, opt, strstr(msg, "in use") ? REP_ERR_POLICY : REP_ERR_UNKNOWN, msg);
    }
    uint8_t info[14];
    rv_put_be16(info, INFO_EXPORT);
    rv_put_be64(info + 2, rv_block_size(c->disk));
    rv_put_be16(info + 10, export_flags(c));
    int rc = opt_reply(c, opt, REP_INFO, info, 12);
    rv_put_be16(info, INFO_BLOCK_SIZE); /* min 1, preferred 4 KiB, max payload 32 MiB */
    rv_put_be32(info + 2, 1);
    rv_put_be32(info + 6, 4096);
    rv_put_be32(info + 10, MAX_PAYLOAD);
    if (!rc)
        rc = opt_reply(c, opt, REP_INFO, info, 14);
    if (!rc)
        rc = opt_reply(c, opt, REP_ACK, NULL, 0);
    if (rc || opt == OPT_INFO) {
        rv_block_close(c->disk);
        c->disk = NULL;
    }
    return rc;
}

/* Option haggling; returns 0 with c->disk open when transmission starts, -1 to hang up. */
static int negotiate(struct client *c)
{
    uint8_t h[18];
    rv_put_be64(h, NBD_MAGIC);
    rv_put_be64(h + 8, NBD_IHAVEOPT);
    rv_put_be16(h + 16, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
    uint8_t cf[4];
    if (io_full(c->fd, h, sizeof(h), true) || io_full(c->fd, cf, 4, false))
        return -1;
    uint32_t cflags = rv_get_be32(cf);
    if (cflags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES))
        return -1; /* unknown client flags: the spec says to close */
    c->no_zeroes = cflags & FLAG_C_NO_ZEROES;
    uint8_t *data = malloc(MAX_OPTION);
    int rc = data ? 0 : -1;
    while (!rc && !c->disk) {
        uint8_t oh[16];
        if (io_full(c->fd, oh, sizeof(oh), false) || rv_get_be64(oh) != NBD_IHAVEOPT) {
            rc = -1;
            break;
        }
        uint32_t opt = rv_get_be32(oh + 8), len = rv_get_be32(oh + 12);
        if (len > MAX_OPTION) {
            rc = -1; /* not worth reading: hang up */
            break;
        }
        if (io_full(c->fd, data, len, false)) {
            rc = -1;
            break;
        }
        if (opt == OPT_EXPORT_NAME) {
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(len < 255 ? len : 255), (char *)data);
            if (len > 255 || export_open(c, name)) {
                rc = -1; /* no way to report an error: close, as the spec says */
                break;
            }
            uint8_t r[10 + 124] = {0};
            rv_put_be64(r, rv_block_size(c->disk));
            rv_put_be16(r + 8, export_flags(c));
            rc = io_full(c->fd, r, c->no_zeroes ? 10 : sizeof(r), true);
        } else if (opt == OPT_ABORT) {
            opt_reply(c, opt, REP_ACK, NULL, 0);
            rc = -1;
        } else if (opt == OPT_LIST) {
            rc = len ? opt_error(c, opt, REP_ERR_INVALID, "LIST takes no data")
                     : list_exports(c, opt);
        } else if (opt == OPT_INFO || opt == OPT_GO) {
            rc = info_or_go(c, opt, data, len);
        } else {
            rc = opt_error(c, opt, REP_ERR_UNSUP, "option not supported");
        }
    }
    free(data);
    return c->disk ? 0 : -1;
}

/* --- transmission --- */

static uint32_t nbd_errno(int rc)
{
    switch (rc) {
    case -EROFS: case -EPERM: return NBD_EPERM;
    case -EINVAL: return NBD_EINVAL;
    case -ENOSPC: return NBD_ENOSPC;
    default: return NBD_EIO;
    }
}

static int simple_reply(struct client *c, uint64_t cookie, uint32_t err, const void *data,
                        uint32_t len)
{
    uint8_t h[16];
    rv_put_be32(h, NBD_SIMPLE_REPLY_MAGIC);
    rv_put_be32(h + 4, err);
    rv_put_be64(h + 8, cookie);
    if (io_full(c->fd, h, sizeof(h), true) || (len && io_full(c->fd, (void *)data, len, true)))
        return -1;
    return 0;
}

static int do_command(struct client *c, uint16_t flags, uint16_t type, uint64_t off,
                      uint32_t len, void *buf)
{
    struct iovec iov = {buf, len};
    uint64_t size = rv_block_size(c->disk);
    if (off > size || len > size - off)
        return -EINVAL;
    int rc;
    switch (type) {
    case CMD_READ: return rv_block_readv(c->disk, off, &iov, 1);
    case CMD_WRITE:
        rc = c->readonly ? -EROFS : rv_block_writev(c->disk, off, &iov, 1);
        break;
    case CMD_FLUSH: return rv_block_flush(c->disk);
    case CMD_TRIM:
        rc = c->readonly ? -EROFS : rv_block_discard(c->disk, off, len);
        break;
    case CMD_WRITE_ZEROES:
        rc = c->readonly ? -EROFS : rv_block_write_zeroes(c->disk, off, len,
                                                          !(flags & CMD_FLAG_NO_HOLE));
        break;
    default: return -EINVAL;
    }
    if (!rc && (flags & CMD_FLAG_FUA))
        rc = rv_block_flush(c->disk);
    return rc;
}

static void transmission(struct client *c)
{
    uint8_t *buf = malloc(MAX_PAYLOAD);
    while (buf) {
        uint8_t h[28];
        if (io_full(c->fd, h, sizeof(h), false) || rv_get_be32(h) != NBD_REQUEST_MAGIC)
            break;
        uint16_t flags = rv_get_be16(h + 4), type = rv_get_be16(h + 6);
        uint64_t cookie = rv_get_be64(h + 8), off = rv_get_be64(h + 16);
        uint32_t len = rv_get_be32(h + 24);
        if (type == CMD_DISC)
            break;
        bool payload = type == CMD_WRITE, data_out = type == CMD_READ;
        if ((payload || data_out) && len > MAX_PAYLOAD) {
            if (payload)
                break; /* cannot skip that much: hang up (allowed by the spec) */
            if (simple_reply(c, cookie, NBD_EOVERFLOW, NULL, 0))
                break;
            continue;
        }
        if (payload && io_full(c->fd, buf, len, false))
            break;
        int rc = do_command(c, flags, type, off, (payload || data_out) ? len : len, buf);
        if (rc)
            rv_warn("nbd: %s", rv_error_get());
        if (simple_reply(c, cookie, rc ? nbd_errno(rc) : 0, buf, (!rc && data_out) ? len : 0))
            break;
    }
    free(buf);
}

static void *client_thread(void *arg)
{
    struct client *c = arg;
    if (negotiate(c) == 0) {
        transmission(c);
        rv_block_flush(c->disk);
        rv_block_close(c->disk);
    }
    close(c->fd);
    free(c);
    return NULL;
}

static int nbd_listen(const char *addr)
{
    char host[256] = "127.0.0.1";
    const char *port = addr, *colon = strrchr(addr, ':');
    if (colon) {
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *res;
    int err = getaddrinfo(host, port, &hints, &res);
    if (err)
        return rv_error_set(-EINVAL, "--nbd %s: %s", addr, gai_strerror(err));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        freeaddrinfo(res);
        if (fd >= 0)
            close(fd);
        return rv_error_set(-e, "--nbd %s: %s", addr, strerror(e));
    }
    freeaddrinfo(res);
    return fd;
}

int rv_nbd_serve(const char *devices, const char *addr, bool readonly)
{
    int lfd = nbd_listen(addr);
    if (lfd < 0)
        return lfd;
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "rvisor vol: serving NBD on %s\n", addr);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            int e = errno;
            close(lfd);
            return rv_error_set(-e, "nbd: accept: %s", strerror(e));
        }
        /* A reply is a header write and a data write: without TCP_NODELAY a client sending one
         * request at a time waits for the delayed ACK (~40 ms) on each (fails harmlessly on
         * unix sockets). */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct client *c = calloc(1, sizeof(*c));
        pthread_t t;
        if (!c) {
            close(fd);
            continue;
        }
        *c = (struct client){.fd = fd, .devices = vol_devices_path(devices), .readonly = readonly};
        if (pthread_create(&t, NULL, client_thread, c)) {
            close(fd);
            free(c);
            continue;
        }
        pthread_detach(t);
    }
}
