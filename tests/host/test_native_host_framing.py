"""Hostile framing against the real host process: malformed frames, lying length prefixes, EOF
at every byte of a frame, and callers the host must refuse without a word on stdout."""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys

import pytest
from native_client import (
    FIREFOX_ID,
    ORIGIN,
    Host,
    frame,
    host_argv,
    host_env,
    parse_frames,
    raw_frame,
    run_once,
)

PING = frame({"type": "ping", "id": "after"})
MAX_FRAME_BYTES = 16 * 1024 * 1024  # docs/protocol.md, "Limits"


def assert_still_serving(h: Host) -> None:
    h.send_raw(PING)
    reply = h.recv()
    assert reply["id"] == "after" and reply["ok"] is True


# ---------------------------------------------------------------------------------------------
# Malformed frames: answered, and the host goes on


MALFORMED: list[tuple[str, bytes, str, object]] = [
    ("empty body", raw_frame(b""), "bad_frame", None),
    ("not JSON", raw_frame(b"{type: ping}"), "bad_frame", None),
    ("truncated JSON", raw_frame(b'{"type": "ping", "id": 1'), "bad_frame", None),
    ("invalid UTF-8", raw_frame(b'{"type": "ping", "id": "\xff\xfe"}'), "bad_frame", None),
    ("UTF-16", raw_frame('{"type":"ping","id":1}'.encode("utf-16")), "bad_frame", None),
    ("overlong UTF-8", raw_frame(b'{"type": "\xc0\xaf", "id": 1}'), "bad_frame", None),
    ("NaN", raw_frame(b'{"type": "ping", "id": 1, "x": NaN}'), "bad_frame", None),
    ("Infinity", raw_frame(b'{"type": "ping", "id": 1, "x": -Infinity}'), "bad_frame", None),
    ("deep nesting", raw_frame(b"[" * 100_000 + b"]" * 100_000), "bad_frame", None),
    ("huge integer", raw_frame(b'{"type":"ping","id":1,"x":' + b"9" * 5000 + b"}"), "bad_frame", 0),
    ("trailing garbage", raw_frame(b'{"type": "ping", "id": 1} x'), "bad_frame", None),
    ("array", frame([1, 2]), "bad_request", None),
    ("string", frame("ping"), "bad_request", None),
    ("number", frame(3), "bad_request", None),
    ("null", frame(None), "bad_request", None),
    ("missing id", frame({"type": "ping"}), "bad_request", None),
    ("boolean id", frame({"type": "ping", "id": True}), "bad_request", None),
    ("float id", frame({"type": "ping", "id": 1.5}), "bad_request", None),
    ("object id", frame({"type": "ping", "id": {}}), "bad_request", None),
    ("long id", frame({"type": "ping", "id": "x" * 129}), "bad_request", None),
    ("unsafe integer id", frame({"type": "ping", "id": 2**53}), "bad_request", None),
    ("missing type", frame({"id": 7}), "bad_request", 7),
    ("numeric type", frame({"type": 1, "id": 7}), "bad_request", 7),
    ("empty type", frame({"type": "", "id": 7}), "bad_request", 7),
    ("unknown type", frame({"type": "format_disk", "id": 7}), "unknown_request", 7),
    ("lone surrogate", frame({"type": "\ud800", "id": "s"}), "unknown_request", "s"),
    ("huge string", frame({"type": "ping", "id": 1, "pad": "x" * 10_000_000}), "ok", 1),
    ("wrong field type", frame({"type": "transfer_begin", "id": 8, "size": "5"}), "bad_request", 8),
]


@pytest.fixture(scope="module")
def shared_host(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with Host(home) as h:
        yield h


@pytest.mark.parametrize(
    ("name", "data", "code", "reply_id"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_frames_are_answered_and_the_host_keeps_serving(
    shared_host, name, data, code, reply_id
):
    if name == "huge integer":
        reply_id = None  # the frame does not parse, so its id is unknown
    shared_host.send_raw(data)
    reply = shared_host.recv()
    assert reply["id"] == reply_id
    if code == "ok":
        assert reply["ok"] is True
    else:
        assert reply["ok"] is False and reply["error"]["code"] == code
        assert 0 < len(reply["error"]["message"]) <= 1000
    assert_still_serving(shared_host)


def test_replies_echo_ids_with_unicode_exactly(shared_host):
    for req_id in ["é", "猫", "🐱", "a\nb", "\u202e", ""]:
        shared_host.send({"type": "ping", "id": req_id})
        assert shared_host.recv()["id"] == req_id


# ---------------------------------------------------------------------------------------------
# Length prefixes


def test_oversized_prefix_is_refused_without_allocating(home):
    """0xFFFFFFFF then EOF: answered too_large; with the address space capped at 512 MiB a
    4 GiB allocation would fail with MemoryError (an ``internal`` reply) instead."""

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (512 * 1024 * 1024, 512 * 1024 * 1024))

    proc = subprocess.run(
        host_argv(ORIGIN),
        input=PING + struct.pack("=I", 0xFFFFFFFF) + b'{"type": "ping", "id": 1}',
        capture_output=True,
        env=host_env(home),
        preexec_fn=cap_memory,
        timeout=60,
        check=False,
    )
    first, refused = parse_frames(proc.stdout)
    assert first["ok"] is True
    assert refused == {"id": None, "ok": False, "error": refused["error"]}
    assert refused["error"]["code"] == "too_large"
    assert "4294967295" in refused["error"]["message"]
    assert proc.returncode == 1  # the stream ended inside the refused frame
    assert proc.stderr == b""


def test_an_oversized_frame_is_skipped_and_the_next_one_is_read_in_sync(home):
    junk = b"\x00\xff" * ((MAX_FRAME_BYTES + 2) // 2)  # one byte over, then some
    proc = run_once(
        home,
        raw_frame(junk) + PING + raw_frame(b"{" + b" " * (MAX_FRAME_BYTES - 2) + b"}") + PING,
    )
    assert proc.returncode == 0, proc.stderr
    replies = parse_frames(proc.stdout)
    assert [r["error"]["code"] if not r["ok"] else "ok" for r in replies] == [
        "too_large",
        "ok",
        "bad_request",  # exactly at the limit: read, parsed, and refused for having no id
        "ok",
    ]


def test_length_prefix_is_native_endian(home):
    body = b'{"type":"ping","id":1}'
    swapped = struct.pack("<I" if sys.byteorder == "big" else ">I", len(body))
    proc = run_once(home, swapped + body)
    [reply] = parse_frames(proc.stdout)
    assert reply["error"]["code"] in ("too_large", "bad_frame")  # wrong order: a huge length


# ---------------------------------------------------------------------------------------------
# EOF at every point of a frame


def test_eof_at_every_byte_of_a_frame(home):
    first = frame({"type": "ping", "id": 1})
    second = frame({"type": "ping", "id": 2})
    for cut in range(len(second) + 1):
        proc = run_once(home, first + second[:cut])
        replies = parse_frames(proc.stdout)
        assert replies[0]["id"] == 1 and replies[0]["ok"] is True, cut
        if cut == 0:
            assert (proc.returncode, len(replies)) == (0, 1), cut
        elif cut < len(second):
            assert proc.returncode == 1, cut
            assert len(replies) == 2, cut
            assert replies[1]["id"] is None and replies[1]["error"]["code"] == "bad_frame", cut
        else:
            assert (proc.returncode, replies[1]["id"]) == (0, 2), cut
        assert proc.stderr == b"", cut


def test_eof_without_any_frame_exits_zero_silently(home):
    proc = run_once(home, b"")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


# ---------------------------------------------------------------------------------------------
# Callers


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"],
        ["chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj"],  # no trailing slash: not Chrome's
        ["chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/x"],
        ["chrome-extension://JGAAOHOKGELDGDEGMNJHANCFDCGANLOJ/"],
        [ORIGIN, "extra"],
        ["--allow-any-caller"],
        ["/home/u/.mozilla/native-messaging-hosts/org.dsexport.host.json", "evil@example.com"],
        ["/path/manifest.json", FIREFOX_ID, "extra"],
        [FIREFOX_ID],
        ["moz-extension://dsexport@dsexport.org/"],
    ],
)
def test_a_caller_that_is_not_allowed_gets_no_frame_and_a_non_zero_exit(home, args):
    proc = subprocess.run(
        host_argv(*args),
        input=PING,
        capture_output=True,
        env=host_env(home),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 77
    assert proc.stdout == b""
    assert len(proc.stderr.splitlines()) <= 1


@pytest.mark.parametrize(
    "args",
    [
        [ORIGIN],
        [ORIGIN, "--parent-window=0"],  # Chrome on Windows
        ["/home/u/.mozilla/native-messaging-hosts/org.dsexport.host.json", FIREFOX_ID],
    ],
)
def test_our_own_extension_is_allowed_in_every_browser_shape(home, args):
    proc = run_once(home, PING, *args)
    assert proc.returncode == 0
    assert parse_frames(proc.stdout)[0]["ok"] is True


def test_callers_recorded_by_the_installer_are_allowed(home):
    other = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
    assert run_once(home, PING, other).returncode == 77
    state = home / ".local" / "share" / "dsexport" / "install-state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"allowed_callers": [other, "beta@dsexport.org"]}), "utf-8")
    assert parse_frames(run_once(home, PING, other).stdout)[0]["ok"] is True
    assert run_once(home, PING, "/m.json", "beta@dsexport.org").returncode == 0
    assert run_once(home, PING, "/m.json", "evil@dsexport.org").returncode == 77
    state.write_text("{broken", "utf-8")
    assert run_once(home, PING, other).returncode == 77
    assert run_once(home, PING, ORIGIN).returncode == 0


def test_help_is_available_by_hand(home):
    proc = run_once(home, b"", "--help")
    assert proc.returncode == 0
    assert b"chrome-extension://" in proc.stdout
