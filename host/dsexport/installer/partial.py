"""Unregistering some browsers and keeping the others: ``dsexport uninstall --browser firefox``.

The install record lists, for every manifest and registry key, the browsers it serves (Chrome and
Opera share a folder on macOS, Brave and Chrome a registry key on Windows). A file or key goes only
when every browser it serves is named; otherwise it stays and only those names leave the record.
When nothing registered is left, the whole registration goes (launcher and record too), exactly as
a plain ``dsexport uninstall``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import PurePath

from dsexport.installer.base import DeleteRegistryKey, Op, RemoveDir, RemoveFile
from dsexport.installer.state import InstallState


def serves(recorded: str, wanted: set[str]) -> bool:
    """``firefox`` covers the record's ``firefox`` and its sandboxed builds (``flatpak-firefox``,
    ``snap-firefox``); a Chromium profile row is named ``profile:<folder>``."""
    return recorded in wanted or recorded.split("-", 1)[-1] in wanted


@dataclass
class BrowserUninstall:
    ops: list[Op]
    """What to remove now."""
    record: InstallState | None
    """The record to keep afterwards; ``None`` when nothing stays registered (the ops then remove
    everything, record included)."""
    browsers: list[str]
    """The recorded browser names that this removes."""


def plan_for_browsers(
    record: InstallState, names: list[str], full_plan: list[Op]
) -> BrowserUninstall:
    """``full_plan`` is ``platform.uninstall_plan(record, state_path)``, used when nothing stays."""
    wanted = set(names)
    kept = copy.deepcopy(record)
    removed_names = sorted(
        {b for f in record.files for b in f.browsers if serves(b, wanted)}
        | {b for r in record.registry for b in r.browsers if serves(b, wanted)}
    )
    ops: list[Op] = []
    for reg in list(kept.registry):
        mine = [b for b in reg.browsers if serves(b, wanted)]
        if not mine:
            continue
        reg.browsers = [b for b in reg.browsers if b not in mine]
        if not reg.browsers:
            kept.registry.remove(reg)
            ops.append(DeleteRegistryKey(reg.hive, reg.key, reg.value))
            for key in sorted(reg.created_keys, key=lambda k: k.count("\\"), reverse=True):
                ops.append(DeleteRegistryKey(reg.hive, key, None))
    gone_files: list[str] = []
    for rec in list(kept.files):
        if rec.kind != "manifest":
            continue
        mine = [b for b in rec.browsers if serves(b, wanted)]
        if not mine:
            continue
        rec.browsers = [b for b in rec.browsers if b not in mine]
        if not rec.browsers:
            kept.files.remove(rec)
            ops.append(RemoveFile(rec.path, rec.sha256))
            gone_files.append(rec.path)
    if not any(f.kind == "manifest" for f in kept.files) and not kept.registry:
        return BrowserUninstall(full_plan, None, removed_names)
    # Folders we created for the removed manifests, deepest first; each goes only if empty, and
    # never one that still holds something we keep.
    kept_paths = [PurePath(f.path) for f in kept.files]
    empty_candidates = [
        d
        for d in kept.dirs
        if any(PurePath(g).is_relative_to(d) for g in gone_files)
        and not any(p.is_relative_to(d) for p in kept_paths)
    ]
    for folder in sorted(empty_candidates, key=lambda d: len(PurePath(d).parts), reverse=True):
        ops.append(RemoveDir(folder))
    kept.dirs = [d for d in kept.dirs if d not in empty_candidates]
    kept.browsers = [b for b in kept.browsers if not serves(b, wanted)]
    return BrowserUninstall(ops, kept, removed_names)
