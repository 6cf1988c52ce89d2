"""ComfyUI: reading the API graph ComfyUI stores in PNG text ``prompt``."""

from __future__ import annotations

import io
import json

import pytest

from dsexport.conventions import comfyui, read
from dsexport.formats.base import RawFields

# ComfyUI's default text-to-image graph in API form, plus a LoRA loader between checkpoint and
# sampler, as ComfyUI's SaveImage writes it (json.dumps, ASCII-escaped).
GRAPH = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 156680208700286,
            "steps": 20,
            "cfg": 8,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1,
            "model": ["10", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "4": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "v1-5-pruned.safetensors"},
    },
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": 512, "height": 768, "batch_size": 1},
    },
    "6": {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "一只猫, masterpiece\nline 2", "clip": ["10", 1]},
    },
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["10", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    "10": {
        "class_type": "LoraLoader",
        "inputs": {"lora_name": "x.safetensors", "model": ["4", 0], "clip": ["4", 1]},
    },
}


def test_reads_prompt_sampler_model_and_size_from_the_graph():
    meta = comfyui.decode(RawFields(text={"prompt": json.dumps(GRAPH)}))
    assert meta.prompt == "一只猫, masterpiece\nline 2"
    assert meta.negative_prompt == "text, watermark"
    assert (meta.seed, meta.steps, meta.cfg_scale, meta.sampler) == (
        156680208700286,
        20,
        8.0,
        "euler",
    )
    assert meta.model == "v1-5-pruned.safetensors"
    assert (meta.width, meta.height) == (512, 768)
    assert meta.extra == {"comfyui": {"scheduler": "normal", "denoise": 1}}
    assert meta.tool == "ComfyUI"


def test_read_picks_comfyui_for_a_real_pillow_png():
    from PIL import Image, PngImagePlugin

    from dsexport.formats import png

    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(GRAPH))
    info.add_text("workflow", json.dumps({"nodes": []}))
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG", pnginfo=info)
    result = read(png.extract(buf.getvalue()))
    assert result.convention == "comfyui"
    assert result.metadata.prompt == "一只猫, masterpiece\nline 2"


def test_reads_the_webp_exif_model_form():
    from dsexport.conventions import exif

    tiff = exif.Tiff()
    data = ("prompt:" + json.dumps(GRAPH)).encode("ascii") + b"\0"
    tiff.ifd0.entries[exif.TAG_MODEL] = exif.Entry(exif.ASCII, len(data), data)
    meta = comfyui.decode(RawFields(exif=exif.serialize(tiff)))
    assert meta.seed == 156680208700286


def test_text_through_a_primitive_node_and_a_cycle():
    graph = json.loads(json.dumps(GRAPH))
    graph["6"]["inputs"]["text"] = ["11", 0]
    graph["11"] = {"class_type": "PrimitiveString", "inputs": {"value": "from a primitive"}}
    graph["7"]["inputs"] = {"conditioning_1": ["12", 0]}
    graph["12"] = {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["7", 0]}}
    meta = comfyui.decode(RawFields(text={"prompt": json.dumps(graph)}))
    assert meta.prompt == "from a primitive"
    assert meta.negative_prompt is None  # a cycle: given up, not hung


def test_without_a_sampler_the_first_text_encoder_is_the_prompt():
    graph = {"1": {"class_type": "CLIPTextEncode", "inputs": {"text": "just text"}}}
    assert comfyui.decode(RawFields(text={"prompt": json.dumps(graph)})).prompt == "just text"


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"1": 5}', '{"1": {"inputs": {}}}', "[" * 50_000],
)
def test_anything_else_is_not_comfyui(text):
    assert comfyui.decode(RawFields(text={"prompt": text})) is None
