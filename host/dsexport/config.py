"""The validated config shared by the CLI, the native host and the extension's options page.

Stored as JSON at ``paths.config_file()`` (e.g. ``~/.config/dsexport/config.json``), holding only
the keys a user has set; everything else is the default, so a new default reaches users who
never touched that key. Example file::

    {"output_dir": "/home/ana/Pictures/AI", "format": "png", "sidecars": ["json"]}

Decisions:

* A config file that is not valid JSON, or holds an invalid value, makes ``load_config`` raise
  ``BadConfig`` naming the file, the key and the fix (``dsexport config reset KEY`` for a bad
  value, ``dsexport config reset --all`` for a file that is not JSON). We do not silently fall
  back to defaults: that would save images somewhere other than where the user asked.
* Keys the file has but this version does not know (from a newer version) are kept and ignored.
* Every change is made under a lock file and written atomically (``storage.write_atomic``), so
  two processes setting keys at once neither corrupt the file nor lose each other's key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsexport import paths
from dsexport.errors import BadConfig, IoError
from dsexport.model import EMBEDDABLE_FIELDS, OUTPUT_FORMATS
from dsexport.naming import DEFAULT_TEMPLATE

SIDECAR_KINDS: tuple[str, ...] = ("json", "txt")
MAX_CONFIG_BYTES = 1_000_000
"""A config file larger than this is not ours; refusing it keeps a stray file from eating memory."""
MAX_PATH_CHARS = 4096

DEFAULTS: dict[str, Any] = {
    "output_dir": None,  # paths.default_output_dir() at load time: it depends on HOME
    "name_template": DEFAULT_TEMPLATE,
    "format": "original",
    "quality": 90,
    "sidecars": (),
    "embed_fields": EMBEDDABLE_FIELDS,
    "auto_capture": True,
    "jpeg_background": "#ffffff",
    "download_dirs": (),
    "notifications": True,
    "thumbnail_cache_mb": 300,
}
"""Default of every key; ``output_dir`` is ``None`` here and ``<Pictures>/DeepSeek`` in effect."""

KEYS: tuple[str, ...] = tuple(DEFAULTS)

DESCRIPTIONS: dict[str, str] = {
    "output_dir": "absolute folder images are saved in (created if missing)",
    "name_template": "file name template, e.g. {date}/{datetime}_{prompt:40}_{hash:8}",
    "format": "original (no re-encoding), png, jpeg, webp or avif",
    "quality": "1-100, for jpeg, lossy webp and avif",
    "sidecars": "extra files beside each image: json, txt (comma-separated, may be empty)",
    "embed_fields": "metadata fields written into files (comma-separated)",
    "auto_capture": "true/false: save images as they appear in the chat",
    "jpeg_background": "#rrggbb colour transparent pixels get when saving as jpeg",
    "download_dirs": "extra absolute folders `embed` may change (comma-separated)",
    "notifications": "true/false: a system notification for saves not started in the popup",
    "thumbnail_cache_mb": "size cap of the library's thumbnail cache, in MB (16-100000)",
}


@dataclass(frozen=True)
class Config:
    """The effective settings, e.g. ``Config(output_dir="/home/ana/Pictures/DeepSeek", …)``."""

    output_dir: str
    name_template: str = DEFAULTS["name_template"]
    format: str = DEFAULTS["format"]
    quality: int = DEFAULTS["quality"]
    sidecars: tuple[str, ...] = DEFAULTS["sidecars"]
    embed_fields: tuple[str, ...] = DEFAULTS["embed_fields"]
    auto_capture: bool = DEFAULTS["auto_capture"]
    jpeg_background: str = DEFAULTS["jpeg_background"]
    download_dirs: tuple[str, ...] = DEFAULTS["download_dirs"]
    notifications: bool = DEFAULTS["notifications"]
    thumbnail_cache_mb: int = DEFAULTS["thumbnail_cache_mb"]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (lists, not tuples), every key."""
        data = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    def get(self, key: str) -> Any:
        _check_key(key)
        return self.to_dict()[key]


def defaults() -> Config:
    """The config a fresh install has (``output_dir`` follows the current user's Pictures)."""
    return Config(output_dir=str(paths.default_output_dir()))


def load_config(path: Path | None = None) -> Config:
    """Read the config file; missing file → defaults; broken file or value → ``BadConfig``."""
    path = path or paths.config_file()
    stored = _read(path)
    return _build(stored, path)


def set_values(values: Mapping[str, Any], path: Path | None = None) -> Config:
    """Validate ``values`` (key → JSON value), store them and return the new effective config.

    Nothing is written unless every value is valid. Example::

        set_values({"format": "png", "sidecars": ["json"]})
    """
    if not isinstance(values, Mapping):
        msg = "config values must be an object of key → value"
        raise BadConfig(msg)
    path = path or paths.config_file()
    cleaned = {}
    for key, value in values.items():
        _check_key(key)
        cleaned[key] = validate_value(key, value)
    with _locked(path):
        stored = _read(path)
        stored.update(_to_json(cleaned))
        config = _build(stored, path)
        _write(path, stored)
    return config


def reset_key(key: str, path: Path | None = None) -> Config:
    """Forget the stored value of ``key`` so its default applies again."""
    _check_key(key)
    path = path or paths.config_file()
    with _locked(path):
        stored = _read(path)  # a file that is not JSON at all can only be reset with --all
        if key in stored:
            del stored[key]
            _write(path, stored)
    return load_config(path)


def reset_all(path: Path | None = None) -> Config:
    """Forget every stored value (a broken file is replaced by an empty one)."""
    path = path or paths.config_file()
    with _locked(path):
        _write(path, {})
    return load_config(path)


def validate_value(key: str, value: Any) -> Any:
    """The normalised value for ``key``, or ``BadConfig`` saying what is wrong and what is allowed.

    ``output_dir`` is created if missing and must be writable.
    """
    _check_key(key)
    return _VALIDATORS[key](value)


def parse_text(key: str, text: str) -> Any:
    """Turn command-line text into the JSON value for ``key``: ``"png"``, ``"90"`` → 90,
    ``"true"`` → True, ``"json,txt"`` or ``'["json"]'`` → a list, ``""`` → an empty list."""
    _check_key(key)
    kind = type(DEFAULTS[key])
    if key in ("sidecars", "embed_fields", "download_dirs"):
        text = text.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as err:
                msg = f"{key}: {text!r} is not a valid JSON list ({err.msg})"
                raise BadConfig(msg) from err
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        msg = f"{key} must be true or false, not {text!r}"
        raise BadConfig(msg)
    if kind is int:
        try:
            return int(text.strip())
        except ValueError as err:
            msg = f"{key} must be a whole number, not {text!r}"
            raise BadConfig(msg) from err
    return text


# --- validators -------------------------------------------------------------------------------


def _check_key(key: Any) -> None:
    if key not in DEFAULTS:
        msg = f"unknown config key {key!r}; known keys: {', '.join(KEYS)}"
        raise BadConfig(msg)


def _text(key: str, value: Any, *, limit: int = MAX_PATH_CHARS) -> str:
    if not isinstance(value, str):
        msg = f"{key} must be text, not {type(value).__name__}"
        raise BadConfig(msg)
    if "\x00" in value or len(value) > limit:
        msg = f"{key} must be at most {limit} characters without NUL characters"
        raise BadConfig(msg)
    return value


def _absolute(key: str, value: Any) -> str:
    text = os.path.expanduser(_text(key, value).strip())
    if not text or not os.path.isabs(text):
        msg = f"{key} must be an absolute folder path (e.g. /home/you/Pictures), not {value!r}"
        raise BadConfig(msg, reason="folder_not_absolute", key=key, folder=value)
    return os.path.normpath(text)


def _output_dir(value: Any) -> str:
    folder = _absolute("output_dir", value)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        msg = f"output_dir {folder} cannot be created: {err.strerror}; choose another folder"
        raise BadConfig(msg, reason="folder_cannot_create", folder=folder) from err
    if not os.path.isdir(folder):
        msg = f"output_dir {folder} exists but is not a folder"
        raise BadConfig(msg, reason="not_a_folder", folder=folder)
    # os.access lies on some network and ACL file systems; creating a file does not.
    probe = os.path.join(folder, f".dsexport-write-test-{os.getpid()}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        msg = f"output_dir {folder} is not writable ({err.strerror}); choose another folder"
        raise BadConfig(msg, reason="folder_not_writable", folder=folder) from err
    return folder


def _name_template(value: Any) -> str:
    from dsexport import naming

    text = _text("name_template", value, limit=naming.MAX_TEMPLATE_CHARS)
    naming.validate_template(text)
    return text


def _format(value: Any) -> str:
    text = _text("format", value).strip().lower()
    text = {"jpg": "jpeg"}.get(text, text)
    if text not in OUTPUT_FORMATS:
        msg = f"format must be one of {', '.join(OUTPUT_FORMATS)}, not {value!r}"
        raise BadConfig(msg)
    return text


def _quality(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        msg = f"quality must be a whole number from 1 to 100, not {value!r}"
        raise BadConfig(msg)
    return value


def _choices(key: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        msg = f"{key} must be a list, e.g. {', '.join(allowed[:2])}"
        raise BadConfig(msg)
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            msg = f"{key}: {item!r} is not one of {', '.join(allowed)}"
            raise BadConfig(msg)
        if item not in out:
            out.append(item)
    return tuple(out)


def _sidecars(value: Any) -> tuple[str, ...]:
    return _choices("sidecars", value, SIDECAR_KINDS)


def _embed_fields(value: Any) -> tuple[str, ...]:
    return _choices("embed_fields", value, EMBEDDABLE_FIELDS)


def _auto_capture(value: Any) -> bool:
    return _switch("auto_capture", value)


def _switch(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        msg = f"{key} must be true or false, not {value!r}"
        raise BadConfig(msg)
    return value


def _jpeg_background(value: Any) -> str:
    text = _text("jpeg_background", value).strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not re.fullmatch(r"#[0-9a-f]{6}", text):
        msg = f"jpeg_background must be a colour like #ffffff, not {value!r}"
        raise BadConfig(msg)
    return text


def _download_dirs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        msg = "download_dirs must be a list of absolute folder paths"
        raise BadConfig(msg)
    if len(value) > 64:
        msg = "download_dirs may hold at most 64 folders"
        raise BadConfig(msg, reason="too_many_folders", max=64)
    out: list[str] = []
    for item in value:
        folder = _absolute("download_dirs", item)
        if folder not in out:
            out.append(folder)
    return tuple(out)


MIN_THUMBNAIL_CACHE_MB = 16
MAX_THUMBNAIL_CACHE_MB = 100_000


def _thumbnail_cache_mb(value: Any) -> int:
    low, high = MIN_THUMBNAIL_CACHE_MB, MAX_THUMBNAIL_CACHE_MB
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        msg = f"thumbnail_cache_mb must be a whole number from {low} to {high}, not {value!r}"
        raise BadConfig(msg)
    return value


_VALIDATORS = {
    "output_dir": _output_dir,
    "name_template": _name_template,
    "format": _format,
    "quality": _quality,
    "sidecars": _sidecars,
    "embed_fields": _embed_fields,
    "auto_capture": _auto_capture,
    "jpeg_background": _jpeg_background,
    "download_dirs": _download_dirs,
    "notifications": lambda value: _switch("notifications", value),
    "thumbnail_cache_mb": _thumbnail_cache_mb,
}


# --- the file ---------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    """The stored dict; ``{}`` if there is no file; ``BadConfig`` if it is not a JSON object."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as err:
        msg = f"cannot read the config file {path}: {err.strerror}"
        raise IoError(msg) from err
    try:
        if len(raw) > MAX_CONFIG_BYTES:
            msg = "file is too large"
            raise ValueError(msg)
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            msg = "top level is not an object"
            raise ValueError(msg)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        msg = (
            f"the config file {path} is broken ({err}); fix it by hand, or run "
            "`dsexport config reset --all` to start over with the defaults"
        )
        raise BadConfig(msg, reason="config_file_broken", path=str(path)) from err
    return data


def _build(stored: Mapping[str, Any], path: Path) -> Config:
    values: dict[str, Any] = {}
    for key in KEYS:
        if key not in stored:
            continue
        try:
            if key == "output_dir":
                # Loading must not create folders; only `set` does.
                values[key] = _absolute(key, stored[key])
            else:
                values[key] = validate_value(key, stored[key])
        except BadConfig as err:
            msg = (
                f"the config file {path} has an invalid {key}: {err}; "
                f"run `dsexport config set {key} VALUE` or `dsexport config reset {key}`"
            )
            raise BadConfig(msg, reason="config_file_invalid", path=str(path), key=key) from err
    if "output_dir" not in values:
        values["output_dir"] = str(paths.default_output_dir())
    return Config(**values)


def _to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _write(path: Path, stored: Mapping[str, Any]) -> None:
    from dsexport import storage

    text = json.dumps(dict(stored), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    # A config.json symlinked into a dotfiles repository stays a link: we replace its target.
    target = Path(os.path.realpath(path))
    storage.write_atomic(target, [text.encode("utf-8")], mode=0o600)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive cross-process lock on ``<config>.lock`` for read-modify-write."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as err:
        msg = f"cannot create the config folder {lock_path.parent}: {err.strerror}"
        raise IoError(msg) from err
    try:
        _lock_fd(fd)
        yield
    finally:
        os.close(fd)  # closing releases both flock and msvcrt locks


def _lock_fd(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt
        import time

        for _ in range(600):
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                time.sleep(0.05)
        msg = "the config file is locked by another process; try again"
        raise IoError(msg) from None
    fcntl.flock(fd, fcntl.LOCK_EX)
