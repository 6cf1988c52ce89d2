"""The sqlite catalog of saved images: deduplication by content now, search later.

The files stay the source of truth; the catalog can always be rebuilt from what is embedded in
them. ``open_catalog()`` opens (and creates or migrates) ``<data_dir>/catalog.sqlite3``.
"""

from __future__ import annotations

from dsexport.catalog.db import CATALOG_FILENAME, SCHEMA_VERSION, Catalog, open_catalog

__all__ = ["CATALOG_FILENAME", "SCHEMA_VERSION", "Catalog", "open_catalog"]
