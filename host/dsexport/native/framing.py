"""Native-messaging frames: a uint32 length in native byte order, then that many bytes of UTF-8
JSON. The same shape both ways, e.g. ``b"\\x0f\\x00\\x00\\x00" + b'{"type":"ping"}'`` on x86.

The browser is trusted to frame correctly, but the bytes inside are not: a length prefix may lie
(``0xFFFFFFFF`` after a desynchronised stream), the body may be cut short by EOF, or not be UTF-8
or JSON. Nothing is allocated for a frame before its length has been checked against
``MAX_FRAME_BYTES``, so a lying ``0xFFFFFFFF`` costs nothing; a frame under the cap is held at most
twice while it is decoded.
"""

from __future__ import annotations

import json
import struct

from dsexport.errors import BadFrame, TooLarge

TYPE_CHECKING = False  # typing is not imported: the host's start-up stays lean
if TYPE_CHECKING:
    from typing import IO, Any

HEADER = struct.Struct("=I")
"""Native byte order, standard size: what Chrome (raw ``uint32_t`` copy) and Firefox
(``Uint32Array``) write."""

MAX_FRAME_BYTES = 16 * 1024 * 1024
"""Largest request body accepted. It fits one ``save`` of about 12 MiB of raw image (base64 adds a
third); larger images use ``transfer_*``. Guards against a lying or hostile length prefix: Chrome
itself allows 64 MiB and Firefox 4 GiB browser→host, so the browser does not protect us."""

READ_BLOCK_BYTES = 1024 * 1024
"""Bodies are read in blocks of this size (a pipe gives at most 64 KiB per read anyway)."""

MAX_REPLY_BYTES = 128 * 1024
"""Replies are kept to this size; the browsers' host→browser limit is 1 MiB and a reply over it
kills the port ("Error when communicating with the native messaging host")."""

MAX_MESSAGE_CHARS = 1000
"""Error messages are cut to this length (they may quote untrusted input)."""

_SHRUNK_STRING_CHARS = 1024
_SHRUNK_LIST_ITEMS = 64


class _EndOfInput:
    __slots__ = ()

    def __repr__(self) -> str:
        return "EOF"


EOF = _EndOfInput()
"""What ``read_frame`` returns at a clean end of input (``None`` is the JSON ``null``)."""


class TruncatedFrame(BadFrame):
    """EOF arrived inside a frame (in the header or the body): the stream cannot continue."""


class FrameTooLarge(TooLarge):
    """The length prefix is above ``MAX_FRAME_BYTES``; the body has not been read.

    ``length`` is the announced size, so the reader can skip exactly that many bytes.
    """

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"message is {length} bytes; the limit is {limit} bytes. "
            f"Send images larger than a few MiB with transfer_begin/transfer_chunk."
        )
        self.length = length


def read_exactly(stream: IO[bytes], size: int, *, block: int = READ_BLOCK_BYTES) -> bytearray:
    """Read ``size`` bytes into one buffer, ``block`` bytes at a time; raise ``TruncatedFrame``
    on EOF before the end.

    The buffer is allocated once, at its final size (the caller has checked ``size`` against
    the cap), so a frame costs its size once, not the twice that growing a buffer would.
    """
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    readinto = getattr(stream, "readinto", None)
    while got < size:
        want = min(block, size - got)
        if readinto is not None:
            n = readinto(view[got : got + want])
        else:
            chunk = stream.read(want)
            n = len(chunk)
            view[got : got + n] = chunk
        if not n:
            view.release()
            msg = f"the input ended after {got} of {size} bytes of a message"
            raise TruncatedFrame(msg)
        got += n
    view.release()
    return buf


def skip_exactly(stream: IO[bytes], size: int, *, block: int = READ_BLOCK_BYTES) -> None:
    """Discard ``size`` bytes in bounded blocks (resynchronising after a refused frame)."""
    left = size
    while left:
        chunk = stream.read(min(block, left))
        if not chunk:
            msg = f"the input ended {left} bytes before the end of a refused message"
            raise TruncatedFrame(msg)
        left -= len(chunk)


def _refuse_constant(name: str) -> Any:
    msg = f"message is not valid JSON: {name} is not a JSON number"
    raise BadFrame(msg)


def read_frame(stream: IO[bytes], *, max_bytes: int = MAX_FRAME_BYTES) -> Any:
    """Read one message (any JSON value); ``EOF`` at a clean end of input (between frames).

    Raises ``FrameTooLarge`` (body left unread), ``TruncatedFrame`` (EOF inside the frame) or
    ``BadFrame`` (body read whole but not UTF-8 JSON; the stream is still in sync).
    """
    header = stream.read(HEADER.size)
    if not header:
        return EOF
    if len(header) < HEADER.size:
        header += read_exactly(stream, HEADER.size - len(header))
    (length,) = HEADER.unpack(header)
    if length > max_bytes:
        raise FrameTooLarge(length, max_bytes)
    return decode_body(read_exactly(stream, length))


def decode_body(body: bytearray) -> Any:
    """Strict UTF-8 (``json.loads(bytes)`` would also guess UTF-16/32), then JSON without
    ``NaN``/``Infinity``. ``body`` is emptied once decoded, so a large frame is held at most
    twice (bytes and text, then text and parsed value), never three times."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        msg = f"message is not valid UTF-8 (byte {err.start})"
        raise BadFrame(msg) from None
    finally:
        body.clear()
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        msg = f"message is not valid JSON: {err.msg} at position {err.pos}"
        raise BadFrame(msg) from None
    except (ValueError, RecursionError) as err:
        # ValueError: integers beyond sys.get_int_max_str_digits; RecursionError: deep nesting.
        msg = f"message is not valid JSON: {type(err).__name__}"
        raise BadFrame(msg) from None


def encode_frame(obj: Any) -> bytes:
    """Header + body. ``ensure_ascii`` so lone surrogates echoed from input still encode."""
    body = json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def write_frame(stream: IO[bytes], obj: Any) -> int:
    """Write one message and flush; return its body size."""
    frame = encode_frame(obj)
    stream.write(frame)
    stream.flush()
    return len(frame) - HEADER.size


# ---------------------------------------------------------------------------------------------
# Keeping replies small


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _shrink(value: Any) -> Any:
    if isinstance(value, str):
        return shorten(value, _SHRUNK_STRING_CHARS)
    if isinstance(value, list | tuple):
        items = [_shrink(v) for v in value[:_SHRUNK_LIST_ITEMS]]
        return items
    if isinstance(value, dict):
        return {k: _shrink(v) for k, v in list(value.items())[:_SHRUNK_LIST_ITEMS]}
    return value


def fit_reply(reply: dict[str, Any], *, max_bytes: int = MAX_REPLY_BYTES) -> bytes:
    """Encode ``reply`` as a frame of at most ``max_bytes`` body bytes.

    Over the limit, long strings and lists are cut (and ``truncated: true`` is set); if that is
    not enough the reply becomes a ``too_large`` error for the same ``id``.
    """
    frame = encode_frame(reply)
    if len(frame) - HEADER.size <= max_bytes:
        return frame
    shrunk = _shrink(reply)
    shrunk["truncated"] = True
    frame = encode_frame(shrunk)
    if len(frame) - HEADER.size <= max_bytes:
        return frame
    return encode_frame(
        {
            "id": reply.get("id"),
            "ok": False,
            "error": {"code": TooLarge.code, "message": "the reply was too large to send"},
        }
    )
