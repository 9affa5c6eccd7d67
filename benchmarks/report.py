"""BENCHMARKS.md is written by several sessions; each owns one marked section of it."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "BENCHMARKS.md"
HEADER = """# Benchmarks and reliability

Written by `nox -s bench` (performance, and `check` against pytest-alembic), `nox -s faults`
(reliability), `nox -s load` (the server under load) and `nox -s adopt` (real projects); each
session replaces only its own section. Figures are wall-clock seconds on the machine named in each
section: median and min-max over the stated number of runs.
"""


def machine() -> str:
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    if hasattr(os, "sysconf"):
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {date}; commit {commit}"
    )


def write_section(name: str, body: str) -> Path:
    """Replace the ``name`` section of BENCHMARKS.md (create the file if needed), atomically."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = REPORT.read_text() if REPORT.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix=".BENCHMARKS.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, REPORT)
    return REPORT
