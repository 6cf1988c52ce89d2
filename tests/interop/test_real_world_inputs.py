"""Real-world inputs saved through the pipeline and read back with the tools people use.

The inputs are made here: a camera JPEG (little-endian EXIF, a Canon-style maker note whose
offsets count from the TIFF header, GPS, a thumbnail, "OLYMPUS DIGITAL CAMERA" as description,
the date it was taken), progressive and CMYK JPEGs, APNG, animated WebP and GIF, and files that
already carry XMP and IPTC written by ExifTool. For each: the picture bytes are unchanged, the
person's metadata is all still there and valid (``exiftool -validate -warning`` finds nothing
the input did not have; exiv2 reads it without complaint), and every reader finds ours.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from readers import exiv2, xmp_sdk

from dsexport import save_image
from dsexport.formats import FORMATS
from dsexport.model import SaveOptions
from dsexport.pipeline import inspect
from imagebytes import camera_jpeg, make_image
from testutil import require_module, require_tool

PROMPT = "一只猫 in the park, 午后"


def _frames(mode: str = "RGB"):
    from PIL import Image

    return [Image.new(mode, (40, 30), (40 * i, 200 - 40 * i, 90)) for i in range(4)]


def _save(im, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def apng() -> bytes:
    frames = _frames()
    return _save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=80, loop=0)


def animated_webp() -> bytes:
    frames = _frames()
    return _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=80)


def animated_gif() -> bytes:
    frames = [f.convert("P") for f in _frames()]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def cmyk_jpeg() -> bytes:
    from PIL import Image

    return _save(Image.new("CMYK", (40, 30), (10, 200, 30, 5)), "JPEG", quality=90)


def with_existing_metadata(tmp_path: Path, fmt: str) -> bytes:
    """A file another program already described: XMP (dc, photoshop) and, in JPEG, IPTC."""
    exiftool = require_tool("exiftool")
    path = tmp_path / f"tagged.{FORMATS[fmt].EXTENSION}"
    path.write_bytes(make_image(fmt, size=(40, 30)))
    args = [
        "-XMP-dc:Description=described by someone else",
        "-XMP-dc:Creator=Ana Lima",
        "-XMP-photoshop:DateCreated=2020:05:06 07:08:09",
        "-XMP-dc:Subject=cats",
    ]
    if fmt == "jpeg":
        args += ["-IPTC:Caption-Abstract=described by someone else", "-IPTC:By-line=Ana Lima"]
    subprocess.run([exiftool, "-q", "-overwrite_original", *args, str(path)], check=True)
    return path.read_bytes()


INPUTS = {
    "camera-jpeg": lambda tmp: camera_jpeg(),
    "camera-jpeg-no-maker-note": lambda tmp: camera_jpeg(with_maker_note=False, order=">"),
    "progressive-jpeg": lambda tmp: make_image("jpeg", size=(40, 30), progressive=True),
    "cmyk-jpeg": lambda tmp: cmyk_jpeg(),
    "apng": lambda tmp: apng(),
    "animated-webp": lambda tmp: animated_webp(),
    "animated-gif": lambda tmp: animated_gif(),
    "png-with-xmp": lambda tmp: with_existing_metadata(tmp, "png"),
    "jpeg-with-xmp-iptc": lambda tmp: with_existing_metadata(tmp, "jpeg"),
    "webp-with-xmp": lambda tmp: with_existing_metadata(tmp, "webp"),
}


def validate(path: Path) -> list[str]:
    exiftool = require_tool("exiftool")
    out = subprocess.run(
        [exiftool, "-validate", "-warning", "-a", "-j", str(path)], capture_output=True
    )
    found = json.loads(out.stdout)[0]
    return sorted(str(v) for k, v in found.items() if k.startswith("Warning"))


def exiftool_tags(path: Path, *args: str) -> dict:
    exiftool = require_tool("exiftool")
    out = subprocess.run([exiftool, "-j", "-G1", "-a", *args, str(path)], capture_output=True)
    tags = json.loads(out.stdout)[0]
    return {k: v for k, v in tags.items() if not k.startswith(("System:", "File:", "SourceFile"))}


def exiv2_lines(path: Path) -> tuple[list[str], str]:
    tool = require_tool("exiv2")
    out = subprocess.run([tool, "-pa", str(path)], capture_output=True)
    return out.stdout.decode("utf-8", "replace").splitlines(), out.stderr.decode()


@pytest.fixture
def saved(home, tmp_path):
    def save(kind: str, meta: dict | None = None) -> tuple[Path, Path]:
        data = INPUTS[kind](tmp_path)
        fmt = next(n for n, m in FORMATS.items() if m.accepts(data[:4096]))
        source = tmp_path / f"input.{FORMATS[fmt].EXTENSION}"
        source.write_bytes(data)
        result = save_image(
            data,
            meta or {"prompt": PROMPT, "origin": "uploaded"},
            SaveOptions(output_dir=str(tmp_path / "out")),
        )
        return source, Path(result.path)

    (tmp_path / "out").mkdir()
    return save


@pytest.mark.parametrize("kind", INPUTS)
def test_picture_unchanged_and_validation_adds_nothing(saved, kind):
    source, out = saved(kind)
    fmt = inspect(out).format
    module = FORMATS[fmt]
    assert module.content_digest(out.read_bytes()) == module.content_digest(source.read_bytes())
    assert inspect(out).metadata.prompt == PROMPT
    assert inspect(out).animated == inspect(source).animated
    assert set(validate(out)) <= set(validate(source)), (validate(source), validate(out))


@pytest.mark.parametrize("kind", INPUTS)
def test_every_tag_the_input_had_is_still_there(saved, kind):
    source, out = saved(kind)
    before, after = exiftool_tags(source), exiftool_tags(out)
    ours = {"Description", "ImageDescription", "UserComment", "XPComment", "XPTitle"}
    # Where a structure sits and who wrote the XMP last are not the person's data.
    structural = {"ThumbnailOffset", "ExifOffset", "GPSInfo", "InteropOffset", "WebP_Flags"}
    structural |= {"XMPToolkit"}
    for key, value in before.items():
        group, _, name = key.partition(":")
        if name in ours | structural or group in ("Composite", "ExifTool"):
            continue
        assert after.get(key) == value, (key, value, after.get(key))


@pytest.mark.parametrize("kind", [k for k in INPUTS if k != "animated-gif"])  # no GIF in exiv2
def test_exiv2_reads_it_without_new_complaints(saved, kind):
    source, out = saved(kind)
    _, errors_before = exiv2_lines(source)
    _, errors = exiv2_lines(out)
    assert errors == errors_before
    assert exiv2(out).prompt == PROMPT


def test_camera_photo_keeps_its_maker_note_dates_and_shows_the_prompt(saved):
    source, out = saved("camera-jpeg")
    canon_args = ("-Canon:all", "-MakerNotes:all")
    assert exiftool_tags(out, *canon_args) == exiftool_tags(source, *canon_args)
    assert exiftool_tags(out, *canon_args)["Canon:CanonFirmwareVersion"] == (
        "Firmware Version 2.1.1"
    )
    lines, _ = exiv2_lines(out)
    canon = [line for line in lines if line.startswith("Exif.Canon")]
    assert canon == [line for line in exiv2_lines(source)[0] if line.startswith("Exif.Canon")]
    assert any("Firmware Version 2.1.1" in line for line in canon)
    # When the photo was taken is the photo's, not the save time.
    tags = exiftool_tags(out)
    assert tags["ExifIFD:DateTimeOriginal"] == "2019:07:14 16:03:27"
    assert tags["ExifIFD:CreateDate"] == "2019:07:14 16:03:27"
    assert tags["IFD0:ModifyDate"] == "2019:07:14 16:03:27"
    assert "XMP-xmp:CreateDate" not in tags
    # UserComment in the EXIF's own byte order: exiv2 (digiKam, gThumb, Shotwell) reads it.
    comment = next(line for line in lines if line.startswith("Exif.Photo.UserComment"))
    assert comment.endswith(f"charset=Unicode {PROMPT}")
    # MWG readers (Lightroom, Bridge) take EXIF's description first: it is the prompt now.
    exiftool = require_tool("exiftool")
    mwg = subprocess.run(
        [exiftool, "-use", "MWG", "-j", "-MWG:Description", str(out)], capture_output=True
    )
    assert json.loads(mwg.stdout)[0]["Description"] == PROMPT
    # The thumbnail and GPS position are the camera's.
    assert tags["GPS:GPSLatitude"] == exiftool_tags(source)["GPS:GPSLatitude"]
    thumb = subprocess.run([exiftool, "-b", "-ThumbnailImage", str(out)], capture_output=True)
    orig = subprocess.run([exiftool, "-b", "-ThumbnailImage", str(source)], capture_output=True)
    assert thumb.stdout == orig.stdout and thumb.stdout.startswith(b"\xff\xd8")


def test_a_generated_image_gets_a_date_where_it_had_none(saved):
    _, out = saved(
        "progressive-jpeg",
        {"prompt": "a fox", "captured_at": "2026-11-25T09:14:03+08:00", "seed": 7},
    )
    tags = exiftool_tags(out)
    assert tags["ExifIFD:DateTimeOriginal"] == "2026:11:25 09:14:03"
    assert tags["ExifIFD:OffsetTimeOriginal"] == "+08:00"
    assert tags["XMP-xmp:CreateDate"] == "2026:11:25 09:14:03+08:00"


def test_existing_xmp_date_and_iptc_are_kept(saved):
    _, out = saved("jpeg-with-xmp-iptc")
    tags = exiftool_tags(out)
    assert tags["XMP-photoshop:DateCreated"] == "2020:05:06 07:08:09"
    assert "XMP-xmp:CreateDate" not in tags
    assert tags["XMP-dc:Creator"] == "Ana Lima"
    assert tags["IPTC:By-line"] == "Ana Lima"
    assert tags["XMP-dc:Description"] == PROMPT
    exiftool = require_tool("exiftool")
    mwg = subprocess.run(
        [exiftool, "-use", "MWG", "-j", "-MWG:Description", str(out)], capture_output=True
    )
    assert json.loads(mwg.stdout)[0]["Description"] == PROMPT


@pytest.mark.parametrize(
    "kind",
    ["camera-jpeg", "progressive-jpeg", "cmyk-jpeg", "apng", "animated-gif", "png-with-xmp"],
)
def test_the_xmp_sdk_reads_our_xmp(saved, kind):
    _, out = saved(kind)
    assert xmp_sdk(out).prompt == PROMPT


def test_the_xmp_sdk_reads_webp_xmp_only_when_it_skips_exif(saved, tmp_path):
    """Debian's exempi (2.6) parses a WebP's EXIF chunk from its seventh byte
    (hfiguiere/exempi XMPFiles/source/FileHandlers/WEBP_Handler.cpp: ``ParseMemoryStream(
    exifChunk->data.data() + 6, …)``), as if it began with ``Exif\\0\\0``; the WebP container
    specification and every other reader put the TIFF header first, so any WebP with EXIF
    (here one ExifTool wrote) makes exempi give up on the whole file. Opened for XMP only, it
    reads ours. (An animated WebP it cannot open at all, whoever wrote it: "File has no image
    bitstream", since its WebP handler knows no ANMF frames.)"""
    require_module("libxmp")
    from libxmp import XMPFiles, consts

    _, out = saved("webp-with-xmp")
    exiftool = require_tool("exiftool")
    theirs = tmp_path / "exiftool.webp"
    theirs.write_bytes(make_image("webp", size=(20, 20)))
    subprocess.run(
        [exiftool, "-q", "-overwrite_original", "-Artist=x", "-XMP-dc:Title=t", str(theirs)],
        check=True,
    )
    from libxmp import XMPError

    for path in (out, theirs):
        try:
            files = XMPFiles(file_path=str(path))
        except XMPError:
            continue  # "bad file format": the same failure, reported at open
        assert files.get_xmp() is None
        files.close_file()
    files = XMPFiles(file_path=str(out), open_onlyxmp=True)
    packet = files.get_xmp()
    files.close_file()
    assert packet.get_localized_text(consts.XMP_NS_DC, "description", None, "x-default") == PROMPT
