/* `rvisor net create|start|list|delete|stats|capture|serve`: virtual networks, each served by
 * its own switch process (net/vsw_daemon.h) that runs apart from every VM process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/net.h"
#include "core/error.h"
#include "core/log.h"
#include "net/vsw_daemon.h"
#include "net/vswitch.h"

#define ERR 125

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void net_usage(FILE *out)
{
    fprintf(out,
        "usage: rvisor net create NAME [--subnet CIDR] [--uplink nat|none|tap:IF]\n"
        "                              [--port-pps N] [--port-mbps N] [--flood-pps N]\n"
        "       rvisor net start NAME        (start the switch of an existing network again)\n"
        "       rvisor net list\n"
        "       rvisor net delete NAME\n"
        "       rvisor net stats NAME [--json]\n"
        "       rvisor net capture NAME FILE.pcap [--count N] [--seconds S]\n"
        "       rvisor net serve NAME        (run the switch in the foreground)\n"
        "\n"
        "A network is an isolated L2 segment with its own switch process, DHCP server and\n"
        "optional uplink (nat: libslirp, reaching the host's 127.0.0.1 at the gateway\n"
        "address; tap:IF: a host tap interface). VMs join with\n"
        "  rvisor run --net switch:NAME[,mac=xx:xx:xx:xx:xx:xx] ...\n"
        "Default subnet 10.77.0.0/24: .1 gateway and DHCP server, .2 DNS (nat), leases\n"
        "from .10. Per-port limits: 50000 frames/s, 1000 Mbit/s, 2000 flooded frames/s.\n"
        "State: $RVISOR_STATE_DIR/net/NAME (default ~/.local/state/rvisor/net/NAME).\n");
}

static int mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > max) {
        fprintf(stderr, "rvisor: %s takes a number up to %llu\n", opt, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Starts `rvisor net serve NAME` detached (own session, log to switch.log) and waits until
 * its control socket answers. */
static int spawn_switch(const char *name)
{
    char log[600], dir[512];
    if (vsw_state_dir(name, dir, sizeof(dir)))
        return -1;
    snprintf(log, sizeof(log), "%s/switch.log", dir);
    pid_t pid = fork();
    if (pid < 0) {
        perror("rvisor: fork");
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(ERR);
        setsid();
        execl("/proc/self/exe", "rvisor", "net", "serve", name, (char *)NULL);
        _exit(ERR);
    }
    for (int i = 0; i < 200; i++) { /* 10 s */
        json_t *st = net_ctl_call(name, "status", true);
        if (st) {
            json_decref(st);
            return 0;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "rvisor: network %s: the switch failed to start; from %s:\n", name,
                    log);
            char cmd[700];
            snprintf(cmd, sizeof(cmd), "tail -5 '%s' >&2", log);
            if (system(cmd) != 0)
                fprintf(stderr, "(no log)\n");
            return -1;
        }
        usleep(50000);
    }
    fprintf(stderr, "rvisor: network %s: the switch did not answer within 10 s\n", name);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static int cmd_create(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        net_usage(stderr);
        return ERR;
    }
    const char *name = argv[0];
    struct vsw_config c;
    char dir[512], cfg[600];
    if (vsw_state_dir(name, dir, sizeof(dir)) || vsw_path(name, "control.sock", cfg, sizeof(cfg))) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return ERR;
    }
    vsw_config_default(&c, name);
    for (int i = 1; i < argc; i += 2) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        int rc = 0;
        if (!val) {
            fprintf(stderr, "rvisor: unknown or incomplete option '%s'\n", argv[i]);
            return ERR;
        }
        if (!strcmp(argv[i], "--subnet")) {
            rc = vsw_config_subnet(&c, val);
        } else if (!strcmp(argv[i], "--uplink")) {
            rc = vsw_config_uplink(&c, val);
        } else if (!strcmp(argv[i], "--port-pps") || !strcmp(argv[i], "--flood-pps")) {
            if (parse_u64(argv[i], val, 100000000, &v))
                return ERR;
            *(argv[i][2] == 'p' ? &c.limits.pps : &c.limits.flood_pps) = v;
        } else if (!strcmp(argv[i], "--port-mbps")) {
            if (parse_u64(argv[i], val, 1000000, &v))
                return ERR;
            c.limits.bps = v * 125000;
        } else {
            fprintf(stderr, "rvisor: unknown option '%s' (see rvisor net --help)\n", argv[i]);
            return ERR;
        }
        if (rc) {
            fprintf(stderr, "rvisor: %s\n", rv_error_get());
            return ERR;
        }
    }
    snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    if (access(cfg, F_OK) == 0) {
        fprintf(stderr, "rvisor: network %s exists already (rvisor net delete %s first)\n", name,
                name);
        return ERR;
    }
    int rc = mkdirs(dir);
    if (rc || vsw_config_save(&c, cfg)) {
        fprintf(stderr, "rvisor: %s: %s\n", dir, rc ? strerror(-rc) : rv_error_get());
        return ERR;
    }
    if (spawn_switch(name)) {
        unlink(cfg);
        return ERR;
    }
    char up[32];
    vsw_config_uplink_str(&c, up, sizeof(up));
    printf("network %s: %u.%u.%u.%u/%u, uplink %s\n", name, c.net >> 24, c.net >> 16 & 255,
           c.net >> 8 & 255, c.net & 255, c.prefix, up);
    return 0;
}

static int cmd_start(const char *name)
{
    json_t *st = net_ctl_call(name, "status", true);
    if (st) {
        json_decref(st);
        printf("network %s: already running\n", name);
        return 0;
    }
    return spawn_switch(name) ? ERR : 0;
}

static int cmd_serve(const char *name)
{
    struct vsw_config c;
    char cfg[600], pidf[600];
    if (vsw_path(name, "config.json", cfg, sizeof(cfg)) ||
        vsw_path(name, "switch.pid", pidf, sizeof(pidf)) || vsw_config_load(&c, name, cfg)) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return ERR;
    }
    rv_log_set_level(RV_LOG_INFO);
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: epoll_wait returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    FILE *f = fopen(pidf, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    int rc = vsw_serve(&c, &stop_flag);
    if (rc)
        fprintf(stderr, "rvisor: network %s: %s\n", name, rv_error_get());
    unlink(pidf);
    return rc ? ERR : 0;
}

static pid_t read_pid(const char *name)
{
    char pidf[600];
    if (vsw_path(name, "switch.pid", pidf, sizeof(pidf)))
        return -1;
    FILE *f = fopen(pidf, "r");
    int pid = -1;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

static int cmd_delete(const char *name)
{
    char dir[512], path[700];
    if (vsw_state_dir(name, dir, sizeof(dir))) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return ERR;
    }
    snprintf(path, sizeof(path), "%s/config.json", dir);
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "rvisor: no network %s\n", name);
        return ERR;
    }
    pid_t pid = read_pid(name);
    json_t *r = net_ctl_call(name, "shutdown", true);
    json_decref(r);
    for (int i = 0; r && pid > 0 && i < 100 && kill(pid, 0) == 0; i++)
        usleep(50000); /* the switch removes its sockets and pid file as it ends */
    static const char *const files[] = {"config.json", "switch.log", "switch.pid", "ports.sock",
                                        "control.sock", "leases.json", "leases.json.tmp"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    if (rmdir(dir) < 0) {
        fprintf(stderr, "rvisor: %s: %s\n", dir, strerror(errno));
        return ERR;
    }
    return 0;
}

static int cmd_list(void)
{
    char dir[512];
    if (vsw_state_dir(NULL, dir, sizeof(dir)))
        return ERR;
    DIR *d = opendir(dir);
    printf("%-16s %-18s %-14s %-8s %s\n", "NAME", "SUBNET", "UPLINK", "STATE", "VM PORTS");
    if (!d)
        return 0; /* no network was ever made */
    struct dirent *e;
    while ((e = readdir(d))) {
        char cfgp[600], sub[24], up[32];
        struct vsw_config c;
        if (!vsw_name_valid(e->d_name) || vsw_path(e->d_name, "config.json", cfgp, sizeof(cfgp)) ||
            vsw_config_load(&c, e->d_name, cfgp))
            continue;
        snprintf(sub, sizeof(sub), "%u.%u.%u.%u/%u", c.net >> 24, c.net >> 16 & 255,
                 c.net >> 8 & 255, c.net & 255, c.prefix);
        vsw_config_uplink_str(&c, up, sizeof(up));
        json_t *st = net_ctl_call(e->d_name, "status", true);
        printf("%-16s %-18s %-14s %-8s %lld\n", e->d_name, sub, up, st ? "running" : "stopped",
               (long long)json_integer_value(json_object_get(st, "vm_ports")));
        json_decref(st);
    }
    closedir(d);
    return 0;
}

static void print_port(json_t *p)
{
    json_t *drops = json_object_get(p, "drops");
    const char *mac = json_string_value(json_object_get(p, "mac"));
    const char *ip = json_string_value(json_object_get(p, "ip"));
    printf("%-4lld %-6s %-17s %-15s %10lld %12lld %10lld %12lld",
           (long long)json_integer_value(json_object_get(p, "port")),
           json_string_value(json_object_get(p, "kind")), mac ? mac : "-", ip ? ip : "-",
           (long long)json_integer_value(json_object_get(p, "in_frames")),
           (long long)json_integer_value(json_object_get(p, "in_bytes")),
           (long long)json_integer_value(json_object_get(p, "out_frames")),
           (long long)json_integer_value(json_object_get(p, "out_bytes")));
    const char *key;
    json_t *v;
    bool any = false;
    json_object_foreach(drops, key, v) {
        if (json_integer_value(v)) {
            printf("%s%s=%lld", any ? "," : " ", key, (long long)json_integer_value(v));
            any = true;
        }
    }
    printf("%s\n", any ? "" : " -");
}

static int cmd_stats(int argc, char **argv)
{
    bool as_json = argc == 2 && !strcmp(argv[1], "--json");
    if (argc < 1 || (argc == 2 && !as_json) || argc > 2) {
        net_usage(stderr);
        return ERR;
    }
    json_t *r = net_ctl_call(argv[0], "stats", false);
    if (!r)
        return 1;
    if (as_json) {
        char *s = json_dumps(r, JSON_COMPACT);
        printf("%s\n", s ? s : "null");
        free(s);
    } else {
        printf("%-4s %-6s %-17s %-15s %10s %12s %10s %12s %s\n", "PORT", "KIND", "MAC", "IP",
               "IN_FRAMES", "IN_BYTES", "OUT_FRAMES", "OUT_BYTES", "DROPS");
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(r, "ports"), i, p)
            print_port(p);
    }
    json_decref(r);
    return 0;
}

static int cmd_capture(int argc, char **argv)
{
    uint64_t count = 0, seconds = 0;
    if (argc < 2) {
        net_usage(stderr);
        return ERR;
    }
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc || (strcmp(argv[i], "--count") && strcmp(argv[i], "--seconds"))) {
            fprintf(stderr, "rvisor: unknown or incomplete option '%s'\n", argv[i]);
            return ERR;
        }
        if (parse_u64(argv[i], argv[i + 1], 1u << 30, argv[i][2] == 'c' ? &count : &seconds))
            return ERR;
    }
    int fd = net_ctl_connect(argv[0], false);
    if (fd < 0)
        return 1;
    int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    uint8_t hdr[VSW_PCAP_HEADER_LEN];
    vsw_pcap_header(hdr);
    if (out < 0 || write(out, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
        fprintf(stderr, "rvisor: %s: %s\n", argv[1], strerror(errno));
        close(fd);
        return ERR;
    }
    json_t *args = count ? json_pack("{s:I}", "count", (json_int_t)count) : NULL;
    int rc = net_ctl_send(fd, "capture", args, out);
    json_decref(args);
    close(out); /* the switch has its own copy */
    json_t *reply = rc ? NULL : net_ctl_read(fd);
    if (!json_is_true(json_object_get(reply, "ok"))) {
        fprintf(stderr, "rvisor: capture refused\n");
        json_decref(reply);
        close(fd);
        return 1;
    }
    json_decref(reply);
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "rvisor: capturing network %s to %s (Ctrl-C ends)\n", argv[0], argv[1]);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop_flag) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 200) > 0)
            break; /* capture_done, or the switch went away */
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (seconds && (uint64_t)(t.tv_sec - t0.tv_sec) >= seconds)
            break;
    }
    close(fd); /* ends the capture */
    return 0;
}

int rv_cli_net(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        net_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? ERR : 0;
    }
    const char *cmd = argv[0];
    if (!strcmp(cmd, "list"))
        return cmd_list();
    if (argc < 2) {
        net_usage(stderr);
        return ERR;
    }
    if (!vsw_name_valid(argv[1])) {
        fprintf(stderr, "rvisor: bad network name '%.40s' (1 to %d of A-Z a-z 0-9 _ . -)\n",
                argv[1], VSW_NAME_MAX);
        return ERR;
    }
    if (!strcmp(cmd, "create"))
        return cmd_create(argc - 1, argv + 1);
    if (!strcmp(cmd, "stats"))
        return cmd_stats(argc - 1, argv + 1);
    if (!strcmp(cmd, "capture"))
        return cmd_capture(argc - 1, argv + 1);
    if (argc != 2) {
        net_usage(stderr);
        return ERR;
    }
    if (!strcmp(cmd, "start"))
        return cmd_start(argv[1]);
    if (!strcmp(cmd, "delete"))
        return cmd_delete(argv[1]);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argv[1]);
    fprintf(stderr, "rvisor: unknown net command '%s' (see rvisor net --help)\n", cmd);
    return ERR;
}
