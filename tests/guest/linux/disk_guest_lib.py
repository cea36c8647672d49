"""The disk test guest (tests/guests/build-disk-guest.sh: IDE, virtio-blk and
ext4 modules loaded by its /init) driven over its serial shell, for tests
that kill popek in the middle of a run.  Imported, not run."""
import os
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_guest import BOOT_TIMEOUT, MARKER, Guest, check  # noqa: E402,F401


def boot(popek, guestdir, accel, extra):
    """Boot to the guest's shell prompt with extra popek options.  acpi=off
    as in disk_guest.sh; quiet keeps the kernel's lines off the console."""
    g = Guest(popek, guestdir, accel, extra, append_extra="acpi=off quiet",
              initrd=os.path.join(guestdir, "initramfs-disk.cpio.gz"))
    g.read_until(MARKER, BOOT_TIMEOUT)
    g.read_until(rb"[#$] ", 60)
    return g


def send(g, line):
    """Type a command line without waiting for it (run() waits)."""
    g.proc.stdin.write(line.encode() + b"\n")
    g.proc.stdin.flush()


def kill(g):
    """SIGKILL, as a host crash of popek's process would end it: no exit
    path runs, nothing popek holds in its own memory is written."""
    g.proc.send_signal(signal.SIGKILL)
    g.proc.wait(60)
    check(g.proc.returncode == -signal.SIGKILL, "popek was killed by SIGKILL",
          f"status {g.proc.returncode}")


def reboot(g):
    """reboot -f, which -no-reboot turns into popek's exit with status 0."""
    send(g, "reboot -f")
    status = g.wait_exit(120)
    check(status == 0, "reboot -f ends popek with status 0", f"status {status}")
