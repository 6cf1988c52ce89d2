"""Bytes → format name, by asking each container module's ``accepts``.

The answer never comes from a file name, a URL or a ``Content-Type``: servers lie, and an HTML
error page saved as ``cat.png`` must be refused with a message that says what it really is.
"""

from __future__ import annotations

import re

from .errors import UnsupportedFormat
from .formats import FORMATS

SNIFF_BYTES = 4096
"""How much of the file ``accepts`` sees. Binary magic needs 64 bytes; an SVG's root element can
follow an XML declaration, comments and a DOCTYPE, so text formats get a few kilobytes."""

_HTML = re.compile(
    rb"\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)[\s>]",
    re.I | re.S,
)

#: Formats we recognise but do not accept, by magic prefix.
_OTHER_IMAGES: tuple[tuple[bytes, int, str], ...] = (
    (b"BM", 0, "BMP"),
    (b"II*\0", 0, "TIFF"),
    (b"MM\0*", 0, "TIFF"),
    (b"\0\0\1\0", 0, "ICO"),
    (b"\xff\x0a", 0, "JPEG XL"),
    (b"\0\0\0\x0cJXL ", 0, "JPEG XL"),
    (b"8BPS", 0, "Photoshop (PSD)"),
    (b"%PDF", 0, "PDF"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def sniff(data: bytes | memoryview) -> str:
    """The format name (a key of ``FORMATS``), e.g. ``sniff(Path("a.png").read_bytes()) == "png"``.

    Raises ``UnsupportedFormat`` with a message that says what the bytes look like instead.
    """
    head = bytes(memoryview(data)[:SNIFF_BYTES])
    if not head:
        msg = "the file is empty (0 bytes); the download probably failed — try again"
        raise UnsupportedFormat(msg, reason="empty_file")
    for name, module in FORMATS.items():
        if module.accepts(head):
            return name
    msg, reason, params = _describe(head)
    raise UnsupportedFormat(msg, reason=reason, **params)


def _describe(head: bytes) -> tuple[str, str, dict[str, str]]:
    """What the bytes look like instead: (English message, reason, params) for the reply."""
    text = head.lstrip(b"\xef\xbb\xbf")
    if _HTML.match(text):
        msg = (
            "this looks like an HTML page, not an image — the server probably returned an error "
            "or a login page; open the image in the browser and try again"
        )
        return msg, "html_page", {}
    stripped = text.lstrip()
    if stripped[:1] in (b"{", b"["):
        msg = (
            "this looks like a JSON response, not an image — the server probably returned an "
            "error message instead of the picture"
        )
        return msg, "json_response", {}
    supported = "PNG, JPEG, WebP, GIF, AVIF, SVG"
    for magic, offset, name in _OTHER_IMAGES:
        if head[offset : offset + len(magic)] == magic:
            msg = f"{name} files are not supported; supported: {supported}"
            return msg, "image_kind_unsupported", {"kind": name, "supported": supported}
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        msg = f"HEIC/HEIF files are not supported; supported: {supported}"
        return msg, "image_kind_unsupported", {"kind": "HEIC/HEIF", "supported": supported}
    if stripped.startswith(b"<"):
        msg = "this is an XML or text document, not an SVG image or a supported picture"
        return msg, "text_document", {}
    preview = head[:8].hex(" ")
    msg = f"unknown file format (first bytes: {preview}); supported: {supported}"
    return msg, "unknown_format", {"supported": supported}
