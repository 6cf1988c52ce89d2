"""Linux plan: exact manifest paths, contents and launcher, with a fake home and environment.

Detection only looks inside the fake home (``exists`` is injected), so the machine running the
tests does not leak in. The apply/uninstall tests write for real, inside tmp_path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from installer_helpers import FIREFOX_ID, ORIGIN

from dsexport.cli.host import LAUNCH_CODE
from dsexport.installer import state
from dsexport.installer.base import MakeExecutable, RemoveFile, WriteFile
from dsexport.installer.browsers import BROWSERS
from dsexport.installer.linux import Linux

M = "org.dsexport.host.json"
# What each browser needs to be detected (relative to home) → where its manifest goes.
EXPECTED = {
    "chrome": (".config/google-chrome", [f".config/google-chrome/NativeMessagingHosts/{M}"]),
    "chrome-beta": (
        ".config/google-chrome-beta",
        [f".config/google-chrome-beta/NativeMessagingHosts/{M}"],
    ),
    "chrome-unstable": (
        ".config/google-chrome-unstable",
        [f".config/google-chrome-unstable/NativeMessagingHosts/{M}"],
    ),
    "chromium": (".config/chromium", [f".config/chromium/NativeMessagingHosts/{M}"]),
    "edge": (".config/microsoft-edge", [f".config/microsoft-edge/NativeMessagingHosts/{M}"]),
    "brave": (
        ".config/BraveSoftware/Brave-Browser",
        [f".config/BraveSoftware/Brave-Browser/NativeMessagingHosts/{M}"],
    ),
    "vivaldi": (".config/vivaldi", [f".config/vivaldi/NativeMessagingHosts/{M}"]),
    "opera": (".config/opera", [f".config/google-chrome/NativeMessagingHosts/{M}"]),
    "firefox": (".mozilla", [f".mozilla/native-messaging-hosts/{M}"]),
    "librewolf": (".librewolf", [f".librewolf/native-messaging-hosts/{M}"]),
}
SYSTEM = {
    "chrome": ["/etc/opt/chrome/native-messaging-hosts"],
    "chrome-beta": ["/etc/opt/chrome/native-messaging-hosts"],
    "chrome-unstable": ["/etc/opt/chrome/native-messaging-hosts"],
    "chromium": ["/etc/chromium/native-messaging-hosts"],
    "edge": ["/etc/opt/edge/native-messaging-hosts"],
    "brave": ["/etc/opt/chrome/native-messaging-hosts"],
    "vivaldi": [
        "/etc/opt/chrome/native-messaging-hosts",
        "/etc/opt/vivaldi/native-messaging-hosts",
    ],
    "opera": ["/etc/opt/chrome/native-messaging-hosts"],
    "firefox": ["/usr/lib/mozilla/native-messaging-hosts"],
    "librewolf": ["/usr/lib/librewolf/native-messaging-hosts"],
}
FAMILY = {b.name: b.family for b in BROWSERS}


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def make_linux(home: Path, env: dict | None = None, on_path=()) -> Linux:
    return Linux(
        home=home,
        env={"HOME": str(home), **(env or {})},
        exists=lambda p: p.startswith(str(home)) and os.path.exists(p),
        which=lambda name: f"/usr/bin/{name}" if name in on_path else None,
    )


def manifests(ops) -> dict[str, dict]:
    return {
        op.path: json.loads(op.content)
        for op in ops
        if isinstance(op, WriteFile) and op.kind == "manifest"
    }


def test_table_and_expectations_cover_the_same_browsers():
    assert set(EXPECTED) == set(SYSTEM) == {b.name for b in BROWSERS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detected_browser_gets_manifest_in_its_folder(home, request_for, name):
    detect, paths = EXPECTED[name]
    (home / detect).mkdir(parents=True)
    ops = make_linux(home).plan(request_for())
    assert sorted(manifests(ops)) == sorted(str(home / p) for p in paths)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_manifest_content_per_family(home, request_for, name):
    (home / EXPECTED[name][0]).mkdir(parents=True)
    launcher = str(home / ".local/share/dsexport/dsexport-host")
    (content,) = manifests(make_linux(home).plan(request_for())).values()
    common = {
        "name": "org.dsexport.host",
        "description": "DS Export helper: saves DeepSeek images with their prompts embedded",
        "path": launcher,
        "type": "stdio",
    }
    if FAMILY[name] == "firefox":
        assert content == {**common, "allowed_extensions": [FIREFOX_ID]}
    else:
        assert content == {**common, "allowed_origins": [ORIGIN]}


@pytest.mark.parametrize("name", sorted(SYSTEM))
def test_system_install_uses_system_folders(home, request_for, name):
    ops = make_linux(home).plan(request_for(browsers=(name,), system=True))
    assert sorted(manifests(ops)) == sorted(f"{d}/{M}" for d in SYSTEM[name])
    assert ops[0] == WriteFile(
        "/usr/local/lib/dsexport/dsexport-host", ops[0].content, kind="launcher"
    )


def test_launcher_is_sh_script_execing_this_interpreter(home, request_for):
    ops = make_linux(home).plan(request_for(python="/opt/my venv/bin/python"))
    launcher = str(home / ".local/share/dsexport/dsexport-host")
    assert ops[:2] == [
        WriteFile(launcher, ops[0].content, kind="launcher"),
        MakeExecutable(launcher),
    ]
    lines = ops[0].content.splitlines()
    assert lines[0] == "#!/bin/sh"
    assert lines[-1] == f"exec '/opt/my venv/bin/python' -c '{LAUNCH_CODE}' \"$@\""


def test_nothing_detected_writes_only_launcher(home, request_for):
    ops = make_linux(home).plan(request_for())
    assert [type(op) for op in ops] == [WriteFile, MakeExecutable]


def test_binary_on_path_counts_as_installed(home, request_for):
    ops = make_linux(home, on_path={"chromium"}).plan(request_for())
    assert list(manifests(ops)) == [str(home / f".config/chromium/NativeMessagingHosts/{M}")]


def test_named_browser_is_registered_even_if_not_detected(home, request_for):
    platform = make_linux(home)
    rows = platform.survey(request_for(browsers=("edge",)))
    (edge,) = [r for r in rows if r.selected]
    assert edge.name == "edge" and not edge.installed and "not detected" in edge.notes[0]


def test_chrome_config_home_wins_over_xdg_config_home(home, tmp_path, request_for):
    chrome_cfg, xdg = tmp_path / "home" / "cc", tmp_path / "home" / "xdg"
    (chrome_cfg / "chromium").mkdir(parents=True)
    (xdg / "opera").mkdir(parents=True)
    env = {"CHROME_CONFIG_HOME": str(chrome_cfg), "XDG_CONFIG_HOME": str(xdg)}
    ops = make_linux(home, env).plan(request_for())
    assert sorted(manifests(ops)) == [
        str(chrome_cfg / f"chromium/NativeMessagingHosts/{M}"),
        # Opera is detected by its own folder under XDG but reads Chrome's folder.
        str(chrome_cfg / f"google-chrome/NativeMessagingHosts/{M}"),
    ]


def test_xdg_config_home_and_data_home_are_honoured(home, tmp_path, request_for):
    xdg, data = home / "xdg", home / "data"
    (xdg / "google-chrome").mkdir(parents=True)
    env = {"XDG_CONFIG_HOME": str(xdg), "XDG_DATA_HOME": str(data)}
    ops = make_linux(home, env).plan(request_for())
    (content,) = manifests(ops).values()
    assert list(manifests(ops)) == [str(xdg / f"google-chrome/NativeMessagingHosts/{M}")]
    assert content["path"] == str(data / "dsexport/dsexport-host")


def test_relative_xdg_values_are_ignored(home, request_for):
    (home / ".config/chromium").mkdir(parents=True)
    ops = make_linux(home, {"XDG_CONFIG_HOME": "rel/cfg"}).plan(request_for())
    assert list(manifests(ops)) == [str(home / f".config/chromium/NativeMessagingHosts/{M}")]


def test_opera_and_chrome_share_one_manifest(home, request_for):
    (home / ".config/opera").mkdir(parents=True)
    (home / ".config/google-chrome").mkdir(parents=True)
    ops = [op for op in make_linux(home).plan(request_for()) if isinstance(op, WriteFile)]
    assert [op.browsers for op in ops if op.kind == "manifest"] == [("chrome", "opera")]


def test_extra_extension_ids_join_allowed_origins(home, request_for):
    (home / ".config/chromium").mkdir(parents=True)
    req = request_for()
    req = type(req)(chromium_ids=(*req.chromium_ids, "a" * 32), firefox_ids=req.firefox_ids)
    (content,) = manifests(make_linux(home).plan(req)).values()
    assert content["allowed_origins"] == [ORIGIN, f"chrome-extension://{'a' * 32}/"]


def test_user_data_dir_alone_registers_only_that_profile(home, tmp_path, request_for):
    (home / ".config/chromium").mkdir(parents=True)
    profile = str(tmp_path / "profile")
    ops = make_linux(home).plan(request_for(user_data_dirs=(profile,)))
    assert list(manifests(ops)) == [f"{profile}/NativeMessagingHosts/{M}"]
    assert "allowed_origins" in manifests(ops)[f"{profile}/NativeMessagingHosts/{M}"]


def test_snap_chromium_is_written_into_snap_profile_with_warning(home, request_for):
    (home / "snap/chromium").mkdir(parents=True)
    platform = make_linux(home)
    rows = platform.survey(request_for())
    (snap,) = [r for r in rows if r.name == "snap-chromium"]
    assert snap.selected and snap.label == "Chromium (Snap)"
    assert snap.manifests == [str(home / f"snap/chromium/common/chromium/NativeMessagingHosts/{M}")]
    assert "Specified native messaging host not found" in snap.sandbox.fails
    assert snap.manifests[0] in manifests(platform.plan(request_for(), rows))


def test_snap_firefox_uses_the_usual_mozilla_folder_via_portal(home, request_for):
    (home / "snap/firefox").mkdir(parents=True)
    rows = make_linux(home).survey(request_for())
    (snap,) = [r for r in rows if r.name == "snap-firefox"]
    assert snap.manifests == [str(home / f".mozilla/native-messaging-hosts/{M}")]
    assert "portal" in snap.sandbox.works


def test_flatpak_browser_gets_nothing_and_an_explanation(home, request_for):
    (home / ".var/app/org.chromium.Chromium").mkdir(parents=True)
    platform = make_linux(home)
    rows = platform.survey(request_for())
    (flat,) = [r for r in rows if r.name == "flatpak-chromium"]
    assert flat.manifests == []
    assert "cannot start programs outside its sandbox" in flat.sandbox.fails
    assert manifests(platform.plan(request_for(), rows)) == {}


# ----------------------------------------------------------------- apply / uninstall (real files)


@pytest.fixture
def installed(home, request_for):
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla").mkdir()
    platform = make_linux(home)
    req = request_for(extension_dir="/src/extension")
    ops = platform.plan(req)
    record = platform.apply(ops, req)
    return platform, record


def test_apply_writes_record_with_allowed_callers(installed, home):
    platform, _ = installed
    saved = json.loads(Path(platform.state_path()).read_text())
    assert saved["allowed_callers"] == [ORIGIN, FIREFOX_ID]
    assert saved["extension_dir"] == "/src/extension"
    assert sorted(f["path"] for f in saved["files"]) == sorted(
        [
            str(home / ".local/share/dsexport/dsexport-host"),
            str(home / f".config/chromium/NativeMessagingHosts/{M}"),
            str(home / f".mozilla/native-messaging-hosts/{M}"),
        ]
    )
    assert os.access(home / ".local/share/dsexport/dsexport-host", os.X_OK)


def test_uninstall_leaves_a_changed_manifest_alone(installed, home):
    platform, record = installed
    changed = home / f".mozilla/native-messaging-hosts/{M}"
    changed.write_text('{"name": "org.dsexport.host", "edited": true}')
    outcomes = dict(
        (op.path, o)
        for op, o in platform.remove(platform.uninstall_plan(record, platform.state_path()))
        if isinstance(op, RemoveFile)
    )
    assert outcomes[str(changed)] == "changed"
    assert changed.exists()
    assert outcomes[str(home / f".config/chromium/NativeMessagingHosts/{M}")] == "removed"
    assert not (home / ".config/chromium/NativeMessagingHosts").exists()
    assert not (home / ".local").exists()


def test_reinstall_keeps_earlier_files_in_the_record(installed, home, request_for):
    platform, _ = installed
    req = request_for(browsers=("edge",))
    record = platform.apply(platform.plan(req), req)
    paths = {f.path for f in record.files}
    assert str(home / f".config/chromium/NativeMessagingHosts/{M}") in paths
    assert str(home / f".config/microsoft-edge/NativeMessagingHosts/{M}") in paths
    # Created by the first install; the second found it existing but must still remove it.
    assert str(home / ".config/chromium/NativeMessagingHosts") in record.dirs
    assert state.load(Path(platform.state_path())).files == record.files


def test_failed_install_still_records_what_it_wrote(home, tmp_path, request_for):
    from dsexport.errors import IoError

    (home / ".config/chromium").mkdir(parents=True)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    platform = make_linux(home)
    req = request_for()
    ops = [*platform.plan(req), WriteFile(str(blocker / "sub" / M), "{}")]
    with pytest.raises(IoError, match="cannot create"):
        platform.apply(ops, req)
    record = state.load(Path(platform.state_path()))
    assert {f.path for f in record.files} == {
        str(home / ".local/share/dsexport/dsexport-host"),
        str(home / f".config/chromium/NativeMessagingHosts/{M}"),
    }
