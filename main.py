"""AIOps Agent command line: parses arguments and hands off. No logic lives here.

Imports are lazy so `--help` stays fast; each command imports what it needs.
"""

from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments get one line on stderr and exit 2, not a usage dump."""

    def error(self, message: str) -> None:
        sys.stderr.write(f"error: {message} (see `python main.py --help`)\n")
        raise SystemExit(2)


def _limit(text: str) -> int:
    """--limit: a whole number of rows, 1 to 10,000 (one argparse line for both commands that take it)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"--limit must be a whole number between 1 and 10000, got {text!r}")
    return value


def _global_options(parser: argparse.ArgumentParser, default) -> None:
    # Subcommands repeat these with SUPPRESS defaults so they may be given on either side.
    parser.add_argument("--sandbox", action="store_true", default=default(False),
                        help="run against the built-in AWS emulator (no account needed)")
    parser.add_argument("--read-only", action="store_true", default=default(False),
                        help="refuse every mutating action")
    parser.add_argument("--planner", choices=["auto", "ollama", "rules"], default=default("auto"),
                        help="auto: Ollama when reachable, else offline rules")
    parser.add_argument("--model", default=default(None), help="Ollama model (default $AIOPS_MODEL or llama3.1:8b)")
    parser.add_argument("--region", default=default(None), metavar="R[,R...]|all",
                        help="AWS region(s) to read and act in; all: every configured region")
    parser.add_argument("--account", default=default(None), metavar="NAME",
                        help="only this configured account (aiops.toml [[accounts]])")
    parser.add_argument("--profile", default=default(None), help="AWS profile")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="main.py", description="AIOps Agent: assisted operations for AWS.")
    _global_options(parser, lambda value: value)
    shared = argparse.ArgumentParser(add_help=False)
    _global_options(shared, lambda _value: argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)

    ask = sub.add_parser("ask", parents=[shared], help="run one request")
    ask.add_argument("text", nargs="+")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--yes", action="store_true", help="consent to a destructive action for this command")
    ask.add_argument("--dry-run", action="store_true", help="check with EC2 DryRun; change nothing")

    plan = sub.add_parser("plan", parents=[shared], help="show the tool call a request maps to")
    plan.add_argument("text", nargs="+")
    plan.add_argument("--json", action="store_true")

    monitor = sub.add_parser("monitor", parents=[shared], help="watch alarms and open incidents")
    monitor.add_argument("--once", action="store_true")
    monitor.add_argument("--json", action="store_true")
    monitor.add_argument("--interval", type=float, default=None, help="seconds between cycles")
    monitor.add_argument("--queue", metavar="URL|NAME", default=None,
                         help="take alarm changes from this SQS queue (see `setup events`); still polls to reconcile")
    monitor.add_argument("--http", metavar="HOST:PORT", default=None,
                         help="serve /healthz /readyz /metrics /incidents (loopback unless HOST says otherwise)")

    from sop.cli import add_parser as add_sop_parser

    add_sop_parser(sub, [shared], OneLineParser)

    incidents = sub.add_parser("incidents", parents=[shared], help="show the incident timeline")
    incidents.add_argument("--json", action="store_true")
    incidents.add_argument("--limit", type=_limit, default=20)

    history = sub.add_parser("history", parents=[shared], help="the audit log: who, what, decision, outcome")
    history.add_argument("--json", action="store_true")
    history.add_argument("--limit", type=_limit, default=20)

    sub.add_parser("mcp", parents=[shared], help="serve the MCP tools on stdio for any MCP client")

    setup = sub.add_parser("setup", parents=[shared], help="create the AWS parts the push path needs")
    setup.add_argument("what", choices=["events"], help="events: EventBridge rule + SQS queue (+DLQ) per region")
    setup.add_argument("--dry-run", action="store_true", help="print what it would create; change nothing")
    setup.add_argument("--remove", action="store_true", help="take it down")

    sandbox = sub.add_parser("sandbox", parents=[shared], help="a sandbox that lives across commands")
    sandbox.add_argument("action", choices=["start", "stop", "status", "reset"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from agent.cli import dispatch

    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
