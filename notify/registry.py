"""Notifiers registered by name; the monitor and the REPL ask for "whatever is configured".

A notifier type registers a factory that reads Settings and returns the notifier, or None when
its settings are absent. Factories do no network I/O and open no file, so the REPL's banner can
build the notifier just to describe it.
"""

from __future__ import annotations

from collections.abc import Callable

from notify.base import Notifier, TerminalOnly
from notify.fanout import FanOutNotifier
from notify.slack_webhook import SlackWebhookNotifier
from utils.config import Settings

Factory = Callable[[Settings], Notifier | None]


def _slack(settings: Settings) -> Notifier | None:
    """The Slack app when a bot token and a channel are set (it can thread and edit), else the webhook."""
    if settings.slack_bot_token is not None:
        from notify.slack_app import SlackAppNotifier

        app = SlackAppNotifier.from_settings(settings)
        if app.enabled:
            return app
    notifier = SlackWebhookNotifier.from_settings(settings)
    return notifier if notifier.enabled else None


def _pagerduty(settings: Settings) -> Notifier | None:
    from notify.pagerduty import PagerDutyNotifier

    notifier = PagerDutyNotifier.from_settings(settings)
    return notifier if notifier.enabled else None


def _discord(settings: Settings) -> Notifier | None:
    from notify.discord import DiscordNotifier

    notifier = DiscordNotifier.from_settings(settings)
    return notifier if notifier.enabled else None


NOTIFIERS: dict[str, Factory] = {"slack": _slack, "pagerduty": _pagerduty, "discord": _discord}


def register(kind: str, factory: Factory) -> None:
    NOTIFIERS[kind] = factory


def notifier_from_settings(settings: Settings) -> Notifier:
    """The one configured destination, a fan-out over several, or TerminalOnly when there is none."""
    configured = [n for n in (factory(settings) for factory in NOTIFIERS.values()) if n is not None]
    if settings.dynamodb_table is not None:
        _share_outboxes(configured, settings)
    if not configured:
        return TerminalOnly()
    return configured[0] if len(configured) == 1 else FanOutNotifier(configured)


def _share_outboxes(notifiers: list[Notifier], settings: Settings) -> None:
    """With `AIOPS_STORE=dynamodb:TABLE` every outbox lane lives in that table, so the workers sharing it
    share one outbox (a client only: the table is looked at on first use)."""
    from notify.dynamo_outbox import DynamoOutbox
    from notify.lanes import OutboxNotifier
    from utils.dynamo import table_for

    for notifier in notifiers:
        if isinstance(notifier, OutboxNotifier):
            notifier.use_outbox(DynamoOutbox(table_for(settings), notifier.name, home=settings.state_dir,
                                             lease_seconds=notifier.lease_seconds))
