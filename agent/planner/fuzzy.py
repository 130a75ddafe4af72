"""Misspelt action verbs: "stpo", "rebot", "reboooot", "terminte", "재부트" read as the verb meant.

Only words nothing else claimed reach this (names, vocabulary words and read words are taken
first), and the rules are strict where short words crowd together: "stop" is one edit away
from "step" and "shop", "start" from "stat", so a short verb forgives only the slips people make
under stress (two letters swapped, one dropped, one doubled), never a changed letter, and the
first letter must be right. Only "terminate" is long enough to forgive two slips of any kind.
"""

from __future__ import annotations

import re

# The verbs a typo can stand for, and the action each means.
VERBS: dict[str, str] = {"stop": "stop", "start": "start", "reboot": "reboot", "restart": "reboot",
                         "terminate": "terminate", "shutdown": "stop"}
# Real words one slip away from a verb; they mean what they say.
_REAL_WORDS_TEXT = """
stat stats state step steps shop stops sop tart star stars restate rest resort report reports
reboots terminal terminals terminus terminated terminates terminating strut stay stack stub store
"""
REAL_WORDS = frozenset(_REAL_WORDS_TEXT.split())
_WORD = re.compile(r"(?<![\w-])[a-z]{3,12}(?![\w-])")
_RUNS = re.compile(r"(.)\1+")


def _collapse(word: str) -> str:
    return _RUNS.sub(r"\1", word)


def _osa(a: str, b: str) -> tuple[int, bool]:
    """Optimal-string-alignment distance of a to b, and whether it needed a substitution or an
    insertion of a letter b lacks (the slips a short verb does not forgive)."""
    rows = [[(j, False) for j in range(len(b) + 1)]]
    for i in range(1, len(a) + 1):
        row = [(i, True)]
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            options = [(rows[i - 1][j][0] + 1, True),  # a has a letter b lacks (a doubling is caught earlier)
                       (row[j - 1][0] + 1, row[j - 1][1]),  # a dropped a letter of b
                       (rows[i - 1][j - 1][0] + cost, rows[i - 1][j - 1][1] or cost)]
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                options.append((rows[i - 2][j - 2][0] + 1, rows[i - 2][j - 2][1]))  # two letters swapped
            row.append(min(options))
        rows.append(row)
    distance, strange = rows[-1][-1]
    return distance, bool(strange)


def verb_for(word: str) -> str | None:
    """The action a misspelt verb stands for, or None. Exact verbs are not this module's business."""
    if word in VERBS or word in REAL_WORDS or len(word) < 3:
        return None
    for verb, action in VERBS.items():
        if word[0] != verb[0] or abs(len(word) - len(verb)) > 2:
            continue
        if _collapse(word) == _collapse(verb):
            return action  # letters doubled or a double dropped: "reboooot", "rebot", "sstop"
        distance, strange = _osa(word, verb)
        if distance == 1 and not strange and len(verb) >= 4:
            return action  # "stpo", "strt", "restat"
        if len(verb) >= 7 and (distance == 1 or (distance == 2 and len(verb) >= 9)):
            return action  # "retsart", "termiante", "terminte"
    return None


def misspelt_verbs(text: str, skip: frozenset[str]) -> list[tuple[str, int, int]]:
    """(action, start, end) for each unclaimed ASCII word of `text` that is a misspelt verb."""
    return [(action, m.start(), m.end()) for m in _WORD.finditer(text)
            if m.group() not in skip and (action := verb_for(m.group()))]


# Korean verb stems of three syllables. A slip keeps the first two syllables (or writes 제 for 재,
# the vowels sound the same) and the last syllable's first consonant: "재부트", "제부팅", "재시자".
KO_STEMS: dict[str, str] = {"재부팅": "reboot", "리부팅": "reboot", "재시작": "reboot", "재기동": "reboot",
                            "셧다운": "stop"}
_CHO = 588  # syllables per initial consonant in the Hangul block


def _initial(syllable: str) -> int:
    return (ord(syllable) - 0xAC00) // _CHO if "\uac00" <= syllable <= "\ud7a3" else -1


def _head_matches(head: str, stem: str) -> bool:
    return head == stem or (head[0] == "제" and stem[0] == "재" and head[1:] == stem[1:])


def korean_verbs(text: str) -> list[tuple[str, int, int]]:
    """(action, start, end) for misspelt Korean verb stems in unclaimed Hangul runs."""
    out = []
    for m in re.finditer(r"[\uac00-\ud7a3]{3,}", text):
        word = m.group()
        for i in range(len(word) - 2):
            piece = word[i:i + 3]
            for stem, action in KO_STEMS.items():
                if _head_matches(piece[:2], stem[:2]) and _initial(piece[2]) == _initial(stem[2]):
                    out.append((action, m.start() + i, m.start() + i + 3))
                    break
            else:
                continue
            break
    return out
