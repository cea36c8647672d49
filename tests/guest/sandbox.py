#!/usr/bin/env python3
"""-sandbox through the real binary, with a ROM guest (the Linux guest's
networking under the sandbox is guest.net.user.e1000.sandbox.*).

  sandbox.py POPEK IDLE_ROM

- Bad -sandbox arguments get one line and status 1.
- A forbidden call after start-up (POPEK_SANDBOX_SELFTEST makes one once
  the filter is in) ends popek with status 1 and a line naming the call:
  execve, and socket (a unix socket, even with user networking).
- A sandboxed popek keeps serving everything it opened at start: the
  monitor on a unix socket, QMP on TCP, the gdb stub; a monitor command
  that would write a new file (screendump) fails with an error and the VM
  runs on; quit ends it with status 0.

Skipped (77) in the sanitizer build: ASan and LeakSanitizer make calls of
their own (LeakSanitizer stops the process with ptrace at exit), which the
filter would rightly trap.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def check(cond, what, detail=""):
    if not cond:
        print(f"FAIL: {what}\n{detail}")
        sys.exit(1)
    print(f"ok: {what}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect_retry(make, deadline_s=20):
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return make()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def read_until(sock, marker):
    buf = b""
    while marker not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace")


def main():
    if os.environ.get("POPEK_SANITIZED"):
        print("SKIP: the sanitizers' own system calls are not in the sandbox's list")
        sys.exit(77)
    popek, rom = sys.argv[1], sys.argv[2]
    base = [popek, "-bios", rom, "-display", "none", "-serial", "null"]

    for arg, want in (("bogus", "neither on nor off"), ("on,spawn=allow", "cannot allow spawn"),
                      ("on,colour=blue", "unknown parameter"), ("spawn=deny", "say on or off")):
        r = subprocess.run(base + ["-sandbox", arg], capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and want in r.stderr,
              f"-sandbox {arg}: one line, status 1", r.stderr)
    r = subprocess.run(base + ["-sandbox", "on", "-textdump", "/tmp/never"], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 1 and "-textdump" in r.stderr, "-textdump is refused under -sandbox on",
          r.stderr)

    for call, net in (("execve", []), ("socket", ["-nic", "none"]), ("socket", [])):
        env = dict(os.environ, POPEK_SANDBOX_SELFTEST=call)
        r = subprocess.run(base + net + ["-sandbox", "on"], capture_output=True, text=True,
                           timeout=60, env=env)
        check(r.returncode == 1 and
              re.search(rf"^popek: -sandbox: forbidden system call {call}\b", r.stderr, re.M),
              f"a forbidden {call}{' (user networking on)' if not net else ''} ends popek "
              "with status 1, naming it", f"status {r.returncode}: {r.stderr}")

    # A sandboxed VM serving its monitor, QMP and gdb.
    tmp = tempfile.mkdtemp(prefix="popek-sandbox-")
    mon_path = os.path.join(tmp, "mon")
    qmp_port, gdb_port = free_port(), free_port()
    proc = subprocess.Popen(base + ["-monitor", f"unix:{mon_path},server,nowait",
                                    "-qmp", f"tcp::{qmp_port},server,nowait",
                                    "-gdb", f"tcp::{gdb_port}", "-sandbox", "on"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def unix():
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(mon_path)
            except OSError:
                s.close()
                raise
            return s
        mon = connect_retry(unix)
        mon.settimeout(20)
        read_until(mon, b"(popek) ")
        mon.sendall(b"info status\n")
        out = read_until(mon, b"(popek) ")
        check("VM status: running" in out, "the monitor answers under the sandbox", out)
        shot = os.path.join(tmp, "shot.png")
        mon.sendall(f"screendump {shot}\n".encode())
        out = read_until(mon, b"(popek) ")
        check(not os.path.exists(shot) and "ermission denied" in out,
              "screendump (a new file) is refused with an error", out)
        mon.sendall(b"info status\n")
        out = read_until(mon, b"(popek) ")
        check("VM status: running" in out, "... and the VM runs on", out)

        q = connect_retry(lambda: socket.create_connection(("127.0.0.1", qmp_port), timeout=20))
        f = q.makefile("rwb")
        json.loads(f.readline())
        for cmd in ("qmp_capabilities", "query-status"):
            f.write(json.dumps({"execute": cmd}).encode() + b"\n")
            f.flush()
            reply = json.loads(f.readline())
        check(reply.get("return", {}).get("status") == "running", "QMP answers", str(reply))

        g = connect_retry(lambda: socket.create_connection(("127.0.0.1", gdb_port), timeout=20))
        g.sendall(b"$?#3f")
        data = b""
        while b"#" not in data.lstrip(b"+"):
            chunk = g.recv(256)
            if not chunk:
                break
            data += chunk
        check(re.search(rb"\$[ST][0-9a-f]{2}", data), "the gdb stub answers", repr(data))
        g.close()
        mon.sendall(b"quit\n")
        status = proc.wait(timeout=30)
        err = proc.stderr.read().decode()
        check(status == 0 and "forbidden" not in err, "quit ends popek with status 0",
              f"status {status}: {err}")
    finally:
        if proc.poll() is None:
            proc.kill()
    print("PASS")


if __name__ == "__main__":
    main()
