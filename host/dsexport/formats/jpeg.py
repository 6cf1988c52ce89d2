"""JPEG: APP1 Exif and XMP segments spliced in; the entropy-coded data is never touched.

Segment layout (ITU T.81): ``FFD8`` SOI, then ``FFxx`` + uint16 BE length (counting itself) up
to the first ``FFDA`` SOS, after which scans, tables between progressive scans and ``FFD9`` EOI
follow. We copy everything from the first SOS to the end of the file verbatim (trailing data
after EOI included). A file without EOI is a truncated download.

Our segments go after SOI and after the leading APP0 (JFIF/JFXX) segments, before anything
else, which is where ExifTool and Pillow put them; that is also before an APP2 MPF header, whose
offsets are relative to itself. We never write a COM segment (it confuses sd-prompt-reader).

An XMP packet longer than one APP1 allows becomes *extended XMP* (XMP spec part 3, §1.1.3.1):
``conventions.xmp.split_for_jpeg`` chooses what stays in the standard packet (which names the
extended one by ``xmpNote:HasExtendedXMP`` = its MD5 GUID); we split the extended packet over
further APP1 segments with (GUID, total, offset) headers, and ``extract`` merges it back.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import BadRequest, TooLarge, UnsupportedFormat
from .base import (
    MAX_XMP_BYTES,
    NS_RDF,
    XPACKET_END,
    XPACKET_START,
    ImageInfo,
    Parts,
    Payload,
    RawFields,
    as_view,
    check_span,
    corrupt,
    decode_text,
    register_xml_prefixes,
    releases_views,
    xml_bytes,
)

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

NAME = "jpeg"
EXTENSION = "jpg"
MIME = "image/jpeg"

EXIF_HEADER = b"Exif\0\0"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
XMP_EXT_HEADER = b"http://ns.adobe.com/xmp/extension/\0"

MAX_SEGMENT_PAYLOAD = 65533
"""A segment's length field is 16 bits and counts its own two bytes."""
MAX_EXIF_TIFF = MAX_SEGMENT_PAYLOAD - len(EXIF_HEADER)
"""65527: the largest TIFF block a single Exif APP1 holds (multi-segment EXIF is non-standard)."""
MAX_XMP_STANDARD = MAX_SEGMENT_PAYLOAD - len(XMP_HEADER)
"""65504: the largest XMP packet in one APP1."""
MAX_XMP_CHUNK = MAX_SEGMENT_PAYLOAD - len(XMP_EXT_HEADER) - 32 - 8
"""65458: extended-XMP bytes per APP1 after the 75-byte header (namespace, GUID, total, offset)."""

MAX_SEGMENTS = 100_000
"""Most header segments we walk before SOS. Each costs at least four bytes, so a hostile file
could otherwise make us build a list of millions of entries (CPU and memory exhaustion)."""

_FMT = "JPEG"
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_APP0, _APP1, _APP2, _APP11, _SOS, _EOI, _COM = 0xE0, 0xE1, 0xE2, 0xEB, 0xDA, 0xD9, 0xFE

_NS_NOTE = "http://ns.adobe.com/xmp/note/"
_RDF = f"{{{NS_RDF}}}RDF"
_DESCRIPTION = f"{{{NS_RDF}}}Description"
_GUID_RE = re.compile(rb'HasExtendedXMP\s*(?:=\s*["\']|>)\s*([0-9A-Fa-f]{32})')


@dataclass(frozen=True)
class Segment:
    marker: int
    start: int
    """Offset of the first byte (fill bytes before the marker included)."""
    data_start: int
    """Offset of the payload (after marker and length); ``end`` for standalone markers."""
    end: int


@dataclass(frozen=True)
class Layout:
    segments: list[Segment]
    """Every segment before the first SOS."""
    scan_start: int
    """Offset of the first SOS marker; from here to the end is copied verbatim."""


def accepts(head: bytes) -> bool:
    return bytes(head[:3]) == b"\xff\xd8\xff"


def split(data: bytes | memoryview) -> Layout:
    """Walk the header segments up to the first SOS and check the file ends with EOI."""
    view = as_view(data)
    size = len(view)
    if bytes(view[:2]) != b"\xff\xd8":
        raise corrupt(_FMT, "missing SOI marker")
    segments: list[Segment] = []
    pos = 2
    while True:
        start = pos
        check_span(size, pos, 2, "segment marker", _FMT)
        if view[pos] != 0xFF:
            raise corrupt(_FMT, f"expected a marker at offset {pos}")
        while pos + 1 < size and view[pos + 1] == 0xFF:  # fill bytes are allowed before markers
            pos += 1
        check_span(size, pos, 2, "segment marker", _FMT)
        marker = view[pos + 1]
        if marker in _STANDALONE:
            segments.append(Segment(marker, start, pos + 2, pos + 2))
            pos += 2
            continue
        if marker in (_EOI, 0xD8, 0x00):
            raise corrupt(_FMT, f"unexpected marker FF{marker:02X} before the image data")
        check_span(size, pos + 2, 2, "segment length", _FMT)
        (length,) = struct.unpack_from(">H", view, pos + 2)
        if length < 2:
            raise corrupt(_FMT, f"segment FF{marker:02X} has an invalid length {length}")
        check_span(size, pos + 2, length, f"segment FF{marker:02X}", _FMT)
        if marker == _SOS:
            break
        segments.append(Segment(marker, start, pos + 4, pos + 2 + length))
        if len(segments) > MAX_SEGMENTS:
            raise corrupt(_FMT, f"more than {MAX_SEGMENTS} segments before the image data")
        pos += 2 + length
    if _find_eoi(view, pos + 2 + length) < 0:
        raise corrupt(_FMT, "no EOI marker after the image data")
    return Layout(segments, start)


_SEARCH_BLOCK = 1 << 20


def _find_eoi(view: memoryview, start: int) -> int:
    """Offset of the first EOI after ``start``, or -1.

    Entropy-coded data cannot contain FF D9 (a data byte FF is always followed by 00), so the
    first one ends the primary image. Bytes after it (a Motion Photo's video, a vendor trailer)
    are kept verbatim. Usually the file simply ends with EOI, so look there first.
    """
    size = len(view)
    if size - start >= 2 and bytes(view[size - 2 :]) == b"\xff\xd9":
        return size - 2
    for block_start in range(start, size, _SEARCH_BLOCK):
        block = bytes(view[block_start : min(size, block_start + _SEARCH_BLOCK + 1)])
        found = block.find(b"\xff\xd9")
        if found >= 0:
            return block_start + found
    return -1


def _payload(view: memoryview, seg: Segment, limit: int | None = None) -> bytes:
    end = seg.end if limit is None else min(seg.end, seg.data_start + limit)
    return bytes(view[seg.data_start : end])


def _is_exif(view: memoryview, seg: Segment) -> bool:
    return seg.marker == _APP1 and _payload(view, seg, 5) == b"Exif\0"


def _is_xmp(view: memoryview, seg: Segment) -> bool:
    return seg.marker == _APP1 and _payload(view, seg, len(XMP_HEADER)) == XMP_HEADER


def _is_xmp_ext(view: memoryview, seg: Segment) -> bool:
    return seg.marker == _APP1 and _payload(view, seg, len(XMP_EXT_HEADER)) == XMP_EXT_HEADER


def _is_jumbf(view: memoryview, seg: Segment) -> bool:
    # JPEG XT box: "JP", instance (2), sequence (4), then a JUMBF box whose type is "jumb".
    head = _payload(view, seg, 16)
    return seg.marker == _APP11 and head[:2] == b"JP" and b"jumb" in head


@releases_views
def probe(data: bytes | memoryview) -> ImageInfo:
    view = as_view(data)
    layout = split(view)
    width = height = depth = None
    for seg in layout.segments:
        if seg.marker in _SOF:
            check_span(seg.end, seg.data_start, 6, "SOF header", _FMT)
            depth, height, width = struct.unpack_from(">BHH", view, seg.data_start)
            break
    if width is None:
        raise corrupt(_FMT, "no SOF segment (frame header)")
    return ImageInfo(
        width=width or None,
        height=height or None,  # 0 means "defined later by DNL"
        animated=False,
        has_alpha=False,
        bit_depth=depth,
        has_c2pa=any(_is_jumbf(view, s) for s in layout.segments),
    )


def segment(marker: int, payload: bytes) -> bytes:
    """One marker segment, e.g. ``segment(0xE1, b"Exif\\0\\0" + tiff)``."""
    if len(payload) > MAX_SEGMENT_PAYLOAD:
        msg = f"a JPEG segment holds at most {MAX_SEGMENT_PAYLOAD} bytes, not {len(payload)}"
        raise TooLarge(msg)
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _exif_segment(tiff: bytes) -> bytes:
    if tiff.startswith(EXIF_HEADER):
        tiff = tiff[len(EXIF_HEADER) :]
    if tiff[:4] not in (b"MM\0*", b"II*\0"):
        msg = "EXIF must be TIFF bytes starting with MM\\0* or II*\\0"
        raise BadRequest(msg)
    if len(tiff) > MAX_EXIF_TIFF:
        msg = (
            f"the EXIF block is {len(tiff)} bytes; one JPEG APP1 holds at most {MAX_EXIF_TIFF}"
            " (put long text in XMP instead)"
        )
        raise TooLarge(msg)
    return segment(_APP1, EXIF_HEADER + tiff)


def xmp_segments(packet: bytes) -> list[bytes]:
    """APP1 segments for ``packet``: one if it fits, else standard + extended XMP.

    Which properties move to the extended packet is a metadata decision, so the conventions
    layer makes it (``conventions.xmp.split_for_jpeg``: our record first, then the largest).
    """
    if len(packet) > MAX_XMP_BYTES:
        msg = f"the XMP packet is {len(packet)} bytes; the limit is {MAX_XMP_BYTES}"
        raise TooLarge(msg)
    if len(packet) <= MAX_XMP_STANDARD:
        return [segment(_APP1, XMP_HEADER + packet)]
    from ..conventions.xmp import split_for_jpeg  # lazy: conventions imports formats.base

    standard, extended, guid = split_for_jpeg(packet)
    out = [segment(_APP1, XMP_HEADER + standard)]
    if extended is None or guid is None:
        return out
    guid_bytes = guid.encode("ascii")
    total = struct.pack(">I", len(extended))
    for offset in range(0, len(extended), MAX_XMP_CHUNK):
        piece = extended[offset : offset + MAX_XMP_CHUNK]
        header = XMP_EXT_HEADER + guid_bytes + total + struct.pack(">I", offset)
        out.append(segment(_APP1, header + piece))
    return out


@releases_views
def embed(data: bytes | memoryview, payload: Payload) -> list[bytes | memoryview]:
    view = as_view(data)
    layout = split(view)
    new = [] if payload.exif is None else [_exif_segment(payload.exif)]
    new += xmp_segments(payload.xmp)
    parts = Parts(view)
    parts.copy(0, 2)
    segments = layout.segments
    lead = 0
    while lead < len(segments) and segments[lead].marker == _APP0:
        lead += 1
    for seg in segments[:lead]:
        parts.copy(seg.start, seg.end)
    for seg_bytes in new:
        parts.add(seg_bytes)
    mpf_seen = False
    for seg in segments[lead:]:
        drop = _is_xmp(view, seg) or _is_xmp_ext(view, seg)
        drop = drop or (payload.exif is not None and _is_exif(view, seg))
        if drop and mpf_seen:
            # MPF offsets to the other pictures count from the MPF header; removing bytes after
            # it would point them into the wrong place. The pipeline falls back to a sidecar.
            msg = (
                "this multi-picture JPEG stores its metadata after the MPF index, so it cannot "
                "be changed without breaking the links to its other pictures"
            )
            raise UnsupportedFormat(msg)
        mpf_seen = mpf_seen or (seg.marker == _APP2 and _payload(view, seg, 4) == b"MPF\0")
        if not drop:
            parts.copy(seg.start, seg.end)
    parts.copy(layout.scan_start, len(view))
    return parts.result()


#: Segments that hold metadata, not the picture (APP1 Exif/XMP, APP13 IPTC, comments): left
#: out of ``content_digest``. APP0, APP2 (ICC, MPF) and APP14 (Adobe colour transform) stay in.
METADATA_MARKERS = frozenset({_APP1, 0xED, _COM})


@releases_views
def content_digest(data: bytes | memoryview) -> str:
    """SHA-256 of SOI, every segment that is not metadata, and everything from the first SOS
    to the end of the file: what ``embed`` never changes."""
    view = as_view(data)
    layout = split(view)
    digest = hashlib.sha256(view[:2])
    for seg in layout.segments:
        if seg.marker not in METADATA_MARKERS:
            digest.update(view[seg.start : seg.end])
    digest.update(view[layout.scan_start :])
    return digest.hexdigest()


@releases_views
def extract(data: bytes | memoryview) -> RawFields:
    view = as_view(data)
    layout = split(view)
    exif: bytes | None = None
    xmp: bytes | None = None
    comments: list[str] = []
    extended: dict[bytes, list[tuple[int, int, bytes]]] = {}
    for seg in layout.segments:
        if exif is None and _is_exif(view, seg):
            exif = _payload(view, seg)[len(EXIF_HEADER) :]
        elif xmp is None and _is_xmp(view, seg):
            xmp = _payload(view, seg)[len(XMP_HEADER) :]
        elif _is_xmp_ext(view, seg):
            body = _payload(view, seg)[len(XMP_EXT_HEADER) :]
            if len(body) < 40:
                continue
            total, offset = struct.unpack_from(">II", body, 32)
            extended.setdefault(body[:32].upper(), []).append((total, offset, body[40:]))
        elif seg.marker == _COM:
            comments.append(decode_text(_payload(view, seg)))
    if xmp is not None and extended:
        xmp = _with_extended(xmp, extended)
    text = {"comment": "\n".join(comments)} if comments else {}
    return RawFields(
        text=text,
        exif=exif,
        xmp=xmp,
        pixel_size=_frame_size(view, layout),
        density=_jfif_density(view, layout),
    )


def _frame_size(view: memoryview, layout: Layout) -> tuple[int, int] | None:
    for seg in layout.segments:
        if seg.marker in _SOF and seg.end - seg.data_start >= 5:
            height, width = struct.unpack_from(">HH", view, seg.data_start + 1)
            return (width, height) if width and height else None
    return None


def _jfif_density(view: memoryview, layout: Layout) -> tuple[int, int, int] | None:
    """The JFIF pixel density when it is one (units 1 per inch, 2 per cm → EXIF's 2, 3); a
    JFIF that only states an aspect ratio (units 0) gives ``None``: no density is known."""
    for seg in layout.segments:
        if seg.marker == _APP0 and seg.end - seg.data_start >= 12:
            head = _payload(view, seg, 12)
            if head[:5] == b"JFIF\0":
                units, x, y = struct.unpack_from(">BHH", head, 7)
                if units in (1, 2) and x and y:
                    return (x, y, units + 1)
    return None


# --- Extended XMP -----------------------------------------------------------------------------


def _reject_doctype(packet: bytes) -> None:
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        msg = "XMP packets with a DOCTYPE or ENTITY declaration are refused (entity expansion)"
        raise BadRequest(msg)


def _parse(packet: bytes) -> ET.Element:
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    _reject_doctype(packet)
    register_xml_prefixes(packet)
    ET.register_namespace("xmpNote", _NS_NOTE)
    return ET.fromstring(packet)


def _rdf_of(root: ET.Element) -> ET.Element:
    rdf = root if root.tag == _RDF else root.find(_RDF)
    if rdf is None:
        msg = "the XMP packet has no rdf:RDF element"
        raise BadRequest(msg)
    return rdf


def _with_extended(standard: bytes, chunks: dict[bytes, list[tuple[int, int, bytes]]]) -> bytes:
    """Merge the extended packet named by the standard packet's GUID into one packet.

    Returns ``standard`` unchanged when the parts are missing, inconsistent or do not hash to
    the GUID (a reader must then ignore them, per the XMP spec).
    """
    found = _GUID_RE.search(standard)
    if not found:
        return standard
    guid = found.group(1).upper()
    pieces = chunks.get(guid)
    if not pieces:
        return standard
    total = pieces[0][0]
    if total > MAX_XMP_BYTES or any(t != total for t, _, _ in pieces):
        return standard
    covered = sum(len(p) for _, _, p in pieces)
    if covered != total:
        return standard
    buffer = bytearray(total)  # total is capped above and equals bytes actually present
    for _, offset, piece in pieces:
        if offset + len(piece) > total:
            return standard
        buffer[offset : offset + len(piece)] = piece
    extended = bytes(buffer)
    import hashlib
    import xml.etree.ElementTree as ET

    if hashlib.md5(extended).hexdigest().upper().encode("ascii") != guid:
        return standard
    try:
        std_root = _parse(standard)
        ext_root = _parse(extended)
        rdf = _rdf_of(std_root)
        rdf.extend(_rdf_of(ext_root).findall(_DESCRIPTION))
    except (ET.ParseError, BadRequest):
        return standard
    meta = std_root if std_root.tag != _RDF else None
    body = xml_bytes(meta if meta is not None else rdf)
    return XPACKET_START + body + XPACKET_END
