"""``dsexport.native.caller``: which argument shapes name which caller, and who is allowed."""

from __future__ import annotations

import json

import pytest

from dsexport.native.caller import (
    BUILTIN_CALLERS,
    CallerRejected,
    allowed_callers,
    check_caller,
    identify_caller,
)

OURS = "chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/"


@pytest.mark.parametrize(
    ("argv", "caller"),
    [
        ([OURS], OURS),
        ([OURS, "--parent-window=0"], OURS),
        ([OURS, "--parent-window=1234", "--reconnect-command=e30="], OURS),
        (
            ["C:\\Program Files\\dsexport\\org.dsexport.host.json", "dsexport@dsexport.org"],
            "dsexport@dsexport.org",
        ),
        (
            ["/x/org.dsexport.host.json", "{0f1e2d3c-aaaa-bbbb-cccc-1234567890ab}"],
            "{0f1e2d3c-aaaa-bbbb-cccc-1234567890ab}",
        ),
    ],
)
def test_browser_argument_shapes_name_the_caller(argv, caller):
    assert identify_caller(argv) == caller


@pytest.mark.parametrize(
    "argv",
    [
        [],
        [""],
        ["chrome-extension://short/"],
        ["chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj"],
        ["chrome-extension://jgaaohokgeldgdegmnjhancfdcganloq/x"],
        [OURS, "not-a-flag"],
        [OURS + "\n"],
        ["/m.json", "bad id with spaces"],
        ["-m", "dsexport@dsexport.org"],
        ["a", "b", "c"],
    ],
)
def test_other_shapes_are_rejected(argv):
    with pytest.raises(CallerRejected):
        identify_caller(argv)


def test_only_allowed_callers_pass(tmp_path):
    other = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
    assert check_caller([OURS]) == OURS
    with pytest.raises(CallerRejected, match="dsexport install"):
        check_caller([other], allowed=BUILTIN_CALLERS)
    assert check_caller([other], allowed=BUILTIN_CALLERS | {other}) == other


def test_the_install_state_adds_callers_and_its_entries_are_normalised(tmp_path):
    state = tmp_path / "install-state.json"
    assert allowed_callers(state) == BUILTIN_CALLERS
    state.write_text(
        json.dumps(
            {
                "allowed_callers": [
                    "chrome-extension://abcdefghijklmnopabcdefghijklmnop",  # no trailing slash
                    " beta@dsexport.org ",
                    42,
                    "",
                ]
            }
        )
    )
    assert allowed_callers(state) == BUILTIN_CALLERS | {
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop/",
        "beta@dsexport.org",
    }


@pytest.mark.parametrize("content", ["{broken", "[]", '{"allowed_callers": "x"}', "\xff"])
def test_a_broken_install_state_falls_back_to_the_builtins(tmp_path, content):
    state = tmp_path / "install-state.json"
    state.write_text(content, "latin-1")
    assert allowed_callers(state) == BUILTIN_CALLERS
