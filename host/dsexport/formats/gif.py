"""GIF: a comment extension and an XMP application extension before the first image.

Layout (GIF89a spec): header, logical screen descriptor, optional global colour table, then
blocks (``0x21`` extension, ``0x2C`` image descriptor) until the ``0x3B`` trailer. Extensions
and image data are sequences of sub-blocks (a length byte, then that many bytes, ending with 0).

XMP in GIF (XMP spec part 3, §1.1.2): application extension ``XMP DataXMP`` whose data is the raw
packet followed by a 258-byte "magic trailer" (0x01, 0xFF…0x00, 0x00) so readers that walk
sub-blocks skip it correctly. We insert both blocks before the first image, right after the
global colour table and after the NETSCAPE2.0 (or ANIMEXTS1.0) looping extension when there is
one: by the Netscape convention that block comes directly after the global colour table, and
the Adobe XMP SDK (exempi 2.6) cannot read the XMP of an animated GIF otherwise. Earlier XMP
extensions, and comments that precede the first image, are dropped (ours replace them).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from ..errors import BadRequest, TooLarge
from .base import (
    MAX_TEXT_BYTES,
    MAX_XMP_BYTES,
    ImageInfo,
    Parts,
    Payload,
    RawFields,
    as_view,
    check_span,
    corrupt,
    decode_text,
    releases_views,
)

NAME = "gif"
EXTENSION = "gif"
MIME = "image/gif"

XMP_APP_ID = b"XMP DataXMP"
LOOP_APP_IDS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
"""Application extensions that say how often an animation repeats; they stay first."""
MAGIC_TRAILER = bytes([0x01, *range(0xFF, -1, -1), 0x00])

MAX_BLOCKS = 1_000_000
"""Most top-level blocks we walk. Tiny extensions cost three bytes each, so a hostile file could
otherwise make us build a list of millions of entries (CPU and memory exhaustion)."""

_FMT = "GIF"
_EXT, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B
_COMMENT, _APPLICATION, _GCE = 0xFE, 0xFF, 0xF9


@dataclass(frozen=True)
class Block:
    kind: int
    """``0x21`` extension or ``0x2C`` image."""
    label: int
    """Extension label (0 for images)."""
    start: int
    end: int
    data_start: int
    """Offset of the first sub-block."""


@dataclass(frozen=True)
class Layout:
    screen_end: int
    """Offset after header, logical screen descriptor and global colour table."""
    blocks: list[Block]
    trailer: int
    """Offset of the 0x3B trailer."""


def accepts(head: bytes) -> bool:
    return bytes(head[:6]) in (b"GIF87a", b"GIF89a")


def _skip_sub_blocks(view: memoryview, pos: int) -> int:
    size = len(view)
    while True:
        check_span(size, pos, 1, "sub-block", _FMT)
        n = view[pos]
        if n == 0:
            return pos + 1
        check_span(size, pos + 1, n, "sub-block", _FMT)
        pos += 1 + n


def split(data: bytes | memoryview) -> Layout:
    """Walk every block up to the trailer."""
    view = as_view(data)
    size = len(view)
    check_span(size, 0, 13, "header", _FMT)
    if bytes(view[:6]) not in (b"GIF87a", b"GIF89a"):
        raise corrupt(_FMT, "missing GIF header")
    packed = view[10]
    pos = 13
    if packed & 0x80:
        table = 3 * (2 << (packed & 7))
        check_span(size, pos, table, "global colour table", _FMT)
        pos += table
    screen_end = pos
    blocks: list[Block] = []
    while True:
        check_span(size, pos, 1, "block", _FMT)
        kind = view[pos]
        if kind == _TRAILER:
            return Layout(screen_end, blocks, pos)
        if kind == _EXT:
            check_span(size, pos, 2, "extension", _FMT)
            end = _skip_sub_blocks(view, pos + 2)
            blocks.append(Block(kind, view[pos + 1], pos, end, pos + 2))
        elif kind == _IMAGE:
            check_span(size, pos, 10, "image descriptor", _FMT)
            flags = view[pos + 9]
            data_start = pos + 10
            if flags & 0x80:
                table = 3 * (2 << (flags & 7))
                check_span(size, data_start, table, "local colour table", _FMT)
                data_start += table
            check_span(size, data_start, 1, "LZW code size", _FMT)
            end = _skip_sub_blocks(view, data_start + 1)
            blocks.append(Block(kind, 0, pos, end, data_start + 1))
        else:
            raise corrupt(_FMT, f"unknown block 0x{kind:02X} at offset {pos}")
        if len(blocks) > MAX_BLOCKS:
            raise corrupt(_FMT, f"more than {MAX_BLOCKS} blocks")
        pos = end


def _app_id(view: memoryview, b: Block) -> bytes:
    # Application extension: first sub-block is 11 bytes (identifier + authentication code).
    if b.kind != _EXT or b.label != _APPLICATION or view[b.data_start] != 11:
        return b""
    return bytes(view[b.data_start + 1 : b.data_start + 12])


@releases_views
def probe(data: bytes | memoryview) -> ImageInfo:
    view = as_view(data)
    layout = split(view)
    width, height = struct.unpack_from("<HH", view, 6)
    frames = sum(1 for b in layout.blocks if b.kind == _IMAGE)
    if frames == 0:
        raise corrupt(_FMT, "no image in the file")
    transparent = any(
        b.label == _GCE and b.end - b.data_start >= 3 and view[b.data_start + 1] & 1
        for b in layout.blocks
        if b.kind == _EXT
    )
    return ImageInfo(
        width=width or None,
        height=height or None,
        animated=frames > 1,
        has_alpha=transparent,
        bit_depth=8,
    )


def sub_blocks(data: bytes) -> bytes:
    """``data`` as 255-byte sub-blocks plus the terminator."""
    out = bytearray()
    for i in range(0, len(data), 255):
        piece = data[i : i + 255]
        out.append(len(piece))
        out += piece
    out.append(0)
    return bytes(out)


def comment_extension(text: str) -> bytes:
    return bytes((_EXT, _COMMENT)) + sub_blocks(text.encode("utf-8"))


def xmp_extension(packet: bytes) -> bytes:
    if b"\0" in packet:
        msg = "an XMP packet for GIF must not contain NUL bytes"
        raise BadRequest(msg)
    return bytes((_EXT, _APPLICATION, 11)) + XMP_APP_ID + packet + MAGIC_TRAILER


@releases_views
def embed(data: bytes | memoryview, payload: Payload) -> list[bytes | memoryview]:
    view = as_view(data)
    layout = split(view)
    if len(payload.xmp) > MAX_XMP_BYTES:
        msg = f"the XMP packet is {len(payload.xmp)} bytes; the limit is {MAX_XMP_BYTES}"
        raise TooLarge(msg)
    kept: list[Block] = []
    before_image = True
    for b in layout.blocks:
        if b.kind == _IMAGE:
            before_image = False
        replaced = _app_id(view, b) == XMP_APP_ID or (
            before_image and payload.parameters is not None and b.label == _COMMENT
        )
        if not (b.kind == _EXT and replaced):
            kept.append(b)
    lead = 0
    while lead < len(kept) and _app_id(view, kept[lead]) in LOOP_APP_IDS:
        lead += 1
    parts = Parts(view)
    # Extensions need GIF89a; the version is the only header byte that changes.
    parts.add(b"GIF89a")
    parts.copy(6, layout.screen_end)
    for b in kept[:lead]:
        parts.copy(b.start, b.end)
    if payload.parameters is not None:
        parts.add(comment_extension(payload.parameters))
    parts.add(xmp_extension(payload.xmp))
    for b in kept[lead:]:
        parts.copy(b.start, b.end)
    parts.copy(layout.trailer, len(view))
    return parts.result()


@releases_views
def content_digest(data: bytes | memoryview) -> str:
    """SHA-256 of the logical screen, colour table, every block that is not a comment or XMP
    extension, and the trailer with anything after it; the version in the header is left out
    (``embed`` may raise GIF87a to GIF89a)."""
    view = as_view(data)
    layout = split(view)
    digest = hashlib.sha256(view[6 : layout.screen_end])
    for b in layout.blocks:
        if b.kind == _EXT and (b.label == _COMMENT or _app_id(view, b) == XMP_APP_ID):
            continue
        digest.update(view[b.start : b.end])
    digest.update(view[layout.trailer :])
    return digest.hexdigest()


def _sub_block_data(view: memoryview, b: Block) -> bytes:
    out = bytearray()
    pos = b.data_start
    while view[pos]:
        n = view[pos]
        out += view[pos + 1 : pos + 1 + n]
        if len(out) > MAX_TEXT_BYTES:
            msg = f"GIF: a comment is larger than {MAX_TEXT_BYTES} bytes"
            raise TooLarge(msg)
        pos += 1 + n
    return bytes(out)


@releases_views
def extract(data: bytes | memoryview) -> RawFields:
    view = as_view(data)
    layout = split(view)
    comments: list[str] = []
    xmp: bytes | None = None
    for b in layout.blocks:
        if b.kind != _EXT:
            continue
        if b.label == _COMMENT:
            comments.append(decode_text(_sub_block_data(view, b)))
        elif xmp is None and _app_id(view, b) == XMP_APP_ID:
            start = b.data_start + 12
            stop = b.end - len(MAGIC_TRAILER)
            if stop >= start and bytes(view[stop : b.end]) == MAGIC_TRAILER:
                if stop - start > MAX_XMP_BYTES:
                    msg = f"GIF: the XMP packet is larger than {MAX_XMP_BYTES} bytes"
                    raise TooLarge(msg)
                xmp = bytes(view[start:stop])
    text = {"comment": "\n".join(comments)} if comments else {}
    return RawFields(text=text, exif=None, xmp=xmp)
