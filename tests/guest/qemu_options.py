#!/usr/bin/env python3
"""QEMU's machine and display options through the real frontend.

    qemu_options.py POPEK IDLE_ROM

Each accepted spelling must start the machine (it is still running after a
second); each refused one must stop with exactly one line on stderr naming
the problem and status 1.  -vga none must leave the machine without a
display card (the monitor's screendump says so) and the terminal as the
console; -machine help lists the machine.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

failures = 0


def report(ok, what, detail=""):
    global failures
    if ok:
        print(f"ok: {what}")
    else:
        failures += 1
        print(f"FAIL: {what}\n{detail}")


def run(popek, rom, args, seconds=1.5):
    """(status or None if still running after `seconds`, stdout, stderr)."""
    p = subprocess.Popen([popek, "-bios", rom, "-display", "none", "-serial", "null"] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=seconds)
        return p.returncode, out.decode(), err.decode()
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out.decode(), err.decode()


def accepted(popek, rom, args):
    status, out, err = run(popek, rom, args)
    report(status is None and err == "", "accepted: " + " ".join(args),
           f"status {status}, stderr: {err}")


def refused(popek, rom, args, text):
    status, out, err = run(popek, rom, args)
    lines = err.splitlines()
    report(status == 1 and len(lines) == 1 and text in lines[0],
           "refused: %s -> %s" % (" ".join(args), err.strip()),
           f"status {status}, stderr: {err!r}")


def main():
    popek, rom = sys.argv[1:3]
    status = subprocess.run([popek, "-machine", "help"], capture_output=True, text=True)
    report(status.returncode == 0 and status.stdout.split("\n")[1].startswith("pc "),
           "-machine help lists pc", status.stdout)

    for args in (["-M", "pc"], ["-machine", "pc,accel=tcg"], ["-machine", "type=pc,accel=interp"],
                 ["-machine", "pc-i440fx-7.2,accel=kvm:tcg"], ["-smp", "1"],
                 ["-smp", "cpus=1,sockets=1,cores=1,threads=1,maxcpus=1"], ["-vga", "std"],
                 ["-k", "en-us"], ["-k", "de"], ["-full-screen"], ["-rtc", "base=localtime"],
                 ["-rtc", "base=2006-06-17T16:01:21,clock=host"], ["-rtc", "base=2006-06-17"]):
        accepted(popek, rom, args)
    refused(popek, rom, ["-M", "q35"], "-machine: unsupported machine type 'q35'")
    refused(popek, rom, ["-machine", "pc,accel=kvm"], "unknown accelerator 'kvm'")
    refused(popek, rom, ["-machine", "pc,usb=on"], "unsupported property 'usb=on'")
    refused(popek, rom, ["-smp", "2"], "-smp: '2': popek emulates one CPU")
    refused(popek, rom, ["-smp", "cpus=4"], "-smp: 'cpus=4': popek emulates one CPU")
    refused(popek, rom, ["-smp", "1,cores=2"], "-smp: 'cores=2'")
    refused(popek, rom, ["-smp", "x"], "-smp: bad number 'x'")
    refused(popek, rom, ["-vga", "cirrus"], "-vga: unsupported card 'cirrus'")
    refused(popek, rom, ["-vga", "none", "-display", "sdl"], "-vga none leaves no display")
    refused(popek, rom, ["-k", "klingon"], "-k: unknown keyboard layout 'klingon'")
    refused(popek, rom, ["-rtc", "base=yesterday"], "-rtc: bad value 'base=yesterday'")

    # -vga none: no card to dump; the terminal is the console (-nographic).
    work = tempfile.mkdtemp()
    mon_path = os.path.join(work, "mon.sock")
    p = subprocess.Popen([popek, "-bios", rom, "-vga", "none", "-monitor",
                          f"unix:{mon_path},server,nowait"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        sock = socket.socket(socket.AF_UNIX)
        deadline = time.monotonic() + 20
        while True:
            try:
                sock.connect(mon_path)
                break
            except OSError:
                if time.monotonic() > deadline or p.poll() is not None:
                    raise
                time.sleep(0.1)
        sock.settimeout(20)

        def cmd(line):
            if line:
                sock.sendall(line.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"(popek) "):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
            return buf.decode()

        cmd("")
        out = cmd("screendump " + os.path.join(work, "s.png"))
        report("no display card" in out and not os.path.exists(os.path.join(work, "s.png")),
               "-vga none: screendump finds no display card", out)
        sock.close()
    finally:
        p.kill()
        p.wait()
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    if failures:
        print(f"{failures} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
