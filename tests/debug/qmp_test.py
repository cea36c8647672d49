#!/usr/bin/env python3
"""QMP through the real frontend, with a small client of our own:

    qmp_test.py POPEK ECHO_ROM

On -qmp unix:PATH,server,nowait: the greeting, commands refused before
qmp_capabilities, query-status, stop -> STOP and paused, cont -> RESUME,
human-monitor-command "info registers", query-version, query-commands,
errors (unknown command, bad arguments, bad JSON, not an object, an
endless object dropped), id echoed, system_reset -> RESET,
system_powerdown -> POWERDOWN, quit -> SHUTDOWN and exit 0.  Then
-qmp tcp:HOST:PORT,server,nowait and -qmp stdio, and SIGTERM's SHUTDOWN.
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Popen, fail, ok, run  # noqa: E402


class QMP:
    """One JSON object per line; events are kept apart from replies."""

    def __init__(self, rfile, wfile):
        self.rfile, self.wfile = rfile, wfile
        self.buf = b""
        self.events = []

    def recv(self, timeout=20):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                fail("no QMP message; have %r" % self.buf)
            r, _, _ = select.select([self.rfile], [], [], left)
            if r:
                chunk = os.read(self.rfile, 65536)
                if not chunk:
                    fail("QMP connection closed; have %r" % self.buf)
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send_raw(self, data):
        os.write(self.wfile, data)

    def reply(self):
        while True:
            msg = self.recv()
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def cmd(self, name, args=None, id=None):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        if id is not None:
            req["id"] = id
        self.send_raw(json.dumps(req).encode() + b"\n")
        return self.reply()

    def event(self, name, timeout=20):
        deadline = time.time() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.time()
            if left <= 0:
                fail("no %s event (have %r)" % (name, self.events))
            msg = self.recv(left)
            if "event" not in msg:
                fail("unexpected reply %r while waiting for %s" % (msg, name))
            self.events.append(msg)


def check_event(ev, name):
    ts = ev.get("timestamp", {})
    if ev["event"] != name or not isinstance(ts.get("seconds"), int) or \
            not isinstance(ts.get("microseconds"), int):
        fail("bad %s event %r" % (name, ev))


def expect_error(reply, cls, desc_part, id=None):
    err = reply.get("error")
    if not err or err.get("class") != cls or desc_part not in err.get("desc", ""):
        fail("expected %s error with %r, got %r" % (cls, desc_part, reply))
    if id is not None and reply.get("id") != id:
        fail("id not echoed in %r" % reply)


def greeting(q):
    g = q.recv()
    if "QMP" not in g or g["QMP"].get("capabilities") != [] or \
            "qemu" not in g["QMP"].get("version", {}):
        fail("bad greeting %r" % g)
    ok("greeting %s" % json.dumps(g))


def full_session(q, proc):
    greeting(q)
    expect_error(q.cmd("query-status", id=1), "CommandNotFound",
                 "Expecting capabilities negotiation", id=1)
    ok("commands before qmp_capabilities are refused")
    if q.cmd("qmp_capabilities", id="neg") != {"return": {}, "id": "neg"}:
        fail("qmp_capabilities")
    expect_error(q.cmd("qmp_capabilities"), "CommandNotFound", "already complete")
    r = q.cmd("query-status")
    if r["return"]["status"] != "running" or r["return"]["running"] is not True:
        fail("query-status: %r" % r)
    ok("query-status: running")

    if q.cmd("stop", id=7) != {"return": {}, "id": 7}:
        fail("stop")
    check_event(q.event("STOP"), "STOP")
    if q.cmd("query-status")["return"]["status"] != "paused":
        fail("not paused after stop")
    ok("stop -> STOP event, status paused")
    hmp = q.cmd("human-monitor-command", {"command-line": "info registers"})
    if "EIP=" not in hmp.get("return", "") or "CR0=" not in hmp["return"]:
        fail("human-monitor-command: %r" % hmp)
    ok("human-monitor-command 'info registers'")
    if q.cmd("human-monitor-command",
             {"command-line": "info status"})["return"] != "VM status: paused\n":
        fail("human-monitor-command info status")
    q.cmd("cont")
    check_event(q.event("RESUME"), "RESUME")
    if q.cmd("query-status")["return"]["status"] != "running":
        fail("not running after cont")
    ok("cont -> RESUME event, status running")

    v = q.cmd("query-version")["return"]
    if not isinstance(v["qemu"]["major"], int) or "popek" not in v["package"]:
        fail("query-version: %r" % v)
    names = {c["name"] for c in q.cmd("query-commands")["return"]}
    want = {"qmp_capabilities", "query-status", "stop", "cont", "system_reset",
            "system_powerdown", "quit", "human-monitor-command", "query-version",
            "query-commands"}
    if not want <= names:
        fail("query-commands lacks %r" % (want - names))
    ok("query-version, query-commands")

    expect_error(q.cmd("frobnicate", id="x"), "CommandNotFound",
                 "The command frobnicate has not been found", id="x")
    expect_error(q.cmd("stop", {"now": True}), "GenericError", "Parameter 'now' is unexpected")
    expect_error(q.cmd("human-monitor-command"), "GenericError", "'command-line' is missing")
    expect_error(q.cmd("human-monitor-command", {"command-line": 5}), "GenericError",
                 "expected: string")
    q.send_raw(b"[1, 2]\n")
    expect_error(q.reply(), "GenericError", "must be a JSON object")
    q.send_raw(b'{"execute": 5}\n')
    expect_error(q.reply(), "GenericError", "'execute' must be a string")
    q.send_raw(b'{"execute": "stop", "foo": 1}\n')
    expect_error(q.reply(), "GenericError", "member 'foo' is unexpected")
    q.send_raw(b'{"execute": }\n')
    expect_error(q.reply(), "GenericError", "JSON parse error")
    # One command in pieces, two in one write.
    q.send_raw(b'{"execute": "query-')
    time.sleep(0.05)
    q.send_raw(b'status", "id": "split"}{"execute": "query-version", "id": "second"}')
    if q.reply().get("id") != "split" or q.reply().get("id") != "second":
        fail("split and joined objects")
    ok("errors as GenericError/CommandNotFound with the id; objects split and joined")

    # An object that never ends is dropped with an error, not buffered forever.
    rss_before = rss_kb(proc.pid)
    q.send_raw(b'{"execute": "' + b"a" * (200 * 1024))
    expect_error(q.reply(), "GenericError", "too large")
    q.send_raw(b'"}\n')
    time.sleep(0.2)
    q.buf = b""  # whatever the tail of the dropped object caused
    drain(q)
    # The tail's own error replies may still be on their way on a slow
    # (sanitized, loaded) run: skip replies until the one with our id.
    q.send_raw(json.dumps({"execute": "query-status", "id": "after"}).encode() + b"\n")
    for _ in range(50):
        if q.reply().get("id") == "after":
            break
    else:
        fail("QMP unusable after an oversized object")
    if rss_kb(proc.pid) - rss_before > 4096:
        fail("memory grew by %d kB" % (rss_kb(proc.pid) - rss_before))
    ok("an endless object is dropped with an error and QMP goes on")

    q.cmd("system_reset")
    ev = q.event("RESET")
    if ev.get("data", {}).get("reason") != "host-qmp-system-reset":
        fail("RESET data %r" % ev)
    ok("system_reset -> RESET")
    q.cmd("system_powerdown")
    check_event(q.event("POWERDOWN"), "POWERDOWN")
    ok("system_powerdown -> POWERDOWN")
    if q.cmd("quit") != {"return": {}}:
        fail("quit")
    ev = q.event("SHUTDOWN")
    if ev.get("data") != {"guest": False, "reason": "host-qmp-quit"}:
        fail("SHUTDOWN data %r" % ev)
    if proc.wait(timeout=20) != 0:
        fail("popek exited %d after quit" % proc.returncode)
    ok("quit -> SHUTDOWN and exit 0")


def drain(q):
    while True:
        r, _, _ = select.select([q.rfile], [], [], 0.2)
        if not r:
            return
        os.read(q.rfile, 65536)


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def connect(family, addr):
    deadline = time.time() + 20
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                fail("cannot connect to %r" % (addr,))
            time.sleep(0.05)


def main():
    popek, rom = sys.argv[1:3]
    base = [popek, "-bios", rom, "-display", "none", "-icount", "0"]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        proc = Popen(base + ["-qmp", "unix:%s,server,nowait" % path],
                                stdin=subprocess.DEVNULL)
        s = connect(socket.AF_UNIX, path)
        full_session(QMP(s.fileno(), s.fileno()), proc)
        s.close()

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        proc = Popen(base + ["-qmp", "tcp:127.0.0.1:%d,server,nowait" % port],
                                stdin=subprocess.DEVNULL)
        s = connect(socket.AF_INET, ("127.0.0.1", port))
        q = QMP(s.fileno(), s.fileno())
        greeting(q)
        q.cmd("qmp_capabilities")
        if q.cmd("query-status")["return"]["status"] != "running":
            fail("tcp: query-status")
        proc.send_signal(signal.SIGTERM)
        ev = q.event("SHUTDOWN")
        if ev.get("data", {}).get("reason") != "host-signal":
            fail("SIGTERM's SHUTDOWN: %r" % ev)
        if proc.wait(timeout=20) != 0:
            fail("popek exited %d on SIGTERM" % proc.returncode)
        ok("-qmp tcp:HOST:PORT,server,nowait; SIGTERM -> SHUTDOWN host-signal, exit 0")
        s.close()

        path = os.path.join(tmp, "mon.sock")
        proc = Popen(base + ["-chardev", "socket,id=q0,path=%s,server=on,wait=off" % path,
                                        "-mon", "chardev=q0,mode=control"],
                                stdin=subprocess.DEVNULL)
        s = connect(socket.AF_UNIX, path)
        q = QMP(s.fileno(), s.fileno())
        greeting(q)
        q.cmd("qmp_capabilities")
        q.cmd("quit")
        q.event("SHUTDOWN")
        if proc.wait(timeout=20) != 0:
            fail("-mon mode=control quit")
        s.close()
        ok("-chardev socket with -mon chardev=ID,mode=control")

        proc = Popen(base + ["-qmp", "stdio"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        q = QMP(proc.stdout.fileno(), proc.stdin.fileno())
        greeting(q)
        q.cmd("qmp_capabilities")
        q.cmd("quit")
        q.event("SHUTDOWN")
        if proc.wait(timeout=20) != 0:
            fail("-qmp stdio quit")
        ok("-qmp stdio")
    print("qmp test passed")


if __name__ == "__main__":
    run(main)
