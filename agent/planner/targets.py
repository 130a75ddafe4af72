"""Which instances a request refers to, resolved against the live inventory only.

Two passes. `find_names` runs first on the whole text and claims explicit ids, exact
names (also written with spaces: "kafka broker 2"), globs and name prefixes, so
that a name containing a verb or topic word is never read as one. `find_groups`
runs on what intent detection left over and reads group words: tag values
(env=prod, role=web), parts of names ("brokers"), Korean words for them, and a few
synonyms ("database" for a postgres host). `combine` turns the hits into a set.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from dataclasses import dataclass, field, replace

from agent.planner import vocab
from agent.planner.intents import Analysis
from agent.planner.inventory_index import InventoryIndex, compact, name_key, stem
from agent.planner.textnorm import HANGUL_TOKEN, is_hangul
from agent.planner.types import Clarification

_TOKEN = re.compile(r"[\w.:*?/-]+|[,&+]")
_ID = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
_NAMELIKE = re.compile(r"^(?=.*[a-z\uac00-\ud7a3])(?=.*[\d_.-])[^/]+$")
_DURATION = re.compile(r"^\d+-?(?:[smhdw]|ms|mins?|hrs?|secs?|days?|hours?|minutes?|weeks?|months?|th|st|nd|rd|x|"
                       r"gb|mb|kb|tb|%)?$")
_CONJ = frozenset({"and", "or", ",", "&", "+", "및", "그리고"})
_CONJ_RE = re.compile(r"(?<![\w-])(?:and|or|및|그리고)(?![\w-])|[,&+]|(?<=[\uac00-\ud7a3\x01])(?:이랑|랑|와|과|하고)(?!\w)")
_KO_WORDS = [(re.compile(ko), en) for ko, en in vocab.KO_WORDS]
_PLURAL_NOUNS = frozenset({"servers", "instances", "hosts", "machines", "boxes", "nodes", "vms"})
_ENV_WORDS = {w: cls for cls, words in vocab.ENV_CLASSES.items() for w in words}
_CONCEPT_OF = {w: group for group in vocab.CONCEPTS for w in group}
_NUMBER_WORDS = frozenset({"two", "three", "four", "five", "both", "couple"})


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    members: frozenset[int]
    kind: str  # id | name | prefix | glob | env | word
    word: str
    segment: int = 0


@dataclass
class Found:
    hits: list[Hit] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # name-like strings that match nothing
    pending: list[tuple[int, int, str]] = field(default_factory=list)  # unknown unless a cue claims it
    loose: list[str] = field(default_factory=list)  # other unrecognised words
    plural: bool = False
    numbers: list[int] = field(default_factory=list)  # "broker 2", "2번": picks one member of a group

    @property
    def spans(self) -> list[tuple[int, int]]:
        return [(h.start, h.end) for h in self.hits]


def _tokens(text: str):
    for m in _TOKEN.finditer(text):
        tok, start = m.group(), m.start()
        stripped = tok.rstrip(".:-?") if len(tok) > 1 else tok
        if stripped and stripped != "?":  # a question mark alone ("is web-1 up ?") is no one-letter glob
            yield start, start + len(stripped), stripped


def _lookup_name(index: InventoryIndex, key: str) -> list[int]:
    return index.by_key.get(key) or index.by_compact.get(compact(key)) or []


def _name_kind(members: list[int]) -> str:
    # Two hosts can share a loose spelling ("web-1", "web-01"); then it is a choice, not a name.
    return "name" if len(members) == 1 else "prefix"


def find_names(index: InventoryIndex, text: str) -> Found:
    """Explicit references: ids, names (any spacing), globs, and name prefixes."""
    found, toks = Found(), list(_tokens(text))
    i = 0
    while i < len(toks):
        width = _window_match(index, toks, i, found)
        if width:
            i += width
            continue
        _single_token(index, toks[i], found)
        i += 1
    return found


def _window_match(index: InventoryIndex, toks, i: int, found: Found) -> int:
    """Longest run of tokens from i that spells a name; single plain words are left to find_groups."""
    for width in range(min(index.max_parts, 5, len(toks) - i), 0, -1):
        run = toks[i:i + width]
        words = [t for _, _, t in run]
        if width == 1 and not _NAMELIKE.match(words[0]):
            return 0
        if any(w in _CONJ for w in words):
            continue
        members = _lookup_name(index, name_key(" ".join(words)))
        if members:
            found.hits.append(Hit(run[0][0], run[-1][1], frozenset(members), _name_kind(members), "-".join(words)))
            return width
    return 0


def _single_token(index: InventoryIndex, tok, found: Found) -> None:
    start, end, word = tok
    if _ID.fullmatch(word) or (word.startswith("i-") and len(word) > 4):
        member = index.by_id.get(word)
        if member is None:
            found.pending.append(tok)
        else:
            found.hits.append(Hit(start, end, frozenset({member}), "id", word))
    elif ("*" in word or "?" in word) and "/" not in word:
        matched = [i for i, key in enumerate(index.key_of) if fnmatch.fnmatchcase(key, word)]
        found.hits.append(Hit(start, end, frozenset(matched), "glob", word))
    elif _NAMELIKE.match(word) and not _DURATION.match(word):
        matched = index.with_prefix(name_key(word))
        if matched:
            found.hits.append(Hit(start, end, frozenset(matched), "name" if len(matched) == 1 else "prefix", word))
        else:
            found.pending.append(tok)


def find_korean(index: InventoryIndex, text: str, found: Found) -> None:
    """Korean words for groups ("웹", "카프카"), claimed before verbs are scanned, so that a noun
    such as "체크아웃" is not read as the verb "체크". Only words this inventory has are claimed."""
    if not HANGUL_TOKEN.search(text):
        return
    claimed = list(text)
    for regex, en in _KO_WORDS:
        for k in regex.finditer(text):
            if claimed[k.start()] == "\x01":
                continue  # inside a longer word already claimed ("큐에이" before "큐")
            members, kind, label = group_lookup(index, en)
            if members:
                found.hits.append(Hit(k.start(), k.end(), frozenset(members), kind, label))
                claimed[k.start():k.end()] = "\x01" * (k.end() - k.start())


def find_groups(index: InventoryIndex, rest: str, found: Found) -> None:
    """Group words in `rest` (the text with names and cue words blanked), added to `found`."""
    found.unknown += [w for s, e, w in found.pending if rest[s:e] == w]
    toks = list(_tokens(rest))
    for n, (start, end, word) in enumerate(toks):
        previous = toks[n - 1][2] if n else ""
        following = toks[n + 1][2] if n + 1 < len(toks) else ""
        if is_hangul(word):
            _hangul_token(index, start, end, word, found)
        elif word.isdigit() and len(word) <= 4 and _ordinal_context(previous, following, found, start):
            found.numbers.append(int(word))
        elif not _NAMELIKE.match(word) and word not in _CONJ:
            _word_token(index, start, end, word, found)
    found.hits = _with_segments(rest, found.hits)


def _with_segments(text: str, hits: list[Hit]) -> list[Hit]:
    """Number the "and"-separated phrases: words intersect within one, phrases add up."""
    marks = [m.start() for m in _CONJ_RE.finditer(text)]
    hits = sorted(hits, key=lambda h: h.start)
    return [replace(h, segment=bisect.bisect_right(marks, h.start)) for h in hits]


def _ordinal_context(previous: str, following: str, found: Found, start: int) -> bool:
    """A bare number names a member when it follows a group word or "number", or reads "2번"."""
    if following.startswith(("번", "호기", "호")) or previous in ("number", "no", "#", "num"):
        return True
    before = [h for h in found.hits if h.end <= start]
    return bool(before) and before[-1].kind in ("word", "prefix") and before[-1].end >= start - 2


def _word_token(index: InventoryIndex, start: int, end: int, word: str, found: Found) -> bool:
    if word in _PLURAL_NOUNS or word in _NUMBER_WORDS:
        found.plural = True
    if word.isdigit() or _DURATION.match(word) or word in vocab.STOPWORDS or "/" in word:
        return False
    members, kind, label = group_lookup(index, word)
    if not members:
        if len(word) > 1 and not word.startswith(("*", "?")):
            found.loose.append(word)
        return False
    if kind == "word" and word not in index.words and stem(word) != word:
        found.plural = True  # "brokers", "dbs": the plural of a group word
    found.hits.append(Hit(start, end, frozenset(members), kind, label))
    return True


def _hangul_token(index: InventoryIndex, start: int, end: int, word: str, found: Found) -> None:
    """What is left of a Korean word after claimed nouns: plural marks, and nouns this fleet lacks."""
    if word.startswith("들") or ("들" in word and any(g in word for g in vocab.KO_GENERIC)):
        found.plural = True  # "서버들", "워커들" (the noun itself was claimed by find_korean)
    for regex, en in _KO_WORDS:
        if regex.search(word):
            found.loose.append(en)


def group_lookup(index: InventoryIndex, word: str) -> tuple[set[int], str, str]:
    """Members named by one word, how (name|env|word|prefix), and the inventory word that matched."""
    exact = index.by_key.get(word)
    if exact:
        return set(exact), _name_kind(exact), word
    cls = _ENV_WORDS.get(word) or (word if word in index.env_members else None)
    if cls and index.env_members.get(cls):
        return index.env_members[cls], "env", cls
    for w in (word, stem(word)):
        if w in index.words:
            return index.words[w], "word", w
    concept = _CONCEPT_OF.get(word) or _CONCEPT_OF.get(stem(word)) or ()
    # Deterministic pick for list filters: most hosts, then a tag value over a name part, then spelling.
    hits = sorted((w for w in concept if w in index.words),
                  key=lambda w: (-len(index.words[w]), w not in index.word_tags, w))
    if hits:
        return set().union(*(index.words[w] for w in hits)), "word", hits[0]
    if len(word) >= 3:
        prefixed = index.with_prefix(word)
        if prefixed:
            return set(prefixed), "name" if len(prefixed) == 1 else "prefix", word
    return set(), "", word


@dataclass
class Resolution:
    members: list[int]
    explicit: bool = False  # every target was named or given by id
    whole_fleet: bool = False
    empty_reason: str | None = None


def excluded_hits(found: Found, cues: list[tuple[int, int, bool]]) -> set[Hit]:
    """Hits an exclusion picks out: after "except"/"but not", or just before "빼고"/"말고"."""
    out: set[Hit] = set()
    for start, end, korean in cues:
        if not korean:
            out |= {h for h in found.hits if h.start >= end}
            continue
        before = [h for h in found.hits if h.end <= start]
        if before:
            out.add(max(before, key=lambda h: h.end))
    return out


def combine(index: InventoryIndex, found: Found, excluded: set[Hit], everything: bool,
            reading: bool = False) -> Resolution:
    """One set of instances from the hits. Names add up; group words intersect within a phrase
    ("prod web") and phrases joined by "and" add up; an environment narrows everything. A name
    next to group words that do not contain it ("stop web-1 ... the db server") is a contradiction
    for an action; for a read (`reading`) the name wins, because a tag word said in passing ("cpu
    for api-1, ops is asking") is about who asks, and reading the named host harms nothing."""
    hits = [h for h in found.hits if h not in excluded]
    drop = set().union(*(h.members for h in excluded)) if excluded else set()
    named = set().union(*(h.members for h in hits if h.kind in ("id", "name")))
    groups = [h for h in hits if h.kind not in ("id", "name")]
    if named and not groups:
        return Resolution(_ordered(named - drop), explicit=True)
    grouped, reason = _grouped(index, found, groups)
    if named and not (found.plural or everything):
        if named <= grouped or not groups or reading:
            return Resolution(_ordered(named - drop), explicit=True)
        labels = ", ".join(sorted(index.label(i) for i in named))
        words = " ".join(repr(h.word) for h in groups)
        return Resolution([], empty_reason=f"{labels} does not match {words}; which did you mean?")
    fleet = not (groups or named) and everything and not found.loose
    members = set(range(len(index.items))) if fleet else named | grouped
    return Resolution(_ordered(members - drop), whole_fleet=fleet, empty_reason=None if members else reason)


def _grouped(index: InventoryIndex, found: Found, groups: list[Hit]) -> tuple[set[int], str | None]:
    words = [h for h in groups if h.kind != "env"]
    envs = [h for h in groups if h.kind == "env"]
    segments: dict[int, set[int]] = {}
    for h in words:
        segments[h.segment] = segments[h.segment] & h.members if h.segment in segments else set(h.members)
    grouped = set().union(*segments.values()) if segments else set()
    if envs:
        env_set = set().union(*(h.members for h in envs))
        grouped = (grouped if segments else set(range(len(index.items)))) & env_set
    if groups and not grouped:
        return grouped, "No instance matches " + " ".join(repr(h.word) for h in groups) + " together"
    if len(grouped) > 1 and found.numbers:
        grouped = {i for i in grouped if set(found.numbers) & _name_numbers(index, i)}
        if not grouped:
            return grouped, f"No instance matches {' '.join(repr(h.word) for h in words)} number {found.numbers[0]}"
    return grouped, None


def _name_numbers(index: InventoryIndex, i: int) -> set[int]:
    return {int(n) for n in re.findall(r"\d+", index.keys(i))[-1:]}


def _ordered(members: set[int]) -> list[int]:
    return sorted(members)


def resolve(index: InventoryIndex, found: Found, analysis: Analysis, norm: str) -> Resolution:
    """The instances the request's words name, less those an "except …" clause takes out."""
    cues = [(c.start, c.end, not norm[c.start:c.end].isascii()) for c in analysis.guards if c.label == "exclude"]
    return combine(index, found, excluded_hits(found, cues), analysis.quantified, reading=not analysis.actions)


def sample_names(index: InventoryIndex, states: set[str] | None, n: int = 8) -> list[str]:
    """A few names to offer when the request names none, in states the action could apply to."""
    picked = [index.label(i) for i, it in enumerate(index.items) if states is None or it.state in states]
    return picked[:n]


def missing_targets(index: InventoryIndex, found: Found, res: Resolution, question: str,
                    states: set[str] | None) -> Clarification | None:
    """A Clarification when the targets are unknown, contradictory or absent; None when usable."""
    if found.unknown:
        name = found.unknown[0]
        return Clarification(message=f"No instance named '{name}'.", candidates=index.closest(name))
    if res.members:
        return None
    if res.empty_reason:
        offered = sorted({index.label(i) for h in found.hits for i in h.members})[:10]
        end = "" if res.empty_reason.endswith("?") else "."
        return Clarification(message=res.empty_reason + end, candidates=offered)
    if found.loose:
        name = " ".join(found.loose[:3])
        return Clarification(message=f"No instance named '{name}'.", candidates=index.closest(name))
    return Clarification(message=question, candidates=sample_names(index, states))
