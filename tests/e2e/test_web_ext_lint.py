"""Mozilla's own linter on the extension: no errors (what addons.mozilla.org would reject)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from e2e_support import EXTENSION_DIR, REPO, require_tool

pytestmark = pytest.mark.e2e


def _web_ext() -> list[str]:
    local = REPO / "node_modules" / ".bin" / "web-ext"
    if local.exists():
        return [str(local)]
    if shutil.which("web-ext"):
        return ["web-ext"]
    return [require_tool("npx"), "--yes", "web-ext"]


def test_web_ext_lint_reports_no_errors():
    proc = subprocess.run(
        [*_web_ext(), "lint", "--source-dir", str(EXTENSION_DIR), "--output", "json", "--no-input"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    start = proc.stdout.find("{")
    assert start >= 0, f"web-ext printed no report:\n{proc.stdout}\n{proc.stderr}"
    report = json.loads(proc.stdout[start:])
    errors = [f"{e.get('file')}: {e.get('code')}: {e.get('message')}" for e in report["errors"]]
    assert report["count"] >= 0
    assert not errors, "\n".join(errors)
