"""Intent detection for the offline planner: which verb or topic a request carries, and its flags.

The scan runs in passes over the normalised text (guards, states, verbs, topics);
each pass blanks what it matched, so a word is read once: "재부팅" is a reboot and
not also a "부팅" (boot), "stopped" in "start the stopped boxes" is a filter and
not a second verb. Offsets survive blanking, so clause boundaries can still be
located for compound-command detection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.planner import fuzzy, vocab
from agent.planner.textnorm import mask

ACTION_TOOLS = {"start": "start_instances", "stop": "stop_instances", "reboot": "reboot_instances",
                "terminate": "terminate_instances"}
# Topics that make a request read-only, most specific first: a cost question that also says
# "show" is about cost; "CPU alarms" are alarms, not a metric.
READ_PRIORITY = ("sop", "cost", "logs", "alarms", "metrics", "status", "describe", "list", "which",
                 "logs_weak", "status_weak", "cost_weak", "show")
# Read topics that, in a clause of their own next to a verb, make the line a second command.
_COMMAND_READS = frozenset({"cost", "logs", "alarms", "metrics", "status", "describe", "list", "which", "show"})


@dataclass(frozen=True)
class Cue:
    label: str
    start: int
    end: int


class _Pass:
    """One compiled alternation over a cue table; `lastgroup` says which row matched."""

    def __init__(self, table: list[tuple[str, str]]):
        parts, self.labels = [], []
        for i, (label, pattern) in enumerate(table):
            body = pattern if not pattern.isascii() else rf"(?<![\w-])(?:{pattern})(?![\w-])"
            parts.append(f"(?P<c{i}>{body})")
            self.labels.append(label)
        self.regex = re.compile("|".join(parts))

    def scan(self, text: str) -> list[Cue]:
        return [Cue(self.labels[int(m.lastgroup[1:])], m.start(), m.end())
                for m in self.regex.finditer(text) if m.end() > m.start()]


_GUARDS = _Pass(vocab.GUARD_CUES)
_STATES = _Pass(vocab.STATE_CUES)
_ACTIONS = _Pass(vocab.ACTION_CUES)
_READS = _Pass(vocab.READ_CUES)
_SOFT = re.compile(vocab.SOFT_SEPARATORS)
_HARD = re.compile(vocab.HARD_SEPARATORS)
_QUANT = re.compile(vocab.QUANTIFIERS)
# A clause opening like a question is a request of its own: "stop web-1 and is db-1 up".
_CLAUSE_QUESTION = re.compile(r"(?:is|are|was|were|what|which|how|why|when|who|did|does|do|can|could|should)\b")
# A verb after a determiner is a noun ("the restart of api-1", "its shutdown behaviour"), unless a
# light verb makes it a command again ("do a reboot of web-1", "trigger a restart").
_NOUN_USE = re.compile(r"(?<!\bdo )(?<!\bperform )(?<!\btrigger )(?<!\bschedule )(?<!\bissue )(?<!\binitiate )"
                       r"(?<!\bexecute )(?<!\bneed )(?<!\bneeds )(?<!\bwant )(?:\b(?:the|a|an|this|that|last|latest|recent|previous|"
                       r"its|their|his|her|our|my|your|of|about|after|before|since|during)|'s) $")
# "give web-1 a restart", "give it a quick kick": the verb's noun after "give ... a" is the command.
_GIVE_A = re.compile(r"\bgive\s+(?:\S+\s+){1,4}?an?\s+(?:(?:quick|good|fast|gentle|little|hard|soft|proper)\s+)?$")
# A line that opens like a question asks about an action rather than ordering it.
_QUESTION = re.compile(r"^(?:why|when|did|does|was|were|has|have|had|is|are|who|should (?:i|we)|shall (?:i|we)"
                       r"|would (?:i|we))\b")
# "is web-1 running?" asks for status even though "running" was taken as a state word.
_STATUS_QUESTION = re.compile(r"^(?:is|are|was|were) \S.*\b(?:up|down|running|stopped|ok|okay|fine|alive|healthy|"
                              r"reachable|responding)\b")


@dataclass
class Analysis:
    """What the scan found. `rest` is the text with every cue blanked: what is left names targets."""

    text: str
    rest: str
    guards: list[Cue] = field(default_factory=list)
    states: list[Cue] = field(default_factory=list)
    actions: list[Cue] = field(default_factory=list)
    reads: list[Cue] = field(default_factory=list)
    reports: list[Cue] = field(default_factory=list)  # verbs in past or question form: not commands

    def has(self, label: str) -> bool:
        return any(c.label == label for c in self.guards)

    @property
    def action_kinds(self) -> set[str]:
        return {c.label for c in self.actions}

    @property
    def read_kinds(self) -> set[str]:
        return {c.label for c in self.reads}

    @property
    def state_words(self) -> list[str]:
        return [c.label for c in self.states]

    @property
    def quantified(self) -> bool:
        return bool(_QUANT.search(self.text))

    def read_topic(self) -> str | None:
        kinds = self.read_kinds | ({"sop"} if self.has("sop") else set())
        return next((k for k in READ_PRIORITY if k in kinds), None)


def analyse(text: str, demote: frozenset[str] = frozenset()) -> Analysis:
    """Scan `text` (already normalised, names already blanked) in passes.

    `demote` holds inventory words (tag values, name parts): a topic word that is also the
    name of a group of hosts can be read as a target instead (see _demote).
    """
    result = Analysis(text=text, rest=text)
    for attr, scanner in (("guards", _GUARDS), ("states", _STATES), ("actions", _ACTIONS), ("reads", _READS)):
        cues = scanner.scan(result.rest)
        if attr == "reads" and demote:
            cues = _demote(cues, result, demote)
        if attr == "actions":
            cues += _misspelt(mask(result.rest, [(c.start, c.end) for c in cues]), demote)
        setattr(result, attr, cues)
        result.rest = mask(result.rest, [(c.start, c.end) for c in cues])
    if _STATUS_QUESTION.match(text):
        result.reads.append(Cue("status", 0, 2))
    _settle_verbs(result)
    return result


def _misspelt(rest: str, demote: frozenset[str]) -> list[Cue]:
    """Verbs typed with a slip ("stpo", "rebot", "재부트"), from words no earlier pass claimed that are
    neither inventory words nor read words ("stats", "state" stay what they are)."""
    found = fuzzy.misspelt_verbs(rest, demote | vocab.STOPWORDS) + fuzzy.korean_verbs(rest)
    return [Cue(action, start, end) for action, start, end in found if not _READS.scan(rest[start:end])]


_GENERIC_READS = frozenset({"show", "which", "status_weak", "cost_weak"})


def _demote(cues: list[Cue], result: Analysis, demote: frozenset[str]) -> list[Cue]:
    """Drop topic words that name hosts here ("billing" for role=billing) when something else says
    what is asked: a verb ("restart the billing servers"), another real topic ("list the billing
    workers", "billing worker errors"), or, for generic words, any other topic ("status of the
    search cluster"). A host word that is the only topic stays a topic."""
    named = [c for c in cues if result.rest[c.start:c.end] in demote]
    if not named:
        return cues
    others = [c for c in cues if c not in named]
    if result.actions or any(c.label not in _GENERIC_READS for c in others):
        return others
    generic = [c for c in named if c.label in _GENERIC_READS]
    return [c for c in cues if c not in generic] if others or len(named) > len(generic) else cues


def _settle_verbs(result: Analysis) -> None:
    """Keep only commanding verbs. Reports ("was web-1 rebooted?") and questions ("why did web-1
    reboot", "should I stop it?") ask about an action, so they become a status question, except
    after a hypothetical, where "what if I stopped db-1" is exactly a dry run of that verb."""
    hypothetical = result.has("dryrun")
    given = [c for c in result.actions if _GIVE_A.search(result.text[:c.start])]
    if given:  # "give" is then part of the verb, not a request to show something
        gives = {_GIVE_A.search(result.text[:c.start]).start() for c in given}
        result.reads = [r for r in result.reads if r.start not in gives]
    nouns = [c for c in result.actions if c not in given and _NOUN_USE.search(result.text[:c.start])]
    past = [c for c in result.actions if c.label.startswith("past_") and c not in nouns]
    present = [c for c in result.actions if c not in past and c not in nouns]
    if hypothetical and not present:
        present, past = [Cue(c.label[5:], c.start, c.end) for c in past] or _state_as_verb(result), []
    elif present and not hypothetical and _QUESTION.match(result.text):
        past, present = present, []
    if past and not present:
        result.reads.append(Cue("status_weak", past[0].start, past[0].end))
    result.actions, result.reports = present, past + nouns


def _state_as_verb(result: Analysis) -> list[Cue]:
    """"What if I terminated db-1": a participle after a hypothetical is the verb, not a state."""
    verbs = {"stopped": "stop", "stopping": "stop", "terminated": "terminate"}
    for cue in result.states:
        if cue.label in verbs and result.text[cue.start:cue.end] in verbs:
            result.states.remove(cue)
            return [Cue(verbs[cue.label], cue.start, cue.end)]
    return []


def clauses(text: str) -> list[tuple[int, int, bool]]:
    """Clause spans of `text` as (start, end, after_hard_separator)."""
    spans, start, hard = [], 0, False
    marks = sorted([(m.start(), m.end(), False) for m in _SOFT.finditer(text)]
                   + [(m.start(), m.end(), True) for m in _HARD.finditer(text)])
    for s, e, is_hard in marks:
        if s < start:
            continue
        if text[start:s].strip():
            spans.append((start, s, hard))
            hard = is_hard
        else:
            hard = hard or is_hard  # "? 그리고": the hard edge must survive the empty clause
        start = e
    spans.append((start, len(text), hard))
    return [c for c in spans if text[c[0]:c[1]].strip()]


def _clause_of(spans: list[tuple[int, int, bool]], pos: int) -> int:
    return next((i for i, (s, e, _) in enumerate(spans) if s <= pos < e), -1)


def compound_reason(result: Analysis) -> str | None:
    """Why the line holds more than one command, or None. Only matters when a verb is present.
    Anything after a shell-style separator is a second command, even a bare name: "web-1; reboot
    db-1" must not reboot web-1, and "stop web-1; web-2" is safer asked again than guessed."""
    kinds = result.action_kinds
    if len(kinds) > 1:
        return f"it asks for several actions ({', '.join(sorted(kinds))}); send each as its own request"
    spans = clauses(result.text)
    if len(spans) > 1 and any(hard for _, _, hard in spans):
        return "it contains a second command after a separator"
    verb_clauses = {_clause_of(spans, c.start) for c in result.actions}
    if len(verb_clauses) > 1:
        return "the action appears twice; say it once with every target (e.g. 'stop a and b')"
    for i, (s, e, _) in enumerate(spans):
        if i in verb_clauses:
            continue
        if any(s <= c.start < e and c.label in _COMMAND_READS for c in result.reads) or \
                any(s <= c.start < e for c in result.reports) or _CLAUSE_QUESTION.match(result.text[s:e].strip()):
            return "it mixes an action with a second request"
    return None


# Read topics that make "terminate" too risky to guess at: "delete the logs on web-1" is not
# a request to destroy web-1. Terminate is irreversible, so any of them asks first.
_TERMINATE_BLOCKERS = frozenset({"cost", "logs", "logs_weak", "alarms", "metrics", "status", "describe", "list",
                                 "which", "show"})
# Verbs that only fetch ("get", "find"): in the clause of an action they are part of it, not a request.
_SOFT_SHOW = frozenset({"get", "find", "look", "look at", "look up", "fetch", "search", "see", "pull up"})


def mixed_reason(result: Analysis, kind: str) -> str | None:
    """Why an action sits too close to a read request to be planned, or None."""
    if kind == "terminate":
        topics = sorted({c.label.replace("_weak", "") for c in result.reads if c.label in _TERMINATE_BLOCKERS})
        if topics:
            return f"it asks to terminate but also mentions {', '.join(topics)}"
    spans = clauses(result.text)
    verb_clauses = {_clause_of(spans, c.start) for c in result.actions}
    for c in result.reads:
        commanding = c.label in ("list", "describe") or (
            c.label == "show" and result.text[c.start:c.end] not in _SOFT_SHOW)
        if commanding and _clause_of(spans, c.start) in verb_clauses:
            return "it asks for an action and for information in the same breath"
    return None
