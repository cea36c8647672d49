#!/usr/bin/env python3
"""Character backends through the real frontend, on a guest that greets
on each COM port and echoes what it receives upper-cased:

    consoles_test.py POPEK ECHO_ROM

-serial tcp: as a server (loopback only unless a host is named, checked in
/proc/net/tcp; with and without nowait) and as a client, unix:, pty (the
"char device redirected" line), -chardev socket with chardev:ID, four
-serial ports, vc, the monitor on tcp:, on a -chardev unix socket and on
mon:stdio with Ctrl-A c, and the errors bad console options get.
"""
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Popen, PIDS, fail, ok, free_port, run  # noqa: E402


POPEK = None
ROM = None


def start(args, **kw):
    return Popen([POPEK, "-bios", ROM, "-display", "none", "-icount", "0"] + args,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kw)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("popek ignored SIGTERM")


def connect(family, addr, timeout=20):
    deadline = time.time() + timeout
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


def read_until(read, want, timeout=20):
    out = b""
    deadline = time.time() + timeout
    while want not in out:
        if time.time() > deadline:
            fail("never saw %r; got %r" % (want, out))
        chunk = read()
        if chunk is None:
            continue
        if chunk == b"":
            fail("closed before %r; got %r" % (want, out))
        out += chunk
    return out


def sock_reader(s):
    def read():
        r, _, _ = select.select([s], [], [], 0.1)
        return s.recv(4096) if r else None
    return read


def fd_reader(fd):
    def read():
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            return None
        try:
            return os.read(fd, 4096)
        except OSError:
            return b""
    return read


def echo_check(s, port_no, what, greeted=True):
    """The guest's greeting (written before a nowait server's client came,
    it is dropped, as in QEMU), then an echo."""
    read = sock_reader(s)
    if greeted:
        read_until(read, b"echo guest up on COM%d" % port_no)
    s.sendall(b"popek\r")
    read_until(read, b"POPEK")
    ok(what)


def listening_on(port):
    """Local addresses (hex, as /proc/net/tcp has them) listening on port."""
    addrs = []
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        local, state = fields[1], fields[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            addrs.append(local.split(":")[0])
    return addrs


def test_tcp_server():
    port = free_port()
    proc = start(["-serial", "tcp::%d,server,nowait" % port])
    s = connect(socket.AF_INET, ("127.0.0.1", port))
    if listening_on(port) != ["0100007F"]:
        fail("tcp::PORT,server listens on %r, not 127.0.0.1 only" % listening_on(port))
    ok("tcp::PORT,server listens on loopback only")
    echo_check(s, 1, "-serial tcp::PORT,server,nowait reaches COM1 both ways", False)
    s.close()
    # The next client gets the port.
    s = connect(socket.AF_INET, ("127.0.0.1", port))
    s.sendall(b"again\r")
    read_until(sock_reader(s), b"AGAIN")
    ok("a second client takes over after the first leaves")
    s.close()
    stop(proc)

    port = free_port()
    proc = start(["-serial", "tcp:0.0.0.0:%d,server=on,wait=off" % port])
    s = connect(socket.AF_INET, ("127.0.0.1", port))
    if listening_on(port) != ["00000000"]:
        fail("tcp:0.0.0.0:PORT listens on %r" % listening_on(port))
    ok("tcp:0.0.0.0:PORT listens on every address, as named")
    s.close()
    stop(proc)


def test_tcp_wait():
    port = free_port()
    proc = start(["-serial", "tcp:127.0.0.1:%d,server" % port])
    line = proc.stderr.readline().decode()
    if "waiting for connection on: tcp:127.0.0.1:%d" % port not in line:
        fail("no waiting message: %r" % line)
    s = connect(socket.AF_INET, ("127.0.0.1", port))
    echo_check(s, 1, "tcp:...,server waits for its client, then the guest starts")
    s.close()
    stop(proc)


def test_tcp_client():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    proc = start(["-serial", "null", "-serial", "tcp:127.0.0.1:%d" % port])
    lsock.settimeout(20)
    s, _ = lsock.accept()
    echo_check(s, 2, "-serial tcp:HOST:PORT connects, COM2 both ways")
    s.close()
    lsock.close()
    stop(proc)


def test_unix_and_chardev(tmp):
    path = os.path.join(tmp, "com1.sock")
    port = free_port()
    mpath = os.path.join(tmp, "mon.sock")
    proc = start(["-chardev", "socket,id=s0,host=127.0.0.1,port=%d,server=on,wait=off" % port,
                  "-serial", "chardev:s0", "-serial", "unix:%s,server,nowait" % path,
                  "-chardev", "socket,id=m0,path=%s,server=on,wait=off" % mpath,
                  "-monitor", "chardev:m0"])
    s = connect(socket.AF_INET, ("127.0.0.1", port))
    echo_check(s, 1, "-chardev socket,host=,port=,server=on,wait=off with -serial chardev:ID",
               False)
    u = connect(socket.AF_UNIX, path)
    echo_check(u, 2, "-serial unix:PATH,server,nowait as COM2", False)
    m = connect(socket.AF_UNIX, mpath)
    read_until(sock_reader(m), b"(popek) ")
    m.sendall(b"info status\n")
    read_until(sock_reader(m), b"VM status: running")
    ok("-monitor chardev:ID on a -chardev unix socket")
    for c in (s, u, m):
        c.close()
    stop(proc)


def test_monitor_tcp():
    port = free_port()
    proc = start(["-monitor", "tcp::%d,server,nowait" % port])
    m = connect(socket.AF_INET, ("127.0.0.1", port))
    read_until(sock_reader(m), b"popek monitor")
    m.sendall(b"stop\ninfo status\n")
    read_until(sock_reader(m), b"VM status: paused")
    ok("-monitor tcp::PORT,server,nowait")
    m.sendall(b"quit\n")
    if proc.wait(timeout=20) != 0:
        fail("quit over the tcp monitor did not exit 0")
    m.close()


def test_pty_and_four_ports(tmp):
    com3 = os.path.join(tmp, "com3.txt")
    proc = start(["-serial", "pty", "-serial", "vc", "-serial", "file:" + com3,
                  "-serial", "vc:80Cx24C"])
    line = proc.stderr.readline().decode()
    m = re.match(r"char device redirected to (/dev/pts/\d+) \(label serial0\)$", line.strip())
    if not m:
        fail("no 'char device redirected' line: %r" % line)
    fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
    read_until(fd_reader(fd), b"echo guest up on COM1")
    os.write(fd, b"tty\r")
    read_until(fd_reader(fd), b"TTY")
    ok("-serial pty announces its terminal, and COM1 works through it")
    os.close(fd)
    deadline = time.time() + 20
    while b"COM3" not in open(com3, "rb").read():
        if time.time() > deadline:
            fail("COM3 (0x3E8) never greeted in its file")
        time.sleep(0.05)
    ok("a third -serial is COM3 at 0x3E8; vc is accepted")
    stop(proc)


def test_mon_stdio(spelling):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(POPEK, [POPEK, "-bios", ROM, "-display", "none", "-icount", "0"] + spelling)
    PIDS.append(pid)
    read = fd_reader(fd)
    read_until(read, b"echo guest up on COM1")
    os.write(fd, b"abc")
    read_until(read, b"ABC")
    os.write(fd, b"\x01c")
    read_until(read, b"(popek) ")
    os.write(fd, b"info status\r")
    read_until(read, b"VM status: running")
    os.write(fd, b"\x01c")
    os.write(fd, b"def")
    read_until(read, b"DEF")
    ok("%s: COM1 and the monitor share the terminal, Ctrl-A c switches" % " ".join(spelling))
    os.write(fd, b"\x01x")
    out = read_until(read, b"popek: terminated")
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        fail("Ctrl-A x: status %r (%r)" % (status, out))
    ok("Ctrl-A x says 'popek: terminated' and exits 0")
    os.close(fd)


def test_nographic_default_monitor(tmp):
    com1 = os.path.join(tmp, "nographic-com1.txt")
    r = subprocess.run([POPEK, "-bios", ROM, "-icount", "0", "-nographic", "-serial",
                        "file:" + com1], input=b"info status\nquit\n", capture_output=True,
                       timeout=30)
    if r.returncode != 0 or b"VM status: running" not in r.stdout:
        fail("-nographic -serial file: no monitor on stdio (%d, %r)" % (r.returncode, r.stdout))
    ok("-nographic with COM1 elsewhere puts the monitor on the terminal, as QEMU")


def expect_error(args, pattern):
    r = subprocess.run([POPEK, "-display", "none"] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    err = r.stderr.decode()
    if r.returncode == 0 or len(err.splitlines()) != 1 or pattern not in err:
        fail("%r: status %d, stderr %r (wanted one line with %r)" %
             (args, r.returncode, err, pattern))
    ok("error: " + err.strip())


def test_errors():
    port = free_port()
    expect_error(["-serial", "tcp:127.0.0.1:%d" % port], "cannot connect to 127.0.0.1:%d" % port)
    expect_error(["-serial", "telnet::4444"], "-serial: unknown backend 'telnet::4444'")
    expect_error(["-serial", "null"] * 5, "-serial: at most 4 serial ports")
    expect_error(["-serial", "chardev:nope"], "chardev 'nope' not found")
    expect_error(["-chardev", "socket,port=1"], "-chardev: an id=NAME is needed")
    expect_error(["-chardev", "null,id=a", "-chardev", "pty,id=a"], "duplicate chardev id 'a'")
    expect_error(["-chardev", "socket,id=a,server=on"], "socket needs path=PATH or port=PORT")
    expect_error(["-chardev", "serial,id=a"], "-chardev: unknown backend 'serial'")
    expect_error(["-serial", "stdio", "-monitor", "stdio"],
                 "cannot use stdio by multiple character devices")
    expect_error(["-nographic", "-monitor", "stdio"],
                 "cannot use stdio by multiple character devices")
    expect_error(["-chardev", "null,id=a", "-serial", "chardev:a", "-monitor", "chardev:a"],
                 "chardev 'a' is used twice")
    expect_error(["-serial", "mon:tcp::1,server,nowait"], "multiplexes (mon:, mux=on) only stdio")
    expect_error(["-serial", "unix:/nonexistent/dir/s,server,nowait"],
                 "cannot listen on '/nonexistent/dir/s'")


def main():
    global POPEK, ROM
    POPEK, ROM = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        test_tcp_server()
        test_tcp_wait()
        test_tcp_client()
        test_unix_and_chardev(tmp)
        test_monitor_tcp()
        test_pty_and_four_ports(tmp)
        test_mon_stdio(["-serial", "mon:stdio"])
        test_mon_stdio(["-chardev", "stdio,id=t,mux=on", "-serial", "chardev:t",
                        "-mon", "chardev=t"])
        test_nographic_default_monitor(tmp)
        test_errors()
    print("consoles test passed")


if __name__ == "__main__":
    run(main)
