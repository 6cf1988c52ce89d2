from __future__ import annotations

import io
import struct

import pytest
from format_samples import exiftool, exiftool_json, payload, riff_chunks, tiff, webp_sample

from dsexport.errors import CorruptImage
from dsexport.formats import Payload, webp
from dsexport.formats.base import join

KINDS = ["lossy", "lossless", "lossless-alpha", "lossy-alpha", "animated", "icc"]


def vp8x(data: bytes) -> tuple[int, int, int]:
    fourcc, body = riff_chunks(data)[0]
    assert fourcc == b"VP8X"
    w = int.from_bytes(body[4:7], "little") + 1
    h = int.from_bytes(body[7:10], "little") + 1
    return body[0], w, h


def riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"WEBP" + b"".join(webp.riff_chunk(t, d) for t, d in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("kind", ["lossy", "lossless", "lossless-alpha"])
def test_simple_file_is_upgraded_to_vp8x_with_canvas_and_flags(kind):
    data = webp_sample(kind)
    assert riff_chunks(data)[0][0] in (b"VP8 ", b"VP8L")
    out = join(webp.embed(data, payload()))
    flags, w, h = vp8x(out)
    assert (w, h) == (48, 32)
    assert flags & webp.FLAG_EXIF and flags & webp.FLAG_XMP
    assert bool(flags & webp.FLAG_ALPHA) == (kind == "lossless-alpha")
    assert [t for t, _ in riff_chunks(out)] == [b"VP8X", riff_chunks(data)[0][0], b"EXIF", b"XMP "]
    assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8


def test_extended_file_keeps_its_flags_and_chunk_order():
    data = webp_sample("animated")
    flags_in, w, h = vp8x(data)
    out = join(webp.embed(data, payload()))
    flags_out, w2, h2 = vp8x(out)
    assert (w2, h2) == (w, h)
    assert flags_out == flags_in | webp.FLAG_EXIF | webp.FLAG_XMP
    before = [c for c in riff_chunks(data) if c[0] != b"VP8X"]
    after = [c for c in riff_chunks(out) if c[0] not in (b"VP8X", b"EXIF", b"XMP ")]
    assert after == before


def test_existing_exif_and_xmp_are_replaced_and_unknown_chunks_kept():
    from PIL import Image

    im = Image.new("RGB", (10, 6), "red")
    buf = io.BytesIO()
    im.save(buf, "WEBP", exif=b"Exif\0\0" + tiff(b"old"), xmp=b"<old/>")
    data = buf.getvalue()
    chunks = [*riff_chunks(data), (b"ZZZZ", b"odd")]
    data = riff(chunks)
    out = join(webp.embed(data, payload()))
    names = [t for t, _ in riff_chunks(out)]
    assert names.count(b"EXIF") == 1 and names.count(b"XMP ") == 1
    assert b"ZZZZ" in names
    assert webp.extract(out).exif == tiff()
    assert b"<old/>" not in out


def test_without_exif_the_existing_exif_stays_and_flag_is_kept():
    size = (47).to_bytes(3, "little") + (31).to_bytes(3, "little")
    canvas = bytes([webp.FLAG_EXIF, 0, 0, 0]) + size
    image = riff_chunks(webp_sample("lossy"))
    data = riff([(b"VP8X", canvas), *image, (b"EXIF", tiff(b"keep"))])
    p = Payload(parameters=None, exif=None, xmp=b"<x/>", text={})
    out = join(webp.embed(data, p))
    flags, _, _ = vp8x(out)
    assert flags & webp.FLAG_EXIF and flags & webp.FLAG_XMP
    assert webp.extract(out).exif == tiff(b"keep")


def test_odd_sized_chunks_are_padded():
    p = Payload(parameters=None, exif=b"MM\0*\0\0\0\x08\0\0\0\0\0", xmp=b"<odd/>x", text={})
    out = join(webp.embed(webp_sample("lossless"), p))
    assert len(out) % 2 == 0
    assert webp.extract(out).xmp == b"<odd/>x"
    assert webp.extract(out).exif == p.exif


def test_vp8_scale_bits_are_masked():
    data = bytearray(webp_sample("lossy"))
    start = data.index(b"\x9d\x01\x2a") + 3
    data[start + 1] |= 0x40  # horizontal scale bits set
    data[start + 3] |= 0x80
    out = join(webp.embed(bytes(data), payload()))
    assert vp8x(out)[1:] == (48, 32)
    assert webp.probe(bytes(data)).width == 48


def test_probe_reads_alpha_animation_and_c2pa():
    assert webp.probe(webp_sample("lossless-alpha")).has_alpha is True
    assert webp.probe(webp_sample("lossy")).has_alpha is False
    assert webp.probe(webp_sample("animated")).animated is True
    signed = riff([*riff_chunks(webp_sample("lossy")), (b"C2PA", b"jumb")])
    assert webp.probe(signed).has_c2pa is True


def test_riff_size_mismatch_is_corrupt():
    data = webp_sample("lossy")
    with pytest.raises(CorruptImage, match="RIFF"):
        webp.probe(data + b"\0\0")
    with pytest.raises(CorruptImage):
        webp.embed(data[:-3], payload())


@pytest.mark.parametrize("kind", KINDS)
def test_exiftool_validates_and_reads_exif_without_improper_header(tmp_path, kind):
    out = join(webp.embed(webp_sample(kind), payload("猫 🐱 שלום")))
    report = exiftool(tmp_path, out, "webp", "-validate", "-warning", "-error", "-a")
    assert "Validate                        : OK" in report, report
    assert "Improper EXIF header" not in report
    tags = exiftool_json(tmp_path, out, "webp")
    assert tags["IFD0:ImageDescription"] == "a cat"
    assert tags["XMP-dc:Description"] == "猫 🐱 שלום"


@pytest.mark.parametrize("kind", KINDS)
def test_pillow_reads_exif_and_xmp(kind):
    from PIL import Image

    p = payload()
    with Image.open(io.BytesIO(join(webp.embed(webp_sample(kind), p)))) as im:
        assert im.info["exif"] == p.exif
        assert im.info["xmp"] == p.xmp
