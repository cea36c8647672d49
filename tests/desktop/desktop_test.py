#!/usr/bin/env python3
"""popek's SDL window under Xvfb, used as a person would use it.

    desktop_test.py POPEK DESKTOP_ROM XHELPER [popek options...]

Run inside an X server (xvfb-run).  The guest (desktop.asm) writes a text
screen with no VGA BIOS, reads keys, switches to a 640x480x32 VBE mode with
the linear framebuffer and reads a mouse packet.  Checked:
  - the window opens with the VM name as its title and shows the text
    screen (pixels read back from the X server);
  - the monitor's textdump reads the text, its screendump writes a PNG with
    the expected pixels, before and after the mode switch;
  - keys typed through XTEST reach the guest as set 1 scancodes, extended
    keys with their E0h prefix;
  - the window follows the mode change (size and pixels);
  - a click grabs the mouse (title hint), motion reaches the guest as a
    PS/2 packet, Ctrl-Alt-G releases the grab;
  - stop/cont show in the title;
  - closing the window ends popek with status 0.
With DESKTOP_TEST_SHOTS=DIR set, screenshots of the X screen go to DIR.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

NAME = "popek-desktop-test"
PROMPT = b"(popek) "


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def wait_until(what, check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def png_pixels(path):
    """Decode an 8-bit RGB PNG: (width, height, pixel(x, y) -> 0xRRGGBB)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype != 2:
                fail("%s: not 8-bit RGB" % path)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xff
            elif kind == 2:
                line[i] = (line[i] + b) & 0xff
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xff
        rows.append(line)
        prev = line

    def pixel(x, y):
        r, g, b = rows[y][3 * x:3 * x + 3]
        return (r << 16) | (g << 8) | b
    return width, height, pixel


class Monitor:
    def __init__(self, path):
        self.sock = wait_until("the monitor socket", lambda: self.connect(path))
        self.read_prompt()

    @staticmethod
    def connect(path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            return None
        s.settimeout(20)
        return s

    def read_prompt(self):
        out = b""
        while not out.endswith(PROMPT):
            chunk = self.sock.recv(4096)
            if not chunk:
                fail("monitor closed: %r" % out)
            out += chunk
        return out[:-len(PROMPT)].decode(errors="replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self.read_prompt()


class Window:
    def __init__(self, xhelper):
        self.xhelper = xhelper
        self.id = self.run("find", NAME).strip()

    def run(self, *args):
        res = subprocess.run([self.xhelper] + list(args), capture_output=True, text=True,
                             timeout=30)
        if res.returncode != 0:
            fail("xhelper %s: %s" % (" ".join(args), res.stderr.strip()))
        return res.stdout

    def title(self):
        return self.run("title", self.id).strip()

    def size(self):
        return tuple(int(v) for v in self.run("size", self.id).split())

    def pixel(self, x, y):
        return int(self.run("pixel", self.id, str(x), str(y)), 16)

    def key(self, chord):
        self.run("key", self.id, chord)


def screenshot(name):
    shots = os.environ.get("DESKTOP_TEST_SHOTS")
    if shots:
        subprocess.run(["import", "-window", "root", os.path.join(shots, name + ".png")])


def log_text(path):
    return open(path).read() if os.path.exists(path) else ""


def expect_pixel(pixel, x, y, want, what):
    got = pixel(x, y)
    if got != want:
        fail("%s: pixel (%d,%d) is %06x, want %06x" % (what, x, y, got, want))


def main():
    popek, rom, xhelper = sys.argv[1:4]
    extra = sys.argv[4:]
    tmp = tempfile.mkdtemp(prefix="popek-desktop-")
    log = os.path.join(tmp, "debugcon.log")
    sock = os.path.join(tmp, "monitor.sock")
    proc = subprocess.Popen([popek, "-bios", rom, "-display", "sdl", "-name", NAME,
                             "-debugcon", "file:" + log, "-serial", "null", "-no-reboot",
                             "-monitor", "unix:%s,server,nowait" % sock] + extra)
    try:
        run_checks(proc, log, sock, xhelper, tmp)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


def run_checks(proc, log, sock, xhelper, tmp):
    window = Window(xhelper)
    mon = Monitor(sock)
    wait_until("READY1", lambda: "READY1" in log_text(log))
    if window.title() != NAME:
        fail("title %r, want %r" % (window.title(), NAME))

    # Text mode: the dumps and the window.
    text_path = os.path.join(tmp, "text.txt")
    out = mon.cmd("textdump " + text_path)
    if out.strip():
        fail("textdump: " + out)
    text = open(text_path, encoding="utf-8").read()
    if not text.startswith("\u2588\u2588 POPEK DESKTOP TEST\n") or text.count("\n") != 25:
        fail("text dump:\n" + text)
    png = os.path.join(tmp, "text.png")
    mon.cmd("screendump " + png)
    width, height, pixel = png_pixels(png)
    if (width, height) != (720, 400):
        fail("text screendump is %dx%d, want 720x400" % (width, height))
    yellow, blue = 0xffff55, 0x0000aa   # CGA colours 14 and 1
    expect_pixel(pixel, 0, 0, yellow, "block glyph")
    expect_pixel(pixel, 17, 15, yellow, "9th column of a line-drawing glyph")
    expect_pixel(pixel, 22, 8, blue, "space on blue")
    expect_pixel(pixel, 400, 300, 0, "empty screen")
    wait_until("the window to show the text screen",
               lambda: window.pixel(4, 4) == yellow and window.pixel(22, 8) == blue)
    if window.size() != (720, 400):
        fail("window is %s, want 720x400" % (window.size(),))
    screenshot("1-text")

    # Keys: a, Right (E0-prefixed), Return.
    for key in ("a", "Right", "Return"):
        window.key(key)
    wait_until("Return's scancode", lambda: "KEY 1c" in log_text(log))
    keys = [line.split()[1] for line in log_text(log).splitlines() if line.startswith("KEY ")]
    if keys != ["1e", "9e", "e0", "4d", "e0", "cd", "1c"]:
        fail("keys reached the guest as %s" % keys)

    # VBE 640x480x32 through the linear framebuffer.
    wait_until("READY2", lambda: "READY2" in log_text(log))
    png = os.path.join(tmp, "vbe.png")
    mon.cmd("screendump " + png)
    width, height, pixel = png_pixels(png)
    if (width, height) != (640, 480):
        fail("VBE screendump is %dx%d, want 640x480" % (width, height))
    orange = 0xff8000
    expect_pixel(pixel, 0, 0, 0xffffff, "white pixel")
    for x, y in ((100, 50), (150, 100), (199, 149)):
        expect_pixel(pixel, x, y, orange, "square")
    for x, y in ((99, 50), (200, 149), (150, 150), (1, 0)):
        expect_pixel(pixel, x, y, 0, "outside the square")
    wait_until("the window to follow the mode change",
               lambda: window.size() == (640, 480) and window.pixel(150, 100) == orange)
    screenshot("2-vbe")

    # Mouse: a click grabs, motion reaches the guest, Ctrl-Alt-G releases.
    window.run("click", window.id)
    wait_until("the grab hint in the title", lambda: "Ctrl-Alt-G" in window.title())
    screenshot("3-grabbed")

    def moved():
        window.run("move", "7", "3")
        return "READY3" in log_text(log)
    wait_until("a mouse packet", moved)
    packet = [int(b, 16) for line in log_text(log).splitlines() if line.startswith("MOUSE")
              for b in line.split()[1:]]
    if len(packet) != 3 or not packet[0] & 0x08 or packet[0] & 0x07 or \
            not (packet[1] or packet[2]):
        fail("mouse packet %s" % packet)
    window.key("Control_L+Alt_L+g")
    wait_until("the grab to end", lambda: window.title() == NAME)

    # Run state in the title.
    mon.cmd("stop")
    wait_until("[Paused] in the title", lambda: window.title() == NAME + " [Paused]")
    mon.cmd("cont")
    wait_until("the title to lose [Paused]", lambda: window.title() == NAME)

    # Closing the window powers the machine off: popek exits with status 0.
    window.run("close", window.id)
    try:
        status = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        fail("popek still runs after its window was closed")
    if status != 0:
        fail("popek exited with status %d after the window closed" % status)


if __name__ == "__main__":
    main()
