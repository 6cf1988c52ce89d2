"""Independent readers of container structure, for losslessness proofs in tests.

Written separately from ``dsexport.formats`` on purpose: a test that parsed our output with our
own parser could not catch a bug the two share.
"""

from __future__ import annotations

import io
import struct


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        out.append((ctype, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
        if ctype == b"IEND":
            break
    return out


def png_image_stream(data: bytes) -> bytes:
    """Concatenated IDAT (and APNG fdAT) payloads: the compressed pixels."""
    return b"".join(d for t, d in png_chunks(data) if t in (b"IDAT", b"fdAT"))


def jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Marker segments before the first SOS, and everything from SOS to the end."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    pos, segs = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        if marker == 0xDA:
            return segs, data[pos:]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segs.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length


def jpeg_image_stream(data: bytes) -> bytes:
    """Tables that define the pixels plus the entropy-coded data (SOS to EOI)."""
    segs, scan = jpeg_segments(data)
    tables = b"".join(
        bytes([m]) + d for m, d in segs if m in (0xDB, 0xC4, 0xDD) or 0xC0 <= m <= 0xCF
    )
    return tables + scan


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", "not a WebP"
    pos, out = 12, []
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def webp_image_stream(data: bytes) -> bytes:
    return b"".join(d for t, d in riff_chunks(data) if t in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF"))


def image_stream(fmt: str, data: bytes) -> bytes:
    return {"png": png_image_stream, "jpeg": jpeg_image_stream, "webp": webp_image_stream}[fmt](
        data
    )


def pixels(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    """Every frame decoded: mode, size and raw pixels."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as im:
        return [(f.mode, f.size, f.tobytes()) for f in ImageSequence.Iterator(im)]


def make_image(fmt: str, size=(64, 48), mode="RGB", **save_args) -> bytes:
    """A small deterministic test image with some structure (not one flat colour)."""
    from PIL import Image

    w, h = size
    im = Image.new("RGB", size)
    im.putdata(
        [((x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256) for y in range(h) for x in range(w)]
    )
    if mode != "RGB":
        im = im.convert(mode)
        if mode == "RGBA":
            alpha = Image.new("L", size)
            alpha.putdata([(x * 4) % 256 for y in range(h) for x in range(w)])
            im.putalpha(alpha)
    out = io.BytesIO()
    im.save(out, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}[fmt], **save_args)
    return out.getvalue()
