/* Live migration over TCP (include/rvisor/state.h, docs/state.md).
 *
 * Source: a thread connects, sends the header and CONFIG, turns dirty-page tracking on
 * (cpu/bus.h) and sends all of RAM; each later round collects and clears the dirty bitmap with
 * the harts parked for an instant (and their TLBs flushed, so the next store to every page
 * marks it again), resumes them and sends the pages dirtied meanwhile. Once at most
 * `downtime_pages` are dirty, or after `max_rounds`, the harts park for good, the disk and NIC
 * workers are quiesced, and the last dirty pages, the disks' images (DISK), guest time, devices
 * and harts follow, then END. The destination loads it all into a new VM and answers 'K'; the
 * source answers 'G' (go); the destination starts on 'G' and answers 'A'; the source powers off
 * on 'A'.
 *
 * Failure: any error on the source side before 'G' is sent (connection refused or cut, send
 * timeout, no 'K') resumes the devices and harts as they were: the source keeps running. The
 * destination drops whatever it built and returns an error. Once 'G' has left, the source
 * cannot know whether it arrived (two generals): without 'A' it neither powers off nor resumes
 * on its own but stays paused with its state, and the migration status says so; `resume`
 * (vm_migration_release) continues it if the destination did not start. Both running at
 * once (two writers on one disk) cannot happen without an operator's `resume`.
 *
 * The dirty bitmap, once made, lives until the VM is destroyed: device threads may still be
 * marking it when tracking is turned off. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "dev/virtio_blk.h"
#include "machine/vm_internal.h"
#include "state/ram.h"
#include "state/stream.h"

#define DEFAULT_ROUNDS 30
#define DEFAULT_DOWNTIME_PAGES 256
#define DOWNTIME_DISK_CHUNKS 64 /* 4 MiB of disk left to copy in the stop-and-copy at most */
#define IO_TIMEOUT_S 30
#define ACK_READY 'K'
#define ACK_GO 'G'
#define ACK_STARTED 'A'

/* How the final phase ended. */
enum handover { HANDOVER_NONE, HANDOVER_DONE, HANDOVER_UNCONFIRMED };

struct vm_migration {
    struct rv_vm *vm;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;          /* guards st */
    struct rv_migrate_status st;
    struct rv_migrate_opts opts;
    char to[320];
    uint64_t *bitmap;              /* the dirty bitmap (bus.dirty while tracking) */
    uint64_t *pending;             /* pages to send in this round */
    bool acked;                    /* the final status was read (rv_vm_migrate_ack) */
    bool unconfirmed;              /* 'G' sent, no 'A': the VM waits paused (lock) */
    struct vm_storage *storage;    /* --copy-storage: the disks being copied, or NULL */
    size_t words;
};

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* "tcp:HOST:PORT" -> host and port strings (HOST may be [v6addr]). */
static int parse_tcp(const char *spec, char *host, size_t hsize, char *port, size_t psize)
{
    if (strncmp(spec, "tcp:", 4) != 0)
        return rv_error_set(-EINVAL, "'%s': expected tcp:HOST:PORT", spec);
    const char *h = spec + 4, *colon = strrchr(h, ':');
    if (!colon || colon == h || !colon[1] || strlen(colon + 1) >= psize ||
        (size_t)(colon - h) >= hsize)
        return rv_error_set(-EINVAL, "'%s': expected tcp:HOST:PORT", spec);
    size_t hl = (size_t)(colon - h);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
        h++, hl -= 2;
    memcpy(host, h, hl);
    host[hl] = 0;
    snprintf(port, psize, "%s", colon + 1);
    char *end;
    long p = strtol(port, &end, 10);
    if (*end || p < 1 || p > 65535)
        return rv_error_set(-EINVAL, "'%s': bad port", spec);
    return 0;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Connects (listen = false) or accepts one connection (listen = true). */
static int tcp_open(const char *spec, bool listen_mode, int *out)
{
    char host[256], port[16];
    int rc = parse_tcp(spec, host, sizeof(host), port, sizeof(port));
    if (rc)
        return rc;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = listen_mode ? AI_PASSIVE : 0};
    struct addrinfo *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai)
        return rv_error_set(-EINVAL, "%s: %s", spec, gai_strerror(gai));
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd >= 0 && listen_mode) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)) {
            close(fd);
            fd = -1;
        } else {
            int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
            close(fd);
            fd = c;
        }
    } else if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        close(fd);
        fd = -1;
    }
    int e = errno;
    freeaddrinfo(ai);
    if (fd < 0)
        return rv_error_set(-e, "%s: %s", spec, strerror(e));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    set_timeouts(fd);
    *out = fd;
    return 0;
}

static void status_update(struct vm_migration *m, void (*fn)(struct rv_migrate_status *, void *),
                          void *arg)
{
    pthread_mutex_lock(&m->lock);
    fn(&m->st, arg);
    pthread_mutex_unlock(&m->lock);
}

static void set_round(struct rv_migrate_status *st, void *arg)
{
    st->round = *(unsigned *)arg;
}

static void add_sent(struct rv_migrate_status *st, void *arg)
{
    const uint64_t *v = arg; /* bytes, pages */
    st->bytes_sent = v[0];
    st->pages_sent += v[1];
}

static void set_dirty(struct rv_migrate_status *st, void *arg)
{
    st->dirty_pages = *(uint64_t *)arg;
}

static void set_disk(struct rv_migrate_status *st, void *arg)
{
    const uint64_t *v = arg; /* bytes of disk data, bytes sent */
    st->disk_bytes = v[0];
    st->bytes_sent = v[1];
}

/* --copy-storage: sends the disk chunks pending (none without it). */
static int send_disks(struct vm_migration *m, struct rv_stream *s)
{
    if (!m->storage)
        return 0;
    int rc = vm_storage_send(m->storage, s);
    uint64_t v[2] = {vm_storage_bytes(m->storage), s->pos};
    status_update(m, set_disk, v);
    return rc;
}

/* Moves the dirty bits into m->pending (OR) with the harts parked, and flushes their TLBs so
 * that the next store to any page marks it again. Returns the number of pending pages. */
static int collect_dirty(struct vm_migration *m, bool harts_parked, uint64_t *count)
{
    struct rv_vm *vm = m->vm;
    bool paused_here = false;
    if (!harts_parked) {
        int rc = rv_vm_pause(vm);
        if (rc && rc != -EALREADY)
            return rc;
        paused_here = rc == 0;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < m->words; i++) {
        m->pending[i] |= __atomic_exchange_n(&m->bitmap[i], 0, __ATOMIC_ACQ_REL);
        n += (uint64_t)__builtin_popcountll(m->pending[i]);
    }
    vm_flush_tlbs(vm);
    if (paused_here)
        rv_vm_resume(vm);
    *count = n;
    return 0;
}

/* Sends the pages in m->pending and clears them. */
static int send_pending(struct vm_migration *m, struct rv_stream *s)
{
    struct rv_page_writer *w;
    int rc = rv_page_writer_new(s, RV_SEC_RAM_PAGES, 0, 1, &w);
    uint64_t sent = 0;
    for (size_t i = 0; i < m->words && !rc; i++) {
        uint64_t bits = m->pending[i];
        m->pending[i] = 0;
        while (bits && !rc) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            uint64_t page = i * 64 + b;
            rc = rv_page_writer_add(w, page, m->vm->bus.ram + page * RV_PAGE_SIZE);
            if (++sent % 4096 == 0) {
                uint64_t v[2] = {s->pos, 4096};
                status_update(m, add_sent, v);
            }
        }
    }
    if (!rc)
        rc = rv_page_writer_flush(w);
    rv_page_writer_free(w);
    uint64_t v[2] = {s->pos, sent % 4096};
    status_update(m, add_sent, v);
    return rc;
}

static int write_disk_records(struct rv_vm *vm, struct rv_stream *s)
{
    int rc = 0;
    for (unsigned i = 0; i < vm->cfg.ndisks && !rc; i++) {
        if (!vm->blks[i])
            continue;
        rc = rv_virtio_blk_flush(vm->blks[i]);
        const char *spec = vm->disk_specs[i];
        uint8_t buf[8 + 4096];
        size_t len = strlen(spec);
        if (len > 4096)
            return rv_error_set(-ENAMETOOLONG, "disk %u: name too long", i);
        for (int k = 0; k < 4; k++) {
            buf[k] = (uint8_t)(i >> (8 * k));
            buf[4 + k] = (uint8_t)(len >> (8 * k));
        }
        memcpy(buf + 8, spec, len);
        if (!rc)
            rc = rv_stream_write_record(s, RV_SEC_DISK, 1, buf, 8 + len);
    }
    return rc;
}

/* The stop-and-copy and the handshake. On return the harts are parked and the devices
 * quiesced; *how says whether the destination took over. */
static int final_phase(struct vm_migration *m, struct rv_stream *s, enum handover *how)
{
    struct rv_vm *vm = m->vm;
    uint64_t dirty;
    *how = HANDOVER_NONE;
    int rc = collect_dirty(m, true, &dirty);
    status_update(m, set_dirty, &dirty);
    if (!rc)
        rc = send_pending(m, s);
    if (!rc && m->storage) {
        vm_storage_collect(m->storage); /* the workers are quiesced: these are the last */
        rc = send_disks(m, s);
    }
    if (!rc)
        rc = write_disk_records(vm, s);
    if (!rc)
        rc = vm_state_write_machine(vm, s);
    if (!rc)
        rc = rv_stream_write_end(s);
    char ack = 0;
    if (!rc && (recv(s->fd, &ack, 1, 0) != 1 || ack != ACK_READY))
        rc = rv_error_set(-ECONNABORTED, "the destination did not accept the VM");
    /* A failed send queued nothing: the destination cannot start, resuming here is safe. */
    if (!rc && send(s->fd, &(char){ACK_GO}, 1, MSG_NOSIGNAL) != 1)
        rc = rv_error_set(-ECONNABORTED, "connection lost before the hand-over");
    if (rc)
        return rc;
    if (recv(s->fd, &ack, 1, 0) == 1 && ack == ACK_STARTED) {
        *how = HANDOVER_DONE;
        return 0;
    }
    *how = HANDOVER_UNCONFIRMED;
    return rv_error_set(-ECONNABORTED,
                        "hand-over unconfirmed: the connection was lost after the VM was handed "
                        "over; the destination may be running it. The VM stays paused here: "
                        "resume it only if the destination is not running");
}

static int migrate_run(struct vm_migration *m, int fd, uint64_t *downtime)
{
    struct rv_vm *vm = m->vm;
    struct rv_stream s;
    rv_stream_init_fd(&s, fd, "migration stream");
    s.rate_limit = m->opts.bandwidth;
    unsigned max_rounds = m->opts.max_rounds ? m->opts.max_rounds : DEFAULT_ROUNDS;
    uint64_t small = m->opts.downtime_pages ? m->opts.downtime_pages : DEFAULT_DOWNTIME_PAGES;
    int rc = rv_stream_write_header(&s, 0);
    if (!rc)
        rc = vm_state_write_config(vm, &s);
    if (!rc && m->opts.copy_storage)
        rc = vm_storage_start(vm, &m->storage);
    /* Round 1: everything. Tracking starts before the copy, with the TLBs flushed. */
    uint64_t dirty = 0;
    if (!rc) {
        __atomic_store_n(&vm->bus.dirty, m->bitmap, __ATOMIC_RELEASE);
        rc = collect_dirty(m, false, &dirty);
        memset(m->pending, 0xff, m->words * 8);
        uint64_t npages = vm->bus.ram_size / RV_PAGE_SIZE;
        if (npages % 64)
            m->pending[m->words - 1] = (1ull << (npages % 64)) - 1;
    }
    unsigned round = 1;
    while (!rc) {
        status_update(m, set_round, &round);
        rc = send_disks(m, &s);
        if (!rc)
            rc = send_pending(m, &s);
        if (rc || round >= max_rounds)
            break;
        rc = collect_dirty(m, false, &dirty);
        status_update(m, set_dirty, &dirty);
        uint64_t chunks = m->storage ? vm_storage_collect(m->storage) : 0;
        if (dirty <= small && chunks <= DOWNTIME_DISK_CHUNKS)
            break;
        round++;
    }
    /* Let the destination catch up with what is in flight (it may still be decompressing the
     * first round): that wait must not count as downtime. */
    char sync = 0;
    if (!rc)
        rc = rv_stream_write_record(&s, RV_SEC_SYNC, 1, NULL, 0);
    if (!rc && (recv(fd, &sync, 1, 0) != 1 || sync != 'S'))
        rc = rv_error_set(-ECONNABORTED, "the destination stopped answering");
    round++;
    status_update(m, set_round, &round);
    if (!rc) {
        rc = rv_vm_pause(vm);
        if (rc == -EALREADY)
            rc = rv_error_set(-EBUSY, "the VM was paused during migration");
    }
    if (rc) {
        vm_storage_free(m->storage, false);
        m->storage = NULL;
        return rc;
    }
    uint64_t t0 = now_ns();
    vm->migration_final = true;
    vm_devices_quiesce(vm);
    enum handover how;
    rc = final_phase(m, &s, &how);
    *downtime = now_ns() - t0;
    vm_storage_free(m->storage, true); /* tracking off, the workers still quiesced */
    m->storage = NULL;
    if (how == HANDOVER_DONE)
        return 1; /* the thread powers the VM off once the status says done */
    if (how == HANDOVER_UNCONFIRMED) {
        pthread_mutex_lock(&m->lock);
        m->unconfirmed = true; /* harts parked, devices quiesced: vm_migration_release */
        pthread_mutex_unlock(&m->lock);
        return rc;
    }
    vm_devices_resume(vm);
    vm->migration_final = false;
    rv_vm_resume(vm);
    return rc;
}

static void *migrate_thread(void *arg)
{
    struct vm_migration *m = arg;
    uint64_t t0 = now_ns(), downtime = 0;
    int fd = -1, one = 1;
    int rc = 0;
    if (m->opts.connected) { /* the client connected it (api_state.c checked it) */
        fd = m->opts.fd;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX */
        set_timeouts(fd);
    } else {
        rc = tcp_open(m->to, false, &fd);
    }
    if (!rc)
        rc = migrate_run(m, fd, &downtime);
    bool committed = rc == 1;
    if (committed)
        rc = 0;
    /* Tracking off (the bitmap stays allocated: see the file comment). */
    __atomic_store_n(&m->vm->bus.dirty, NULL, __ATOMIC_RELEASE);
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&m->lock);
    m->st.state = rc ? RV_MIGRATE_FAILED : RV_MIGRATE_DONE;
    m->st.downtime_ns = downtime;
    m->st.total_ns = now_ns() - t0;
    if (rc)
        snprintf(m->st.error, sizeof(m->st.error), "%s", rv_error_get());
    pthread_mutex_unlock(&m->lock);
    if (rc)
        rv_warn("migration to %s failed: %s (the VM keeps running here)", m->to, rv_error_get());
    if (committed) {
        rv_info("migrated to %s", m->to);
        vm_power(m->vm, VM_POWER_OFF, 0);
    }
    return NULL;
}

int rv_migrate_connect(const char *to)
{
    int fd = -1;
    int rc = tcp_open(to, false, &fd);
    return rc ? rc : fd;
}

static void migration_join(struct vm_migration *m)
{
    if (m && m->thread_started) {
        pthread_join(m->thread, NULL);
        m->thread_started = false;
    }
}

void vm_migration_free(struct rv_vm *vm)
{
    struct vm_migration *m = vm->migration;
    if (!m)
        return;
    migration_join(m);
    pthread_mutex_destroy(&m->lock);
    free(m->bitmap);
    free(m->pending);
    free(m);
    vm->migration = NULL;
}

int rv_vm_migrate_start(struct rv_vm *vm, const struct rv_migrate_opts *opts)
{
    char host[256], port[16];
    if (!opts->to || strlen(opts->to) >= sizeof(((struct vm_migration *)0)->to))
        return rv_error_set(-EINVAL, "migrate: bad destination");
    int rc = parse_tcp(opts->to, host, sizeof(host), port, sizeof(port));
    if (rc)
        return rc;
    struct vm_migration *m = vm->migration;
    if (m) {
        rc = vm_migration_busy(vm);
        if (rc)
            return rc;
        migration_join(m);
    } else {
        m = calloc(1, sizeof(*m));
        size_t npages = vm->bus.ram_size / RV_PAGE_SIZE;
        if (m) {
            m->words = (npages + 63) / 64;
            m->bitmap = calloc(m->words, 8);
            m->pending = calloc(m->words, 8);
        }
        if (!m || !m->bitmap || !m->pending) {
            if (m) {
                free(m->bitmap);
                free(m->pending);
            }
            free(m);
            return rv_error_set(-ENOMEM, "out of memory");
        }
        m->vm = vm;
        pthread_mutex_init(&m->lock, NULL);
        vm->migration = m;
    }
    memset(m->bitmap, 0, m->words * 8);
    memset(m->pending, 0, m->words * 8);
    m->opts = *opts;
    snprintf(m->to, sizeof(m->to), "%s", opts->to);
    m->opts.to = m->to;
    pthread_mutex_lock(&m->lock);
    m->acked = false;
    m->st = (struct rv_migrate_status){.state = RV_MIGRATE_ACTIVE,
                                       .ram_pages = vm->bus.ram_size / RV_PAGE_SIZE};
    pthread_mutex_unlock(&m->lock);
    rc = pthread_create(&m->thread, NULL, migrate_thread, m);
    if (rc) {
        m->st.state = RV_MIGRATE_FAILED;
        return rv_error_set(-rc, "cannot start the migration thread");
    }
    m->thread_started = true;
    return 0;
}

void rv_vm_migrate_status(struct rv_vm *vm, struct rv_migrate_status *out)
{
    struct vm_migration *m = vm->migration;
    if (!m) {
        *out = (struct rv_migrate_status){.state = RV_MIGRATE_NONE};
        return;
    }
    pthread_mutex_lock(&m->lock);
    *out = m->st;
    pthread_mutex_unlock(&m->lock);
}

int vm_migration_busy(struct rv_vm *vm)
{
    struct vm_migration *m = vm->migration;
    if (!m)
        return 0;
    pthread_mutex_lock(&m->lock);
    bool active = m->st.state == RV_MIGRATE_ACTIVE, unsure = m->unconfirmed;
    pthread_mutex_unlock(&m->lock);
    if (active)
        return rv_error_set(-EBUSY, "a migration is under way");
    if (unsure)
        return rv_error_set(-EBUSY, "the last migration's hand-over is unconfirmed: resume or "
                                    "kill the VM first");
    return 0;
}

int vm_migration_release(struct rv_vm *vm)
{
    struct vm_migration *m = vm->migration;
    if (!m)
        return rv_error_set(-EBUSY, "a migration is finishing: the VM stays paused");
    pthread_mutex_lock(&m->lock);
    bool release = m->unconfirmed && m->st.state == RV_MIGRATE_FAILED;
    m->unconfirmed = false;
    pthread_mutex_unlock(&m->lock);
    if (!release)
        return rv_error_set(-EBUSY, "a migration is finishing: the VM stays paused");
    rv_warn("resuming after an unconfirmed hand-over (the destination must not be running)");
    vm_devices_resume(vm);
    vm->migration_final = false;
    return 0;
}

void rv_vm_migrate_ack(struct rv_vm *vm)
{
    struct vm_migration *m = vm->migration;
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    if (m->st.state == RV_MIGRATE_DONE)
        m->acked = true;
    pthread_mutex_unlock(&m->lock);
}

void rv_vm_migrate_linger(struct rv_vm *vm, unsigned max_ms)
{
    struct vm_migration *m = vm->migration;
    for (unsigned t = 0; m && t < max_ms; t += 20) {
        pthread_mutex_lock(&m->lock);
        bool wait = m->st.state == RV_MIGRATE_DONE && !m->acked;
        pthread_mutex_unlock(&m->lock);
        if (!wait)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* --- destination --- */

int rv_vm_incoming(const char *from, const struct rv_restore_opts *console, struct rv_vm **out)
{
    int fd;
    int rc = tcp_open(from, true, &fd);
    if (rc)
        return rc;
    struct rv_stream s;
    rv_stream_init_fd(&s, fd, "migration stream");
    rc = rv_stream_read_header(&s);
    struct vm_loader_opts lo = {.ro = console};
    struct rv_vm *vm = NULL;
    if (!rc)
        rc = vm_state_load(&s, &lo, &vm);
    char go = 0;
    if (!rc && send(fd, &(char){ACK_READY}, 1, MSG_NOSIGNAL) != 1)
        rc = rv_error_set(-ECONNABORTED, "migration stream: connection lost at the hand-over");
    if (!rc && (recv(fd, &go, 1, 0) != 1 || go != ACK_GO))
        rc = rv_error_set(-ECONNABORTED, "migration stream: the source did not hand over");
    /* The source handed over for good once it sent 'G' (it never resumes on its own after
     * that), so this side starts even if 'A' is lost: the source then waits paused. */
    if (!rc)
        (void)send(fd, &(char){ACK_STARTED}, 1, MSG_NOSIGNAL);
    close(fd);
    if (rc) {
        rv_vm_destroy(vm);
        return rc;
    }
    *out = vm;
    return 0;
}
