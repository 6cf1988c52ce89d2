"""``conventions.build_payload`` and ``conventions.read``: what goes where, what is preserved,
and which reader wins."""

from __future__ import annotations

import json

import pytest

from dsexport.conventions import READERS, a1111, build_payload, exif, read, record, xmp
from dsexport.formats.base import RawFields
from dsexport.model import EMBEDDABLE_FIELDS, Metadata

META = Metadata(
    prompt="一只猫, a cat",
    negative_prompt="blurry",
    steps=20,
    sampler="Euler a",
    seed=7,
    model="m",
    conversation_title="猫 chat",
    page_url="https://chat.deepseek.com/a/chat/s/secret-id",
    image_url="https://cdn.example/a.png",
    captured_at="2026-11-25T09:14:03+00:00",
    tool="dsexport 0.1.0",
)


def test_png_payload_has_parameters_text_chunks_and_no_exif():
    payload = build_payload(META, None, fmt="png")
    assert payload.parameters == a1111.encode(META)
    assert payload.exif is None
    assert payload.text == {
        "Title": "猫 chat",
        "Software": "dsexport 0.1.0",
        "Creation Time": "Wed, 25 Nov 2026 09:14:03 +0000",
        "Description": "一只猫, a cat",
    }
    assert xmp.decode(payload.xmp) == META


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_exif_formats_get_user_comment_and_no_text_chunks(fmt):
    payload = build_payload(META, None, fmt=fmt)
    assert exif.fields(payload.exif)["UserComment"] == a1111.encode(META)
    assert payload.text == {}


@pytest.mark.parametrize("fmt", ["gif", "svg"])
def test_gif_and_svg_get_no_exif(fmt):
    payload = build_payload(META, None, fmt=fmt)
    assert payload.exif is None and payload.text == {}
    assert payload.parameters == a1111.encode(META)


def test_privacy_fields_left_out_appear_nowhere():
    kept = tuple(f for f in EMBEDDABLE_FIELDS if f not in ("page_url", "conversation_title"))
    for fmt in ("png", "jpeg"):
        payload = build_payload(META.only(kept), None, fmt=fmt)
        blobs = [payload.xmp, payload.exif or b"", (payload.parameters or "").encode()]
        blobs += [v.encode() for v in payload.text.values()]
        for blob in blobs:
            assert b"secret-id" not in blob
            assert "猫 chat".encode() not in blob
            assert "猫 chat".encode("utf-16-le") not in blob


def test_foreign_generator_metadata_is_preserved():
    existing = RawFields(
        text={
            "parameters": "their prompt\nSteps: 30, Sampler: DDIM, Seed: 1",
            "Description": "their description",
        }
    )
    payload = build_payload(META, existing, fmt="png")
    assert payload.parameters == existing.text["parameters"]
    assert "Description" not in payload.text  # theirs stays
    assert payload.text["Title"] == "猫 chat"
    assert record.decode(xmp.record_of(payload.xmp)) == META  # ours still goes in


def test_foreign_user_comment_is_preserved_in_exif():
    theirs = exif.encode(Metadata(), "their infotext\nSteps: 1, Sampler: x, Seed: 2")
    payload = build_payload(META, RawFields(exif=theirs), fmt="jpeg")
    assert exif.fields(payload.exif)["UserComment"].startswith("their infotext")
    assert exif.fields(payload.exif)["XPTitle"] == "猫 chat"


def test_our_earlier_metadata_is_replaced():
    first = build_payload(META.replace(prompt="old"), None, fmt="png")
    existing = RawFields(text={"parameters": first.parameters, **first.text}, xmp=first.xmp)
    payload = build_payload(META, existing, fmt="png")
    assert payload.parameters == a1111.encode(META)
    assert payload.text["Description"] == META.prompt
    assert xmp.decode(payload.xmp) == META


def test_readers_table_order():
    assert [r.name for r in READERS] == ["dsexport", "a1111", "comfyui", "novelai", "xmp"]


def test_read_prefers_our_record():
    payload = build_payload(META, None, fmt="png")
    raw = RawFields(text={"parameters": "other\nSteps: 1, Sampler: s, Seed: 1"}, xmp=payload.xmp)
    result = read(raw)
    assert (result.convention, result.metadata) == ("dsexport", META)
    assert result.fields["xmp"]["dc:title"] == "猫 chat"


def test_read_user_comment_wins_over_parameters_like_a1111():
    tiff = exif.encode(Metadata(), "from exif\nSteps: 1, Sampler: s, Seed: 1")
    raw = RawFields(text={"parameters": "from png\nSteps: 2, Sampler: t, Seed: 2"}, exif=tiff)
    result = read(raw)
    assert result.convention == "a1111"
    assert result.metadata.prompt == "from exif"
    assert result.fields["exif"]["UserComment"].startswith("from exif")


def test_read_gif_comment_and_plain_png_description():
    assert read(RawFields(text={"comment": "a gif prompt"})).metadata.prompt == "a gif prompt"
    midjourney = read(RawFields(text={"Description": "a cat --ar 2:1 Job ID: 1"}))
    assert midjourney.convention == "xmp"
    assert midjourney.metadata.prompt == "a cat --ar 2:1 Job ID: 1"


def test_read_json_parameters_is_not_a1111():
    raw = RawFields(text={"parameters": json.dumps({"prompt": "fooocus"})})
    assert read(raw).convention is None


def test_read_nothing():
    assert read(RawFields()) == read(RawFields(text={"Software": "GIMP"}))
    assert read(RawFields()).metadata is None


def test_read_survives_a_broken_record():
    packet = xmp.encode(META, '{"schema":"dsexport.record/1","prompt":', None)
    result = read(RawFields(xmp=packet))
    assert result.convention == "xmp"
    assert result.metadata.prompt == META.prompt


def test_gif_comment_is_kept_only_when_it_is_a_generators_infotext():
    theirs = "their prompt\nSteps: 30, Sampler: DDIM, Seed: 1"
    payload = build_payload(META, RawFields(text={"comment": theirs}), fmt="gif")
    assert payload.parameters == theirs
    payload = build_payload(META, RawFields(text={"comment": "Created with GIMP"}), fmt="gif")
    assert payload.parameters == a1111.encode(META)


def test_a_blank_camera_user_comment_gives_way_to_ours():
    blank = exif.encode(Metadata(), None)
    tiff = exif.parse(blank)
    padded = b"\0" * 8 + b" " * 20
    tiff.ifd0.subs[exif.TAG_EXIF_IFD].entries[exif.TAG_USER_COMMENT] = exif.Entry(
        exif.UNDEFINED, len(padded), padded
    )
    payload = build_payload(META, RawFields(exif=exif.serialize(tiff)), fmt="jpeg")
    assert exif.fields(payload.exif)["UserComment"] == a1111.encode(META)
