"""What every handler is given: the validated ``Request`` and the connection's ``Session``."""

from __future__ import annotations

import _thread  # a lock without importing threading, which costs a ping ~3 ms
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
        self._batching = False
        self._closed = False
        self._lock = _thread.allocate_lock()

    def start_batch(self) -> None:
        """Let this connection's saves share one catalog connection and write transaction
        (``pipeline.save_batch``): a batch then costs one catalog open and one commit per
        group of saves instead of one per image. Safe from any thread."""
        with self._lock:
            if not self._batching and not self._closed:
                from dsexport.pipeline import save_batch

                self._held.enter_context(save_batch())
                self._batching = True

    def take_ticket(self) -> Any:
        """The catalog ticket of this thread's last save (``pipeline.take_ticket``), or ``None``."""
        if not self._batching:
            return None
        from dsexport.pipeline import take_ticket

        return take_ticket()

    def prepare(self) -> None:
        """Load the save engine and open the catalog now, on a helper thread, so the first save
        of a batch does not pay for it (``ping`` with ``prepare``)."""

        def run() -> None:
            with contextlib.suppress(Exception):  # the save that needs it will report the error
                import dsexport.conventions
                import dsexport.formats
                import dsexport.naming
                import dsexport.sniff
                import dsexport.storage
                import dsexport.validate  # noqa: F401  (imported for later, not used here)
                from dsexport.native.handlers.fields import load_config

                load_config()
                self.start_batch()

        import threading

        threading.Thread(target=run, name="dsexport-prepare", daemon=True).start()

    def close(self) -> None:
        self.transfers.close_all()
        if self.exports is not None:
            self.exports.close_all()
        with self._lock:
            self._closed = True
            self._held.close()
