"""``dsexport install``: register the native host with every installed browser (or those named)."""

from __future__ import annotations

import argparse
import os
import sys

from dsexport.errors import BadRequest
from dsexport.installer.browsers import BY_NAME

#: Exit status when no supported browser was found (nothing registered); install.sh and
#: install.ps1 tell it apart from a failure. `dsexport demo` uses the same number.
EXIT_NO_BROWSER = 3

EXAMPLE = """\
examples:
  dsexport install                          every browser found on this machine
  dsexport install --browser chromium --browser firefox --dry-run
  dsexport install --user-data-dir /tmp/profile   a custom Chromium profile (tests)
  sudo dsexport install --system            all users (/etc/…, /Library/…, HKLM)"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "install",
        help="register the helper with your browsers",
        description="Write the native-messaging host manifest where each installed browser looks "
        "(and the Windows registry keys), plus a launcher that runs the helper with this Python. "
        "Re-running updates the registration in place.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--browser",
        action="append",
        default=[],
        metavar="NAME",
        choices=sorted(BY_NAME),
        help="register only this browser, even if it is not detected (repeatable): "
        + ", ".join(BY_NAME),
    )
    p.add_argument(
        "--extension-id",
        action="append",
        default=[],
        metavar="ID",
        help="also allow this extension ID (32 letters a-p for Chromium browsers, e.g. a store "
        "build; or a Firefox add-on ID); repeatable",
    )
    p.add_argument(
        "--extension-dir",
        metavar="DIR",
        help="the extension folder whose manifest.json pins the IDs (default: the extension this "
        "package carries, copied to DS Export's data folder; in a source checkout, its "
        "extension/ folder)",
    )
    p.add_argument(
        "--system", action="store_true", help="register for all users (needs root/admin)"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print every file and registry value, change nothing"
    )
    p.add_argument(
        "--user-data-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="write the Chromium manifest into DIR/NativeMessagingHosts, for a browser started "
        "with --user-data-dir=DIR (Linux, macOS); without --browser, only these folders are "
        "registered",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from dsexport.installer import current, extension_folder, report
    from dsexport.installer.base import InstallRequest
    from dsexport.installer.extension_id import CHROMIUM_ID_RE, FIREFOX_ID_RE, read_ids

    if args.user_data_dir and sys.platform == "win32":
        msg = "--user-data-dir does not work on Windows: Chrome looks only in the registry there"
        raise BadRequest(msg)
    platform = current()
    folder = extension_folder.locate(platform.data_dir(args.system), args.extension_dir)
    ids = read_ids(folder.source)
    chromium, firefox = [ids.chromium], [ids.firefox] if ids.firefox else []
    for extra in args.extension_id:
        if CHROMIUM_ID_RE.match(extra):
            chromium.append(extra)
        elif FIREFOX_ID_RE.match(extra):
            firefox.append(extra)
        else:
            msg = (
                f"--extension-id {extra!r} is neither a Chromium ID (32 letters a-p) nor a "
                "Firefox add-on ID (name@domain or {GUID})"
            )
            raise BadRequest(msg)
    request = InstallRequest(
        chromium_ids=tuple(dict.fromkeys(chromium)),
        firefox_ids=tuple(dict.fromkeys(firefox)),
        browsers=tuple(dict.fromkeys(args.browser)),
        system=args.system,
        user_data_dirs=tuple(os.path.abspath(d) for d in args.user_data_dir),
        extension_dir=str(folder.load),
        extension_copy_from=str(folder.source) if folder.copied else None,
    )
    rows = platform.survey(request)
    ops = platform.plan(request, rows)
    if args.dry_run:
        print(report.dry_run(platform, request, ops))
    else:
        platform.apply(ops, request)
    print(report.install_summary(platform, request, rows, dry_run=args.dry_run))
    return 0 if any(r.selected for r in rows) else EXIT_NO_BROWSER
