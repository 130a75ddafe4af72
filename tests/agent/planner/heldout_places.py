"""Held-out place phrasings (regions, accounts) on fleet Q: written BEFORE the place rules, never tuned on.

Record (first run, before any change prompted by it): 34/35. The miss ("what's running in Seoul?")
was the "?" left alone once "in Seoul" was blanked, read as a one-letter Name glob; fixed generically
(a lone "?" is punctuation, also in "is web-1 up ?"). The test asserts a floor, like heldout_cases.py.
"""

from __future__ import annotations

from tests.agent.planner.expect import call, clarify
from tests.agent.planner.fleets_places import placed_id

LEDGER_US = placed_id("ledger-api", "default", "us-east-1")
LEDGER_EU = placed_id("ledger-api", "default", "eu-west-1")
CPU = "CPUUtilization"

HELDOUT_PLACES = [
    # English
    ("show every instance across all regions", call("list_instances", region="all")),
    ("list instances in eu-west-1", call("list_instances", region="eu-west-1")),
    ("what's running in Seoul?", call("list_instances", state="running", region="ap-northeast-2")),
    ("reboot ledger-api in Ireland", call("reboot_instances", instances=[LEDGER_EU], region="eu-west-1")),
    ("stop ledger-api", clarify("ledger-api in us-east-1", "ledger-api in eu-west-1")),
    ("show alarms in the production account", call("list_alarms", account="production")),
    ("firing alarms in the prod account", call("list_alarms", state="ALARM", account="production")),
    ("alarms in frankfurt", call("list_alarms", region="eu-central-1")),
    ("cpu of ledger-db in eu-west-1 over the last hour",
     call("get_metric_statistics", instance="ledger-db", metric=CPU, minutes=60, region="eu-west-1")),
    ("status of edge-proxy in the sandbox account",
     call("get_instance_status", instances=["edge-proxy"], account="sandbox")),
    ("start batch-runner in seoul", call("start_instances", instances=["batch-runner"], region="ap-northeast-2")),
    ("describe london-relay", call("describe_instance", instance="london-relay")),
    ("list instances in us east", call("list_instances", region="us-east-1")),
    ("list instances in the us-east-1 region", call("list_instances", region="us-east-1")),
    ("list the stopped instances in all regions", call("list_instances", state="stopped", region="all")),
    ("stop ledger-api in tokyo", clarify()),
    ("show alarms in the finance account", clarify("default", "production", "sandbox")),
    ("terminate ledger-api in virginia", call("terminate_instances", instances=[LEDGER_US], region="us-east-1")),
    ("instances in the default account", call("list_instances", account="default")),
    ("list instances in sandbox", call("list_instances", account="sandbox")),
    ("list prod instances", call("list_instances", tags={"env": "prod"})),
    ("restart both ledger-api servers", call("reboot_instances", instances=[LEDGER_US, LEDGER_EU])),
    ("show alarms in eu-west-1 and us-east-1", clarify()),
    ("list instances in ap-northeast-2", call("list_instances", region="ap-northeast-2")),
    # Korean
    ("서울 리전 인스턴스 목록", call("list_instances", region="ap-northeast-2")),
    ("모든 리전의 알람 보여줘", call("list_alarms", region="all")),
    ("프로덕션 계정 인스턴스 보여줘", call("list_instances", account="production")),
    ("아일랜드 리전에서 ledger-api 재부팅해줘", call("reboot_instances", instances=[LEDGER_EU], region="eu-west-1")),
    ("버지니아에 있는 인스턴스 목록", call("list_instances", region="us-east-1")),
    ("운영 계정 알람", call("list_alarms", account="production")),
    ("전체 리전에서 중지된 인스턴스", call("list_instances", state="stopped", region="all")),
    ("도쿄 리전 알람", call("list_alarms", region="ap-northeast-1")),
    ("sandbox 계정의 edge-proxy 상태", call("get_instance_status", instances=["edge-proxy"], account="sandbox")),
    ("eu-west-1 중지된 인스턴스", call("list_instances", state="stopped", region="eu-west-1")),
    ("프랑크푸르트 리전 알람", call("list_alarms", region="eu-central-1")),
]
