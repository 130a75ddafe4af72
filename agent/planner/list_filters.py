"""list_instances filters from a request: state, tags and a Name glob, in the inventory's own spelling.

A filter is only useful if it matches what the tags actually say, so "production
boxes" becomes tags={"env": "prod"} when that is how this fleet writes it, and
"web*" keeps the case the Name tags use (EC2 tag filters are case-sensitive).
"""

from __future__ import annotations

from collections import Counter

from agent.planner.inventory_index import InventoryIndex, stem
from agent.planner.request import Request
from agent.planner.targets import Hit

_STATES = ("pending", "running", "stopping", "stopped", "shutting-down", "terminated")


def list_filters(req: Request) -> dict:
    """The arguments of list_instances for a request: only the filters it actually states."""
    args: dict = {}
    states = [s for s in req.analysis.state_words if s in _STATES]
    if states:
        args["state"] = states[0]
    tags: dict[str, str | None] = {}
    names: list[str] = []
    tagged: set[int] | None = None  # hosts the tag filters select; a name part covering them adds nothing
    name_words: list[Hit] = []
    for hit in req.found.hits:
        pair = (req.index.env_tags[hit.word].most_common(1)[0][0] if hit.kind == "env"
                else _tag_for(req.index, hit.word) if hit.kind == "word" else None)
        if pair:
            _add_tag(tags, *pair)
            tagged = set(hit.members) if tagged is None else tagged & hit.members
        elif hit.kind == "word":
            name_words.append(hit)
        elif hit.kind in ("name", "id", "glob", "prefix"):
            names.append(_name_filter(req.index, hit))
    names += [f"*{h.word}*" for h in name_words if not (tagged and tagged <= h.members)]
    tags = {k: v for k, v in tags.items() if v is not None}
    if tags:
        args["tags"] = tags
    name = _one_glob([n for n in names if n])
    if name:
        args["name"] = name
    return args


def _add_tag(tags: dict[str, str | None], key: str, value: str) -> None:
    """One value per key; two values for one key ("web and api") can't be one filter, so drop it."""
    if tags.get(key, value) != value:
        tags[key] = None
    elif key not in tags:
        tags[key] = value


def _tag_for(index: InventoryIndex, word: str) -> tuple[str, str] | None:
    """The (key, value) a group word stands for; a value equal to the word beats one that contains it."""
    pairs: Counter = index.word_tags.get(word) or Counter()
    if not pairs:
        return None
    exact = [p for p in pairs if stem(p[1].lower()) == stem(word)]
    return max(exact or pairs, key=lambda p: pairs[p])


def _name_filter(index: InventoryIndex, hit: Hit) -> str:
    labels = [index.items[i].name or index.items[i].instance_id for i in sorted(hit.members)]
    if hit.kind in ("name", "id") and len(labels) == 1:
        return labels[0]
    literal = hit.word.split("*")[0].split("?")[0] if hit.kind == "glob" else hit.word
    pattern = hit.word if hit.kind == "glob" else literal + "*"
    # Borrow the inventory's case for the literal head, when every match agrees on it.
    heads = {label[: len(literal)] for label in labels}
    if len(heads) == 1 and literal and next(iter(heads)).lower() == literal:
        pattern = next(iter(heads)) + pattern[len(literal):]
    return pattern


def _one_glob(names: list[str]) -> str | None:
    """list_instances takes one Name glob; several names become their common head plus '*'."""
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    head = names[0]
    for other in names[1:]:
        while head and not other.startswith(head):
            head = head[:-1]
    head = head.rstrip("*")
    return head + "*" if len(head) >= 2 else None
