"""The health check: version, capabilities, limits, config. Kept cheap: it runs on every
browser start of the host."""

from __future__ import annotations

from dsexport.native import framing, transfer
from dsexport.native.session import Request, Session

TYPE_CHECKING = False  # typing is not imported: a ping stays lean
if TYPE_CHECKING:
    from typing import Any


def ping(req: Request, session: Session) -> dict[str, Any]:
    """Version, capabilities, limits and the current config (or why it could not be read)."""
    from dsexport import __version__
    from dsexport.errors import DsError
    from dsexport.native import capabilities

    reply: dict[str, Any] = {
        "version": __version__,
        "protocol": 1,
        "capabilities": capabilities.capabilities(),
        "limits": {
            "max_frame_bytes": framing.MAX_FRAME_BYTES,
            "max_reply_bytes": framing.MAX_REPLY_BYTES,
            "max_image_bytes": transfer.MAX_IMAGE_BYTES,
            "chunk_bytes": transfer.CHUNK_BYTES,
            "max_chunk_bytes": transfer.MAX_CHUNK_BYTES,
            "max_open_transfers": transfer.MAX_OPEN_TRANSFERS,
        },
    }
    try:
        reply["config"] = capabilities.effective_config()
    except DsError as err:
        # A broken config file must not make the extension think the host is missing.
        reply["config"] = None
        reply["config_error"] = {"code": err.code, "message": framing.shorten(str(err))}
    return reply
