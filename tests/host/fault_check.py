"""Checks an output folder and catalog after faults (kill -9, disk full, concurrent hosts).

``check_tree(out, home)`` asserts that every file under a final name is whole: it sniffs as the
format its extension says, probes, and its embedded metadata reads back; a PNG also holds exactly
the pixels of the original ``fault_worker.make_image`` it names, and its recorded sha256 is that
original's. JSON sidecars parse. Temporary files (``.dsexport-*.tmp``) may remain after a kill:
they are never under a final name, and the next save's sweep removes them. Then the catalog:
``PRAGMA integrity_check`` is ``ok`` and every row names a regular file of the recorded size
(rows for files deleted since are allowed when ``allow_missing``: the catalog's own
``find_duplicate`` checks existence before trusting a row).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from fault_worker import make_image, parse_prompt

from dsexport import pipeline
from dsexport.formats import FORMATS
from dsexport.sniff import sniff
from imagebytes import png_image_stream

_BY_EXT = {module.EXTENSION: name for name, module in FORMATS.items()}
_BY_EXT["jpeg"] = "jpeg"


@dataclass
class TreeReport:
    images: int = 0
    sidecars: int = 0
    temp_files: int = 0
    catalog_rows: int = 0
    missing_rows: int = 0
    keys: dict[tuple[int, int], list[str]] = field(default_factory=dict)


def catalog_path(home: Path) -> Path | None:
    found = sorted(home.rglob("catalog*.sqlite3"))
    return found[0] if found else None


def check_tree(out: Path, home: Path | None = None, *, allow_missing: bool = False) -> TreeReport:
    report = TreeReport()
    for dirpath, _dirs, files in os.walk(out):
        for name in files:
            path = Path(dirpath) / name
            assert not path.is_symlink(), path
            if name.startswith(".dsexport-") and name.endswith(".tmp"):
                report.temp_files += 1
                continue
            ext = path.suffix.lstrip(".").lower()
            data = path.read_bytes()
            if ext == "json":
                record = json.loads(data)  # a torn sidecar would not parse
                assert isinstance(record, dict) and record, path
                report.sidecars += 1
                continue
            assert ext in _BY_EXT, f"unexpected file {path}"
            fmt = sniff(data)
            assert fmt == _BY_EXT[ext], f"{path} sniffs as {fmt}"
            FORMATS[fmt].probe(data)
            meta = pipeline.read_metadata(path)
            assert meta is not None and meta.prompt, f"{path}: no metadata"
            key = parse_prompt(meta.prompt)
            original = make_image(*key)
            assert meta.sha256 == hashlib.sha256(original).hexdigest(), f"{path}: wrong sha256"
            if fmt == "png":
                assert png_image_stream(data) == png_image_stream(original), f"{path}: pixels"
            report.images += 1
            report.keys.setdefault(key, []).append(str(path))
    cat = catalog_path(home) if home is not None else None
    if cat is not None:
        conn = sqlite3.connect(f"file:{cat}?mode=ro", uri=True, timeout=30)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            for path, size in conn.execute("SELECT path, bytes FROM images"):
                report.catalog_rows += 1
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    report.missing_rows += 1
                    assert allow_missing, f"catalog row for a missing file: {path}"
                    continue
                assert st.st_size == size, f"catalog says {size} bytes for {path}: {st.st_size}"
        finally:
            conn.close()
    return report
