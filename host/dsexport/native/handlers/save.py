"""Save one image sent whole, as base64."""

from __future__ import annotations

from typing import Any

from dsexport.errors import BadRequest
from dsexport.native.handlers.fields import (
    as_result,
    decode_base64,
    get_field,
    load_config,
    metadata_field,
    options_field,
)
from dsexport.native.session import Request, Session


def save(req: Request, session: Session) -> dict[str, Any]:
    """Save one image sent whole: ``{"image": {"data": <base64>, "url"?, "mime"?}, ...}``."""
    from dsexport.pipeline import save_image

    image = get_field(req, "image", dict)
    data_text = image.get("data")
    if not isinstance(data_text, str) or not data_text:
        msg = "'image.data' must be the image bytes as a non-empty base64 string"
        raise BadRequest(msg)
    url = image.get("url")
    if url is not None and not isinstance(url, str):
        msg = "'image.url' must be a string"
        raise BadRequest(msg)
    meta = metadata_field(req)
    options = options_field(req)
    data = decode_base64(data_text, "image.data")
    del data_text
    if not data:
        msg = "'image.data' is empty"
        raise BadRequest(msg)
    if url and not meta.image_url and not url.startswith(("data:", "blob:")):
        from dsexport.validate import MAX_FIELD_CHARS

        meta = meta.replace(image_url=url[:MAX_FIELD_CHARS])
    session.start_batch()
    return as_result(save_image(data, meta, options, config=load_config()))
