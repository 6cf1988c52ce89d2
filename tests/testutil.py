"""Shared test helpers (import as ``from testutil import require_tool``; not from conftest, since
several conftest modules exist).

``require_tool("exiftool")`` returns the tool's path. Outside CI a missing tool skips the test;
in CI (``CI=true``) it fails it, because CI installs every tool and a skip would hide a broken step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    msg = f"{name} is not installed (apt-get install it; .ci/run does)"
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)
    raise AssertionError  # unreachable; keeps type checkers happy


def require_module(name: str):
    """Import a test-only Python package, with the same CI rule as ``require_tool``."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        msg = f"Python package {name} is not installed (pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
        raise


def skip_unless_ci(msg: str) -> None:
    """Skip a test whose precondition is missing here; in CI (``CI=true``) the machine is set up
    for every test, so the same condition is a failure."""
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


def run_dsexport(
    home: Path, *args: str, stdin: bytes | None = None, text: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``python -m dsexport ARGS`` as a person would run it, with HOME (and the XDG folders it
    implies) pointed at ``home``; ``text=False`` for bytes on stdin/stdout."""
    env = {**os.environ, "HOME": str(home)}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env.pop(var, None)
    env["XDG_PICTURES_DIR"] = str(home / "Pictures")
    return subprocess.run(
        [sys.executable, "-m", "dsexport", *args],
        input=stdin,
        capture_output=True,
        text=text,
        env=env,
        timeout=timeout,
        check=False,
    )


def sample_get(
    port: int, host: str, path: str, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` from the demo's sample server as ``host`` (its self-signed certificate is
    not checked): (status, headers as sent, body)."""
    import http.client
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


#: A ``sitecustomize`` that writes ``sys.modules`` when the process leaves through ``os._exit``
#: (as the host does after its last reply): it imports nothing the host would not already have.
MODULES_RECORDER = """
import os, sys
_exit = os._exit
def _record_and_exit(status):
    with open(os.environ["DSEXPORT_TEST_MODULES"], "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))
    _exit(status)
os._exit = _record_and_exit
"""


def recording_modules_env(env: dict[str, str], tmp_path: Path, name: str) -> tuple[dict, Path]:
    """``env`` with the recorder on ``PYTHONPATH`` → (that env, the file that gets the modules)."""
    site = tmp_path / "recorder"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(MODULES_RECORDER)
    out = tmp_path / f"{name}.modules"
    env = dict(env, DSEXPORT_TEST_MODULES=str(out))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env, out
