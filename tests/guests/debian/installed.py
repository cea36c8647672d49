#!/usr/bin/env python3
"""The installed Debian system, booted from its disk through SeaBIOS and
GRUB (no -kernel), used as a person would on the serial console:

    installed.py ssh|ftp [--cache DIR] [--work DIR] -- EMULATOR [OPTIONS...]

The disk is the cache's (default $POPEK_DEBIAN_CACHE, else
~/.cache/popek/debian): the installer's (installed.qcow2 or installed.raw,
kept by journey.py, with its key installed-key/id_ed25519) when there is one, else
the one bootstrap_disk.sh built from the same mirror (bootstrap.raw, key
bootstrap-key/id_ed25519).

ssh: one VM (-snapshot: the image is not changed) reaches `login:` on the
serial console; `user` logs in with the preseed's password, `sudo` runs as
root, `ip addr` shows slirp's DHCP address 10.0.2.15, and `ssh -p PORT
user@127.0.0.1` from the host, through hostfwd=tcp:127.0.0.1:PORT-:22
under restrict=on, runs a command in the guest.
ftp: two clones of the disk (-snapshot each) on a -netdev socket link
(listen/connect on the host's loopback); after login each gets a static
address on its second card, vsftpd (started by the installed system) on VM
A serves a file of random bytes and VM B's ftp client fetches it; the
SHA-256 sums match.

Each step prints its wall time from the emulator's start; a failed step
prints the console's tail and exits 1.  The disk missing is a skip (77).
"""
import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

USER, PASSWORD = "user", "popek"
PROMPT = "__popek_prompt__$ "


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ALL = []  # every VM started, for _read


class Failed(Exception):
    pass


class VM:
    """One emulator with its serial console on a pipe."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.start = time.time()
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.buf = b""
        self.seen = 0
        self.eof = False
        self.argv0 = argv[0]
        ALL.append(self)

    def elapsed(self):
        return time.time() - self.start

    def text(self):
        t = self.buf.decode("utf-8", "replace")
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", t).replace("\r", "")

    def expect(self, pattern, timeout):
        """Wait for pattern in the console text after the last match;
        returns (text before it, the match)."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            text = self.text()
            m = rx.search(text, self.seen)
            if m:
                before = text[self.seen:m.start()]
                self.seen = m.end()
                return before, m
            left = deadline - time.time()
            if left <= 0:
                raise Failed("%s: no %r within %d s" % (self.name, pattern, timeout))
            if self.proc.poll() is not None and not self._read(0):
                raise Failed("%s: the emulator exited (status %s)" % (self.name, self.proc.returncode))
            self._read(min(left, 1.0))

    def _read(self, seconds):
        """Read what any running VM printed within `seconds` (every console
        is drained, so that a VM not waited on never blocks on its pipe);
        True when this one printed something."""
        vms = [v for v in ALL if not v.log.closed and not v.eof]
        ready, _, _ = select.select([v.proc.stdout for v in vms], [], [], seconds)
        mine = False
        for v in vms:
            if v.proc.stdout in ready:
                data = os.read(v.proc.stdout.fileno(), 65536)
                v.eof = not data
                if data:
                    v.buf += data
                    v.log.write(data)
                    v.log.flush()
                    mine = mine or v is self
        return mine

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def login(self, timeout):
        self.expect(r"login: $|login: ", timeout)
        t_login = self.elapsed()
        self.send(USER)
        self.expect(r"Password: ", 120)
        self.send(PASSWORD)
        self.expect(r"\$ ", 300)
        # A prompt of our own, and no kernel messages in the way.
        self.send("PS1='%s'; stty -echo" % PROMPT.replace("$", "\\$"))
        self.expect(re.escape(PROMPT), 120)
        return t_login

    def run(self, cmd, timeout=300):
        """Run cmd in the shell; (output, status)."""
        self.send("%s; echo __rc=$?__" % cmd)
        out, m = self.expect(r"__rc=(\d+)__", timeout)
        self.expect(re.escape(PROMPT), 60)
        return out, int(m.group(1))

    def peak_rss_mib(self):
        """The emulator's peak resident memory so far (VmHWM)."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
            return int(m.group(1)) / 1024 if m else None
        except OSError:
            return None

    def record_peak(self):
        peak = self.peak_rss_mib()
        if peak and not any(w.startswith("peak memory, %s " % self.name) for w, _ in FIGURES):
            FIGURES.append(("peak memory, %s (%s), MiB" % (self.name, os.path.basename(self.argv0)),
                            peak))
            print("installed: peak host memory of %s: %.0f MiB" % (self.name, peak), flush=True)

    def stop(self):
        self.record_peak()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=30):
        return "\n".join(self.text().splitlines()[-n:])


def base_argv(args):
    return args.emulator + ["-m", "512M", "-nographic", "-serial", "mon:stdio",
                            "-drive", "file=%s,format=%s,if=ide" % (args.disk, args.format),
                            "-snapshot"]


FIGURES = []  # (what, seconds), written to WORK/times.txt


def figure(what, secs):
    FIGURES.append((what, secs))
    print("installed: %s: %.0f s" % (what, secs), flush=True)


def step(vm, what):
    print("installed: %6.0f s  %s: %s" % (vm.elapsed(), vm.name, what), flush=True)


def check(vm, ok, what, detail=""):
    if not ok:
        raise Failed("%s: %s%s" % (vm.name, what, (": " + detail.strip()) if detail else ""))
    step(vm, what)


def test_ssh(args, work):
    port = free_port()
    vm = VM("vm", base_argv(args) + [
        "-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22" % port,
        "-device", "e1000,netdev=n0"], os.path.join(work, "console-ssh.txt"))
    vms = [vm]
    try:
        vm.expect(r"Booting from Hard Disk", args.timeout)
        step(vm, "SeaBIOS boots the disk")
        vm.expect(r"GNU GRUB", args.timeout)
        step(vm, "GRUB's menu")
        vm.expect(r"Linux version 6", args.timeout)
        step(vm, "the kernel from the disk starts")
        t_login = vm.login(args.timeout)
        figure("first boot to login (%s)" % os.path.basename(args.emulator[0]), t_login)
        out, rc = vm.run("id -un")
        check(vm, rc == 0 and USER in out, "%s logged in" % USER, out)
        out, rc = vm.run("echo %s | sudo -S -p '' id -u" % PASSWORD)
        check(vm, rc == 0 and re.search(r"^0$", out, re.M), "sudo runs as root", out)
        # DHCP on eth0 may still be in progress right after login.
        for _ in range(60):
            out, rc = vm.run("ip -4 addr show dev eth0")
            if "10.0.2.15" in out:
                break
            time.sleep(2)
        check(vm, "inet 10.0.2.15/" in out, "ip addr shows 10.0.2.15", out)
        # sshd may start after the login prompt: retry for a while.
        t0 = time.time()
        ssh = ["ssh", "-i", args.key, "-p", str(port), "-o", "StrictHostKeyChecking=no",
               "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
               "-o", "ConnectTimeout=60", "-o", "LogLevel=ERROR",
               "%s@127.0.0.1" % USER, "echo ssh-ok $(hostname) $(id -un)"]
        res = None
        while time.time() - t0 < args.timeout:
            ts = time.time()
            res = subprocess.run(ssh, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 timeout=600)
            if res.returncode == 0:
                break
            time.sleep(5)
        check(vm, res and res.returncode == 0 and "ssh-ok debian %s" % USER in res.stdout,
              "ssh -p %d user@127.0.0.1 runs a command (%.0f s for that login)"
              % (port, time.time() - ts), (res.stdout + res.stderr) if res else "")
        figure("ssh login and command (%s)" % os.path.basename(args.emulator[0]), time.time() - ts)
        vm.record_peak()
        vm.send("echo %s | sudo -S -p '' systemctl poweroff" % PASSWORD)
        return 0
    finally:
        for v in vms:
            v.stop()


def test_ftp(args, work):
    port = free_port()
    a = VM("A", base_argv(args) + [
        "-netdev", "socket,id=s0,listen=127.0.0.1:%d" % port,
        "-device", "e1000,netdev=s0,mac=52:54:00:12:34:61"], os.path.join(work, "console-a.txt"))
    time.sleep(1)  # B connects to A's listening socket
    b = VM("B", base_argv(args) + [
        "-netdev", "socket,id=s0,connect=127.0.0.1:%d" % port,
        "-device", "e1000,netdev=s0,mac=52:54:00:12:34:62"], os.path.join(work, "console-b.txt"))
    try:
        for vm, addr in ((a, "192.168.76.1"), (b, "192.168.76.2")):
            figure("clone %s boot to login (%s)" % (vm.name, os.path.basename(args.emulator[0])),
                   vm.login(args.timeout))
            step(vm, "logged in")
            out, rc = vm.run("echo %s | sudo -S -p '' sh -c 'ip addr flush dev eth0; "
                             "ip addr add %s/24 dev eth0 && ip link set eth0 up'" % (PASSWORD, addr))
            check(vm, rc == 0, "static address %s on eth0" % addr, out)
        out, rc = a.run("head -c 1048576 /dev/urandom >/home/%s/file && sha256sum /home/%s/file"
                        " && pidof vsftpd" % (USER, USER))
        m = re.search(r"^([0-9a-f]{64}) ", out, re.M)
        check(a, rc == 0 and m is not None, "1 MiB file written, vsftpd running", out)
        for _ in range(30):
            out, rc = b.run("ping -c 1 -W 2 192.168.76.1 >/dev/null")
            if rc == 0:
                break
        check(b, rc == 0, "B reaches A over the socket link")
        t0 = time.time()
        out, rc = b.run("printf 'user %s %s\\nbinary\\nget file /tmp/file\\nquit\\n' | "
                        "ftp -inv 192.168.76.1 && sha256sum /tmp/file" % (USER, PASSWORD),
                        timeout=args.timeout)
        check(b, rc == 0 and m.group(1) in out,
              "ftp from A, checksums match (%.0f s)" % (time.time() - t0), out)
        figure("ftp of 1 MiB with login (%s)" % os.path.basename(args.emulator[0]), time.time() - t0)
        return 0
    finally:
        a.stop()
        b.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["ssh", "ftp"])
    p.add_argument("--cache", default=os.environ.get("POPEK_DEBIAN_CACHE",
                                                      os.path.expanduser("~/.cache/popek/debian")))
    p.add_argument("--work", default=".", help="where the console transcripts go")
    p.add_argument("--timeout", type=int, default=int(os.environ.get("POPEK_INSTALLED_TIMEOUT", "1200")),
                   help="seconds for each long step (boot to login, ssh)")
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        p.error("no emulator given (after --)")
    cut = argv.index("--")
    args = p.parse_args(argv[:cut])
    args.emulator = argv[cut + 1:]
    for disk, fmt, key in (("installed.qcow2", "qcow2", "installed-key/id_ed25519"),
                           ("installed.raw", "raw", "installed-key/id_ed25519"),
                           ("bootstrap.raw", "raw", "bootstrap-key/id_ed25519")):
        if os.path.exists(os.path.join(args.cache, disk)):
            args.disk, args.format = os.path.join(args.cache, disk), fmt
            args.key = os.path.join(args.cache, key)
            break
    else:
        print("installed: SKIP: no installed disk in %s (scripts/install-debian.sh or "
              "tests/guests/debian/bootstrap_disk.sh makes one)" % args.cache)
        return 77
    print("installed: the disk %s" % args.disk, flush=True)
    if args.mode == "ssh" and not os.path.exists(args.key):
        print("installed: no ssh key %s for %s" % (args.key, args.disk), file=sys.stderr)
        return 1
    os.makedirs(args.work, exist_ok=True)
    # A SIGTERM (ctest's timeout, a kill) stops the VMs too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        rc = {"ssh": test_ssh, "ftp": test_ftp}[args.mode](args, args.work)
        with open(os.path.join(args.work, "times.txt"), "w") as f:
            for what, secs in FIGURES:
                f.write("%s: %.0f%s\n" % (what, secs, "" if "MiB" in what else " s"))
        return rc
    except Failed as e:
        print("installed: FAILED: %s" % e, flush=True)
        for name in ("console-ssh.txt", "console-a.txt", "console-b.txt"):
            path = os.path.join(args.work, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
                print("--- %s (last lines)\n%s" % (name, "\n".join(lines[-25:])))
        return 1


if __name__ == "__main__":
    sys.exit(main())
