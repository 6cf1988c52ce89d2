"""Our metadata read back by the tools users have: sd-parsers, sd-prompt-reader, ExifTool,
Pillow and an A1111-style reader (the logic of A1111's ``read_info_from_image``).

Files are built the way the pipeline builds them: a Pillow-made image, then
``conventions.build_payload`` + the container module's ``embed``. Known reader bugs (see
docs/metadata.md) are not counted as ours: sd-prompt-reader 1.3.5 fails on UserComment text
with a UTF-16 low byte 0xD8–0xDF (``Ü``, ``ß``, ``付``) and on RGBA WebP.
"""

from __future__ import annotations

import io
import json
import subprocess

import pytest

from dsexport.conventions import a1111, build_payload, read
from dsexport.formats import jpeg, png, webp
from dsexport.formats.base import join
from dsexport.model import Metadata
from testutil import require_module, require_tool

MODULES = {"png": png, "jpeg": jpeg, "webp": webp}

# No character whose UTF-16 low byte is 0xD8–0xDF, so sd-prompt-reader's bug stays out of it.
FULL = Metadata(
    prompt="a cat on a sofa, 一只猫\nwarm light, 🐱",
    negative_prompt="blurry, 模糊",
    steps=28,
    sampler="DPM++ 2M Karras",
    cfg_scale=6.5,
    seed=123456789,
    width=16,
    height=16,
    model="sdxl-base",
    conversation_title="猫 chat",
    image_url="https://cdn.example/a.png?x=1,2",
    captured_at="2026-11-25T09:14:03+00:00",
    tool="dsexport 0.1.0",
)
# What a DeepSeek image usually has: no generation parameters at all.
DEEPSEEK = Metadata(
    prompt="画一只在沙发上的猫, watercolor",
    model="DeepSeek",
    width=16,
    height=16,
    conversation_title="猫",
    page_url="https://chat.deepseek.com/a/chat/s/abc",
    captured_at="2026-11-25T09:14:03+00:00",
    tool="dsexport 0.1.0",
)


def make_file(tmp_path, fmt: str, meta: Metadata, mode: str = "RGB"):
    from PIL import Image

    buf = io.BytesIO()
    save_as = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    Image.new(mode, (16, 16), "teal").save(buf, save_as)
    data = buf.getvalue()
    module = MODULES[fmt]
    out = join(module.embed(data, build_payload(meta, module.extract(data), fmt=fmt)))
    path = tmp_path / f"out.{module.EXTENSION}"
    path.write_bytes(out)
    return path


def a1111_style_read(path) -> str | None:
    """A1111's read_info_from_image: parameters, overridden by a non-empty UserComment."""
    import piexif
    import piexif.helper
    from PIL import Image

    with Image.open(path) as im:
        items = dict(im.info)
    geninfo = items.pop("parameters", None)
    if "exif" in items:
        exif = piexif.load(items["exif"])
        comment = exif.get("Exif", {}).get(piexif.ExifIFD.UserComment, b"")
        try:
            text = piexif.helper.UserComment.load(comment)
        except ValueError:
            text = comment.decode("utf8", errors="ignore")
        if text:
            geninfo = text
    return geninfo


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_sd_parsers_reads_full_parameters(tmp_path, fmt):
    sd_parsers = require_module("sd_parsers")
    from PIL import Image

    path = make_file(tmp_path, fmt, FULL)
    with Image.open(path) as im:
        result = sd_parsers.ParserManager().parse(im)
    assert result is not None
    assert result.full_prompt == FULL.prompt
    assert result.full_negative_prompt == FULL.negative_prompt
    (sampler,) = result.samplers
    assert sampler.name == "DPM++ 2M Karras"
    assert sampler.parameters == {"steps": "28", "cfg_scale": "6.5", "seed": "123456789"}
    assert sampler.model.name == "sdxl-base"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_sd_prompt_reader_reads_full_parameters(tmp_path, fmt):
    require_module("sd_prompt_reader")
    from sd_prompt_reader.image_data_reader import ImageDataReader

    path = make_file(tmp_path, fmt, FULL)
    reader = ImageDataReader(str(path))
    assert reader.status.name == "READ_SUCCESS"
    assert reader.positive == FULL.prompt
    assert reader.negative == FULL.negative_prompt
    assert reader.parameter["steps"] == "28"
    assert reader.parameter["sampler"] == "DPM++ 2M Karras"
    assert reader.parameter["seed"] == "123456789"
    assert reader.parameter["model"] == "sdxl-base"
    assert reader.parameter["size"] == "16x16"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_deepseek_style_metadata_shows_a_clean_prompt(tmp_path, fmt):
    """No steps, sampler or seed known: nothing is invented, and A1111's parser, Civitai's rule
    and sd-prompt-reader find the prompt (ComfyUI too, for PNG). sd-parsers needs three of its
    sampler keys, which such an image does not have (tests/interop/test_interop_matrix.py)."""
    from readers import a1111 as a1111_reader
    from readers import civitai, comfyui, sd_parsers, sd_prompt_reader

    path = make_file(tmp_path, fmt, DEEPSEEK)
    infotext = a1111_style_read(path)
    last = infotext.splitlines()[-1]
    assert last.startswith("Steps: unknown: not reported, Sampler: unknown, Size: 16x16")
    assert "CFG scale" not in last and "Seed" not in last
    assert a1111.parse(infotext)[0] == DEEPSEEK.prompt
    for reader in (a1111_reader, civitai, sd_prompt_reader, comfyui):
        reading = reader(path)
        if reading.reads_format:
            if not (reader is civitai and fmt != "png"):  # Civitai garbles CJK in EXIF
                assert reading.prompt == DEEPSEEK.prompt, reader.__name__
            assert all(v != v for v in reading.numbers.values()), reading  # NaN only
    assert sd_parsers(path).prompt is None


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_a1111_style_reader_and_our_reader(tmp_path, fmt):
    meta = FULL.replace(prompt="Ü ß 付 Ø, a cat\nשלום 👨‍👩‍👧")  # fine outside SDPR
    path = make_file(tmp_path, fmt, meta)
    assert a1111_style_read(path) == a1111.encode(meta)
    data = path.read_bytes()
    result = read(MODULES[fmt].extract(data))
    assert result.convention == "dsexport"
    assert result.metadata == meta


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_sd_parsers_reads_characters_that_break_sd_prompt_reader(tmp_path, fmt):
    sd_parsers = require_module("sd_parsers")
    from PIL import Image

    meta = FULL.replace(prompt="Ü ß 付 Ø, a cat")
    path = make_file(tmp_path, fmt, meta)
    with Image.open(path) as im:
        assert sd_parsers.ParserManager().parse(im).full_prompt == meta.prompt


def exiftool_tags(path) -> dict:
    exiftool = require_tool("exiftool")
    out = subprocess.run(
        [exiftool, "-j", "-b", "-G1", "-a", str(path)], check=True, capture_output=True
    )
    return json.loads(out.stdout)[0]


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_exiftool_reads_every_convention(tmp_path, fmt):
    path = make_file(tmp_path, fmt, FULL)
    tags = exiftool_tags(path)
    assert tags["XMP-dc:Description"] == FULL.prompt
    assert tags["XMP-dc:Title"] == "猫 chat"
    assert tags["XMP-dc:Source"] == FULL.image_url
    assert tags["XMP-iptcExt:DigitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert tags["XMP-iptcExt:AISystemUsed"] == "sdxl-base"
    assert json.loads(tags["XMP-dsexport:Record"])["prompt"] == FULL.prompt
    if fmt == "png":
        assert tags["PNG:Parameters"] == a1111.encode(FULL)
        assert tags["PNG:Title"] == "猫 chat"
        assert tags["PNG:Description"] == FULL.prompt
        assert tags["PNG:Software"] == "dsexport 0.1.0"
    else:
        assert tags["ExifIFD:UserComment"] == a1111.encode(FULL)
        assert tags["IFD0:XPTitle"] == "猫 chat"
        assert "IFD0:Make" not in tags and "IFD0:Model" not in tags


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_exiftool_validate_finds_nothing_of_ours(tmp_path, fmt):
    exiftool = require_tool("exiftool")
    path = make_file(tmp_path, fmt, FULL)
    out = subprocess.run(
        [exiftool, "-validate", "-warning", "-a", "-j", str(path)], check=True, capture_output=True
    )
    found = json.loads(out.stdout)[0]
    warnings = [v for k, v in found.items() if k.startswith("Warning")]
    # A new JPEG EXIF carries the tags EXIF requires there (resolution, ColorSpace, …).
    assert warnings == []


def test_pillow_getxmp_reads_our_packet(tmp_path):
    require_module("defusedxml")
    from PIL import Image

    path = make_file(tmp_path, "jpeg", FULL)
    with Image.open(path) as im:
        xmp = im.getxmp()
    desc = xmp["xmpmeta"]["RDF"]["Description"]
    assert desc["description"]["Alt"]["li"]["text"] == FULL.prompt
    assert json.loads(desc["record"])["seed"] == FULL.seed


def test_a1111_style_reader_finds_the_gif_comment(tmp_path):
    from PIL import Image

    from dsexport.formats import gif

    buf = io.BytesIO()
    Image.new("P", (4, 4)).save(buf, "GIF")
    data = buf.getvalue()
    out = join(gif.embed(data, build_payload(FULL, gif.extract(data), fmt="gif")))
    with Image.open(io.BytesIO(out)) as im:
        # A1111: geninfo = items["comment"].decode("utf8", errors="ignore")
        assert im.info["comment"].decode("utf8", errors="ignore") == a1111.encode(FULL)
    assert read(gif.extract(out)).metadata == FULL
