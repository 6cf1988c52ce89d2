"""Constants and helpers shared by the installer tests."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

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
    return subprocess.run(
        [sys.executable, "-m", "dsexport", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


MAC_APP_SUPPORT = "Library/Application Support"


def chromium_manifest(home) -> Path:
    """Where ``dsexport install`` writes Chromium's host manifest for a user whose home is
    ``home`` (Linux and macOS); its parent's parent is the folder that marks Chromium installed."""
    base = Path(home) / (
        f"{MAC_APP_SUPPORT}/Chromium" if sys.platform == "darwin" else ".config/chromium"
    )
    return base / "NativeMessagingHosts" / f"{HOST}.json"


def user_data_dir(home, env: dict) -> Path:
    """DS Export's data folder for that user (``dsexport.paths.data_dir`` with ``env``)."""
    xdg = env.get("XDG_DATA_HOME", "")
    if sys.platform != "win32" and xdg.startswith("/"):
        return Path(xdg) / "dsexport"
    if sys.platform == "darwin":
        return Path(home) / MAC_APP_SUPPORT / "dsexport"
    if sys.platform == "win32":
        return Path(env["LOCALAPPDATA"]) / "dsexport"
    return Path(home) / ".local" / "share" / "dsexport"


def record_manifests(data_dir) -> list[str]:
    """The host manifests the install record lists (every OS writes files, Windows also keys)."""
    record = json.loads((Path(data_dir) / "install-state.json").read_text(encoding="utf-8"))
    return [f["path"] for f in record["files"] if f["kind"] == "manifest"]


#: Tests that write this user's real Windows registry run only when asked to (CI sets it).
REAL_REGISTRY = os.environ.get("DSEXPORT_TEST_REAL_REGISTRY") == "1"
