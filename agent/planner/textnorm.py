"""Turn any user string into a short, predictable lower-case text the offline planner can scan.

Everything downstream works on this form, so it is the one place that deals with
hostile input: 20,000-character pastes, control characters, bidi marks, emoji,
full-width letters, and Korean particles glued to instance names ("web-1을").
"""

from __future__ import annotations

import re
import unicodedata

# Raw characters looked at; enough for any real request, small enough that NFKC stays cheap.
MAX_RAW = 2000
# Normalised characters kept: the rules scan this several times, so it bounds the work per request.
MAX_TEXT = 400

# Categories removed outright: format (ZWJ, RTL marks, BOM), surrogates, private use, unassigned.
_DROP = frozenset({"Cf", "Cs", "Co", "Cn"})
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"'})
_HANGUL = "\uac00-\ud7a3\u3131-\u318e"
# A Korean particle or verb ending written straight after a name ("web-1을", "cpu사용률") gets a space.
_SCRIPT_EDGE = re.compile(rf"(?<=[{_HANGUL}])(?=[a-z0-9])|(?<=[a-z0-9*])(?=[{_HANGUL}])")
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x85\u2028\u2029]+")

# Quoted text is data (a log pattern, a name): it must not be read as verbs or topics.
QUOTED = re.compile(r"\"[^\"]*\"|(?<!\w)'[^']+'(?!\w)")
HANGUL_TOKEN = re.compile(rf"[{_HANGUL}]+")


def _clean_chars(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in _DROP:
            continue
        out.append(" " if cat == "Cc" else ch)
    return "".join(out)


def normalize(text: object) -> str:
    """Lower-case, NFKC-normalised, single-spaced text of at most MAX_TEXT characters."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFKC", text[:MAX_RAW])
    # A line break separates commands as surely as ';' does; keep it visible as one.
    text = _LINE_BREAKS.sub(" ; ", text)
    if not (text.isascii() and text.isprintable()):
        text = _clean_chars(text)
    text = text.translate(_QUOTES).casefold()
    text = _SCRIPT_EDGE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > MAX_TEXT:
        cut = text.rfind(" ", 0, MAX_TEXT)
        text = text[: cut if cut > MAX_TEXT // 2 else MAX_TEXT]
    return text


def mask(text: str, spans: list[tuple[int, int]], fill: str = " ") -> str:
    """`text` with each span overwritten by `fill`, keeping every offset valid for later passes."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = fill * (end - start)
    return "".join(chars)


def is_hangul(word: str) -> bool:
    return bool(word) and "\uac00" <= word[0] <= "\ud7a3"
