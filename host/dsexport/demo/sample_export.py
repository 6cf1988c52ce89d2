"""Sample conversations for "Export conversation": what the others do not have.

``rich``: DeepThink reasoning, a web search with citations, a table, code with its language,
math, a Mermaid diagram, an upload, a generated image, and an edited prompt (the page's data keeps
the old branch; the page shows the new one). ``share``: a shared conversation at ``/share/<id>``,
whose data comes from ``/api/v0/share/content``. Both are ``Conversation``s whose ``turns`` are
what the page shows; their ``history`` adds what only the data has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsexport.demo.sample import (
    CHAT_HOST,
    Conversation,
    Turn,
    _gen,
    _markdown,
    _upload,
    _uuid,
)

_FLOW = "flowchart TD\n  选题 --> 检索 --> 写作"
_FLOW_SVG = (
    '<svg id="mermaid-21" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 200" width="120" '
    'height="200" role="graphics-document document" aria-roledescription="flowchart-v2">'
    '<rect x="20" y="10" width="80" height="30" fill="#fee" stroke="#c99"/>'
    '<text x="40" y="30" font-size="12">选题</text><path d="M60 40v40" stroke="#666"/>'
    '<rect x="20" y="80" width="80" height="30" fill="#fee" stroke="#c99"/>'
    '<text x="40" y="100" font-size="12">检索</text><path d="M60 110v40" stroke="#666"/>'
    '<rect x="20" y="150" width="80" height="30" fill="#fee" stroke="#c99"/>'
    '<text x="40" y="170" font-size="12">写作</text></svg>'
)

SEARCH_RESULTS = [
    {
        "url": "https://example.com/watercolor",
        "title": "水彩画技法入门",
        "snippet": "湿画法与干画法的区别……",
        "site_name": "Example 艺术",
        "site_icon": "https://example.com/favicon.ico",
        "published_at": 1780000000,
        "cite_index": 1,
        "query_indexes": [0],
    },
    {
        "url": "https://example.org/cats-in-art",
        "title": "Cats in Art History",
        "snippet": "From Egypt to Japan, cats <b>everywhere</b>.",
        "site_name": "Example Org",
        "published_at": 1770000000,
        "cite_index": 2,
        "query_indexes": [0],
    },
]

RICH_ANSWER = """## 水彩猫的画法

水彩讲究**水分控制**[citation:1]，猫在艺术史中很常见[citation:2]。

| 步骤 | 要点 | 用时 |
|:---|:---|---:|
| 打稿 | 轻描轮廓 🐱 | 5 分钟 |
| 铺色 | 湿画法 | 20 分钟 |

色彩混合可以近似为 \\(C = \\alpha A + (1-\\alpha) B\\)，其中 $\\alpha$ 是透明度。

$$
E = \\sum_{i=1}^{n} w_i c_i
$$

```python
def mix(a, b, alpha=0.5):
    return [alpha * x + (1 - alpha) * y for x, y in zip(a, b)]  # <b>不是标签</b>
```

<script>alert("raw HTML stays text")</script>"""


@dataclass
class RichConversation(Conversation):
    """The shown branch is ``turns``; ``hidden`` is the older branch an edit left in the data."""

    hidden: list[Turn] = field(default_factory=list)
    reasoning: str = ""

    def history(self, *, current_shape: bool) -> dict[str, Any]:
        base = super().history(current_shape=current_shape)
        if not current_shape:
            return base
        biz = base["data"]["biz_data"]
        shown = biz["chat_messages"]
        # Shown ids 1, 2, 5, 6: the edit of message 3 answered under a new id (§13).
        ids = [1, 2, 5, 6]
        parents = [None, 1, 2, 5]
        for msg, new_id, parent in zip(shown, ids, parents, strict=True):
            msg["message_id"], msg["parent_id"] = new_id, parent
        answer = shown[1]
        answer["model"] = "deepseek-reasoner"
        answer["thinking_enabled"] = answer["search_enabled"] = True
        frags = answer["fragments"]
        search = {
            "id": 9,
            "type": "TOOL_SEARCH",
            "queries": [{"query": "水彩 猫 画法"}],
            "results": SEARCH_RESULTS,
        }
        think = next(f for f in frags if f["type"] == "THINK")
        frags.insert(frags.index(think) + 1, search)
        frags.append({"id": 10, "type": "TIP", "content": "本回答由 AI 生成，内容仅供参考"})
        old = []
        for n, turn in enumerate(self.hidden):
            old.append(
                {
                    "message_id": 3 + n,
                    "parent_id": 2 + n,
                    "model": "",
                    "role": turn.role.upper(),
                    "status": "FINISHED",
                    "inserted_at": 1789300000.0 + 90 + n,
                    "files": [],
                    "fragments": [
                        {
                            "id": 1,
                            "type": "REQUEST" if turn.role == "user" else "RESPONSE",
                            "content": turn.text,
                        }
                    ],
                }
            )
        biz["chat_messages"] = [*shown[:2], *old, *shown[2:]]
        biz["chat_session"]["current_message_id"] = 6
        biz["chat_session"]["model_type"] = "expert"
        return base


@dataclass
class ShareConversation(Conversation):
    """A shared conversation: ``/share/<id>``, data from ``share/content``."""

    @property
    def page_url(self) -> str:
        return f"https://{CHAT_HOST}/share/{self.id}"

    @property
    def api_path(self) -> str:
        return f"/api/v0/share/content?share_id={self.id}"

    def history(self, *, current_shape: bool) -> dict[str, Any]:
        base = super().history(current_shape=current_shape)
        biz = base["data"]["biz_data"]
        return {
            "code": 0,
            "msg": "",
            "data": {
                "biz_code": 0,
                "biz_msg": "",
                "biz_data": {
                    "title": self.title,
                    "inserted_at": 1789300000.0,
                    "messages": biz["chat_messages"],
                },
            },
        }


def rich() -> RichConversation:
    answer = Turn(
        "assistant",
        RICH_ANSWER,
        think="用户想学水彩猫。先搜索技法资料，再给出步骤表、公式和代码。",
        images=[_gen("watercolor cat sketch, loose wash", "png", 320, 240, 77)],
        diagram=(_FLOW, _FLOW_SVG),
    )
    return RichConversation(
        "rich",
        _uuid(7),
        "水彩猫教程（深度思考 + 联网搜索）",
        [
            Turn(
                "user",
                "教我画水彩猫，要有步骤表和公式 <b>谢谢</b> 🎨",
                uploads=[_upload("rich-ref", "reference cat.webp", "webp", 300, 200, 31)],
            ),
            answer,
            Turn("user", "改成三步，并给出一句总结 ✍️"),
            Turn("assistant", "1. 打稿\n2. 铺色\n3. 细化\n\n**总结**：先湿后干，留白最重要。"),
        ],
        hidden=[
            Turn("user", "旧问题：能画成油画吗？（这一版已被编辑）"),
            Turn("assistant", "旧回答：可以，但这是被替换的分支。"),
        ],
    )


def share() -> ShareConversation:
    return ShareConversation(
        "share",
        "s7k2xq9shareabc01",
        "分享：机器人咖啡师 ☕🤖",
        [
            Turn("user", "Show me a robot barista making latte art ☕🤖"),
            Turn(
                "assistant",
                "Here it is — *latte art* by a robot:",
                images=[_gen("robot barista latte art, cinematic", "jpeg", 320, 320, 88)],
            ),
        ],
    )


def markdown_of(turn: Turn) -> str:
    """The text the page's data holds for a turn (the prompt, or the answer's Markdown)."""
    return _markdown(turn)
