"""Windows plan, on any OS: fake %LOCALAPPDATA%, FakeRegistry, detection from a set of paths."""

from __future__ import annotations

import json

import pytest
from installer_helpers import FIREFOX_ID, HOST, ORIGIN

from dsexport.cli.host import LAUNCH_CODE
from dsexport.installer.base import (
    DeleteRegistryKey,
    InstallRequest,
    SetRegistryValue,
    WriteFile,
)
from dsexport.installer.browsers import BROWSERS
from dsexport.installer.registry import FakeRegistry
from dsexport.installer.state import InstallState, RegistryRecord
from dsexport.installer.windows import Windows

HOME = r"C:\Users\me"
LOCAL = rf"{HOME}\AppData\Local"
ROAMING = rf"{HOME}\AppData\Roaming"
DATA = rf"{LOCAL}\dsexport"
CHROMIUM_MANIFEST = rf"{DATA}\NativeMessagingHosts\chromium\{HOST}.json"
FIREFOX_MANIFEST = rf"{DATA}\NativeMessagingHosts\firefox\{HOST}.json"
CHROME_KEY = rf"Software\Google\Chrome\NativeMessagingHosts\{HOST}"
MOZILLA_KEY = rf"Software\Mozilla\NativeMessagingHosts\{HOST}"
PYTHON = rf"{DATA}\venv\Scripts\python.exe"

EXPECTED = {  # detection path → registry keys (under HKCU)
    "chrome": (rf"{LOCAL}\Google\Chrome\User Data", [CHROME_KEY]),
    "chrome-beta": (rf"{LOCAL}\Google\Chrome Beta\User Data", [CHROME_KEY]),
    "chrome-unstable": (rf"{LOCAL}\Google\Chrome Dev\User Data", [CHROME_KEY]),
    "chromium": (
        rf"{LOCAL}\Chromium\User Data",
        [rf"Software\Chromium\NativeMessagingHosts\{HOST}"],
    ),
    "edge": (
        rf"{LOCAL}\Microsoft\Edge\User Data",
        [rf"Software\Microsoft\Edge\NativeMessagingHosts\{HOST}"],
    ),
    # Brave, Vivaldi and Opera read Chrome's key.
    "brave": (rf"{LOCAL}\BraveSoftware\Brave-Browser\User Data", [CHROME_KEY]),
    "vivaldi": (rf"{LOCAL}\Vivaldi\User Data", [CHROME_KEY]),
    "opera": (rf"{ROAMING}\Opera Software\Opera Stable", [CHROME_KEY]),
    "firefox": (rf"{ROAMING}\Mozilla\Firefox", [MOZILLA_KEY]),
    "librewolf": (
        rf"{ROAMING}\librewolf",
        [MOZILLA_KEY, rf"Software\LibreWolf\NativeMessagingHosts\{HOST}"],
    ),
}
FAMILY = {b.name: b.family for b in BROWSERS}


def make_win(*present: str, registry=None) -> Windows:
    env = {"LOCALAPPDATA": LOCAL, "APPDATA": ROAMING, "USERPROFILE": HOME}
    return Windows(
        home=HOME,
        env=env,
        registry=registry or FakeRegistry(),
        exists=set(present).__contains__,
        which=lambda n: None,
    )


def request(**kw) -> InstallRequest:
    kw.setdefault("python", PYTHON)
    return InstallRequest(chromium_ids=(ORIGIN[19:-1],), firefox_ids=(FIREFOX_ID,), **kw)


def test_expectations_cover_the_table():
    assert set(EXPECTED) == {b.name for b in BROWSERS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detected_browser_gets_hkcu_keys_pointing_at_its_family_manifest(name):
    detect, keys = EXPECTED[name]
    ops = make_win(detect).plan(request())
    manifest = FIREFOX_MANIFEST if FAMILY[name] == "firefox" else CHROMIUM_MANIFEST
    regs = [op for op in ops if isinstance(op, SetRegistryValue)]
    assert [(r.hive, r.key, r.name, r.value) for r in regs] == [
        ("HKCU", k, "", manifest) for k in keys
    ]
    files = {op.path: op for op in ops if isinstance(op, WriteFile)}
    assert sorted(files) == sorted([manifest, rf"{DATA}\dsexport-host.bat"])
    content = json.loads(files[manifest].content)
    allow = (
        {"allowed_extensions": [FIREFOX_ID]}
        if FAMILY[name] == "firefox"
        else {"allowed_origins": [ORIGIN]}
    )
    assert content == {
        "name": HOST,
        "description": "DS Export helper: saves DeepSeek images with their prompts embedded",
        "path": rf"{DATA}\dsexport-host.bat",
        "type": "stdio",
        **allow,
    }


def test_browsers_sharing_chromes_key_get_one_value():
    ops = make_win(EXPECTED["chrome"][0], EXPECTED["brave"][0], EXPECTED["opera"][0]).plan(
        request()
    )
    (reg,) = [op for op in ops if isinstance(op, SetRegistryValue)]
    assert reg.key == CHROME_KEY and reg.browsers == ("chrome", "brave", "opera")


def test_bat_launcher_runs_this_interpreter_with_crlf():
    ops = make_win(EXPECTED["chrome"][0]).plan(request())
    bat = next(op for op in ops if isinstance(op, WriteFile) and op.kind == "launcher")
    assert bat.content.endswith(f'"{PYTHON}" -c "{LAUNCH_CODE}" %*\r\n')
    assert bat.content.startswith("@echo off\r\n")


def test_console_script_exe_is_used_when_present():
    exe = rf"{DATA}\venv\Scripts\dsexport-host.exe"
    ops = make_win(EXPECTED["firefox"][0], exe).plan(request())
    assert not any(isinstance(op, WriteFile) and op.kind == "launcher" for op in ops)
    (manifest,) = [op for op in ops if isinstance(op, WriteFile)]
    assert json.loads(manifest.content)["path"] == exe


def test_system_install_uses_hklm_and_programdata():
    win = make_win()
    win.env["PROGRAMDATA"] = r"D:\PD"
    ops = win.plan(request(browsers=("edge",), system=True))
    (reg,) = [op for op in ops if isinstance(op, SetRegistryValue)]
    assert (reg.hive, reg.key) == ("HKLM", rf"Software\Microsoft\Edge\NativeMessagingHosts\{HOST}")
    assert reg.value == rf"D:\PD\dsexport\NativeMessagingHosts\chromium\{HOST}.json"


def test_state_file_in_localappdata():
    assert str(make_win().state_path()) == rf"{DATA}\install-state.json"


# ------------------------------------------------------------------------ registry uninstall


def registered(reg: FakeRegistry, value: str) -> InstallState:
    reg.set_value("HKCU", r"Software\Google", "", "")  # exists before we install
    reg.set_value("HKCU", CHROME_KEY, "", value)
    return InstallState(
        host_name=HOST,
        scope="user",
        python=PYTHON,
        launcher="x",
        extension_dir=None,
        allowed_callers=[ORIGIN],
        registry=[
            RegistryRecord(
                "HKCU",
                CHROME_KEY,
                value,
                created_keys=[
                    r"Software\Google\Chrome",
                    r"Software\Google\Chrome\NativeMessagingHosts",
                ],
            )
        ],
    )


def test_uninstall_deletes_our_key_and_the_parents_we_created():
    reg = FakeRegistry()
    record = registered(reg, CHROMIUM_MANIFEST)
    win = make_win(registry=reg)
    ops = [
        op
        for op in win.uninstall_plan(record, win.state_path())
        if isinstance(op, DeleteRegistryKey)
    ]
    assert [op.key for op in ops] == [
        CHROME_KEY,
        r"Software\Google\Chrome\NativeMessagingHosts",
        r"Software\Google\Chrome",
    ]
    assert [o for _, o in win.remove(ops)] == ["removed", "removed", "removed"]
    assert reg.dump() == {r"HKCU\Software": {}, r"HKCU\Software\Google": {"": ""}}
    # Idempotent.
    assert [o for _, o in win.remove(ops)] == ["absent", "absent", "absent"]


def test_uninstall_leaves_a_key_someone_repointed():
    reg = FakeRegistry()
    record = registered(reg, CHROMIUM_MANIFEST)
    reg.set_value("HKCU", CHROME_KEY, "", r"C:\other\manifest.json")
    win = make_win(registry=reg)
    ops = [
        op
        for op in win.uninstall_plan(record, win.state_path())
        if isinstance(op, DeleteRegistryKey)
    ]
    assert [o for _, o in win.remove(ops)] == ["changed", "not empty", "not empty"]
    assert reg.get_value("HKCU", CHROME_KEY) == r"C:\other\manifest.json"


def test_uninstall_keeps_parent_that_gained_other_hosts():
    reg = FakeRegistry()
    record = registered(reg, CHROMIUM_MANIFEST)
    reg.set_value("HKCU", r"Software\Google\Chrome\NativeMessagingHosts\com.other.host", "", "y")
    win = make_win(registry=reg)
    ops = [
        op
        for op in win.uninstall_plan(record, win.state_path())
        if isinstance(op, DeleteRegistryKey)
    ]
    assert [o for _, o in win.remove(ops)] == ["removed", "not empty", "not empty"]
    assert reg.key_exists("HKCU", r"Software\Google\Chrome\NativeMessagingHosts\com.other.host")


def test_install_records_only_the_parent_keys_it_creates():
    from dsexport.installer.base import _missing_keys

    reg = FakeRegistry()
    reg.set_value("HKCU", r"Software\Google", "", "")
    assert _missing_keys(reg, "HKCU", CHROME_KEY) == [
        r"Software\Google\Chrome",
        r"Software\Google\Chrome\NativeMessagingHosts",
    ]
