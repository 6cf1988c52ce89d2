"""DeepSeek's Markdown → HTML for the archive's page, with markdown-it-py (CommonMark + tables and
strikethrough, as the chat renders them).

Everything in the text is untrusted, so the renderer is configured, not trusted to be kind:

* raw HTML is off (``html=False``): ``<script>`` in an answer shows as the text ``<script>``;
* links are kept only for http, https and mailto, and carry ``rel="noopener noreferrer"``;
* an image is shown only from the archive's ``images/`` folder: a Markdown image whose URL is one
  "Save all" saved points at that file; any other becomes a link (the page makes no request);
* code blocks keep their language as a label; a Mermaid (or other diagram) block is shown as the
  diagram's saved SVG through ``<img>`` (no script can run in an image), its source folded below;
* math (``\\(…\\)``, ``\\[…\\]``, ``$$…$$``, ``$…$``) is kept as its TeX source, not
  interpreted by Markdown (``\\(`` is not an escaped parenthesis there);
* citations (``[citation:3]``, ``[reference:3]``) become superscript links to the web source.

Example::

    html = render("**Hi** [citation:1]", RenderContext(sources={1: source}))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, unquote

from dsexport.export.model import Source

DIAGRAM_LANGUAGES = frozenset(
    {"mermaid", "graphviz", "dot", "plantuml", "flowchart", "sequence", "gantt"}
)
"""Fenced code whose rendered form is a diagram (the page adapter's list, less ``svg``)."""

_ALLOWED_LINK = re.compile(r"(?:https?:|mailto:)", re.I)
_CITATION = re.compile(r"\[(?:citation|reference):(\d{1,5})\]")
_LANG = re.compile(r"[^A-Za-z0-9_+#.-]")


@dataclass
class RenderContext:
    """What one turn's text may point at: its saved images and its web sources."""

    images: Mapping[str, str] = field(default_factory=dict)
    """Canonical source URL (``canonical_url``) → archive path (``images/cat.png``)."""
    diagrams: list[str] = field(default_factory=list)
    """Archive paths of the turn's saved diagrams, in the order their code blocks appear."""
    sources: Mapping[int, Source] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    """Filled while rendering: archive paths shown inline (the rest go below the text)."""
    missing: Mapping[str, str] = field(default_factory=dict)
    """Canonical URL → why the image was not saved, for images "Save all" could not save."""
    missing_label: str = "Image not saved"
    linked: set[str] = field(default_factory=set)
    """Filled while rendering: canonical URLs of images shown as links (not saved)."""


def canonical_url(url: str) -> str:
    """The form two spellings of one URL share: percent-decoded, without its fragment."""
    return unquote(url.split("#", 1)[0]).strip()


def href(archive_path: str) -> str:
    """A relative URL for an archive member: ``images/猫 #1.png`` → ``images/%E7%8C%AB%20%231.png``
    (each segment percent-encoded, so ``#``, ``?``, spaces and non-ASCII keep their meaning)."""
    return "/".join(quote(part, safe="") for part in archive_path.split("/"))


def escape(text: str) -> str:
    from markdown_it.common.utils import escapeHtml

    return escapeHtml(text)


# --- math and citations: rules markdown-it does not have ---------------------------------------

_INLINE_MATH = (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"))


def _math_inline(state, silent: bool) -> bool:
    src, pos = state.src, state.pos
    for opening, closing in _INLINE_MATH:
        if src.startswith(opening, pos):
            end = src.find(closing, pos + len(opening))
            if end < 0 or end == pos + len(opening):
                return False
            if not silent:
                token = state.push("math_inline", "code", 0)
                token.content = src[pos + len(opening) : end]
                token.markup = opening
            state.pos = end + len(closing)
            return True
    if src[pos] != "$":
        return False
    # $…$ only as Pandoc reads it: no space inside the dollars, no digit right after the closing
    # one, so "costs $5 and $10" stays prose.
    end = pos + 1
    while True:
        end = src.find("$", end)
        if end < 0:
            return False
        if src[end - 1] != "\\":
            break
        end += 1
    body = src[pos + 1 : end]
    if not body or body[0].isspace() or body[-1].isspace() or "\n\n" in body:
        return False
    if end + 1 < len(src) and src[end + 1].isdigit():
        return False
    if not silent:
        token = state.push("math_inline", "code", 0)
        token.content = body
        token.markup = "$"
    state.pos = end + 1
    return True


def _math_block(state, start_line: int, end_line: int, silent: bool) -> bool:
    begin = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[begin : state.eMarks[start_line]]
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    for opening, closing in (("$$", "$$"), ("\\[", "\\]")):
        if not line.startswith(opening):
            continue
        rest = line[len(opening) :]
        if closing in rest:  # one line: $$ x $$
            body, after = rest.split(closing, 1)
            if after.strip():
                return False
            last = start_line
        else:
            body_lines = [rest]
            last = start_line + 1
            while last < end_line:
                text = state.src[state.bMarks[last] + state.tShift[last] : state.eMarks[last]]
                if text.rstrip().endswith(closing):
                    body_lines.append(text.rstrip()[: -len(closing)])
                    break
                body_lines.append(state.src[state.bMarks[last] : state.eMarks[last]])
                last += 1
            else:
                return False
            body = "\n".join(body_lines)
        if silent:
            return True
        token = state.push("math_block", "pre", 0)
        token.content = body.strip("\n")
        token.markup = opening
        token.map = [start_line, last + 1]
        state.line = last + 1
        return True
    return False


def _citation(state, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    match = _CITATION.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("citation", "sup", 0)
        token.meta = {"index": int(match.group(1))}
    state.pos = match.end()
    return True


# --- rendering ---------------------------------------------------------------------------------


def _ctx(env) -> RenderContext:
    return env.get("ctx") or RenderContext()


def _render_link_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    token.attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


def _render_image(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    ctx = _ctx(env)
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env)
    local = ctx.images.get(canonical_url(src))
    if local is not None:
        ctx.used.add(local)
        return f'<img src="{escape(href(local))}" alt="{escape(alt)}">'
    key = canonical_url(src)
    ctx.linked.add(key)
    text = alt or src
    title = ""
    if key in ctx.missing:
        text = f"{ctx.missing_label}: {text}"
        title = f' title="{escape(ctx.missing[key])}"' if ctx.missing[key] else ""
    return (
        f'<a class="image-link" href="{escape(src)}" rel="noopener noreferrer"{title}>'
        f"🖼 {escape(text)}</a>"
    )


def _render_fence(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    info = token.info.strip()
    lang = info.split(maxsplit=1)[0] if info else ""
    code = escape(token.content)
    label = escape(lang)
    css = _LANG.sub("", lang)[:40]
    block = (
        f'<pre><code class="language-{css}">{code}</code></pre>'
        if css
        else f"<pre><code>{code}</code></pre>"
    )
    ctx = _ctx(env)
    if lang.lower() in DIAGRAM_LANGUAGES and ctx.diagrams:
        local = ctx.diagrams.pop(0)
        ctx.used.add(local)
        return (
            f'<figure class="diagram"><img src="{escape(href(local))}" alt="{label} diagram">'
            f"<details><summary>{label}</summary>{block}</details></figure>\n"
        )
    caption = f"<figcaption>{label}</figcaption>" if label else ""
    return f'<figure class="code">{caption}{block}</figure>\n'


def _render_code_block(self, tokens, idx, options, env) -> str:
    return f'<figure class="code"><pre><code>{escape(tokens[idx].content)}</code></pre></figure>\n'


def _render_math_inline(self, tokens, idx, options, env) -> str:
    return f'<code class="math">{escape(tokens[idx].content)}</code>'


def _render_math_block(self, tokens, idx, options, env) -> str:
    return f'<pre class="math">{escape(tokens[idx].content)}</pre>\n'


def _render_citation(self, tokens, idx, options, env) -> str:
    n = tokens[idx].meta["index"]
    source = _ctx(env).sources.get(n)
    if source is not None and source.url:
        title = f' title="{escape(source.title)}"' if source.title else ""
        return (
            f'<sup class="cite"><a href="{escape(source.url)}" rel="noopener noreferrer"{title}>'
            f"{n}</a></sup>"
        )
    return f'<sup class="cite">{n}</sup>'


def _validate_link(url: str) -> bool:
    return bool(_ALLOWED_LINK.match(url.strip()))


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = _validate_link
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.inline.ruler.before("link", "citation", _citation)
    md.block.ruler.before(
        "fence", "math_block", _math_block, {"alt": ["paragraph", "reference", "blockquote"]}
    )
    renderers: dict[str, Callable] = {
        "link_open": _render_link_open,
        "image": _render_image,
        "fence": _render_fence,
        "code_block": _render_code_block,
        "math_inline": _render_math_inline,
        "math_block": _render_math_block,
        "citation": _render_citation,
    }
    for name, fn in renderers.items():
        md.add_render_rule(name, fn)
    return md


def render(text: str, ctx: RenderContext | None = None) -> str:
    """Markdown → an HTML fragment safe to put inside the archive's page."""
    return _markdown().render(text, {"ctx": ctx or RenderContext()})


def plain(text: str) -> str:
    """A prompt as typed (DeepSeek shows prompts as plain text): escaped, line breaks kept."""
    return escape(text)


def citations(text: str) -> Iterator[int]:
    """The source numbers ``text`` cites, in order of first appearance."""
    seen: set[int] = set()
    for match in _CITATION.finditer(text):
        n = int(match.group(1))
        if n not in seen:
            seen.add(n)
            yield n
