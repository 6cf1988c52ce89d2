"""Re-encoding on request (``--format png|jpeg|webp|avif``): the only place pixels are decoded.

Metadata is not written here: the converted bytes go back through the container modules like
any other image, so every output format carries the same fields. What a conversion cannot keep
(bit depth, alpha, animation, orientation tag) is reported as a warning, never dropped silently.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dsexport.errors import CorruptImage, DsError, UnsupportedFormat

MAX_PIXELS = 178_956_970
"""Pixel count above which an image is refused before decoding (Pillow's own hard limit, twice
``Image.MAX_IMAGE_PIXELS``): a small file that decodes to gigabytes is a decompression bomb."""

PILLOW_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF"}


@dataclass(frozen=True)
class Converted:
    data: bytes
    format: str
    warnings: tuple[str, ...]


def _parse_colour(value: str) -> tuple[int, int, int]:
    text = value.lstrip("#")
    if len(text) != 6:
        msg = f"background colour must look like #rrggbb, not {value!r}"
        raise UnsupportedFormat(msg)
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


@contextmanager
def _decoding() -> Iterator[None]:
    """Pillow's plugins report a broken file with whatever their decoder raises: OSError,
    SyntaxError, ValueError, EOFError, struct.error, and RuntimeError from the AVIF plugin
    ("Decoding of alpha plane failed"), on the first frame or on a later one. All of them mean
    the same to the user: the image is corrupt."""
    from PIL import Image

    try:
        yield
    except DsError:
        raise
    except Image.DecompressionBombError as err:
        msg = f"image is too large to convert safely ({err})"
        raise CorruptImage(msg) from err
    except Exception as err:
        msg = f"image could not be decoded: {type(err).__name__}: {err}"
        raise CorruptImage(msg) from err


MAX_ANIMATION_PIXELS = MAX_PIXELS // 2
"""Pixels of all frames together that an animation may decode to (about 360 MB as RGBA). Every
frame is decoded onto the full canvas and kept until the output is written, so a 300 kB GIF of
400 frames of 3000x3000 (each frame one changed pixel) would otherwise take tens of GB."""


def _check_animation_size(n_frames: int, width: int, height: int) -> None:
    if n_frames * width * height > MAX_ANIMATION_PIXELS:
        msg = (
            f"the animation has {n_frames} frames of {width}x{height} pixels, more than the "
            f"{MAX_ANIMATION_PIXELS} pixels in all that can be converted safely (decompression "
            "bomb guard); save it in its original format instead"
        )
        raise CorruptImage(msg)


def _open(data: bytes | memoryview):
    from PIL import Image, ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _frames(im):
    from PIL import ImageSequence

    return [frame.copy() for frame in ImageSequence.Iterator(im)]


def convert(
    data: bytes | memoryview,
    source_format: str,
    target: str,
    *,
    quality: int | None = None,
    background: str = "#ffffff",
) -> Converted:
    """Decode ``data`` and encode it as ``target``; e.g. ``convert(b, "png", "webp")`` gives
    lossless WebP, ``convert(b, "png", "webp", quality=80)`` lossy WebP at 80."""
    from PIL import ImageOps, features

    if target not in PILLOW_FORMAT:
        msg = f"cannot convert to {target!r}; choose png, jpeg, webp or avif"
        raise UnsupportedFormat(msg)
    if source_format == "svg":
        msg = (
            "SVG diagrams are saved as SVG; to get a PNG, choose PNG in the extension, which "
            "renders the diagram in the browser"
        )
        raise UnsupportedFormat(msg)
    if target in ("webp", "avif") and not features.check(target):
        msg = f"this Pillow build cannot write {target.upper()}"
        raise UnsupportedFormat(msg)

    warnings: list[str] = []
    with _decoding():
        im = _open(data)
        icc = im.info.get("icc_profile")
        n_frames = getattr(im, "n_frames", 1)
        animated = n_frames > 1
        if animated and target != "jpeg":
            _check_animation_size(n_frames, im.width, im.height)

        orientation = im.getexif().get(0x0112, 1)
        if orientation not in (1, None):
            warnings.append("EXIF orientation was applied to the pixels")

        def prepare(frame):
            frame = ImageOps.exif_transpose(frame) if orientation not in (1, None) else frame
            return _to_mode(frame, target, background, warnings)

        out = io.BytesIO()
        params: dict = {}
        if icc:
            params["icc_profile"] = icc
        if target == "jpeg":
            params["quality"] = quality or 90
            params["optimize"] = True
        elif target == "webp":
            if quality is None or quality >= 100:
                params.update(lossless=True, quality=100, method=4, exact=True)
            else:
                params.update(quality=quality, method=4)
        elif target == "avif":
            params["quality"] = quality or 90
            if "16" in im.mode or im.mode in ("I", "I;16"):
                warnings.append("AVIF output is 8-bit; bit depth was reduced")
        elif target == "png":
            params["optimize"] = False

        if animated and target in ("png", "webp", "avif"):
            raw_frames = _frames(im)
            frames = [prepare(f) for f in raw_frames]
            durations = [f.info.get("duration", im.info.get("duration", 100)) for f in raw_frames]
            params.update(save_all=True, append_images=frames[1:], duration=durations)
            params["loop"] = im.info.get("loop", 0)
            first = frames[0]
        else:
            if animated:
                warnings.append(
                    f"JPEG cannot hold animation; only the first of {n_frames} frames kept"
                )
            im.seek(0)
            first = prepare(im)

    try:
        first.save(out, PILLOW_FORMAT[target], **params)
    except (OSError, ValueError) as err:
        msg = f"could not encode {target.upper()}: {err}"
        raise UnsupportedFormat(msg) from err
    return Converted(out.getvalue(), target, tuple(dict.fromkeys(warnings)))


def _to_mode(frame, target: str, background: str, warnings: list[str]):
    """Bring a frame to a mode the target can store, noting any loss."""
    from PIL import Image

    mode = frame.mode
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in frame.info)
    if target == "jpeg":
        if has_alpha:
            rgba = frame.convert("RGBA")
            base = Image.new("RGB", rgba.size, _parse_colour(background))
            base.paste(rgba, mask=rgba.getchannel("A"))
            warnings.append(f"transparency flattened onto {background} (JPEG has no alpha)")
            return base
        if mode in ("I;16", "I;16B", "I", "F"):
            warnings.append("JPEG is 8-bit; bit depth was reduced")
            return _to_8bit(frame)
        if mode in ("L", "RGB", "CMYK"):
            return frame
        return frame.convert("RGB")
    if target == "png":
        if mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B"):
            return frame
        if mode == "I":
            return frame.convert("I;16")
        if mode == "CMYK":
            warnings.append("CMYK converted to RGB")
        return frame.convert("RGBA" if has_alpha else "RGB")
    # webp / avif: 8-bit RGB(A)
    if mode in ("I;16", "I;16B", "I", "F"):
        warnings.append(f"{target.upper()} is 8-bit here; bit depth was reduced")
        return _to_8bit(frame).convert("RGB")
    if mode == "CMYK":
        warnings.append("CMYK converted to RGB")
    return frame.convert("RGBA" if has_alpha else "RGB")


def _to_8bit(frame):
    """16-bit grey → 8-bit by scaling (Pillow's plain convert("L") would clip at 255)."""
    if frame.mode == "F":
        return frame.convert("L")
    return frame.convert("I").point(lambda v: v * (1 / 256)).convert("L")
