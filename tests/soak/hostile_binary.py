#!/usr/bin/env python3
"""Hostile code through the real popek binary (docs/security.md).

  hostile_binary.py POPEK [COUNT]

popek-soak runs its programs in-process; this runs hostile firmware in the
real binary, with its real main loop, monitor and exit path.  Each of COUNT
64 KiB ROMs (deterministic, seeded by its number) is random bytes with one
chunk in three overwritten by a snippet that reaches for the machine: OUT
and IN of every width to random ports (the 16-bit and DX forms), far jumps
and calls to random selectors, INT n, LIDT/LGDT of random tables, MOV to
CR0, WRMSR, STI;HLT, REP OUTSB/INSB.  The reset vector jumps to a random
place in the image.  Each ROM runs on the translator and the interpreter:
the monitor must answer `info registers` within MONITOR_S seconds, four
times over 2 s, and `quit` must end popek with status 0 and nothing on
stderr.  A guest may also power the machine off itself: then popek must
have exited by itself with status 0, not by a signal.
"""
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from monitor_client import Monitor, MonitorError  # noqa: E402

MONITOR_S = 3.0
ROM_SIZE = 0x10000


def snippet(r):
    kind = r.randrange(10)
    port = r.randrange(0x10000)
    if kind == 0:
        return bytes([0xba, port & 0xff, port >> 8, r.choice([0xee, 0xef, 0xec, 0xed])])
    if kind == 1:
        return bytes([0x66, 0xba, port & 0xff, port >> 8, 0x66, r.choice([0xef, 0xed])])
    if kind == 2:
        return bytes([r.choice([0xe6, 0xe7, 0xe4, 0xe5]), r.randrange(256)])
    if kind == 3:
        return bytes([r.choice([0xea, 0x9a])]) + r.randbytes(4)  # far jmp / call ptr16:16
    if kind == 4:
        return bytes([0xcd, r.randrange(256)])  # INT n
    if kind == 5:
        return bytes([0x0f, 0x01, r.choice([0x1e, 0x16])]) + r.randbytes(2)  # LIDT/LGDT [m16]
    if kind == 6:
        return bytes([0x66, 0xb8]) + r.randbytes(4) + bytes([0x0f, 0x22, 0xc0])  # MOV CR0
    if kind == 7:
        return bytes([0x66, 0xb9]) + r.randbytes(4) + bytes([0x0f, 0x30])  # WRMSR
    if kind == 8:
        return bytes([0xfb, 0xf4])  # STI; HLT
    return bytes([0xba, port & 0xff, port >> 8, 0xb9, 0x00, 0x10, 0xf3,
                  r.choice([0x6e, 0x6c])])  # REP OUTSB / INSB


def make_rom(index):
    r = random.Random(0x5eed0000 + index)
    rom = bytearray(r.randbytes(ROM_SIZE))
    for at in range(0, ROM_SIZE - 32, 16):
        if r.randrange(3) == 0:
            s = snippet(r)
            rom[at:at + len(s)] = s
    target = r.randrange(ROM_SIZE - 32)
    rom[0xfff0:0xfff5] = bytes([0xea, target & 0xff, target >> 8, 0x00, 0xf0])  # jmp f000:target
    return bytes(rom)


def run(popek, rom_path, accel, name):
    tmp = tempfile.mkdtemp(prefix="popek-hostile-")
    sock = os.path.join(tmp, "mon")
    proc = subprocess.Popen([popek, "-bios", rom_path, "-display", "none", "-serial", "null",
                             "-m", "32M", "--accel", accel,
                             "-monitor", f"unix:{sock},server,nowait"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    problem = None
    try:
        worst = 0.0
        try:
            mon = Monitor(sock, connect_timeout=20, io_timeout=30)
            for _ in range(4):
                out, took = mon.timed("info registers")
                worst = max(worst, took)
                if "EIP=" not in out:
                    problem = f"info registers answered {out!r}"
                    break
                time.sleep(0.5)
            if worst > MONITOR_S:
                problem = f"the monitor took {worst:.2f} s"
            if problem is None:
                mon.quit()
                status = proc.wait(timeout=30)
                err = proc.stderr.read().decode(errors="replace")
                if status != 0 or err.strip():
                    problem = f"quit: status {status}, stderr {err!r}"
                else:
                    print(f"ok: {name} on {accel}: monitor within {worst:.2f} s, quit status 0")
        except MonitorError as e:
            status = proc.poll()
            if status is None:
                problem = f"monitor: {e}"
            else:
                err = proc.stderr.read().decode(errors="replace")
                if status == 0 and not err.strip():
                    print(f"ok: {name} on {accel}: the guest powered off (status 0)")
                else:
                    problem = f"popek ended by itself: status {status}, stderr {err!r}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if os.path.exists(sock):
            os.unlink(sock)
        os.rmdir(tmp)
    if problem:
        print(f"FAIL: {name} on {accel}: {problem}")
        return False
    return True


def main():
    popek = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    failures = 0
    with tempfile.TemporaryDirectory(prefix="popek-roms-") as d:
        for i in range(count):
            path = os.path.join(d, f"hostile{i}.rom")
            with open(path, "wb") as f:
                f.write(make_rom(i))
            for accel in ("bt", "interp"):
                failures += not run(popek, path, accel, f"ROM {i}")
    if failures:
        print(f"{failures} run(s) failed")
        sys.exit(1)
    print(f"PASS: {count} hostile ROMs on both engines")


if __name__ == "__main__":
    main()
