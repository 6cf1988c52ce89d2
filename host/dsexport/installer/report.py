"""What ``dsexport install`` / ``uninstall`` print: one line per browser, what was done, and for
sandboxed builds what works and what does not. Plain ASCII: Windows consoles may be cp1252."""

from __future__ import annotations

import textwrap

from dsexport.installer.base import (
    BrowserStatus,
    InstallRequest,
    Op,
    Platform,
    RemoveDir,
    RemoveFile,
)


def _wrap(text: str, indent: str = "      ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def dry_run(platform: Platform, request: InstallRequest, ops: list[Op]) -> str:
    lines = ["Dry run: nothing is changed. Would do:"]
    lines += [textwrap.indent(op.describe(), "  ") for op in ops]
    lines.append(f"  record what was written in {platform.state_path(request.system)}")
    return "\n".join(lines) + "\n"


def install_summary(
    platform: Platform, request: InstallRequest, rows: list[BrowserStatus], *, dry_run: bool
) -> str:
    done = "would register" if dry_run else "registered"
    lines: list[str] = []
    for row in rows:
        if not row.selected:
            continue
        targets = row.manifests + [f"{hive}\\{key}" for hive, key in row.registry_keys]
        if row.sandbox is not None:
            kind = row.sandbox.kind.capitalize()
            head = f"{done}, with limits" if row.manifests else f"not registered ({kind})"
            lines.append(f"  {row.label}: {head}")
            lines += [_wrap(f"- {t}") for t in row.manifests]
            if row.sandbox.works:
                lines.append(_wrap(f"works: {row.sandbox.works}"))
            lines.append(_wrap(f"limits: {row.sandbox.fails}"))
            continue
        lines.append(f"  {row.label}: {done}")
        lines += [f"      - {t}" for t in targets]
        lines += [_wrap(f"note: {n}") for n in row.notes]
    if not lines:
        lines.append(
            _wrap(
                "No supported browser was found, so nothing was registered. Install one "
                "(Chromium, Google Chrome, Microsoft Edge, Brave, Vivaldi, Opera, Firefox or "
                "LibreWolf), start it once and run `dsexport install` again, or name it: "
                "dsexport install --browser chromium",
                "  ",
            )
        )
    missing = [r.label for r in rows if not r.selected and not r.installed]
    if missing and not request.browsers and not request.user_data_dirs:
        lines.append(_wrap("Not found, skipped: " + ", ".join(missing) + ".", "  "))
        lines.append("  (name one with --browser NAME to register it anyway)")
    head = "Browsers:"
    tail = [
        f"Launcher: {platform.launcher_path(request)} (runs {request.python})",
        f"Install record: {platform.state_path(request.system)}",
    ]
    if request.extension_dir:
        tail.append(f"Extension folder: {request.extension_dir}")
    if not dry_run and any(r.selected for r in rows):
        tail.append(
            "Next: load the extension into your browser (`dsexport extension` says how), then "
            "run `dsexport doctor` to check every browser end to end."
        )
    return "\n".join([head, *lines, *tail])


_OUTCOME = {
    "removed": "removed",
    "absent": "already gone",
    "changed": "LEFT IN PLACE: changed since install (someone else rewrote it; delete it "
    "yourself if nothing needs it)",
    "not empty": "kept: not empty",
}


def uninstall_summary(done: list[tuple[Op, str]]) -> str:
    lines = []
    for op, outcome in done:
        # Folders and the record are bookkeeping: mention them only when something was done.
        if isinstance(op, RemoveDir) and outcome != "removed":
            continue
        what = getattr(op, "path", None) or f"{op.hive}\\{op.key}"  # type: ignore[union-attr]
        lines.append(f"  {_OUTCOME[outcome]}: {what}")
    changed = sum(1 for op, o in done if o == "changed" and isinstance(op, RemoveFile))
    head = "Uninstalled DS Export's browser registration."
    if changed:
        head += f" {changed} file(s) were left in place because someone changed them."
    return "\n".join([head, *lines])
