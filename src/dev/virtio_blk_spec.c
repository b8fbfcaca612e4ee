/* The --disk specification of a virtio-blk device (virtio_blk.h, rv_virtio_blk_parse_spec). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/token_bucket.h"
#include "dev/virtio_blk.h"

/* --- --disk PATH[,key[=value]...] --- */

/* iops=N or bw=BYTES (K, M, G suffixes): a positive rate up to RV_TB_MAX. */
static int parse_rate(const char *key, const char *val, uint64_t *out, bool bytes)
{
    if (rv_tb_parse_rate(val, bytes, out))
        return rv_error_set(-EINVAL, "disk: %s=%s: expected a rate of 1..%llu%s per second", key,
                            val, (unsigned long long)RV_TB_MAX, bytes ? " bytes (K, M, G)" : "");
    return 0;
}

static int parse_option(const char *opt, size_t len, struct rv_block_opts *o, unsigned *seen)
{
    char buf[64];
    if (len == 0)
        return rv_error_set(-EINVAL, "disk: empty option");
    if (len >= sizeof(buf))
        return rv_error_set(-EINVAL, "disk: unknown option '%.*s'", (int)len, opt);
    memcpy(buf, opt, len);
    buf[len] = '\0';
    char *val = strchr(buf, '=');
    if (val)
        *val++ = '\0';
    static const char *const keys[] = {"format", "readonly", "cache", "iops", "bw"};
    unsigned k = 0;
    while (k < 5 && strcmp(buf, keys[k]) != 0)
        k++;
    if (k == 5)
        return rv_error_set(-EINVAL, "disk: unknown option '%s' (known: format, readonly, "
                            "cache, iops, bw)", buf);
    if (*seen & (1u << k))
        return rv_error_set(-EINVAL, "disk: option '%s' given twice", buf);
    *seen |= 1u << k;
    if (k == 1) {
        if (val)
            return rv_error_set(-EINVAL, "disk: option 'readonly' takes no value");
        o->readonly = true;
        return 0;
    }
    if (!val)
        return rv_error_set(-EINVAL, "disk: option '%s' needs a value", buf);
    if (k >= 3)
        return parse_rate(buf, val, k == 3 ? &o->iops : &o->bps, k == 4);
    if (k == 0) {
        if (!strcmp(val, "raw"))
            o->format = RV_BLOCK_RAW;
        else if (!strcmp(val, "qcow2"))
            o->format = RV_BLOCK_QCOW2;
        else
            return rv_error_set(-EINVAL, "disk: format must be raw or qcow2, not '%s'", val);
    } else {
        if (!strcmp(val, "writeback"))
            o->cache = RV_CACHE_WRITEBACK;
        else if (!strcmp(val, "none"))
            o->cache = RV_CACHE_NONE;
        else if (!strcmp(val, "unsafe"))
            o->cache = RV_CACHE_UNSAFE;
        else
            return rv_error_set(-EINVAL,
                                "disk: cache must be writeback, none or unsafe, not '%s'", val);
    }
    return 0;
}

int rv_virtio_blk_parse_spec(const char *spec, char **path_out, struct rv_block_opts *opts)
{
    *path_out = NULL;
    *opts = (struct rv_block_opts){.format = RV_BLOCK_AUTO, .cache = RV_CACHE_WRITEBACK};
    size_t n = strlen(spec), i = 0, j = 0;
    char *path = malloc(n + 1);
    if (!path)
        return rv_error_set(-ENOMEM, "disk: out of memory");
    while (i < n) {
        if (spec[i] == ',') {
            if (spec[i + 1] != ',')
                break;
            i++; /* ",," is a comma in the path */
        }
        path[j++] = spec[i++];
    }
    path[j] = '\0';
    if (j == 0) {
        free(path);
        return rv_error_set(-EINVAL, "disk: no image path in '%s'", spec);
    }
    unsigned seen = 0;
    while (i < n) {
        i++; /* the comma */
        size_t len = strcspn(spec + i, ",");
        int rc = parse_option(spec + i, len, opts, &seen);
        if (rc) {
            free(path);
            return rc;
        }
        i += len;
    }
    *path_out = path;
    return 0;
}
