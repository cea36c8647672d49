#!/usr/bin/env python3
"""popek as a process, through the real frontend:

    process_test.py POPEK ECHO_ROM

SIGTERM, SIGINT and SIGHUP end the run as QEMU's do: the message, exit 0,
a -d exec trace window complete to its last line, -textdump written.
-daemonize: the parent exits 0 once the child runs, the child serves its
socket detached; a startup error still reaches the terminal with a
non-zero status; -nographic and stdio backends are refused.  -pidfile:
the pid, a lock a second popek runs into, removed at exit.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Popen, PIDS, fail, ok, run  # noqa: E402


POPEK = ROM = None


def base():
    return [POPEK, "-bios", ROM, "-display", "none", "-icount", "0"]


def wait_for(cond, what, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            fail("timed out: " + what)
        time.sleep(0.05)


def test_signals(tmp):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        log = os.path.join(tmp, "t%d.log" % sig)
        text = os.path.join(tmp, "screen%d.txt" % sig)
        proc = Popen(base() + ["-d", "exec", "-D", log, "-dstart", "100000",
                                          "-dcount", "50", "-textdump", text],
                                stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # The window is open once the trace has its first lines (they sit in
        # stdio's buffer until the end, so wait for the instruction count).
        time.sleep(1.0)
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("signal %d did not end popek" % sig)
        err = err.decode()
        if proc.returncode != 0:
            fail("signal %d: exit %d (%r)" % (sig, proc.returncode, err))
        if not re.search(r"^popek: terminating on signal %d from pid %d$" % (sig, os.getpid()),
                         err, re.M):
            fail("signal %d: message %r" % (sig, err))
        data = open(log).read()
        lines = data.split("\n")
        if not data.endswith("\n") or len(lines) - 1 != 50 or \
                not all(re.match(r"^f000:[0-9a-f]{8} ", l) for l in lines[:-1]):
            fail("signal %d: trace has %d lines, ends %r" % (sig, len(lines) - 1, data[-80:]))
        if not os.path.exists(text):
            fail("signal %d: -textdump not written" % sig)
        ok("signal %d: message, exit 0, 50 complete trace lines, -textdump written" % sig)


def connect_unix(path):
    deadline = time.time() + 20
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                fail("cannot connect to " + path)
            time.sleep(0.05)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_daemonize(tmp):
    pidfile = os.path.join(tmp, "popek.pid")
    sock = os.path.join(tmp, "com1.sock")
    start = time.time()
    r = subprocess.run(base() + ["-daemonize", "-pidfile", pidfile, "-serial",
                                 "unix:%s,server,nowait" % sock],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    if r.returncode != 0 or r.stdout or r.stderr:
        fail("-daemonize: parent status %d, out %r err %r" % (r.returncode, r.stdout, r.stderr))
    pid = int(open(pidfile).read().strip())
    PIDS.append(pid)
    if not alive(pid) or pid == os.getpid():
        fail("-daemonize: the pidfile's process %d is not running" % pid)
    if os.getsid(pid) != pid:
        fail("-daemonize: the child is not in a session of its own")
    ok("-daemonize: the parent exits 0 at once (%.1f s), the child %d runs in its own session"
       % (time.time() - start, pid))
    s = connect_unix(sock)
    s.sendall(b"daemon\r")
    got = b""
    deadline = time.time() + 20
    while b"DAEMON" not in got:
        if time.time() > deadline:
            fail("the daemon's COM1 never echoed: %r" % got)
        s.settimeout(1)
        try:
            got += s.recv(100)
        except socket.timeout:
            pass
    s.close()
    ok("the daemon serves its COM1 socket")

    r = subprocess.run(base() + ["-pidfile", pidfile, "-serial", "null"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = r.stderr.decode()
    if r.returncode == 0 or len(err.splitlines()) != 1 or "-pidfile: cannot lock" not in err:
        fail("second popek on the same pidfile: status %d, %r" % (r.returncode, err))
    ok("a second popek on the locked pidfile: " + err.strip())

    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not alive(pid), "the daemon to exit on SIGTERM")
    if os.path.exists(pidfile):
        fail("the pidfile outlived popek")
    ok("SIGTERM ends the daemon and its pidfile goes")

    r = subprocess.run(base()[:1] + ["-daemonize", "-display", "none", "-kernel",
                                     os.path.join(tmp, "nope")],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = r.stderr.decode()
    if r.returncode == 0 or "nope" not in err or len(err.splitlines()) != 1:
        fail("-daemonize with a bad -kernel: status %d, %r" % (r.returncode, err))
    ok("-daemonize: a startup error still reaches stderr, status %d" % r.returncode)

    for args, want in ((["-nographic"], "-nographic cannot be used with -daemonize"),
                       (["-serial", "stdio"], "cannot use stdio with -daemonize"),
                       (["-monitor", "stdio"], "cannot use stdio with -daemonize")):
        r = subprocess.run(base() + ["-daemonize"] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        err = r.stderr.decode()
        if r.returncode == 0 or want not in err or len(err.splitlines()) != 1:
            fail("-daemonize %r: status %d, %r" % (args, r.returncode, err))
        ok("refused: " + err.strip())


def main():
    global POPEK, ROM
    POPEK, ROM = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        test_signals(tmp)
        test_daemonize(tmp)
    print("process test passed")


if __name__ == "__main__":
    run(main)
