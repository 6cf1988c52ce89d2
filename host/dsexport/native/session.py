"""What every handler is given: the validated ``Request`` and the connection's ``Session``."""

from __future__ import annotations

import contextlib

from dsexport.native import transfer

TYPE_CHECKING = False  # typing itself is not imported: the host's start-up stays lean
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    Opener = Callable[[list[list[str]]], str]


class Request:
    """One validated message, e.g. ``Request(7, "ping", {"type": "ping", "id": 7})``."""

    __slots__ = ("fields", "id", "type")

    def __init__(self, id: str | int, type: str, fields: Mapping[str, Any]) -> None:
        self.id = id
        self.type = type
        self.fields = fields


class Session:
    """State that lives as long as one host process (one connection).

    ``opener`` runs the file-manager commands of ``reveal``; tests inject a recorder.
    """

    def __init__(
        self,
        caller: str = "",
        transfers: transfer.Transfers | None = None,
        opener: Opener | None = None,
    ) -> None:
        self.caller = caller
        self.transfers = transfers if transfers is not None else transfer.Transfers()
        self.opener = opener
        self.exports = None
        """Conversation exports in progress (``export.spool.Exports``), made on first use."""
        self._held = contextlib.ExitStack()
        self._holding = False

    def hold_catalog(self) -> None:
        """Keep one catalog connection for this connection's saves (``pipeline.held_catalog``):
        a batch then costs one catalog open and close instead of one per image."""
        if not self._holding:
            from dsexport.pipeline import held_catalog

            self._held.enter_context(held_catalog())
            self._holding = True

    def close(self) -> None:
        self.transfers.close_all()
        if self.exports is not None:
            self.exports.close_all()
        self._held.close()
