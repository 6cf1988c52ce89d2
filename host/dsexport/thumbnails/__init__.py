"""Thumbnails for the library page, made by the helper on first view and kept in the user cache
folder (``<cache dir>/thumbnails``), never beside or inside the originals.

- ``make`` turns an open image file into a small JPEG, or a WebP where it is transparent
  (Pillow; every raster format we save, 16-bit and animated ones included; SVG is never
  rendered here: the page shows SVGs itself, through ``<img>``, from the file's bytes).
- ``cache`` keeps them on disk under a key of the file's path, size, time and inode, with a size
  cap (least recently used first out).
- ``worker`` makes them on background threads, newest request first, so the host keeps
  answering while the first screen of a large library is generated.

Example::

    from dsexport.thumbnails.cache import ThumbnailCache, default_cache
    cache = default_cache()
    data = cache.get(cache.key(path, os.lstat(path), 256))   # None until made
"""

from __future__ import annotations

SIZES: tuple[int, ...] = (256, 512)
"""Thumbnail sizes, in pixels on the longer side: the page asks for the one that covers a tile
at the screen's pixel ratio."""
