"""The interop matrix: every reader (tests/interop/readers.py) on every format we write, as
``save_image`` writes it for a generated image. What each reader shows as prompt and seed is
measured here, and docs/metadata.md must list exactly what is measured: run with
``DSEXPORT_UPDATE_MATRIX=1`` to rewrite the table after a change.

A DeepSeek image usually comes with a prompt, a seed (from a generator's URL), a size and a
model, and no steps, sampler or CFG scale; the measurement also covers a CJK prompt and an image
without a seed. No reader may be handed a number the image did not have.
"""

from __future__ import annotations

import io
import math
import os
from functools import cache
from pathlib import Path

import pytest
from readers import READERS, Reading

from dsexport import save_image
from imagebytes import make_image

FORMATS = ("png", "jpeg", "webp", "gif", "svg", "avif")
LATIN = "a red fox in the snow, watercolor"
CJK = "一只戴红围巾的猫，水彩 watercolor"
SEED = 3141592653
BASE = {
    "model": "flux",
    "conversation_title": "Foxes",
    "page_url": "https://chat.deepseek.com/a/chat/s/abc",
    "image_url": "https://image.pollinations.ai/prompt/fox?seed=3141592653",
    "captured_at": "2026-11-25T09:14:03+00:00",
}
CASES = {
    "latin": {**BASE, "prompt": LATIN, "seed": SEED},
    "cjk": {**BASE, "prompt": CJK, "seed": SEED},
    "no-seed": {**BASE, "prompt": LATIN},
}
SD_READERS = ("Civitai", "A1111 / Forge", "sd-parsers", "SD Prompt Reader", "ComfyUI")
DOC = Path(__file__).resolve().parents[2] / "docs" / "metadata.md"
START, END = "<!-- interop-matrix:start -->", "<!-- interop-matrix:end -->"


def _image(fmt: str) -> bytes:
    if fmt == "svg":
        return (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
            b'<rect width="20" height="10" fill="#c30"/></svg>'
        )
    if fmt == "avif":
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 60, 20)).save(buf, "AVIF", quality=70)
        return buf.getvalue()
    return make_image(fmt, size=(40, 30))


@cache
def _files(root: str) -> dict[tuple[str, str], Path]:
    """One saved file per (case, format), written by the real pipeline into ``root``."""
    from dsexport.model import SaveOptions

    out = {}
    for case, meta in CASES.items():
        folder = Path(root) / case
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in FORMATS:
            result = save_image(_image(fmt), meta, SaveOptions(output_dir=str(folder)))
            out[(case, fmt)] = Path(result.path)
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[tuple[str, str], Path]:
    home = tmp_path_factory.mktemp("home")
    old = {k: os.environ.get(k) for k in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")}
    os.environ["HOME"] = str(home)
    os.environ.pop("XDG_DATA_HOME", None)
    os.environ.pop("XDG_CONFIG_HOME", None)
    try:
        yield _files(str(home / "out"))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def readings(saved) -> dict[tuple[str, str, str], Reading]:
    return {
        (reader, case, fmt): READERS[reader](path)
        for reader in READERS
        for (case, fmt), path in saved.items()
    }


def _prompt_ok(reading: Reading, expected: str) -> bool:
    return reading.prompt is not None and reading.prompt.strip() == expected


def cell(readings, reader: str, fmt: str) -> str:
    latin = readings[(reader, "latin", fmt)]
    if not latin.reads_format:
        return "not read"
    if fmt == "avif" and latin.prompt is None:
        return "in the .json sidecar"
    cjk = readings[(reader, "cjk", fmt)]
    bare = readings[(reader, "no-seed", fmt)]
    if _prompt_ok(latin, LATIN):
        prompt = "prompt ✓" if _prompt_ok(cjk, CJK) else "prompt ✓ (Latin only)"
    else:
        prompt = "prompt ✗"
    seed = "seed ✓" if latin.seed == str(SEED) else "seed ✗"
    text = f"{prompt} · {seed}"
    if _prompt_ok(latin, LATIN) and not _prompt_ok(bare, LATIN):
        text += " · no prompt without a seed"
    return text


def matrix_table(readings) -> str:
    head = "| Reader | " + " | ".join(f.upper() for f in FORMATS) + " |"
    rule = "|---" * (len(FORMATS) + 1) + "|"
    rows = [f"| {r} | " + " | ".join(cell(readings, r, f) for f in FORMATS) + " |" for r in READERS]
    return "\n".join([head, rule, *rows])


def test_no_reader_is_handed_a_number_the_image_did_not_have(readings):
    for (reader, case, fmt), reading in readings.items():
        for name, value in reading.numbers.items():
            if math.isnan(value):
                continue  # "not a number": the tool shows the field as unknown
            real = SEED if case != "no-seed" and "seed" in name.lower() else None
            assert value == real, (reader, case, fmt, name, value)


@pytest.mark.parametrize("reader", SD_READERS)
def test_stable_diffusion_readers_find_prompt_and_seed(readings, reader):
    for fmt in FORMATS:
        reading = readings[(reader, "latin", fmt)]
        if not reading.reads_format:
            continue
        if fmt == "avif":  # kept byte for byte: the metadata is in the sidecar
            assert reading.prompt is None
            continue
        assert _prompt_ok(reading, LATIN), (reader, fmt, reading)
        assert reading.seed == str(SEED), (reader, fmt, reading)
        cjk = readings[(reader, "cjk", fmt)]
        if reader == "Civitai" and fmt in ("jpeg", "webp"):
            # Civitai decodes UserComment one byte per character (encoding-helpers.ts), so no
            # writer's CJK survives it; the ASCII parameters line still does.
            assert cjk.seed == str(SEED)
            continue
        assert _prompt_ok(cjk, CJK), (reader, fmt, cjk)


def test_without_a_seed_every_reader_but_sd_parsers_still_finds_the_prompt(readings):
    """sd-parsers needs three of Sampler/CFG scale/Seed/Steps/Schedule type/ENSD as plain
    numbers or words, and Civitai refuses anything but numbers for Steps, CFG scale and Seed,
    so with only ``Sampler: unknown`` and ``Schedule type: unknown`` sd-parsers finds none."""
    for reader in SD_READERS:
        for fmt in ("png", "jpeg", "webp"):
            reading = readings[(reader, "no-seed", fmt)]
            if not reading.reads_format:
                continue
            assert _prompt_ok(reading, LATIN) == (reader != "sd-parsers"), (reader, fmt)


def test_the_xmp_sdk_reads_our_xmp_in_every_format_it_opens(readings):
    for fmt in ("png", "jpeg", "gif", "svg"):
        assert _prompt_ok(readings[("Adobe XMP SDK (exempi)", "cjk", fmt)], CJK), fmt
        assert readings[("Adobe XMP SDK (exempi)", "latin", fmt)].seed == str(SEED), fmt


def test_docs_list_the_measured_matrix(readings):
    table = matrix_table(readings)
    text = DOC.read_text("utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    assert START in text and END in text, f"docs/metadata.md needs {START} … {END}"
    current = f"{START}\n{table}\n{END}"
    if os.environ.get("DSEXPORT_UPDATE_MATRIX") == "1":
        DOC.write_text(before + current + after, "utf-8")
    assert text == before + current + after, (
        "docs/metadata.md's interop matrix differs from what the readers show; run "
        "DSEXPORT_UPDATE_MATRIX=1 pytest tests/interop/test_interop_matrix.py and review\n" + table
    )
