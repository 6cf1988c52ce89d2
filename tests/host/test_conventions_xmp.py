"""XMP: properties outside readers know, our record, merging, extended XMP."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsexport.conventions import record, xmp
from dsexport.model import Metadata
from testutil import require_tool

SPECIAL = list("一只猫🐱👨‍👩‍👧שלוםمرحبا\n\r\t\",:'\\ {}<>&]]>\x01\x0b\x7f\ufffe")
TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from(SPECIAL)))

META = Metadata(
    prompt='a <cat> & "dog"\n\t一只猫 🐱 שלום',
    negative_prompt="blurry, 模糊",
    model="DeepSeek-V3",
    conversation_title="猫 & chat",
    image_url="https://x.test/a.png?b=1&c=2",
    captured_at="2026-11-25T09:14:03+00:00",
    tool="dsexport 0.1.0",
    extra={"file_name": "cat.png"},
)
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def packet(meta: Metadata, existing: bytes | None = None) -> bytes:
    return xmp.encode(meta, record.encode(meta), existing)


def exiftool_xmp(tmp_path, data: bytes) -> dict:
    exiftool = require_tool("exiftool")
    path = tmp_path / "meta.xmp"
    path.write_bytes(data)
    out = subprocess.run([exiftool, "-j", "-G1", "-a", str(path)], check=True, capture_output=True)
    return json.loads(out.stdout)[0]


def test_exiftool_reads_dc_xmp_and_iptc_ai_properties(tmp_path):
    tags = exiftool_xmp(tmp_path, packet(META))
    assert tags["XMP-dc:Description"] == META.prompt
    assert tags["XMP-dc:Title"] == META.conversation_title
    assert tags["XMP-dc:Source"] == META.image_url
    assert tags["XMP-xmp:CreatorTool"] == "dsexport 0.1.0"
    assert tags["XMP-xmp:CreateDate"] == "2026:11:25 09:14:03+00:00"
    assert tags["XMP-iptcExt:DigitalSourceType"] == SOURCE_TYPE
    assert tags["XMP-iptcExt:AISystemUsed"] == "DeepSeek-V3"
    assert tags["XMP-iptcExt:AIPromptInformation"] == (
        META.prompt + "\nNegative prompt: blurry, 模糊"
    )
    assert json.loads(tags["XMP-dsexport:Record"]) == json.loads(record.encode(META))


def test_uploaded_images_get_no_ai_properties(tmp_path):
    tags = exiftool_xmp(tmp_path, packet(META.replace(origin="uploaded")))
    assert not any(k.startswith("XMP-iptcExt:") for k in tags)
    assert tags["XMP-dc:Description"] == META.prompt


def test_diagrams_are_algorithmic_media():
    props = xmp.properties(packet(META.replace(origin="diagram")))
    assert props["Iptc4xmpExt:DigitalSourceType"].endswith("/algorithmicMedia")
    assert props["Iptc4xmpExt:AISystemUsed"] == "DeepSeek-V3"


@settings(max_examples=200)
@given(prompt=TEXT, title=TEXT, extra=st.dictionaries(TEXT, TEXT, max_size=3))
def test_record_round_trips_exactly_and_dc_keeps_legal_text(prompt, title, extra):
    meta = Metadata(prompt=prompt or None, conversation_title=title or None, extra=extra)
    data = packet(meta)
    ET.fromstring(data)  # well-formed whatever the input
    assert xmp.decode(data) == meta
    props = xmp.properties(data)
    if meta.prompt:
        assert props["dc:description"] == xmp.clean(prompt)
    if meta.conversation_title:
        assert props["dc:title"] == xmp.clean(title)


def test_newlines_tabs_and_carriage_returns_survive_in_exiftool(tmp_path):
    meta = Metadata(prompt="line1\r\nline2\n\tindented\rold mac\x01")
    tags = exiftool_xmp(tmp_path, packet(meta))
    assert tags["XMP-dc:Description"] == "line1\r\nline2\n\tindented\rold mac"


FOREIGN = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 9.1">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmp:Rating="4" xmp:CreatorTool="Photoshop" photoshop:City="Berlin">
   <dc:creator><rdf:Seq><rdf:li>Ada</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">old caption</rdf:li></rdf:Alt>
   </dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def test_merges_into_an_existing_packet_keeping_foreign_properties(tmp_path):
    merged = packet(META, FOREIGN)
    assert merged.count(b"<?xpacket begin") == 1
    assert merged.count(b"<x:xmpmeta") == 1
    tags = exiftool_xmp(tmp_path, merged)
    assert tags["XMP-xmp:Rating"] == 4
    assert tags["XMP-photoshop:City"] == "Berlin"
    assert tags["XMP-dc:Creator"] == "Ada"
    assert tags["XMP-dc:Description"] == META.prompt  # ours replaced theirs, no second value
    assert tags["XMP-xmp:CreatorTool"] == "dsexport 0.1.0"
    assert merged.count(b"<xmp:CreatorTool>") == 1 and b"Photoshop" not in merged
    assert b"old caption" not in merged
    assert xmp.decode(merged) == META


def test_merge_keeps_foreign_values_we_do_not_replace():
    merged = packet(Metadata(prompt="p"), FOREIGN)
    props = xmp.properties(merged)
    assert props["xmp:CreatorTool"] == "Photoshop"  # we had no tool: theirs stays
    assert props["dc:description"] == "p"


def test_merging_twice_does_not_grow_or_duplicate():
    once = packet(META, FOREIGN)
    twice = packet(META, once)
    assert twice == once


@pytest.mark.parametrize(
    "existing",
    [
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b"<a>" * 200 + b"</a>" * 200 + b"</x:xmpmeta>",
        b"<unclosed",
    ],
)
def test_unsafe_or_broken_existing_packets_are_replaced(existing):
    merged = packet(META, existing)
    assert xmp.decode(merged) == META
    assert b"ENTITY" not in merged


def test_decode_reads_foreign_dc_and_iptc_without_our_record():
    meta = xmp.decode(FOREIGN)
    assert meta == Metadata(prompt="old caption", tool="Photoshop")
    assert xmp.decode(b"<x/>") is None


def test_split_for_jpeg_keeps_small_packets_whole():
    data = packet(META)
    assert xmp.split_for_jpeg(data) == (data, None, None)


def test_split_for_jpeg_moves_the_record_to_extended_xmp():
    import hashlib

    big = META.replace(prompt="一只猫 " * 15_000)  # ~45k chars, 3 copies: > 64 KB
    data = packet(big, FOREIGN)
    assert len(data) > xmp.MAX_JPEG_PACKET
    main, extended, guid = xmp.split_for_jpeg(data)
    assert len(main) <= xmp.MAX_JPEG_PACKET
    assert guid == hashlib.md5(extended).hexdigest().upper()
    props = xmp.properties(main)
    assert props["xmpNote:HasExtendedXMP"] == guid
    assert props["photoshop:City"] == "Berlin"
    assert "dsexport:record" not in props
    assert record.decode(xmp.properties(extended)["dsexport:record"]) == big


def test_jpeg_with_extended_xmp_reads_back_in_exiftool_and_dsexport(tmp_path):
    from dsexport.conventions import build_payload, read
    from dsexport.formats import jpeg
    from dsexport.formats.base import join

    exiftool = require_tool("exiftool")
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    big = META.replace(prompt="一只猫 " * 15_000)
    data = join(
        jpeg.embed(buf.getvalue(), build_payload(big, jpeg.extract(buf.getvalue()), fmt="jpeg"))
    )
    path = tmp_path / "big.jpg"
    path.write_bytes(data)
    out = subprocess.run(
        [exiftool, "-j", "-b", "-G1", "-a", "-XMP:all", str(path)], check=True, capture_output=True
    )
    tags = json.loads(out.stdout)[0]
    assert tags["XMP-dc:Description"] == big.prompt
    assert json.loads(tags["XMP-dsexport:Record"])["prompt"] == big.prompt
    result = read(jpeg.extract(data))
    assert (result.convention, result.metadata) == ("dsexport", big)


@settings(max_examples=200)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(
            alphabet=st.sampled_from(list("<>/=\"' :xrdfDescriptionli&;#\n")), max_size=300
        ).map(lambda s: (FOREIGN[:200].decode("utf-8") + s).encode("utf-8")),
    )
)
def test_merging_into_arbitrary_bytes_always_gives_a_valid_packet(existing):
    merged = packet(META, existing)
    ET.fromstring(merged)
    assert xmp.decode(merged) == META
