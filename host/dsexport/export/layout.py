"""Where each saved image goes inside the archive, and which images each turn shows.

``images/<file name>`` keeps the name "Save all" gave the file (numbered when two share one), so
the archive's images are the very files in the output folder. Only catalogued files are taken:
a request naming any other path gets nothing for it, so an export cannot be used to copy
arbitrary files (as for ``bundle``). Example::

    layout = Layout.build(["/home/ana/Pictures/DeepSeek/2026-11-25/cat.png"], catalog)
    layout.name_of("/home/ana/Pictures/DeepSeek/2026-11-25/cat.png")   # 'images/cat.png'
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from dsexport.export.markdown import RenderContext, canonical_url
from dsexport.export.model import ImageRef, Source, Turn

IMAGES_FOLDER = "images"


@dataclass(frozen=True)
class Member:
    """One image file in the archive."""

    path: str
    """The saved file it is copied from."""
    name: str
    """``images/cat.png``."""
    sha256: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None


@dataclass
class Layout:
    members: dict[str, Member] = field(default_factory=dict)
    """Saved path → member, in first-seen order."""
    refused: list[str] = field(default_factory=list)
    """Paths named by the turns that are not catalogued or no longer regular files."""

    @classmethod
    def build(cls, paths: Iterable[str], catalog) -> Layout:
        from dsexport.storage import collision_name

        layout = cls()
        used: set[str] = set()
        for path in paths:
            key = os.path.abspath(path)
            if key in layout.members or key in layout.refused:
                continue
            entry = catalog.get(key) if catalog is not None else None
            if entry is None or not _is_regular_file(key):
                layout.refused.append(key)
                continue
            base = os.path.basename(key).replace("\\", "_") or f"image-{entry.id}"
            n = 1
            while (candidate := collision_name(base, n)).lower() in used:
                n += 1
            used.add(candidate.lower())
            layout.members[key] = Member(
                key,
                f"{IMAGES_FOLDER}/{candidate}",
                entry.sha256,
                entry.format,
                entry.width,
                entry.height,
                entry.bytes,
            )
        return layout

    def name_of(self, path: str | None) -> str | None:
        if not path:
            return None
        member = self.members.get(os.path.abspath(path))
        return member.name if member else None

    def member(self, path: str | None) -> Member | None:
        return self.members.get(os.path.abspath(path)) if path else None


def _is_regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def sources_by_index(turn: Turn) -> dict[int, Source]:
    return {s.index: s for s in turn.sources}


def context_for(
    turn: Turn, layout: Layout, *, sources: bool, missing_label: str = "Image not saved"
) -> RenderContext:
    """What the turn's Markdown may show inline: its saved images by source URL, its diagrams
    in order, and (when sources are included) its web sources by number."""
    images: dict[str, str] = {}
    diagrams: list[str] = []
    missing: dict[str, str] = {}
    for ref in turn.images:
        name = layout.name_of(ref.path)
        if name is None:
            if ref.url:
                missing[canonical_url(ref.url)] = ref.error or ""
            continue
        if ref.kind == "diagram":
            diagrams.append(name)
        elif ref.url:
            images.setdefault(canonical_url(ref.url), name)
    return RenderContext(
        images=images,
        diagrams=diagrams,
        sources=sources_by_index(turn) if sources else {},
        missing=missing,
        missing_label=missing_label,
    )


def leftover_images(
    turn: Turn, layout: Layout, used: set[str], linked: set[str] | frozenset[str] = frozenset()
) -> list[tuple[ImageRef, str | None]]:
    """The turn's images its text did not show inline (``used``: archive names; ``linked``:
    canonical URLs of unsaved images the text links), with their archive names (``None`` for an
    image that could not be saved), uploads first as the chat shows them."""
    out = []
    seen: set[str] = set()
    for ref in sorted(turn.images, key=lambda r: r.kind != "uploaded"):
        name = layout.name_of(ref.path)
        if name is not None and (name in used or name in seen):
            continue
        if name is None and ref.url and canonical_url(ref.url) in linked:
            continue
        if name is not None:
            seen.add(name)
        out.append((ref, name))
    return out
