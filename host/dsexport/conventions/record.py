"""Our own record: the whole ``Metadata`` as one compact JSON object.

It is what ``dsexport inspect`` reads back first, so it must round-trip exactly, e.g.
``{"schema":"dsexport.record/1","prompt":"一只猫\\n🐱","seed":42,"origin":"generated"}``.
Keys are the ``Metadata`` field names; ``schema`` carries the version. Fields that are ``None``
(and an empty ``extra``) are left out.

The text is safe to put inside XML and to encode as UTF-8: besides what JSON already escapes
(C0 controls, quotes, backslashes), lone surrogates, U+FFFE/U+FFFF and C1 controls are written as
``\\uXXXX`` escapes, so an XMP parser never sees a character XML 1.0 forbids and ``json.loads``
still restores the exact string.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import stat
from typing import Any

from dsexport.errors import BadRequest
from dsexport.model import ORIGINS, Metadata

SCHEMA = "dsexport.record/1"
"""Written into every record. Readers accept any ``dsexport.record/<n>`` and take the fields
they know."""

_SCHEMA_PREFIX = "dsexport.record/"

MAX_RECORD_CHARS = 16 * 1024 * 1024
"""A record larger than this is refused when read: it guards ``json.loads`` against a hostile
file whose XMP holds hundreds of megabytes of nested JSON."""

# Characters XML 1.0 forbids or normalises away, plus C1 controls (legal but invisible and
# mangled by some tools). JSON itself already escapes U+0000–U+001F.
_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

_STR_FIELDS = frozenset(
    {
        "prompt",
        "negative_prompt",
        "sampler",
        "model",
        "page_url",
        "image_url",
        "conversation_title",
        "conversation_id",
        "captured_at",
        "tool",
        "sha256",
    }
)
_INT_FIELDS = frozenset({"seed", "steps", "width", "height", "turn_index"})


def _escape_unsafe(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def encode(meta: Metadata) -> str:
    """``Metadata`` → compact JSON text (see the module docstring).

    Raises ``BadRequest`` when a value cannot be written as standard JSON (NaN, infinity, or an
    ``extra`` value that is not JSON-serialisable).
    """
    data: dict[str, Any] = {"schema": SCHEMA}
    for f in dataclasses.fields(meta):
        value = getattr(meta, f.name)
        if value is None or (f.name == "extra" and not value):
            continue
        data[f.name] = value
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        msg = (
            f"metadata cannot be stored as JSON ({err}); "
            "use plain strings, numbers, lists and objects"
        )
        raise BadRequest(msg) from err
    return _UNSAFE.sub(_escape_unsafe, text)


def _valid(name: str, value: Any) -> bool:
    if name in _STR_FIELDS:
        return isinstance(value, str)
    if name in _INT_FIELDS:
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "cfg_scale":
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and math.isfinite(value)
    if name == "origin":
        return value in ORIGINS
    if name == "extra":
        return isinstance(value, dict)
    return False


def decode(text: str) -> Metadata:
    """JSON text written by ``encode`` → ``Metadata``.

    Fields of the wrong type are ignored (the file is untrusted); unknown keys are ignored too,
    so a newer record still yields the fields this version knows. Raises ``ValueError`` when the
    text is not a JSON object carrying a ``dsexport.record/<n>`` schema.
    """
    if len(text) > MAX_RECORD_CHARS:
        msg = f"record is larger than {MAX_RECORD_CHARS} characters"
        raise ValueError(msg)
    try:
        data = json.loads(text)
    except RecursionError as err:
        msg = "record nests too deeply"
        raise ValueError(msg) from err
    if not isinstance(data, dict):
        msg = "record is not a JSON object"
        raise ValueError(msg)
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.startswith(_SCHEMA_PREFIX):
        msg = f"record has no {_SCHEMA_PREFIX}<n> schema"
        raise ValueError(msg)
    values: dict[str, Any] = {}
    for name, value in data.items():
        if _valid(name, value):
            values[name] = value
    return Metadata(**values)


MAX_SIDECAR_BYTES = 4 * 1024 * 1024
"""A ``.json`` sidecar larger than this is not read (a record is kilobytes)."""


def read_sidecar(image: str | os.PathLike) -> Metadata | None:
    """The record beside ``image`` (``cat.avif`` → ``cat.json``), written where the image itself
    could not take metadata (AVIF, C2PA); ``None`` when there is none or it is not ours. A link
    is not followed and nothing but a small regular file is read."""
    from pathlib import Path

    candidate = Path(os.fspath(image)).with_suffix(".json")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(candidate, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SIDECAR_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not looks_like_record(text):
        return None
    try:
        return decode(text)
    except ValueError:
        return None


def looks_like_record(text: str) -> bool:
    """Cheap check before parsing: does ``text`` start like one of our records?"""
    return text.lstrip().startswith('{"schema":"' + _SCHEMA_PREFIX)
