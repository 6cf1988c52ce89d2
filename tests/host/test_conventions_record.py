"""Our JSON record: exact round trip of every field, Unicode included."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsexport.conventions import record
from dsexport.errors import BadRequest
from dsexport.model import ORIGINS, Metadata

SPECIAL = list("一只猫🐱👨‍👩‍👧שלוםمرحبا\n\r\t\",:'\\ {}<>&\x00\x7f\x85\u2028\ufffe\uffff")
TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from(SPECIAL)))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
METADATA = st.builds(
    Metadata,
    prompt=st.none() | TEXT,
    negative_prompt=st.none() | TEXT,
    seed=st.none() | st.integers(),
    steps=st.none() | st.integers(0, 10_000),
    sampler=st.none() | TEXT,
    cfg_scale=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    model=st.none() | TEXT,
    width=st.none() | st.integers(1, 100_000),
    height=st.none() | st.integers(1, 100_000),
    page_url=st.none() | TEXT,
    image_url=st.none() | TEXT,
    conversation_title=st.none() | TEXT,
    conversation_id=st.none() | TEXT,
    turn_index=st.none() | st.integers(0, 1000),
    origin=st.sampled_from(ORIGINS),
    captured_at=st.none() | TEXT,
    tool=st.none() | TEXT,
    sha256=st.none() | st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    extra=st.dictionaries(TEXT, JSON_VALUES, max_size=4),
)

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@settings(max_examples=300)
@given(METADATA)
def test_record_round_trips_every_field_exactly(meta):
    text = record.encode(meta)
    assert record.decode(text) == meta


@given(METADATA)
def test_record_text_is_xml_safe_utf8(meta):
    text = record.encode(meta)
    assert not XML_ILLEGAL.search(text)
    text.encode("utf-8")  # no lone surrogates left raw
    assert "\n" not in text and "\r" not in text


def test_record_keeps_lone_surrogates_and_noncharacters_via_escapes():
    meta = Metadata(prompt="a\ud800b\ufffe\x7f", extra={"k\udfff": ["\uffff"]})
    text = record.encode(meta)
    assert "\\ud800" in text and "\\ufffe" in text and "\\u007f" in text
    assert record.decode(text) == meta


def test_record_is_compact_and_versioned():
    text = record.encode(Metadata(prompt="猫", seed=1))
    assert text == '{"schema":"dsexport.record/1","prompt":"猫","seed":1,"origin":"generated"}'
    assert record.looks_like_record(text)


def test_record_refuses_nan():
    with pytest.raises(BadRequest, match="JSON"):
        record.encode(Metadata(cfg_scale=float("nan")))


@pytest.mark.parametrize(
    "text",
    ["[]", '"x"', '{"prompt": "x"}', '{"schema": "other/1"}', "{", "[" * 100_000 + "]" * 100_000],
)
def test_record_decode_rejects_what_is_not_ours(text):
    with pytest.raises(ValueError):
        record.decode(text)


def test_record_decode_ignores_wrong_types_and_unknown_keys():
    text = json.dumps(
        {
            "schema": "dsexport.record/7",
            "prompt": 5,
            "seed": "1",
            "steps": True,
            "cfg_scale": 7,
            "origin": "stolen",
            "future": 1,
            "model": "m",
        }
    )
    assert record.decode(text) == Metadata(cfg_scale=7, model="m")
