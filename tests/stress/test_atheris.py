"""The bounded atheris run (see fuzz_atheris.py): no crash, no hang, no memory blow-up within
``DSEXPORT_ATHERIS_SECONDS`` (default 110 s); records how many inputs were tried."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from stress_record import record

from testutil import require_module

SCRIPT = Path(__file__).with_name("fuzz_atheris.py")


def test_atheris_frames_sniff_probe_embed_extract(tmp_path):
    require_module("atheris")
    seconds = int(os.environ.get("DSEXPORT_ATHERIS_SECONDS", "110"))
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            f"-max_total_time={seconds}",
            "-rss_limit_mb=2048",
            "-timeout=20",
            f"-artifact_prefix={tmp_path}/",
            "-print_final_stats=1",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        env={**os.environ, "DSEXPORT_ATHERIS_CORPUS": str(tmp_path / "corpus")},
        check=False,
    )
    tail = proc.stderr[-4000:]
    done = re.search(r"Done (\d+) runs in (\d+) second", proc.stderr)
    crashes = sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith(("crash", "timeout", "oom", "leak"))
    )
    record(
        "atheris",
        inputs=int(done.group(1)) if done else None,
        seconds=int(done.group(2)) if done else None,
        crashes=len(crashes),
        exit_code=proc.returncode,
        corpus_files=len(list((tmp_path / "corpus").iterdir())),
    )
    assert proc.returncode == 0 and not crashes, tail
    assert done, tail
