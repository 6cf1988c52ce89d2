"""A1111 infotext: A1111's parsing rules, quoting, and what the format can and cannot keep."""

from __future__ import annotations

import io

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dsexport.conventions import a1111
from dsexport.model import ORIGINS, Metadata
from testutil import require_module

CANONICAL = (
    "girl with an artist's beret, determined, blue eyes, desert scene, computer monitors, "
    "heavy makeup, by Alphonse Mucha and Charlie Bowater, ((eyeshadow)), (coquettish), "
    "detailed, intricate\n"
    "Negative prompt: ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy, "
    "disfigured, poorly drawn face, mutation, mutated, (extra_limb), (ugly), "
    "(poorly drawn hands), messy drawing\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, "
    "Model hash: 45dee52b"
)

SPECIAL = list("一只猫🐱👨‍👩‍👧שלוםمرحبا\n\t\",:'\\ {}<>&Üß付=")
TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from(SPECIAL)))
VALUE = TEXT.filter(lambda s: s != "")


def test_decodes_a1111_canonical_example():
    meta = a1111.decode(CANONICAL)
    assert meta is not None
    assert meta.prompt.startswith("girl with an artist's beret,")
    assert meta.prompt.endswith("detailed, intricate")
    assert meta.negative_prompt.startswith("ugly, fat")
    assert meta.negative_prompt.endswith("messy drawing")
    assert (meta.steps, meta.sampler, meta.cfg_scale, meta.seed) == (20, "Euler a", 7.0, 965400086)
    assert (meta.width, meta.height) == (512, 512)
    assert meta.extra == {"a1111": {"Model hash": "45dee52b"}}


def test_encodes_in_a1111_layout_with_standard_keys_first():
    meta = a1111.decode(CANONICAL)
    text = a1111.encode(meta)
    lines = text.split("\n")
    assert lines[0] == CANONICAL.split("\n")[0]
    assert lines[1] == CANONICAL.split("\n")[1]
    assert lines[2] == (
        "Steps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 965400086, Size: 512x512, "
        "Model hash: 45dee52b, Origin: generated"
    )
    assert a1111.decode(text) == meta


def test_quotes_like_a1111_and_more():
    assert a1111.quote("Euler a") == "Euler a"
    assert a1111.quote("a, b") == '"a, b"'
    assert a1111.quote("https://x") == '"https://x"'
    # A quote inside is quoted as \u0022, which A1111's unquote (json.loads) reads back and
    # which keeps Civitai's quote counting in step (tests/interop/readers.py).
    assert a1111.quote('猫 "q"') == '"猫 \\u0022q\\u0022"'
    assert a1111.quote(" lead") == '" lead"'
    assert a1111.quote('"x"') == '"\\u0022x\\u0022"'
    assert a1111.quote("a\tb") == '"a\\tb"'
    assert a1111.quote(":\\") == '":\\\\"'
    for value in ('猫 "q"', '"x"', ":\\", '\\"', "a\\u0022b"):
        assert a1111.unquote(a1111.quote(value)) == value


def test_custom_values_with_commas_colons_quotes_round_trip():
    meta = Metadata(
        prompt="a cat",
        steps=20,
        sampler="Euler a",
        seed=1,
        model="sdxl",
        image_url="https://x.test/a?b=1,2",
        conversation_title='猫: "quoted", title',
        captured_at="2026-11-25T09:14:03+00:00",
    )
    text = a1111.encode(meta)
    assert 'Source URL: "https://x.test/a?b=1,2"' in text
    assert 'Conversation title: "猫: \\u0022quoted\\u0022, title"' in text
    assert text.index("Model: sdxl") < text.index("Origin:")  # ours after the standard keys
    assert a1111.decode(text) == meta


def test_generated_image_without_steps_says_unknown_instead_of_inventing():
    meta = Metadata(prompt="一只猫", width=1024, height=1024, model="DeepSeek", tool="dsexport 1")
    text = a1111.encode(meta)
    assert text == (
        "一只猫\nNegative prompt:\nSteps: unknown: not reported, Sampler: unknown, "
        "Size: 1024x1024, Model: DeepSeek, Origin: generated, Tool: dsexport 1"
    )
    decoded = a1111.decode(text)
    assert (decoded.steps, decoded.sampler, decoded.cfg_scale, decoded.extra) == (None,) * 3 + ({},)
    assert decoded.prompt == "一只猫"


def test_uploads_get_no_parameters_line_without_three_real_values():
    meta = Metadata(prompt="一只猫", negative_prompt="模糊", width=10, height=10, origin="uploaded")
    assert a1111.encode(meta) == "一只猫\nNegative prompt: 模糊"


def test_prompt_that_looks_like_parameters_gets_our_line_after_it():
    meta = Metadata(
        prompt="style: anime, mood: dark, light: soft",
        width=1,
        height=2,
        model="m",
        origin="diagram",
    )
    text = a1111.encode(meta)
    assert text == "style: anime, mood: dark, light: soft\nSize: 1x2, Model: m, Origin: diagram"
    decoded = a1111.decode(text)
    assert decoded.prompt == meta.prompt
    assert (decoded.width, decoded.height, decoded.model) == (1, 2, "m")


def test_never_writes_a_parameters_line_of_fewer_than_three_pairs():
    meta = Metadata(prompt="x", steps=3, origin="uploaded")  # Steps + Origin = 2 pairs
    assert a1111.encode(meta) == "x"


def test_decode_refuses_empty_and_json():
    assert a1111.decode("") is None
    assert a1111.decode("  \n ") is None
    assert a1111.decode('{"prompt": "x"}') is None


def test_unparseable_standard_values_are_kept_as_text():
    meta = a1111.decode("p\nSteps: many, Sampler: x, Seed: 1.5, Size: big")
    assert meta.steps is None and meta.seed is None and meta.width is None
    assert meta.sampler == "x"
    assert meta.extra == {"a1111": {"Steps": "many", "Seed": "1.5", "Size": "big"}}


def _representable(text: str) -> bool:
    """What A1111's format can hold exactly: stripped lines, none starting "Negative prompt:"."""
    lines = text.split("\n")
    return (
        text == a1111.normalize(text)
        and text != ""
        and not any(line.startswith("Negative prompt:") for line in lines)
    )


@settings(max_examples=300)
@given(
    prompt=TEXT,
    negative=st.none() | TEXT,
    steps=st.integers(0, 1000),
    sampler=VALUE,
    cfg=st.floats(allow_nan=False, allow_infinity=False),
    seed=st.integers(-(2**63), 2**64),
    model=st.none() | VALUE,
    title=st.none() | VALUE,
    url=st.none() | VALUE,
    origin=st.sampled_from(ORIGINS),
)
def test_round_trip_through_a1111_rules(
    prompt, negative, steps, sampler, cfg, seed, model, title, url, origin
):
    assume(_representable(prompt))
    assume(negative is None or _representable(negative))
    meta = Metadata(
        prompt=prompt,
        negative_prompt=negative,
        steps=steps,
        sampler=sampler,
        cfg_scale=cfg,
        seed=seed,
        model=model,
        conversation_title=title,
        image_url=url,
        origin=origin,
    )
    text = a1111.encode(meta)
    assert text.rsplit("\n", 1)[-1].startswith("Steps: ")
    assert a1111.decode(text) == meta


@given(TEXT)
def test_any_prompt_survives_as_a1111_normalises_it(prompt):
    assume(not any(line.strip().startswith("Negative prompt:") for line in prompt.split("\n")))
    assume(a1111.normalize(prompt) != "")
    meta = Metadata(prompt=prompt, steps=1, sampler="s", seed=2)
    assert a1111.decode(a1111.encode(meta)).prompt == a1111.normalize(prompt)


@given(st.text())
def test_decode_never_crashes(text):
    result = a1111.decode(text)
    assert result is None or isinstance(result, Metadata)


def test_sd_parsers_reads_our_infotext_from_a_pillow_png():
    sd_parsers = require_module("sd_parsers")
    from PIL import Image, PngImagePlugin

    meta = Metadata(
        prompt="a cat, 一只猫 Ü\nsecond line",
        negative_prompt="blurry, 模糊",
        steps=28,
        sampler="DPM++ 2M",
        cfg_scale=5.5,
        seed=123456789,
        width=8,
        height=8,
        model="sdxl",
        conversation_title='猫: "a", b',
    )
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", a1111.encode(meta))
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    buf.seek(0)
    result = sd_parsers.ParserManager().parse(Image.open(buf))
    assert result is not None
    assert result.full_prompt == meta.prompt
    assert result.full_negative_prompt == meta.negative_prompt
    (sampler,) = result.samplers
    assert sampler.name == "DPM++ 2M"
    assert sampler.parameters == {"steps": "28", "cfg_scale": "5.5", "seed": "123456789"}
    assert sampler.model.name == "sdxl"


def test_keys_from_other_a1111_files_are_written_back_and_bad_keys_dropped():
    extra = {"a1111": {"Model hash": "h", "Lora hashes": "a: b, c: d", "bad\nkey": "x", "Seed": 9}}
    meta = Metadata(prompt="p", steps=1, sampler="s", extra=extra)
    text = a1111.encode(meta)
    assert text == (
        'p\nNegative prompt:\nSteps: 1, Sampler: s, Model hash: h, Lora hashes: "a: b, c: d", '
        "Origin: generated"
    )
    assert a1111.decode(text).extra == {"a1111": {"Model hash": "h", "Lora hashes": "a: b, c: d"}}
