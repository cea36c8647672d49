#!/usr/bin/env python3
"""The monitor's QEMU-habit commands through the real frontend:

    monitor_info_test.py POPEK ECHO_ROM

info version, info cpus, info status, info block (a disk and a CD-ROM),
eject and change on ide1-cd0 (and their errors), info mtree, and sendkey
(ctrl-alt-delete, kp_add, f1 with a hold time): the echo guest reports
every byte the keyboard controller hands it on COM1 as "K:xx".
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Popen, fail, ok, expect, run  # noqa: E402
from monitor_client import PROMPT, StdioMonitor  # noqa: E402


def keys_seen(path, want, timeout=20):
    deadline = time.time() + timeout
    while True:
        codes = re.findall(r"K:([0-9a-f]{2})", open(path).read())
        if len(codes) >= len(want) or time.time() > deadline:
            return codes


def main():
    popek, rom = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        cd1 = os.path.join(tmp, "one.iso")
        cd2 = os.path.join(tmp, "two.iso")
        com1 = os.path.join(tmp, "com1.txt")
        for path, size in ((disk, 1 << 20), (cd1, 4096), (cd2, 8192)):
            with open(path, "wb") as f:
                f.truncate(size)
        # A qcow2 disk shows its format (qemu-img makes it, where installed).
        qcow2 = os.path.join(tmp, "disk.qcow2")
        extra = []
        if shutil.which("qemu-img"):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "1M"], check=True)
            extra = ["-hdb", qcow2]
        proc = Popen([popek, "-bios", rom, "-display", "none", "-icount", "0",
                                 "-monitor", "stdio", "-serial", "file:" + com1,
                                 "-hda", disk, "-cdrom", cd1] + extra,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        m = StdioMonitor(proc)
        if not re.fullmatch(r"\d+\.\d+\.\d+ \(popek\)\n", m.cmd("info version")):
            fail("info version")
        cpus = m.cmd("info cpus")
        if not re.fullmatch(r"\* CPU #0: pc=0x[0-9a-f]{16} thread_id=%d\n" % proc.pid, cpus):
            fail("info cpus: %r" % cpus)
        expect(m.cmd("info status"), "VM status: running")
        ok("info version, info cpus, info status")

        block = m.cmd("info block")
        expect(block, "ide0-hd0: %s (raw)\n" % disk)
        if extra:
            expect(block, "ide0-hd1: %s (qcow2)\n" % qcow2)
        expect(block, "ide1-cd0: %s (raw, read-only)\n    Removable device: not locked, "
                      "tray closed\n" % cd1)
        ok("info block")
        expect(m.cmd("eject ide0-hd0"), "Device 'ide0-hd0' is not removable")
        expect(m.cmd("eject ide9-cd0"), "Device 'ide9-cd0' not found")
        expect(m.cmd("eject"), "usage")
        if m.cmd("eject ide1-cd0") != "":
            fail("eject ide1-cd0 said something")
        expect(m.cmd("info block"), "ide1-cd0: [not inserted]")
        expect(m.cmd("change ide1-cd0 " + os.path.join(tmp, "nope.iso")), "nope.iso")
        if m.cmd("change ide1-cd0 " + cd2) != "":
            fail("change said something")
        expect(m.cmd("info block"), "ide1-cd0: %s (raw, read-only)" % cd2)
        if m.cmd("eject -f ide1-cd0") != "":
            fail("eject -f")
        ok("eject [-f] and change on ide1-cd0, and their errors")

        mtree = m.cmd("info mtree")
        expect(mtree, "address-space: memory\n  0000000000000000-000000000fffffff (prio 0, ram): "
                      "pc.ram")
        expect(mtree, "00000000000f0000-00000000000fffff (prio 1, rom): rom")
        expect(mtree, "address-space: I/O")
        expect(mtree, "00000000000003f8-00000000000003ff (prio 0, i/o)")
        ok("info mtree")

        expect(m.cmd("sendkey ctrl-alt-nokey"), "unknown key: 'nokey'")
        expect(m.cmd("sendkey ret soon"), "bad hold time")
        m.cmd("sendkey ctrl-alt-delete")
        want = ["1d", "38", "e0", "53", "e0", "d3", "b8", "9d"]
        got = keys_seen(com1, want)
        if got != want:
            fail("sendkey ctrl-alt-delete: the guest read %r" % got)
        m.cmd("sendkey kp_add")
        m.cmd("sendkey f1 200")
        want += ["4e", "ce", "3b", "bb"]
        got = keys_seen(com1, want)
        if got != want:
            fail("sendkey kp_add, f1: the guest read %r" % got)
        ok("sendkey: presses in order, releases in reverse, E0 prefixes, hold time")

        proc.stdin.write(b"quit\n")
        proc.stdin.flush()
        if proc.wait(timeout=20) != 0:
            fail("quit")
    print("monitor info test passed")


if __name__ == "__main__":
    run(main)
