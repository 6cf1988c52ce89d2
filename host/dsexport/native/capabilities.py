"""Cheap answers for ``ping``: what this installation can do, and the effective config.

``ping`` runs in a fresh process for every one-shot browser message, and its target is 1.5x a bare
interpreter start. Asking Pillow which formats it can write costs about 15 ms (``PIL.features``
imports the codec modules) and loading the config about as much (it imports the naming and model
modules), each as much as the interpreter start itself. Both answers are therefore cached as JSON
in ``<cache_dir>``, each under a key that changes whenever the answer could:

- capabilities: the dsexport version and the Pillow version and location (``import PIL`` alone is
  cheap);
- config: the dsexport version, the config file's path and ``stat`` (size, mtime, inode: every
  write, by ``config_set``, ``dsexport config`` or an editor, changes them), and the default output
  folder (it follows the user's Pictures folder).

A broken config is never cached: ``load_config`` raises every time, with its message.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # neither typing nor pathlib: ping runs on every browser call
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

CAPABILITIES_FILE = "capabilities.json"
CONFIG_FILE = "ping-config.json"


def _cache_dir() -> str:
    from dsexport import paths

    return paths.cache_dir_str()


def cached_json(
    path: str | Path, key: list[Any] | str, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """``compute()`` unless ``path`` holds a value stored under the same ``key``."""
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
        if isinstance(stored, dict) and stored.get("key") == key:
            value = stored.get("value")
            if isinstance(value, dict):
                return value
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "value": value}, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
    return value


# ---------------------------------------------------------------------------------------------
# Capabilities


def _source_stamp(module_file: str) -> int:
    # Editable installs change code without changing the version.
    try:
        return os.stat(module_file).st_mtime_ns
    except OSError:
        return 0


def capabilities_key() -> list[Any]:
    from dsexport import __file__ as package_file
    from dsexport import __version__

    formats_init = os.path.join(os.path.dirname(package_file), "formats", "__init__.py")
    try:
        import PIL
    except ImportError:
        pillow = "none"
    else:
        pillow = f"{PIL.__version__} {os.path.dirname(PIL.__file__)}"
    return [__version__, pillow, _source_stamp(formats_init)]


def compute_capabilities() -> dict[str, Any]:
    """Ask the formats package (and through it Pillow); expensive.

    ``formats.capabilities()`` answers per format (``{"webp": {"write", "embed", "reason"}}``);
    the protocol's shape adds the lists the extension's options page needs directly.
    """
    try:
        from dsexport.formats import capabilities as formats_capabilities
    except ImportError:
        return _fallback_capabilities()
    per_format = formats_capabilities()
    writable = [n for n, c in per_format.items() if c.get("write")]
    return {
        "write_formats": ["original", *writable],
        "not_writable": {
            n: c.get("reason") or "not available"
            for n, c in per_format.items()
            if n not in writable
        },
        "read_formats": list(per_format),
        "formats": per_format,
    }


def _fallback_capabilities() -> dict[str, Any]:
    # NOTE(host): used only while dsexport.formats has no capabilities(); same shape.
    write: list[str] = ["original"]
    not_writable: dict[str, str] = {}
    try:
        from PIL import features
    except ImportError:
        features = None
    checks = {"png": "zlib", "jpeg": "jpg", "webp": "webp", "avif": "avif"}
    for fmt, feature in checks.items():
        try:
            ok = bool(features and features.check(feature))
        except ValueError:  # a feature this Pillow version does not know
            ok = False
        if ok:
            write.append(fmt)
        else:
            not_writable[fmt] = f"this Pillow build has no {feature} support"
    return {
        "write_formats": write,
        "not_writable": not_writable,
        "read_formats": ["png", "jpeg", "webp", "gif", "avif", "svg"],
    }


def capabilities(cache_dir: str | Path | None = None) -> dict[str, Any]:
    folder = cache_dir or _cache_dir()
    return cached_json(
        os.path.join(folder, CAPABILITIES_FILE), capabilities_key(), compute_capabilities
    )


# ---------------------------------------------------------------------------------------------
# Config


def config_key() -> list[Any]:
    from dsexport import __file__ as package_file
    from dsexport import __version__, paths

    config_file = paths.config_file_str()
    try:
        st = os.stat(config_file)
        stamp: list[Any] = [st.st_size, st.st_mtime_ns, st.st_ino]
    except FileNotFoundError:
        stamp = ["missing"]
    except OSError as err:
        stamp = [f"unreadable {err.errno}"]
    source = _source_stamp(os.path.join(os.path.dirname(package_file), "config.py"))
    return [__version__, source, config_file, stamp, paths.default_output_dir_str()]


def effective_config(cache_dir: str | Path | None = None) -> dict[str, Any]:
    """``load_config().to_dict()``, from the cache when the file has not changed; raises what
    ``load_config`` raises."""
    from dsexport.errors import IoError

    try:
        key = config_key()
    except OSError as err:
        msg = f"cannot locate the config: {err}"
        raise IoError(msg) from err

    def compute() -> dict[str, Any]:
        from dsexport.config import load_config

        return load_config().to_dict()

    return cached_json(os.path.join(cache_dir or _cache_dir(), CONFIG_FILE), key, compute)
