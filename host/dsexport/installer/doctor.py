"""``dsexport doctor``: check the registration end to end, and say how to fix each problem.

For every browser that is installed or was registered: manifest present, valid JSON, right
``name`` / ``path`` / ``type`` / allowed callers (Windows: the registry key too); the launcher is
executable and its Python still exists; then a real ping round trip, starting the launcher exactly
as the browser does (``[path, "chrome-extension://<id>/"]``, or ``[path, manifest, add-on id]`` for
Firefox, working directory = the launcher's folder) and speaking one frame. Also: the output folder
is writable, and no administrator policy blocks user-level hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import plistlib
import shlex
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dsexport.errors import DsError
from dsexport.installer import state as state_mod
from dsexport.installer.base import HOST_NAME, BrowserStatus, InstallRequest, Platform
from dsexport.installer.browsers import POLICIES
from dsexport.installer.extension_id import (
    bundled_extension_dir,
    chromium_origin,
    find_extension_dir,
    read_ids,
)

#: How long a ping may take, start-up included, before the host counts as hung.
PING_TIMEOUT = 15.0
#: Hosts may send at most 1 MiB (Chrome and Firefox); a larger "length" is usually stray stdout.
MAX_REPLY = 1024 * 1024

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass
class Finding:
    """One checked fact. ``section`` is a browser label or ``"DS Export"``."""

    section: str
    check: str
    status: str  # ok | warning | problem
    message: str
    fix: str | None = None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status == PROBLEM]

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, section: str, check: str, status: str, message: str, fix: str | None = None):
        self.findings.append(Finding(section, check, status, message, fix))

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "problems": len(self.problems),
            "findings": [asdict(f) for f in self.findings],
        }

    def to_text(self) -> str:
        lines: list[str] = []
        section = None
        for f in self.findings:
            if f.section != section:
                section = f.section
                lines.append(section)
            lines.append(_wrap(f"{f.status.upper():8} {f.message}"))
            if f.fix:
                lines.append(_wrap(f"fix: {f.fix}", 11))
        n, w = len(self.problems), sum(f.status == WARNING for f in self.findings)
        warnings = f" ({w} warning(s) above)" if w else ""
        lines.append(f"{n} problem(s) found{warnings}." if n else f"No problems found{warnings}.")
        return "\n".join(lines)


def _wrap(text: str, indent: int = 2) -> str:
    """Wrap to 100 columns; continuation lines line up after the status word."""
    return textwrap.fill(
        text,
        width=100,
        initial_indent=" " * indent,
        subsequent_indent=" " * 11,
        break_long_words=False,
        break_on_hyphens=False,
    )


@dataclass
class Expected:
    """What a correct registration looks like, from the install record (or the extension)."""

    launcher: str | None
    python: str | None
    origins: list[str]
    firefox_ids: list[str]
    browsers: list[str]
    profiles: list[str]
    system: bool


def diagnose(
    platform: Platform, *, ping: bool = True, policy_root: str = "/", timeout: float = PING_TIMEOUT
) -> Report:
    report = Report()
    expected = _check_record(platform, report)
    _check_launcher(expected, report)
    rows = platform.survey(
        InstallRequest(
            chromium_ids=(),
            firefox_ids=(),
            system=expected.system,
            user_data_dirs=tuple(expected.profiles),
        )
    )
    pinged: dict[tuple[str, ...], Finding] = {}
    any_browser = False
    for row in rows:
        if not (row.installed or row.name in expected.browsers):
            continue
        any_browser = True
        _check_browser(platform, row, expected, report, pinged if ping else None, timeout)
    if not any_browser:
        report.add(
            "Browsers",
            "installed",
            PROBLEM,
            "no supported browser found (Chrome, Chromium, Edge, Brave, Vivaldi, Opera, Firefox, "
            "LibreWolf)",
            "install one and start it once, then run `dsexport install`",
        )
    _check_output_dir(report)
    _check_policies(platform, expected, report, policy_root)
    return report


# --------------------------------------------------------------------------- record, launcher


def _check_record(platform: Platform, report: Report) -> Expected:
    section = "DS Export"
    record = None
    for system in (False, True):
        path = platform.state_path(system)
        try:
            record = state_mod.load(Path(path))
        except DsError as err:
            report.add(section, "record", PROBLEM, str(err), "run `dsexport install` again")
            continue
        if record is not None:
            report.add(section, "record", OK, f"install record: {path}")
            break
    if record is None:
        report.add(
            section,
            "record",
            PROBLEM,
            f"DS Export is not registered with any browser (no install record at "
            f"{platform.state_path()})",
            _install_command(),
        )
        origins, firefox = _ids_from_extension(None)
        return Expected(None, None, origins, firefox, [], [], False)
    callers = record.allowed_callers
    origins = [c for c in callers if c.startswith("chrome-extension://")]
    firefox = [c for c in callers if not c.startswith("chrome-extension://")]
    # The extension's key is the source of truth: a changed key means a changed ID.
    now, _ = _ids_from_extension(record.extension_dir)
    for origin in now:
        if origin not in origins:
            report.add(
                section,
                "extension_id",
                PROBLEM,
                f"the extension in {record.extension_dir} now has the ID {origin}, which the "
                "registration does not allow",
                "run `dsexport install` again",
            )
    _check_extension_copy(record.extension_dir, record.extension_copy, report)
    return Expected(
        launcher=record.launcher,
        python=record.python,
        origins=origins,
        firefox_ids=firefox,
        browsers=[b for b in record.browsers if not b.startswith("profile:")],
        profiles=[b.split(":", 1)[1] for b in record.browsers if b.startswith("profile:")],
        system=record.scope == "system",
    )


def _check_extension_copy(folder: str | None, copy: str | None, report: Report) -> None:
    """The folder the browsers load must be the extension this helper carries: after an upgrade
    of the package (pipx upgrade, pip install -U) the copy stays old until ``dsexport install``
    runs, and the browser would speak to a newer helper than it was written for."""
    import dsexport
    from dsexport.installer import extension_package

    bundled = bundled_extension_dir()
    if (
        not folder
        or not copy
        or bundled is None
        or os.path.realpath(copy) != os.path.realpath(folder)
    ):
        return  # a checkout, or --extension-dir: the person's own folder, loaded as it is
    section, version = "DS Export", dsexport.__version__
    fix = (
        "run `dsexport install`, then reload DS Export in each browser (chrome://extensions: "
        "the reload arrow; Firefox: about:debugging, Reload)"
    )
    if not os.path.isdir(folder):
        report.add(section, "extension", PROBLEM, f"the extension folder {folder} is gone", fix)
        return
    try:
        differ = extension_package.differences(bundled, folder)
    except (OSError, extension_package.PackageError) as err:
        report.add(section, "extension", WARNING, f"cannot compare {folder}: {err}", fix)
        return
    if differ:
        shown = ", ".join(differ[:3]) + (", …" if len(differ) > 3 else "")
        report.add(
            section,
            "extension",
            WARNING,
            f"the extension in {folder} is not the one DS Export {version} carries "
            f"({len(differ)} file(s) differ: {shown}); the browser runs another version than "
            "the helper",
            fix,
        )
    else:
        report.add(section, "extension", OK, f"extension folder: {folder} (DS Export {version})")


def _ids_from_extension(extension_dir: str | None) -> tuple[list[str], list[str]]:
    folder = extension_dir or find_extension_dir()
    if folder is None:
        return [], []
    try:
        ids = read_ids(folder)
    except DsError:
        return [], []
    return [chromium_origin(ids.chromium)], [ids.firefox] if ids.firefox else []


def _check_launcher(expected: Expected, report: Report) -> None:
    section = "DS Export"
    if expected.launcher is None:
        return
    launcher = Path(expected.launcher)
    if not launcher.is_file():
        report.add(
            section, "launcher", PROBLEM, f"launcher missing: {launcher}", _install_command()
        )
    elif sys.platform != "win32" and not os.access(launcher, os.X_OK):
        report.add(
            section,
            "launcher",
            PROBLEM,
            f"launcher is not executable: {launcher}",
            f"chmod 755 '{launcher}'  (or run `dsexport install` again)",
        )
    else:
        report.add(section, "launcher", OK, f"launcher: {launcher}")
    if expected.python and not Path(expected.python).exists():
        report.add(
            section,
            "python",
            PROBLEM,
            f"the Python the launcher runs is gone: {expected.python} (virtual environment "
            "deleted or moved?)",
            "re-run the installer: bash install/install.sh (Windows: install\\install.ps1)",
        )


# --------------------------------------------------------------------------- per browser


def _check_browser(
    platform: Platform,
    row: BrowserStatus,
    expected: Expected,
    report: Report,
    pinged: dict[tuple[str, ...], Finding] | None,
    timeout: float,
) -> None:
    section = row.label
    again = _install_command(row.name)
    if row.sandbox is not None:
        works = f"Works: {row.sandbox.works} " if row.sandbox.works else ""
        report.add(section, "sandbox", WARNING, f"{works}Limits: {row.sandbox.fails}")
        if not row.manifests:
            return
    elif row.installed:
        report.add(section, "installed", OK, "installed")
    else:
        report.add(section, "installed", WARNING, "registered, but the browser was not detected")
    manifests: list[str] = []
    for hive, key in row.registry_keys:
        value = platform.registry.get_value(hive, key, "") if platform.registry else None
        if value is None:
            report.add(section, "registry", PROBLEM, f"registry key missing: {hive}\\{key}", again)
        elif not isinstance(value, str) or not os.path.isabs(value):
            report.add(
                section,
                "registry",
                PROBLEM,
                f"{hive}\\{key} is not an absolute path: {value!r}",
                again,
            )
        else:
            report.add(section, "registry", OK, f"{hive}\\{key} → {value}")
            manifests.append(value)
    if not row.registry_keys:
        manifests = row.manifests
    for path in dict.fromkeys(manifests):
        manifest = _check_manifest(path, row.family, expected, section, again, report)
        if manifest is None or pinged is None:
            continue
        argv = _browser_argv(manifest["path"], path, row.family, expected)
        if argv is None:
            continue
        key = tuple(argv)
        if key in pinged:
            earlier = pinged[key]
            report.add(section, "ping", earlier.status, earlier.message, earlier.fix)
            continue
        pinged[key] = _ping_finding(section, argv, timeout)
        report.findings.append(pinged[key])


def _check_manifest(
    path: str, family: str, expected: Expected, section: str, again: str, report: Report
) -> dict | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        report.add(section, "manifest", PROBLEM, f"manifest missing: {path}", again)
        return None
    except OSError as err:
        report.add(section, "manifest", PROBLEM, f"manifest unreadable: {path}: {err}", again)
        return None
    try:
        manifest = json.loads(text)
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except ValueError as err:
        report.add(
            section, "manifest", PROBLEM, f"manifest is not valid JSON: {path}: {err}", again
        )
        return None
    wrong = []
    if manifest.get("name") != HOST_NAME:
        wrong.append(f"name is {manifest.get('name')!r}, not {HOST_NAME!r}")
    if manifest.get("type") != "stdio":
        wrong.append(f"type is {manifest.get('type')!r}, not 'stdio'")
    if not manifest.get("description"):
        wrong.append("description is empty (Chrome refuses that)")
    exe = manifest.get("path")
    if not isinstance(exe, str) or not os.path.isabs(exe):
        wrong.append(f"path {exe!r} is not absolute")
    elif expected.launcher and os.path.normcase(exe) != os.path.normcase(expected.launcher):
        wrong.append(f"path points at {exe}, not this install's launcher {expected.launcher}")
    elif not os.path.isfile(exe):
        wrong.append(f"path points at a missing file: {exe}")
    if family == "firefox":
        allowed = manifest.get("allowed_extensions")
        missing = [
            i for i in expected.firefox_ids if not isinstance(allowed, list) or i not in allowed
        ]
        if missing:
            wrong.append(f"allowed_extensions lacks {', '.join(missing)}")
        if "allowed_origins" in manifest:
            wrong.append("has allowed_origins, which Firefox rejects")
    else:
        allowed = manifest.get("allowed_origins")
        missing = [o for o in expected.origins if not isinstance(allowed, list) or o not in allowed]
        if missing:
            wrong.append(f"allowed_origins lacks {', '.join(missing)}")
    if wrong:
        report.add(section, "manifest", PROBLEM, f"manifest {path}: " + "; ".join(wrong), again)
        return None
    report.add(section, "manifest", OK, f"manifest: {path}")
    return manifest


def _browser_argv(
    exe: str, manifest_path: str, family: str, expected: Expected
) -> list[str] | None:
    """The argv the browser uses (reference §1.3)."""
    if family == "firefox":
        return [exe, manifest_path, expected.firefox_ids[0]] if expected.firefox_ids else None
    if not expected.origins:
        return None
    argv = [exe, expected.origins[0]]
    if sys.platform == "win32":
        argv.append("--parent-window=0")  # what Chrome passes for a service worker caller
    return argv


# --------------------------------------------------------------------------- ping


def ping(argv: list[str], timeout: float = PING_TIMEOUT) -> tuple[bool, str]:
    """Start ``argv`` like a browser, send ``{"type": "ping", "id": 1}``, read one reply frame.

    Returns ``(ok, message)``; the message names the host version or what went wrong.
    """
    body = json.dumps({"type": "ping", "id": 1}).encode()
    started = time.monotonic()
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=os.path.dirname(argv[0]) or None,
            )
        except OSError as err:
            return False, f"cannot start {argv[0]}: {err.strerror or err}"
        reply: dict = {}
        reader = threading.Thread(target=_read_reply, args=(proc, reply), daemon=True)
        reader.start()
        try:
            proc.stdin.write(struct.pack("=I", len(body)) + body)
            proc.stdin.flush()
        except OSError:
            pass  # the host died at once; its stderr below says why
        reader.join(timeout)
        hung = reader.is_alive()
        with contextlib.suppress(OSError):
            proc.stdin.close()
        # A host that answered exits at EOF on stdin; one that did not answer gets no more time.
        try:
            proc.wait(timeout=0 if hung else 3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(1)
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace").strip()
    elapsed = int((time.monotonic() - started) * 1000)
    tail = f"; its stderr: {stderr[-600:]}" if stderr else ""
    if hung:
        return False, f"no reply within {timeout:.0f} s{tail}"
    if "error" in reply:
        return False, f"{reply['error']} (exit status {proc.returncode}){tail}"
    message = reply.get("message")
    if not isinstance(message, dict) or message.get("id") != 1:
        return False, f"unexpected reply {message!r}{tail}"
    if message.get("ok") is not True:
        error = message.get("error") or {}
        return (
            False,
            f"the host answered with an error: {error.get('code')}: {error.get('message')}",
        )
    version = (message.get("result") or {}).get("version", "?")
    return True, f"ping answered by DS Export {version} in {elapsed} ms"


def _read_reply(proc: subprocess.Popen, out: dict) -> None:
    head = proc.stdout.read(4)
    if len(head) < 4:
        out["error"] = "the host exited without replying"
        return
    (length,) = struct.unpack("=I", head)
    if length > MAX_REPLY:
        out["error"] = (
            f"the host sent a frame of {length} bytes, over the browsers' 1 MiB limit "
            "(something printed to stdout?)"
        )
        return
    data = proc.stdout.read(length)
    try:
        out["message"] = json.loads(data)
    except ValueError:
        out["error"] = f"the reply is not JSON: {data[:200]!r}"


def _ping_finding(section: str, argv: list[str], timeout: float) -> Finding:
    ok, message = ping(argv, timeout)
    if ok:
        return Finding(section, "ping", OK, message)
    return Finding(
        section,
        "ping",
        PROBLEM,
        f"ping through {argv[0]} failed: {message}",
        f"start it by hand to see its error: {_command_line(argv)}  (it then waits for input: "
        "press Ctrl-D, or Ctrl-Z Enter on Windows); reinstall with `dsexport install`",
    )


# --------------------------------------------------------------------------- output, policies


def _check_output_dir(report: Report) -> None:
    section = "Output"
    try:
        from dsexport.config import load_config
    except ModuleNotFoundError as err:
        if err.name != "dsexport.config":
            raise
        from dsexport import paths

        folder = paths.default_output_dir()
    else:
        try:
            folder = Path(load_config().output_dir).expanduser()
        except DsError as err:
            report.add(
                section,
                "config",
                PROBLEM,
                f"configuration unreadable: {err}",
                "dsexport config list",
            )
            from dsexport import paths

            folder = paths.default_output_dir()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe != folder:
        if probe.is_dir() and os.access(probe, os.W_OK):
            report.add(
                section, "output_dir", OK, f"output folder {folder} will be created on first save"
            )
        else:
            report.add(
                section,
                "output_dir",
                PROBLEM,
                f"output folder {folder} does not exist and cannot be created: {probe} is not "
                "a writable folder",
                "choose another folder: dsexport config set output_dir <folder>",
            )
        return
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        report.add(
            section,
            "output_dir",
            PROBLEM,
            f"output folder {folder} is not writable: {err.strerror or err}",
            "fix its permissions or choose another: dsexport config set output_dir <folder>",
        )
        return
    report.add(section, "output_dir", OK, f"output folder writable: {folder}")


def _check_policies(platform: Platform, expected: Expected, report: Report, root: str) -> None:
    for label, where in POLICIES.get(platform.name, ()):
        for source, policy in _read_policies(platform, where, root):
            _judge_policy(label, source, policy, expected, report)


def _read_policies(platform: Platform, where: str, root: str):
    """Yield ``(source, {policy: value})`` for each place a policy can be set."""
    if platform.name == "windows":
        reg = platform.registry
        if reg is None:
            return
        for hive in ("HKLM", "HKCU"):
            if not reg.key_exists(hive, where):
                continue
            policy: dict = dict(reg.values(hive, where))
            for name in ("NativeMessagingBlocklist", "NativeMessagingAllowlist"):
                listed = reg.values(hive, f"{where}\\{name}")
                if listed:
                    policy[name] = [v for _, v in sorted(listed.items())]
            yield f"{hive}\\{where}", policy
        return
    path = Path(root) / where.lstrip("/")
    files = sorted(path.glob("*.json")) if platform.name == "linux" else [path]
    for file in files:
        try:
            raw = file.read_bytes()
            data = json.loads(raw) if platform.name == "linux" else plistlib.loads(raw)
        except FileNotFoundError:
            continue
        except (OSError, ValueError, plistlib.InvalidFileException):
            continue  # the browser ignores what it cannot parse, so do we
        if isinstance(data, dict):
            yield str(file), data


def _judge_policy(label: str, source: str, policy: dict, expected: Expected, report: Report):
    section = f"Policies ({label})"
    user_level = policy.get("NativeMessagingUserLevelHosts")
    if user_level is not None and not user_level and not expected.system:
        report.add(
            section,
            "policy",
            PROBLEM,
            f"{source} sets NativeMessagingUserLevelHosts to false: {label} ignores per-user "
            "registrations like this one",
            "register system-wide: sudo dsexport install --system (Windows: administrator "
            "PowerShell), or ask your administrator to allow user-level hosts",
        )
    blocked = policy.get("NativeMessagingBlocklist") or []
    allowed = policy.get("NativeMessagingAllowlist") or []
    is_blocked = isinstance(blocked, list) and ("*" in blocked or HOST_NAME in blocked)
    if is_blocked and not (isinstance(allowed, list) and HOST_NAME in allowed):
        report.add(
            section,
            "policy",
            PROBLEM,
            f"{source} blocks native messaging hosts ({'*' if '*' in blocked else HOST_NAME} "
            f"in NativeMessagingBlocklist)",
            f"ask your administrator to add {HOST_NAME} to NativeMessagingAllowlist",
        )


def _command_line(argv: list[str]) -> str:
    if sys.platform == "win32":
        return subprocess.list2cmdline(argv)
    return shlex.join(argv)


def _install_command(browser: str | None = None) -> str:
    if browser and not browser.startswith(("profile:", "snap-", "flatpak-")):
        return f"dsexport install --browser {browser}"
    return "dsexport install"
