"""The native ``save_download`` request through a real ``dsexport host`` subprocess: an image the
extension downloaded into ``<Downloads>/dsexport-staging/`` is saved like ``save`` and the staged
file deleted; anything that is not one of our staged files is refused and left alone."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import pytest
from native_client import Host, b64

from imagebytes import make_image


@pytest.fixture
def host(home: Path):
    with Host(home) as h:
        yield h


def output_dir(home: Path) -> Path:
    return home / "Pictures" / "DeepSeek"


def staging(home: Path) -> Path:
    folder = home / "Downloads" / "dsexport-staging"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def staged(home: Path, data: bytes, suffix: str = "") -> Path:
    path = staging(home) / f"dsx-{secrets.token_hex(16)}{suffix}"
    path.write_bytes(data)
    return path


def test_saves_the_staged_image_with_metadata_and_deletes_it(home, host):
    from dsexport import read_metadata

    data = make_image("png", size=(40, 30))
    path = staged(home, data)
    result = host.result(
        "save_download",
        path=str(path),
        url="https://cdn.example/cat.png",
        metadata={"prompt": "一只猫 🐱", "seed": 7},
        options={"source": "toolbar", "index": 1},
    )
    saved = Path(result["path"])
    assert output_dir(home) in saved.parents
    assert result["duplicate"] is False and result["format"] == "png"
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["removed"] is True
    assert (result["width"], result["height"]) == (40, 30)
    meta = read_metadata(saved)
    assert meta.prompt == "一只猫 🐱" and meta.seed == 7
    assert meta.image_url == "https://cdn.example/cat.png"
    assert not path.exists()
    # The folder stays (other downloads may be starting in it) unless the request says so.
    assert staging(home).is_dir()


def test_an_extension_added_by_the_browser_is_accepted_and_cleanup_removes_the_folder(home, host):
    path = staged(home, make_image("jpeg"), ".jpg")
    result = host.result("save_download", path=str(path), cleanup=True)
    assert result["format"] == "jpeg" and not path.exists()
    assert not (home / "Downloads" / "dsexport-staging").exists()


def test_cleanup_leaves_a_folder_that_is_not_empty(home, host):
    other = staged(home, make_image("png"))
    path = staged(home, make_image("png", size=(8, 8)))
    host.result("save_download", path=str(path), cleanup=True)
    assert other.exists() and not path.exists()


def test_a_duplicate_is_reported_and_the_staged_copy_deleted(home, host):
    data = make_image("png", size=(21, 21))
    first = host.result("save", image={"data": b64(data)}, metadata={"prompt": "a"})
    path = staged(home, data)
    again = host.result("save_download", path=str(path), metadata={"prompt": "a"})
    assert again["duplicate"] is True and again["path"] == first["path"]
    assert again["bytes_written"] == 0 and again["removed"] is True
    assert not path.exists()
    assert len(list(output_dir(home).rglob("*.png"))) == 1


def test_an_html_error_page_is_refused_and_the_staged_file_deleted(home, host):
    path = staged(home, b"<!doctype html><title>403 Forbidden</title>")
    assert host.error("save_download", path=str(path))["code"] == "unsupported_format"
    assert not path.exists()
    assert not output_dir(home).exists() or not any(output_dir(home).rglob("*.*"))


def test_bad_metadata_is_refused_and_the_staged_file_still_deleted(home, host):
    path = staged(home, make_image("png"))
    assert host.error("save_download", path=str(path), metadata={"seed": "x"})["code"] == (
        "bad_request"
    )
    assert not path.exists()


def test_paths_outside_the_allowed_folders_are_refused_and_untouched(home, host, tmp_path):
    data = make_image("png")
    elsewhere = tmp_path / "dsexport-staging"
    elsewhere.mkdir()
    outside = elsewhere / f"dsx-{secrets.token_hex(16)}"
    outside.write_bytes(data)
    staging(home)
    sneaky = (
        home / "Downloads" / "dsexport-staging" / ".." / ".." / ".." / outside.relative_to(tmp_path)
    )
    for path in (outside, sneaky):
        assert host.error("save_download", path=str(path))["code"] == "forbidden_path"
    assert outside.read_bytes() == data
    assert host.error("save_download", path="dsexport-staging/dsx-" + "0" * 32)["code"] == (
        "forbidden_path"
    )
    assert host.error("save_download", path="")["code"] == "bad_request"
    assert host.error("save_download", path=str(outside), cleanup="yes")["code"] == "bad_request"
    assert outside.read_bytes() == data


@pytest.mark.parametrize(
    "relpath",
    [
        "image (3).png",  # a user's own download, next to the staging folder
        "dsexport-staging/cat.png",  # right folder, not our name
        "dsexport-staging/dsx-" + "0" * 31,  # one digit short
        "dsexport-staging/dsx-" + "A" * 32,  # upper case is not what we generate
        "dsexport-staging/dsx-" + "0" * 32 + ".tar.gz",
        "other/dsx-" + "0" * 32,  # our name, wrong folder
    ],
)
def test_a_wrong_name_is_refused_and_the_file_untouched(home, host, relpath):
    data = make_image("png")
    path = home / "Downloads" / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    assert host.error("save_download", path=str(path), metadata={})["code"] == "forbidden_path"
    assert path.read_bytes() == data
    assert not output_dir(home).exists()


def test_a_symlink_is_refused_and_neither_it_nor_its_target_touched(home, host, tmp_path):
    data = make_image("png")
    target = home / "Downloads" / "mine.png"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    link = staging(home) / f"dsx-{secrets.token_hex(16)}"
    link.symlink_to(target)
    assert host.error("save_download", path=str(link))["code"] == "forbidden_path"
    assert link.is_symlink() and target.read_bytes() == data
    # A linked staging folder that leads out of the allowed folders.
    out = tmp_path / "dsexport-staging"
    out.mkdir()
    victim = out / f"dsx-{secrets.token_hex(16)}"
    victim.write_bytes(data)
    sub = home / "Downloads" / "sub"
    sub.mkdir()
    (sub / "dsexport-staging").symlink_to(out)
    via = sub / "dsexport-staging" / victim.name
    assert host.error("save_download", path=str(via))["code"] == "forbidden_path"
    assert victim.read_bytes() == data
    assert not output_dir(home).exists()


def test_a_hard_link_or_a_fifo_is_refused_and_left(home, host):
    data = make_image("png")
    mine = home / "Downloads" / "mine.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(data)
    hard = staging(home) / f"dsx-{secrets.token_hex(16)}"
    os.link(mine, hard)
    assert host.error("save_download", path=str(hard))["code"] == "forbidden_path"
    assert hard.exists() and mine.read_bytes() == data
    fifo = staging(home) / f"dsx-{secrets.token_hex(16)}"
    os.mkfifo(fifo)
    assert host.error("save_download", path=str(fifo))["code"] == "forbidden_path"
    assert fifo.exists()


def test_a_missing_or_empty_staged_file(home, host):
    gone = staging(home) / f"dsx-{secrets.token_hex(16)}"
    assert host.error("save_download", path=str(gone))["code"] == "not_found"
    empty = staged(home, b"")
    assert host.error("save_download", path=str(empty))["code"] == "unsupported_format"
    assert not empty.exists()


def test_staging_in_a_configured_download_dir(home, host, tmp_path):
    elsewhere = tmp_path / "browser-downloads"
    (elsewhere / "dsexport-staging").mkdir(parents=True)
    path = elsewhere / "dsexport-staging" / f"dsx-{secrets.token_hex(16)}"
    path.write_bytes(make_image("webp"))
    assert host.error("save_download", path=str(path))["code"] == "forbidden_path"
    assert path.exists()
    host.result("config_set", values={"download_dirs": [str(elsewhere)]})
    assert host.result("save_download", path=str(path))["format"] == "webp"
    assert not path.exists()


def test_clean_staging_removes_only_an_empty_staging_folder(home, host, tmp_path):
    folder = staging(home)
    keep = staged(home, b"still downloading")
    assert host.result("clean_staging", folder=str(folder)) == {"removed": False}
    assert keep.is_file(), "a folder with a file in it is left whole"
    keep.unlink()
    assert host.result("clean_staging", folder=str(folder)) == {"removed": True}
    assert not folder.exists()
    assert host.result("clean_staging", folder=str(folder)) == {"removed": False}
    other = home / "Downloads" / "photos"
    other.mkdir()
    assert host.error("clean_staging", folder=str(other))["code"] == "forbidden_path"
    assert other.is_dir()
    outside = tmp_path / "elsewhere" / "dsexport-staging"
    outside.mkdir(parents=True)
    assert host.error("clean_staging", folder=str(outside))["code"] == "forbidden_path"
    assert outside.is_dir()
    link = home / "Downloads" / "dsexport-staging"
    link.symlink_to(outside)
    assert host.error("clean_staging", folder=str(link))["code"] == "forbidden_path"
    assert outside.is_dir() and link.is_symlink()
