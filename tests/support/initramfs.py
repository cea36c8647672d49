"""Initramfs archives for the test guests: the kernel's newc cpio format,
and a guest's initramfs with files added.

Linux unpacks concatenated (each compressed) archives in order, later files
over earlier ones, so adding files to a guest is appending an archive: the
guest's own initramfs is not unpacked or rebuilt.  The kernel does not make
a missing parent directory, so newc_archive() adds an entry for each one.
"""
import gzip
import os

DIR_MODE = 0o040755
FILE_MODE = 0o100644
EXEC_MODE = 0o100755


def newc_archive(files):
    """A cpio archive in the kernel's newc format.  files: (path, mode,
    data) with relative paths; their parent directories come first."""
    out = bytearray()
    listed = {name for name, _, _ in files}
    entries = []
    made = set()
    for name, mode, data in files:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in made and d not in listed:
                made.add(d)
                entries.append((d, DIR_MODE, b""))
        entries.append((name, mode, data))

    def entry(ino, name, mode, data):
        nameb = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nameb), 0]
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + nameb)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data) in enumerate(entries, start=1):
        entry(ino, name, mode, data)
    entry(0, "TRAILER!!!", 0, b"")
    return bytes(out)


def extend_initramfs(base, out, files, level=9):
    """Write to out the initramfs base with files (as newc_archive takes
    them) appended as a second gzip'd archive; returns out."""
    with open(base, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        f.write(data + gzip.compress(newc_archive(files), level))
    return out


def host_file(path, mode=None):
    """(path inside the archive, mode, bytes) for a host file kept at the
    same absolute path in the guest; mode defaults to the file's own."""
    st = os.stat(path)
    with open(path, "rb") as f:
        return (path.lstrip("/"), mode or (0o100000 | (st.st_mode & 0o777)), f.read())
