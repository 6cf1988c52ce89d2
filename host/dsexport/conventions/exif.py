"""EXIF (TIFF) writer and reader: what JPEG APP1, WebP ``EXIF`` and PNG ``eXIf`` carry.

We write, e.g. for a generated image::

    IFD0     ImageDescription (ASCII prompts), Software, DateTime,
             XPTitle (conversation title, else the prompt's first line), XPComment (prompt)
    ExifIFD  ExifVersion "0232", DateTimeOriginal + OffsetTimeOriginal,
             UserComment = b"UNICODE\\0" + UTF-16 A1111 infotext (type UNDEFINED)

and never Make (0x010F) or Model (0x0110): ComfyUI-aware readers interpret those, and
sd-prompt-reader crashes on a non-JSON Model. XP* tags are UTF-16-LE, NUL-terminated, type BYTE
(what Windows writes and ExifTool expects), whatever the TIFF byte order. UserComment's UTF-16
follows the byte order of the TIFF it sits in (EXIF 2.32; exiv2, and so digiKam, gThumb and
Shotwell, read it that way): big-endian in the EXIF we create, little-endian inside a camera's
"II" EXIF. A fresh EXIF for a JPEG also gets the tags the EXIF standard requires there
(resolution from the JFIF header, else the standard's 72 dpi; YCbCrPositioning; ExifVersion,
ComponentsConfiguration, FlashpixVersion, ColorSpace "uncalibrated", the pixel size), so
``exiftool -validate`` has nothing to add.

A photo's own EXIF is kept, tag for tag and byte for byte:

- Dates are never replaced: DateTime, DateTimeOriginal (+ OffsetTimeOriginal, only where the
  ExifVersion allows it) and Software are written only where the file has none.
- ImageDescription is set to the prompt when the prompt is plain ASCII, and also when the file
  already has a description (a camera's "OLYMPUS DIGITAL CAMERA"), as UTF-8 per the Metadata
  Working Group, because MWG readers (Lightroom, Bridge, ExifTool's MWG tags) show the EXIF
  description before XMP ``dc:description``.
- EXIF holding data found through offsets we cannot follow (a maker note, whose internal offsets
  count from the TIFF header in Canon's and most cameras' formats; strips; SubIFDs) is never
  moved: the original bytes stay where they are, and new copies of IFD0 and the Exif IFD, with
  our tags, are appended after them; the header then points at the new IFD0. The old
  directories stay behind unused. Everything else is rebuilt compactly (``serialize``).

This is a small writer of our own instead of ``piexif.dump``: piexif places the first Exif
value over the next-IFD pointer ("overlaps IFD" in ``exiftool -validate``). Tags are sorted,
values word-aligned, every IFD ends with a next-IFD pointer.

Size: an EXIF APP1 segment holds at most ``MAX_TIFF_BYTES``. When ours would not fit we first
drop XPComment, ImageDescription and XPTitle, in that order, then shorten the prompt inside
UserComment and add ``TRUNCATION_NOTE`` (the full text is in the XMP record), then drop the
IFD1 thumbnail (not when the EXIF is kept in place). A camera EXIF too large to take any of ours
is kept exactly as it was. The same cap applies to WebP and PNG, so an EXIF block can always
move into a JPEG.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime

from dsexport.conventions import a1111
from dsexport.model import Metadata

MAX_TIFF_BYTES = 65527
"""JPEG segment payload (65533) minus ``Exif\\0\\0``; multi-segment EXIF is non-standard."""

MAX_ENTRIES = 1024
"""Entries per IFD we read; a hostile count would otherwise make us loop over garbage."""

MAX_DEPTH = 4
"""IFD nesting we follow (IFD0 → Exif → Interop is 3); stops pointer cycles."""

TRUNCATION_NOTE = (
    "[DS Export: text shortened to fit the 64 KB EXIF limit; the full text is in the XMP metadata]"
)

XP_TITLE_CHARS = 200
"""An XPTitle made from the prompt keeps its first line, at most this many characters."""

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, IFD = 1, 2, 3, 4, 5, 7, 13
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}

TAG_IMAGE_DESCRIPTION = 0x010E
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_X_RESOLUTION = 0x011A
TAG_Y_RESOLUTION = 0x011B
TAG_RESOLUTION_UNIT = 0x0128
TAG_SOFTWARE = 0x0131
TAG_DATETIME = 0x0132
TAG_THUMB_OFFSET = 0x0201
TAG_THUMB_LENGTH = 0x0202
TAG_YCBCR_POSITIONING = 0x0213
TAG_STRIP_OFFSETS = 0x0111
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_INTEROP_IFD = 0xA005
TAG_EXIF_VERSION = 0x9000
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_COMPONENTS = 0x9101
TAG_USER_COMMENT = 0x9286
TAG_MAKER_NOTE = 0x927C
TAG_FLASHPIX_VERSION = 0xA000
TAG_COLOR_SPACE = 0xA001
TAG_PIXEL_X = 0xA002
TAG_PIXEL_Y = 0xA003
TAG_XP_TITLE = 0x9C9B
TAG_XP_COMMENT = 0x9C9C

#: Pointer tags we follow and relocate, per IFD kind.
_SUB_IFDS = {
    "ifd0": {TAG_EXIF_IFD: "exif", TAG_GPS_IFD: "gps"},
    "exif": {TAG_INTEROP_IFD: "interop"},
}
#: Tags whose values are (or contain) offsets into the TIFF that we do not follow. Their data
#: cannot be moved, so EXIF holding one is kept in place (see the module docstring).
_UNRELOCATABLE = frozenset(
    {0x014A, TAG_STRIP_OFFSETS, 0x0117, 0x0144, 0x0145, TAG_MAKER_NOTE, 0xC634, 0xEA1D}
)

USER_COMMENT_UNICODE = b"UNICODE\0"


@dataclass
class Entry:
    type: int
    count: int
    data: bytes
    """The value bytes, in the TIFF's byte order, exactly ``count * size`` long."""


@dataclass
class Ifd:
    entries: dict[int, Entry] = field(default_factory=dict)
    subs: dict[int, Ifd] = field(default_factory=dict)
    raw: dict[int, bytes] = field(default_factory=dict)
    """Every 12-byte directory entry as it is in the file (offsets still valid there)."""
    next_raw: bytes = b"\0\0\0\0"
    """The next-IFD pointer as it is in the file."""


@dataclass
class Tiff:
    order: str = ">"
    """``">"`` for "MM" (what we create), ``"<"`` for "II"."""
    ifd0: Ifd = field(default_factory=Ifd)
    ifd1: Ifd | None = None
    thumbnail: bytes | None = None
    relocatable: bool = True
    """False when some data is reached through offsets we do not follow (a maker note, strips,
    an unknown sub-IFD): the TIFF must then be kept in place (``encode``)."""


@dataclass(frozen=True)
class JpegFacts:
    """What a JPEG states about itself that a fresh EXIF must repeat (EXIF's required tags)."""

    width: int
    height: int
    resolution: tuple[int, int, int] | None = None
    """JFIF density as (x, y, EXIF ResolutionUnit: 1 none, 2 inch, 3 cm), if the file has it."""


# --- reading -----------------------------------------------------------------------------------


def parse(tiff: bytes) -> Tiff:
    """TIFF bytes → ``Tiff``. Raises ``ValueError`` when the header or IFD0 is unreadable;
    broken entries and sub-IFDs further in are skipped, so what can be kept is kept."""
    buf = bytes(tiff)
    if buf[:4] == b"MM\0*":
        order = ">"
    elif buf[:4] == b"II*\0":
        order = "<"
    else:
        msg = "not a TIFF header"
        raise ValueError(msg)
    (first,) = struct.unpack(order + "I", buf[4:8])
    visited: set[int] = set()
    result = Tiff(order=order)
    ifd0, next_offset = _read_ifd(buf, first, order, "ifd0", visited, 0, result)
    result.ifd0 = ifd0
    if next_offset:
        try:
            ifd1, _ = _read_ifd(buf, next_offset, order, "ifd1", visited, 0, result)
        except ValueError:
            ifd1 = None
            result.relocatable = False
        if ifd1 is not None:
            _attach_thumbnail(result, ifd1, buf, order)
    return result


def _attach_thumbnail(result: Tiff, ifd1: Ifd, buf: bytes, order: str) -> None:
    if any(tag in _UNRELOCATABLE for tag in ifd1.raw):
        result.relocatable = False  # an uncompressed (strip) thumbnail
        return
    offset_entry = ifd1.entries.get(TAG_THUMB_OFFSET)
    length_entry = ifd1.entries.get(TAG_THUMB_LENGTH)
    if offset_entry is None or length_entry is None:
        result.ifd1 = ifd1
        return
    offset = _uint(offset_entry, order)
    length = _uint(length_entry, order)
    if offset is None or length is None or offset + length > len(buf):
        result.relocatable = False
        return
    result.thumbnail = buf[offset : offset + length]
    result.ifd1 = ifd1


def _uint(entry: Entry, order: str) -> int | None:
    if entry.count != 1:
        return None
    if entry.type == SHORT:
        return struct.unpack(order + "H", entry.data)[0]
    if entry.type in (LONG, IFD):
        return struct.unpack(order + "I", entry.data)[0]
    return None


def _read_ifd(
    buf: bytes, offset: int, order: str, kind: str, visited: set[int], depth: int, tiff: Tiff
) -> tuple[Ifd, int]:
    if depth > MAX_DEPTH or offset in visited or offset < 8 or offset + 2 > len(buf):
        msg = f"bad IFD offset {offset}"
        raise ValueError(msg)
    visited.add(offset)
    (count,) = struct.unpack(order + "H", buf[offset : offset + 2])
    if count > MAX_ENTRIES or offset + 2 + 12 * count > len(buf):
        msg = f"IFD at {offset} claims {count} entries"
        raise ValueError(msg)
    ifd = Ifd()
    for i in range(count):
        pos = offset + 2 + 12 * i
        tag, typ, n = struct.unpack(order + "HHI", buf[pos : pos + 8])
        ifd.raw.setdefault(tag, buf[pos : pos + 12])
        size = TYPE_SIZES.get(typ)
        if size is None or typ == IFD or tag in _UNRELOCATABLE:
            tiff.relocatable = False
            if size is None:
                continue
        total = size * n
        if total <= 4:
            data = buf[pos + 8 : pos + 8 + total]
        else:
            (value_offset,) = struct.unpack(order + "I", buf[pos + 8 : pos + 12])
            if value_offset + total > len(buf):
                tiff.relocatable = False
                continue
            data = buf[value_offset : value_offset + total]
        sub_kind = _SUB_IFDS.get(kind, {}).get(tag)
        if sub_kind is not None:
            entry = Entry(typ, n, data)
            sub_offset = _uint(entry, order)
            if sub_offset is None:
                tiff.relocatable = False
                continue
            try:
                ifd.subs[tag], _ = _read_ifd(
                    buf, sub_offset, order, sub_kind, visited, depth + 1, tiff
                )
            except ValueError:
                tiff.relocatable = False
                continue
            continue
        ifd.entries[tag] = Entry(typ, n, data)
    end = offset + 2 + 12 * count
    if end + 4 <= len(buf):
        ifd.next_raw = buf[end : end + 4]
    next_offset = struct.unpack(order + "I", ifd.next_raw)[0]
    return ifd, next_offset


# --- writing -----------------------------------------------------------------------------------


def serialize(tiff: Tiff) -> bytes:
    """``Tiff`` → bytes: header, IFD0, its sub-IFDs, IFD1 and the thumbnail, in that order."""
    order = tiff.order
    blocks: list[tuple[Ifd, str]] = []

    def collect(ifd: Ifd, kind: str) -> None:
        blocks.append((ifd, kind))
        for tag in sorted(ifd.subs):
            collect(ifd.subs[tag], _SUB_IFDS.get(kind, {}).get(tag, "other"))

    collect(tiff.ifd0, "ifd0")
    if tiff.ifd1 is not None:
        blocks.append((tiff.ifd1, "ifd1"))
    offsets: dict[int, int] = {}
    cursor = 8
    for ifd, _ in blocks:
        offsets[id(ifd)] = cursor
        cursor += _block_size(ifd)
    thumb_offset = cursor
    out = bytearray(b"MM\0*" if order == ">" else b"II*\0")
    out += struct.pack(order + "I", 8)
    for ifd, kind in blocks:
        next_ifd = offsets[id(tiff.ifd1)] if kind == "ifd0" and tiff.ifd1 is not None else 0
        out += _block(ifd, kind, offsets[id(ifd)], offsets, next_ifd, thumb_offset, tiff, order)
    if tiff.ifd1 is not None and tiff.thumbnail is not None:
        out += tiff.thumbnail
    return bytes(out)


def _padded(n: int) -> int:
    return n + (n & 1)


def _block_size(ifd: Ifd) -> int:
    n = len(ifd.entries) + len(ifd.subs)
    values = sum(_padded(len(e.data)) for e in ifd.entries.values() if len(e.data) > 4)
    return 2 + 12 * n + 4 + values


def _block(
    ifd: Ifd,
    kind: str,
    offset: int,
    offsets: dict[int, int],
    next_ifd: int,
    thumb_offset: int,
    tiff: Tiff,
    order: str,
) -> bytes:
    tags = sorted(set(ifd.entries) | set(ifd.subs))
    directory = bytearray(struct.pack(order + "H", len(tags)))
    values = bytearray()
    value_cursor = offset + 2 + 12 * len(tags) + 4
    for tag in tags:
        if tag in ifd.subs:
            directory += struct.pack(order + "HHII", tag, LONG, 1, offsets[id(ifd.subs[tag])])
            continue
        entry = ifd.entries[tag]
        data = entry.data
        if kind == "ifd1" and tag == TAG_THUMB_OFFSET and tiff.thumbnail is not None:
            data = struct.pack(order + "I", thumb_offset)
            directory += struct.pack(order + "HHI", tag, LONG, 1) + data
            continue
        if kind == "ifd1" and tag == TAG_THUMB_LENGTH and tiff.thumbnail is not None:
            directory += struct.pack(order + "HHII", tag, LONG, 1, len(tiff.thumbnail))
            continue
        directory += struct.pack(order + "HHI", tag, entry.type, entry.count)
        if len(data) <= 4:
            directory += data.ljust(4, b"\0")
        else:
            directory += struct.pack(order + "I", value_cursor + len(values))
            values += data
            if len(data) & 1:
                values += b"\0"
    directory += struct.pack(order + "I", next_ifd)
    return bytes(directory + values)


def _appended(tiff: Tiff, original: bytes, changes: dict[str, dict[int, Entry]]) -> bytes:
    """``original`` kept byte for byte, followed by new copies of IFD0 and the Exif IFD that
    carry ``changes`` (``{"ifd0": {tag: Entry}, "exif": {…}}``); every other entry keeps its
    raw directory bytes, so its offsets still point at the data where it always was."""
    order = tiff.order
    out = bytearray(original)
    if len(out) & 1:
        out += b"\0"
    exif_old = tiff.ifd0.subs.get(TAG_EXIF_IFD)
    ifd0_raw = dict(tiff.ifd0.raw)
    if changes["exif"] or exif_old is None:
        exif_raw = dict(exif_old.raw) if exif_old is not None else {}
        exif_at = len(out)
        out += _directory(order, exif_at, exif_raw, changes["exif"], b"\0\0\0\0")
        ifd0_raw[TAG_EXIF_IFD] = struct.pack(order + "HHII", TAG_EXIF_IFD, LONG, 1, exif_at)
    ifd0_at = len(out)
    out += _directory(order, ifd0_at, ifd0_raw, changes["ifd0"], tiff.ifd0.next_raw)
    out[4:8] = struct.pack(order + "I", ifd0_at)
    return bytes(out)


def _directory(
    order: str, at: int, raw: dict[int, bytes], changes: dict[int, Entry], next_raw: bytes
) -> bytes:
    tags = sorted(set(raw) | set(changes))
    directory = bytearray(struct.pack(order + "H", len(tags)))
    values = bytearray()
    value_at = at + 2 + 12 * len(tags) + 4
    for tag in tags:
        entry = changes.get(tag)
        if entry is None:
            directory += raw[tag]
            continue
        directory += struct.pack(order + "HHI", tag, entry.type, entry.count)
        if len(entry.data) <= 4:
            directory += entry.data.ljust(4, b"\0")
        else:
            directory += struct.pack(order + "I", value_at + len(values))
            values += entry.data + (b"\0" if len(entry.data) & 1 else b"")
    return bytes(directory + next_raw + values)


# --- our tags ----------------------------------------------------------------------------------


def _ascii(text: str) -> Entry:
    data = text.encode("utf-8") + b"\0"
    return Entry(ASCII, len(data), data)


def _xp(text: str) -> Entry:
    data = (text + "\0").encode("utf-16-le", errors="replace")
    return Entry(BYTE, len(data), data)


def user_comment_bytes(text: str, order: str = ">") -> bytes:
    """UserComment: ``UNICODE\\0`` and UTF-16 in the TIFF's byte order (``">"``: A1111's
    bytes, ``piexif.helper.UserComment.dump(text, encoding="unicode")``)."""
    codec = "utf-16-be" if order == ">" else "utf-16-le"
    return USER_COMMENT_UNICODE + text.encode(codec, errors="replace")


def _is_plain_ascii(text: str) -> bool:
    return all(ch in "\t\n\r" or " " <= ch <= "~" for ch in text)


def _exif_datetime(iso: str | None) -> tuple[str, str | None] | None:
    """ISO 8601 → ("YYYY:MM:DD HH:MM:SS", "+HH:MM" or None); None when unparseable."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    offset = None
    delta = moment.utcoffset()
    if delta is not None:
        minutes = int(delta.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if not 1 <= moment.year <= 9999:
        return None
    return moment.strftime("%Y:%m:%d %H:%M:%S"), offset


def xp_title(meta: Metadata) -> str | None:
    """XPTitle: the conversation title, else the prompt's first line (shortened)."""
    if meta.conversation_title:
        return meta.conversation_title
    if meta.prompt:
        first = meta.prompt.strip().split("\n", 1)[0].strip()
        if len(first) > XP_TITLE_CHARS:
            first = first[: XP_TITLE_CHARS - 1].rstrip() + "…"
        return first or None
    return None


def _shorten_infotext(text: str, max_units: int) -> str:
    """Cut the prompt part of ``text`` so its UTF-16 form has at most ``max_units`` code units,
    keeping the parameters line last (readers need it there) and adding ``TRUNCATION_NOTE``."""
    body, params = a1111.split(text)
    tail = f"\n{TRUNCATION_NOTE}" + (f"\n{params}" if params else "")
    budget = max_units - _units(tail)
    if budget < 0:
        return TRUNCATION_NOTE if _units(TRUNCATION_NOTE) <= max_units else ""
    kept: list[str] = []
    used = 0
    for ch in body:
        cost = 2 if ord(ch) > 0xFFFF else 1
        if used + cost > budget:
            break
        kept.append(ch)
        used += cost
    return "".join(kept).rstrip() + tail


def _units(text: str) -> int:
    return len(text.encode("utf-16-be", errors="replace")) // 2


def has_capture_date(tiff: bytes | None) -> bool:
    """Does this EXIF say when the picture was taken or digitised (a camera's dates)?"""
    if not tiff:
        return False
    try:
        parsed = parse(tiff)
    except (ValueError, struct.error):
        return False
    exif_ifd = parsed.ifd0.subs.get(TAG_EXIF_IFD, Ifd())
    return any(
        (_text(exif_ifd.entries.get(tag)) or "").strip(" :0")
        for tag in (TAG_DATETIME_ORIGINAL, TAG_DATETIME_DIGITIZED)
    )


def _required_for_jpeg(order: str, facts: JpegFacts) -> dict[str, dict[int, Entry]]:
    """The tags EXIF requires in a JPEG, with the values the file states (``JpegFacts``) or
    the standard's own defaults (72 dpi, centred chroma, uncalibrated colour)."""
    x, y, unit = facts.resolution or (72, 72, 2)

    def rational(n: int) -> Entry:
        return Entry(RATIONAL, 1, struct.pack(order + "II", n, 1))

    def short(n: int) -> Entry:
        return Entry(SHORT, 1, struct.pack(order + "H", n))

    def long_(n: int) -> Entry:
        return Entry(LONG, 1, struct.pack(order + "I", n))

    return {
        "ifd0": {
            TAG_X_RESOLUTION: rational(x),
            TAG_Y_RESOLUTION: rational(y),
            TAG_RESOLUTION_UNIT: short(unit),
            TAG_YCBCR_POSITIONING: short(1),
        },
        "exif": {
            TAG_COMPONENTS: Entry(UNDEFINED, 4, bytes((1, 2, 3, 0))),
            TAG_FLASHPIX_VERSION: Entry(UNDEFINED, 4, b"0100"),
            TAG_COLOR_SPACE: short(0xFFFF),
            TAG_PIXEL_X: long_(facts.width),
            TAG_PIXEL_Y: long_(facts.height),
        },
    }


def _version(entry: Entry | None) -> int:
    if entry is None or not entry.data.isdigit():
        return 0
    return int(entry.data)


def _our_changes(
    tiff: Tiff, meta: Metadata, parameters: str | None
) -> tuple[dict[str, dict[int, Entry]], list[tuple[str, int]]]:
    """The entries we write into ``tiff`` (see the module docstring) and, in the order they
    are given up when space runs short, the optional ones."""
    order = tiff.order
    ifd0 = tiff.ifd0.entries
    exif_ifd = tiff.ifd0.subs.get(TAG_EXIF_IFD, Ifd()).entries
    changes: dict[str, dict[int, Entry]] = {"ifd0": {}, "exif": {}}
    if meta.tool and _is_plain_ascii(meta.tool) and TAG_SOFTWARE not in ifd0:
        changes["ifd0"][TAG_SOFTWARE] = _ascii(meta.tool)
    stamp = _exif_datetime(meta.captured_at)
    if stamp is not None and TAG_DATETIME not in ifd0:
        changes["ifd0"][TAG_DATETIME] = _ascii(stamp[0])
    version = _version(exif_ifd.get(TAG_EXIF_VERSION))
    if TAG_EXIF_VERSION not in exif_ifd:
        changes["exif"][TAG_EXIF_VERSION] = Entry(UNDEFINED, 4, b"0232")
        version = 232
    if stamp is not None and TAG_DATETIME_ORIGINAL not in exif_ifd:
        changes["exif"][TAG_DATETIME_ORIGINAL] = _ascii(stamp[0])
        # OffsetTime* exist since EXIF 2.31; in an older EXIF they would be invalid.
        if stamp[1] is not None and version >= 231:
            changes["exif"][TAG_OFFSET_TIME_ORIGINAL] = _ascii(stamp[1])
    if parameters:
        comment = user_comment_bytes(parameters, order)
        changes["exif"][TAG_USER_COMMENT] = Entry(UNDEFINED, len(comment), comment)
    optional: list[tuple[str, int]] = []
    if meta.prompt:
        theirs = _text(ifd0.get(TAG_IMAGE_DESCRIPTION))
        if _is_plain_ascii(meta.prompt) or (theirs is not None and theirs.strip()):
            changes["ifd0"][TAG_IMAGE_DESCRIPTION] = _ascii(meta.prompt)
            optional.append(("ifd0", TAG_IMAGE_DESCRIPTION))
        changes["ifd0"][TAG_XP_COMMENT] = _xp(meta.prompt)
        optional.insert(0, ("ifd0", TAG_XP_COMMENT))
    title = xp_title(meta)
    if title:
        changes["ifd0"][TAG_XP_TITLE] = _xp(title)
        optional.append(("ifd0", TAG_XP_TITLE))
    return changes, optional


def _apply(tiff: Tiff, changes: dict[str, dict[int, Entry]]) -> None:
    tiff.ifd0.entries.update(changes["ifd0"])
    tiff.ifd0.subs.setdefault(TAG_EXIF_IFD, Ifd()).entries.update(changes["exif"])


def encode(
    meta: Metadata,
    parameters: str | None,
    existing: bytes | None = None,
    *,
    jpeg: JpegFacts | None = None,
) -> bytes:
    """Our EXIF tags merged into ``existing`` (TIFF bytes or ``None``) → TIFF bytes.

    ``parameters`` is the A1111 infotext for UserComment; ``None`` keeps an existing
    UserComment untouched (e.g. another generator's). Tags we have no value for are left as
    they were; a photo's dates are never replaced. ``jpeg``: the EXIF is new and goes into this
    JPEG, so it gets the tags EXIF requires there. The result is at most ``MAX_TIFF_BYTES``
    long (see the module docstring), except that existing EXIF too large to take any of ours
    is returned unchanged rather than cut.
    """
    tiff: Tiff | None = None
    if existing:
        try:
            tiff = parse(existing)
        except (ValueError, struct.error):
            tiff = None  # nothing any reader could use: a new EXIF replaces it
    fresh = tiff is None
    if tiff is None:
        tiff = Tiff()
    changes, optional = _our_changes(tiff, meta, parameters)
    if fresh and jpeg is not None:
        required = _required_for_jpeg(tiff.order, jpeg)
        for kind in ("ifd0", "exif"):
            changes[kind] = {**required[kind], **changes[kind]}
    in_place = not fresh and not tiff.relocatable
    original = bytes(existing) if existing else b""

    def build() -> bytes:
        if in_place:
            return _appended(tiff, original, changes)
        copy = Tiff(tiff.order, _copy_ifd(tiff.ifd0), tiff.ifd1, tiff.thumbnail)
        _apply(copy, changes)
        return serialize(copy)

    data = build()
    if len(data) <= MAX_TIFF_BYTES:
        return data
    # Too large: give up the duplicates first (XPComment, ImageDescription, XPTitle).
    for kind, tag in optional:
        changes[kind].pop(tag, None)
        data = build()
        if len(data) <= MAX_TIFF_BYTES:
            return data
    for drop_thumbnail in (False, True):
        if drop_thumbnail:
            if in_place:
                break
            tiff.ifd1 = None
            tiff.thumbnail = None
        if parameters:
            changes["exif"].pop(TAG_USER_COMMENT, None)
            room = MAX_TIFF_BYTES - len(build()) - 12 - len(USER_COMMENT_UNICODE) - 1
            if room > 0:
                short = _shorten_infotext(parameters, room // 2)
                comment = user_comment_bytes(short, tiff.order)
                changes["exif"][TAG_USER_COMMENT] = Entry(UNDEFINED, len(comment), comment)
        data = build()
        if len(data) <= MAX_TIFF_BYTES:
            return data
    if existing and not fresh:
        return original  # Theirs, as it was: better than losing camera data.
    return serialize(Tiff(order=tiff.order))


def _copy_ifd(ifd: Ifd) -> Ifd:
    return Ifd(
        entries=dict(ifd.entries),
        subs={tag: _copy_ifd(sub) for tag, sub in ifd.subs.items()},
        raw=dict(ifd.raw),
        next_raw=ifd.next_raw,
    )


# --- decoding ----------------------------------------------------------------------------------


def decode_user_comment(data: bytes, order: str = ">") -> str:
    """UserComment bytes → text, by its 8-byte charset prefix (as ExifTool and A1111 do).

    ``UNICODE`` text should follow the TIFF's byte order (``order``), but A1111-style writers
    put big-endian text even into little-endian EXIF and Microsoft tools the reverse, so the
    other reading wins when the expected one has no space or newline at all (a misread space
    becomes U+2000) while the other has some, or when the expected one is not valid UTF-16.
    """
    prefix, body = data[:8], data[8:]
    if prefix == USER_COMMENT_UNICODE:
        text = _utf16_guess(body[: len(body) & ~1], order)
    elif prefix == b"ASCII\0\0\0":
        text = body.decode("utf-8", errors="replace")
    elif prefix == b"JIS\0\0\0\0\0":
        text = body.decode("shift_jis", errors="replace")
    elif prefix == b"\0" * 8:
        text = body.decode("utf-8", errors="ignore")
    else:
        text = data.decode("utf-8", errors="ignore")
    return text.rstrip("\0")


def _utf16_guess(body: bytes, order: str = ">") -> str:
    codecs = ("utf-16-be", "utf-16-le") if order == ">" else ("utf-16-le", "utf-16-be")
    readings: dict[str, str] = {}
    for codec in codecs:
        try:
            readings[codec] = body.decode(codec)
        except UnicodeDecodeError:
            continue

    def spacing(text: str) -> int:
        return text.count(" ") + text.count("\n")

    expected, other = readings.get(codecs[0]), readings.get(codecs[1])
    if expected is not None and (other is None or spacing(expected) or not spacing(other)):
        return expected
    if other is not None:
        return other
    return body.decode(codecs[0], errors="replace")


def _text(entry: Entry | None) -> str | None:
    if entry is None:
        return None
    if entry.type == ASCII:
        return entry.data.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    return None


def _xp_text(entry: Entry | None) -> str | None:
    if entry is None or entry.type not in (BYTE, UNDEFINED):
        return None
    data = entry.data[: len(entry.data) & ~1]
    return data.decode("utf-16-le", errors="replace").split("\0", 1)[0]


def fields(tiff: bytes) -> dict[str, str]:
    """The text tags we know, by ExifTool name (for ``inspect``); empty when unreadable."""
    try:
        parsed = parse(tiff)
    except (ValueError, struct.error):
        return {}
    ifd0 = parsed.ifd0
    exif_ifd = ifd0.subs.get(TAG_EXIF_IFD, Ifd())
    out: dict[str, str | None] = {
        "ImageDescription": _text(ifd0.entries.get(TAG_IMAGE_DESCRIPTION)),
        "Make": _text(ifd0.entries.get(TAG_MAKE)),
        "Model": _text(ifd0.entries.get(TAG_MODEL)),
        "Software": _text(ifd0.entries.get(TAG_SOFTWARE)),
        "DateTime": _text(ifd0.entries.get(TAG_DATETIME)),
        "XPTitle": _xp_text(ifd0.entries.get(TAG_XP_TITLE)),
        "XPComment": _xp_text(ifd0.entries.get(TAG_XP_COMMENT)),
        "DateTimeOriginal": _text(exif_ifd.entries.get(TAG_DATETIME_ORIGINAL)),
        "OffsetTimeOriginal": _text(exif_ifd.entries.get(TAG_OFFSET_TIME_ORIGINAL)),
    }
    comment = exif_ifd.entries.get(TAG_USER_COMMENT)
    if comment is not None:
        out["UserComment"] = decode_user_comment(comment.data, parsed.order)
    return {k: v for k, v in out.items() if v}


def _iso(stamp: str | None, offset: str | None) -> str | None:
    if not stamp:
        return None
    try:
        moment = datetime.strptime(stamp.strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return moment.isoformat() + (offset.strip() if offset else "")


def decode(tiff: bytes) -> Metadata | None:
    """TIFF bytes → ``Metadata`` from UserComment (A1111 infotext), XP* and date tags; ``None``
    when none of them is there. XPTitle counts as the conversation title only when it is not
    just the start of the prompt (which is what we write when there is no title)."""
    found = fields(tiff)
    meta = a1111.decode(found["UserComment"]) if "UserComment" in found else None
    values: dict[str, object] = {}
    if meta is None or meta.prompt is None:
        prompt = found.get("XPComment") or found.get("ImageDescription")
        if prompt:
            values["prompt"] = prompt
    prompt_text = (meta.prompt if meta else None) or values.get("prompt") or ""
    title = found.get("XPTitle")
    if title and not (meta and meta.conversation_title):
        stem = title[:-1] if title.endswith("…") else title
        if not str(prompt_text).strip().startswith(stem.strip()):
            values["conversation_title"] = title
    if not (meta and meta.captured_at):
        iso = _iso(found.get("DateTimeOriginal"), found.get("OffsetTimeOriginal"))
        if iso:
            values["captured_at"] = iso
    if not (meta and meta.tool) and found.get("Software"):
        values["tool"] = found["Software"]
    if meta is None:
        return Metadata(**values) if values else None  # type: ignore[arg-type]
    return meta.replace(**values) if values else meta
