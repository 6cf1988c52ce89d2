"""What a file says about itself is never trusted (dsexport/pipeline.py, catalog/files.py,
catalog/maintain.py, catalog/importer.py, every formats/*.py).

Each input here carries a DS Export record, in the place that format keeps XMP, that lies: it
claims another prompt and the SHA-256 of a different picture. After a save, what ``inspect``
shows is what was saved, the file holds exactly one record, and neither ``reindex`` nor a later
save nor ``import --move`` takes the claimed hash for the real one.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path

import pytest
from format_samples import gif_sample, xmp_packet

from dsexport import SaveOptions, save_image
from dsexport.catalog import open_catalog
from dsexport.catalog.importer import import_paths
from dsexport.catalog.maintain import reindex
from dsexport.formats import jpeg, png
from dsexport.pipeline import inspect
from imagebytes import make_image

VICTIM = make_image("png", size=(40, 30))
"""The picture a decoy claims to be (its hash goes into the decoy's record)."""
VICTIM_SHA = hashlib.sha256(VICTIM).hexdigest()
CLAIM = json.dumps(
    {"schema": "dsexport.record/1", "prompt": "claimed by the file", "sha256": VICTIM_SHA},
    separators=(",", ":"),
)
RECORD_MARK = b'"schema":"dsexport.record/'


def claiming_packet() -> bytes:
    return xmp_packet("claimed by the file", CLAIM)


def nested_claim_packet() -> bytes:
    """A record hidden inside another property's value (an XMP struct)."""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:ex="https://example.test/ns/"'
        ' xmlns:dsexport="https://dsexport.org/ns/1.0/">'
        '<ex:note rdf:parseType="Resource"><dsexport:record>'
        f"{CLAIM.replace('&', '&amp;').replace('<', '&lt;')}"
        "</dsexport:record></ex:note>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        t + struct.pack("<I", len(d)) + d + (b"\0" if len(d) & 1 else b"") for t, d in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def webp_with_old_xmp_chunk() -> bytes:
    """A WebP whose XMP sits in an ``XMP\\0`` chunk (an early libwebp spelling readers accept)."""
    data = make_image("webp")
    chunks = [(t, d) for t, d in _chunks(data)]
    vp8 = chunks[0][1]
    w, h = struct.unpack_from("<HH", vp8, 6)
    vp8x = bytes((0x04, 0, 0, 0)) + ((w & 0x3FFF) - 1).to_bytes(3, "little")
    vp8x += ((h & 0x3FFF) - 1).to_bytes(3, "little")
    return _riff([(b"VP8X", vp8x), *chunks, (b"XMP\0", claiming_packet())])


def _chunks(data: bytes):
    pos = 12
    while pos < len(data):
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        yield fourcc, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)


def png_with(packets: list[bytes]) -> bytes:
    data = make_image("png")
    ihdr_end = 8 + 25
    extra = b"".join(png.itxt_chunk("XML:com.adobe.xmp", p) for p in packets)
    return data[:ihdr_end] + extra + data[ihdr_end:]


def jpeg_with(packets: list[bytes]) -> bytes:
    data = make_image("jpeg")
    extra = b"".join(jpeg.segment(0xE1, jpeg.XMP_HEADER + p) for p in packets)
    return data[:2] + extra + data[2:]


def gif_with_xmp() -> bytes:
    from dsexport.formats import gif

    data = gif_sample("still")
    screen_end = 13 + 3 * (2 << (data[10] & 7))
    return data[:screen_end] + gif.xmp_extension(claiming_packet()) + data[screen_end:]


SVG_WITH_CLAIM = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<!-- <metadata id="dsexport"> in a comment is text, not an element -->'
    b"<metadata>" + claiming_packet().split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0] + b"</metadata>"
    b'<rect width="5" height="5"/><circle r="2"/></svg>'
)

INPUTS = {
    "png": lambda: png_with([claiming_packet(), claiming_packet()]),
    "png-nested": lambda: png_with([nested_claim_packet()]),
    "jpeg": lambda: jpeg_with([claiming_packet(), claiming_packet()]),
    "webp-XMP0": webp_with_old_xmp_chunk,
    "gif": gif_with_xmp,
    "svg": lambda: SVG_WITH_CLAIM,
}


@pytest.mark.parametrize("kind", INPUTS)
def test_a_record_in_the_input_is_replaced_by_what_was_saved(kind, home, tmp_path):
    data = INPUTS[kind]()
    assert data.count(b"claimed by the file") >= 1
    result = save_image(data, {"prompt": "what the person saved, 真的"})
    assert result.sha256 == hashlib.sha256(data).hexdigest() != VICTIM_SHA
    saved = Path(result.path).read_bytes()
    assert saved.count(RECORD_MARK) == 1
    assert b"claimed by the file" not in saved
    shown = inspect(result.path)
    assert shown.convention == "dsexport"
    assert shown.metadata.prompt == "what the person saved, 真的"
    assert shown.metadata.sha256 == result.sha256


def test_svg_drawing_survives_a_comment_that_looks_like_our_metadata(home):
    result = save_image(SVG_WITH_CLAIM, {"prompt": "diagram", "origin": "diagram"})
    saved = Path(result.path).read_bytes()
    assert b'<!-- <metadata id="dsexport"> in a comment is text, not an element -->' in saved
    assert b'<rect width="5" height="5"/><circle r="2"/></svg>' in saved
    again = save_image(saved, {"prompt": "diagram, saved again", "origin": "diagram"})
    resaved = Path(again.path).read_bytes() if not again.duplicate else saved
    assert b'<rect width="5" height="5"/><circle r="2"/></svg>' in resaved


def test_an_avif_sidecar_wins_over_what_the_avif_claims(home):
    from format_samples import avif_sample

    data = avif_sample("with-metadata")  # its XMP carries a record of its own
    result = save_image(data, {"prompt": "avif saved by the person"})
    assert result.metadata_in == "sidecar"
    shown = inspect(result.path)
    assert (shown.convention, shown.metadata.prompt) == ("sidecar", "avif saved by the person")


def test_a_decoy_claiming_another_pictures_hash_is_never_its_duplicate(home, tmp_path):
    out = Path(home) / "Pictures" / "DeepSeek"
    decoy = save_image(png_with([claiming_packet()]), {"prompt": "decoy"})
    # The old catalog trusted a reindexed record's sha256; rebuild it from the files.
    with open_catalog() as cat:
        for entry in list(cat.iter_entries()):
            cat.remove(entry.path)
        report = reindex(cat, [out])
        assert report.added == 1 and not report.skipped
        [row] = list(cat.iter_entries())
        assert row.sha256 == hashlib.sha256(Path(decoy.path).read_bytes()).hexdigest()
        assert VICTIM_SHA not in (row.sha256, row.content_sha256)
    victim = save_image(VICTIM, {"prompt": "the real picture"})
    assert not victim.duplicate and victim.path != decoy.path
    assert inspect(victim.path).metadata.prompt == "the real picture"


def test_import_move_deletes_a_source_only_once_its_bytes_are_in_the_output_folder(home, tmp_path):
    out = tmp_path / "library"
    # A decoy in the output folder, catalogued, claiming the source's hash.
    source_dir = tmp_path / "in"
    source_dir.mkdir()
    source = source_dir / "photo.png"
    source.write_bytes(_png_with_parameters())
    claim = json.dumps(
        {
            "schema": "dsexport.record/1",
            "prompt": "decoy",
            "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        },
        separators=(",", ":"),
    )
    decoy = save_image(
        png_with([xmp_packet("decoy", claim)]),
        {"prompt": "decoy"},
        SaveOptions(output_dir=str(out)),
    )
    with open_catalog() as cat:
        reindex(cat, [out], full=True)
        report = import_paths(cat, [source_dir], mode="move", output_dir=out)
    assert not report.failed and not report.kept
    [(_source, dest)] = report.saved
    assert dest != decoy.path
    assert not source.exists()
    from PIL import Image

    with Image.open(dest) as im:
        assert im.info["parameters"].startswith("a photo of a cat")


def _png_with_parameters() -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "a photo of a cat\nSteps: 20, Sampler: Euler a, Seed: 7")
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 10, 10)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_import_move_keeps_a_source_whose_picture_was_saved_with_other_metadata(home, tmp_path):
    out = tmp_path / "library"
    src = tmp_path / "in"
    src.mkdir()
    first = src / "first.png"
    first.write_bytes(_png_with_parameters())
    with open_catalog() as cat:
        import_paths(cat, [first], mode="copy", output_dir=out)
    # The same picture with other metadata: a duplicate, but deleting it would lose its text.
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    other = src / "other.png"
    with Image.open(first) as im:
        info = PngInfo()
        info.add_text("parameters", "another prompt\nSteps: 30, Sampler: DDIM, Seed: 9")
        im.save(other, "PNG", pnginfo=info)
    from dsexport.formats import png as png_module

    assert png_module.content_digest(other.read_bytes()) == png_module.content_digest(
        first.read_bytes()
    )
    with open_catalog() as cat:
        report = import_paths(cat, [src], mode="move", output_dir=out)
    assert other.exists() and [Path(p).name for p, _ in report.kept] == ["other.png"]
    assert "other metadata" in report.kept[0][1]
    assert not first.exists()  # saved from exactly these bytes before: moved
