/* NS16550A UART (register set and interrupt rules per the TI/National PC16550D datasheet).
 *
 * Model: the transmitter is infinitely fast (THR and the shift register are always empty, so
 * LSR.THRE and LSR.TEMT always read 1); the receiver holds a FIFO of 16 bytes (1 byte with
 * FIFOs disabled) filled by host input. The receiver timeout interrupt is modelled as "data
 * present below the trigger level and not read": it is pending as soon as a byte is waiting,
 * which is what a guest sees from a real chip after four character times. */
#include "dev/uart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/serial.h"

/* Register offsets (reg-shift 0). */
enum {
    REG_RBR_THR_DLL = 0,
    REG_IER_DLM = 1,
    REG_IIR_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_MASK 0x0f

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c /* character timeout */
#define IIR_FIFO 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA 0x08
#define FCR_TRIGGER 0xc0
#define FCR_STORED (FCR_ENABLE | FCR_DMA | FCR_TRIGGER)

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTA 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_LINES 0xf0

#define FIFO_SIZE 16
#define CLOCK_HZ 3686400u /* QEMU virt's UART input clock (DT clock-frequency) */
#define STATE_VERSION 1

struct rv_uart {
    struct rv_irq irq;
    struct rv_console out;
    bool has_irq, irq_level; /* irq_level: the level last driven onto the line */

    uint8_t dll, dlm, ier, fcr, lcr, mcr, scr;
    uint8_t lsr_errors;   /* sticky LSR error bits (OE only in practice), cleared by LSR read */
    uint8_t msr;          /* line states (high nibble) and delta bits (low nibble) */
    bool thr_ipending;    /* THR-empty interrupt armed and not yet acknowledged */

    uint8_t rx[FIFO_SIZE];
    unsigned rx_head, rx_count;
};

static unsigned rx_capacity(const struct rv_uart *u)
{
    return (u->fcr & FCR_ENABLE) ? FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct rv_uart *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    return (u->fcr & FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

/* The modem input lines: wired to the modem outputs in loopback, else a peer that is always
 * ready (CTS, DSR and DCD asserted, no ring), like QEMU's serial backend. */
static uint8_t modem_lines(uint8_t mcr)
{
    if (!(mcr & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD;
    uint8_t l = 0;
    if (mcr & MCR_RTS)
        l |= MSR_CTS;
    if (mcr & MCR_DTR)
        l |= MSR_DSR;
    if (mcr & MCR_OUT1)
        l |= MSR_RI;
    if (mcr & MCR_OUT2)
        l |= MSR_DCD;
    return l;
}

/* The highest-priority pending interrupt (datasheet table 4), IIR_NONE if none. */
static uint8_t interrupt_id(const struct rv_uart *u)
{
    if ((u->ier & IER_ELSI) && (u->lsr_errors & LSR_ERRORS))
        return IIR_RLSI;
    if ((u->ier & IER_ERBFI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_CTI;
    if ((u->ier & IER_ETBEI) && u->thr_ipending)
        return IIR_THRI;
    if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTA))
        return IIR_MSI;
    return IIR_NONE;
}

static void update_irq(struct rv_uart *u)
{
    bool level = interrupt_id(u) != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->has_irq)
            rv_irq_set(&u->irq, level);
    }
}

static void rx_clear(struct rv_uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* One character arriving at the receiver from the line (loopback): an overrun if there is no
 * room. In FIFO mode the new character is lost; without FIFOs it overwrites the unread one. */
static void rx_push_line(struct rv_uart *u, uint8_t ch)
{
    unsigned cap = rx_capacity(u);
    if (u->rx_count == cap) {
        u->lsr_errors |= LSR_OE;
        if (cap > 1)
            return;
        u->rx_count = 0;
    }
    u->rx[(u->rx_head + u->rx_count) % FIFO_SIZE] = ch;
    u->rx_count++;
}

static uint8_t rx_pop(struct rv_uart *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t ch = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
    u->rx_count--;
    return ch;
}

static void set_mcr(struct rv_uart *u, uint8_t mcr)
{
    uint8_t old = modem_lines(u->mcr), now = modem_lines(mcr);
    uint8_t changed = old ^ now;
    u->mcr = mcr;
    if (changed & MSR_CTS)
        u->msr |= MSR_DCTS;
    if (changed & MSR_DSR)
        u->msr |= MSR_DDSR;
    if ((old & MSR_RI) && !(now & MSR_RI)) /* trailing edge only */
        u->msr |= MSR_TERI;
    if (changed & MSR_DCD)
        u->msr |= MSR_DDCD;
    u->msr = (uint8_t)((u->msr & MSR_DELTA) | now);
}

static void transmit(struct rv_uart *u, uint8_t ch)
{
    if (u->mcr & MCR_LOOP)
        rx_push_line(u, ch);
    else if (u->out.write)
        u->out.write(u->out.opaque, &ch, 1);
    /* The byte left THR at once: THR is empty again, which re-raises the THRE interrupt. */
    u->thr_ipending = (u->ier & IER_ETBEI) != 0;
}

static void write_fcr(struct rv_uart *u, uint8_t v)
{
    /* Changing the enable bit flushes both FIFOs; the other bits are only programmed while
     * FIFOs are (being) enabled. */
    if ((v ^ u->fcr) & FCR_ENABLE)
        v |= FCR_CLEAR_RX | FCR_CLEAR_TX;
    if (v & FCR_CLEAR_RX)
        rx_clear(u);
    /* FCR_CLEAR_TX: the transmitter holds nothing. */
    u->fcr = (v & FCR_ENABLE) ? (uint8_t)(v & FCR_STORED) : 0;
}

static uint64_t uart_read(void *dev, uint64_t offset, unsigned size)
{
    struct rv_uart *u = dev;
    (void)size; /* byte registers; wider accesses see the addressed register in the low byte */
    uint8_t v = 0;
    switch (offset) {
    case REG_RBR_THR_DLL:
        v = (u->lcr & LCR_DLAB) ? u->dll : rx_pop(u);
        break;
    case REG_IER_DLM:
        v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case REG_IIR_FCR: {
        uint8_t id = interrupt_id(u);
        v = (uint8_t)(id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0));
        if (id == IIR_THRI) /* reading IIR acknowledges a THRE interrupt it reports */
            u->thr_ipending = false;
        break;
    }
    case REG_LCR:
        v = u->lcr;
        break;
    case REG_MCR:
        v = u->mcr;
        break;
    case REG_LSR:
        v = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_errors | (u->rx_count ? LSR_DR : 0));
        u->lsr_errors = 0;
        break;
    case REG_MSR:
        v = u->msr;
        u->msr &= MSR_LINES;
        break;
    case REG_SCR:
        v = u->scr;
        break;
    default:
        return 0;
    }
    update_irq(u);
    return v;
}

static void uart_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_uart *u = dev;
    (void)size;
    uint8_t v = (uint8_t)value;
    switch (offset) {
    case REG_RBR_THR_DLL:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else
            transmit(u, v);
        break;
    case REG_IER_DLM:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            uint8_t old = u->ier;
            u->ier = v & IER_MASK;
            /* Enabling ETBEI while THR is empty (always, here) raises THRE at once; Linux's
             * 8250 driver relies on this to start transmitting. */
            if ((u->ier ^ old) & IER_ETBEI)
                u->thr_ipending = (u->ier & IER_ETBEI) != 0;
        }
        break;
    case REG_IIR_FCR:
        write_fcr(u, v);
        break;
    case REG_LCR:
        u->lcr = v;
        break;
    case REG_MCR:
        set_mcr(u, v & MCR_MASK);
        break;
    case REG_SCR:
        u->scr = v;
        break;
    default: /* LSR and MSR are read-only (factory test writes are not modelled) */
        return;
    }
    update_irq(u);
}

static void uart_reset(void *dev)
{
    struct rv_uart *u = dev;
    u->dll = u->dlm = u->ier = u->fcr = u->lcr = u->mcr = u->scr = 0;
    u->lsr_errors = 0;
    u->msr = modem_lines(0);
    u->thr_ipending = false;
    rx_clear(u);
    update_irq(u);
}

static int uart_save(void *dev, struct rv_state_writer *w)
{
    struct rv_uart *u = dev;
    rv_put_u8(w, STATE_VERSION);
    const uint8_t regs[] = {u->dll, u->dlm, u->ier, u->fcr, u->lcr, u->mcr, u->scr,
                            u->lsr_errors, u->msr, u->thr_ipending};
    rv_put_bytes(w, regs, sizeof(regs));
    rv_put_u8(w, (uint8_t)u->rx_count);
    for (unsigned i = 0; i < u->rx_count; i++)
        rv_put_u8(w, u->rx[(u->rx_head + i) % FIFO_SIZE]);
    return w->error;
}

/* Restores all-or-nothing: the state is decoded into a copy and validated before use. */
static int uart_load(void *dev, struct rv_state_reader *r)
{
    struct rv_uart *u = dev;
    struct rv_uart n = *u;
    uint8_t version = rv_get_u8(r);
    uint8_t regs[10];
    rv_get_bytes(r, regs, sizeof(regs));
    n.dll = regs[0];
    n.dlm = regs[1];
    n.ier = regs[2];
    n.fcr = regs[3];
    n.lcr = regs[4];
    n.mcr = regs[5];
    n.scr = regs[6];
    n.lsr_errors = regs[7];
    n.msr = regs[8];
    n.thr_ipending = regs[9] != 0;
    n.rx_head = 0;
    n.rx_count = rv_get_u8(r);
    if (r->error)
        return rv_error_set(-EINVAL, "uart: truncated state");
    if (version != STATE_VERSION)
        return rv_error_set(-EINVAL, "uart: unsupported state version %u", version);
    if ((n.ier & ~IER_MASK) || (n.fcr & ~FCR_STORED) ||
        (!(n.fcr & FCR_ENABLE) && n.fcr) || (n.mcr & ~MCR_MASK) ||
        (n.lsr_errors & ~LSR_ERRORS) || (n.msr & MSR_LINES) != modem_lines(n.mcr) ||
        regs[9] > 1 || (n.thr_ipending && !(n.ier & IER_ETBEI)))
        return rv_error_set(-EINVAL, "uart: invalid register state");
    if (n.rx_count > rx_capacity(&n))
        return rv_error_set(-EINVAL, "uart: receive FIFO holds %u bytes, more than %u",
                            n.rx_count, rx_capacity(&n));
    rv_get_bytes(r, n.rx, n.rx_count);
    if (r->error)
        return rv_error_set(-EINVAL, "uart: truncated state");
    *u = n;
    /* Drive the line to the restored state whatever it was before. */
    u->irq_level = interrupt_id(u) != IIR_NONE;
    if (u->has_irq)
        rv_irq_set(&u->irq, u->irq_level);
    return 0;
}

static void uart_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops uart_ops = {
    .name = "ns16550a",
    .read = uart_read,
    .write = uart_write,
    .reset = uart_reset,
    .save = uart_save,
    .load = uart_load,
    .destroy = uart_destroy,
};

size_t rv_uart_receive(struct rv_uart *u, const uint8_t *buf, size_t len)
{
    if (u->mcr & MCR_LOOP)
        return 0;
    size_t room = rx_capacity(u) - u->rx_count;
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        u->rx[(u->rx_head + u->rx_count++) % FIFO_SIZE] = buf[i];
    update_irq(u);
    return n;
}

bool rv_uart_rx_room(const struct rv_uart *u)
{
    return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

int rv_uart_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                   const struct rv_irq *irq, const struct rv_console *out,
                   struct rv_uart **uart)
{
    struct rv_uart *u = calloc(1, sizeof(*u));
    if (!u)
        return rv_error_set(-ENOMEM, "uart: out of memory");
    if (irq) {
        u->irq = *irq;
        u->has_irq = true;
    }
    if (out)
        u->out = *out;
    u->msr = modem_lines(0);
    int rc = rv_iomap_attach(map, base, RV_UART_SIZE, &uart_ops, u);
    if (rc) {
        free(u);
        return rc;
    }
    if (fdt) {
        static const char compat[] = "ns16550a";
        int node = rv_fdt_add_device(fdt, "serial", base, RV_UART_SIZE, compat, sizeof(compat));
        rv_fdt_setprop_u32(fdt, node, "clock-frequency", CLOCK_HZ);
        if (irq)
            rv_fdt_set_irq(fdt, node, irq);
    }
    *uart = u;
    return 0;
}
