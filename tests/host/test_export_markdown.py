"""The archive's Markdown → HTML (``dsexport.export.markdown``) and the page built from it: every
kind of fragment DeepSeek's answers hold, CJK and emoji, code and tables, and hostile input."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from dsexport.export.layout import Layout, Member
from dsexport.export.markdown import RenderContext, render
from dsexport.export.model import ExportOptions, Source, options_from_dict, turn_from_dict
from dsexport.export.page import CSP, pieces, turn_html


class Elements(HTMLParser):
    """Every start tag with its attributes, to check what a browser would build."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_headings_lists_emphasis_and_blockquotes_render_as_commonmark():
    out = render("# 标题\n\n- 一\n- **二**\n\n1. first\n2. *second*\n\n> 引用 ~~旧~~")
    assert "<h1>标题</h1>" in out
    assert "<ul>\n<li>一</li>\n<li><strong>二</strong></li>\n</ul>" in out
    assert "<ol>\n<li>first</li>\n<li><em>second</em></li>\n</ol>" in out
    assert "<blockquote>\n<p>引用 <s>旧</s></p>\n</blockquote>" in out


def test_tables_keep_their_cells_cjk_and_emoji():
    out = render("| 名字 | 表情 |\n|:---|---:|\n| 猫 | 🐱🧣 |\n| 家庭 👨‍👩‍👧 | 🇨🇳 |")
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", out)
    assert cells == ["名字", "表情", "猫", "🐱🧣", "家庭 👨‍👩‍👧", "🇨🇳"]
    assert '<th style="text-align:left">' in out and '<td style="text-align:right">' in out


def test_code_blocks_keep_their_language_and_text_exactly():
    code = 'print("<b>猫</b> & 🐱")\nif a < b:\n    pass'
    out = render(f"```python\n{code}\n```\n\n```\nplain\n```\n\n    indented <x>")
    assert "<figcaption>python</figcaption>" in out
    assert '<code class="language-python">' in out
    shown = re.search(r'<code class="language-python">(.*?)</code>', out, re.S).group(1)
    assert html.unescape(shown) == code + "\n"
    assert "<pre><code>plain\n</code></pre>" in out
    assert "indented &lt;x&gt;" in out


def test_a_hostile_language_label_cannot_break_out_of_the_attribute():
    out = render('```"><script>alert(1)</script>\nx\n```')
    assert "<script" not in out
    tags = Elements(out)
    assert [a.get("class") for a in tags.all("code")] == ["language-scriptalert1script"]


def test_math_stays_as_its_tex_source():
    out = render(
        "面积 \\(\\pi r^2\\) 与 $E=mc^2$，价格 $5 和 $10。\n\n$$\n\\int_0^1 x\\,dx\n$$\n\n\\[a_b\\]"
    )
    assert '<code class="math">\\pi r^2</code>' in out
    assert '<code class="math">E=mc^2</code>' in out
    assert "价格 $5 和 $10" in out  # dollars in prose are not math
    assert '<pre class="math">\\int_0^1 x\\,dx</pre>' in out
    assert '<pre class="math">a_b</pre>' in out


def test_citations_link_to_their_sources():
    sources = {2: Source(2, "https://example.com/a?x=1&y=2", "Ex <title>", None)}
    out = render("据报道[citation:2]，另见[reference:9]。", RenderContext(sources=sources))
    tags = Elements(out)
    assert tags.all("a") == [
        {
            "href": "https://example.com/a?x=1&y=2",
            "rel": "noopener noreferrer",
            "title": "Ex <title>",
        }
    ]
    assert '<sup class="cite">9</sup>' in out  # unknown source: the number, no link


def test_links_get_noopener_and_only_web_links_survive():
    out = render(
        "[ok](https://e.com/猫) [mail](mailto:a@b.c) [js](javascript:alert(1)) "
        "[data](data:text/html,<script>x</script>) [vb](vbscript:x) [file](file:///etc/passwd) "
        "<https://auto.example/> [rel](../../etc/passwd)"
    )
    links = Elements(out).all("a")
    assert [a["href"] for a in links] == [
        "https://e.com/%E7%8C%AB",
        "mailto:a@b.c",
        "https://auto.example/",
    ]
    assert all(a["rel"] == "noopener noreferrer" for a in links)


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{background:url(https://evil.example/t)}</style>",
        '<svg onload="alert(1)"><use href="https://evil.example/#x"/></svg>',
        "<!-- comment --><meta http-equiv=refresh content='0;url=https://evil.example'>",
        "<details open ontoggle=alert(1)>",
    ],
)
def test_raw_html_in_an_answer_is_shown_as_text(hostile):
    out = render(f"before\n\n{hostile}\n\nafter `{hostile}` and <b>inline</b>")
    tags = {name for name, _ in Elements(out).tags}
    assert tags <= {"p", "code"}, tags
    assert hostile in html.unescape(out)


def test_images_show_only_from_the_archive():
    ctx = RenderContext(images={"https://img.example/猫 1.png": "images/猫 1.png"})
    out = render(
        "![猫](https://img.example/%E7%8C%AB%201.png#frag) ![far](https://evil.example/t.png)",
        ctx,
    )
    imgs = Elements(out).all("img")
    assert [i["src"] for i in imgs] == ["images/%E7%8C%AB%201.png"]
    assert ctx.used == {"images/猫 1.png"}
    assert ctx.linked == {"https://evil.example/t.png"}
    assert '<a class="image-link" href="https://evil.example/t.png"' in out


def test_a_diagram_block_shows_its_saved_svg_and_keeps_its_source():
    ctx = RenderContext(diagrams=["images/flow.svg"])
    out = render("```mermaid\nflowchart LR\n  草图 --> 上色\n```\n\n```mermaid\nA-->B\n```", ctx)
    assert out.count('<img src="images/flow.svg"') == 1  # one saved diagram, one image
    assert "<summary>mermaid</summary>" in out and "草图 --&gt; 上色" in out
    assert '<figcaption>mermaid</figcaption><pre><code class="language-mermaid">A--&gt;B' in out


def _layout(*members: Member) -> Layout:
    layout = Layout()
    for m in members:
        layout.members[m.path] = m
    return layout


def test_every_fragment_kind_of_a_turn_reaches_the_page():
    user = turn_from_dict(
        {
            "role": "user",
            "text": "看图 <script>x</script>\n第二行 🐱",
            "time": 1789300000.5,
            "files": [{"name": "report.pdf", "size": 1200, "is_image": False}],
            "images": [{"kind": "uploaded", "path": "/o/cat.png", "file_name": "cat.png"}],
        }
    )
    answer = turn_from_dict(
        {
            "role": "assistant",
            "text": "答案[citation:1]\n\n![gen](https://g.example/x.png)\n\n```mermaid\nA-->B\n```",
            "model": "deepseek-chat",
            "reasoning": "先想一想 **粗体**",
            "reasoning_seconds": 4.2,
            "sources": [{"index": 1, "url": "https://s.example/1", "title": "来源一", "site": "S"}],
            "images": [
                {"kind": "generated", "path": "/o/gen.jpg", "url": "https://g.example/x.png"},
                {"kind": "diagram", "path": "/o/flow.svg"},
                {"kind": "generated", "url": "https://g.example/broken.png", "error": "HTTP 404"},
            ],
            "status": "INCOMPLETE",
        }
    )
    layout = _layout(
        Member("/o/cat.png", "images/cat.png"),
        Member("/o/gen.jpg", "images/gen.jpg"),
        Member("/o/flow.svg", "images/flow.svg"),
    )
    options = ExportOptions()
    page = turn_html(user, 1, layout, options) + turn_html(answer, 2, layout, options)
    tags = Elements(page)
    assert [i["src"] for i in tags.all("img")] == [
        "images/cat.png",
        "images/gen.jpg",
        "images/flow.svg",
    ]
    assert '<div class="prompt">看图 &lt;script&gt;x&lt;/script&gt;\n第二行 🐱</div>' in page
    assert "📎 report.pdf" in page
    assert '<details class="reasoning"><summary>Thought for 4.2 s</summary>' in page
    assert "<strong>粗体</strong>" in page
    assert '<details class="sources"><summary>Sources (1)</summary>' in page
    assert "来源一" in page and "https://s.example/1" in page
    assert "Image not saved" in page and "https://g.example/broken.png" in page
    assert '<p class="status">INCOMPLETE</p>' in page
    assert '<time datetime="2026-09-13T11:46:40+00:00">' in page
    assert "deepseek-chat" in page
    assert not tags.all("script")


def test_reasoning_and_sources_can_be_left_out():
    answer = turn_from_dict(
        {
            "role": "assistant",
            "text": "答案[citation:1]",
            "reasoning": "SECRET THOUGHTS",
            "sources": [{"index": 1, "url": "https://s.example/1", "title": "来源一"}],
        }
    )
    options = options_from_dict({"reasoning": False, "sources": False})
    page = turn_html(answer, 1, Layout(), options)
    assert "SECRET THOUGHTS" not in page and "s.example" not in page
    assert '<sup class="cite">1</sup>' in page


def test_labels_come_from_the_extension():
    options = options_from_dict(
        {"labels": {"user": "你", "reasoning_seconds": "已深度思考（用时 $1 秒）", "bogus": "x"}}
    )
    assert options.labels == {"user": "你", "reasoning_seconds": "已深度思考（用时 $1 秒）"}
    user = turn_from_dict({"role": "user", "text": "你好"})
    answer = turn_from_dict(
        {"role": "assistant", "text": "好", "reasoning": "想", "reasoning_seconds": 3}
    )
    page = turn_html(user, 1, Layout(), options) + turn_html(answer, 2, Layout(), options)
    assert '<div class="who">你</div>' in page and "已深度思考（用时 3 秒）" in page


def test_the_page_has_a_strict_policy_and_no_script():
    turns = [turn_from_dict({"role": "user", "text": "hi"})]
    page = "".join(
        pieces(
            __import__("dsexport.export.model", fromlist=["Conversation"]).Conversation(
                title="<b>猫</b>", url="https://chat.deepseek.com/a/chat/s/x"
            ),
            lambda: iter(turns),
            Layout(),
            ExportOptions(),
            exported_at="2026-11-25T09:14:03+00:00",
            turn_count=1,
        )
    )
    tags = Elements(page)
    metas = {m.get("http-equiv"): m.get("content") for m in tags.all("meta")}
    assert metas["Content-Security-Policy"] == CSP
    assert "default-src 'none'" in CSP and "script-src" not in CSP
    assert not tags.all("script") and not tags.all("link") and not tags.all("iframe")
    assert "<title>&lt;b&gt;猫&lt;/b&gt;</title>" in page
