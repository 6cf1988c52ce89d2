"""The frame reader of a real ``dsexport host`` process under hostile bytes.

One long-lived host (``python -m dsexport host chrome-extension://<id>/`` with a temp HOME) gets
hypothesis-generated frame bodies: random bytes, invalid UTF-8, invalid JSON, JSON that is not an
object, objects with fields of the wrong type, huge strings. After each frame it must have sent
exactly one reply (``id`` echoed or ``null``; an error code from dsexport/errors.py, never
``internal``) and must still answer ``ping``. Frames that end the stream (truncated header or
body, a length of 0xFFFFFFFF) are sent to one-shot hosts, which must answer and exit 1 without a
stray byte on stdout. Every read is bounded by a timeout (``Host.recv``).
"""

from __future__ import annotations

import json
import os
import struct

import pytest
from hostile import ERROR_CODES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_client import ORIGIN, Host, frame, parse_frames, raw_frame, run_once

REPLY_TIMEOUT = 20
EXAMPLES = int(os.environ.get("DSEXPORT_FUZZ_EXAMPLES", "250"))


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz-frames-home")
    with Host(home) as h:
        yield h
        assert h.close() == 0


def assert_error_reply(reply: dict, req_id=None) -> str:
    assert set(reply) >= {"id", "ok"}, reply
    assert reply["id"] == req_id, reply
    assert reply["ok"] is False, reply
    code = reply["error"]["code"]
    assert code in ERROR_CODES, f"code {code!r} for a hostile frame: {reply}"
    assert reply["error"]["message"]
    return code


def still_serving(host: Host) -> None:
    reply = host.request("ping", timeout=REPLY_TIMEOUT)
    assert reply["ok"] is True and reply["result"]["protocol"] == 1, reply


# --- bodies that keep the stream in sync --------------------------------------------------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_value = st.recursive(
    json_leaf,
    lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=10), c, max_size=5),
    max_leaves=20,
)
invalid_utf8 = st.sampled_from(
    [
        b"\xff",
        b"\xc0\xaf",  # overlong '/'
        b"\xed\xa0\x80",  # encoded surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b'{"type":"ping","id":"\xe9"}',  # Latin-1
        b"\xef\xbb\xbf{}",  # BOM
        '{"type":"ping","id":1}'.encode("utf-16"),
        '{"type":"ping","id":1}'.encode("utf-32"),
    ]
)
invalid_json = st.sampled_from(
    [
        b"",
        b" ",
        b"{",
        b'{"type":"ping","id":1',
        b'{"type":"ping","id":1}}',
        b'{"type":"ping","id":1} {"type":"ping","id":2}',
        b"NaN",
        b'{"id":NaN,"type":"ping"}',
        b'{"id":Infinity,"type":"ping"}',
        b'{"id":-Infinity,"type":"ping"}',
        b"1" * 5000,  # beyond Python's int digit limit
        b"[" * 100_000 + b"]" * 100_000,  # nesting beyond the recursion limit
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"'single'",
        b"{'type':'ping'}",
        b"\x00",
        b'"\\ud800"',  # lone surrogate escape: valid JSON, must still get a reply
        b'{"type":"ping","id":"\\ud800"}',
    ]
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.binary(max_size=200) | invalid_utf8 | invalid_json)
def test_garbage_bodies_get_one_error_reply_each(host, body):
    host.send_raw(raw_frame(body))
    reply = host.recv(REPLY_TIMEOUT)
    if reply.get("ok") is True:
        # Random bytes can be a valid request only by being one; that must be a ping.
        assert json.loads(body)["type"] == "ping"
    else:
        assert_error_reply(reply, reply["id"])
    still_serving(host)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(message=json_value)
def test_json_values_that_are_not_requests(host, message):
    host.send(message)
    reply = host.recv(REPLY_TIMEOUT)
    assert reply["ok"] is False, (message, reply)
    code = assert_error_reply(reply, reply["id"])
    assert code in ("bad_request", "unknown_request"), (message, reply)
    still_serving(host)


envelope_field = st.one_of(
    json_value,
    st.text(min_size=100, max_size=300),
    st.integers(2**53, 2**70),
    st.just(""),
    st.just(True),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(req_id=envelope_field, req_type=envelope_field, extra=st.dictionaries(st.text(), json_value))
def test_envelopes_with_wrong_types(host, req_id, req_type, extra):
    message = {**extra, "id": req_id, "type": req_type}
    host.send(message)
    reply = host.recv(REPLY_TIMEOUT)
    valid_id = (isinstance(req_id, str) and len(req_id) <= 128) or (
        isinstance(req_id, int) and not isinstance(req_id, bool) and abs(req_id) < 2**53
    )
    if reply["ok"]:
        assert req_type == "ping" or req_type in ("config_get", "preview_name"), reply
    else:
        assert_error_reply(reply, reply["id"])
        # The id is echoed whenever it was readable, so the extension can match the reply.
        assert reply["id"] == (req_id if valid_id else None), (message, reply)
    still_serving(host)


def test_huge_strings_within_one_frame(host):
    """Strings of several MB in every position: answered, bounded reply, host still serving."""
    big = "界" * (3 * 1024 * 1024)
    for message in (
        {"type": big, "id": 1},
        {"type": "ping", "id": big},
        {"type": "save", "id": 2, "image": {"data": big}},
        {"type": "save", "id": 3, "image": {"data": "A" * (12 * 1024 * 1024)}},
        {"type": "save", "id": 4, "image": {"data": "iVBO"}, "metadata": {"prompt": big}},
        {"type": "preview_name", "id": 5, "template": big},
        {"type": "embed", "id": 6, "path": "/" + big},
        {big[:1_000_000]: big[:1_000_000], "type": "ping", "id": 7},
    ):
        host.send(message)
        reply = host.recv(REPLY_TIMEOUT)
        if message["id"] == 7:
            assert reply["ok"] is True  # unknown fields are ignored
        else:
            assert_error_reply(reply, reply["id"])
        still_serving(host)


def test_length_zero_frames_in_a_row(host):
    host.send_raw(raw_frame(b"") * 50)
    for _ in range(50):
        assert assert_error_reply(host.recv(REPLY_TIMEOUT)) == "bad_frame"
    still_serving(host)


def test_pipelined_frames_are_answered_in_order(host):
    frames = b"".join(
        frame({"type": "ping", "id": i}) if i % 3 else raw_frame(b"\xff" * i) for i in range(60)
    )
    host.send_raw(frames)
    for i in range(60):
        reply = host.recv(REPLY_TIMEOUT)
        assert reply["id"] == (i if i % 3 else None), reply
    still_serving(host)


def test_frame_over_the_cap_is_skipped_exactly(host):
    """A length of cap + 1 is refused before its body is read; the body is then skipped and the
    next frame is read in sync."""
    limit = 16 * 1024 * 1024
    body = b'{"type":"ping","id":"smuggled"}'.ljust(limit + 1, b" ")
    host.send_raw(raw_frame(body) + frame({"type": "ping", "id": "after"}))
    reply = host.recv(REPLY_TIMEOUT)
    assert assert_error_reply(reply) == "too_large"
    after = host.recv(REPLY_TIMEOUT)
    assert after["id"] == "after" and after["ok"] is True, "the skipped body was read as a frame"
    still_serving(host)


# --- frames that end the stream: one-shot hosts -------------------------------------------------

PING = frame({"type": "ping", "id": 1})


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("header-1-byte", PING[:1]),
        ("header-2-bytes", PING[:2]),
        ("header-3-bytes", PING[:3]),
        ("body-empty", PING[:4]),
        ("body-half", PING[: 4 + len(PING) // 2]),
        ("body-less-one", PING[:-1]),
        ("ping-then-header-cut", PING + PING[:2]),
        ("ping-then-body-cut", PING + PING[:10]),
        ("length-0xFFFFFFFF", struct.pack("=I", 0xFFFFFFFF)),
        ("length-0xFFFFFFFF-then-ping", struct.pack("=I", 0xFFFFFFFF) + PING),
        ("length-0x80000000", struct.pack("=I", 0x80000000) + b"{}"),
        ("length-says-more", struct.pack("=I", 1000) + b'{"type":"ping","id":1}'),
    ],
)
def test_stream_ending_frames_one_shot(tmp_path, name, data):
    proc = run_once(tmp_path, data, ORIGIN, timeout=30)
    replies = parse_frames(proc.stdout)  # frames only, nothing else on stdout
    assert proc.returncode == 1, (name, proc.returncode, replies)
    assert replies, f"{name}: no reply before exiting"
    last = replies[-1]
    code = assert_error_reply(last)
    assert code == ("too_large" if "0x" in name else "bad_frame"), (name, last)
    pings = [r for r in replies if r.get("ok")]
    assert len(pings) == (1 if name.startswith("ping-then") else 0), (name, replies)
    assert proc.stderr == b"", proc.stderr


def test_clean_eof_between_frames_exits_zero(tmp_path):
    proc = run_once(tmp_path, PING * 3 + raw_frame(b"\xff") + PING, ORIGIN, timeout=30)
    assert proc.returncode == 0
    replies = parse_frames(proc.stdout)
    assert [r["ok"] for r in replies] == [True, True, True, False, True]


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(1, 200), tail=st.binary(max_size=8))
def test_random_cuts_of_a_save_request_one_shot(tmp_path_factory, cut, tail):
    """A save frame cut anywhere, possibly followed by a few stray bytes: a reply and exit 1, or
    (when the cut fell exactly on a frame boundary) a clean exit."""
    home = tmp_path_factory.mktemp("cut")
    data = frame({"type": "save", "id": 9, "image": {"data": "iVBORw0KGgo="}}) + PING
    data = data[: cut % len(data)] + tail
    proc = run_once(home, data, ORIGIN, timeout=30)
    replies = parse_frames(proc.stdout)
    assert proc.returncode in (0, 1), proc.returncode
    for reply in replies:
        if not reply["ok"]:
            assert_error_reply(reply, reply["id"])
    if proc.returncode == 1:
        assert replies and not replies[-1]["ok"]
