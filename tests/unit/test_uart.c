/* NS16550A UART: registers, FIFO, interrupt identification and line, loopback, save/load,
 * device-tree node. */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "core/serial.h"
#include "dev/uart.h"
#include "test.h"

#define BASE 0x10000000ull

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
       MSR = 6, SCR = 7 };

struct fake_irq {
    bool level;
    unsigned changes, source;
};

static void fake_irq_set(void *ctrl, unsigned source, bool level)
{
    struct fake_irq *f = ctrl;
    f->level = level;
    f->source = source;
    f->changes++;
}

struct sink {
    uint8_t buf[256];
    size_t len;
};

static void sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    for (size_t i = 0; i < len && s->len < sizeof(s->buf); i++)
        s->buf[s->len++] = buf[i];
}

struct rig {
    struct rv_iomap map;
    struct fake_irq irq;
    struct sink out;
    struct rv_uart *uart;
    struct rv_region *r;
};

static void rig_init(struct rig *g)
{
    memset(g, 0, sizeof(*g));
    struct rv_irq irq = {.set = fake_irq_set, .ctrl = &g->irq, .source = 10, .phandle = 3};
    struct rv_console con = {.write = sink_write, .opaque = &g->out};
    int rc = rv_uart_create(&g->map, NULL, BASE, &irq, &con, &g->uart);
    CHECK_EQ(rc, 0);
    g->r = rv_iomap_find(&g->map, BASE + 5, 1);
    CHECK(g->r != NULL);
}

static void rig_free(struct rig *g)
{
    g->r->ops->destroy(g->r->dev);
}

static uint8_t rd(struct rig *g, unsigned reg)
{
    return (uint8_t)g->r->ops->read(g->r->dev, reg, 1);
}

static void wr(struct rig *g, unsigned reg, uint8_t v)
{
    g->r->ops->write(g->r->dev, reg, v, 1);
}

static void test_reset_values(void)
{
    struct rig g;
    rig_init(&g);
    CHECK_EQ(rd(&g, IER), 0);
    CHECK_EQ(rd(&g, IIR), 0x01);
    CHECK_EQ(rd(&g, LCR), 0);
    CHECK_EQ(rd(&g, MCR), 0);
    CHECK_EQ(rd(&g, LSR), 0x60);
    CHECK_EQ(rd(&g, MSR), 0xb0);
    CHECK_EQ(rd(&g, RBR), 0);
    CHECK_EQ(g.irq.changes, 0);
    /* registers beyond SCR in the 0x100 window */
    CHECK_EQ(g.r->ops->read(g.r->dev, 0x80, 1), 0);
    wr(&g, 0x80, 0xff);
    CHECK_EQ(rd(&g, IER), 0);
    rig_free(&g);
}

static void test_divisor_and_dlab(void)
{
    struct rig g;
    rig_init(&g);
    wr(&g, IER, 0x05);
    wr(&g, LCR, 0x83); /* DLAB + 8N1 */
    CHECK_EQ(rd(&g, LCR), 0x83);
    wr(&g, DLL, 0x02);
    wr(&g, DLM, 0x01);
    CHECK_EQ(rd(&g, DLL), 0x02);
    CHECK_EQ(rd(&g, DLM), 0x01);
    CHECK_EQ(g.out.len, 0); /* DLL write is not a transmit */
    wr(&g, LCR, 0x03);
    CHECK_EQ(rd(&g, IER), 0x05); /* IER unchanged by the DLM write */
    CHECK_EQ(rd(&g, LCR), 0x03);
    wr(&g, IER, 0xff);
    CHECK_EQ(rd(&g, IER), 0x0f); /* only the four enable bits exist */
    wr(&g, IER, 0);
    wr(&g, LCR, 0x80);
    CHECK_EQ(rd(&g, DLL), 0x02);
    CHECK_EQ(rd(&g, DLM), 0x01);
    wr(&g, SCR, 0x5a);
    CHECK_EQ(rd(&g, SCR), 0x5a);
    /* reset */
    g.r->ops->reset(g.r->dev);
    CHECK_EQ(rd(&g, LCR), 0);
    CHECK_EQ(rd(&g, SCR), 0);
    rig_free(&g);
}

static void test_transmit(void)
{
    struct rig g;
    rig_init(&g);
    const char *msg = "hi\n";
    for (const char *p = msg; *p; p++)
        wr(&g, THR, (uint8_t)*p);
    CHECK_EQ(g.out.len, 3);
    CHECK(memcmp(g.out.buf, "hi\n", 3) == 0);
    CHECK_EQ(rd(&g, LSR) & 0x60, 0x60);
    /* a NULL console discards output */
    struct rv_iomap map = {0};
    struct rv_uart *u;
    CHECK_EQ(rv_uart_create(&map, NULL, BASE, NULL, NULL, &u), 0);
    map.regions[0].ops->write(u, THR, 'x', 1);
    CHECK(rv_uart_rx_room(u));
    map.regions[0].ops->destroy(u);
    /* overlapping window is refused */
    CHECK(rv_uart_create(&g.map, NULL, BASE + 0x80, NULL, NULL, &u) < 0);
    rig_free(&g);
}

static void test_fifo_receive(void)
{
    struct rig g;
    rig_init(&g);
    uint8_t data[20];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)('a' + i);
    /* FIFOs disabled: one byte of room */
    CHECK(rv_uart_rx_room(g.uart));
    CHECK_EQ(rv_uart_receive(g.uart, data, 5), 1);
    CHECK(!rv_uart_rx_room(g.uart));
    CHECK_EQ(rv_uart_receive(g.uart, data + 1, 4), 0);
    CHECK_EQ(rd(&g, LSR), 0x61);
    CHECK_EQ(rd(&g, IIR), 0x01); /* interrupts disabled */
    CHECK_EQ(rd(&g, RBR), 'a');
    CHECK_EQ(rd(&g, LSR), 0x60);
    CHECK_EQ(rd(&g, LSR) & 0x02, 0); /* no overrun: host input is never dropped */

    /* FIFOs enabled: 16 bytes */
    wr(&g, FCR, 0x01);
    CHECK_EQ(rd(&g, IIR), 0xc1);
    CHECK_EQ(rv_uart_receive(g.uart, data, 20), 16);
    CHECK(!rv_uart_rx_room(g.uart));
    CHECK_EQ(rv_uart_receive(g.uart, data + 16, 4), 0);
    CHECK_EQ(rd(&g, LSR), 0x61);
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(rd(&g, RBR), 'a' + i);
    CHECK_EQ(rd(&g, LSR), 0x60);
    CHECK_EQ(rd(&g, RBR), 0); /* empty */

    /* FCR RX reset flushes */
    CHECK_EQ(rv_uart_receive(g.uart, data, 3), 3);
    wr(&g, FCR, 0x03);
    CHECK_EQ(rd(&g, LSR), 0x60);
    /* disabling FIFOs flushes too */
    CHECK_EQ(rv_uart_receive(g.uart, data, 3), 3);
    wr(&g, FCR, 0x00);
    CHECK_EQ(rd(&g, LSR), 0x60);
    CHECK_EQ(rd(&g, IIR), 0x01);
    rig_free(&g);
}

static void test_trigger_levels(void)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    uint8_t data[16] = {0};
    for (unsigned t = 0; t < 4; t++) {
        struct rig g;
        rig_init(&g);
        wr(&g, FCR, (uint8_t)(0x01 | t << 6));
        wr(&g, IER, 0x01);
        CHECK(!g.irq.level);
        /* below the trigger: the character-timeout interrupt (data waiting, not read) */
        if (levels[t] > 1) {
            CHECK_EQ(rv_uart_receive(g.uart, data, levels[t] - 1), levels[t] - 1);
            CHECK(g.irq.level);
            CHECK_EQ(rd(&g, IIR), 0xcc);
            CHECK_EQ(rv_uart_receive(g.uart, data, 1), 1);
        } else {
            CHECK_EQ(rv_uart_receive(g.uart, data, 1), 1);
        }
        /* at the trigger: received data available */
        CHECK_EQ(rd(&g, IIR), 0xc4);
        CHECK(g.irq.level);
        /* reading one byte drops below the trigger: timeout again, line stays up */
        rd(&g, RBR);
        if (levels[t] > 1)
            CHECK_EQ(rd(&g, IIR), 0xcc);
        for (unsigned i = 1; i < levels[t]; i++)
            rd(&g, RBR);
        CHECK_EQ(rd(&g, IIR), 0xc1);
        CHECK(!g.irq.level);
        rig_free(&g);
    }
}

static void test_rx_irq_line(void)
{
    struct rig g;
    rig_init(&g);
    uint8_t b = 'z';
    /* data arriving with the interrupt disabled does not raise the line */
    CHECK_EQ(rv_uart_receive(g.uart, &b, 1), 1);
    CHECK(!g.irq.level);
    CHECK_EQ(g.irq.changes, 0);
    /* enabling ERBFI with data waiting raises it at once */
    wr(&g, IER, 0x01);
    CHECK(g.irq.level);
    CHECK_EQ(g.irq.changes, 1);
    CHECK_EQ(g.irq.source, 10);
    CHECK_EQ(rd(&g, IIR), 0x04);
    CHECK(g.irq.level); /* reading IIR does not acknowledge receive interrupts */
    CHECK_EQ(rd(&g, RBR), 'z');
    CHECK(!g.irq.level);
    CHECK_EQ(g.irq.changes, 2);
    CHECK_EQ(rv_uart_receive(g.uart, &b, 1), 1);
    CHECK(g.irq.level);
    CHECK_EQ(g.irq.changes, 3);
    wr(&g, IER, 0x00);
    CHECK(!g.irq.level);
    CHECK_EQ(g.irq.changes, 4);
    /* redundant updates do not toggle the line */
    rd(&g, LSR);
    rd(&g, MSR);
    CHECK_EQ(g.irq.changes, 4);
    rig_free(&g);
}

static void test_thre(void)
{
    struct rig g;
    rig_init(&g);
    /* ETBEI 0->1 with THR empty: THRE interrupt at once */
    wr(&g, IER, 0x02);
    CHECK(g.irq.level);
    CHECK_EQ(rd(&g, IIR), 0x02);
    /* reading IIR while THRE is the source acknowledges it */
    CHECK(!g.irq.level);
    CHECK_EQ(rd(&g, IIR), 0x01);
    /* writing IER again with ETBEI still set does not re-arm */
    wr(&g, IER, 0x02);
    CHECK(!g.irq.level);
    /* toggling ETBEI 1->0->1 re-arms (Linux's start_tx relies on this) */
    wr(&g, IER, 0x00);
    wr(&g, IER, 0x02);
    CHECK(g.irq.level);
    CHECK_EQ(rd(&g, IIR), 0x02);
    CHECK(!g.irq.level);
    /* a THR write empties at once and re-raises THRE */
    wr(&g, THR, 'A');
    CHECK(g.irq.level);
    CHECK_EQ(g.out.len, 1);
    /* disabling ETBEI drops it */
    wr(&g, IER, 0x00);
    CHECK(!g.irq.level);
    CHECK_EQ(rd(&g, IIR), 0x01);
    /* THR writes with ETBEI clear do not leave a pending THRE behind */
    wr(&g, THR, 'B');
    wr(&g, IER, 0x01);
    CHECK(!g.irq.level);
    rig_free(&g);
}

static void test_priorities(void)
{
    struct rig g;
    rig_init(&g);
    wr(&g, FCR, 0x01); /* trigger 1 */
    wr(&g, MCR, 0x10); /* loopback: makes an overrun and modem deltas possible */
    CHECK_EQ(rd(&g, MSR), 0x0b); /* CTS, DSR, DCD dropped: deltas, no lines */
    wr(&g, MCR, 0x1f);           /* all modem outputs: lines come up, deltas set */
    uint8_t ch;
    for (ch = 0; ch < 17; ch++) /* 17th overruns */
        wr(&g, THR, ch);
    CHECK_EQ(g.out.len, 0);
    wr(&g, IER, 0x0f); /* everything */
    /* line status first */
    CHECK_EQ(rd(&g, IIR), 0xc6);
    CHECK_EQ(rd(&g, LSR), 0x63); /* DR | OE, THRE, TEMT; read clears OE */
    CHECK_EQ(rd(&g, LSR), 0x61);
    /* then received data */
    CHECK_EQ(rd(&g, IIR), 0xc4);
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(rd(&g, RBR), i); /* the overrunning byte was lost */
    /* then THRE (armed by enabling ETBEI) */
    CHECK(g.irq.level);
    CHECK_EQ(rd(&g, IIR), 0xc2);
    /* then modem status */
    CHECK_EQ(rd(&g, IIR), 0xc0);
    CHECK(g.irq.level);
    CHECK_EQ(rd(&g, MSR), 0xfb); /* CTS DSR RI DCD; DCTS DDSR DDCD (no trailing RI edge) */
    CHECK_EQ(rd(&g, IIR), 0xc1);
    CHECK(!g.irq.level);
    /* RI falling edge: TERI */
    wr(&g, MCR, 0x1b);
    CHECK_EQ(rd(&g, IIR), 0xc0);
    CHECK_EQ(rd(&g, MSR), 0xb4);
    CHECK(!g.irq.level);
    rig_free(&g);
}

static void test_loopback(void)
{
    struct rig g;
    rig_init(&g);
    wr(&g, MCR, 0x10);
    CHECK_EQ(rd(&g, MSR) & 0xf0, 0x00);
    wr(&g, MCR, 0x10 | 0x02); /* RTS -> CTS */
    CHECK_EQ(rd(&g, MSR), 0x11);
    wr(&g, MCR, 0x10 | 0x01); /* DTR -> DSR */
    CHECK_EQ(rd(&g, MSR), 0x23);
    wr(&g, MCR, 0x10 | 0x04); /* OUT1 -> RI */
    CHECK_EQ(rd(&g, MSR), 0x42);
    wr(&g, MCR, 0x10 | 0x08); /* OUT2 -> DCD */
    CHECK_EQ(rd(&g, MSR), 0x8c);
    /* THR comes back on RBR, not on the console */
    wr(&g, THR, 0x42);
    CHECK_EQ(g.out.len, 0);
    CHECK_EQ(rd(&g, LSR), 0x61);
    CHECK_EQ(rd(&g, RBR), 0x42);
    /* without FIFOs a second unread byte overruns and replaces the first */
    wr(&g, THR, 1);
    wr(&g, THR, 2);
    CHECK_EQ(rd(&g, LSR), 0x63);
    CHECK_EQ(rd(&g, RBR), 2);
    /* the receiver is disconnected from host input */
    uint8_t b = 'x';
    CHECK(!rv_uart_rx_room(g.uart));
    CHECK_EQ(rv_uart_receive(g.uart, &b, 1), 0);
    /* leaving loopback restores the always-ready lines and the console */
    wr(&g, MCR, 0x00);
    CHECK_EQ(rd(&g, MSR), 0xb3); /* CTS DSR up (DCD already was): DCTS DDSR */
    CHECK_EQ(rd(&g, MSR), 0xb0);
    wr(&g, THR, 'k');
    CHECK_EQ(g.out.len, 1);
    CHECK_EQ(g.out.buf[0], 'k');
    CHECK_EQ(rv_uart_receive(g.uart, &b, 1), 1);
    rig_free(&g);
}

static void test_save_load(void)
{
    struct rig a, b;
    rig_init(&a);
    rig_init(&b);
    wr(&a, LCR, 0x80);
    wr(&a, DLL, 0x34);
    wr(&a, DLM, 0x12);
    wr(&a, LCR, 0x1b);
    wr(&a, FCR, 0x81); /* trigger 8 */
    wr(&a, SCR, 0x77);
    wr(&a, MCR, 0x0b);
    wr(&a, IER, 0x01);
    const uint8_t data[] = "snapshot!";
    CHECK_EQ(rv_uart_receive(a.uart, data, 9), 9);
    CHECK_EQ(rd(&a, RBR), 's'); /* move the FIFO head so the ring wraps in state */
    CHECK(a.irq.level);

    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(a.r->ops->save(a.r->dev, &w), 0);

    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(b.r->ops->load(b.r->dev, &r), 0);
    CHECK_EQ(r.pos, w.len);
    CHECK(b.irq.level); /* the line follows the restored state */
    CHECK_EQ(rd(&b, LCR), 0x1b);
    CHECK_EQ(rd(&b, IER), 0x01);
    CHECK_EQ(rd(&b, IIR), 0xc4); /* 8 bytes waiting, trigger 8 */
    CHECK_EQ(rd(&b, MCR), 0x0b);
    CHECK_EQ(rd(&b, SCR), 0x77);
    CHECK_EQ(rd(&b, MSR), 0xb0);
    wr(&b, LCR, 0x9b);
    CHECK_EQ(rd(&b, DLL), 0x34);
    CHECK_EQ(rd(&b, DLM), 0x12);
    wr(&b, LCR, 0x1b);
    for (unsigned i = 1; i < 9; i++)
        CHECK_EQ(rd(&b, RBR), data[i]);
    CHECK_EQ(rd(&b, LSR), 0x60);
    CHECK(!b.irq.level);
    /* the restored FIFO still holds 16 */
    uint8_t many[16] = {0};
    CHECK_EQ(rv_uart_receive(b.uart, many, 16), 16);

    /* every truncation is rejected and leaves the device untouched */
    for (size_t len = 0; len < w.len; len++) {
        rv_state_reader_init(&r, w.buf, len);
        CHECK(b.r->ops->load(b.r->dev, &r) < 0);
    }
    CHECK_EQ(rd(&b, LSR), 0x61);
    CHECK_EQ(rd(&b, SCR), 0x77);

    /* invalid values: version, IER bits, MCR bits, FIFO count above capacity */
    uint8_t *bad = malloc(w.len);
    const struct {
        size_t at;
        uint8_t v;
    } cases[] = {
        {0, 2},       /* version */
        {1 + 2, 0x10}, /* IER reserved bit */
        {1 + 3, 0x02}, /* FCR without enable */
        {1 + 5, 0x20}, /* MCR reserved bit */
        {1 + 8, 0x00}, /* MSR lines inconsistent with MCR */
        {1 + 9, 1},    /* THRE pending with ETBEI clear */
        {1 + 10, 17},  /* FIFO count */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(bad, w.buf, w.len);
        bad[cases[i].at] = cases[i].v;
        rv_state_reader_init(&r, bad, w.len);
        CHECK(b.r->ops->load(b.r->dev, &r) < 0);
    }
    /* count above a non-FIFO capacity: FCR 0 with two bytes */
    memcpy(bad, w.buf, w.len);
    bad[1 + 3] = 0;
    bad[1 + 10] = 2;
    rv_state_reader_init(&r, bad, w.len);
    CHECK(b.r->ops->load(b.r->dev, &r) < 0);
    free(bad);

    rv_state_writer_free(&w);
    rig_free(&a);
    rig_free(&b);
}

static void test_fdt(void)
{
    static uint8_t blob[65536];
    CHECK_EQ(fdt_create_empty_tree(blob, sizeof(blob)), 0);
    int soc = fdt_add_subnode(blob, 0, "soc");
    CHECK(soc >= 0);
    fdt_setprop_u32(blob, soc, "#address-cells", 2);
    fdt_setprop_u32(blob, soc, "#size-cells", 2);
    struct rv_fdt f = {.blob = blob, .soc = soc};
    struct rv_iomap map = {0};
    struct fake_irq fi = {0};
    struct rv_irq irq = {.set = fake_irq_set, .ctrl = &fi, .source = 10, .phandle = 9};
    struct rv_uart *u;
    CHECK_EQ(rv_uart_create(&map, &f, BASE, &irq, NULL, &u), 0);
    CHECK_EQ(f.error, 0);
    int node = fdt_path_offset(blob, "/soc/serial@10000000");
    CHECK(node >= 0);
    int len;
    const char *compat = fdt_getprop(blob, node, "compatible", &len);
    CHECK(compat && len == 9 && strcmp(compat, "ns16550a") == 0);
    const fdt64_t *reg = fdt_getprop(blob, node, "reg", &len);
    CHECK(reg && len == 16);
    if (reg && len == 16) {
        CHECK_EQ(fdt64_ld(&reg[0]), BASE);
        CHECK_EQ(fdt64_ld(&reg[1]), 0x100);
    }
    const fdt32_t *p = fdt_getprop(blob, node, "clock-frequency", &len);
    CHECK(p && len == 4 && fdt32_to_cpu(*p) == 3686400);
    p = fdt_getprop(blob, node, "interrupts", &len);
    CHECK(p && len == 4 && fdt32_to_cpu(*p) == 10);
    p = fdt_getprop(blob, node, "interrupt-parent", &len);
    CHECK(p && len == 4 && fdt32_to_cpu(*p) == 9);
    map.regions[0].ops->destroy(u);
}

int main(void)
{
    test_reset_values();
    test_divisor_and_dlab();
    test_transmit();
    test_fifo_receive();
    test_trigger_levels();
    test_rx_irq_line();
    test_thre();
    test_priorities();
    test_loopback();
    test_save_load();
    test_fdt();
    TEST_MAIN_END();
}
