/* The configuration table of managed VMs (mgr_config.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mgr_config.h"

enum opt_kind {
    OPT_PATH,      /* an absolute file path */
    OPT_SPEC_PATH, /* "PATH[,key=value...]" with an absolute PATH, or a named backend
                      such as "vol:VG/LV" (--disk) */
    OPT_TEXT,      /* any string without NUL (--append, --net) */
    OPT_SIZE,      /* integer MiB, or a string N[K|M|G] as `rvisor run` takes it */
    OPT_INT,       /* an integer in min..max */
    OPT_CHOICE,    /* one of the comma-separated words of `choices` */
    OPT_FLAG,      /* a boolean: true gives the bare option, false nothing */
};

struct opt {
    const char *name;    /* the JSON field and `rvisor run --NAME` */
    enum opt_kind kind;
    unsigned max_items;  /* 0: one value; N: an array of 1..N values, one option each */
    long long min, max;  /* OPT_INT: values; OPT_SIZE: MiB; strings: the longest length */
    const char *choices; /* OPT_CHOICE */
    const char *doc;
};

/* `rvisor run`'s options, in the order they are passed. Add a line for a new option. */
static const struct opt opts[] = {
    {"kernel", OPT_PATH, 0, 0, 4096, NULL, "kernel Image, ELF or raw binary"},
    {"initrd", OPT_PATH, 0, 0, 4096, NULL, "initial ramdisk"},
    {"append", OPT_TEXT, 0, 0, 4096, NULL, "kernel command line"},
    {"bios", OPT_PATH, 0, 0, 4096, NULL, "M-mode firmware or bare-metal program"},
    {"dtb", OPT_PATH, 0, 0, 4096, NULL, "device tree blob instead of the generated one"},
    {"mem", OPT_SIZE, 0, 1, 65536, NULL, "guest RAM: MiB, or a string such as \"512M\""},
    {"smp", OPT_INT, 0, 1, 8, NULL, "vCPUs (harts)"},
    {"mmu", OPT_CHOICE, 0, 0, 0, "sv39,sv48,sv57", "largest virtual-memory scheme (satp mode)"},
    {"accel", OPT_CHOICE, 0, 0, 0, "jit,interp", "execution engine"},
    {"no-reboot", OPT_FLAG, 0, 0, 0, NULL, "a guest reboot ends the run"},
    {"disk", OPT_SPEC_PATH, 4, 0, 4096, NULL, "virtio-blk disks, `--disk` specs"},
    {"net", OPT_TEXT, 2, 0, 1024, NULL, "virtio-net NICs, `--net` specs"},
    {"rng", OPT_FLAG, 0, 0, 0, NULL, "virtio-rng"},
    {"balloon", OPT_FLAG, 0, 0, 0, NULL, "virtio-balloon"},
    {"virtio-console", OPT_FLAG, 0, 0, 0, NULL, "virtio-console (hvc0) for console input"},
    {"no-power-button", OPT_FLAG, 0, 0, 0, NULL, "no power button (virtio-input) for poweroff"},
    {"cpu-quota", OPT_INT, 0, 1, 100000, NULL, "CPU time limit in % of one CPU (cgroup)"},
    {"cpu-weight", OPT_INT, 0, 1, 10000, NULL, "CPU share (cgroup cpu.weight; nice without)"},
    {"no-sandbox", OPT_FLAG, 0, 0, 0, NULL, "no sandbox around the VM process (debugging)"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const kind_types[] = {
    [OPT_PATH] = "string", [OPT_SPEC_PATH] = "string", [OPT_TEXT] = "string",
    [OPT_SIZE] = "integer or string", [OPT_INT] = "integer", [OPT_CHOICE] = "string",
    [OPT_FLAG] = "boolean"};

static const struct opt *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static bool is_choice(const char *choices, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = choices; *p;) {
        size_t w = strcspn(p, ",");
        if (w == n && strncmp(p, s, n) == 0)
            return true;
        p += w + (p[w] == ',');
    }
    return false;
}

/* A size as `rvisor run --mem` takes it: N[K|M|G] (plain numbers are MiB), in MiB. */
static bool size_mib(const char *s, long long *mib)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 20;
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    if (errno || *end || v > (1ull << 40))
        return false;
    *mib = (long long)((v << shift) >> 20);
    return true;
}

/* Disk specs that name a backend instead of a file (a logical volume, docs/volumes.md). */
static bool named_backend(const char *spec)
{
    return strncmp(spec, "vol:", 4) == 0;
}

static int check_value(const struct opt *o, json_t *v, struct rv_api_error *err)
{
    const char *n = o->name;
    if (o->kind == OPT_FLAG)
        return json_is_boolean(v) ? 0
                                  : rv_api_fail(err, "invalid-argument",
                                                "config: '%s' must be a boolean", n);
    if (o->kind == OPT_INT || (o->kind == OPT_SIZE && json_is_integer(v))) {
        if (!json_is_integer(v))
            return rv_api_fail(err, "invalid-argument", "config: '%s' must be an integer", n);
        long long x = json_integer_value(v);
        if (x < o->min || x > o->max)
            return rv_api_fail(err, "invalid-argument", "config: '%s' must be %lld..%lld%s", n,
                               o->min, o->max, o->kind == OPT_SIZE ? " MiB" : "");
        return 0;
    }
    if (!json_is_string(v))
        return rv_api_fail(err, "invalid-argument", "config: '%s' must be a %s", n,
                           kind_types[o->kind]);
    const char *s = json_string_value(v);
    long long mib;
    if (strlen(s) != json_string_length(v))
        return rv_api_fail(err, "invalid-argument", "config: '%s' contains a NUL", n);
    if (o->kind == OPT_SIZE && (!size_mib(s, &mib) || mib < o->min || mib > o->max))
        return rv_api_fail(err, "invalid-argument",
                           "config: '%s' must be N[K|M|G] between %lld and %lld MiB", n, o->min,
                           o->max);
    if (o->kind == OPT_CHOICE && !is_choice(o->choices, s))
        return rv_api_fail(err, "invalid-argument", "config: '%s' must be one of %s", n,
                           o->choices);
    if ((o->kind == OPT_PATH || o->kind == OPT_SPEC_PATH || o->kind == OPT_TEXT) &&
        (long long)strlen(s) > o->max)
        return rv_api_fail(err, "invalid-argument", "config: '%s' is longer than %lld bytes",
                           n, o->max);
    if ((o->kind == OPT_PATH || o->kind == OPT_SPEC_PATH) && s[0] != '/' &&
        !(o->kind == OPT_SPEC_PATH && named_backend(s)))
        return rv_api_fail(err, "invalid-argument", "config: '%s' must be an absolute path",
                           n);
    if (o->kind == OPT_TEXT && o->max_items && !*s)
        return rv_api_fail(err, "invalid-argument", "config: '%s' has an empty item", n);
    return 0;
}

int rv_mgr_config_check(json_t *config, struct rv_api_error *err)
{
    if (!json_is_object(config))
        return rv_api_fail(err, "invalid-argument", "config must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(config, key, v) {
        const struct opt *o = find_opt(key);
        if (!o)
            return rv_api_fail(err, "invalid-argument",
                               "config: unknown field '%.40s' (fields are rvisor run's long "
                               "options: see docs/api.md)", key);
        if (!o->max_items) {
            int rc = check_value(o, v, err);
            if (rc)
                return rc;
            continue;
        }
        if (!json_is_array(v) || json_array_size(v) > o->max_items)
            return rv_api_fail(err, "invalid-argument",
                               "config: '%s' must be an array of at most %u items", key,
                               o->max_items);
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            int rc = check_value(o, item, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static void add_value(json_t *args, const struct opt *o, json_t *v)
{
    char opt[64], num[32];
    snprintf(opt, sizeof(opt), "--%s", o->name);
    if (o->kind == OPT_FLAG) {
        if (json_is_true(v))
            json_array_append_new(args, json_string(opt));
        return;
    }
    json_array_append_new(args, json_string(opt));
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        json_array_append_new(args, json_string(num));
    } else {
        json_array_append(args, v);
    }
}

json_t *rv_mgr_config_to_args(json_t *config)
{
    json_t *args = json_array();
    for (size_t i = 0; args && i < NOPTS; i++) {
        json_t *v = json_object_get(config, opts[i].name);
        if (!v)
            continue;
        if (!opts[i].max_items) {
            add_value(args, &opts[i], v);
            continue;
        }
        size_t k;
        json_t *item;
        json_array_foreach(v, k, item)
            add_value(args, &opts[i], item);
    }
    return args;
}

/* `path` joined to `base` when relative (new string). */
static json_t *absolute(const char *path, const char *base)
{
    if (path[0] == '/' || !base)
        return json_string(path);
    char *s;
    if (asprintf(&s, "%s/%s", base, path) < 0)
        return NULL;
    json_t *v = json_string(s);
    free(s);
    return v;
}

static int absolutize_value(const struct opt *o, json_t *holder, size_t index, const char *key,
                            const char *base)
{
    json_t *v = key ? json_object_get(holder, key) : json_array_get(holder, index);
    if ((o->kind != OPT_PATH && o->kind != OPT_SPEC_PATH) || !json_is_string(v) ||
        (o->kind == OPT_SPEC_PATH && named_backend(json_string_value(v))))
        return 0;
    json_t *abs = absolute(json_string_value(v), base);
    if (!abs)
        return -ENOMEM;
    return key ? json_object_set_new(holder, key, abs) : json_array_set_new(holder, index, abs);
}

int rv_mgr_config_absolutize(json_t *config, const char *base, struct rv_api_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(config, key, v) {
        const struct opt *o = find_opt(key);
        int rc = 0;
        if (o && !o->max_items)
            rc = absolutize_value(o, config, 0, key, base);
        for (size_t i = 0; o && o->max_items && json_is_array(v) && i < json_array_size(v); i++)
            rc = rc ? rc : absolutize_value(o, v, i, NULL, base);
        if (rc)
            return rv_api_fail(err, "internal", "out of memory");
    }
    return 0;
}

static json_t *option_value(const struct opt *o, const char *val, struct rv_api_error *err)
{
    if (o->kind != OPT_INT)
        return json_string(val);
    char *end;
    errno = 0;
    long long x = strtoll(val, &end, 10);
    if (errno || end == val || *end) {
        rv_api_fail(err, "invalid-argument", "--%s takes an integer", o->name);
        return NULL;
    }
    return json_integer(x);
}

int rv_mgr_config_from_options(int argc, char **argv, const char *cwd, json_t **out,
                               struct rv_api_error *err)
{
    json_t *cfg = json_object();
    err->code = NULL;
    int rc = cfg ? 0 : rv_api_fail(err, "internal", "out of memory");
    for (int i = 0; i < argc && !rc; i++) {
        const struct opt *o = strncmp(argv[i], "--", 2) == 0 ? find_opt(argv[i] + 2) : NULL;
        if (!o) {
            rc = rv_api_fail(err, "invalid-argument", "unknown option '%.40s'", argv[i]);
            break;
        }
        json_t *v = o->kind == OPT_FLAG ? json_true() : NULL;
        if (o->kind != OPT_FLAG && (i + 1 == argc ||
                                    !(v = option_value(o, argv[++i], err)))) {
            rc = err->code ? -EINVAL
                           : rv_api_fail(err, "invalid-argument", "--%s needs a value", o->name);
            break;
        }
        if (!o->max_items) {
            if (json_object_get(cfg, o->name)) {
                json_decref(v);
                rc = rv_api_fail(err, "invalid-argument", "--%s given twice", o->name);
                break;
            }
            rc = json_object_set_new(cfg, o->name, v);
            if (rc && !err->code)
                rc = rv_api_fail(err, "internal", "out of memory");
            continue;
        }
        json_t *arr = json_object_get(cfg, o->name);
        if (!arr)
            json_object_set_new(cfg, o->name, arr = json_array());
        json_array_append_new(arr, v);
    }
    if (!rc)
        rc = rv_mgr_config_absolutize(cfg, cwd, err);
    if (rc) {
        json_decref(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

char *rv_mgr_config_markdown(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    fprintf(f, "| field | JSON type | values | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        fprintf(f, "| `%s` | %s%s%s | ", o->name, o->max_items ? "array of " : "",
                kind_types[o->kind], o->max_items ? "s" : "");
        if (o->max_items)
            fprintf(f, "up to %u; ", o->max_items);
        switch (o->kind) {
        case OPT_PATH: fprintf(f, "an absolute path"); break;
        case OPT_SPEC_PATH: fprintf(f, "starts with an absolute path, or `vol:VG/LV`"); break;
        case OPT_TEXT: fprintf(f, "at most %lld bytes", o->max); break;
        case OPT_SIZE: fprintf(f, "%lld..%lld MiB", o->min, o->max); break;
        case OPT_INT: fprintf(f, "%lld..%lld", o->min, o->max); break;
        case OPT_CHOICE:
            for (const char *p = o->choices; *p;) {
                int w = (int)strcspn(p, ",");
                fprintf(f, "%s`%.*s`", p == o->choices ? "" : " or ", w, p);
                p += w + (p[w] == ',');
            }
            break;
        case OPT_FLAG: fprintf(f, "`true` adds the option"); break;
        }
        fprintf(f, " | `--%s`: %s |\n", o->name, o->doc);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
