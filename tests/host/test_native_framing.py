"""``dsexport.native.framing`` in-process: the frame reader against hostile bytes (hypothesis),
the length cap, bounded reads, and replies kept under the browser's 1 MiB limit."""

from __future__ import annotations

import io
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsexport.errors import BadFrame, TooLarge
from dsexport.native import framing
from dsexport.native.framing import (
    EOF,
    MAX_FRAME_BYTES,
    MAX_REPLY_BYTES,
    FrameTooLarge,
    TruncatedFrame,
    fit_reply,
    read_frame,
    write_frame,
)


class CountingStream(io.BytesIO):
    """Records every read size, to prove reads are bounded and nothing past a frame is read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)

    def readinto(self, buffer) -> int:
        self.sizes.append(len(buffer))
        return super().readinto(buffer)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values)
def test_write_then_read_round_trips_any_json_value(value):
    stream = io.BytesIO()
    write_frame(stream, value)
    stream.seek(0)
    assert read_frame(stream) == value
    assert read_frame(stream) is EOF


def test_the_header_is_a_native_endian_uint32_byte_count():
    stream = io.BytesIO()
    size = write_frame(stream, {"prompt": "猫"})
    data = stream.getvalue()
    assert struct.unpack("=I", data[:4]) == (size,) == (len(data) - 4,)
    assert data[4:].isascii()  # non-ASCII is escaped: lone surrogates can never break encoding


def test_a_lone_surrogate_echoed_back_still_encodes():
    stream = io.BytesIO()
    write_frame(stream, {"id": "\ud800"})
    stream.seek(0)
    assert read_frame(stream) == {"id": "\ud800"}


def test_an_oversized_length_is_refused_before_reading_the_body():
    stream = CountingStream(struct.pack("=I", 0xFFFFFFFF) + b"x" * 100)
    with pytest.raises(FrameTooLarge) as info:
        read_frame(stream)
    assert isinstance(info.value, TooLarge) and info.value.length == 0xFFFFFFFF
    assert stream.sizes == [4] and stream.tell() == 4


def test_a_frame_exactly_at_the_cap_is_read():
    body = b'"' + b"a" * (1000 - 2) + b'"'
    stream = io.BytesIO(struct.pack("=I", len(body)) + body)
    assert read_frame(stream, max_bytes=1000) == "a" * 998


def test_bodies_are_read_in_bounded_blocks():
    body = json.dumps("x" * (3 * framing.READ_BLOCK_BYTES)).encode()
    stream = CountingStream(struct.pack("=I", len(body)) + body)
    assert len(read_frame(stream)) == 3 * framing.READ_BLOCK_BYTES
    assert max(stream.sizes) <= framing.READ_BLOCK_BYTES


def test_skip_reads_exactly_the_refused_length_in_blocks():
    stream = CountingStream(b"\0" * (3 * framing.READ_BLOCK_BYTES + 5) + b"next")
    framing.skip_exactly(stream, 3 * framing.READ_BLOCK_BYTES + 5)
    assert stream.read() == b"next"
    assert max(stream.sizes[:-1]) <= framing.READ_BLOCK_BYTES


@pytest.mark.parametrize("cut", range(1, 4 + 9))
def test_eof_inside_a_frame_is_a_truncated_frame(cut):
    data = struct.pack("=I", 9) + b'{"a": 1 }'
    with pytest.raises(TruncatedFrame) as info:
        read_frame(io.BytesIO(data[:cut]))
    assert isinstance(info.value, BadFrame)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff",
        b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8: not valid UTF-8
        "{}".encode("utf-16"),
        b"NaN",
        b"[Infinity]",
        b"[" * 50_000 + b"]" * 50_000,
        b"1" * 10_000,
        b"{} {}",
    ],
)
def test_undecodable_bodies_are_bad_frames_and_the_stream_stays_in_sync(body):
    stream = io.BytesIO(struct.pack("=I", len(body)) + body + struct.pack("=I", 2) + b"{}")
    with pytest.raises(BadFrame) as info:
        read_frame(stream)
    assert not isinstance(info.value, TruncatedFrame)
    assert read_frame(stream) == {}


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_any_bytes_give_a_value_eof_or_a_frame_error(data):
    stream = io.BytesIO(data)
    for _ in range(len(data) + 1):
        try:
            if read_frame(stream, max_bytes=32) is EOF:
                return
        except FrameTooLarge as err:
            try:
                framing.skip_exactly(stream, err.length)
            except TruncatedFrame:
                return
        except TruncatedFrame:
            return
        except BadFrame:
            pass
    raise AssertionError("the reader did not make progress")


def test_fit_reply_keeps_small_replies_byte_for_byte():
    reply = {"id": 1, "ok": True, "result": {"path": "/a/b.png"}}
    assert fit_reply(reply) == framing.encode_frame(reply)


def test_fit_reply_cuts_long_fields_and_marks_the_reply_truncated():
    reply = {"id": 1, "ok": True, "result": {"warnings": ["w" * 5000] * 500, "path": "p" * 10}}
    frame = fit_reply(reply)
    assert len(frame) - 4 <= MAX_REPLY_BYTES
    decoded = json.loads(frame[4:])
    assert decoded["truncated"] is True and decoded["id"] == 1
    assert decoded["result"]["path"] == "p" * 10
    assert len(decoded["result"]["warnings"]) < 500


def test_fit_reply_falls_back_to_a_too_large_error():
    reply = {
        "id": "x",
        "ok": True,
        "result": {f"k{i}": {f"j{j}": "v" * 1000 for j in range(64)} for i in range(64)},
    }
    decoded = json.loads(fit_reply(reply, max_bytes=10_000)[4:])
    assert decoded == {"id": "x", "ok": False, "error": decoded["error"]}
    assert decoded["error"]["code"] == "too_large"


def test_the_frame_cap_leaves_room_for_a_4_mib_chunk_and_stays_below_chrome_s_64_mib():
    from dsexport.native import transfer

    assert transfer.CHUNK_BYTES * 4 // 3 + 64 * 1024 < MAX_FRAME_BYTES < 64 * 1024 * 1024
    assert transfer.MAX_CHUNK_BYTES * 4 // 3 < MAX_FRAME_BYTES
    assert MAX_REPLY_BYTES <= 1024 * 1024 // 4
