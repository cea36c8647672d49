"""What every test script that starts popek needs around the processes.

    sys.path.insert(0, ".../tests/support")
    from harness import Popen, PIDS, fail, ok, expect, free_port, run

Popen is subprocess.Popen that remembers each process it started, and PIDS
holds those a script knows only by pid (pty.fork, -daemonize), so that
fail() can kill them all: a popek left running would hold ctest's output
pipe open and the test would hang instead of failing.  run(main) turns an
AssertionError (monitor_client's MonitorError is one) into such a failure.
"""
import os
import signal
import socket
import subprocess
import sys

STARTED = []  # every process started through Popen
PIDS = []     # pids started otherwise


class Popen(subprocess.Popen):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        STARTED.append(self)


def kill_all():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
    for pid in PIDS:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def fail(msg):
    print("FAIL: " + msg, flush=True)
    kill_all()
    sys.exit(1)


def ok(msg):
    print("ok: " + msg, flush=True)


def expect(text, want):
    if want not in text:
        fail("expected %r in:\n%s" % (want, text))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(main):
    try:
        return main()
    except AssertionError as e:
        fail(str(e))
