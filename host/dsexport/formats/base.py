"""Types and small helpers shared by the container modules.

Container modules read untrusted bytes. Every length they read from a file goes through
``check_span`` before it is used to slice, and nothing is ever allocated from such a length:
untouched regions of the input travel as ``memoryview`` slices collected by ``Parts``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import CorruptImage

_F = TypeVar("_F", bound=Callable)


@dataclass(frozen=True)
class ImageInfo:
    """Header facts read without decoding pixels, e.g. ``ImageInfo(1024, 768, has_alpha=True)``."""

    width: int | None
    height: int | None
    animated: bool = False
    has_alpha: bool | None = None
    bit_depth: int | None = None
    """Bits per sample (PNG 1–16, JPEG 8/12, WebP/GIF 8); ``None`` when the format has none."""
    has_c2pa: bool = False
    """A C2PA manifest is present (PNG ``caBX``, JPEG APP11 JUMBF, RIFF ``C2PA``, BMFF uuid).
    Any insertion would invalidate it, so the pipeline leaves such files untouched."""


@dataclass(frozen=True)
class Payload:
    """What the conventions layer asks a container to embed (``conventions.build_payload``)."""

    parameters: str | None
    """A1111 infotext: PNG text chunk ``parameters``, GIF comment."""
    exif: bytes | None
    """TIFF bytes (``MM\\0*…``, no ``Exif\\0\\0``): JPEG APP1, WebP ``EXIF``. ``None`` keeps any
    EXIF already in the file."""
    xmp: bytes
    """The full XMP packet (UTF-8), including our JSON record."""
    text: dict[str, str] = field(default_factory=dict)
    """Extra PNG text chunks by keyword, e.g. ``{"Title": "…", "Software": "dsexport 0.1.0"}``."""


@dataclass(frozen=True)
class RawFields:
    """What a file carries, as stored; ``conventions.read`` interprets it."""

    text: dict[str, str] = field(default_factory=dict)
    """PNG tEXt/iTXt/zTXt by keyword; GIF and JPEG comments under ``"comment"``."""
    exif: bytes | None = None
    """TIFF bytes, without ``Exif\\0\\0``."""
    xmp: bytes | None = None
    """The XMP packet; for JPEG with extended XMP, the standard and extended parts merged."""
    pixel_size: tuple[int, int] | None = None
    """Width and height from the frame header (JPEG), for the EXIF tags that must repeat it."""
    density: tuple[int, int, int] | None = None
    """JFIF pixel density as (x, y, EXIF ResolutionUnit: 2 inch, 3 cm) (JPEG), when it states
    one (not a bare aspect ratio)."""


MAX_XMP_BYTES = 16 * 1024 * 1024
"""Largest XMP packet we write or read back (16 MiB). Guards against a file whose metadata
claims gigabytes (memory exhaustion) and bounds what one ``embed`` call can add."""

MAX_TEXT_BYTES = 16 * 1024 * 1024
"""Largest single text value we decode from a file (16 MiB), including decompressed zTXt: a
compressed chunk can expand 1000x (decompression bomb)."""

MAX_TOTAL_TEXT_BYTES = 64 * 1024 * 1024
"""Largest sum of all decoded text values in one file (64 MiB), so many medium chunks cannot
add up to a memory bomb either."""


def check_span(size: int, offset: int, length: int, what: str, fmt: str) -> None:
    """Raise ``CorruptImage`` unless ``length`` bytes starting at ``offset`` lie within ``size``."""
    if length < 0 or offset < 0 or offset + length > size:
        msg = (
            f"{fmt}: {what} runs past the end of the file (needs {length} bytes at offset "
            f"{offset}, file has {size}); the file is truncated or corrupt — download it again"
        )
        raise CorruptImage(msg)


def corrupt(fmt: str, problem: str) -> CorruptImage:
    """A ``CorruptImage`` with the usual advice attached."""
    return CorruptImage(f"{fmt}: {problem}; the file is truncated or corrupt — download it again")


def as_view(data: bytes | bytearray | memoryview) -> memoryview:
    """A flat unsigned-byte view of ``data`` (no copy)."""
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


class Parts:
    """Collects an output file as parts: new bytes, and spans of the source kept as views.

    Adjacent source spans are merged, so an untouched file comes back as one ``memoryview``.
    """

    def __init__(self, source: memoryview) -> None:
        self._source = source
        self._parts: list[bytes | memoryview] = []
        self._span: tuple[int, int] | None = None

    def copy(self, start: int, end: int) -> None:
        """Keep ``source[start:end]`` verbatim."""
        if start >= end:
            return
        if self._span is not None and self._span[1] == start:
            self._span = (self._span[0], end)
            return
        self._flush()
        self._span = (start, end)

    def add(self, data: bytes) -> None:
        """Append new bytes."""
        if not data:
            return
        self._flush()
        self._parts.append(data)

    def result(self) -> list[bytes | memoryview]:
        self._flush()
        return self._parts

    def _flush(self) -> None:
        if self._span is not None:
            start, end = self._span
            self._parts.append(self._source[start:end])
            self._span = None


def releases_views(fn: _F) -> _F:
    """Clear the locals of our frames in any exception leaving ``fn``.

    The pipeline passes an ``mmap``-backed ``memoryview``; a traceback whose frames still hold
    views of it makes ``mmap.close()`` fail with ``BufferError: cannot close exported pointers
    exist``, which would hide the real error (e.g. ``CorruptImage``) from the user.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BaseException as err:
            import traceback

            seen: set[int] = set()
            current: BaseException | None = err
            while current is not None and id(current) not in seen:
                seen.add(id(current))
                if current.__traceback__ is not None:
                    traceback.clear_frames(current.__traceback__)
                current = current.__cause__ or current.__context__
            raise

    return wrapper  # type: ignore[return-value]


def join(parts: list[bytes | memoryview]) -> bytes:
    """Concatenate the result of ``embed`` (tests and small files; the pipeline streams parts)."""
    return b"".join(parts)


def decode_text(raw: bytes, encoding: str = "utf-8") -> str:
    """Decode a text field from a file without ever failing on bad bytes."""
    return raw.decode(encoding, errors="replace")


# --- XML helpers for XMP (JPEG extended XMP, SVG) ------------------------------------------

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XPACKET_START = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
XPACKET_END = b'\n<?xpacket end="w"?>'


def register_xml_prefixes(xml: bytes) -> None:
    """Make ElementTree serialize ``xml``'s own prefixes ("dc:", "xmp:") instead of "ns0:".

    ElementTree keeps prefixes in a process-wide table; XMP prefixes are conventional, so
    registering them globally is harmless.
    """
    import io
    import re
    import xml.etree.ElementTree as ET

    ET.register_namespace("x", NS_X)
    ET.register_namespace("rdf", NS_RDF)
    for _event, (prefix, uri) in ET.iterparse(io.BytesIO(xml), events=("start-ns",)):
        if prefix and not re.fullmatch(r"ns\d+", prefix) and prefix != "xml":
            try:
                ET.register_namespace(prefix, uri)
            except ValueError:
                continue


def xml_bytes(element) -> bytes:
    """UTF-8 serialization of an ElementTree element that keeps carriage returns.

    ElementTree writes a CR in text content as a raw byte, which the next parser turns into LF;
    a character reference survives ("line\\r\\nnext" must round-trip exactly).
    """
    import xml.etree.ElementTree as ET

    return ET.tostring(element, encoding="utf-8").replace(b"\r", b"&#13;")
