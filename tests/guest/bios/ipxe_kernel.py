#!/usr/bin/env python3
"""iPXE's ipxe.lkrn as a direct -kernel (no -bios) reaches its banner.

  ipxe_kernel.py POPEK [popek options...]

ipxe.lkrn (Debian's ipxe package) carries a Linux boot protocol header but
starts only through its real-mode setup code, under a BIOS: popek must
see that it is not a Linux kernel and boot it through SeaBIOS, where it
used to take the 32-bit entry and die (#UD, then a double fault) with
status 0.  Debian's build writes to the BIOS console only, so the banner
is read from the text screen (the monitor's textdump).  Skipped (77)
without /boot/ipxe.lkrn.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "desktop"))
from desktop_test import Monitor, fail, wait_until  # noqa: E402

LKRN = "/boot/ipxe.lkrn"


def main():
    popek = sys.argv[1]
    extra = sys.argv[2:]
    if not os.path.exists(LKRN):
        print("SKIP: %s missing (Debian package ipxe)" % LKRN)
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="popek-ipxe-")
    sock = os.path.join(tmp, "mon.sock")
    screen = os.path.join(tmp, "screen.txt")
    proc = subprocess.Popen([popek, "-kernel", LKRN, "-display", "none", "-serial", "null",
                             "-no-reboot", "-monitor", "unix:%s,server,nowait" % sock] + extra)
    try:
        # A loaded machine may take a while to start popek: wait for the
        # socket before Monitor's own (short) connect timeout starts.
        wait_until("the monitor socket", lambda: os.path.exists(sock), timeout=120)
        mon = Monitor(sock)

        def banner():
            if proc.poll() is not None:
                fail("popek exited with status %d before iPXE's banner" % proc.returncode)
            mon.cmd("textdump " + screen)
            return os.path.exists(screen) and "Open Source Network Boot Firmware" in open(
                screen, encoding="utf-8").read()
        wait_until("iPXE's banner", banner, timeout=240)
        text = open(screen, encoding="utf-8").read()
        if "iPXE 1." not in text or "Booting from ROM" not in text:
            fail("unexpected screen:\n" + text)
        print("ok: SeaBIOS ran ipxe.lkrn's setup code; the screen shows iPXE's banner")
        mon.cmd("quit")
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
