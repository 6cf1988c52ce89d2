"""Name templates, and file names that are safe on Windows, macOS and Linux at once.

``render("{date}/{datetime}_{prompt:40}_{hash:8}", meta, sha256=…, ext="png", now=…)`` gives e.g.
``2026-11-25/20261125-091403_a cat in a red scarf_1a2b3c4d.png``: a relative, ``/``-separated
path that ``storage.write_new`` joins under the output folder.

Template fields (``{{`` and ``}}`` are literal braces; ``/`` in the template makes a subfolder):

==================  =====================================================================
``{date}``          ``2026-11-25`` (the save time)
``{time}``          ``091403``
``{datetime}``      ``20261125-091403``
``{prompt}``        the prompt; ``{prompt:40}`` keeps the first 40 characters, whole words
                    where the text has spaces
``{seed}``          the seed, or ``noseed``
``{model}``         the model, or ``nomodel``
``{conversation}``  the conversation title, else its id, else ``no-conversation``
``{conversation_id}``  the conversation id, or ``no-conversation``
``{index}``         position in a batch; ``{index:3}`` pads to ``001``; empty when unknown
``{hash}``          the SHA-256 of the original bytes; ``{hash:8}`` keeps 8 hex digits
``{origin}``        ``generated``, ``uploaded`` or ``diagram``
``{filename}``      an upload's own file name without its extension (``IMG_2041``);
                    ``{filename:N}`` keeps N characters; empty for images that have none
==================  =====================================================================

A value cut to a length never ends in the punctuation or space the cut left behind
(``a cat wearing a red scarf,`` → ``a cat wearing a red scarf``).

The extension is never a field: it always comes from the format actually written.

What every component of the result satisfies (``is_safe_component`` checks it):

* Unicode NFC; no control characters, lone surrogates or bidirectional overrides;
* none of ``< > : " / \\ | ? *`` (so no NTFS ``name:stream``), and no look-alike slashes
  (U+2215, U+2044, U+FF0F, U+29F8, U+FE68, U+FF3C, …) that a later NFKC step or a human could
  read as a separator;
* whitespace runs become one space (we keep spaces rather than underscores: prompts stay
  readable, and every OS accepts them); no leading or trailing spaces, no trailing dots, no
  leading dots (no hidden files, and ``.``/``..`` cannot occur);
* not a Windows device name (``CON``, ``nul.txt``, ``COM1``, ``COM¹``, ``LPT9.tar.gz``, …);
  such names get a leading ``_``;
* at most 255 UTF-8 bytes and 255 UTF-16 units (measured on the NFD form too, which is what
  HFS+ stores); the file name leaves ``SUFFIX_RESERVE`` bytes for ``" (2)"``-style collision
  suffixes;
* the whole relative path stays under ``MAX_PATH_BYTES``.

Truncation cuts between characters, backing off so that combining marks, emoji ZWJ
sequences, skin-tone modifiers, variation selectors and flag pairs are not split.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from dsexport.errors import BadConfig, BadRequest
from dsexport.model import Metadata

DEFAULT_TEMPLATE = "{date}/{datetime}_{prompt:40}_{hash:8}"

MAX_COMPONENT_BYTES = 255
"""Every common file system's limit for one name (ext4, APFS, NTFS in UTF-16 units)."""

SUFFIX_RESERVE = 12
"""Room kept in a file name for ``storage``'s collision suffix, e.g. ``" (12345)"``."""

MAX_PATH_BYTES = 1000
"""Bound on the relative path, so ``output_dir`` + name stays under Linux's 4096-byte PATH_MAX
and far from Windows' 32,767 units with long paths enabled."""

MAX_TEMPLATE_CHARS = 1000
MAX_COMPONENTS = 16
"""A template may nest this many folders; a deeper one is almost certainly a mistake."""

MAX_FIELD_CHARS = 255
"""No field value can use more than this many characters in one name anyway; cutting early keeps
rendering linear in the template, not in a 100 KB prompt."""

FIELDS: dict[str, str] = {
    "date": "save date, YYYY-MM-DD",
    "time": "save time, HHMMSS",
    "datetime": "YYYYMMDD-HHMMSS",
    "prompt": "the prompt; {prompt:N} keeps the first N characters",
    "seed": "the seed",
    "model": "the model name",
    "conversation": "conversation title (else id)",
    "conversation_id": "conversation id",
    "index": "position in a batch; {index:N} zero-pads to N digits",
    "hash": "SHA-256 of the original bytes; {hash:N} keeps N hex digits",
    "origin": "generated, uploaded or diagram",
    "filename": "an upload's own file name, without its extension",
}

#: Fields that take ``:N`` and the largest N that makes sense.
_WIDTH_LIMITS: dict[str, int] = {
    "prompt": MAX_FIELD_CHARS,
    "model": MAX_FIELD_CHARS,
    "conversation": MAX_FIELD_CHARS,
    "conversation_id": MAX_FIELD_CHARS,
    "index": 12,
    "hash": 64,
    "filename": MAX_FIELD_CHARS,
}

PLACEHOLDERS: dict[str, str] = {
    "prompt": "untitled",
    "seed": "noseed",
    "model": "nomodel",
    "conversation": "no-conversation",
    "conversation_id": "no-conversation",
    "hash": "nohash",
    "origin": "generated",
}
"""What a missing value renders as (``{index}`` and ``{filename}`` render empty; see ``_join``)."""

EMPTY_WHEN_MISSING = frozenset({"index", "filename"})

_ILLEGAL = frozenset('<>:"/\\|?*')
_REPLACEMENT = "_"
_SEPARATORS = "_- "

#: Characters that look like, or NFKC-normalise to, a path separator.
_LOOKALIKE_SEPARATORS = frozenset(
    "\u2044\u2215\u2216\u2571\u2572\u27cb\u27cd\u29f5\u29f6\u29f8\u29f9"
    "\ufe68\uff0f\uff3c\u3033\u3035\u0337\u0338\u20e5\u2cfa"
)

#: Invisible characters that reorder or hide text (``evil\u202egnp.exe``) or break tools.
_INVISIBLE = frozenset(
    "\u061c\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb"
)

_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"]
    + [f"{p}{d}" for p in ("COM", "LPT") for d in "0123456789\u00b9\u00b2\u00b3"]
)
"""Windows device names; reserved with any extension (``nul.txt``) and any case."""

_EXT_RE = re.compile(r"[a-z0-9]{1,10}")
_FIELD_RE = re.compile(r"([a-z_]+)(?::([0-9]{1,4}))?")


# --- templates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    width: int | None


_Piece = str | _Field


def validate_template(template: str) -> None:
    """Raise ``BadConfig`` with a clear message unless ``template`` is a usable name template."""
    _parse(template)


@lru_cache(maxsize=64)
def _parse(template: str) -> tuple[tuple[_Piece, ...], ...]:
    """Split into components (on ``/`` or ``\\`` outside fields), each a tuple of pieces."""
    if not isinstance(template, str):
        _bad("name template must be text", "template_not_text")
    if not template.strip():
        _bad("name template is empty; e.g. use " + DEFAULT_TEMPLATE, "template_empty")
    if len(template) > MAX_TEMPLATE_CHARS:
        _bad(
            f"name template is longer than {MAX_TEMPLATE_CHARS} characters",
            "template_too_long",
            max=MAX_TEMPLATE_CHARS,
        )
    if "\x00" in template:
        _bad("name template contains a NUL character", "template_bad_character")
    if template[0] in "/\\" or re.match(r"[A-Za-z]:", template):
        _bad(
            f"name template {template!r} must be relative to the output folder, not absolute",
            "template_absolute",
        )
    components: list[list[_Piece]] = [[]]
    literal: list[str] = []

    def flush() -> None:
        if literal:
            components[-1].append("".join(literal))
            literal.clear()

    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "{" and template.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and template.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "{":
            end = template.find("}", i)
            if end < 0:
                _bad(
                    f"name template has an unclosed '{{' at position {i + 1}: {template!r}",
                    "template_unclosed_brace",
                    position=i + 1,
                )
            flush()
            components[-1].append(_parse_field(template[i + 1 : end], template))
            i = end + 1
        elif ch == "}":
            _bad(
                f"name template has a stray '}}' at position {i + 1} (write '}}}}' for a brace)",
                "template_stray_brace",
                position=i + 1,
            )
        elif ch in "/\\":
            flush()
            components.append([])
            i += 1
        else:
            literal.append(ch)
            i += 1
    flush()
    if not components[-1]:
        _bad(
            f"name template {template!r} ends with a folder separator; it needs a file name",
            "template_no_file_name",
        )
    for comp in components:
        literal_only = all(isinstance(p, str) for p in comp)
        if literal_only and "".join(map(str, comp)).strip() in ("", ".", ".."):
            _bad(
                f"name template {template!r} has an empty, '.' or '..' folder",
                "template_empty_folder",
            )
    if len(components) > MAX_COMPONENTS:
        _bad(
            f"name template nests more than {MAX_COMPONENTS} folders",
            "template_too_deep",
            max=MAX_COMPONENTS,
        )
    return tuple(tuple(c) for c in components)


def _parse_field(spec: str, template: str) -> _Field:
    match = _FIELD_RE.fullmatch(spec.strip())
    if not match:
        _bad(
            f"name template field {{{spec}}} is not valid; write e.g. {{prompt}} or {{prompt:40}}",
            "template_bad_field",
            field=spec,
        )
    name, width = match.group(1), match.group(2)
    if name == "ext":
        _bad(
            "{ext} is not a template field: the extension always comes from the format written; "
            "remove it from the template",
            "template_ext_field",
        )
    if name not in FIELDS:
        known = ", ".join("{" + f + "}" for f in FIELDS)
        _bad(
            f"unknown name template field {{{name}}}; known fields: {known}",
            "template_unknown_field",
            field=name,
            known=known,
        )
    if width is None:
        return _Field(name, None)
    if name not in _WIDTH_LIMITS:
        _bad(
            f"name template field {{{name}}} does not take a ':N' length",
            "template_no_length",
            field=name,
        )
    n = int(width)
    if not 1 <= n <= _WIDTH_LIMITS[name]:
        _bad(
            f"in {{{spec}}} the length must be between 1 and {_WIDTH_LIMITS[name]}",
            "template_length_range",
            field=name,
            max=_WIDTH_LIMITS[name],
        )
    return _Field(name, n)


def _bad(msg: str, reason: str, **params):
    raise BadConfig(msg, reason=reason, **params)


# --- rendering ------------------------------------------------------------------------------


def render(
    template: str,
    metadata: Metadata,
    *,
    sha256: str,
    ext: str,
    now: datetime,
    index: int | None = None,
) -> str:
    """The relative, ``/``-separated path for one image, e.g. ``2026-11-25/…_1a2b3c4d.png``."""
    if not isinstance(ext, str) or not _EXT_RE.fullmatch(ext.lower()):
        msg = f"file extension must be 1–10 letters or digits, not {ext!r}"
        raise BadRequest(msg)
    ext = ext.lower()
    components = _parse(template)
    values = _values(metadata, sha256=sha256, now=now, index=index)
    rendered: list[list[str]] = []
    fields: list[list[bool]] = []
    for comp in components:
        texts, is_field = [], []
        for piece in comp:
            if isinstance(piece, _Field):
                texts.append(_field_text(piece, values))
                is_field.append(True)
            else:
                texts.append(_clean_literal(piece))
                is_field.append(False)
        rendered.append(texts)
        fields.append(is_field)

    last = len(rendered) - 1
    suffix = "." + ext
    budgets = [
        MAX_COMPONENT_BYTES - (len(suffix) + SUFFIX_RESERVE if i == last else 0)
        for i in range(len(rendered))
    ]
    names = [_finish(r, f, b) for r, f, b in zip(rendered, fields, budgets, strict=True)]
    if not names[-1]:
        # A file name that came out empty (only an empty {index}) falls back to the content hash.
        rendered[-1] = [values["hash"][:16] if values["hash"] != "nohash" else "image"]
        fields[-1] = [False]
        names[-1] = _finish(rendered[-1], fields[-1], budgets[-1])
    # The total bound: shrink the longest folder or file name until the path fits.
    limit = MAX_PATH_BYTES - len(suffix) - SUFFIX_RESERVE
    while _path_bytes(names) > limit:
        sizes = [len(n.encode("utf-8")) for n in names]
        i = max(range(len(names)), key=lambda k: sizes[k])
        budgets[i] = max(8, sizes[i] - (_path_bytes(names) - limit))
        names[i] = _finish(rendered[i], fields[i], budgets[i])
        if sizes[i] <= 8:  # unreachable with MAX_COMPONENTS * 8 < limit; a guard, not a loop
            break
    folders = [n for n in names[:-1] if n]
    return "/".join([*folders, names[-1] + suffix])


def _path_bytes(names: list[str]) -> int:
    return sum(len(n.encode("utf-8")) + 1 for n in names if n)


def _values(metadata: Metadata, *, sha256: str, now: datetime, index: int | None) -> dict:
    def text(value) -> str | None:
        if value is None:
            return None
        value = str(value)
        return value[: MAX_FIELD_CHARS * 4] if value.strip() else None

    sha = None
    if isinstance(sha256, str) and re.fullmatch(r"[0-9a-fA-F]{1,128}", sha256):
        sha = sha256.lower()
    return {
        "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%H%M%S"),
        "datetime": now.strftime("%Y%m%d-%H%M%S"),
        "prompt": text(metadata.prompt),
        "seed": None if metadata.seed is None else str(metadata.seed),
        "model": text(metadata.model),
        "conversation": text(metadata.conversation_title) or text(metadata.conversation_id),
        "conversation_id": text(metadata.conversation_id),
        "index": index,
        "hash": sha or "nohash",
        "origin": text(metadata.origin),
        "filename": text(_file_stem((metadata.extra or {}).get("file_name"))),
    }


def _file_stem(name) -> str | None:
    """``"photos/IMG_2041.JPG"`` → ``"IMG_2041"``: the last path part without its extension."""
    if not isinstance(name, str):
        return None
    base = re.split(r"[\\/]", name.strip())[-1]
    stem, dot, ext = base.rpartition(".")
    return stem if dot and stem and _EXT_RE.fullmatch(ext.lower()) else base


def _field_text(field: _Field, values: dict) -> str:
    name, width = field.name, field.width
    value = values[name]
    if name == "index":
        if value is None:
            return ""
        return clean(str(value)).zfill(width or 0)
    if value is None:
        return "" if name in EMPTY_WHEN_MISSING else PLACEHOLDERS[name]
    if name == "hash" and width:
        return value[:width]
    value = clean(value)
    if width:
        value = _first_words(value, width)
    value = _strip_ends(value)
    if name in EMPTY_WHEN_MISSING:
        return value
    return value or PLACEHOLDERS.get(name, "")


def _clean_literal(text: str) -> str:
    # Template literals go through the same cleaning as values; a ':' in "{date}: {prompt}" must
    # not become an NTFS stream either.
    return clean(text)


#: ASCII whitespace (``str.isspace``: also the separators 0x1C-0x1F) and the ASCII characters
#: ``clean`` replaces (controls, ``_ILLEGAL``): the whole of ``clean`` for ASCII text, two passes.
_ASCII_SPACE_RUNS = re.compile(r"[\t\n\x0b\x0c\r\x1c-\x1f ]+")
_ASCII_REPLACED = re.compile(r'[\x00-\x08\x0e-\x1b\x7f<>:"/\\|?*]')


def clean(text: str) -> str:
    """Make ``text`` safe inside one name: NFC, no control/illegal/look-alike characters, one space
    per whitespace run. Does not handle ends, device names or length (see ``_finish``)."""
    text = text[: MAX_FIELD_CHARS * 4]
    if text.isascii():
        # Most prompts: none of the Unicode cases apply, and a Python loop over a long prompt
        # was a good part of a save's fixed cost.
        return _ASCII_SPACE_RUNS.sub(" ", _ASCII_REPLACED.sub(_REPLACEMENT, text))
    return _clean_unicode(text)


def _clean_unicode(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    space = False
    for ch in text:
        if ch.isspace() or ch in "\u2028\u2029":
            if not space:
                out.append(" ")
            space = True
            continue
        space = False
        if ch in _INVISIBLE:
            continue
        out.append(_REPLACEMENT if _replaced(ch) else ch)
    return "".join(out)


@lru_cache(maxsize=4096)
def _replaced(ch: str) -> bool:
    """Does ``clean`` replace this (visible, non-space) character? Remembered per character: a
    CJK prompt repeats its characters, and the NFKC test below costs more than the lookup."""
    # Unassigned (Cn) and private-use characters stay: an emoji newer than this Python's
    # Unicode database is "unassigned" here, and every file system accepts both.
    return (
        ch in _ILLEGAL
        or ch in _LOOKALIKE_SEPARATORS
        or unicodedata.category(ch) in ("Cc", "Cs")
        or (0xFDD0 <= ord(ch) <= 0xFDEF)
        or (ord(ch) & 0xFFFE) == 0xFFFE
        or _looks_like_separator(ch)
    )


def _looks_like_separator(ch: str) -> bool:
    if ord(ch) < 0x80:
        return False
    folded = unicodedata.normalize("NFKC", ch)
    return "/" in folded or "\\" in folded


def _strip_ends(text: str) -> str:
    return text.lstrip(". ").rstrip(". ")


def _first_words(text: str, n: int) -> str:
    """The first ``n`` characters, ending at a word boundary when that keeps at least half, and
    never in the punctuation the cut left behind (``scarf,`` → ``scarf``)."""
    text = text.strip(" ")
    if len(text) <= n:
        return text
    if text[n] == " ":
        return _trim_cut(text[:n])
    cut = _safe_cut(text, n)
    if cut == 0:  # one grapheme longer than n code points (a ZWJ emoji): keep it whole
        cut = n
        while cut < len(text) and (_is_extender(text[cut]) or text[cut - 1] == "\u200d"):
            cut += 1
    space = text.rfind(" ", 0, cut)
    if space >= n // 2:
        return _trim_cut(text[:space])
    return _trim_cut(text[:cut])


#: What a cut may leave dangling at the end: separators (, ; 、 。 …), dashes, opening brackets and
#: quotes, connectors (``_``, also what an illegal character became) and spaces. Closing brackets
#: and quotes stay: ``(red)`` is whole.
_DANGLING = frozenset({"Po", "Pd", "Ps", "Pi", "Pc", "Zs"})


def _trim_cut(text: str) -> str:
    end = len(text)
    while end > 0 and unicodedata.category(text[end - 1]) in _DANGLING:
        end -= 1
    # A text of nothing but punctuation keeps its cut form rather than vanishing.
    return text[:end] if end else text.rstrip(" ")


def _join(texts: list[str], is_field: list[bool]) -> str:
    """Concatenate pieces, dropping the separator an empty value leaves behind (``{index}_x``
    with no index gives ``x``, ``a_{index}_b`` gives ``a_b``)."""
    out = ""
    drop_next = False
    for t, field in zip(texts, is_field, strict=True):
        if field and not t:
            if not out or out[-1] in _SEPARATORS:
                drop_next = True
            continue
        if drop_next and t and t[0] in _SEPARATORS and (not out or t[0] == out[-1]):
            t = t[1:]
        drop_next = False
        out += t
    if drop_next and out and out[-1] in _SEPARATORS:
        out = out[:-1]
    return out


def _finish(texts: list[str], is_field: list[bool], budget: int) -> str:
    """Join a component's pieces and make it fit ``budget`` (minus room for a device-name ``_``),
    shortening the longest value first so that e.g. the hash after a long prompt survives."""
    budget -= 1
    texts = [
        _trim_cut(t[: _safe_cut(t, MAX_FIELD_CHARS)]) if f and len(t) > MAX_FIELD_CHARS else t
        for t, f in zip(texts, is_field, strict=True)
    ]
    name = _strip_ends(_join(texts, is_field))
    while _cost(name) > budget:
        candidates = [i for i, f in enumerate(is_field) if f and texts[i]]
        if not candidates:
            candidates = [i for i, t in enumerate(texts) if t]
        i = max(candidates, key=lambda k: _cost(texts[k]))
        excess = _cost(name) - budget
        t = texts[i]
        # Each character costs at least one byte, so cutting `excess` characters never overshoots
        # by more than the one grapheme we back off to.
        keep = max(0, len(t) - max(1, excess // 4))
        cut = t[: _safe_cut(t, keep)]
        texts[i] = _strip_ends(_trim_cut(cut) if is_field[i] else cut) if keep else ""
        name = _strip_ends(_join(texts, is_field))
    return _not_reserved(name)


def _cost(text: str) -> int:
    """Worst of UTF-8 bytes and UTF-16 units of the NFD form (HFS+ stores names decomposed)."""
    nfd = unicodedata.normalize("NFD", text)
    return max(len(text.encode("utf-8")), len(nfd.encode("utf-16-le")) // 2)


def _not_reserved(name: str) -> str:
    base = name.split(".", 1)[0].rstrip(" .").upper()
    if base in _RESERVED:
        return "_" + name
    return name


def _is_extender(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or cp == 0x200D
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _safe_cut(text: str, n: int) -> int:
    """The largest index ``<= n`` that does not split a grapheme cluster (approximately:
    combining marks, ZWJ sequences, modifiers, variation selectors, tags and flag pairs)."""
    n = min(n, len(text))
    while 0 < n < len(text):
        if _is_extender(text[n]) or text[n - 1] == "\u200d":
            n -= 1
            continue
        if _is_regional(text[n]) and _is_regional(text[n - 1]):
            run = 0
            k = n - 1
            while k >= 0 and _is_regional(text[k]):
                run += 1
                k -= 1
            if run % 2 == 1:
                n -= 1
                continue
        break
    return n


def is_safe_component(name: str) -> bool:
    """True when ``name`` is acceptable as one file or folder name on Windows, macOS and Linux."""
    return (
        bool(name)
        and name not in (".", "..")
        and name == unicodedata.normalize("NFC", name)
        and clean(name) == name
        and _strip_ends(name) == name
        and _not_reserved(name) == name
        and _cost(name) <= MAX_COMPONENT_BYTES
    )
