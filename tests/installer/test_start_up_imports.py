"""The modules a ``ping`` loads, read from ``sys.modules`` of a real host process started the way
the browser starts it (the launcher ``dsexport install`` wrote), against a named allow-list.

The host starts for every one-shot browser message, and its budget is 2x a bare interpreter
start (docs/performance.md). ``import json, struct`` alone costs most of that, so anything else
on this path must be named here with its reason: the next dependency update or a convenient
``from typing import Any`` then fails this test instead of slowing every browser call silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from installer_helpers import ORIGIN, dsexport, isolated_env, ping_as_browser

from testutil import recording_modules_env

#: The stdlib modules a ping needs, named by what the code imports; what *they* import differs
#: between Python versions (``re._compiler`` vs ``sre_compile``) and is measured, not listed.
STDLIB_NEEDED = (
    "json",  # the frames
    "struct",  # the frame header
    "contextlib",  # suppress / ExitStack in the server loop and the session
    "warnings",  # Python warnings go to the log, not to stderr (Firefox shows stderr to users)
    "__future__",  # `from __future__ import annotations` is a real import
)
if sys.platform == "win32":
    STDLIB_NEEDED += ("winreg",)  # the Pictures known folder (paths.py), built in

#: Our modules on the ping path, and why each is there.
DSEXPORT_MODULES = frozenset(
    {
        "dsexport",  # the package (__version__)
        "dsexport.cli",  # parent package of the launcher's entry point
        "dsexport.cli.host",  # the launcher's entry point
        "dsexport.errors",  # error codes for replies
        "dsexport.paths",  # cache and config folders
        "dsexport.native",
        "dsexport.native.server",  # the loop
        "dsexport.native.framing",
        "dsexport.native.caller",  # who started us
        "dsexport.native.session",
        "dsexport.native.transfer",  # abandoned chunked transfers are swept at start
        "dsexport.native.handlers",  # the table (modules load per request)
        "dsexport.native.handlers.ping",
        "dsexport.native.capabilities",  # the ping's cached answers
    }
)

#: Third-party: ``import PIL`` alone (its version keys the cached capabilities; no codecs).
THIRD_PARTY = frozenset({"PIL", "PIL._version"})

#: What the issue measured as costly, checked by name so a failure says which one came back.
NEVER = ("typing", "pathlib", "platformdirs", "argparse", "runpy", "tempfile", "shutil", "logging")


def _modules_of(code: str, env: dict[str, str]) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def _registered_manifest(tmp_path: Path, env: dict[str, str]) -> Path:
    """A Chromium host manifest whose ``path`` is the launcher ``dsexport install`` uses."""
    if sys.platform == "win32":
        # The installer points Windows browsers at the console script beside the interpreter
        # (no launcher file is written); registering would write this user's registry.
        from dsexport.installer.launcher import plan_launcher

        launcher, script = plan_launcher("windows", tmp_path, sys.executable, os.path.exists)
        assert script is None, "no dsexport-host.exe beside this Python (pip install -e .)"
        manifest = tmp_path / "org.dsexport.host.json"
        manifest.write_text(json.dumps({"path": launcher, "allowed_origins": [ORIGIN]}))
        return manifest
    profile = tmp_path / "profile"
    installed = dsexport("install", "--user-data-dir", str(profile), env=env)
    assert installed.returncode == 0, installed.stderr
    return profile / "NativeMessagingHosts" / "org.dsexport.host.json"


def test_ping_imports_only_the_allow_list(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = isolated_env(home, tmp_path / "runtime")
    manifest = _registered_manifest(tmp_path, env)
    assert ping_as_browser(str(manifest), env=env)["ok"] is True  # fills the ping's caches

    rec_env, out = recording_modules_env(env, tmp_path, "host")
    reply = ping_as_browser(str(manifest), env=rec_env)
    assert reply["ok"] is True and reply["result"]["version"]
    host = set(out.read_text().split())

    bare = _modules_of("import sys; print('\\n'.join(sys.modules))", rec_env)
    needed = _modules_of(
        f"import sys; b = set(sys.modules); import {', '.join(STDLIB_NEEDED)}; "
        "print('\\n'.join(set(sys.modules) - b))",
        rec_env,
    )
    allowed = bare | needed | DSEXPORT_MODULES | THIRD_PARTY

    assert "dsexport.native.handlers.ping" in host  # it really answered through the handler
    assert [m for m in NEVER if m in host] == []
    assert sorted(host - allowed) == [], json.dumps(sorted(host - bare), indent=1)
