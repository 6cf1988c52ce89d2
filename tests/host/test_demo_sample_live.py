"""The sample's "live" conversation (the live page's shape, reference §13) and its public image
host, without a browser: what the e2e tests in tests/e2e/test_*_live.py rely on."""

from __future__ import annotations

import json

import pytest

from dsexport.demo.sample import CDN_HOST, CHAT_HOST, CLIENT_VERSION, TOKEN, build_sample
from dsexport.demo.server import SampleServer
from testutil import sample_get


@pytest.fixture(scope="module")
def server():
    with SampleServer(build_sample(), lifetime=120) as srv:
        yield srv


def get(server, host: str, path: str, headers: dict | None = None):
    return sample_get(server.port, host, path, headers)


def test_the_public_image_host_answers_anyone_with_a_wildcard(server):
    [photo] = server.sample.conversation("live").turns[7].cdn
    status, headers, body = get(server, CDN_HOST, "/" + photo.path)
    assert status == 200 and body == photo.body
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    assert get(server, CDN_HOST, "/photos/missing.jpg")[0] == 404


def test_the_live_page_has_the_strip_list_first_and_keys_that_are_message_ids(server):
    conv = server.sample.conversation("live")
    status, _, page = get(server, CHAT_HOST, f"/a/chat/s/{conv.id}")
    text = page.decode()
    assert status == 200
    assert text.index('class="_3c1f8e2 sample-strip"') < text.index("ds-virtual-list--printable")
    assert "md-code-block-infostring" not in text.split('id="ds-sample-rows"')[1]
    rows = json.loads(text.split('id="ds-sample-rows">')[1].split("</script>")[0])
    keys = [int(r.split('data-virtual-list-item-key="')[1].split('"')[0]) for r in rows]
    assert keys == [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]


def test_the_live_history_keeps_the_edited_branch_and_the_code(server):
    conv = server.sample.conversation("live")
    headers = {"authorization": f"Bearer {TOKEN}", "x-client-version": CLIENT_VERSION}
    _, _, body = get(server, CHAT_HOST, conv.api_path, headers)
    data = json.loads(body)["data"]["biz_data"]
    messages = {m["message_id"]: m for m in data["chat_messages"]}
    assert data["chat_session"]["current_message_id"] == 16
    assert messages[5]["parent_id"] == 2 and messages[3]["parent_id"] == 2
    answer = messages[6]["fragments"][-1]["content"]
    assert "```svg\n<svg" in answer and "```python" in answer
    assert "```mermaid" in messages[2]["fragments"][-1]["content"]
    assert len(conv.drawings) == 2 and len(conv.diagrams) == 3


def test_every_sample_conversation_has_its_own_id():
    convs = build_sample(bench=True).conversations
    ids = [c.id for c in convs]
    assert len(set(ids)) == len(ids), sorted(ids)
