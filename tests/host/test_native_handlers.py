"""Pieces of ``dsexport.native.handlers`` that the subprocess tests cannot reach: the file-manager
command of each OS, and strict base64."""

from __future__ import annotations

from pathlib import Path

import pytest

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
