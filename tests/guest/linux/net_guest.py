#!/usr/bin/env python3
"""Networking in the Linux guest through popek's real frontend.

  net_guest.py POPEK GUESTDIR user --model e1000|virtio-net-pci [--accel ENGINE]
      User networking: DHCP gives 10.0.2.15; wget fetches a file from an
      HTTP server this test runs on 127.0.0.1 through 10.0.2.2 (checksum
      compared); a hostfwd rule reaches the guest's busybox httpd.
  net_guest.py POPEK GUESTDIR user --sandbox ...
      The same under -sandbox on (frontend/sandbox.c), with a guestfwd rule
      that would start a program on the host: instead of powering off, the
      guest connects to it, and the sandbox must end popek with status 1
      and "forbidden system call NAME" on stderr.
  net_guest.py POPEK GUESTDIR guestfwd --model ... [--accel ENGINE]
      The Debian install journey's path to its mirror: restrict=on with a
      guestfwd rule to 10.0.2.100:80 whose command is python's http.server
      on the connection (tests/guests/debian/http_stdio.py); wget through it
      gets a file (checksum compared, twice: one server per connection),
      and the test's own HTTP server on 10.0.2.2 is out of reach.
  net_guest.py POPEK GUESTDIR ftp --model ... [--link socket|mcast] [--accel ENGINE]
      Two VMs joined by -netdev socket (listen/connect) or a multicast
      segment on the loopback interface, static addresses: VM A serves FTP
      (tests/guests/miniftpd.c under busybox `nc -ll -e`: Debian's busybox
      has neither ftpd nor tcpsvd), VM B downloads a 4 MiB file with busybox
      ftpget and uploads one with ftpput; checksums match on both sides.

Every server this test talks to is its own, on 127.0.0.1, or the other VM;
no name is ever looked up, so nothing leaves this machine.
"""
import argparse
import hashlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check  # noqa: E402


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_bytes(blob):
    """An HTTP server on 127.0.0.1 (ephemeral port) that answers every GET
    with blob, in a daemon thread; shut it down with .shutdown()."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def boot(args, extra, label):
    t0 = time.monotonic()
    g = Guest(args.popek, args.guestdir, args.accel, extra)
    g.read_until(MARKER, BOOT_TIMEOUT)
    g.read_until(rb"[#$] ", 60)
    print(f"{label}: boot to shell {time.monotonic() - t0:.1f} s")
    return g


def netup(g, label, address=""):
    out, rc = g.run(f"netup eth0 {address}", timeout=120)
    m = re.search(r"NETUP eth0 ([0-9.]+)/", out)
    check(rc == 0 and m, f"{label}: eth0 is up with an address", out)
    return m.group(1)


def poweroff(g, label):
    g.proc.stdin.write(b"poweroff -f\n")
    g.proc.stdin.flush()
    status = g.wait_exit(120)
    check(status == 0, f"{label}: poweroff ends popek with status 0", f"status {status}")


def sandbox_spawn(g):
    """The guest connects to the guestfwd whose host end is a program: libslirp
    would start it, and the sandbox must stop popek at the first call of that."""
    g.proc.stdin.write(b"echo hi | nc 10.0.2.100 1234\n")
    g.proc.stdin.flush()
    deadline = time.monotonic() + 120
    while g.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if g.proc.poll() is None:
        g.proc.kill()
    err = g.proc.stderr.read().decode("utf-8", "replace")
    m = re.search(r"popek: -sandbox: forbidden system call (\w+)", err)
    check(g.proc.returncode == 1 and m,
          "-sandbox on: starting a guestfwd program ends popek with status 1, naming the call",
          f"status {g.proc.returncode}, stderr: {err[-1000:]}")
    print(f"the sandbox stopped popek at {m.group(1)}")


def guest_sha256(g, path):
    out, rc = g.run(f"sha256sum {path}", timeout=300)
    m = re.search(r"^([0-9a-f]{64})", out, re.M)
    check(rc == 0 and m, f"sha256sum {path} in the guest", out)
    return m.group(1)


def test_user(args):
    blob = os.urandom(1 << 20)
    want = hashlib.sha256(blob).hexdigest()

    server = serve_bytes(blob)
    http_port = server.server_address[1]
    fwd_port = free_port()
    pcap = os.path.join(tempfile.mkdtemp(prefix="popek-net-"), "user.pcap")
    netdev = f"user,id=n0,hostfwd=tcp:127.0.0.1:{fwd_port}-:80"
    sandbox = []
    if args.sandbox:
        netdev += ",guestfwd=tcp:10.0.2.100:1234-cmd:/bin/true"
        sandbox = ["-sandbox", "on"]
    g = boot(args, ["-netdev", netdev, "-device", f"{args.model},netdev=n0",
                    "-object", f"filter-dump,id=d0,netdev=n0,file={pcap}"] + sandbox,
             args.model)
    try:
        addr = netup(g, args.model)
        check(addr == "10.0.2.15", "DHCP over user networking gives 10.0.2.15", addr)
        t0 = time.monotonic()
        out, rc = g.run(f"wget -q -O /tmp/blob http://10.0.2.2:{http_port}/blob", timeout=300)
        secs = time.monotonic() - t0
        check(rc == 0, "wget through 10.0.2.2 from the test's HTTP server", out)
        check(guest_sha256(g, "/tmp/blob") == want, "the fetched file's checksum matches")
        print(f"wget 1 MiB: {secs:.2f} s ({len(blob) / secs / 1e6:.2f} MB/s incl. the command)")
        out, rc = g.run("mkdir -p /www && echo hello-from-guest > /www/index.html && "
                        "httpd -p 80 -h /www && echo started")
        check(rc == 0 and "started" in out, "busybox httpd runs in the guest", out)
        body = b""
        for _ in range(30):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{fwd_port}/index.html",
                                            timeout=10) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(1)
        check(body.strip() == b"hello-from-guest", "hostfwd reaches the guest's httpd", body)
        if args.sandbox:
            sandbox_spawn(g)
            return
        poweroff(g, args.model)
        tcpdump = shutil.which("tcpdump") or shutil.which("tcpdump", path="/usr/sbin:/sbin")
        if tcpdump:
            r = subprocess.run([tcpdump, "-r", pcap, "-nn"], capture_output=True, text=True)
            dhcp = [ln for ln in r.stdout.splitlines() if "BOOTP/DHCP" in ln]
            check(r.returncode == 0 and any("Request" in ln for ln in dhcp) and
                  any("Reply" in ln for ln in dhcp),
                  "filter-dump's pcap, read by tcpdump -r, shows the DHCP exchange",
                  r.stdout[-2000:] + r.stderr[-500:])
        else:
            print("note: tcpdump not installed; the pcap was not read back")
    finally:
        server.shutdown()
        if g.proc.poll() is None:
            g.proc.kill()


def test_guestfwd(args):
    blob = os.urandom(1 << 20)
    want = hashlib.sha256(blob).hexdigest()
    root = tempfile.mkdtemp(prefix="popek-guestfwd-")
    os.makedirs(os.path.join(root, "www", "dists"))
    with open(os.path.join(root, "www", "dists", "blob"), "wb") as f:
        f.write(blob)
    log = os.path.join(root, "http.log")
    server_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "guests",
                             "debian", "http_stdio.py")
    server = serve_bytes(b"reached-the-host")  # must stay out of reach
    http_port = server.server_address[1]
    g = boot(args, ["-netdev", "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:python3 "
                    f"{os.path.abspath(server_py)} {root}/www {log}",
                    "-device", f"{args.model},netdev=n0"], args.model)
    try:
        addr = netup(g, args.model)
        check(addr == "10.0.2.15", "DHCP under restrict=on gives 10.0.2.15", addr)
        for n in (1, 2):
            out, rc = g.run(f"wget -q -O /tmp/blob{n} http://10.0.2.100/dists/blob", timeout=300)
            check(rc == 0, f"wget {n} through the guestfwd rule's http.server", out)
            check(guest_sha256(g, f"/tmp/blob{n}") == want, f"fetch {n}: the checksum matches")
        out, rc = g.run("wget -q -O /tmp/missing http://10.0.2.100/nothing-here", timeout=120)
        check(rc != 0 and "404" in out, "a path the directory lacks is a 404", out)
        with open(log) as f:
            served = f.read()
        check(served.count('"GET /dists/blob HTTP/1.1" 200') == 2, "the server logged both GETs",
              served)
        out, rc = g.run(f"wget -q -T 5 -O /tmp/host http://10.0.2.2:{http_port}/x", timeout=120)
        check(rc != 0, "restrict=on: the host's own server on 10.0.2.2 is out of reach", out)
        poweroff(g, args.model)
    finally:
        server.shutdown()
        if g.proc.poll() is None:
            g.proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def loopback_multicast():
    """Whether this host's loopback interface carries multicast."""
    port = free_port(socket.SOCK_DGRAM)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rx.bind(("230.0.0.1", port))
        mreq = socket.inet_aton("230.0.0.1") + socket.inet_aton("127.0.0.1")
        try:
            rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
            tx.sendto(b"probe", ("230.0.0.1", port))
        except OSError:
            return False
        rx.settimeout(2)
        try:
            return rx.recv(16) == b"probe"
        except OSError:
            return False


def test_ftp(args):
    if args.link == "mcast" and not loopback_multicast():
        print("SKIP: this host's loopback does not carry multicast "
              "(unit.test_net_socket covers the mcast framing)")
        sys.exit(77)
    if args.link == "socket":
        port = free_port()
        link_a = f"socket,id=n0,listen=127.0.0.1:{port}"
        link_b = f"socket,id=n0,connect=127.0.0.1:{port}"
    else:
        port = free_port(socket.SOCK_DGRAM)
        link_a = link_b = f"socket,id=n0,mcast=230.0.0.1:{port},localaddr=127.0.0.1"
    a = boot(args, ["-netdev", link_a, "-device", f"{args.model},netdev=n0,mac=52:54:00:12:34:61"],
             "VM A")
    b = None
    try:
        b = boot(args, ["-netdev", link_b,
                        "-device", f"{args.model},netdev=n0,mac=52:54:00:12:34:62"], "VM B")
        netup(a, "VM A", "192.168.76.1/24")
        netup(b, "VM B", "192.168.76.2/24")
        out, rc = a.run("mkdir -p /srv && dd if=/dev/urandom of=/srv/big bs=1024 count=4096 "
                        "2>/dev/null && (nc -ll -p 21 -e /bin/miniftpd /srv >/dev/null 2>&1 &) "
                        "&& echo serving")
        check(rc == 0 and "serving" in out, "VM A serves FTP (nc -ll -e miniftpd)", out)
        big = guest_sha256(a, "/srv/big")
        t0 = time.monotonic()
        out, rc = b.run("ftpget 192.168.76.1 /tmp/big big", timeout=600)
        secs = time.monotonic() - t0
        check(rc == 0, "VM B downloads 4 MiB with ftpget", out)
        check(guest_sha256(b, "/tmp/big") == big, "the downloaded file's checksum matches")
        print(f"ftpget 4 MiB over {args.link}: {secs:.2f} s ({4 / secs:.2f} MiB/s incl. login)")
        out, rc = b.run("dd if=/dev/urandom of=/tmp/up bs=1024 count=1024 2>/dev/null && "
                        "ftpput 192.168.76.1 up /tmp/up", timeout=600)
        check(rc == 0, "VM B uploads 1 MiB with ftpput", out)
        check(guest_sha256(a, "/srv/up") == guest_sha256(b, "/tmp/up"),
              "the uploaded file's checksum matches on both sides")
        poweroff(b, "VM B")
        poweroff(a, "VM A")
    finally:
        for g in (a, b):
            if g and g.proc.poll() is None:
                g.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("mode", choices=["user", "ftp", "guestfwd"])
    ap.add_argument("--model", default="e1000", choices=["e1000", "virtio-net-pci"])
    ap.add_argument("--link", default="socket", choices=["socket", "mcast"])
    ap.add_argument("--accel", default="bt")
    ap.add_argument("--sandbox", action="store_true", help="run popek under -sandbox on")
    args = ap.parse_args()
    try:
        {"user": test_user, "ftp": test_ftp, "guestfwd": test_guestfwd}[args.mode](args)
    except AssertionError as e:
        print(f"FAIL: {e}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
