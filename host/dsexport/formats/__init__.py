"""Container modules, one per format, all with the same public names.

``FORMATS`` maps a format name to its module; each module has ``NAME``, ``EXTENSION``, ``MIME``,
``accepts(head)``, ``probe(data)``, ``embed(data, payload)``, ``extract(data)`` and
``content_digest(data)`` (docs/architecture.md). Adding a format means one module and one entry
here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from .base import ImageInfo, Payload, RawFields

__all__ = ["FORMATS", "ImageInfo", "Payload", "RawFields", "capabilities", "content_digest"]


class _Formats(Mapping[str, ModuleType]):
    """Format name → container module, each module imported when it is first looked up.

    ``sniff`` asks the formats in this order and stops at the first that accepts the bytes, so
    the native host saving a PNG imports the PNG module only: the other five cost a save
    connection's start-up several milliseconds of imports it does not use."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = names

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"{__name__}.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


FORMATS: Mapping[str, ModuleType] = _Formats(("png", "jpeg", "webp", "gif", "avif", "svg"))

#: Conversion targets and the Pillow feature each needs (``PIL.features.check`` names).
_WRITE_FEATURES = {"png": "zlib", "jpeg": "jpg", "webp": "webp", "avif": "avif"}

#: Why a container is not a conversion target at all.
_NOT_A_TARGET = {
    "gif": (
        "GIF is not offered as an output format: it has 256 colours, so converting loses quality"
    ),
    "svg": "SVG is a vector format; raster images cannot be converted to it",
}

#: Why a container's metadata cannot be embedded in the file itself.
_NO_EMBED = {"avif": "AVIF metadata is written to a sidecar (no lossless AVIF writer available)"}


def content_digest(
    module: ModuleType, data, *, layout: Any = None, file_sha256: str | None = None
) -> str:
    """``module.content_digest(data)``: from ``layout`` when the caller already walked the
    container (``SPLIT_ONCE``), and from ``file_sha256``, the caller's SHA-256 of all of
    ``data``, where the module can tell it is the answer (``DIGEST_TAKES_FILE_SHA256``)."""
    extra: dict[str, Any] = {}
    if layout is not None:
        extra["layout"] = layout
    if file_sha256 is not None and getattr(module, "DIGEST_TAKES_FILE_SHA256", False):
        extra["file_sha256"] = file_sha256
    return module.content_digest(data, **extra)


def capabilities() -> dict[str, dict[str, Any]]:
    """What this installation can do per format, e.g.
    ``{"webp": {"write": True, "embed": True, "reason": None}, "gif": {"write": False, …}}``.

    ``write``: Pillow can encode to it (``convert``). ``embed``: metadata goes into the file
    itself in ``original`` mode. ``reason`` says why not when either is false.
    """
    try:
        from PIL import features  # lazy: the native host must start fast
    except ImportError:
        features = None
    result: dict[str, dict[str, Any]] = {}
    for name in FORMATS:
        reasons: list[str] = []
        feature = _WRITE_FEATURES.get(name)
        if feature is None:
            write = False
            reasons.append(_NOT_A_TARGET[name])
        elif features is None:
            write = False
            reasons.append("Pillow is not installed (pip install Pillow)")
        else:
            write = bool(features.check(feature))
            if not write:
                reasons.append(
                    f"this Pillow build has no {feature} support; install a Pillow wheel that "
                    f"includes it (pip install --upgrade Pillow)"
                )
        embed = name not in _NO_EMBED
        if not embed:
            reasons.append(_NO_EMBED[name])
        result[name] = {"write": write, "embed": embed, "reason": "; ".join(reasons) or None}
    return result
