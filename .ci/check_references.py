#!/usr/bin/env python3
"""Fails when a comment or a doc cites something the repository does not have.

Checked in every tracked source, build, script and Markdown file:
  - include guards: each header's guard is its path (ASYNCJOBS_ + the path outside asyncjobs/);
  - cited paths (asyncjobs/..., internal/..., docs/..., tests/..., ...) exist;
  - cited doc sections (`design.md, "Layers"`, `fibers.md, trap 3`) exist;
  - nothing cites what lives outside the repository (API.md, "issue N"): say it here instead.
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".h", ".cc", ".md", ".sh", ".bazel", ".py", ".bzl"}
PATH = re.compile(r"(?<![\w./-])((?:asyncjobs|docs|tests|benchmarks|examples|third_party|tools|\.ci)"
                  r"/[\w./-]*\w\.(?:h|cc|md|sh|bazel|py|bzl))\b")
INTERNAL = re.compile(r"(?<![\w./-])(internal/[\w/]+\.(?:h|cc))\b")
SECTION = re.compile(r"\b(\w+)\.md, \"([^\"]+)\"")
TRAP = re.compile(r"\bfibers\.md, trap (\d+)")
OUTSIDE = re.compile(r"\bAPI\.md\b|\b[Ii]ssue \d+\b")


def tracked_files():
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [ROOT / n for n in names if Path(n).suffix in SUFFIXES and (ROOT / n).is_file()]


def headings(doc):
    return {line.lstrip("#").strip() for line in doc.read_text().splitlines()
            if line.startswith("#")}


def expected_guard(relative):
    name = relative if relative.startswith("asyncjobs/") else "asyncjobs/" + relative
    return re.sub(r"[/.]", "_", name).upper() + "_"


def check_file(path, problems):
    relative = path.relative_to(ROOT).as_posix()
    text = path.read_text(errors="replace")
    if path.suffix == ".h":
        guard = re.search(r"^#ifndef (\w+)", text, re.M)
        if guard and guard.group(1) != expected_guard(relative):
            problems.append(f"{relative}: include guard {guard.group(1)}, "
                            f"expected {expected_guard(relative)}")
    if relative in ("README.md",) or relative.startswith(".ci/check_references"):
        outside_ok = True  # the README talks to users about the project's history
    else:
        outside_ok = relative.startswith("docs/profiling.md")  # its dated history
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{relative}:{number}"
        for cited in PATH.findall(line):
            if not (ROOT / cited).exists() and "..." not in cited and "*" not in cited:
                problems.append(f"{where}: cites {cited}, which does not exist")
        for cited in INTERNAL.findall(line):
            if not (ROOT / "asyncjobs" / cited).exists() and not (ROOT / cited).exists():
                problems.append(f"{where}: cites {cited}, which does not exist")
        for doc, title in SECTION.findall(line):
            target = ROOT / "docs" / f"{doc}.md"
            if target.exists() and title not in headings(target):
                problems.append(f"{where}: cites section \"{title}\" of docs/{doc}.md, "
                                "which has no such heading")
        for trap in TRAP.findall(line):
            if not re.search(rf"^{trap}\. ", (ROOT / "docs/fibers.md").read_text(), re.M):
                problems.append(f"{where}: cites trap {trap} of docs/fibers.md, which has none")
        if not outside_ok and OUTSIDE.search(line):
            problems.append(f"{where}: cites something outside the repository "
                            f"({OUTSIDE.search(line).group(0)}): say it here")


def main():
    problems = []
    for path in tracked_files():
        check_file(path, problems)
    for problem in problems:
        print("references:", problem)
    if not problems:
        print("references: guards, cited paths and sections all resolve")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
