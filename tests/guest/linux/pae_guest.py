#!/usr/bin/env python3
"""Debian's 686-pae kernel (GUESTDIR/bzImage-pae) on popek's CPU models.

  pae_guest.py POPEK GUESTDIR [--accel ENGINE] [--cpu SPEC] [--qemu]

Boots the test initramfs to the shell and checks, against what the guest's
CPU says (a static i386 program, tests/guests/cpuid_dump.c, appended to the
initramfs, prints the CPUID leaves):
  - /proc/cpuinfo's flags are exactly the CPUID feature bits under Linux's
    names, plus only flags Linux makes up itself (SYNTHETIC): any flag
    missing or extra fails;
  - its family, model, stepping and model name are CPUID's;
  - dmesg says "NX (Execute Disable) protection: active" when CPUID has NX
    (and that NX is missing when it does not); no oops;
  - the local APIC timer (LOC in /proc/interrupts) counts.
With --qemu, also boots the same kernel and initramfs under
qemu-system-i386 -accel tcg (an optional peer: skipped when absent) and
prints both boot times, for the record only.

Exit 77 (skip) when gcc cannot build the i386 program.
"""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "guests", "cpuid_dump.c")
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from guest_bench import newc_archive  # noqa: E402
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check  # noqa: E402

# Linux's names for the CPUID bits (arch/x86/include/asm/cpufeatures.h):
# CPUID.1:EDX, CPUID.1:ECX, CPUID.80000001h:EDX.
EDX1 = {0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce",
        8: "cx8", 9: "apic", 11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov",
        16: "pat", 17: "pse36", 18: "pn", 19: "clflush", 21: "dts", 22: "acpi", 23: "mmx",
        24: "fxsr", 25: "sse", 26: "sse2", 27: "ss", 28: "ht", 29: "tm", 30: "ia64", 31: "pbe"}
ECX1 = {0: "pni", 1: "pclmulqdq", 2: "dtes64", 3: "monitor", 4: "ds_cpl", 5: "vmx", 6: "smx",
        7: "est", 8: "tm2", 9: "ssse3", 10: "cid", 11: "sdbg", 12: "fma", 13: "cx16",
        14: "xtpr", 15: "pdcm", 17: "pcid", 18: "dca", 19: "sse4_1", 20: "sse4_2",
        21: "x2apic", 22: "movbe", 23: "popcnt", 24: "tsc_deadline_timer", 25: "aes",
        26: "xsave", 27: "osxsave", 28: "avx", 29: "f16c", 30: "rdrand", 31: "hypervisor"}
EXT_EDX = {11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr_opt", 26: "pdpe1gb",
           27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"}
EXT_ECX = {0: "lahf_lm", 1: "cmp_legacy", 2: "svm", 5: "abm", 6: "sse4a"}
# Flags Linux sets from what it knows rather than from a CPUID bit: the
# TSC's properties for Intel family 6/15 (constant_tsc, nonstop_tsc), the
# CPUID instruction itself, the Meltdown page-table isolation, ...
SYNTHETIC = {"constant_tsc", "nonstop_tsc", "tsc_known_freq", "tsc_reliable", "cpuid", "pti",
             "nopl", "rep_good", "xtopology", "bts", "pebs", "arch_perfmon", "up"}


def build(workdir):
    out = os.path.join(workdir, "cpuid-dump")
    r = subprocess.run(["gcc", "-m32", "-static", "-O2", "-o", out, SRC],
                       capture_output=True, text=True)
    return out if r.returncode == 0 else None


def parse_cpuid(text):
    leaves = {}
    for m in re.finditer(r"^CPUID ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) "
                         r"([0-9a-f]{8})$", text, re.M):
        leaves[int(m.group(1), 16)] = [int(m.group(i), 16) for i in range(2, 6)]
    return leaves


def cpuid_flags(leaves):
    """The CPUID feature bits under Linux's names; unnamed set bits fail."""
    names = set()
    words = [(leaves[1][3], EDX1, "CPUID.1:EDX"), (leaves[1][2], ECX1, "CPUID.1:ECX")]
    if 0x80000001 in leaves:
        words.append((leaves[0x80000001][3], EXT_EDX, "CPUID.80000001h:EDX"))
        words.append((leaves[0x80000001][2], EXT_ECX, "CPUID.80000001h:ECX"))
    for value, table, what in words:
        for bit in range(32):
            if value >> bit & 1:
                if bit not in table:
                    raise AssertionError(f"{what} bit {bit} has no Linux name ({value:#x})")
                names.add(table[bit])
    return names


def brand(leaves):
    if not all(leaf in leaves for leaf in (0x80000002, 0x80000003, 0x80000004)):
        return None
    raw = b"".join(r.to_bytes(4, "little") for leaf in (0x80000002, 0x80000003, 0x80000004)
                   for r in leaves[leaf])
    return raw.split(b"\0")[0].decode().strip()


def cpuinfo_field(text, name):
    m = re.search(rf"^{re.escape(name)}\s*:\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else None


def make_initrd(guestdir, workdir, binary):
    with open(binary, "rb") as f:
        extra = newc_archive([("bin/cpuid-dump", 0o100755, f.read())])
    initrd = os.path.join(workdir, "initramfs-cpuid.cpio.gz")
    with open(os.path.join(guestdir, "initramfs.cpio.gz"), "rb") as f:
        base = f.read()
    with open(initrd, "wb") as f:
        f.write(base + gzip.compress(extra, 9))
    return initrd


def qemu_boot_time(kernel, initrd):
    """Seconds from start to the init marker under QEMU's TCG, or None."""
    qemu = shutil.which("qemu-system-i386")
    if not qemu:
        return None
    cmd = [qemu, "-accel", "tcg", "-kernel", kernel, "-initrd", initrd, "-append",
           "console=ttyS0 panic=-1 popek.cmd=true", "-nographic", "-no-reboot", "-m", "256M",
           "-cpu", "core2duo"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = b""
    try:
        while MARKER not in out:
            chunk = p.stdout.read1(65536) if hasattr(p.stdout, "read1") else p.stdout.read(1)
            if not chunk or time.monotonic() - t0 > BOOT_TIMEOUT:
                return None
            out += chunk
        return time.monotonic() - t0
    finally:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--accel", default="bt")
    ap.add_argument("--cpu", default=None, help="-cpu SPEC for popek")
    ap.add_argument("--qemu", action="store_true", help="also time the boot under QEMU TCG")
    ap.add_argument("--boot-timeout", type=float, default=BOOT_TIMEOUT,
                    help="seconds to the init marker (lockstep check mode needs more)")
    args = ap.parse_args()
    kernel = os.path.join(args.guestdir, "bzImage-pae")
    with tempfile.TemporaryDirectory() as workdir:
        binary = build(workdir)
        if binary is None:
            print("skip: gcc -m32 -static cannot build the i386 program")
            return 77
        initrd = make_initrd(args.guestdir, workdir, binary)
        extra = ["-cpu", args.cpu] if args.cpu else []
        t0 = time.monotonic()
        g = Guest(args.popek, args.guestdir, args.accel, extra=extra, initrd=initrd,
                  kernel=kernel)
        try:
            g.read_until(MARKER, args.boot_timeout)
            boot = time.monotonic() - t0
            print(f"boot to marker: {boot:.1f} s")
            g.read_until(rb"[#$] ", 60)
            run_checks(g, args)
            g.proc.stdin.write(b"poweroff -f\n")
            g.proc.stdin.flush()
            status = g.wait_exit(120)
            check(status == 0, "poweroff ends popek with status 0", f"status {status}")
        finally:
            if g.proc.poll() is None:
                g.proc.kill()
        if args.qemu:
            q = qemu_boot_time(kernel, initrd)
            print(f"figure: PAE kernel boot to the init marker: popek --accel {args.accel} "
                  f"{boot:.1f} s, qemu-system-i386 -accel tcg "
                  + (f"{q:.1f} s" if q is not None else "not measured (qemu absent)"))
    return 0


def run_checks(g, args):
    out, rc = g.run("uname -r")
    check(rc == 0 and out.strip().endswith("686-pae"), "the 686-pae kernel runs", out)

    out, rc = g.run("cpuid-dump")
    leaves = parse_cpuid(out)
    check(rc == 0 and 0 in leaves and 1 in leaves and "CPUID done" in out,
          "the guest program read CPUID", out)
    expected = cpuid_flags(leaves)

    info, rc = g.run("cat /proc/cpuinfo")
    flags_line = cpuinfo_field(info, "flags")
    check(flags_line is not None, "cpuinfo has a flags line", info)
    flags = set(flags_line.split())
    sig = leaves[1][0]
    if (sig >> 8) & 0xf == 6 and ((sig >> 4) & 0xf | (sig >> 12) & 0xf0) < 15:
        # Linux's own rule (arch/x86/kernel/cpu/intel.c, early_init_intel):
        # PAT is not used on family 6 before model 15 for the Pentium III
        # erratum on WC, and the flag is cleared.
        expected.discard("pat")
    missing = expected - flags
    extra = flags - expected - SYNTHETIC
    check(not missing and not extra, "cpuinfo flags are exactly CPUID's (plus Linux's own)",
          f"missing {sorted(missing)}, extra {sorted(extra)}\ncpuinfo: {flags_line}\n"
          f"cpuid: {sorted(expected)}")

    family = (sig >> 8) & 0xf
    model = (sig >> 4) & 0xf
    if family in (6, 15):
        model |= (sig >> 12) & 0xf0
    if family == 15:
        family += (sig >> 20) & 0xff
    check(cpuinfo_field(info, "cpu family") == str(family) and
          cpuinfo_field(info, "model") == str(model) and
          cpuinfo_field(info, "stepping") == str(sig & 0xf),
          f"cpuinfo family/model/stepping are CPUID's ({family}/{model}/{sig & 0xf})", info)
    name = brand(leaves)
    if name:
        check(cpuinfo_field(info, "model name") == name, f"cpuinfo model name is '{name}'", info)

    dmesg, rc = g.run("dmesg", kernel_lines=True)
    if "nx" in expected:
        check("NX (Execute Disable) protection: active" in dmesg, "dmesg: NX protection active",
              dmesg[-3000:])
    else:
        check("NX (Execute Disable) protection missing in CPU" in dmesg,
              "dmesg: no NX on this model", dmesg[-3000:])
    bad = [w for w in ("Oops", "BUG:", "soft lockup", "Call Trace", "general protection",
                       "Local APIC disabled by BIOS") if w in dmesg]
    check(not bad, "dmesg has no oops, BUG or APIC complaint", ", ".join(bad))

    before, _ = g.run("grep LOC: /proc/interrupts")
    g.run("sleep 1")
    after, _ = g.run("grep LOC: /proc/interrupts")
    count = [int(re.search(r"LOC:\s+(\d+)", t).group(1)) for t in (before, after)]
    check(count[1] > count[0] > 0, "the local APIC timer (LOC) counts", f"{before} -> {after}")

    out, rc = g.run("echo $((6 * 7)); seq 1 500 | wc -l")
    check(out.split() == ["42", "500"], "user programs run", out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
