"""Thumbnails: made from every raster format the library holds (16-bit, animated, EXIF-rotated),
refused for broken files and decompression bombs, cached with a size cap (least recently used
first out), and made on background threads, newest request first."""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from format_samples import avif_sample, gif_sample, jpeg_sample, png_sample, webp_sample

from dsexport.errors import CorruptImage
from dsexport.thumbnails.cache import ThumbnailCache
from dsexport.thumbnails.make import Thumbnail, make_thumbnail, mime_of
from dsexport.thumbnails.worker import Job, ThumbnailWorker


def decode(data: bytes):
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def big(fmt: str, size=(1200, 900), mode="RGB") -> bytes:
    from PIL import Image

    im = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


SAMPLES = {
    "png-rgb": lambda: png_sample("RGB"),
    "png-rgba": lambda: png_sample("RGBA"),
    "png-palette": lambda: png_sample("P"),
    "png-gray16": lambda: png_sample("gray16"),
    "png-rgb16": lambda: png_sample("rgb16"),
    "apng": lambda: png_sample("apng"),
    "jpeg-exif-rotated": lambda: jpeg_sample("jfif-icc-exif"),
    "jpeg-gray": lambda: jpeg_sample("gray"),
    "webp-animated": lambda: webp_sample("animated"),
    "webp-alpha": lambda: webp_sample("lossy-alpha"),
    "gif-animated": lambda: gif_sample("animated"),
    "avif": lambda: avif_sample("rgba"),
    "jpeg-large": lambda: big("JPEG"),
    "png-large": lambda: big("PNG"),
    "jpeg-cmyk": lambda: big("JPEG", (640, 480), "CMYK"),
    "png-la": lambda: big("PNG", (300, 200), "LA"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("box", [256, 512])
def test_every_format_makes_a_thumbnail_that_fits(name, box):
    data = SAMPLES[name]()
    thumb = make_thumbnail(io.BytesIO(data), box)
    assert isinstance(thumb, Thumbnail) and mime_of(thumb.data) == thumb.mime
    im = decode(thumb.data)
    src = decode(data)
    # Transparency needs WebP; an opaque picture is a JPEG, which the page decodes ~5x faster.
    transparent = src.mode in ("RGBA", "LA", "PA") or "transparency" in src.info
    if transparent:
        assert thumb.mime == "image/webp" and im.format == "WEBP"
    else:
        assert thumb.mime == "image/jpeg" and im.format == "JPEG" and im.mode in ("RGB", "L")
    assert (im.width, im.height) == (thumb.width, thumb.height)
    assert max(im.size) <= box
    if max(src.size) > box:  # large images shrink to the box; small ones are never enlarged
        assert max(im.size) == box
    else:
        assert sorted(im.size) == sorted(src.size)


def test_exif_orientation_is_applied():
    data = jpeg_sample("jfif-icc-exif")  # 48x32 stored, orientation 6: shown 32 wide, 48 tall
    im = decode(make_thumbnail(io.BytesIO(data), 256).data)
    assert im.size == (32, 48)


def test_sixteen_bit_grey_is_scaled_not_clipped():
    from PIL import Image

    ramp = Image.linear_gradient("L").resize((64, 64))
    wide = Image.new("I;16", ramp.size)
    wide.putdata([v * 257 for v in ramp.tobytes()])  # the full 16-bit range
    out = io.BytesIO()
    wide.save(out, "PNG")
    im = decode(make_thumbnail(io.BytesIO(out.getvalue()), 256).data).convert("L")
    lo, hi = im.getextrema()
    assert lo < 20 and hi > 230, (lo, hi)  # a plain convert("L") would give 255 almost everywhere
    # The ramp's 64 rows are 64 grey levels; clipping would leave a handful.
    assert sum(1 for n in im.histogram() if n) > 48


def test_transparency_survives():
    im = decode(make_thumbnail(io.BytesIO(png_sample("RGBA")), 256).data)
    assert im.mode == "RGBA" and im.getextrema()[3][0] < 255


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\0" + b"\0" * 3 * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(row * 2))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><title>404</title>",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
        jpeg_sample("plain")[:200],
        _png_header_only(40_000, 40_000),  # 1.6 gigapixels: a decompression bomb
    ],
    ids=["html", "png-garbage", "jpeg-truncated", "bomb"],
)
def test_broken_files_and_bombs_are_refused(data):
    started = time.monotonic()
    with pytest.raises(CorruptImage):
        make_thumbnail(io.BytesIO(data), 256)
    assert time.monotonic() - started < 10


# --- the cache ----------------------------------------------------------------------------------


def _stat(path: Path):
    return os.lstat(path)


def test_keys_follow_the_file(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(b"one")
    k1 = ThumbnailCache.key(str(f), _stat(f), 256)
    assert k1 == ThumbnailCache.key(str(f), _stat(f), 256)
    assert k1 != ThumbnailCache.key(str(f), _stat(f), 512)
    assert k1 != ThumbnailCache.key(str(tmp_path / "b.png"), _stat(f), 256)
    f.write_bytes(b"other bytes")
    assert k1 != ThumbnailCache.key(str(f), _stat(f), 256)


def test_put_get_and_the_least_recently_used_go_first(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs", limit_bytes=10_000)
    keys = [f"{i:02x}" + "a" * 38 for i in range(8)]
    for n, key in enumerate(keys):
        cache.put(key, bytes([n]) * 1000)
        old = time.time() - 1000 + n  # distinct, old enough that a read refreshes them
        os.utime(cache.path_for(key), (old, old))
    assert cache.usage().files == 8 and cache.get(keys[3]) == bytes([3]) * 1000
    # keys[3] was just read: it is now the most recently used.
    for n in range(8, 12):
        cache.put(f"{n:02x}" + "b" * 38, b"x" * 1000)
    usage = cache.usage()
    assert usage.bytes <= 10_000
    assert cache.has(keys[3]), "a thumbnail read a moment ago was evicted"
    assert not cache.has(keys[0]) and not cache.has(keys[1])
    assert cache.clear() == type(usage)(0, 0) and cache.usage().files == 0


def test_a_stale_temp_file_is_swept_and_nothing_escapes_the_folder(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs", limit_bytes=10_000)
    cache.put("ab" + "c" * 38, b"data")
    stale = cache.folder / "ab" / ".tmp-dead.thumb"
    stale.write_bytes(b"half")
    os.utime(stale, (1, 1))
    cache.evict()
    assert not stale.exists() and cache.has("ab" + "c" * 38)
    outside = tmp_path / "keep.thumb"
    outside.write_bytes(b"mine")
    (cache.folder / "zz").symlink_to(tmp_path)
    cache.clear()
    assert outside.read_bytes() == b"mine"


def test_the_cap_comes_from_the_config(home):
    from dsexport.config import set_values
    from dsexport.errors import BadConfig
    from dsexport.thumbnails.cache import default_cache

    assert default_cache().limit_bytes == 300 * 1024 * 1024
    set_values({"thumbnail_cache_mb": 64})
    cache = default_cache()
    assert cache.limit_bytes == 64 * 1024 * 1024
    assert cache.folder == home / ".cache" / "dsexport" / "thumbnails"
    for bad in (0, 15, 100_001, True, "300", 12.5):
        with pytest.raises(BadConfig):
            set_values({"thumbnail_cache_mb": bad})


# --- the worker ---------------------------------------------------------------------------------


def _files(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"img{i}.png"
        p.write_bytes(png_sample("RGB"))
        out.append(p)
    return out


def test_the_worker_fills_the_cache_without_touching_originals(tmp_path):
    files = _files(tmp_path, 5)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    cache = ThumbnailCache(tmp_path / "thumbs", limit_bytes=1 << 20)
    worker = ThumbnailWorker(cache, threads=2)
    jobs = [Job.of(str(p), os.lstat(p), 256) for p in files]
    worker.want(jobs)
    assert worker.wait_idle(30)
    assert all(cache.get(j.key) for j in jobs) and worker.made == 5
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before
    assert sorted(os.listdir(tmp_path)) == sorted([*(p.name for p in files), "thumbs"])
    worker.close()


def test_newest_request_first_and_failures_remembered(tmp_path):
    files = _files(tmp_path, 6)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    order: list[str] = []
    gate = threading.Event()

    def make(fh, size):
        order.append(Path(os.readlink(f"/proc/self/fd/{fh.fileno()}")).name)
        gate.wait(10)
        return make_thumbnail(fh, size)

    cache = ThumbnailCache(tmp_path / "thumbs", limit_bytes=1 << 20)
    worker = ThumbnailWorker(cache, threads=1, make=make)
    first = [Job.of(str(p), os.lstat(p), 256) for p in files[:3]]
    worker.want(first)
    time.sleep(0.2)  # the thread has taken the first job and waits at the gate
    second = [Job.of(str(p), os.lstat(p), 256) for p in files[3:]]
    worker.want(second)
    gate.set()
    assert worker.wait_idle(30)
    names = [Path(f).name for f in files]
    assert order == [names[0], names[3], names[4], names[5], names[1], names[2]]

    bad_job = Job.of(str(bad), os.lstat(bad), 256)
    worker.want([bad_job])
    assert worker.wait_idle(30)
    failure = worker.failure(bad_job.key)
    assert failure is not None and failure.code == "corrupt_image"
    count = len(order)
    worker.want([bad_job])  # not tried again
    assert worker.wait_idle(5) and len(order) == count
    worker.close()
