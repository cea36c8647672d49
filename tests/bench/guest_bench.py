#!/usr/bin/env python3
"""Guest workloads inside popek and QEMU, against native (a benchmark: prints, never fails on a number).

  tests/bench/guest_bench.py POPEK GUESTDIR [--qemu PATH | --no-qemu] [--scale F] [--reps N]
                             [--keep DIR] [--engine-args "ARGS"] [--workloads a,b,...]
                             [--programs | --no-programs] [--baseline auto|i386|x86-64]
                             [--arch i386|x86_64]

Compiles tests/bench/guest/workloads.c as a static i386 program, runs it on
the host (the native baseline), then inside the Linux guest (GUESTDIR from tests/guests/build-guest.sh,
with the program added at /bin/popek-workloads) under popek and under
qemu-system-i386 -accel tcg, one emulator at a time.  Each workload times
itself with the guest's CLOCK_MONOTONIC, which follows the host clock in both
emulators (popek without -icount), so the guest's seconds divide by the native
ones.  The minimum of --reps runs counts.  Exits non-zero only when something
did not run at all (no compiler, an emulator crashed, unparsable output).

A host whose kernel cannot run i386 programs (no IA32 emulation) gets the
same source built for x86-64 as its baseline, with x87 maths kept
(-mfpmath=387); the table says which baseline it used.  That binary's
checksums may differ where the work depends on the word size, so the guest
runs are then checked against each other rather than against native.

The bb-* workloads are real programs: busybox's tools run by the workloads
binary.  In the guest that is the guest's /bin/busybox; natively it is the
same i386 busybox, unpacked from the .deb the guest was built from (so the
ratio compares one binary), or on a host without IA32 emulation Debian's
x86-64 busybox of the same version (approximate, and the table says so).

--arch x86_64 runs the amd64 guest (tests/guests/build-guest64.sh) instead:
the workloads are built once for x86-64 (x87 maths kept), and that one
binary runs natively and in the guest, as does the guest's amd64 busybox,
so every ratio is exact; popek runs on -cpu qemu64, the peer is
qemu-system-x86_64 -accel tcg (its default CPU is qemu64 too).
"""
import argparse
import glob
import math
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "guest", "linux"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from initramfs import EXEC_MODE, extend_initramfs  # noqa: E402
from linux_guest import MARKER, Guest  # noqa: E402

WORKLOADS_SRC = os.path.join(HERE, "guest", "workloads.c")
GUEST_BINARY = "/bin/popek-workloads"
CFLAGS = ["-m32", "-static", "-O2", "-fno-pie", "-no-pie", "-mfpmath=387", "-mno-sse"]
# The x86-64 baseline: the same code generation choices where the ABI allows
# (SSE stays enabled for the calling convention; floating point is x87).
CFLAGS_X86_64 = ["-m64", "-static", "-O2", "-fno-pie", "-no-pie", "-mfpmath=387"]
CPU_BOUND = ("integer", "memory", "branches", "calls")  # the first geometric mean's rows
# User-mode computation, no system calls in the timed part: the second mean's rows.
COMPUTE = CPU_BOUND + ("x87", "interp", "qsort", "recursion", "chase", "nbody", "mandel")
PROGRAM_PREFIX = "bb-"  # real programs (busybox's tools): the third mean's rows
RAM_MIB = 256
RUN_TIMEOUT = 1800  # default seconds for one workload in a guest: the interpreter is slow
LINE_RX = re.compile(r"^WORKLOAD (\S+) ([0-9.]+) ([0-9a-f]{8})\s*$", re.M)


class BenchError(Exception):
    """Something did not run at all: the benchmark's only failure."""


def compile_workloads(workdir, flags=CFLAGS, name="popek-workloads"):
    binary = os.path.join(workdir, name)
    try:
        r = subprocess.run(["gcc"] + flags + ["-o", binary, WORKLOADS_SRC, "-lm"],
                           capture_output=True, text=True)
    except FileNotFoundError:
        raise BenchError("gcc not found")
    if r.returncode != 0:
        hint = ""
        if "bits/" in r.stderr or "crt1.o" in r.stderr or "-lgcc" in r.stderr or "libc" in r.stderr:
            hint = "\n(32-bit build support missing? apt-get install gcc-multilib libc6-dev-i386)"
        raise BenchError(f"compiling {WORKLOADS_SRC} failed:\n{r.stderr}{hint}")
    return binary


def arch_workloads(arch, workdir, engine_args=""):
    """The workloads binary for a guest of arch (i386, x86_64) and popek's
    arguments for that guest: the tools run by hand (guest_census.py,
    guest_profile.py) take the benchmark's choices from here."""
    if arch == "x86_64":
        binary = compile_workloads(workdir, CFLAGS_X86_64, "popek-workloads-x86-64")
        return binary, ("-cpu qemu64 " + engine_args).strip()
    return compile_workloads(workdir), engine_args


def runs_here(binary):
    """The workload names if binary runs on this host, else None (ENOEXEC:
    a kernel without IA32 emulation)."""
    try:
        r = subprocess.run([binary, "--list"], capture_output=True, text=True)
    except OSError:
        return None
    return r.stdout.split() if r.returncode == 0 else None


def debs_dir():
    """Where setup.sh downloads the guest's .debs (tests/guests/guest-debs.sh)."""
    return os.environ.get("POPEK_DEBS") or os.path.join(HERE, "..", "..", ".cache", "debs")


def native_busybox(workdir, arch):
    """(path, None) to a busybox-static of arch (i386, amd64) unpacked from
    its cached .deb into workdir and able to run here, or (None, why not)."""
    debs = sorted(glob.glob(os.path.join(debs_dir(), f"busybox-static_*_{arch}.deb")))
    if not debs:
        return None, f"no busybox-static_*_{arch}.deb in {debs_dir()} (run scripts/setup.sh)"
    dest = os.path.join(workdir, f"busybox-{arch}")
    try:
        r = subprocess.run(["dpkg-deb", "-x", debs[-1], dest], capture_output=True, text=True)
    except FileNotFoundError:
        return None, "dpkg-deb not found"
    path = os.path.join(dest, "bin", "busybox")
    if r.returncode != 0 or not os.path.isfile(path):
        return None, f"dpkg-deb -x {debs[-1]} failed: {r.stderr.strip()}"
    try:
        ok = subprocess.run([path, "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    if not ok:
        return None, f"{path} does not run on this host"
    return path, None


def native_baseline(args, workdir, guest_binary):
    """(binary, description, checksums comparable with the guest's) for the native runs."""
    if args.baseline in ("auto", "i386") and runs_here(guest_binary):
        return guest_binary, "i386 (the guest's binary)", True
    if args.baseline == "i386":
        raise BenchError(f"{guest_binary} does not run on this host (no IA32 emulation?)")
    why = "forced" if args.baseline == "x86-64" else "this host cannot run i386 programs"
    binary = compile_workloads(workdir, CFLAGS_X86_64, "popek-workloads-x86-64")
    if not runs_here(binary):
        raise BenchError(f"{binary} does not run on this host")
    return binary, f"x86-64 build of the same source, x87 maths ({why})", False


def bench_initramfs(guestdir, binary, workdir):
    """The guest's initramfs with a second gzip'd cpio after it: the kernel
    unpacks concatenated archives in order, so /bin gains one file."""
    with open(binary, "rb") as f:
        data = f.read()
    return extend_initramfs(os.path.join(guestdir, "initramfs.cpio.gz"),
                            os.path.join(workdir, "initramfs-bench.cpio.gz"),
                            [("bin/popek-workloads", EXEC_MODE, data)])


class Result:
    """One engine's results: best time and checksums per workload."""

    def __init__(self, label):
        self.label = label
        self.best = {}        # name -> fastest seconds
        self.checksums = {}   # name -> set of checksums seen
        self.errors = {}      # name -> why it has no time
        self.boot = None      # seconds from start to MARKER
        self.peak_beyond_ram = None  # KiB of Pss outside the guest RAM mapping
        self.ram_mapping = None  # KiB: the mapping taken for guest RAM (0: none)
        self.vmhwm = None     # KiB
        self.jit = None       # `info jit` lines, or None
        self.failed = None    # the engine as a whole did not run
        self.fast_clock = []  # workloads that timed more seconds than the host saw pass

    def add(self, text, wanted):
        found = {m.group(1): m for m in LINE_RX.finditer(text)}
        if wanted not in found:
            self.errors[wanted] = "no WORKLOAD line: " + text.strip()[-300:]
            return None
        sec, checksum = float(found[wanted].group(2)), found[wanted].group(3)
        self.best[wanted] = min(sec, self.best.get(wanted, sec))
        self.checksums.setdefault(wanted, set()).add(checksum)
        return sec


def one_cpu():
    """Pin a native run to one host CPU: the guests have one CPU, and a pipe
    ping-pong spread over two host CPUs measures cross-CPU wakeups instead."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})


def run_native(binary, names, scale, reps, busybox=None):
    res = Result("native")
    extra = ["--busybox", busybox] if busybox else []
    for _ in range(reps):
        for name in names:
            r = subprocess.run([binary, "--scale", str(scale)] + extra + [name], capture_output=True,
                               text=True, timeout=RUN_TIMEOUT, preexec_fn=one_cpu)
            if r.returncode != 0:
                res.errors[name] = f"exit {r.returncode}: {r.stderr.strip()[-300:]}"
            else:
                res.add(r.stdout, name)
    return res


def smaps_sample(pid, ram_kib):
    """(Pss KiB outside guest RAM, Size KiB of the mapping taken for guest RAM, VmHWM KiB).

    Guest RAM is the anonymous mapping of exactly the -m size.  The kernel may
    merge it with an anonymous neighbour (the VGA memory); then the smallest
    larger anonymous mapping stands in, and the caller warns."""
    total, anon = 0, []
    size, is_anon = None, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                is_anon = len(line.split()) < 6  # no path
            elif line.startswith("Size:"):
                size = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
                total += pss
                if is_anon and size >= ram_kib:
                    anon.append((size, pss))
    with open(f"/proc/{pid}/status") as f:
        hwm = int(re.search(r"^VmHWM:\s+(\d+)", f.read(), re.M).group(1))
    if not anon:
        return total, None, hwm
    ram_size, ram_pss = min(anon)
    return total - ram_pss, ram_size, hwm


class MemorySampler(threading.Thread):
    """Samples an emulator's memory every 0.2 s until stopped or it exits."""

    def __init__(self, pid, res):
        super().__init__(daemon=True)
        self.pid, self.res = pid, res
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.2):
            try:
                beyond, ram_size, hwm = smaps_sample(self.pid, RAM_MIB * 1024)
            except (OSError, AttributeError):
                break  # the process is gone
            self.res.peak_beyond_ram = max(beyond, self.res.peak_beyond_ram or 0)
            self.res.ram_mapping = max(ram_size or 0, self.res.ram_mapping or 0)
            self.res.vmhwm = hwm


def monitor_query(path, command, timeout=20):
    """Send one command to a monitor on a unix socket; return its answer or None."""
    prompt = re.compile(rb"\((?:popek|qemu)\) $")
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        buf = b""
        for send in (None, command):
            if send:
                s.sendall(send.encode() + b"\n")
                buf = b""
            while not prompt.search(buf):
                chunk = s.recv(65536)
                if not chunk:
                    return None
                buf += chunk
        s.close()
    except OSError:
        return None
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", buf.decode("utf-8", "replace"))
    lines = [ln for ln in text.split("\n")[:-1] if ln.strip() and command not in ln]
    return "\n".join(lines)


class QemuGuest(Guest):
    """The same serial console session, with qemu-system-i386 as the engine."""

    def __init__(self, qemu, guestdir, initrd, extra=()):
        cmd = [qemu, "-accel", "tcg", "-m", f"{RAM_MIB}M",
               "-kernel", os.path.join(guestdir, "bzImage"), "-initrd", initrd,
               "-append", "console=ttyS0 panic=-1", "-nographic", "-no-reboot"] + list(extra)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""


def run_guest(label, start, names, args, mon_path, logdir):
    """Boot with start(), time the workloads on the serial console, power off."""
    res = Result(label)
    t0 = time.monotonic()
    try:
        g = start()
    except OSError as e:
        res.failed = f"could not start: {e}"
        return res
    sampler = MemorySampler(g.proc.pid, res)
    sampler.start()
    try:
        g.read_until(MARKER, 900)
        res.boot = time.monotonic() - t0
        g.read_until(rb"[#$] ", 120)
        for _ in range(args.reps):
            for name in names:
                if name in res.errors and name not in res.best:
                    continue  # it hung or failed once: the other reps would too
                w0 = time.monotonic()
                try:
                    out, rc = g.run(f"{GUEST_BINARY} --scale {args.scale} {name}", args.timeout)
                except AssertionError:
                    # A workload that never ends costs its row, not the run:
                    # ^C on the console (the shell's controlling tty) stops it.
                    res.errors[name] = f"no answer within {args.timeout:g} s (stopped with ^C)"
                    g.proc.stdin.write(b"\x03")
                    g.proc.stdin.flush()
                    g.run("true", 120)
                    continue
                wall = time.monotonic() - w0
                if rc != 0:
                    res.errors[name] = f"exit {rc}: {out.strip()[-300:]}"
                    continue
                sec = res.add(out, name)
                if sec is not None and sec > wall:  # the ratios assume guest time is host time
                    res.fast_clock.append(f"{name} {sec:.3f} s > {wall:.3f} s wall")
        res.jit = monitor_query(mon_path, "info jit")
        sampler.stop.set()
        g.proc.stdin.write(b"poweroff -f\n")
        g.proc.stdin.flush()
        status = g.wait_exit(120)
        if status != 0:
            res.failed = f"exit status {status} after poweroff"
    except (AssertionError, OSError) as e:
        res.failed = str(e)
        if g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait()
        res.failed += (f"\nexit status {g.proc.returncode}; stderr: "
                       + g.proc.stderr.read().decode("utf-8", "replace")[-2000:])
    sampler.stop.set()
    sampler.join()
    with open(os.path.join(logdir, f"{label}-serial.log"), "wb") as f:
        f.write(g.out)
    return res


def popek_start(args, initrd, mon_path):
    extra = shlex.split(args.engine_args)
    accel = "bt"
    if "--accel" in extra:  # Guest passes --accel itself
        i = extra.index("--accel")
        accel = extra[i + 1]
        del extra[i:i + 2]
    extra += ["-monitor", f"unix:{mon_path},server,nowait"]
    return lambda: Guest(args.popek, args.guestdir, accel, extra, initrd=initrd)


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec, mark=""):
    return "-" if x is None else format(x, spec) + mark


def print_table(names, native, engines, reference):
    popek, qemu = engines[0], engines[1] if len(engines) > 1 else None
    cols = ["workload", "native s", "popek s", "popek/nat"]
    if qemu:
        cols += ["qemu s", "qemu/nat", "qemu/popek"]
    rows = []
    for name in names:
        nat = native.best.get(name)
        ref_sum = reference.checksums.get(name, set())
        row = [name, fmt(nat, ".3f")]
        for eng in engines:
            t = eng.best.get(name)
            bad = eng.checksums.get(name, set()) != ref_sum and name in eng.checksums
            cell = "FAIL" if name in eng.errors and t is None else fmt(t, ".3f", "!" if bad else "")
            row += [cell, fmt(ratio(t, nat), ".1f", "x")]
        if qemu:
            row.append(fmt(ratio(qemu.best.get(name), popek.best.get(name)), ".2f", "x"))
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [cols]) for i in range(len(cols))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(cols))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def jit_value(res, key):
    m = re.search(rf"^{re.escape(key)}\s*:?\s*([0-9.]+)", res.jit or "", re.M)
    return m.group(1) if m else None


def print_summary(names, native, engines, reference):
    print()
    groups = [("CPU-bound rows", [n for n in CPU_BOUND if n in names]),
              ("user-mode compute rows", [n for n in COMPUTE if n in names]),
              ("real programs", [n for n in names if n.startswith(PROGRAM_PREFIX)])]
    for title, group in groups:
        if not group:
            continue
        pairs = [(eng.label, eng, native) for eng in engines]
        if len(engines) > 1:
            pairs.append(("qemu/popek", engines[1], engines[0]))
        cells = []
        for label, num, den in pairs:
            rows = [n for n in group if ratio(num.best.get(n), den.best.get(n))]
            g = geomean([ratio(num.best[n], den.best[n]) for n in rows])
            label = label if "/" in label else f"{label}/native"
            missing = f" (without {', '.join(sorted(set(group) - set(rows)))})" \
                if rows and len(rows) < len(group) else ""
            cells.append(f"{label} {fmt(g, '.2f', 'x')}{missing}")
        print(f"geometric mean over the {title} ({', '.join(group)}):\n  " + "; ".join(cells))
    for eng in engines:
        mem = "-" if eng.peak_beyond_ram is None else f"{eng.peak_beyond_ram / 1024:.1f} MiB"
        hwm = "-" if eng.vmhwm is None else f"{eng.vmhwm / 1024:.1f} MiB"
        print(f"{eng.label}: boot to marker {fmt(eng.boot, '.1f', ' s')}; "
              f"peak memory beyond guest RAM (Pss) {mem}; VmHWM {hwm}")
        if eng.fast_clock:
            print(f"  warning: {eng.label}'s guest clock ran faster than the host's: "
                  + "; ".join(eng.fast_clock))
        if eng.ram_mapping == 0:
            print(f"  warning: no anonymous mapping of {RAM_MIB} MiB or more in {eng.label}'s "
                  "smaps; the memory figure includes guest RAM")
        elif eng.ram_mapping and eng.ram_mapping != RAM_MIB * 1024:
            print(f"  warning: no anonymous mapping of exactly {RAM_MIB} MiB in {eng.label}'s "
                  f"smaps (merged with a neighbour?); left out the {eng.ram_mapping // 1024} MiB "
                  "one that holds it instead")
    popek = engines[0]
    per_byte = jit_value(popek, "host bytes per guest byte")
    print(f"popek code size per guest byte: {per_byte or 'n/a'}")
    if len(engines) > 1:
        m = re.search(r"expansion ratio: ([0-9.]+)", engines[1].jit or "")
        print(f"qemu code size per guest byte (TB avg expansion ratio): {m.group(1) if m else 'n/a'}")
    print("popek info jit:")
    print("  " + (popek.jit.replace("\n", "\n  ") if per_byte and popek.jit else "n/a"))

    bad, compared = [], 0
    for n in names:
        for eng in engines:
            if eng is reference:
                continue
            theirs, ours = eng.checksums.get(n), reference.checksums.get(n)
            compared += bool(theirs and ours)
            if theirs and ours and theirs != ours:
                bad.append(f"{n} under {eng.label}: {sorted(theirs)} != {reference.label} "
                           f"{sorted(ours)}")
        for res in [native] if reference is native else [native, reference]:
            if len(res.checksums.get(n, ())) > 1:
                bad.append(f"{n}: {res.label} runs disagree among themselves "
                           f"{sorted(res.checksums[n])}")
    if bad:
        print("\n!!! CHECKSUM MISMATCH (a correctness bug; rows marked '!'):")
        for b in bad:
            print("  " + b)
    else:
        others = len([e for e in engines if e is not reference])
        print(f"checksums: {compared} of {len(names) * others} compared, all match "
              f"{reference.label}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    q = ap.add_mutually_exclusive_group()
    q.add_argument("--qemu", help="the peer (default: qemu-system-i386, or -x86_64 with --arch)")
    q.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="keep the binary, initramfs and serial logs here")
    ap.add_argument("--timeout", type=float, default=RUN_TIMEOUT,
                    help=f"seconds one workload may take in a guest (default {RUN_TIMEOUT})")
    ap.add_argument("--engine-args", default="", help="extra popek arguments, e.g. '--accel interp'")
    ap.add_argument("--workloads", help="comma-separated subset (default: all)")
    p = ap.add_mutually_exclusive_group()
    p.add_argument("--programs", action="store_true",
                   help="only the real programs (the bb-* workloads)")
    p.add_argument("--no-programs", action="store_true", help="leave out the bb-* workloads")
    ap.add_argument("--arch", choices=("i386", "x86_64"), default="i386",
                    help="x86_64: GUESTDIR is the amd64 guest (tests/guests/build-guest64.sh); "
                         "the workloads are one x86-64 binary run natively and in the guest, "
                         "popek on -cpu qemu64 and qemu-system-x86_64")
    ap.add_argument("--baseline", choices=("auto", "i386", "x86-64"), default="auto",
                    help="native baseline: the i386 binary where the host runs it (auto), "
                         "or the x86-64 build")
    args = ap.parse_args()

    scratch = tempfile.mkdtemp(prefix="popek-bench-")  # short path for the monitor sockets
    workdir = args.keep or scratch
    os.makedirs(workdir, exist_ok=True)
    try:
        sys.exit(bench(args, workdir, scratch))
    except BenchError as e:
        print(f"guest_bench: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def bench(args, workdir, scratch):
    x64 = args.arch == "x86_64"
    if args.qemu is None:
        args.qemu = "/usr/bin/qemu-system-x86_64" if x64 else "/usr/bin/qemu-system-i386"
    build = "build-guest64.sh" if x64 else "build-guest.sh"
    for f in ("bzImage", "initramfs.cpio.gz"):
        if not os.path.isfile(os.path.join(args.guestdir, f)):
            raise BenchError(f"no {f} in {args.guestdir} (run tests/guests/{build} DIR)")
    binary, args.engine_args = arch_workloads(args.arch, workdir, args.engine_args)
    if x64:
        # One binary, natively and in the guest: the ratios are exact.
        if not runs_here(binary):
            raise BenchError(f"{binary} does not run on this host")
        native_binary, baseline, comparable = binary, "x86-64 (the guest's binary)", True
    else:
        native_binary, baseline, comparable = native_baseline(args, workdir, binary)
    listed = runs_here(native_binary)
    names = listed
    if args.workloads:
        names = [n for n in args.workloads.split(",") if n]
        unknown = set(names) - set(listed)
        if unknown:
            raise BenchError(f"unknown workloads {sorted(unknown)}")
    if args.programs:
        names = [n for n in names if n.startswith(PROGRAM_PREFIX)]
    elif args.no_programs:
        names = [n for n in names if not n.startswith(PROGRAM_PREFIX)]
    busybox, busybox_note = None, None
    if any(n.startswith(PROGRAM_PREFIX) for n in names):
        arch = "i386" if comparable and not x64 else "amd64"
        busybox, why = native_busybox(workdir, arch)
        if busybox is None:
            busybox_note = f"native busybox: none ({why}); bb-* rows have no native time"
        elif comparable:
            busybox_note = f"native busybox: the guest's {arch} busybox-static (same binary)"
        else:
            busybox_note = ("native busybox: Debian's x86-64 busybox-static of the same version "
                            "(bb-* native times approximate)")
    initrd = bench_initramfs(args.guestdir, binary, workdir)
    load0 = os.getloadavg()[0]

    native_names = [n for n in names if busybox or not n.startswith(PROGRAM_PREFIX)]
    native = run_native(native_binary, native_names, args.scale, args.reps, busybox)
    mon = os.path.join(scratch, "popek.mon")
    engines = [run_guest("popek", popek_start(args, initrd, mon), names, args, mon, workdir)]
    qemu_note = None
    if args.no_qemu:
        qemu_note = "qemu: skipped (--no-qemu)"
    elif not shutil.which(args.qemu):
        qemu_note = f"qemu: {args.qemu} not installed, column skipped"
    else:
        qmon = os.path.join(scratch, "qemu.mon")
        start = lambda: QemuGuest(args.qemu, args.guestdir, initrd,
                                  ["-monitor", f"unix:{qmon},server,nowait"])
        engines.append(run_guest("qemu", start, names, args, qmon, workdir))

    print(f"\nguest workloads: scale {args.scale}, min of {args.reps} reps; popek args "
          f"'{args.engine_args or '--accel bt'}'; host load {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"native baseline: {baseline}")
    if busybox_note:
        print(busybox_note)
    reference = native if comparable else engines[-1]
    print_table(names, native, engines, reference)
    print_summary(names, native, engines, reference)
    if qemu_note:
        print(qemu_note)

    failed = False
    for res in [native] + engines:
        if res.failed:
            print(f"\n{res.label} did not run to the end: {res.failed}")
            failed = True
        for name, why in res.errors.items():
            print(f"{res.label}: {name} failed: {why}")
            failed = True
    if args.keep:
        print(f"artifacts and serial logs in {workdir}")
    return 1 if failed else 0


if __name__ == "__main__":
    main()
