#!/usr/bin/env python3
"""popek's man page and bash completion, generated from `popek --help`.

    help2doc.py POPEK man OUT.1          the man page
    help2doc.py POPEK bash OUT           the bash completion script
    help2doc.py POPEK check README MAN COMPLETION
                                         every option --help shows is in the
                                         README's option list, the man page
                                         and the completion (ctest docs.options)

--help is the one source: its sections ("Machine:"), entries ("  -m SIZE
   description", an entry's spec and description parted by two or more
spaces, continuation lines indented further) become the man page's OPTIONS,
and every option name in a spec becomes a completion word.  An option whose
argument is FILE, PATH or DIR completes file names; one whose argument is a
plain list of alternatives (sdl|none) completes those words.
"""
import re
import shutil
import subprocess
import sys

NAME_RX = re.compile(r"^--?[A-Za-z][\w-]*$")


def parse_help(popek):
    text = subprocess.run([popek, "--help"], capture_output=True, text=True, check=True).stdout
    sections, current, entry = [], None, None
    for line in text.splitlines():
        if not line.strip() or line.startswith("usage:"):
            continue
        if not line.startswith(" ") and line.endswith(":"):
            current = (line[:-1], [])
            sections.append(current)
            entry = None
            continue
        m = re.match(r"^  (-\S.*?)(?:\s{2,}(.*))?$", line)
        if m and current is not None:
            entry = {"spec": m.group(1).strip(), "desc": [m.group(2) or ""]}
            current[1].append(entry)
        elif entry is not None:
            # A continuation: more description, or more of a long spec when
            # the spec's own line had no description yet.
            stripped = line.strip()
            if not entry["desc"][0] and stripped.startswith(("[", "|")):
                entry["spec"] += " " + stripped
            else:
                entry["desc"].append(stripped)
    for _, entries in sections:
        for e in entries:
            e["desc"] = " ".join(d for d in e["desc"] if d)
            e["names"] = option_names(e["spec"])
    return sections


def option_names(spec):
    names = []
    for token in spec.replace(",", " ").split():
        for part in token.split("/"):
            if NAME_RX.match(part) and part not in names:
                names.append(part)
    return names


def all_names(sections):
    out = []
    for _, entries in sections:
        for e in entries:
            out += [n for n in e["names"] if n not in out]
    return out


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return ("\\&" + text) if text.startswith((".", "'")) else text


def man_page(sections):
    out = [".TH POPEK 1 \"\" \"popek\" \"User Commands\"",
           ".SH NAME", "popek \\- a binary-translating x86 PC emulator",
           ".SH SYNOPSIS", ".B popek", "[\\fIoptions\\fR]",
           ".SH DESCRIPTION",
           "popek runs an i686 PC (i440FX, PIIX3, IDE, VGA, e1000 and virtio-net) in a",
           "process, with a binary translator in the manner of early VMware and a",
           "reference interpreter.  Its options take QEMU's spelling wherever QEMU has",
           "the option.  This page is generated from \\fBpopek \\-\\-help\\fR.",
           ".SH OPTIONS"]
    for title, entries in sections:
        out.append(".SS " + roff(title))
        for e in entries:
            first = e["names"][0] if e["names"] else e["spec"].split()[0]
            rest = e["spec"][len(first):] if e["spec"].startswith(first) else " " + e["spec"]
            out.append(".TP")
            out.append("\\fB%s\\fR%s" % (roff(first), roff(rest)))
            out.append(roff(e["desc"]) if e["desc"] else "")
    out += [".SH SEE ALSO", "\\fBqemu-system-i386\\fR(1)", ""]
    return "\n".join(out)


def completion(sections):
    names = all_names(sections)
    files, choices = [], {}
    for _, entries in sections:
        for e in entries:
            args = e["spec"].split()
            if len(args) < 2:
                continue
            arg = args[1]
            for n in e["names"]:
                if re.fullmatch(r"(FILE|PATH|DIR)\w*", arg):
                    files.append(n)
                elif re.fullmatch(r"[a-z0-9-]+(\|[a-z0-9-]+)+", arg):
                    choices[n] = arg.replace("|", " ")
    lines = ["# bash completion for popek, generated from `popek --help` (docs/help2doc.py)",
             "_popek() {",
             "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
             "    case $prev in"]
    if files:
        lines.append("    %s)" % "|".join(files))
        lines.append("        COMPREPLY=($(compgen -f -- \"$cur\")); return ;;")
    for n, words in choices.items():
        lines.append("    %s)" % n)
        lines.append("        COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;" % words)
    lines += ["    esac",
              "    COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))" % " ".join(names),
              "}",
              "complete -o filenames -F _popek popek", ""]
    return "\n".join(lines)


def check(sections, readme, man, comp):
    names = all_names(sections)
    text = open(readme).read()
    m = re.search(r"^## Options\n(.*?)^## ", text, re.S | re.M)
    if not m:
        print("FAIL: README.md has no '## Options' section")
        return 1
    options_text = m.group(1)
    man_text = re.sub(r"\\f[BIRP]", "", open(man).read()).replace("\\-", "-")
    comp_text = open(comp).read()
    bad = 0

    def has(body, name):
        return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(name), body) is not None

    for n in names:
        for what, body in (("README.md's option list", options_text), ("the man page", man_text),
                           ("the bash completion", comp_text)):
            if not has(body, n):
                print(f"FAIL: {n} (in popek --help) is missing from {what}")
                bad += 1
    if shutil.which("groff"):
        res = subprocess.run(["groff", "-man", "-ww", "-z", man], capture_output=True, text=True)
        if res.returncode != 0 or res.stderr:
            print("FAIL: groff warns about the man page:\n" + res.stderr)
            bad += 1
    print(f"{len(names)} options in --help; README, man page and completion "
          f"{'agree' if not bad else 'disagree'}")
    return 1 if bad else 0


def main():
    popek, mode = sys.argv[1:3]
    sections = parse_help(popek)
    if not all_names(sections):
        print("FAIL: no options found in popek --help")
        return 1
    if mode == "man":
        open(sys.argv[3], "w").write(man_page(sections))
    elif mode == "bash":
        open(sys.argv[3], "w").write(completion(sections))
    elif mode == "check":
        return check(sections, *sys.argv[3:6])
    else:
        print("usage: help2doc.py POPEK man|bash OUT | check README MAN COMPLETION")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
