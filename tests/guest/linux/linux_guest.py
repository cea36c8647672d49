#!/usr/bin/env python3
"""Linux guest tests through popek's real frontend.

  linux_guest.py POPEK GUESTDIR interactive [--accel ENGINE] [--append ARGS]
      Boot to the init marker, run commands over the serial console (stdin/
      stdout of `popek -nographic`), check their output, power off, and
      require exit status 0.  ARGS go on the kernel command line; with
      noapic or nolapic the interrupt checks expect the 8259 path.
  linux_guest.py POPEK GUESTDIR icount [--accel ENGINE]
      Boot twice with -icount and a fixed command list; the serial output
      must be byte-identical.
  --arch x86_64: GUESTDIR is the amd64 guest (tests/guests/build-guest64.sh),
      booted with -cpu qemu64; the same checks, for an x86_64 Linux, and a
      static i386 program (tests/guests/compat32.c) run under the 64-bit
      kernel in compatibility mode, where gcc -m32 -static works.  On a
      popek built without long mode (-cpu help offers no qemu64) the test
      is skipped with exit status 77.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from initramfs import EXEC_MODE, extend_initramfs  # noqa: E402

COMPAT_SRC = os.path.join(HERE, "..", "..", "guests", "compat32.c")

BOOT_TIMEOUT = 900  # seconds: the interpreter alone boots in a few minutes
MARKER = b"POPEK-GUEST-READY"
KMSG_RX = re.compile(r"^\[\s*\d+\.\d+\] ")  # a kernel log line on the console


class Guest:
    def __init__(self, popek, guestdir, accel, extra=(), append_extra="", initrd=None,
                 kernel=None, ram="256M"):
        """initrd: an initramfs other than GUESTDIR/initramfs.cpio.gz (the benchmark's);
        kernel: a kernel other than GUESTDIR/bzImage (the PAE one); ram: -m."""
        append = "console=ttyS0 panic=-1 " + append_extra
        cmd = [popek, "-kernel", kernel or os.path.join(guestdir, "bzImage"),
               "-initrd", initrd or os.path.join(guestdir, "initramfs.cpio.gz"),
               "-append", append.strip(), "-nographic", "-no-reboot", "-m", ram,
               "--accel", accel] + list(extra)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""

    def read_until(self, pattern, timeout):
        """Read serial output until the regex pattern (bytes) matches."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.out)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                tail = self.out[-3000:].decode("utf-8", "replace")
                raise AssertionError(f"timed out waiting for {pattern!r}; output tail:\n{tail}")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if chunk:
                    self.out += chunk

    def run(self, command, timeout=300, kernel_lines=False):
        """Run one shell command on the guest console; return (output, status).
        Kernel log lines the console interleaves are dropped unless
        kernel_lines (for commands that print the log themselves)."""
        tag = f"T{len(self.out)}"
        line = f"echo {tag}-BEGIN; {command}; echo {tag}-END $?\n"
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        # \r*: each terminal layer adds a CR (a guest's console inside a guest's).
        m = self.read_until(rf"\n{tag}-BEGIN\r*\n(.*?){tag}-END (\d+)".encode(), timeout)
        text = m.group(1).decode("utf-8", "replace").replace("\r", "")
        # The kernel logs to the same console ("random: crng init done" can
        # land in the middle of a command's output): its lines are not output.
        if not kernel_lines:
            text = "".join(ln for ln in text.splitlines(keepends=True) if not KMSG_RX.match(ln))
        return text, int(m.group(2))

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if ready:
                self.out += os.read(self.proc.stdout.fileno(), 65536)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError("popek did not exit after poweroff")
        self.out += self.proc.stdout.read()
        return self.proc.returncode


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(f"{what}\n{detail}")
    print(f"ok: {what}")


def cpuid_flags_expected(append="", arch="i386"):
    """The CPU features popek's default model reports (cpu/models.c), as
    /proc/cpuinfo names them (nolapic makes Linux drop the APIC from them);
    for x86_64, qemu64's.  tests/guest/linux/pae_guest.py compares them with
    CPUID bit for bit."""
    flags = {"fpu", "pse", "tsc", "msr", "pae", "cx8", "sep", "mtrr", "pge", "cmov", "fxsr",
             "apic", "clflush", "mmx", "sse", "sse2", "pni"}
    if arch == "x86_64":
        flags |= {"cx16", "syscall", "nx", "lm", "lahf_lm", "hypervisor"}
    else:
        flags |= {"ssse3"}
    return flags - {"apic"} if "nolapic" in append.split() else flags


def long_mode_offered(popek):
    """Whether this popek runs long mode: -cpu help offers qemu64 only then
    (CPU_LONG_MODE, cpu/models.h)."""
    out = subprocess.run([popek, "-cpu", "help"], capture_output=True, text=True).stdout
    return re.search(r"^x86 qemu64\s", out, re.M) is not None


def interrupt_counts(text):
    """/proc/interrupts as {name: (count, rest of line)}."""
    lines = {}
    for ln in text.splitlines():
        m = re.match(r"^\s*(\w+):\s+(\d+)\s*(.*)$", ln)
        if m:
            lines[m.group(1)] = (int(m.group(2)), m.group(3))
    return lines


def check_interrupts(g, append):
    """Which controllers Linux uses: the I/O APIC and the local APIC timer,
    the 8259 with the APIC timer (noapic), or the 8259 alone (nolapic)."""
    args = append.split()
    before = interrupt_counts(g.run("cat /proc/interrupts")[0])
    g.run("sleep 1")
    text, rc = g.run("cat /proc/interrupts")
    after = interrupt_counts(text)
    check("LOC" in after and "0" in after, "/proc/interrupts lists LOC and the timer", text)
    timer_chip = after["0"][1]
    if "nolapic" in args:
        check("XT-PIC" in timer_chip, "nolapic: the timer is on the 8259", text)
        check(after["LOC"][0] == 0, "nolapic: no local APIC timer interrupts", text)
        check(after["0"][0] > before["0"][0], "nolapic: the PIT interrupt counts", text)
        return
    check(after["LOC"][0] > before["LOC"][0] > 0,
          "the local APIC timer interrupt (LOC) counts", f"{before['LOC']} -> {after['LOC']}")
    if "noapic" in args:
        check("XT-PIC" in timer_chip and "IO-APIC" not in text,
              "noapic: interrupts come from the 8259 (virtual wire)", text)
    else:
        check("IO-APIC" in timer_chip and "XT-PIC" not in text,
              "every interrupt goes through the I/O APIC", text)
        serial = [ln for ln in text.splitlines() if "ttyS0" in ln]
        check(serial and "IO-APIC" in serial[0] and "4-edge" in serial[0],
              "the serial port's IRQ 4 is an I/O APIC input", text)


def compat_expected():
    """What tests/guests/compat32.c prints under a 64-bit kernel."""
    s = 0
    for i in range(1000000):
        s = (s + (i ^ (s >> 3)) + 2**31) % 2**32 - 2**31
    return f"compat32: 32-bit pointers, machine x86_64, pid>0 1, sum {s}"


def compat_initrd(guestdir, workdir):
    """The amd64 guest's initramfs with /bin/compat32 (a static i386
    program), or None where gcc cannot build one."""
    binary = os.path.join(workdir, "compat32")
    r = subprocess.run(["gcc", "-m32", "-static", "-O2", "-o", binary, COMPAT_SRC],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"note: no compatibility-mode check (gcc -m32 -static failed: {r.stderr[-200:]})")
        return None
    with open(binary, "rb") as f:
        data = f.read()
    return extend_initramfs(os.path.join(guestdir, "initramfs.cpio.gz"),
                            os.path.join(workdir, "initramfs-compat.cpio.gz"),
                            [("bin/compat32", EXEC_MODE, data)])


def test_interactive(args):
    with tempfile.TemporaryDirectory() as workdir:
        initrd = compat_initrd(args.guestdir, workdir) if args.arch == "x86_64" else None
        interactive(args, initrd)


def interactive(args, initrd):
    t0 = time.monotonic()
    g = Guest(args.popek, args.guestdir, args.accel, extra=arch_args(args),
              append_extra=args.append, initrd=initrd)
    g.read_until(MARKER, BOOT_TIMEOUT)
    print(f"boot to marker: {time.monotonic() - t0:.1f} s")
    g.read_until(rb"[#$] ", 60)  # the shell prompt

    machine = "x86_64" if args.arch == "x86_64" else "i686"
    out, rc = g.run("uname -a")
    check(rc == 0 and "Linux" in out and machine in out, f"uname -a reports an {machine} Linux",
          out)

    out, rc = g.run("cat /proc/cpuinfo")
    flags_line = re.search(r"^flags\s*:\s*(.*)$", out, re.M)
    check(flags_line is not None, "cpuinfo has a flags line", out)
    flags = set(flags_line.group(1).split())
    missing = cpuid_flags_expected(args.append, args.arch) - flags
    check(not missing, "cpuinfo shows the CPUID features popek reports", f"missing {missing}")
    unexpected = flags & ({"vme", "de", "mce", "sse4_1", "monitor", "vmx", "svm", "pdpe1gb"} |
                          (set() if args.arch == "x86_64" else {"lm"}))
    check(not unexpected, "cpuinfo shows no feature popek does not implement", str(unexpected))

    out, rc = g.run("dmesg", kernel_lines=True)
    bad = [w for w in ("Oops", "BUG:", "soft lockup", "Call Trace", "general protection",
                       "Local APIC disabled by BIOS", "spurious APIC interrupt")
           if w in out]
    check(rc == 0 and not bad, "dmesg has no oops, BUG, soft lockup or APIC complaint",
          ", ".join(bad))

    check_interrupts(g, args.append)

    out, rc = g.run("date +%s")
    guest_time = int(out.strip().splitlines()[-1])
    if args.accel == "check":
        # --accel check runs on -icount time: the RTC starts at 2000-01-01
        # 00:00:00 and the guest has lived a few virtual seconds since.
        check(946684800 <= guest_time < 946684800 + 120, "guest date is -icount time",
              f"guest {guest_time}")
    else:
        check(abs(guest_time - time.time()) < 300, "guest date is close to the host's",
              f"guest {guest_time} host {int(time.time())}")

    out, rc = g.run("echo $((6 * 7 + 2 ** 10)) $((0x7fffffff + 1)) $((-17 / 5)) $((-17 % 5))")
    check(out.split() == ["1066", "2147483648", "-3", "-2"], "shell arithmetic", out)

    out, rc = g.run("seq 1 2000 > /tmp/f && wc -l < /tmp/f && tail -n 1 /tmp/f && "
                    "cp /tmp/f /tmp/g && cmp /tmp/f /tmp/g && echo same")
    check(out.split() == ["2000", "2000", "same"], "files written and read back in tmpfs", out)

    if initrd:
        out, rc = g.run("/bin/compat32", 600)
        check(rc == 0 and out.strip() == compat_expected(),
              "a static i386 program runs under the 64-bit kernel (compatibility mode)",
              f"got {out.strip()!r}, want {compat_expected()!r}")

    g.proc.stdin.write(b"poweroff -f\n")
    g.proc.stdin.flush()
    status = g.wait_exit(120)
    check(status == 0, "poweroff ends popek with status 0", f"status {status}")
    print(f"total: {time.monotonic() - t0:.1f} s")


def first_difference(a, b):
    """Where two outputs first differ, with 200 bytes of each around it."""
    if a == b:
        return "the same"
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return f"first difference at byte {i}:\n{a[max(0, i - 200):i + 200]!r}\n{b[max(0, i - 200):i + 200]!r}"


def test_icount(args):
    """Two boots under -icount: the same serial output byte for byte, and
    (-d int) every interrupt and exception at the same instruction count
    and address, which catches a delivery a few instructions off long
    before it moves a printed timestamp."""
    cmds = 'popek.cmd="uname -r; echo $((1 + 2)); cat /proc/interrupts | head -n 3"'
    outputs, traces = [], []
    with tempfile.TemporaryDirectory() as workdir:
        for run in range(2):
            log = os.path.join(workdir, f"int{run}.log")
            g = Guest(args.popek, args.guestdir, args.accel,
                      ["-icount", "0", "-d", "int", "-D", log] + arch_args(args), cmds)
            status = g.wait_exit(BOOT_TIMEOUT)
            check(status == 0, f"-icount run {run + 1} powers off with status 0",
                  g.out[-2000:].decode("utf-8", "replace"))
            check(b"POPEK-GUEST-DONE rc=0" in g.out, f"-icount run {run + 1} ran its commands")
            outputs.append(g.out)
            with open(log, "rb") as f:
                traces.append(f.read())
    check(outputs[0] == outputs[1], "two -icount boots give byte-identical serial output",
          first_difference(*outputs))
    irqs = re.findall(rb"^interrupt: IRQ vector 0x[0-9a-f]{2} at [0-9a-f]{4}:[0-9a-f]+ icount=(\d+)$",
                      traces[0], re.M)
    check(len(irqs) > 100 and [int(n) for n in irqs] == sorted(int(n) for n in irqs),
          "-d int names each hardware interrupt's instruction count, in order",
          f"{len(irqs)} interrupt lines")
    check(traces[0] == traces[1],
          "two -icount boots take every interrupt and exception at the same instruction",
          first_difference(*traces))


def arch_args(args):
    """popek options for the guest's word size: the 64-bit guest runs on qemu64."""
    return ["-cpu", "qemu64"] if args.arch == "x86_64" else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("mode", choices=["interactive", "icount"])
    ap.add_argument("--accel", default="interp")
    ap.add_argument("--append", default="", help="more kernel command line (noapic, nolapic)")
    ap.add_argument("--arch", choices=["i386", "x86_64"], default="i386",
                    help="x86_64: GUESTDIR is the amd64 guest, run on -cpu qemu64")
    args = ap.parse_args()
    if args.arch == "x86_64" and not long_mode_offered(args.popek):
        print("SKIP: popek does not run long mode yet (-cpu help offers no qemu64; "
              "CPU_LONG_MODE in cpu/models.h): the amd64 guest cannot boot")
        sys.exit(77)
    try:
        {"interactive": test_interactive, "icount": test_icount}[args.mode](args)
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
