"""A conversation as the archive sees it, built from untrusted JSON with every value bounded.

The extension reads the page's own data (``history_messages`` or a share page's content) and sends
it here turn by turn; nothing in it is trusted. ``conversation_from_dict`` and ``turn_from_dict``
check types, clip lengths, keep only http(s) links, replace text that is not valid Unicode, and
raise ``BadRequest`` naming the field when the shape is wrong. Example::

    turn = turn_from_dict({"role": "assistant", "text": "Hello **world**", "time": 1789300060.0})
    turn.text, turn.time   # ('Hello **world**', '2026-09-13T10:27:40+00:00')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dsexport.errors import BadRequest, TooLarge

MAX_TEXT_CHARS = 1_000_000
"""One turn's text, and separately its reasoning. A long answer is ~100 KB; a megabyte-sized turn
is an attack on the renderer and on the host's memory (a turn is the unit held at once)."""

MAX_TITLE_CHARS = 512
MAX_SHORT_CHARS = 256
"""Models, site names, statuses, file names, labels."""
MAX_SNIPPET_CHARS = 4000
MAX_URL_CHARS = 8192
MAX_SOURCES = 500
"""Web-search results of one turn (DeepSeek shows a few dozen)."""
MAX_FILES = 100
MAX_IMAGES = 500
"""Images belonging to one turn."""
MAX_TURNS = 20_000
"""Turns of one conversation; the extension's adapter has the same bound."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TIME_MIN = 0.0
_TIME_MAX = 4_102_444_800.0  # 2100-01-01: DeepSeek's epoch seconds are far below
ROLES = ("user", "assistant")
IMAGE_KINDS = ("uploaded", "generated", "diagram")
CONTAINERS = ("zip", "folder")


@dataclass(frozen=True)
class Source:
    """One web-search result a turn read, e.g. ``Source(1, "https://…", "Title", …)``."""

    index: int
    """The number the answer cites it by (``[citation:1]`` / ``[reference:1]``)."""
    url: str | None
    title: str | None = None
    snippet: str | None = None
    site: str | None = None
    published_at: str | None = None


@dataclass(frozen=True)
class FileRef:
    """An attachment of a user turn, e.g. ``FileRef("report.pdf", 48211, False)``."""

    name: str
    size: int | None = None
    is_image: bool = False


@dataclass(frozen=True)
class ImageRef:
    """An image that belongs to a turn: the file "Save all" wrote (``path``), or, when that
    failed, where it was (``url``) and why (``error``)."""

    kind: str
    path: str | None = None
    url: str | None = None
    alt: str | None = None
    file_name: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Turn:
    role: str
    text: str = ""
    """Markdown for answers; plain text as typed for prompts."""
    time: str | None = None
    """ISO 8601 in UTC, from the page's epoch seconds."""
    model: str | None = None
    status: str | None = None
    reasoning: str | None = None
    """DeepThink's reasoning (Markdown)."""
    reasoning_seconds: float | None = None
    sources: tuple[Source, ...] = ()
    files: tuple[FileRef, ...] = ()
    images: tuple[ImageRef, ...] = ()


@dataclass(frozen=True)
class Conversation:
    id: str | None = None
    title: str | None = None
    url: str | None = None
    kind: str | None = None
    """``chat`` (``/a/chat/s/<id>``) or ``share`` (``/share/<id>``)."""
    model: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class ExportOptions:
    container: str = "zip"
    template: str = "{date}/{conversation}.zip"
    reasoning: bool = True
    sources: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    """Headings the page shows, in the user's language (the extension sends its _locales text)."""


LABELS: dict[str, str] = {
    "user": "You",
    "assistant": "DeepSeek",
    "reasoning": "Reasoning",
    "reasoning_seconds": "Thought for $1 s",
    "sources": "Sources",
    "files": "Attachments",
    "image_missing": "Image not saved",
    "exported": "Exported",
    "turns": "turns",
}
"""Default (English) words of the archive's page; ``labels`` in the options replaces any."""


# --- checks -----------------------------------------------------------------------------------


def clean_text(value: Any, name: str, limit: int, *, required: bool = False) -> str | None:
    """A string with control characters removed and invalid Unicode replaced, at most ``limit``
    characters (longer is refused: clipping prose silently would change what the person said)."""
    if value is None:
        if required:
            msg = f"field '{name}' is required"
            raise BadRequest(msg)
        return None
    if not isinstance(value, str):
        msg = f"field '{name}' must be a string"
        raise BadRequest(msg)
    if len(value) > limit:
        msg = f"field '{name}' is {len(value)} characters; the limit is {limit}"
        raise TooLarge(msg)
    text = _CONTROL.sub("", value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON ("\ud800")
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _short(value: Any, name: str, limit: int = MAX_SHORT_CHARS) -> str | None:
    """Labels and names: clipped rather than refused, and blank means absent."""
    if not isinstance(value, str):
        return None
    text = clean_text(value[:limit], name, limit) or ""
    text = " ".join(text.split())
    return text or None


def clean_url(value: Any) -> str | None:
    """An absolute http(s) URL without whitespace, or ``None``."""
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        return None
    url = value.strip()
    if not re.match(r"https?://[^\s/?#]+", url, re.I) or re.search(r"[\s\x00-\x1f\x7f<>\"]", url):
        return None
    return url


def iso_time(value: Any) -> str | None:
    """Epoch seconds (DeepSeek's ``inserted_at``, a float) → ``2026-09-13T10:27:40+00:00``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not _TIME_MIN < value < _TIME_MAX:
        return None
    moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    return moment.isoformat(timespec="seconds")


def _list(value: Any, name: str, limit: int) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        msg = f"field '{name}' must be a list"
        raise BadRequest(msg)
    if len(value) > limit:
        msg = f"field '{name}' has {len(value)} entries; the limit is {limit}"
        raise TooLarge(msg)
    return value


def _dict(value: Any, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        msg = f"field '{name}' must be an object"
        raise BadRequest(msg)
    return value


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if low <= value <= high else None


def source_from_dict(data: Any, position: int) -> Source | None:
    if not isinstance(data, dict):
        return None
    index = _int(data.get("index"), 1, 100_000) or position
    url = clean_url(data.get("url"))
    title = _short(data.get("title"), "sources.title", MAX_TITLE_CHARS)
    if url is None and title is None:
        return None
    snippet = data.get("snippet")
    snippet = (
        _short(snippet[:MAX_SNIPPET_CHARS], "sources.snippet", MAX_SNIPPET_CHARS)
        if isinstance(snippet, str)
        else None
    )
    published = data.get("published_at")
    published_at = (
        iso_time(published)
        if not isinstance(published, str)
        else _short(published, "published_at", 64)
    )
    return Source(
        index, url, title, snippet, _short(data.get("site"), "sources.site"), published_at
    )


def file_from_dict(data: Any) -> FileRef | None:
    if not isinstance(data, dict):
        return None
    name = _short(data.get("name"), "files.name")
    if name is None:
        return None
    return FileRef(name, _int(data.get("size"), 0, 2**53), data.get("is_image") is True)


def image_from_dict(data: Any) -> ImageRef | None:
    if not isinstance(data, dict):
        return None
    kind = data.get("kind")
    if kind not in IMAGE_KINDS:
        kind = "generated"
    path = data.get("path")
    if path is not None and (
        not isinstance(path, str) or not path or len(path) > 4096 or "\x00" in path
    ):
        msg = "field 'images.path' must be the absolute path of a saved image"
        raise BadRequest(msg)
    url = clean_url(data.get("url"))
    if path is None and url is None:
        return None
    return ImageRef(
        kind,
        clean_text(path, "images.path", 4096) if path else None,
        url,
        _short(data.get("alt"), "images.alt", MAX_SNIPPET_CHARS),
        _short(data.get("file_name"), "images.file_name"),
        _short(data.get("error"), "images.error", 1000),
    )


def turn_from_dict(data: Any) -> Turn:
    """One turn from the extension (see ``docs/protocol.md``, ``export_turns``)."""
    if not isinstance(data, dict):
        msg = "each turn must be an object"
        raise BadRequest(msg)
    role = data.get("role")
    if role not in ROLES:
        msg = "field 'role' must be 'user' or 'assistant'"
        raise BadRequest(msg)
    seconds = data.get("reasoning_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        seconds = None
    reasoning_seconds = float(seconds) if seconds is not None else None
    if reasoning_seconds is not None and not (
        math.isfinite(reasoning_seconds) and 0 <= reasoning_seconds < 1e7
    ):
        reasoning_seconds = None
    sources = [
        source_from_dict(s, i + 1)
        for i, s in enumerate(_list(data.get("sources"), "sources", MAX_SOURCES))
    ]
    files = [file_from_dict(f) for f in _list(data.get("files"), "files", MAX_FILES)]
    images = [image_from_dict(i) for i in _list(data.get("images"), "images", MAX_IMAGES)]
    return Turn(
        role=role,
        text=clean_text(data.get("text") or "", "text", MAX_TEXT_CHARS) or "",
        time=iso_time(data.get("time")),
        model=_short(data.get("model"), "model"),
        status=_short(data.get("status"), "status", 64),
        reasoning=clean_text(data.get("reasoning"), "reasoning", MAX_TEXT_CHARS) or None,
        reasoning_seconds=reasoning_seconds,
        sources=tuple(s for s in sources if s is not None),
        files=tuple(f for f in files if f is not None),
        images=tuple(i for i in images if i is not None),
    )


def conversation_from_dict(data: Any) -> Conversation:
    data = _dict(data, "conversation")
    kind = data.get("kind")
    conv_id = _short(data.get("id"), "conversation.id", 128)
    if conv_id is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", conv_id):
        msg = "field 'conversation.id' must be letters, digits, '-' or '_'"
        raise BadRequest(msg)
    return Conversation(
        id=conv_id,
        title=_short(data.get("title"), "conversation.title", MAX_TITLE_CHARS),
        url=clean_url(data.get("url")),
        kind=kind if kind in ("chat", "share") else None,
        model=_short(data.get("model"), "conversation.model"),
        created_at=iso_time(data.get("created_at")),
        updated_at=iso_time(data.get("updated_at")),
    )


def options_from_dict(data: Any) -> ExportOptions:
    from dsexport import naming

    data = _dict(data, "options")
    container = data.get("container", "zip")
    if container not in CONTAINERS:
        msg = "option 'container' must be 'zip' or 'folder'"
        raise BadRequest(msg)
    template = data.get("template") or ExportOptions.template
    if not isinstance(template, str):
        msg = "option 'template' must be a string"
        raise BadRequest(msg)
    naming.validate_template(archive_stem(template))
    for flag in ("reasoning", "sources"):
        if not isinstance(data.get(flag, True), bool):
            msg = f"option '{flag}' must be true or false"
            raise BadRequest(msg)
    labels: dict[str, str] = {}
    for key, value in _dict(data.get("labels"), "labels").items():
        if key in LABELS:
            text = _short(value, f"labels.{key}", 200)
            if text:
                labels[key] = text
    return ExportOptions(
        container=container,
        template=template,
        reasoning=data.get("reasoning", True),
        sources=data.get("sources", True),
        labels=labels,
    )


def archive_stem(template: str) -> str:
    """The template without its ``.zip`` ending (the container decides the ending)."""
    return template[:-4] if template.lower().endswith(".zip") else template


def label(options: ExportOptions, key: str, *args: str) -> str:
    text = options.labels.get(key) or LABELS[key]
    for n, arg in enumerate(args, 1):
        text = text.replace(f"${n}", arg)
    return text
