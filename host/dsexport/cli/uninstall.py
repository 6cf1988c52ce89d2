"""``dsexport uninstall``: remove exactly what ``dsexport install`` recorded, nothing else."""

from __future__ import annotations

import argparse

EXAMPLE = """\
example:
  dsexport uninstall --dry-run      show what would be removed
  dsexport uninstall"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "uninstall",
        help="remove the browser registration",
        description="Remove the manifests, registry keys, launcher and folders that "
        "`dsexport install` recorded in its install record. A manifest someone changed after "
        "the install is left in place and reported. Running it twice is harmless.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--system", action="store_true", help="undo `dsexport install --system`")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be removed, change nothing"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dsexport.installer import current, report, state

    platform = current()
    path = platform.state_path(args.system)
    record = state.load(Path(path))
    if record is None:
        print(f"Nothing to uninstall: there is no install record at {path}.")
        other = platform.state_path(not args.system)
        if Path(other).exists():
            again = "dsexport uninstall" if args.system else "sudo dsexport uninstall --system"
            print(
                f"There is one for a {'user' if args.system else 'system-wide'} install at "
                f"{other}: run `{again}`."
            )
        return 0
    ops = platform.uninstall_plan(record, path)
    if args.dry_run:
        print("Dry run: nothing is changed. Would remove:")
        print("\n".join(f"  {op.describe()}" for op in ops))
        return 0
    print(report.uninstall_summary(platform.remove(ops)))
    return 0
