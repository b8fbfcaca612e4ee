/* The console and the VM's I/O thread: guest output to the host, host input into the UART
 * (with QEMU-style Ctrl-A escapes), and periodic device work (RTC alarms). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "dev/rtc.h"
#include "dev/uart.h"
#include "dev/virtio_balloon.h"
#include "dev/virtio_console.h"
#include "machine/vm_internal.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

/* Linux prints this when it panics. With the default panic=0 it then spins forever, and
 * there is no paravirtual panic device in Debian's riscv64 kernel, so rvisor watches the
 * console: a panicked guest ends the run with RV_STATUS_PANIC once its message is out. */
#define PANIC_TEXT "Kernel panic - not syncing"
#define PANIC_GRACE_NS 1000000000ull

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void watch_for_panic(struct rv_vm *vm, const uint8_t *buf, size_t len)
{
    static const char text[] = PANIC_TEXT;
    for (size_t i = 0; i < len; i++) {
        /* The text has no repeated prefix, so restarting the match is exact. */
        if (buf[i] == (uint8_t)text[vm->panic_match])
            vm->panic_match++;
        else
            vm->panic_match = buf[i] == (uint8_t)text[0];
        if (vm->panic_match == sizeof(text) - 1) {
            vm->panic_match = 0;
            uint64_t zero = 0;
            atomic_compare_exchange_strong(&vm->panic_at, &zero, monotonic_ns());
            char c = 'p';
            if (write(vm->wake_pipe[1], &c, 1) < 0) {
                /* the I/O thread polls at least once a second anyway */
            }
        }
    }
}

void console_output(void *opaque, const uint8_t *buf, size_t len)
{
    struct rv_vm *vm = opaque;
    pthread_mutex_lock(&vm->out_lock);
    watch_for_panic(vm, buf, len);
    int fd = vm->out_fd;
    while (fd >= 0 && len) {
        ssize_t n = write(vm->out_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {vm->out_fd, POLLOUT, 0};
            poll(&p, 1, 100);
            continue;
        }
        if (n <= 0)
            break; /* the output is gone (closed pipe): drop, as a disconnected UART would */
        buf += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&vm->out_lock);
}

size_t console_read(struct rv_vm *vm, uint8_t *buf, size_t len)
{
    size_t n = len < vm->in_len ? len : vm->in_len;
    memcpy(buf, vm->in_buf, n);
    memmove(vm->in_buf, vm->in_buf + n, vm->in_len - n);
    vm->in_len -= n;
    return n;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && write(2, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0) {
        /* nothing useful to do without a terminal */
    }
}

static void escape_help(void)
{
    say("\r\nC-a h    print this help\r\n"
        "C-a x    exit rvisor (the guest is powered off)\r\n"
        "C-a c    monitor command line (help lists its commands)\r\n"
        "C-a C-a  send C-a to the guest\r\n");
}

/* The monitor: one command line typed after C-a c, ended by Enter (dev_lock held). */
static void monitor_command(struct rv_vm *vm, char *line)
{
    char *cmd = strtok(line, " \t");
    char *arg = strtok(NULL, " \t");
    if (!cmd) {
        return;
    } else if (strcmp(cmd, "help") == 0) {
        say("\r\nballoon MIB     ask the guest to shrink to (or grow back to) MIB of RAM\r\n"
            "info balloon    the balloon's state\r\n"
            "powerdown       press the power button: the guest shuts down by itself\r\n"
            "quit            power off and exit\r\n");
    } else if (strcmp(cmd, "quit") == 0) {
        vm_power(vm, VM_POWER_OFF, 0);
    } else if (strcmp(cmd, "powerdown") == 0) {
        if (rv_vm_press_power_button(vm))
            say("\r\nrvisor: %s\r\n", rv_error_get());
    } else if (strcmp(cmd, "balloon") == 0 || (strcmp(cmd, "info") == 0 && arg &&
                                               strcmp(arg, "balloon") == 0)) {
        if (!vm->balloon) {
            say("\r\nrvisor: no balloon device (start with --balloon)\r\n");
            return;
        }
        uint64_t ram_mib = vm->bus.ram_size >> 20;
        if (strcmp(cmd, "balloon") == 0) {
            char *end = NULL;
            unsigned long long mib = arg ? strtoull(arg, &end, 10) : 0;
            if (!arg || *end || mib == 0 || mib > ram_mib) {
                say("\r\nrvisor: balloon takes the guest's new size in MiB (1..%llu)\r\n",
                    (unsigned long long)ram_mib);
                return;
            }
            rv_virtio_balloon_set_target(vm->balloon, (ram_mib - mib) << 8);
        }
        say("\r\nballoon: actual=%llu MiB target=%llu MiB released=%llu pages\r\n",
            (unsigned long long)(ram_mib - (rv_virtio_balloon_actual(vm->balloon) >> 8)),
            (unsigned long long)(ram_mib - (rv_virtio_balloon_target(vm->balloon) >> 8)),
            (unsigned long long)rv_virtio_balloon_released(vm->balloon));
    } else {
        say("\r\nrvisor: unknown monitor command '%s' (try help)\r\n", cmd);
    }
}

/* Takes host input bytes, handles escapes, and queues the rest for the guest (dev_lock held). */
static void console_input(struct rv_vm *vm, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (vm->escape_state == 2) { /* collecting a monitor command */
            if (c == '\r' || c == '\n') {
                vm->monitor_line[vm->monitor_len] = '\0';
                monitor_command(vm, vm->monitor_line);
                vm->monitor_len = 0;
                vm->escape_state = 0;
            } else if (vm->monitor_len + 1 < sizeof(vm->monitor_line)) {
                vm->monitor_line[vm->monitor_len++] = (char)c;
            }
            continue;
        }
        if (vm->cfg.console_escapes) {
            if (vm->escape_state == 0 && c == ESCAPE_CHAR) {
                vm->escape_state = 1;
                continue;
            }
            if (vm->escape_state == 1) {
                vm->escape_state = 0;
                if (c == 'x' || c == 'X') {
                    fprintf(stderr, "\r\nrvisor: terminated by C-a x\r\n");
                    vm_power(vm, VM_POWER_OFF, 0);
                    return;
                }
                if (c == 'h' || c == 'H' || c == '?') {
                    escape_help();
                    continue;
                }
                if (c == 'c' || c == 'C') {
                    say("\r\n(rvisor) ");
                    vm->escape_state = 2;
                    vm->monitor_len = 0;
                    continue;
                }
                if (c != ESCAPE_CHAR)
                    continue; /* unknown escape: ignored, like QEMU */
            }
        }
        if (vm->in_len < sizeof(vm->in_buf))
            vm->in_buf[vm->in_len++] = c;
    }
}

static void *io_thread(void *arg)
{
    struct rv_vm *vm = arg;
    int in_fd = vm->cfg.console_in_fd;
    for (;;) {
        int timeout = 1000;
        pthread_mutex_lock(&vm->dev_lock);
        if (vm->in_len && (vm->uart || vm->vconsole)) {
            size_t n = vm->vconsole ? rv_virtio_console_receive(vm->vconsole, vm->in_buf,
                                                                vm->in_len)
                                    : rv_uart_receive(vm->uart, vm->in_buf, vm->in_len);
            memmove(vm->in_buf, vm->in_buf + n, vm->in_len - n);
            vm->in_len -= n;
        }
        if (vm->rtc)
            rv_rtc_poll(vm->rtc);
        bool pending = vm->in_len != 0;
        uint64_t alarm = vm->rtc ? rv_rtc_next_alarm_ns(vm->rtc) : UINT64_MAX;
        pthread_mutex_unlock(&vm->dev_lock);
        if (pending)
            timeout = 5; /* the UART FIFO is full: retry soon */
        uint64_t panic_at = atomic_load(&vm->panic_at);
        if (panic_at) {
            uint64_t now = monotonic_ns();
            if (now - panic_at >= PANIC_GRACE_NS) {
                vm_power(vm, VM_POWER_OFF, RV_STATUS_PANIC);
                atomic_store(&vm->panic_at, 0);
            } else if (timeout > 100) {
                timeout = 100;
            }
        }
        if (alarm != UINT64_MAX) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
            uint64_t ms = alarm > now_ns ? (alarm - now_ns) / 1000000 + 1 : 0;
            if (ms < (uint64_t)timeout)
                timeout = (int)ms;
        }
        struct pollfd fds[2] = {{vm->wake_pipe[0], POLLIN, 0}, {in_fd, POLLIN, 0}};
        /* Stop reading input while the queue is full, so nothing is dropped. */
        int nfds = in_fd >= 0 && !pending ? 2 : 1;
        if (poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            char cmd[16];
            ssize_t n = read(vm->wake_pipe[0], cmd, sizeof(cmd));
            bool stop = false;
            for (ssize_t i = 0; i < n; i++) {
                if (cmd[i] == 'q')
                    vm_power(vm, VM_POWER_OFF, 0);
                else if (cmd[i] == 's')
                    stop = true;
            }
            if (stop)
                break;
        }
        if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[128];
            ssize_t n = read(in_fd, buf, sizeof(buf));
            if (n > 0) {
                pthread_mutex_lock(&vm->dev_lock);
                console_input(vm, buf, (size_t)n);
                pthread_mutex_unlock(&vm->dev_lock);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                in_fd = -1; /* end of input: the guest simply gets no more */
            }
        }
    }
    return NULL;
}

int console_start(struct rv_vm *vm)
{
    if (vm->io_started)
        return 0;
    if (pthread_create(&vm->io_thread, NULL, io_thread, vm) != 0) {
        rv_err("cannot start the I/O thread");
        return -1;
    }
    vm->io_started = true;
    return 0;
}

void console_stop(struct rv_vm *vm)
{
    if (!vm->io_started)
        return;
    char c = 's';
    while (write(vm->wake_pipe[1], &c, 1) < 0 && errno == EINTR)
        ;
    pthread_join(vm->io_thread, NULL);
    vm->io_started = false;
}
