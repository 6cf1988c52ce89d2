"""The modules a save connection loads, read from ``sys.modules`` of a real ``dsexport host`` that
answered ``ping {prepare: true}`` and saved a staged PNG, the way Chromium's "Save all" starts
one. Every module costs each connection start-up CPU on a machine that is busy downloading, so
the ones a PNG save has no use for are named here and must stay out (tests/installer's
``test_start_up_imports`` guards the ping alone the same way)."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

from native_client import ORIGIN, big_png, frame, host_argv, host_env, parse_frames

from testutil import recording_modules_env

#: Loaded only for other formats, conversions, reading or maintenance, never to save a PNG.
NOT_FOR_A_PNG_SAVE = (
    "dsexport.formats.jpeg",
    "dsexport.formats.webp",
    "dsexport.formats.gif",
    "dsexport.formats.avif",
    "dsexport.formats.svg",
    "dsexport.conventions.exif",  # EXIF is for JPEG/WebP/AVIF or files that carry it
    "dsexport.catalog.files",  # reads catalogued files: rows of older releases only
    "dsexport.catalog.search",
    "dsexport.convert",
    "dsexport.thumbnails",
    "PIL.Image",
    "PIL.features",
    "secrets",  # temporary names come from os.urandom; secrets would bring random, hmac, base64
    "random",
)


def _save_connection(home: Path, env: dict[str, str]) -> list[dict]:
    folder = home / "Downloads" / "dsexport-staging"
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f"dsx-{secrets.token_hex(16)}"
    staged.write_bytes(big_png(50_000))
    frames = frame({"type": "ping", "id": 1, "prepare": True}) + frame(
        {"type": "save_download", "id": 2, "path": str(staged), "metadata": {"prompt": "a cat"}}
    )
    proc = subprocess.run(host_argv(ORIGIN), input=frames, capture_output=True, env=env, timeout=60)
    return parse_frames(proc.stdout)


def test_a_png_save_connection_loads_no_other_format_or_reader(home, tmp_path):
    env = host_env(home)
    first = _save_connection(home, env)  # fills the ping's caches, creates the catalog
    assert [r["ok"] for r in first] == [True, True], first

    env, out = recording_modules_env(env, tmp_path, "save")
    replies = _save_connection(home, env)

    assert [r["ok"] for r in replies] == [True, True], replies
    assert replies[1]["result"]["duplicate"] is False  # a new picture: the whole path ran
    loaded = set(out.read_text().split())
    assert {"dsexport.pipeline", "dsexport.formats.png", "dsexport.catalog.batch"} <= loaded
    assert [m for m in NOT_FOR_A_PNG_SAVE if m in loaded] == []
