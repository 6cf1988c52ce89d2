"""``dsexport library``: where the extension's Library page is, in each browser DS Export is
registered with, and (``--open``) open it there.

Chromium-family browsers give the extension a fixed address (its ID is pinned by the manifest's
``key``). Firefox gives each add-on a random UUID per profile, which is in the profile's
``prefs.js`` (``extensions.webextensions.uuids``) once the extension has run there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

HELP = """\
Print the address of the Library page (every saved image, searchable) for each browser DS Export
is registered with; --open opens it. Words after the command become the page's search.

examples:
  dsexport library
  dsexport library red scarf
  dsexport library --open --browser chromium
"""

CHROMIUM_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
GECKO_ID = "dsexport@dsexport.org"
PAGE = "library/library.html"


@dataclass(frozen=True)
class Address:
    browser: str
    """``--browser`` name, e.g. ``chromium``, ``firefox``."""
    label: str
    url: str | None
    """``None`` when it cannot be known (Firefox before the extension has run)."""
    note: str = ""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "library",
        help="print (or open) the address of the Library page",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="search to open the page with")
    p.add_argument("--open", action="store_true", help="open the page in the browser")
    p.add_argument("--browser", metavar="NAME", help="only this browser, e.g. chromium, firefox")
    p.add_argument("--json", action="store_true", help="print the addresses as JSON")
    p.set_defaults(func=run)


def page_query(words: list[str]) -> str:
    text = " ".join(words).strip()
    return "?" + urlencode({"q": text}) if text else ""


def chromium_url(query: str = "") -> str:
    return f"chrome-extension://{CHROMIUM_ID}/{PAGE}{query}"


def firefox_profiles(home: Path, environ=os.environ) -> list[Path]:
    """Profile folders of Firefox and LibreWolf for this user (any that have a ``prefs.js``)."""
    roots: list[Path] = []
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support"
        roots += [support / "Firefox" / "Profiles", support / "librewolf" / "Profiles"]
    elif sys.platform == "win32":
        appdata = Path(environ.get("APPDATA", home / "AppData" / "Roaming"))
        roots += [appdata / "Mozilla" / "Firefox" / "Profiles", appdata / "librewolf" / "Profiles"]
    else:
        config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        # Firefox 147 moved new profiles under ~/.config/mozilla; older ones stay in ~/.mozilla.
        roots += [
            home / ".mozilla" / "firefox",
            config / "mozilla" / "firefox",
            home / ".librewolf",
        ]
    found = []
    for root in roots:
        try:
            found += sorted(p.parent for p in root.glob("*/prefs.js"))
        except OSError:
            continue
    return found


_UUIDS = re.compile(r'user_pref\("extensions\.webextensions\.uuids",\s*("(?:[^"\\]|\\.)*")\);')


def firefox_uuid(profile: Path) -> str | None:
    """DS Export's moz-extension UUID in this profile, if it has run there."""
    try:
        text = (profile / "prefs.js").read_text("utf-8", errors="replace")
    except OSError:
        return None
    match = _UUIDS.search(text)
    if not match:
        return None
    try:
        uuids = json.loads(json.loads(match.group(1)))
    except ValueError:
        return None
    value = uuids.get(GECKO_ID) if isinstance(uuids, dict) else None
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f-]{36}", value):
        return value
    return None


def registered_browsers() -> list[str]:
    """Browsers ``dsexport install`` registered the helper with (its install record)."""
    from dsexport import paths
    from dsexport.errors import DsError
    from dsexport.installer import state

    try:
        record = state.load(paths.data_dir() / state.STATE_FILE)
    except DsError:
        return []
    return list(record.browsers) if record else []


def addresses(query: str = "", *, only: str | None = None, home: Path | None = None):
    from dsexport.installer.browsers import BY_NAME

    home = home or Path.home()
    names = registered_browsers()
    if only:
        names = [only]
    out: list[Address] = []
    for name in names:
        if name.startswith("profile:"):  # `dsexport install --user-data-dir`: a Chromium profile
            label = f"Chromium profile {name.partition(':')[2]}"
            out.append(Address(name, label, chromium_url(query)))
            continue
        # Snap and Flatpak builds are recorded as "snap-chromium", "flatpak-firefox", …
        browser = BY_NAME.get(name) or BY_NAME.get(name.partition("-")[2])
        if browser is None:
            continue
        if browser.family == "chromium":
            out.append(Address(name, browser.label, chromium_url(query)))
            continue
        librewolf = name == "librewolf"
        profiles = [
            p for p in firefox_profiles(home) if ("librewolf" in str(p).lower()) == librewolf
        ]
        found = [(p, firefox_uuid(p)) for p in profiles]
        known = [(p, u) for p, u in found if u]
        for profile, uuid in known:
            url = f"moz-extension://{uuid}/{PAGE}{query}"
            out.append(Address(name, f"{browser.label} (profile {profile.name})", url))
        if not known:
            note = (
                "open it from the DS Export toolbar button (Library); its address differs per "
                "profile and is known once the extension has run there"
            )
            out.append(Address(name, browser.label, None, note))
    return out


def open_commands(address: Address) -> list[list[str]]:
    """Commands that may open ``address.url`` in its browser, best first."""
    import shutil

    from dsexport.installer.browsers import BY_NAME

    browser = BY_NAME.get(address.browser) or BY_NAME.get(address.browser.partition("-")[2])
    if browser is None:  # a profile folder: which browser uses it is not recorded
        return []
    if sys.platform == "darwin":
        apps = [d for d in (browser.macos.detect if browser.macos else ()) if d.endswith(".app")]
        names = [Path(a).stem for a in apps[:1]]
        return [["open", "-a", name, address.url] for name in names]
    if sys.platform == "win32":
        return []
    place = browser.linux
    binaries = place.binaries if place else ()
    return [[found, address.url] for b in binaries if (found := shutil.which(b))][:1]


def run(args: argparse.Namespace) -> int:
    import subprocess

    found = addresses(page_query(args.query), only=args.browser)
    if args.json:
        print(json.dumps([a.__dict__ for a in found], ensure_ascii=False, indent=1))
        return 0 if any(a.url for a in found) else 1
    if not found:
        print("DS Export is not registered with any browser yet: run `dsexport install`.")
        query = page_query(args.query)
        print(f"In Chrome, Chromium, Edge, Brave, Vivaldi or Opera: {chromium_url(query)}")
        return 1
    status = 1
    for address in found:
        if address.url is None:
            print(f"{address.label}: {address.note}")
            continue
        print(f"{address.label}: {address.url}")
        status = 0
        if not args.open:
            continue
        commands = open_commands(address)
        if not commands:
            print("  (cannot open it from here: paste the address into the browser)")
            continue
        try:
            subprocess.Popen(
                commands[0],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as err:
            print(f"  (could not start {commands[0][0]}: {err.strerror})")
    return status
