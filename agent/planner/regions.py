"""AWS regions by the names people call them: codes, console names, cities and countries, English and Korean.

Only the table lives here; `places.py` reads it. A country with two regions maps to the one people
mean first (the oldest, the console's first): "japan" is Tokyo, "india" is Mumbai, "us east" is
N. Virginia. Korean names are the AWS console's own ("아시아 태평양(서울)") and the cities'.
"""

from __future__ import annotations

import re

# code -> (English names, Korean names). Lower case; spaces match any run of spaces or a hyphen.
REGION_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "us-east-1": (("n. virginia", "n virginia", "north virginia", "northern virginia", "virginia"),
                  ("북버지니아", "버지니아", "미국 동부")),
    "us-east-2": (("ohio",), ("오하이오",)),
    "us-west-1": (("n. california", "n california", "north california", "northern california", "california"),
                  ("캘리포니아",)),
    "us-west-2": (("oregon",), ("오레곤", "오리건")),
    "ca-central-1": (("canada", "montreal"), ("캐나다", "몬트리올")),
    "ca-west-1": (("calgary",), ("캘거리",)),
    "mx-central-1": (("mexico",), ("멕시코",)),
    "sa-east-1": (("sao paulo", "são paulo", "brazil"), ("상파울루", "상파울로", "브라질")),
    "eu-west-1": (("ireland", "dublin"), ("아일랜드", "더블린")),
    "eu-west-2": (("london", "united kingdom"), ("런던", "영국")),
    "eu-west-3": (("paris", "france"), ("파리", "프랑스")),
    "eu-central-1": (("frankfurt", "germany"), ("프랑크푸르트", "독일")),
    "eu-central-2": (("zurich", "switzerland"), ("취리히", "스위스")),
    "eu-north-1": (("stockholm", "sweden"), ("스톡홀름", "스웨덴")),
    "eu-south-1": (("milan", "italy"), ("밀라노", "이탈리아")),
    "eu-south-2": (("spain",), ("스페인",)),
    "ap-northeast-1": (("tokyo", "japan"), ("도쿄", "일본")),
    "ap-northeast-2": (("seoul", "korea", "south korea"), ("서울", "한국")),
    "ap-northeast-3": (("osaka",), ("오사카",)),
    "ap-southeast-1": (("singapore",), ("싱가포르", "싱가폴")),
    "ap-southeast-2": (("sydney", "australia"), ("시드니", "호주")),
    "ap-southeast-3": (("jakarta", "indonesia"), ("자카르타", "인도네시아")),
    "ap-southeast-4": (("melbourne",), ("멜버른", "멜번")),
    "ap-southeast-5": (("malaysia", "kuala lumpur"), ("말레이시아", "쿠알라룸푸르")),
    "ap-southeast-6": (("new zealand", "auckland"), ("뉴질랜드", "오클랜드")),
    "ap-southeast-7": (("thailand", "bangkok"), ("태국", "방콕")),
    "ap-east-1": (("hong kong",), ("홍콩",)),
    "ap-east-2": (("taipei", "taiwan"), ("타이베이", "대만")),
    "ap-south-1": (("mumbai", "india"), ("뭄바이", "인도")),
    "ap-south-2": (("hyderabad",), ("하이데라바드",)),
    "me-south-1": (("bahrain",), ("바레인",)),
    "me-central-1": (("uae", "united arab emirates"), ("아랍에미리트",)),
    "il-central-1": (("tel aviv", "israel"), ("텔아비브", "이스라엘")),
    "af-south-1": (("cape town", "south africa"), ("케이프타운", "남아프리카", "남아공")),
}

_GEO = r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn)"
_DIRECTION = r"(?:northeast|southeast|northwest|southwest|north|south|east|west|central)"
# A code as AWS writes it ("eu-west-1", "us-gov-west-1"). Unknown codes of this shape are still codes:
# AWS opens regions faster than this table grows, and the server says when one is not configured.
CODE_BODY = rf"{_GEO}(?:-gov)?-{_DIRECTION}-\d"
# Not inside a path: "/app/eu-west-1/web" is a log group, not a place.
CODE = re.compile(rf"(?<![\w/-]){CODE_BODY}(?![\w/-])")
# A code said in words ("us east", "eu west 2", "ap-northeast 2"); no number means the first region.
# Only the prefixes that are not English words, so "show me south ..." is no region.
SPOKEN_CODE = re.compile(rf"(?<![\w/-])(us|eu|ap|sa|ca)[ -]({_DIRECTION})(?:[ -]?(\d))?(?![\w/-])")


def spoken_code(geo: str, direction: str, number: str | None) -> str | None:
    code = f"{geo}-{direction}-{number or 1}"
    return code if code in REGION_NAMES else None


def _alternation(names: list[str]) -> str:
    longest_first = sorted(set(names), key=len, reverse=True)
    return "|".join(re.escape(n).replace(r"\ ", r"[ -]?" if n.isascii() else r" ?") for n in longest_first)


_ENGLISH = {name: code for code, (english, _) in REGION_NAMES.items() for name in english}
_KOREAN = {name: code for code, (_, korean) in REGION_NAMES.items() for name in korean}
ENGLISH_NAME = re.compile(rf"(?<![\w-])(?:{_alternation(list(_ENGLISH))})(?![\w-])")
# Korean names start a Hangul word and end it, or a particle or "리전" follows ("서울에서", "아일랜드의",
# "도쿄리전"), so "한국어" is no region and "인도네시아" is not India.
KOREAN_NAME = re.compile(rf"(?<![\uac00-\ud7a3])(?:{_alternation(list(_KOREAN))})"
                         r"(?=[^\uac00-\ud7a3]|$| ?리전| ?지역|에서|에|의|쪽|은|는|이|가|을|를|과|와|도)")


def code_of_name(name: str) -> str | None:
    """The region code a matched English or Korean name stands for ("n. virginia" -> us-east-1)."""
    return _BY_SQUASHED.get(_squash(name))


def _squash(name: str) -> str:
    return re.sub(r"[\s.-]+", "", name)


_BY_SQUASHED = {_squash(n): code for n, code in {**_ENGLISH, **_KOREAN}.items()}


def region_code(text: str) -> str | None:
    """The region code one value stands for, whether written as a code, in words or as a city."""
    value = " ".join(text.casefold().split())
    if CODE.fullmatch(value):
        return value
    spoken = SPOKEN_CODE.fullmatch(value)
    return spoken_code(*spoken.groups()) if spoken else code_of_name(value)
