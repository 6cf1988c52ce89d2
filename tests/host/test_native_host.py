"""``dsexport host`` as the browser runs it: a real subprocess, a private HOME, frames on pipes.

Every request type, one-shot and long-lived use, and the host answering (and going on) after
every kind of bad input. The hostile-framing cases are in test_native_host_framing.py, the
40 MB chunked image in test_native_host_transfer.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
import time
from pathlib import Path

import pytest
from native_client import ORIGIN, Host, b64, frame, parse_frames, run_once, small_png


@pytest.fixture
def host(home: Path):
    with Host(home) as h:
        yield h


def output_dir(home: Path) -> Path:
    return home / "Pictures" / "DeepSeek"


# ---------------------------------------------------------------------------------------------
# ping, one-shot and long-lived


def test_one_shot_ping_answers_once_and_exits_zero(home):
    proc = run_once(home, frame({"type": "ping", "id": "p1"}))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    [reply] = parse_frames(proc.stdout)
    assert reply["id"] == "p1" and reply["ok"] is True
    result = reply["result"]
    from dsexport import __version__

    assert result["version"] == __version__
    caps = result["capabilities"]
    assert "original" in caps["write_formats"] and "png" in caps["write_formats"]
    assert {"png", "jpeg", "webp", "gif"} <= set(caps["read_formats"])
    assert all(isinstance(reason, str) and reason for reason in caps["not_writable"].values())
    assert not set(caps["write_formats"]) & set(caps["not_writable"])
    limits = result["limits"]
    assert limits["max_frame_bytes"] >= 12 * 1024 * 1024
    assert limits["chunk_bytes"] * 4 // 3 + 1024 < limits["max_frame_bytes"]
    assert limits["max_image_bytes"] >= 40 * 1024 * 1024
    assert result["config"]["output_dir"] == str(output_dir(home))


def test_long_lived_host_answers_in_order_then_exits_zero_on_eof(home):
    with Host(home) as h:
        ids = ["a", 2, "c" * 128, -5, 0]
        for req_id in ids:
            h.send({"type": "ping", "id": req_id})
        assert [h.recv()["id"] for _ in ids] == ids
        for _ in range(20):
            assert h.result("ping")["version"]
        assert h.close() == 0
        assert h.proc.stderr.read() == b""


def test_ping_config_follows_config_set_and_a_hand_edited_file(home, host):
    assert host.result("ping")["config"]["format"] == "original"
    host.result("config_set", values={"format": "webp", "quality": 70})
    config = host.result("ping")["config"]
    assert (config["format"], config["quality"]) == ("webp", 70)
    # Another process (the CLI, an editor) changes the file: ping must not serve a stale copy.
    config_file = home / ".config" / "dsexport" / "config.json"
    stored = json.loads(config_file.read_text("utf-8"))
    stored["format"] = "png"
    config_file.write_text(json.dumps(stored), "utf-8")
    assert host.result("ping")["config"]["format"] == "png"


def test_ping_reports_a_broken_config_instead_of_failing(home, host):
    config_file = home / ".config" / "dsexport" / "config.json"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("{not json", "utf-8")
    result = host.result("ping")
    assert result["config"] is None
    assert result["config_error"]["code"] == "bad_config"
    assert "config reset" in result["config_error"]["message"]
    assert host.error("config_get")["code"] == "bad_config"


# ---------------------------------------------------------------------------------------------
# save


def test_save_writes_the_image_with_its_metadata(home, host):
    from dsexport import read_metadata

    png = small_png()
    result = host.result(
        "save",
        image={"data": b64(png), "url": "https://cdn.deepseek.com/x.png", "mime": "image/png"},
        metadata={"prompt": "一只猫 🐱 in a scarf", "seed": 42, "page_url": "https://chat.x/a"},
        options={"format": "original"},
    )
    path = Path(result["path"])
    assert path.is_file() and path.is_relative_to(output_dir(home))
    assert result["format"] == "png" and result["duplicate"] is False
    assert result["sha256"] == hashlib.sha256(png).hexdigest()
    assert result["bytes_written"] == path.stat().st_size > len(png)
    meta = read_metadata(path)
    assert meta.prompt == "一只猫 🐱 in a scarf" and meta.seed == 42
    assert meta.image_url == "https://cdn.deepseek.com/x.png"
    again = host.result("save", image={"data": b64(png)}, metadata={"prompt": "x"})
    assert again["duplicate"] is True and again["path"] == result["path"]


def test_save_accepts_a_data_url(home, host):
    url = "data:image/png;base64," + b64(small_png())
    assert Path(host.result("save", image={"data": url}, metadata={})["path"]).is_file()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "bad_request"),
        ({"image": "abc"}, "bad_request"),
        ({"image": {}}, "bad_request"),
        ({"image": {"data": 5}}, "bad_request"),
        ({"image": {"data": "!!!not base64!!!"}}, "bad_request"),
        ({"image": {"data": "QUJD="}}, "bad_request"),  # bad padding
        ({"image": {"data": "data:text/html,<b>hi</b>"}}, "bad_request"),
        ({"image": {"data": b64(b"<!doctype html><html>Not found</html>")}}, "unsupported_format"),
        ({"image": {"data": b64(small_png()[:40])}}, "corrupt_image"),
        ({"image": {"data": b64(small_png())}, "metadata": []}, "bad_request"),
        ({"image": {"data": b64(small_png())}, "metadata": {"seed": "x"}}, "bad_request"),
        ({"image": {"data": b64(small_png())}, "options": {"format": "bmp"}}, "bad_request"),
        ({"image": {"data": b64(small_png())}, "options": {"output_dir": "/tmp"}}, "bad_request"),
    ],
)
def test_save_refuses_bad_input_and_keeps_serving(home, host, fields, code):
    assert host.error("save", **fields)["code"] == code
    assert host.result("ping")["version"]
    out = output_dir(home)
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


# ---------------------------------------------------------------------------------------------
# chunked transfer (small; the 40 MB case is in test_native_host_transfer.py)


def transfers_dir(home: Path) -> Path:
    return home / ".cache" / "dsexport" / "transfers"


def test_transfer_assembles_chunks_and_saves(home, host):
    from dsexport import read_metadata

    png = small_png() + b""  # a few hundred bytes, sent in 3 chunks
    sha = hashlib.sha256(png).hexdigest()
    begun = host.result("transfer_begin", size=len(png), sha256=sha.upper())
    tid = begun["transfer_id"]
    cuts = [0, 10, 100, len(png)]
    for start, end in itertools.pairwise(cuts):
        got = host.result("transfer_chunk", transfer_id=tid, offset=start, data=b64(png[start:end]))
        assert got == {"received": end}
    assert len(list(transfers_dir(home).iterdir())) == 1
    result = host.result("transfer_commit", transfer_id=tid, metadata={"prompt": "chunked"})
    assert result["sha256"] == sha
    assert read_metadata(result["path"]).prompt == "chunked"
    assert list(transfers_dir(home).iterdir()) == []
    assert host.error("transfer_chunk", transfer_id=tid, offset=0, data="AA==")["code"] == (
        "not_found"
    )


def test_transfer_refuses_gaps_overruns_and_bad_hashes(home, host):
    png = small_png()
    tid = host.result("transfer_begin", size=len(png))["transfer_id"]
    # Out of order, overlapping, past the end, empty, not base64.
    assert host.error("transfer_chunk", transfer_id=tid, offset=5, data=b64(png))["code"] == (
        "bad_request"
    )
    assert host.error("transfer_chunk", transfer_id=tid, offset=0, data=b64(png + b"x"))[
        "code"
    ] == ("too_large")
    assert host.error("transfer_chunk", transfer_id=tid, offset=0, data="")["code"] == (
        "bad_request"
    )
    assert host.error("transfer_chunk", transfer_id=tid, offset="0", data="AA==")["code"] == (
        "bad_request"
    )
    host.result("transfer_chunk", transfer_id=tid, offset=0, data=b64(png[:20]))
    # Incomplete commit: refused, and the transfer stays open for the rest.
    err = host.error("transfer_commit", transfer_id=tid, metadata={})
    assert err["code"] == "bad_request" and "20 of" in err["message"]
    host.result("transfer_chunk", transfer_id=tid, offset=20, data=b64(png[20:]))
    assert host.result("transfer_commit", transfer_id=tid, metadata={})["format"] == "png"

    bad = host.result("transfer_begin", size=len(png), sha256="0" * 64)["transfer_id"]
    host.result("transfer_chunk", transfer_id=bad, offset=0, data=b64(png))
    assert "sha256" in host.error("transfer_commit", transfer_id=bad, metadata={})["message"]
    assert list(transfers_dir(home).iterdir()) == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"size": 0}, "bad_request"),
        ({"size": -1}, "bad_request"),
        ({"size": 1.5}, "bad_request"),
        ({"size": True}, "bad_request"),
        ({"size": "100"}, "bad_request"),
        ({"size": 2**40}, "too_large"),
        ({"size": 10, "sha256": "xyz"}, "bad_request"),
    ],
)
def test_transfer_begin_checks_its_fields(host, fields, code):
    assert host.error("transfer_begin", **fields)["code"] == code


def test_transfer_abort_unknown_ids_and_open_limit(home, host):
    tids = [host.result("transfer_begin", size=100)["transfer_id"] for _ in range(4)]
    assert host.error("transfer_begin", size=100)["code"] == "too_large"
    host.result("transfer_abort", transfer_id=tids[0])
    assert host.error("transfer_abort", transfer_id=tids[0])["code"] == "not_found"
    assert host.error("transfer_abort", transfer_id="../../etc/passwd")["code"] == "bad_request"
    assert host.error("transfer_commit", transfer_id="f" * 32, metadata={})["code"] == "not_found"
    host.result("transfer_begin", size=100)
    assert len(list(transfers_dir(home).iterdir())) == 4


def test_open_transfers_are_deleted_when_the_browser_disconnects(home):
    with Host(home) as h:
        tid = h.result("transfer_begin", size=1000)["transfer_id"]
        h.result("transfer_chunk", transfer_id=tid, offset=0, data=b64(b"x" * 500))
        part = next(transfers_dir(home).iterdir())
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
        assert h.close() == 0
    assert list(transfers_dir(home).iterdir()) == []


def test_transfers_left_by_a_dead_host_are_swept_at_start(home):
    folder = transfers_dir(home)
    folder.mkdir(parents=True)
    dead = folder / f"{2**22 + 12345}-{'a' * 32}.part"  # beyond the default pid_max
    old = folder / f"{os.getpid()}-{'b' * 32}.part"  # alive, but untouched for an hour
    fresh = folder / f"{os.getpid()}-{'c' * 32}.part"  # alive and recent: another host's
    unrelated = folder / "notes.txt"
    for p in (dead, old, fresh, unrelated):
        p.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    proc = run_once(home, frame({"type": "ping", "id": 1}))
    assert proc.returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([fresh.name, unrelated.name])


# ---------------------------------------------------------------------------------------------
# embed


def test_embed_inserts_metadata_in_place_in_the_download_folder(home, host):
    from dsexport import read_metadata

    downloads = home / "Downloads"
    downloads.mkdir()
    target = downloads / "image (1).png"
    target.write_bytes(small_png())
    result = host.result("embed", path=str(target), metadata={"prompt": "downloaded cat"})
    assert result["path"] == str(target)
    assert read_metadata(target).prompt == "downloaded cat"
    assert sorted(p.name for p in downloads.iterdir()) == ["image (1).png"]


def test_embed_refuses_paths_outside_the_allowed_folders(home, host, tmp_path):
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(small_png())
    downloads = home / "Downloads"
    downloads.mkdir()
    link = downloads / "link.png"
    link.symlink_to(outside)
    sneaky = downloads / ".." / ".." / "elsewhere.png"
    for path in (outside, link, sneaky):
        assert host.error("embed", path=str(path), metadata={})["code"] == "forbidden_path"
    assert host.error("embed", path="relative.png", metadata={})["code"] == "forbidden_path"
    assert host.error("embed", path="", metadata={})["code"] == "bad_request"
    assert host.error("embed", path=str(downloads / "a\x00b"), metadata={})["code"] == (
        "bad_request"
    )
    assert outside.read_bytes() == small_png()
    html = downloads / "page.png"
    html.write_bytes(b"<!doctype html><title>403</title>")
    assert host.error("embed", path=str(html), metadata={})["code"] == "unsupported_format"
    assert host.error("embed", path=str(downloads / "gone.png"), metadata={})["code"] == (
        "not_found"
    )


def test_embed_is_allowed_in_configured_download_dirs(home, host, tmp_path):
    extra = tmp_path / "MyDownloads"
    extra.mkdir()
    target = extra / "x.png"
    target.write_bytes(small_png())
    assert host.error("embed", path=str(target), metadata={})["code"] == "forbidden_path"
    host.result("config_set", values={"download_dirs": [str(extra)]})
    assert host.result("embed", path=str(target), metadata={"seed": 1})["path"] == str(target)


# ---------------------------------------------------------------------------------------------
# config, preview_name


def test_config_get_and_set(home, host):
    got = host.result("config_get")
    assert got["config"] == got["defaults"]
    assert got["config"]["output_dir"] == str(output_dir(home))
    new_out = home / "AI images"
    result = host.result("config_set", values={"output_dir": str(new_out), "sidecars": ["json"]})
    assert result["config"]["output_dir"] == str(new_out)
    assert host.result("config_get")["config"]["sidecars"] == ["json"]
    saved = host.result("save", image={"data": b64(small_png())}, metadata={"prompt": "x"})
    assert Path(saved["path"]).is_relative_to(new_out)


@pytest.mark.parametrize(
    "values",
    [
        {"quality": 0},
        {"quality": "high"},
        {"format": "bmp"},
        {"no_such_key": 1},
        {"output_dir": "relative/dir"},
        {"sidecars": ["exe"]},
    ],
)
def test_config_set_refuses_bad_values_and_writes_nothing(home, host, values):
    assert host.error("config_set", values=values)["code"] == "bad_config"
    assert not (home / ".config" / "dsexport" / "config.json").exists()


def test_config_set_needs_an_object(host):
    assert host.error("config_set", values=["format", "png"])["code"] == "bad_request"
    assert host.error("config_set")["code"] == "bad_request"


def test_preview_name_renders_the_template(host):
    name = host.result("preview_name", metadata={"prompt": "a cat in a red scarf"})["name"]
    assert name.endswith(".png") and "cat" in name and not name.startswith("/")
    custom = host.result("preview_name", metadata={"prompt": "x", "seed": 7}, template="s{seed}")
    assert custom["name"].startswith("s7")
    assert host.error("preview_name", metadata={}, template=5)["code"] == "bad_request"
    assert host.error("preview_name", metadata={}, template="x" * 5000)["code"] == "bad_request"


def test_preview_name_is_the_name_a_save_then_gets(home, host):
    # Arrange: the options page's preview asks with the batch position a save passes
    template = "{conversation}/{index:3}_{prompt:26}_{filename}"
    meta = {
        "prompt": "a cat wearing a red scarf, sitting on a bench",
        "conversation_title": "Cats",
        "origin": "uploaded",
        "extra": {"file_name": "IMG_2041.jpg"},
    }
    host.result("config_set", values={"name_template": template})

    # Act
    preview = host.result("preview_name", metadata=meta, index=3, format="png")["name"]
    saved = host.result(
        "save", image={"data": b64(small_png())}, metadata=meta, options={"index": 3}
    )

    # Assert: the same name, {index:3} included, no comma left by the cut
    assert preview == "Cats/003_a cat wearing a red scarf_IMG_2041.png"
    assert Path(saved["path"]).relative_to(output_dir(home)).as_posix() == preview
    jpeg = host.result("preview_name", metadata=meta, index=3, format="jpeg")["name"]
    assert jpeg.endswith(".jpg")
    assert host.error("preview_name", metadata=meta, index=-1)["code"] == "bad_request"
    assert host.error("preview_name", metadata=meta, format="bmp")["code"] == "bad_request"


def test_errors_carry_a_reason_and_parameters_beside_the_english_message(host):
    # A template error, worded by the extension from reason + params
    bad = host.error("config_set", values={"name_template": "{date}/{foo}"})
    assert bad["code"] == "bad_config"
    assert bad["reason"] == "template_unknown_field"
    assert bad["params"]["field"] == "foo"
    assert "foo" in bad["message"], "the English message stays for the CLI and old clients"
    # A failed save: an HTML error page instead of the picture
    html = b64(b"<!doctype html><title>403</title>Forbidden")
    page = host.error("save", image={"data": html}, metadata={"prompt": "x"})
    assert (page["code"], page["reason"]) == ("unsupported_format", "html_page")
    # A folder that cannot be used names it
    not_abs = host.error("config_set", values={"output_dir": "relative/folder"})
    assert not_abs["reason"] == "folder_not_absolute"
    assert not_abs["params"] == {"key": "output_dir", "folder": "relative/folder"}
    # No reason where there is nothing finer to say
    plain = host.error("preview_name", metadata={}, template=5)
    assert "reason" not in plain and "params" not in plain


# ---------------------------------------------------------------------------------------------
# reveal: checked through fake file-manager commands on PATH


def fake_bin(folder: Path, name: str, status: int) -> Path:
    folder.mkdir(exist_ok=True)
    script = folder / name
    log = folder / f"{name}.argv"
    script.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{log}.tmp"\n'
        f'mv "{log}.tmp" "{log}"\nexit {status}\n'
    )
    script.chmod(0o755)
    return log


def wait_for(path: Path, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} was never run"
        time.sleep(0.02)
    return path.read_text().splitlines()


@pytest.mark.parametrize("dbus_works", [True, False])
def test_reveal_runs_the_file_manager_with_an_argv_list(home, tmp_path, dbus_works):
    bin_dir = tmp_path / "bin"
    dbus_log = fake_bin(bin_dir, "dbus-send", 0 if dbus_works else 1)
    xdg_log = fake_bin(bin_dir, "xdg-open", 0)
    path_env = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    with Host(home, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent", PATH=path_env) as h:
        saved = h.result("save", image={"data": b64(small_png())}, metadata={"prompt": "a; b"})
        assert h.result("reveal", path=saved["path"]) == {}
        dbus_argv = wait_for(dbus_log)
        assert "org.freedesktop.FileManager1.ShowItems" in dbus_argv
        assert f"array:string:{Path(saved['path']).as_uri()}" in dbus_argv
        if dbus_works:
            time.sleep(0.3)
            assert not xdg_log.exists()
        else:
            assert wait_for(xdg_log) == [str(Path(saved["path"]).parent)]


def test_reveal_only_inside_the_output_folder(home, tmp_path):
    bin_dir = tmp_path / "bin"
    xdg_log = fake_bin(bin_dir, "xdg-open", 0)
    path_env = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    outside = tmp_path / "secret.png"
    outside.write_bytes(small_png())
    with Host(home, PATH=path_env) as h:
        assert h.error("reveal", path=str(outside))["code"] == "forbidden_path"
        assert h.error("reveal", path="/etc/passwd")["code"] == "forbidden_path"
        missing = output_dir(home) / "missing.png"
        assert h.error("reveal", path=str(missing))["code"] == "not_found"
        assert h.error("reveal", path="Pictures")["code"] == "forbidden_path"
    assert not xdg_log.exists()


# ---------------------------------------------------------------------------------------------
# every request type is exercised above; a request of no known type is refused by name


def test_unknown_request_type_is_answered_with_its_id(host):
    err = host.error("delete_everything")
    assert err["code"] == "unknown_request" and "ping" in err["message"]


def test_the_host_logs_to_its_file_not_to_stderr(home):
    proc = run_once(
        home,
        frame({"type": "save", "id": 1, "image": {"data": "@@"}})
        + frame({"type": "config_get", "id": 2}),
    )
    assert proc.returncode == 0 and proc.stderr == b""
    log = (home / ".local" / "state" / "dsexport" / "log" / "host.log").read_text("utf-8")
    assert "save" in log and "bad_request" in log and "config_get" in log
    assert ORIGIN not in proc.stdout.decode("utf-8", "replace")
