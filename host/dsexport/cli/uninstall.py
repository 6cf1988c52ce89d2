"""``dsexport uninstall``: remove exactly what ``dsexport install`` recorded, nothing else."""

from __future__ import annotations

import argparse

from dsexport.installer.browsers import BY_NAME

EXAMPLE = """\
examples:
  dsexport uninstall --dry-run                show what would be removed
  dsexport uninstall
  dsexport uninstall --browser firefox        unregister Firefox, keep the others"""


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
        "--browser",
        action="append",
        default=[],
        metavar="NAME",
        choices=sorted(BY_NAME),
        help="unregister only this browser (and its Flatpak/Snap builds), keeping the others "
        "(repeatable): " + ", ".join(BY_NAME),
    )
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
    if args.browser:
        return _uninstall_browsers(args, platform, record, Path(path), ops)
    if args.dry_run:
        print("Dry run: nothing is changed. Would remove:")
        print("\n".join(f"  {op.describe()}" for op in ops))
        return 0
    print(report.uninstall_summary(platform.remove(ops)))
    return 0


def _uninstall_browsers(args, platform, record, path, full_plan) -> int:
    from dsexport.installer import report, state
    from dsexport.installer.partial import plan_for_browsers

    labels = ", ".join(BY_NAME[name].label for name in dict.fromkeys(args.browser))
    plan = plan_for_browsers(record, args.browser, full_plan)
    if not plan.browsers:
        print(f"Nothing to uninstall: DS Export is not registered with {labels}.")
        return 0
    if args.dry_run:
        print("Dry run: nothing is changed. Would remove:")
        print("\n".join(f"  {op.describe()}" for op in plan.ops))
        if plan.record is not None:
            print(f"and keep the registration for: {', '.join(plan.record.browsers) or '-'}")
        return 0
    done = platform.remove(plan.ops)
    if plan.record is not None:
        state.save(path, plan.record)
    lines = report.uninstall_summary(done).split("\n")[1:]
    head = f"Unregistered DS Export from {labels}."
    if plan.record is not None:
        head += f" Still registered: {', '.join(plan.record.browsers) or 'custom profiles'}."
    else:
        head += " No other browser was registered, so the helper's launcher went too."
    print("\n".join([head, *lines]))
    return 0
