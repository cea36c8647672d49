/*
 * -nographic terminal handling.  Raw mode passes every key (Ctrl-C
 * included) to the guest; Ctrl-A is the escape, as in QEMU:
 *   Ctrl-A x      quit
 *   Ctrl-A c      switch between the serial console and the monitor
 *   Ctrl-A h      list the keys
 *   Ctrl-A Ctrl-A send a literal Ctrl-A
 * The terminal is restored by atexit() and by handlers for the signals that
 * would otherwise kill popek with the terminal left raw.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "frontend/headless.h"

#define CTRL_A 0x01

/* The one piece of process-wide state: what to restore on a signal. */
static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

static void restore_terminal(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = 0;
    }
}

static void fatal_signal(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

void headless_start(Headless *h)
{
    memset(h, 0, sizeof(*h));
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) != 0) {
        return; /* pipes (CI): nothing to set up */
    }
    termios_saved = 1;
    atexit(restore_terminal);
    /* SIGINT, SIGTERM and SIGHUP end the run cleanly (frontend/process.c)
     * and atexit() restores the terminal then. */
    static const int sigs[] = {SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], fatal_signal);
    }
    struct termios raw = saved_termios;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR; /* keep newline translation for our own messages */
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    h->raw = true;
}

void headless_stop(Headless *h)
{
    restore_terminal();
    h->raw = false;
}

static void print_help(void)
{
    static const char help[] = "\r\nC-a h    print this help\r\n"
                               "C-a x    exit popek\r\n"
                               "C-a c    switch between console and monitor\r\n"
                               "C-a C-a  send C-a\r\n";
    if (write(STDERR_FILENO, help, sizeof(help) - 1) < 0) {
        return; /* nowhere to say it */
    }
}

/* Ctrl-A x: QEMU says "QEMU: Terminated" on its console. */
static void print_terminated(void)
{
    static const char bye[] = "popek: terminated\r\n";
    if (write(STDOUT_FILENO, bye, sizeof(bye) - 1) < 0) {
        return; /* nowhere to say it */
    }
}

/* A key for whoever has the keyboard: the monitor or the serial port. */
static void pass_key(Headless *h, uint8_t c, uint8_t *out, int *n)
{
    if (h->monitor_active) {
        h->monitor_input(h->monitor_opaque, &c, 1);
    } else {
        out[(*n)++] = c;
    }
}

int headless_filter(Headless *h, const uint8_t *in, int len, uint8_t *out)
{
    int n = 0;
    for (int i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (!h->escape_pending) {
            if (c == CTRL_A) {
                h->escape_pending = true;
            } else {
                pass_key(h, c, out, &n);
            }
            continue;
        }
        h->escape_pending = false;
        switch (c) {
        case 'x':
        case 'X':
            print_terminated();
            h->quit = true;
            return n;
        case 'h':
        case 'H':
        case '?':
            print_help();
            break;
        case 'c':
        case 'C':
            if (h->monitor_input) {
                h->monitor_active = !h->monitor_active;
                h->monitor_focus(h->monitor_opaque, h->monitor_active);
            }
            break;
        case CTRL_A:
            pass_key(h, CTRL_A, out, &n);
            break;
        default:
            break; /* unknown escape: ignored, as QEMU does */
        }
    }
    return n;
}
