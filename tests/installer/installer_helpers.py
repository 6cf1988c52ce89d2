"""Constants and helpers shared by the installer tests."""

from __future__ import annotations

import json
import os
import struct
import subprocess

CHROMIUM_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
FIREFOX_ID = "dsexport@dsexport.org"
ORIGIN = f"chrome-extension://{CHROMIUM_ID}/"
HOST = "org.dsexport.host"


def ping_as_browser(manifest_path: str, *, env: dict | None = None, timeout: float = 20.0) -> dict:
    """Start the manifest's ``path`` exactly as the browser does (argv, cwd = its folder), send one
    framed ping and return the framed reply."""
    with open(manifest_path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    exe = manifest["path"]
    if "allowed_origins" in manifest:
        argv = [exe, manifest["allowed_origins"][0]]
    else:
        argv = [exe, manifest_path, manifest["allowed_extensions"][0]]
    body = json.dumps({"type": "ping", "id": 1}).encode()
    proc = subprocess.run(
        argv,
        input=struct.pack("=I", len(body)) + body,
        capture_output=True,
        cwd=os.path.dirname(exe),
        env=env,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout
    assert len(out) >= 4, f"no reply (exit {proc.returncode}): {proc.stderr.decode()[-2000:]}"
    (length,) = struct.unpack("=I", out[:4])
    assert len(out) >= 4 + length, f"truncated reply: {out!r}"
    return json.loads(out[4 : 4 + length])


def isolated_env(home, runtime) -> dict:
    """The environment of a user whose home is ``home``; the host's cache and logs go to
    ``runtime`` (outside home) so a file listing of home shows only what install wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CHROME_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(runtime / "cache"),
        XDG_STATE_HOME=str(runtime / "state"),
        XDG_PICTURES_DIR=str(runtime / "Pictures"),
        XDG_DOWNLOAD_DIR=str(runtime / "Downloads"),
    )
    return env


def listing(root) -> list[str]:
    """Every file and folder under ``root``, relative, folders with a trailing slash."""
    return sorted(str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in root.rglob("*"))


def dsexport(*args: str, env: dict, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run ``python -m dsexport ARGS`` with this interpreter, as a user would run the command."""
    import sys

    return subprocess.run(
        [sys.executable, "-m", "dsexport", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
