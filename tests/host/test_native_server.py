"""``dsexport.native.server`` in-process: one reply per frame, in order, whatever arrives; bugs in
a handler become ``internal`` replies (traceback in the log) and the loop goes on."""

from __future__ import annotations

import io
import json
import logging
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsexport.errors import NotFound
from dsexport.native import framing, server
from dsexport.native.handlers import HANDLERS, Session
from dsexport.native.server import EXIT_BROKEN_STREAM, EXIT_OK, handle, parse_request, serve


def echo(req, session):
    return {"echo": req.fields.get("value")}


def boom(req, session):
    raise RuntimeError("handler bug")


def missing(req, session):
    raise NotFound("no such thing")


TEST_HANDLERS = {"echo": echo, "boom": boom, "missing": missing}


@pytest.fixture(autouse=True)
def private_log(home, monkeypatch):
    """The host's logger is set up on first use, under the HOME of that moment."""
    monkeypatch.setattr(server._LazyLog, "_logger", None)
    yield
    logging.getLogger("dsexport").handlers.clear()


def frames(*objs) -> bytes:
    return b"".join(framing.encode_frame(o) for o in objs)


def replies(data: bytes) -> list[dict]:
    stream, out = io.BytesIO(data), []
    while (value := framing.read_frame(stream)) is not framing.EOF:
        out.append(value)
    return out


def run(data: bytes, session: Session | None = None, **kw) -> tuple[int, list[dict]]:
    out = io.BytesIO()
    status = serve(io.BytesIO(data), out, session, handlers=TEST_HANDLERS, **kw)
    return status, replies(out.getvalue())


def test_every_frame_gets_one_reply_in_order():
    status, got = run(
        frames(
            {"type": "echo", "id": 1, "value": "a"},
            {"type": "boom", "id": 2},
            [],
            {"type": "missing", "id": "m"},
            {"type": "echo", "id": 3, "value": [1, 2]},
        )
    )
    assert status == EXIT_OK
    assert [r["id"] for r in got] == [1, 2, None, "m", 3]
    assert got[0]["result"] == {"echo": "a"}
    assert got[1]["error"]["code"] == "internal" and "handler bug" in got[1]["error"]["message"]
    assert got[2]["error"]["code"] == "bad_request"
    assert got[3]["error"] == {"code": "not_found", "message": "no such thing"}
    assert got[4]["result"] == {"echo": [1, 2]}


def test_a_handler_bug_is_logged_with_its_traceback(home):
    reply = handle({"type": "boom", "id": 9}, Session(), TEST_HANDLERS)
    assert reply["error"]["code"] == "internal"
    log = (home / ".local" / "state" / "dsexport" / "log" / "host.log").read_text("utf-8")
    assert "Traceback" in log and "RuntimeError: handler bug" in log


def test_truncation_answers_bad_frame_and_ends_with_status_1():
    data = frames({"type": "echo", "id": 1}) + struct.pack("=I", 50) + b'{"type"'
    status, got = run(data)
    assert status == EXIT_BROKEN_STREAM
    assert [r["id"] for r in got] == [1, None]
    assert got[1]["error"]["code"] == "bad_frame"


def test_an_oversized_frame_is_answered_then_skipped():
    big = b"z" * 100
    data = struct.pack("=I", len(big)) + big + frames({"type": "echo", "id": 2, "value": 1})
    status, got = run(data, max_frame_bytes=50)
    assert status == EXIT_OK
    assert [r["error"]["code"] if not r["ok"] else r["result"] for r in got] == [
        "too_large",
        {"echo": 1},
    ]


class ClosedOutput(io.BytesIO):
    def write(self, data) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_ends_the_host_quietly():
    session = Session()
    status = serve(io.BytesIO(frames({"type": "echo", "id": 1})), ClosedOutput(), session)
    assert status == EXIT_BROKEN_STREAM


def test_open_transfers_are_removed_at_eof(tmp_path):
    from dsexport.native.transfer import Transfers

    folder = tmp_path / "transfers"
    session = Session(transfers=Transfers(folder))
    session.transfers.begin(10)
    assert len(list(folder.iterdir())) == 1
    assert serve(io.BytesIO(b""), io.BytesIO(), session) == EXIT_OK
    assert list(folder.iterdir()) == []


def test_parse_request_keeps_the_id_when_only_the_type_is_wrong():
    reply = handle({"id": "k", "type": None}, Session(), TEST_HANDLERS)
    assert reply["id"] == "k" and reply["error"]["code"] == "bad_request"
    assert parse_request({"id": 0, "type": "echo", "x": 1}).fields["x"] == 1


def test_the_handler_table_covers_the_protocol():
    assert set(HANDLERS) == {
        "ping",
        "save",
        "transfer_begin",
        "transfer_chunk",
        "transfer_commit",
        "transfer_abort",
        "embed",
        "save_download",
        "clean_staging",
        "config_get",
        "config_set",
        "preview_name",
        "reveal",
        "bundle",
        # the library page
        "bundle_progress",
        "catalog_query",
        "catalog_page",
        "catalog_entry",
        "catalog_conversations",
        "catalog_facets",
        "thumbnails",
        "thumbnail_cache",
        "read_chunk",
        "check",
        "export_begin",
        "export_turns",
        "export_commit",
        "export_abort",
    }


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
messages = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["echo", "boom", "missing", "nope", ""]), "id": json_scalars},
        optional={"value": json_scalars},
    ),
    st.dictionaries(st.text(max_size=5), json_scalars, max_size=4),
    st.lists(json_scalars, max_size=3),
    json_scalars,
)
raw_bodies = st.binary(max_size=40)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(messages.map(lambda m: ("json", m)), raw_bodies.map(lambda b: ("raw", b))),
        max_size=12,
    )
)
def test_fuzzed_streams_of_whole_frames_get_exactly_one_reply_each(items):
    data = b""
    for kind, item in items:
        body = json.dumps(item).encode() if kind == "json" else item
        data += struct.pack("=I", len(body)) + body
    status, got = run(data)
    assert status == EXIT_OK
    assert len(got) == len(items)
    for reply in got:
        assert set(reply) == {"id", "ok", "result"} if reply["ok"] else {"id", "ok", "error"}
        if not reply["ok"]:
            assert reply["error"]["code"] in {
                "bad_frame",
                "bad_request",
                "unknown_request",
                "internal",
                "not_found",
            }


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200))
def test_fuzzed_raw_input_never_raises_and_always_ends(data):
    status, _ = run(data, max_frame_bytes=64)
    assert status in (EXIT_OK, EXIT_BROKEN_STREAM)


def test_a_reply_json_cannot_carry_becomes_an_internal_error_for_that_id():
    from pathlib import Path

    handlers = {
        "path": lambda req, session: {"path": Path("/x")},
        "nan": lambda r, s: {"x": float("nan")},
    }
    out = io.BytesIO()
    status = serve(
        io.BytesIO(frames({"type": "path", "id": 1}, {"type": "nan", "id": 2})),
        out,
        handlers=handlers,
    )
    got = replies(out.getvalue())
    assert status == EXIT_OK
    assert [(r["id"], r["error"]["code"]) for r in got] == [(1, "internal"), (2, "internal")]


class ExplodingInput(io.BytesIO):
    def read(self, size=-1):
        raise MemoryError


def test_an_unexpected_failure_while_reading_is_answered_and_ends_the_loop():
    out = io.BytesIO()
    assert serve(ExplodingInput(), out, handlers=TEST_HANDLERS) == EXIT_BROKEN_STREAM
    [reply] = replies(out.getvalue())
    assert reply["id"] is None and reply["error"]["code"] == "internal"
