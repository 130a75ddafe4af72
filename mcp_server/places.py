"""Where a tool reads and acts: the configured accounts and regions (DESIGN.md, "The estate").

A call names a place with the optional `region` ("all": every configured one) and `account`
arguments; without them it covers every configured place. Reads run in every place at once, one
thread each, and a place that fails (AccessDenied, an expired role, an endpoint down) becomes one
`skipped` entry while the others answer. A place the call names is never ignored: an account or
region the server cannot use is an error, not a wider or narrower read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

from pydantic import Field

from mcp_server.models import PlaceSkip
from utils.aws import AwsClients, AwsEstate
from utils.config import REGION_CODE, Place, Settings

T = TypeVar("T")
ALL = "all"
# Threads per fan-out: each waits on the network, so more than the cores is fine; AWS throttles beyond this.
MAX_PLACE_THREADS = 8

# The tools' place arguments, described for a small model.
RegionArg = Annotated[str | None, Field(
    description="AWS region code such as us-east-1 or eu-west-1, or \"all\"; omit to cover every configured "
                "region. Only set it when the user names a region.")]
AccountArg = Annotated[str | None, Field(
    description="Configured account name such as prod; omit to cover every configured account. Only set it "
                "when the user names an account.")]


class UnknownPlace(ValueError):
    code = "UnknownPlace"


class PlaceUnreadable(Exception):
    """A place that had to answer (to resolve a name safely) did not."""


def select_places(settings: Settings, region: str | None = None, account: str | None = None) -> list[Place]:
    """The places a call covers: the configured ones, narrowed by the region and account it names."""
    places = settings.places()
    account = (account or "").strip() or None
    region = (region or "").strip().lower() or None
    if region == ALL:
        region = None
    if account is not None:
        if settings.account(account) is None:
            raise UnknownPlace(f"no account named {account!r} is configured; the accounts are "
                               f"{', '.join(settings.account_names)}")
        if settings.only_account not in (None, account):
            raise UnknownPlace(f"this session covers only account {settings.only_account!r} (--account); "
                               f"{account!r} is outside it")
    if region is not None and region not in {p.region for p in places} and region not in known_regions():
        raise UnknownPlace(f"{region!r} is not an AWS region; the configured regions are "
                           f"{', '.join(dict.fromkeys(p.region for p in places))}")
    chosen = [p for p in places if account in (None, p.account) and region in (None, p.region)]
    if chosen:
        return chosen
    accounts = [account] if account else list(dict.fromkeys(p.account for p in places))
    # A region named outside the configured ones is still that region: narrowing, never ignoring.
    regions = [region] if region else settings.default_regions
    return [Place(a, r) for a in accounts for r in regions]


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows of, in every partition (no network)."""
    import boto3

    session = boto3.session.Session()
    known: set[str] = set()
    for partition in session.get_available_partitions():
        known.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(r for r in known if REGION_CODE.match(r))


def gather(estate: AwsEstate, places: list[Place], work: Callable[[AwsClients], T],
           describe: Callable[[BaseException], str], *, strict: bool = False) -> tuple[list[tuple[Place, T]], list[PlaceSkip]]:
    """`work` in every place at once: (place, answer) for those that answered, a skip for each that failed.

    Our own validation errors (ValueError) are the caller's, and raise. When no place answered, the
    first failure raises, as a one-place call always did. `strict`: any failure raises (PlaceUnreadable),
    for work that must see every place (resolving a name: the unread place might hold a second one).
    """
    if len(places) == 1:
        return [(places[0], work(estate.clients(*places[0])))], []

    def one(place: Place) -> tuple[Place, T | BaseException]:
        try:
            return place, work(estate.clients(*place))
        except ValueError as exc:
            if _is_ours(exc):
                return place, exc
            return place, _Failed(exc)
        except Exception as exc:
            return place, _Failed(exc)

    with ThreadPoolExecutor(max_workers=min(MAX_PLACE_THREADS, len(places)), thread_name_prefix="place") as pool:
        answers = list(pool.map(one, places))
    for _, answer in answers:
        if isinstance(answer, ValueError) and _is_ours(answer):
            raise answer
    failed = [(p, a.exc) for p, a in answers if isinstance(a, _Failed)]
    if failed and (strict or len(failed) == len(answers)):
        place, exc = failed[0]
        if strict and len(failed) < len(answers):
            raise PlaceUnreadable(f"{where(place)} could not be read ({describe(exc)}); name the region or "
                                  "account to leave it out") from exc
        raise exc
    skipped = [PlaceSkip(account=p.account, region=p.region, reason=describe(exc)) for p, exc in failed]
    return [(p, a) for p, a in answers if not isinstance(a, _Failed)], skipped


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _is_ours(exc: ValueError) -> bool:
    """Our own argument checks, which fail the same way everywhere (botocore has ValueErrors of its own)."""
    return type(exc).__module__.startswith("mcp_server") or type(exc) is ValueError and "endpoint" not in str(exc).lower()


def where(place: Place) -> str:
    return f"{place.region}, account {place.account}"
