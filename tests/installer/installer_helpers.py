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
