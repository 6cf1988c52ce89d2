"""A minimal native-messaging client for tests: starts ``dsexport host`` the way Chrome does
(``python -m dsexport host chrome-extension://<id>/``, pipes on stdin/stdout, a private HOME) and
speaks frames to it. Written from docs/protocol.md, not from ``dsexport.native``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import select
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

ORIGIN = "chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/"
FIREFOX_ID = "dsexport@dsexport.org"
HEADER = struct.Struct("=I")


def _like_json_stringify(value: Any) -> Any:
    # The browser serialises with JSON.stringify, which writes NaN and ±Infinity as null; Python
    # would write the non-JSON tokens NaN/Infinity (send those with raw_frame when meant).
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _like_json_stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_like_json_stringify(v) for v in value]
    return value


def frame(obj: Any) -> bytes:
    """A frame as the browser would send ``obj``."""
    body = json.dumps(_like_json_stringify(obj)).encode("utf-8")
    return HEADER.pack(len(body)) + body


def raw_frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def parse_frames(data: bytes) -> list[dict]:
    """Every frame in ``data``; fails on trailing garbage (stdout must carry frames only)."""
    out, pos = [], 0
    while pos < len(data):
        assert pos + 4 <= len(data), f"stray bytes after the last frame: {data[pos:]!r}"
        (length,) = HEADER.unpack_from(data, pos)
        body = data[pos + 4 : pos + 4 + length]
        assert len(body) == length, "truncated frame on stdout"
        out.append(json.loads(body.decode("utf-8")))
        pos += 4 + length
    return out


def host_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(
        HOME=str(home),
        XDG_PICTURES_DIR=str(home / "Pictures"),
        XDG_DOWNLOAD_DIR=str(home / "Downloads"),
    )
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.update(extra)
    return env


def host_argv(*browser_args: str) -> list[str]:
    return [sys.executable, "-m", "dsexport", "host", *browser_args]


def run_once(home: Path, data: bytes, *args: str, timeout: float = 60, **env: str):
    """One-shot use (``runtime.sendNativeMessage``): write everything, close stdin, collect."""
    args = args or (ORIGIN,)
    return subprocess.run(
        host_argv(*args),
        input=data,
        capture_output=True,
        env=host_env(home, **env),
        timeout=timeout,
        check=False,
    )


class Host:
    """A long-lived host (``runtime.connectNative``)."""

    def __init__(self, home: Path, *args: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            host_argv(*(args or (ORIGIN,))),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=host_env(home, **env),
        )
        self._next_id = 0

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj: Any) -> None:
        self.send_raw(frame(obj))

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        while len(buf) < size:
            left = deadline - time.monotonic()
            assert left > 0, f"no reply within the timeout (got {buf!r})"
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, size - len(buf))
            assert chunk, f"host closed stdout (exit {self.proc.poll()}) after {buf!r}"
            buf += chunk
        return buf

    def recv(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        (length,) = HEADER.unpack(self._read(4, deadline))
        assert length < 1024 * 1024, f"reply of {length} bytes breaks the browser's 1 MiB limit"
        return json.loads(self._read(length, deadline).decode("utf-8"))

    def request(self, type_: str, timeout: float = 60, **fields: Any) -> dict:
        self._next_id += 1
        req_id = self._next_id
        self.send({"type": type_, "id": req_id, **fields})
        reply = self.recv(timeout)
        assert reply["id"] == req_id, reply
        return reply

    def result(self, type_: str, **fields: Any) -> dict:
        reply = self.request(type_, **fields)
        assert reply["ok"] is True, reply
        return reply["result"]

    def error(self, type_: str, **fields: Any) -> dict:
        reply = self.request(type_, **fields)
        assert reply["ok"] is False, reply
        # code + message always; reason + params where the host words the case more finely.
        assert {"code", "message"} <= set(reply["error"]) <= {"code", "message", "reason", "params"}
        assert reply["error"]["message"]
        return reply["error"]

    def close(self, timeout: float = 30) -> int:
        """Close stdin (what the browser does) and return the exit status."""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        rest = self.proc.stdout.read() if self.proc.stdout else b""
        assert rest == b"", f"unexpected output after the last reply: {rest[:200]!r}"
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def big_png(min_bytes: int, width: int = 4096, *, noise: bool = True) -> bytes:
    """A valid RGB PNG of at least ``min_bytes``: random pixels in stored (level 0) deflate, so it
    is built in well under a second and does not shrink. ``noise=False`` gives a fixed pattern
    (the same bytes on every call)."""
    row = 1 + 3 * width
    height = -(-min_bytes // row)
    if noise:
        raw = bytearray(os.urandom(row * height))
    else:
        raw = bytearray(bytes(range(256)) * (row * height // 256 + 1))[: row * height]
    raw[::row] = bytes(height)  # filter type 0 at the start of every scanline
    idat = zlib.compress(bytes(raw), 0)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + (_png_chunk(b"IEND", b""))
    )


def small_png() -> bytes:
    """A 32x16 PNG of about 1.6 kB, identical on every call."""
    return big_png(1500, width=32, noise=False)
