#!/usr/bin/env python3
"""Image locking for every format, through the real binary (docs/security.md).

  image_locking.py POPEK IDLE_ROM

QEMU's rule: a writer holds an image alone; readers share it.  A first
popek holds the images (its monitor answering means every drive is open);
a second one then opens them:
  - a raw image and a qcow2 image written by the first: a second writer,
    a readonly=on reader and a -snapshot user are refused, each with one
    line naming the file and status 1;
  - the backing file of a qcow2 overlay the first writes: it was opened
    read-only, so a second writer of it is refused, while a reader and a
    second overlay over the same base run;
  - an image the first uses under -snapshot (read-only, its writes go to
    a temporary overlay): a writer is refused, a second -snapshot runs;
  - once the first has quit, a writer gets every image;
  - file.locking=off (QEMU's, for an image whose other users the user
    answers for): a second writer with it runs beside the first, and a
    first popek with it leaves the image free for a locking writer; a
    bad value is one line and status 1;
  - with QEMU's tools installed (optional peers), popek and QEMU exclude
    each other as two QEMUs do, since popek locks QEMU's lock bytes:
    qemu-io cannot open for writing an image a popek writes or reads
    (it can with -U -r, force share), a qemu-io reader and a popek reader
    share an image, and popek cannot open an image
    qemu-io holds open for writing.
"Runs" means still running after 1.5 s with nothing on stderr.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from monitor_client import Monitor  # noqa: E402
from qcow2_image import write_qcow2  # noqa: E402

popek, rom = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="popek-lock-")
failures = 0


def base_args(extra):
    return [popek, "-bios", rom, "-display", "none", "-serial", "null"] + extra


def drive(path, fmt, *props):
    return ["-drive", ",".join([f"file={path}", f"format={fmt}", "if=virtio"] + list(props))]


class Holder:
    """The first popek, holding its drives open until close()."""

    def __init__(self, args):
        self.sock = os.path.join(tmp, "mon")
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(
            base_args(args + ["-monitor", f"unix:{self.sock},server,nowait"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.sock) and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"FAIL: the first popek stopped: {self.proc.stderr.read().decode()}")
            time.sleep(0.05)
        self.mon = Monitor(self.sock, connect_timeout=30)
        self.mon.cmd("info block")

    def close(self):
        self.mon.quit()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        check("the first popek quits cleanly", self.proc.returncode == 0 and not err.strip(),
              f"status {self.proc.returncode}, stderr {err!r}")


def check(what, good, detail=""):
    global failures
    if good:
        print(f"ok: {what}")
    else:
        print(f"FAIL: {what}: {detail}")
        failures += 1


def second(args):
    """(status or None if it ran 1.5 s, stderr lines)."""
    proc = subprocess.Popen(base_args(args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=1.5)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        status = None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    lines = [ln for ln in proc.stderr.read().decode(errors="replace").splitlines()
             if not ln.startswith("popek: terminating on signal")]
    return status, lines


def refused(what, path, args):
    status, lines = second(args)
    check(f"{what} is refused: {lines[0] if lines else ''}",
          status == 1 and len(lines) == 1 and path in lines[0] and "in use" in lines[0],
          f"status {status}, stderr {lines}")


def runs(what, args):
    status, lines = second(args)
    check(f"{what} runs", status is None and not lines, f"status {status}, stderr {lines}")


raw = os.path.join(tmp, "disk.raw")
with open(raw, "wb") as f:
    f.truncate(16 << 20)
qcow = os.path.join(tmp, "disk.qcow2")
write_qcow2(qcow)
base = os.path.join(tmp, "base.qcow2")
write_qcow2(base)
over1 = os.path.join(tmp, "over1.qcow2")
write_qcow2(over1, b"base.qcow2")
over2 = os.path.join(tmp, "over2.qcow2")
write_qcow2(over2, b"base.qcow2")

try:
    for path, fmt in ((raw, "raw"), (qcow, "qcow2")):
        h = Holder(drive(path, fmt))
        refused(f"a second writer of a {fmt} image", path, drive(path, fmt))
        refused(f"a reader (readonly=on) of a written {fmt} image", path,
                drive(path, fmt, "readonly=on"))
        refused(f"-snapshot on a written {fmt} image", path, ["-snapshot"] + drive(path, fmt))
        h.close()
        runs(f"a writer of the {fmt} image once the first popek has quit", drive(path, fmt))

    h = Holder(drive(raw, "raw"))
    runs("a second writer with file.locking=off", drive(raw, "raw", "file.locking=off"))
    h.close()
    h = Holder(drive(qcow, "qcow2", "file.locking=off"))
    runs("a writer beside a first popek with file.locking=off", drive(qcow, "qcow2"))
    h.close()
    status, lines = second(drive(raw, "raw", "file.locking=maybe"))
    check("file.locking=maybe is one line and status 1",
          status == 1 and len(lines) == 1 and "file.locking" in lines[0],
          f"status {status}, stderr {lines}")

    h = Holder(drive(over1, "qcow2"))
    refused("a writer of the overlay", over1, drive(over1, "qcow2"))
    refused("a writer of the overlay's backing file", base, drive(base, "qcow2"))
    runs("a reader of the overlay's backing file", drive(base, "qcow2", "readonly=on"))
    runs("a second overlay over the same backing file", drive(over2, "qcow2"))
    h.close()

    h = Holder(["-snapshot"] + drive(raw, "raw"))
    refused("a writer of an image used under -snapshot", raw, drive(raw, "raw"))
    runs("a second -snapshot user of it", ["-snapshot"] + drive(raw, "raw"))
    runs("a reader of it", drive(raw, "raw", "readonly=on"))
    h.close()
    runs("a writer of the image once the -snapshot user has quit", drive(raw, "raw"))

    if shutil.which("qemu-io"):
        def qemu_io_open(*opts):
            r = subprocess.run(["qemu-io", *opts, "-f", "raw", raw], input="quit\n",
                               capture_output=True, text=True, timeout=60)
            return r.returncode, (r.stdout + r.stderr).strip()

        h = Holder(drive(raw, "raw"))
        status, out = qemu_io_open()
        check("qemu-io is refused writing an image popek writes", "lock" in out,
              f"status {status}, output {out!r}")
        status, out = qemu_io_open("-U", "-r")
        check("qemu-io -U -r (force share) opens it", "lock" not in out, f"output {out!r}")
        h.close()
        h = Holder(drive(raw, "raw", "readonly=on"))
        status, out = qemu_io_open()
        check("qemu-io is refused writing an image a popek reader holds", "lock" in out,
              f"status {status}, output {out!r}")
        status, out = qemu_io_open("-r")
        check("qemu-io -r reads an image beside a popek reader", status == 0 and "lock" not in out,
              f"status {status}, output {out!r}")
        h.close()
        qio = subprocess.Popen(["qemu-io", "-f", "raw", raw], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            qio.stdin.write(b"help\n")  # its answer means the image is open and locked
            qio.stdin.flush()
            qio.stdout.readline()
            refused("a popek writer of an image qemu-io writes", raw, drive(raw, "raw"))
            refused("a popek reader of an image qemu-io writes", raw,
                    drive(raw, "raw", "readonly=on"))
        finally:
            qio.stdin.close()
            qio.wait(timeout=30)
        runs("a popek writer once qemu-io has quit", drive(raw, "raw"))
    else:
        print("note: qemu-io (qemu-utils) not installed; the QEMU interplay is not checked")
finally:
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)

if failures:
    print(f"{failures} check(s) failed")
    sys.exit(1)
print("all checks passed")
