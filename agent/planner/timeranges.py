"""Times written in requests: look-back windows in minutes, metric periods, and cost periods.

Cost periods are computed from `today` (a parameter, so tests pin the date). Cost
Explorer's `end` is exclusive, so "this month" ends tomorrow, and "last month"
ends on the first of this month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
                 "thirty": 30, "couple of": 2, "a couple of": 2, "few": 3, "a few": 3,
                 "한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
                 "열": 10, "열두": 12, "반": 0.5}
_DIGITS = r"(\d+(?:\.\d+)?)"
_WORDNUM = (r"(a couple of|couple of|a few|few|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve"
            r"|fifteen|twenty|thirty)")
_KONUM = r"(열두|다섯|여섯|일곱|여덟|아홉|한|두|세|네|열|반)"
_UNIT_MINUTES = {"s": 1 / 60, "sec": 1 / 60, "m": 1, "min": 1, "h": 60, "hr": 60, "hour": 60, "d": 1440,
                 "day": 1440, "w": 10080, "week": 10080, "초": 1 / 60, "분": 1, "시간": 60, "일": 1440,
                 "주": 10080, "주일": 10080}
_UNIT_LONG = r"(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)"
_UNIT_KO = r"(초|분|시간|주일|주|일)"
_UNIT = r"(seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|초|분|시간|주일|주|일)"
# Single-letter units only after digits ("30m", "2 h"): after words they are letters of words ("and").
_AMOUNT = ("(?:(?<![\\w.-])" + _DIGITS + "[ -]?" + _UNIT + "(?![a-z])"
           "|(?<![\\w-])" + _WORDNUM + "[ -]" + _UNIT_LONG + "(?![a-z])"
           "|(?<![\\w-])" + _KONUM + " ?" + _UNIT_KO + ")")
_PERIOD = re.compile(
    r"(?:" + _AMOUNT + r"|(?<!\w)" + _UNIT_LONG + r"|(?<!\w)" + _UNIT_KO + r")[ -]?(?:periods?|intervals?|"
    r"granularity|resolution|buckets?|data ?points?|steps?|단위|간격|마다)"
    r"|(?:every|per|each) (?:" + _AMOUNT + r"|" + _UNIT_LONG + r"(?![a-z]))")
_ADVERB_PERIODS = re.compile(r"\b(?:hourly|minutely|by the minute|by the hour)\b")
_DURATION = re.compile(_AMOUNT + r"|\b(?:last|past|previous) (hour|minute|day|week)\b|\b(half an hour|half hour)\b"
                       r"|(하루|일주일|반나절)")


def _amount(m: re.Match, first: int) -> float | None:
    """Minutes in the _AMOUNT groups starting at group `first` (three alternatives of two groups)."""
    for g in (first, first + 2, first + 4):
        if m.group(g):
            return _number(m.group(g)) * _unit_minutes(m.group(g + 1))
    return None


def _number(word: str) -> float:
    return float(word) if word[0].isdigit() else _WORD_NUMBERS.get(word, 1)


def _unit_minutes(unit: str) -> float:
    unit = unit.rstrip("s") if unit.isascii() and len(unit) > 1 else unit
    return _UNIT_MINUTES.get(unit, _UNIT_MINUTES.get(unit[:3], _UNIT_MINUTES.get(unit[:1], 1)))


def period_seconds(text: str) -> tuple[int | None, str]:
    """The metric period asked for ("5-minute intervals", "hourly", "1분 단위"), and the text without it."""
    m = _PERIOD.search(text)
    if m:
        minutes = _amount(m, 1) or _amount(m, 9)
        if minutes is None:
            unit = m.group(7) or m.group(8) or m.group(15) or "m"
            minutes = _unit_minutes(unit)
        return max(int(round(minutes * 60)), 1), text[:m.start()] + " " + text[m.end():]
    m = _ADVERB_PERIODS.search(text)
    if m:
        return (3600 if "hour" in m.group() else 60), text[:m.start()] + " " + text[m.end():]
    return None, text


def minutes_back(text: str) -> int | None:
    """The look-back window in minutes ("last 2 hours" -> 120, "최근 30분" -> 30), if one is given."""
    m = _DURATION.search(text)
    if not m:
        return None
    minutes = _amount(m, 1)
    if minutes is None:
        if m.group(7):
            minutes = _unit_minutes(m.group(7))
        elif m.group(8):
            minutes = 30
        else:
            minutes = {"하루": 1440, "일주일": 10080, "반나절": 720}[m.group(9)]
    return max(1, int(round(minutes)))


@dataclass(frozen=True)
class CostPeriod:
    start: date
    end: date  # exclusive
    daily: bool  # the natural granularity for this span


def _month_start(d: date, back: int = 0) -> date:
    months = d.year * 12 + d.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# "may" is a month only where nothing else fits ("in may", "may 2024"): "may I see the bill" is not.
_MONTH_NAME = re.compile(
    r"\b(jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)(?:uary|ruary|ch|il|e|y|ust|tember|t|ober|ember)?\.?"
    r"(?: (\d{4}))?\b|(?<=in |of )(may)(?: (\d{4}))?\b|\b(may) (\d{4})\b|(?:(\d{4}) ?년 ?)?(\d{1,2}) ?월")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_RELATIVE: list[tuple[str, str]] = [
    ("last_month", r"(?:last|previous|past|prior) month|지난 ?달|저번 ?달|전월|전달|지난 ?월"),
    ("this_month", r"this month|current month|month[ -]to[ -]date|\bmtd\b|so far this month|이번 ?달|당월|금월"),
    # "past week" is the last 7 days; "last week" the previous calendar week (Monday to Sunday).
    ("past_week", r"\b(?:past|the last) (?:seven days|7 days|week)\b|최근 ?(?:일주일|한 ?주)|지난 ?일주일"),
    ("last_week", r"(?:last|previous|prior) week|지난 ?주|저번 ?주|전주"),
    ("this_week", r"this week|current week|week[ -]to[ -]date|이번 ?주|금주"),
    ("yesterday", r"yesterday|어제"), ("today", r"\btoday\b|오늘"),
    ("last_year", r"(?:last|previous|past|prior) year|작년|지난 ?해|전년"),
    ("this_year", r"this year|year[ -]to[ -]date|\bytd\b|올해|금년"),
]
_RELATIVE_RE = [(name, re.compile(p)) for name, p in _RELATIVE]
_LAST_N = re.compile(r"(?:last|past|previous|최근|지난) ?(\d+) ?(days?|weeks?|months?|일|주|개월|달)"
                     r"|(\d+) ?(일|개월|달) ?(?:간|동안)")


def cost_period(text: str, today: date) -> CostPeriod:
    """The billing window a request means; this month to date when it names none."""
    tomorrow = today + timedelta(days=1)
    dates = [date(int(y), int(m), int(d)) for y, m, d in _ISO.findall(text) if _valid(y, m, d)]
    if dates:
        start = min(dates)
        end = max(dates) if len(dates) > 1 and max(dates) > start else max(tomorrow, start + timedelta(days=1))
        return CostPeriod(start, end, (end - start).days <= 14)
    m = _LAST_N.search(text)
    if m:
        return _last_n(int(m.group(1) or m.group(3)), m.group(2) or m.group(4), today)
    for name, regex in _RELATIVE_RE:
        if regex.search(text):
            return _relative(name, today)
    m = _MONTH_NAME.search(text)
    if m:
        return _named_month(m, today)
    return CostPeriod(_month_start(today), tomorrow, False)


def _valid(y: str, m: str, d: str) -> bool:
    try:
        date(int(y), int(m), int(d))
    except ValueError:
        return False
    return True


def _last_n(n: int, unit: str, today: date) -> CostPeriod:
    tomorrow = today + timedelta(days=1)
    n = max(1, min(n, 3650))
    if unit.startswith(("month", "개월", "달")):
        return CostPeriod(_month_start(today, min(n, 120)), _month_start(today), False)
    days = n * 7 if unit.startswith(("week", "주")) else n
    return CostPeriod(tomorrow - timedelta(days=days), tomorrow, True)


def _relative(name: str, today: date) -> CostPeriod:
    tomorrow, monday = today + timedelta(days=1), today - timedelta(days=today.weekday())
    spans = {
        "last_month": (_month_start(today, 1), _month_start(today), False),
        "this_month": (_month_start(today), tomorrow, False),
        "past_week": (tomorrow - timedelta(days=7), tomorrow, True),
        "last_week": (monday - timedelta(days=7), monday, True),
        "this_week": (monday, tomorrow, True),
        "yesterday": (today - timedelta(days=1), today, True),
        "today": (today, tomorrow, True),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1), False),
        "this_year": (date(today.year, 1, 1), tomorrow, False),
    }
    return CostPeriod(*spans[name])


def _named_month(m: re.Match, today: date) -> CostPeriod:
    name = m.group(1) or m.group(3) or m.group(5)
    if name:
        month, year = _MONTHS.index(name) + 1, m.group(2) or m.group(4) or m.group(6)
    else:
        month, year = int(m.group(8)), m.group(7)
    month = min(max(month, 1), 12)
    y = int(year) if year else (today.year if month <= today.month else today.year - 1)
    start = date(y, month, 1)
    end = date(y + (month == 12), month % 12 + 1, 1)
    if start <= today < end:
        end = today + timedelta(days=1)
    return CostPeriod(start, end, False)
