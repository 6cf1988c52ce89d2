"""``dsexport doctor``: check every browser's registration end to end; exit 1 on any problem."""

from __future__ import annotations

import argparse
import json

EXAMPLE = """\
example:
  dsexport doctor            human-readable, each problem followed by its fix
  dsexport doctor --json     for scripts and bug reports"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "doctor",
        help="check the browser registration and say how to fix problems",
        description="For every installed or registered browser: manifest present and correct, "
        "launcher executable, and a real ping through the launcher started exactly as the "
        "browser starts it. Also checks the output folder and blocking policies. Exits 1 when "
        "anything is wrong.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--no-ping", action="store_true", help="skip starting the helper")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from dsexport.installer import current
    from dsexport.installer.doctor import diagnose

    report = diagnose(current(), ping=not args.no_ping)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.to_text())
    return 0 if report.ok else 1
