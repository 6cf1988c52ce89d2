"""Figures from stress runs: printed and appended as JSON lines for docs/reliability.md."""

from __future__ import annotations

import json
import os
import time


def record(name: str, **figures) -> None:
    line = {"test": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}
    print(f"\nFIGURES {json.dumps(line)}", flush=True)
    path = os.environ.get("DSEXPORT_STRESS_RESULTS", "/tmp/dsexport-stress-results.jsonl")
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
