"""XMP packet: Dublin Core, XMP basic and IPTC Extension properties, plus our record.

One ``rdf:Description`` of ours, e.g.::

    <dc:title><rdf:Alt><rdf:li xml:lang="x-default">猫 chat</rdf:li></rdf:Alt></dc:title>
    <dc:description><rdf:Alt><rdf:li xml:lang="x-default">a cat</rdf:li></rdf:Alt></dc:description>
    <dc:source>https://…/image.png</dc:source>
    <xmp:CreatorTool>dsexport 0.1.0</xmp:CreatorTool>
    <xmp:CreateDate>2026-11-25T09:14:03+00:00</xmp:CreateDate>
    <Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</…>
    <Iptc4xmpExt:AISystemUsed>model</Iptc4xmpExt:AISystemUsed>
    <Iptc4xmpExt:AIPromptInformation>a cat
    Negative prompt: blurry</Iptc4xmpExt:AIPromptInformation>
    <dsexport:record>{"schema":"dsexport.record/1",…}</dsexport:record>

Digital source type by origin (``DIGITAL_SOURCE_TYPES``): ``generated`` →
``trainedAlgorithmicMedia`` (made by a trained model); ``diagram`` → ``algorithmicMedia``: the
picture is drawn by a deterministic renderer (Mermaid, SVG) from text the model wrote, not by a
trained image model, and IPTC defines algorithmicMedia as "created purely by an algorithm not
based on any sampled training data". Diagrams still get ``AISystemUsed``/``AIPromptInformation``,
because the model wrote their content. ``uploaded`` (the user's own image) gets none of the three.

Text is escaped, characters XML 1.0 forbids are dropped, and ``\\r`` is written as ``&#13;`` so
newlines and tabs survive exactly. The record is JSON whose own escapes keep it exact
(``record.py``). An existing packet is merged: its properties stay, except the ones we write,
and no second packet is created. A packet we cannot parse safely (a DTD, broken XML, absurd
nesting) is replaced by ours. ``split_for_jpeg`` moves the big properties into extended XMP.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime

from dsexport.conventions import record as record_mod
from dsexport.errors import TooLarge
from dsexport.model import Metadata

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NS_X = "adobe:ns:meta/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_XMP_NOTE = "http://ns.adobe.com/xmp/note/"
NS_DSEXPORT = "https://dsexport.org/ns/1.0/"
NS_PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
NS_EXIF = "http://ns.adobe.com/exif/1.0/"

PREFIXES = {
    RDF: "rdf",
    NS_X: "x",
    NS_DC: "dc",
    NS_XMP: "xmp",
    NS_IPTC_EXT: "Iptc4xmpExt",
    NS_XMP_NOTE: "xmpNote",
    NS_DSEXPORT: "dsexport",
    NS_PHOTOSHOP: "photoshop",
    NS_EXIF: "exif",
}

_CV = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DIGITAL_SOURCE_TYPES: dict[str, str | None] = {
    "generated": _CV + "trainedAlgorithmicMedia",
    "diagram": _CV + "algorithmicMedia",
    "uploaded": None,
}

PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"
MAX_JPEG_PACKET = 65504
"""Standard XMP in a JPEG APP1: 65533 minus the 29-byte ``http://ns.adobe.com/xap/1.0/\\0``."""

MAX_PACKET_BYTES = 64 * 1024 * 1024
"""An existing packet larger than this is not parsed (and is replaced): guards memory."""

MAX_DEPTH = 64
"""Element nesting we accept in an existing packet; real XMP is a handful of levels deep."""

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


# Properties we own. Each is written only when we have a value for it; then any copy in an
# existing packet is removed first so readers do not see two values.
P_TITLE = _q(NS_DC, "title")
P_DESCRIPTION = _q(NS_DC, "description")
P_SOURCE = _q(NS_DC, "source")
P_CREATOR_TOOL = _q(NS_XMP, "CreatorTool")
P_CREATE_DATE = _q(NS_XMP, "CreateDate")
P_SOURCE_TYPE = _q(NS_IPTC_EXT, "DigitalSourceType")
P_AI_SYSTEM = _q(NS_IPTC_EXT, "AISystemUsed")
P_AI_PROMPT = _q(NS_IPTC_EXT, "AIPromptInformation")
P_RECORD = _q(NS_DSEXPORT, "record")
P_HAS_EXTENDED = _q(NS_XMP_NOTE, "HasExtendedXMP")
_ALT = _q(RDF, "Alt")
_LI = _q(RDF, "li")
_DESCRIPTION = _q(RDF, "Description")
_ABOUT = _q(RDF, "about")
_LANG = _q(XML_NS, "lang")


def clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (C0 controls except tab/newline/CR, lone
    surrogates, U+FFFE/U+FFFF); everything else is kept as it is."""
    return _ILLEGAL.sub("", text)


def _escape_text(text: str) -> str:
    return (
        clean(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _escape_attr(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


# --- building ----------------------------------------------------------------------------------


def prompt_information(meta: Metadata) -> str | None:
    """AIPromptInformation: the prompt, and the negative prompt as a ``Negative prompt:`` line."""
    parts = []
    if meta.prompt:
        parts.append(meta.prompt)
    if meta.negative_prompt:
        parts.append(f"Negative prompt: {meta.negative_prompt}")
    return "\n".join(parts) or None


def _is_iso_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _our_description(meta: Metadata, record_json: str) -> ET.Element:
    desc = ET.Element(_DESCRIPTION, {_ABOUT: ""})

    def alt(tag: str, text: str) -> None:
        li = ET.SubElement(ET.SubElement(ET.SubElement(desc, tag), _ALT), _LI, {_LANG: "x-default"})
        li.text = text

    def simple(tag: str, text: str) -> None:
        ET.SubElement(desc, tag).text = text

    if meta.conversation_title:
        alt(P_TITLE, meta.conversation_title)
    if meta.prompt:
        alt(P_DESCRIPTION, meta.prompt)
    if meta.image_url:
        simple(P_SOURCE, meta.image_url)
    if meta.tool:
        simple(P_CREATOR_TOOL, meta.tool)
    if meta.captured_at and _is_iso_date(meta.captured_at):
        simple(P_CREATE_DATE, meta.captured_at)
    source_type = DIGITAL_SOURCE_TYPES.get(meta.origin)
    if source_type:
        simple(P_SOURCE_TYPE, source_type)
        if meta.model:
            simple(P_AI_SYSTEM, meta.model)
        info = prompt_information(meta)
        if info:
            simple(P_AI_PROMPT, info)
    simple(P_RECORD, record_json)
    return desc


def encode(
    meta: Metadata,
    record_json: str,
    existing: bytes | None = None,
    *,
    keep_create_date: bool = False,
) -> bytes:
    """``Metadata`` + our JSON record (+ an existing packet to merge into) → XMP packet (UTF-8).

    ``keep_create_date``: the file already says when the picture was made (a camera's EXIF or
    XMP date), so our capture time is not written as ``xmp:CreateDate``."""
    if keep_create_date:
        meta = meta.replace(captured_at=None)
    ours = _our_description(meta, record_json)
    written = {child.tag for child in ours} | {P_RECORD, P_HAS_EXTENDED}
    foreign: list[ET.Element] = []
    prefixes: dict[str, str] = {}
    if existing:
        parsed = _parse(existing)
        if parsed is not None:
            rdf, prefixes = parsed
            foreign = _strip_properties(rdf, written)
    return _packet([ours, *foreign], prefixes)


def _strip_records(elem: ET.Element) -> None:
    """Remove our record wherever it sits, also nested inside another property: a packet
    keeps exactly one record, the one we write now."""
    for node in elem.iter():
        if P_RECORD in node.attrib:
            del node.attrib[P_RECORD]
        for child in list(node):
            if child.tag == P_RECORD:
                node.remove(child)


def _strip_properties(rdf: ET.Element, written: set[str]) -> list[ET.Element]:
    _strip_records(rdf)
    kept = []
    for child in list(rdf):
        if child.tag == _DESCRIPTION:
            for name in list(child.attrib):
                if name in written:
                    del child.attrib[name]
            for prop in list(child):
                if prop.tag in written:
                    child.remove(prop)
            if len(child) == 0 and not (set(child.attrib) - {_ABOUT}):
                continue
        kept.append(child)
    return kept


def _packet(children: list[ET.Element], foreign_prefixes: dict[str, str]) -> bytes:
    prefix_of = dict(PREFIXES)
    used = set(prefix_of.values()) | {"xml", "xmlns"}
    for uri, prefix in foreign_prefixes.items():
        if uri in prefix_of:
            continue
        candidate = prefix if prefix and re.fullmatch(r"[A-Za-z_][\w.-]*", prefix) else "ns"
        n = 1
        while candidate in used:
            candidate = f"{prefix or 'ns'}{n}"
            n += 1
        prefix_of[uri] = candidate
        used.add(candidate)
    out = [
        '<?xpacket begin="\ufeff" id="' + PACKET_ID + '"?>\n',
        f'<x:xmpmeta xmlns:x="{NS_X}">\n',
        f' <rdf:RDF xmlns:rdf="{RDF}">\n',
    ]
    for child in children:
        if _is_ours(child):
            ET.indent(child, space=" ", level=2)
        out.append("  ")
        _serialize(child, prefix_of, out, declare=True)
        out.append("\n")
    out.append(" </rdf:RDF>\n</x:xmpmeta>\n")
    out.append('<?xpacket end="w"?>')
    return "".join(out).encode("utf-8")


def _is_ours(desc: ET.Element) -> bool:
    return any(child.tag == P_RECORD for child in desc)


def _split_name(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        uri, _, local = name[1:].partition("}")
        return uri, local
    return "", name


def _used_namespaces(elem: ET.Element) -> set[str]:
    uris = set()
    for node in elem.iter():
        uris.add(_split_name(node.tag)[0])
        uris.update(_split_name(name)[0] for name in node.attrib)
    uris.discard("")
    uris.discard(XML_NS)
    return uris


def _qname(name: str, prefix_of: dict[str, str]) -> str:
    uri, local = _split_name(name)
    if not uri:
        return local
    if uri == XML_NS:
        return f"xml:{local}"
    return f"{prefix_of[uri]}:{local}"


def _serialize(elem: ET.Element, prefix_of: dict[str, str], out: list[str], declare: bool) -> None:
    used = sorted(_used_namespaces(elem)) if declare else []  # walks the whole subtree: once
    for uri in used:
        if uri not in prefix_of:
            taken = set(prefix_of.values())
            prefix_of[uri] = next(f"ns{n}" for n in range(len(taken) + 1) if f"ns{n}" not in taken)
    tag = _qname(elem.tag, prefix_of)
    out.append(f"<{tag}")
    for uri in used:
        if uri != RDF:
            out.append(f' xmlns:{prefix_of[uri]}="{_escape_attr(uri)}"')
    for name, value in elem.attrib.items():
        out.append(f' {_qname(name, prefix_of)}="{_escape_attr(value)}"')
    if not elem.text and len(elem) == 0:
        out.append("/>")
        return
    out.append(">")
    if elem.text:
        out.append(_escape_text(elem.text))
    for child in elem:
        _serialize(child, prefix_of, out, declare=False)
        if child.tail:
            out.append(_escape_text(child.tail))
    out.append(f"</{tag}>")


# --- parsing -----------------------------------------------------------------------------------


def _parse(packet: bytes) -> tuple[ET.Element, dict[str, str]] | None:
    """Packet → (its ``rdf:RDF`` element, uri → prefix), or ``None`` if it is not safe XMP."""
    if len(packet) > MAX_PACKET_BYTES:
        return None
    data = bytes(packet)
    start = data.find(b"<")
    end = data.rfind(b">")
    if start < 0 or end < start:
        return None
    data = data[start : end + 1]
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None  # XMP has no DTD; refusing one avoids entity-expansion attacks.
    prefixes: dict[str, str] = {}
    depth = 0
    try:
        events = ET.iterparse(io.BytesIO(data), events=("start-ns", "start", "end"))
        for event, item in events:
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(uri, prefix)
            elif event == "start":
                depth += 1
                if depth > MAX_DEPTH:
                    return None
            else:
                depth -= 1
        root = events.root  # type: ignore[attr-defined]
    except ET.ParseError:
        return None
    rdf = root if root.tag == _q(RDF, "RDF") else root.find(f".//{_q(RDF, 'RDF')}")
    if rdf is None:
        return None
    return rdf, prefixes


def _value(elem: ET.Element) -> str:
    """A property's text: simple value, or the x-default (else first) item of an Alt/Bag/Seq."""
    for container in elem:
        items = [li for li in container if li.tag == _LI]
        for li in items:
            if li.get(_LANG) == "x-default":
                return li.text or ""
        if items:
            return items[0].text or ""
    return elem.text or ""


def properties(packet: bytes) -> dict[str, str]:
    """Every top-level property of the packet, keyed ``prefix:name`` with our prefixes for the
    namespaces we know (e.g. ``{"dc:description": "a cat", "dsexport:record": "{…}"}``)."""
    parsed = _parse(packet)
    if parsed is None:
        return {}
    rdf, prefixes = parsed
    prefix_of = {**{uri: p for uri, p in prefixes.items() if p}, **PREFIXES}
    found: dict[str, str] = {}

    def key(name: str) -> str:
        uri, local = _split_name(name)
        return f"{prefix_of.get(uri, uri)}:{local}" if uri else local

    # Only the packet's own descriptions: a description nested inside a property's value
    # (a struct) describes that value, and a record hidden there is not the file's record.
    for desc in rdf.findall(_DESCRIPTION):
        for name, value in desc.attrib.items():
            if name != _ABOUT:
                found.setdefault(key(name), value)
        for prop in desc:
            found.setdefault(key(prop.tag), _value(prop))
    return found


def decode(packet: bytes) -> Metadata | None:
    """Packet → ``Metadata``: our record when present and valid, else the dc/xmp/Iptc4xmpExt
    properties; ``None`` when none of them is there."""
    props = properties(packet)
    record_text = props.get("dsexport:record")
    if record_text:
        try:
            return record_mod.decode(record_text)
        except ValueError:
            pass
    values: dict[str, object] = {}
    if props.get("dc:description"):
        values["prompt"] = props["dc:description"]
    elif props.get("Iptc4xmpExt:AIPromptInformation"):
        info = props["Iptc4xmpExt:AIPromptInformation"]
        prompt, sep, negative = info.partition("\nNegative prompt: ")
        values["prompt"] = prompt
        if sep:
            values["negative_prompt"] = negative
    for name, field_name in (
        ("dc:title", "conversation_title"),
        ("dc:source", "image_url"),
        ("xmp:CreatorTool", "tool"),
        ("xmp:CreateDate", "captured_at"),
        ("Iptc4xmpExt:AISystemUsed", "model"),
    ):
        if props.get(name):
            values[field_name] = props[name]
    source_type = props.get("Iptc4xmpExt:DigitalSourceType", "")
    if source_type == DIGITAL_SOURCE_TYPES["diagram"]:
        values["origin"] = "diagram"
    if not values:
        return None
    return Metadata(**values)  # type: ignore[arg-type]


#: Properties that say when a picture was made or digitised (MWG's date mapping).
_CREATION_DATES = ("xmp:CreateDate", "photoshop:DateCreated", "exif:DateTimeOriginal")


def has_capture_date(packet: bytes | None) -> bool:
    """Does this packet say when the picture was made (``xmp:CreateDate``, Photoshop's or
    EXIF's date)?"""
    if not packet:
        return False
    props = properties(packet)
    return any(props.get(name, "").strip() for name in _CREATION_DATES)


def record_of(packet: bytes) -> str | None:
    """Our JSON record inside ``packet``, or ``None``."""
    return properties(packet).get("dsexport:record")


# --- extended XMP (JPEG) -----------------------------------------------------------------------

#: Moved to extended XMP first, in this order; then the largest remaining properties.
_EXTEND_FIRST = (P_RECORD, P_AI_PROMPT, P_DESCRIPTION)


def split_for_jpeg(packet: bytes) -> tuple[bytes, bytes | None, str | None]:
    """Packet → (standard packet ≤ ``MAX_JPEG_PACKET`` bytes, extended XMP or ``None``, GUID).

    The GUID is the uppercase hex MD5 of the extended bytes; the standard packet names it in
    ``xmpNote:HasExtendedXMP`` (Adobe XMP Specification Part 3, 1.1.3.1). The caller writes the
    extended bytes as ``http://ns.adobe.com/xmp/extension/`` APP1 segments. Raises
    ``TooLarge`` when even the standard part cannot be made small enough.
    """
    if len(packet) <= MAX_JPEG_PACKET:
        return packet, None, None
    parsed = _parse(packet)
    if parsed is None:
        msg = "the XMP packet is too large for a JPEG and cannot be split"
        raise TooLarge(msg)
    rdf, prefixes = parsed
    descriptions = [child for child in rdf if child.tag == _DESCRIPTION]
    others = [child for child in rdf if child.tag != _DESCRIPTION]
    placeholder = "0" * 32

    def candidates() -> list[tuple[ET.Element, ET.Element]]:
        pairs = [(desc, prop) for desc in descriptions for prop in desc]
        first = [p for tag in _EXTEND_FIRST for p in pairs if p[1].tag == tag]
        rest = sorted(
            (p for p in pairs if p not in first and p[1].tag != P_HAS_EXTENDED),
            key=lambda p: -len(ET.tostring(p[1])),
        )
        return first + rest

    moved: list[ET.Element] = []
    note_holder = ET.Element(_DESCRIPTION, {_ABOUT: ""})
    ET.SubElement(note_holder, P_HAS_EXTENDED).text = placeholder
    for desc, prop in candidates():
        desc.remove(prop)
        moved.append(prop)
        main = _packet([note_holder, *_nonempty(descriptions), *others], dict(prefixes))
        if len(main) <= MAX_JPEG_PACKET:
            break
    else:
        msg = "the XMP packet is too large for a JPEG even after moving properties to extended XMP"
        raise TooLarge(msg)
    ext_desc = ET.Element(_DESCRIPTION, {_ABOUT: ""})
    ext_desc.extend(moved)
    extended = _packet([ext_desc], dict(prefixes))
    extended = extended[extended.index(b"<x:xmpmeta") : extended.rindex(b"</x:xmpmeta>") + 12]
    guid = hashlib.md5(extended).hexdigest().upper()  # The XMP spec names MD5.
    note_holder[0].text = guid
    main = _packet([note_holder, *_nonempty(descriptions), *others], dict(prefixes))
    return main, extended, guid


def _nonempty(descriptions: list[ET.Element]) -> list[ET.Element]:
    return [d for d in descriptions if len(d) or set(d.attrib) - {_ABOUT}]
