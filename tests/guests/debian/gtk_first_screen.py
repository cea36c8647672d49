#!/usr/bin/env python3
"""Debian's graphical installer reaches its first screen in popek's window.

    gtk_first_screen.py POPEK [popek options...]

Run inside an X server (xvfb-run).  Boots the gtk variant of the netboot
installer (netboot/linux-gtk and initrd-gtk.gz that mirror.sh unpacked in
$POPEK_DEBIAN_CACHE, default ~/.cache/popek/debian) in the
SDL window and waits for its first screen, the language choice: the
monitor's screendump must show a graphics mode of at least 800x600 with the
banner's dark band across the top, the language list's white box and the
selected language's bar across it (first_screen), in two screendumps in a
row.  The guest's network is slirp with restrict=on and
no rules: this screen needs none.  Skips (77) when the cache has no gtk
installer.  With GTK_SHOT=FILE the last screendump is kept there.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "desktop"))
from desktop_test import png_pixels  # noqa: E402  (the desktop test's PNG reader)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from monitor_client import Monitor  # noqa: E402

TIMEOUT = int(os.environ.get("POPEK_GTK_TIMEOUT", "3300"))


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def teal(rgb):
    """The installer theme's selection colour (about #29867e)."""
    r, g, b = rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff
    return g > r + 60 and b > r + 50 and g < 200


def first_screen(png):
    """(True, why) when the screendump shows the language choice: the dark
    banner across the top, the list's white box over a third of the screen
    or more, and the selected language's bar across the list."""
    width, height, pixel = png_pixels(png)
    if width < 800 or height < 600:
        return False, "%dx%d: not the installer's mode" % (width, height)
    samples = white = top = dark_top = 0
    for y in range(0, height, 4):
        for x in range(0, width, 4):
            rgb = pixel(x, y)
            samples += 1
            white += rgb == 0xffffff
            if y < height // 12:
                top += 1
                luma = (rgb >> 16) * 3 + ((rgb >> 8) & 0xff) * 6 + (rgb & 0xff)
                dark_top += luma < 100 * 10
    xs = range(width // 4, width * 15 // 16, 8)
    bar = sum(1 for y in range(height // 8, height)
              if sum(1 for x in xs if teal(pixel(x, y))) * 10 >= 8 * len(xs))
    why = "%dx%d, banner %d%% dark, list %d%% white, selection bar %d rows" % (
        width, height, 100 * dark_top // top, 100 * white // samples, bar)
    return dark_top * 4 >= top * 3 and white * 3 >= samples and bar >= 10, why


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    popek = sys.argv[1]
    cache = os.environ.get("POPEK_DEBIAN_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache", "popek", "debian"))
    kernel = os.path.join(cache, "netboot", "linux-gtk")
    initrd = os.path.join(cache, "netboot", "initrd-gtk.gz")
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        print("SKIP: no gtk installer in %s (tests/guests/debian/mirror.sh)" % cache)
        return 77
    tmp = tempfile.mkdtemp(prefix="popek-gtk-")
    mon_path = os.path.join(tmp, "mon")
    # The installer picks gtk only on a virtual console with a framebuffer
    # (and with 534 MB or more on i386): with any console= on a serial line
    # it runs its text frontend there, so the kernel logs to the screen only.
    proc = subprocess.Popen([popek, "-m", "1024M", "-display", "sdl", "-name", "debian-gtk",
                             "-serial", "file:" + os.path.join(tmp, "serial.txt"),
                             "-monitor", "unix:%s,server,nowait" % mon_path,
                             "-kernel", kernel, "-initrd", initrd,
                             "-append", "quiet",
                             "-netdev", "user,id=n0,restrict=on", "-device", "e1000,netdev=n0",
                             "-no-reboot"] + sys.argv[2:],
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
