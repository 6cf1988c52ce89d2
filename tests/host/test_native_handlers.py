"""Pieces of ``dsexport.native.handlers`` that the subprocess tests cannot reach: the file-manager
command of each OS, and strict base64."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsexport.errors import BadRequest
from dsexport.native.handlers.fields import decode_base64 as _base64
from dsexport.native.handlers.reveal import reveal_commands

FILE = Path("/home/ana/Pictures/DeepSeek/2026-11-25/a, b & c;$(x).png")


def test_reveal_on_macos_selects_the_file_in_finder():
    assert reveal_commands(FILE, platform="darwin") == [["open", "-R", str(FILE)]]


def test_reveal_on_windows_selects_the_file_in_explorer():
    assert reveal_commands(FILE, platform="win32") == [["explorer", "/select,", str(FILE)]]


def test_reveal_on_linux_asks_the_file_manager_over_dbus_then_falls_back_to_xdg_open():
    commands = reveal_commands(
        FILE,
        platform="linux",
        which=lambda name: f"/usr/bin/{name}",
        environ={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"},
    )
    assert commands[-1] == ["xdg-open", str(FILE.parent)]
    dbus = commands[0]
    assert dbus[0] == "dbus-send" and "org.freedesktop.FileManager1.ShowItems" in dbus
    item = next(a for a in dbus if a.startswith("array:string:"))
    assert "," not in item.removeprefix("array:string:")  # a comma would split the array
    assert item.endswith("a%2C%20b%20%26%20c%3B%24%28x%29.png")


def test_reveal_on_linux_without_a_session_bus_uses_xdg_open():
    commands = reveal_commands(FILE, platform="linux", which=lambda n: None, environ={})
    assert commands == [["xdg-open", str(FILE.parent)]]


@pytest.mark.parametrize(
    ("text", "data"),
    [("", b""), ("QQ==", b"A"), ("QUJD", b"ABC"), ("data:image/png;base64,QUI=", b"AB")],
)
def test_base64_accepts_padded_standard_base64(text, data):
    assert _base64(text, "data") == data


@pytest.mark.parametrize(
    "text", ["QUJD=", "QUJD====", "QQ", "QU JD", "QU\nJD", "QUJ-", "é===", "data:,QUJD", "QQ=A"]
)
def test_base64_refuses_anything_else(text):
    with pytest.raises(BadRequest):
        _base64(text, "data")


def test_base64_is_decoded_by_pybase64_a_runtime_dependency():
    # Firefox sends every image as base64: binascii takes 5-6 ms per 2 MB image holding the GIL,
    # pybase64 about 0.2 ms. A packaging slip that loses it would only show as a slow save.
    from dsexport.native.handlers import fields

    assert fields._strict_decoder() is not fields._binascii_strict
    assert fields._strict_decoder().func.__module__.startswith("pybase64")


_QUADS = st.lists(st.sampled_from([*"AQgw+/09zZ", "=", "-", " ", "é", "\n"]), max_size=24)


@given(_QUADS.map("".join))
def test_base64_fast_and_fallback_decoders_accept_and_refuse_the_same_text(text):
    from dsexport.native.handlers import fields

    def outcome(decode):
        try:
            return decode(text)
        except (ValueError, TypeError):
            return "refused"

    if len(text) % 4 == 0 and not text.endswith("==="):
        assert outcome(fields._strict_decoder()) == outcome(fields._binascii_strict)
