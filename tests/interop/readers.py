"""The tools people read our files with, each reduced to one function: path → ``Reading``.

Where a reader installs here it is run as it is (sd-parsers, sd-prompt-reader, ExifTool,
exiv2, the Adobe XMP SDK through python-xmp-toolkit and Debian's libexempi). Where it does not
(Civitai's web app, ComfyUI's front end, A1111's web UI), its published parsing rule is
re-implemented line by line from the file named in the function's docstring, at the commit given,
so a test can say exactly whose rule it applies. Every function reports what the tool would show
as the prompt and the seed, and every number it would put into a form (``numbers``), so a test can
tell a number read from the file from one the tool made up.
"""

from __future__ import annotations

import json
import math
import re
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from testutil import require_module, require_tool


@dataclass
class Reading:
    prompt: str | None = None
    seed: str | None = None
    numbers: dict[str, float] = field(default_factory=dict)
    """Numeric fields as the tool would set them (steps, CFG, seed); NaN for "not a number"."""
    reads_format: bool = True
    """False when the tool does not look at this format at all."""


# --- raw fields, read the way browsers' and Python readers do ---------------------------------


def png_text(data: bytes, *, utf8_text: bool, itxt: bool) -> dict[str, str]:
    """tEXt (and iTXt) chunks by keyword; ``utf8_text``: decode tEXt as UTF-8 (a browser's
    ``TextDecoder``) instead of Latin-1."""
    pos, out = 8, {}
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if ctype == b"tEXt":
            key, _, value = body.partition(b"\0")
            text = value.decode("utf-8", "replace") if utf8_text else value.decode("latin-1")
            out[key.decode("latin-1")] = text
        elif ctype == b"iTXt" and itxt:
            key, _, rest = body.partition(b"\0")
            _lang, _, rest = rest[2:].partition(b"\0")
            _translated, _, value = rest.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("utf-8", "replace")
        pos += 12 + length
    return out


def user_comment_bytes(path: Path) -> bytes | None:
    """The raw UserComment of a JPEG's or WebP's EXIF (via Pillow, as these tools get it)."""
    from PIL import Image

    with Image.open(path) as im:
        exif = im.getexif().get_ifd(0x8769)
    value = exif.get(0x9286)
    return value if isinstance(value, bytes) else None


def _format(path: Path) -> str:
    from dsexport.sniff import sniff

    return sniff(path.read_bytes()[:4096])


# --- Civitai --------------------------------------------------------------------------------


def _js_number(value: object) -> float:
    """JavaScript ``Number(value)`` for the values a parse yields (strings and objects)."""
    if not isinstance(value, str):
        return math.nan
    text = value.strip()
    if text == "":
        return 0.0
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return float(text)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return float(int(text, 16))
    return math.nan


def _civitai_details(line: str | None) -> dict:
    """``parseDetailsLine`` (civitai/civitai src/utils/metadata/automatic.metadata.ts @55a5a85)."""
    result: dict = {}
    if not line:
        return result
    key_map = {"Seed": "seed", "CFG scale": "cfgScale", "Sampler": "sampler", "Steps": "steps"}
    key_map["Clip skip"] = "clipSkip"
    current_key, current_value = "", ""
    inside_quotes = inside_date = False
    for char in line:
        if char == '"':
            if inside_quotes:
                result[current_key] = _civitai_details(current_value.strip())
                current_key = ""
            inside_quotes = not inside_quotes
        elif char == ":" and not inside_quotes and not inside_date:
            if len(current_value) == 14 and current_value[11] == "T":
                inside_date = True
            else:
                current_key = key_map.get(current_value.strip(), current_value.strip())
                current_value = ""
        elif char == "," and not inside_quotes:
            inside_date = False
            if current_key:
                result[current_key] = current_value.strip()
            current_key, current_value = "", ""
        else:
            current_value += char
    if current_key:
        result[current_key] = current_value.strip()
    return result


def civitai_parse(details: str) -> dict | None:
    """``automaticMetadataProcessor`` (canParse + parse, automatic.metadata.ts @55a5a85) and the
    schema check of ``getMetadata`` (src/utils/metadata/index.ts @94034cd:
    ``imageMetaSchema.safeParse(metadata)``, failure → ``{}``) with ``imageGenerationSchema``
    (src/server/schema/image.schema.ts @267cada: steps, cfgScale, seed, clipSkip are
    ``z.coerce.number()``, prompt/negativePrompt/sampler strings). ``None``: nothing shown."""
    if "Steps: " not in details:
        return None
    lines = [line for line in details.split("\n") if line.strip()]
    detail_line = next((line for line in lines if line.startswith("Steps: ")), None)
    if detail_line is not None:
        lines.remove(detail_line)
        detail_line = re.sub(r",\s*$", "", detail_line)
        for bad in ("Resources: ", "Hashed prompt: ", "Hashed Negative prompt: "):
            if bad in detail_line:
                detail_line = detail_line.split(bad)[0]
    meta: dict = {}
    excluded = {"hashes", "civitaiResources", "scheduler", "vaes", "additionalResources"}
    excluded |= {"comfy", "upscalers", "models", "controlNets", "denoise", "other", "external"}
    for key, value in _civitai_details(detail_line).items():
        if key not in excluded:
            meta[key] = value
    prompt, *negative = (x.strip() for x in "\n".join(lines).split("Negative prompt:"))
    meta["prompt"] = prompt
    meta["negativePrompt"] = " ".join(negative).strip()
    # imageGenerationSchema: numbers are coerced; NaN or ±Infinity fails the whole record.
    for key in ("steps", "cfgScale", "seed", "clipSkip", "Clip skip"):
        if key in meta:
            number = _js_number(meta[key])
            if not math.isfinite(number):
                return None
            meta[key] = number
    for key in ("prompt", "negativePrompt", "sampler"):
        if key in meta and not isinstance(meta[key], str):
            return None
        if key in meta and meta[key] == "":
            del meta[key]  # undefinedString: "" → undefined
    return meta


def _civitai_user_comment(raw: bytes) -> str:
    """``decodeUserComment`` (civitai/civitai src/utils/encoding-helpers.ts @07d4951) as
    ``getMetadata`` calls it: the bytes become an ``Int32Array`` one byte per element, so a
    "UNICODE" comment is read one byte per character, NULs skipped."""
    header = raw[:8]
    if header.startswith((b"ASCII", b"UTF8")):
        return "".join(f"{chr(b)}\0\0\0" for b in raw[8:])  # what decoding an Int32Array gives
    return "".join(chr(b) for b in raw[8:] if b)


def civitai(path: Path) -> Reading:
    fmt = _format(path)
    if fmt == "png":
        text = png_text(path.read_bytes(), utf8_text=True, itxt=True).get("parameters")
    elif fmt in ("jpeg", "webp"):
        raw = user_comment_bytes(path)
        text = _civitai_user_comment(raw) if raw else None
    else:
        return Reading(reads_format=False)
    meta = civitai_parse(text) if text else None
    if meta is None:
        return Reading()
    numbers = {k: float(meta[k]) for k in ("steps", "cfgScale", "seed") if k in meta}
    seed = meta.get("seed")
    return Reading(
        prompt=meta.get("prompt"),
        seed=None if seed is None else str(int(seed)),
        numbers=numbers,
    )


# --- AUTOMATIC1111 ------------------------------------------------------------------------------


def a1111(path: Path) -> Reading:
    """``read_info_from_image`` (lllyasviel/stable-diffusion-webui-forge modules/images.py
    @0468eda), ``parse_generation_parameters`` (AUTOMATIC1111/stable-diffusion-webui
    modules/infotext_utils.py @0365002) and its paste rule (``connect_paste``: an int field
    gets ``float(v)``, a failure leaves the field as it was)."""
    import piexif
    import piexif.helper
    from PIL import Image

    from dsexport.conventions import a1111 as ours

    fmt = _format(path)
    if fmt not in ("png", "jpeg", "webp", "gif"):
        return Reading(reads_format=False)
    with Image.open(path) as im:
        items = dict(im.info)
    geninfo = items.pop("parameters", None)
    if "exif" in items:
        try:
            exif = piexif.load(items["exif"])
        except (OSError, ValueError, struct.error):
            exif = None
        comment = (exif or {}).get("Exif", {}).get(piexif.ExifIFD.UserComment, b"")
        try:
            text = piexif.helper.UserComment.load(comment)
        except ValueError:
            text = comment.decode("utf8", errors="ignore")
        if text:
            geninfo = text
    elif "comment" in items:
        geninfo = items["comment"].decode("utf8", errors="ignore")
    if not geninfo:
        return Reading()
    prompt, _negative, pairs = ours.parse(geninfo)  # the same regexes and line rule as A1111
    res = dict(pairs)
    numbers: dict[str, float] = {}
    for key in ("Steps", "CFG scale", "Seed"):
        if key in res:
            try:
                numbers[key] = float(res[key])
            except ValueError:
                continue
    return Reading(prompt=prompt, seed=res.get("Seed"), numbers=numbers)


# --- ComfyUI -------------------------------------------------------------------------------


_COMFY_OPT = re.compile(r'\s*([^:]+:\s*([^"\{].*?|".*?"|\{.*?\}))\s*(,|$)')


def comfyui_import(parameters: str) -> Reading | None:
    """``importA1111`` (Comfy-Org/ComfyUI_frontend src/scripts/pnginfo.ts @0c578ae): nothing is
    imported without ``\\nSteps:`` and a ``\\nNegative prompt:`` before it; steps, cfg scale and
    seed are set to ``+value``."""
    p = parameters.rfind("\nSteps:")
    if p < 0:
        return None
    line = parameters[p:].split("\n")[1]
    opts: dict[str, str] = {}
    for match in _COMFY_OPT.finditer(line):
        piece = match.group(0)
        s = piece.split(":")
        if s[1].endswith(","):
            s[1] = s[1][:-1]
        opts[s[0].strip().lower()] = s[1].strip()
    marker = "\nNegative prompt:"
    p2 = parameters.rfind(marker, 0, p + len(marker))  # JS lastIndexOf(marker, p)
    if p2 < 0:
        return None
    numbers = {k: _js_number(opts[k]) for k in ("steps", "cfg scale", "seed") if k in opts}
    seed = numbers.get("seed")
    return Reading(
        prompt=parameters[:p2].strip(),
        seed=None if seed is None or not math.isfinite(seed) else str(int(seed)),
        numbers=numbers,
    )


def comfyui(path: Path) -> Reading:
    """ComfyUI's ``handleFile`` imports A1111 text only from a PNG's ``parameters`` (tEXt read
    as UTF-8, iTXt: src/scripts/metadata/png.ts @b4ffe58); JPEG and WebP are not looked at
    for it."""
    if _format(path) != "png":
        return Reading(reads_format=False)
    text = png_text(path.read_bytes(), utf8_text=True, itxt=True).get("parameters")
    found = comfyui_import(text) if text else None
    return found or Reading()


# --- installed readers ---------------------------------------------------------------------


def sd_parsers(path: Path) -> Reading:
    sd = require_module("sd_parsers")
    from PIL import Image

    # Its extractors: PNG text chunks and EXIF UserComment (JPEG, WebP); no GIF comment.
    if _format(path) not in ("png", "jpeg", "webp"):
        return Reading(reads_format=False)
    with Image.open(path) as im:
        found = sd.ParserManager().parse(im)
    if found is None:
        return Reading()
    params = {k: v for s in found.samplers for k, v in s.parameters.items()}
    numbers = {}
    for key in ("steps", "cfg_scale", "seed"):
        try:
            numbers[key] = float(params[key])
        except (KeyError, ValueError):
            continue
    return Reading(prompt=found.full_prompt, seed=params.get("seed"), numbers=numbers)


def sd_prompt_reader(path: Path) -> Reading:
    require_module("sd_prompt_reader")
    from sd_prompt_reader.image_data_reader import ImageDataReader

    if _format(path) not in ("png", "jpeg", "webp"):
        return Reading(reads_format=False)
    reader = ImageDataReader(str(path))
    if reader.status.name != "READ_SUCCESS":
        return Reading()
    numbers = {}
    for key in ("steps", "cfg", "seed"):
        try:
            numbers[key] = float(reader.parameter.get(key))
        except (TypeError, ValueError):
            continue
    seed = reader.parameter.get("seed")
    return Reading(prompt=reader.positive or None, seed=seed, numbers=numbers)


_SEED_IN_TEXT = re.compile(r'(?:Seed: |"seed":)(\d+)')


def _seed_in(values: list[str]) -> str | None:
    for value in values:
        found = _SEED_IN_TEXT.search(value)
        if found:
            return found.group(1)
    return None


def exiftool(path: Path) -> Reading:
    tool = require_tool("exiftool")
    out = subprocess.run([tool, "-j", "-b", "-G1", "-a", str(path)], capture_output=True)
    tags = json.loads(out.stdout)[0]
    prompt = tags.get("XMP-dc:Description")
    texts = [str(v) for v in tags.values()]
    return Reading(prompt=prompt if isinstance(prompt, str) else None, seed=_seed_in(texts))


def exiv2(path: Path) -> Reading:
    """exiv2 0.27 (under digiKam, gThumb, Shotwell); it reads no GIF metadata and no SVG or
    AVIF at all."""
    tool = require_tool("exiv2")
    if _format(path) == "gif":
        return Reading(reads_format=False)
    out = subprocess.run([tool, "-pa", "-q", str(path)], capture_output=True)
    if b"unknown image type" in out.stderr:
        return Reading(reads_format=False)
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    prompt = None
    for line in lines:
        if line.startswith("Xmp.dc.description "):
            prompt = line.split('lang="x-default" ', 1)[-1]
    return Reading(prompt=prompt, seed=_seed_in(lines))


def xmp_sdk(path: Path) -> Reading:
    """The Adobe XMP SDK as Debian ships it (libexempi), through python-xmp-toolkit, opened the
    way an application opens a file (smart handler, EXIF reconciled into the XMP)."""
    require_module("libxmp")
    from libxmp import XMPFiles, consts

    files = XMPFiles(file_path=str(path))
    try:
        packet = files.get_xmp()
    finally:
        files.close_file()
    if packet is None:
        return Reading()
    ns = "https://dsexport.org/ns/1.0/"
    prompt = None
    if packet.does_property_exist(consts.XMP_NS_DC, "description[1]"):
        prompt = packet.get_localized_text(consts.XMP_NS_DC, "description", None, "x-default")
    record = packet.get_property(ns, "record") if packet.does_property_exist(ns, "record") else ""
    return Reading(prompt=prompt, seed=_seed_in([record]))


READERS = {
    "Civitai": civitai,
    "A1111 / Forge": a1111,
    "sd-parsers": sd_parsers,
    "SD Prompt Reader": sd_prompt_reader,
    "ComfyUI": comfyui,
    "ExifTool": exiftool,
    "exiv2": exiv2,
    "Adobe XMP SDK (exempi)": xmp_sdk,
}
"""Every reader the interop matrix measures, in the order docs/metadata.md lists them."""
