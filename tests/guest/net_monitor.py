#!/usr/bin/env python3
"""The network backends in a running popek, through the monitor: info
network lists the cards and backends with QEMU's names and MACs; a socket
listener takes a peer, loses it (link down, popek keeps running) and takes
the next; its garbage is counted; set_link switches links; hostfwd_add and
hostfwd_remove open and close host ports; and an idle guest with all this
costs no host CPU.  Everything is on 127.0.0.1.

  net_monitor.py POPEK IDLE_ROM
"""
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from monitor_client import Monitor  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def wait_for(mon, cmd, pattern, what):
    deadline = time.monotonic() + 10
    while True:
        out = mon.cmd(cmd)
        if re.search(pattern, out):
            check(True, what)
            return out
        if time.monotonic() > deadline:
            check(False, what)
        time.sleep(0.2)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


def main():
    popek, rom = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp()
    mon_path = os.path.join(tmp, "mon.sock")
    fwd, listen, added = free_port(), free_port(), free_port()
    proc = subprocess.Popen(
        [popek, "-display", "none", "-bios", rom, "--accel", "interp",
         "-monitor", f"unix:{mon_path},server,nowait",
         "-nic", f"user,hostfwd=tcp:127.0.0.1:{fwd}-:22",
         "-netdev", f"socket,id=s0,listen=127.0.0.1:{listen}",
         "-device", "virtio-net-pci,netdev=s0",
         "-object", f"filter-dump,id=d0,netdev=s0,file={tmp}/s0.pcap"],
        stdin=subprocess.DEVNULL)
    try:
        mon = Monitor(mon_path, connect_timeout=20, io_timeout=20, echo=True)
        out = mon.cmd("info network")
        check("e1000.0: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:56\n"
              " \\ #net0: index=0,type=user,net=10.0.2.0,restrict=off\n" in out,
              "-nic user: an e1000 with QEMU's first MAC on user networking")
        check("virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,"
              "macaddr=52:54:00:12:34:57\n" in out, "the second card's MAC counts up")
        check(f"s0: index=0,type=socket,socket: listen=127.0.0.1:{listen}, waiting for a peer,"
              "link=down" in out, "a listener without a peer: link down")
        check("  - d0: type=filter-dump" in out, "the dump filter is listed")

        peer = socket.create_connection(("127.0.0.1", listen))
        wait_for(mon, "info network", r"s0: .*connection from 127\.0\.0\.1:\d+\n",
                 "the listener takes a peer; link up")
        peer.sendall(struct.pack(">I", 0) + struct.pack(">I", 60) + bytes(60))
        wait_for(mon, "info network", r"s0: [^\n]*\n(?:[^\n]*\n)*?  frames: .*garbage 1\n",
                 "an empty frame from the peer is counted as garbage")
        peer.close()
        wait_for(mon, "info network", r"s0: .*waiting for a peer,link=down",
                 "the peer leaves: link down, popek runs on")
        check(proc.poll() is None, "popek is still running")
        peer = socket.create_connection(("127.0.0.1", listen))
        wait_for(mon, "info network", r"s0: .*connection from",
                 "the next peer brings the link back")

        check(mon.cmd("set_link s0 off") == "", "set_link on a netdev")
        check("connection from" in mon.cmd("info network") and
              re.search(r"s0: .*connection from [0-9.:]+,link=down", mon.cmd("info network")),
              "set_link off shows link=down")
        mon.cmd("set_link s0 on")
        mon.cmd("set_link virtio-net-pci.0 off")
        check("macaddr=52:54:00:12:34:57,link=down" in mon.cmd("info network"),
              "set_link on a card")
        check(mon.cmd("set_link nope on") == "Device 'nope' not found\n",
              "set_link on an unknown name")

        check(connects(fwd), "hostfwd= at startup forwards its port")
        check(mon.cmd(f"hostfwd_add tcp:127.0.0.1:{added}-:80") == "", "hostfwd_add")
        check(connects(added), "the added port takes connections")
        check(mon.cmd(f"hostfwd_remove #net0 tcp:127.0.0.1:{added}") ==
              f"host forwarding rule for tcp:127.0.0.1:{added} removed\n", "hostfwd_remove")
        check(not connects(added), "the removed port is closed")
        check(mon.cmd("hostfwd_add s0 tcp::1-:1") == "invalid device specified\n",
              "hostfwd_add on a socket netdev")

        time.sleep(0.5)
        before = cpu_seconds(proc.pid)
        time.sleep(3)
        used = cpu_seconds(proc.pid) - before
        check(used < 0.3, f"an idle guest with its network costs no host CPU ({used:.2f} s in 3 s)")
        peer.close()
        mon.sock.sendall(b"quit\n")
        check(proc.wait(timeout=20) == 0, "quit")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
