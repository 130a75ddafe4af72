"""The Slack Web API, Socket Mode, PagerDuty and Discord stand-ins on fixed loopback ports, for trying the Slack app
by hand: `python -m tests.notify.run_stand_ins` prints the environment to export, then reads commands:

    approve USER INC-n      press Approve on INC-n's page as Slack user USER (an envelope over Socket Mode)
    reject USER INC-n [why] press Reject, then submit the reason dialog it opens
    show                    the channel: pages, their threads and edits; what each person was told; PagerDuty
    quit
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tests.notify.slack_api_server import APP_TOKEN, TOKEN, FakeSlackApi
from tests.notify.socket_mode_server import FakeSocketMode
from tests.notify.stand_ins import FakeDiscordWebhook, FakePagerDuty

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefabcdef"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790, help="first of four ports (default 8790)")
    args = parser.parse_args()
    api, socket, pd, dc = FakeSlackApi(port=args.port), FakeSocketMode(port=args.port + 1), FakePagerDuty(), \
        FakeDiscordWebhook()
    pd.port, dc.port = args.port + 2, args.port + 3
    with api, socket, pd, dc:
        api.socket_url = socket.url
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_CHANNEL": "C0ALERTS",
               "SLACK_API_URL": api.url, "PAGERDUTY_ROUTING_KEY": ROUTING_KEY, "PAGERDUTY_EVENTS_URL": pd.url,
               "DISCORD_WEBHOOK_URL": dc.url, "NO_PROXY": "127.0.0.1,localhost"}
        print(" ".join(f"export {k}={v};" for k, v in env.items()), flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            try:
                run(words, api, socket, pd)
            except Exception as exc:  # a by-hand tool: say it and keep going
                print(f"error: {type(exc).__name__}: {exc}", flush=True)
    return 0


def run(words: list[str], api: FakeSlackApi, socket: FakeSocketMode, pd: FakePagerDuty) -> None:
    if words[0] == "show":
        show(api, pd)
    elif words[0] in ("approve", "reject") and len(words) >= 3:
        user, incident = words[1], words[2].upper()
        page = next((m for m in api.top_level() if f"Incident {incident}." in m.text), None)
        opened = len(api.views)
        envelope = socket.click(user, f"aiops_{words[0]}", incident, message_ts=page.ts if page else None, api=api)
        print(f"sent {envelope}; ack after {socket.wait_ack(envelope)!r}s", flush=True)
        if words[0] == "reject":
            for _ in range(30):
                if len(api.views) > opened:
                    break
                time.sleep(0.1)
            else:
                print("no reason dialog was opened", flush=True)
                return
            submitted = socket.submit(user, api.views[-1]["view"], {"aiops_reason": {"reason": " ".join(words[3:])}})
            print(f"submitted the reason dialog ({submitted}); ack after {socket.wait_ack(submitted)!r}s", flush=True)
    else:
        print(__doc__.split("\n\n", 1)[1], flush=True)


def show(api: FakeSlackApi, pd: FakePagerDuty) -> None:
    for page in api.top_level():
        print(f"page {page.ts}: {page.text[:160]}")
        buttons = [e["action_id"] for b in page.blocks or [] if b.get("block_id") == "aiops_decision"
                   for e in b["elements"]]
        print(f"    buttons: {buttons or 'none'}")
        for n, edit in enumerate(page.edits, 1):
            status = [e["text"] for b in edit.get("blocks") or [] if b.get("block_id") == "aiops_status"
                      for e in b["elements"]]
            kept = [e["action_id"] for b in edit.get("blocks") or [] if b.get("block_id") == "aiops_decision"
                    for e in b["elements"]]
            print(f"    edit {n}: status {status} buttons {kept or 'none'}")
        for reply in api.thread(page.ts):
            print(f"    thread: {reply.text[:160]}")
    for told in api.ephemeral:
        print(f"told {told['user']}: {told['text']}")
    for event in pd.delivered:
        print(f"PagerDuty: {event['event_action']} {event['dedup_key']}"
              + (f" ({event['payload']['summary']})" if event.get("payload") else ""))
    print(json.dumps({"views_opened": len(api.views)}), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
