"""Properties every container module must have, run over the whole ``FORMATS`` table."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from format_samples import UNICODE_SAMPLES, decoded, image_stream, payload, samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsexport.errors import CorruptImage, DsError, UnsupportedFormat
from dsexport.formats import FORMATS, ImageInfo, RawFields
from dsexport.formats.base import join

EMBEDDABLE = [n for n in FORMATS if n != "avif"]
RASTER_EMBEDDABLE = [n for n in EMBEDDABLE if n != "svg"]


@cache
def all_samples(name: str) -> dict[str, bytes]:
    return samples(name)


def cases(names):
    return [pytest.param(n, k, id=f"{n}-{k}") for n in names for k in all_samples(n)]


def embed(name: str, data: bytes, p=None) -> bytes:
    parts = FORMATS[name].embed(data, p or payload())
    assert all(isinstance(x, bytes | memoryview) for x in parts)
    return join(parts)


def description_of(xmp: bytes) -> str:
    root = ET.fromstring(xmp)
    li = root.find(".//{http://purl.org/dc/elements/1.1/}description/*/*")
    assert li is not None
    return li.text or ""


@pytest.mark.parametrize("name", FORMATS)
def test_module_has_the_common_interface(name):
    module = FORMATS[name]
    assert name == module.NAME
    assert module.EXTENSION and "." not in module.EXTENSION
    assert module.MIME.startswith("image/")
    for fn in ("accepts", "probe", "embed", "extract", "content_digest"):
        assert callable(getattr(module, fn))


@pytest.mark.parametrize(("name", "kind"), cases(FORMATS))
def test_only_the_own_module_accepts_a_sample(name, kind):
    data = all_samples(name)[kind]
    accepted = [n for n, m in FORMATS.items() if m.accepts(data[:4096])]
    assert accepted == [name]


@pytest.mark.parametrize(("name", "kind"), cases(FORMATS))
def test_probe_reads_the_size_pillow_sees(name, kind):
    data = all_samples(name)[kind]
    info = FORMATS[name].probe(data)
    assert isinstance(info, ImageInfo)
    if name == "svg":
        assert (info.width, info.height) == (120, 80)
        return
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        assert (info.width, info.height) == im.size
        assert info.animated == bool(getattr(im, "is_animated", False))
    assert not info.has_c2pa


@pytest.mark.parametrize(("name", "kind"), cases(EMBEDDABLE))
def test_content_digest_is_the_same_before_and_after_embedding(name, kind):
    """The catalog recognises a file by this digest, computed from its bytes: a save of the same
    picture (whatever metadata it carried before or after) must give the same one, twice over."""
    module = FORMATS[name]
    data = all_samples(name)[kind]
    once = embed(name, data, payload("一只猫"))
    twice = embed(name, once, payload("another prompt, 另一个"))
    digests = {module.content_digest(x) for x in (data, once, twice)}
    assert len(digests) == 1
    assert len(digests.pop()) == 64


@pytest.mark.parametrize("name", FORMATS)
def test_content_digest_differs_for_other_pictures(name):
    found = {k: FORMATS[name].content_digest(d) for k, d in all_samples(name).items()}
    if name == "png":  # the same picture as "RGB", plus text chunks: the same content
        assert found.pop("with-text") == found["RGB"]
    assert len(set(found.values())) == len(found)


@pytest.mark.parametrize(("name", "kind"), cases(RASTER_EMBEDDABLE))
def test_embed_keeps_decoded_pixels_and_image_bytes(name, kind):
    data = all_samples(name)[kind]
    out = embed(name, data)
    assert out != data
    assert image_stream(name, out) == image_stream(name, data)
    assert decoded(out) == decoded(data)
    assert FORMATS[name].probe(out) == FORMATS[name].probe(data)


@pytest.mark.parametrize(("name", "kind"), cases(EMBEDDABLE))
def test_embed_twice_leaves_one_copy(name, kind):
    data = all_samples(name)[kind]
    first = embed(name, data, payload("first prompt"))
    second = embed(name, first, payload("second prompt"))
    once = embed(name, data, payload("second prompt"))
    assert second == once
    assert second.count(b"first prompt") == 0
    assert second.count(b"<x:xmpmeta") + second.count(b"<rdf:RDF") >= 1
    assert second.count(b"W5M0MpCehiHzreSzNTczkc9d") <= 1


@pytest.mark.parametrize("script", UNICODE_SAMPLES)
@pytest.mark.parametrize("name", EMBEDDABLE)
def test_unicode_round_trips_through_embed_and_extract(name, script):
    text = UNICODE_SAMPLES[script]
    p = payload(text)
    data = next(iter(all_samples(name).values()))
    raw = FORMATS[name].extract(embed(name, data, p))
    assert isinstance(raw, RawFields)
    assert raw.xmp is not None
    assert description_of(raw.xmp) == text
    if name != "svg":
        assert raw.xmp == p.xmp
    if name == "png":
        assert raw.text["parameters"] == p.parameters
        assert raw.text["Title"] == p.text["Title"]
    if name == "gif":
        assert raw.text["comment"] == p.parameters
    if name in ("jpeg", "webp"):
        assert raw.exif == p.exif


def _cut_points(size: int) -> list[int]:
    return sorted({1, 7, 12, 20, size // 3, size // 2, size - 40, size - 2, size - 1} - {0})


@pytest.mark.parametrize(("name", "kind"), cases(FORMATS))
def test_truncated_file_raises_corrupt_image(name, kind):
    data = all_samples(name)[kind]
    module = FORMATS[name]
    for cut in _cut_points(len(data)):
        broken = data[:cut]
        if name == "svg" and (not module.accepts(broken) or not data[cut:].strip()):
            continue  # cut inside the prolog (sniffing refuses it) or only trailing whitespace
        for fn in (module.probe, module.extract):
            with pytest.raises(CorruptImage):
                fn(broken)
        if name != "avif":
            with pytest.raises(CorruptImage):
                module.embed(broken, payload())


@pytest.mark.parametrize("name", RASTER_EMBEDDABLE)
def test_embed_returns_views_of_the_input(name):
    data = next(iter(all_samples(name).values()))
    parts = FORMATS[name].embed(data, payload())
    views = [p for p in parts if isinstance(p, memoryview)]
    assert views, "untouched regions must be memoryview slices, not copies"
    assert all(v.obj is data for v in views)


def test_avif_embed_asks_for_a_sidecar():
    data = next(iter(all_samples("avif").values()))
    with pytest.raises(UnsupportedFormat, match="sidecar"):
        FORMATS["avif"].embed(data, payload())


@pytest.mark.parametrize("name", list(FORMATS))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_files_fail_only_with_our_errors(name, data):
    sample = next(iter(all_samples(name).values()))
    positions = data.draw(st.lists(st.integers(0, len(sample) - 1), min_size=1, max_size=4))
    mutated = bytearray(sample)
    for pos in positions:
        mutated[pos] = data.draw(st.integers(0, 255))
    module = FORMATS[name]
    for fn in (module.probe, module.extract, lambda d: module.embed(d, payload())):
        with contextlib.suppress(DsError):
            fn(bytes(mutated))


@pytest.mark.parametrize(("name", "kind"), cases(FORMATS))
def test_mmap_input_can_be_closed_after_success_and_after_errors(tmp_path, name, kind):
    # The pipeline maps files with mmap; a view left in a reference cycle or a traceback frame
    # makes close() fail with BufferError and hides the real error from the user.
    import mmap

    module = FORMATS[name]
    good = all_samples(name)[kind]
    for data in (good, good[: len(good) // 2]):
        path = tmp_path / "image.bin"
        path.write_bytes(data)
        with path.open("rb") as f:
            for call in (module.probe, module.extract, lambda v: join(module.embed(v, payload()))):
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                view = memoryview(mapped)
                with contextlib.suppress(DsError):
                    call(view)
                view.release()
                mapped.close()  # raises BufferError if anything still holds a view


def test_importing_formats_and_sniff_does_not_import_pillow_or_piexif():
    import subprocess
    import sys

    code = (
        "import sys, dsexport.formats, dsexport.sniff; "
        "print(sorted(m for m in ('PIL', 'piexif', 'xml.etree.ElementTree') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_capabilities_cover_every_format_and_say_why_not():
    from PIL import features

    from dsexport.formats import capabilities

    caps = capabilities()
    assert set(caps) == set(FORMATS)
    assert caps["png"] == {"write": True, "embed": True, "reason": None}
    assert caps["jpeg"]["write"] is True
    assert caps["webp"]["write"] == bool(features.check("webp"))
    assert caps["avif"]["write"] == bool(features.check("avif"))
    assert caps["avif"]["embed"] is False and "sidecar" in caps["avif"]["reason"]
    for name in ("gif", "svg"):
        assert caps[name]["write"] is False and caps[name]["reason"]
    for entry in caps.values():
        assert (entry["reason"] is None) == (entry["write"] and entry["embed"])
