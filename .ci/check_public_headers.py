#!/usr/bin/env python3
"""Fails when asyncjobs/asyncjobs.h's include closure has <iostream> or an internal header
that docs/design.md ("What the public headers include") does not announce."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    problems = [f"{h} is in the closure but not announced in docs/design.md"
                for h in sorted(h for h in included if h.startswith("asyncjobs/internal/") and h not in announced())]
    problems += [f"<iostream> is in the closure ({h})" for h in included if h.endswith("/iostream")]
    for problem in problems:
        print("public headers:", problem)
    if not problems:
        print(f"public headers: asyncjobs.h includes only the {len(announced())} announced "
              "internal headers, no <iostream>")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
