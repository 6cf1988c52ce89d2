from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from format_samples import SVG_SAMPLE, exiftool_json, payload

from dsexport.errors import CorruptImage, TooLarge, UnsupportedFormat
from dsexport.formats import svg
from dsexport.formats.base import join

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    "head",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'\xef\xbb\xbf  <?xml version="1.0"?>\n<!-- c -->\n<svg>',
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/svg11.dtd">\n<svg\n>',
        b"<?xml-stylesheet href='a.css'?><svg width='1'>",
    ],
)
def test_accepts_svg_after_any_prolog(head):
    assert svg.accepts(head)


@pytest.mark.parametrize(
    "head",
    [b"<html><svg>", b"<svgfoo>", b"<?xml version='1.0'?><rss>", b"\x89PNG", b"<!-- unterminated"],
)
def test_rejects_other_documents(head):
    assert not svg.accepts(head)


def test_embed_inserts_metadata_right_after_the_root_tag_and_keeps_the_rest():
    out = join(svg.embed(SVG_SAMPLE, payload("流程 🐱")))
    tag_end = SVG_SAMPLE.index(b">", SVG_SAMPLE.index(b"<svg")) + 1
    assert out.startswith(SVG_SAMPLE[:tag_end] + b'<metadata id="dsexport"><rdf:RDF')
    end = out.index(b"</metadata>") + len(b"</metadata>")
    assert out[end:] == SVG_SAMPLE[tag_end:]
    root = ET.fromstring(out)
    assert root[0].tag == f"{SVG_NS}metadata"


def test_self_closing_root_is_opened():
    data = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    out = join(svg.embed(data, payload()))
    assert out.endswith(b"</metadata></svg>")
    assert svg.extract(out).xmp is not None


def test_extract_finds_other_tools_rdf_metadata():
    data = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><metadata><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description>'
        b"<dc:title>inkscape</dc:title></rdf:Description></rdf:RDF></metadata></svg>"
    )
    assert b"inkscape" in svg.extract(data).xmp
    assert svg.extract(SVG_SAMPLE).xmp is None


def test_probe_reads_width_height_or_viewbox():
    assert (svg.probe(SVG_SAMPLE).width, svg.probe(SVG_SAMPLE).height) == (120, 80)
    data = b'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0,0,300.4,200"/>'
    info = svg.probe(data)
    assert (info.width, info.height) == (300, 200)


def test_billion_laughs_is_refused_before_parsing():
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    assert svg.accepts(evil)
    for fn in (svg.probe, svg.extract):
        with pytest.raises(UnsupportedFormat, match="billion laughs"):
            fn(evil)


def test_not_well_formed_is_corrupt():
    with pytest.raises(CorruptImage, match="well-formed"):
        svg.probe(b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')


def test_non_utf8_encoding_is_refused():
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?><svg><text>\xe9</text></svg>'
    with pytest.raises(UnsupportedFormat, match="UTF-8"):
        svg.embed(data, payload())


def test_scripts_and_everything_else_are_kept_verbatim():
    data = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    out = join(svg.embed(data, payload()))
    assert b"<script>alert(1)</script></svg>" in out


def test_exiftool_reads_our_xmp(tmp_path):
    out = join(svg.embed(SVG_SAMPLE, payload("流程 🐱 שלום")))
    tags = exiftool_json(tmp_path, out, "svg")
    assert tags["XMP-dc:Description"] == "流程 🐱 שלום"


def test_a_comment_that_looks_like_our_element_is_not_edited():
    data = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><!-- <metadata id="dsexport"> -->'
        b'<rect width="1" height="1"/><circle r="1"/><metadata>not ours</metadata></svg>'
    )
    once = join(svg.embed(data, payload("first")))
    twice = join(svg.embed(once, payload("second")))
    for out in (once, twice):
        assert (
            b'<!-- <metadata id="dsexport"> --><rect width="1" height="1"/><circle r="1"/>' in out
        )
        assert b"<metadata>not ours</metadata></svg>" in out
        assert out.count(b'<metadata id="dsexport">') == 2  # the comment and ours
    assert b"second" in svg.extract(twice).xmp and b"first" not in twice


def test_an_inkscape_metadata_element_is_merged_into_ours_not_duplicated():
    data = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><metadata id="metadata5"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<cc:Work rdf:about=""><dc:format>image/svg+xml</dc:format></cc:Work></rdf:RDF>'
        b"</metadata><g/></svg>"
    )
    from dsexport.conventions import build_payload
    from dsexport.model import Metadata

    out = join(svg.embed(data, build_payload(Metadata(prompt="p"), svg.extract(data), fmt="svg")))
    assert out.count(b"<metadata") == 1 and b"metadata5" not in out
    assert b"image/svg+xml</dc:format>" in out and out.endswith(b"<g/></svg>")


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE svg [<!ENTITY % p "x">]><svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&e;</text></svg>',
    ],
)
def test_parameter_and_external_entities_are_refused(data):
    with pytest.raises(UnsupportedFormat, match="entities"):
        svg.probe(data)


def test_nesting_and_size_are_capped():
    deep = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * 600 + b"</g>" * 600 + b"</svg>"
    with pytest.raises(TooLarge, match="nest"):
        svg.probe(deep)
    with pytest.raises(TooLarge):
        svg.probe(b"<svg>" + b" " * svg.MAX_SVG_BYTES + b"</svg>")


def test_embedding_never_changes_the_drawing():
    from format_samples import SVG_SAMPLE

    out = join(svg.embed(SVG_SAMPLE, payload("x")))
    assert svg.content_digest(out) == svg.content_digest(SVG_SAMPLE)
