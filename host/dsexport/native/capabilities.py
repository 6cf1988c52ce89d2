"""What this installation can do, for ``ping``: formats it can write (depends on the Pillow
build), those it cannot and why, and formats it can read.

Asking Pillow costs about 15 ms (``PIL.features`` imports the codec modules), as much as the whole
interpreter start, and ``ping`` runs in a fresh process for every one-shot browser message. The
answer is therefore cached in ``<cache_dir>/capabilities.json``, keyed by the dsexport version and
the Pillow version and location; ``import PIL`` alone (for the key) is cheap.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CACHE_FILE_NAME = "capabilities.json"


def _cache_key() -> str:
    from dsexport import __version__

    try:
        import PIL
    except ImportError:
        return f"dsexport {__version__}; no Pillow"
    return f"dsexport {__version__}; Pillow {PIL.__version__} at {os.path.dirname(PIL.__file__)}"


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    import dataclasses

    return dataclasses.asdict(value)


def compute() -> dict[str, Any]:
    """Ask the formats package (and through it Pillow); expensive."""
    try:
        from dsexport.formats import capabilities as formats_capabilities
    except ImportError:
        return _fallback()
    return _as_dict(formats_capabilities())


def _fallback() -> dict[str, Any]:
    # NOTE(host): used only until dsexport.formats exposes capabilities(); same shape.
    write: list[str] = ["original"]
    not_writable: dict[str, str] = {}
    try:
        from PIL import features
    except ImportError:
        features = None
    checks = {"png": "zlib", "jpeg": "jpg", "webp": "webp", "avif": "avif"}
    for fmt, feature in checks.items():
        try:
            ok = bool(features and features.check(feature))
        except ValueError:  # feature unknown to this Pillow version
            ok = False
        if ok:
            write.append(fmt)
        else:
            not_writable[fmt] = f"this Pillow build has no {feature} support"
    return {
        "write_formats": write,
        "not_writable": not_writable,
        "read_formats": ["png", "jpeg", "webp", "gif", "avif", "svg"],
    }


def cached(cache_dir: Path | None = None) -> dict[str, Any]:
    """``compute()`` once per dsexport/Pillow combination."""
    if cache_dir is None:
        from dsexport import paths

        cache_dir = paths.cache_dir()
    path = cache_dir / CACHE_FILE_NAME
    key = _cache_key()
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
        if isinstance(stored, dict) and stored.get("key") == key:
            value = stored.get("capabilities")
            if isinstance(value, dict):
                return value
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{CACHE_FILE_NAME}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "capabilities": value}, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
    return value
