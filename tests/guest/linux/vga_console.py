#!/usr/bin/env python3
"""Direct -kernel boot shows the kernel's VGA text console.

  vga_console.py POPEK GUESTDIR [popek options...]

The Linux guest boots with -kernel and console=tty0 (and ttyS0, for this
test's commands).  With no BIOS run, the boot protocol's screen_info must
describe VGA text mode 3 (dmesg: "Console: colour VGA+ 80x25", not the
dummy console) and the VGA must hold a font in plane 2: the monitor's
textdump must show the kernel's log, and its screendump (720x400) must
show lit pixels in the character rows that hold text and none in a blank
row.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "desktop"))
from desktop_test import Monitor, fail, png_pixels, wait_until  # noqa: E402


def main():
    popek, guestdir = sys.argv[1:3]
    extra = sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="popek-vgacon-")
    serial = os.path.join(tmp, "serial.log")
    sock = os.path.join(tmp, "mon.sock")
    cmd = 'dmesg | grep Console: ; echo VGA-CHECK-READY; sleep 600'
    append = f'console=tty0 console=ttyS0 panic=-1 popek.cmd="{cmd}"'
    proc = subprocess.Popen([popek, "-kernel", os.path.join(guestdir, "bzImage"),
                             "-initrd", os.path.join(guestdir, "initramfs.cpio.gz"),
                             "-append", append, "-m", "256M", "-display", "none",
                             "-serial", "file:" + serial, "-no-reboot",
                             "-monitor", "unix:%s,server,nowait" % sock] + extra)
    try:
        # A loaded machine may take a while to start popek: wait for the
        # socket before Monitor's own (short) connect timeout starts.
        wait_until("the monitor socket", lambda: os.path.exists(sock), timeout=120)
        mon = Monitor(sock)
        wait_until("the guest's commands",
                   lambda: os.path.exists(serial) and "VGA-CHECK-READY\n" in open(serial).read(),
                   timeout=600)
        log = open(serial).read()
        if "Console: colour VGA+ 80x25" not in log:
            fail("dmesg has no VGA+ console:\n" + log[-3000:])
        print("ok: Console: colour VGA+ 80x25")
        text_path = os.path.join(tmp, "screen.txt")
        png = os.path.join(tmp, "screen.png")
        out = mon.cmd("textdump " + text_path)
        out += mon.cmd("screendump " + png)
        if out.strip():
            fail("monitor: " + out)
        mon.cmd("quit")
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        rows = open(text_path, encoding="utf-8").read().split("\n")
        klog = [r for r in rows if re.match(r"^\[\s*\d+\.\d+\] ", r)]
        if len(klog) < 10:
            fail("the text screen holds no kernel log:\n" + "\n".join(rows))
        print("ok: the kernel's log is on the text screen")
        width, height, pixel = png_pixels(png)
        if (width, height) != (720, 400):
            fail("screendump is %dx%d, want 720x400 (80x25 cells of 9x16)" % (width, height))

        def lit(row):
            return sum(1 for y in range(row * 16, row * 16 + 16) for x in range(width)
                       if pixel(x, y) != 0)
        texted = [r for r in range(min(25, len(rows))) if len(rows[r].strip()) >= 20]
        # Blank rows below the cursor's (the row after the last text) must be black.
        used = max(r for r in range(min(25, len(rows))) if rows[r].strip()) if texted else 0
        blank = [r for r in range(used + 2, 25) if r >= len(rows) or not rows[r].strip()]
        if not texted:
            fail("no row of text on the screen")
        for r in texted[:5]:
            n = lit(r)
            if n < 20 * len(rows[r].strip()):
                fail("row %d (%r) has only %d lit pixels: no font?" % (r, rows[r], n))
        if blank and lit(blank[0]) != 0:
            fail("blank row %d has lit pixels" % blank[0])
        print("ok: the screendump shows the text (%d rows checked)" % len(texted[:5]))
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    print("PASS")


if __name__ == "__main__":
    main()
