#!/usr/bin/env python3
"""The Debian installer under an emulator, driven on its serial console.

    journey.py install --cache DIR --work DIR [--until-url TEXT] [--require-complete-mirror]
               -- EMULATOR [OPTIONS...]

Runs Debian 12's netboot installer (the kernel and initrd from the cache
that tests/guests/debian/mirror.sh built, with preseed.cfg appended to the
initrd) headless onto a fresh disk image, with the local mirror reached
through slirp's guestfwd rule under restrict=on: nothing leaves the host.
The emulator is popek (the default) or, for comparison, qemu-system-i386;
both get the same options.

Progress is shown on the terminal: the installer's steps as main-menu
starts them (from its syslog, streamed to the second serial port) and each
HTTP request the mirror serves.  A step that stops the installer (an
unanswered question, an error screen, a stall, an exit before power-off)
ends the run with the installer's last screen, the syslog's tail and the
name of the step; exit status 1.  --until-url TEXT ends the run with status
0 once the mirror has served a request whose path holds TEXT (the test of
the installer's network stops there).  --require-complete-mirror exits 77
(a skip) before starting when mirror.sh could not download every installer
component, since the installer would stop at 'Download installer components'.

Phase times (start to first step, to partitioning, package installation,
whole install) and the emulator's peak memory (from /usr/bin/time -v) are
printed at the end and written to WORK/times.txt.
"""
import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The installed system's disk: raw today; qcow2 is this one word.
DISK_FORMAT = "raw"
DISK_SIZE = 4 << 30
MIRROR_ADDR = "10.0.2.100"
PASSWORD = "popek"
STALL_SECONDS = int(os.environ.get("POPEK_INSTALL_STALL", "1800"))

# The installer's questions in the text frontend end with this prompt; with
# every answer preseeded, any question is a step that failed.
QUESTION = re.compile(rb"Prompt: '\?' for help|\[!!?\] |\[Press enter to continue\]")
MENU_ITEM = re.compile(r"main-menu\[\d+\]: INFO: Menu item '([^']+)' selected")


def log(msg):
    print("journey: " + msg, flush=True)


# Sourced by the installer's startup right after its syslogd starts
# (S10syslog): the syslog streams to the second serial port as it is
# written, so a failed step shows it even when the installer cannot save it.
SYSLOG_STARTUP = "(tail -n +1 -f /var/log/syslog >/dev/ttyS1 2>/dev/null &)\n"


def build_initrd(cache, work, key_pub):
    """The netboot initrd with /preseed.cfg (key and password filled in)
    and the syslog streamer."""
    with open(os.path.join(HERE, "preseed.cfg")) as f:
        preseed = f.read().replace("@KEY@", key_pub.strip()).replace("@PASSWORD@", PASSWORD)
    pre = os.path.join(work, "preseed")
    startup = os.path.join(pre, "lib", "debian-installer-startup.d")
    os.makedirs(startup, exist_ok=True)
    with open(os.path.join(pre, "preseed.cfg"), "w") as f:
        f.write(preseed)
    with open(os.path.join(startup, "S11popek-syslog"), "w") as f:
        f.write(SYSLOG_STARTUP)
    files = "preseed.cfg\nlib/debian-installer-startup.d/S11popek-syslog\n"
    cpio = subprocess.run("cpio -o -H newc --quiet | gzip -9n", shell=True, input=files.encode(),
                          cwd=pre, check=True, stdout=subprocess.PIPE).stdout
    initrd = os.path.join(work, "initrd.gz")
    with open(initrd, "wb") as out:
        with open(os.path.join(cache, "netboot", "initrd.gz"), "rb") as base:
            shutil.copyfileobj(base, out)
        out.write(cpio)  # Linux unpacks concatenated initramfs archives in turn
    return initrd


def ssh_key(work):
    key = os.path.join(work, "id_ed25519")
    if not os.path.exists(key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "popek-install",
                        "-f", key], check=True)
    with open(key + ".pub") as f:
        return f.read()


def netdev_user(cache, work, extra=""):
    """slirp, restricted, with the mirror at MIRROR_ADDR:80 served per
    connection by http_stdio.py (no listening socket on the host)."""
    # The preseed's mirror directory is /debian: the server's root is the
    # cache that holds debian/.
    server = "python3 %s %s %s" % (os.path.join(HERE, "http_stdio.py"), cache,
                                   os.path.join(work, "http.log"))
    return "user,id=n0,restrict=on,guestfwd=tcp:%s:80-cmd:%s%s" % (MIRROR_ADDR, server, extra)


class Console:
    """The emulator's serial console on a pipe, kept as a byte log."""

    def __init__(self, argv, transcript):
        self.out = open(transcript, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.buf = b""
        self.last_output = time.time()

    def poll(self, seconds):
        """Read what arrives within `seconds`; False once the emulator ended."""
        ready, _, _ = select.select([self.proc.stdout], [], [], seconds)
        if ready:
            data = os.read(self.proc.stdout.fileno(), 65536)
            if not data:
                self.proc.wait()
                return False
            self.buf += data
            self.out.write(data)
            self.out.flush()
            self.last_output = time.time()
        return self.proc.poll() is None or bool(ready)

    def tail(self, n=40):
        text = self.buf.decode("utf-8", "replace")
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
        return "\n".join(text.splitlines()[-n:])

    def children(self):
        """The emulator's pid under /usr/bin/time (none when run directly)."""
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def peak_rss_kib(self):
        """The emulator's peak resident memory so far (VmHWM), read from
        /proc: /usr/bin/time reports nothing when the run is cut short."""
        peak = None
        for pid in [self.proc.pid] + self.children():
            try:
                with open("/proc/%d/status" % pid) as f:
                    m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
                if m:
                    peak = max(peak or 0, int(m.group(1)))
            except OSError:
                pass
        return peak

    def stop(self):
        # The emulator first: /usr/bin/time does not pass SIGTERM on.
        for pid in self.children():
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def peak_rss_kib(time_file):
    try:
        with open(time_file) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
        return int(m.group(1)) if m else None
    except OSError:
        return None


def lines_served(work):
    try:
        with open(os.path.join(work, "http.log")) as f:
            return f.read().splitlines()
    except OSError:
        return []


def missing_udebs(cache):
    """The installer components mirror.sh could not download."""
    try:
        with open(os.path.join(cache, "apt", "udeb.log")) as f:
            return sorted(set(re.findall(r"^E: Failed to fetch \S*/([^/\s]+\.udeb)", f.read(), re.M)))
    except OSError:
        return []


def install(args):
    work = os.path.abspath(args.work)
    cache = os.path.abspath(args.cache)
    missing = missing_udebs(cache)
    if args.require_complete_mirror and missing:
        log("SKIP: the host's Debian sources refused %d of the installer's components "
            "(e.g. %s; see %s/apt/udeb.log): the installer would stop at "
            "'Download installer components'" % (len(missing), ", ".join(missing[:3]), cache))
        return 77
    os.makedirs(work, exist_ok=True)
    for name in ("linux", "initrd.gz"):
        if not os.path.exists(os.path.join(cache, "netboot", name)):
            log("no installer in %s: run tests/guests/debian/mirror.sh %s" % (cache, cache))
            return 1
    initrd = build_initrd(cache, work, ssh_key(work))
    disk = os.path.join(work, "disk." + DISK_FORMAT)
    with open(disk, "wb") as f:  # a fresh, sparse disk
        f.truncate(DISK_SIZE)
    syslog = os.path.join(work, "installer-syslog.txt")
    open(syslog, "w").close()
    for old in ("http.log",):
        if os.path.exists(os.path.join(work, old)):
            os.unlink(os.path.join(work, old))
    time_file = os.path.join(work, "time-v.txt")
    argv = ["/usr/bin/time", "-v", "-o", time_file] if os.path.exists("/usr/bin/time") else []
    argv += args.emulator + [
        "-m", "512M", "-nographic", "-no-reboot",
        "-serial", "mon:stdio", "-serial", "file:" + syslog,
        "-monitor", "unix:%s,server,nowait" % os.path.join(work, "monitor.sock"),
        "-kernel", os.path.join(cache, "netboot", "linux"), "-initrd", initrd,
        "-append", "auto=true priority=critical console=ttyS0 DEBIAN_FRONTEND=text"
                   " --- console=ttyS0",
        "-drive", "file=%s,format=%s,if=ide" % (disk, DISK_FORMAT),
        "-netdev", netdev_user(cache, work), "-device", "e1000,netdev=n0",
    ]
    log("installer: %s ... (transcript in %s/console.txt, monitor on %s/monitor.sock)"
        % (" ".join(args.emulator), work, work))
    start = time.time()
    marks = {}
    steps = []
    syslog_pos = 0
    http_seen = 0
    console = Console(argv, os.path.join(work, "console.txt"))
    failure = None
    try:
        while True:
            alive = console.poll(1.0)
            with open(syslog, "rb") as f:
                f.seek(syslog_pos)
                new = f.read()
            new = new[:new.rfind(b"\n") + 1]  # whole lines only; the rest comes next time
            syslog_pos += len(new)
            for item in MENU_ITEM.findall(new.decode("utf-8", "replace")):
                steps.append(item)
                marks.setdefault(item, time.time() - start)
                log("%6.0f s  step %s" % (time.time() - start, item))
            lines = lines_served(work)
            if lines:
                for line in lines[http_seen:]:
                    if args.verbose or " 404 " in line or "dists/" in line:
                        log("%6.0f s  mirror %s" % (time.time() - start, line))
                http_seen = len(lines)
            if args.until_url and any(args.until_url in line and '" 200 ' in line
                                      for line in lines_served(work)):
                log("the mirror served %s after %.0f s" % (args.until_url, time.time() - start))
                break
            if QUESTION.search(console.buf[-4096:]):
                failure = "the installer asked a question the preseed does not answer"
                break
            if not alive:
                if b"Power down" in console.buf or b"reboot: Power down" in console.buf:
                    break
                failure = "the emulator exited (status %s) before the installer powered off" \
                    % console.proc.returncode
                break
            if time.time() - console.last_output > STALL_SECONDS and \
                    time.time() - os.path.getmtime(syslog) > STALL_SECONDS:
                failure = "no output from the installer for %d s" % STALL_SECONDS
                break
    finally:
        peak = console.peak_rss_kib()
        console.stop()
    total = time.time() - start
    if peak:
        log("peak host memory of the emulator so far: %d MiB" % (peak // 1024))
    step = steps[-1] if steps else "(before main-menu's first step)"
    if failure:
        log("FAILED at step %s: %s" % (step, failure))
        log("the installer's last screen:\n" + console.tail(30))
        with open(syslog, "rb") as f:
            tail = f.read().decode("utf-8", "replace").splitlines()[-40:]
        log("the installer's syslog (last lines):\n" + "\n".join(tail))
        return 1
    times = [("start to first step", marks.get(steps[0]) if steps else None),
             ("start to partitioning", marks.get("partman-base")),
             ("package installation (bootstrap-base to grub-installer)",
              marks.get("grub-installer", total) - marks["bootstrap-base"]
              if "bootstrap-base" in marks else None),
             ("whole run", total)]
    rss = peak_rss_kib(time_file)
    with open(os.path.join(work, "times.txt"), "w") as f:
        for what, secs in times:
            line = "%s: %s" % (what, "%.0f s" % secs if secs is not None else "not reached")
            f.write(line + "\n")
            log(line)
        if rss:
            f.write("peak host memory: %d MiB\n" % (rss // 1024))
            log("peak host memory: %d MiB" % (rss // 1024))
    # The installed disk and its ssh key stay in the cache for the boot
    # tests (installed.py), which prefer it to bootstrap_disk.sh's.
    keydir = os.path.join(cache, "installed-key")
    os.makedirs(keydir, exist_ok=True)
    for name in ("id_ed25519", "id_ed25519.pub"):
        shutil.copyfile(os.path.join(work, name), os.path.join(keydir, name))
    os.chmod(os.path.join(keydir, "id_ed25519"), 0o600)
    shutil.move(disk, os.path.join(cache, "installed." + DISK_FORMAT))
    log("the installed disk: %s" % os.path.join(cache, "installed." + DISK_FORMAT))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("phase", choices=["install"])
    p.add_argument("--cache", required=True, help="mirror.sh's directory")
    p.add_argument("--work", required=True, help="where the disk, transcript and logs go")
    p.add_argument("--until-url", help="stop with success once the mirror served a path with this")
    p.add_argument("--require-complete-mirror", action="store_true",
                   help="skip (77) when the mirror lacks installer components")
    p.add_argument("--verbose", action="store_true", help="show every mirror request")
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        p.error("no emulator given (after --)")
    cut = argv.index("--")
    args = p.parse_args(argv[:cut])
    args.emulator = argv[cut + 1:]
    return install(args)


if __name__ == "__main__":
    sys.exit(main())
