"""EXIF: our TIFF writer, merging into existing EXIF, the 64 KB limit, and outside readers."""

from __future__ import annotations

import io
import json
import struct
import subprocess

import piexif
import piexif.helper
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsexport.conventions import a1111, exif
from dsexport.model import Metadata
from testutil import require_tool

SPECIAL = list("一只猫🐱👨‍👩‍👧שלוםمرحبا\n\t\",:'\\ {}<>&Üß付")
TEXT = st.one_of(st.text(min_size=1), st.text(alphabet=st.sampled_from(SPECIAL), min_size=1))

META = Metadata(
    prompt='a cat, 一只猫\nשלום, "quoted": yes',
    negative_prompt="blurry",
    steps=20,
    sampler="Euler a",
    seed=42,
    model="sdxl",
    conversation_title="猫 chat",
    captured_at="2026-11-25T09:14:03+08:00",
    tool="dsexport 0.1.0",
)


def jpeg_with_app1(tiff: bytes) -> bytes:
    """A minimal Pillow JPEG with ``tiff`` in an Exif APP1 right after the JFIF APP0."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    data = buf.getvalue()
    at = 2
    if data[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", data[4:6])[0]
    app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\0\0" + tiff
    return data[:at] + app1 + data[at:]


def exiftool_json(path) -> dict:
    exiftool = require_tool("exiftool")
    out = subprocess.run(
        [exiftool, "-j", "-G1", "-a", "-b", str(path)], check=True, capture_output=True
    )
    return json.loads(out.stdout)[0]


def validate_warnings(path) -> list[str]:
    """``exiftool -validate -warning -a`` warnings, minus "Missing required …" tags.

    We do not write XResolution, ColorSpace and friends: we would have to make their values up.
    """
    exiftool = require_tool("exiftool")
    out = subprocess.run(
        [exiftool, "-validate", "-warning", "-a", "-s", "-j", str(path)],
        check=True,
        capture_output=True,
    )
    found = json.loads(out.stdout)[0]
    warnings = [v for k, v in found.items() if k.startswith("Warning")]
    return [w for w in warnings if "Missing required" not in w]


def test_writes_the_documented_tags_with_the_right_types():
    tiff = exif.parse(exif.encode(META, a1111.encode(META)))
    assert tiff.order == ">"
    ifd0 = tiff.ifd0.entries
    assert exif.TAG_MAKE not in ifd0 and exif.TAG_MODEL not in ifd0
    assert exif.TAG_IMAGE_DESCRIPTION not in ifd0  # the prompt is not ASCII
    assert ifd0[exif.TAG_XP_TITLE].type == exif.BYTE
    assert ifd0[exif.TAG_XP_TITLE].data == "猫 chat\0".encode("utf-16-le")
    assert ifd0[exif.TAG_XP_COMMENT].data == (META.prompt + "\0").encode("utf-16-le")
    assert ifd0[exif.TAG_SOFTWARE].data == b"dsexport 0.1.0\0"
    assert ifd0[exif.TAG_DATETIME].data == b"2026:11:25 09:14:03\0"
    sub = tiff.ifd0.subs[exif.TAG_EXIF_IFD].entries
    comment = sub[exif.TAG_USER_COMMENT]
    assert comment.type == exif.UNDEFINED
    assert comment.data == b"UNICODE\0" + a1111.encode(META).encode("utf-16-be")
    assert sub[exif.TAG_DATETIME_ORIGINAL].data == b"2026:11:25 09:14:03\0"
    assert sub[exif.TAG_OFFSET_TIME_ORIGINAL].data == b"+08:00\0"


def test_image_description_only_for_plain_ascii_prompts():
    ascii_meta = Metadata(prompt="a cat on a sofa")
    tiff = exif.parse(exif.encode(ascii_meta, a1111.encode(ascii_meta)))
    assert tiff.ifd0.entries[exif.TAG_IMAGE_DESCRIPTION].data == b"a cat on a sofa\0"
    assert tiff.ifd0.entries[exif.TAG_XP_TITLE].data == "a cat on a sofa\0".encode("utf-16-le")


@settings(max_examples=200)
@given(prompt=TEXT, title=st.none() | TEXT)
def test_piexif_and_our_decoder_read_back_unicode_exactly(prompt, title):
    meta = Metadata(prompt=prompt, conversation_title=title, steps=1, sampler="x", seed=2)
    parameters = a1111.encode(meta)
    tiff = exif.encode(meta, parameters)
    loaded = piexif.load(b"Exif\0\0" + tiff)
    comment = loaded["Exif"][piexif.ExifIFD.UserComment]
    assert piexif.helper.UserComment.load(comment) == parameters
    assert exif.fields(tiff).get("XPComment", "") == prompt.split("\0")[0]
    decoded = exif.decode(tiff)
    assert decoded.prompt == (a1111.decode(parameters).prompt or prompt.split("\0")[0] or None)
    assert decoded.seed == 2


def test_exiftool_validates_and_reads_our_jpeg(tmp_path):
    path = tmp_path / "ours.jpg"
    path.write_bytes(jpeg_with_app1(exif.encode(META, a1111.encode(META))))
    assert validate_warnings(path) == []
    tags = exiftool_json(path)
    assert tags["IFD0:XPTitle"] == "猫 chat"
    # No emoji here: ExifTool 12.57 decodes XP* as UCS-2 and turns a surrogate pair into
    # invalid UTF-8. Windows and our decoder read it fine (see the hypothesis test).
    assert tags["IFD0:XPComment"] == META.prompt
    assert tags["ExifIFD:UserComment"] == a1111.encode(META)
    assert tags["ExifIFD:OffsetTimeOriginal"] == "+08:00"
    assert "IFD0:Make" not in tags and "IFD0:Model" not in tags


def _camera_exif_little_endian() -> bytes:
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    camera = Image.Exif()
    camera.endian = "<"
    camera[0x0112] = 6  # Orientation: rotate 90 CW
    camera[0x010F] = "Canon"
    camera[0x0110] = "EOS 5D"
    camera[0x010E] = "old description"
    sub = camera.get_ifd(0x8769)
    sub[0x829A] = IFDRational(1, 250)  # ExposureTime
    sub[0x9286] = b"ASCII\0\0\0old comment"
    gps = camera.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (IFDRational(52, 1), IFDRational(31, 1), IFDRational(25, 2))
    data = camera.tobytes()[6:]  # Pillow prefixes "Exif\0\0"
    assert data[:4] == b"II*\0"
    return data


def test_merge_keeps_camera_tags_in_their_byte_order_and_replaces_ours(tmp_path):
    camera = _camera_exif_little_endian()
    merged = exif.encode(META, a1111.encode(META), camera)
    assert merged[:4] == b"II*\0"
    before = piexif.load(b"Exif\0\0" + camera)
    loaded = piexif.load(b"Exif\0\0" + merged)
    ours = {piexif.ExifIFD.UserComment, piexif.ExifIFD.ExifVersion}
    ours |= {piexif.ExifIFD.DateTimeOriginal, piexif.ExifIFD.OffsetTimeOriginal}
    ours |= {piexif.ImageIFD.ImageDescription}
    for ifd in ("0th", "Exif", "GPS"):
        for tag, value in before[ifd].items():
            if tag not in ours and tag not in (0x8769, 0x8825):
                assert loaded[ifd][tag] == value, (ifd, hex(tag))
    assert loaded["0th"][piexif.ImageIFD.Orientation] == 6
    assert loaded["0th"][piexif.ImageIFD.Make] == b"Canon"
    assert loaded["GPS"][piexif.GPSIFD.GPSLatitudeRef] == b"N"
    # UserComment in the byte order of the EXIF it sits in: little-endian UTF-16 here.
    comment = loaded["Exif"][piexif.ExifIFD.UserComment]
    assert comment == b"UNICODE\0" + a1111.encode(META).encode("utf-16-le")
    assert exif.fields(merged)["UserComment"] == a1111.encode(META)
    # The camera's description gives way to the prompt (UTF-8, as MWG recommends), so MWG
    # readers, which prefer the EXIF description, show the prompt.
    assert loaded["0th"][piexif.ImageIFD.ImageDescription] == META.prompt.encode()
    path = tmp_path / "merged.jpg"
    path.write_bytes(jpeg_with_app1(merged))
    assert validate_warnings(path) == []
    tags = exiftool_json(path)
    assert tags["IFD0:Orientation"] == "Rotate 90 CW"
    assert tags["ExifIFD:UserComment"] == a1111.encode(META)


def test_merge_keeps_the_thumbnail(tmp_path):
    from PIL import Image

    thumb = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(thumb, "JPEG")
    existing = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: 3},
            "1st": {piexif.ImageIFD.Compression: 6},
            "thumbnail": thumb.getvalue(),
        }
    )[6:]
    merged = exif.encode(META, a1111.encode(META), existing)
    loaded = piexif.load(b"Exif\0\0" + merged)
    assert loaded["thumbnail"] == piexif.load(b"Exif\0\0" + existing)["thumbnail"]
    assert loaded["0th"][piexif.ImageIFD.Orientation] == 3
    path = tmp_path / "thumb.jpg"
    path.write_bytes(jpeg_with_app1(merged))
    assert validate_warnings(path) == []


def test_parameters_none_keeps_an_existing_user_comment():
    existing = exif.encode(Metadata(), "someone else's infotext")
    merged = exif.encode(META, None, existing)
    assert exif.fields(merged)["UserComment"] == "someone else's infotext"
    assert exif.fields(merged)["XPTitle"] == "猫 chat"


def test_long_prompt_fits_64k_and_keeps_the_parameters_line_last(tmp_path):
    prompt = "一只猫，" * 12_000  # 48k characters: 96 KB as UTF-16, twice (XPComment + UserComment)
    meta = Metadata(prompt=prompt, steps=20, sampler="Euler a", seed=7, tool="dsexport 0.1.0")
    parameters = a1111.encode(meta)
    tiff = exif.encode(meta, parameters)
    assert len(tiff) <= exif.MAX_TIFF_BYTES
    found = exif.fields(tiff)
    assert "XPComment" not in found
    comment = found["UserComment"]
    assert exif.TRUNCATION_NOTE in comment
    assert comment.rsplit("\n", 1)[1] == a1111.parameters_line(meta)
    assert prompt.startswith(comment.split("\n", 1)[0])
    assert a1111.decode(comment).seed == 7
    path = tmp_path / "long.jpg"
    path.write_bytes(jpeg_with_app1(tiff))
    assert validate_warnings(path) == []


def test_long_ascii_prompt_drops_image_description_too():
    meta = Metadata(prompt="a cat " * 20_000, steps=1, sampler="s", seed=1)
    tiff = exif.encode(meta, a1111.encode(meta))
    assert len(tiff) <= exif.MAX_TIFF_BYTES
    found = exif.fields(tiff)
    assert "ImageDescription" not in found and "XPComment" not in found
    assert found["UserComment"].endswith("Steps: 1, Sampler: s, Seed: 1, Origin: generated")


def test_user_comment_decoding_guesses_little_endian_microsoft_text():
    assert exif.decode_user_comment(b"UNICODE\0" + "猫 cat".encode("utf-16-be")) == "猫 cat"
    assert exif.decode_user_comment(b"UNICODE\0" + "a cat".encode("utf-16-le")) == "a cat"
    assert exif.decode_user_comment(b"ASCII\0\0\0a cat\0") == "a cat"


def test_decode_reads_title_only_when_it_is_not_the_prompt_start():
    no_title = Metadata(prompt="a cat\nmore", steps=1, sampler="s", seed=1)
    assert exif.decode(exif.encode(no_title, a1111.encode(no_title))).conversation_title is None
    decoded = exif.decode(exif.encode(META, a1111.encode(META)))
    assert decoded.conversation_title == "猫 chat"
    assert decoded.captured_at == "2026-11-25T09:14:03+08:00"
    assert decoded.tool == "dsexport 0.1.0"


@pytest.mark.parametrize(
    "garbage",
    [b"", b"MM\0*", b"MM\0*\0\0\0\x08\xff\xff", b"II*\0\xff\xff\xff\xff", b"JUNKJUNKJUNK"],
)
def test_broken_existing_exif_is_replaced_not_fatal(garbage):
    tiff = exif.encode(META, a1111.encode(META), garbage)
    assert exif.fields(tiff)["UserComment"] == a1111.encode(META)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_merging_into_random_bytes_never_crashes(tail):
    for head in (b"MM\0*\0\0\0\x08", b"II*\0\x08\0\0\0"):
        tiff = exif.encode(META, "p", head + tail)
        assert len(tiff) <= exif.MAX_TIFF_BYTES
        exif.fields(tiff)
        exif.decode(head + tail)


def test_self_referencing_ifds_terminate():
    # IFD0 at 8 with one entry: ExifIFD pointer back to 8.
    data = b"MM\0*\0\0\0\x08" + struct.pack(">HHHII", 1, 0x8769, 4, 1, 8) + b"\0\0\0\x08"
    parsed = exif.parse(data)
    assert exif.TAG_EXIF_IFD not in parsed.ifd0.subs
