"""A caller that is not allowed gets nothing: a real ``dsexport host`` process started with a
hostile first argument, and fed a ping and a save anyway, exits non-zero having written zero
bytes on stdout and no file anywhere in its HOME (no config, catalog or picture)."""

from __future__ import annotations

import pytest
from hostile import snapshot
from native_client import b64, frame, run_once, small_png

OUR_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
REQUESTS = frame({"type": "ping", "id": 1}) + frame(
    {"type": "save", "id": 2, "image": {"data": b64(small_png())}}
)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        [""],
        ["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"],
        [f"chrome-extension://{OUR_ID.upper()}/"],
        [f"chrome-extension://{OUR_ID}x/"],
        [f"chrome-extension://{OUR_ID[:-1]}/"],
        [f"chrome-extension://{OUR_ID}/../abcdefghijklmnopabcdefghijklmnop/"],
        [f"chrome-extension://{OUR_ID}/popup.html"],
        [f"chrome-extension://{OUR_ID}@evil/"],
        [f"moz-extension://{OUR_ID}/"],
        [f"https://{OUR_ID}/"],
        [f"chrome-extension://{OUR_ID.replace('a', 'а')}/"],  # Cyrillic a
        [f"chrome-extension://{OUR_ID}/", "--parent-window=0", "; rm -rf ~"],
        # (our origin followed by "--name[=value]" is accepted: Chrome may add such flags)
        [f"chrome-extension://{OUR_ID}/", "--Parent-Window"],
        [f"chrome-extension://{OUR_ID}/", "-x"],
        ["/home/u/.mozilla/native-messaging-hosts/org.dsexport.host.json", "evil@evil.org"],
        ["/manifest.json", "dsexport@dsexport.org.evil"],
        ["/manifest.json", "DSEXPORT@DSEXPORT.ORG"],
        ["/manifest.json", "dsexport@dsexport.org", "extra"],
        ["dsexport@dsexport.org"],
        ["--allow-any-caller"],
        # ("-h" prints the CLI's help: a browser always passes the origin first)
        ["chrome-extension://" + "a" * 5000 + "/"],
    ],
)
def test_disallowed_caller_gets_nothing(tmp_path, argv):
    home = tmp_path / "home"
    home.mkdir()
    before = snapshot(tmp_path)
    proc = run_once(home, REQUESTS, *argv, timeout=30) if argv else run_once_no_args(home)
    assert proc.returncode != 0, proc
    assert proc.stdout == b"", f"wrote {len(proc.stdout)} bytes on stdout"
    assert len(proc.stderr.splitlines()) <= 1, proc.stderr
    after = snapshot(tmp_path)
    # The refusal itself is logged (host.log under ~/.local/state); nothing else may appear.
    logs = ("home/.local", "home/.local/state")
    new = sorted(
        p for p in set(after) - set(before) if p not in logs and not p.startswith(logs[1] + "/")
    )
    assert not new, f"files created by a refused caller: {new}"


def run_once_no_args(home):
    import subprocess
    import sys

    from native_client import host_env

    return subprocess.run(
        [sys.executable, "-m", "dsexport", "host"],
        input=REQUESTS,
        capture_output=True,
        env=host_env(home),
        timeout=30,
        check=False,
    )
