"""A minimal WebSocket client (RFC 6455, text frames, ``ws://`` on loopback only), enough to speak
the DevTools protocol to Chromium and WebDriver BiDi to Firefox without a third-party package.

Example::

    ws = WebSocket.connect("ws://127.0.0.1:9222/devtools/browser/abc")
    ws.send_text('{"id": 1, "method": "Browser.getVersion"}')
    print(ws.recv_text(timeout=5))
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import struct
from urllib.parse import urlsplit

#: Largest message accepted from the browser; a screenshot or a big evaluation result fits.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WebSocketError(OSError):
    pass


class WebSocket:
    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._buf = b""

    @classmethod
    def connect(cls, url: str, *, timeout: float = 10.0) -> WebSocket:
        parts = urlsplit(url)
        if parts.scheme != "ws" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            msg = f"only ws:// on this machine is supported, not {url}"
            raise WebSocketError(msg)
        sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        sock.sendall(request.encode())
        ws = cls(sock)
        head = ws._read_until(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            msg = f"WebSocket handshake with {url} failed: {status.decode(errors='replace')}"
            raise WebSocketError(msg)
        return ws

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                msg = "connection closed during the WebSocket handshake"
                raise WebSocketError(msg)
            self._buf += chunk
        head, _, self._buf = self._buf.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self._sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                msg = "the browser closed the WebSocket"
                raise WebSocketError(msg)
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode("utf-8"))

    def recv_text(self, *, timeout: float | None = None) -> str:
        """The next text message; raises ``TimeoutError`` when none arrives in ``timeout`` s."""
        self._sock.settimeout(timeout)
        message = b""
        while True:
            b0, b1 = self._read_exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._read_exact(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._read_exact(8))
            if len(message) + n > MAX_MESSAGE_BYTES:
                msg = f"WebSocket message larger than {MAX_MESSAGE_BYTES} bytes"
                raise WebSocketError(msg)
            mask = self._read_exact(4) if b1 & 0x80 else b""
            payload = self._read_exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                msg = "the browser closed the WebSocket"
                raise WebSocketError(msg)
            if opcode == 0x9:  # ping → pong
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if b0 & 0x80:
                return message.decode("utf-8")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send_frame(0x8, b"")
        self._sock.close()
