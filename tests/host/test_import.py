"""``import`` of other tools' images (dsexport/catalog/importer.py), built the way those tools
write them: A1111 PNG ``parameters`` and JPEG EXIF UserComment (piexif), ComfyUI ``prompt`` and
``workflow`` graphs, NovelAI ``Software``/``Comment``, and a DS Export file."""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import pytest

from dsexport import SaveOptions, read_metadata, save_image
from dsexport.catalog import open_catalog
from dsexport.catalog.importer import import_paths
from dsexport.catalog.search import search
from dsexport.errors import BadRequest
from imagebytes import image_stream, make_image

A1111 = (
    "masterpiece, a cat in a red scarf, 红色围巾\n"
    "Negative prompt: lowres, blurry\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 64x48, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"
)
A1111_JPEG = (
    "a dog on a skateboard 🛹\nNegative prompt: cartoon\n"
    "Steps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 99, Size: 64x48, Model: sdxl_base"
)
COMFY_GRAPH = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 777,
            "steps": 25,
            "cfg": 8.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "赛博朋克 city at night, neon"}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "daylight"}},
}
NOVELAI_COMMENT = {
    "prompt": "1girl, panda hoodie, 熊猫",
    "uc": "bad anatomy",
    "steps": 28,
    "scale": 5.0,
    "seed": 31337,
    "sampler": "k_euler_ancestral",
    "width": 64,
    "height": 48,
}


def _png(path: Path, text: dict[str, str]) -> Path:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    shade = zlib.crc32(path.name.encode()) % 256  # a different picture per file name
    Image.new("RGB", (64, 48), (shade, 80, 120)).save(path, pnginfo=info)
    return path


def _jpeg_with_user_comment(path: Path, text: str) -> Path:
    import piexif
    import piexif.helper
    from PIL import Image

    exif = piexif.dump(
        {"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text, "unicode")}}
    )
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path, "JPEG", quality=90, exif=exif)
    return path


@pytest.fixture
def folder(tmp_path, home):
    src = tmp_path / "webui"
    (src / "sub").mkdir(parents=True)
    _png(src / "a1111.png", {"parameters": A1111})
    _jpeg_with_user_comment(src / "a1111.jpg", A1111_JPEG)
    _png(src / "comfy.png", {"prompt": json.dumps(COMFY_GRAPH), "workflow": '{"nodes": []}'})
    _png(
        src / "sub" / "novelai.png",
        {
            "Title": "AI generated image",
            "Description": NOVELAI_COMMENT["prompt"],
            "Software": "NovelAI",
            "Source": "Stable Diffusion XL C1E1DE52",
            "Comment": json.dumps(NOVELAI_COMMENT),
        },
    )
    ours = save_image(
        make_image("webp"),
        {"prompt": "ours, 一只戴着红色围巾的猫", "conversation_title": "DeepSeek 对话"},
        SaveOptions(output_dir=str(tmp_path / "elsewhere")),
    )
    Path(ours.path).rename(src / "ours.webp")
    with open_catalog() as cat:
        cat.remove(ours.path)  # as if saved on another machine
    (src / "plain.png").write_bytes(make_image("png"))
    (src / "readme.txt").write_text("not an image")
    return src


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_import_in_place_catalogs_without_touching_files(folder, home):
    before = digests(folder)
    with open_catalog() as cat:
        report = import_paths(cat, [folder])
        assert report.found == 5 and report.imported == 4 and report.no_metadata == 1
        assert report.conventions == {"a1111": 2, "comfyui": 1, "dsexport": 1}
        report = import_paths(cat, [folder], recursive=True)
        assert report.imported == 1 and report.already == 4
        assert report.conventions == {"novelai": 1}

        def found(query: str) -> list[str]:
            return [Path(h.entry.path).name for h in search(cat, query)]

        assert found("red scarf") == ["a1111.png"]
        assert found("skateboard") == ["a1111.jpg"]
        assert found("赛博朋克") == ["comfy.png"]
        assert found("熊猫") == ["novelai.png"]
        assert sorted(found("围巾")) == ["a1111.png", "ours.webp"]
        assert found("flux1-dev") == ["comfy.png"]  # model from the graph
        assert found("DeepSeek 对话") == ["ours.webp"]

        comfy = cat.get(folder / "comfy.png")
        assert (comfy.seed, comfy.steps, comfy.cfg_scale, comfy.source) == (777, 25, 8.0, "import")
        jpeg = cat.get(folder / "a1111.jpg")
        assert (jpeg.seed, jpeg.model, jpeg.negative_prompt) == (99, "sdxl_base", "cartoon")
        nai = cat.get(folder / "sub" / "novelai.png")
        assert nai.seed == 31337 and nai.negative_prompt == "bad anatomy"
        assert cat.get(folder / "plain.png") is None
        assert import_paths(cat, [folder / "plain.png"], include_all=True).imported == 1
    assert digests(folder) == before  # not one byte changed


def test_copy_goes_through_the_save_pipeline(folder, home, tmp_path):
    out = tmp_path / "library"
    before = digests(folder)
    with open_catalog() as cat:
        report = import_paths(cat, [folder], mode="copy", recursive=True, output_dir=out)
        assert report.imported == 5 and not report.failed
        copies = dict(report.saved)
        assert digests(folder) == before  # originals untouched
        for src, dest in copies.items():
            assert Path(dest).is_relative_to(out) and Path(dest).is_file()
            fmt = {".png": "png", ".jpg": "jpeg", ".webp": "webp"}[Path(src).suffix]
            # Lossless: the image data is the original's, only metadata was added.
            assert image_stream(fmt, Path(dest).read_bytes()) == image_stream(
                fmt, Path(src).read_bytes()
            )
        # The other tool's metadata is still readable in the copy, and the copy is catalogued.
        comfy_copy = copies[str(folder / "comfy.png")]
        assert read_metadata(comfy_copy).prompt == "赛博朋克 city at night, neon"
        assert read_metadata(copies[str(folder / "a1111.png")]).seed == 1234
        [hit] = search(cat, "skateboard")
        assert hit.entry.path == copies[str(folder / "a1111.jpg")]
        assert hit.entry.source == "import"

        again = import_paths(cat, [folder], mode="copy", recursive=True, output_dir=out)
        assert again.imported == 0 and again.already == 5  # deduplicated, nothing overwritten
        assert sorted(p for p in out.rglob("*") if p.is_file()) == sorted(
            Path(d) for d in copies.values()
        )


def test_move_removes_originals_only_after_the_copy_exists(folder, home, tmp_path):
    out = tmp_path / "library"
    with open_catalog() as cat:
        import_paths(cat, [folder])  # indexed in place first
        report = import_paths(cat, [folder], mode="move", output_dir=out)
        assert report.imported == 4 and not report.failed
        for src, dest in report.saved:
            assert not Path(src).exists() and Path(dest).is_file()
            assert cat.get(src) is None and cat.get(dest) is not None
        assert (folder / "plain.png").exists()  # no metadata: not moved
        assert (folder / "sub" / "novelai.png").exists()  # not recursive


def test_bad_files_are_reported_not_fatal(home, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    _png(src / "ok.png", {"parameters": A1111})
    with open_catalog() as cat:
        report = import_paths(cat, [src])
    assert report.imported == 1
    assert [Path(p).name for p, _ in report.failed] == ["broken.png"]


def test_unknown_mode(home):
    with open_catalog() as cat, pytest.raises(BadRequest):
        import_paths(cat, [], mode="link")
