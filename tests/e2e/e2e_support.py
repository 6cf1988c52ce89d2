"""Checks on the files a real browser run wrote: which served original each one is, whether its
image data is untouched, and what prompt exiftool and ``dsexport inspect`` read back."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsexport.demo.sample import ExpectedImage
from imagebytes import image_stream, pixels  # tests/imagebytes.py: independent container readers
from testutil import IN_CI, require_module, require_tool  # noqa: F401  (re-exported to the e2e tests)

REPO = Path(__file__).resolve().parents[2]
#: The unpacked extension under test; DSEXPORT_E2E_EXTENSION points elsewhere when debugging.
EXTENSION_DIR = Path(os.environ.get("DSEXPORT_E2E_EXTENSION") or REPO / "extension")
EXTENSION_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
GECKO_ID = "dsexport@dsexport.org"
HOST_NAME = "org.dsexport.host"
RASTER = ("png", "jpeg", "webp")


def sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "svg"
    return "unknown"


def rgba(data: bytes):
    """Decoded pixels normalised to RGBA (a conversion may change the mode, not the picture)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size, im.convert("RGBA").tobytes()


def mean_difference(a: bytes, b: bytes) -> float:
    """Mean absolute per-channel difference of two pictures of one size, both flattened onto
    white (what a JPEG conversion does with transparency)."""
    import io

    from PIL import Image, ImageChops, ImageStat

    def flat(data: bytes):
        with Image.open(io.BytesIO(data)) as im:
            im = im.convert("RGBA")
            white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, im).convert("RGB")

    stat = ImageStat.Stat(ImageChops.difference(flat(a), flat(b)))
    return sum(stat.mean) / 3


def match_original(data: bytes, expected: list[ExpectedImage]) -> ExpectedImage | None:
    """The served original whose decoded pixels equal this file's, if any."""
    mine = pixels(data)
    for exp in expected:
        if exp.fmt in RASTER and pixels(exp.body) == mine:
            return exp
    return None


def assert_same_image_data(saved: bytes, original: ExpectedImage) -> None:
    """Original mode: same container, same encoded image data byte for byte (only metadata
    chunks/segments may differ)."""
    fmt = sniff(saved)
    assert fmt == original.fmt, f"saved as {fmt}, served as {original.fmt}"
    assert image_stream(fmt, saved) == image_stream(fmt, original.body), (
        f"the encoded image data of {original.url} changed on save (re-encoded?)"
    )


def exiftool_many(paths: list[Path], exe: str = "exiftool") -> dict[Path, dict]:
    if not paths:
        return {}
    out = subprocess.run(
        [exe, "-j", "-G1", "-a", "-charset", "UTF8", *map(str, paths)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    ).stdout
    return {Path(entry["SourceFile"]): entry for entry in json.loads(out)}


def exiftool(path: Path, exe: str = "exiftool") -> dict:
    return exiftool_many([path], exe)[path]


def inspect_many(paths: list[Path]) -> dict[Path, dict]:
    """``dsexport inspect --json`` as a user runs it, one process for all files."""
    if not paths:
        return {}
    proc = subprocess.run(
        [sys.executable, "-m", "dsexport", "inspect", "--json", *map(str, paths)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"dsexport inspect failed: {proc.stderr}"
    data = json.loads(proc.stdout)
    data = data if isinstance(data, list) else [data]
    return {Path(entry["file"]): entry for entry in data}


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def embedded_prompts(wanted: dict[Path, tuple[str, ...]], exe: str = "exiftool") -> dict[Path, str]:
    """For each file, asserts one of its acceptable prompts is embedded, as both exiftool and
    ``dsexport inspect`` read it; returns the prompt found per file."""
    paths = list(wanted)
    inspected = inspect_many(paths)
    tags = exiftool_many(paths, exe)
    found: dict[Path, str] = {}
    for path, prompts in wanted.items():
        meta = (inspected[path].get("metadata") or {}).get("prompt")
        assert meta in prompts, (
            f"{path.name}: dsexport inspect reads prompt {meta!r}, want {prompts}"
        )
        hits = [k for k, v in tags[path].items() if any(meta in s for s in strings(v))]
        assert hits, (
            f"{path.name}: exiftool finds the prompt {meta!r} in no tag: {sorted(tags[path])}"
        )
        found[path] = meta
    return found


def embedded_prompt(path: Path, prompts: tuple[str, ...], exe: str = "exiftool") -> str:
    return embedded_prompts({path: prompts}, exe)[path]


def saved_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (sidecars and the catalog are not images)."""
    if not folder.exists():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".svg")
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file in ``folder``: (size, mtime_ns, bytes), to prove nothing else changed."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
        for p in folder.rglob("*")
        if p.is_file()
    }


def run_cli(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """``dsexport ARGS`` as a real subprocess of this interpreter (HOME from the environment)."""
    proc = subprocess.run(
        [sys.executable, "-m", "dsexport", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"dsexport {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def install_host(profile: Path) -> Path:
    """The real installer, as a user would run it, into this Chromium profile."""
    run_cli("install", "--user-data-dir", str(profile), "--extension-dir", str(EXTENSION_DIR))
    manifest = profile / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    assert manifest.is_file(), f"dsexport install did not write {manifest}"
    data = json.loads(manifest.read_text())
    assert f"chrome-extension://{EXTENSION_ID}/" in data["allowed_origins"]
    assert os.access(data["path"], os.X_OK), f"launcher {data['path']} is not executable"
    return manifest


def install_firefox_host(home: Path) -> Path:
    """The real installer, for Firefox, into ``home`` (the test's HOME)."""
    run_cli("install", "--browser", "firefox", "--extension-dir", str(EXTENSION_DIR))
    manifest = home / ".mozilla" / "native-messaging-hosts" / f"{HOST_NAME}.json"
    assert manifest.is_file(), f"dsexport install --browser firefox did not write {manifest}"
    data = json.loads(manifest.read_text())
    assert GECKO_ID in data["allowed_extensions"], data
    assert os.access(data["path"], os.X_OK), f"launcher {data['path']} is not executable"
    return manifest


#: The live sample's drawings, as their saved PNGs must show them: the cat's orange, the sun's
#: gold, and the chart's node fill (#E6F4EA).
DRAWING_COLOURS = {
    "猫": (0xF4, 0xA2, 0x61),
    "gold": (0xFF, 0xD7, 0x00),
    "chart": (0xE6, 0xF4, 0xEA),
}


def assert_clean_drawings(texts: list[str]) -> None:
    """The live sample's two SVG drawings, saved as SVG: both there, nothing active left."""
    assert any("猫 cat" in t for t in texts) and any('fill="gold"' in t for t in texts)
    for text in texts:
        for bad in ("<script", "onload", "tracker.example", "document.cookie", "<body"):
            assert bad not in text, f"{bad} left in {text[:200]}"


def drawings_shown(paths: list[str]) -> set[str]:
    """Which of ``DRAWING_COLOURS`` the saved PNGs show (each file must be a PNG, >= 200 px)."""
    import io

    from PIL import Image

    found = set()
    for path in paths:
        data = Path(path).read_bytes()
        assert sniff(data) == "png", path
        with Image.open(io.BytesIO(data)) as im:
            rgb = im.convert("RGB")
            assert min(rgb.size) >= 200
            seen = {px for _, px in rgb.getcolors(1 << 20) or []}
        for name, colour in DRAWING_COLOURS.items():
            if any(max(abs(a - b) for a, b in zip(px, colour, strict=True)) <= 6 for px in seen):
                found.add(name)
    return found


def _api_ready(worker, deadline: float) -> bool:
    """The worker exists a moment before its module has run and set ``globalThis.dsexport``."""
    while time.monotonic() < deadline:
        if worker.evaluate("typeof globalThis.dsexport") == "object":
            return True
        time.sleep(0.1)
    return False


def extension_worker(context, timeout: float = 15):
    """DS Export's service worker in a Playwright Chromium context, once its module has run.
    Waits for the ``serviceworker`` event between looks: a sync Playwright context only learns
    of a new worker while Playwright is called, never during a plain sleep."""
    prefix = f"chrome-extension://{EXTENSION_ID}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in context.service_workers:
            if worker.url.startswith(prefix) and _api_ready(worker, deadline):
                return worker
        with contextlib.suppress(Exception):  # Playwright's TimeoutError: look again
            context.wait_for_event("serviceworker", timeout=1000)
    pytest.fail(
        f"the extension's service worker ({prefix}) did not start within {timeout} s: "
        "check extension/manifest.json and background/main.js load without errors"
    )
