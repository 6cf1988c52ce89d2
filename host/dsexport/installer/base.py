"""The installer's one interface: a ``Platform`` answers per-OS questions (where things go, is a
browser installed) and everything else — planning, applying, recording, uninstalling — is shared.

``plan(request)`` returns a list of operations; ``--dry-run`` prints them, ``apply`` carries them
out and records what it did in the install record (state.py); ``uninstall_plan(record)`` turns that
record back into removal operations. Home, environment, registry and file-existence checks are
injected, so the macOS and Windows plans are tested on Linux.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import ClassVar

from dsexport.errors import DsError, IoError
from dsexport.installer import state as state_mod
from dsexport.installer.browsers import BROWSERS, BY_NAME, Browser, Place, Sandbox
from dsexport.installer.extension_id import chromium_origin
from dsexport.installer.launcher import plan_launcher
from dsexport.installer.registry import Registry
from dsexport.installer.state import FileRecord, InstallState, RegistryRecord

HOST_NAME = "org.dsexport.host"
HOST_DESCRIPTION = "DS Export helper: saves DeepSeek images with their prompts embedded"


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class WriteFile:
    path: str
    content: str
    kind: str = "manifest"  # "manifest" | "launcher"
    browsers: tuple[str, ...] = ()

    def describe(self) -> str:
        body = "".join(f"    | {line}\n" for line in self.content.splitlines())
        return f"write {self.path}\n{body}".rstrip("\n")


@dataclass(frozen=True)
class MakeExecutable:
    path: str

    def describe(self) -> str:
        return f"make executable (chmod 755) {self.path}"


@dataclass(frozen=True)
class SetRegistryValue:
    hive: str
    key: str
    name: str
    value: str
    browsers: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"set registry {self.hive}\\{self.key} {self.name or '(default)'} = {self.value}"


@dataclass(frozen=True)
class RemoveFile:
    path: str
    sha256: str | None  # remove only while the content is still what we wrote; None: always

    def describe(self) -> str:
        return f"delete {self.path}"


@dataclass(frozen=True)
class RemoveDir:
    path: str

    def describe(self) -> str:
        return f"remove folder {self.path} (only if empty)"


@dataclass(frozen=True)
class DeleteRegistryKey:
    hive: str
    key: str
    expected: str | None  # default value must still be this; None: only when the key is empty

    def describe(self) -> str:
        return f"delete registry key {self.hive}\\{self.key}"


@dataclass(frozen=True)
class CopyExtension:
    """Bring DS Export's copy of the extension (the folder a person loads) up to date."""

    source: str
    path: str

    def describe(self) -> str:
        return f"copy the extension {self.source}\n    to {self.path} (the folder to load)"


@dataclass(frozen=True)
class RemoveExtensionCopy:
    path: str

    def describe(self) -> str:
        return f"delete the extension copy {self.path} (only if it is DS Export's)"


@dataclass(frozen=True)
class RemovePackages:
    path: str

    def describe(self) -> str:
        return f"delete the extension packages (ds-export-*.zip, .xpi) in {self.path}"


Op = (
    WriteFile
    | MakeExecutable
    | SetRegistryValue
    | RemoveFile
    | RemoveDir
    | DeleteRegistryKey
    | CopyExtension
    | RemoveExtensionCopy
    | RemovePackages
)


# --------------------------------------------------------------------------- requests and survey


@dataclass(frozen=True)
class InstallRequest:
    """What ``dsexport install`` was asked to do. ``browsers`` empty = every installed one."""

    chromium_ids: tuple[str, ...]
    firefox_ids: tuple[str, ...]
    browsers: tuple[str, ...] = ()
    system: bool = False
    user_data_dirs: tuple[str, ...] = ()
    extension_dir: str | None = None
    """The folder a person loads (and whose manifest pins the IDs)."""
    extension_copy_from: str | None = None
    """When set, ``extension_dir`` is DS Export's copy of this folder (the package's
    ``dsexport/extension``), refreshed by the install and removed by uninstall."""
    python: str = field(default_factory=lambda: sys.executable)

    @property
    def allowed_callers(self) -> list[str]:
        return [chromium_origin(i) for i in self.chromium_ids] + list(self.firefox_ids)


@dataclass
class BrowserStatus:
    """One line of ``dsexport install`` output: a browser, a sandboxed build or a profile folder."""

    name: str
    label: str
    family: str
    installed: bool
    selected: bool
    manifests: list[str] = field(default_factory=list)
    registry_keys: list[tuple[str, str]] = field(default_factory=list)  # (hive, key)
    notes: list[str] = field(default_factory=list)
    sandbox: Sandbox | None = None


def chromium_manifest(launcher: str, origins: Iterable[str]) -> dict:
    return {
        "name": HOST_NAME,
        "description": HOST_DESCRIPTION,
        "path": launcher,
        "type": "stdio",
        "allowed_origins": list(origins),
    }


def firefox_manifest(launcher: str, extension_ids: Iterable[str]) -> dict:
    # Firefox rejects unknown fields (Kolide), so no allowed_origins here: two manifests.
    return {
        "name": HOST_NAME,
        "description": HOST_DESCRIPTION,
        "path": launcher,
        "type": "stdio",
        "allowed_extensions": list(extension_ids),
    }


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- the interface


class Platform(ABC):
    """One OS. Subclasses answer the questions; this class plans, applies and uninstalls."""

    name: ClassVar[str]  # "linux" | "macos" | "windows"; also the Browser attribute to read
    path_type: ClassVar[type[PurePath]]

    def __init__(
        self,
        *,
        home: str | os.PathLike,
        env: Mapping[str, str] | None = None,
        registry: Registry | None = None,
        exists: Callable[[str], bool] | None = None,
        which: Callable[[str], str | None] | None = None,
        data_dir: str | os.PathLike | None = None,
    ) -> None:
        self.home = str(home)
        self.env = dict(os.environ if env is None else env)
        self.registry = registry
        self.exists = exists or os.path.exists
        self.which = which or (lambda name: shutil.which(name, path=self.env.get("PATH")))
        self._data_dir = str(data_dir) if data_dir is not None else None

    # ---- questions each OS answers

    @abstractmethod
    def template_vars(self) -> dict[str, str]:
        """Values for the ``{home}``, ``{config}``, … placeholders of browsers.py."""

    @abstractmethod
    def default_data_dir(self) -> str:
        """Where a user install keeps the launcher and record, e.g. ``~/.local/share/dsexport``."""

    @abstractmethod
    def system_data_dir(self) -> str:
        """The same for ``--system``, e.g. ``/usr/local/lib/dsexport``."""

    def manifest_paths(self, browser: Browser, place: Place, system: bool) -> list[str]:
        """Manifest files for one browser (POSIX: one per folder it reads)."""
        dirs = place.system_dirs if system else place.manifest_dirs
        return [str(self.path_type(self.expand(d)) / f"{HOST_NAME}.json") for d in dirs]

    def registrations(self, browser: Browser, place: Place, system: bool) -> list[tuple[str, str]]:
        """Registry keys ``(hive, key)`` whose default value must name the manifest (Windows)."""
        return []

    def detected_sandboxes(self) -> list[Sandbox]:
        """Snap / Flatpak browser builds present on this machine (Linux only)."""
        return []

    # ---- shared answers

    def expand(self, template: str) -> str:
        return str(self.path_type(template.format(**self.template_vars())))

    def data_dir(self, system: bool = False) -> PurePath:
        if system:
            return self.path_type(self.system_data_dir())
        return self.path_type(self._data_dir or self.default_data_dir())

    def state_path(self, system: bool = False) -> PurePath:
        return self.data_dir(system) / state_mod.STATE_FILE

    def place(self, browser: Browser) -> Place | None:
        return getattr(browser, self.name)

    def is_installed(self, browser: Browser) -> bool:
        place = self.place(browser)
        if place is None:
            return False
        return any(self.exists(self.expand(p)) for p in place.detect) or any(
            self.which(b) for b in place.binaries
        )

    def survey(self, request: InstallRequest) -> list[BrowserStatus]:
        """Every browser of the table, every detected sandboxed build, every profile folder."""
        wanted = set(request.browsers)
        auto = not wanted and not request.user_data_dirs
        rows: list[BrowserStatus] = []
        for browser in BROWSERS:
            place = self.place(browser)
            if place is None:
                continue
            installed = self.is_installed(browser)
            row = BrowserStatus(
                browser.name,
                browser.label,
                browser.family,
                installed=installed,
                selected=browser.name in wanted or (auto and installed),
                manifests=self.manifest_paths(browser, place, request.system),
                registry_keys=self.registrations(browser, place, request.system),
            )
            if row.selected and not installed:
                row.notes.append("not detected on this machine; registered because you named it")
            rows.append(row)
        if not request.system:
            for sandbox in self.detected_sandboxes():
                label = f"{BY_NAME[sandbox.browser].label} ({sandbox.kind.capitalize()})"
                rows.append(
                    BrowserStatus(
                        f"{sandbox.kind}-{sandbox.browser}",
                        label,
                        BY_NAME[sandbox.browser].family,
                        installed=True,
                        selected=auto or sandbox.browser in wanted,
                        manifests=[
                            str(self.path_type(self.expand(d)) / f"{HOST_NAME}.json")
                            for d in sandbox.manifest_dirs
                        ],
                        notes=[n for n in (sandbox.works, sandbox.fails) if n],
                        sandbox=sandbox,
                    )
                )
        for folder in request.user_data_dirs:
            rows.append(
                BrowserStatus(
                    f"profile:{folder}",
                    f"Chromium profile {folder}",
                    "chromium",
                    installed=True,
                    selected=True,
                    manifests=[
                        str(self.path_type(folder) / "NativeMessagingHosts" / f"{HOST_NAME}.json")
                    ],
                )
            )
        return rows

    def launcher_path(self, request: InstallRequest) -> str:
        path, _ = plan_launcher(
            self.name, self.data_dir(request.system), request.python, self.exists
        )
        return path

    def plan(self, request: InstallRequest, rows: list[BrowserStatus] | None = None) -> list[Op]:
        """Launcher first (a manifest must never point at a missing file), then manifests, then
        registry values. Browsers that share a folder or key (Opera and Chrome) share one op."""
        rows = self.survey(request) if rows is None else rows
        launcher, script = plan_launcher(
            self.name, self.data_dir(request.system), request.python, self.exists
        )
        ops: list[Op] = []
        if request.extension_copy_from and request.extension_dir:
            ops.append(CopyExtension(request.extension_copy_from, request.extension_dir))
        if script is not None:
            ops.append(WriteFile(launcher, script, kind="launcher"))
            if self.name != "windows":
                ops.append(MakeExecutable(launcher))
        texts = {
            "chromium": manifest_text(
                chromium_manifest(launcher, [chromium_origin(i) for i in request.chromium_ids])
            ),
            "firefox": manifest_text(firefox_manifest(launcher, request.firefox_ids)),
        }
        files: dict[str, tuple[str, list[str]]] = {}
        keys: dict[tuple[str, str], tuple[str, list[str]]] = {}
        for row in rows:
            if not row.selected:
                continue
            for path in row.manifests:
                files.setdefault(path, (row.family, []))[1].append(row.name)
            for hive, key in row.registry_keys:
                keys.setdefault((hive, key.lower()), (key, []))[1].append(row.name)
        for path, (family, names) in files.items():
            ops.append(WriteFile(path, texts[family], browsers=tuple(names)))
        for (hive, _), (key, names) in keys.items():
            # A key's value is the manifest of its browsers' family (one per family on Windows).
            family = BY_NAME[names[0]].family
            manifest = next(p for p, (fam, _) in files.items() if fam == family)
            ops.append(SetRegistryValue(hive, key, "", manifest, browsers=tuple(names)))
        return ops

    # ---- applying

    def apply(self, ops: list[Op], request: InstallRequest) -> InstallState:
        """Carry out ``ops`` and write the install record (merged with an earlier one)."""
        self._check_writable(ops, request.system)
        record = InstallState(
            host_name=HOST_NAME,
            scope="system" if request.system else "user",
            python=request.python,
            launcher=self.launcher_path(request),
            extension_dir=request.extension_dir,
            allowed_callers=request.allowed_callers,
        )
        if request.extension_copy_from:
            record.extension_copy = request.extension_dir
        try:
            for op in ops:
                self._apply_one(op, record, request.system)
        except BaseException:
            # Even a failed install records what it did write, so uninstall can remove it.
            if record.files or record.registry:
                with contextlib.suppress(DsError, OSError):
                    self._save_record(record, request.system)
            raise
        self._save_record(record, request.system)
        return record

    def _apply_one(self, op: Op, record: InstallState, system: bool) -> None:
        if isinstance(op, WriteFile):
            record.dirs += _makedirs(Path(op.path).parent)
            mode = 0o755 if op.kind == "launcher" else 0o644
            state_mod.write_text_atomic(Path(op.path), op.content, mode)
            record.files.append(
                FileRecord(op.path, sha256_text(op.content), op.kind, list(op.browsers))
            )
        elif isinstance(op, MakeExecutable):
            os.chmod(op.path, 0o755)
        elif isinstance(op, CopyExtension):
            from dsexport.installer import extension_package

            record.dirs += _makedirs(Path(op.path).parent)
            try:
                extension_package.sync_folder(op.source, op.path)
            except (OSError, extension_package.PackageError) as err:
                msg = f"cannot copy the extension to {op.path}: {err}"
                raise IoError(msg) from err
        elif isinstance(op, SetRegistryValue):
            reg = self._registry()
            created = _missing_keys(reg, op.hive, op.key)
            try:
                reg.set_value(op.hive, op.key, op.name, op.value)
            except PermissionError as err:
                msg = f"cannot write {op.hive}\\{op.key}: {err}; {_admin_hint(system)}"
                raise IoError(msg) from err
            record.registry.append(
                RegistryRecord(op.hive, op.key, op.value, created, list(op.browsers))
            )

    def _save_record(self, record: InstallState, system: bool) -> None:
        written = [*record.files, *record.registry]
        record.browsers = sorted({b for item in written for b in item.browsers})
        path = Path(self.state_path(system))
        record.dirs += _makedirs(path.parent)
        record.merged_with(state_mod.load(path))
        state_mod.save(path, record)

    def _registry(self) -> Registry:
        if self.registry is None:
            msg = "no registry available on this platform"
            raise IoError(msg)
        return self.registry

    def _check_writable(self, ops: list[Op], system: bool) -> None:
        """Fail before writing anything, so a refused install leaves nothing half-done."""
        refused = []
        for op in ops:
            if isinstance(op, WriteFile | CopyExtension):
                folder = Path(op.path).parent
                while not folder.exists() and folder != folder.parent:
                    folder = folder.parent
                if not os.access(folder, os.W_OK):
                    refused.append(str(folder))
        if refused:
            listed = ", ".join(sorted(set(refused)))
            msg = f"no permission to write in {listed}; {_admin_hint(system)}"
            raise IoError(msg)

    # ---- uninstalling

    def uninstall_plan(self, record: InstallState, state_path: PurePath) -> list[Op]:
        """Registry first (no key may point at a deleted manifest), then manifests, the launcher,
        the record itself, and last the folders we created, deepest first, if empty."""
        ops: list[Op] = []
        for reg in record.registry:
            ops.append(DeleteRegistryKey(reg.hive, reg.key, reg.value))
            for key in sorted(reg.created_keys, key=lambda k: k.count("\\"), reverse=True):
                ops.append(DeleteRegistryKey(reg.hive, key, None))
        files = sorted(record.files, key=lambda f: f.kind == "launcher")
        ops += [RemoveFile(f.path, f.sha256) for f in files]
        if record.extension_copy:
            ops.append(RemoveExtensionCopy(record.extension_copy))
        ops.append(RemovePackages(str(PurePath(state_path).parent / "packages")))
        ops.append(RemoveFile(str(state_path), None))
        for folder in sorted(set(record.dirs), key=lambda d: len(PurePath(d).parts), reverse=True):
            ops.append(RemoveDir(folder))
        return ops

    def remove(self, ops: list[Op]) -> list[tuple[Op, str]]:
        """Carry out removal ops; each outcome is ``removed``, ``absent``, ``changed`` (left alone:
        someone rewrote it after we installed) or ``not empty``."""
        done: list[tuple[Op, str]] = []
        for op in ops:
            if isinstance(op, RemoveFile):
                done.append((op, _remove_file(op)))
            elif isinstance(op, RemoveDir):
                done.append((op, _remove_dir(op)))
            elif isinstance(op, DeleteRegistryKey):
                done.append((op, self._delete_key(op)))
            elif isinstance(op, RemoveExtensionCopy | RemovePackages):
                from dsexport.installer import extension_folder

                remove = (
                    extension_folder.remove_copy
                    if isinstance(op, RemoveExtensionCopy)
                    else extension_folder.remove_packages
                )
                try:
                    done.append((op, remove(op.path)))
                except OSError as err:
                    msg = f"cannot delete {op.path}: {err.strerror or err}"
                    raise IoError(msg) from err
        return done

    def _delete_key(self, op: DeleteRegistryKey) -> str:
        reg = self._registry()
        if not reg.key_exists(op.hive, op.key):
            return "absent"
        if op.expected is not None:
            if reg.get_value(op.hive, op.key, "") != op.expected:
                return "changed"
        elif reg.values(op.hive, op.key):
            return "not empty"
        if reg.subkeys(op.hive, op.key):
            return "not empty"
        reg.delete_key(op.hive, op.key)
        return "removed"


# --------------------------------------------------------------------------- helpers


def _admin_hint(system: bool) -> str:
    if not system:
        return "check the folder's owner and permissions, then run `dsexport install` again"
    if sys.platform == "win32":
        return "run `dsexport install --system` from an administrator PowerShell"
    return "system-wide registration needs root: run `sudo dsexport install --system`"


def _makedirs(folder: Path) -> list[str]:
    """Create ``folder`` and its missing parents; return the ones created, outermost first."""
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot create {folder}: {err.strerror or err}"
        raise IoError(msg) from err
    return [str(p) for p in reversed(missing)]


def _missing_keys(reg: Registry, hive: str, key: str) -> list[str]:
    """Parents of ``key`` (excluding the key itself) that do not exist yet."""
    parts = key.split("\\")
    return [
        "\\".join(parts[:i])
        for i in range(1, len(parts))
        if not reg.key_exists(hive, "\\".join(parts[:i]))
    ]


def _remove_file(op: RemoveFile) -> str:
    path = Path(op.path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "absent"
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise IoError(msg) from err
    if op.sha256 is not None and hashlib.sha256(data).hexdigest() != op.sha256:
        return "changed"
    try:
        path.unlink()
    except OSError as err:
        msg = f"cannot delete {path}: {err.strerror or err}"
        raise IoError(msg) from err
    return "removed"


def _remove_dir(op: RemoveDir) -> str:
    path = Path(op.path)
    if not path.is_dir():
        return "absent"
    if any(path.iterdir()):
        return "not empty"
    path.rmdir()
    return "removed"
