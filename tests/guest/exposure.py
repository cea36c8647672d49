#!/usr/bin/env python3
"""Every listener popek opens is on loopback unless the user names another
address (docs/security.md).

  exposure.py POPEK IDLE_ROM

Run 1 opens each kind of listener with no address: the gdb stub
(-gdb tcp::PORT), the monitor (-monitor tcp::PORT,server,nowait), QMP
(-qmp tcp::PORT,...), a COM port (-serial tcp::PORT,...), a -chardev
socket with port= and no host=, a -netdev socket listen=:PORT, a
user-networking hostfwd with no host address, and one hostfwd_add from
the monitor.  Every one must be bound to 127.0.0.1, as the kernel's own
table (/proc/net/tcp, what `ss -ltn` reads) shows.  Run 2 names 0.0.0.0
for each and must see the wildcard, so the check can tell them apart.
"""
import os
import socket
import subprocess
import sys
import time


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def listeners():
    """{port: set of local addresses} of every TCP socket in LISTEN state."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state != "0A":  # TCP_LISTEN
                continue
            addr_hex, port_hex = local.split(":")
            if len(addr_hex) == 8:
                addr = socket.inet_ntoa(bytes.fromhex(addr_hex)[::-1])
            else:
                raw = bytes.fromhex(addr_hex)
                addr = socket.inet_ntop(socket.AF_INET6, b"".join(
                    raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            found.setdefault(int(port_hex, 16), set()).add(addr)
    return found


def fail(what):
    print(f"FAIL: {what}")
    sys.exit(1)


def run(popek, rom, host):
    """Start popek with every listener on host ('' or an address), add a
    hostfwd from the monitor; return {name: addresses}."""
    h = host
    names = ["gdb", "monitor", "qmp", "serial", "chardev", "netdev-socket", "hostfwd",
             "hostfwd_add"]
    ports = dict(zip(names, free_ports(len(names))))
    cmd = [popek, "-bios", rom, "-display", "none", "-icount", "0",
           "-gdb", f"tcp:{h}:{ports['gdb']}",
           "-monitor", f"tcp:{h}:{ports['monitor']},server,nowait",
           "-qmp", f"tcp:{h}:{ports['qmp']},server,nowait",
           "-serial", f"tcp:{h}:{ports['serial']},server,nowait",
           "-chardev", f"socket,id=c1,port={ports['chardev']},server=on,wait=off"
           + (f",host={h}" if h else ""),
           "-serial", "chardev:c1",
           "-netdev", f"socket,id=s0,listen={h}:{ports['netdev-socket']}",
           "-device", "e1000,netdev=s0",
           "-netdev", f"user,id=u0,hostfwd=tcp:{h}:{ports['hostfwd']}-:80",
           "-device", "e1000,netdev=u0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                mon = socket.create_connection(("127.0.0.1", ports["monitor"]), timeout=10)
                break
            except OSError:
                if proc.poll() is not None:
                    fail(f"popek exited {proc.returncode}: {proc.stderr.read().decode()}")
                if time.monotonic() > deadline:
                    fail("the monitor never answered on 127.0.0.1")
                time.sleep(0.1)
        buf = b""
        mon.sendall(f"hostfwd_add u0 tcp:{h}:{ports['hostfwd_add']}-:22\n".encode())
        while b"(popek)" not in buf or buf.count(b"(popek)") < 2:
            chunk = mon.recv(4096)
            if not chunk:
                break
            buf += chunk
        table = listeners()
        mon.close()
        return {name: table.get(port, set()) for name, port in ports.items()}
    finally:
        proc.kill()
        proc.wait()


def main():
    popek, rom = sys.argv[1], sys.argv[2]
    for host, want in (("", "127.0.0.1"), ("0.0.0.0", "0.0.0.0")):
        label = "no address" if not host else f"address {host}"
        bound = run(popek, rom, host)
        for name, addrs in bound.items():
            if addrs != {want}:
                fail(f"{name} with {label}: listening on {sorted(addrs) or 'nothing'}, "
                     f"want {want} only")
            print(f"ok: {name} with {label} listens on {want}")
    print("PASS")


if __name__ == "__main__":
    main()
