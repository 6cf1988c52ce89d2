"""The browser extension as files: which files of the extension folder ship, the store packages
built from them, and the copy a person loads unpacked.

One source of truth: the repository's ``extension/`` folder. The wheel carries it as
``dsexport/extension`` (setup.py copies it at build time, using ``extension_files`` from this
module), ``dsexport extension`` copies that to a folder whose path survives upgrades, and
``tools/build_release.py`` and ``dsexport extension`` build the packages with ``build_package``:

- ``ds-export-<version>-chromium.zip``: what the Chrome Web Store and Edge Add-ons accept. The
  manifest loses ``key`` (the Chrome Web Store refuses uploads that carry one; the store assigns
  the ID), ``browser_specific_settings`` and ``background.scripts`` (Firefox-only).
- ``ds-export-<version>-firefox.xpi``: what addons.mozilla.org accepts. The manifest loses
  ``key``, ``background.service_worker`` and the ``offscreen`` permission (Chromium-only;
  Firefox draws SVG in its background page and its linter warns about the unknown permission).

Packages are byte-reproducible: entries in sorted order, one fixed timestamp
(``SOURCE_DATE_EPOCH`` when set, else 1980-01-01), fixed permissions, the same manifest text.

This module imports only the standard library: setup.py loads it by path, before dsexport is
installed.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

TARGETS = ("chromium", "firefox")
#: Permissions only Chromium knows; the Firefox package leaves them out.
CHROMIUM_ONLY_PERMISSIONS = ("offscreen", "downloads.ui")
SUFFIX = {"chromium": "zip", "firefox": "xpi"}
#: The earliest time a zip entry can carry; used when SOURCE_DATE_EPOCH is not set.
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z
#: Names never shipped: editor and OS litter, version-control and Python caches.
_SKIP_NAMES = frozenset({"__pycache__", "node_modules", "Thumbs.db", "desktop.ini"})
_SKIP_SUFFIXES = ("~", ".swp", ".swo", ".orig", ".rej", ".pyc")


class PackageError(Exception):
    """The extension folder cannot be packaged (a symlink, no manifest, a bad version)."""


def extension_files(folder: str | os.PathLike) -> list[str]:
    """Every file of the extension folder that ships, as sorted '/'-separated relative paths,
    e.g. ``["_locales/en/messages.json", …, "manifest.json", …]``. Hidden files and editor
    litter are left out; a symlink is an error (it could pull in anything)."""
    root = os.fspath(folder)
    if not os.path.isfile(os.path.join(root, "manifest.json")):
        msg = f"{root} is not an extension folder (it has no manifest.json)"
        raise PackageError(msg)
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if _ships(d))
        for name in dirs + files:
            path = os.path.join(current, name)
            if name in files and not _ships(name):
                continue
            if os.path.islink(path):
                msg = f"{path} is a symbolic link; the extension folder must hold real files"
                raise PackageError(msg)
            if name in files:
                found.append(os.path.relpath(path, root).replace(os.sep, "/"))
    return sorted(found)


def _ships(name: str) -> bool:
    return not (name.startswith(".") or name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES))


def read_manifest(folder: str | os.PathLike) -> dict:
    with open(os.path.join(os.fspath(folder), "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("version"), str):
        msg = f"{folder}/manifest.json has no version"
        raise PackageError(msg)
    return manifest


def manifest_for(target: str, manifest: dict) -> dict:
    """The manifest as the ``target`` store wants it (see the module docstring)."""
    out = json.loads(json.dumps(manifest))  # a deep copy that keeps the key order
    out.pop("key", None)
    background = out.get("background")
    if target == "chromium":
        out.pop("browser_specific_settings", None)
        if isinstance(background, dict):
            background.pop("scripts", None)
    elif target == "firefox":
        if isinstance(background, dict) and background.get("scripts"):
            background.pop("service_worker", None)
        permissions = out.get("permissions")
        if isinstance(permissions, list):
            out["permissions"] = [p for p in permissions if p not in CHROMIUM_ONLY_PERMISSIONS]
    else:
        msg = f"unknown package target {target!r}; choose from {', '.join(TARGETS)}"
        raise PackageError(msg)
    return out


def manifest_text(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def package_name(version: str, target: str) -> str:
    """``ds-export-0.1.0-chromium.zip`` / ``ds-export-0.1.0-firefox.xpi``."""
    return f"ds-export-{version}-{target}.{SUFFIX[target]}"


def build_package(folder: str | os.PathLike, target: str) -> bytes:
    """The ``target`` package of the extension in ``folder``, as bytes."""
    root = os.fspath(folder)
    manifest = manifest_text(manifest_for(target, read_manifest(root)))
    members = [
        (name, manifest if name == "manifest.json" else _read(root, name))
        for name in extension_files(root)
    ]
    return deterministic_zip(members)


def _read(root: str, name: str) -> bytes:
    with open(os.path.join(root, *name.split("/")), "rb") as fh:
        return fh.read()


def zip_date_time() -> tuple[int, int, int, int, int, int]:
    """The one timestamp every entry carries: ``SOURCE_DATE_EPOCH`` (UTC) or 1980-01-01."""
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH") or ZIP_EPOCH), ZIP_EPOCH)
    return time.gmtime(epoch)[:6]


def deterministic_zip(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of ``(name, data)`` in sorted order, same bytes for the same input on any OS."""
    stamp = zip_date_time()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in sorted(members):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever OS builds it, so the mode below is read
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def write_if_changed(path: str | os.PathLike, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly that; True if
    written."""
    target = os.fspath(path)
    try:
        with open(target, "rb") as fh:
            if fh.read() == data:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def write_packages(folder: str | os.PathLike, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Both packages of the extension in ``folder`` into ``out_dir``; ``{target: path}``."""
    from pathlib import Path

    version = read_manifest(folder)["version"]
    paths: dict[str, Path] = {}
    for target in TARGETS:
        path = Path(out_dir, package_name(version, target))
        write_if_changed(path, build_package(folder, target))
        paths[target] = path
    return paths


def differences(src: str | os.PathLike, dst: str | os.PathLike) -> list[str]:
    """The shipped files in which ``dst`` is not ``src``: missing from it, other bytes, or in
    ``dst`` only; sorted '/'-separated names (empty: ``dst`` is an exact copy)."""
    source, target = os.fspath(src), os.fspath(dst)
    wanted = extension_files(source)
    held = set(extension_files(target))
    differ = [n for n in wanted if n not in held or _read(source, n) != _read(target, n)]
    return sorted([*differ, *(held - set(wanted))])


def sync_folder(src: str | os.PathLike, dst: str | os.PathLike) -> bool:
    """Make ``dst`` hold exactly the shipped files of ``src`` (the unpacked extension a browser
    loads): changed files are replaced atomically, files that no longer ship are deleted, and
    nothing outside ``dst`` is touched. True if anything changed."""
    source, target = os.fspath(src), os.fspath(dst)
    if os.path.islink(target):
        msg = f"{target} is a symbolic link; refusing to write the extension through it"
        raise PackageError(msg)
    wanted = extension_files(source)
    changed = False
    for name in wanted:
        changed |= write_if_changed(os.path.join(target, *name.split("/")), _read(source, name))
    keep = {os.path.join(target, *name.split("/")) for name in wanted}
    for current, dirs, files in os.walk(target, topdown=False):
        for name in files:
            path = os.path.join(current, name)
            if path not in keep:
                os.unlink(path)
                changed = True
        for name in dirs:
            path = os.path.join(current, name)
            if os.path.islink(path):
                os.unlink(path)
                changed = True
            elif not os.listdir(path):
                os.rmdir(path)
                changed = True
    return changed
