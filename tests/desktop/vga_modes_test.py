#!/usr/bin/env python3
"""Standard VGA modes set and drawn by SeaBIOS's VGA BIOS, checked on the
screendump.

    vga_modes_test.py POPEK VGA_MODES_BOOT_SECTOR [popek options...]

For each of modes 13h (256 colours, chain 4), 12h and 6Ah (16-colour
planar), 0Dh (16-colour planar, 200 lines doubled) and 04h (CGA 4-colour,
odd/even banks), SeaBIOS boots vga_modes.asm from an ATA disk; the guest
sets the mode and draws colour ((x >> 4) + (y >> 4)) & mask on every
other pixel of every other line through INT 10h.  The monitor's
screendump must then have the mode's size and show that pattern: each
colour index one RGB value, distinct indices distinct values, index 0
black, and for modes 12h and 13h the BIOS's standard colours (1 = blue
0000AA, 14 = yellow FFFF55, 15 = white).  No window is opened.

First, with no disk at all, SeaBIOS's text screen is read while it runs
(the monitor's textdump) and at exit (-textdump): its banner and its
"No bootable device." message.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from desktop_test import Monitor, fail, png_pixels, wait_until  # noqa: E402

MODES = {  # mode: (mask, width, height, exact colours)
    0x13: (0x0f, 320, 200, True),
    0x12: (0x0f, 640, 480, True),
    0x6a: (0x0f, 800, 600, True),
    0x0d: (0x0f, 320, 200, False),
    0x04: (0x03, 320, 200, False),
}
STANDARD = {0: 0x000000, 1: 0x0000aa, 14: 0xffff55, 15: 0xffffff}


def check_mode(popek, boot, extra, mode, tmp):
    mask, want_w, want_h, exact = MODES[mode]
    sector = bytearray(open(boot, "rb").read())
    sector[509] = mode
    img = os.path.join(tmp, "disk%02x.img" % mode)
    with open(img, "wb") as f:
        f.write(sector + bytes(1024 * 1024 - len(sector)))
    log = os.path.join(tmp, "con%02x.log" % mode)
    sock = os.path.join(tmp, "mon%02x.sock" % mode)
    proc = subprocess.Popen([popek, "-hda", img, "-display", "none", "-serial", "null",
                             "-debugcon", "file:" + log, "-no-reboot",
                             "-monitor", "unix:%s,server,nowait" % sock] + extra)
    try:
        mon = Monitor(sock)
        # The guest writes "DONE\n" or "BAD\n" a byte at a time: wait for the
        # whole line, not for the first byte.
        wait_until("mode %02xh drawn" % mode,
                   lambda: os.path.exists(log) and open(log).read().endswith("\n"), timeout=120)
        if open(log).read().strip() != "DONE":
            fail("mode %02xh: the guest says %r" % (mode, open(log).read()))
        png = os.path.join(tmp, "mode%02x.png" % mode)
        out = mon.cmd("screendump " + png)
        if out.strip():
            fail("screendump: " + out)
        mon.cmd("quit")
        if proc.wait(timeout=20) != 0:
            fail("mode %02xh: popek exited with status %d after quit" % (mode, proc.returncode))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    width, height, pixel = png_pixels(png)
    if (width, height) != (want_w, want_h):
        fail("mode %02xh: screendump %dx%d, want %dx%d" % (mode, width, height, want_w, want_h))
    colours = {}
    for y in range(height):
        for x in range(width):
            index = ((x >> 4) + (y >> 4)) & mask if x % 2 == 0 and y % 2 == 0 else 0
            rgb = pixel(x, y)
            if colours.setdefault(index, rgb) != rgb:
                fail("mode %02xh: colour %d is %06x at (%d,%d) but %06x elsewhere"
                     % (mode, index, rgb, x, y, colours[index]))
    if len(set(colours.values())) != len(colours) or len(colours) != mask + 1:
        fail("mode %02xh: colours %s are not %d distinct values" % (mode, colours, mask + 1))
    if colours[0] != 0:
        fail("mode %02xh: colour 0 is %06x, not black" % (mode, colours[0]))
    if exact:
        for index, rgb in STANDARD.items():
            if colours[index] != rgb:
                fail("mode %02xh: colour %d is %06x, want %06x"
                     % (mode, index, colours[index], rgb))
    print("ok: mode %02xh %dx%d, %d colours" % (mode, width, height, len(colours)))


def check_text_screen(popek, extra, tmp):
    at_exit = os.path.join(tmp, "exit.txt")
    now = os.path.join(tmp, "now.txt")
    sock = os.path.join(tmp, "mon-text.sock")
    proc = subprocess.Popen([popek, "-display", "none", "-serial", "null", "-no-reboot",
                             "-textdump", at_exit,
                             "-monitor", "unix:%s,server,nowait" % sock] + extra)
    try:
        mon = Monitor(sock)

        def screen_says(text):
            mon.cmd("textdump " + now)
            return os.path.exists(now) and text in open(now, encoding="utf-8").read()
        wait_until("SeaBIOS to give up booting", lambda: screen_says("No bootable device."),
                   timeout=120)
        mon.cmd("quit")
        if proc.wait(timeout=20) != 0:
            fail("popek exited with status %d after quit" % proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = open(at_exit, encoding="utf-8").read()
    if not text.startswith("SeaBIOS (version ") or "No bootable device." not in text:
        fail("-textdump at exit:\n" + text)
    print("ok: SeaBIOS's text screen, during the run and at exit")


def main():
    popek, boot = sys.argv[1:3]
    extra = sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="popek-vga-")
    try:
        check_text_screen(popek, extra, tmp)
        for mode in MODES:
            check_mode(popek, boot, extra, mode, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
