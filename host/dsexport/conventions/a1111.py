"""AUTOMATIC1111 "infotext": the ``parameters`` text Stable Diffusion readers look for.

Layout (A1111 ``create_infotext``)::

    a cat on a sofa, 一只猫
    Negative prompt: blurry
    Steps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 42, Size: 512x512, Origin: generated

The prompt may span several lines; ``Negative prompt:`` appears only when there is one; the
last line holds ``key: value`` pairs, values quoted with A1111's ``quote()`` (JSON string when
they contain ``,``, ``:`` or a newline). Standard A1111 keys come first in A1111's order, then
keys other A1111 files carried (kept in ``extra["a1111"]`` when we read them), then ours.

Unknown values are never invented. DeepSeek images usually have no steps, sampler or CFG scale,
and each reader has its own rule (tests/interop/readers.py applies them, citing their sources):

- Civitai (``automatic.metadata.ts``) reads only text with a line starting ``Steps: `` and then
  coerces ``steps``, ``cfgScale`` and ``seed`` to numbers (``image.schema.ts``): ``unknown``
  becomes NaN, which drops the whole record, prompt included, and an empty value becomes 0.
- sd-parsers needs ``Sampler`` and two more of Steps/CFG scale/Seed/Schedule type/ENSD, each an
  item with exactly one colon. A1111 needs three ``key: value`` pairs on the last line.
- sd-prompt-reader and ComfyUI's importer split at ``\nSteps:``; ComfyUI imports nothing
  without a ``\nNegative prompt:`` line before it, and sets steps, CFG and seed to ``+value``.

So a generated image's line starts ``Steps: unknown: not reported``: Civitai's parser takes the
second colon as a new key (so no steps), A1111, sd-prompt-reader and ComfyUI get a value that is
not a number, sd-parsers skips the item. An unknown CFG scale or seed is left out; an unknown
sampler is ``Sampler: unknown``; and ``Schedule type: unknown`` is added when it makes up
sd-parsers' three keys. An empty ``Negative prompt:`` line stands in for a missing negative
prompt (ComfyUI). Files with real steps (from a Stable Diffusion UI) get only their real values.
``decode`` turns ``unknown`` back into "no value". Uploads and diagrams get a parameters line
only with three real values, as they are not Stable Diffusion output.
Exception: when the prompt's last line itself looks like a parameters line (three ``key: value``
pairs), our line is added after it anyway so A1111's parser keeps the prompt whole. A line is
only written with at least three pairs, because A1111 glues a shorter last line onto the prompt.

A1111's own parser strips every line, so leading/trailing spaces of prompt lines, and a prompt
line that starts with ``Negative prompt:``, do not survive this format; the JSON record
(``record.py``) is the exact copy.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dsexport.model import ORIGINS, Metadata

# From A1111 modules/infotext_utils.py: quote-aware "key: value" pairs and "WxH" sizes.
RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
RE_IMAGESIZE = re.compile(r"^(\d+)x(\d+)$")
RE_KEY = re.compile(r"\w[\w \-/]+")

NEGATIVE_PREFIX = "Negative prompt:"

#: Our keys, written after the standard ones: (infotext key, Metadata field).
CUSTOM_KEYS: tuple[tuple[str, str], ...] = (
    ("Origin", "origin"),
    ("Conversation title", "conversation_title"),
    ("Conversation id", "conversation_id"),
    ("Turn", "turn_index"),
    ("Page URL", "page_url"),
    ("Source URL", "image_url"),
    ("Captured at", "captured_at"),
    ("Tool", "tool"),
)
_CUSTOM_FIELD = dict(CUSTOM_KEYS)
_RESERVED_KEYS = frozenset(
    {"Steps", "Sampler", "CFG scale", "Seed", "Size", "Model", "Size-1", "Size-2"}
) | frozenset(_CUSTOM_FIELD)

MIN_PAIRS = 3
"""A1111 treats a last line with fewer pairs as prompt text."""

UNKNOWN = "unknown"
"""Written for a generated image's unknown sampler and schedule type (module docstring)."""

UNKNOWN_STEPS = "unknown: not reported"
"""A generated image's unknown steps: not a number for any reader, and no steps at all for
Civitai, whose parser reads ``unknown`` as the key of a second pair (module docstring)."""

_UNKNOWN_VALUES = frozenset({UNKNOWN, UNKNOWN_STEPS, "unknown:"})

#: sd-parsers' sampler keys (``_automatic1111.py``): it needs three of them on one line.
_SD_PARSERS_KEYS = ("Sampler", "CFG scale", "Seed", "Steps", "ENSD", "Schedule type")


def quote(value: str) -> str:
    """A1111's ``quote()``, plus quoting whatever its parser would otherwise change.

    A1111 quotes values containing ``,``, ``:`` or a newline. We also quote values with
    surrounding whitespace, a leading ``"`` or non-printable characters, which A1111 would
    strip, unquote or split; A1111's ``unquote`` (``json.loads``) reads them back exactly.
    """
    if (
        "," not in value
        and "\n" not in value
        and ":" not in value
        and value == value.strip()
        and '"' not in value
        and value.isprintable()
    ):
        return value
    # A quote inside is written as \u0022: Civitai's parser toggles on every '"', escaped or
    # not, so only the two outer quotes keep its view of the line in step.
    pieces = (json.dumps(piece, ensure_ascii=False)[1:-1] for piece in value.split('"'))
    return '"' + "\\u0022".join(pieces) + '"'


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            result = json.loads(value)
        except ValueError:
            return value
        return result if isinstance(result, str) else value
    return value


def _pairs(meta: Metadata) -> list[tuple[str, str]]:
    # Fill in "unknown" only for DeepSeek-style images (no steps at all), see the docstring.
    fill = meta.origin == "generated" and meta.steps is None
    pairs: list[tuple[str, Any]] = [
        ("Steps", UNKNOWN_STEPS if fill else meta.steps),
        ("Sampler", meta.sampler or (UNKNOWN if fill else None)),
        ("CFG scale", float(meta.cfg_scale) if meta.cfg_scale is not None else None),
        ("Seed", meta.seed),
        (
            "Size",
            f"{meta.width}x{meta.height}"
            if meta.width is not None and meta.height is not None
            else None,
        ),
        ("Model", meta.model),
    ]
    foreign = meta.extra.get("a1111") if isinstance(meta.extra, dict) else None
    if isinstance(foreign, dict):
        for key, value in foreign.items():
            if (
                isinstance(key, str)
                and RE_KEY.fullmatch(key)
                and key not in _RESERVED_KEYS
                and isinstance(value, (str, int, float))
                and not isinstance(value, bool)
            ):
                pairs.append((key, value))
    if fill:
        known = [k for k, v in pairs if k in _SD_PARSERS_KEYS and v not in (None, "")]
        if "Steps" in known:
            known.remove("Steps")  # not one item for sd-parsers: "unknown: not reported"
        if len(known) == 2:
            pairs.append(("Schedule type", UNKNOWN))
    pairs.extend((key, getattr(meta, field)) for key, field in CUSTOM_KEYS)
    out = []
    for key, value in pairs:
        if value is None or value == "":
            continue
        out.append((key, value if value == UNKNOWN_STEPS else quote(str(value))))
    return out


def parameters_line(meta: Metadata) -> str | None:
    """The last infotext line, or ``None`` when fewer than three values are known."""
    pairs = _pairs(meta)
    if len(pairs) < MIN_PAIRS:
        return None
    return ", ".join(f"{key}: {value}" for key, value in pairs)


def encode(meta: Metadata) -> str:
    """``Metadata`` → infotext (see the module docstring); ``""`` when there is nothing to say."""
    prompt = meta.prompt or ""
    line = parameters_line(meta)
    with_line = bool(line) and (
        line.startswith("Steps:") or not prompt or looks_like_parameters(prompt)
    )
    # ComfyUI imports a parameters text only with a "Negative prompt:" line, even an empty one.
    stable_diffusion = with_line and line is not None and line.startswith("Steps:")
    if meta.negative_prompt or (stable_diffusion and prompt.strip()):
        negative = f"\n{NEGATIVE_PREFIX} {meta.negative_prompt or ''}"
        prompt = prompt.strip()  # a blank line before "Negative prompt:" would join the prompt
    else:
        negative = ""
    body = f"{prompt}{negative}".strip()
    if with_line:
        return f"{body}\n{line}".strip()
    return body


def looks_like_parameters(text: str) -> bool:
    """Would A1111 read the last line of ``text`` as a parameters line?"""
    return len(RE_PARAM.findall(text.strip().rpartition("\n")[2])) >= MIN_PAIRS


def split(text: str) -> tuple[str, str | None]:
    """Infotext → (prompt part incl. negative, parameters line or ``None``), by A1111's rule."""
    body, _, last = text.strip().rpartition("\n")
    if len(RE_PARAM.findall(last)) >= MIN_PAIRS:
        return body, last
    return text.strip(), None


def parse(text: str) -> tuple[str, str, list[tuple[str, str]]]:
    """A1111 ``parse_generation_parameters``: (prompt, negative prompt, unquoted pairs)."""
    body, last = split(text)
    prompt = ""
    negative = ""
    done_with_prompt = False
    for raw_line in body.split("\n") if body else []:
        line = raw_line.strip()
        if line.startswith(NEGATIVE_PREFIX):
            done_with_prompt = True
            line = line[len(NEGATIVE_PREFIX) :].strip()
        if done_with_prompt:
            negative += ("" if negative == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    pairs = [(k, unquote(v)) for k, v in RE_PARAM.findall(last)] if last else []
    return prompt, negative, pairs


def _to_int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def _to_float(value: str) -> float | None:
    try:
        result = float(value.strip())
    except ValueError:
        return None
    return result if result == result and abs(result) != float("inf") else None


def decode(text: str) -> Metadata | None:
    """Infotext → ``Metadata``; ``None`` for empty text or JSON (Fooocus, SwarmUI, Easy Diffusion).

    Standard keys map to fields, our keys (``CUSTOM_KEYS``) back to theirs, and any other key
    (``Model hash``, ``Schedule type``, …) goes to ``extra["a1111"]`` as text.
    """
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if not stripped or _is_json_object(stripped):
        return None
    prompt, negative, pairs = parse(text)
    values: dict[str, Any] = {}
    foreign: dict[str, str] = {}
    for key, value in pairs:
        handled = True
        if key in ("Steps", "Sampler", "CFG scale", "Schedule type") and value in _UNKNOWN_VALUES:
            continue
        if key == "Steps":
            handled = (parsed := _to_int(value)) is not None
            if handled:
                values["steps"] = parsed
        elif key == "Seed":
            handled = (parsed := _to_int(value)) is not None
            if handled:
                values["seed"] = parsed
        elif key == "CFG scale":
            handled = (number := _to_float(value)) is not None
            if handled:
                values["cfg_scale"] = number
        elif key == "Size":
            size = RE_IMAGESIZE.match(value.strip())
            handled = size is not None
            if size:
                values["width"], values["height"] = int(size.group(1)), int(size.group(2))
        elif key == "Sampler":
            values["sampler"] = value
        elif key == "Model":
            values["model"] = value
        elif key == "Turn":
            handled = (parsed := _to_int(value)) is not None
            if handled:
                values["turn_index"] = parsed
        elif key == "Origin":
            handled = value in ORIGINS
            if handled:
                values["origin"] = value
        elif key in _CUSTOM_FIELD:
            values[_CUSTOM_FIELD[key]] = value
        else:
            handled = False
        if not handled:
            foreign[key] = value
    if prompt:
        values["prompt"] = prompt
    if negative:
        values["negative_prompt"] = negative
    if foreign:
        values["extra"] = {"a1111": foreign}
    if not values:
        return None
    return Metadata(**values)


def _is_json_object(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def normalize(text: str) -> str:
    """What A1111's parser makes of a prompt: the text stripped, every line stripped.

    ``decode(encode(m)).prompt == normalize(m.prompt)`` whenever no prompt line starts with
    ``Negative prompt:``; tests and docs use it to state exactly what this format keeps.
    """
    return "\n".join(line.strip() for line in text.strip().split("\n"))
