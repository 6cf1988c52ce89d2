from __future__ import annotations

import io
import struct

import pytest
from format_samples import (
    exiftool,
    exiftool_json,
    icc_profile,
    jpeg_sample,
    jpeg_segments,
    payload,
    tiff,
    xmp_packet,
)

from dsexport.errors import CorruptImage, TooLarge, UnsupportedFormat
from dsexport.formats import Payload, jpeg
from dsexport.formats.base import join

APP0, APP1, APP2, APP11, COM = 0xE0, 0xE1, 0xE2, 0xEB, 0xFE


def kinds(data: bytes) -> list[str]:
    out = []
    for marker, body in jpeg_segments(data)[0]:
        if marker == APP1 and body.startswith(b"Exif\0\0"):
            out.append("exif")
        elif marker == APP1 and body.startswith(jpeg.XMP_HEADER):
            out.append("xmp")
        elif marker == APP1 and body.startswith(jpeg.XMP_EXT_HEADER):
            out.append("xmp-ext")
        else:
            out.append(f"{marker:02X}")
    return out


def test_segments_go_after_jfif_and_replace_old_exif():
    data = jpeg_sample("jfif-icc-exif")  # Pillow writes APP0 JFIF, APP1 Exif, APP2 ICC, ...
    assert kinds(data)[:3] == ["E0", "exif", "E2"]
    out = join(jpeg.embed(data, payload()))
    assert kinds(out)[:4] == ["E0", "exif", "xmp", "E2"]
    assert kinds(out).count("exif") == 1
    assert COM not in [m for m, _ in jpeg_segments(out)[0]]
    assert jpeg.extract(out).exif == tiff()


def test_everything_but_our_segments_is_byte_identical():
    data = jpeg_sample("jfif-icc-exif")
    out = join(jpeg.embed(data, payload()))
    (segs_in, scan_in), (segs_out, scan_out) = jpeg_segments(data), jpeg_segments(out)
    assert scan_out == scan_in
    theirs = [s for s in segs_in if not (s[0] == APP1 and s[1].startswith(b"Exif"))]
    ours_dropped = [
        s
        for s in segs_out
        if not (s[0] == APP1 and (s[1].startswith(b"Exif") or s[1].startswith(b"http://ns")))
    ]
    assert ours_dropped == theirs


def test_without_exif_in_the_payload_the_files_exif_and_orientation_stay():
    from PIL import Image

    data = jpeg_sample("jfif-icc-exif")
    p = Payload(parameters=None, exif=None, xmp=xmp_packet("x"), text={})
    out = join(jpeg.embed(data, p))
    assert kinds(out).count("exif") == 1
    with Image.open(io.BytesIO(out)) as im:
        assert im.getexif()[0x0112] == 6
        assert im.info["icc_profile"] == icc_profile()


def test_no_jfif_puts_our_segments_first():
    data = jpeg_sample("jfif-icc-exif")
    segs, scan = jpeg_segments(data)
    no_jfif = b"\xff\xd8" + b"".join(
        bytes((0xFF, m)) + struct.pack(">H", len(d) + 2) + d for m, d in segs if m != APP0
    )
    no_jfif += scan
    out = join(jpeg.embed(no_jfif, payload()))
    assert kinds(out)[:2] == ["exif", "xmp"]


def test_long_xmp_becomes_extended_xmp_and_is_reassembled(tmp_path):
    record = "长提示词 " * 30000  # ~ 390 KB of UTF-8 in the record
    p = payload("short prompt 猫", xmp_extra=record)
    assert len(p.xmp) > jpeg.MAX_XMP_STANDARD
    out = join(jpeg.embed(jpeg_sample("plain"), p))
    k = kinds(out)
    assert k.count("xmp") == 1 and k.count("xmp-ext") >= 6
    raw = jpeg.extract(out)
    import xml.etree.ElementTree as ET

    root = ET.fromstring(raw.xmp)
    ns = "{https://dsexport.org/ns/1.0/}"
    assert root.find(f".//{ns}record").text == record
    # The standard packet keeps the small essentials where every reader looks.
    from PIL import Image

    with Image.open(io.BytesIO(out)) as im:
        standard = im.info["xmp"]
    assert b"HasExtendedXMP" in standard
    assert b"trainedAlgorithmicMedia" in standard
    assert "short prompt 猫".encode() in standard
    report = exiftool(tmp_path, out, "jpg", "-validate", "-warning", "-error", "-a")
    assert "Validate                        : OK" in report, report
    tags = exiftool_json(tmp_path, out, "jpg")
    assert tags["XMP-dc:Description"] == "short prompt 猫"
    # ExifTool merged the extended packet: it reports the record's full UTF-8 size.
    assert f"{len(record.encode())} bytes" in tags["XMP-dsexport:Record"]


def test_extended_xmp_with_a_wrong_guid_is_ignored():
    p = payload("x", xmp_extra="y" * 100_000)
    out = bytearray(join(jpeg.embed(jpeg_sample("plain"), p)))
    at = out.index(jpeg.XMP_EXT_HEADER) + len(jpeg.XMP_EXT_HEADER)
    out[at : at + 32] = b"0" * 32
    raw = jpeg.extract(bytes(out))
    assert b"y" * 1000 not in raw.xmp
    assert b"HasExtendedXMP" in raw.xmp


def test_exif_over_one_segment_is_too_large():
    p = Payload(parameters=None, exif=b"MM\0*" + b"\0" * 70000, xmp=b"<x/>", text={})
    with pytest.raises(TooLarge, match="XMP"):
        jpeg.embed(jpeg_sample("plain"), p)


def test_probe_reads_size_depth_and_c2pa():
    data = jpeg_sample("progressive")
    info = jpeg.probe(data)
    assert (info.width, info.height, info.bit_depth, info.has_alpha) == (48, 32, 8, False)
    jumbf = b"JP\0\x01\0\0\0\x01" + struct.pack(">I", 24) + b"jumb" + b"\0" * 16 + b"c2pa"
    signed = data[:2] + b"\xff\xeb" + struct.pack(">H", len(jumbf) + 2) + jumbf + data[2:]
    assert jpeg.probe(signed).has_c2pa is True


def _with_segments(data: bytes, *extra: tuple[int, bytes]) -> bytes:
    segs, scan = jpeg_segments(data)
    segs = segs[:1] + list(extra) + segs[1:]
    body = b"".join(bytes((0xFF, m)) + struct.pack(">H", len(d) + 2) + d for m, d in segs)
    return b"\xff\xd8" + body + scan


def test_mpo_segments_before_the_mpf_index_keep_its_offsets_valid():
    from PIL import Image

    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:])
    data = buf.getvalue()
    out = join(jpeg.embed(data, payload()))
    with Image.open(io.BytesIO(out)) as im:
        assert im.n_frames == 2
        im.seek(1)
        assert im.convert("RGB").getpixel((8, 8))[2] > 200  # the second picture is still blue


def test_metadata_after_the_mpf_index_is_left_alone():
    mpf = (APP2, b"MPF\0MM\0*\0\0\0\x08\0\0")
    late_xmp = (APP1, jpeg.XMP_HEADER + b"<x/>")
    data = _with_segments(jpeg_sample("plain"), mpf, late_xmp)
    with pytest.raises(UnsupportedFormat, match="multi-picture"):
        jpeg.embed(data, payload())


def test_trailing_data_after_eoi_is_kept():
    data = jpeg_sample("plain") + b"ftypmp42 motion photo video"
    out = join(jpeg.embed(data, payload()))
    assert out.endswith(b"\xff\xd9ftypmp42 motion photo video")
    assert jpeg.probe(data).width == 48


def test_missing_eoi_or_sos_is_corrupt():
    data = jpeg_sample("plain")
    with pytest.raises(CorruptImage, match="EOI"):
        jpeg.probe(data[:-2])
    segs, _ = jpeg_segments(data)
    header_only = b"\xff\xd8" + b"".join(
        bytes((0xFF, m)) + struct.pack(">H", len(d) + 2) + d for m, d in segs
    )
    with pytest.raises(CorruptImage):
        jpeg.probe(header_only + b"\xff\xd9")


def test_extract_reads_comments():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", comment="hello 世界".encode())
    assert jpeg.extract(buf.getvalue()).text == {"comment": "hello 世界"}


@pytest.mark.parametrize("kind", ["jfif-icc-exif", "plain", "progressive", "gray"])
def test_exiftool_validates_and_reads_exif_and_xmp(tmp_path, kind):
    out = join(jpeg.embed(jpeg_sample(kind), payload("猫 🐱 שלום")))
    report = exiftool(tmp_path, out, "jpg", "-validate", "-warning", "-error", "-a")
    assert "Validate                        : OK" in report, report
    tags = exiftool_json(tmp_path, out, "jpg")
    assert tags["IFD0:ImageDescription"] == "a cat"
    assert tags["XMP-dc:Description"] == "猫 🐱 שלום"
    if kind == "jfif-icc-exif":
        assert "ICC-header:ProfileVersion" in tags


def test_extract_reports_frame_size_and_a_real_jfif_density_only():
    from PIL import Image

    def encoded(**kw) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (33, 21), "red").save(buf, "JPEG", **kw)
        return buf.getvalue()

    plain = encoded()  # Pillow's JFIF: aspect ratio 1:1, no unit
    assert jpeg.extract(plain).pixel_size == (33, 21)
    assert jpeg.extract(plain).density is None
    assert jpeg.extract(encoded(dpi=(300, 300))).density == (300, 300, 2)
