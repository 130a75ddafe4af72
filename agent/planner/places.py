"""Where a request points: the region and the account it names, read before anything else.

"stop web-1 in eu-west-1", "서울 리전 인스턴스", "alarms in the prod account", "모든 리전의 알람":
the place words become the optional `region` ("all" for every region) and `account` arguments of
the tools that take them (DESIGN.md, "The estate"), and they are blanked from the text, so that
"eu-west-1" is never read as an instance name nor "프로덕션" (in "프로덕션 계정") as env=prod.
Names then resolve only among the instances in that place (`scope`).

Account words need the word "account"/"계정" ("the prod account", "운영 계정"), or the name of a
configured account that means nothing else here ("in payments-live"): "prod" alone stays the
env tag it has always been. A word for production ("prod", "production", "운영", "프로덕션")
before "account" means the configured account named for production. An account the
configuration does not have is a question listing the ones it has, never dropped: dropping it
would widen a read, or an action, to every account. Without a list of accounts (a caller that
passed none), the word goes to the server as written and the server, which knows, answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.planner import regions, vocab
from agent.planner.inventory_index import InventoryIndex, env_class
from agent.planner.types import Clarification, PlannedCall, PlanningContext

# The tools with the optional place arguments (DESIGN.md, "MCP tool catalog" and "The estate").
PLACED_TOOLS = frozenset({"list_instances", "describe_instance", "get_instance_status", "start_instances",
                          "stop_instances", "reboot_instances", "terminate_instances", "list_alarms",
                          "get_metric_statistics", "search_logs", "get_alarm_evidence"})
ALL = "all"

_LEAD = r"(?:(?:in|at|from|on|across|for|within|of|over|throughout)\s+)?(?:the\s+)?(?:aws\s+)?"
_REGION_WORD = r"(?:\s+(?:region|regions|리전|지역))"
_KO_TAIL = r"(?: ?(?:리전|지역))?(?:에서의|에서|에 ?있는|의|에|쪽(?:의|에)?|은|는|이|가|을|를)?"
_ALL_REGIONS = re.compile(
    rf"{_LEAD}(?:(?:all|every|each|any)(?: of)?(?: the)?(?: aws)? regions?|every(?:where| aws region)"
    rf"|(?:multiple|several) regions)\b|(?:모든|전체|전|각) ?(?:리전|지역){_KO_TAIL}"
    rf"|(?:리전|지역) ?(?:전체|전부|모두){_KO_TAIL}")
_ALL_ACCOUNTS = re.compile(rf"{_LEAD}(?:(?:all|every|each|any)(?: of)?(?: the)?(?: aws)? accounts?)\b"
                           rf"|(?:모든|전체|전|각) ?계정{_KO_TAIL}")
_ACCOUNT_BEFORE = re.compile(rf"{_LEAD}([\w.-]+|[\uac00-\ud7a3]+?)\s+(?:aws\s+)?(?:account|acct)s?\b"
                             rf"|(?<![\uac00-\ud7a3])([\w.-]+|[\uac00-\ud7a3]+?) ?계정{_KO_TAIL}")
_ACCOUNT_AFTER = re.compile(rf"{_LEAD}(?:account|acct|계정)\s+([\w.-]+){_KO_TAIL}")
_ACCOUNT_ID = re.compile(r"\d{12}")
_ACCOUNT_SLASH_REGION = re.compile(rf"{_LEAD}(?<![\w/.-])([\w.-]+)/({regions.CODE_BODY})(?![\w/-])")
# Words before "account" that ask something about accounts rather than name one ("list account alarms").
_NOT_A_NAME = frozenset({"list", "display", "check", "view", "find", "search", "per", "by", "cross", "multi",
                         "other", "another", "same", "single", "whose", "aws", "region"})


@dataclass
class Places:
    """The place words of one request. `problem` is a question to ask instead of planning."""

    regions: list[str] = field(default_factory=list)  # region codes as named, or [ALL]
    accounts: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    problem: str | None = None
    candidates: list[str] = field(default_factory=list)

    @property
    def region(self) -> str | None:
        return self.regions[0] if self.regions else None

    @property
    def account(self) -> str | None:
        return self.accounts[0] if self.accounts else None

    @property
    def named(self) -> bool:
        return bool(self.regions or self.accounts)

    def where(self) -> str:
        region = None if self.region == ALL else self.region
        return "/".join(p for p in (self.account, region) if p)

    def arguments(self) -> dict[str, str]:
        args = {"region": self.region} if self.region else {}
        return args | ({"account": self.account} if self.account else {})


def read_places(norm: str, context: PlanningContext, index: InventoryIndex) -> Places:
    """The region and account `norm` names, and the spans that said so."""
    found = Places()
    taken = [False] * len(norm)
    _claim_all(found, taken, norm)
    for m in _ACCOUNT_SLASH_REGION.finditer(norm):
        if _free(taken, m) and _account(found, m.group(1), context):
            found.regions.append(m.group(2))
            _take(found, taken, m.start(), m.end())
    _claim_accounts(found, taken, norm, context, index)
    _claim_regions(found, taken, norm, index)
    found.regions = list(dict.fromkeys(found.regions))
    found.accounts = list(dict.fromkeys(found.accounts))
    _settle(found, context)
    return found


def _claim_all(found: Places, taken: list[bool], norm: str) -> None:
    for m in _ALL_REGIONS.finditer(norm):
        found.regions.append(ALL)
        _take(found, taken, m.start(), m.end())
    for m in _ALL_ACCOUNTS.finditer(norm):  # every account is what no account argument means
        _take(found, taken, m.start(), m.end())


def _claim_accounts(found: Places, taken: list[bool], norm: str, context: PlanningContext,
                    index: InventoryIndex) -> None:
    for m in _ACCOUNT_AFTER.finditer(norm):  # "account prod": a name the configuration has, or an id
        word = m.group(1)
        known = _configured(word, context)
        if _free(taken, m) and (known or _ACCOUNT_ID.fullmatch(word)):
            _account(found, word, context)
            _take(found, taken, m.start(), m.end())
    for m in _ACCOUNT_BEFORE.finditer(norm):
        word = next(g for g in m.groups() if g)
        if _free(taken, m) and not regions.CODE.fullmatch(word):
            if word not in vocab.STOPWORDS and word not in _NOT_A_NAME:  # "my account": no narrowing
                _account(found, word, context)
            _take(found, taken, m.start(), m.end())
    configured = {a.lower(): a for a in context.accounts}
    for m in re.finditer(rf"{_LEAD}([\w.-]+)", norm):
        word = m.group(1)
        if word in configured and _free(taken, m) and _distinct_account_name(word, index):
            found.accounts.append(configured[word])
            _take(found, taken, m.start(), m.end())


def _distinct_account_name(word: str, index: InventoryIndex) -> bool:
    """A configured account name that means nothing else in a request, so it needs no "account"."""
    return not (word in vocab.STOPWORDS or word == "default" or word in index.words or word in index.by_key
                or env_class(word) in vocab.ENV_CLASSES or word in index.env_members)


def _account(found: Places, word: str, context: PlanningContext) -> bool:
    configured = list(context.accounts)
    known = _configured(word, context)
    if known is None and configured:
        found.problem = f"No account named '{word}' is configured; the accounts are {', '.join(configured)}."
        found.candidates = configured
        return False
    found.accounts.append(known or word)  # unconfigured: the server, which knows the accounts, checks it
    return True


def _configured(word: str, context: PlanningContext) -> str | None:
    """The configured account `word` names: by name, or by what it is for ("production" -> "prod").
    Without a configuration, only a word for an environment ("prod", "운영" -> "prod") is taken."""
    if not context.accounts:
        return (word if word.isascii() else _ENV_OF[word]) if word in _ENV_OF else None
    exact = next((a for a in context.accounts if a.lower() == word), None)
    if exact is not None:
        return exact
    cls = _ENV_OF.get(word) or (env_class(word) if word.isascii() else None)
    return next((a for a in context.accounts if env_class(a) == cls), None) if cls else None


_ENV_OF = {w: cls for cls, words in vocab.ENV_CLASSES.items() for w in words}


def _claim_regions(found: Places, taken: list[bool], norm: str, index: InventoryIndex) -> None:
    lead, tail = rf"{_LEAD}(?:region\s+)?", rf"{_REGION_WORD}?{_KO_TAIL}"
    for regex, code_of in ((regions.CODE, lambda m: m.group(0)),
                           (regions.SPOKEN_CODE, lambda m: regions.spoken_code(*m.groups())),
                           (regions.ENGLISH_NAME, lambda m: regions.code_of_name(m.group(0))),
                           (regions.KOREAN_NAME, lambda m: regions.code_of_name(m.group(0)))):
        for core in regex.finditer(norm):
            if not _free(taken, core):
                continue
            code = code_of(core)
            said = re.match(tail, norm[core.end():])
            if code is None or (regex is regions.ENGLISH_NAME and _host_word(core.group(0), index)
                                and not (said and said.group(0).strip())):
                continue  # a word this fleet uses for hosts is a place only when "region" follows it
            start = _lead_start(norm, core.start(), lead)
            found.regions.append(code)
            _take(found, taken, start, core.end() + (len(said.group(0)) if said else 0))


def _host_word(word: str, index: InventoryIndex) -> bool:
    return word in index.words or word in index.by_key


def _lead_start(norm: str, start: int, lead: str) -> int:
    """Where the words leading up to a place ("in the", "region") begin, to blank them with it."""
    head = re.search(rf"(?<![\w-])(?:{lead})$", norm[:start])
    return head.start() if head and head.group(0) else start


def _settle(found: Places, context: PlanningContext) -> None:
    """Several regions are one call only when they are every configured region; else ask."""
    if ALL in found.regions:
        found.regions = [ALL]
    elif len(found.regions) > 1:
        configured = set(context.regions)
        if configured and set(found.regions) == configured:
            found.regions = [ALL]
        elif found.problem is None:
            found.problem = (f"One region at a time, please ({', '.join(found.regions)}), "
                             "or say 'all regions' for every configured region.")
    if len(found.accounts) > 1 and found.problem is None:
        found.problem = (f"One account at a time, please ({', '.join(found.accounts)}); "
                         "without an account every configured account is read.")


def _free(taken: list[bool], m: re.Match) -> bool:
    return not any(taken[m.start():m.end()])


def _take(found: Places, taken: list[bool], start: int, end: int) -> None:
    taken[start:end] = [True] * (end - start)
    found.spans.append((start, end))


def scope(context: PlanningContext, places: Places) -> PlanningContext:
    """The context narrowed to the place named; an instance whose row says no place is kept."""
    region = None if places.region == ALL else places.region
    account = places.account
    if region is None and account is None:
        return context
    kept = [i for i in context.instances if (region is None or i.region in (None, region))
            and (account is None or i.account in (None, account))]
    return context.model_copy(update={"instances": kept})


def in_place(outcome: PlannedCall | Clarification, places: Places) -> PlannedCall | Clarification:
    """The plan with the place named: as arguments of a tool that takes them, else in a question's words."""
    if not places.named:
        return outcome
    if isinstance(outcome, PlannedCall):
        if outcome.tool not in PLACED_TOOLS:
            return outcome  # cost, SOPs and log-group listings have no place to narrow
        return outcome.model_copy(update={"arguments": {**outcome.arguments, **places.arguments()}})
    where = places.where()
    if where and outcome.needs is None and "instance" in outcome.message:  # a question about targets
        return outcome.model_copy(update={"message": f"{outcome.message} (looked in {where} only)"})
    return outcome
