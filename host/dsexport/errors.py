"""Errors, each carrying its protocol code, and optionally a reason with parameters.

The codes are a public contract shared with the extension (``extension/shared/errors.js``) and
documented in ``docs/protocol.md``: add new codes, never rename or reuse one.

The English message is for the command line and logs. The extension words errors itself, in the
person's language, from ``code`` plus, where one is given, a finer ``reason`` and its ``params``::

    raise BadConfig(f"unknown field {{{name}}}", reason="template_unknown_field", field=name)

answers ``{"code": "bad_config", "message": "unknown field {foo}",
"reason": "template_unknown_field", "params": {"field": "foo"}}``. Reasons are part of the same
contract (docs/protocol.md lists them; tests check the extension has words for every one).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported: the native host's start-up stays lean
if TYPE_CHECKING:
    from typing import Any, ClassVar

MAX_PARAMS = 8
MAX_PARAM_CHARS = 300
"""Parameters may quote input (a path, a template field): bounded like the message."""


class DsError(Exception):
    """Base class; ``code`` is what the native host puts in ``error.code``."""

    code: ClassVar[str] = "internal"
    reason: str | None = None
    params: dict[str, Any]

    def __init__(self, *args: object, reason: str | None = None, **params: Any) -> None:
        super().__init__(*args)
        self.reason = reason
        self.params = params


class BadFrame(DsError):
    """A native-messaging frame could not be read (truncated, not UTF-8, not JSON)."""

    code = "bad_frame"


class BadRequest(DsError):
    """The request is well-formed JSON but a field is missing, of the wrong type or out of range."""

    code = "bad_request"


class TooLarge(DsError):
    """A frame, image, field or transfer is larger than the configured limit."""

    code = "too_large"


class UnsupportedFormat(DsError):
    """The bytes are not an image we accept (e.g. an HTML error page), or the target format is
    not available in this Pillow build."""

    code = "unsupported_format"


class CorruptImage(DsError):
    """The bytes claim to be an image but are truncated or broken, or are a decompression bomb."""

    code = "corrupt_image"


class ForbiddenPath(DsError):
    """A path would leave the output folder (or, for ``embed``, the allowed download folders)."""

    code = "forbidden_path"


class IoError(DsError):
    """Reading or writing a file failed: disk full, read-only folder, folder gone."""

    code = "io_error"


class NotFound(DsError):
    """A file, transfer or config key that the request names does not exist."""

    code = "not_found"


class BadConfig(DsError):
    """A config value failed validation."""

    code = "bad_config"


class UnknownRequest(DsError):
    """The request ``type`` is not one the host knows."""

    code = "unknown_request"


#: Every error class, by code. Tests check this against docs/protocol.md and the extension's map.
ERRORS: dict[str, type[DsError]] = {
    cls.code: cls
    for cls in (
        DsError,
        BadFrame,
        BadRequest,
        TooLarge,
        UnsupportedFormat,
        CorruptImage,
        ForbiddenPath,
        IoError,
        NotFound,
        BadConfig,
        UnknownRequest,
    )
}


def error_fields(err: DsError) -> dict[str, Any]:
    """``reason`` and ``params`` for a reply, when there are any: e.g. ``{"reason":
    "template_unknown_field", "params": {"field": "foo"}}``. An error raised ``from`` an
    ``OSError`` also names its errno (``{"errno": "ENOSPC"}``), so "disk full" and "permission
    denied" can be told apart in any language without parsing the OS's English text."""
    import errno  # only when answering an error: a ping's start-up imports nothing extra

    params = dict(getattr(err, "params", None) or {})
    cause = err.__cause__
    if isinstance(cause, OSError) and cause.errno in errno.errorcode:
        params.setdefault("errno", errno.errorcode[cause.errno])
    out: dict[str, Any] = {}
    reason = getattr(err, "reason", None)
    if isinstance(reason, str) and reason:
        out["reason"] = reason
    clean = {
        str(key)[:32]: _param_value(value)
        for key, value in list(params.items())[:MAX_PARAMS]
        if value is not None
    }
    if clean:
        out["params"] = clean
    return out


def _param_value(value: Any) -> str | int | float | bool:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        value = ", ".join(map(str, value))
    text = str(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"
