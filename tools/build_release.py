"""Build every release package with one command, byte for byte the same from the same tree:

    python tools/build_release.py            → dist/
    python tools/build_release.py --out DIR

- ``ds-export-<version>-chromium.zip``  for the Chrome Web Store and Edge Add-ons
- ``ds-export-<version>-firefox.xpi``   for addons.mozilla.org (``web-ext lint`` clean)
- ``dsexport-<version>-py3-none-any.whl`` and ``dsexport-<version>.tar.gz``: the Python package,
  which carries the extension (``pip install``/``pipx install`` it, then ``dsexport install``)
- ``SHA256SUMS``: their digests, as ``sha256sum -c`` reads them

The extension's version must equal the Python package's (``dsexport.__version__``); the script
stops otherwise. Needs the ``build`` package (``pip install build``) and network access or a pip
cache for the build backend, pinned in tools/build-constraints.txt.

Reproducible: every archive entry carries one timestamp (``SOURCE_DATE_EPOCH``, default
1980-01-01), fixed owners and permissions, in a fixed order. The Python package is built by
setuptools from a copy of the tree (so the checkout gets no build files) and its two archives are
then rewritten that way; their contents are unchanged, so the wheel's RECORD stays valid.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "host"))

from dsexport.installer import extension_package as ext  # noqa: E402

#: What setuptools needs to build the sdist and wheel; the sdist is built from exactly these.
SOURCES = ("host", "extension", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
CONSTRAINTS = REPO / "tools" / "build-constraints.txt"


class ReleaseError(Exception):
    pass


def python_version(repo: Path = REPO) -> str:
    text = (repo / "host" / "dsexport" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if not match:
        msg = "host/dsexport/__init__.py has no __version__ line"
        raise ReleaseError(msg)
    return match.group(1)


def check_versions(repo: Path = REPO) -> str:
    version = python_version(repo)
    extension = ext.read_manifest(repo / "extension")["version"]
    if extension != version:
        msg = (
            f"extension/manifest.json says {extension}, dsexport.__version__ says {version}: "
            "set both to the release's version"
        )
        raise ReleaseError(msg)
    return version


def epoch() -> int:
    return max(int(os.environ.get("SOURCE_DATE_EPOCH") or ext.ZIP_EPOCH), ext.ZIP_EPOCH)


def normalize_wheel(data: bytes) -> bytes:
    """The same entries in the same order, with one timestamp and fixed permissions."""
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            members.append((info.filename, zf.read(info)))
    stamp = ext.zip_date_time()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name, body in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            out.writestr(info, body, compresslevel=9)
    return buf.getvalue()


def normalize_sdist(data: bytes) -> bytes:
    """Members sorted by name, one mtime, owner root, modes 755/644; gzip without a timestamp."""
    when = epoch()
    entries = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        for member in tf.getmembers():
            body = tf.extractfile(member).read() if member.isfile() else None
            entries.append((member, body))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as out:
        for member, body in sorted(entries, key=lambda e: e[0].name):
            if not (member.isfile() or member.isdir()):
                msg = f"unexpected {member.type!r} entry {member.name} in the sdist"
                raise ReleaseError(msg)
            member.mtime = when
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            member.mode = 0o755 if member.isdir() or member.mode & 0o111 else 0o644
            member.pax_headers = {}
            out.addfile(member, io.BytesIO(body) if body is not None else None)
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def build_python(version: str, out: Path) -> list[Path]:
    """Wheel and sdist, built by setuptools (``python -m build``) from a copy of the tree."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch()), PIP_CONSTRAINT=str(CONSTRAINTS))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="dsexport-release-") as tmp:
        tree = Path(tmp) / f"dsexport-{version}"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".*")
        for name in SOURCES:
            src = REPO / name
            if src.is_dir():
                shutil.copytree(src, tree / name, ignore=ignore)
            else:
                shutil.copy2(src, tree / name)
        built = Path(tmp) / "built"
        proc = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(built), str(tree)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            msg = f"python -m build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            raise ReleaseError(msg)
        wheel = built / f"dsexport-{version}-py3-none-any.whl"
        sdist = built / f"dsexport-{version}.tar.gz"
        paths = []
        for path, normalize in ((wheel, normalize_wheel), (sdist, normalize_sdist)):
            target = out / path.name
            ext.write_if_changed(target, normalize(path.read_bytes()))
            paths.append(target)
        return paths


def build_all(out: Path, *, python: bool = True) -> list[Path]:
    version = check_versions()
    out.mkdir(parents=True, exist_ok=True)
    written = list(ext.write_packages(REPO / "extension", out).values())
    if python:
        written += build_python(version, out)
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in written)
    ext.write_if_changed(out / "SHA256SUMS", sums.encode())
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "dist"), help="output folder (default: dist)")
    parser.add_argument(
        "--extension-only", action="store_true", help="only the .zip and .xpi (no Python build)"
    )
    args = parser.parse_args(argv)
    try:
        written = build_all(Path(args.out), python=not args.extension_only)
    except (ReleaseError, ext.PackageError) as err:
        print(f"build_release: {err}", file=sys.stderr)
        return 1
    for path in written:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{digest}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
