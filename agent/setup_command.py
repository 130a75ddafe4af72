"""`setup events [--dry-run] [--remove]`: the EventBridge rule, SQS queue and dead-letter queue the push
path needs, in each configured region (DESIGN.md, "Intake, store and scale-out").

Idempotent: a second run prints `keep` for every step and changes nothing. `--dry-run` only reads.
"""

from __future__ import annotations

import argparse
import sys

from utils.config import Settings


def run_setup(args: argparse.Namespace, settings: Settings) -> int:
    from mcp_server.errors import describe_for
    from utils.event_intake import REMOVE_PERMISSIONS, SETUP_PERMISSIONS, RegionFailure, in_every_region

    account, results = in_every_region(settings, configured_regions(settings), remove=args.remove,
                                       apply=not args.dry_run)
    failed = 0
    for result in results:
        if isinstance(result, RegionFailure):
            failed += 1
            sys.stderr.write(f"error: {result.region}: {describe_for(settings, result.error, 'SQS/EventBridge')}\n")
            continue
        print(f"{result.region} (account {account}){' — dry run, nothing changed' if args.dry_run else ''}:")
        for step in result.steps:
            print(f"  {step.line()}")
        if result.queue_url and not args.remove:
            print(f"  queue URL: {result.queue_url}")
    failed += _shared_table(args, settings)
    verb = "would use" if args.dry_run else "used"
    used = list(REMOVE_PERMISSIONS if args.remove else SETUP_PERMISSIONS)
    if settings.dynamodb_table is not None and not args.remove:
        used += ["dynamodb:DescribeTable", "dynamodb:CreateTable", "dynamodb:UpdateTimeToLive"]
    print(f"IAM permissions this {verb}: {', '.join(used)}")
    return 1 if failed else 0


def _shared_table(args: argparse.Namespace, settings: Settings) -> int:
    """With AIOPS_STORE=dynamodb:TABLE, the table the workers share (never removed: it holds incidents)."""
    table = settings.dynamodb_table
    if table is None or args.remove:
        if table is not None:
            print(f"store: keep DynamoDB table {table} (it holds the incidents and the audit log; delete it yourself)")
        return 0
    if args.dry_run:
        print(f"store: would create DynamoDB table {table} in {settings.region} if it is missing")
        return 0
    from utils.dynamo import StoreUnavailable, table_for

    try:
        created = table_for(settings).ensure()
    except StoreUnavailable as exc:
        sys.stderr.write(f"error: store: {exc}\n")
        return 1
    print(f"store: {'created' if created else 'keep'} DynamoDB table {table} in {settings.region}")
    return 0


def configured_regions(settings: Settings) -> list[str]:
    """The regions a read covers: --region, else `regions` in aiops.toml, else the session's own."""
    return settings.default_regions
