"""The process that hosts the sandbox's moto, made quick to seed: what moto repeats on first use, once.

Every seeding pays moto's first use of each service in each account (the sandbox has two accounts and
eleven services), so the work moto does there again and again is done once per process here. None of
it changes what moto answers.
"""

from __future__ import annotations

import os
import sys


def prepare_moto_host() -> None:
    """Call before the first request reaches moto (idempotent)."""
    # moto builds ~1,300 public AMIs, each with a volume and a snapshot, for every region of every
    # account on first use (~0.2 s each); the sandbox runs its own AMI id and lists no images.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    _import_moto_ec2()
    _share_loader_and_regions()
    _cache_module_list()
    _lazy_url_builders()
    atomic_dynamodb()


def _import_moto_ec2() -> None:
    """Import moto's EC2 backend now, with one boto3 Session for its import-time region lists.

    Its module body builds three `boto3.Session()`s only to list regions, each loading the endpoint
    data again: ~0.5 s of a fresh process's ~1.4 s import. One shared session lists the same regions.
    """
    if "moto.ec2.models" in sys.modules:
        return
    import boto3

    shared = boto3.Session()
    original = boto3.Session
    boto3.Session = lambda *args, **kwargs: shared if not (args or kwargs) else original(*args, **kwargs)
    try:
        import moto.ec2.models  # noqa: F401
    finally:
        boto3.Session = original


def _share_loader_and_regions() -> None:
    """One botocore loader for the service models moto reads, and one region list per service.

    moto builds a fresh loader per model it parses requests with (each lists every service on disk
    again, ~40 ms), reads the same model a second time through another session to list the service's
    regions, and lists them anew for every account: per service and account, up to 0.1 s (RDS).
    """
    import moto.core.utils as moto_utils
    from moto.core.base_backend import AccountSpecificBackend
    from moto.core.loaders import create_loader

    if getattr(moto_utils._load_service_model, "shared", False):
        return
    loader = create_loader()

    def load(service_name: str, model_name: str) -> dict:
        return loader.load_service_model(service_name, model_name)

    load.shared = True
    moto_utils._load_service_model = load
    # moto's loader adds its own extras to a model; the region list reads only its metadata.
    AccountSpecificBackend.get_session()._session.register_component("data_loader", loader)
    list_regions = AccountSpecificBackend._generate_regions.__wrapped__
    regions: dict[str, list[str]] = {}

    def generate_regions(self, service_name: str) -> list[str]:
        if service_name not in regions:
            regions[service_name] = list_regions(self, service_name)
        return list(regions[service_name])

    AccountSpecificBackend._generate_regions = generate_regions


def _cache_module_list() -> None:
    """moto's server lists its own package directory (~180 isdir calls) on every request to find the
    service; the directory does not change while it runs."""
    import moto.backends as backends

    if isinstance(backends.list_of_moto_modules, _Listed):
        return
    backends.list_of_moto_modules = _Listed(tuple(backends.list_of_moto_modules()))


class _Listed:
    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def __call__(self) -> tuple[str, ...]:
        return self.names


def _lazy_url_builders() -> None:
    """werkzeug compiles two URL-building functions (Python source, through `ast` and `compile`) for
    every URL rule when moto builds a service's app on its first request; nothing in moto builds URLs.
    The same functions, compiled on first use."""
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "lazy", False):
        return

    def lazy_builder(self, append_unknown: bool = True):
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                compiled = original(rule, append_unknown).__get__(rule, None)
            return compiled(*args, **kwargs)

        return build

    lazy_builder.lazy = True
    Rule._compile_builder = lazy_builder


_DYNAMODB_CALLS = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query", "scan",
                   "batch_get_item", "batch_write_item", "transact_get_items")


def atomic_dynamodb() -> None:
    """One request at a time into moto's DynamoDB (idempotent).

    DynamoDB checks a write's condition and applies it atomically; moto's threaded server does not,
    so two workers' conditional writes on one item can both pass (and a transaction's rollback copy
    of the table can meet another write: a 500). Several monitor workers on one table (AIOPS_STORE)
    rely on exactly those conditions, so the sandbox and the tests serialise moto's DynamoDB calls.
    """
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_aiops_atomic", False):
        return
    lock = threading.RLock()

    def serialised(method):
        def call(self, *args, **kwargs):
            with lock:
                return method(self, *args, **kwargs)
        return call

    for name in _DYNAMODB_CALLS:
        setattr(DynamoDBBackend, name, serialised(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = serialised(_without_needless_copies(DynamoDBBackend.transact_write_items))
    DynamoDBBackend._aiops_atomic = True


def _without_needless_copies(transact):
    """moto deep-copies the whole table once per item of every TransactWriteItems, to roll back if one of
    its conditions fails: each transaction costs time in proportion to the table (a worker's tenth incident
    is cheap, its thousandth is not). Under the lock no other call runs in between, so the conditions are
    checked first; when they all hold the copy can never be used and is skipped. A failing one goes the
    original way, copies included, for moto's own error."""
    import types

    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression

    no_copy = types.SimpleNamespace(deepcopy=lambda value, *_args: value)

    def holds(self, items) -> bool:
        for item in items:
            (kind, op), = item.items()
            if not op.get("ConditionExpression"):
                continue
            table = self.get_table(op["TableName"])
            key = op.get("Key") or {a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a}
            condition = get_filter_expression(op["ConditionExpression"], op.get("ExpressionAttributeNames"),
                                              op.get("ExpressionAttributeValues"))
            if not condition.expr(self.get_item(op["TableName"], key)):
                return False
        return True

    def call(self, transact_items):
        try:
            cheap = holds(self, transact_items)
        except Exception:  # noqa: BLE001 - a malformed request: moto's own path says what is wrong
            cheap = False
        if not cheap:
            return transact(self, transact_items)
        real, models.copy = models.copy, no_copy
        try:
            return transact(self, transact_items)
        finally:
            models.copy = real
    return call
