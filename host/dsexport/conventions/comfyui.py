"""ComfyUI: the API graph ComfyUI's ``SaveImage`` stores as PNG text ``prompt``.

Trigger: PNG text ``prompt`` holding a JSON object of nodes (``{"3": {"class_type": "KSampler",
"inputs": {…}}, …}``), or, for ComfyUI's WebP, EXIF IFD0 Model = ``"prompt:" + json``.
From the first sampler node (``KSampler``, ``KSamplerAdvanced``, …) we follow its links:
``positive``/``negative`` to the ``CLIPTextEncode`` texts, ``model`` to the checkpoint loader,
``latent_image`` to the latent size. Without a sampler node the first text encoder's text is the
prompt. Links are ``[node_id, output_index]``; following them is bounded (``MAX_HOPS``), so a
cyclic graph cannot loop.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dsexport.formats.base import RawFields
from dsexport.model import Metadata

MAX_HOPS = 32
"""Links followed from one input before giving up (graphs are short chains; cycles exist)."""

MAX_GRAPH_CHARS = 32 * 1024 * 1024
"""A ``prompt`` text larger than this is not parsed as JSON (memory guard)."""

SAMPLER_TYPES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
TEXT_INPUTS = ("text", "text_g", "text_l", "string", "value")
MODEL_INPUTS = ("ckpt_name", "unet_name", "model_name")


def _graph(raw: RawFields) -> dict[str, Any] | None:
    text = raw.text.get("prompt")
    if text is None and raw.exif:
        from dsexport.conventions import exif

        model = exif.fields(raw.exif).get("Model", "")
        if model.startswith("prompt:"):
            text = model[len("prompt:") :]
    if not text or len(text) > MAX_GRAPH_CHARS:
        return None
    try:
        graph = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(graph, dict) or not graph:
        return None
    if not all(isinstance(n, dict) and "class_type" in n for n in graph.values()):
        return None
    return graph


def _inputs(node: Any) -> dict[str, Any]:
    inputs = node.get("inputs") if isinstance(node, dict) else None
    return inputs if isinstance(inputs, dict) else {}


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))


def _follow(graph: dict[str, Any], value: Any, keys: tuple[str, ...]) -> Any:
    """Follow links from ``value`` until a node input named in ``keys`` holds a plain value."""
    for _ in range(MAX_HOPS):
        if not _is_link(value):
            return value
        node = graph.get(str(value[0]))
        inputs = _inputs(node)
        for key in keys:
            if key in inputs and not _is_link(inputs[key]):
                return inputs[key]
        # Pass-through nodes (LoRA loaders, conditioning combiners, reroutes): take the first
        # linked input that leads on.
        next_value = next((v for k, v in inputs.items() if k in keys and _is_link(v)), None)
        if next_value is None:
            next_value = next((v for v in inputs.values() if _is_link(v)), None)
        value = next_value
    return None


def _text(graph: dict[str, Any], link: Any) -> str | None:
    value = _follow(graph, link, TEXT_INPUTS)
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode(raw: RawFields) -> Metadata | None:
    """ComfyUI graph → ``Metadata`` (prompt, negative, seed, steps, CFG, sampler, model, size)."""
    graph = _graph(raw)
    if graph is None:
        return None
    values: dict[str, Any] = {}
    nodes = [node for _, node in sorted(graph.items(), key=lambda kv: str(kv[0]))]
    sampler = next((n for n in nodes if n.get("class_type") in SAMPLER_TYPES), None)
    if sampler is not None:
        inputs = _inputs(sampler)
        prompt = _text(graph, inputs.get("positive"))
        negative = _text(graph, inputs.get("negative"))
        if prompt:
            values["prompt"] = prompt
        if negative:
            values["negative_prompt"] = negative
        seed_input = inputs.get("seed", inputs.get("noise_seed"))
        seed = _follow(graph, seed_input, ("seed", "noise_seed", "value"))
        if _int(seed) is not None:
            values["seed"] = seed
        if _int(inputs.get("steps")) is not None:
            values["steps"] = inputs["steps"]
        cfg = inputs.get("cfg")
        if isinstance(cfg, (int, float)) and not isinstance(cfg, bool):
            # An integer of hundreds of digits has no float: infinity, which the bounds check
            # (validate.check_metadata) then reports, like a cfg of 1e999.
            try:
                values["cfg_scale"] = float(cfg)
            except OverflowError:
                values["cfg_scale"] = math.inf
        if isinstance(inputs.get("sampler_name"), str):
            values["sampler"] = inputs["sampler_name"]
        model = _follow(graph, inputs.get("model"), MODEL_INPUTS)
        if isinstance(model, str):
            values["model"] = model
        latent = inputs.get("latent_image")
        if _is_link(latent):
            size = _inputs(graph.get(str(latent[0])))
            if _int(size.get("width")) and _int(size.get("height")):
                values["width"], values["height"] = size["width"], size["height"]
        extra = {
            key: inputs[key]
            for key in ("scheduler", "denoise")
            if isinstance(inputs.get(key), (str, int, float))
        }
        if extra:
            values["extra"] = {"comfyui": extra}
    else:
        for node in nodes:
            if node.get("class_type") == "CLIPTextEncode":
                text = _inputs(node).get("text")
                if isinstance(text, str) and text:
                    values["prompt"] = text
                    break
    if not values:
        return None
    values["tool"] = "ComfyUI"
    return Metadata(**values)
