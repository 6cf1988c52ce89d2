"""``dsexport doctor`` on a real install in a temporary HOME: healthy → exit 0; each breakage,
one at a time, is reported with its fix and a non-zero exit. Policies are read from a fake root
(Linux) and a FakeRegistry (Windows)."""

from __future__ import annotations

import json
import os
import struct
import sys

import pytest
from installer_helpers import HOST, ORIGIN, dsexport, isolated_env

from dsexport.installer.doctor import PROBLEM, diagnose, ping
from dsexport.installer.linux import Linux
from dsexport.installer.registry import FakeRegistry
from dsexport.installer.windows import Windows

M = f"{HOST}.json"
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="real Linux install")


@pytest.fixture
def installed(tmp_path):
    """A real install (Chromium + Firefox) into a temporary HOME; returns (home, env)."""
    home = tmp_path / "home"
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla").mkdir()
    env = isolated_env(home, tmp_path / "runtime")
    result = dsexport("install", "--browser", "chromium", "--browser", "firefox", env=env)
    assert result.returncode == 0, result.stderr
    return home, env


def doctor(env) -> tuple[int, dict]:
    result = dsexport("doctor", "--json", env=env)
    return result.returncode, json.loads(result.stdout)


def problems(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["status"] == PROBLEM]


@linux_only
def test_healthy_install_passes_with_real_pings(installed):
    _, env = installed
    code, report = doctor(env)
    assert code == 0, problems(report)
    pings = [f for f in report["findings"] if f["check"] == "ping"]
    assert [p["section"] for p in pings] == ["Chromium", "Firefox"]
    assert all(p["status"] == "ok" and "ping answered by DS Export" in p["message"] for p in pings)
    text = dsexport("doctor", env=env)
    assert text.returncode == 0 and text.stdout.rstrip().endswith("No problems found.")


@linux_only
def test_deleted_manifest_is_reported_with_fix(installed):
    home, env = installed
    (home / f".config/chromium/NativeMessagingHosts/{M}").unlink()
    code, report = doctor(env)
    assert code == 1
    (p,) = problems(report)
    assert p["section"] == "Chromium" and "manifest missing" in p["message"]
    assert p["fix"] == "dsexport install --browser chromium"


@linux_only
def test_launcher_without_execute_bit_is_reported(installed):
    home, env = installed
    launcher = home / ".local/share/dsexport/dsexport-host"
    os.chmod(launcher, 0o644)
    code, report = doctor(env)
    assert code == 1
    found = problems(report)
    assert any(
        "launcher is not executable" in p["message"] and "chmod 755" in p["fix"] for p in found
    )
    # The pings fail too, exactly as the browser's launch would.
    assert sum(p["check"] == "ping" for p in found) == 2


@linux_only
def test_wrong_origin_is_reported(installed):
    home, env = installed
    path = home / f".config/chromium/NativeMessagingHosts/{M}"
    manifest = json.loads(path.read_text())
    manifest["allowed_origins"] = [f"chrome-extension://{'b' * 32}/"]
    path.write_text(json.dumps(manifest))
    code, report = doctor(env)
    assert code == 1
    (p,) = problems(report)
    assert f"allowed_origins lacks {ORIGIN}" in p["message"]
    assert p["fix"] == "dsexport install --browser chromium"


@linux_only
def test_invalid_json_manifest_is_reported(installed):
    home, env = installed
    (home / f".mozilla/native-messaging-hosts/{M}").write_text("{not json")
    code, report = doctor(env)
    assert code == 1
    (p,) = problems(report)
    assert p["section"] == "Firefox" and "not valid JSON" in p["message"]


@linux_only
def test_host_that_prints_to_stdout_is_caught_by_the_ping(installed):
    home, env = installed
    launcher = home / ".local/share/dsexport/dsexport-host"
    launcher.write_text("#!/bin/sh\necho hello from a stray print\n")
    code, report = doctor(env)
    assert code == 1
    pings = [p for p in problems(report) if p["check"] == "ping"]
    assert len(pings) == 2 and all("over the browsers' 1 MiB limit" in p["message"] for p in pings)


@linux_only
def test_flatpak_browser_is_a_warning_with_explanation(installed):
    home, env = installed
    (home / ".var/app/org.chromium.Chromium").mkdir(parents=True)
    code, report = doctor(env)
    assert code == 0, problems(report)
    (warning,) = [f for f in report["findings"] if f["status"] == "warning"]
    assert warning["section"] == "Chromium (Flatpak)"
    assert "cannot start programs outside its sandbox" in warning["message"]


@linux_only
def test_no_install_record_says_run_install(tmp_path):
    home = tmp_path / "home"
    (home / ".config/chromium").mkdir(parents=True)
    code, report = doctor(isolated_env(home, tmp_path / "runtime"))
    assert code == 1
    record = [p for p in problems(report) if p["check"] == "record"]
    assert record and "not registered" in record[0]["message"]
    assert record[0]["fix"] == "dsexport install"


# ------------------------------------------------------------------------------ policies


def linux_platform(home) -> Linux:
    return Linux(home=home, env={"HOME": str(home)}, which=lambda n: None)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"NativeMessagingUserLevelHosts": False}, "NativeMessagingUserLevelHosts to false"),
        ({"NativeMessagingBlocklist": ["*"]}, "blocks native messaging hosts (*"),
        ({"NativeMessagingBlocklist": [HOST]}, f"blocks native messaging hosts ({HOST}"),
    ],
)
def test_linux_policy_blocking_user_hosts_is_reported(home, tmp_path, policy, message):
    managed = tmp_path / "root/etc/opt/chrome/policies/managed"
    managed.mkdir(parents=True)
    (managed / "corp.json").write_text(json.dumps(policy))
    report = diagnose(
        linux_platform(tmp_path / "home"), ping=False, policy_root=str(tmp_path / "root")
    )
    found = [f for f in report.problems if f.check == "policy"]
    assert len(found) == 1 and message in found[0].message
    assert found[0].section == "Policies (Google Chrome)" and found[0].fix


def test_allowlisted_host_is_not_blocked(home, tmp_path):
    managed = tmp_path / "root/etc/chromium/policies/managed"
    managed.mkdir(parents=True)
    policy = {"NativeMessagingBlocklist": ["*"], "NativeMessagingAllowlist": [HOST]}
    (managed / "corp.json").write_text(json.dumps(policy))
    report = diagnose(
        linux_platform(tmp_path / "home"), ping=False, policy_root=str(tmp_path / "root")
    )
    assert not [f for f in report.findings if f.check == "policy"]


def test_windows_registry_policy_is_reported(home):
    reg = FakeRegistry()
    reg.set_value("HKLM", r"Software\Policies\Microsoft\Edge", "NativeMessagingUserLevelHosts", 0)
    reg.set_value("HKCU", r"Software\Policies\Google\Chrome\NativeMessagingBlocklist", "1", "*")
    win = Windows(
        home=r"C:\Users\me", env={}, registry=reg, exists=lambda p: False, which=lambda n: None
    )
    report = diagnose(win, ping=False)
    found = sorted((f.section, f.message) for f in report.problems if f.check == "policy")
    assert len(found) == 2
    assert found[0][0] == "Policies (Google Chrome)" and "HKCU" in found[0][1]
    assert (
        found[1][0] == "Policies (Microsoft Edge)"
        and "NativeMessagingUserLevelHosts" in found[1][1]
    )


def test_windows_registry_key_pointing_nowhere_is_reported(home):
    reg = FakeRegistry()
    key = rf"Software\Google\Chrome\NativeMessagingHosts\{HOST}"
    reg.set_value("HKCU", key, "", "relative\\manifest.json")
    local = r"C:\Users\me\AppData\Local"
    win = Windows(
        home=r"C:\Users\me",
        env={"LOCALAPPDATA": local},
        registry=reg,
        exists={rf"{local}\Google\Chrome\User Data"}.__contains__,
        which=lambda n: None,
    )
    report = diagnose(win, ping=False)
    found = [f for f in report.problems if f.check == "registry"]
    assert len(found) == 1 and "not an absolute path" in found[0].message
    assert found[0].fix == "dsexport install --browser chrome"


def test_macos_managed_preferences_policy_is_reported(home, tmp_path):
    import plistlib

    from dsexport.installer.macos import MacOS

    prefs = tmp_path / "root/Library/Managed Preferences"
    prefs.mkdir(parents=True)
    (prefs / "com.microsoft.Edge.plist").write_bytes(
        plistlib.dumps({"NativeMessagingUserLevelHosts": False})
    )
    mac = MacOS(home="/Users/me", env={}, exists=lambda p: False, which=lambda n: None)
    report = diagnose(mac, ping=False, policy_root=str(tmp_path / "root"))
    (found,) = [f for f in report.problems if f.check == "policy"]
    assert found.section == "Policies (Microsoft Edge)"
    assert "com.microsoft.Edge.plist" in found.message


# ------------------------------------------------------------------------------ ping


def script(tmp_path, body: str) -> str:
    path = tmp_path / "fake-host"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(sys.platform == "win32", reason="sh scripts")
def test_ping_reports_a_hung_host(tmp_path):
    ok, message = ping([script(tmp_path, "exec sleep 30\n"), ORIGIN], timeout=0.5)
    assert not ok and "no reply within" in message


@pytest.mark.skipif(sys.platform == "win32", reason="sh scripts")
def test_ping_reports_exit_without_reply_with_stderr(tmp_path):
    ok, message = ping([script(tmp_path, "echo 'boom: no module' >&2\nexit 3\n"), ORIGIN])
    assert not ok
    assert "exited without replying" in message and "exit status 3" in message
    assert "boom: no module" in message


@pytest.mark.skipif(sys.platform == "win32", reason="sh scripts")
def test_ping_reports_an_error_reply(tmp_path):
    reply = json.dumps({"id": 1, "ok": False, "error": {"code": "internal", "message": "x"}})
    frame = "".join(f"\\{b:03o}" for b in struct.pack("=I", len(reply)))
    body = f"head -c 4 >/dev/null\nprintf '{frame}'\nprintf '%s' '{reply}'\n"
    ok, message = ping([script(tmp_path, body), ORIGIN])
    assert not ok and "answered with an error: internal: x" in message


def test_ping_of_missing_program_says_cannot_start(tmp_path):
    ok, message = ping([str(tmp_path / "nope"), ORIGIN])
    assert not ok and message.startswith("cannot start")


@linux_only
def test_output_folder_that_cannot_be_created_is_reported(installed):
    home, env = installed
    (home / "afile").write_text("a file, not a folder")
    config = home / ".config/dsexport/config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"output_dir": str(home / "afile" / "out")}))
    code, report = doctor(env)
    assert code == 1
    (p,) = problems(report)
    assert p["check"] == "output_dir" and "cannot be created" in p["message"]
    assert p["fix"].startswith("choose another folder: dsexport config set output_dir")
