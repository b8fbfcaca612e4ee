/* Write-back caches of cluster-sized metadata tables: L2 tables and refcount blocks, with
 * least-recently-used replacement.
 *
 * A dirty refcount block can be written at any time (a refcount that is too high only leaks).
 * A dirty L2 table may reference clusters whose refcounts are still in the refcount cache, so
 * before any L2 table is written, qcow2_barrier_before_reference() writes the refcount blocks
 * and syncs (qcow2.h has the whole ordering). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/error.h"

int qcow2_cache_init(struct qcow2_cache *c, struct qcow2 *q, int n, bool is_l2)
{
    memset(c, 0, sizeof(*c));
    c->q = q;
    c->is_l2 = is_l2;
    c->e = calloc((size_t)n, sizeof(*c->e));
    if (!c->e)
        return rv_error_set(-ENOMEM, "out of memory");
    c->n = n;
    for (int i = 0; i < n; i++) {
        c->e[i].data = rv_file_alloc(q->cluster_size);
        if (!c->e[i].data)
            return rv_error_set(-ENOMEM, "out of memory");
    }
    return 0;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
    for (int i = 0; c->e && i < c->n; i++)
        free(c->e[i].data);
    free(c->e);
    c->e = NULL;
    c->n = 0;
}

static int cache_write(struct qcow2_cache *c, struct qcow2_cache_entry *e)
{
    struct qcow2 *q = c->q;
    if (!e->dirty)
        return 0;
    if (c->is_l2) {
        int rc = qcow2_barrier_before_reference(q);
        if (rc < 0)
            return rc;
    }
    int rc = rv_file_pwrite(&q->file, e->offset, e->data, q->cluster_size);
    if (rc < 0)
        return rc;
    e->dirty = false;
    if (!c->is_l2)
        q->need_sync = true;
    return 0;
}

static struct qcow2_cache_entry *cache_find(const struct qcow2_cache *c, uint64_t offset)
{
    for (int i = 0; i < c->n; i++)
        if (c->e[i].offset == offset)
            return &c->e[i];
    return NULL;
}

/* A slot for a new table: an empty one, or the least recently used (written back first). */
static int cache_victim(struct qcow2_cache *c, struct qcow2_cache_entry **out)
{
    struct qcow2_cache_entry *v = &c->e[0];
    for (int i = 0; i < c->n; i++) {
        if (c->e[i].offset == 0) {
            v = &c->e[i];
            break;
        }
        if (c->e[i].lru < v->lru)
            v = &c->e[i];
    }
    int rc = cache_write(c, v);
    if (rc < 0)
        return rc;
    v->offset = 0;
    *out = v;
    return 0;
}

int qcow2_cache_get(struct qcow2_cache *c, uint64_t offset, uint8_t **data)
{
    struct qcow2_cache_entry *e = cache_find(c, offset);
    if (!e) {
        int rc = cache_victim(c, &e);
        if (rc < 0)
            return rc;
        rc = rv_file_pread(&c->q->file, offset, e->data, c->q->cluster_size);
        if (rc < 0)
            return rc;
        e->offset = offset;
        e->dirty = false;
    }
    e->lru = ++c->tick;
    *data = e->data;
    return 0;
}

int qcow2_cache_get_empty(struct qcow2_cache *c, uint64_t offset, uint8_t **data)
{
    struct qcow2_cache_entry *e = cache_find(c, offset);
    if (!e) {
        int rc = cache_victim(c, &e);
        if (rc < 0)
            return rc;
        e->offset = offset;
    }
    memset(e->data, 0, c->q->cluster_size);
    e->dirty = true;
    e->lru = ++c->tick;
    *data = e->data;
    return 0;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, uint64_t offset)
{
    struct qcow2_cache_entry *e = cache_find(c, offset);
    if (e)
        e->dirty = true;
}

int qcow2_cache_flush(struct qcow2_cache *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->e[i].offset && c->e[i].dirty) {
            int rc = cache_write(c, &c->e[i]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

bool qcow2_cache_overlaps(const struct qcow2_cache *c, uint64_t offset, uint64_t len)
{
    for (int i = 0; i < c->n; i++) {
        uint64_t o = c->e[i].offset;
        if (o && o < offset + len && offset < o + c->q->cluster_size)
            return true;
    }
    return false;
}

void qcow2_cache_discard(struct qcow2_cache *c, uint64_t offset)
{
    struct qcow2_cache_entry *e = cache_find(c, offset);
    if (e) {
        e->offset = 0;
        e->dirty = false;
        e->lru = 0;
    }
}
