"""Stress tests: long (each bounded to about two minutes), so they are marked ``stress`` and left
out of the normal suite (``-m "not stress"`` in pyproject's addopts). Run them with
``bash tests/stress/run.sh``. Each test records its figures with ``record`` (printed, and appended
as JSON lines to ``$DSEXPORT_STRESS_RESULTS``, default ``/tmp/dsexport-stress-results.jsonl``),
from which docs/reliability.md is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The fault worker, checker and native client live beside the host tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "host"))


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    stress = [i for i in items if Path(str(i.fspath)).resolve().is_relative_to(here)]
    for item in stress:
        item.add_marker(pytest.mark.stress)
    # A -m on the command line replaces addopts' "not stress" (e.g. -m "not e2e"): stress tests
    # still run only when the expression names them.
    if "stress" not in (config.option.markexpr or ""):
        config.hook.pytest_deselected(items=stress)
        items[:] = [i for i in items if i not in stress]
