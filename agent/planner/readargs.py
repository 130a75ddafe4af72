"""Arguments of the read-only tools, read from the request text: metric, statistic, alarm
state, log group and filter pattern, cost granularity, SOP query.

Each function takes the normalised text (and sometimes the raw text, where case
matters: CloudWatch filter patterns are case-sensitive) and returns only what the
user actually asked for, so the tool's own defaults apply to everything else.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from agent.planner import vocab
from agent.planner.inventory_index import stem
from agent.planner.textnorm import HANGUL_TOKEN

# First match wins: specific names before the bare topic word that defaults them.
_METRICS: list[tuple[str, str]] = [
    # Inside-the-OS figures EC2 does not publish without the CloudWatch agent.
    ("agent_only", r"\bmemory|\bram\b|\bmem\b|메모리|disk (?:usage|space|utili[sz]ation|full)|free space|"
                   r"filesystem|file system|디스크 ?(?:사용량|용량|공간)"),
    ("CPUCreditBalance", r"credit balance|cpu credits?(?! usage)|크레딧 ?잔"),
    ("CPUCreditUsage", r"credit usage|크레딧 ?사용"),
    ("StatusCheckFailed_System", r"system status check"),
    ("StatusCheckFailed_Instance", r"instance status check"),
    ("StatusCheckFailed", r"status ?checks? ?fail\w*|statuscheckfailed|상태 ?(?:검사|체크) ?실패"),
    ("NetworkPacketsIn", r"packets? in\b|(?:inbound|incoming) packets?|수신 ?패킷|패킷 ?수신"),
    ("NetworkPacketsOut", r"packets? out\b|(?:outbound|outgoing) packets?|송신 ?패킷|패킷 ?송신"),
    ("NetworkIn", r"network ?in(?:bound)?\b|bytes in\b|inbound|incoming|ingress|download|received|인바운드|수신|들어오는"),
    ("NetworkOut", r"network ?out(?:bound)?\b|bytes out\b|outbound|outgoing|egress|upload|sent\b|아웃바운드|송신|나가는"),
    ("DiskReadOps", r"(?:disk )?read (?:ops|iops|operations)|읽기 ?(?:iops|횟수)"),
    ("DiskWriteOps", r"(?:disk )?write (?:ops|iops|operations)|쓰기 ?(?:iops|횟수)"),
    ("DiskReadBytes", r"disk ?reads?|read bytes|bytes read|디스크 ?읽기|읽기"),
    ("DiskWriteBytes", r"disk ?writes?|write bytes|bytes written|디스크 ?쓰기|쓰기"),
    ("NetworkIn", r"network|traffic|bandwidth|네트워크|트래픽"),
    ("DiskReadBytes", r"\bdisk|\biops|디스크"),

]
_METRIC_RE = [(name, re.compile(p)) for name, p in _METRICS]
_STATISTICS = [
    ("Maximum", r"\bmax(?:imum|imal)?\b|\bpeak\b|\bhighest\b|최대|최고|피크"),
    ("Minimum", r"\bminimum\b|\bmin(?= (?:cpu|network|disk|value|of))|\blowest\b|최소|최저"),
    ("Average", r"\baverage\b|\bavg\b|\bmean\b|평균"),
    ("Sum", r"\bsum\b|\btotal\b|합계|총합"),
]
_STAT_RE = [(name, re.compile(p)) for name, p in _STATISTICS]
_ALARM_STATES = [
    ("INSUFFICIENT_DATA", r"insufficient(?: data)?|no data|missing data|not enough data|데이터(?:가|는)? ?(?:부족|없)|불충분"),
    ("OK", r"(?:in|state|are|is) ok\b|\bok (?:state|alarms?|상태|인)|\bresolved|\bcleared|정상|해제된|오케이 ?상태"),
    # "알람 상태" alone is "the alarms' status"; the state is meant when it qualifies alarms
    # ("알람 상태인 알람", "alarm 상태의 경보") or with "중" ("경보 중인").
    ("ALARM", r"firing|on fire|in alarm|alarm state|alarming|triggered|\bfired|breach|\bactive|going off|"
              r"ringing|what'?s (?:wrong|broken)|anything (?:wrong|broken)|울리|발생|활성|트리거|장애|울린|"
              r"(?:알람|경보|alarm) ?상태(?:인|의|에 ?있는|로 ?된| ?(?:알람|경보|알림))|(?:알람|경보) ?중(?:인|이|$)"),
]
_ALARM_RE = [(name, re.compile(p)) for name, p in _ALARM_STATES]


def metric_name(text: str) -> str:
    return next((name for name, regex in _METRIC_RE if regex.search(text)), "CPUUtilization")


def statistic(text: str) -> str | None:
    return next((name for name, regex in _STAT_RE if regex.search(text)), None)


def alarm_state(text: str) -> str | None:
    return next((name for name, regex in _ALARM_RE if regex.search(text)), None)


def cost_options(text: str, natural_daily: bool) -> dict[str, str]:
    """granularity (as written, else what suits the span) and group_by when a breakdown is asked."""
    if re.search(r"\bdaily\b|per day|by day|each day|day[ -]by[ -]day|일별|일일|날짜별|하루 ?단위|매일", text):
        daily = True
    elif re.search(r"\bmonthly\b|per month|by month|each month|month[ -]by[ -]month|월별|월간|매월|달별", text):
        daily = False
    else:
        daily = natural_daily
    options = {"granularity": "DAILY" if daily else "MONTHLY"}
    if re.search(r"(?:by|per|each|top|which|what|most expensive) services?|services? breakdown|breakdown|"
                 r"broken down|split by|서비스 ?(?:별|마다)|항목별", text):
        options["group_by"] = "SERVICE"
    return options


# --- logs -------------------------------------------------------------------------------------

_PATTERNS = [
    # Korean alternatives sit at the end of each pattern; they match with particles attached.
    ("Exception", r"exceptions?|stack ?traces?|traceback|예외\w*"),
    ("ERROR", r"errors?|에러\w*|오류\w*"),
    ("WARN", r"warn(?:ing)?s?|경고\w*"),
    ('"timeout"', r"time ?outs?|timed out|타임아웃\w*|시간 ?초과\w*"),
    ("FATAL", r"fatal|panic"),
    ('"Out of memory"', r"oom|out of memory|메모리 ?부족\w*"),
    ('"denied"', r"denied|forbidden|권한\w*"),
    ('"refused"', r"refused"),
]
_PATTERN_RE = [(p, re.compile(r"(?<![\w-])(?:" + rx + r")(?![\w-])")) for p, rx in _PATTERNS]
_QUOTED = re.compile(r"\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'|“([^”\n]{1,80})”")
_CONTAINING = re.compile(r"(?i)\b(?:containing|contains|matching|with the (?:word|text|string|phrase))\s+"
                         r"([^\s,;]{2,60})")
# CamelCase exception names and long ALL-CAPS codes, but not the level words the table maps.
_IDENTIFIER = re.compile(r"(?<![\w/.-])([A-Za-z][a-z0-9]*[A-Z][a-z0-9]+[A-Za-z0-9]*(?:[A-Z][\w]*)?"
                         r"|(?!(?:ERROR|ERRORS|WARN|WARNING|WARNINGS|FATAL|INFO|DEBUG|ALARM|CRITICAL)\b)[A-Z][A-Z_]{5,})"
                         r"(?![\w/-])")
_HTTP_CODE = re.compile(r"\b([45]\d\d)s\b|\b(?:http|status|error|code) ([45]\d\d)\b")
_LIMIT = re.compile(r"(?<![\w.])(\d{1,5}) ?(?:log )?(?:lines?|events?|entries|messages?|records?|results?|"
                    r"rows?|items?|errors?|exceptions?|warnings?|hits?|matches|개|건|줄)|\blimit(?: to| of)? (\d{1,5})")


def log_pattern(text: str, raw: str) -> str | None:
    """A CloudWatch filter pattern: the user's quoted text or a code-like word as typed (filters are
    case-sensitive: "OutOfMemoryError", "ECONNRESET"), else terms for the words they used."""
    m = _QUOTED.search(raw) or _CONTAINING.search(raw) or _IDENTIFIER.search(raw) or _HTTP_CODE.search(text)
    if m:
        term = next(g for g in m.groups() if g).replace('"', "")
        return f'"{term}"'
    terms = [p for p, regex in _PATTERN_RE if regex.search(text)]
    if len(terms) > 1:
        return " ".join("?" + t for t in terms)  # CloudWatch's "any of these terms"
    return terms[0] if terms else None


def log_limit(text: str) -> int | None:
    m = _LIMIT.search(text)
    return max(1, min(int(m.group(1) or m.group(2)), 10000)) if m else None


_GROUP_LISTING = re.compile(r"\blog ?groups\b|로그 ?그룹")
_LISTING_WORD = re.compile(r"\b(?:list|which|what|show|all|every|available|have|there|names?|get|give|display)\b|"
                           r"목록|리스트|뭐|무엇|어떤|있|전부|모든|모두|보여|알려|나열")
# Words that ask for the events in a group, not for the groups.
_EVENTS_WORD = re.compile(r"\b(?:tail|grep|search|events?|lines?|messages?|entries|contents?|errors?|exceptions?|"
                          r"warn\w*|minutes?|hours?|mins?|since)\b|에러|오류|예외|경고|찾아|검색|내용|분|시간")
_PREFIX = re.compile(r"(?i)(?:starting with|beginning with|that start with|prefixed(?: with)?|prefix|under|"
                     r"named|matching|like)\s+[\"']?([A-Za-z0-9_./#-]+)|(/[A-Za-z0-9_./#-]*)|"
                     r"([A-Za-z0-9_./#-]+)\s?(?:로|으로) 시작하는")


def log_group_listing(text: str, raw: str) -> tuple[bool, str | None]:
    """(True, prefix or None) when the request asks which log groups exist ("list the log groups",
    "로그 그룹 목록"), not for the events inside one."""
    if not _GROUP_LISTING.search(text) or _EVENTS_WORD.search(text):
        return False, None
    rest = _GROUP_LISTING.sub(" ", text)
    m = _PREFIX.search(raw)
    prefix = next((g for g in m.groups() if g), None) if m else None
    if not (prefix or _LISTING_WORD.search(rest) or not re.search(r"[a-z0-9\uac00-\ud7a3]", rest)):
        return False, None
    return True, (prefix.rstrip("*") or None) if prefix else None


_GROUP_SPLIT = re.compile(r"[/\-_.\s]+")
_CONCEPT_OF = {w: group for group in vocab.CONCEPTS for w in group}
_LOG_NOISE = frozenset({"log", "logs", "logging", "group", "groups", "stream", "streams"})


def pick_log_group(text: str, groups: list[str], hints: list[str]) -> tuple[str | None, list[str]]:
    """The log group the request names, or (None, candidates) when it names none or several.

    Words are matched against path parts, weighted by rarity across groups, so the one
    part that tells groups apart ("web" in /aws/ec2/web) outweighs shared ones ("aws", "app").
    """
    if not groups:
        return None, []
    lowered = {g.lower(): g for g in groups}
    for token in re.findall(r"[\w./-]*/[\w./-]*|[\w.-]+", text):
        if token.strip("/") and token.rstrip("/") in lowered:
            return lowered[token.rstrip("/")], []
    direct, related = _query_words(text)
    for hint in hints:
        direct.add(hint.lower())
        related |= _expand(hint)
    parts, df = _group_parts(tuple(groups))
    # A word the user wrote counts fully; a synonym of it ("database" -> postgres) counts half.
    scores = {g: round(sum(math.log((1 + len(groups)) / df[p]) * (1.0 if _hit(p, direct) else 0.5)
                           for p in ps if _hit(p, direct) or _hit(p, related)), 9)
              for g, ps in parts.items()}
    best = max(scores.values())
    top = [g for g, s in scores.items() if s == best]
    if best > 0 and len(top) == 1:
        return top[0], []
    if best <= 0 and len(groups) == 1:
        return groups[0], []
    return None, (top if best > 0 else list(groups))[:10]


@lru_cache(maxsize=32)
def _group_parts(groups: tuple[str, ...]) -> tuple[dict[str, list[str]], Counter]:
    """Path parts (and their stems) per log group, and in how many groups each part occurs."""
    parts = {g: sorted({p for raw in _GROUP_SPLIT.split(g.lower()) if raw for p in (raw, stem(raw))}) for g in groups}
    return parts, Counter(p for ps in parts.values() for p in ps)


def _expand(word: str) -> set[str]:
    word = word.lower()
    return {word, stem(word), *_CONCEPT_OF.get(word, ())}


def _query_words(text: str) -> tuple[set[str], set[str]]:
    """Words of the request (and their stems), and words related to them by synonym."""
    direct: set[str] = set()
    for token in re.findall(r"[a-z0-9]+", text):
        if token not in vocab.STOPWORDS and token not in _LOG_NOISE and not token.isdigit():
            direct |= {token, stem(token)}
    for token in HANGUL_TOKEN.findall(text):
        direct |= {en for ko, en in vocab.KO_WORDS if ko in token}
    related = {w for d in direct for w in _expand(d)}
    return direct, related


def _hit(part: str, words: set[str]) -> bool:
    return part in words or (len(part) >= 4 and any(len(w) >= 4 and part.startswith(w) for w in words))


# --- SOPs --------------------------------------------------------------------------------------

_SOP_LEAD = re.compile(
    r"^(?:(?:please|can you|could you|hey)\s+)*(?:(?:find|search|show|get|give|look up|pull up|open|fetch"
    r"|what'?s|what is|what are|is there|are there|do we have|where'?s|where is)(?: me)?\s+)?"
    r"(?:(?:the|a|an|our|any)\s+)?(?:sops?|run-?books?|playbooks?|procedures?|process|docs?|documentation"
    r"|guides?|steps)\s+(?:for|on|about|to|regarding|when|if)\s+"
    r"|^(?:how (?:do|does|should|can|could|would) (?:i|we|you|one)|how to|what (?:should|do|can) (?:i|we) do"
    r"(?: about| when| if| with)?|what to do(?: about| when| if| with)?)\s+", re.IGNORECASE)
_K = re.compile(r"\btop (\d{1,2})\b|\b(\d{1,2}) (?:sops|runbooks|results|documents|docs)\b")


def sop_query(clean: str) -> str:
    """What to search the SOP store for: the request minus its 'how do I' / 'runbook for' lead-in."""
    query = _SOP_LEAD.sub("", clean.strip(), count=1).strip().rstrip("?!. ")
    return query or clean.strip() or "runbook"


def sop_k(text: str) -> int | None:
    m = _K.search(text)
    return max(1, min(int(m.group(1) or m.group(2)), 20)) if m else None
