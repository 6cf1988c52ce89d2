"""One thumbnail: an open image file → a small JPEG (a WebP where it is transparent) that fits
in a ``size`` × ``size`` box.

Handles what the library holds: JPEG (decoded at a reduced scale, EXIF orientation applied),
PNG including 16-bit and palette images, WebP, GIF and AVIF (first frame of an animation),
CMYK. The decoded pixel count is capped as in ``convert.py`` (decompression bombs). SVG is not
handled: rendering untrusted SVG in the helper is exactly what the library avoids.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from dsexport.errors import CorruptImage, DsError, UnsupportedFormat

JPEG_QUALITY = 85
"""Opaque thumbnails are JPEG: a browser decodes a 256 px JPEG in ~0.3 ms against ~1-1.7 ms for
the WebP of the same picture, and a first screen decodes three dozen of them one after the other
(Library page, docs/performance.md). Quality 85 comes within ~1 dB PSNR of WebP 80, ~35 % larger
(~14 KB against ~10 KB for a detailed 1024 px picture)."""
QUALITY = 80
"""WebP quality, for thumbnails with transparency."""
METHOD = 2
"""libwebp effort 0-6: 2 encodes a 256 px thumbnail in about 1.5 ms (4, the default, takes 2-3
times as long for files 1 % smaller)."""


_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}
"""EXIF orientation → ``Image.Transpose`` value that shows the picture upright (FLIP_LEFT_RIGHT
0, FLIP_TOP_BOTTOM 1, ROTATE_90 2, ROTATE_180 3, ROTATE_270 4, TRANSPOSE 5, TRANSVERSE 6)."""


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    mime: str
    width: int
    height: int


def make_thumbnail(fh: BinaryIO, size: int) -> Thumbnail:
    """Decode the image in ``fh`` (its first frame) and shrink it to fit ``size`` px."""
    from PIL import Image, ImageFile

    from dsexport.convert import MAX_PIXELS

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2  # the same guard as convert.py
    try:
        with Image.open(fh) as im:
            if im.format == "SVG":  # pragma: no cover - Pillow has no SVG plugin
                msg = "SVG thumbnails are drawn by the page, not the helper"
                raise UnsupportedFormat(msg)
            orientation = _orientation(im)
            # Decoding at 1/2, 1/4 or 1/8 scale for JPEG (what Image.thumbnail would ask too,
            # but before the mode conversions below force a full decode).
            im.draft("RGB" if im.mode in ("RGB", "CMYK", "YCbCr") else None, (size * 2, size * 2))
            frame = _eight_bit(im)
            frame.thumbnail((size, size), Image.Resampling.BICUBIC, reducing_gap=2.0)
            method = _TRANSPOSE.get(orientation)
            if method is not None:
                frame = frame.transpose(Image.Transpose(method))
            return _encode(frame)
    except DsError:
        raise
    except Image.DecompressionBombError as err:
        msg = f"the image is too large to make a thumbnail of safely ({err})"
        raise CorruptImage(msg) from err
    except Exception as err:  # Pillow reports broken files with many exception types
        msg = f"the image could not be decoded: {type(err).__name__}: {err}"
        raise CorruptImage(msg) from err


def _orientation(im) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except Exception:  # a broken EXIF block costs the rotation, not the thumbnail
        return 1


def _eight_bit(im):
    """The first frame as 8-bit RGB or L (stored as JPEG) or RGBA (stored as WebP)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Scale 16-bit grey to 8 bits; a plain convert("L") would clip everything above 255.
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "F":
        return im.convert("L")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        return im.convert("RGBA")
    if mode in ("RGB", "L"):
        im.load()
        return im
    return im.convert("RGB")


def _encode(frame) -> Thumbnail:
    from PIL import features

    out = io.BytesIO()
    if frame.mode != "RGBA":
        frame.save(out, "JPEG", quality=JPEG_QUALITY)
        mime = "image/jpeg"
    elif features.check("webp"):
        frame.save(out, "WEBP", quality=QUALITY, method=METHOD)
        mime = "image/webp"
    else:  # pragma: no cover - every Pillow wheel has WebP
        frame.save(out, "PNG")
        mime = "image/png"
    return Thumbnail(out.getvalue(), mime, frame.width, frame.height)


def mime_of(data: bytes) -> str:
    """The MIME type of a cached thumbnail, from its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    return "image/jpeg"
