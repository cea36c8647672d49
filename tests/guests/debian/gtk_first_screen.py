#!/usr/bin/env python3
"""Debian's graphical installer reaches its first screen in popek's window.

    gtk_first_screen.py POPEK CACHE [popek options...]

Run inside an X server (xvfb-run).  Boots the gtk variant of the netboot
installer (CACHE/netboot/linux-gtk and initrd-gtk.gz, from mirror.sh) in the
SDL window and waits for its first screen, the language choice: the
monitor's screendump must show a graphics mode of at least 800x600 that is
mostly light (the installer's white page, where the console was black)
with the banner's dark band across the top, and stay so for two
screendumps in a row.  The guest's network is slirp with restrict=on and
no rules: this screen needs none.  Skips (77) when the cache has no gtk
installer.  With GTK_SHOT=FILE the last screendump is kept there.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "desktop"))
from desktop_test import png_pixels  # noqa: E402  (the desktop test's PNG reader)

TIMEOUT = int(os.environ.get("POPEK_GTK_TIMEOUT", "1800"))


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


class Monitor:
    def __init__(self, path):
        deadline = time.time() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    fail("no monitor at " + path)
                time.sleep(0.2)
        self.read_prompt()

    def read_prompt(self):
        data = b""
        while not data.endswith(b"(popek) "):
            chunk = self.sock.recv(4096)
            if not chunk:
                fail("the monitor closed")
            data += chunk
        return data.decode(errors="replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self.read_prompt()


def first_screen(png):
    """(True, why) when the screendump looks like the installer's page."""
    width, height, pixel = png_pixels(png)
    if width < 800 or height < 600:
        return False, "%dx%d: not the installer's mode" % (width, height)
    light = dark_top = total = top = 0
    for y in range(0, height, 8):
        for x in range(0, width, 8):
            rgb = pixel(x, y)
            luma = (rgb >> 16) * 3 + ((rgb >> 8) & 0xff) * 6 + (rgb & 0xff)
            total += 1
            light += luma > 200 * 10
            if y < height // 12:
                top += 1
                dark_top += luma < 100 * 10
    if light * 2 < total:
        return False, "%dx%d, %d%% light: not the installer's page" % (width, height,
                                                                      100 * light // total)
    if dark_top * 4 < top:
        return False, "no banner across the top"
    return True, "%dx%d, %d%% light, banner %d%% dark" % (width, height, 100 * light // total,
                                                          100 * dark_top // top)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    popek, cache = sys.argv[1], sys.argv[2]
    kernel = os.path.join(cache, "netboot", "linux-gtk")
    initrd = os.path.join(cache, "netboot", "initrd-gtk.gz")
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        print("SKIP: no gtk installer in %s (tests/guests/debian/mirror.sh)" % cache)
        return 77
    tmp = tempfile.mkdtemp(prefix="popek-gtk-")
    mon_path = os.path.join(tmp, "mon")
    # No console= on a serial line: the installer picks gtk only on a
    # virtual console with a framebuffer (and with 534 MB or more on i386).
    proc = subprocess.Popen([popek, "-m", "1024M", "-display", "sdl", "-name", "debian-gtk",
                             "-serial", "file:" + os.path.join(tmp, "serial.txt"),
                             "-monitor", "unix:%s,server,nowait" % mon_path,
                             "-kernel", kernel, "-initrd", initrd, "-append", "quiet",
                             "-netdev", "user,id=n0,restrict=on", "-device", "e1000,netdev=n0",
                             "-no-reboot"] + sys.argv[3:],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        mon = Monitor(mon_path)
        start = time.time()
        png = os.path.join(tmp, "screen.png")
        seen = 0
        why = "no screendump yet"
        while time.time() - start < TIMEOUT:
            if proc.poll() is not None:
                fail("popek exited (%s): %s" % (proc.returncode, proc.stdout.read().decode()))
            time.sleep(10)
            out = mon.cmd("screendump " + png)
            if not os.path.exists(png) or "screendump" in out.replace("screendump " + png, ""):
                why = out.strip()
                continue
            ok, why = first_screen(png)
            seen = seen + 1 if ok else 0
            if seen == 2:
                print("ok: the graphical installer's first screen after %.0f s (%s)" %
                      (time.time() - start, why))
                return 0
        fail("no installer screen in %d s: %s" % (TIMEOUT, why))
    finally:
        if os.environ.get("GTK_SHOT") and os.path.exists(os.path.join(tmp, "screen.png")):
            shutil.copy(os.path.join(tmp, "screen.png"), os.environ["GTK_SHOT"])
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
