#!/usr/bin/env python3
"""What a QEMU user expects of the Linux guest (issue 15), in one boot.

    qemu_habits.py POPEK GUESTDIR [--accel ENGINE]

  - the CPU: Linux finds the P6's performance counters (no "Failed to access
    perfctr msr" in dmesg) and the hypervisor bit (the "hypervisor" cpuinfo
    flag; Linux prints "Hypervisor detected" only for hypervisors it knows,
    and popek is not one, as QEMU's TCG is not);
  - virtual time stops with the VM: after the monitor's stop, a few seconds,
    and cont, the guest's uptime has advanced by the running time only;
  - -rtc base=localtime starts the RTC at the host's local time (the test
    runs popek with TZ three hours east of UTC; the guest takes the RTC as
    UTC, so its clock is three hours ahead of the host's);
  - `poweroff` (not just `poweroff -f`) ends popek with status 0.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_guest import Guest, MARKER, check  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from monitor_client import Monitor  # noqa: E402

PAUSE = 4.0  # seconds the VM stays stopped


def uptime(g):
    out, rc = g.run("cat /proc/uptime")
    return float(out.split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("popek")
    ap.add_argument("guestdir")
    ap.add_argument("--accel", default="bt")
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    mon_path = os.path.join(work, "mon.sock")
    os.environ["TZ"] = "UTC-3"  # POSIX: local time is UTC + 3 h
    g = Guest(args.popek, args.guestdir, args.accel,
              ["-monitor", f"unix:{mon_path},server,nowait", "-rtc", "base=localtime"])
    try:
        g.read_until(MARKER, 900)
        g.read_until(rb"[#$] ", 60)
        mon = Monitor(mon_path, connect_timeout=20, io_timeout=20)

        out, rc = g.run("dmesg", kernel_lines=True)
        check(rc == 0 and "Failed to access perfctr msr" not in out,
              "dmesg has no perfctr MSR failure",
              "\n".join(ln for ln in out.splitlines() if "perf" in ln.lower()))
        # The CPU is family 6 model 15 (a Core 2, for SSE2-SSSE3) without the
        # architectural-perfmon leaf: Linux finds no PMU driver for it and
        # says so, instead of faulting on the P6 MSRs (the old failure).
        # With a P6 model it runs its P6 driver on popek's counters.
        pmu = [ln for ln in out.splitlines() if "Performance Events:" in ln]
        check(any("p6 PMU driver" in ln or "software events only" in ln for ln in pmu),
              "Linux's PMU probe ends cleanly", "\n".join(pmu))
        out, rc = g.run("grep -m1 '^flags' /proc/cpuinfo")
        check("hypervisor" in out.split(), "cpuinfo shows the hypervisor flag", out)

        out, rc = g.run("date +%s")
        ahead = int(out.split()[-1]) - time.time()
        check(abs(ahead - 3 * 3600) < 120, "-rtc base=localtime: the RTC started at local time",
              f"guest clock {ahead:+.0f} s from the host's UTC")

        u0, h0 = uptime(g), time.monotonic()
        mon.cmd("stop")
        time.sleep(PAUSE)
        mon.cmd("cont")
        u1, h1 = uptime(g), time.monotonic()
        ran = (h1 - h0) - PAUSE
        print(f"host {h1 - h0:.2f} s with {PAUSE:.1f} s stopped; guest uptime advanced "
              f"{u1 - u0:.2f} s")
        check(0 < u1 - u0 < ran + 1.5,
              "guest uptime does not count the time the VM was stopped",
              f"uptime {u0:.2f} -> {u1:.2f}")

        g.proc.stdin.write(b"poweroff\n")
        g.proc.stdin.flush()
        status = g.wait_exit(120)
        check(status == 0, "poweroff (without -f) ends popek with status 0", f"status {status}")
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
        try:
            os.unlink(mon_path)
        except OSError:
            pass
        os.rmdir(work)


if __name__ == "__main__":
    main()
