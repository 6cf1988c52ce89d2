"""``conversation.html``: one self-contained page that looks like the conversation and outlives
the site.

It opens from disk with no network: the style is inline, every image comes from ``images/`` next
to it, and a Content-Security-Policy in the page itself forbids everything else (no script at
all, no fonts, frames or requests; images only from the page's own folder). Text from the page
was rendered by ``markdown.render`` (raw HTML escaped); prompts are escaped plain text. Images
load eagerly: they come from disk, and a page that is printed or saved as PDF must have them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from dsexport.export.layout import Layout, context_for, leftover_images
from dsexport.export.markdown import escape, href, plain, render
from dsexport.export.model import Conversation, ExportOptions, ImageRef, Turn, label

CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
"""No script, no connections, no fonts or frames; images from the page's own folder only."""

_STYLE = """
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6b6b76; --bg: #fff; --bubble: #eff6ff;
  --line: #e5e5ea; --code: #f6f7f9; --accent: #4d6bfe; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8ed; --muted: #9a9aa5; --bg: #16161a;
  --bubble: #233045; --line: #33333a; --code: #202027; --accent: #8ea2ff; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.65 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header.conversation { border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; }
header.conversation h1 { font-size: 1.5rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
header.conversation p { color: var(--muted); font-size: .875rem; margin: 0 0 1rem;
  overflow-wrap: anywhere; }
a { color: var(--accent); }
.turn { margin: 0 0 2rem; }
.turn > .who { color: var(--muted); font-size: .8125rem; margin-bottom: .35rem; }
.turn.user { display: flex; flex-direction: column; align-items: flex-end; }
.turn.user .prompt { background: var(--bubble); border-radius: 1.1rem; padding: .6rem 1rem;
  max-width: 85%; white-space: pre-wrap; overflow-wrap: anywhere; }
.md { overflow-wrap: anywhere; }
.md img, .gallery img { max-width: 100%; height: auto; border-radius: .5rem; }
.gallery { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
.turn.user .gallery { justify-content: flex-end; }
.gallery img { max-height: 16rem; }
figure { margin: 1rem 0; }
figure.code { border: 1px solid var(--line); border-radius: .5rem; overflow: hidden; }
figure.code figcaption { font: .75rem ui-monospace, monospace; color: var(--muted);
  padding: .3rem .75rem; border-bottom: 1px solid var(--line); background: var(--code); }
pre { margin: 0; padding: .75rem; overflow-x: auto; background: var(--code);
  font: .875rem/1.5 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em;
  background: var(--code); padding: .1em .3em; border-radius: .25em; }
pre code { background: none; padding: 0; }
pre.math, code.math { white-space: pre-wrap; }
figure.diagram img { background: #fff; padding: .5rem; border-radius: .5rem; }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 1rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .7rem; text-align: left; }
blockquote { margin: 1rem 0; padding: 0 1rem; border-left: 3px solid var(--line);
  color: var(--muted); }
details.reasoning { margin: 0 0 1rem; color: var(--muted); border-left: 3px solid var(--line);
  padding-left: 1rem; }
details.reasoning summary, details.sources summary { cursor: pointer; font-size: .875rem; }
details.sources { font-size: .875rem; margin-top: .75rem; }
details.sources li { margin-bottom: .35rem; }
details.sources .snippet { color: var(--muted); display: block; }
sup.cite { font-size: .7em; margin-left: .1em; }
.chip { display: inline-block; border: 1px solid var(--line); border-radius: .5rem;
  padding: .25rem .6rem; font-size: .8125rem; }
.image-link { font-size: .875rem; }
.status { color: var(--muted); font-size: .8125rem; }
"""


def _time(iso: str | None) -> str:
    if not iso:
        return ""
    shown = iso.replace("T", " ")[:16] + " UTC"
    return f' · <time datetime="{escape(iso)}">{escape(shown)}</time>'


def _image(ref: ImageRef, name: str | None, options: ExportOptions) -> str:
    alt = ref.alt or ref.file_name or ""
    if name is not None:
        return f'<img src="{escape(href(name))}" alt="{escape(alt)}">'
    text = escape(label(options, "image_missing"))
    detail = escape(ref.file_name or ref.alt or "")
    shown = f"🖼 {text}: {detail}" if detail else f"🖼 {text}"
    if ref.url:
        title = f' title="{escape(ref.error)}"' if ref.error else ""
        return (
            f'<a class="image-link" href="{escape(ref.url)}" rel="noopener noreferrer"{title}>'
            f"{shown}</a>"
        )
    return f'<span class="image-link">{shown}</span>'


def _gallery(items: Iterable[tuple[ImageRef, str | None]], options: ExportOptions) -> str:
    html = "".join(_image(ref, name, options) for ref, name in items)
    return f'<div class="gallery">{html}</div>' if html else ""


def _files(turn: Turn) -> str:
    shown = {ref.file_name for ref in turn.images if ref.file_name}
    chips = [
        f'<span class="chip">📎 {escape(f.name)}</span>' for f in turn.files if f.name not in shown
    ]
    return f'<div class="gallery">{"".join(chips)}</div>' if chips else ""


def _sources(turn: Turn, options: ExportOptions) -> str:
    if not options.sources or not turn.sources:
        return ""
    items = []
    for source in sorted(turn.sources, key=lambda s: s.index):
        title = escape(source.title or source.url or "")
        link = (
            f'<a href="{escape(source.url)}" rel="noopener noreferrer">{title}</a>'
            if source.url
            else title
        )
        site = f" · {escape(source.site)}" if source.site else ""
        snippet = f'<span class="snippet">{escape(source.snippet)}</span>' if source.snippet else ""
        items.append(f'<li value="{source.index}">{link}{site}{snippet}</li>')
    heading = f"{escape(label(options, 'sources'))} ({len(turn.sources)})"
    return (
        f'<details class="sources"><summary>{heading}</summary><ol>{"".join(items)}</ol></details>'
    )


def turn_html(turn: Turn, number: int, layout: Layout, options: ExportOptions) -> str:
    who = escape(label(options, turn.role))
    model = f" · {escape(turn.model)}" if turn.model and turn.role == "assistant" else ""
    head = f'<div class="who">{who}{model}{_time(turn.time)}</div>'
    if turn.role == "user":
        uploads = _gallery(leftover_images(turn, layout, set()), options)
        prompt = f'<div class="prompt">{plain(turn.text)}</div>' if turn.text else ""
        body = f"{head}{uploads}{_files(turn)}{prompt}"
    else:
        reasoning = ""
        if options.reasoning and turn.reasoning:
            summary = label(options, "reasoning")
            if turn.reasoning_seconds is not None:
                summary = label(options, "reasoning_seconds", f"{turn.reasoning_seconds:g}")
            reasoning = (
                f'<details class="reasoning"><summary>{escape(summary)}</summary>'
                f'<div class="md">{render(turn.reasoning)}</div></details>'
            )
        ctx = context_for(
            turn, layout, sources=options.sources, missing_label=label(options, "image_missing")
        )
        answer = f'<div class="md">{render(turn.text, ctx)}</div>' if turn.text else ""
        rest = _gallery(leftover_images(turn, layout, ctx.used, ctx.linked), options)
        status = (
            f'<p class="status">{escape(turn.status)}</p>'
            if turn.status and turn.status.upper() not in ("FINISHED", "")
            else ""
        )
        body = f"{head}{reasoning}{answer}{rest}{status}{_sources(turn, options)}"
    return f'<article class="turn {turn.role}" id="turn-{number}">{body}</article>\n'


def pieces(
    conversation: Conversation,
    turns: Callable[[], Iterator[Turn]],
    layout: Layout,
    options: ExportOptions,
    *,
    exported_at: str,
    turn_count: int,
) -> Iterator[str]:
    """The page as a stream of strings, one turn at a time (constant memory)."""
    title = conversation.title or conversation.id or "DeepSeek"
    facts = []
    if conversation.url:
        facts.append(
            f'<a href="{escape(conversation.url)}" rel="noopener noreferrer">'
            f"{escape(conversation.url)}</a>"
        )
    if conversation.model:
        facts.append(escape(conversation.model))
    facts.append(f"{turn_count} {escape(label(options, 'turns'))}")
    facts.append(
        f"{escape(label(options, 'exported'))} {escape(exported_at.replace('T', ' ')[:16])}"
    )
    yield (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="dsexport">\n<title>{escape(title)}</title>\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'<header class="conversation"><h1>{escape(title)}</h1>'
        f"<p>{' · '.join(facts)}</p></header>\n"
    )
    for number, turn in enumerate(turns(), 1):
        yield turn_html(turn, number, layout, options)
    yield "</main>\n</body>\n</html>\n"
