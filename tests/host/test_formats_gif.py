from __future__ import annotations

import io

import pytest
from format_samples import decoded, exiftool, exiftool_json, gif_image_blocks, gif_sample, payload

from dsexport.errors import BadRequest, CorruptImage
from dsexport.formats import Payload, gif
from dsexport.formats.base import join


def test_comment_and_xmp_go_before_the_first_image_and_frames_are_untouched():
    data = gif_sample("animated")
    p = payload("猫 🐱")
    out = join(gif.embed(data, p))
    assert gif_image_blocks(out) == gif_image_blocks(data)
    assert decoded(out) == decoded(data)
    first_image = out.index(gif_image_blocks(out)[0])
    assert out.index(b"XMP DataXMP") < first_image
    assert out.index(p.parameters.encode()[:200]) < first_image
    assert out.endswith(b"\x3b")


def test_the_netscape_loop_extension_stays_directly_after_the_colour_table():
    """Netscape convention: NETSCAPE2.0 comes first after the global colour table; the Adobe XMP
    SDK (exempi) cannot read an animated GIF's XMP otherwise (tests/interop checks exempi)."""
    data = gif_sample("animated")
    screen_end = 13 + 3 * (2 << (data[10] & 7))
    assert data[screen_end : screen_end + 14] == b"\x21\xff\x0bNETSCAPE2.0"
    out = join(gif.embed(data, payload("猫")))
    assert out[screen_end : screen_end + 14] == b"\x21\xff\x0bNETSCAPE2.0"
    # A file written in the old order (ours first) is put right on the next save.
    wrong = data[:screen_end] + gif.xmp_extension(payload().xmp) + data[screen_end:]
    again = join(gif.embed(wrong, payload("猫")))
    assert again[screen_end : screen_end + 14] == b"\x21\xff\x0bNETSCAPE2.0"
    assert again.count(b"XMP DataXMP") == 1


def test_xmp_extension_ends_with_the_magic_trailer():
    out = join(gif.embed(gif_sample("still"), payload()))
    at = out.index(b"XMP DataXMP")
    packet_end = out.index(b'<?xpacket end="w"?>', at) + len(b'<?xpacket end="w"?>')
    assert out[packet_end : packet_end + 258] == bytes([1, *range(255, -1, -1), 0])


def test_pillow_reads_the_comment():
    from PIL import Image

    p = payload("a\nb 猫")
    with Image.open(io.BytesIO(join(gif.embed(gif_sample("animated"), p)))) as im:
        assert im.info["comment"].decode("utf-8") == p.parameters
        assert im.n_frames == 3
        assert im.info["loop"] == 0  # the NETSCAPE loop extension still counts


def test_gif87a_is_upgraded_to_gif89a():
    data = b"GIF87a" + gif_sample("still")[6:]
    out = join(gif.embed(data, payload()))
    assert out.startswith(b"GIF89a")
    assert decoded(out) == decoded(data)


def test_long_comment_is_split_into_sub_blocks():
    text = "长" * 1000
    p = Payload(parameters=text, exif=None, xmp=b"<x/>", text={})
    raw = gif.extract(join(gif.embed(gif_sample("still"), p)))
    assert raw.text["comment"] == text


def test_packet_with_nul_is_refused():
    with pytest.raises(BadRequest):
        gif.embed(gif_sample("still"), Payload(parameters=None, exif=None, xmp=b"a\0b", text={}))


def test_probe_counts_frames_and_transparency():
    info = gif.probe(gif_sample("animated"))
    assert info.animated is True and info.has_alpha is True
    assert gif.probe(gif_sample("still")).animated is False


def test_missing_trailer_is_corrupt():
    with pytest.raises(CorruptImage):
        gif.probe(gif_sample("still")[:-1])


def test_exiftool_validates_and_reads_xmp_and_comment(tmp_path):
    p = payload("猫 🐱 שלום")
    out = join(gif.embed(gif_sample("animated"), p))
    report = exiftool(tmp_path, out, "gif", "-validate", "-warning", "-error", "-a")
    assert "Validate                        : OK" in report, report
    tags = exiftool_json(tmp_path, out, "gif")
    assert tags["XMP-dc:Description"] == "猫 🐱 שלום"
    assert tags["File:Comment"] == p.parameters
