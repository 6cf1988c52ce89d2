"""``conversation.md``: the conversation as CommonMark, images as relative links into ``images/``.

Answers are already Markdown and are kept as DeepSeek wrote them, with two rewrites outside code:
a Markdown image whose URL "Save all" saved now points at its file, and a citation marker
(``[citation:2]``) becomes a link to its source (``[[2]](https://…)``). Prompts are plain text:
``<`` and ``&`` are backslash-escaped so a prompt cannot become raw HTML in a viewer, and line
breaks are kept as hard breaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from dsexport.export.layout import Layout, context_for, leftover_images
from dsexport.export.markdown import canonical_url, href
from dsexport.export.model import Conversation, ExportOptions, ImageRef, Turn, label

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_IMAGE = re.compile(r"(!\[[^\]\n]*\]\(\s*<?)([^)\s>]+)(>?(?:\s+\"[^\"\n]*\")?\s*\))")
_CITATION = re.compile(r"\[(?:citation|reference):(\d{1,5})\]")


def _outside_code(text: str, rewrite: Callable[[str], str]) -> str:
    """Apply ``rewrite`` to the lines of ``text`` that are not inside fenced code blocks."""
    out: list[str] = []
    fence: str | None = None
    chunk: list[str] = []
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            if chunk:
                out.append(rewrite("\n".join(chunk)))
            chunk = []
            fence = match.group(1)[0] * len(match.group(1))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        else:
            chunk.append(line)
    if chunk:
        out.append(rewrite("\n".join(chunk)))
    return "\n".join(out)


def _answer(
    turn: Turn, layout: Layout, options: ExportOptions, used: set[str], linked: set[str]
) -> str:
    ctx = context_for(turn, layout, sources=options.sources)

    def images(match: re.Match) -> str:
        name = ctx.images.get(canonical_url(match.group(2)))
        if name is None:
            linked.add(canonical_url(match.group(2)))
            return match.group(0)
        used.add(name)
        return f"{match.group(1)}{href(name)}{match.group(3)}"

    def cite(match: re.Match) -> str:
        n = int(match.group(1))
        source = ctx.sources.get(n)
        if source is not None and source.url:
            return f"[[{n}]]({_destination(source.url)})"
        return f"\\[{n}\\]"

    def rewrite(chunk: str) -> str:
        return _CITATION.sub(cite, _IMAGE.sub(images, chunk))

    for name in ctx.diagrams:  # a diagram's code block stays; its SVG follows the text
        used.discard(name)
    return _outside_code(turn.text, rewrite)


def _destination(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _prompt(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("<", "\\<").replace("&", "\\&")
    lines = escaped.split("\n")
    return "\n".join(
        line + ("  " if i < len(lines) - 1 and line else "") for i, line in enumerate(lines)
    )


def _alt(text: str) -> str:
    return re.sub(r"[\[\]\\\n]", " ", text).strip()


def _image(ref: ImageRef, name: str | None, options: ExportOptions) -> str:
    alt = _alt(ref.alt or ref.file_name or "")
    if name is not None:
        return f"![{alt}]({href(name)})"
    shown = f"🖼 {label(options, 'image_missing')}" + (f": {alt}" if alt else "")
    return f"[{shown}]({_destination(ref.url)})" if ref.url else shown


def turn_markdown(turn: Turn, layout: Layout, options: ExportOptions) -> str:
    head = label(options, turn.role)
    if turn.model and turn.role == "assistant":
        head += f" · {turn.model}"
    if turn.time:
        head += f" · {turn.time.replace('T', ' ')[:16]} UTC"
    parts = [f"### {head}"]
    if turn.role == "user":
        parts += [_image(ref, name, options) for ref, name in leftover_images(turn, layout, set())]
        shown = {ref.file_name for ref in turn.images if ref.file_name}
        parts += [f"📎 {f.name}" for f in turn.files if f.name not in shown]
        if turn.text:
            parts.append(_prompt(turn.text))
        return "\n\n".join(parts) + "\n"
    if options.reasoning and turn.reasoning:
        title = label(options, "reasoning")
        if turn.reasoning_seconds is not None:
            title = label(options, "reasoning_seconds", f"{turn.reasoning_seconds:g}")
        quoted = "\n".join(f"> {line}" if line else ">" for line in turn.reasoning.split("\n"))
        parts.append(f"> **{title}**\n>\n{quoted}")
    used: set[str] = set()
    linked: set[str] = set()
    if turn.text:
        parts.append(_answer(turn, layout, options, used, linked))
    rest = leftover_images(turn, layout, used, linked)
    parts += [_image(ref, name, options) for ref, name in rest]
    if options.sources and turn.sources:
        lines = [f"**{label(options, 'sources')}**", ""]
        for source in sorted(turn.sources, key=lambda s: s.index):
            title = _alt(source.title or source.url or "")
            entry = f"[{title}]({_destination(source.url)})" if source.url else title
            site = f" · {source.site}" if source.site else ""
            lines.append(f"{source.index}. {entry}{site}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def pieces(
    conversation: Conversation,
    turns: Callable[[], Iterator[Turn]],
    layout: Layout,
    options: ExportOptions,
    *,
    exported_at: str,
    turn_count: int,
) -> Iterator[str]:
    title = conversation.title or conversation.id or "DeepSeek"
    facts = []
    if conversation.url:
        facts.append(f"<{conversation.url}>")
    if conversation.model:
        facts.append(conversation.model)
    facts.append(f"{turn_count} {label(options, 'turns')}")
    facts.append(f"{label(options, 'exported')} {exported_at}")
    yield f"# {_alt(title)}\n\n" + "\n".join(f"- {fact}" for fact in facts) + "\n"
    for turn in turns():
        yield "\n---\n\n" + turn_markdown(turn, layout, options)
