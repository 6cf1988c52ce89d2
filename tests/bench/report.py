"""Write one benchmark's section of docs/performance.md, leaving the other sections alone.

Usage from a benchmark: ``write_section("Save engine", markdown_body)``.
"""

from __future__ import annotations

import platform
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"
HEADER = """# Performance

Figures written by the benchmarks in `tests/bench/` (run them with `python tests/bench/<name>.py`).
Each compares DS Export with a baseline measured in the same run on the same machine, so the
ratios hold across machines even where absolute times do not.
"""


def machine() -> str:
    import os

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{datetime.now(timezone.utc):%Y-%m-%d}"
    )


def write_section(title: str, body: str) -> None:
    text = DOC.read_text("utf-8") if DOC.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text.rstrip() + "\n", "utf-8")
