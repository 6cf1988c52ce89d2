"""ZIP catalogued images with their prompts into the output folder (the popup's "Save as
ZIP")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dsexport.errors import BadRequest, IoError, TooLarge
from dsexport.native.handlers.fields import (
    MAX_PATH_CHARS,
    check_text,
    get_field,
    load_config,
    text_list_field,
)
from dsexport.native.session import Request, Session

MAX_BUNDLE_NAME_CHARS = 255


def bundle(req: Request, session: Session) -> dict[str, Any]:
    """ZIP catalogued images with their prompts into the output folder: the files named by
    ``paths`` / ``sha256s`` / ``ids`` (e.g. the ones just saved), or every image of
    ``conversation_id`` → ``{"path", "count", "bytes", "skipped"}``."""
    import re
    import sqlite3

    from dsexport.catalog import open_catalog
    from dsexport.catalog.bundle import MAX_SELECTION, bundle_to_output_folder, select_entries

    paths = text_list_field(req, "paths", limit=MAX_SELECTION, what="absolute file paths")
    sha256s = text_list_field(req, "sha256s", limit=MAX_SELECTION, what="hex SHA-256 strings")
    if any(not re.fullmatch(r"[0-9a-fA-F]{64}", s) for s in sha256s):
        msg = "field 'sha256s' must hold 64-character hex SHA-256 strings"
        raise BadRequest(msg)
    ids = get_field(req, "ids", list, required=False) or []
    if len(ids) > MAX_SELECTION:
        msg = f"field 'ids' may list at most {MAX_SELECTION} catalog ids"
        raise TooLarge(msg)
    if any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i < 2**63 for i in ids):
        msg = "field 'ids' must be a list of positive integers"
        raise BadRequest(msg)
    if any(not os.path.isabs(p) for p in paths):
        msg = "field 'paths' must hold absolute paths"
        raise BadRequest(msg)
    conversation = get_field(req, "conversation_id", str, required=False)
    if conversation is not None:
        if not conversation or len(conversation) > MAX_PATH_CHARS:
            msg = f"field 'conversation_id' must be 1 to {MAX_PATH_CHARS} characters"
            raise BadRequest(msg)
        check_text(conversation, "conversation_id")
    output = get_field(req, "output", str, required=False)
    if output is not None:
        if not output or len(output) > MAX_BUNDLE_NAME_CHARS:
            msg = f"field 'output' must be a file name of 1 to {MAX_BUNDLE_NAME_CHARS} characters"
            raise BadRequest(msg)
        check_text(output, "output")
    try:
        with open_catalog() as catalog:
            entries = select_entries(
                catalog,
                ids=[int(i) for i in ids],
                sha256s=[s.lower() for s in sha256s],
                paths=[str(Path(p)) for p in paths],
                conversation_id=conversation,
            )
    except sqlite3.Error as err:
        msg = f"the catalog cannot be read ({err}); run 'dsexport reindex' to rebuild it"
        raise IoError(msg) from err
    from dsexport.native.handlers.bundle_progress import progress_file, progress_token

    with progress_file(progress_token(req)) as progress:
        result = bundle_to_output_folder(entries, output, config=load_config(), progress=progress)
    return {
        "path": result.path,
        "count": result.count,
        "bytes": result.bytes,
        "skipped": len(result.skipped),
    }
