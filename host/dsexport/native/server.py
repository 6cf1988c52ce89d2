"""The host loop: read a frame, validate it into a ``Request``, look up the handler, write the
reply; until EOF on stdin, then exit 0.

Every frame gets exactly one reply, in order, so a client may match an ``"id": null`` error
(a frame too broken to carry a readable id) to its oldest unanswered request.

What ends the loop:

- EOF between frames: clean exit, status 0.
- EOF inside a frame (header or body cut short): the stream cannot continue; a ``bad_frame``
  reply is attempted, then status 1.
- EOF while skipping a refused frame (below): it was already answered ``too_large``; status 1.
- A write error on stdout (the browser went away): status 1.

A frame whose length prefix is above ``MAX_FRAME_BYTES`` is refused with ``too_large`` *before*
its body is read, then exactly that many bytes are read and dropped in bounded blocks, so the
next frame is read in sync (Chrome never sends more than 64 MiB and Firefox 4 GiB, so the skip is
finite). Everything else (bad JSON, bad fields, failed saves, bugs) is answered and the loop goes
on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

from dsexport.errors import BadFrame, BadRequest, DsError, UnknownRequest, error_fields
from dsexport.native import framing
from dsexport.native.handlers import HANDLERS
from dsexport.native.session import Request, Session

TYPE_CHECKING = False  # typing is not imported: the host starts for every browser call
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import IO, Any

    Handler = Callable[[Request, Session], Mapping[str, Any]]


class _LazyLog:
    """The host's logger, set up on first use: importing ``logging`` costs about 3 ms, a quarter
    of the ping budget, and a successful ping logs nothing."""

    _logger: Any = None

    def __getattr__(self, name: str) -> Any:
        if _LazyLog._logger is None:
            from dsexport.native.logsetup import setup_logging

            _LazyLog._logger = setup_logging().getChild("host")
        return getattr(_LazyLog._logger, name)


log = _LazyLog()

QUIET_REQUESTS = frozenset({"ping"})
"""Health checks, possibly sent every few seconds: not logged when they succeed."""

EXIT_OK = 0
EXIT_BROKEN_STREAM = 1
EXIT_CALLER_REJECTED = 77
"""sysexits' EX_NOPERM; the browser shows "Native host has exited"."""

MAX_ID_CHARS = 128
MAX_TYPE_CHARS = 64
_MAX_SAFE_INT = 2**53 - 1


def error_reply(req_id: Any, err: DsError) -> dict[str, Any]:
    # ``message`` stays for the CLI and older clients; the extension words code + reason + params.
    error = {"code": err.code, "message": framing.shorten(str(err) or err.code)}
    error.update(error_fields(err))
    return {"id": req_id, "ok": False, "error": error}


def parse_request(message: Any) -> Request:
    """Check the envelope; the handler checks its own fields. ``BadRequest`` carries the id when
    the id itself was readable (``err.request_id``)."""
    if not isinstance(message, dict):
        msg = f"a request must be a JSON object, not {_json_type(message)}"
        raise BadRequest(msg)
    req_id = message.get("id")
    if isinstance(req_id, bool) or not isinstance(req_id, str | int):
        msg = "a request needs an 'id' that is a string or an integer"
        raise BadRequest(msg)
    if isinstance(req_id, str) and len(req_id) > MAX_ID_CHARS:
        msg = f"'id' is longer than {MAX_ID_CHARS} characters"
        raise BadRequest(msg)
    if isinstance(req_id, int) and abs(req_id) > _MAX_SAFE_INT:
        msg = "'id' is outside the range JavaScript numbers keep exact"
        raise BadRequest(msg)
    req_type = message.get("type")
    if not isinstance(req_type, str) or not req_type or len(req_type) > MAX_TYPE_CHARS:
        err = BadRequest("a request needs a 'type' string, e.g. \"ping\"")
        err.request_id = req_id  # type: ignore[attr-defined]
        raise err
    return Request(id=req_id, type=req_type, fields=message)


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def handle(
    message: Any, session: Session, handlers: Mapping[str, Handler] = HANDLERS
) -> dict[str, Any]:
    """One parsed message → one reply dict. Never raises (except BaseException such as
    SystemExit on SIGTERM)."""
    req_id: Any = None
    started = time.perf_counter()
    req_type = "?"
    try:
        try:
            req = parse_request(message)
        except BadRequest as err:
            req_id = getattr(err, "request_id", None)
            raise
        req_id, req_type = req.id, req.type
        handler = handlers.get(req.type)
        if handler is None:
            msg = f"unknown request type {req.type!r}; this host knows {', '.join(handlers)}"
            raise UnknownRequest(msg)
        result = dict(handler(req, session))
        reply: dict[str, Any] = {"id": req_id, "ok": True, "result": result}
        if req_type not in QUIET_REQUESTS:
            log.info("%.64r id=%.40r ok in %.1f ms", req_type, req_id, _ms(started))
        return reply
    except DsError as err:
        # %r keeps input-derived text on one log line.
        log.info("%.64r id=%.40r %s: %.300r", req_type, req_id, err.code, str(err))
        return error_reply(req_id, err)
    except Exception as err:  # the host's outermost edge: a bug must not end the connection
        log.exception("%.64r id=%.40r failed", req_type, req_id)
        return error_reply(req_id, DsError(f"internal error: {type(err).__name__}: {err}"))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def serve(
    instream: IO[bytes],
    outstream: IO[bytes],
    session: Session | None = None,
    *,
    handlers: Mapping[str, Handler] = HANDLERS,
    max_frame_bytes: int = framing.MAX_FRAME_BYTES,
) -> int:
    """Answer frames from ``instream`` on ``outstream`` until EOF; return the exit status."""
    session = session or Session()
    try:
        while True:
            try:
                message = framing.read_frame(instream, max_bytes=max_frame_bytes)
            except framing.FrameTooLarge as err:
                log.warning("refused a %d-byte frame; skipping it", err.length)
                _send(outstream, error_reply(None, err))
                try:
                    framing.skip_exactly(instream, err.length)
                except framing.TruncatedFrame:
                    # Already answered; the browser has gone (or never meant this as a frame).
                    log.warning("input ended inside the refused frame")
                    return EXIT_BROKEN_STREAM
                continue
            except framing.TruncatedFrame:
                raise
            except BadFrame as err:
                log.info("bad frame: %.300r", str(err))
                _send(outstream, error_reply(None, err))
                continue
            if message is framing.EOF:
                return EXIT_OK
            _send(outstream, handle(message, session, handlers))
    except framing.TruncatedFrame as err:
        log.warning("input ended inside a frame: %s", err)
        with contextlib.suppress(OSError):
            _send(outstream, error_reply(None, err))
        return EXIT_BROKEN_STREAM
    except OSError as err:
        # stdout closed (browser gone) or stdin unreadable: nobody is left to answer.
        log.warning("stream error: %s", err)
        return EXIT_BROKEN_STREAM
    except Exception as err:  # outermost edge: e.g. MemoryError while reading a frame
        log.exception("the host loop failed")
        with contextlib.suppress(Exception):
            _send(outstream, error_reply(None, DsError(f"internal error: {type(err).__name__}")))
        return EXIT_BROKEN_STREAM
    finally:
        session.close()


def _send(outstream: IO[bytes], reply: dict[str, Any]) -> None:
    try:
        frame = framing.fit_reply(reply)
    except (TypeError, ValueError) as err:
        # A handler returned something JSON cannot carry (a Path, NaN): a bug, answered as one.
        log.exception("reply for id %.40r cannot be encoded", reply.get("id"))
        err_reply = error_reply(reply.get("id"), DsError(f"internal error: {err}"))
        frame = framing.fit_reply(err_reply)
    outstream.write(frame)
    outstream.flush()


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # Python warnings (e.g. Pillow's DecompressionBombWarning) go to the log, not to stderr,
    # which Firefox copies into the Browser Console.
    log.warning("%s:%s: %s: %s", filename, lineno, category.__name__, message)


# ---------------------------------------------------------------------------------------------
# Process entry point


def _private_stdio() -> tuple[IO[bytes], IO[bytes]]:
    """Take fds 0/1 for frames and point them at the null device, so a stray ``print`` or a
    child process can neither corrupt a frame nor eat a request."""
    in_fd, out_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    return os.fdopen(in_fd, "rb"), os.fdopen(out_fd, "wb")


def main(argv: Sequence[str]) -> int:
    """``dsexport host <browser arguments>``."""
    from dsexport.native.caller import CallerRejected, check_caller

    try:
        caller = check_caller(argv)
    except CallerRejected as err:
        log.warning("refused to start: %s", err)
        # One line for someone running it by hand; the browser never passes these arguments.
        print(f"dsexport host: {err}", file=sys.stderr)
        return EXIT_CALLER_REJECTED
    import warnings

    warnings.showwarning = _log_warning
    try:
        instream, outstream = _private_stdio()
    except OSError as err:  # started without stdin/stdout: nobody to answer
        log.warning("no usable stdin/stdout: %s", err)
        return EXIT_BROKEN_STREAM
    session = Session(caller=caller)
    session.transfers.exit_on_sigterm = True
    with contextlib.suppress(OSError):
        session.transfers.sweep()
    status = serve(instream, outstream, session)
    _exit_now(status)
    return status  # not reached


def _exit_now(status: int) -> None:
    """Exit without the interpreter's teardown (freeing every module: about 4 ms, a sixth of a
    bare start, paid on every one-shot browser message). Everything that matters is already
    done: replies are flushed, transfers deleted by ``serve``; the log is flushed here."""
    if _LazyLog._logger is not None:
        import logging

        logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(status)
