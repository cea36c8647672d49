#!/usr/bin/env python3
"""The SDL window keeps answering while the guest floods popek.

    window_flood.py POPEK BINDIR XHELPER [popek options...]

Run inside an X server (xvfb-run).  For each flood ROM of
tests/guest/bounds (the PIT at its fastest rate, self-IPIs, and on the
translator an e1000 transmitting without end on user networking), popek runs in an SDL
window; once the flood is up (its "flood up" line on COM1), each of these
must show in the window within WINDOW_S seconds, three times over:
  - a click in the window grabs the mouse: the title gets the grab hint
    (the window's event loop took the click and redrew its title);
  - Ctrl-Alt-G typed into the window releases it: the hint goes.
Then closing the window ends popek with status 0.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

NAME = "popek-window-flood"
WINDOW_S = 3.0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def xhelper(tool, *args):
    res = subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        fail("xhelper %s: %s" % (" ".join(args), res.stderr.strip()))
    return res.stdout


def within(what, check, limit):
    """Seconds until check() holds; fails past limit."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > limit:
            fail("%s: not within %.1f s" % (what, limit))
        time.sleep(0.02)
    return time.monotonic() - t0


def flood(popek, rom, tool, extra, label):
    tmp = tempfile.mkdtemp(prefix="popek-window-")
    com1 = os.path.join(tmp, "com1.txt")
    proc = subprocess.Popen([popek, "-bios", rom, "-display", "sdl", "-name", NAME,
                             "-serial", "file:" + com1] + extra)
    try:
        t0 = time.monotonic()
        while not (os.path.exists(com1) and "flood up" in open(com1).read()):
            if time.monotonic() - t0 > 30 or proc.poll() is not None:
                fail("%s: the flood did not come up" % label)
            time.sleep(0.05)
        window = xhelper(tool, "find", NAME).strip()
        title = lambda: xhelper(tool, "title", window).strip()  # noqa: E731
        worst = 0.0
        for _ in range(3):
            xhelper(tool, "click", window)
            worst = max(worst, within("%s: the grab hint after a click" % label,
                                      lambda: "Ctrl-Alt-G" in title(), WINDOW_S))
            # The X server completes SDL's keyboard grab after the title
            # changes; a chord typed in between may go to the old focus.
            time.sleep(0.3)
            xhelper(tool, "key", window, "Control_L+Alt_L+g")
            worst = max(worst, within("%s: the hint gone after Ctrl-Alt-G" % label,
                                      lambda: title() == NAME, WINDOW_S))
        xhelper(tool, "close", window)
        try:
            status = proc.wait(timeout=WINDOW_S * 2)
        except subprocess.TimeoutExpired:
            fail("%s: closing the window did not end popek" % label)
        if status != 0:
            fail("%s: popek exited %d after the window closed" % (label, status))
        print("ok: %s: the window answered within %.2f s; closing it ended popek" %
              (label, worst))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    popek, bindir, tool = sys.argv[1:4]
    extra = sys.argv[4:]
    flood(popek, os.path.join(bindir, "flood_pit.bin"), tool, extra, "PIT at its fastest")
    flood(popek, os.path.join(bindir, "flood_ipi.bin"), tool, extra, "self-IPI storm")
    flood(popek, os.path.join(bindir, "nic_flood_e1000.bin"), tool,
          extra + ["-netdev", "user,id=n0", "-device", "e1000,netdev=n0"],
          "e1000 transmitting without end")
    print("PASS")


if __name__ == "__main__":
    main()
