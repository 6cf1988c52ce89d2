"""The one data model every path (host, CLI, library) passes around.

``Metadata`` is what we know about an image; ``SaveOptions`` is how the caller wants it saved;
``SaveResult`` is what happened. All three are frozen dataclasses that convert to and from plain
JSON dicts (``to_dict`` / ``from_dict``), which is what crosses the native-messaging boundary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Origin = Literal["generated", "uploaded", "diagram"]
ORIGINS: tuple[str, ...] = ("generated", "uploaded", "diagram")

#: Output formats a caller may ask for. ``original`` keeps the encoded image data byte for byte.
OUTPUT_FORMATS: tuple[str, ...] = ("original", "png", "jpeg", "webp", "avif")

#: Every metadata field a user may choose to embed or leave out (config key ``embed_fields``).
EMBEDDABLE_FIELDS: tuple[str, ...] = (
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "sampler",
    "cfg_scale",
    "model",
    "width",
    "height",
    "page_url",
    "image_url",
    "conversation_title",
    "conversation_id",
    "turn_index",
    "origin",
    "captured_at",
    "tool",
    "sha256",
    "extra",
)


@dataclass(frozen=True)
class Metadata:
    """Everything known about one image, e.g. ``Metadata(prompt="a cat", seed=42)``."""

    prompt: str | None = None
    """The prompt the image belongs to: the user turn it answers, or the one it was uploaded in."""
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    cfg_scale: float | None = None
    model: str | None = None
    width: int | None = None
    """Pixel width as decoded from the file (filled in by the pipeline when it can)."""
    height: int | None = None
    page_url: str | None = None
    """The chat page the image was on, e.g. ``https://chat.deepseek.com/a/chat/s/<id>``."""
    image_url: str | None = None
    """Where the bytes came from (never a ``data:`` URL; those are dropped as noise)."""
    conversation_title: str | None = None
    conversation_id: str | None = None
    turn_index: int | None = None
    origin: Origin = "generated"
    """``generated`` (AI output), ``uploaded`` (the user's own image), ``diagram`` (Mermaid)."""
    captured_at: str | None = None
    """ISO 8601 with UTC offset, e.g. ``2026-11-25T09:14:03+00:00``; set at save time if absent."""
    tool: str | None = None
    """``dsexport <version>``; set by the pipeline."""
    sha256: str | None = None
    """Hex SHA-256 of the original bytes as received, before any metadata was inserted."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form JSON-serialisable fields (e.g. ``{"file_name": "cat.png", "source": "menu"}``)."""

    def to_dict(self, *, drop_none: bool = True) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if drop_none:
            data = {k: v for k, v in data.items() if v is not None and v != {}}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metadata:
        """Build from an untrusted dict; unknown keys go into ``extra``, types are checked.

        Raises ``BadRequest`` with the offending key in the message.
        """
        from dsexport.validate import metadata_from_dict

        return metadata_from_dict(data)

    def replace(self, **changes: Any) -> Metadata:
        return dataclasses.replace(self, **changes)

    def only(self, fields: tuple[str, ...] | list[str] | frozenset[str]) -> Metadata:
        """A copy keeping only ``fields`` (privacy: ``embed_fields``); origin is always kept."""
        keep = set(fields)
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in keep or f.name == "origin":
                continue
            changes[f.name] = {} if f.name == "extra" else None
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SaveOptions:
    """How to save one image. ``None`` means "use the config value"."""

    format: str | None = None
    """One of ``OUTPUT_FORMATS``; ``original`` never re-encodes."""
    quality: int | None = None
    """1–100 for lossy JPEG/WebP/AVIF; ``None`` or 100 with webp means lossless WebP."""
    output_dir: str | None = None
    name_template: str | None = None
    sidecars: tuple[str, ...] | None = None
    """Any of ``("json", "txt")``."""
    embed_fields: tuple[str, ...] | None = None
    background: str | None = None
    """Colour alpha is flattened onto for JPEG, e.g. ``#ffffff``."""
    index: int | None = None
    """Position in a batch, for the ``{index}`` naming field."""
    source: str | None = None
    """What started the save: toolbar, menu, download, cli, api, import."""


@dataclass(frozen=True)
class SaveResult:
    """What a save did, e.g. ``SaveResult(path="/home/a/Pictures/DeepSeek/…png", format="png")``."""

    path: str
    format: str
    """The sniffed or converted format actually written (``png``, ``jpeg``, ``webp``, …)."""
    bytes_written: int
    sha256: str
    """Hex SHA-256 of the original input bytes."""
    duplicate: bool = False
    """True when the same picture was already saved (the catalog compares the format's
    ``content_digest`` of the bytes); ``path`` is the existing file."""
    sidecars: tuple[str, ...] = ()
    metadata_in: str = "file"
    """``file`` (embedded), ``sidecar`` (the file could not take it: C2PA, AVIF), or ``both``."""
    warnings: tuple[str, ...] = ()
    """Human-readable notes: what a conversion lost, why a sidecar was used, …"""
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["sidecars"] = list(self.sidecars)
        data["warnings"] = list(self.warnings)
        return data
