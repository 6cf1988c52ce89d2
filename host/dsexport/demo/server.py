"""A local HTTPS server playing chat.deepseek.com, files.deepseeksvc.com, image.pollinations.ai
and a public image host (cdn.example-images.test, answering ``Access-Control-Allow-Origin: *``).

It binds 127.0.0.1 on a free port and dispatches on the Host header. Chromium reaches it through
``--host-resolver-rules`` (``chromium_args(port)``); the certificate (``sample/cert.pem``, made once
with openssl for those names and only ever used for this fake) is accepted through
``--ignore-certificate-errors``. It stops by itself after ``lifetime`` seconds.

Example::

    with SampleServer(build_sample(), lifetime=300) as srv:
        print(srv.port, chromium_args(srv.port))
"""

from __future__ import annotations

import http.server
import json
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dsexport.demo.sample import (
    CDN_HOST,
    CHAT_HOST,
    FILES_HOST,
    GEN_HOST,
    HOSTS,
    MIME,
    TOKEN,
    Sample,
    gen_key,
    page_html,
)

#: Requests remembered for tests (host, path, status); older ones are dropped beyond this.
MAX_LOGGED_REQUESTS = 5000

_NOT_FOUND_PAGE = b"""<!doctype html><html><head><title>404 Not Found</title></head>
<body><h1>404 Not Found</h1><p>The requested image does not exist.</p></body></html>"""
_VERIFY_PAGE = b"""<!doctype html><html><head><title>Human Verification</title></head>
<body><h1>Please verify you are human</h1><script>/* challenge */</script></body></html>"""


def cert_paths() -> tuple[Path, Path]:
    """The bundled self-signed certificate and key (package data under demo/sample/)."""
    base = resources.files("dsexport.demo") / "sample"
    return Path(str(base / "cert.pem")), Path(str(base / "key.pem"))


def resolver_rules(port: int) -> str:
    """``MAP chat.deepseek.com:443 127.0.0.1:PORT, …``; every other name fails to resolve, so a
    test never reaches the real sites."""
    maps = [f"MAP {host}:443 127.0.0.1:{port}" for host in HOSTS]
    return ", ".join([*maps, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1", "EXCLUDE localhost"])


def chromium_args(port: int) -> list[str]:
    return [f"--host-resolver-rules={resolver_rules(port)}", "--ignore-certificate-errors"]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def route(sample: Sample, host: str, target: str, headers) -> Reply:
    """What the fake sites answer for ``GET target`` on ``host``."""
    parts = urlsplit(target)
    query = parse_qs(parts.query)
    host = host.split(":")[0].lower()
    if host == CHAT_HOST:
        return _route_chat(sample, parts.path, query, headers)
    if host == FILES_HOST:
        return _route_files(sample, parts.path, query)
    if host == GEN_HOST:
        return _route_gen(sample, parts.path, query)
    if host == CDN_HOST:
        return _route_cdn(sample, parts.path)
    return Reply(421, b"misdirected request\n", "text/plain")


def _json(value) -> Reply:
    return Reply(200, json.dumps(value, ensure_ascii=False).encode(), "application/json")


def _route_chat(sample: Sample, path: str, query, headers) -> Reply:
    if path.startswith(("/a/chat/s/", "/share/")):
        conv = sample.by_id(path.rsplit("/", 1)[-1])
        if conv:
            return Reply(200, page_html(sample, conv).encode(), "text/html; charset=utf-8")
    elif path == "/api/v0/chat/history_messages":
        refused = "sample-nohistory=1" in (headers.get("Cookie") or "")  # page.js ?nohistory=1
        if refused or headers.get("authorization") != f"Bearer {TOKEN}":
            return _json(
                {
                    "code": 0,
                    "msg": "",
                    "data": {"biz_code": 40003, "biz_msg": "INVALID_TOKEN", "biz_data": None},
                }
            )
        conv = sample.by_id((query.get("chat_session_id") or [""])[0])
        if conv:
            return _json(conv.history(current_shape=bool(headers.get("x-client-version"))))
        return _json(
            {
                "code": 0,
                "msg": "",
                "data": {"biz_code": 4, "biz_msg": "NOT_FOUND", "biz_data": None},
            }
        )
    elif path == "/api/v0/share/content":  # public, like a shared link
        conv = sample.by_id((query.get("share_id") or [""])[0])
        if conv and conv.page_url.endswith(f"/share/{conv.id}"):
            return _json(conv.history(current_shape=bool(headers.get("x-client-version"))))
        return _json({"code": 0, "msg": "", "data": {"biz_code": 4, "biz_data": None}})
    elif path in ("/", "/a/chat"):
        first = sample.conversations[0]
        return Reply(302, b"", "text/plain", (("Location", first.page_url),))
    elif path in sample.static:
        body, ctype = sample.static[path]
        return Reply(200, body, ctype, (("Cache-Control", "max-age=3600"),))
    return Reply(404, _NOT_FOUND_PAGE, "text/html; charset=utf-8")


def _route_files(sample: Sample, path: str, query) -> Reply:
    if path != "/api/file":
        return Reply(404, _NOT_FOUND_PAGE, "text/html; charset=utf-8")
    upload = sample.uploads.get((query.get("file_id") or [""])[0])
    if upload is None:
        return Reply(404, _NOT_FOUND_PAGE, "text/html; charset=utf-8")
    if (query.get("state") or [""])[0] != upload.state:
        return Reply(403, b'{"error":"invalid signature"}', "application/json")
    ty = (query.get("ty") or [""])[0]
    # Like the real host: ty is required; t = thumbnail, p = large image, r = raw original.
    cors = (
        ("Access-Control-Allow-Origin", f"https://{CHAT_HOST}"),
        ("Access-Control-Allow-Credentials", "true"),
    )
    if ty == "t":
        return Reply(200, upload.thumb, "image/jpeg", cors)
    if ty == "p":
        return Reply(200, upload.body, MIME[upload.fmt], cors)
    if ty == "r":
        disposition = f'attachment; filename="{upload.file_name}"'
        return Reply(
            200, upload.body, MIME[upload.fmt], (*cors, ("Content-Disposition", disposition))
        )
    return Reply(400, b'{"error":"ty is required"}', "application/json")


def _route_gen(sample: Sample, path: str, query) -> Reply:
    if not path.startswith("/prompt/"):
        return Reply(404, _NOT_FOUND_PAGE, "text/html; charset=utf-8")
    prompt = unquote(path[len("/prompt/") :])
    gen = sample.generated.get(gen_key(prompt, (query.get("seed") or [""])[0]))
    cors = (("Access-Control-Allow-Origin", "*"),)
    if gen is None or gen.broken == "404":
        return Reply(404, _NOT_FOUND_PAGE, "text/html; charset=utf-8", cors)
    if gen.broken == "html":
        return Reply(200, _VERIFY_PAGE, "text/html; charset=utf-8", cors)
    return Reply(200, gen.body, MIME[gen.fmt], cors)


def _route_cdn(sample: Sample, path: str) -> Reply:
    """A public image host: anyone may read, nobody's credentials are wanted. Browsers refuse a
    credentialed cross-origin read of an ``Access-Control-Allow-Origin: *`` answer."""
    cors = (("Access-Control-Allow-Origin", "*"),)
    image = sample.cdn.get(path.lstrip("/"))
    if image is None:
        return Reply(404, _NOT_FOUND_PAGE, "text/html; charset=utf-8", cors)
    return Reply(200, image.body, MIME[image.fmt], (*cors, ("Cache-Control", "max-age=3600")))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the benchmark fetches 100 MB over a few sockets
    server: _Server

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_OPTIONS(self) -> None:  # CORS preflight for the page's own API calls
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, *, head: bool) -> None:
        host = self.headers.get("Host", "")
        reply = route(self.server.sample, host, self.path, self.headers)
        if self.server.image_delay and reply.content_type.startswith("image/"):
            time.sleep(self.server.image_delay)
        self.server.log_request_done(host.split(":")[0], self.path, reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args) -> None:  # quiet: the hits list is the log
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sample: Sample):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sample = sample
        self.image_delay = 0.0
        self.hits: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def log_request_done(self, host: str, path: str, status: int) -> None:
        with self._lock:
            self.hits.append((host, path, status))
            del self.hits[:-MAX_LOGGED_REQUESTS]

    def process_request_thread(self, request, client_address) -> None:
        # The TLS handshake runs here, in the request's own thread (see SampleServer).
        try:
            request.settimeout(30)
            request.do_handshake()
        except (OSError, ssl.SSLError):
            self.shutdown_request(request)
            return
        super().process_request_thread(request, client_address)

    def handle_error(self, request, client_address) -> None:
        pass  # a browser closing a keep-alive socket mid-request is not news


class SampleServer:
    """The fake sites, on ``127.0.0.1:<port>``; a context manager; stops after ``lifetime`` s."""

    def __init__(self, sample: Sample, *, lifetime: float = 900.0):
        self.sample = sample
        self.lifetime = lifetime
        self._server = _Server(sample)
        cert, key = cert_paths()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        # The handshake happens in the handler thread, so one slow client cannot stall accept().
        self._server.socket = ctx.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self.started_at = 0.0

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def image_delay(self) -> float:
        """Seconds each image response waits (a slow network, for progress screenshots)."""
        return self._server.image_delay

    @image_delay.setter
    def image_delay(self, seconds: float) -> None:
        self._server.image_delay = max(0.0, min(float(seconds), 10.0))

    @property
    def hits(self) -> list[tuple[str, str, int]]:
        with self._server._lock:
            return list(self._server.hits)

    def start(self) -> SampleServer:
        self.started_at = time.monotonic()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="dsexport-sample-server",
            daemon=True,
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
        if self._thread and self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
