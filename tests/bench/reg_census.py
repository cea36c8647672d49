#!/usr/bin/env python3
"""Which guest registers real 64-bit code uses, and what each register
scheme of the translator would pay for it (a tool run by hand).

  tests/bench/reg_census.py [--scale F] [--workloads a,b,...]

The 64-bit translator pins RAX..RDI in the host registers of the same name
and RSP in R12, and keeps R8-R15 in CPUState (translator/README.md, "64-bit
code").  Issue 19 asks that scheme to be measured against its alternatives:
the hottest registers pinned, whichever they are, or a per-block allocation
that loads the R8-R15 a block uses at its entry and stores them at its
exits.  This tool measures what decides between them, exactly, on the same
x86-64 binaries the amd64 guest runs (tests/bench/guest_bench.py --arch
x86_64: the workloads binary and Debian's amd64 busybox-static):

  - each workload runs natively under valgrind's callgrind with
    --dump-instr=yes, which counts every user-mode instruction executed;
  - objdump's disassembly of the binaries names each instruction's
    registers (an operand or an address's base or index counts once per
    mention; a byte or dword name counts for its register);
  - instructions are grouped into basic blocks (split after every branch,
    call and return, and before every direct branch target), near enough
    to the translator's blocks, which also end at every branch.

Per workload it prints each register's share of all register mentions,
the share of executed instructions that name any of R8-R15, and three
costs in CPUState accesses per 1000 instructions executed:
  today      one access per R8-R15 mention (translator/README.md: a
             register in CPUState is staged through R9/R14 or used in
             place as a memory operand, one load or store each);
  per block  for each block executed, a load of each R8-R15 register it
             reads before writing and a store of each it writes (an
             operand's reads and writes from its mnemonic: MOV, LEA, POP,
             SETcc write their first operand, CMP, TEST, PUSH read it, the
             rest do both); a lower bound, as it assumes free host
             registers for them, which the translator does not have
             (R8-R11 and R13-R15 are its own);
  hottest 8  today's cost if the eight most-mentioned registers of that
             workload besides RSP (which stays in R12) were the pinned ones
             instead of RAX, RCX, RDX, RBX, RBP, RSI, RDI and ... (the
             scheme pins seven plus RSP; the alternative gets eight, to be
             generous to it).
The kernel's code is not measured (callgrind sees user mode only).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_bench  # noqa: E402

REGS = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
PINNED = set(REGS[:8])  # RAX..RDI, RSP as R12
EXTENDED = set(REGS[8:])
# Every name objdump gives a general register, to the 64-bit register it is part of.
ALIASES = {}
for full, d, w, b in (("rax", "eax", "ax", "al"), ("rcx", "ecx", "cx", "cl"),
                      ("rdx", "edx", "dx", "dl"), ("rbx", "ebx", "bx", "bl"),
                      ("rsp", "esp", "sp", "spl"), ("rbp", "ebp", "bp", "bpl"),
                      ("rsi", "esi", "si", "sil"), ("rdi", "edi", "di", "dil")):
    for name in (full, d, w, b):
        ALIASES[name] = full
for hi, full in (("ah", "rax"), ("ch", "rcx"), ("dh", "rdx"), ("bh", "rbx")):
    ALIASES[hi] = full
for i in range(8, 16):
    for suffix in ("", "d", "w", "b"):
        ALIASES[f"r{i}{suffix}"] = f"r{i}"
REG_RX = re.compile(r"\b(" + "|".join(sorted(ALIASES, key=len, reverse=True)) + r")\b")
INSN_RX = re.compile(r"^\s*([0-9a-f]+):\s+(.*)$")
BRANCH_RX = re.compile(r"^(j\w+|call\w*|ret\w*|loop\w*|syscall|int\d?|hlt|ud2)\b")
TARGET_RX = re.compile(r"^(?:j\w+|call\w*|loop\w*)\s+([0-9a-f]+)\b")


# First operands that are written and not read; compares and stores to
# memory name registers they only read.  Everything else reads and writes
# its first register operand (ADD, XOR, shifts...), and reads the rest.
WRITE_ONLY = re.compile(r"^(mov\w*|lea|pop|set\w+|cvt\w+|bsf|bsr|rdtsc\w*|cpuid|xor)$")
READ_ONLY = re.compile(r"^(cmp\w*|test|push|bt|jmp|call|out\w*|div|idiv|mul|imul)$")


def operand_regs(text):
    """[(register, reads, writes)] named by one instruction's operands."""
    mnemonic, _, ops = text.partition(" ")
    out = []
    for i, op in enumerate(x.strip() for x in ops.split(",")) if ops else ():
        for name in REG_RX.findall(op):
            reg = ALIASES[name]
            if "[" in op or i > 0 or READ_ONLY.match(mnemonic):
                out.append((reg, True, False))  # an address, a source, a compare
            elif WRITE_ONLY.match(mnemonic) and not (mnemonic == "xor" and ops.count(op) < 2):
                out.append((reg, False, True))  # xor r, r (a zeroing idiom) reads nothing
            else:
                out.append((reg, True, True))
    return out


def disassemble(path):
    """{address: (instruction text, [(register, reads, writes)])}, and the
    set of direct branch targets."""
    r = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-M", "intel", path],
                       capture_output=True, text=True, check=True)
    insns, targets = {}, set()
    for line in r.stdout.splitlines():
        m = INSN_RX.match(line)
        if not m:
            continue
        addr, text = int(m.group(1), 16), m.group(2).split("#")[0].split("<")[0].strip()
        text = re.sub(r"^(rep\w* |lock |bnd |notrack |data16 |cs |ds )+", "", text)
        insns[addr] = (text, operand_regs(text))
        t = TARGET_RX.match(text)
        if t:
            targets.add(int(t.group(1), 16))
    return insns, targets


def parse_callgrind(path):
    """{(object, address): instructions executed} from a --dump-instr=yes file."""
    counts = collections.Counter()
    obj_names, obj = {}, None
    pos = 0
    skip_next = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            if line.startswith("ob="):
                m = re.match(r"ob=\((\d+)\)(?: (.*))?", line)
                if m.group(2):
                    obj_names[m.group(1)] = m.group(2)
                obj = obj_names.get(m.group(1))
                continue
            if line.startswith("calls="):
                skip_next = True  # the next cost line is the call's inclusive cost
                continue
            if not (line[0] in "+-*0123456789"):
                continue  # fn=, fl=, cob=, summary: and the like
            parts = line.split()
            p = parts[0]
            if p == "*":
                pass
            elif p[0] in "+-":
                pos += int(p, 16) if p.startswith(("+0x", "-0x")) else int(p)
            else:
                pos = int(p, 16) if p.startswith("0x") else int(p)
            if skip_next:
                skip_next = False
                continue
            if obj and len(parts) >= 3:
                counts[(obj, pos)] += int(parts[2])
    return counts


def block_cost(first_read, written):
    """A per-block allocation's CPUState accesses for one execution of a
    block: a load of each R8-R15 register the block reads before it writes
    it, a store of each it writes."""
    return len(first_read) + len(written)


def census(counts, disasm):
    """Register mentions and each scheme's CPUState accesses over the
    executed instructions."""
    mentions = collections.Counter()
    executed = ext_insns = 0
    today = per_block = 0
    for obj, (insns, targets) in disasm.items():
        first_read, written, seen, block_count, block_open = set(), set(), set(), 0, False
        for a in sorted(insns):
            n = counts.get((obj, a), 0)
            text, regs = insns[a]
            if a in targets or not block_open:
                per_block += block_cost(first_read, written) * block_count
                first_read, written, seen, block_count, block_open = set(), set(), set(), n, True
            ext = [(reg, rd, wr) for reg, rd, wr in regs if reg in EXTENDED]
            for reg, rd, wr in ext:
                if rd and reg not in seen:
                    first_read.add(reg)
                if wr:
                    written.add(reg)
            seen.update(reg for reg, _, _ in ext)
            if n:
                executed += n
                for reg, _, _ in regs:
                    mentions[reg] += n
                if ext:
                    ext_insns += n
                    today += len(ext) * n
            if BRANCH_RX.match(text):
                block_open = False
        per_block += block_cost(first_read, written) * block_count
    return executed, ext_insns, mentions, today, per_block


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--workloads", default="integer,memory,branches,calls,qsort,recursion,interp,"
                    "bb-gzip,bb-sha256,bb-sort,bb-awk,bb-sed,bb-shloop")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="popek-regcensus-")
    binary, _ = guest_bench.arch_workloads("x86_64", scratch)
    busybox, why = guest_bench.native_busybox(scratch, "amd64")
    if not busybox:
        sys.exit(f"reg_census: {why}")
    disasm = {os.path.realpath(p): disassemble(p) for p in (binary, busybox)}
    print(f"x86-64 workloads at scale {args.scale}, user-mode instructions counted by callgrind")
    print(f"{'workload':10} {'insns':>11} {'R8-R15 insns':>12} {'today':>7} {'per block':>9} "
          f"{'hottest 8':>9}  hottest eight registers (share of mentions)")
    totals = collections.Counter()
    for name in args.workloads.split(","):
        out = os.path.join(scratch, f"cg.{name}.%p")
        cmd = ["valgrind", "-q", "--tool=callgrind", "--dump-instr=yes", "--trace-children=yes",
               f"--callgrind-out-file={out}", binary, "--scale", str(args.scale),
               "--busybox", busybox, name]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"reg_census: {name} failed under valgrind:\n{r.stderr[-2000:]}")
        counts = collections.Counter()
        for f in os.listdir(scratch):
            if f.startswith(f"cg.{name}."):
                counts.update(parse_callgrind(os.path.join(scratch, f)))
        counts = collections.Counter({(os.path.realpath(o), a): n for (o, a), n in counts.items()})
        executed, ext_insns, mentions, today, per_block = census(counts, disasm)
        total = sum(mentions.values()) or 1
        # RSP stays in R12 whatever else is pinned: the hottest eight others.
        hot = [reg for reg, _ in mentions.most_common() if reg != "rsp"][:8]
        hot_cost = sum(n for reg, n in mentions.items() if reg not in hot and reg != "rsp")
        k = 1000.0 / max(executed, 1)
        hot_text = " ".join(f"{reg} {100.0 * mentions[reg] / total:.0f}%" for reg in hot)
        print(f"{name:10} {executed:11d} {100.0 * ext_insns * k / 1000:11.1f}% {today * k:7.1f} "
              f"{per_block * k:9.1f} {hot_cost * k:9.1f}  {hot_text}")
        totals.update({"executed": executed, "ext": ext_insns, "today": today,
                       "per_block": per_block, "hot": hot_cost})
        totals.update({f"reg:{reg}": n for reg, n in mentions.items()})
    k = 1000.0 / max(totals["executed"], 1)
    regs = {reg: totals[f"reg:{reg}"] for reg in REGS}
    total = sum(regs.values()) or 1
    print(f"{'all':10} {totals['executed']:11d} {100.0 * totals['ext'] * k / 1000:11.1f}% "
          f"{totals['today'] * k:7.1f} {totals['per_block'] * k:9.1f} {totals['hot'] * k:9.1f}")
    print("share of register mentions, all workloads: " +
          " ".join(f"{reg} {100.0 * n / total:.1f}%" for reg, n in
                   sorted(regs.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
