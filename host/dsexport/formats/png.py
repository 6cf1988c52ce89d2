"""PNG: text chunks inserted right after IHDR; every other chunk copied byte for byte.

Layout (PNG 3rd edition): signature, then chunks ``uint32 BE length | type | data | CRC-32``.
We write ``parameters`` as tEXt when it is Latin-1 and as iTXt otherwise (what Pillow's
``add_text`` does, so A1111 readers find it), XMP as uncompressed iTXt ``XML:com.adobe.xmp``,
and ``Payload.text`` entries the same way as ``parameters``. Text chunks go right after IHDR:
before IDAT (where Pillow, A1111 and Apple/Adobe tools look) and before APNG's acTL. The XMP
chunk comes first of them: the Adobe XMP SDK (exempi 2.6) finds no XMP when another iTXt chunk
precedes it, which happens whenever a prompt is not Latin-1.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import BadRequest, TooLarge
from .base import (
    MAX_TEXT_BYTES,
    MAX_TOTAL_TEXT_BYTES,
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

NAME = "png"
EXTENSION = "png"
MIME = "image/png"

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = "XML:com.adobe.xmp"
PARAMETERS_KEYWORD = "parameters"
TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")

MAX_CHUNK_LENGTH = 2**31 - 1
"""The spec's limit on a chunk's length field. A larger value is a corrupt or hostile file;
lengths are also checked against the bytes actually left before any slice."""

MAX_CHUNKS = 1_000_000
"""Most chunks we walk in one file. Zero-length chunks cost 12 bytes each, so a hostile file
could otherwise make us build a list of millions of entries (CPU and memory exhaustion)."""

SPLIT_ONCE = True
"""``probe``, ``extract``, ``embed`` and ``content_digest`` accept ``layout=split(data)``: a save
walks the chunks and checks their CRCs once, not four times (``pipeline``)."""

DIGEST_TAKES_FILE_SHA256 = True
"""``content_digest`` accepts ``file_sha256=`` (the caller's hash of all of ``data``) and
returns it when it is the content digest, saving a second pass (``formats.content_digest``)."""

Layout = tuple[list["Chunk"], int]
"""What ``split`` returns: the chunks up to IEND, and the offset just after IEND."""

_FMT = "PNG"
_COLOR_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


@dataclass(frozen=True)
class Chunk:
    type: bytes
    start: int
    """Offset of the length field."""
    data_start: int
    end: int
    """Offset just past the CRC."""

    @property
    def data_end(self) -> int:
        return self.end - 4


def accepts(head: bytes) -> bool:
    return bytes(head[:8]) == SIGNATURE


def split(data: bytes | memoryview) -> Layout:
    """Walk and verify every chunk up to IEND; return the chunks and the offset after IEND.

    Raises ``CorruptImage`` on a bad signature, a bad CRC, a chunk that runs past the end,
    a missing IHDR or a missing IEND (a truncated download).
    """
    view = as_view(data)
    size = len(view)
    if bytes(view[:8]) != SIGNATURE:
        raise corrupt(_FMT, "missing PNG signature")
    chunks: list[Chunk] = []
    pos = 8
    while True:
        check_span(size, pos, 8, "chunk header", _FMT)
        (length,) = struct.unpack_from(">I", view, pos)
        ctype = bytes(view[pos + 4 : pos + 8])
        if length > MAX_CHUNK_LENGTH:
            raise corrupt(_FMT, f"chunk {ctype!r} claims {length} bytes")
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in ctype):
            raise corrupt(_FMT, f"invalid chunk type {ctype!r} at offset {pos}")
        check_span(size, pos + 8, length + 4, f"chunk {ctype.decode('latin-1')}", _FMT)
        data_start = pos + 8
        end = data_start + length + 4
        (crc,) = struct.unpack_from(">I", view, end - 4)
        if zlib.crc32(view[pos + 4 : end - 4]) & 0xFFFFFFFF != crc:
            raise corrupt(_FMT, f"CRC mismatch in chunk {ctype.decode('latin-1')} at offset {pos}")
        if not chunks and (ctype != b"IHDR" or length != 13):
            raise corrupt(_FMT, "the first chunk is not a 13-byte IHDR")
        chunks.append(Chunk(ctype, pos, data_start, end))
        if len(chunks) > MAX_CHUNKS:
            raise corrupt(_FMT, f"more than {MAX_CHUNKS} chunks")
        pos = end
        if ctype == b"IEND":
            break
    if not any(c.type == b"IDAT" for c in chunks):
        raise corrupt(_FMT, "no IDAT chunk (no image data)")
    return chunks, pos


@releases_views
def probe(data: bytes | memoryview, *, layout: Layout | None = None) -> ImageInfo:
    view = as_view(data)
    chunks, _ = layout or split(view)
    width, height, depth, color_type = struct.unpack_from(">IIBB", view, chunks[0].data_start)
    if width == 0 or height == 0 or color_type not in _COLOR_CHANNELS:
        raise corrupt(_FMT, f"invalid IHDR ({width}x{height}, colour type {color_type})")
    types = {c.type for c in chunks}
    first_idat = next(i for i, c in enumerate(chunks) if c.type == b"IDAT")
    animated = any(c.type == b"acTL" for c in chunks[:first_idat])
    has_alpha = color_type in (4, 6) or b"tRNS" in types
    return ImageInfo(
        width=width,
        height=height,
        animated=animated,
        has_alpha=has_alpha,
        bit_depth=depth,
        has_c2pa=b"caBX" in types,
    )


def chunk(ctype: bytes, data: bytes) -> bytes:
    """One PNG chunk with its length and CRC, e.g. ``chunk(b"tEXt", b"Title\\0cat")``."""
    if len(data) > MAX_CHUNK_LENGTH:
        msg = (
            f"PNG chunk {ctype!r} would be {len(data)} bytes; the format allows {MAX_CHUNK_LENGTH}"
        )
        raise TooLarge(msg)
    crc = zlib.crc32(data, zlib.crc32(ctype)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def _keyword_bytes(keyword: str) -> bytes:
    try:
        raw = keyword.encode("latin-1")
    except UnicodeEncodeError:
        raw = b""
    if not 1 <= len(raw) <= 79 or b"\0" in raw or raw != raw.strip(b" "):
        msg = f"PNG text keyword {keyword!r} must be 1-79 Latin-1 characters without NUL"
        raise BadRequest(msg)
    return raw


def text_chunk(keyword: str, value: str) -> bytes:
    """tEXt when ``value`` is Latin-1 (readable by every tool), else uncompressed iTXt (UTF-8)."""
    key = _keyword_bytes(keyword)
    try:
        return chunk(b"tEXt", key + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:
        return itxt_chunk(keyword, value.encode("utf-8"))


def itxt_chunk(keyword: str, utf8: bytes) -> bytes:
    """Uncompressed iTXt: keyword NUL, flag 0, method 0, empty language NUL, empty
    translated keyword NUL, text."""
    return chunk(b"iTXt", _keyword_bytes(keyword) + b"\0\0\0\0\0" + utf8)


def _new_chunks(payload: Payload) -> tuple[list[bytes], set[bytes]]:
    if len(payload.xmp) > MAX_XMP_BYTES:
        msg = f"the XMP packet is {len(payload.xmp)} bytes; the limit is {MAX_XMP_BYTES}"
        raise TooLarge(msg)
    entries: list[tuple[str, str]] = []
    if payload.parameters is not None:
        entries.append((PARAMETERS_KEYWORD, payload.parameters))
    entries.extend(
        (k, v) for k, v in payload.text.items() if k not in (PARAMETERS_KEYWORD, XMP_KEYWORD)
    )
    out = [itxt_chunk(XMP_KEYWORD, payload.xmp)]
    out.extend(text_chunk(k, v) for k, v in entries)
    replaced = {_keyword_bytes(k) for k, _ in entries} | {XMP_KEYWORD.encode("latin-1")}
    return out, replaced


def _keyword_of(view: memoryview, c: Chunk) -> bytes:
    # Keywords are at most 79 bytes, so look no further than 80 for the separator.
    head = bytes(view[c.data_start : min(c.data_end, c.data_start + 80)])
    return head.split(b"\0", 1)[0]


@releases_views
def embed(
    data: bytes | memoryview, payload: Payload, *, layout: Layout | None = None
) -> list[bytes | memoryview]:
    view = as_view(data)
    chunks, end = layout or split(view)
    new, replaced = _new_chunks(payload)
    parts = Parts(view)
    parts.copy(0, chunks[0].end)  # signature + IHDR
    for c in new:
        parts.add(c)
    for c in chunks[1:]:
        if c.type in TEXT_TYPES and _keyword_of(view, c) in replaced:
            continue
        parts.copy(c.start, c.end)
    # Bytes after IEND are not part of the image; keep them, the file is not ours to trim.
    parts.copy(end, len(view))
    return parts.result()


#: Chunks that hold metadata, not the picture: left out of ``content_digest``.
METADATA_TYPES = frozenset({*TEXT_TYPES, b"eXIf"})


@releases_views
def content_digest(
    data: bytes | memoryview, *, layout: Layout | None = None, file_sha256: str | None = None
) -> str:
    """SHA-256 of the signature, every chunk that is not metadata (text chunks, ``eXIf``), in
    order, and any bytes after IEND: what ``embed`` never changes, so a file and every save of
    it share the digest.

    For a file without metadata chunks that is the SHA-256 of the whole file: ``file_sha256``,
    when the caller already hashed ``data`` while reading it, is then the answer without a
    second pass over the image (most downloads carry no metadata)."""
    view = as_view(data)
    chunks, end = layout or split(view)
    if file_sha256 is not None and not any(c.type in METADATA_TYPES for c in chunks):
        return file_sha256
    digest = hashlib.sha256(SIGNATURE)  # split() checked that the file starts with it
    for c in chunks:
        if c.type not in METADATA_TYPES:
            digest.update(view[c.start : c.end])
    digest.update(view[end:])
    return digest.hexdigest()


def _decompress(raw: bytes | memoryview, what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_TEXT_BYTES + 1)
    except zlib.error as err:
        raise corrupt(_FMT, f"{what} is not valid zlib data") from err
    if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        msg = f"PNG: {what} expands beyond {MAX_TEXT_BYTES} bytes (decompression bomb?)"
        raise TooLarge(msg)
    return out


def _read_text(view: memoryview, c: Chunk) -> tuple[str, bytes, str] | None:
    """(keyword, raw value bytes, encoding) of a text chunk, or None if malformed."""
    if c.data_end - c.data_start > MAX_TEXT_BYTES + 4096:
        msg = f"PNG: a {c.type.decode()} chunk is larger than {MAX_TEXT_BYTES} bytes"
        raise TooLarge(msg)
    body = bytes(view[c.data_start : c.data_end])
    key_raw, sep, rest = body.partition(b"\0")
    if not sep or not 1 <= len(key_raw) <= 79:
        return None
    key = key_raw.decode("latin-1")
    if c.type == b"tEXt":
        return key, rest, "latin-1"
    if c.type == b"zTXt":
        if rest[:1] != b"\0":
            return None
        return key, _decompress(rest[1:], f"zTXt {key!r}"), "latin-1"
    # iTXt: compression flag, method, language NUL, translated keyword NUL, text.
    if len(rest) < 2:
        return None
    flag, method = rest[0], rest[1]
    fields = rest[2:].split(b"\0", 2)
    if len(fields) != 3:
        return None
    text = fields[2]
    if flag:
        if method != 0:
            return None
        text = _decompress(text, f"iTXt {key!r}")
    return key, text, "utf-8"


def _text_chunks(view: memoryview, chunks: list[Chunk]) -> Iterator[tuple[str, bytes, str]]:
    total = 0
    for c in chunks:
        if c.type not in TEXT_TYPES:
            continue
        item = _read_text(view, c)
        if item is None:
            continue
        total += len(item[1])
        if total > MAX_TOTAL_TEXT_BYTES:
            msg = f"PNG: text chunks add up to more than {MAX_TOTAL_TEXT_BYTES} bytes"
            raise TooLarge(msg)
        yield item


@releases_views
def extract(data: bytes | memoryview, *, layout: Layout | None = None) -> RawFields:
    view = as_view(data)
    chunks, _ = layout or split(view)
    text: dict[str, str] = {}
    xmp: bytes | None = None
    for key, raw, encoding in _text_chunks(view, chunks):
        if key == XMP_KEYWORD:
            xmp = xmp if xmp is not None else raw
        elif key not in text:  # the first wins: ours sit right after IHDR
            text[key] = decode_text(raw, encoding)
    exif = None
    for c in chunks:
        if c.type == b"eXIf":
            exif = bytes(view[c.data_start : c.data_end])
            if exif.startswith(b"Exif\0\0"):
                exif = exif[6:]
            break
    return RawFields(text=text, exif=exif, xmp=xmp)
