"""NovelAI: PNG text chunks Software/Description/Source/Comment."""

from __future__ import annotations

import io
import json

from dsexport.conventions import novelai, read
from dsexport.formats.base import RawFields

COMMENT = {
    "prompt": "1girl, 猫耳",
    "steps": 28,
    "height": 1216,
    "width": 832,
    "scale": 5,
    "uc": "lowres, bad anatomy",
    "seed": 2410536434,
    "sampler": "k_euler_ancestral",
    "strength": 0.7,
}
TEXT = {
    "Title": "NovelAI generated image",
    "Description": "1girl, 猫耳",
    "Software": "NovelAI",
    "Source": "Stable Diffusion XL C1E1DE52",
    "Generation time": "2.1",
    "Comment": json.dumps(COMMENT),
}


def test_reads_novelai_fields():
    meta = novelai.decode(RawFields(text=TEXT))
    assert meta.prompt == "1girl, 猫耳"
    assert meta.negative_prompt == "lowres, bad anatomy"
    assert (meta.steps, meta.cfg_scale, meta.seed) == (28, 5.0, 2410536434)
    assert meta.sampler == "k_euler_ancestral"
    assert (meta.width, meta.height) == (832, 1216)
    assert meta.model == "Stable Diffusion XL"
    assert meta.extra == {"novelai": {"model_hash": "C1E1DE52", "generation_time": "2.1"}}
    assert meta.tool == "NovelAI"


def test_read_picks_novelai_for_a_real_pillow_png():
    from PIL import Image, PngImagePlugin

    from dsexport.formats import png

    info = PngImagePlugin.PngInfo()
    for key, value in TEXT.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGBA", (4, 4)).save(buf, "PNG", pnginfo=info)
    result = read(png.extract(buf.getvalue()))
    assert result.convention == "novelai"
    assert result.metadata.seed == 2410536434


def test_prompt_falls_back_to_the_comment_and_bad_json_is_ignored():
    text = dict(TEXT, Description="")
    assert novelai.decode(RawFields(text=text)).prompt == "1girl, 猫耳"
    text = dict(TEXT, Comment="{broken")
    meta = novelai.decode(RawFields(text=text))
    assert meta.prompt == "1girl, 猫耳" and meta.seed is None


def test_other_software_is_not_novelai():
    assert novelai.decode(RawFields(text=dict(TEXT, Software="dsexport 0.1.0"))) is None
    assert novelai.decode(RawFields(text={})) is None


def test_we_never_write_software_novelai():
    from dsexport.conventions import build_payload
    from dsexport.model import Metadata

    payload = build_payload(Metadata(prompt="x", tool="NovelAI"), None, fmt="png")
    assert "Software" not in payload.text
