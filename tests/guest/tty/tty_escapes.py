#!/usr/bin/env python3
"""-nographic on a real terminal (a pty): raw mode while running, Ctrl-A h
lists the keys, Ctrl-A x quits with status 0, and the terminal settings are
restored afterwards, also when popek is killed by SIGTERM.

  tty_escapes.py POPEK IDLE_ROM
"""
import os
import pty
import select
import signal
import sys
import termios
import time


def spawn(popek, rom):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(popek, [popek, "-bios", rom, "-nographic", "-no-reboot", "--accel", "interp"])
    return pid, fd


def read_until(fd, needle, timeout=30):
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; got {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            buf += chunk
    return buf


def wait_status(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("popek did not exit")


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def attrs(fd):
    a = termios.tcgetattr(fd)
    return a[:6]  # iflag, oflag, cflag, lflag, ispeed, ospeed


def main():
    popek, rom = sys.argv[1], sys.argv[2]

    # Ctrl-A h and Ctrl-A x.
    pid, fd = spawn(popek, rom)
    cooked = None
    time.sleep(0.2)
    read_until(fd, b"\n", 30)  # anything printed means popek is up
    lflag = termios.tcgetattr(fd)[3]
    check(not (lflag & termios.ICANON) and not (lflag & termios.ECHO),
          "the terminal is raw while popek runs")
    os.write(fd, b"\x01h")
    out = read_until(fd, b"C-a x", 10)
    check(b"C-a x" in out, "Ctrl-A h lists the escape keys")
    os.write(fd, b"\x01x")
    out = read_until(fd, b"popek: terminated", 10)
    check(b"popek: terminated" in out, "Ctrl-A x says 'popek: terminated', as QEMU says 'QEMU: Terminated'")
    status = wait_status(pid)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "Ctrl-A x quits with status 0")

    # SIGTERM restores the terminal too: compare with a cooked terminal.
    pid, fd = spawn(popek, rom)
    read_until(fd, b"\n", 30)
    os.kill(pid, signal.SIGTERM)
    out = read_until(fd, b"terminating on signal 15", 10)
    check(b"popek: terminating on signal 15" in out, "SIGTERM says 'popek: terminating on signal 15'")
    status = wait_status(pid)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "SIGTERM ends popek with status 0, as QEMU")
    lflag = termios.tcgetattr(fd)[3] if os.isatty(fd) else None
    check(lflag is not None and (lflag & termios.ICANON) and (lflag & termios.ECHO),
          "the terminal is restored after SIGTERM")
    del cooked


if __name__ == "__main__":
    main()
