#!/usr/bin/env python3
"""Network throughput in the Linux guest, popek beside QEMU TCG (a benchmark: prints, never gates).

  tests/bench/net_bench.py POPEK GUESTDIR [--qemu PATH | --no-qemu] [--mib N]

For each engine (popek --accel bt, qemu-system-i386 -accel tcg) and card
(e1000, virtio-net-pci), in one run on this host:
  - guest to host over user networking: the guest fetches N MiB with wget
    from an HTTP server this script runs on 127.0.0.1 (through 10.0.2.2);
  - VM to VM over -netdev socket (listen/connect): VM B fetches N MiB by FTP
    from VM A (tests/guests/miniftpd.c) with ftpget;
and, for popek, the host CPU an idle networked guest uses over 10 s.
Times are the guest command's wall time as seen from the host.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest", "linux"))
from linux_guest import MARKER, Guest  # noqa: E402
from net_guest import free_port, serve_bytes  # noqa: E402


class Engine(Guest):
    """A guest on the serial console under popek or QEMU."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""


def argv_for(engine, args, net):
    kernel = ["-kernel", os.path.join(args.guestdir, "bzImage"),
              "-initrd", os.path.join(args.guestdir, "initramfs.cpio.gz"),
              "-append", "console=ttyS0 panic=-1", "-nographic", "-no-reboot", "-m", "256M"]
    if engine == "popek":
        return [args.popek, "--accel", "bt"] + kernel + net
    return [args.qemu, "-accel", "tcg"] + kernel + net


def start(engine, args, net):
    g = Engine(argv_for(engine, args, net))
    g.read_until(MARKER, 900)
    g.read_until(rb"[#$] ", 60)
    return g


def stop(g):
    g.proc.stdin.write(b"poweroff -f\n")
    g.proc.stdin.flush()
    try:
        g.wait_exit(60)
    except AssertionError:
        g.proc.kill()


def timed(g, cmd, timeout=1800):
    t0 = time.monotonic()
    out, rc = g.run(cmd, timeout)
    if rc != 0:
        raise RuntimeError(f"{cmd}: exit {rc}: {out[-500:]}")
    return time.monotonic() - t0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def user_net(engine, model, args, http_port):
    g = start(engine, args, ["-netdev", "user,id=n0", "-device", f"{model},netdev=n0"])
    try:
        timed(g, "netup eth0")
        secs = timed(g, f"wget -q -O /dev/null http://10.0.2.2:{http_port}/blob")
        idle = None
        if engine == "popek":
            c0 = cpu_seconds(g.proc.pid)
            time.sleep(10)
            idle = cpu_seconds(g.proc.pid) - c0
        return secs, idle
    finally:
        stop(g)


def vm_to_vm(engine, model, args):
    port = free_port()
    a = start(engine, args, ["-netdev", f"socket,id=n0,listen=127.0.0.1:{port}",
                             "-device", f"{model},netdev=n0,mac=52:54:00:12:34:61"])
    b = None
    try:
        b = start(engine, args, ["-netdev", f"socket,id=n0,connect=127.0.0.1:{port}",
                                 "-device", f"{model},netdev=n0,mac=52:54:00:12:34:62"])
        timed(a, "netup eth0 192.168.76.1/24")
        timed(b, "netup eth0 192.168.76.2/24")
        timed(a, f"mkdir -p /srv && dd if=/dev/zero of=/srv/big bs=1M count={args.mib} "
                 "2>/dev/null && (nc -ll -p 21 -e /bin/miniftpd /srv >/dev/null 2>&1 &)")
        return timed(b, "ftpget 192.168.76.1 /tmp/big big && rm /tmp/big")
    finally:
        for g in (b, a):
            if g:
                stop(g)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    q = ap.add_mutually_exclusive_group()
    q.add_argument("--qemu", default="/usr/bin/qemu-system-i386")
    q.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--mib", type=int, default=64)
    args = ap.parse_args()

    blob = bytes(args.mib << 20)

    server = serve_bytes(blob)
    engines = ["popek"] + ([] if args.no_qemu or not shutil.which(args.qemu) else ["qemu"])
    rows = []
    for model in ("e1000", "virtio-net-pci"):
        for engine in engines:
            secs, idle = user_net(engine, model, args, server.server_address[1])
            vm = vm_to_vm(engine, model, args)
            rows.append((engine, model, args.mib / secs, args.mib / vm, idle))
    server.shutdown()
    print(f"\n{args.mib} MiB transfers, MiB/s (guest command wall time; higher is better)")
    print(f"{'engine':6}  {'card':15}  {'guest->host (user)':>18}  {'VM->VM (socket, ftp)':>20}  "
          f"{'idle CPU 10 s':>13}")
    for engine, model, user, vm, idle in rows:
        idle_s = "-" if idle is None else f"{idle:.2f} s"
        print(f"{engine:6}  {model:15}  {user:18.1f}  {vm:20.1f}  {idle_s:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
