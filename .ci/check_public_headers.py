#!/usr/bin/env python3
"""Fails when asyncjobs/asyncjobs.h's include closure has <iostream>, or its internal headers
differ from those docs/design.md ("What the public headers include") lists, or a listed one
is no longer small (more than MAX_LINES lines)."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 120  # the budget docs/design.md states for a listed internal header


def closure(header):
    result = subprocess.run(["g++", "-std=c++20", "-I.", "-E", "-H", "-o", "/dev/null", header],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return {line.split()[-1].removeprefix("./") for line in result.stderr.splitlines()
            if re.match(r"^\.+ ", line)}


def announced():
    text = (ROOT / "docs/design.md").read_text()
    section = text.split("### What the public headers include", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"`(asyncjobs/internal/[\w/]+\.h)`", section))


def main():
    included = closure("asyncjobs/asyncjobs.h")
    internal = {h for h in included if h.startswith("asyncjobs/internal/")}
    listed = announced()
    problems = [f"{h} is in the closure but not announced in docs/design.md"
                for h in sorted(internal - listed)]
    problems += [f"{h} is announced in docs/design.md but no longer in the closure"
                 for h in sorted(listed - internal)]
    problems += [f"{h} has {n} lines: more than {MAX_LINES} for a listed internal header"
                 for h in sorted(listed & internal)
                 if (n := len((ROOT / h).read_text().splitlines())) > MAX_LINES]
    problems += [f"<iostream> is in the closure ({h})" for h in included if h.endswith("/iostream")]
    for problem in problems:
        print("public headers:", problem)
    if not problems:
        print(f"public headers: asyncjobs.h includes only the {len(listed)} announced "
              f"internal headers (each at most {MAX_LINES} lines), no <iostream>")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
