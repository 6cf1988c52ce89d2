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


# --- Camera-like files -------------------------------------------------------------------------
#
# A JPEG as cameras write it: APP1 Exif first (no JFIF), little-endian TIFF, IFD0 → ExifIFD →
# Interop, GPS, IFD1 with a JPEG thumbnail, and a Canon-style maker note: an IFD inside the
# MakerNote value whose value offsets count from the TIFF header (absolute), so moving the maker
# note without fixing them makes every reader show garbage. No Canon offset footer either, so
# ExifTool cannot repair a moved maker note on its own.

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}


class _Ifd:
    def __init__(self, entries, kind="ifd"):
        self.entries = entries  # [(tag, type, value)], value: bytes | _Ifd
        self.kind = kind
        self.offset = 0

    def size(self) -> int:
        n = len(self.entries)
        return 2 + 12 * n + 4 + sum(_padded(len(v)) for _, _, v in self._values() if len(v) > 4)

    def _values(self):
        return [(t, k, v) for t, k, v in self.entries if isinstance(v, bytes) and v != b"@thumb"]


def _padded(n: int) -> int:
    return n + (n & 1)


def _tiff(order: str, ifds: list[_Ifd], thumbnail: bytes | None) -> bytes:
    """Lay the IFDs out one after the other from offset 8, then the thumbnail."""
    cursor = 8
    for ifd in ifds:
        ifd.offset = cursor
        cursor += ifd.size()
    thumb_at = cursor
    out = bytearray(b"II*\0" if order == "<" else b"MM\0*")
    out += struct.pack(order + "I", ifds[0].offset)
    for ifd in ifds:
        assert len(out) == ifd.offset
        values = bytearray()
        value_at = ifd.offset + 2 + 12 * len(ifd.entries) + 4
        directory = bytearray(struct.pack(order + "H", len(ifd.entries)))
        for tag, kind, value in sorted(ifd.entries, key=lambda e: e[0]):
            if isinstance(value, _Ifd):
                if value.kind == "makernote":  # the maker note: an IFD stored as a value
                    size = value.size()
                    directory += struct.pack(order + "HHII", tag, 7, size, value.offset)
                else:
                    directory += struct.pack(order + "HHII", tag, 4, 1, value.offset)
                continue
            if value == b"@thumb":
                directory += struct.pack(order + "HHII", tag, 4, 1, thumb_at)
                continue
            count = len(value) // _TYPE_SIZE[kind]
            if len(value) <= 4:
                directory += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\0")
            else:
                directory += struct.pack(order + "HHII", tag, kind, count, value_at + len(values))
                values += value + (b"\0" if len(value) & 1 else b"")
        next_ifd = ifds[-1].offset if ifd is ifds[0] and ifds[-1].kind == "ifd1" else 0
        directory += struct.pack(order + "I", next_ifd)
        out += directory + values
    if thumbnail is not None:
        out += thumbnail
    return bytes(out)


def camera_exif(
    *,
    order: str = "<",
    description: str | None = "OLYMPUS DIGITAL CAMERA",
    taken: str = "2019:07:14 16:03:27",
    with_maker_note: bool = True,
    size: tuple[int, int] = (64, 48),
) -> bytes:
    """TIFF bytes shaped like a Canon EOS camera's EXIF (see the section comment)."""

    def asc(text: str) -> bytes:
        return text.encode() + b"\0"

    def short(*v: int) -> bytes:
        return struct.pack(order + "H" * len(v), *v)

    def long_(*v: int) -> bytes:
        return struct.pack(order + "I" * len(v), *v)

    def rational(*pairs: tuple[int, int]) -> bytes:
        return b"".join(struct.pack(order + "II", a, b) for a, b in pairs)

    thumb = make_image("jpeg", size=(16, 12), quality=70)
    maker = _Ifd(
        [
            (0x0001, 3, short(92, 1, 0, 3, 0, 0, 0, 1, *range(38))),  # CanonCameraSettings
            (0x0006, 2, asc("Canon EOS 5D Mark II").ljust(32, b"\0")),  # CanonImageType
            (0x0007, 2, asc("Firmware Version 2.1.1").ljust(32, b"\0")),  # CanonFirmwareVersion
            (0x0009, 2, asc("Ana Lima").ljust(32, b"\0")),  # OwnerName
            (0x000C, 4, long_(1234567890)),  # SerialNumber
            (0x0010, 4, long_(0x80000218)),  # CanonModelID
        ],
        kind="makernote",
    )
    interop = _Ifd([(0x0001, 2, b"R98\0"), (0x0002, 7, b"0100")])
    gps = _Ifd(
        [
            (0x0000, 1, bytes((2, 3, 0, 0))),
            (0x0001, 2, b"N\0"),
            (0x0002, 5, rational((48, 1), (51, 1), (2939, 100))),
            (0x0003, 2, b"E\0"),
            (0x0004, 5, rational((2, 1), (17, 1), (4012, 100))),
        ]
    )
    exif_entries = [
        (0x829A, 5, rational((1, 125))),  # ExposureTime
        (0x829D, 5, rational((56, 10))),  # FNumber
        (0x8827, 3, short(400)),  # ISO
        (0x9000, 7, b"0230"),  # ExifVersion
        (0x9003, 2, asc(taken)),  # DateTimeOriginal
        (0x9004, 2, asc(taken)),  # CreateDate
        (0x9101, 7, bytes((1, 2, 3, 0))),  # ComponentsConfiguration
        (0x920A, 5, rational((50, 1))),  # FocalLength
        (0x9286, 7, b"\0" * 264),  # UserComment: empty, as Canon writes it
        (0xA000, 7, b"0100"),  # FlashpixVersion
        (0xA001, 3, short(1)),  # ColorSpace sRGB
        (0xA002, 4, long_(size[0])),  # PixelXDimension
        (0xA003, 4, long_(size[1])),  # PixelYDimension
        (0xA005, 4, interop),  # InteropIFD
    ]
    if with_maker_note:
        exif_entries.append((0x927C, 7, maker))
    exif_ifd = _Ifd(exif_entries)
    ifd0_entries = [
        (0x010F, 2, asc("Canon")),
        (0x0110, 2, asc("Canon EOS 5D Mark II")),
        (0x0112, 3, short(1)),
        (0x011A, 5, rational((72, 1))),
        (0x011B, 5, rational((72, 1))),
        (0x0128, 3, short(2)),
        (0x0132, 2, asc(taken)),
        (0x0213, 3, short(2)),
        (0x8769, 4, exif_ifd),
        (0x8825, 4, gps),
    ]
    if description is not None:
        ifd0_entries.append((0x010E, 2, asc(description)))
    ifd0 = _Ifd(ifd0_entries)
    ifd1 = _Ifd(
        [
            (0x0103, 3, short(6)),  # Compression: JPEG
            (0x011A, 5, rational((72, 1))),
            (0x011B, 5, rational((72, 1))),
            (0x0128, 3, short(2)),
            (0x0201, 4, b"@thumb"),  # ThumbnailOffset
            (0x0202, 4, long_(len(thumb))),  # ThumbnailLength
        ],
        kind="ifd1",
    )
    layout = [ifd0, exif_ifd, interop, gps]
    if with_maker_note:
        layout.append(maker)
    return _tiff(order, [*layout, ifd1], thumb)


def camera_jpeg(**kwargs) -> bytes:
    """A camera-like JPEG: ``camera_exif(**kwargs)`` in APP1 right after SOI, no JFIF."""
    size = kwargs.get("size", (64, 48))
    plain = make_image("jpeg", size=size, quality=92)
    assert plain[2:4] == b"\xff\xe0"  # Pillow's JFIF APP0 goes: cameras write Exif first
    app0_end = 4 + struct.unpack(">H", plain[4:6])[0]
    tiff = camera_exif(**kwargs)
    app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\0\0" + tiff
    return plain[:2] + app1 + plain[app0_end:]
