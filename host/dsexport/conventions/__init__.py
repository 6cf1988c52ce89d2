"""Metadata conventions: what we write into a file, and how we read what any tool wrote.

Writing — ``build_payload(meta, existing, fmt=…)`` returns the ``Payload`` a container embeds:

- ``parameters``: A1111 infotext (``a1111.py``) → PNG text ``parameters``, GIF comment;
- ``exif``: TIFF bytes (``exif.py``) with UserComment = the same infotext, XPTitle/XPComment,
  Software, dates → JPEG APP1, WebP ``EXIF`` (``None`` for PNG, GIF and SVG);
- ``xmp``: the XMP packet (``xmp.py``) with dc/xmp/Iptc4xmpExt properties and our JSON record
  (``record.py``) in the ``dsexport`` namespace;
- ``text`` (PNG only): ``Title``, ``Software``, ``Creation Time``, ``Description``.

Another generator's metadata already in the file is preserved, not clobbered: when the file
has no record of ours but carries A1111 ``parameters``, an EXIF UserComment or a GIF comment
with infotext, those stay as they are, and PNG text keywords that already exist are not
overwritten. An existing XMP packet is merged into; existing EXIF is merged tag by tag.

Reading — ``read(raw)`` tries ``READERS`` in order and returns the first that finds anything:

- ``dsexport``: our record, XMP property ``dsexport:record`` (exact round trip);
- ``a1111``: EXIF UserComment (JPEG/WebP; it wins over ``parameters`` exactly as in A1111's
  reader), else PNG text ``parameters``, else the GIF/JPEG ``comment``, holding infotext
  (not JSON);
- ``comfyui``: PNG text ``prompt`` holding a ComfyUI API graph (or EXIF Model ``prompt:{…}``);
- ``novelai``: PNG text ``Software`` = ``NovelAI`` with a ``Comment`` JSON object;
- ``xmp``: any other XMP with dc/xmp/Iptc4xmpExt properties, else EXIF XPComment/
  ImageDescription, else PNG ``Description``/``Title`` (Midjourney, Exiv2, digiKam).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dsexport.conventions import a1111, comfyui, novelai, record, xmp
from dsexport.formats.base import Payload, RawFields
from dsexport.model import Metadata

#: Formats whose container takes EXIF from us.
EXIF_FORMATS = frozenset({"jpeg", "webp", "avif"})

#: PNG text keywords other generators use; their presence means "someone else's metadata".
FOREIGN_TEXT_KEYS = ("parameters", "prompt", "workflow", "invokeai_metadata", "Comment", "comment")


@dataclass(frozen=True)
class ReadResult:
    metadata: Metadata | None
    convention: str | None
    """The ``Reader.name`` that produced ``metadata``: ``dsexport``, ``a1111``, ``comfyui``, …"""
    fields: dict[str, Any] = field(default_factory=dict)
    """What we parsed on the way, for ``inspect``, e.g. ``{"exif": {tag: text}, "xmp": {…}}``."""
    problem: str | None = None
    """Why the metadata ``convention`` found is not usable (a number out of range, nesting too
    deep, a text too long); ``metadata`` is then ``None``."""


@dataclass(frozen=True)
class Reader:
    name: str
    trigger: str
    read: Callable[[RawFields], Metadata | None]


def _exif():
    """``conventions.exif``, imported where a file carries EXIF or the format takes it: a PNG
    save has neither, and the module (its tag tables) costs the host's start-up 2 ms."""
    from dsexport.conventions import exif

    return exif


def _our_record(raw: RawFields) -> str | None:
    return xmp.record_of(raw.xmp) if raw.xmp else None


def _user_comment(raw: RawFields) -> str | None:
    if not raw.exif:
        return None
    text = _exif().fields(raw.exif).get("UserComment", "")
    return text if text.strip() else None  # cameras pad an empty comment with spaces


def _has_foreign_generator(raw: RawFields) -> bool:
    return any(raw.text.get(key) for key in FOREIGN_TEXT_KEYS) or bool(_user_comment(raw))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc1123(iso: str | None) -> str | None:
    """ISO 8601 → PNG ``Creation Time`` (RFC 1123), e.g. ``Wed, 25 Nov 2026 09:14:03 +0000``.

    Built by hand: ``strftime`` names depend on the locale, and ``email.utils`` costs the host's
    start-up a ``socket`` import."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    offset = moment.utcoffset()
    if offset is None:
        zone = "-0000"  # RFC 5322: local time, offset unknown
    else:
        minutes = int(offset.total_seconds() // 60)
        zone = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {zone}"
    )


def build_payload(meta: Metadata, existing: RawFields | None = None, *, fmt: str) -> Payload:
    """What to embed for ``meta`` in a file of format ``fmt`` (``png``, ``jpeg``, ``webp``, ``gif``,
    ``avif``, ``svg``) that already carries ``existing``. ``meta`` is already limited to the
    user's ``embed_fields`` (the pipeline calls ``meta.only``)."""
    existing = existing or RawFields()
    ours_before = _our_record(existing) is not None
    keep_foreign = not ours_before and _has_foreign_generator(existing)

    parameters = a1111.encode(meta) or None
    if keep_foreign:
        if fmt == "png" and existing.text.get("parameters"):
            parameters = existing.text["parameters"]
        elif fmt == "gif" and a1111.split(existing.text.get("comment", ""))[1] is not None:
            # Only a generator's infotext; a plain "Created with GIMP" gives way to ours.
            parameters = existing.text["comment"]

    exif_bytes = None
    if fmt in EXIF_FORMATS:
        exif = _exif()
        comment = None if keep_foreign and _user_comment(existing) else parameters
        facts = None
        if fmt == "jpeg" and existing.pixel_size is not None:
            facts = exif.JpegFacts(*existing.pixel_size, existing.density)
        exif_bytes = exif.encode(meta, comment, existing.exif, jpeg=facts)

    # A photo says when it was taken; our capture time then stays in the record only.
    dated = bool(existing.exif) and _exif().has_capture_date(existing.exif)
    dated = dated or xmp.has_capture_date(existing.xmp)
    packet = xmp.encode(meta, record.encode(meta), existing.xmp, keep_create_date=dated)

    text: dict[str, str] = {}
    if fmt == "png":
        candidates = {
            "Title": meta.conversation_title,
            # Software=NovelAI would make A1111 and sd-parsers treat the file as NovelAI's.
            "Software": meta.tool if meta.tool != novelai.SOFTWARE else None,
            "Creation Time": _rfc1123(meta.captured_at),
            "Description": meta.prompt,
        }
        for key, value in candidates.items():
            # A creation time already there is the picture's own: never replaced.
            replace = ours_before and key != "Creation Time"
            if value and (replace or not existing.text.get(key)):
                text[key] = value
    return Payload(parameters=parameters, exif=exif_bytes, xmp=packet, text=text)


# --- reading -----------------------------------------------------------------------------------


def _read_record(raw: RawFields) -> Metadata | None:
    text = _our_record(raw)
    return record.decode(text) if text else None


def _read_a1111(raw: RawFields) -> Metadata | None:
    comment = _user_comment(raw)
    if comment and a1111.decode(comment) is not None and raw.exif:
        return _exif().decode(raw.exif)
    for key in ("parameters", "comment"):
        found = a1111.decode(raw.text.get(key, ""))
        if found is not None:
            return found
    return None


def _read_generic(raw: RawFields) -> Metadata | None:
    if raw.xmp:
        found = xmp.decode(raw.xmp)
        if found is not None:
            return found
    if raw.exif:
        found = _exif().decode(raw.exif)
        if found is not None:
            return found
    values = {}
    if raw.text.get("Description"):
        values["prompt"] = raw.text["Description"]
    if raw.text.get("Title"):
        values["conversation_title"] = raw.text["Title"]
    return Metadata(**values) if values else None


READERS: list[Reader] = [
    Reader("dsexport", "XMP dsexport:record", _read_record),
    Reader("a1111", "EXIF UserComment, PNG text parameters or comment with infotext", _read_a1111),
    Reader("comfyui", "PNG text prompt with a ComfyUI API graph", comfyui.decode),
    Reader("novelai", "PNG text Software=NovelAI with Comment JSON", novelai.decode),
    Reader("xmp", "dc/xmp/Iptc4xmpExt XMP, EXIF XP tags, PNG Description/Title", _read_generic),
]


def read(raw: RawFields) -> ReadResult:
    """The metadata in ``raw``, from the first reader in ``READERS`` that finds any.

    A reader that meets malformed data (bad JSON, broken TIFF) counts as not finding anything.
    What a reader finds is held to the bounds of a request (``validate.check_metadata``): a
    value out of range gives ``problem`` instead of metadata.
    """
    from dsexport.errors import BadRequest
    from dsexport.validate import check_metadata

    fields: dict[str, Any] = {}
    if raw.exif:
        fields["exif"] = _exif().fields(raw.exif)
    if raw.xmp:
        fields["xmp"] = xmp.properties(raw.xmp)
    fields = {k: v for k, v in fields.items() if v}
    for reader in READERS:
        try:
            found = reader.read(raw)
        except (ValueError, struct.error, OverflowError, RecursionError):
            continue
        if found is not None:
            try:
                return ReadResult(check_metadata(found), reader.name, fields)
            except BadRequest as err:
                return ReadResult(None, reader.name, fields, problem=str(err))
    return ReadResult(None, None, fields)


__all__ = ["READERS", "ReadResult", "Reader", "build_payload", "read"]
