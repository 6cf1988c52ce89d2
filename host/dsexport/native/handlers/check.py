"""Find catalogued files that were moved or deleted and repair the catalog (``check``), as
``dsexport check`` does: moved files are followed (found by content in the output folder and near
where they were), deleted ones forgotten, changed ones read again."""

from __future__ import annotations

import sqlite3
from typing import Any

from dsexport.errors import IoError
from dsexport.native.handlers.fields import get_field
from dsexport.native.session import Request, Session

MAX_LISTED = 50
"""Paths listed per kind in the reply; the counts are always whole."""


def check(req: Request, session: Session) -> dict[str, Any]:
    """→ ``{"checked", "ok", "moved", "missing", "changed", "repaired", "moved_files",
    "missing_files", "changed_files"}``; ``repair: false`` only reports."""
    from dsexport.catalog import open_catalog
    from dsexport.catalog.maintain import check as check_catalog

    repair = get_field(req, "repair", bool, required=False)
    repair = True if repair is None else repair
    try:
        with open_catalog() as catalog:
            report = check_catalog(catalog, repair=repair)
    except sqlite3.Error as err:
        msg = f"the catalog cannot be read ({err}); run 'dsexport reindex' to rebuild it"
        raise IoError(msg) from err
    return {
        "checked": report.checked,
        "ok": report.ok,
        "moved": len(report.moved),
        "missing": len(report.missing),
        "changed": len(report.changed),
        "repaired": report.repaired,
        "moved_files": [{"from": a, "to": b} for a, b in report.moved[:MAX_LISTED]],
        "missing_files": report.missing[:MAX_LISTED],
        "changed_files": report.changed[:MAX_LISTED],
    }
