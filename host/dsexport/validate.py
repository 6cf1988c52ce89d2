"""Untrusted dicts (from the page, the browser, a ``--meta-json`` file) → model objects.

Every string is length-capped, every number is checked to be finite and in range, and unknown
metadata keys are kept under ``extra`` (bounded in size and nesting) rather than dropped, so a
newer extension can send fields an older host does not know yet.

The same bounds apply to what files carry: ``check_metadata`` re-checks a ``Metadata`` read from
a file (``conventions.read``), so a third-party file with ``Steps: 99999999999999999999999`` or
a ComfyUI ``cfg`` of ``1e999`` is reported instead of reaching the catalog, a bundle or JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from dsexport.errors import BadRequest
from dsexport.model import ORIGINS, OUTPUT_FORMATS, Metadata, SaveOptions

MAX_PROMPT_CHARS = 200_000
"""A prompt longer than this is refused: real prompts are far shorter, and the cap keeps a hostile
page from making the host build megabytes of metadata per image."""

MAX_FIELD_CHARS = 4_096
"""Cap for short text fields (model, sampler, URLs, titles)."""

MAX_EXTRA_BYTES = 64 * 1024
"""Cap for the JSON size of ``extra``."""

MAX_EXTRA_DEPTH = 32
"""Deepest nesting of objects and lists in ``extra``. Real values are a few levels deep; a
request nesting hundreds deep would be saved, then break every later reader that walks it
recursively (``inspect``, ``bundle``: RecursionError)."""

MAX_CFG_SCALE = 1000.0
"""Largest magnitude of ``cfg_scale`` (real values are 1–30)."""

_TEXT_LONG = ("prompt", "negative_prompt")
_TEXT_SHORT = (
    "sampler",
    "model",
    "page_url",
    "image_url",
    "conversation_title",
    "conversation_id",
    "captured_at",
    "tool",
    "sha256",
)
_INTS = {
    "seed": (-(2**63), 2**64 - 1),
    "steps": (0, 100_000),
    "width": (0, 1_000_000),
    "height": (0, 1_000_000),
    "turn_index": (0, 1_000_000),
}


def _text(key: str, value: Any, cap: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"metadata field {key!r} must be a string, not {type(value).__name__}"
        raise BadRequest(msg)
    if len(value) > cap:
        msg = f"metadata field {key!r} is {len(value)} characters long; the limit is {cap}"
        raise BadRequest(msg)
    # Lone surrogates cannot be encoded to UTF-8 anywhere downstream.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        msg = f"metadata field {key!r} is not valid Unicode text"
        raise BadRequest(msg) from err
    return value.replace("\x00", "")


def _int(key: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    lo, hi = _INTS[key]
    if isinstance(value, bool):
        msg = f"metadata field {key!r} must be an integer"
        raise BadRequest(msg)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) <= 25:
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        msg = f"metadata field {key!r} must be an integer, not {value!r:.40}"
        raise BadRequest(msg)
    if not lo <= value <= hi:
        msg = f"metadata field {key!r} is out of range ({lo}..{hi})"
        raise BadRequest(msg)
    return value


def _float(key: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError as err:
            msg = f"metadata field {key!r} must be a number"
            raise BadRequest(msg) from err
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"metadata field {key!r} must be a number"
        raise BadRequest(msg)
    msg = (
        f"metadata field {key!r} must be a finite number between {-MAX_CFG_SCALE:g} and "
        f"{MAX_CFG_SCALE:g}"
    )
    try:
        value = float(value)
    except OverflowError as err:  # an integer of hundreds of digits
        raise BadRequest(msg) from err
    if not math.isfinite(value) or not -MAX_CFG_SCALE <= value <= MAX_CFG_SCALE:
        raise BadRequest(msg)
    return value


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests dicts and lists, counted without recursion and giving up past
    ``limit`` (returns ``limit + 1``), so a hostile structure cannot exhaust the stack here."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        depth += 1
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def metadata_from_dict(data: Mapping[str, Any] | None) -> Metadata:
    """``{"prompt": "a cat", "seed": "42", "foo": 1}`` → ``Metadata(prompt="a cat", seed=42,
    extra={"foo": 1})``; raises ``BadRequest`` naming the bad field."""
    if data is None:
        return Metadata()
    if not isinstance(data, Mapping):
        msg = "metadata must be a JSON object"
        raise BadRequest(msg)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            msg = "metadata keys must be strings"
            raise BadRequest(msg)
        if key in _TEXT_LONG:
            fields[key] = _text(key, value, MAX_PROMPT_CHARS)
        elif key in _TEXT_SHORT:
            fields[key] = _text(key, value, MAX_FIELD_CHARS)
        elif key in _INTS:
            fields[key] = _int(key, value)
        elif key == "cfg_scale":
            fields[key] = _float(key, value)
        elif key == "origin":
            if value is None:
                continue
            if value not in ORIGINS:
                msg = f"metadata field 'origin' must be one of {', '.join(ORIGINS)}"
                raise BadRequest(msg)
            fields[key] = value
        elif key == "extra":
            if value is None:
                continue
            if not isinstance(value, Mapping):
                msg = "metadata field 'extra' must be a JSON object"
                raise BadRequest(msg)
            extra.update(value)
        else:
            extra[key] = value
    if extra:
        if nesting_depth(extra, MAX_EXTRA_DEPTH) > MAX_EXTRA_DEPTH:
            msg = f"metadata field 'extra' nests deeper than {MAX_EXTRA_DEPTH} levels"
            raise BadRequest(msg)
        try:
            encoded = json.dumps(extra, ensure_ascii=False, allow_nan=False)
            size = len(encoded.encode("utf-8"))  # lone surrogates fail here
        except (TypeError, ValueError) as err:
            msg = "metadata field 'extra' must hold plain JSON values and valid Unicode text"
            raise BadRequest(msg) from err
        if size > MAX_EXTRA_BYTES:
            msg = f"metadata field 'extra' is larger than {MAX_EXTRA_BYTES} bytes"
            raise BadRequest(msg)
        fields["extra"] = json.loads(encoded)
    return Metadata(**fields)


def check_metadata(meta: Metadata) -> Metadata:
    """``meta`` (read from a file) under the same bounds as a request: the checked copy, or
    ``BadRequest`` naming the field that is out of range, too long or too deeply nested."""
    data: dict[str, Any] = {}
    for name in Metadata.__dataclass_fields__:
        value = getattr(meta, name)
        if value is not None and not (name == "extra" and not value):
            data[name] = value
    return metadata_from_dict(data)


def options_from_dict(data: Mapping[str, Any] | None) -> SaveOptions:
    """``{"format": "webp", "quality": 80}`` → ``SaveOptions(format="webp", quality=80)``."""
    if data is None:
        return SaveOptions()
    if not isinstance(data, Mapping):
        msg = "options must be a JSON object"
        raise BadRequest(msg)
    known = {
        "format",
        "quality",
        "output_dir",
        "name_template",
        "sidecars",
        "embed_fields",
        "background",
        "index",
        "source",
    }
    unknown = set(data) - known
    if unknown:
        msg = f"unknown option(s): {', '.join(sorted(map(str, unknown)))}"
        raise BadRequest(msg)
    fmt = data.get("format")
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        msg = f"option 'format' must be one of {', '.join(OUTPUT_FORMATS)}"
        raise BadRequest(msg)
    quality = data.get("quality")
    if quality is not None and (
        isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100
    ):
        msg = "option 'quality' must be an integer from 1 to 100"
        raise BadRequest(msg)
    index = data.get("index")
    if index is not None and (
        isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 1_000_000
    ):
        msg = "option 'index' must be a non-negative integer"
        raise BadRequest(msg)
    strings = {}
    for key in ("output_dir", "name_template", "background", "source"):
        value = data.get(key)
        if value is not None:
            strings[key] = _text(key, value, MAX_FIELD_CHARS)
    tuples = {}
    for key in ("sidecars", "embed_fields"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            msg = f"option {key!r} must be a list of strings"
            raise BadRequest(msg)
        tuples[key] = tuple(value)
    return SaveOptions(format=fmt, quality=quality, index=index, **strings, **tuples)
