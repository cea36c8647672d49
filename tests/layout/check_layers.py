#!/usr/bin/env python3
"""The folder map of docs/architecture.md, enforced: every #include in a
source folder must point at a folder that folder may depend on.

  tests/layout/check_layers.py SOURCE_DIR
  tests/layout/check_layers.py --selftest   (plants forbidden includes in a
                                             scratch tree; each must be found)

Prints each forbidden include (file:line, what, and the rule it breaks)
and exits 1 if there is any; 0 when the layering holds.
"""
import os
import re
import sys
import tempfile

# Folder -> the project folders its files may include.  Folders not listed
# (frontend/, tests/) may include anything.  Interface headers of the host
# backends are the only part of them the emulated hardware may see.
BACKEND_INTERFACES = {"block/block.h", "chardev/char.h", "net/net.h"}
# What a device sees of saved VM state: its field tables.
VMSTATE_INTERFACE = {"migration/vmstate.h"}
ALLOWED = {
    "cpu": {"cpu", "softmmu"},
    "softmmu": {"softmmu", "cpu"},
    "translator": {"translator", "cpu", "softmmu"},
    "hw": {"hw", "softmmu"} | BACKEND_INTERFACES | VMSTATE_INTERFACE,
    # The board assembles everything below the frontend and runs it.
    "hw/pc": {"hw", "softmmu", "cpu", "bios", "translator/translator.h", "migration"} |
             BACKEND_INTERFACES,
    "bios": {"bios", "hw", "softmmu", "cpu"},
    "block": {"block"},
    "chardev": {"chardev"},
    "net": {"net"},
    # Saved state knows the timer list (deadlines relative to virtual now)
    # and nothing else of the machine.
    "migration": {"migration", "hw/core/timer.h"},
}
# System headers only one layer may use.
SYSTEM_OWNERS = {"slirp/": "net", "SDL": "frontend", "capstone/": None}

INCLUDE_RX = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


def layer_of(rel):
    """The most specific ALLOWED key that rel (a path) lies in, or None."""
    best = None
    for key in ALLOWED:
        if rel == key or rel.startswith(key + "/"):
            if best is None or len(key) > len(best):
                best = key
    return best


def allowed(layer, target):
    for a in ALLOWED[layer]:
        if target == a or target.startswith(a + "/"):
            return True
    return False


def scan(top):
    bad = []
    checked = 0
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, top)
            layer = layer_of(rel)
            text = open(path, encoding="utf-8", errors="replace").read()
            for m in INCLUDE_RX.finditer(text):
                kind, target = m.group(1), m.group(2)
                line = text.count("\n", 0, m.start()) + 1
                checked += 1
                if kind == "<":
                    for prefix, owner in SYSTEM_OWNERS.items():
                        if target.startswith(prefix) and owner and layer and \
                                not rel.startswith(owner + "/"):
                            bad.append(f"{rel}:{line}: <{target}> belongs to {owner}/ only")
                    continue
                if layer and "/" in target and not allowed(layer, target):
                    bad.append(f"{rel}:{line}: \"{target}\": {layer}/ may include only "
                               f"{', '.join(sorted(ALLOWED[layer]))}")
    return bad, checked


# (file, include line, must be reported)
SELFTEST = [
    ("cpu/a.c", '#include "translator/translator.h"', True),
    ("cpu/b.c", '#include "softmmu/phys.h"', False),
    ("hw/char/c.c", '#include "frontend/options.h"', True),
    ("hw/char/d.c", '#include "chardev/char.h"', False),
    ("hw/char/e.c", '#include "chardev/chardev.h"', True),
    ("hw/net/f.c", "#include <slirp/libslirp.h>", True),
    ("net/g.c", "#include <slirp/libslirp.h>", False),
    ("hw/pc/h.c", '#include "translator/translator.h"', False),
    ("hw/pc/i.c", '#include "frontend/host.h"', True),
    ("translator/j.c", '#include "hw/core/timer.h"', True),
    ("block/k.c", '#include "hw/ide/ide.h"', True),
    ("hw/timer/l.c", '#include "migration/vmstate.h"', False),
    ("hw/timer/m.c", '#include "migration/registry.h"', True),
    ("migration/n.c", '#include "cpu/state.h"', True),
]


def selftest():
    failed = 0
    with tempfile.TemporaryDirectory() as top:
        for rel, line, expect in SELFTEST:
            path = os.path.join(top, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(line + "\n")
        bad, _ = scan(top)
        for rel, line, expect in SELFTEST:
            found = any(b.startswith(rel + ":") for b in bad)
            if found != expect:
                print(f"selftest: {rel}: {line}: {'missed' if expect else 'wrongly reported'}")
                failed += 1
    print(f"check_layers selftest: {len(SELFTEST) - failed} of {len(SELFTEST)} right")
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    bad, checked = scan(sys.argv[1] if len(sys.argv) > 1 else ".")
    for b in bad:
        print(b)
    print(f"check_layers: {checked} includes checked, {len(bad)} forbidden")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
