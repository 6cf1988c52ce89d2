"""Read and change the configuration the options page and the CLI share."""

from __future__ import annotations

from typing import Any

from dsexport.errors import BadRequest
from dsexport.native.handlers.fields import get_field
from dsexport.native.session import Request, Session

MAX_CONFIG_BYTES = 64 * 1024
"""``config_set`` values larger than this (as JSON) are refused before validation."""


def config_get(req: Request, session: Session) -> dict[str, Any]:
    """The current config and the defaults."""
    from dsexport import config

    return {"config": config.load_config().to_dict(), "defaults": _defaults(config)}


def _defaults(config_module) -> dict[str, Any]:
    defaults = getattr(config_module, "defaults", None)
    if callable(defaults):
        return defaults().to_dict()
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config_module.DEFAULTS.items()}


def config_set(req: Request, session: Session) -> dict[str, Any]:
    """Validate and store ``values``; nothing is written if any value is bad."""
    import json

    from dsexport.config import set_values

    values = get_field(req, "values", dict)
    if len(json.dumps(values, ensure_ascii=False)) > MAX_CONFIG_BYTES:
        msg = f"config values are larger than {MAX_CONFIG_BYTES} bytes"
        raise BadRequest(msg)
    return {"config": set_values(values).to_dict()}
