"""The name a save would get, for the options page's live preview."""

from __future__ import annotations

from typing import Any

from dsexport.errors import BadRequest
from dsexport.native.handlers.fields import get_field, load_config, metadata_field
from dsexport.native.session import Request, Session

MAX_TEMPLATE_CHARS = 1024


def preview_name(req: Request, session: Session) -> dict[str, Any]:
    """The relative name a save would get, e.g. ``2026-11-25/20261125-091403_a-cat_1a2b.png``."""
    from dsexport.pipeline import preview_name as render

    template = get_field(req, "template", str, required=False)
    if template is not None and len(template) > MAX_TEMPLATE_CHARS:
        msg = f"'template' is longer than {MAX_TEMPLATE_CHARS} characters"
        raise BadRequest(msg)
    return {"name": render(metadata_field(req), template=template or None, config=load_config())}
