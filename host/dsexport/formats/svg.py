"""SVG (diagrams): kept as text, with our XMP in a ``<metadata id="dsexport">`` element.

The file is stored as received and never rendered or executed by us; we only insert one element
right after the root start tag (SVG 1.1 §21: ``metadata`` holds RDF). Everything else is copied
byte for byte, scripts included: stripping is not our job, and browsers do not run scripts in an
SVG shown through ``<img>``.

Untrusted XML: a DOCTYPE with ENTITY declarations is refused before parsing (entity expansion,
"billion laughs"), and the file must be well-formed UTF-8 XML whose root is ``<svg>``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import BadRequest, CorruptImage, TooLarge, UnsupportedFormat
from .base import (
    MAX_XMP_BYTES,
    NS_RDF,
    NS_X,
    XPACKET_END,
    XPACKET_START,
    ImageInfo,
    Parts,
    Payload,
    RawFields,
    as_view,
    register_xml_prefixes,
    releases_views,
    xml_bytes,
)

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

NAME = "svg"
EXTENSION = "svg"
MIME = "image/svg+xml"

MAX_SVG_BYTES = 32 * 1024 * 1024
"""Largest SVG we parse (32 MiB). Diagrams are kilobytes; a larger "SVG" is more likely an
attempt to exhaust memory in the XML parser, whose tree costs many times the file size."""

OUR_OPEN = b'<metadata id="dsexport">'
OUR_CLOSE = b"</metadata>"

_NS_SVG = "http://www.w3.org/2000/svg"
_RDF = f"{{{NS_RDF}}}RDF"
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_NUMBER = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(px)?\s*$")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ANIMATION_TAGS = {"animate", "animateTransform", "animateMotion", "set"}
_FMT = "SVG"


def _prolog_end(text: bytes) -> int:
    """Offset of the root ``<svg`` start tag after BOM, whitespace, XML declaration, comments,
    processing instructions and DOCTYPE; -1 if the root is not ``svg`` (or not yet in
    ``text``, as when sniffing only the first bytes)."""
    i = 3 if text.startswith(b"\xef\xbb\xbf") else 0
    n = len(text)
    while True:
        while i < n and text[i] in b" \t\r\n":
            i += 1
        if text.startswith(b"<?", i):
            j = text.find(b"?>", i)
            i = -1 if j < 0 else j + 2
        elif text.startswith(b"<!--", i):
            j = text.find(b"-->", i + 4)
            i = -1 if j < 0 else j + 3
        elif text.startswith(b"<!DOCTYPE", i):
            i = _doctype_end(text, i)
        elif text.startswith(b"<svg", i) and text[i + 4 : i + 5] in (
            b" ",
            b"\t",
            b"\r",
            b"\n",
            b">",
            b"/",
        ):
            return i
        else:
            return -1
        if i < 0:
            return -1


def _doctype_end(text: bytes, i: int) -> int:
    # An internal subset [ … ] may contain '>' inside declarations; the DOCTYPE ends at the
    # first '>' after the subset's closing ']'.
    gt = text.find(b">", i)
    bracket = text.find(b"[", i)
    if bracket < 0 or (0 <= gt < bracket):
        return -1 if gt < 0 else gt + 1
    close = text.find(b"]", bracket)
    if close < 0:
        return -1
    gt = text.find(b">", close)
    return -1 if gt < 0 else gt + 1


def accepts(head: bytes) -> bool:
    return _prolog_end(bytes(head)) >= 0


def _start_tag_end(text: bytes, start: int) -> int:
    """Offset of the '>' closing the start tag at ``start`` (quotes respected), or -1."""
    quote = 0
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i
    return -1


_ENTITY_MESSAGE = (
    "SVG files that declare XML entities are refused: entities can expand to gigabytes "
    "(the 'billion laughs' attack)"
)


def _check_structure(text: bytes, root_at: int) -> None:
    """Parse once with expat: refuse any entity declaration, and make sure the root element
    really starts where our prolog scanner says (so we insert into the right tag)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    first: list[int] = []

    def on_entity(*_args: object) -> None:
        raise UnsupportedFormat(_ENTITY_MESSAGE)

    def on_start(_name: str, _attrs: object) -> None:
        if not first:
            first.append(parser.CurrentByteIndex)

    parser.EntityDeclHandler = on_entity
    parser.StartElementHandler = on_start
    try:
        parser.Parse(text, True)
    except expat.ExpatError as err:
        msg = f"SVG: the file is not well-formed XML ({err}); it is truncated or corrupt"
        raise CorruptImage(msg) from err
    if first != [root_at]:
        msg = "SVG: the root element is not where the prolog ends; the file is malformed"
        raise CorruptImage(msg)


def _load(data: bytes | memoryview) -> tuple[bytes, ET.Element, int]:
    """Check and parse: returns the bytes, the root element and the root tag's offset."""
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    if len(data) > MAX_SVG_BYTES:
        msg = f"this SVG is {len(data)} bytes; the limit is {MAX_SVG_BYTES}"
        raise TooLarge(msg)
    text = bytes(as_view(data))
    root_at = _prolog_end(text)
    if root_at < 0:
        msg = "this is not an SVG file (no <svg> root element)"
        raise UnsupportedFormat(msg)
    prolog = text[:root_at]
    if b"<!ENTITY" in text:
        raise UnsupportedFormat(_ENTITY_MESSAGE)
    declared = (
        _ENCODING.search(prolog[:200])
        if prolog.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml")
        else None
    )
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
        msg = f"only UTF-8 SVG files are supported, this one is {declared.group(1).decode()}"
        raise UnsupportedFormat(msg)
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as err:
        msg = f"SVG: the file is not valid UTF-8 ({err.reason} at byte {err.start})"
        raise CorruptImage(msg) from err
    _check_structure(text, root_at)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        msg = f"SVG: the file is not well-formed XML ({err}); it is truncated or corrupt"
        raise CorruptImage(msg) from err
    if root.tag not in (f"{{{_NS_SVG}}}svg", "svg"):
        msg = "this is not an SVG file (the root element is not <svg>)"
        raise UnsupportedFormat(msg)
    return text, root, root_at


def _length(value: str | None) -> int | None:
    if value is None:
        return None
    m = _NUMBER.match(value)
    if not m:
        return None
    number = round(float(m.group(1)))
    return number if number > 0 else None


@releases_views
def probe(data: bytes | memoryview) -> ImageInfo:
    _, root, _ = _load(data)
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(box) == 4:
        width = width if width is not None else _length(box[2])
        height = height if height is not None else _length(box[3])
    animated = any(el.tag.rsplit("}", 1)[-1] in _ANIMATION_TAGS for el in root.iter())
    return ImageInfo(width=width, height=height, animated=animated, has_alpha=True)


def rdf_fragment(packet: bytes) -> bytes:
    """The ``rdf:RDF`` element of an XMP packet, with every namespace it uses declared on it."""
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    if len(packet) > MAX_XMP_BYTES:
        msg = f"the XMP packet is {len(packet)} bytes; the limit is {MAX_XMP_BYTES}"
        raise TooLarge(msg)
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        msg = "XMP packets with a DOCTYPE or ENTITY declaration are refused (entity expansion)"
        raise BadRequest(msg)
    try:
        register_xml_prefixes(packet)
        root = ET.fromstring(packet)
    except ET.ParseError as err:
        msg = f"the XMP packet is not well-formed XML ({err})"
        raise BadRequest(msg) from err
    rdf = root if root.tag == _RDF else root.find(f".//{_RDF}")
    if rdf is None:
        msg = "the XMP packet has no rdf:RDF element"
        raise BadRequest(msg)
    rdf.tail = None
    return xml_bytes(rdf)


def _ours(text: bytes, after: int) -> tuple[int, int] | None:
    start = text.find(OUR_OPEN, after)
    if start < 0:
        return None
    end = text.find(OUR_CLOSE, start)
    return None if end < 0 else (start, end + len(OUR_CLOSE))


@releases_views
def embed(data: bytes | memoryview, payload: Payload) -> list[bytes | memoryview]:
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    text, _, root_at = _load(data)
    element = OUR_OPEN + rdf_fragment(payload.xmp) + OUR_CLOSE
    tag_end = _start_tag_end(text, root_at)
    view = memoryview(text)
    parts = Parts(view)
    if text[tag_end - 1 : tag_end] == b"/":  # <svg …/>: open it to hold our element
        parts.copy(0, tag_end - 1)
        parts.add(b">" + element + b"</svg>")
        parts.copy(tag_end + 1, len(text))
    else:
        parts.copy(0, tag_end + 1)
        parts.add(element)
        old = _ours(text, tag_end + 1)
        if old is None:
            parts.copy(tag_end + 1, len(text))
        else:
            parts.copy(tag_end + 1, old[0])
            parts.copy(old[1], len(text))
    out = parts.result()
    try:
        ET.fromstring(b"".join(out))
    except ET.ParseError as err:  # our own bug, never the user's file: say so
        msg = f"SVG: inserting metadata produced invalid XML ({err})"
        raise CorruptImage(msg) from err
    return out


@releases_views
def extract(data: bytes | memoryview) -> RawFields:
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    text, root, _ = _load(data)
    candidates = [
        el
        for el in root
        if el.tag in (f"{{{_NS_SVG}}}metadata", "metadata") and el.find(_RDF) is not None
    ]
    if not candidates:
        return RawFields()
    chosen = next((el for el in candidates if el.get("id") == "dsexport"), candidates[0])
    register_xml_prefixes(text)
    rdf = chosen.find(_RDF)
    assert rdf is not None
    rdf.tail = None
    meta = ET.Element(f"{{{NS_X}}}xmpmeta")
    meta.append(rdf)
    return RawFields(xmp=XPACKET_START + xml_bytes(meta) + XPACKET_END)
