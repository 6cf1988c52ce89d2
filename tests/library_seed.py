"""A small, real library for the library page's tests and screenshots: images of every format the
catalog holds (PNG incl. 16-bit, JPEG, WebP, GIF, AVIF, SVG), saved through the real save engine
(``pipeline.save_image``) into the current HOME's output folder, with English and Chinese
prompts, four conversations, several models and dates, and all three origins.

``seed_library()`` returns the ``Seeded`` rows newest first, as the library lists them.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path


@dataclass(frozen=True)
class Seeded:
    id: int
    path: str
    format: str
    prompt: str
    conversation_id: str
    conversation_title: str
    model: str | None
    origin: str
    captured_at: str


CONVERSATIONS = {
    "c-cats": "Cats in scarves",
    "c-city": "赛博朋克城市",
    "c-garden": "Garden studies",
    "c-flow": "流程图 diagrams",
}

#: (conversation, prompt, model, origin, format, hue)
ITEMS: tuple[tuple[str, str, str | None, str, str, int], ...] = (
    ("c-cats", "a cat wearing a red scarf, watercolor", "janus-pro", "generated", "png", 0),
    ("c-cats", "一只戴着红色围巾的猫，水彩画风格", "janus-pro", "generated", "webp", 10),
    (
        "c-cats",
        "a ginger cat asleep on a windowsill in the snow",
        "flux-dev",
        "generated",
        "jpeg",
        30,
    ),
    ("c-cats", "my own photo of a tabby cat", None, "uploaded", "jpeg", 45),
    ("c-cats", "猫咪在窗台上看雪花飘落", "flux-dev", "generated", "png16", 200),
    ("c-cats", "pixel art cat, animated blink", "janus-pro", "generated", "gif", 300),
    ("c-city", "赛博朋克街道，霓虹灯，雨夜", "sdxl-base-1.0", "generated", "png", 280),
    (
        "c-city",
        "cyberpunk street at night, neon lights, rain",
        "sdxl-base-1.0",
        "generated",
        "avif",
        260,
    ),
    ("c-city", "城市夜景，高楼，8k", "flux-dev", "generated", "webp", 240),
    ("c-city", "neon sign reading 猫 in a rainy alley", "flux-dev", "generated", "jpeg", 320),
    ("c-city", "skyline reference photo", None, "uploaded", "png", 220),
    ("c-garden", "sunflower field at dawn, oil painting", "janus-pro", "generated", "png", 50),
    ("c-garden", "向日葵田野，油画风格", "janus-pro", "generated", "jpeg", 55),
    (
        "c-garden",
        "misty lake with a small boat, ink painting",
        "sdxl-base-1.0",
        "generated",
        "webp",
        180,
    ),
    ("c-garden", "山水画风格的古代宫殿", "sdxl-base-1.0", "generated", "png", 150),
    ("c-garden", "panda eating bamboo in a bamboo forest", "flux-dev", "generated", "avif", 120),
    ("c-garden", "竹林里的熊猫吃竹子", "flux-dev", "generated", "gif", 100),
    ("c-flow", "flowchart of the save pipeline", None, "diagram", "svg", 210),
    ("c-flow", "保存流程的时序图", None, "diagram", "svg", 30),
    ("c-flow", "astronaut walking on the moon", "janus-pro", "generated", "png", 230),
)


def _picture(hue: int, size: tuple[int, int], seed: int):
    """A colourful diagonal gradient with a few discs: pleasant in a screenshot, distinct per
    item (built with Pillow's image operations; a per-pixel loop took seconds)."""
    from PIL import Image, ImageChops, ImageDraw

    w, h = size
    down = Image.linear_gradient("L").resize(size)
    across = Image.linear_gradient("L").rotate(90).resize(size)
    ramp = ImageChops.add(down, across, scale=2)  # 0 → 255 along the diagonal
    hue_ch = ramp.point(lambda t: int((hue + 40 * t / 255) % 360 * 255 / 360))
    sat = ramp.point(lambda t: int(255 * (0.55 + 0.3 * t / 255)))
    val = ramp.point(lambda t: int(255 * (0.95 - 0.45 * t / 255)))
    im = Image.merge("HSV", (hue_ch, sat, val)).convert("RGB")
    draw = ImageDraw.Draw(im)
    for k in range(3):
        cx = int(w * (0.25 + 0.25 * k + 0.05 * math.sin(seed + k)))
        cy = int(h * (0.5 + 0.25 * math.cos(seed * 1.7 + k)))
        rad = int(min(w, h) * (0.12 + 0.05 * k))
        colour = _hsv((hue + 180 + 30 * k) % 360, 0.5, 1.0)
        draw.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=colour)
    return im


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h / 360, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def _png16(im) -> bytes:
    """A 16-bit RGB PNG (Pillow cannot write one)."""
    w, h = im.size
    rgb = im.convert("RGB").tobytes()
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        row = rgb[y * w * 3 : (y + 1) * w * 3]
        rows += struct.pack(f">{w * 3}H", *(v * 257 for v in row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def _svg(hue: int, title: str) -> bytes:
    r, g, b = _hsv(hue, 0.5, 0.95)
    fill = f"#{r:02x}{g:02x}{b:02x}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200">'
        f"<title>{title}</title>"
        '<rect width="320" height="200" fill="#ffffff"/>'
        f'<rect x="20" y="70" width="80" height="60" rx="8" fill="{fill}" stroke="#333"/>'
        f'<rect x="220" y="70" width="80" height="60" rx="8" fill="{fill}" stroke="#333"/>'
        '<path d="M100 100 H220" stroke="#333" stroke-width="3"/>'
        '<path d="M210 92 L220 100 L210 108" fill="none" stroke="#333" stroke-width="3"/>'
        '<text x="60" y="105" font-size="16" text-anchor="middle">A</text>'
        '<text x="260" y="105" font-size="16" text-anchor="middle">B</text>'
        "</svg>"
    ).encode()


#: Landscape, portrait and square pictures take turns, as a real library mixes them.
SHAPES = ((768, 576), (576, 768), (640, 640))


def image_bytes(fmt: str, hue: int, seed: int, size: tuple[int, int] | None = None) -> bytes:
    size = size or SHAPES[seed % len(SHAPES)]
    im = _picture(hue, size, seed)
    out = io.BytesIO()
    if fmt == "png16":
        return _png16(im.resize((size[0] // 2, size[1] // 2)))
    if fmt == "png":
        im.save(out, "PNG")
    elif fmt == "jpeg":
        im.save(out, "JPEG", quality=88)
    elif fmt == "webp":
        im.save(out, "WEBP", quality=85)
    elif fmt == "avif":
        im.save(out, "AVIF", quality=70)
    elif fmt == "gif":
        frames = [im.quantize(64), im.rotate(180).quantize(64)]
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=300, loop=0)
    else:
        raise ValueError(fmt)
    return out.getvalue()


def seed_library(
    items: tuple[tuple[str, str, str | None, str, str, int], ...] = ITEMS,
    *,
    start: datetime | None = None,
) -> list[Seeded]:
    """Save ``items`` (oldest first, a day apart) with the real pipeline; newest first back."""
    from dsexport.catalog import open_catalog
    from dsexport.pipeline import save_image

    base = start or datetime(2026, 10, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    out = []
    for n, (conv, prompt, model, origin, fmt, hue) in enumerate(items):
        data = _svg(hue, prompt) if fmt == "svg" else image_bytes(fmt, hue, n)
        captured = (base + timedelta(days=n, minutes=7 * n)).isoformat()
        meta = {
            "prompt": prompt,
            "model": model,
            "origin": origin,
            "conversation_id": conv,
            "conversation_title": CONVERSATIONS[conv],
            "page_url": f"https://chat.deepseek.com/a/chat/s/{conv}",
            "captured_at": captured,
            "turn_index": n,
        }
        if origin == "generated":
            meta.update(seed=1000 + n, steps=30, sampler="DPM++ 2M", cfg_scale=7.0)
            meta["negative_prompt"] = "blurry, lowres"
        result = save_image(data, {k: v for k, v in meta.items() if v is not None})
        out.append((str(result.path), fmt, meta))
    with open_catalog() as catalog:
        rows = []
        for path, fmt, meta in out:
            entry = catalog.get(path)
            assert entry is not None, path
            rows.append(
                Seeded(
                    id=entry.id,
                    path=path,
                    format="png" if fmt == "png16" else fmt,
                    prompt=meta["prompt"],
                    conversation_id=meta["conversation_id"],
                    conversation_title=meta["conversation_title"],
                    model=meta["model"],
                    origin=meta["origin"],
                    captured_at=meta["captured_at"],
                )
            )
    return sorted(rows, key=lambda r: r.id, reverse=True)


def add_copies(rows: list[Seeded], count: int) -> list[int]:
    """``count`` more catalog entries, each a hard link of one of ``rows``' files in its own
    subfolder (real, regular files), added through the catalog API; their ids, newest first."""
    from dsexport.catalog import open_catalog
    from dsexport.model import Metadata

    ids = []
    with open_catalog() as catalog, catalog.batch():
        for n in range(count):
            row = rows[n % len(rows)]
            src = Path(row.path)
            folder = src.parent / "copies" / f"{n // 500:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"copy-{n:05d}{src.suffix}"
            os.link(src, path)
            st = path.stat()
            meta = Metadata(
                prompt=f"{row.prompt} (copy {n})",
                conversation_id=row.conversation_id,
                conversation_title=row.conversation_title,
                origin=row.origin,
                captured_at=row.captured_at,
            )
            ids.append(
                catalog.add(
                    path=path,
                    sha256=f"{n:064x}",
                    format=row.format,
                    size=st.st_size,
                    metadata=meta,
                    mtime_ns=st.st_mtime_ns,
                )
            )
    return ids[::-1]
