"""Lookup tables over one PlanningContext's inventory, built once and reused while it is unchanged.

The planner must answer in a few milliseconds against a thousand instances, so
every per-request question ("is 'web-1' a name?", "which hosts are role=web?")
is a dict lookup here. Nothing in this module knows any particular fleet: words
come from the live Name tags and tag values.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from agent.planner import vocab
from agent.planner.textnorm import normalize
from agent.planner.types import InventoryItem, PlanningContext
from utils.names import name_key as shared_name_key

_SPLIT = re.compile(r"[-_.:/\s]+")
_NOT_WORD = frozenset({"true", "false", "yes", "no", "none", "null", "on", "off"})
GENERIC_NOUNS = frozenset({
    "server", "servers", "instance", "instances", "host", "hosts", "machine", "machines", "box", "boxes",
    "node", "nodes", "vm", "vms", "ec2", "the", "and", "all", "of", "for",
})
_ENV_WORDS = {w: cls for cls, words in vocab.ENV_CLASSES.items() for w in words}


_SEPARATORS = re.compile(r"[\s_-]+")


def name_key(name: str) -> str:
    """The spelling-insensitive form of a name: 'Web Server_1' and 'web-server-1' share a key."""
    return _SEPARATORS.sub("-", normalize(name)).strip("-")


@lru_cache(maxsize=8192)
def _normal_value(value: str) -> str:
    # Tag values repeat across a fleet (env=prod on hundreds of hosts): normalise each once.
    return normalize(value)


_PADDING = re.compile(r"(?<!\d)0+(?=\d)")


def compact(key: str) -> str:
    """Separators and zero padding dropped: 'web1', 'WEB 01' and 'web-1' all meet here."""
    return _PADDING.sub("", shared_name_key(key))


def stem(word: str) -> str:
    """Crude English plural stripping; enough for 'brokers', 'boxes', 'caches', 'dbs'."""
    if len(word) > 4 and word.endswith(("xes", "ses", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def env_class(value: str) -> str:
    v = _normal_value(value)
    return _ENV_WORDS.get(v, v)


@dataclass
class InventoryIndex:
    items: list[InventoryItem]
    by_id: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_compact: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    sorted_keys: list[tuple[str, int]] = field(default_factory=list)
    words: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    word_tags: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    name_words: set[str] = field(default_factory=set)
    env_members: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    env_tags: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    key_of: list[str] = field(default_factory=list)
    max_parts: int = 1
    place_of: dict[int, str] = field(default_factory=dict)  # " in eu-west-1" for a Name in several places
    _grams: dict[str, list[int]] | None = None

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every word that names a group of hosts; topic words equal to one are read as targets."""
        return frozenset(self.words)

    def keys(self, i: int) -> str:
        return self.key_of[i]

    def label(self, i: int) -> str:
        """How a person tells instance i apart: its Name, and where it is when the Name is in two places."""
        item = self.items[i]
        return (item.name or item.instance_id) + self.place_of.get(i, "")

    def with_prefix(self, prefix: str, cap: int = 50) -> list[int]:
        start = bisect.bisect_left(self.sorted_keys, (prefix, -1))
        found = []
        for key, i in self.sorted_keys[start:start + cap]:
            if not key.startswith(prefix):
                break
            found.append(i)
        return found

    def closest(self, query: str, n: int = 5) -> list[str]:
        """Up to n names nearest to `query` by edit distance, shortlisted by shared trigrams."""
        if not self.items:
            return []
        grams = self._grams if self._grams is not None else self._build_grams()
        q = name_key(query)
        votes: Counter = Counter()
        for g in _trigrams(q):
            votes.update(grams.get(g, ()))
        shortlist = [i for i, _ in votes.most_common(20)] or list(range(min(20, len(self.items))))
        ranked = sorted(shortlist, key=lambda i: (_levenshtein(q, self.keys(i)), self.keys(i)))
        return [self.label(i) for i in ranked[:n]]

    def _build_grams(self) -> dict[str, list[int]]:
        grams: dict[str, list[int]] = defaultdict(list)
        for i in range(len(self.items)):
            for g in set(_trigrams(self.keys(i))):
                grams[g].append(i)
        self._grams = grams
        return grams


def _trigrams(key: str) -> list[str]:
    padded = f"^{key}$"
    return [padded[j:j + 3] for j in range(max(1, len(padded) - 2))]


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _add_word(index: InventoryIndex, word: str, i: int, tag: tuple[str, str] | None) -> None:
    if len(word) < 2 or word.isdigit() or word in _NOT_WORD or word in GENERIC_NOUNS:
        return
    for w in {word, stem(word)}:
        index.words[w].add(i)
        if tag:
            index.word_tags[w][tag] += 1
        else:
            index.name_words.add(w)


def _index_item(index: InventoryIndex, i: int, item: InventoryItem) -> None:
    index.by_id[item.instance_id.lower()] = i
    key = name_key(item.name or item.instance_id)
    index.key_of.append(key)
    index.by_key[key].append(i)
    index.by_compact[compact(key)].append(i)
    parts = [p for p in _SPLIT.split(key) if p]
    index.max_parts = max(index.max_parts, len(parts))
    for part in parts:
        _add_word(index, part, i, None)
    for k, v in item.tags.items():
        if k == "Name" or k.lower().startswith("aws:") or not v:
            continue
        value = _normal_value(v)
        if k.lower() in vocab.ENV_KEYS:
            index.env_members[env_class(value)].add(i)
            index.env_tags[env_class(value)][(k, v)] += 1
        for word in {value, *(p for p in _SPLIT.split(value) if p)}:
            _add_word(index, word, i, (k, v))


def build_index(context: PlanningContext) -> InventoryIndex:
    index = InventoryIndex(items=list(context.instances))
    for i, item in enumerate(index.items):
        _index_item(index, i, item)
    index.sorted_keys = sorted((k, i) for k, ids in index.by_key.items() for i in ids)
    for ids in index.by_key.values():
        if len(ids) > 1:
            _tell_apart(index, ids)
    return index


def _tell_apart(index: InventoryIndex, ids: list[int]) -> None:
    """Place suffixes for one Name held by several instances: the region, and the account when that differs
    too, written as a request can say it back ("stop web-1 in eu-west-1", "... in prod/eu-west-1")."""
    items = [index.items[i] for i in ids]
    places = {(it.account, it.region) for it in items}
    if len(places) < 2 or any(it.region is None for it in items):
        return
    accounts = len({it.account for it in items}) > 1
    for i, it in zip(ids, items, strict=True):
        index.place_of[i] = f" in {it.account}/{it.region}" if accounts and it.account else f" in {it.region}"


# Two caches: by object identity (the same context asked again: O(1)), and by content (a
# fresh context object holding the same inventory, as a caller rebuilding it per request
# would pass: a ~1 ms fingerprint instead of a ~40 ms rebuild).
_BY_ID: OrderedDict[tuple, tuple[PlanningContext, InventoryIndex]] = OrderedDict()
_BY_CONTENT: OrderedDict[int, InventoryIndex] = OrderedDict()
_CACHE_SIZE = 16


def _fingerprint(context: PlanningContext) -> int:
    return hash(tuple((i.instance_id, i.name, i.state, tuple(i.tags.items()), i.region, i.account)
                      for i in context.instances))


def index_for(context: PlanningContext) -> InventoryIndex:
    """The index for `context`, rebuilt when its inventory changes.

    The identity key includes the list's id and length, so replacing or growing the list
    is seen; an InventoryItem edited in place is only seen for `state`, which is read live.
    The identity cache holds the context itself, so its id cannot be reused meanwhile.
    """
    key = (id(context), id(context.instances), len(context.instances))
    hit = _BY_ID.get(key)
    if hit is not None and hit[0] is context:
        _BY_ID.move_to_end(key)
        return hit[1]
    fingerprint = _fingerprint(context)
    index = _BY_CONTENT.get(fingerprint)
    if index is None:
        index = build_index(context)
        _remember(_BY_CONTENT, fingerprint, index)
    _remember(_BY_ID, key, (context, index))
    return index


def _remember(cache: OrderedDict, key, value) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
