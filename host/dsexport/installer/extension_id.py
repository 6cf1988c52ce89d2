"""The extension's IDs, read from ``extension/manifest.json`` (never copied by hand).

Chromium: the ID is derived from the manifest ``key`` (base64 DER SubjectPublicKeyInfo) the way
``components/crx_file/id_util.cc`` does it: SHA-256 of the DER bytes, first 16 bytes as hex,
digits 0-f mapped to a-p, e.g. ``jgaaohokgeldgdegmnjhancfdcganloj``.
Firefox: ``browser_specific_settings.gecko.id``, e.g. ``dsexport@dsexport.org``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from dsexport.errors import BadRequest, NotFound

_HEX_TO_ID = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
CHROMIUM_ID_RE = re.compile(r"^[a-p]{32}$")
#: Firefox add-on IDs: a GUID in braces or an email-like ``name@domain`` (MDN, at most 80 chars).
FIREFOX_ID_RE = re.compile(
    r"^(\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}"
    r"|[A-Za-z0-9._+-]*@[A-Za-z0-9.-]+)$"
)


@dataclass(frozen=True)
class ExtensionIds:
    """``chromium``: the 32-letter ID; ``firefox``: the gecko ID; ``manifest``: their source."""

    chromium: str
    firefox: str | None
    manifest: Path


def chromium_id_from_key(key_b64: str) -> str:
    """``chromium_id_from_key(manifest["key"])`` → ``"jgaaohokgeldgdegmnjhancfdcganloj"``."""
    try:
        der = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError) as err:
        msg = "the extension manifest's 'key' is not valid base64"
        raise BadRequest(msg) from err
    return hashlib.sha256(der).hexdigest()[:32].translate(_HEX_TO_ID)


def chromium_origin(extension_id: str) -> str:
    """``chrome-extension://<id>/``; the trailing slash is required by Chrome's allowed_origins."""
    return f"chrome-extension://{extension_id}/"


def read_ids(extension_dir: str | Path) -> ExtensionIds:
    """Both IDs of the extension in ``extension_dir`` (the folder holding manifest.json)."""
    manifest = Path(extension_dir) / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        msg = (
            f"no extension manifest at {manifest}; pass --extension-dir with the folder that "
            "holds the DS Export extension's manifest.json"
        )
        raise NotFound(msg) from err
    except (OSError, ValueError) as err:
        msg = f"cannot read the extension manifest {manifest}: {err}"
        raise BadRequest(msg) from err
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        msg = f"{manifest} has no 'key', so its Chromium ID is not pinned; restore the 'key' field"
        raise BadRequest(msg)
    gecko = (data.get("browser_specific_settings") or {}).get("gecko") or {}
    firefox = gecko.get("id") if isinstance(gecko.get("id"), str) else None
    return ExtensionIds(chromium=chromium_id_from_key(key), firefox=firefox, manifest=manifest)


def bundled_extension_dir() -> Path | None:
    """``dsexport/extension`` of an installed package (the wheel carries the extension; setup.py
    copies it there at build time); None when running from a source checkout."""
    import dsexport

    folder = Path(dsexport.__file__).resolve().parent / "extension"
    return folder if (folder / "manifest.json").is_file() else None


def find_extension_dir(start: str | Path | None = None) -> Path | None:
    """The extension this package belongs to: the one an installed package carries, else the
    ``extension/`` folder of the source tree it runs from, found by walking up from ``start``
    (default ``dsexport/__file__``: ``host/dsexport`` → repository root); None if neither."""
    if start is None:
        import dsexport

        bundled = bundled_extension_dir()
        if bundled is not None:
            return bundled
        start = Path(dsexport.__file__).resolve().parent
    for folder in (Path(start), *Path(start).parents):
        candidate = folder / "extension" / "manifest.json"
        if candidate.is_file():
            return candidate.parent
    return None
