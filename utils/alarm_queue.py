"""The SQS side of `monitor --queue`: long-poll for alarm-change messages, delete them once handled.

SQS standard queues deliver at least once and in no set order; what a message means is decided by
agent/monitor/alarm_events.py and the incident store, never here. A message that is not deleted
comes back after the queue's visibility timeout, and after `maxReceiveCount` receives the
dead-letter queue keeps it (utils/event_intake.py sets both up).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from utils.config import Settings

MAX_BATCH = 10  # SQS's most per ReceiveMessage and per DeleteMessageBatch
# What a worker needs on the queue (README, "Running workers").
WORKER_PERMISSIONS = ("sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                      "sqs:GetQueueAttributes")


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str
    receipt: str
    body: str
    receive_count: int
    sent_at: float | None = None  # when SQS accepted it (epoch seconds): how long it waited


class AlarmQueue:
    def __init__(self, settings: Settings, queue: str) -> None:
        from utils.aws import TimeoutBudget, client_config, make_session

        region = region_of(queue) or settings.region
        # A long poll waits up to 20 s for an answer: the read timeout must outlast it.
        budget = TimeoutBudget.from_settings(settings)
        config = client_config(budget).merge(_long_poll_config(budget))
        self.sqs = make_session(settings).client("sqs", region_name=region, endpoint_url=settings.aws_endpoint_url,
                                                 config=config)
        self.url = queue if queue.startswith(("https://", "http://")) else \
            self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        self.name = self.url.rstrip("/").rsplit("/", 1)[-1]

    def receive(self, wait_seconds: float, visibility_seconds: int | None = None) -> list[QueuedMessage]:
        """Up to ten messages; returns as soon as there are any, or empty after `wait_seconds` (at most 20)."""
        options = {"VisibilityTimeout": visibility_seconds} if visibility_seconds is not None else {}
        answer = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=MAX_BATCH,
                                          WaitTimeSeconds=max(0, min(20, round(wait_seconds))),
                                          MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
                                          **options)
        return [QueuedMessage(m["MessageId"], m["ReceiptHandle"], m.get("Body", ""),
                              int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                              _sent_at(m.get("Attributes", {}).get("SentTimestamp")))
                for m in answer.get("Messages", [])]

    def delete(self, messages: list[QueuedMessage]) -> list[str]:
        """Delete handled messages; returns the ids SQS did not delete (they come back and are handled again,
        which the store makes harmless)."""
        failed: list[str] = []
        for start in range(0, len(messages), MAX_BATCH):
            batch = messages[start:start + MAX_BATCH]
            answer = self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(batch)])
            failed += [batch[int(f["Id"])].message_id for f in answer.get("Failed", [])]
        return failed

    def release(self, messages: list[QueuedMessage]) -> None:
        """Make received messages visible again now (a worker stopping before it started them)."""
        for start in range(0, len(messages), MAX_BATCH):
            batch = messages[start:start + MAX_BATCH]
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": 0} for i, m in enumerate(batch)])

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))


def region_of(queue: str) -> str | None:
    """`https://sqs.eu-west-1.amazonaws.com/1234/name` -> eu-west-1; a name or a local URL says nothing."""
    host = urlsplit(queue).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs" and host.endswith(("amazonaws.com", "amazonaws.com.cn")):
        return parts[1]
    return None


def _sent_at(millis: str | None) -> float | None:
    try:
        return int(millis) / 1000 if millis else None
    except ValueError:
        return None


def _long_poll_config(budget):
    from botocore.config import Config

    return Config(read_timeout=max(budget.read, 25))
