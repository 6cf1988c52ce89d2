from __future__ import annotations

import struct

import pytest
from format_samples import avif_sample, payload

from dsexport.errors import CorruptImage, UnsupportedFormat
from dsexport.formats import avif
from testutil import skip_unless_ci


@pytest.fixture(autouse=True)
def _needs_avif():
    from PIL import features

    if not features.check("avif"):
        skip_unless_ci("this Pillow build cannot write AVIF test files")


def test_accepts_avif_brands_only():
    assert avif.accepts(avif_sample())
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"
    assert not avif.accepts(heic)


def test_probe_reads_size_alpha_and_depth():
    info = avif.probe(avif_sample("rgba"))
    assert (info.width, info.height) == (48, 32)
    assert info.has_alpha is True
    assert info.bit_depth == 8
    assert info.animated is False
    assert avif.probe(avif_sample("with-metadata")).has_alpha is False


def test_extract_reads_exif_and_xmp_items():
    raw = avif.extract(avif_sample("with-metadata"))
    assert raw.exif is not None and raw.exif[:4] in (b"MM\0*", b"II*\0")
    assert b"avif description" in raw.exif
    assert raw.xmp is not None and "avif prompt 猫".encode() in raw.xmp
    assert avif.extract(avif_sample("rgba")).exif is None


def test_c2pa_uuid_box_is_detected():
    box = struct.pack(">I", 8 + 16 + 4) + b"uuid" + avif.C2PA_UUID + b"jumb"
    assert avif.probe(avif_sample() + box).has_c2pa is True


def test_embed_refuses_so_the_pipeline_writes_a_sidecar():
    with pytest.raises(UnsupportedFormat, match="sidecar"):
        avif.embed(avif_sample(), payload())


def test_box_past_the_end_is_corrupt():
    with pytest.raises(CorruptImage):
        avif.probe(avif_sample()[:-5])


def test_animated_avif_is_reported_as_animated():
    import io

    from PIL import Image

    frames = [Image.new("RGB", (20, 10), c) for c in ("red", "blue", "green")]
    buf = io.BytesIO()
    frames[0].save(buf, "AVIF", save_all=True, append_images=frames[1:], duration=100)
    info = avif.probe(buf.getvalue())
    assert info.animated is True
    assert (info.width, info.height) == (20, 10)
