/* The packets of the GDB remote protocol rvisor answers (gdb manual, "Packets", "General
 * Query Packets", "Stop Reply Packets"). Unknown packets get the empty reply; malformed ones
 * "E01"; memory that cannot be accessed "E14" (EFAULT); a full breakpoint table "E28". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "debug/gdb_target.h"
#include "debug/gdbstub_internal.h"

#define E_BAD "E01"
#define E_FAULT "E14"
#define E_NOSPC "E1c"

/* Longest memory read answered: the hex reply must fit in a packet. */
#define MEM_MAX (GDB_PACKET_MAX / 2)

static struct rv_hart *hart(struct rv_gdbstub *s, unsigned i)
{
    return rv_vm_debug_hart(s->vm, i);
}

/* Thread ids are hart ids + 1 (0 means "any" and -1 "all" in the protocol). */
static bool tid_to_hart(struct rv_gdbstub *s, int64_t tid, unsigned *h)
{
    if (tid == 0 || tid == -1) {
        *h = s->c_hart;
        return true;
    }
    if (tid < 1 || (uint64_t)tid > rv_vm_nharts(s->vm))
        return false;
    *h = (unsigned)tid - 1;
    return true;
}

/* --- registers --- */

static void cmd_read_all(struct rv_gdbstub *s)
{
    struct rv_hart *h = hart(s, s->g_hart);
    for (unsigned n = 0; n < GDB_G_REGS; n++) {
        uint64_t v = 0;
        gdb_reg_read(h, n, &v);
        gdb_hex_le(v, 8, s->reply + 16 * n);
    }
    gdb_send(s, s->reply, 16 * GDB_G_REGS);
}

static void cmd_write_all(struct rv_gdbstub *s, const char *p, size_t len)
{
    if (len != 16 * GDB_G_REGS) {
        gdb_send_str(s, E_BAD);
        return;
    }
    uint64_t v[GDB_G_REGS];
    for (unsigned n = 0; n < GDB_G_REGS; n++)
        if (!gdb_parse_le(p + 16 * n, 8, &v[n])) {
            gdb_send_str(s, E_BAD);
            return;
        }
    struct rv_hart *h = hart(s, s->g_hart);
    for (unsigned n = 0; n < GDB_G_REGS; n++)
        gdb_reg_write(h, n, v[n]);
    gdb_send_str(s, "OK");
}

static void cmd_read_reg(struct rv_gdbstub *s, const char *p)
{
    uint64_t n, v;
    if (!gdb_parse_hex(&p, &n) || *p || n > 0xffff) {
        gdb_send_str(s, E_BAD);
        return;
    }
    if (!gdb_reg_read(hart(s, s->g_hart), (unsigned)n, &v)) {
        gdb_send_str(s, E_BAD);
        return;
    }
    gdb_hex_le(v, 8, s->reply);
    gdb_send(s, s->reply, 16);
}

static void cmd_write_reg(struct rv_gdbstub *s, const char *p)
{
    uint64_t n, v;
    if (!gdb_parse_hex(&p, &n) || *p++ != '=' || n > 0xffff || strlen(p) != 16 ||
        !gdb_parse_le(p, 8, &v)) {
        gdb_send_str(s, E_BAD);
        return;
    }
    gdb_send_str(s, gdb_reg_write(hart(s, s->g_hart), (unsigned)n, v) ? "OK" : E_BAD);
}

/* --- memory --- */

/* Parses "ADDR,LEN" followed by `end` (':' or NUL). */
static bool parse_range(const char **p, char end, uint64_t *addr, uint64_t *len)
{
    return gdb_parse_hex(p, addr) && *(*p)++ == ',' && gdb_parse_hex(p, len) &&
           *(*p)++ == end;
}

static void cmd_read_mem(struct rv_gdbstub *s, const char *p)
{
    uint64_t addr, len;
    if (!parse_range(&p, 0, &addr, &len)) {
        gdb_send_str(s, E_BAD);
        return;
    }
    if (len > MEM_MAX)
        len = MEM_MAX; /* a shorter reply is allowed */
    uint8_t buf[MEM_MAX];
    size_t n = rv_vm_debug_read(s->vm, s->g_hart, !s->phys, addr, buf, len);
    if (n == 0 && len) {
        gdb_send_str(s, E_FAULT);
        return;
    }
    gdb_hex_encode(buf, n, s->reply);
    gdb_send(s, s->reply, 2 * n);
}

static void write_mem(struct rv_gdbstub *s, uint64_t addr, const uint8_t *buf, size_t len)
{
    size_t n = rv_vm_debug_write(s->vm, s->g_hart, !s->phys, addr, buf, len);
    gdb_send_str(s, n == len ? "OK" : E_FAULT);
}

static void cmd_write_mem(struct rv_gdbstub *s, char *p, size_t len, bool binary)
{
    const char *q = p;
    uint64_t addr, n;
    if (!parse_range(&q, ':', &addr, &n) || n > GDB_PACKET_MAX) {
        gdb_send_str(s, E_BAD);
        return;
    }
    char *data = p + (q - p);
    size_t chars = len - (size_t)(q - p);
    uint8_t buf[GDB_PACKET_MAX];
    long got = binary ? gdb_unescape(data, chars) : gdb_hex_decode(data, chars, buf, sizeof(buf));
    if (got < 0 || (uint64_t)got != n) {
        gdb_send_str(s, E_BAD);
        return;
    }
    if (binary)
        memcpy(buf, data, (size_t)got);
    write_mem(s, addr, buf, (size_t)n);
}

/* --- breakpoints and watchpoints: Z/z TYPE,ADDR,KIND --- */

static void cmd_point(struct rv_gdbstub *s, const char *p, bool insert)
{
    uint64_t addr, kind;
    char type = *p++;
    if (type < '0' || type > '4' || *p++ != ',' || !gdb_parse_hex(&p, &addr) || *p++ != ',' ||
        !gdb_parse_hex(&p, &kind) || (*p && *p != ';')) {
        gdb_send_str(s, E_BAD);
        return;
    }
    struct rv_debug_points *d = rv_vm_debug_points(s->vm);
    int rc;
    if (type <= '1') {
        rc = insert ? rv_debug_bp_insert(d, addr) : rv_debug_bp_remove(d, addr);
    } else {
        /* Z2 write, Z3 read, Z4 access; KIND is the length */
        unsigned k = type == '2' ? RV_WATCH_WRITE : type == '3' ? RV_WATCH_READ
                                                                : RV_WATCH_ACCESS;
        rc = insert ? rv_debug_wp_insert(d, addr, kind, k) : rv_debug_wp_remove(d, addr, kind, k);
    }
    gdb_send_str(s, rc == 0 ? "OK" : rc == -ENOSPC ? E_NOSPC : E_BAD);
}

/* --- run control --- */

/* c [ADDR] / s [ADDR]: continue every hart, or step the Hc hart; from ADDR if given. */
static void cmd_resume(struct rv_gdbstub *s, const char *p, bool step)
{
    uint64_t addr;
    if (*p) {
        if (!gdb_parse_hex(&p, &addr) || *p) {
            gdb_send_str(s, E_BAD);
            return;
        }
        hart(s, s->c_hart)->pc = addr;
    }
    if (step)
        gdb_resume(s, 0, 1u << s->c_hart);
    else
        gdb_resume(s, UINT32_MAX, 0);
}

/* vCont;ACTION[:TID]...: each hart takes the first action naming it, or else the first one
 * without a thread id; harts with no action stay stopped (gdb manual, "vCont"). */
static void cmd_vcont(struct rv_gdbstub *s, const char *p)
{
    unsigned n = rv_vm_nharts(s->vm);
    uint32_t all = (uint32_t)((1ull << n) - 1), run = 0, step = 0, taken = 0;
    bool any = false;
    while (*p == ';') {
        p++;
        char a = *p++;
        uint64_t sig;
        if ((a == 'C' || a == 'S') && !gdb_parse_hex(&p, &sig)) {
            gdb_send_str(s, E_BAD); /* the signal itself is ignored: there are none to pass */
            return;
        }
        if (a != 'c' && a != 's' && a != 'C' && a != 'S') {
            gdb_send_str(s, E_BAD);
            return;
        }
        int64_t tid = -1;
        unsigned h;
        if (*p == ':' && (p++, !gdb_parse_tid(&p, &tid) || (tid > 0 && !tid_to_hart(s, tid, &h)))) {
            gdb_send_str(s, E_BAD);
            return;
        }
        uint32_t who = (tid > 0 ? 1u << h : all) & ~taken;
        taken |= who;
        if (a == 's' || a == 'S')
            step |= who;
        else
            run |= who;
        any = true;
    }
    if (!any || *p) {
        gdb_send_str(s, E_BAD);
        return;
    }
    /* Harts told to step while others continue: step them and hold the others (a step is
     * short; GDB waits for its stop in any case). */
    if (step)
        run = 0;
    gdb_resume(s, run, step);
}

/* --- threads --- */

static void cmd_set_thread(struct rv_gdbstub *s, const char *p)
{
    char op = *p++;
    int64_t tid;
    unsigned h;
    if ((op != 'g' && op != 'c') || !gdb_parse_tid(&p, &tid) || *p || !tid_to_hart(s, tid, &h)) {
        gdb_send_str(s, E_BAD);
        return;
    }
    if (op == 'g')
        s->g_hart = h;
    else
        s->c_hart = h;
    gdb_send_str(s, "OK");
}

static void cmd_thread_alive(struct rv_gdbstub *s, const char *p)
{
    int64_t tid;
    unsigned h;
    bool ok = gdb_parse_tid(&p, &tid) && !*p && tid > 0 && tid_to_hart(s, tid, &h);
    gdb_send_str(s, ok ? "OK" : E_BAD);
}

static void thread_list(struct rv_gdbstub *s)
{
    size_t n = 0;
    s->reply[n++] = 'm';
    for (unsigned i = 0; i < rv_vm_nharts(s->vm); i++)
        n += (size_t)snprintf(s->reply + n, sizeof(s->reply) - n, "%s%x", i ? "," : "", i + 1);
    gdb_send(s, s->reply, n);
}

static void thread_extra(struct rv_gdbstub *s, const char *p)
{
    static const char *const modes[4] = {"U-mode", "S-mode", "?", "M-mode"};
    int64_t tid;
    unsigned h;
    if (!gdb_parse_tid(&p, &tid) || *p || tid <= 0 || !tid_to_hart(s, tid, &h)) {
        gdb_send_str(s, E_BAD);
        return;
    }
    char text[64];
    int k = snprintf(text, sizeof(text), "hart %u, %s", h, modes[hart(s, h)->priv & 3]);
    gdb_hex_encode((const uint8_t *)text, (size_t)k, s->reply);
    gdb_send(s, s->reply, 2 * (size_t)k);
}

/* --- queries --- */

/* qXfer:features:read:target.xml:OFFSET,LENGTH */
static void xfer_features(struct rv_gdbstub *s, const char *p)
{
    static const char annex[] = "target.xml:";
    uint64_t off, len;
    if (strncmp(p, annex, sizeof(annex) - 1) != 0) {
        gdb_send_str(s, "E00");
        return;
    }
    p += sizeof(annex) - 1;
    if (!parse_range(&p, 0, &off, &len)) {
        gdb_send_str(s, E_BAD);
        return;
    }
    if (off > s->xml_len) {
        gdb_send_str(s, E_BAD);
        return;
    }
    size_t n = s->xml_len - off;
    if (n > len)
        n = len;
    if (n > GDB_PACKET_MAX - 1)
        n = GDB_PACKET_MAX - 1;
    s->reply[0] = off + n < s->xml_len ? 'm' : 'l';
    memcpy(s->reply + 1, s->xml + off, n);
    gdb_send(s, s->reply, n + 1);
}

/* monitor commands (qRcmd,HEX): the reply is hex-encoded text. */
static void cmd_monitor(struct rv_gdbstub *s, const char *p)
{
    char cmd[256];
    long n = gdb_hex_decode(p, strlen(p), (uint8_t *)cmd, sizeof(cmd) - 1);
    if (n < 0) {
        gdb_send_str(s, E_BAD);
        return;
    }
    cmd[n] = 0;
    char text[512];
    if (strcmp(cmd, "phys on") == 0 || strcmp(cmd, "phys off") == 0) {
        s->phys = cmd[6] == 'n';
        snprintf(text, sizeof(text), "memory accesses use %s addresses\n",
                 s->phys ? "physical" : "virtual");
    } else if (strcmp(cmd, "phys") == 0) {
        snprintf(text, sizeof(text), "memory accesses use %s addresses\n",
                 s->phys ? "physical" : "virtual");
    } else if (strcmp(cmd, "help") == 0) {
        snprintf(text, sizeof(text),
                 "monitor phys [on|off]  m/M/X use physical (on) or virtual (off) addresses\n"
                 "monitor help           this text\n");
    } else {
        snprintf(text, sizeof(text), "unknown monitor command (try 'monitor help')\n");
    }
    gdb_hex_encode((const uint8_t *)text, strlen(text), s->reply);
    gdb_send_str(s, s->reply);
}

static void cmd_query(struct rv_gdbstub *s, const char *p)
{
    if (strncmp(p, "Supported", 9) == 0) {
        snprintf(s->reply, sizeof(s->reply),
                 "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+",
                 GDB_PACKET_MAX);
        gdb_send_str(s, s->reply);
    } else if (strncmp(p, "Xfer:features:read:", 19) == 0) {
        xfer_features(s, p + 19);
    } else if (strcmp(p, "C") == 0) {
        snprintf(s->reply, sizeof(s->reply), "QC%x", s->g_hart + 1);
        gdb_send_str(s, s->reply);
    } else if (strcmp(p, "fThreadInfo") == 0) {
        thread_list(s);
    } else if (strcmp(p, "sThreadInfo") == 0) {
        gdb_send_str(s, "l");
    } else if (strncmp(p, "ThreadExtraInfo,", 16) == 0) {
        thread_extra(s, p + 16);
    } else if (strcmp(p, "Attached") == 0 || strncmp(p, "Attached:", 9) == 0) {
        gdb_send_str(s, "1");
    } else if (strncmp(p, "Rcmd,", 5) == 0) {
        cmd_monitor(s, p + 5);
    } else if (strncmp(p, "Symbol:", 7) == 0) {
        gdb_send_str(s, "OK");
    } else {
        gdb_send_str(s, "");
    }
}

static void cmd_v(struct rv_gdbstub *s, const char *p)
{
    if (strcmp(p, "Cont?") == 0)
        gdb_send_str(s, "vCont;c;C;s;S");
    else if (strncmp(p, "Cont", 4) == 0 && (p[4] == ';'))
        cmd_vcont(s, p + 4);
    else if (strncmp(p, "Kill", 4) == 0) {
        gdb_send_str(s, "OK");
        rv_vm_kill(s->vm);
    } else
        gdb_send_str(s, "");
}

void gdb_handle_packet(struct rv_gdbstub *s, char *pkt, size_t len)
{
    char *p = pkt + 1;
    switch (pkt[0]) {
    case '?': gdb_send_stop(s); break;
    case 'g': cmd_read_all(s); break;
    case 'G': cmd_write_all(s, p, len - 1); break;
    case 'p': cmd_read_reg(s, p); break;
    case 'P': cmd_write_reg(s, p); break;
    case 'm': cmd_read_mem(s, p); break;
    case 'M': cmd_write_mem(s, p, len - 1, false); break;
    case 'X': cmd_write_mem(s, p, len - 1, true); break;
    case 'Z': cmd_point(s, p, true); break;
    case 'z': cmd_point(s, p, false); break;
    case 'c': cmd_resume(s, p, false); break;
    case 's': cmd_resume(s, p, true); break;
    case 'v': cmd_v(s, p); break;
    case 'H': cmd_set_thread(s, p); break;
    case 'T': cmd_thread_alive(s, p); break;
    case 'q': cmd_query(s, p); break;
    case 'Q':
        if (strcmp(p, "StartNoAckMode") == 0) {
            gdb_send_str(s, "OK");
            s->no_ack = true;
        } else {
            gdb_send_str(s, "");
        }
        break;
    case 'k': rv_vm_kill(s->vm); break; /* no reply (gdb manual, "k") */
    default: gdb_send_str(s, ""); break;
    }
}
