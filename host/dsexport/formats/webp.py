"""WebP: RIFF chunk rewrite; the VP8/VP8L/ALPH/ANMF bitstreams are copied byte for byte.

Container (libwebp ``doc/webp-container-spec.txt``): ``"RIFF" uint32 LE (file size - 8) "WEBP"``
then chunks ``FourCC | uint32 LE size | payload | pad byte if size is odd``. EXIF and XMP need the
extended format, so a simple ``VP8 ``/``VP8L`` file is upgraded to ``VP8X`` with the canvas taken
from the bitstream header. We append ``EXIF`` (TIFF bytes, no ``Exif\\0\\0``: ExifTool warns
"Improper EXIF header" otherwise) and ``XMP `` after the image data, the spec's order; metadata
and unknown chunks may appear in any order, so everything else stays where it was.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from ..errors import BadRequest, TooLarge
from .base import (
    MAX_XMP_BYTES,
    ImageInfo,
    Parts,
    Payload,
    RawFields,
    as_view,
    check_span,
    corrupt,
    releases_views,
)

NAME = "webp"
EXTENSION = "webp"
MIME = "image/webp"

MAX_RIFF_SIZE = 0xFFFFFFFF - 1
"""The RIFF size field is 32 bits and always even; larger output cannot be written."""

MAX_CHUNKS = 1_000_000
"""Most chunks we walk in one file. Empty chunks cost 8 bytes each, so a hostile file could
otherwise make us build a list of millions of entries (CPU and memory exhaustion)."""

FLAG_ICC, FLAG_ALPHA, FLAG_EXIF, FLAG_XMP, FLAG_ANIMATION = 0x20, 0x10, 0x08, 0x04, 0x02

_FMT = "WebP"


@dataclass(frozen=True)
class Chunk:
    fourcc: bytes
    start: int
    data_start: int
    size: int
    end: int
    """Offset just past the payload and its pad byte."""


def accepts(head: bytes) -> bool:
    return bytes(head[:4]) == b"RIFF" and bytes(head[8:12]) == b"WEBP"


def split(data: bytes | memoryview) -> list[Chunk]:
    """Walk every chunk; the RIFF size must match the file exactly."""
    view = as_view(data)
    size = len(view)
    check_span(size, 0, 12, "RIFF header", _FMT)
    if bytes(view[:4]) != b"RIFF" or bytes(view[8:12]) != b"WEBP":
        raise corrupt(_FMT, "missing RIFF/WEBP header")
    (riff_size,) = struct.unpack_from("<I", view, 4)
    if riff_size + 8 != size:
        raise corrupt(_FMT, f"the RIFF header says {riff_size + 8} bytes but the file has {size}")
    chunks: list[Chunk] = []
    pos = 12
    while pos < size:
        check_span(size, pos, 8, "chunk header", _FMT)
        fourcc = bytes(view[pos : pos + 4])
        (length,) = struct.unpack_from("<I", view, pos + 4)
        padded = length + (length & 1)
        check_span(size, pos + 8, padded, f"chunk {fourcc!r}", _FMT)
        chunks.append(Chunk(fourcc, pos, pos + 8, length, pos + 8 + padded))
        if len(chunks) > MAX_CHUNKS:
            raise corrupt(_FMT, f"more than {MAX_CHUNKS} chunks")
        pos += 8 + padded
    if not chunks:
        raise corrupt(_FMT, "no chunks")
    first = chunks[0].fourcc
    if first not in (b"VP8 ", b"VP8L", b"VP8X"):
        raise corrupt(_FMT, f"the first chunk is {first!r}, not VP8/VP8L/VP8X")
    if first == b"VP8X" and chunks[0].size < 10:
        raise corrupt(_FMT, "VP8X chunk is shorter than 10 bytes")
    return chunks


def _vp8_size(view: memoryview, c: Chunk) -> tuple[int, int]:
    # Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height; the top two bits
    # of each are a scaling hint, not part of the size.
    if c.size < 10 or bytes(view[c.data_start + 3 : c.data_start + 6]) != b"\x9d\x01\x2a":
        raise corrupt(_FMT, "VP8 key frame header not found")
    w, h = struct.unpack_from("<HH", view, c.data_start + 6)
    return w & 0x3FFF, h & 0x3FFF


def _vp8l_header(view: memoryview, c: Chunk) -> tuple[int, int, bool]:
    # Signature 0x2F, then 14 bits width-1, 14 bits height-1, 1 bit alpha_is_used, 3 bits version.
    if c.size < 5 or view[c.data_start] != 0x2F:
        raise corrupt(_FMT, "VP8L signature not found")
    (bits,) = struct.unpack_from("<I", view, c.data_start + 1)
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)


@releases_views
def probe(data: bytes | memoryview) -> ImageInfo:
    view = as_view(data)
    chunks = split(view)
    first = chunks[0]
    fourccs = {c.fourcc for c in chunks}
    has_c2pa = b"C2PA" in fourccs
    if first.fourcc == b"VP8X":
        flags = view[first.data_start]
        w = int.from_bytes(view[first.data_start + 4 : first.data_start + 7], "little") + 1
        h = int.from_bytes(view[first.data_start + 7 : first.data_start + 10], "little") + 1
        return ImageInfo(
            width=w,
            height=h,
            animated=bool(flags & FLAG_ANIMATION) or b"ANIM" in fourccs,
            has_alpha=bool(flags & FLAG_ALPHA),
            bit_depth=8,
            has_c2pa=has_c2pa,
        )
    if first.fourcc == b"VP8 ":
        w, h = _vp8_size(view, first)
        alpha = False
    else:
        w, h, alpha = _vp8l_header(view, first)
    return ImageInfo(width=w, height=h, has_alpha=alpha, bit_depth=8, has_c2pa=has_c2pa)


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    """One chunk with its size and pad byte, e.g. ``riff_chunk(b"XMP ", packet)``."""
    pad = b"\0" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def _vp8x(view: memoryview, chunks: list[Chunk], flags_on: int, flags_off: int) -> bytes:
    first = chunks[0]
    if first.fourcc == b"VP8X":
        body = bytearray(view[first.data_start : first.data_start + first.size])
        body[0] = (body[0] | flags_on) & ~flags_off & 0xFF
        return riff_chunk(b"VP8X", bytes(body))
    if first.fourcc == b"VP8 ":
        w, h = _vp8_size(view, first)
        flags = 0
    else:
        w, h, alpha = _vp8l_header(view, first)
        flags = FLAG_ALPHA if alpha else 0
    if any(c.fourcc == b"ALPH" for c in chunks):
        flags |= FLAG_ALPHA
    if w == 0 or h == 0:
        raise corrupt(_FMT, "the bitstream header gives a zero canvas size")
    flags = (flags | flags_on) & ~flags_off & 0xFF
    body = bytes((flags, 0, 0, 0)) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    return riff_chunk(b"VP8X", body)


@releases_views
def embed(data: bytes | memoryview, payload: Payload) -> list[bytes | memoryview]:
    view = as_view(data)
    chunks = split(view)
    if len(payload.xmp) > MAX_XMP_BYTES:
        msg = f"the XMP packet is {len(payload.xmp)} bytes; the limit is {MAX_XMP_BYTES}"
        raise TooLarge(msg)
    new: list[bytes] = []
    # "XMP\0" is the misspelling an early libwebp wrote; readers still take it, so it goes too.
    drop = {b"XMP ", b"XMP\0"}
    flags_on, flags_off = FLAG_XMP, 0
    if payload.exif is not None:
        tiff = payload.exif
        if tiff.startswith(b"Exif\0\0"):
            tiff = tiff[6:]
        if tiff[:4] not in (b"MM\0*", b"II*\0"):
            msg = "EXIF must be TIFF bytes starting with MM\\0* or II*\\0"
            raise BadRequest(msg)
        new.append(riff_chunk(b"EXIF", tiff))
        drop.add(b"EXIF")
        flags_on |= FLAG_EXIF
    elif not any(c.fourcc == b"EXIF" for c in chunks):
        flags_off |= FLAG_EXIF
    new.append(riff_chunk(b"XMP ", payload.xmp))
    parts = Parts(view)
    head = _vp8x(view, chunks, flags_on, flags_off)
    kept = [c for c in chunks if c.fourcc not in drop and c.fourcc != b"VP8X"]
    total = 4 + len(head) + sum(c.end - c.start for c in kept) + sum(len(b) for b in new)
    if total > MAX_RIFF_SIZE:
        msg = f"the WebP file would be {total + 8} bytes; RIFF allows at most 4 GiB"
        raise TooLarge(msg)
    parts.add(b"RIFF" + struct.pack("<I", total) + b"WEBP" + head)
    for c in kept:
        parts.copy(c.start, c.end)
    for b in new:
        parts.add(b)
    return parts.result()


#: Chunks that hold metadata or only flag it (VP8X): left out of ``content_digest``.
METADATA_FOURCCS = frozenset({b"VP8X", b"EXIF", b"XMP ", b"XMP\0"})


@releases_views
def content_digest(data: bytes | memoryview) -> str:
    """SHA-256 of every chunk except VP8X, EXIF and XMP, in order: what ``embed`` never
    changes (it rewrites VP8X's flags and replaces the metadata chunks)."""
    view = as_view(data)
    digest = hashlib.sha256()
    for c in split(view):
        if c.fourcc not in METADATA_FOURCCS:
            digest.update(view[c.start : c.end])
    return digest.hexdigest()


@releases_views
def extract(data: bytes | memoryview) -> RawFields:
    view = as_view(data)
    chunks = split(view)
    exif = None
    packets: dict[bytes, bytes] = {}
    for c in chunks:
        body = view[c.data_start : c.data_start + c.size]
        if c.fourcc == b"EXIF" and exif is None:
            exif = bytes(body)
            if exif.startswith(b"Exif\0\0"):
                exif = exif[6:]
        elif c.fourcc in (b"XMP ", b"XMP\0") and c.fourcc not in packets:
            if c.size > MAX_XMP_BYTES:
                msg = f"WebP: the XMP chunk is larger than {MAX_XMP_BYTES} bytes"
                raise TooLarge(msg)
            packets[c.fourcc] = bytes(body)
    # The spelled-out chunk is the one embed writes; the other is only read when alone.
    xmp = packets.get(b"XMP ", packets.get(b"XMP\0"))
    return RawFields(text={}, exif=exif, xmp=xmp)
