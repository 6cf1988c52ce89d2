"""Draw the extension's toolbar icons: a blue rounded square with a white "save" arrow.

Run from the repository root:  python tools/make_icons.py  → extension/icons/icon-{16,32,48,128}.png
Drawn at 8x and downscaled, so the small sizes stay crisp without hand-tuned pixels.
"""

from __future__ import annotations

from pathlib import Path

SIZES = (16, 32, 48, 128)
BLUE = (77, 107, 254, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "extension" / "icons"


def draw(size: int):
    from PIL import Image, ImageDraw

    scale = 8
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=BLUE)
    # A downward arrow onto a tray: "save to disk", readable at 16 px.
    stem_w = s * 0.16
    cx = s / 2
    d.rectangle((cx - stem_w / 2, s * 0.16, cx + stem_w / 2, s * 0.52), fill=WHITE)
    d.polygon([(s * 0.24, s * 0.46), (s * 0.76, s * 0.46), (cx, s * 0.72)], fill=WHITE)
    tray = s * 0.09
    d.rectangle((s * 0.18, s * 0.78, s * 0.82, s * 0.78 + tray), fill=WHITE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
