"""The validated, shared config (dsexport/config.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from dsexport import config, paths
from dsexport.errors import BadConfig
from dsexport.model import EMBEDDABLE_FIELDS


def test_defaults_when_there_is_no_file(home):
    cfg = config.load_config()
    assert cfg.output_dir == str(home / "Pictures" / "DeepSeek")
    assert cfg.name_template == "{date}/{datetime}_{prompt:40}_{hash:8}"
    assert cfg.format == "original"
    assert cfg.quality == 90
    assert cfg.sidecars == ()
    assert cfg.embed_fields == EMBEDDABLE_FIELDS
    assert cfg.auto_capture is True
    assert cfg.jpeg_background == "#ffffff"
    assert cfg.download_dirs == ()
    assert not paths.config_file().exists()
    assert cfg == config.defaults()


def test_to_dict_is_plain_json(home):
    data = config.load_config().to_dict()
    assert list(data) == list(config.KEYS)
    assert json.loads(json.dumps(data)) == data
    assert isinstance(data["embed_fields"], list)


def test_set_values_stores_only_what_was_set(home):
    cfg = config.set_values({"format": "PNG", "quality": 75, "sidecars": ["json", "txt", "json"]})
    assert (cfg.format, cfg.quality, cfg.sidecars) == ("png", 75, ("json", "txt"))
    stored = json.loads(paths.config_file().read_text())
    assert stored == {"format": "png", "quality": 75, "sidecars": ["json", "txt"]}
    assert config.load_config() == cfg


def test_the_config_file_is_private(home):
    config.set_values({"quality": 80})
    assert paths.config_file().stat().st_mode & 0o077 == 0


def test_output_dir_is_created_and_normalised(home):
    target = home / "a" / "b" / ".." / "Out"
    cfg = config.set_values({"output_dir": str(target)})
    assert cfg.output_dir == str(home / "a" / "Out")
    assert (home / "a" / "Out").is_dir()


def test_output_dir_expands_tilde(home):
    cfg = config.set_values({"output_dir": "~/Saved"})
    assert cfg.output_dir == str(home / "Saved")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("output_dir", "relative/dir", "absolute"),
        ("output_dir", "", "absolute"),
        ("output_dir", 5, "text"),
        ("output_dir", "/tmp/x\x00y", "NUL"),
        ("name_template", "{ext}", "extension"),
        ("name_template", "../{prompt}", "'..'"),
        ("name_template", "{nope}", "unknown"),
        ("name_template", 3, "text"),
        ("format", "bmp", "one of"),
        ("format", None, "text"),
        ("quality", 0, "1 to 100"),
        ("quality", 101, "1 to 100"),
        ("quality", "90", "1 to 100"),
        ("quality", True, "1 to 100"),
        ("quality", 9.5, "1 to 100"),
        ("sidecars", ["xml"], "not one of"),
        ("sidecars", "json", "list"),
        ("embed_fields", ["prompt", "password"], "not one of"),
        ("auto_capture", "yes", "true or false"),
        ("auto_capture", 1, "true or false"),
        ("jpeg_background", "white", "colour"),
        ("jpeg_background", "#12345", "colour"),
        ("download_dirs", ["relative"], "absolute"),
        ("download_dirs", "/tmp", "list"),
        ("no_such_key", 1, "unknown config key"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_written(home, key, value, message):
    with pytest.raises(BadConfig, match=message.replace(".", r"\.")):
        config.set_values({key: value})
    assert not paths.config_file().exists()


def test_one_bad_value_rejects_the_whole_change(home):
    with pytest.raises(BadConfig):
        config.set_values({"quality": 50, "format": "bmp"})
    assert config.load_config().quality == 90


def test_output_dir_that_cannot_be_created(home):
    (home / "file").write_text("x")
    with pytest.raises(BadConfig, match="cannot be created"):
        config.set_values({"output_dir": str(home / "file" / "sub")})


def test_short_colours_are_expanded(home):
    assert config.set_values({"jpeg_background": "#FA0"}).jpeg_background == "#ffaa00"


def test_jpg_is_an_alias_for_jpeg(home):
    assert config.set_values({"format": "jpg"}).format == "jpeg"


def test_download_dirs_are_normalised(home):
    cfg = config.set_values({"download_dirs": ["/tmp/a/", "/tmp/a", "~/Downloads"]})
    assert cfg.download_dirs == ("/tmp/a", str(home / "Downloads"))


def test_reset_key_returns_to_the_default(home):
    config.set_values({"quality": 10, "format": "webp"})
    cfg = config.reset_key("quality")
    assert (cfg.quality, cfg.format) == (90, "webp")
    with pytest.raises(BadConfig, match="unknown"):
        config.reset_key("nope")


def test_broken_json_names_the_file_and_the_fix(home):
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text('{"quality": 5,')
    with pytest.raises(BadConfig) as err:
        config.load_config()
    assert str(paths.config_file()) in str(err.value)
    assert "dsexport config reset --all" in str(err.value)
    assert config.reset_all().quality == 90
    assert config.load_config().quality == 90


@pytest.mark.parametrize("content", [b"[1, 2]", b"\xff\xfe garbage", b'"text"', b"x" * 1_000_001])
def test_other_broken_files_are_bad_config(home, content):
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_bytes(content)
    with pytest.raises(BadConfig, match="broken"):
        config.load_config()


def test_an_invalid_stored_value_names_the_key_and_the_fix(home):
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text(json.dumps({"quality": 500, "format": "png"}))
    with pytest.raises(BadConfig) as err:
        config.load_config()
    assert "quality" in str(err.value)
    assert "dsexport config reset quality" in str(err.value)
    cfg = config.reset_key("quality")
    assert (cfg.quality, cfg.format) == (90, "png")


def test_reset_key_on_a_file_that_is_not_json_points_to_reset_all(home):
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text("not json")
    with pytest.raises(BadConfig, match="reset --all"):
        config.reset_key("format")
    assert paths.config_file().read_text() == "not json"


def test_unknown_keys_in_the_file_are_kept_and_ignored(home):
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text(json.dumps({"future_key": 1, "quality": 50}))
    assert config.load_config().quality == 50
    config.set_values({"format": "png"})
    assert json.loads(paths.config_file().read_text())["future_key"] == 1


def test_loading_does_not_create_the_output_dir(home):
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text(json.dumps({"output_dir": str(home / "later")}))
    assert config.load_config().output_dir == str(home / "later")
    assert not (home / "later").exists()


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("quality", " 85 ", 85),
        ("auto_capture", "off", False),
        ("auto_capture", "True", True),
        ("sidecars", "json, txt", ["json", "txt"]),
        ("sidecars", "", []),
        ("embed_fields", '["prompt", "seed"]', ["prompt", "seed"]),
        ("format", "png", "png"),
    ],
)
def test_parse_text(key, text, value):
    assert config.parse_text(key, text) == value


@pytest.mark.parametrize(("key", "text"), [("quality", "high"), ("auto_capture", "maybe")])
def test_parse_text_errors(key, text):
    with pytest.raises(BadConfig):
        config.parse_text(key, text)


def _set_many(args):
    home, key, values = args
    os.environ["HOME"] = home
    for value in values:
        config.set_values({key: value})


def test_concurrent_sets_neither_corrupt_nor_lose_keys(home):
    jobs = [
        (str(home), "quality", list(range(1, 41))),
        (str(home), "format", ["png", "jpeg", "webp", "original"] * 10),
        (str(home), "jpeg_background", [f"#0000{i:02x}" for i in range(40)]),
        (str(home), "auto_capture", [True, False] * 20),
        (str(home), "sidecars", [["json"], ["txt"], []] * 13 + [["json", "txt"]]),
        (str(home), "name_template", [f"{{prompt:{i}}}" for i in range(1, 41)]),
    ]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(jobs)) as pool:
        pool.map(_set_many, jobs)
    stored = json.loads(Path(paths.config_file()).read_text())
    assert stored == {
        "quality": 40,
        "format": "original",
        "jpeg_background": "#000027",
        "auto_capture": False,
        "sidecars": ["json", "txt"],
        "name_template": "{prompt:40}",
    }
    leftovers = [p.name for p in paths.config_dir().iterdir()]
    assert sorted(leftovers) == ["config.json", "config.json.lock"]


def test_a_symlinked_config_file_stays_a_link(home, tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "dsexport.json").write_text("{}")
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().symlink_to(dotfiles / "dsexport.json")
    config.set_values({"quality": 70})
    assert paths.config_file().is_symlink()
    assert json.loads((dotfiles / "dsexport.json").read_text()) == {"quality": 70}
