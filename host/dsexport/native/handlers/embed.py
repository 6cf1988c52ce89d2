"""Insert metadata into a file the browser downloaded, in place."""

from __future__ import annotations

from typing import Any

from dsexport.errors import ForbiddenPath
from dsexport.native.handlers.fields import (
    abs_path_field,
    as_result,
    download_roots,
    is_within,
    load_config,
    metadata_field,
)
from dsexport.native.session import Request, Session


def embed(req: Request, session: Session) -> dict[str, Any]:
    """Insert metadata into a file the browser downloaded, in place and losslessly."""
    from dsexport.pipeline import embed_file

    path = abs_path_field(req)
    meta = metadata_field(req)
    cfg = load_config()
    roots = download_roots(cfg)
    if not is_within(path, roots):
        msg = (
            f"{path} is outside the download and output folders; add its folder to "
            "'download_dirs' in the options to allow it"
        )
        raise ForbiddenPath(msg)
    return as_result(embed_file(path, meta, allowed_roots=roots, config=cfg))
