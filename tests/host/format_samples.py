"""Sample images, payloads and independent structure readers for the container-module tests.

Images are built with Pillow at test time (or by hand where Pillow cannot write the variant, e.g.
16-bit RGB PNG). The readers here are written separately from ``dsexport.formats`` on purpose, so
a losslessness test does not trust the parser it is testing.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from xml.sax.saxutils import escape

UNICODE_SAMPLES = {
    "cjk": "一只戴红围巾的猫，水彩画风格 日本語のテキスト 한국어",
    "emoji": "cat 🐱 with 👩‍👩‍👧 family and flags 🇨🇳🇺🇸 \U0001f9d1\u200d\U0001f3a8",
    "rtl": "قطة ترتدي وشاحًا أحمر — חתול עם צעיף אדום",
    "newlines": "line one\nline two\r\nline three\n\n  indented & <tag> \"quoted\" 'single'",
}


# --- Payloads ---------------------------------------------------------------------------------


def _xml_text(value: str) -> str:
    # XML parsers turn a literal CR LF into LF; a character reference keeps the CR.
    return escape(value, {"\r": "&#13;"})


def xmp_packet(description: str, extra: str = "") -> bytes:
    """An XMP packet shaped like the conventions layer's: dc:description, CreatorTool, record."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:dsexport="https://dsexport.org/ns/1.0/"'
        ' xmp:CreatorTool="dsexport 0.1.0">'
        "<dc:description><rdf:Alt>"
        f'<rdf:li xml:lang="x-default">{_xml_text(description)}</rdf:li>'
        "</rdf:Alt></dc:description>"
        "<Iptc4xmpExt:DigitalSourceType>"
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        "</Iptc4xmpExt:DigitalSourceType>"
        f"<dsexport:record>{_xml_text(extra)}</dsexport:record>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def tiff(description: bytes = b"a cat") -> bytes:
    """A small, spec-clean big-endian TIFF/EXIF block (IFD0 only), so ``exiftool -validate``
    judges our container work and not a sloppy EXIF writer."""
    entries = [
        (0x010E, 2, description + b"\0"),  # ImageDescription
        (0x011A, 5, struct.pack(">II", 72, 1)),  # XResolution
        (0x011B, 5, struct.pack(">II", 72, 1)),  # YResolution
        (0x0128, 3, struct.pack(">H", 2)),  # ResolutionUnit = inches
        (0x0131, 2, b"dsexport tests\0"),  # Software
        (0x0213, 3, struct.pack(">H", 1)),  # YCbCrPositioning = centred
    ]
    sizes = {2: 1, 3: 2, 5: 8}
    ifd_size = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_size
    ifd = struct.pack(">H", len(entries))
    blob = b""
    for tag, kind, value in entries:
        count = len(value) // sizes[kind]
        if len(value) <= 4:
            ifd += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            ifd += struct.pack(">HHII", tag, kind, count, data_at + len(blob))
            blob += value + (b"\0" if len(value) & 1 else b"")
    return b"MM\0*" + struct.pack(">I", 8) + ifd + b"\0\0\0\0" + blob


def payload(text: str = UNICODE_SAMPLES["cjk"], *, with_exif: bool = True, xmp_extra: str = ""):
    from dsexport.formats import Payload

    return Payload(
        parameters=f"{text}\nNegative prompt: blurry\nSteps: 20, Seed: 42",
        exif=tiff() if with_exif else None,
        xmp=xmp_packet(text, xmp_extra),
        text={"Title": f"title {text}", "Software": "dsexport 0.1.0"},
    )


# --- Images -----------------------------------------------------------------------------------


def _gradient(mode: str, size=(48, 32)):
    from PIL import Image

    w, h = size
    im = Image.new("RGB", size)
    im.putdata(
        [((x * 7) % 256, (y * 9) % 256, ((x + y) * 5) % 256) for y in range(h) for x in range(w)]
    )
    if mode == "RGBA":
        alpha = Image.new("L", size)
        alpha.putdata([(x * 5 + y) % 256 for y in range(h) for x in range(w)])
        im.putalpha(alpha)
        return im
    if mode == "P":
        return im.quantize(16)
    return im.convert(mode) if mode != "RGB" else im


def _save(im, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def _frames(mode: str, n: int = 3):
    from PIL import ImageOps

    base = _gradient(mode)
    return [base] + [ImageOps.mirror(base) if i % 2 else base.rotate(180) for i in range(1, n)]


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(ctype + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def png_rgb16(size=(8, 5)) -> bytes:
    """A 16-bit RGB PNG, which Pillow cannot write (it decodes it to 8 bits)."""
    w, h = size
    rows = b"".join(
        b"\0"
        + b"".join(struct.pack(">HHH", x * 4099, y * 7001, (x * y * 313) % 65536) for x in range(w))
        for y in range(h)
    )
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def png_sample(kind: str) -> bytes:
    from PIL import PngImagePlugin

    if kind == "rgb16":
        return png_rgb16()
    if kind == "gray16":
        return _save(_gradient("L").convert("I;16"), "PNG")
    if kind == "apng":
        frames = _frames("RGBA")
        return _save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    if kind == "with-text":
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", "old prompt\nSteps: 1")
        info.add_text("Comment", "keep me")
        info.add_text("Title", "old title", zip=True)
        info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
        return _save(_gradient("RGB"), "PNG", pnginfo=info)
    return _save(_gradient(kind), "PNG")


def icc_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_sample(kind: str = "jfif-icc-exif") -> bytes:
    im = _gradient("RGB")
    if kind == "plain":
        return _save(im, "JPEG", quality=90)
    if kind == "progressive":
        return _save(im, "JPEG", quality=90, progressive=True)
    if kind == "gray":
        return _save(im.convert("L"), "JPEG")
    exif = im.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 CW
    exif[0x010E] = "camera description"
    return _save(im, "JPEG", quality=90, exif=exif.tobytes(), icc_profile=icc_profile())


def webp_sample(kind: str) -> bytes:
    if kind == "lossy":
        return _save(_gradient("RGB"), "WEBP", quality=80)
    if kind == "lossless":
        return _save(_gradient("RGB"), "WEBP", lossless=True)
    if kind == "lossless-alpha":
        return _save(_gradient("RGBA"), "WEBP", lossless=True, exact=True)
    if kind == "lossy-alpha":
        return _save(_gradient("RGBA"), "WEBP", quality=80)
    if kind == "animated":
        frames = _frames("RGBA")
        return _save(
            frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True
        )
    if kind == "icc":
        return _save(_gradient("RGB"), "WEBP", quality=80, icc_profile=icc_profile())
    raise ValueError(kind)


def gif_sample(kind: str = "animated") -> bytes:
    if kind == "still":
        return _save(_gradient("P"), "GIF")
    frames = [f.convert("P") for f in _frames("RGB")]
    return _save(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=80,
        loop=0,
        transparency=0,
    )


def avif_sample(kind: str = "rgba") -> bytes:
    im = _gradient("RGBA" if kind == "rgba" else "RGB")
    kw = {}
    if kind == "with-metadata":
        exif = im.getexif()
        exif[0x010E] = "avif description"
        kw = {"exif": exif.tobytes(), "xmp": xmp_packet("avif prompt 猫")}
    return _save(im, "AVIF", quality=60, **kw)


SVG_SAMPLE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<!-- generated by mermaid -->\n"
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' width="120" height="80" viewBox="0 0 120 80">\n'
    b"  <title>flow \xe6\xb5\x81\xe7\xa8\x8b</title>\n"
    b'  <rect x="1" y="1" width="50" height="30" fill="#fd0"/>\n'
    b'  <text x="5" y="20">A &amp; B</text>\n'
    b"</svg>\n"
)


def samples(name: str) -> dict[str, bytes]:
    """Every sample for one format, by id."""
    if name == "png":
        return {
            k: png_sample(k)
            for k in ("RGB", "RGBA", "P", "L", "gray16", "rgb16", "apng", "with-text")
        }
    if name == "jpeg":
        return {k: jpeg_sample(k) for k in ("jfif-icc-exif", "plain", "progressive", "gray")}
    if name == "webp":
        return {
            k: webp_sample(k)
            for k in ("lossy", "lossless", "lossless-alpha", "lossy-alpha", "animated", "icc")
        }
    if name == "gif":
        return {k: gif_sample(k) for k in ("animated", "still")}
    if name == "avif":
        return {k: avif_sample(k) for k in ("rgba", "with-metadata")}
    if name == "svg":
        return {"diagram": SVG_SAMPLE}
    raise ValueError(name)


# --- Independent structure readers -------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        ctype = data[pos + 4 : pos + 8]
        out.append((ctype, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(marker, payload) before the first SOS, and the bytes from SOS to the end."""
    pos, segs = 2, []
    while True:
        marker = data[pos + 1]
        if marker == 0xDA:
            return segs, data[pos:]
        (length,) = struct.unpack_from(">H", data, pos + 2)
        segs.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    pos, out = 12, []
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def gif_image_blocks(data: bytes) -> list[bytes]:
    """The raw bytes of every image descriptor + colour table + LZW data."""
    pos = 13
    packed = data[10]
    if packed & 0x80:
        pos += 3 * (2 << (packed & 7))
    out = []
    while data[pos] != 0x3B:
        start = pos
        if data[pos] == 0x21:
            pos += 2
        else:
            flags = data[pos + 9]
            pos += 10 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0) + 1
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
        if data[start] == 0x2C:
            out.append(data[start:pos])
    return out


IMAGE_CHUNKS_PNG = {
    b"IHDR",
    b"PLTE",
    b"tRNS",
    b"iCCP",
    b"sRGB",
    b"gAMA",
    b"cHRM",
    b"sBIT",
    b"acTL",
    b"fcTL",
    b"fdAT",
    b"IDAT",
    b"IEND",
    b"pHYs",
}


def image_stream(name: str, data: bytes) -> bytes:
    """The bytes that define the pixels, for a byte-identity check across ``embed``."""
    if name == "png":
        return b"".join(t + d for t, d in png_chunks(data) if t in IMAGE_CHUNKS_PNG)
    if name == "jpeg":
        segs, scan = jpeg_segments(data)
        keep = [
            bytes([m]) + d for m, d in segs if m in (0xDB, 0xC4, 0xDD, 0xE2) or 0xC0 <= m <= 0xCF
        ]
        return b"".join(keep) + scan
    if name == "webp":
        wanted = (b"VP8 ", b"VP8L", b"ALPH", b"ANMF", b"ANIM", b"ICCP")
        return b"".join(t + d for t, d in riff_chunks(data) if t in wanted)
    if name == "gif":
        return b"".join(gif_image_blocks(data))
    raise ValueError(name)


def decoded(data: bytes) -> list[tuple]:
    """Every frame decoded: mode, size, palette, transparency and raw pixels."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as im:
        return [
            (f.mode, f.size, f.getpalette(), f.info.get("transparency"), f.tobytes())
            for f in ImageSequence.Iterator(im)
        ]


# --- ExifTool ---------------------------------------------------------------------------------


def exiftool(tmp_path, data: bytes, suffix: str, *args: str) -> str:
    from testutil import require_tool

    tool = require_tool("exiftool")
    path = tmp_path / f"sample.{suffix}"
    path.write_bytes(data)
    done = subprocess.run([tool, *args, str(path)], capture_output=True, check=False, timeout=60)
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def exiftool_json(tmp_path, data: bytes, suffix: str, *args: str) -> dict:
    import json

    out = exiftool(tmp_path, data, suffix, "-j", "-G1", "-a", *args)
    return json.loads(out)[0]


def has_exiftool() -> bool:
    return shutil.which("exiftool") is not None
