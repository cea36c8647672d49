#!/usr/bin/env python3
"""Saved VMs through popek's real frontend (migrate, -incoming).

  vmstate_guest.py POPEK GUESTDIR determinism [--accel ENGINE] [--disk]
      Under -icount, a guest runs a fixed command list three times: once
      straight through; once stopped from the monitor part way (when a
      marker appears), migrated to a file and quit; and once started from
      that file with -incoming.  The second run's serial output followed by
      the third's must equal the first's byte for byte.  With --disk
      (GUESTDIR from build-disk-guest.sh) the guest is dd-ing to its IDE
      disk when it is stopped (--virtio: its virtio-blk disk), and the two
      disk images must end identical.
  vmstate_guest.py POPEK GUESTDIR session [--accel ENGINE]
      An interactive shell writes files in tmpfs; the VM goes to
      "exec:gzip -c > FILE" and the process quits; a new popek takes it
      with -incoming "exec:gzip -dc FILE": the same shell (its PID), the
      same files, and the e1000 on user networking fetches from a host HTTP
      server.  Then once more through file:, and power off.
  vmstate_guest.py POPEK ROM errors
      Bad -incoming and -loadvm arguments, damaged or foreign state files
      and a failing migrate get one line (the machine keeps running); the
      snapshot commands answer as QEMU without a qcow2 image.  ROM is an
      idle BIOS image (no Linux needed).
"""
import argparse
import functools
import http.server
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check, first_difference  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from monitor_client import Monitor  # noqa: E402


class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("QMP socket never appeared")
                time.sleep(0.05)
        self.sock.settimeout(60)
        self.file = self.sock.makefile("rb")
        self.read()  # the greeting

    def read(self):
        while True:
            msg = json.loads(self.file.readline())
            if "event" not in msg:
                return msg

    def cmd(self, name, arguments=None):
        req = {"execute": name}
        if arguments:
            req["arguments"] = arguments
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        return self.read()


def drain(g, timeout):
    """Everything popek writes until it exits; its status."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            g.proc.kill()
            raise AssertionError("popek did not exit; tail:\n" +
                                 g.out[-2000:].decode("utf-8", "replace"))
        ready, _, _ = select.select([g.proc.stdout], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(g.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            g.out += chunk
    return g.proc.wait(timeout=60)


def host_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), "?")
    except OSError:
        return "?"


def test_determinism(args):
    work = tempfile.mkdtemp(prefix="popek-vmstate-")
    # The interpreter boots in minutes, a loaded host makes it many more.
    limit = BOOT_TIMEOUT * (4 if args.accel == "interp" else 1)
    try:
        extra = ["-icount", "0"]
        if args.disk:
            initrd = os.path.join(args.guestdir, "initramfs-disk.cpio.gz")
            dev = "/dev/vda" if args.virtio else "/dev/sda"
            append = f'acpi=off popek.cmd="test -b {dev} && echo START; yes popek-disk-pattern | ' \
                     f'dd of={dev} bs=4k count=2048 iflag=fullblock conv=fsync; ' \
                     f'md5sum {dev}; cat /proc/uptime"'
            # At a line's start: the kernel's command line, echoed early in
            # the boot, holds "echo START" too.
            trigger = b"\nSTART"
        else:
            initrd = None
            append = 'popek.cmd="i=0; while [ $i -lt 40 ]; do i=$((i + 1)); ' \
                     'echo step $i $(cat /proc/uptime); done; head -n 3 /proc/interrupts"'
            trigger = b"step 12 "
        disks = {}
        for run in ("straight", "stopped"):
            if args.disk:
                disks[run] = os.path.join(work, f"{run}.img")
                with open(disks[run], "wb") as f:
                    f.truncate(16 << 20)

        # Each run's interrupts and exceptions with their instruction counts
        # (-d int): on a mismatch, where the resumed run first took one
        # elsewhere than the straight run.
        traces = []

        def boot(run, more=()):
            d = []
            if args.disk:
                d = ["-drive", f"file={disks[run]},format=raw,if={'virtio' if args.virtio else 'ide'}"]
            traces.append(os.path.join(work, f"int{len(traces)}.log"))
            return Guest(args.popek, args.guestdir, args.accel,
                         extra + d + list(more) + ["-d", "int", "-D", traces[-1]], append,
                         initrd=initrd)

        def trace(i):
            with open(traces[i], "rb") as f:
                return f.read()

        t0 = time.monotonic()
        g = boot("straight")
        status = drain(g, limit)
        check(status == 0 and b"POPEK-GUEST-DONE rc=0" in g.out, "the straight run completes",
              g.out[-2000:].decode("utf-8", "replace"))
        straight = g.out
        t1 = time.monotonic()

        mon = os.path.join(work, "mon.sock")
        state = os.path.join(work, "vm.state")
        g = boot("stopped", ["-monitor", f"unix:{mon},server,nowait"])
        m = Monitor(mon, connect_timeout=60, io_timeout=300)
        g.read_until(re.escape(trigger), limit)
        m.cmd("stop")
        reply = m.cmd(f"migrate file:{state}")
        check("Error" not in reply, "migrate to a file", reply)
        icount = re.search(r"ICOUNT=(\d+)", m.cmd("info registers"))
        m.quit()
        status = drain(g, 120)
        check(status == 0, "quit after migrate", f"status {status}")
        first = g.out
        check(b"POPEK-GUEST-DONE" not in first, "the guest was stopped before it finished")

        saved_disk = None
        if args.disk:
            saved_disk = os.path.join(work, "at-save.img")
            shutil.copyfile(disks["stopped"], saved_disk)

        def resume():
            g = boot("stopped", ["-incoming", f"file:{state}"])
            status = drain(g, limit)
            err = g.proc.stderr.read().decode("utf-8", "replace")
            check(status == 0 and b"POPEK-GUEST-DONE rc=0" in g.out,
                  "the run from the saved state completes", err + g.out[-2000:].decode())
            return g

        def mismatch_report():
            """Where the runs parted, and which kind of failure it is: a
            second resume from the same state (and disk) that agrees with
            the first means the state missed something at this save point;
            one that does not, a run that is not deterministic by itself."""
            ints = first_difference(trace(0), trace(1) + trace(2))
            if saved_disk:
                shutil.copyfile(saved_disk, disks["stopped"])
            again = first_difference(resumed, first + resume().out)
            return f"{first_difference(straight, resumed)}\n" \
                   f"saved at instruction {icount.group(1) if icount else '?'}, " \
                   f"{len(first)} output bytes before; host {host_cpu()}\n" \
                   f"-d int, straight against stopped and resumed: {ints}\n" \
                   f"a second resume from the same state, against the first: {again}"

        g = resume()
        resumed = first + g.out
        check(resumed == straight,
              "stopped, saved and resumed output equals the straight run's byte for byte",
              "" if resumed == straight else mismatch_report())
        if args.disk:
            check(b"  /dev/" not in first and b"  /dev/" in g.out,
                  "the state was saved while dd ran (before md5sum's line)")
            with open(disks["straight"], "rb") as a, open(disks["stopped"], "rb") as b:
                check(a.read() == b.read(), "both disk images end identical")
            check(b"popek-disk-pattern" in open(disks["stopped"], "rb").read(1 << 16),
                  "the guest wrote its pattern")
        print(f"ok: saved at instruction {icount.group(1) if icount else '?'} "
              f"({len(first)} of {len(straight)} output bytes), state "
              f"{os.path.getsize(state)} bytes; straight run {t1 - t0:.1f} s, "
              f"split runs {time.monotonic() - t1:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def http_server(directory):
    """A host HTTP server on 127.0.0.1 (the guest reaches it as 10.0.2.2)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    handler = functools.partial(Quiet, directory=directory)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_session(args):
    work = tempfile.mkdtemp(prefix="popek-vmstate-")
    srv = None
    try:
        mon = os.path.join(work, "mon.sock")
        opts = ["-monitor", f"unix:{mon},server,nowait"]
        www = os.path.join(work, "www")
        os.mkdir(www)
        with open(os.path.join(www, "note"), "w") as f:
            f.write("served-to-the-restored-guest\n")
        srv = http_server(www)
        port = srv.server_address[1]
        g = Guest(args.popek, args.guestdir, args.accel, opts)
        g.read_until(MARKER, BOOT_TIMEOUT)
        out, rc = g.run("netup eth0", timeout=120)
        check(rc == 0 and "NETUP eth0 10.0.2.15" in out, "the guest's e1000 gets its address",
              out)
        out, rc = g.run("dd if=/dev/urandom of=/tmp/blob bs=1k count=512 2>/dev/null; "
                        "echo kept-in-tmpfs > /tmp/note; md5sum /tmp/blob; echo pid=$$")
        check(rc == 0, "the guest writes its files", out)
        md5 = out.split()[0]
        pid = re.search(r"pid=(\d+)", out).group(1)
        packed = os.path.join(work, "vm.gz")
        for round_, (out_uri, in_uri) in enumerate(
                [(f"exec:gzip -c > {packed}", f"exec:gzip -dc {packed}"),
                 (f"file:{work}/vm.state", f"file:{work}/vm.state")]):
            m = Monitor(mon, connect_timeout=60, io_timeout=300)
            t0 = time.monotonic()
            reply = m.cmd(f'migrate "{out_uri}"')
            took = time.monotonic() - t0
            check("Error" not in reply, f"migrate {out_uri}", reply)
            info = m.cmd("info migrate")
            check("Migration status: completed" in info, "info migrate says completed", info)
            status = m.cmd("info status")
            check("paused" in status, "the source is paused after migrating", status)
            m.quit()
            check(drain(g, 120) == 0, "quit after migrate")
            t0 = time.monotonic()
            g = Guest(args.popek, args.guestdir, args.accel, opts + ["-incoming", in_uri])
            out, rc = g.run("md5sum /tmp/blob; cat /tmp/note; echo pid=$$", timeout=120)
            back = time.monotonic() - t0
            check(rc == 0 and md5 in out and "kept-in-tmpfs" in out,
                  f"round {round_ + 1}: the files in tmpfs are intact", out)
            check(f"pid={pid}" in out, f"round {round_ + 1}: the same shell session goes on", out)
            out, rc = g.run(f"wget -q -O - http://10.0.2.2:{port}/note", timeout=120)
            check(rc == 0 and "served-to-the-restored-guest" in out,
                  f"round {round_ + 1}: the restored e1000 and user network fetch from the host",
                  out)
            print(f"ok: {out_uri.split(':')[0]}: migrate {took:.2f} s, incoming to a shell "
                  f"answer {back:.2f} s, {reply.strip() or 'no message'}")
        g.proc.stdin.write(b"poweroff\n")
        g.proc.stdin.flush()
        check(g.wait_exit(120) == 0, "poweroff after the second -incoming ends with status 0")
    finally:
        if srv:
            srv.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def run_popek(popek, args, stdin=b"", timeout=60):
    p = subprocess.run([popek] + args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def one_line_error(rc, err, what, *words):
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc != 0 and len(lines) == 1 and all(w in lines[0] for w in words),
          f"{what}: one line and a non-zero exit", f"status {rc}, stderr {err!r}")


def test_errors(args):
    work = tempfile.mkdtemp(prefix="popek-vmstate-")
    try:
        rom = args.guestdir
        base = ["-bios", rom, "-nographic", "-display", "none", "-m", "32M"]
        state = os.path.join(work, "vm.state")
        # A state to damage: the idle machine, migrated from the monitor.
        rc, out, err = run_popek(args.popek, base + ["-S", "-monitor", "stdio", "-serial", "null"],
                                 f"migrate file:{state}\ninfo migrate\nsavevm first\n"
                                 "info snapshots\nquit\n".encode())
        check(rc == 0 and os.path.getsize(state) > 0, "migrate from a -S machine", out + err)
        check("Error: No block device can accept snapshots" in out,
              "savevm without disks answers as QEMU", out)
        check("No available block device supports snapshots" in out,
              "info snapshots without disks answers as QEMU", out)
        # A failing migrate is an error message; the machine runs on.
        rc, out, err = run_popek(args.popek, base + ["-monitor", "stdio", "-serial", "null"],
                                 b"migrate file:/nonexistent/dir/x\ninfo status\n"
                                 b"migrate \"exec:exit 3\"\ninfo migrate\nquit\n")
        check("Error: /nonexistent/dir/x:" in out and "VM status: running" in out,
              "a migrate to a bad path fails with one line and the VM keeps running", out)
        check("Error: exec:exit 3: the command failed (status 3)" in out,
              "a failing exec: command is reported", out)
        check("Migration status: failed" in out, "info migrate says failed", out)
        # Raw disks cannot hold snapshots: QEMU's words, naming the drive.
        disk = os.path.join(work, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        rc, out, err = run_popek(args.popek, base + ["-monitor", "stdio", "-serial", "null",
                                                     "-drive", f"file={disk},format=raw"],
                                 b"savevm s1\nloadvm s1\nquit\n")
        check(out.count("Error: Device 'ide0-hd0' is writable but does not support snapshots")
              == 2, "savevm/loadvm with a raw disk answer as QEMU", out)
        # qcow2 (made by qemu-img when it is installed): savevm keeps the
        # state in the image's snapshot table, as QEMU does.
        if shutil.which("qemu-img"):
            q = os.path.join(work, "disk.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", q, "16M"], check=True)
            rc, out, err = run_popek(args.popek, base + ["-S", "-monitor", "stdio", "-serial", "null",
                                                         "-drive", f"file={q},format=qcow2"],
                                     b"savevm s1\ninfo snapshots\nloadvm s1\nloadvm nope\n"
                                     b"savevm s2\ndelvm s1\nquit\n")
            check(rc == 0 and re.search(r"\n1 +s1 ", out) and "Error" not in
                  out.replace("Error: Snapshot 'nope' does not exist in one or more devices", ""),
                  "savevm, info snapshots, loadvm, delvm on a qcow2 image", out + err)
            listing = subprocess.run(["qemu-img", "snapshot", "-l", q], capture_output=True,
                                     text=True).stdout
            check(" s2 " in listing and " s1 " not in listing, "qemu-img lists popek's snapshot",
                  listing)
            check(subprocess.run(["qemu-img", "check", "-q", q]).returncode == 0,
                  "qemu-img check is clean")
            rc, out, err = run_popek(args.popek, base + ["-S", "-monitor", "stdio", "-serial",
                                                         "null", "-drive", f"file={q},format=qcow2",
                                                         "-loadvm", "s2"],
                                     b"info status\nquit\n")
            check(rc == 0 and "VM status: paused" in out, "-loadvm starts from the snapshot",
                  out + err)
        # Start-up: every bad input is one line and status 1.
        rc, _, err = run_popek(args.popek, base + ["-incoming", "file:" + state + ".missing"])
        one_line_error(rc, err, "a missing state file", "-incoming", ".missing")
        rc, _, err = run_popek(args.popek, base + ["-incoming", "tcp:127.0.0.1:4444"])
        one_line_error(rc, err, "an unsupported URI", "-incoming", "file:PATH")
        rc, _, err = run_popek(args.popek, base + ["-incoming", "exec:exit 1"])
        one_line_error(rc, err, "a failing exec: command", "exec:exit 1")
        good = open(state, "rb").read()
        cut = os.path.join(work, "cut.state")
        for length in (0, 7, 100, len(good) // 2, len(good) - 1):
            with open(cut, "wb") as f:
                f.write(good[:length])
            rc, _, err = run_popek(args.popek, base + ["-incoming", "file:" + cut])
            one_line_error(rc, err, f"a state cut to {length} bytes", "-incoming")
        flipped = bytearray(good)
        flipped[len(good) // 3] ^= 0x10
        with open(cut, "wb") as f:
            f.write(flipped)
        rc, _, err = run_popek(args.popek, base + ["-incoming", "file:" + cut])
        one_line_error(rc, err, "a damaged state", "checksum")
        rc, _, err = run_popek(args.popek, ["-bios", rom, "-nographic", "-display", "none",
                                            "-m", "64M", "-incoming", "file:" + state])
        one_line_error(rc, err, "a state of a machine with other RAM", "section 'ram'")
        rc, _, err = run_popek(args.popek, base + ["-icount", "0", "-incoming", "file:" + state])
        one_line_error(rc, err, "a host-clock state under -icount", "section 'clock'")
        rc, _, err = run_popek(args.popek, base + ["-loadvm", "snap"])
        one_line_error(rc, err, "-loadvm without a qcow2 image", "-loadvm snap",
                       "No block device can accept snapshots")
        # The good state starts, stopped under -S, and carries on on cont.
        rc, out, err = run_popek(args.popek, base + ["-S", "-monitor", "stdio", "-serial", "null",
                                                     "-incoming", "file:" + state],
                                 b"info status\ncont\ninfo status\nquit\n")
        check(rc == 0 and "VM status: paused" in out and "VM status: running" in out,
              "-incoming with -S starts paused, cont runs it", out + err)
        # QMP: migrate and query-migrate.
        qsock = os.path.join(work, "qmp.sock")
        p = subprocess.Popen([args.popek] + base + ["-S", "-serial", "null", "-qmp",
                                                    f"unix:{qsock},server,nowait"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            q = Qmp(qsock)
            q.cmd("qmp_capabilities")
            r = q.cmd("migrate", {"uri": f"file:{work}/qmp.state"})
            check(r.get("return") == {}, "QMP migrate returns {}", str(r))
            r = q.cmd("query-migrate")["return"]
            check(r.get("status") == "completed" and r["ram"]["transferred"] > 0,
                  "QMP query-migrate says completed", str(r))
            r = q.cmd("migrate", {"uri": "tcp:localhost:1"})
            check(r.get("error", {}).get("class") == "GenericError", "QMP migrate to tcp: fails",
                  str(r))
            q.cmd("quit")
            check(p.wait(timeout=30) == 0, "QMP quit")
        finally:
            if p.poll() is None:
                p.kill()
        check(open(f"{work}/qmp.state", "rb").read(8) == b"POPEKVM\n", "QMP wrote a state")
        print("ok: errors")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("mode", choices=["determinism", "session", "errors"])
    ap.add_argument("--accel", default="bt")
    ap.add_argument("--disk", action="store_true")
    ap.add_argument("--virtio", action="store_true", help="with --disk: the disk on virtio-blk")
    args = ap.parse_args()
    try:
        {"determinism": test_determinism, "session": test_session,
         "errors": test_errors}[args.mode](args)
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
