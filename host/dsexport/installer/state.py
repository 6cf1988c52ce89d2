"""The install record: what ``dsexport install`` wrote, so ``uninstall`` removes exactly that.

It lives at ``<data dir>/install-state.json`` (``paths.data_dir()`` for a user install, e.g.
``~/.local/share/dsexport/install-state.json``). The native host reads ``allowed_callers`` from it
to check who is calling: Chromium origins ``chrome-extension://<id>/`` and Firefox add-on IDs.

Example::

    {"version": 1, "host_name": "org.dsexport.host", "scope": "user",
     "allowed_callers": ["chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/",
                         "dsexport@dsexport.org"],
     "files": [{"path": "/home/me/.config/chromium/NativeMessagingHosts/org.dsexport.host.json",
                "sha256": "…", "kind": "manifest", "browsers": ["chromium"]}], …}
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dsexport.errors import BadConfig, IoError

STATE_FILE = "install-state.json"
STATE_VERSION = 1


@dataclass
class FileRecord:
    path: str
    sha256: str
    kind: str  # "manifest" | "launcher"
    browsers: list[str] = field(default_factory=list)


@dataclass
class RegistryRecord:
    hive: str
    key: str  # the host's key: Software\Google\Chrome\NativeMessagingHosts\org.dsexport.host
    value: str  # the default value we set (the manifest path)
    created_keys: list[str] = field(default_factory=list)  # parents that did not exist before
    browsers: list[str] = field(default_factory=list)


@dataclass
class InstallState:
    host_name: str
    scope: str  # "user" | "system"
    python: str
    launcher: str
    extension_dir: str | None
    allowed_callers: list[str]
    browsers: list[str] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)  # folders we created; removed only when empty
    registry: list[RegistryRecord] = field(default_factory=list)
    extension_copy: str | None = None  # DS Export's copy of the extension (the folder to load)
    version: int = STATE_VERSION

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> InstallState:
        data = dict(data)
        data["files"] = [FileRecord(**f) for f in data.get("files", [])]
        data["registry"] = [RegistryRecord(**r) for r in data.get("registry", [])]
        return cls(**data)

    def merged_with(self, older: InstallState | None) -> InstallState:
        """This record plus whatever ``older`` recorded that this install did not rewrite, so a
        re-install (an upgrade, one more ``--browser``) never forgets what uninstall removes."""
        if older is None:
            return self
        paths = {f.path for f in self.files}
        self.files += [f for f in older.files if f.path not in paths]
        for old in older.registry:
            same = [
                r for r in self.registry if (r.hive, r.key.lower()) == (old.hive, old.key.lower())
            ]
            if same:  # parent keys the earlier install created stay ours to remove
                same[0].created_keys = sorted(set(same[0].created_keys) | set(old.created_keys))
            else:
                self.registry.append(old)
        self.dirs = sorted(set(self.dirs) | set(older.dirs))
        self.extension_copy = self.extension_copy or older.extension_copy
        self.browsers = sorted(set(self.browsers) | set(older.browsers))
        return self


def load(path: Path) -> InstallState | None:
    """The record at ``path``, or None when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        msg = (
            f"the install record {path} is unreadable ({err}); delete it and run `dsexport install`"
        )
        raise BadConfig(msg) from err
    try:
        return InstallState.from_dict(data)
    except TypeError as err:
        msg = f"the install record {path} is not in the expected format; delete it and reinstall"
        raise BadConfig(msg) from err


def save(path: Path, state: InstallState) -> None:
    """Write atomically: a crash mid-write must not lose the record of what to uninstall."""
    text = json.dumps(state.to_dict(), indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(path, text)


def write_text_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Temp file in the target folder, fsync, rename over ``path``."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        msg = f"cannot write {path}: {err.strerror or err}"
        raise IoError(msg) from err
