#!/usr/bin/env python3
"""Typing at ISOLINUX's boot: prompt, as a QEMU user does.

    isolinux_prompt.py POPEK DISKGUESTDIR serial [popek options...]
    isolinux_prompt.py POPEK DISKGUESTDIR keyboard XHELPER [popek options...]

An ISO with isolinux (PROMPT 1, TIMEOUT 0: it waits at boot: forever) and
two labels; the default one is never booted.  The test types "typed" and
Enter at the prompt and the guest must boot the label it named.

serial:   -nographic.  isolinux.cfg has no SERIAL line, so ISOLINUX speaks
          only through the BIOS (INT 10h, INT 16h): what reaches the
          terminal, SeaBIOS's banner included, and what is typed there go
          through SeaBIOS's serial console (fw_cfg etc/sercon-port).
keyboard: the SDL window, under an X server (xvfb-run); keys go in through
          XTEST (tests/desktop/xhelper.c), reach the PS/2 keyboard, and
          ISOLINUX reads them from SeaBIOS's INT 16h, which needs SeaBIOS to
          have found the keyboard in the DSDT (PNP0303).  isolinux.cfg has
          SERIAL 0 so the test can see the prompt on COM1.
"""
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

NAME = "popek-isolinux-test"


def fail(msg, out=b""):
    print("FAIL: " + msg)
    if out:
        print("--- serial output tail:\n" + out[-2000:].decode("utf-8", "replace"))
    sys.exit(1)


def build_iso(work, guestdir, serial_line):
    iso = os.path.join(work, "iso")
    os.makedirs(os.path.join(iso, "isolinux"))
    for f in ("/usr/lib/ISOLINUX/isolinux.bin", "/usr/lib/syslinux/modules/bios/ldlinux.c32"):
        if not os.path.exists(f):
            fail(f + " is missing (scripts/setup.sh installs isolinux and syslinux-common)")
        shutil.copy(f, os.path.join(iso, "isolinux"))
    shutil.copy(os.path.join(guestdir, "bzImage"), os.path.join(iso, "bzimage"))
    shutil.copy(os.path.join(guestdir, "initramfs-disk.cpio.gz"), os.path.join(iso, "initrd.gz"))
    append = "initrd=/initrd.gz console=ttyS0 acpi=off panic=-1"
    cfg = (serial_line + "DEFAULT first\nPROMPT 1\nTIMEOUT 0\n"
           "LABEL first\n  KERNEL /bzimage\n  APPEND %s popek.cmd=\"echo BOOTED-LABEL-FIRST\"\n"
           "LABEL typed\n  KERNEL /bzimage\n  APPEND %s popek.cmd=\"echo BOOTED-LABEL-TYPED\"\n"
           % (append, append))
    with open(os.path.join(iso, "isolinux", "isolinux.cfg"), "w") as f:
        f.write(cfg)
    out = os.path.join(work, "boot.iso")
    subprocess.run(["genisoimage", "-quiet", "-o", out, "-b", "isolinux/isolinux.bin",
                    "-c", "isolinux/boot.cat", "-no-emul-boot", "-boot-load-size", "4",
                    "-boot-info-table", "-J", "-R", iso], check=True)
    return out


class Serial:
    """popek's COM1 on its stdout (and stdin)."""

    def __init__(self, proc):
        self.proc = proc
        self.out = b""

    def wait_for(self, text, timeout):
        self.wait_for_any((text,), timeout)

    def wait_for_any(self, texts, timeout):
        text = b" or ".join(texts)
        deadline = time.monotonic() + timeout
        while not any(t in self.out for t in texts):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                fail("no %r on the serial console (popek %s)" %
                     (text, "exited" if self.proc.poll() is not None else "still running"),
                     self.out)
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                self.out += chunk

    def rest_after(self, text):
        return self.out[self.out.index(text) + len(text):]


def xhelper(path, *args):
    res = subprocess.run([path] + list(args), capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        fail("xhelper %s: %s" % (" ".join(args), res.stderr.strip()))
    return res.stdout.strip()


def main():
    popek, guestdir, mode = sys.argv[1:4]
    rest = sys.argv[4:]
    helper = None
    if mode == "keyboard":
        helper, rest = rest[0], rest[1:]
    elif mode != "serial":
        fail("mode must be serial or keyboard")
    work = tempfile.mkdtemp()
    proc = None
    try:
        iso = build_iso(work, guestdir, "SERIAL 0 115200\n" if mode == "keyboard" else "")
        cmd = [popek, "-cdrom", iso, "-boot", "d", "-no-reboot", "-m", "256M",
               "-bioslog", "file:" + os.path.join(work, "bios.log")]
        if mode == "serial":
            cmd += ["-nographic"]
        else:
            cmd += ["-display", "sdl", "-name", NAME, "-serial", "stdio"]
        proc = subprocess.Popen(cmd + rest, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        serial = Serial(proc)
        if mode == "serial":
            serial.wait_for(b"SeaBIOS (version", 60)
            print("ok: SeaBIOS's banner on the -nographic terminal")
        serial.wait_for(b"boot:", 120)
        print("ok: ISOLINUX's boot: prompt on COM1")
        time.sleep(0.5)
        if mode == "serial":
            for ch in b"typed\r":
                proc.stdin.write(bytes([ch]))
                proc.stdin.flush()
                time.sleep(0.05)
        else:
            window = xhelper(helper, "find", NAME)
            for key in ("t", "y", "p", "e", "d", "Return"):
                xhelper(helper, "key", window, key)
                time.sleep(0.05)
        # The kernel's command line names the label it was booted with.  Wait
        # for the whole word and its closing quote: a read can end inside
        # "BOOTED-LABEL-TYPE", which is not yet evidence of either label.
        serial.wait_for_any((b'BOOTED-LABEL-TYPED"', b'BOOTED-LABEL-FIRST"'), 180)
        after = serial.rest_after(b"boot:")
        if b"BOOTED-LABEL-TYPED" not in serial.out:
            fail("the guest booted another label than the one typed", serial.out)
        if mode == "serial" and b"typed" not in after.split(b"BOOTED-LABEL-")[0]:
            fail("ISOLINUX did not echo what was typed", serial.out)
        print("ok: the %s reached ISOLINUX: it booted label 'typed'" %
              ("terminal" if mode == "serial" else "keyboard"))
        try:
            status = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            fail("popek did not exit after the guest's reboot -f", serial.out)
        if status != 0:
            fail("popek exit status %d" % status, serial.out)
        print("ok: the guest ended, popek exit status 0")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
