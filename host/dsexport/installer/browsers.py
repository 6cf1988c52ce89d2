"""Every browser the installer knows, in one table: where each looks for native-messaging host
manifests on each OS, and how to tell that it is installed.

Paths are templates expanded by the OS module (``Platform.expand``):

- Linux: ``{home}``; ``{config}`` = ``$XDG_CONFIG_HOME`` or ``~/.config``; ``{chrome_config}`` =
  ``$CHROME_CONFIG_HOME``, else ``{config}`` (Chromium's ``chrome_paths_linux.cc`` rule, shared by
  every Chromium-based browser); ``{data}`` = ``$XDG_DATA_HOME`` or ``~/.local/share``.
- macOS: ``{home}``; ``{appsupport}`` = ``~/Library/Application Support``.
- Windows: ``{home}``, ``{localappdata}``, ``{appdata}``, ``{programdata}``.

Sources for every location: shared/reference/native-messaging.md §2 (Chromium source, browser
docs, and what browserpass, passff, ff2mpv and KeePassXC write). Where sources disagree the table
writes every candidate (Brave on macOS reads its own folder or Chrome's; LibreWolf on Windows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["chromium", "firefox"]

_CHROME_SYSTEM = "/etc/opt/chrome/native-messaging-hosts"
_CHROME_KEY = r"Software\Google\Chrome\NativeMessagingHosts"
_MAC_CHROME_USER = "{appsupport}/Google/Chrome/NativeMessagingHosts"
_MAC_CHROME_SYSTEM = "/Library/Google/Chrome/NativeMessagingHosts"


@dataclass(frozen=True)
class Place:
    """Where one browser looks on one OS, and how to detect it there.

    ``manifest_dirs`` / ``system_dirs``: folders that get ``<host>.json`` (Linux, macOS).
    ``registry_keys``: parent keys that get a ``<host>`` subkey whose default value is the manifest
    path (Windows; HKCU for a user install, HKLM for ``--system``).
    ``detect``: any of these existing means installed (a profile folder, an app bundle).
    ``binaries``: any of these on PATH means installed.
    """

    manifest_dirs: tuple[str, ...] = ()
    system_dirs: tuple[str, ...] = ()
    registry_keys: tuple[str, ...] = ()
    detect: tuple[str, ...] = ()
    binaries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Browser:
    """One row of the table; ``name`` is what ``--browser`` takes."""

    name: str
    label: str
    family: Family
    linux: Place | None = None
    macos: Place | None = None
    windows: Place | None = None


def _linux_chromium(folder: str, system: tuple[str, ...], binaries: tuple[str, ...]) -> Place:
    return Place(
        manifest_dirs=(f"{{chrome_config}}/{folder}/NativeMessagingHosts",),
        system_dirs=system,
        detect=(f"{{chrome_config}}/{folder}",),
        binaries=binaries,
    )


def _mac_chromium(folder: str, system: tuple[str, ...], apps: tuple[str, ...]) -> Place:
    return Place(
        manifest_dirs=(f"{{appsupport}}/{folder}/NativeMessagingHosts",),
        system_dirs=system,
        detect=(f"{{appsupport}}/{folder}", *_apps(apps)),
    )


def _apps(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        p for n in names for p in (f"/Applications/{n}.app", f"{{home}}/Applications/{n}.app")
    )


def _win(key: str | tuple[str, ...], *detect: str) -> Place:
    keys = (key,) if isinstance(key, str) else key
    return Place(registry_keys=keys, detect=detect)


BROWSERS: tuple[Browser, ...] = (
    Browser(
        "chrome",
        "Google Chrome",
        "chromium",
        linux=_linux_chromium(
            "google-chrome", (_CHROME_SYSTEM,), ("google-chrome", "google-chrome-stable")
        ),
        macos=_mac_chromium("Google/Chrome", (_MAC_CHROME_SYSTEM,), ("Google Chrome",)),
        windows=_win(_CHROME_KEY, r"{localappdata}\Google\Chrome\User Data"),
    ),
    Browser(
        "chrome-beta",
        "Google Chrome Beta",
        "chromium",
        linux=_linux_chromium("google-chrome-beta", (_CHROME_SYSTEM,), ("google-chrome-beta",)),
        macos=_mac_chromium("Google/Chrome Beta", (_MAC_CHROME_SYSTEM,), ("Google Chrome Beta",)),
        windows=_win(_CHROME_KEY, r"{localappdata}\Google\Chrome Beta\User Data"),
    ),
    Browser(
        "chrome-unstable",
        "Google Chrome Dev (unstable)",
        "chromium",
        linux=_linux_chromium(
            "google-chrome-unstable", (_CHROME_SYSTEM,), ("google-chrome-unstable",)
        ),
        macos=_mac_chromium("Google/Chrome Dev", (_MAC_CHROME_SYSTEM,), ("Google Chrome Dev",)),
        windows=_win(_CHROME_KEY, r"{localappdata}\Google\Chrome Dev\User Data"),
    ),
    Browser(
        "chromium",
        "Chromium",
        "chromium",
        linux=_linux_chromium(
            "chromium", ("/etc/chromium/native-messaging-hosts",), ("chromium", "chromium-browser")
        ),
        macos=_mac_chromium(
            "Chromium",
            ("/Library/Application Support/Chromium/NativeMessagingHosts",),
            ("Chromium",),
        ),
        # Chromium reads its own key first, then Chrome's (CHR-SRC-WIN); ours is enough.
        windows=_win(
            r"Software\Chromium\NativeMessagingHosts", r"{localappdata}\Chromium\User Data"
        ),
    ),
    Browser(
        "edge",
        "Microsoft Edge",
        "chromium",
        linux=_linux_chromium(
            "microsoft-edge",
            ("/etc/opt/edge/native-messaging-hosts",),
            ("microsoft-edge", "microsoft-edge-stable"),
        ),
        macos=_mac_chromium(
            "Microsoft Edge", ("/Library/Microsoft/Edge/NativeMessagingHosts",), ("Microsoft Edge",)
        ),
        windows=_win(
            r"Software\Microsoft\Edge\NativeMessagingHosts",
            r"{localappdata}\Microsoft\Edge\User Data",
        ),
    ),
    Browser(
        "brave",
        "Brave",
        "chromium",
        linux=_linux_chromium(
            "BraveSoftware/Brave-Browser", (_CHROME_SYSTEM,), ("brave-browser", "brave")
        ),
        # Brave on macOS reads its own folder or Chrome's, by version (KEEPASSXC-13429).
        macos=Place(
            manifest_dirs=(
                "{appsupport}/BraveSoftware/Brave-Browser/NativeMessagingHosts",
                _MAC_CHROME_USER,
            ),
            system_dirs=(_MAC_CHROME_SYSTEM,),
            detect=("{appsupport}/BraveSoftware/Brave-Browser", *_apps(("Brave Browser",))),
        ),
        # Brave reads Chrome's key and ignores its own (ff2mpv, KeePassXC).
        windows=_win(_CHROME_KEY, r"{localappdata}\BraveSoftware\Brave-Browser\User Data"),
    ),
    Browser(
        "vivaldi",
        "Vivaldi",
        "chromium",
        # System folder is disputed (reference §7): write Chrome's and Vivaldi's own.
        linux=_linux_chromium(
            "vivaldi",
            (_CHROME_SYSTEM, "/etc/opt/vivaldi/native-messaging-hosts"),
            ("vivaldi", "vivaldi-stable"),
        ),
        macos=_mac_chromium(
            "Vivaldi", ("/Library/Application Support/Vivaldi/NativeMessagingHosts",), ("Vivaldi",)
        ),
        windows=_win(_CHROME_KEY, r"{localappdata}\Vivaldi\User Data"),
    ),
    Browser(
        "opera",
        "Opera",
        "chromium",
        # Opera has no folder of its own: it reads Google Chrome's (browserpass README, WEBSIGN).
        linux=Place(
            manifest_dirs=("{chrome_config}/google-chrome/NativeMessagingHosts",),
            system_dirs=(_CHROME_SYSTEM,),
            detect=("{config}/opera",),
            binaries=("opera",),
        ),
        macos=Place(
            manifest_dirs=(_MAC_CHROME_USER,),
            system_dirs=(_MAC_CHROME_SYSTEM,),
            detect=("{appsupport}/com.operasoftware.Opera", *_apps(("Opera",))),
        ),
        windows=_win(_CHROME_KEY, r"{appdata}\Opera Software\Opera Stable"),
    ),
    Browser(
        "firefox",
        "Firefox",
        "firefox",
        # Firefox 147 moved profiles to ~/.config/mozilla but still reads native-messaging
        # manifests only from ~/.mozilla (reference §2.2, KeePassXC #12779).
        linux=Place(
            manifest_dirs=("{home}/.mozilla/native-messaging-hosts",),
            system_dirs=("/usr/lib/mozilla/native-messaging-hosts",),
            detect=("{home}/.mozilla", "{config}/mozilla"),
            binaries=("firefox", "firefox-esr"),
        ),
        macos=Place(
            manifest_dirs=("{appsupport}/Mozilla/NativeMessagingHosts",),
            system_dirs=("/Library/Application Support/Mozilla/NativeMessagingHosts",),
            detect=("{appsupport}/Firefox", *_apps(("Firefox",))),
        ),
        windows=_win(r"Software\Mozilla\NativeMessagingHosts", r"{appdata}\Mozilla\Firefox"),
    ),
    Browser(
        "librewolf",
        "LibreWolf",
        "firefox",
        linux=Place(
            manifest_dirs=("{home}/.librewolf/native-messaging-hosts",),
            system_dirs=("/usr/lib/librewolf/native-messaging-hosts",),
            detect=("{home}/.librewolf",),
            binaries=("librewolf",),
        ),
        macos=Place(
            manifest_dirs=("{appsupport}/LibreWolf/NativeMessagingHosts",),
            system_dirs=("/Library/Application Support/LibreWolf/NativeMessagingHosts",),
            detect=("{appsupport}/librewolf", *_apps(("LibreWolf",))),
        ),
        # Sources disagree (ff2mpv: Mozilla's key; passff: LibreWolf's): write both.
        windows=_win(
            (r"Software\Mozilla\NativeMessagingHosts", r"Software\LibreWolf\NativeMessagingHosts"),
            r"{appdata}\librewolf",
        ),
    ),
)

BY_NAME: dict[str, Browser] = {b.name: b for b in BROWSERS}


# --------------------------------------------------------------------------- sandboxed builds


@dataclass(frozen=True)
class Sandbox:
    """A Snap or Flatpak build of a browser (Linux only), and what native messaging can do there.

    ``detect``: paths whose existence shows the sandboxed build. ``manifest_dirs``: extra folders
    we write our manifest to for it (empty when writing would not help). ``works`` / ``fails``:
    what we tell the user, verbatim.
    """

    kind: Literal["snap", "flatpak"]
    browser: str
    app: str
    detect: tuple[str, ...]
    manifest_dirs: tuple[str, ...]
    works: str
    fails: str


def _snap_detect(name: str) -> tuple[str, ...]:
    return (f"{{home}}/snap/{name}", f"/snap/bin/{name}")


def _flatpak_detect(app: str) -> tuple[str, ...]:
    return (
        f"{{home}}/.var/app/{app}",
        f"/var/lib/flatpak/app/{app}",
        f"{{data}}/flatpak/app/{app}",
    )


_FLATPAK_FAILS = (
    "A Flatpak browser cannot start programs outside its sandbox, so it cannot reach DS Export's "
    "helper (Mozilla calls this 'conceptually incompatible', bugzilla 1621763). Nothing was "
    "written for it. Use a non-Flatpak build of the browser (your distribution's package or the "
    "vendor's .deb/.rpm) for DS Export. Workarounds exist (a flatpak-spawn --host wrapper with "
    "--talk-name=org.freedesktop.Flatpak) but they remove the sandbox, so we do not set them up."
)

SANDBOXES: tuple[Sandbox, ...] = (
    Sandbox(
        "snap",
        "chromium",
        "chromium",
        _snap_detect("chromium"),
        ("{home}/snap/chromium/common/chromium/NativeMessagingHosts",),
        works="The manifest is written into the snap's profile "
        "(~/snap/chromium/common/chromium/NativeMessagingHosts).",
        fails="Snap confinement normally stops Chromium from starting programs outside the snap, "
        "so the popup may say 'Specified native messaging host not found'. Ubuntu 22.04+ snaps "
        "with the native-messaging portal patch can work; otherwise there is no workaround: use "
        "Google Chrome (.deb) or a non-snap Chromium for DS Export. `dsexport doctor` checks "
        "the helper itself but cannot look inside the snap.",
    ),
    Sandbox(
        "snap",
        "firefox",
        "firefox",
        _snap_detect("firefox"),
        ("{home}/.mozilla/native-messaging-hosts",),
        works="Snap Firefox (Ubuntu 22.04+) reaches native helpers through the WebExtensions XDG "
        "portal, which reads the usual ~/.mozilla/native-messaging-hosts manifest and starts the "
        "helper outside the sandbox; the manifest is written there. The first connection may "
        "ask you to allow it.",
        fails="This needs xdg-desktop-portal with the webextensions portal and the Firefox pref "
        "widget.use-xdg-desktop-portal.native-messaging not set to 0; without the portal the "
        "snap cannot start the helper.",
    ),
    Sandbox(
        "flatpak",
        "chromium",
        "org.chromium.Chromium",
        _flatpak_detect("org.chromium.Chromium"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
    Sandbox(
        "flatpak",
        "chrome",
        "com.google.Chrome",
        _flatpak_detect("com.google.Chrome"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
    Sandbox(
        "flatpak",
        "edge",
        "com.microsoft.Edge",
        _flatpak_detect("com.microsoft.Edge"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
    Sandbox(
        "flatpak",
        "brave",
        "com.brave.Browser",
        _flatpak_detect("com.brave.Browser"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
    Sandbox(
        "flatpak",
        "vivaldi",
        "com.vivaldi.Vivaldi",
        _flatpak_detect("com.vivaldi.Vivaldi"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
    Sandbox(
        "flatpak",
        "opera",
        "com.opera.Opera",
        _flatpak_detect("com.opera.Opera"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
    Sandbox(
        "flatpak",
        "firefox",
        "org.mozilla.firefox",
        _flatpak_detect("org.mozilla.firefox"),
        (),
        "",
        _FLATPAK_FAILS.replace(
            "Nothing was written",
            "Recent Flatpak Firefox builds may use xdg-native-messaging-proxy, which reads the "
            "normal ~/.mozilla manifest; if yours does, registering plain 'firefox' is enough. "
            "Nothing extra was written",
        ),
    ),
    Sandbox(
        "flatpak",
        "librewolf",
        "io.gitlab.librewolf-community",
        _flatpak_detect("io.gitlab.librewolf-community"),
        (),
        "",
        _FLATPAK_FAILS,
    ),
)


# --------------------------------------------------------------------------- policies

#: Where administrators set the Chromium policies that can block our host (reference §2.6):
#: ``NativeMessagingUserLevelHosts`` (false: only system-wide manifests / HKLM count),
#: ``NativeMessagingBlocklist`` and ``NativeMessagingAllowlist``. Linux: JSON files in a folder;
#: macOS: a managed-preferences plist; Windows: a registry key (HKLM and HKCU), where lists are
#: subkeys with values "1", "2", ….
POLICIES: dict[str, tuple[tuple[str, str], ...]] = {
    "linux": (
        ("Google Chrome", "/etc/opt/chrome/policies/managed"),
        ("Chromium", "/etc/chromium/policies/managed"),
        ("Microsoft Edge", "/etc/opt/edge/policies/managed"),
        ("Brave", "/etc/brave/policies/managed"),
    ),
    "macos": (
        ("Google Chrome", "/Library/Managed Preferences/com.google.Chrome.plist"),
        ("Chromium", "/Library/Managed Preferences/org.chromium.Chromium.plist"),
        ("Microsoft Edge", "/Library/Managed Preferences/com.microsoft.Edge.plist"),
        ("Brave", "/Library/Managed Preferences/com.brave.Browser.plist"),
    ),
    "windows": (
        ("Google Chrome", r"Software\Policies\Google\Chrome"),
        ("Chromium", r"Software\Policies\Chromium"),
        ("Microsoft Edge", r"Software\Policies\Microsoft\Edge"),
        ("Brave", r"Software\Policies\BraveSoftware\Brave"),
    ),
}
