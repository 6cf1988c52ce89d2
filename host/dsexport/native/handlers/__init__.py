"""Request type → handler, one module per request (or per family of requests).

A handler takes the validated ``Request`` and the connection's ``Session`` and returns the
``result`` dict, or raises a ``DsError`` (which the server turns into an error reply). Handlers
never touch stdin or stdout.

``HANDLERS`` imports a handler's module the first time that request arrives: the host starts for
every browser call, and a ``ping`` must not pay for the save engine, the catalog or ``reveal``.
docs/protocol.md documents exactly these types (tests/host/test_docs_protocol.py).
"""

from __future__ import annotations

from dsexport.native.session import Request, Session

__all__ = ["HANDLERS", "Request", "Session"]

_MODULES = {
    "ping": "ping",
    "save": "save",
    "transfer_begin": "transfers",
    "transfer_chunk": "transfers",
    "transfer_commit": "transfers",
    "transfer_abort": "transfers",
    "embed": "embed",
    "save_download": "save_download",
    "clean_staging": "save_download",
    "config_get": "config",
    "config_set": "config",
    "preview_name": "preview_name",
    "reveal": "reveal",
    "bundle": "bundle",
    "bundle_progress": "bundle_progress",
    "catalog_query": "catalog_query",
    "catalog_page": "catalog_query",
    "catalog_entry": "catalog_query",
    "catalog_conversations": "catalog_query",
    "catalog_facets": "catalog_query",
    "thumbnails": "thumbnails",
    "thumbnail_cache": "thumbnails",
    "read_chunk": "read_chunk",
    "check": "check",
    "export_begin": "export",
    "export_turns": "export",
    "export_commit": "export",
    "export_abort": "export",
}
"""Request type → module in this package that defines a function of the same name."""


class _Handlers:
    """A read-only mapping of request type → handler function, importing on first use."""

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = modules
        self._loaded: dict = {}

    def get(self, name, default=None):
        handler = self._loaded.get(name)
        if handler is None:
            module = self._modules.get(name) if isinstance(name, str) else None
            if module is None:
                return default
            handler = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
            self._loaded[name] = handler
        return handler

    def __getitem__(self, name):
        handler = self.get(name)
        if handler is None:
            raise KeyError(name)
        return handler

    def __contains__(self, name) -> bool:
        return name in self._modules

    def __iter__(self):
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return [(name, self[name]) for name in self._modules]

    def values(self):
        return [self[name] for name in self._modules]


HANDLERS = _Handlers(_MODULES)
