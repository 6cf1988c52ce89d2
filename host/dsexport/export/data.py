"""``conversation.json``: the conversation as data, described in docs/conversation-json.md.

Written as a stream, one turn per line, so a 10,000-turn conversation costs the memory of one
turn. ``SCHEMA`` names the format and its version; a reader checks it before anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from dsexport.export.layout import Layout
from dsexport.export.model import Conversation, ExportOptions, Turn

SCHEMA = "dsexport.conversation/1"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def turn_record(turn: Turn, number: int, layout: Layout, options: ExportOptions) -> dict[str, Any]:
    images = []
    for ref in turn.images:
        member = layout.member(ref.path)
        item: dict[str, Any] = {"kind": ref.kind, "file": member.name if member else None}
        if ref.url:
            item["url"] = ref.url
        if ref.file_name:
            item["file_name"] = ref.file_name
        if ref.alt:
            item["alt"] = ref.alt
        if member is not None:
            item.update(
                sha256=member.sha256, format=member.format, width=member.width, height=member.height
            )
        else:
            item["error"] = ref.error or "not saved"
        images.append(item)
    record: dict[str, Any] = {
        "index": number,
        "role": turn.role,
        "time": turn.time,
        "model": turn.model,
        "status": turn.status,
        "text": turn.text,
        "reasoning": None,
        "sources": [],
        "files": [{"name": f.name, "size": f.size, "is_image": f.is_image} for f in turn.files],
        "images": images,
    }
    if options.reasoning and turn.reasoning:
        record["reasoning"] = {"text": turn.reasoning, "seconds": turn.reasoning_seconds}
    if options.sources:
        record["sources"] = [
            {
                "index": s.index,
                "url": s.url,
                "title": s.title,
                "snippet": s.snippet,
                "site": s.site,
                "published_at": s.published_at,
            }
            for s in turn.sources
        ]
    return record


def pieces(
    conversation: Conversation,
    turns: Callable[[], Iterator[Turn]],
    layout: Layout,
    options: ExportOptions,
    *,
    exported_at: str,
    turn_count: int,
    tool: str,
) -> Iterator[str]:
    head = {
        "schema": SCHEMA,
        "exported_at": exported_at,
        "tool": tool,
        "conversation": {
            "id": conversation.id,
            "title": conversation.title,
            "url": conversation.url,
            "kind": conversation.kind,
            "model": conversation.model,
            "created_at": conversation.created_at,
            "updated_at": conversation.updated_at,
        },
        "options": {"reasoning": options.reasoning, "sources": options.sources},
        "turn_count": turn_count,
    }
    text = _dump(head)
    yield text[:-1] + ', "turns": ['
    for number, turn in enumerate(turns(), 1):
        yield (
            ("," if number > 1 else "") + "\n  " + _dump(turn_record(turn, number, layout, options))
        )
    yield "\n]}\n"
