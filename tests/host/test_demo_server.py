"""The sample DeepSeek server without a browser: what each fake host answers."""

from __future__ import annotations

import json
import socket
import ssl
import time

import pytest

from dsexport.demo.sample import CLIENT_VERSION, HOSTS, TOKEN, build_sample
from dsexport.demo.server import SampleServer, cert_paths, resolver_rules
from testutil import sample_get


@pytest.fixture(scope="module")
def server():
    with SampleServer(build_sample(), lifetime=120) as srv:
        yield srv


def get(server, host: str, path: str, headers: dict | None = None):
    status, sent, body = sample_get(server.port, host, path, headers)
    kind = next((v for k, v in sent.items() if k.lower() == "content-type"), None)
    return status, kind, sent, body


def test_the_bundled_certificate_is_valid_for_every_fake_host(server):
    ctx = ssl.create_default_context(cafile=str(cert_paths()[0]))  # hostname checks on
    for host in HOSTS:
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.version()


def test_conversation_page_and_its_history_api(server):
    conv = server.sample.conversation("main")
    status, ctype, _, body = get(server, "chat.deepseek.com", f"/a/chat/s/{conv.id}")
    assert status == 200 and ctype.startswith("text/html")
    assert b"ds-virtual-list-visible-items" in body and conv.title.encode() in body

    auth = {"authorization": f"Bearer {TOKEN}"}
    _, _, _, full = get(
        server, "chat.deepseek.com", conv.api_path, {**auth, "x-client-version": CLIENT_VERSION}
    )
    messages = json.loads(full)["data"]["biz_data"]["chat_messages"]
    kinds = [f["type"] for m in messages for f in m["fragments"]]
    assert {"REQUEST", "RESPONSE", "FILE", "THINK"} <= set(kinds)

    # Without the client headers the API answers the reduced legacy shape, like the real one.
    _, _, _, legacy = get(server, "chat.deepseek.com", conv.api_path, auth)
    messages = json.loads(legacy)["data"]["biz_data"]["chat_messages"]
    assert all(m["fragments"] == [] for m in messages)
    assert all("signed_path" not in f for m in messages for f in m["files"])

    _, _, _, refused = get(server, "chat.deepseek.com", conv.api_path)
    assert json.loads(refused)["data"]["biz_code"] == 40003


def test_uploads_thumbnail_and_original_by_ty(server):
    upload = server.sample.conversation("main").turns[0].uploads[0]
    host = "files.deepseeksvc.com"
    path = upload.url("r").split(host, 1)[1]
    status, _, headers, raw = get(server, host, path)
    assert status == 200 and raw == upload.body
    assert "attachment" in headers["Content-Disposition"]
    assert get(server, host, path.replace("ty=r", "ty=p"))[3] == upload.body
    thumb = get(server, host, path.replace("ty=r", "ty=t"))[3]
    assert thumb == upload.thumb and thumb != upload.body
    assert get(server, host, path.replace("&ty=r", ""))[0] == 400
    assert get(server, host, path.replace(upload.state, "sig.forged"))[0] == 403


def test_generator_images_and_broken_ones(server):
    conv = server.sample.conversation("broken")
    host = "image.pollinations.ai"
    for gen in conv.turns[1].images:
        status, ctype, _, body = get(server, host, gen.url.split(host, 1)[1])
        if gen.broken == "404":
            assert status == 404 and ctype.startswith("text/html")
        elif gen.broken == "html":
            assert status == 200 and ctype.startswith("text/html")
        else:
            assert status == 200 and body == gen.body and ctype.startswith("image/")


def test_unknown_host_and_resolver_rules(server):
    assert get(server, "example.com", "/")[0] == 421
    rules = resolver_rules(server.port)
    assert f"MAP chat.deepseek.com:443 127.0.0.1:{server.port}" in rules
    assert "MAP * ~NOTFOUND" in rules


def test_server_stops_by_itself():
    srv = SampleServer(build_sample(), lifetime=0.5).start()
    port = srv.port
    time.sleep(1.5)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
