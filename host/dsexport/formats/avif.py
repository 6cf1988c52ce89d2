"""AVIF (ISO BMFF / HEIF): sniffing, probing and reading; metadata is written to a sidecar.

Writing EXIF/XMP into AVIF means editing ``meta`` (``iinf`` item, ``iloc`` extents, ``iref cdsc``)
and shifting every file offset after it; no library we may depend on does this, and Pillow's
AVIF encoder is lossy and 8-bit only. ``embed`` therefore raises ``UnsupportedFormat`` and the
pipeline writes a sidecar instead (docs/metadata.md).

Boxes: ``uint32 BE size | type`` (size 1: a uint64 follows; size 0: to the end of the file).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import TooLarge, UnsupportedFormat
from .base import (
    MAX_XMP_BYTES,
    ImageInfo,
    Payload,
    RawFields,
    as_view,
    check_span,
    corrupt,
    releases_views,
)

NAME = "avif"
EXTENSION = "avif"
MIME = "image/avif"

BRANDS = (b"avif", b"avis")
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")

MAX_BOXES = 100_000
"""Most boxes we visit in one file. Empty boxes cost 8 bytes each, so a hostile file could
otherwise make us walk millions of them (CPU exhaustion)."""

MAX_DEPTH = 8
"""Deepest box nesting we follow (meta/iprp/ipco/… is 4); stops recursion bombs."""

MAX_ITEMS = 10_000
"""Most items/extents we accept in iinf/iloc; bounds the lists built from counts in the file."""

_FMT = "AVIF"
_ALPHA_URNS = (b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1")


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int
    data_start: int
    end: int
    depth: int


def accepts(head: bytes) -> bool:
    head = bytes(head)
    if head[4:8] != b"ftyp" or len(head) < 16:
        return False
    (size,) = struct.unpack_from(">I", head, 0)
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    return any(b in BRANDS for b in brands)


def _boxes(view: memoryview, start: int, end: int, depth: int, budget: list[int]) -> Iterator[Box]:
    pos = start
    while pos < end:
        budget[0] -= 1
        if budget[0] < 0:
            raise corrupt(_FMT, f"more than {MAX_BOXES} boxes")
        check_span(end, pos, 8, "box header", _FMT)
        size, btype = struct.unpack_from(">I4s", view, pos)
        header = 8
        if size == 1:
            check_span(end, pos, 16, "box header", _FMT)
            (size,) = struct.unpack_from(">Q", view, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise corrupt(_FMT, f"box {btype!r} has an invalid size {size}")
        check_span(end, pos, size, f"box {btype.decode('latin-1')}", _FMT)
        if btype == b"uuid":
            header += 16
            check_span(end, pos, header, "uuid box", _FMT)
        yield Box(btype, pos, pos + header, pos + size, depth)
        pos += size


def _walk(view: memoryview) -> list[Box]:
    """Every box we care about: top level, and inside meta/iprp/ipco/dinf, in file order."""
    # Iterative on purpose: a recursive closure would form a reference cycle holding ``view``,
    # and an mmap cannot be closed until the garbage collector happens to break it.
    out: list[Box] = []
    budget = [MAX_BOXES]
    pending = [(0, len(view), 0)]
    while pending:
        start, end, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise corrupt(_FMT, "boxes nested too deeply")
        children = list(_boxes(view, start, end, depth, budget))
        out.extend(children)
        for box in reversed(children):
            if box.type in (b"meta", b"iprp", b"ipco", b"dinf"):
                skip = 4 if box.type == b"meta" else 0
                pending.append((box.data_start + skip, box.end, depth + 1))
    return out


@releases_views
def probe(data: bytes | memoryview) -> ImageInfo:
    view = as_view(data)
    boxes = _walk(view)
    if not boxes or boxes[0].type != b"ftyp":
        raise corrupt(_FMT, "the file does not start with an ftyp box")
    types = {b.type for b in boxes}
    if b"meta" not in types:
        raise corrupt(_FMT, "no meta box (no image items)")
    ftyp = boxes[0]
    brands = {bytes(view[i : i + 4]) for i in range(ftyp.data_start, ftyp.end - 3, 4)}
    sizes = []
    for b in boxes:
        if b.type == b"ispe" and b.end - b.data_start >= 12:
            sizes.append(struct.unpack_from(">II", view, b.data_start + 4))
    depth = None
    for b in boxes:
        if b.type == b"pixi" and b.end - b.data_start >= 6 and view[b.data_start + 4]:
            depth = view[b.data_start + 5]
            break
    alpha = any(
        b.type == b"auxC" and any(u in bytes(view[b.data_start : b.end]) for u in _ALPHA_URNS)
        for b in boxes
    )
    c2pa = any(
        b.type == b"uuid" and bytes(view[b.start + 8 : b.start + 24]) == C2PA_UUID
        for b in boxes
        if b.depth == 0
    )
    # The primary image is the largest spatial extent; alpha planes and thumbnails are smaller.
    width, height = max(sizes, key=lambda s: s[0] * s[1]) if sizes else (None, None)
    return ImageInfo(
        width=width or None,
        height=height or None,
        animated=b"avis" in brands and b"moov" in types,
        has_alpha=alpha,
        bit_depth=depth,
        has_c2pa=c2pa,
    )


@releases_views
def embed(data: bytes | memoryview, payload: Payload) -> list[bytes | memoryview]:
    msg = "AVIF metadata is written to a sidecar"
    raise UnsupportedFormat(msg)


@releases_views
def content_digest(data: bytes | memoryview) -> str:
    """SHA-256 of the whole file: we never change an AVIF (metadata goes to a sidecar)."""
    return hashlib.sha256(as_view(data)).hexdigest()


def _items(view: memoryview, iinf: Box) -> dict[int, tuple[bytes, bytes]]:
    """item_ID -> (item_type, content_type) from ``infe`` version 2/3 entries."""
    items: dict[int, tuple[bytes, bytes]] = {}
    version = view[iinf.data_start]
    count_size = 2 if version == 0 else 4
    start = iinf.data_start + 4 + count_size
    budget = [MAX_ITEMS]
    for infe in _boxes(view, start, iinf.end, 0, budget):
        if infe.type != b"infe" or infe.end - infe.data_start < 12:
            continue
        v = view[infe.data_start]
        if v < 2:
            continue
        pos = infe.data_start + 4
        if v == 2:
            item_id, _prot, item_type = struct.unpack_from(">HH4s", view, pos)
            pos += 8
        else:
            check_span(infe.end, pos, 10, "infe", _FMT)
            item_id, _prot, item_type = struct.unpack_from(">IH4s", view, pos)
            pos += 10
        rest = bytes(view[pos : infe.end])
        name_end = rest.find(b"\0")
        content_type = b""
        if item_type == b"mime" and name_end >= 0:
            content_type = rest[name_end + 1 :].split(b"\0", 1)[0]
        items[item_id] = (item_type, content_type)
    return items


def _locations(view: memoryview, iloc: Box) -> dict[int, list[tuple[int, int]]]:
    """item_ID -> [(file offset, length)] for items stored in the file (construction method 0)."""
    pos = iloc.data_start
    end = iloc.end
    check_span(end, pos, 6, "iloc", _FMT)
    version = view[pos]
    sizes1, sizes2 = view[pos + 4], view[pos + 5]
    off_size, len_size, base_size = sizes1 >> 4, sizes1 & 15, sizes2 >> 4
    idx_size = sizes2 & 15 if version in (1, 2) else 0
    pos += 6
    count_fmt = ">H" if version < 2 else ">I"
    check_span(end, pos, struct.calcsize(count_fmt), "iloc", _FMT)
    (count,) = struct.unpack_from(count_fmt, view, pos)
    pos += struct.calcsize(count_fmt)
    if count > MAX_ITEMS:
        raise corrupt(_FMT, f"iloc lists {count} items")

    for n in (off_size, len_size, base_size, idx_size):
        if n not in (0, 4, 8):
            raise corrupt(_FMT, f"iloc field size {n}")

    def read(n: int) -> int:
        nonlocal pos
        check_span(end, pos, n, "iloc", _FMT)
        value = int.from_bytes(view[pos : pos + n], "big") if n else 0
        pos += n
        return value

    out: dict[int, list[tuple[int, int]]] = {}
    for _ in range(count):
        item_id = read(2 if version < 2 else 4)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data_reference_index
        base = read(base_size)
        extents_count = read(2)
        if extents_count > MAX_ITEMS:
            raise corrupt(_FMT, f"iloc item has {extents_count} extents")
        extents = []
        for _ in range(extents_count):
            if idx_size:
                read(idx_size)
            extents.append((base + read(off_size), read(len_size)))
        if method == 0:
            out[item_id] = extents
    return out


def _item_bytes(view: memoryview, extents: list[tuple[int, int]], cap: int) -> bytes | None:
    total = sum(length for _, length in extents)
    if total > cap:
        msg = f"AVIF: a metadata item is larger than {cap} bytes"
        raise TooLarge(msg)
    out = bytearray()
    for offset, length in extents:
        if length == 0:  # "to the end of the file" is not used for metadata in practice
            return None
        check_span(len(view), offset, length, "metadata item", _FMT)
        out += view[offset : offset + length]
    return bytes(out)


@releases_views
def extract(data: bytes | memoryview) -> RawFields:
    view = as_view(data)
    boxes = _walk(view)
    meta = next((b for b in boxes if b.type == b"meta" and b.depth == 0), None)
    if meta is None:
        return RawFields()
    iinf = next((b for b in boxes if b.type == b"iinf" and b.depth == 1), None)
    iloc = next((b for b in boxes if b.type == b"iloc" and b.depth == 1), None)
    if iinf is None or iloc is None:
        return RawFields()
    items = _items(view, iinf)
    locations = _locations(view, iloc)
    exif = xmp = None
    for item_id, (item_type, content_type) in items.items():
        extents = locations.get(item_id)
        if not extents:
            continue
        if item_type == b"Exif" and exif is None:
            raw = _item_bytes(view, extents, MAX_XMP_BYTES)
            if raw and len(raw) >= 4:
                # HEIF: uint32 offset to the TIFF header, then (usually "Exif\0\0" and) TIFF.
                (skip,) = struct.unpack_from(">I", raw, 0)
                tiff = raw[4 + skip :] if 4 + skip <= len(raw) else b""
                if tiff.startswith(b"Exif\0\0"):
                    tiff = tiff[6:]
                exif = tiff or None
        elif item_type == b"mime" and content_type == b"application/rdf+xml" and xmp is None:
            xmp = _item_bytes(view, extents, MAX_XMP_BYTES)
    return RawFields(text={}, exif=exif, xmp=xmp)
