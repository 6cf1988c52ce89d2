"""Name templates and names safe on Windows, macOS and Linux at once (dsexport/naming.py)."""

from __future__ import annotations

import os
import posixpath
import unicodedata
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsexport import naming
from dsexport.errors import BadConfig, BadRequest
from dsexport.model import Metadata

NOW = datetime(2026, 11, 25, 9, 14, 3)
SHA = "1a2b3c4d" + "e" * 56

# The rules below are written out independently of naming.py, from the OS documentation:
# https://learn.microsoft.com/windows/win32/fileio/naming-a-file (illegal characters, device
# names incl. superscript digits, trailing dots/spaces), 255-byte names on ext4/APFS, 255 UTF-16
# units on NTFS and HFS+ (which stores NFD).
WINDOWS_ILLEGAL = set('<>:"/\\|?*')
DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{p}{d}" for p in ("COM", "LPT") for d in "0123456789¹²³"
}
LOOKALIKE_SLASHES = set("\u2215\u2044\uff0f\u29f8\ufe68\uff3c\u29f9\u2216\u29f5")
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def component_problems(name: str) -> list[str]:
    problems = []
    if name in ("", ".", ".."):
        problems.append("empty or dot name")
    if name != unicodedata.normalize("NFC", name):
        problems.append("not NFC")
    for ch in name:
        if ch in WINDOWS_ILLEGAL or ord(ch) < 32 or ord(ch) == 0x7F:
            problems.append(f"illegal {ch!r}")
        if ch in LOOKALIKE_SLASHES or ch in BIDI_CONTROLS:
            problems.append(f"look-alike or bidi {ch!r}")
        if unicodedata.category(ch) == "Cs":
            problems.append("lone surrogate")
    if name.endswith((".", " ")) or name.startswith((".", " ")):
        problems.append("leading or trailing dot/space")
    if "  " in name or any(c.isspace() and c != " " for c in name):
        problems.append("whitespace run")
    if name.split(".")[0].rstrip(" .").upper() in DEVICE_NAMES:
        problems.append("device name")
    try:
        utf8 = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return [*problems, "not encodable"]
    utf16_nfd = len(unicodedata.normalize("NFD", name).encode("utf-16-le")) // 2
    if utf8 > 255 or utf16_nfd > 255:
        problems.append(f"too long ({utf8} bytes, {utf16_nfd} UTF-16 units)")
    return problems


def path_problems(rel: str, ext: str) -> list[str]:
    problems = []
    if rel.startswith("/") or "\\" in rel:
        problems.append("absolute or backslash")
    parts = rel.split("/")
    for part in parts:
        problems += [f"{part!r}: {p}" for p in component_problems(part)]
    if not parts[-1].endswith("." + ext):
        problems.append("extension not from ext")
    with_suffix = parts[-1][: -len(ext) - 1] + " (99999)." + ext
    if len(with_suffix.encode("utf-8")) > 255:
        problems.append("no room for a collision suffix")
    if len(rel.encode("utf-8")) > naming.MAX_PATH_BYTES:
        problems.append("path too long")
    root = "/srv/out"
    if not posixpath.normpath(posixpath.join(root, rel)).startswith(root + "/"):
        problems.append("escapes the root")
    return problems


def render(template: str = naming.DEFAULT_TEMPLATE, ext: str = "png", **meta) -> str:
    index = meta.pop("index", None)
    return naming.render(template, Metadata(**meta), sha256=SHA, ext=ext, now=NOW, index=index)


# --- property tests ---------------------------------------------------------------------------

DANGEROUS = [
    "..",
    ".",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "\\\\server\\share",
    "CON",
    "con",
    "nul.txt",
    "NUL .txt",
    "COM1",
    "LPT9.tar.gz",
    "COM¹",
    "lpt³.png",
    "CONIN$",
    "file.txt:Zone.Identifier",
    "a\u2215b",
    "a\u2044b",
    "a\uff0fb",
    "a\u29f8b",
    "a\ufe68b",
    "a\uff3cb",
    "evil\u202egnp.exe",
    "trailing. . .",
    "   ",
    "\t\n\r",
    "\x00\x01\x1f\x7f",
    "\ud800lone",
    "e\u0301",
    "\ufeffbom",
    "👨\u200d👩\u200d👧\u200d👦",
    "🇨🇳🇯🇵🇺🇸",
    "一只戴着红围巾的猫",
    "שלום עולם",
    '<>:"|?*',
    "\u0390" * 50,
    "한국어" * 40,
]

text_with_danger = st.lists(
    st.one_of(
        st.sampled_from(DANGEROUS),
        st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    ),
    max_size=12,
).map("".join)

optional_text = st.one_of(st.none(), text_with_danger, st.text(min_size=200, max_size=600))

metadata = st.builds(
    Metadata,
    prompt=optional_text,
    seed=st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70)),
    model=optional_text,
    conversation_title=optional_text,
    conversation_id=optional_text,
    origin=st.sampled_from(["generated", "uploaded", "diagram"]),
)

FIELD_SPECS = [
    "{date}",
    "{time}",
    "{datetime}",
    "{prompt}",
    "{prompt:40}",
    "{prompt:255}",
    "{seed}",
    "{model}",
    "{conversation}",
    "{conversation_id}",
    "{index}",
    "{index:4}",
    "{hash}",
    "{hash:8}",
    "{origin}",
]
literal = st.sampled_from(["", "_", "-", " ", "CON", "nul", "x.", "..x", "img", ":", "{{", "}}"])
component = st.lists(st.one_of(st.sampled_from(FIELD_SPECS), literal), min_size=1, max_size=5).map(
    "".join
)
templates = st.lists(component, min_size=1, max_size=6).map("/".join)


def valid_template(t: str) -> bool:
    try:
        naming.validate_template(t)
    except BadConfig:
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meta=metadata, index=st.one_of(st.none(), st.integers(0, 10**6)))
def test_default_template_gives_safe_paths_for_any_metadata(meta, index):
    rel = naming.render(naming.DEFAULT_TEMPLATE, meta, sha256=SHA, ext="png", now=NOW, index=index)
    assert path_problems(rel, "png") == [], rel


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=templates.filter(valid_template), meta=metadata, ext=st.sampled_from(["png", "jpg"])
)
def test_any_valid_template_gives_safe_paths(template, meta, ext):
    rel = naming.render(template, meta, sha256=SHA, ext=ext, now=NOW, index=3)
    assert path_problems(rel, ext) == [], (template, rel)


@settings(max_examples=200, deadline=None)
@given(text=text_with_danger)
def test_is_safe_component_agrees_with_the_independent_rules(text):
    rel = render("{prompt}", prompt=text)
    stem = rel.rsplit(".", 1)[0]
    assert component_problems(stem) == []
    assert naming.is_safe_component(stem)


@settings(max_examples=200, deadline=None)
@given(template=st.text(max_size=60))
def test_validate_template_only_raises_bad_config(template):
    try:
        naming.validate_template(template)
    except BadConfig as err:
        assert str(err)
    else:
        rel = naming.render(template, Metadata(prompt="x"), sha256=SHA, ext="png", now=NOW)
        assert path_problems(rel, "png") == []


# --- examples ---------------------------------------------------------------------------------


def test_default_template_example():
    rel = render(prompt="a cat in a red scarf")
    assert rel == "2026-11-25/20261125-091403_a cat in a red scarf_1a2b3c4d.png"


def test_chinese_prompt_stays_readable():
    prompt = "一只戴着红围巾的猫坐在窗边的木椅上，夕阳西下"
    rel = render("{prompt}", prompt=prompt)
    assert rel == prompt + ".png"


def test_chinese_prompt_truncates_to_n_characters():
    prompt = "一只戴着红围巾的猫坐在窗边的木椅上" * 5
    rel = render("{prompt:10}", prompt=prompt)
    assert rel == prompt[:10] + ".png"


def test_long_chinese_prompt_is_cut_on_character_boundaries_within_255_bytes():
    prompt = "猫" * 500
    stem = render("{prompt}", prompt=prompt).removesuffix(".png")
    assert set(stem) == {"猫"}
    assert len(stem.encode()) <= 255 - len(".png") - naming.SUFFIX_RESERVE
    assert len(stem.encode()) > 200  # as much of the prompt as fits, not a stub


def test_prompt_n_keeps_whole_words():
    rel = render("{prompt:12}", prompt="a cat in a red scarf")
    assert rel == "a cat in a.png"


def test_prompt_n_cuts_a_single_long_word():
    rel = render("{prompt:5}", prompt="supercalifragilistic")
    assert rel == "super.png"


def test_emoji_zwj_sequences_are_not_split():
    family = "👨\u200d👩\u200d👧\u200d👦"
    stem = render("{prompt}", prompt=family * 100).removesuffix(".png")
    assert stem == family * (len(stem) // len(family))


def test_flags_are_not_split():
    stem = render("{prompt:5}", prompt="🇨🇳🇯🇵🇺🇸").removesuffix(".png")
    assert stem == "🇨🇳🇯🇵"


def test_combining_marks_stay_with_their_letter():
    decomposed = "e\u0301\u0302" * 200  # no precomposed form for both marks
    stem = render("{prompt}", prompt=decomposed).removesuffix(".png")
    assert stem.endswith("\u0302")


def test_unicode_is_nfc():
    assert render("{prompt}", prompt="Cafe\u0301") == "Café.png"


@pytest.mark.parametrize(
    "prompt",
    [
        "CON",
        "con",
        "Nul",
        "nul.txt",
        "NUL .txt",
        "aux.tar.gz",
        "COM1",
        "com9",
        "LPT1",
        "COM¹",
        "lpt²",
        "COM³",
        "CONIN$",
        "conout$",
    ],
)
def test_windows_device_names_are_altered(prompt):
    rel = render("{prompt}", prompt=prompt)
    assert rel.split(".")[0].rstrip(" ").upper() not in DEVICE_NAMES
    assert rel.startswith("_")


def test_device_names_in_folders_are_altered():
    rel = render("{conversation}/{prompt}", prompt="x", conversation_title="PRN")
    assert rel == "_PRN/x.png"


def test_names_that_merely_contain_device_names_are_kept():
    assert render("{prompt}", prompt="CONSOLE") == "CONSOLE.png"
    assert render("{prompt}", prompt="COM10") == "COM10.png"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "untitled"),
        ("...", "untitled"),
        (".hidden", "hidden"),
        ("a:b", "a_b"),
        ("file.txt:Zone.Identifier", "file.txt_Zone.Identifier"),
        ("a\u2215b\u2044c\uff0fd\u29f8e\ufe68f\uff3cg", "a_b_c_d_e_f_g"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("tab\there\n\nnewline", "tab here newline"),
        ("ends with dots...", "ends with dots"),
        ("   padded   ", "padded"),
        ("ctrl\x00\x07chars", "ctrl__chars"),
        ("lone\ud800surrogate", "lone_surrogate"),
    ],
)
def test_dangerous_prompts(prompt, expected):
    assert render("{prompt}", prompt=prompt) == expected + ".png"


def test_separators_in_values_never_make_folders():
    rel = render("{conversation}/{prompt}", prompt="a/b\\c", conversation_title="x/../y")
    assert rel.count("/") == 1


def test_missing_values_get_placeholders():
    rel = render("{conversation}/{prompt}_{seed}_{model}")
    assert rel == "no-conversation/untitled_noseed_nomodel.png"


def test_conversation_falls_back_to_its_id():
    assert render("{conversation}/x", conversation_id="abc123") == "abc123/x.png"


def test_empty_index_collapses_its_separator():
    assert render("{index:3}_{prompt}", prompt="cat") == "cat.png"
    assert render("{index:3}_{prompt}", prompt="cat", index=7) == "007_cat.png"


def test_empty_file_name_falls_back_to_the_hash():
    assert render("{index}") == SHA[:16] + ".png"


def test_all_fields():
    rel = render(
        "{date}/{time}_{datetime}_{seed}_{model}_{conversation}_{conversation_id}"
        "_{index}_{hash}_{hash:4}_{origin}",
        seed=42,
        model="janus-pro",
        conversation_title="Cats",
        conversation_id="c1",
        index=2,
        origin="uploaded",
    )
    assert rel == (
        f"2026-11-25/091403_20261125-091403_42_janus-pro_Cats_c1_2_{SHA}_1a2b_uploaded.png"
    )


def test_literal_braces():
    assert render("{{x}}_{seed}", seed=1) == "{x}_1.png"


def test_extension_comes_from_ext_only():
    assert render("{prompt}", ext="JPEG", prompt="x.png") == "x.png.jpeg"


@pytest.mark.parametrize("ext", ["", "p/g", "../x", "png.exe ", "x" * 11, ".png"])
def test_bad_extensions_are_refused(ext):
    with pytest.raises(BadRequest):
        render("{prompt}", ext=ext, prompt="x")


def test_total_path_length_is_bounded():
    long = "長" * 300
    rel = render(
        "/".join(["{conversation}"] * naming.MAX_COMPONENTS)[: -len("{conversation}")] + "{prompt}",
        prompt=long,
        conversation_title=long,
    )
    assert len(rel.encode()) <= naming.MAX_PATH_BYTES
    assert path_problems(rel, "png") == []


def test_long_prompt_keeps_the_hash_after_it():
    rel = render("{prompt}_{hash:8}", prompt="x" * 1000)
    assert rel.endswith("_1a2b3c4d.png")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty"),
        ("{prompt", "unclosed"),
        ("prompt}", "stray"),
        ("{}", "not valid"),
        ("{nope}", "unknown"),
        ("{ext}", "extension"),
        ("{prompt}.{ext}", "extension"),
        ("{prompt:0}", "between"),
        ("{prompt:abc}", "not valid"),
        ("{date:3}", "does not take"),
        ("{hash:65}", "between"),
        ("/abs/{prompt}", "relative"),
        ("\\\\server\\{prompt}", "relative"),
        ("C:{prompt}", "relative"),
        ("../{prompt}", "'..'"),
        ("a/./{prompt}", "'.'"),
        ("a//{prompt}", "empty"),
        ("{date}/", "ends with"),
        ("/".join(["a"] * 17) + "/{prompt}", "nests"),
        ("x" * 1001, "longer"),
    ],
)
def test_bad_templates_raise_bad_config_with_a_clear_message(template, message):
    with pytest.raises(BadConfig, match=message.replace("'", "'").replace(".", r"\.")):
        naming.validate_template(template)


def test_unknown_field_message_lists_known_fields():
    with pytest.raises(BadConfig) as err:
        naming.validate_template("{promt}")
    assert "{prompt}" in str(err.value)


def test_backslash_in_template_is_a_folder_separator():
    assert render("{date}\\{prompt}", prompt="x") == "2026-11-25/x.png"


def test_rendered_names_can_be_created_on_this_file_system(tmp_path):
    for prompt in DANGEROUS:
        rel = render("{conversation}/{prompt}", prompt=prompt, conversation_title=prompt)
        target = tmp_path.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x")
        assert os.path.commonpath([str(target.resolve()), str(tmp_path)]) == str(tmp_path)


def test_hash_fallback_counts_toward_the_path_limit():
    # Found by hypothesis: the fallback for an empty file name was added after the length check.
    template = "{date}{prompt}/{prompt}{prompt}/{date}{date}{date}{date}{prompt}/{prompt}/{index}"
    for n in range(200, 256):
        rel = render(template, prompt="0" * n)
        assert path_problems(rel, "png") == [], rel


def test_emoji_newer_than_this_pythons_unicode_data_are_kept():
    # U+1FAE8 (Unicode 15) is "unassigned" in older Unicode databases; it must not become "_".
    assert render("{prompt}", prompt="shaking \U0001fae8 face") == "shaking \U0001fae8 face.png"


def test_a_single_grapheme_longer_than_n_is_kept_whole():
    family = "👨\u200d👩\u200d👧\u200d👦"  # 7 code points, one grapheme
    assert render("{prompt:3}", prompt=family + " and more") == family + ".png"


# --- cuts end cleanly; {filename}; reasons the extension words -------------------------------


@pytest.mark.parametrize(
    ("prompt", "width", "expected"),
    [
        ("a cat wearing a red scarf, sitting on a bench", 26, "a cat wearing a red scarf"),
        ("a cat wearing a red scarf, sitting on a bench", 30, "a cat wearing a red scarf"),
        ("a fox; in snow — watercolor", 14, "a fox; in snow"),
        ("a fox (red) in snow", 11, "a fox (red)"),
        ("雪地里的一只红狐狸，水彩画风格", 10, "雪地里的一只红狐狸"),
        ("一只「红色」的狐狸在雪地", 3, "一只"),
        ("short, and whole.", 40, "short, and whole"),
    ],
)
def test_a_cut_prompt_never_ends_in_the_punctuation_the_cut_left(prompt, width, expected):
    assert render(f"{{prompt:{width}}}", prompt=prompt) == f"{expected}.png"


def test_a_prompt_shortened_to_fit_the_name_limit_ends_cleanly_too():
    prompt = ("word, " * 200).strip()
    name = render("{prompt}_{hash:8}", prompt=prompt)
    stem = name.removesuffix(".png").rsplit("_", 1)[0]
    assert len(name.encode()) <= naming.MAX_COMPONENT_BYTES
    assert not unicodedata.category(stem[-1]).startswith(("P", "Z")), stem[-20:]


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("IMG_2041.jpg", "IMG_2041"),
        ("holiday photo.final.PNG", "holiday photo.final"),
        ("C:\\Users\\ana\\scan 3.webp", "scan 3"),
        ("no-extension", "no-extension"),
        ("../../etc/passwd", "passwd"),
        ("猫的照片.jpeg", "猫的照片"),
    ],
)
def test_filename_field_is_the_uploads_own_name_without_its_extension(file_name, expected):
    meta = {"prompt": "a cat", "origin": "uploaded", "extra": {"file_name": file_name}}
    assert render("{filename}", **meta) == f"{expected}.png"


def test_filename_is_empty_without_one_and_its_separator_goes_with_it():
    assert render("{index:3}_{filename}_{prompt:10}", prompt="a cat", index=3) == "003_a cat.png"
    # Nothing at all: the file is named by its hash rather than left without a name.
    assert render("{filename}", prompt="a cat") == f"{SHA[:16]}.png"
    long = {"extra": {"file_name": "x" * 300 + ".jpg"}, "prompt": "p"}
    assert render("{filename:12}", **long) == "x" * 12 + ".png"


@pytest.mark.parametrize(
    ("template", "reason", "params"),
    [
        ("", "template_empty", {}),
        ("{foo}", "template_unknown_field", {"field": "foo"}),
        ("{prompt", "template_unclosed_brace", {"position": 1}),
        ("a}b", "template_stray_brace", {"position": 2}),
        ("{seed:4}", "template_no_length", {"field": "seed"}),
        ("{prompt:0}", "template_length_range", {"field": "prompt", "max": 255}),
        ("{ext}", "template_ext_field", {}),
        ("/abs/{prompt}", "template_absolute", {}),
        ("{date}/", "template_no_file_name", {}),
        ("a/../{prompt}", "template_empty_folder", {}),
        ("{pr ompt}", "template_bad_field", {"field": "pr ompt"}),
    ],
)
def test_template_errors_carry_a_reason_and_parameters(template, reason, params):
    with pytest.raises(BadConfig) as caught:
        naming.validate_template(template)
    assert caught.value.reason == reason
    assert {k: caught.value.params[k] for k in params} == params
    assert str(caught.value), "the English message stays for the command line"


def test_ascii_text_is_cleaned_as_the_general_path_cleans_it():
    """``clean`` takes a regex shortcut for ASCII text; every pair of ASCII characters (controls,
    whitespace runs, illegal characters) must come out exactly as the per-character path gives."""
    for a in range(128):
        for b in range(128):
            text = f"{chr(a)}{chr(b)} x{chr(b)}{chr(a)}  "
            assert naming.clean(text) == naming._clean_unicode(text), repr(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_any_ascii_text_is_cleaned_as_the_general_path_cleans_it(text):
    assert naming.clean(text) == naming._clean_unicode(text)
