"""Errors, each carrying its protocol code.

The codes are a public contract shared with the extension (``extension/shared/errors.js``) and
documented in ``docs/protocol.md``: add new codes, never rename or reuse one.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported: the native host's start-up stays lean
if TYPE_CHECKING:
    from typing import ClassVar


class DsError(Exception):
    """Base class; ``code`` is what the native host puts in ``error.code``."""

    code: ClassVar[str] = "internal"


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
