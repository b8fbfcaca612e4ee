/* `rvisor vol ...`: the volume manager's command line, a thin front end over
 * src/block/volume/ (docs/volumes.md). Exit status: 0 success, 1 failure; check: 2 when
 * errors were found. */
#include "cli/vol.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/nbd.h"
#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"

struct vol_args {
    const char *devices;
    const char *pos[VOL_MAX_PVS + 2];
    int npos;
    uint64_t size, extent_size, stripe_size, mda_size, chunk_size, meta_size;
    unsigned stripes, mirrors;
    bool json, shrink, readonly, thin_pool, thin;
    const char *to, *lv, *nbd, *pool, *name;
};

static void vol_usage(FILE *out)
{
    fprintf(out,
        "usage: rvisor vol [--devices FILE] COMMAND ...\n"
        "  pv-create PATH... [--mda-size SIZE]    label files/block devices as PVs\n"
        "  vg-create VG PV... [--extent-size SIZE] (default 4M)\n"
        "  vg-extend VG PV...      vg-reduce VG PV      vg-remove VG\n"
        "  lv-create VG/LV --size SIZE [--stripes N [--stripe-size SIZE]] [--mirrors 1]\n"
        "  lv-create VG/POOL --thin-pool --size SIZE [--chunk-size S] [--metadata-size S]\n"
        "  lv-create VG/LV --thin --pool POOL --size VIRTUAL-SIZE   (allocated on write)\n"
        "  lv-snapshot VG/LV --name SNAP [--pool POOL]  (thin: in its pool; others: --pool)\n"
        "  lv-merge VG/SNAP        the origin takes the snapshot's contents; SNAP goes away\n"
        "  lv-remove VG/LV\n"
        "  lv-resize VG/LV --size SIZE [--shrink]  (online for growing: VMs see the new size)\n"
        "  pv-move VG PV [--to PV] [--lv LV]      (the LVs must not be in use)\n"
        "  pvs | vgs | lvs [--json]\n"
        "  check [VG]   repair [VG]\n"
        "  serve --nbd [HOST:]PORT [--readonly]   export every LV over NBD (127.0.0.1)\n"
        "\n"
        "SIZE takes K, M, G, T suffixes (powers of 1024); plain numbers are bytes.\n"
        "PVs are found through the devices list: --devices FILE, $RVISOR_VOL_DEVICES, or\n"
        "~/.config/rvisor/vol-devices (pv-create adds to it). VMs use LVs as --disk vol:VG/LV.\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (errno || end == s)
        return -1;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int fail(const char *cmd)
{
    fprintf(stderr, "rvisor vol %s: %s\n", cmd, rv_error_get());
    return 1;
}

static int parse_args(int argc, char **argv, struct vol_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool sized = strcmp(o, "--size") == 0 || strcmp(o, "--extent-size") == 0 ||
                     strcmp(o, "--stripe-size") == 0 || strcmp(o, "--mda-size") == 0 ||
                     strcmp(o, "--chunk-size") == 0 || strcmp(o, "--metadata-size") == 0;
        if (strcmp(o, "--json") == 0) {
            a->json = true;
        } else if (strcmp(o, "--shrink") == 0) {
            a->shrink = true;
        } else if (strcmp(o, "--readonly") == 0) {
            a->readonly = true;
        } else if (strcmp(o, "--thin-pool") == 0) {
            a->thin_pool = true;
        } else if (strcmp(o, "--thin") == 0) {
            a->thin = true;
        } else if (strncmp(o, "--", 2) != 0) {
            if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0])))
                return rv_error_set(-E2BIG, "too many arguments");
            a->pos[a->npos++] = o;
        } else if (!v) {
            return rv_error_set(-EINVAL, "%s needs a value", o);
        } else if (sized) {
            uint64_t *dst = strcmp(o, "--size") == 0 ? &a->size :
                            strcmp(o, "--extent-size") == 0 ? &a->extent_size :
                            strcmp(o, "--stripe-size") == 0 ? &a->stripe_size :
                            strcmp(o, "--chunk-size") == 0 ? &a->chunk_size :
                            strcmp(o, "--metadata-size") == 0 ? &a->meta_size : &a->mda_size;
            if (parse_size(v, dst))
                return rv_error_set(-EINVAL, "%s: bad size '%s'", o, v);
            i++;
        } else if (strcmp(o, "--stripes") == 0 || strcmp(o, "--mirrors") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > VOL_MAX_PVS)
                return rv_error_set(-EINVAL, "%s: bad number '%s'", o, v);
            *(o[2] == 's' ? &a->stripes : &a->mirrors) = (unsigned)n;
            i++;
        } else if (strcmp(o, "--devices") == 0 || strcmp(o, "--to") == 0 ||
                   strcmp(o, "--lv") == 0 || strcmp(o, "--nbd") == 0 ||
                   strcmp(o, "--pool") == 0 || strcmp(o, "--name") == 0) {
            *(strcmp(o, "--devices") == 0 ? &a->devices : strcmp(o, "--to") == 0 ? &a->to :
              strcmp(o, "--lv") == 0 ? &a->lv : strcmp(o, "--nbd") == 0 ? &a->nbd :
              strcmp(o, "--pool") == 0 ? &a->pool : &a->name) = v;
            i++;
        } else {
            return rv_error_set(-EINVAL, "unknown option '%s'", o);
        }
    }
    return 0;
}

/* "VG/LV" into its parts (vg must hold VOL_NAME_MAX + 1). */
static int split_lv(const char *s, char *vg, const char **lv)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash == s || (size_t)(slash - s) > VOL_NAME_MAX || !slash[1])
        return rv_error_set(-EINVAL, "'%s': expected VG/LV", s ? s : "");
    memcpy(vg, s, (size_t)(slash - s));
    vg[slash - s] = 0;
    *lv = slash + 1;
    return 0;
}

static int need(const struct vol_args *a, int min, int max)
{
    if (a->npos < min || a->npos > max)
        return rv_error_set(-EINVAL, "wrong number of arguments (see rvisor vol --help)");
    return 0;
}

static int cmd_lv_create(const struct vol_args *a)
{
    char vg[VOL_NAME_MAX + 1];
    struct vol_lv_spec spec = {.type = VOL_LINEAR, .size = a->size, .stripes = a->stripes,
                               .stripe_size = a->stripe_size};
    int rc = need(a, 1, 1);
    if (!rc)
        rc = split_lv(a->pos[0], vg, &spec.name);
    if (!rc && !a->size)
        rc = rv_error_set(-EINVAL, "--size is required");
    if (!rc && a->stripes > 1 && a->mirrors)
        rc = rv_error_set(-EINVAL, "--stripes and --mirrors cannot be combined");
    if (!rc && a->mirrors > 1)
        rc = rv_error_set(-EINVAL, "--mirrors 1 (two legs) is the only mirror layout");
    if (!rc && (a->thin_pool || a->thin) && (a->stripes || a->mirrors))
        rc = rv_error_set(-EINVAL, "thin pools and thin volumes are neither striped nor mirrored");
    if (!rc && a->thin_pool)
        return vol_thin_pool_create(a->devices, vg, spec.name, a->size, a->chunk_size,
                                    a->meta_size);
    if (!rc && a->thin)
        return a->pool ? vol_thin_create(a->devices, vg, spec.name, a->pool, a->size)
                       : rv_error_set(-EINVAL, "--thin needs --pool POOL");
    if (a->stripes > 1)
        spec.type = VOL_STRIPED;
    if (a->mirrors == 1)
        spec.type = VOL_MIRROR;
    return rc ? rc : vol_lv_create(a->devices, vg, &spec);
}

static int cmd_lv(const char *cmd, const struct vol_args *a)
{
    char vg[VOL_NAME_MAX + 1];
    const char *lv = NULL;
    int rc = need(a, 1, 1);
    if (!rc)
        rc = split_lv(a->pos[0], vg, &lv);
    if (rc)
        return rc;
    if (strcmp(cmd, "lv-remove") == 0)
        return vol_lv_remove(a->devices, vg, lv);
    if (strcmp(cmd, "lv-merge") == 0)
        return vol_snapshot_merge(a->devices, vg, lv);
    if (strcmp(cmd, "lv-snapshot") == 0)
        return a->name ? vol_snapshot_create(a->devices, vg, lv, a->name, a->pool)
                       : rv_error_set(-EINVAL, "--name SNAPSHOT is required");
    if (!a->size)
        return rv_error_set(-EINVAL, "--size is required");
    return vol_lv_resize(a->devices, vg, lv, a->size, a->shrink);
}

static void print_msg(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

static int cmd_check(const struct vol_args *a, bool repair)
{
    struct vol_check_result res;
    if (need(a, 0, 1) || vol_check(a->devices, a->npos ? a->pos[0] : NULL, repair, print_msg,
                                   NULL, &res))
        return fail(repair ? "repair" : "check");
    printf("%u errors, %u warnings%s", res.errors, res.warnings, repair ? "" : "\n");
    if (repair)
        printf(", %u repaired\n", res.repaired);
    return res.errors ? 2 : 0;
}

static int cmd_serve(const struct vol_args *a)
{
    if (!a->nbd)
        return rv_error_set(-EINVAL, "serve needs --nbd [HOST:]PORT");
    return rv_nbd_serve(a->devices, a->nbd, a->readonly);
}

static int dispatch(const char *cmd, struct vol_args *a)
{
    if (strcmp(cmd, "pv-create") == 0) {
        int rc = need(a, 1, VOL_MAX_PVS);
        for (int i = 0; i < a->npos && !rc; i++)
            rc = vol_pv_create(a->devices, a->pos[i], a->mda_size);
        return rc;
    }
    if (strcmp(cmd, "vg-create") == 0 || strcmp(cmd, "vg-extend") == 0) {
        int rc = need(a, 2, VOL_MAX_PVS + 1);
        if (rc)
            return rc;
        if (cmd[3] == 'c')
            return vol_vg_create(a->devices, a->pos[0], a->extent_size, a->pos + 1,
                                 (unsigned)a->npos - 1);
        return vol_vg_extend(a->devices, a->pos[0], a->pos + 1, (unsigned)a->npos - 1);
    }
    if (strcmp(cmd, "vg-reduce") == 0)
        return need(a, 2, 2) ? -EINVAL : vol_vg_reduce(a->devices, a->pos[0], a->pos[1]);
    if (strcmp(cmd, "vg-remove") == 0)
        return need(a, 1, 1) ? -EINVAL : vol_vg_remove(a->devices, a->pos[0]);
    if (strcmp(cmd, "lv-create") == 0)
        return cmd_lv_create(a);
    if (strcmp(cmd, "lv-remove") == 0 || strcmp(cmd, "lv-resize") == 0 ||
        strcmp(cmd, "lv-snapshot") == 0 || strcmp(cmd, "lv-merge") == 0)
        return cmd_lv(cmd, a);
    if (strcmp(cmd, "pv-move") == 0)
        return need(a, 2, 2) ? -EINVAL : vol_pv_move(a->devices, a->pos[0], a->pos[1], a->to,
                                                     a->lv);
    if (strcmp(cmd, "pvs") == 0 || strcmp(cmd, "vgs") == 0 || strcmp(cmd, "lvs") == 0)
        return rv_cli_vol_report(cmd, a->devices, a->json);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(a);
    return rv_error_set(-EINVAL, "unknown command '%s' (see rvisor vol --help)", cmd);
}

int rv_cli_vol(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        vol_usage(argc < 1 ? stderr : stdout);
        return argc < 1;
    }
    struct vol_args a = {.npos = 0};
    int first = 0;
    if (strcmp(argv[0], "--devices") == 0 && argc >= 3) {
        a.devices = argv[1];
        first = 2;
    }
    const char *cmd = argv[first];
    if (parse_args(argc - first - 1, argv + first + 1, &a))
        return fail(cmd);
    /* The vol: block backend (serve) finds the PVs through the environment, like a VM. */
    if (a.devices && setenv("RVISOR_VOL_DEVICES", a.devices, 1) < 0)
        return fail(cmd);
    if (strcmp(cmd, "check") == 0 || strcmp(cmd, "repair") == 0)
        return cmd_check(&a, cmd[0] == 'r');
    if (dispatch(cmd, &a))
        return fail(cmd);
    return 0;
}
