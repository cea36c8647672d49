#!/usr/bin/env python3
"""Traces: golden files, the window options, the address filter, repeatability.

    trace_test.py POPEK GOLDEN_ROM SOURCE_DIR GUEST_ROM LONG_ROM LONG_FAULT_ROM

1. The trace of tests/debug/golden.asm under -icount 0 matches the checked-in
   golden_exec.trace (-d exec,cpu,delta,int,ioport) and golden_in_asm.trace
   (-d in_asm) byte for byte.  Every register and flag value in them was
   checked by hand against the SDM (see the comments in golden.asm); when the
   trace format changes on purpose, regenerate them with the commands below
   (GOLDEN_COMMANDS) and check the values again before committing.
2. -dstart/-dcount/-dtrigger cut exactly the expected slice out of the full
   exec trace (the window counts instructions, so line N of a full exec
   trace is instruction N), and -dfilter keeps only the lines in its range.
3. A long deterministic run (guest.asm: protected mode, paging, port I/O)
   traces the same bytes twice.
4. -d cpu prints QEMU's i386 dump before each instruction, line for line
   (so QEMU log scripts read it): general registers, EIP/EFL with flag
   letters, the six segments, LDT, TR, GDT, IDT, CR0-CR4, DR0-DR7, EFER; in
   protected mode the segment lines carry QEMU's DPL and type columns.
5. A 64-bit guest (long64.asm, -cpu qemu64, under each engine) traces as
   QEMU's x86_64 logs do: capstone's 64-bit mode (REX prefixes, R8-R15,
   movabs), 16-digit linear addresses and RIP, R8-R15 and RFL in the
   cpu,delta lines, QEMU's 64-bit -d cpu dump, and -dfilter and -dtrigger
   at the kernel-half alias above 4 GiB; int and mmu lines of a page fault
   there have 16-digit addresses.  A -dfilter range beyond 64 bits is an
   error.
"""
import re
import filecmp
import os
import subprocess
import sys
import tempfile

BASE = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "null", "-display", "none",
        "-icount", "0", "-no-reboot"]
GOLDEN_COMMANDS = {
    "golden_exec.trace": ["-d", "exec,cpu,delta,int,ioport"],
    "golden_in_asm.trace": ["-d", "in_asm"],
}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def trace(popek, rom, tmp, name, options):
    path = os.path.join(tmp, name)
    subprocess.run([popek, "-bios", rom] + BASE + options + ["-D", path], timeout=60,
                   check=False)
    with open(path) as f:
        return f.read()


def check_golden(popek, rom, src, tmp):
    for name, options in GOLDEN_COMMANDS.items():
        got = trace(popek, rom, tmp, name, options)
        with open(os.path.join(src, name)) as f:
            want = f.read()
        if got != want:
            fail("%s differs from the golden file:\n%s" % (name, got))


def check_windows(popek, rom, tmp):
    full = trace(popek, rom, tmp, "full", ["-d", "exec"]).splitlines()
    if len(full) != 27:
        fail("the golden program runs 27 instructions, the trace has %d lines" % len(full))

    def window(options):
        return trace(popek, rom, tmp, "window", ["-d", "exec"] + options).splitlines()

    if window(["-dstart", "5", "-dcount", "3"]) != full[5:8]:
        fail("-dstart 5 -dcount 3")
    loop = next(i for i, line in enumerate(full) if line.startswith("f000:00000020"))
    if window(["-dtrigger", "0xf0020", "-dcount", "4"]) != full[loop:loop + 4]:
        fail("-dtrigger 0xf0020 -dcount 4")
    # With -dstart too, the trigger is the first time f0020h runs from there on.
    later = next(i for i, line in enumerate(full) if i >= 13 and line.startswith("f000:00000020"))
    if window(["-dstart", "13", "-dtrigger", "0xf0020", "-dcount", "2"]) != full[later:later + 2]:
        fail("-dstart 13 -dtrigger 0xf0020 -dcount 2")
    if window(["-dtrigger", "0x12345"]) != []:
        fail("a trigger that never fires traces nothing")
    in_range = [line for line in full if line[5:13] in ("00000020", "00000022", "00000023")]
    if window(["-dfilter", "0xf0020+5"]) != in_range or len(in_range) != 9:
        fail("-dfilter 0xf0020+5")
    # Port lines follow the window: the OUT is the last instruction.
    if "ioport:" in trace(popek, rom, tmp, "io", ["-d", "ioport", "-dcount", "20"]):
        fail("an ioport line outside the window")
    if "ioport: out8 0x00f4" not in trace(popek, rom, tmp, "io", ["-d", "ioport", "-dstart", "20"]):
        fail("the ioport line inside the window is missing")


def check_repeatable(popek, rom, tmp):
    options = ["-d", "exec,cpu,int,mmu,ioport,in_asm", "-debugcon", "null"]
    first = trace(popek, rom, tmp, "run1", options)
    second = trace(popek, rom, tmp, "run2", options)
    if len(first) < 10000 or "ioport:" not in first or "IN:" not in first:
        fail("the long trace is suspiciously short (%d bytes)" % len(first))
    if not filecmp.cmp(os.path.join(tmp, "run1"), os.path.join(tmp, "run2"), shallow=False):
        fail("two -icount 0 runs traced different bytes")


CPU_DUMP = [r"EAX=[0-9a-f]{8} EBX=[0-9a-f]{8} ECX=[0-9a-f]{8} EDX=[0-9a-f]{8}",
            r"ESI=[0-9a-f]{8} EDI=[0-9a-f]{8} EBP=[0-9a-f]{8} ESP=[0-9a-f]{8}",
            r"EIP=[0-9a-f]{8} EFL=[0-9a-f]{8} \[[D-][O-][S-][Z-][A-][P-][C-]\] CPL=[0-3] II=[01] "
            r"A20=[01] SMM=0 HLT=[01]"] + \
           [r"%s=[0-9a-f]{4} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}( DPL=[0-3] .*)?" % n
            for n in ("ES ", "CS ", "SS ", "DS ", "FS ", "GS ", "LDT", "TR ")] + \
           [r"GDT=     [0-9a-f]{8} [0-9a-f]{8}", r"IDT=     [0-9a-f]{8} [0-9a-f]{8}",
            r"CR0=[0-9a-f]{8} CR2=[0-9a-f]{8} CR3=[0-9a-f]{8} CR4=[0-9a-f]{8}",
            r"DR0=[0-9a-f]{8} DR1=[0-9a-f]{8} DR2=[0-9a-f]{8} DR3=[0-9a-f]{8} ",
            r"DR6=[0-9a-f]{8} DR7=[0-9a-f]{8}", r"EFER=[0-9a-f]{16}"]


def check_cpu_dump(popek, rom, tmp):
    lines = trace(popek, rom, tmp, "cpu", ["-d", "cpu", "-dcount", "3000"]).splitlines()
    if len(lines) != 3000 * len(CPU_DUMP):
        fail("-d cpu: %d lines for 3000 instructions, want %d each" % (len(lines), len(CPU_DUMP)))
    for i, line in enumerate(lines):
        if not re.fullmatch(CPU_DUMP[i % len(CPU_DUMP)], line):
            fail("-d cpu line %d is not in QEMU's layout: %r" % (i + 1, line))
    # guest.asm's flat protected-mode code and data segments, as QEMU shows them.
    for want in ("CS =0008 00000000 ffffffff 00c09b00 DPL=0 CS32 [-RA]",
                 "DS =0010 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]"):
        if want not in lines:
            fail("-d cpu never shows %r" % want)
    if not any(line.startswith("CR0=60000011 ") for line in lines):
        fail("-d cpu never shows CR0 with PE set")


HIGH = 0xffffffff800f0000  # long64.asm's ROM at the kernel-half alias


def check_long_mode(popek, rom, fault_rom, tmp):
    for accel in ("interp", "bt"):
        def run(options):
            return trace(popek, rom, tmp, "lm", ["-cpu", "qemu64", "--accel", accel] + options)

        lines = run(["-d", "exec,in_asm,cpu,delta",
                     "-dfilter", "%#x..%#x" % (HIGH, HIGH + 0xffff)]).splitlines()
        for want in (
                "0xffffffff800f00a2:  movabs rax, 0x1122334455667788",
                "0008:ffffffff800f00a2  48 b8 88 77 66 55 44 33 22 11  "
                "movabs rax, 0x1122334455667788",
                "0008:ffffffff800f00ac  41 b8 05 00 00 00              mov r8d, 5",
                "  R8=0000000000000005",
                "0008:ffffffff800f00b2  49 83 c0 10                    add r8, 0x10",
                "  R8=0000000000000015 RFL=00000002",
                "0xffffffff800f00b6:  lea r9, [rax + r8]",
                "  R9=112233445566779d",
                "  RAX=0000000000000000 RFL=00000046",
                # The full dump before the first traced instruction.
                "RIP=ffffffff800f00a2 RFL=00000086 [--S--P-] CPL=0 II=0 A20=1 SMM=0 HLT=0",
                "R8 =0000000000000000 R9 =0000000000000000 R10=0000000000000000 "
                "R11=0000000000000000",
                "CS =0008 0000000000000000 00000000 00209b00 DPL=0 CS64 [-RA]",
                "EFER=0000000000000500"):
            if want not in lines:
                fail("--accel %s: the 64-bit trace has no line %r:\n%s"
                     % (accel, want, "\n".join(lines)))
        code = [line for line in lines if not line.startswith((" ", "-", "IN:"))
                and not re.match(r"[A-Z][A-Z0-9 ]{1,3}=", line)]
        if len(code) != 14 or any("ffffffff800f00" not in line for line in code):
            fail("--accel %s: -dfilter above 4 GiB kept other lines:\n%s"
                 % (accel, "\n".join(code)))
        if run(["-d", "exec", "-dtrigger", "%#x" % (HIGH + 0xb2), "-dcount", "2"]).splitlines() \
                != [line for line in lines if line.startswith("0008:ffffffff800f00b")][:2]:
            fail("--accel %s: -dtrigger above 4 GiB" % accel)
        if run(["-d", "exec", "-dfilter", "%#x+6" % (HIGH + 0xac)]).splitlines() != \
                ["0008:ffffffff800f00ac  41 b8 05 00 00 00              mov r8d, 5"]:
            fail("--accel %s: -dfilter A+LEN above 4 GiB" % accel)
        # in_asm from the start: the jump to the alias starts a new block.
        in_asm = run(["-d", "in_asm"])
        if "0x00000000000f0096:  movabs rax, 0xffffffff800f00a2\n0x00000000000f00a0:  jmp rax\n" \
                "----------------\nIN:\n0xffffffff800f00a2:  movabs rax, 0x1122334455667788\n" \
                not in in_asm:
            fail("--accel %s: -d in_asm of 64-bit code:\n%s" % (accel, in_asm))
        fault = trace(popek, fault_rom, tmp, "lmf",
                      ["-cpu", "qemu64", "--accel", accel, "-d", "int,mmu"]).splitlines()
        if fault[:2] != [
                "mmu: #PF lin=0000400000000000 err=0 (not-present read supervisor) "
                "at 0008:ffffffff800f00c4 cr3=00001000",
                "exception: vector 14 error 0x0 at 0008:ffffffff800f00c4 "
                "cr2=0000400000000000 icount=41"]:
            fail("--accel %s: the 64-bit page fault's lines:\n%s" % (accel, "\n".join(fault)))


def check_bad_filter(popek, rom):
    for bad in ("0xffffffffffffffff+2", "0x10000000000000000", "0x2000..0x1000", "-5"):
        run = subprocess.run([popek, "-bios", rom] + BASE + ["-d", "exec", "-dfilter", bad],
                             capture_output=True, text=True, timeout=60, check=False)
        err = run.stderr.strip().splitlines()
        if run.returncode == 0 or len(err) != 1 or "-dfilter" not in err[0]:
            fail("-dfilter %s: want one error line and a failure exit, got %d and %r"
                 % (bad, run.returncode, run.stderr))


def main():
    popek, golden_rom, src, guest_rom, long_rom, long_fault_rom = sys.argv[1:7]
    with tempfile.TemporaryDirectory() as tmp:
        check_golden(popek, golden_rom, src, tmp)
        check_windows(popek, golden_rom, tmp)
        check_repeatable(popek, guest_rom, tmp)
        check_cpu_dump(popek, guest_rom, tmp)
        check_long_mode(popek, long_rom, long_fault_rom, tmp)
        check_bad_filter(popek, golden_rom)
    print("trace test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
