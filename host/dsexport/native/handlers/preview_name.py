"""The name a save would get, for the options page's live preview."""

from __future__ import annotations

from typing import Any

from dsexport.errors import BadRequest
from dsexport.native.handlers.fields import get_field, load_config, metadata_field
from dsexport.native.session import Request, Session

MAX_TEMPLATE_CHARS = 1024
MAX_INDEX = 10**9
#: The file extension each output format is written with ("original" keeps the source's; a
#: preview shows the commonest, PNG).
EXTENSIONS = {"original": "png", "png": "png", "jpeg": "jpg", "webp": "webp", "avif": "avif"}


def preview_name(req: Request, session: Session) -> dict[str, Any]:
    """The relative name a save would get, e.g. ``2026-11-25/20261125-091403_a-cat_1a2b.png``.

    ``index`` is the image's position in its batch, as a save passes it (so ``{index:3}`` shows
    ``003`` rather than nothing); ``format`` picks the extension (default: the config's)."""
    from dsexport.pipeline import preview_name as render

    template = get_field(req, "template", str, required=False)
    if template is not None and len(template) > MAX_TEMPLATE_CHARS:
        msg = f"'template' is longer than {MAX_TEMPLATE_CHARS} characters"
        raise BadRequest(msg)
    index = get_field(req, "index", int, required=False)
    if index is not None and not 0 <= index <= MAX_INDEX:
        msg = f"'index' must be between 0 and {MAX_INDEX}"
        raise BadRequest(msg)
    fmt = get_field(req, "format", str, required=False)
    if fmt is not None and fmt not in EXTENSIONS:
        msg = f"'format' must be one of {', '.join(EXTENSIONS)}"
        raise BadRequest(msg)
    config = load_config()
    ext = EXTENSIONS[fmt or config.format]
    name = render(
        metadata_field(req), template=template or None, ext=ext, index=index, config=config
    )
    return {"name": name}
