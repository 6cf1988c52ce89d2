"""Which extension folder a person loads, and DS Export's own copy of it.

- From a source checkout (``pip install -e``, tests): the checkout's ``extension/`` itself, so an
  edit shows up when the browser reloads the extension.
- From an installed package (pip, pipx, install.sh): the package carries the extension as
  ``dsexport/extension``; ``dsexport install`` and ``dsexport extension`` copy it to
  ``<data dir>/extension`` (e.g. ``~/.local/share/dsexport/extension``). Chrome remembers an
  unpacked extension by its folder, and the package's own folder moves whenever its virtual
  environment is made again (a new Python: ``…/lib/python3.12/…`` becomes ``python3.13``);
  the copy's path does not, and re-running the installer refreshes it in place.

The store packages (``extension_package``) are written to ``<data dir>/packages``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dsexport.errors import IoError, NotFound
from dsexport.installer import extension_package
from dsexport.installer.extension_id import bundled_extension_dir, find_extension_dir

COPY_NAME = "extension"
PACKAGES_NAME = "packages"
OUR_GECKO_ID = "dsexport@dsexport.org"


@dataclass(frozen=True)
class ExtensionFolder:
    """``source``: where the files come from; ``load``: the folder a browser loads (the copy,
    or the source itself); ``copied``: whether ``load`` is DS Export's copy."""

    source: Path
    load: Path
    copied: bool


def locate(data_dir: str | os.PathLike, extension_dir: str | os.PathLike | None = None):
    """The extension folder for this installation, without changing anything.

    ``extension_dir`` (``--extension-dir``) is used as given, never copied.
    """
    if extension_dir is not None:
        folder = Path(extension_dir).resolve()
        return ExtensionFolder(folder, folder, copied=False)
    bundled = bundled_extension_dir()
    if bundled is not None:
        return ExtensionFolder(bundled, Path(data_dir) / COPY_NAME, copied=True)
    checkout = find_extension_dir()
    if checkout is None:
        msg = (
            "this installation of DS Export carries no browser extension (dsexport/extension) "
            "and is not in a source checkout; reinstall it (pip install --force-reinstall "
            "dsexport) or pass --extension-dir /path/to/ds-export/extension"
        )
        raise NotFound(msg)
    return ExtensionFolder(checkout, checkout, copied=False)


def prepare(data_dir: str | os.PathLike, extension_dir: str | os.PathLike | None = None):
    """``locate``, then bring DS Export's copy up to date with the package (when there is one)."""
    folder = locate(data_dir, extension_dir)
    if folder.copied:
        try:
            extension_package.sync_folder(folder.source, folder.load)
        except OSError as err:
            msg = f"cannot copy the extension to {folder.load}: {err.strerror or err}"
            raise IoError(msg) from err
    return folder


def packages_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / PACKAGES_NAME


def write_packages(folder: ExtensionFolder, data_dir: str | os.PathLike) -> dict[str, Path]:
    """The Chromium .zip and Firefox .xpi of ``folder`` in ``<data dir>/packages``."""
    try:
        return extension_package.write_packages(folder.load, packages_dir(data_dir))
    except OSError as err:
        msg = f"cannot write the extension packages: {err.strerror or err}"
        raise IoError(msg) from err


def is_our_copy(path: str | os.PathLike) -> bool:
    """True when ``path`` is a real folder holding DS Export's extension (its Firefox ID), so
    ``uninstall`` never deletes a folder it did not make."""
    if os.path.islink(path) or not os.path.isdir(path):
        return False
    try:
        manifest = extension_package.read_manifest(path)
    except (OSError, ValueError, extension_package.PackageError):
        return False
    gecko = (manifest.get("browser_specific_settings") or {}).get("gecko") or {}
    return gecko.get("id") == OUR_GECKO_ID


def remove_copy(path: str | os.PathLike) -> str:
    """Delete DS Export's extension copy (``removed``), or say why not: ``absent``, ``changed``
    (not our copy: left alone)."""
    if not os.path.lexists(path):
        return "absent"
    if not is_our_copy(path):
        return "changed"
    for current, dirs, files in os.walk(path, topdown=False):
        for name in files:
            os.unlink(os.path.join(current, name))
        for name in dirs:
            full = os.path.join(current, name)
            if os.path.islink(full):
                os.unlink(full)
            else:
                os.rmdir(full)
    os.rmdir(path)
    return "removed"


def remove_packages(path: str | os.PathLike) -> str:
    """Delete the ``ds-export-*`` packages DS Export wrote, then the folder if it is empty."""
    if not os.path.isdir(path) or os.path.islink(path):
        return "absent"
    for name in os.listdir(path):
        if name.startswith("ds-export-") and name.endswith((".zip", ".xpi")):
            os.unlink(os.path.join(path, name))
    if os.listdir(path):
        return "not empty"
    os.rmdir(path)
    return "removed"
