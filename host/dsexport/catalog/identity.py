"""What makes two saves the same picture beyond their bytes: a diagram's identity.

A Mermaid chart is rendered again, with new random element ids, every time the page's virtual list
mounts its turn, so one chart arrives as different SVG bytes, and content hashing alone would
keep every render. The extension names what a chart is (``extra.diagram_key``: a hash of its
language and source code from the page's data, or of its normalised markup), and the catalog treats
the same key in the same conversation and turn as the same picture. Only the save request's own
metadata is used, never a record read from a file: ``reindex`` and ``import`` record no identity.

Example::

    diagram_identity(Metadata(origin="diagram", conversation_id="c1", turn_index=3,
                              extra={"diagram_key": "1ba2a9d9cb7f1f17415d61891af1"}))
    # -> "diagram:5f0c…" (64 hex digits after the prefix)
"""

from __future__ import annotations

import hashlib
import re

from dsexport.model import Metadata

_KEY = re.compile(r"[0-9a-f]{16,64}")


def diagram_identity(meta: Metadata) -> str | None:
    """``"diagram:<sha256>"`` of conversation, turn and diagram key, or None when ``meta`` is not a
    diagram or lacks any of the three."""
    if meta.origin != "diagram" or not meta.conversation_id or meta.turn_index is None:
        return None
    key = meta.extra.get("diagram_key") if isinstance(meta.extra, dict) else None
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return None
    text = f"{meta.conversation_id}\x00{meta.turn_index}\x00{key}"
    return "diagram:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
