#!/usr/bin/env python3
"""The gdb stub under a raw, partly hostile protocol client.

    rsp_test.py POPEK GUEST_WAIT_ROM

GUEST_WAIT_ROM is tests/debug/guest.asm built with -DWAIT_AT_END: it prints
READY on the debug console and halts with interrupts off.

Run 1 (popek running, no -S): connecting stops the machine; garbage is
ignored, a bad checksum is answered '-', an oversized packet E01; a second
client is turned away; Ctrl-C (0x03) stops a continued machine with SIGINT;
'monitor' output arrives in O packets; 'k' ends popek.

Run 2 (-S): a client sets a breakpoint on code the guest will reach and
vanishes without a word; popek must drop the breakpoint and let the guest
run: the guest then waits at READY, and a monitor on a unix socket finds it
there with its registers as the program left them.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def checksum(body):
    return "%02x" % (sum(body.encode("latin-1")) & 0xff)


def frame(body):
    return ("$%s#%s" % (body, checksum(body))).encode("latin-1")


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_until(self, pattern, timeout=10):
        deadline = time.time() + timeout
        while not re.search(pattern, self.buf):
            if time.time() > deadline:
                fail("timed out waiting for %r, have %r" % (pattern, self.buf))
            chunk = self.sock.recv(65536)
            if not chunk:
                fail("connection closed waiting for %r, have %r" % (pattern, self.buf))
            self.buf += chunk
        m = re.search(pattern, self.buf)
        self.buf = self.buf[m.end():]
        return m

    def packet(self, body):
        """Send a packet; return the reply body (after the '+')."""
        self.send(frame(body))
        m = self.read_until(rb"\+\$([^#]*)#([0-9a-f]{2})")
        reply = m.group(1).decode("latin-1")
        if checksum(reply) != m.group(2).decode():
            fail("bad checksum on reply %r" % reply)
        return reply


def start(popek, rom, tmp, extra):
    log = os.path.join(tmp, "debugcon.log")
    cmd = [popek, "-bios", rom, "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-debugcon", "file:" + log, "-serial", "null", "-display", "none",
           "-icount", "0", "-no-reboot", "-gdb", "tcp::0"] + extra
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    m = re.search(r"listening on [0-9.]+:(\d+)", proc.stderr.readline())
    if not m:
        proc.kill()
        fail("no gdb port")
    return proc, m.group(1), log


def wait_for_file(path, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path).read():
            return
        time.sleep(0.05)
    fail("%s never showed %r" % (path, text))


def run_hostile(popek, rom, tmp):
    proc, port, log = start(popek, rom, tmp, [])
    c = Client(port)
    c.send(b"hello, garbage between packets }}}+")
    c.send(b"$?#00")                                   # wrong checksum
    c.read_until(rb"-")
    if c.packet("?") != "T05thread:1;":
        fail("stop reply after connect")
    if c.packet("m" + "0" * 5000) != "E01":            # longer than PacketSize
        fail("oversized packet not refused")
    if c.packet("vMustReplyEmpty") != "":
        fail("unknown packets get the empty reply")
    second = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    if second.recv(16) != b"":
        fail("a second client was not turned away")
    second.close()
    c.packet("qSupported")
    c.send(frame("c"))
    c.read_until(rb"\+")
    wait_for_file(log, "READY")
    c.send(b"\x03")
    if c.read_until(rb"\$([^#]*)#").group(1) != b"T02thread:1;":
        fail("Ctrl-C did not stop the machine with SIGINT")
    body = "qRcmd," + "info registers".encode().hex()
    c.send(frame(body))
    out = b""
    while True:
        m = c.read_until(rb"\$([^#]*)#[0-9a-f]{2}")
        if m.group(1) == b"OK":
            break
        if not m.group(1).startswith(b"O"):
            fail("unexpected reply to qRcmd: %r" % m.group(1))
        out += bytes.fromhex(m.group(1)[1:].decode())
    if b"EAX=33333333" not in out or b"HLT=1" not in out:
        fail("monitor output over gdb: %r" % out)
    c.send(frame("k"))
    if proc.wait(timeout=30) != 0:
        fail("popek did not exit after 'k'")


def run_vanishing_client(popek, rom, tmp):
    sock_path = os.path.join(tmp, "mon.sock")
    proc, port, log = start(popek, rom, tmp,
                            ["-S", "-monitor", "unix:%s,server,nowait" % sock_path])
    c = Client(port)
    c.packet("qSupported")
    if c.packet("Z0,f1000,1") != "OK":                 # the guest's BP_TARGET
        fail("breakpoint refused")
    c.sock.close()                                     # gone, breakpoint and all
    wait_for_file(log, "READY")
    mon = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mon.settimeout(10)
    mon.connect(sock_path)
    mon.sendall(b"info registers\nquit\n")
    out = b""
    while True:
        chunk = mon.recv(65536)
        if not chunk:
            break
        out += chunk
    if b"EAX=33333333" not in out or b"EDX=00000005" not in out:
        fail("the guest did not run to READY after the client vanished: %r" % out)
    if proc.wait(timeout=30) != 0:
        fail("popek did not quit from the monitor")


def main():
    popek, rom = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        run_hostile(popek, rom, tmp)
    with tempfile.TemporaryDirectory() as tmp:
        run_vanishing_client(popek, rom, tmp)
    print("rsp test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
