#!/usr/bin/env python3
# tests/tidy/tidy_check.py — checks the source tree itself (STYLE 8.9).
#
# Usage: tidy_check.py [REPOSITORY_ROOT]   (default: two folders above this file)
#
# Checks every git-tracked or untracked-but-not-ignored file (`git ls-files --cached --others
# --exclude-standard`); without a .git, walks the tree skipping build*/, data/ and out/:
#   - C++ (.h, .cc), CMakeLists.txt, *.cmake and *.fbs lines are at most 100 characters
#     (characters, not bytes: comments may hold Chinese) (STYLE 10.1);
#   - C++ holds no tab characters (STYLE 10.1);
#   - no source file holds the word FIX-ME (STYLE 7.2); docs (*.md) may mention it;
#   - quoted includes are rooted at the repository (STYLE 2.4) and point only leftwards:
#     schemas <- events <- ledger <- projections <- tools; tests/ and bench/ use anything
#     (STYLE 2.1); only tests/ and bench/ include "tests/..."; only folder X (and tests/,
#     bench/) includes "X/internal/..." (STYLE 2.2);
#   - every .cc is named in a CMakeLists.txt of its folder or an ancestor (STYLE 8.9, 9.2);
#   - every header has `#pragma once`; headers of the component folders (events/, ledger/,
#     projections/, and their internal/) start with `// <path> — <what it is>` (STYLE 4).
# Prints each problem as `path:line: message` and exits 1 if there is any.
# Standard library only: it runs with Debian's /usr/bin/python3 and nothing installed.

import os
import re
import subprocess
import sys

LINE_CHARACTERS_MAX = 100

# Spelled in two parts so that this file does not trip its own check.
FORBIDDEN_WORD = "FIX" + "ME"

CPP_SUFFIXES = (".h", ".cc")
# C++ under other names would escape the checks below (and STYLE 3.2 names files .h/.cc).
FOREIGN_CPP_SUFFIXES = (".c", ".cpp", ".cxx", ".hpp", ".hh", ".hxx")
# Files whose lines must fit in LINE_CHARACTERS_MAX, besides C++.
BUILD_SUFFIXES = (".cmake", ".fbs")
# Files searched for FORBIDDEN_WORD: everything that is code or build description.
SOURCE_SUFFIXES = CPP_SUFFIXES + FOREIGN_CPP_SUFFIXES + BUILD_SUFFIXES + (
    ".py", ".sh", ".js", ".mjs", ".yaml", ".yml", ".toml", ".clang-format")

# The top-level folders, leftmost first (STYLE 2.1). A quoted include must start with one.
TOP_FOLDERS = ("schemas", "events", "ledger", "projections", "tools", "tests", "bench")

# What a file in each layered folder may include, by the include's first folder.
# tools/, tests/ and bench/ are absent: they may include any folder (subject to the
# tests/ and internal/ rules below).
LAYER_MAY_INCLUDE = {
    "schemas": {"schemas"},
    "events": {"schemas", "events"},
    "ledger": {"schemas", "events", "ledger"},
    "projections": {"schemas", "events", "ledger", "projections"},
}

# The only ledger/ headers projections/ may include: the ledger's pure arithmetic, so that
# one formula serves the write model and the read models (STYLE 2.1, DESIGN §2). Never the
# sequencer, the decision, the write model's state or ledger/internal/. Grow this list only
# with headers that are pure functions of their arguments. ledger/policy.h qualifies: its
# ParsePolicy() is a pure function of the document it is given, and the accounts read model
# parses the PolicyChanged records' documents with it to follow the rate table in force.
PROJECTIONS_MAY_INCLUDE_FROM_LEDGER = frozenset({
    "ledger/money.h",
    "ledger/rounding.h",
    "ledger/interest.h",
    "ledger/loan_schedule.h",
    "ledger/calendar.h",
    "ledger/policy.h",
})

# Folders that may include anything, including "tests/..." and other folders' internal/.
UNRESTRICTED_FOLDERS = {"tests", "bench"}

# Headers that must open with `// <path> — ...`: those directly in these folders or in their
# internal/ (tests and tools headers are free-form).
COMPONENT_FOLDERS = ("events", "ledger", "projections")

# Skipped when walking a tree that is not a git checkout (mirrors .gitignore).
WALK_SKIP_TOP = re.compile(r"^(build.*|data|out|\..*)$")

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')
FORBIDDEN_RE = re.compile(r"\b" + FORBIDDEN_WORD + r"\b")


class Problems:
    def __init__(self):
        self.items = []

    def add(self, path, line, message):
        self.items.append((path, line, message))


def list_files(root):
    """Repository-relative paths (with '/') of the files to check."""
    if os.path.exists(os.path.join(root, ".git")):
        try:
            out = subprocess.run(
                ["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                 "--exclude-standard"],
                check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
            paths = sorted({p for p in out.decode("utf-8").split("\0") if p})
            # --cached lists files deleted from the work tree but not yet from the index.
            return [p for p in paths if os.path.isfile(os.path.join(root, p))]
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", b"") or b""
            print("tidy: git ls-files failed ({}); walking the tree instead".format(
                detail.decode("utf-8", "replace").strip() or error), file=sys.stderr)
    paths = []
    for directory, folders, files in os.walk(root):
        relative_dir = os.path.relpath(directory, root)
        if relative_dir == ".":
            folders[:] = [f for f in folders if not WALK_SKIP_TOP.match(f)]
        folders.sort()
        for name in sorted(files):
            path = os.path.normpath(os.path.join(relative_dir, name))
            paths.append(path.replace(os.sep, "/"))
    return paths


def is_cmake(path):
    return os.path.basename(path) == "CMakeLists.txt" or path.endswith(".cmake")


def is_source(path):
    return is_cmake(path) or path.endswith(SOURCE_SUFFIXES)


def top_folder(path):
    return path.split("/", 1)[0] if "/" in path else ""


def read_lines(root, path, problems):
    with open(os.path.join(root, path), "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        problems.add(path, line, "is not valid UTF-8")
        text = data.decode("utf-8", "replace")
    # Split on '\n' only: str.splitlines() would also break at U+2028 and form feeds, and
    # line numbers must match what an editor shows.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def check_lines(path, lines, problems):
    is_cpp = path.endswith(CPP_SUFFIXES + FOREIGN_CPP_SUFFIXES)
    limit_lines = is_cpp or is_cmake(path) or path.endswith(BUILD_SUFFIXES)
    for number, line in enumerate(lines, start=1):
        if limit_lines and len(line) > LINE_CHARACTERS_MAX:
            problems.add(path, number, "line is {} characters, more than {} (STYLE 10.1)".format(
                len(line), LINE_CHARACTERS_MAX))
        if is_cpp and "\t" in line:
            problems.add(path, number, "tab character; indent with spaces (STYLE 10.1)")
        if FORBIDDEN_RE.search(line):
            problems.add(path, number,
                         "{} must be resolved before merge; use TODO(#issue) for later work "
                         "(STYLE 7.2)".format(FORBIDDEN_WORD))


def include_problem(path, included):
    """Why `path` may not include "included", or None if it may."""
    here = top_folder(path)
    target = top_folder(included)
    if target not in TOP_FOLDERS:
        return ("include \"{}\" is not rooted at the repository; write the path from the root, "
                "e.g. \"events/event_log.h\" (STYLE 2.4)".format(included))
    if target == "tests" and here not in UNRESTRICTED_FOLDERS:
        return "only tests/ and bench/ may include \"{}\" (STYLE 2.1)".format(included)
    marker = "/internal/"
    at = included.find(marker)
    if at >= 0 and here not in UNRESTRICTED_FOLDERS:
        owner = included[:at]
        if not path.startswith(owner + "/"):
            return ("\"{}\" is internal to {}/; include its public headers instead "
                    "(STYLE 2.2)".format(included, owner))
    allowed = LAYER_MAY_INCLUDE.get(here)
    if allowed is not None and target not in allowed:
        return ("{}/ may not include \"{}\": dependencies point schemas <- events <- ledger "
                "<- projections <- tools (STYLE 2.1)".format(here, included))
    if (here == "projections" and target == "ledger"
            and included not in PROJECTIONS_MAY_INCLUDE_FROM_LEDGER):
        return ("projections/ may include from ledger/ only its pure arithmetic ({}), not "
                "\"{}\" (STYLE 2.1)".format(", ".join(sorted(PROJECTIONS_MAY_INCLUDE_FROM_LEDGER)),
                                           included))
    return None


def check_includes(path, lines, problems):
    for number, line in enumerate(lines, start=1):
        match = INCLUDE_RE.match(line)
        if match:
            problem = include_problem(path, match.group(1))
            if problem:
                problems.add(path, number, problem)


def is_component_header(path):
    parts = path.split("/")
    if parts[0] not in COMPONENT_FOLDERS:
        return False
    return len(parts) == 2 or (len(parts) == 3 and parts[1] == "internal")


def check_header(path, lines, problems):
    if not any(line.strip() == "#pragma once" for line in lines):
        problems.add(path, 1, "header lacks #pragma once")
    if is_component_header(path):
        first = lines[0] if lines else ""
        if not re.fullmatch(r"// " + re.escape(path) + r" — \S.*", first):
            problems.add(path, 1, "a header starts with `// {} — <what it is>` (STYLE 4)".format(
                path))


def strip_cmake_comments(text):
    """CMake text without # line comments and #[[ ]] bracket comments (roughly: enough that a
    commented-out source does not count as listed)."""
    text = re.sub(r"#\[(=*)\[.*?\]\1\]", " ", text, flags=re.S)
    out = []
    for line in text.split("\n"):
        in_quotes = False
        kept = []
        for i, ch in enumerate(line):
            if ch == '"' and (i == 0 or line[i - 1] != "\\"):
                in_quotes = not in_quotes
            elif ch == "#" and not in_quotes:
                break
            kept.append(ch)
        out.append("".join(kept))
    return "\n".join(out)


def check_cc_listed(root, files, problems):
    cmake_texts = {}
    for path in files:
        if os.path.basename(path) == "CMakeLists.txt":
            folder = os.path.dirname(path)
            lines = read_lines(root, path, Problems())
            cmake_texts[folder] = strip_cmake_comments("\n".join(lines))
    for path in files:
        if not path.endswith(".cc"):
            continue
        name = os.path.basename(path)
        # The name as a whole word: "log.cc" must not match "event_log.cc".
        pattern = re.compile(r'(?<![\w.+-])' + re.escape(name) + r'(?![\w.+-])')
        folder = os.path.dirname(path)
        while True:
            text = cmake_texts.get(folder)
            if text is not None and pattern.search(text):
                break
            if folder == "":
                problems.add(path, 1, "{} is not named in any CMakeLists.txt of its folder or "
                             "above, so nothing builds it (STYLE 8.9)".format(name))
                break
            folder = os.path.dirname(folder)


def main(argv):
    default_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    root = os.path.abspath(argv[1] if len(argv) > 1 else default_root)
    if not os.path.isdir(root):
        print("tidy: {} is not a directory".format(root), file=sys.stderr)
        return 2
    files = list_files(root)
    problems = Problems()
    checked = 0
    for path in files:
        if not is_source(path):
            continue
        checked += 1
        if path.endswith(FOREIGN_CPP_SUFFIXES):
            problems.add(path, 1, "C++ files are named .h or .cc (STYLE 3.2)")
        lines = read_lines(root, path, problems)
        check_lines(path, lines, problems)
        if path.endswith(CPP_SUFFIXES + FOREIGN_CPP_SUFFIXES):
            check_includes(path, lines, problems)
        if path.endswith(".h"):
            check_header(path, lines, problems)
    check_cc_listed(root, files, problems)
    for path, line, message in sorted(problems.items):
        print("{}:{}: {}".format(path, line, message))
    print("tidy: {} files checked, {} problem{}".format(
        checked, len(problems.items), "" if len(problems.items) == 1 else "s"))
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
