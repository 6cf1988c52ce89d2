"""Hostile inputs shared by the fuzz, path-attack, fault and stress tests: images that lie,
truncated and corrupt images of every format, decompression bombs, polyglots, scripted SVG, HTML
error pages; plus helpers to snapshot a folder tree and to run a call under a hard time bound.

Built by hand (``struct``/``zlib``) or with Pillow at test time, so the corpus needs no files.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from format_samples import SVG_SAMPLE, samples

from dsexport.errors import ERRORS, DsError

FORMAT_NAMES = ("png", "jpeg", "webp", "gif", "avif", "svg")
ERROR_CODES = frozenset(ERRORS) - {"internal"}
"""Codes a hostile input may earn. ``internal`` means a bug in the host."""


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png(width: int, height: int, idat: bytes | None = None, *, extra: bytes = b"") -> bytes:
    """An 8-bit RGB PNG whose header says ``width`` x ``height``; ``idat`` defaults to a row of
    zeros (so a huge header with a tiny body is a header-only bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    if idat is None:
        idat = zlib.compress(b"\0" * (1 + 3 * min(width, 64)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + extra
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def _zip(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, content)
    return buf.getvalue()


def _sample(fmt: str) -> bytes:
    return next(iter(samples(fmt).values()))


def valid_images() -> dict[str, bytes]:
    """One valid sample per format (and every variant format_samples knows)."""
    out = {}
    for fmt in FORMAT_NAMES:
        for kind, data in samples(fmt).items():
            out[f"{fmt}-{kind}"] = data
    return out


def truncated_images() -> dict[str, bytes]:
    """Every format cut at several points: inside the signature, the header, the body, the end."""
    out = {}
    for fmt in FORMAT_NAMES:
        data = _sample(fmt)
        for cut in (1, 4, 12, 30, 100, len(data) // 2, len(data) - 13, len(data) - 1):
            if 0 < cut < len(data):
                out[f"{fmt}-cut{cut}"] = data[:cut]
    return out


def corrupt_images() -> dict[str, bytes]:
    """Structure lies inside otherwise valid files: lengths, CRCs, sizes, markers."""
    out: dict[str, bytes] = {}
    p = _sample("png")
    out["png-ihdr-len-huge"] = p[:8] + b"\xff\xff\xff\xf0" + p[12:]
    out["png-bad-crc"] = p[:29] + b"\0\0\0\0" + p[33:]
    out["png-no-iend"] = p[: p.rfind(b"IEND") - 4]
    out["png-zero-size"] = png(0, 0)
    out["png-text-len-past-end"] = p[:33] + struct.pack(">I", 2**31 - 1) + b"tEXt" + b"k\0v"
    j = _sample("jpeg")
    out["jpeg-segment-len-0"] = j[:4] + b"\x00\x00" + j[6:]
    out["jpeg-segment-len-1"] = j[:4] + b"\x00\x01" + j[6:]
    out["jpeg-segment-len-past-end"] = j[:4] + b"\xff\xff" + j[6:40]
    out["jpeg-only-soi"] = b"\xff\xd8"
    out["jpeg-soi-eoi"] = b"\xff\xd8\xff\xd9"
    out["jpeg-fill-bytes"] = b"\xff\xd8" + b"\xff" * 5000
    w = _sample("webp")
    out["webp-riff-size-huge"] = w[:4] + b"\xff\xff\xff\xff" + w[8:]
    out["webp-riff-size-small"] = w[:4] + b"\x04\0\0\0" + w[8:]
    out["webp-chunk-size-huge"] = w[:16] + b"\xff\xff\xff\x7f" + w[20:]
    out["webp-empty-chunks"] = b"RIFF\x04\0\0\0WEBP"
    g = _sample("gif")
    out["gif-header-only"] = g[:13]
    out["gif-no-trailer"] = g[:-1]
    out["gif-block-len-past-end"] = g[:13] + b"!\xfe\xff" + b"x" * 10
    out["gif-zero-dims"] = b"GIF89a\0\0\0\0\0\0\0;"
    a = _sample("avif")
    out["avif-box-size-huge"] = a[:0] + b"\xff\xff\xff\xff" + a[4:]
    out["avif-box-size-1-no-large"] = b"\0\0\0\x01ftypavif"
    out["avif-box-size-0"] = a[:4] + b"ftypavif" + b"\0" * 4 + b"\0\0\0\0meta"
    out["svg-unclosed"] = SVG_SAMPLE[: SVG_SAMPLE.rfind(b"</svg>")]
    out["svg-not-utf8"] = SVG_SAMPLE.replace(b"flow", b"fl\xffow")
    out["svg-utf16"] = SVG_SAMPLE.decode("utf-8").encode("utf-16")
    return out


def lying_images() -> dict[str, bytes]:
    """Magic bytes of one format in front of something else."""
    p, j = _sample("png"), _sample("jpeg")
    return {
        "png-magic-jpeg-body": p[:8] + j[2:],
        "jpeg-magic-png-body": b"\xff\xd8\xff\xe0" + p[8:],
        "gif-magic-garbage": b"GIF89a" + os.urandom(200),
        "webp-magic-png-body": b"RIFF" + struct.pack("<I", len(p) + 4) + b"WEBP" + p,
        "avif-ftyp-garbage": b"\0\0\0\x18ftypavif\0\0\0\0avifmif1" + os.urandom(200),
        "svg-root-html-body": b'<svg xmlns="http://www.w3.org/2000/svg"><html><body>x</body>',
        "html-named-png": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        "bmp": b"BM" + os.urandom(100),
        "tiff": b"II*\0" + os.urandom(100),
        "pdf": b"%PDF-1.7\n" + os.urandom(100),
        "zip": _zip("a.txt", b"hello"),
        "exe": b"MZ" + os.urandom(200),
        "elf": b"\x7fELF" + os.urandom(200),
        "json-error": b'{"error":"rate limited","code":429}',
        "empty": b"",
        "nul": b"\0" * 64,
    }


def html_error_pages() -> dict[str, bytes]:
    return {
        "404": b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>",
        "403-bom": b"\xef\xbb\xbf<html><body><h1>403 Forbidden</h1></body></html>",
        "cloudflare": b"  \n<!--[if lt IE 7]> <html class='no-js'> <![endif]-->\n<html><head>",
        "login-xml-decl": b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">',
        "nginx-502": b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n",
        "plain-text": b"Access denied. Please sign in.",
    }


def bombs() -> dict[str, bytes]:
    """Decompression bombs: headers that claim billions of pixels, compressed streams that
    inflate enormously, entity expansion."""
    out: dict[str, bytes] = {}
    out["png-header-65535x65535"] = png(65535, 65535)
    out["png-header-2^31x2^31"] = png(2**31 - 1, 2**31 - 1)
    # 20000x20000 RGB: 1.2 GB of pixels inflated from about 1.2 MB of zlib.
    row = b"\0" * (1 + 3 * 20000)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(20000)) + comp.flush()
    out["png-zlib-bomb-20000x20000"] = png(20000, 20000, idat)
    # zTXt text chunk inflating to 256 MiB.
    comp = zlib.compressobj(9)
    z = b"".join(comp.compress(b"A" * (1 << 20)) for _ in range(256)) + comp.flush()
    out["png-ztxt-bomb"] = png(8, 8, extra=png_chunk(b"zTXt", b"parameters\0\0" + z))
    out["png-itxt-bomb"] = png(8, 8, extra=png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\x01\0\0\0" + z))
    # JPEG SOF claiming 65535x65535.
    j = bytearray(_sample("jpeg"))
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = j.find(marker)
        if at > 0:
            j[at + 5 : at + 9] = b"\xff\xff\xff\xff"
    out["jpeg-sof-65535x65535"] = bytes(j)
    # WebP VP8X canvas 16384x16384 (the format's maximum).
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x10\0\0\0" + b"\xff\x3f\0" + b"\xff\x3f\0"
    out["webp-vp8x-16384"] = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    out["gif-65535x65535"] = (
        b"GIF89a\xff\xff\xff\xff\0\0\0" + b",\0\0\0\0\xff\xff\xff\xff\0\x02\x02D\x01\0;"
    )
    lol = b'<!DOCTYPE svg [<!ENTITY a "' + b"A" * 100 + b'">'
    for i in range(1, 10):
        lol += f'<!ENTITY {"a" * (i + 1)} "'.encode() + f"&{'a' * i};".encode() * 10 + b'">'
    out["svg-billion-laughs"] = (
        b'<?xml version="1.0"?>' + lol + b']><svg xmlns="http://www.w3.org/2000/svg">'
        b"<text>&aaaaaaaaaa;</text></svg>"
    )
    out["svg-deep-nesting"] = (
        b'<svg xmlns="http://www.w3.org/2000/svg">'
        + b"<g>" * 100_000
        + b"</g>" * 100_000
        + b"</svg>"
    )
    out["svg-many-attrs"] = (
        b'<svg xmlns="http://www.w3.org/2000/svg" '
        + b" ".join(b"a%d='1'" % i for i in range(50_000))
        + b"/>"
    )
    return out


def polyglots() -> dict[str, bytes]:
    """Files that are two things at once. Acceptable outcomes: saved as the image format the
    bytes start with (extension from that format), or refused with a clear code."""
    p, j, g = _sample("png"), _sample("jpeg"), _sample("gif")
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    jar = _zip("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nMain-Class: Evil\n")
    return {
        "png+zip": p + _zip("evil.html", html),
        "jpeg+html": j + html,
        "jpeg-com-html": j[:2] + b"\xff\xfe" + struct.pack(">H", len(html) + 2) + html + j[2:],
        "gifar": g + jar,
        "html-then-png": html + p,
        "png-text-html": png(8, 8, extra=png_chunk(b"tEXt", b"Comment\0" + html)),
        "svg-then-png": SVG_SAMPLE + p,
        "zip-then-png": jar + p,
    }


def scripted_svgs() -> dict[str, bytes]:
    ns = b'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    return {
        "script": b"<svg " + ns + b"><script>alert(1)</script></svg>",
        "onload": b"<svg " + ns + b' onload="alert(1)"><rect width="1" height="1"/></svg>',
        "external-entity": (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<svg " + ns + b"><text>&x;</text></svg>"
        ),
        "parameter-entity": (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>'
            b"<svg " + ns + b"/>"
        ),
        "external-dtd": (
            b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            b'"http://127.0.0.1:9/svg11.dtd"><svg ' + ns + b' width="4" height="4"/>'
        ),
        "xlink-file": b"<svg " + ns + b'><image xlink:href="file:///etc/passwd"/></svg>',
        "xinclude": (
            b"<svg " + ns + b' xmlns:xi="http://www.w3.org/2001/XInclude">'
            b'<xi:include href="file:///etc/passwd" parse="text"/></svg>'
        ),
        "foreign-html": (
            b"<svg " + ns + b'><foreignObject><body xmlns="http://www.w3.org/1999/xhtml">'
            b"<iframe src='javascript:alert(1)'/></body></foreignObject></svg>"
        ),
        "xml-stylesheet": (
            b'<?xml-stylesheet href="http://127.0.0.1:9/x.xsl" type="text/xsl"?><svg ' + ns + b"/>"
        ),
        "cdata-script": b"<svg " + ns + b"><script><![CDATA[ while(1){} ]]></script></svg>",
    }


def corpus() -> dict[str, bytes]:
    """Everything above, keyed ``category/name``."""
    out: dict[str, bytes] = {}
    for cat, fn in (
        ("truncated", truncated_images),
        ("corrupt", corrupt_images),
        ("lying", lying_images),
        ("html", html_error_pages),
        ("bomb", bombs),
        ("polyglot", polyglots),
        ("svg", scripted_svgs),
    ):
        for name, data in fn().items():
            out[f"{cat}/{name}"] = data
    return out


# --- Helpers ----------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry below ``folder`` (links not followed): relative path → (kind, size, mtime_ns)."""
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                continue
            kind = "link" if os.path.islink(full) else ("dir" if name in dirnames else "file")
            size = 0 if kind == "dir" else st.st_size
            mtime = 0 if kind == "dir" else st.st_mtime_ns
            out[os.path.relpath(full, folder)] = (kind, size, mtime)
    return out


class Hung(AssertionError):
    pass


def bounded(fn: Callable[[], Any], timeout: float = 30.0) -> tuple[Any, BaseException | None]:
    """Run ``fn`` in a daemon thread; fail if it does not finish in ``timeout`` seconds.
    Returns ``(result, exception)``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as err:
            box["error"] = err

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise Hung(f"call did not finish within {timeout} s")
    return box.get("result"), box.get("error")


def assert_clear_error(err: BaseException | None, what: str) -> str:
    """``err`` is a DsError with a documented non-internal code and a message; return the code."""
    assert err is not None, f"{what}: expected an error"
    assert isinstance(err, DsError), f"{what}: {type(err).__name__}: {err} (not a DsError)"
    assert err.code in ERROR_CODES, f"{what}: code {err.code!r}: {err}"
    assert str(err).strip(), f"{what}: empty message"
    return err.code
