"""SVG (diagrams): edited as an XML document; our XMP goes in a ``<metadata id="dsexport">``.

Every decision is made on the parsed document, never by searching the text: one pass of expat
(the standard library's XML parser) reports where the root element and each of its
``metadata`` children start and end, whether a ``metadata`` element holds RDF and whether it
holds a DS Export record. ``embed`` then removes, by those byte ranges, the ``metadata``
elements whose content our new packet replaces (ours, any other one carrying a record, and the
one ``extract`` reads, whose properties the conventions layer merged into the new packet), and
inserts ours right after the root start tag (SVG 1.1 §21: ``metadata`` holds RDF). Everything
else is kept byte for byte, scripts and comments included: a comment that merely contains the
text ``<metadata id="dsexport">`` is a comment, not an element, and is left alone. The result is
parsed again before it is returned.

Untrusted XML: entity declarations (general or parameter) are refused, so nothing expands
beyond the predefined entities ("billion laughs"); external entities are never loaded; the file
must be UTF-8 and well-formed with an ``<svg>`` root; size, element count and nesting depth are
capped (``MAX_SVG_BYTES``, ``MAX_ELEMENTS``, ``MAX_DEPTH``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
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
attempt to exhaust memory or time in the XML parser."""

MAX_ELEMENTS = 1_000_000
"""Most elements we walk in one SVG: a hostile file of tiny elements costs parser time per
element even within the byte cap."""

MAX_DEPTH = 512
"""Deepest element nesting we accept. Real diagrams nest a few dozen levels; anything that
later walks the tree recursively must not be handed thousands."""

OUR_ID = "dsexport"
OUR_OPEN = b'<metadata id="dsexport">'
OUR_CLOSE = b"</metadata>"

_NS_SVG = "http://www.w3.org/2000/svg"
_NS_DSEXPORT = "https://dsexport.org/ns/1.0/"
_SEP = " "  # expat's namespace separator: "uri local"
_RDF_NAME = f"{NS_RDF}{_SEP}RDF"
_RECORD_NAME = f"{_NS_DSEXPORT}{_SEP}record"
_METADATA_NAMES = (f"{_NS_SVG}{_SEP}metadata", "metadata")
_ROOT_NAMES = (f"{_NS_SVG}{_SEP}svg", "svg")
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_NUMBER = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(px)?\s*$")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ANIMATION_TAGS = {"animate", "animateTransform", "animateMotion", "set"}
_FMT = "SVG"

_ENTITY_MESSAGE = (
    "SVG files that declare XML entities are refused: entities can expand to gigabytes "
    "(the 'billion laughs' attack)"
)


@dataclass
class Metadata:
    """One ``metadata`` child of the root, located by the parser."""

    start: int
    end: int = -1
    """Offset just past its end tag (or past ``/>``)."""
    id: str | None = None
    has_rdf: bool = False
    has_record: bool = False


@dataclass
class Document:
    """What one parse of an SVG tells us."""

    text: bytes
    root_start: int
    root_tag_end: int = -1
    """Offset of the ``>`` that closes the root start tag."""
    root_self_closing: bool = False
    root_attrs: dict[str, str] = field(default_factory=dict)
    root_namespaces: dict[str, str] = field(default_factory=dict)
    """Prefix → URI declared on the root (what a ``metadata`` child may rely on)."""
    metadata: list[Metadata] = field(default_factory=list)
    animated: bool = False
    digest: str = ""
    """SHA-256 of the document's content without root-level ``metadata`` elements."""

    def read_choice(self) -> Metadata | None:
        """The ``metadata`` element ``extract`` reads: one carrying our record (ours by id
        first), else the first holding RDF (e.g. Inkscape's)."""
        records = [m for m in self.metadata if m.has_record]
        if records:
            return next((m for m in records if m.id == OUR_ID), records[0])
        return next((m for m in self.metadata if m.has_rdf), None)


def _prolog_end(text: bytes) -> int:
    """Offset of the root ``<svg`` start tag after BOM, whitespace, XML declaration, comments,
    processing instructions and DOCTYPE; -1 if the root is not ``svg`` (or not yet in
    ``text``, as when sniffing only the first bytes). Used to sniff, and checked against the
    parser's own answer before anything is edited."""
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


def _tag_end(text: bytes, start: int) -> int:
    """Offset of the ``>`` closing the tag that the parser reported at ``start`` (attribute
    values may contain ``>``, so quotes are respected), or -1."""
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


def _check_encoding(text: bytes, root_at: int) -> None:
    prolog = text[:root_at]
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


def _local(name: str) -> str:
    return name.rpartition(_SEP)[2]


def parse(data: bytes | memoryview) -> Document:
    """Check and parse the document once (see the module docstring)."""
    from xml.parsers import expat  # lazy: the native host's start-up time matters

    if len(data) > MAX_SVG_BYTES:
        msg = f"this SVG is {len(data)} bytes; the limit is {MAX_SVG_BYTES}"
        raise TooLarge(msg)
    text = bytes(as_view(data))
    root_at = _prolog_end(text)
    if root_at < 0:
        msg = "this is not an SVG file (no <svg> root element)"
        raise UnsupportedFormat(msg)
    _check_encoding(text, root_at)

    doc = Document(text=text, root_start=-1)
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.ordered_attributes = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    digest = hashlib.sha256()
    pending_text: list[str] = []
    depth = 0
    elements = 0
    current: Metadata | None = None  # the root-level metadata element we are inside
    pending_ns: dict[str, str] = {}

    def flush_text() -> None:
        if pending_text:
            digest.update(b"T" + "".join(pending_text).encode("utf-8") + b"\0")
            pending_text.clear()

    def on_entity(*_args: object) -> None:
        raise UnsupportedFormat(_ENTITY_MESSAGE)

    def on_external(*_args: object) -> int:
        msg = "SVG: external entities are not loaded"
        raise UnsupportedFormat(msg)

    def on_ns(prefix: str | None, uri: str) -> None:
        if depth == 0:
            pending_ns[prefix or ""] = uri

    def on_start(name: str, attrs: list[str]) -> None:
        nonlocal depth, elements, current
        elements += 1
        depth += 1
        if elements > MAX_ELEMENTS:
            msg = f"this SVG has more than {MAX_ELEMENTS} elements"
            raise TooLarge(msg)
        if depth > MAX_DEPTH:
            msg = f"SVG: elements nest more than {MAX_DEPTH} levels deep"
            raise TooLarge(msg)
        at = parser.CurrentByteIndex
        pairs = dict(zip(attrs[::2], attrs[1::2], strict=True))
        if depth == 1:
            if name not in _ROOT_NAMES:
                msg = "this is not an SVG file (the root element is not <svg>)"
                raise UnsupportedFormat(msg)
            doc.root_start = at
            doc.root_attrs = {_local(k): v for k, v in pairs.items() if _SEP not in k}
            doc.root_namespaces = dict(pending_ns)
        elif depth == 2 and name in _METADATA_NAMES:
            current = Metadata(start=at, id=pairs.get("id"))
            doc.metadata.append(current)
            return
        if current is not None:
            current.has_rdf = current.has_rdf or (depth == 3 and name == _RDF_NAME)
            current.has_record = current.has_record or name == _RECORD_NAME or _RECORD_NAME in pairs
            return
        doc.animated = doc.animated or _local(name) in _ANIMATION_TAGS
        flush_text()
        digest.update(b"S" + name.encode("utf-8") + b"\0")
        for item in attrs:
            digest.update(item.encode("utf-8") + b"\0")

    def on_end(name: str) -> None:
        nonlocal depth, current
        at = parser.CurrentByteIndex
        if depth == 2 and current is not None:
            # An empty element <metadata/> ends where it started; its "end tag" is the start.
            close = _tag_end(text, at)
            if close < 0:
                raise CorruptImage("SVG: an element does not end")
            current.end = close + 1
            current = None
        elif current is None:
            if depth == 1:
                close = _tag_end(text, doc.root_start)
                doc.root_tag_end = close
                doc.root_self_closing = close > 0 and text[close - 1] == 0x2F  # "/>"
            flush_text()
            digest.update(b"E" + name.encode("utf-8") + b"\0")
        depth -= 1

    def on_text(value: str) -> None:
        if current is None and depth >= 1:
            pending_text.append(value)

    def on_comment(value: str) -> None:
        if current is None:
            flush_text()
            digest.update(b"C" + value.encode("utf-8") + b"\0")

    def on_pi(target: str, value: str) -> None:
        if current is None:
            flush_text()
            digest.update(b"P" + f"{target} {value}".encode() + b"\0")

    parser.EntityDeclHandler = on_entity
    parser.UnparsedEntityDeclHandler = on_entity
    parser.ExternalEntityRefHandler = on_external
    parser.StartNamespaceDeclHandler = on_ns
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    parser.CharacterDataHandler = on_text
    parser.CommentHandler = on_comment
    parser.ProcessingInstructionHandler = on_pi
    try:
        parser.Parse(text, True)
    except expat.ExpatError as err:
        msg = f"SVG: the file is not well-formed XML ({err}); it is truncated or corrupt"
        raise CorruptImage(msg) from err
    if doc.root_start != root_at or doc.root_tag_end < 0:
        msg = "SVG: the root element is not where the prolog ends; the file is malformed"
        raise CorruptImage(msg)
    # The root's name was checked by the prolog scan; the parser confirms its namespace.
    flush_text()
    doc.digest = digest.hexdigest()
    return doc


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
    doc = parse(data)
    attrs = doc.root_attrs
    width, height = _length(attrs.get("width")), _length(attrs.get("height"))
    box = (attrs.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(box) == 4:
        width = width if width is not None else _length(box[2])
        height = height if height is not None else _length(box[3])
    return ImageInfo(width=width, height=height, animated=doc.animated, has_alpha=True)


@releases_views
def content_digest(data: bytes | memoryview) -> str:
    """SHA-256 of the document as the parser reads it (elements, attributes, text, comments,
    processing instructions) without the root's ``metadata`` children: what ``embed`` never
    changes."""
    return parse(data).digest


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
    rdf = root if root.tag == f"{{{NS_RDF}}}RDF" else root.find(f".//{{{NS_RDF}}}RDF")
    if rdf is None:
        msg = "the XMP packet has no rdf:RDF element"
        raise BadRequest(msg)
    rdf.tail = None
    return xml_bytes(rdf)


def _replaced(doc: Document) -> list[Metadata]:
    """The ``metadata`` elements our new packet replaces, in document order."""
    chosen = doc.read_choice()
    return [m for m in doc.metadata if m is chosen or m.has_record or m.id == OUR_ID]


@releases_views
def embed(data: bytes | memoryview, payload: Payload) -> list[bytes | memoryview]:
    doc = parse(data)
    text = doc.text
    element = OUR_OPEN + rdf_fragment(payload.xmp) + OUR_CLOSE
    view = memoryview(text)
    parts = Parts(view)
    tag_end = doc.root_tag_end
    if doc.root_self_closing:  # <svg …/>: open it to hold our element
        slash = text.rindex(b"/", doc.root_start, tag_end)
        parts.copy(0, slash)
        parts.add(b">" + element + b"</svg>")
        parts.copy(tag_end + 1, len(text))
    else:
        parts.copy(0, tag_end + 1)
        parts.add(element)
        cursor = tag_end + 1
        for old in _replaced(doc):
            parts.copy(cursor, old.start)
            cursor = old.end
        parts.copy(cursor, len(text))
    out = parts.result()
    # Our own bug, never the user's file, if this fails: say so rather than write it.
    check = parse(b"".join(out))
    if check.digest != doc.digest or check.read_choice() is None:
        msg = "SVG: inserting metadata changed the drawing; nothing was written"
        raise CorruptImage(msg)
    return out


def _element_tree(doc: Document, chosen: Metadata) -> ET.Element:
    """The chosen ``metadata`` element as a tree, parsed on its own inside a wrapper that
    declares the root's namespaces (the only ancestor it can inherit them from)."""
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    declarations = " ".join(
        f'xmlns{":" + prefix if prefix else ""}="{_attr(uri)}"'
        for prefix, uri in doc.root_namespaces.items()
    )
    fragment = doc.text[chosen.start : chosen.end]
    wrapped = f"<w {declarations}>".encode() + fragment + b"</w>"
    register_xml_prefixes(wrapped)
    try:
        return ET.fromstring(wrapped)[0]
    except ET.ParseError as err:  # the whole document parsed, so this is our bug
        msg = f"SVG: could not read its metadata element ({err})"
        raise CorruptImage(msg) from err


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@releases_views
def extract(data: bytes | memoryview) -> RawFields:
    import xml.etree.ElementTree as ET  # lazy: the native host's start-up time matters

    doc = parse(data)
    chosen = doc.read_choice()
    if chosen is None:
        return RawFields()
    rdf = _element_tree(doc, chosen).find(f"{{{NS_RDF}}}RDF")
    if rdf is None:  # RDF deeper inside the metadata element: not XMP as SVG stores it
        return RawFields()
    rdf.tail = None
    meta = ET.Element(f"{{{NS_X}}}xmpmeta")
    meta.append(rdf)
    return RawFields(xmp=XPACKET_START + xml_bytes(meta) + XPACKET_END)
