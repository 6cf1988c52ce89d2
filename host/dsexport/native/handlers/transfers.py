"""Chunked transfers of images too large for one message: begin, chunk, commit, abort."""

from __future__ import annotations

from typing import Any

from dsexport.errors import BadRequest
from dsexport.native import transfer
from dsexport.native.handlers.fields import (
    as_result,
    decode_base64,
    get_field,
    load_config,
    metadata_field,
    options_field,
)
from dsexport.native.session import Request, Session


def transfer_begin(req: Request, session: Session) -> dict[str, Any]:
    """Open a chunked transfer: ``{"size": 41943040, "sha256"?: "<hex>"}`` → ``transfer_id``."""
    size = get_field(req, "size", int)
    sha256 = get_field(req, "sha256", str, required=False)
    started = session.transfers.begin(size, sha256)
    return {"transfer_id": started.id, "chunk_bytes": transfer.CHUNK_BYTES}


def transfer_chunk(req: Request, session: Session) -> dict[str, Any]:
    """Append ``data`` (base64) at ``offset``; chunks in order, no gaps or overlaps."""
    tid = get_field(req, "transfer_id", str)
    offset = get_field(req, "offset", int)
    data = decode_base64(get_field(req, "data", str), "data")
    if not data:
        msg = "'data' is empty"
        raise BadRequest(msg)
    updated = session.transfers.chunk(tid, offset, data)
    return {"received": updated.received}


def transfer_commit(req: Request, session: Session) -> dict[str, Any]:
    """Save the assembled image, like ``save``; the transfer ends whatever the outcome, except
    when it is incomplete or the metadata/options are invalid (fix and commit again). The image
    was hashed as its chunks arrived; the save does not hash it again."""
    from dsexport.pipeline import Hashed, save_image

    tid = get_field(req, "transfer_id", str)
    session.transfers.get(tid)
    meta = metadata_field(req)
    options = options_field(req)
    finished = session.transfers.finish(tid)
    session.start_batch()
    try:
        source = Hashed(finished.path, finished.hasher.hexdigest())
        return as_result(save_image(source, meta, options, config=load_config()))
    finally:
        finished.discard()


def transfer_abort(req: Request, session: Session) -> dict[str, Any]:
    session.transfers.abort(get_field(req, "transfer_id", str))
    return {}
