"""Export a whole conversation as an archive: begin, turns (in parts), commit, abort.

A long conversation's text does not fit one message (``MAX_FRAME_BYTES``), so it arrives in parts;
the host keeps the checked turns on disk (``export.spool``) and writes the archive at commit.
"""

from __future__ import annotations

from typing import Any

from dsexport.errors import BadRequest, IoError, TooLarge
from dsexport.native.handlers.fields import get_field, load_config, output_dir
from dsexport.native.session import Request, Session

MAX_TURNS_PER_PART = 2000
"""Turns one ``export_turns`` may carry (the frame cap bounds their size too)."""


def _exports(session: Session):
    if session.exports is None:
        from dsexport.export.spool import Exports

        if session.transfers.exit_on_sigterm:
            # As for transfers: the browser closing the port sends SIGTERM; unwind so the
            # session's close() deletes the spooled text.
            from dsexport.native.transfer import _exit_on_sigterm

            _exit_on_sigterm()
        session.exports = Exports()
    return session.exports


def export_begin(req: Request, session: Session) -> dict[str, Any]:
    """Start an export: ``{"conversation": {...}, "options": {...}}`` → ``export_id``."""
    from dsexport.export.model import conversation_from_dict, options_from_dict

    conversation = conversation_from_dict(get_field(req, "conversation", dict))
    options = options_from_dict(get_field(req, "options", dict, required=False))
    started = _exports(session).begin(conversation, options)
    return {"export_id": started.id, "max_turns_per_part": MAX_TURNS_PER_PART}


def export_turns(req: Request, session: Session) -> dict[str, Any]:
    """Append the next turns, in conversation order: ``{"export_id", "turns": [...]}``."""
    from dsexport.export.model import turn_from_dict

    export = _exports(session).get(req.fields.get("export_id"))
    raw = get_field(req, "turns", list)
    if len(raw) > MAX_TURNS_PER_PART:
        msg = f"one export_turns may carry at most {MAX_TURNS_PER_PART} turns"
        raise TooLarge(msg)
    turns = []
    for position, item in enumerate(raw):
        try:
            turns.append(turn_from_dict(item))
        except (BadRequest, TooLarge) as err:
            msg = f"turn {export.turns + position + 1}: {err}"
            raise type(err)(msg) from err
    export.add(turns)
    return {"received": export.turns}


def export_commit(req: Request, session: Session) -> dict[str, Any]:
    """Write the archive into the output folder and record it in the catalog; the export ends
    whatever the outcome → ``{"path", "container", "turns", "images", "bytes", "missing"}``."""
    import sqlite3

    from dsexport.catalog import open_catalog
    from dsexport.catalog.exports import record_export
    from dsexport.export.archive import write_export
    from dsexport.pipeline import _ensure_output_folder

    export = _exports(session).finish(req.fields.get("export_id"))
    try:
        if export.turns == 0:
            msg = "the export has no turns; send them with export_turns first"
            raise BadRequest(msg)
        root = output_dir(load_config())
        _ensure_output_folder(root)
        try:
            catalog = open_catalog()
        except (sqlite3.Error, OSError) as err:
            msg = f"the catalog cannot be read ({err}); run 'dsexport reindex' to rebuild it"
            raise IoError(msg) from err
        with catalog:
            result = write_export(
                export.conversation,
                export.iter_turns,
                export.options,
                output_root=root,
                catalog=catalog,
            )
            reply = result.to_dict()
            conv = export.conversation
            try:
                record_export(
                    catalog,
                    path=result.path,
                    container=result.container,
                    conversation_id=conv.id,
                    conversation_title=conv.title,
                    page_url=conv.url,
                    turns=result.turns,
                    images=result.images,
                    size=result.bytes,
                    exported_at=result.exported_at,
                )
            except sqlite3.Error as err:  # the archive is written; only the listing is missing
                reply["warnings"] = [f"the catalog could not record the archive ({err})"]
        return reply
    finally:
        export.discard()


def export_abort(req: Request, session: Session) -> dict[str, Any]:
    _exports(session).finish(req.fields.get("export_id")).discard()
    return {}
