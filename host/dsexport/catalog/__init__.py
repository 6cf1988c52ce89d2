"""The sqlite catalog of saved images: deduplication by content, search, bundles and imports.

The files stay the source of truth; the catalog can always be rebuilt from what is embedded in
them. ``open_catalog()`` opens (and creates or migrates) ``<data_dir>/catalog.sqlite3``.

Modules: ``db`` (schema, migrations, the save lock), ``search`` (full-text search, listings,
statistics), ``files`` (finding and reading images), ``maintain`` (``reindex``, ``check``),
``importer`` (``import_paths``), ``bundle`` (ZIP bundles), ``progress`` (the CLI's progress bar).
Example::

    from dsexport.catalog import open_catalog
    from dsexport.catalog.search import search

    with open_catalog() as cat:
        for hit in search(cat, "红色围巾", since="7d"):
            print(hit.entry.path, hit.snippet)
"""

from __future__ import annotations

from dsexport.catalog.db import CATALOG_FILENAME, SCHEMA_VERSION, Catalog, Entry, open_catalog

__all__ = ["CATALOG_FILENAME", "SCHEMA_VERSION", "Catalog", "Entry", "open_catalog"]
