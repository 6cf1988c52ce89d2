"""The save engine end to end through the Python API: losslessness, metadata, refusals, dedupe."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest

from dsexport import SaveOptions, embed_file, inspect, read_metadata, save_image
from dsexport.errors import CorruptImage, ForbiddenPath, IoError, UnsupportedFormat
from imagebytes import image_stream, make_image, pixels, png_chunks

PROMPTS = {
    "latin": "a cat in a red scarf, watercolour",
    "cjk": "一只戴着红围巾的猫，水彩画",
    "emoji": "a cat 🐱 wearing a scarf 🧣✨",
    "rtl": "قطة ترتدي وشاحًا أحمر",
    "newlines": "line one\nline two\n\n  indented: with, commas",
}


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def out(home: Path) -> Path:
    return home / "Pictures" / "DeepSeek"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_original_mode_keeps_image_data_byte_identical(home, out, fmt):
    src = make_image(fmt, quality=80) if fmt != "png" else make_image("png")
    result = save_image(src, {"prompt": PROMPTS["cjk"], "seed": 7})
    saved = Path(result.path).read_bytes()
    assert Path(result.path).is_relative_to(out)
    assert result.format == fmt
    assert (
        Path(result.path).suffix
        in {"png": (".png",), "jpeg": (".jpg", ".jpeg"), "webp": (".webp",)}[fmt]
    )
    assert saved != src, "metadata must have been inserted"
    assert image_stream(fmt, saved) == image_stream(fmt, src)
    assert pixels(saved) == pixels(src)
    meta = read_metadata(result.path)
    assert meta.prompt == PROMPTS["cjk"] and meta.seed == 7


@pytest.mark.parametrize("name", list(PROMPTS))
@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif"])
def test_unicode_prompts_round_trip_exactly(home, fmt, name):
    src = make_image(fmt)
    result = save_image(src, {"prompt": PROMPTS[name], "negative_prompt": "blurry, 模糊"})
    meta = read_metadata(result.path)
    assert meta.prompt == PROMPTS[name]
    assert meta.negative_prompt == "blurry, 模糊"


def test_png_metadata_sits_before_idat_and_png_keeps_other_chunks(home):
    src = make_image("png")
    saved = Path(save_image(src, {"prompt": "x"}).path).read_bytes()
    types = [t for t, _ in png_chunks(saved)]
    assert types.index(b"IDAT") > max(i for i, t in enumerate(types) if t in (b"tEXt", b"iTXt"))
    original_types = [t for t, _ in png_chunks(src)]
    assert [t for t in types if t not in (b"tEXt", b"iTXt")] == original_types


def test_saving_the_same_image_again_is_a_duplicate(home, out):
    src = make_image("png")
    first = save_image(src, {"prompt": "a"})
    second = save_image(src, {"prompt": "a"})
    assert second.duplicate and second.path == first.path
    assert len([p for p in files_in(out) if p.suffix == ".png"]) == 1


def test_same_name_different_image_gets_a_numbered_name(home, out):
    a = save_image(
        make_image("png", size=(10, 10)), {"prompt": "same"}, SaveOptions(name_template="fixed")
    )
    b = save_image(
        make_image("png", size=(11, 10)), {"prompt": "same"}, SaveOptions(name_template="fixed")
    )
    assert a.path != b.path and not b.duplicate
    assert Path(a.path).exists() and Path(b.path).exists()


def test_html_error_page_is_refused_and_nothing_written(home, out):
    page = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    with pytest.raises(UnsupportedFormat, match=r"(?i)html"):
        save_image(page, {"prompt": "x"})
    assert not out.exists() or files_in(out) == []


def test_truncated_png_is_refused_and_nothing_written(home, out):
    src = make_image("png")
    with pytest.raises(CorruptImage):
        save_image(src[: len(src) // 2], {"prompt": "x"})
    assert not out.exists() or files_in(out) == []


def _png_with_size(w: int, h: int) -> bytes:
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(home, out):
    with pytest.raises(CorruptImage, match=r"bomb|pixels"):
        save_image(_png_with_size(100_000, 100_000), {"prompt": "x"})
    assert not out.exists() or files_in(out) == []


def test_convert_png_with_alpha_to_jpeg_flattens_and_says_so(home):
    src = make_image("png", mode="RGBA")
    result = save_image(src, {"prompt": "alpha"}, SaveOptions(format="jpeg", quality=90))
    assert result.format == "jpeg" and result.path.endswith((".jpg", ".jpeg"))
    assert any("transparen" in w for w in result.warnings)
    from PIL import Image

    with Image.open(result.path) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
    assert read_metadata(result.path).prompt == "alpha"


def test_convert_to_lossless_webp_keeps_pixels(home):
    src = make_image("png", mode="RGBA")
    result = save_image(src, {"prompt": "w"}, SaveOptions(format="webp"))
    from PIL import Image

    with Image.open(io.BytesIO(src)) as a, Image.open(result.path) as b:
        assert b.format == "WEBP"
        assert a.convert("RGBA").tobytes() == b.convert("RGBA").tobytes()


def test_convert_animated_gif_to_webp_keeps_frames(home):
    from PIL import Image

    frames = [Image.new("RGB", (16, 16), (i * 60, 0, 0)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    result = save_image(buf.getvalue(), {"prompt": "anim"}, SaveOptions(format="webp"))
    with Image.open(result.path) as im:
        assert im.n_frames == 3
    assert read_metadata(result.path).prompt == "anim"


def test_embed_fields_leave_out_private_fields(home):
    url = "https://chat.deepseek.com/a/chat/s/secret-conversation-id"
    result = save_image(
        make_image("png"),
        {"prompt": "p", "page_url": url},
        SaveOptions(embed_fields=("prompt",)),
    )
    data = Path(result.path).read_bytes()
    assert b"secret-conversation-id" not in data
    assert read_metadata(result.path).prompt == "p"


def test_sidecars_are_written_beside_the_image(home):
    result = save_image(
        make_image("png"), {"prompt": "side", "seed": 3}, SaveOptions(sidecars=("json", "txt"))
    )
    image = Path(result.path)
    assert {Path(s).suffix for s in result.sidecars} == {".json", ".txt"}
    for s in result.sidecars:
        assert Path(s).parent == image.parent and Path(s).stem == image.stem
    assert "side" in image.with_suffix(".txt").read_text("utf-8")


def _with_c2pa_chunk(png: bytes) -> bytes:
    body = b"jumb" + b"\x00" * 16 + b"c2pa"
    chunk = struct.pack(">I", len(body)) + b"caBX" + body
    chunk += struct.pack(">I", zlib.crc32(b"caBX" + body) & 0xFFFFFFFF)
    return png[:33] + chunk + png[33:]


def test_c2pa_file_is_left_untouched_with_a_sidecar(home):
    src = _with_c2pa_chunk(make_image("png"))
    result = save_image(src, {"prompt": "signed"})
    assert Path(result.path).read_bytes() == src
    assert result.metadata_in == "sidecar"
    assert any("C2PA" in w for w in result.warnings)
    assert any(s.endswith(".json") for s in result.sidecars)


def test_svg_is_kept_as_text_with_metadata(home):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
        b'<rect width="5" height="5"/></svg>'
    )
    result = save_image(svg, {"prompt": "graph TD; A-->B", "origin": "diagram"})
    assert result.path.endswith(".svg")
    text = Path(result.path).read_text("utf-8")
    assert "<rect" in text and "<metadata" in text
    assert read_metadata(result.path).prompt == "graph TD; A-->B"


def test_extension_comes_from_the_bytes_not_the_request(home, tmp_path):
    mislabelled = tmp_path / "photo.png"
    mislabelled.write_bytes(make_image("jpeg"))
    result = save_image(mislabelled, {"prompt": "x"})
    assert Path(result.path).suffix in (".jpg", ".jpeg")


def test_embed_file_in_place_inside_allowed_folder(home, tmp_path):
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    target = downloads / "image.webp"
    src = make_image("webp")
    target.write_bytes(src)
    before = sorted(os.listdir(downloads))
    result = embed_file(target, {"prompt": "downloaded"}, allowed_roots=[downloads])
    assert result.path == str(target)
    assert sorted(os.listdir(downloads)) == before
    assert image_stream("webp", target.read_bytes()) == image_stream("webp", src)
    assert read_metadata(target).prompt == "downloaded"


def test_embed_file_refuses_paths_outside_allowed_folders(home, tmp_path):
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    victim = outside / "a.png"
    victim.write_bytes(make_image("png"))
    before = victim.read_bytes()
    with pytest.raises(ForbiddenPath):
        embed_file(victim, {"prompt": "x"}, allowed_roots=[inside])
    with pytest.raises(ForbiddenPath):
        embed_file(inside / ".." / "out" / "a.png", {"prompt": "x"}, allowed_roots=[inside])
    link = inside / "link.png"
    link.symlink_to(victim)
    with pytest.raises((ForbiddenPath, UnsupportedFormat, OSError)):
        embed_file(link, {"prompt": "x"}, allowed_roots=[inside])
    assert victim.read_bytes() == before


def test_inspect_reports_format_and_convention(home):
    result = save_image(make_image("png", size=(30, 20)), {"prompt": "i", "seed": 5})
    info = inspect(result.path)
    assert (info.format, info.width, info.height) == ("png", 30, 20)
    assert info.convention == "dsexport"
    assert info.metadata.seed == 5


def test_missing_output_folder_is_created_but_not_its_missing_parents(home, tmp_path):
    drive = tmp_path / "media" / "usb"  # an unmounted drive: the mount point itself is gone
    with pytest.raises(IoError, match="does not exist"):
        save_image(make_image("png"), {"prompt": "x"}, SaveOptions(output_dir=str(drive / "out")))
    assert not drive.exists()
    (tmp_path / "media").mkdir()
    drive.mkdir()
    result = save_image(
        make_image("png"), {"prompt": "x"}, SaveOptions(output_dir=str(drive / "out"))
    )
    assert Path(result.path).is_relative_to(drive / "out")


def test_default_output_folder_is_created_with_its_parents(home):
    from dsexport import paths

    assert not paths.default_output_dir().parent.exists()
    result = save_image(make_image("png"), {"prompt": "x"})
    assert Path(result.path).is_relative_to(paths.default_output_dir())
