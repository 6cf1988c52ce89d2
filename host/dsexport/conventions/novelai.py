"""NovelAI PNG text chunks.

Trigger (as sd-parsers and A1111 check): ``Software`` = ``"NovelAI"`` and a ``Comment`` JSON
object, e.g. ``{"prompt": "…", "uc": "…", "steps": 28, "scale": 5, "seed": 1, "sampler":
"k_euler", "width": 832, "height": 1216}``. The prompt is ``Description`` (else
``Comment.prompt``); ``Source`` is the model name plus an uppercase hash, e.g.
``"Stable Diffusion XL C1E1DE52"``, split as sd-parsers does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dsexport.formats.base import RawFields
from dsexport.model import Metadata

SOFTWARE = "NovelAI"
MAX_COMMENT_CHARS = 16 * 1024 * 1024
"""A ``Comment`` larger than this is not parsed as JSON (memory guard)."""

_SOURCE = re.compile(r"^(.*?)\s+([A-Z0-9]+)$")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode(raw: RawFields) -> Metadata | None:
    """NovelAI text chunks → ``Metadata``; ``None`` unless ``Software`` is ``NovelAI``."""
    if raw.text.get("Software", "").strip() != SOFTWARE:
        return None
    comment: dict[str, Any] = {}
    text = raw.text.get("Comment", "")
    if text and len(text) <= MAX_COMMENT_CHARS:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            comment = parsed
    values: dict[str, Any] = {"tool": SOFTWARE}
    prompt = raw.text.get("Description") or comment.get("prompt")
    if isinstance(prompt, str) and prompt:
        values["prompt"] = prompt
    if isinstance(comment.get("uc"), str) and comment["uc"]:
        values["negative_prompt"] = comment["uc"]
    for key in ("steps", "seed", "width", "height"):
        if _int(comment.get(key)) is not None:
            values[key] = comment[key]
    scale = comment.get("scale")
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        values["cfg_scale"] = float(scale)
    if isinstance(comment.get("sampler"), str):
        values["sampler"] = comment["sampler"]
    source = raw.text.get("Source", "").strip()
    extra: dict[str, str] = {}
    if source:
        match = _SOURCE.match(source)
        values["model"] = match.group(1) if match else source
        if match:
            extra["model_hash"] = match.group(2)
    if raw.text.get("Generation time"):
        extra["generation_time"] = raw.text["Generation time"]
    if extra:
        values["extra"] = {"novelai": extra}
    if len(values) == 1:
        return None
    return Metadata(**values)
