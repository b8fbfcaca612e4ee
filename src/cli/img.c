/* `rvisor img create|info|check`: a thin front end over the block library's image tools
 * (src/block/block.h). Output and exit statuses follow `qemu-img` where it has an equivalent:
 * check exits 0 (clean), 1 (the check could not run), 2 (corruption), 3 (leaks only) and 63
 * (the format has no metadata to check). */
#include "cli/img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "core/error.h"

#define IMG_MAX_CHAIN 16

static void img_usage(FILE *out)
{
    fprintf(out,
        "usage: rvisor img create [-f raw|qcow2] [-b BACKING [-F raw|qcow2]] [-o cluster_size=N]\n"
        "                         FILE [SIZE]\n"
        "       rvisor img info [-f raw|qcow2] FILE\n"
        "       rvisor img check [-r leaks|all] FILE\n"
        "\n"
        "SIZE and N take K, M, G, T suffixes (powers of 1024); plain numbers are bytes. With a\n"
        "backing file, SIZE defaults to the backing file's size; a relative BACKING is resolved\n"
        "against the directory of FILE.\n"
        "check exit status: 0 no errors, 2 corruption, 3 leaked clusters only, 1 the check\n"
        "could not run, 63 the format has nothing to check (raw).\n");
}

static int parse_img_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    case 'b': case 'B': end++; break;
    default: break;
    }
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_format(const char *s, enum rv_block_format *f)
{
    if (strcmp(s, "raw") == 0)
        *f = RV_BLOCK_RAW;
    else if (strcmp(s, "qcow2") == 0)
        *f = RV_BLOCK_QCOW2;
    else
        return -1;
    return 0;
}

/* "1 GiB" style, as qemu-img prints sizes. */
static void human(uint64_t v, char *buf, size_t len)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    double d = (double)v;
    while (d >= 1024 && u < 6) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%" PRIu64 " B", v);
    else
        snprintf(buf, len, "%.3g %s", d, units[u]);
}

static int img_fail(const char *what)
{
    fprintf(stderr, "rvisor img %s: %s\n", what, rv_error_get());
    return 1;
}

static int img_create(int argc, char **argv)
{
    struct rv_block_create_opts o = {.format = RV_BLOCK_QCOW2};
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_arg = i + 1 < argc;
        if (strcmp(a, "-f") == 0 && has_arg) {
            if (parse_format(argv[++i], &o.format) < 0)
                goto bad;
        } else if (strcmp(a, "-b") == 0 && has_arg) {
            o.backing_file = argv[++i];
        } else if (strcmp(a, "-F") == 0 && has_arg) {
            if (parse_format(argv[++i], &o.backing_format) < 0)
                goto bad;
        } else if (strcmp(a, "-o") == 0 && has_arg) {
            const char *opt = argv[++i];
            uint64_t cs;
            if (strncmp(opt, "cluster_size=", 13) != 0 || parse_img_size(opt + 13, &cs) < 0 ||
                cs > UINT32_MAX) {
                fprintf(stderr, "rvisor img create: unknown option '%s' (only "
                        "cluster_size=N)\n", opt);
                return 1;
            }
            o.cluster_size = (uint32_t)cs;
        } else if (a[0] == '-' && a[1] != '\0') {
            goto bad;
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            goto bad;
        }
    }
    if (npos < 1 || (npos < 2 && !o.backing_file))
        goto bad;
    if (npos == 2 && parse_img_size(pos[1], &o.size) < 0) {
        fprintf(stderr, "rvisor img create: invalid size '%s'\n", pos[1]);
        return 1;
    }
    if (o.format == RV_BLOCK_RAW && o.backing_file) {
        fprintf(stderr, "rvisor img create: raw images cannot have a backing file\n");
        return 1;
    }
    if (rv_block_create(pos[0], &o) < 0)
        return img_fail("create");
    printf("Formatting '%s', fmt=%s size=%" PRIu64 "%s%s\n", pos[0],
           rv_block_format_name(o.format == RV_BLOCK_RAW ? RV_BLOCK_RAW : RV_BLOCK_QCOW2),
           o.size, o.backing_file ? " backing_file=" : "", o.backing_file ? o.backing_file : "");
    return 0;
bad:
    img_usage(stderr);
    return 1;
}

static void print_info(const char *path, const struct rv_block_info *in)
{
    char vs[32], ds[32];
    human(in->virtual_size, vs, sizeof(vs));
    human(in->disk_size, ds, sizeof(ds));
    printf("image: %s\n", path);
    printf("file format: %s\n", rv_block_format_name(in->format));
    printf("virtual size: %s (%" PRIu64 " bytes)\n", vs, in->virtual_size);
    printf("disk size: %s\n", ds);
    if (in->format != RV_BLOCK_QCOW2)
        return;
    printf("cluster_size: %" PRIu32 "\n", in->cluster_size);
    if (in->backing_file[0]) {
        printf("backing file: %s", in->backing_file);
        if (strcmp(in->backing_file, in->backing_path) != 0)
            printf(" (actual path: %s)", in->backing_path);
        printf("\n");
        if (in->backing_format != RV_BLOCK_AUTO)
            printf("backing file format: %s\n", rv_block_format_name(in->backing_format));
    }
    printf("Format specific information:\n");
    printf("    compat: %s\n", in->version == 2 ? "0.10" : "1.1");
    printf("    refcount bits: %u\n", in->refcount_bits);
    printf("    lazy refcounts: %s\n", in->lazy_refcounts ? "true" : "false");
    printf("    snapshots: %" PRIu32 "\n", in->snapshots);
    printf("    dirty: %s\n", in->dirty ? "true" : "false");
    printf("    corrupt: %s\n", in->corrupt ? "true" : "false");
}

static int img_info(int argc, char **argv)
{
    enum rv_block_format fmt = RV_BLOCK_AUTO;
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            if (parse_format(argv[++i], &fmt) < 0)
                goto bad;
        } else if (argv[i][0] == '-' || file) {
            goto bad;
        } else {
            file = argv[i];
        }
    }
    if (!file)
        goto bad;
    /* The image, then each image of its backing chain. */
    struct rv_block_info info;
    char path[sizeof(info.backing_path)];
    snprintf(path, sizeof(path), "%s", file);
    for (int depth = 0;; depth++) {
        if (depth > IMG_MAX_CHAIN) {
            fprintf(stderr, "rvisor img info: backing chain longer than %d images\n",
                    IMG_MAX_CHAIN);
            return 1;
        }
        if (rv_block_info_get(path, fmt, &info) < 0)
            return img_fail("info");
        if (depth > 0)
            printf("\n");
        print_info(path, &info);
        if (!info.backing_file[0])
            return 0;
        snprintf(path, sizeof(path), "%s", info.backing_path);
        fmt = info.backing_format;
    }
bad:
    img_usage(stderr);
    return 1;
}

static void check_report(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

static void check_summary(const struct rv_block_check_result *r)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0)
        printf("No errors were found on the image.\n");
    if (r->corruptions)
        printf("\n%" PRIu64 " errors were found on the image.\nData may be corrupted, or "
               "further writes to the image may corrupt it.\n", r->corruptions);
    if (r->leaks)
        printf("\n%" PRIu64 " leaked clusters were found on the image.\nThis means waste of "
               "disk space, but no harm to data.\n", r->leaks);
    if (r->check_errors)
        printf("\n%" PRIu64 " internal errors have occurred during the check.\n",
               r->check_errors);
    if (r->total_clusters)
        printf("%" PRIu64 "/%" PRIu64 " = %.2f%% allocated\n", r->allocated_clusters,
               r->total_clusters, 100.0 * (double)r->allocated_clusters /
               (double)r->total_clusters);
    printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
}

static int img_check(int argc, char **argv)
{
    struct rv_block_check_opts o = {.report = check_report};
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "leaks") == 0)
                o.repair_leaks = true;
            else if (strcmp(m, "all") == 0)
                o.repair_leaks = o.repair_all = true;
            else
                goto bad;
        } else if (argv[i][0] == '-' || file) {
            goto bad;
        } else {
            file = argv[i];
        }
    }
    if (!file)
        goto bad;
    struct rv_block_check_result r;
    int rc = rv_block_check(file, &o, &r);
    if (rc == -ENOTSUP) {
        fprintf(stderr, "rvisor img check: %s\n", rv_error_get());
        return 63;
    }
    if (rc < 0)
        return img_fail("check");
    if (o.repair_leaks || o.repair_all) {
        if (r.leaks_fixed || r.corruptions_fixed)
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
                   "Double checking the fixed image now...\n", r.leaks_fixed,
                   r.corruptions_fixed);
        struct rv_block_check_opts again = {.report = check_report};
        if (rv_block_check(file, &again, &r) < 0)
            return img_fail("check");
    }
    check_summary(&r);
    if (r.check_errors)
        return 1;
    return r.corruptions ? 2 : r.leaks ? 3 : 0;
bad:
    img_usage(stderr);
    return 1;
}

int rv_cli_img(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        img_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 1 : 0;
    }
    if (strcmp(argv[0], "create") == 0)
        return img_create(argc - 1, argv + 1);
    if (strcmp(argv[0], "info") == 0)
        return img_info(argc - 1, argv + 1);
    if (strcmp(argv[0], "check") == 0)
        return img_check(argc - 1, argv + 1);
    fprintf(stderr, "rvisor img: unknown command '%s'\n", argv[0]);
    img_usage(stderr);
    return 1;
}
