"""The one DynamoDB table several monitor workers share (`AIOPS_STORE=dynamodb:TABLE`).

Single-table design: every item has a string `pk` and `sk`; two sparse global secondary indexes
(`gsi1`: what is open, pending or being watched right now; `gsi2`: everything of a kind, by number)
answer the lists without a scan. What lives where is written next to the code that writes it
(agent/monitor/dynamo_store.py, notify/dynamo_outbox.py, utils/audit_store.py). Every decision that
must happen once is a conditional write, so of N workers exactly one wins it.

Calls are counted per operation (`CALLS`) so the benchmark and /metrics can say what a worker costs.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import uuid
from collections import Counter
from typing import Any

from utils.config import Settings

log = logging.getLogger(__name__)

STORE_ATTEMPTS = 4
# Codes worth another try besides 5xx and throttling (a transaction that met another on the same item).
_AGAIN = {"TransactionConflict", "TransactionInProgressException", "ProvisionedThroughputExceededException"}
CALLS: Counter[str] = Counter()  # DynamoDB calls this process made, by operation
_CALLS_LOCK = threading.Lock()
_TABLES: dict[tuple[str | None, str, str], DynamoTable] = {}
_TABLES_LOCK = threading.Lock()
# What a worker needs on the table (README, "Running workers"); CreateTable/DescribeTable only for the first use.
TABLE_PERMISSIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                     "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:TransactWriteItems",
                     "dynamodb:DescribeTable", "dynamodb:CreateTable", "dynamodb:UpdateTimeToLive")


class StoreUnavailable(Exception):
    """A store (this table, or the SQLite file: agent/monitor/store_db.py) cannot be opened or written;
    the message names it and says what to check."""


class Conflict(Exception):
    """A conditional write lost: another worker (or an earlier call) got there first."""


def table_for(settings: Settings) -> DynamoTable:
    """The process's one handle on the configured table (one boto3 client, shared by every room)."""
    name = settings.dynamodb_table
    if name is None:
        raise StoreUnavailable("AIOPS_STORE is not dynamodb:TABLE")
    key = (settings.aws_endpoint_url, settings.region, name)
    with _TABLES_LOCK:
        if key not in _TABLES:
            _TABLES[key] = DynamoTable(settings, name)
        return _TABLES[key]


class DynamoTable:
    def __init__(self, settings: Settings, name: str) -> None:
        from utils.aws import TimeoutBudget, client_config, make_session

        self.name = name
        self.region = settings.region
        self.client = make_session(settings).client(
            "dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url,
            config=client_config(TimeoutBudget.from_settings(settings)))
        self._ready = False
        self._ready_lock = threading.Lock()

    # -- calls ------------------------------------------------------------------------------------

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One DynamoDB call, counted; a lost condition is Conflict, anything else StoreUnavailable.

        A 5xx or a throttle is tried again (STORE_ATTEMPTS, whatever AWS_MAX_ATTEMPTS says): the store is
        what a batch cannot finish without. A transaction carries a ClientRequestToken, so DynamoDB applies
        a retried one once.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        self.ensure()
        if operation not in ("transact_write_items", "batch_get_item"):  # those name the table per item
            kwargs["TableName"] = self.name
        elif operation == "transact_write_items":
            kwargs.setdefault("ClientRequestToken", uuid.uuid4().hex)
        for attempt in range(1, STORE_ATTEMPTS + 1):
            with _CALLS_LOCK:
                CALLS[operation] += 1
            try:
                return getattr(self.client, operation)(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    raise Conflict(code) from exc
                if code == "TransactionCanceledException":
                    reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                    if "ConditionalCheckFailed" in reasons:
                        raise Conflict(",".join(reasons)) from exc
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if attempt < STORE_ATTEMPTS and (status >= 500 or "Throttl" in code or code in _AGAIN):
                    time.sleep(0.05 * 2 ** attempt)
                    continue
                raise StoreUnavailable(f"DynamoDB table {self.name} ({self.region}): {_one_line(exc)}") from exc
            except BotoCoreError as exc:
                raise StoreUnavailable(f"DynamoDB table {self.name} ({self.region}) unreachable: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def transact(self, items: list[dict[str, Any]]) -> None:
        """All of `items` (Put/Update/Delete/ConditionCheck, without TableName) or none; Conflict when a
        condition failed."""
        for item in items:
            next(iter(item.values()))["TableName"] = self.name
        self.call("transact_write_items", TransactItems=items)

    # -- the table itself -------------------------------------------------------------------------

    def ensure(self) -> bool:
        """Create the table on first use (one line on stderr says so); True when this call created it."""
        if self._ready:
            return False
        with self._ready_lock:
            if self._ready:
                return False
            created = self._create_if_missing()
            self._ready = True
            return created

    def exists(self) -> bool:
        """Whether the table is there (reading commands must not create it); StoreUnavailable if DynamoDB
        cannot be asked."""
        from botocore.exceptions import BotoCoreError, ClientError

        if self._ready:
            return True
        try:
            self.client.describe_table(TableName=self.name)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise StoreUnavailable(f"cannot use DynamoDB table {self.name} in {self.region}: {_one_line(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"cannot reach DynamoDB for table {self.name} in {self.region}: {exc}") from exc

    def _create_if_missing(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            try:
                self.client.describe_table(TableName=self.name)
                return False
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
            sys.stderr.write(f"creating DynamoDB table {self.name} in {self.region} for the shared store "
                             "(first use; pay per request)\n")
            try:
                self.client.create_table(**table_definition(self.name))
            except ClientError as exc:  # another worker created it in between
                if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                    raise
            self.client.get_waiter("table_exists").wait(TableName=self.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            self.client.update_time_to_live(TableName=self.name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": "purge_at"})
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException" and "TimeToLive" in str(exc):
                return True  # TTL already on (a race with another worker): the table is there
            raise StoreUnavailable(f"cannot use DynamoDB table {self.name} in {self.region}: "
                                   f"{exc.response.get('Error', {}).get('Message', exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"cannot reach DynamoDB for table {self.name} in {self.region}: {exc}") from exc


def _one_line(exc: Any) -> str:
    """`Code: message`; an HTML error page (a proxy, or moto's own 500) is its status, not its markup."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), " ".join(str(error.get("Message", "")).split())
    if "<html" in message.lower() or "<!doctype" in message.lower():
        message = "the endpoint answered with an HTML error page"
    return f"{code}: {message[:300]}" if message else str(code)


def table_definition(name: str) -> dict[str, Any]:
    def index(n: int) -> dict[str, Any]:
        return {"IndexName": f"gsi{n}", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
                              {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"}]}

    return {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in (
            ("pk", "S"), ("sk", "S"), ("gsi1pk", "S"), ("gsi1sk", "N"), ("gsi2pk", "S"), ("gsi2sk", "N"))],
        "GlobalSecondaryIndexes": [index(1), index(2)],
    }


# -- items <-> plain dicts ----------------------------------------------------------------------


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values to DynamoDB's typed form; None is left out (an absent attribute is SQL's NULL)."""
    return {k: value(v) for k, v in values.items() if v is not None}


def value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"BOOL": v}
    if isinstance(v, int | float):
        return {"N": repr(float(v)) if isinstance(v, float) else str(v)}
    return {"S": str(v)}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, typed in item.items():
        (kind, raw), = typed.items()
        if kind == "N":
            out[k] = float(raw) if any(c in raw for c in ".eE") else int(raw)
        elif kind == "BOOL":
            out[k] = bool(raw)
        elif kind == "NULL":
            out[k] = None
        else:
            out[k] = raw
    return out


def names_values(**values: Any) -> dict[str, Any]:
    """`ExpressionAttributeValues` from keyword arguments (`:name` each), None values left out."""
    return {f":{k}": value(v) for k, v in values.items() if v is not None}


def next_number(table: DynamoTable, counter: str) -> int:
    """A number no other worker gets (an atomic ADD on one counter item); one call."""
    answer = table.call("update_item", Key=to_item({"pk": "META", "sk": f"COUNTER#{counter}"}),
                        UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}},
                        ReturnValues="UPDATED_NEW")
    return int(answer["Attributes"]["n"]["N"])


def query_all(table: DynamoTable, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a Query, as plain dicts."""
    items: list[dict[str, Any]] = []
    while True:
        answer = table.call("query", **kwargs)
        items += [from_item(i) for i in answer.get("Items", [])]
        if "LastEvaluatedKey" not in answer or kwargs.get("Limit"):
            return items
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def now_ns() -> int:
    return time.time_ns()


def update_spec(key: dict[str, Any], sets: dict[str, Any] | None = None, *, condition: str | None = None,
                values: dict[str, Any] | None = None, names: dict[str, str] | None = None,
                remove: tuple[str, ...] = (), add: dict[str, int] | None = None) -> dict[str, Any]:
    """An UpdateItem (or a transaction's Update) from plain values: `sets` with a None value REMOVE it.

    Attribute names go through `#aN` placeholders, since `status`, `name`, `source` and others are
    DynamoDB reserved words; `condition` may use the caller's own `names` and `values` (`:x`).
    """
    all_names = dict(names or {})
    all_values = names_values(**(values or {}))
    set_parts, remove_parts, add_parts = [], [], []
    for i, (attribute, v) in enumerate((sets or {}).items()):
        all_names[f"#a{i}"] = attribute
        if v is None:
            remove_parts.append(f"#a{i}")
        else:
            set_parts.append(f"#a{i} = :a{i}")
            all_values[f":a{i}"] = value(v)
    for j, attribute in enumerate(remove):
        all_names[f"#r{j}"] = attribute
        remove_parts.append(f"#r{j}")
    for k, (attribute, by) in enumerate((add or {}).items()):
        all_names[f"#n{k}"] = attribute
        all_values[f":n{k}"] = value(by)
        add_parts.append(f"#n{k} :n{k}")
    expression = " ".join(part for part in (
        "SET " + ", ".join(set_parts) if set_parts else "", "REMOVE " + ", ".join(remove_parts) if remove_parts else "",
        "ADD " + ", ".join(add_parts) if add_parts else "") if part)
    spec: dict[str, Any] = {"Key": to_item(key), "UpdateExpression": expression}
    used = f"{expression} {condition or ''}"
    # DynamoDB refuses a name or value the expressions do not use: callers may pass a shared set.
    all_names = {k: v for k, v in all_names.items() if re.search(re.escape(k) + r"\b", used)}
    all_values = {k: v for k, v in all_values.items() if re.search(re.escape(k) + r"\b", used)}
    if all_names:
        spec["ExpressionAttributeNames"] = all_names
    if all_values:
        spec["ExpressionAttributeValues"] = all_values
    if condition:
        spec["ConditionExpression"] = condition
    return spec


def count_all(table: DynamoTable, **kwargs: Any) -> int:
    """How many items a Query (with its filter) matches, every page."""
    total = 0
    while True:
        answer = table.call("query", Select="COUNT", **kwargs)
        total += int(answer.get("Count", 0))
        if "LastEvaluatedKey" not in answer:
            return total
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
