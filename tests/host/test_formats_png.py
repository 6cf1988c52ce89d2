from __future__ import annotations

import io
import struct
import zlib

import pytest
from format_samples import (
    exiftool,
    exiftool_json,
    payload,
    png_chunk,
    png_chunks,
    png_sample,
)

from dsexport.errors import BadRequest, CorruptImage, TooLarge
from dsexport.formats import Payload, png
from dsexport.formats.base import join

OUR_TYPES = (b"tEXt", b"iTXt", b"zTXt")


def keyword(data: bytes) -> bytes:
    return data.split(b"\0", 1)[0]


def test_text_chunks_go_right_after_ihdr_and_everything_else_is_kept():
    data = png_sample("apng")
    out = join(png.embed(data, payload("猫")))
    before, after = png_chunks(data), png_chunks(out)
    assert after[0] == before[0]  # IHDR
    inserted = after[1 : 1 + len(after) - len(before)]
    assert {keyword(d) for _, d in inserted} == {
        b"parameters",
        b"Title",
        b"Software",
        b"XML:com.adobe.xmp",
    }
    assert after[1 + len(inserted) :] == before[1:]
    assert out[8:33] == data[8:33]


def test_xmp_chunk_comes_before_the_other_text_chunks():
    """The Adobe XMP SDK (exempi 2.6) finds no XMP when another iTXt chunk precedes it, which
    is the case for every prompt that is not Latin-1 (tests/interop checks exempi itself)."""
    out = join(png.embed(png_sample("RGB"), payload("一只猫")))
    types = [(t, keyword(d)) for t, d in png_chunks(out)]
    assert types[1] == (b"iTXt", b"XML:com.adobe.xmp")
    assert (b"iTXt", b"parameters") in types[2:]


def test_parameters_is_text_when_latin1_and_itxt_otherwise():
    data = png_sample("RGB")
    latin = Payload(parameters="café, Steps: 20", exif=None, xmp=b"<x/>", text={})
    chunks = dict((keyword(d), t) for t, d in png_chunks(join(png.embed(data, latin))))
    assert chunks[b"parameters"] == b"tEXt"
    assert chunks[b"XML:com.adobe.xmp"] == b"iTXt"
    wide = Payload(parameters="猫, Steps: 20", exif=None, xmp=b"<x/>", text={})
    chunks = dict((keyword(d), t) for t, d in png_chunks(join(png.embed(data, wide))))
    assert chunks[b"parameters"] == b"iTXt"


def test_xmp_is_uncompressed_itxt():
    out = join(png.embed(png_sample("RGB"), payload()))
    (xmp,) = [d for t, d in png_chunks(out) if keyword(d) == b"XML:com.adobe.xmp"]
    assert xmp.startswith(b"XML:com.adobe.xmp\0\0\0\0\0<?xpacket")


def test_embed_replaces_earlier_text_chunks_of_the_same_keywords_only():
    data = png_sample("with-text")  # parameters (tEXt), Comment, Title (zTXt), XMP (iTXt)
    out = join(png.embed(data, payload("new")))
    keywords = [keyword(d) for t, d in png_chunks(out) if t in OUR_TYPES]
    assert sorted(keywords) == sorted(
        [b"parameters", b"Title", b"Software", b"XML:com.adobe.xmp", b"Comment"]
    )
    raw = png.extract(out)
    assert raw.text["parameters"].startswith("new")
    assert raw.text["Comment"] == "keep me"
    assert raw.text["Title"] == "title new"


def test_pillow_reads_parameters_and_xmp_before_loading_pixels():
    from PIL import Image

    p = payload("猫 🐱")
    with Image.open(io.BytesIO(join(png.embed(png_sample("RGBA"), p)))) as im:
        assert im.info["parameters"] == p.parameters
        assert im.info["xmp"] == p.xmp


def test_extract_reads_ztxt_and_compressed_itxt():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("zkey", "zipped latin", zip=True)
    info.add_itxt("ikey", "压缩的文本", zip=True)
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG", pnginfo=info)
    raw = png.extract(buf.getvalue())
    assert raw.text == {"zkey": "zipped latin", "ikey": "压缩的文本"}


def test_extract_reads_exif_chunk():
    from format_samples import tiff

    data = png_sample("RGB")
    with_exif = data[:33] + png_chunk(b"eXIf", tiff()) + data[33:]
    assert png.extract(with_exif).exif == tiff()


def test_compressed_text_bomb_is_refused():
    bomb = zlib.compress(b"a" * (png.MAX_TEXT_BYTES + 10), 9)
    data = png_sample("RGB")
    evil = data[:33] + png_chunk(b"zTXt", b"bomb\0\0" + bomb) + data[33:]
    with pytest.raises(TooLarge):
        png.extract(evil)


def test_probe_reports_bit_depth_alpha_animation_and_c2pa():
    assert png.probe(png_sample("rgb16")).bit_depth == 16
    assert png.probe(png_sample("gray16")).bit_depth == 16
    assert png.probe(png_sample("RGBA")).has_alpha is True
    assert png.probe(png_sample("RGB")).has_alpha is False
    assert png.probe(png_sample("apng")).animated is True
    data = png_sample("RGB")
    signed = data[:33] + png_chunk(b"caBX", b"\0\0\0\x10jumbc2pa....") + data[33:]
    assert png.probe(signed).has_c2pa is True


def test_bad_crc_is_corrupt():
    data = bytearray(png_sample("RGB"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF
    with pytest.raises(CorruptImage, match="CRC"):
        png.probe(bytes(data))


def test_missing_iend_is_corrupt():
    data = png_sample("RGB")
    with pytest.raises(CorruptImage):
        png.embed(data[:-12], payload())


def test_length_past_the_end_is_corrupt_without_allocating():
    data = png_sample("RGB")
    evil = data[:33] + struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"x" * 20
    with pytest.raises(CorruptImage, match="past the end"):
        png.extract(evil)


def test_trailing_bytes_after_iend_are_kept():
    data = png_sample("RGB") + b"trailing"
    assert join(png.embed(data, payload())).endswith(b"IEND\xaeB`\x82trailing")


def test_bad_keyword_is_refused():
    p = Payload(parameters=None, exif=None, xmp=b"<x/>", text={"": "empty keyword"})
    with pytest.raises(BadRequest):
        png.embed(png_sample("RGB"), p)


@pytest.mark.parametrize("kind", ["RGB", "RGBA", "P", "L", "gray16", "rgb16", "apng"])
def test_exiftool_validates_and_reads_parameters_and_xmp(tmp_path, kind):
    p = payload("猫 🐱 שלום")
    out = join(png.embed(png_sample(kind), p))
    report = exiftool(tmp_path, out, "png", "-validate", "-warning", "-error", "-a")
    assert "Validate                        : OK" in report, report
    tags = exiftool_json(tmp_path, out, "png")
    assert tags["PNG:Parameters"] == p.parameters
    assert tags["PNG:Title"] == p.text["Title"]
    assert tags["XMP-dc:Description"] == "猫 🐱 שלום"
