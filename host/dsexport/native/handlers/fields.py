"""Field helpers shared by the handlers: typed lookups, base64, metadata and options, the
folders a request may touch. Every message is untrusted; each helper raises ``BadRequest`` or
``ForbiddenPath`` with a sentence that names the field."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsexport.errors import BadRequest, ForbiddenPath, TooLarge
from dsexport.native.session import Request

MAX_PATH_CHARS = 4096


def get_field(
    req: Request, name: str, kind: type | tuple[type, ...], *, required: bool = True
) -> Any:
    value = req.fields.get(name)
    if value is None:
        if required:
            msg = f"'{req.type}' needs the field '{name}'"
            raise BadRequest(msg)
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        msg = f"field '{name}' must be {_JSON_NAMES.get(names, names)}"
        raise BadRequest(msg)
    return value


_JSON_NAMES = {"str": "a string", "int": "an integer", "dict": "an object", "list": "a list"}


_BASE64 = r"[A-Za-z0-9+/]*={0,2}"


def decode_base64(text: str, what: str) -> bytes:
    """Strict, padded base64 (what ``btoa`` and ``FileReader`` produce); a ``data:…;base64,``
    prefix is tolerated (``FileReader.readAsDataURL``).

    Decoded straight from the ``str``, without a copy to bytes first. pybase64 (SIMD) when it is
    installed: it decodes a 2 MB image's 2.7 MB of base64 in about 0.2 ms where ``binascii``
    takes 5-6 ms holding the GIL, which stalls the thread reading the next frame and so the
    browser's writes (Firefox sends every image this way). Both check the alphabet and that
    padding comes only at the end; ``binascii`` is the fallback.
    """
    if text.startswith("data:"):
        head, sep, text = text.partition(",")
        if not sep or not head.endswith(";base64"):
            msg = f"'{what}' is a data URL without base64 data"
            raise BadRequest(msg)
    invalid = f"'{what}' is not valid base64 (standard alphabet, padded to a multiple of 4)"
    if len(text) % 4 or text.endswith("==="):  # strict mode lets a padding-only quad pass
        raise BadRequest(invalid)
    try:
        return _strict_decoder()(text)
    except (ValueError, TypeError) as err:  # binascii.Error is a ValueError
        raise BadRequest(invalid) from err


@functools.cache
def _strict_decoder() -> Callable[[str], bytes]:
    try:
        import pybase64
    except ImportError:
        return _binascii_strict
    return functools.partial(pybase64.b64decode, validate=True)


def _binascii_strict(text: str) -> bytes:
    import binascii
    import sys

    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(text, strict_mode=True)
    import re

    if not re.fullmatch(_BASE64, text):
        msg = "not strict base64"
        raise ValueError(msg)
    return binascii.a2b_base64(text)


def metadata_field(req: Request, name: str = "metadata"):
    from dsexport.validate import metadata_from_dict

    return metadata_from_dict(get_field(req, name, dict, required=False))


def options_field(req: Request):
    from dsexport.validate import options_from_dict

    raw = get_field(req, "options", dict, required=False)
    if raw and raw.get("output_dir") is not None:
        # The destination is the user's choice (config), never a per-message value that page
        # content could influence.
        msg = "option 'output_dir' cannot be sent by the extension; set it with config_set"
        raise BadRequest(msg)
    return options_from_dict(raw)


def load_config():
    from dsexport.config import load_config

    return load_config()


def output_dir(cfg) -> Path:
    from dsexport import paths

    value = getattr(cfg, "output_dir", None)
    return Path(value).expanduser() if value else paths.default_output_dir()


def abs_path_field(req: Request, name: str = "path") -> Path:
    text = get_field(req, name, str)
    if not text or len(text) > MAX_PATH_CHARS or "\x00" in text:
        msg = f"field '{name}' must be a file path of 1 to {MAX_PATH_CHARS} characters"
        raise BadRequest(msg)
    path = Path(text)
    if not path.is_absolute():
        msg = f"field '{name}' must be an absolute path"
        raise ForbiddenPath(msg)
    return path


def is_within(path: Path, roots: list[Path]) -> bool:
    # storage's check: a link swapped away while realpath resolves it is a refusal, not an
    # internal error (realpath lstat()s, then readlink()s, and the second call can fail).
    from dsexport.storage import is_within

    return is_within(path, roots)


def as_result(value) -> dict[str, Any]:
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def download_roots(cfg) -> list[Path]:
    """Where ``embed`` and ``save_download`` may touch files: the OS download folder, the output
    folder and the config's ``download_dirs``. The download folder comes first: that is where
    the browser puts staged downloads, and ``is_within`` resolves the roots in order until one
    holds the file (each costs an ``lstat`` per folder on its path), twice per staged save."""
    from dsexport import paths

    roots = [paths.default_download_dir(), output_dir(cfg)]
    roots += [Path(d).expanduser() for d in (getattr(cfg, "download_dirs", None) or ())]
    return roots


def text_list_field(req: Request, name: str, *, limit: int, what: str) -> list[str]:
    values = get_field(req, name, list, required=False) or []
    if len(values) > limit:
        msg = f"field '{name}' may list at most {limit} {what}"
        raise TooLarge(msg)
    for value in values:
        if not isinstance(value, str) or not value or len(value) > MAX_PATH_CHARS:
            msg = f"field '{name}' must be a list of {what}"
            raise BadRequest(msg)
        check_text(value, name)
    return values


def check_text(value: str, name: str) -> None:
    # JSON may carry lone surrogates ("\ud800"), which no file name or sqlite text can hold.
    if "\x00" in value:
        msg = f"field '{name}' contains a NUL character"
        raise BadRequest(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"field '{name}' is not valid Unicode text"
        raise BadRequest(msg) from None
