"""The tuning table for place words (regions, accounts) on fleet P (`fleets_places.places_fleet`).

Region words fill the optional `region` argument ("all" for every region), account words the
`account` argument, for the tools that take them; names resolve only among the instances in
the place named. The held-out phrasings are in heldout_places.py.
"""

from __future__ import annotations

from tests.agent.planner.expect import call, clarify
from tests.agent.planner.fleets_places import placed_id

WEB1_US = placed_id("web-1", "default", "us-east-1")
WEB1_EU = placed_id("web-1", "default", "eu-west-1")
CPU = "CPUUtilization"

TUNE_PLACES = [
    # the brief's own examples
    ("list instances in all regions", call("list_instances", region="all")),
    ("stop web-1 in eu-west-1", call("stop_instances", instances=[WEB1_EU], region="eu-west-1")),
    ("show alarms in the prod account", call("list_alarms", account="prod")),
    ("프로덕션 계정 알람 보여줘", call("list_alarms", account="prod")),
    ("eu-west-1 인스턴스 목록", call("list_instances", region="eu-west-1")),
    ("서울 리전 인스턴스", call("list_instances", region="ap-northeast-2")),
    ("instances in Ireland", call("list_instances", region="eu-west-1")),
    ("alarms in frankfurt", call("list_alarms", region="eu-central-1")),
    ("list instances in us east", call("list_instances", region="us-east-1")),
    ("버지니아 인스턴스 목록", call("list_instances", region="us-east-1")),
    ("모든 리전 인스턴스 목록", call("list_instances", region="all")),
    ("전체 리전 알람 보여줘", call("list_alarms", region="all")),
    # region words with every placeable tool
    ("reboot web-1 in us-east-1", call("reboot_instances", instances=[WEB1_US], region="us-east-1")),
    ("start worker-1 in virginia", call("start_instances", instances=["worker-1"], region="us-east-1")),
    ("describe web-2 in eu-west-1", call("describe_instance", instance="web-2", region="eu-west-1")),
    ("status of web-1 in ireland", call("get_instance_status", instances=[WEB1_EU], region="eu-west-1")),
    ("cpu of web-2 in eu-west-1", call("get_metric_statistics", instance="web-2", metric=CPU, region="eu-west-1")),
    ("firing alarms in every region", call("list_alarms", state="ALARM", region="all")),
    ("list running instances in the eu-west-1 region", call("list_instances", state="running", region="eu-west-1")),
    ("instances in region eu-west-1", call("list_instances", region="eu-west-1")),
    ("us-east-1 alarms", call("list_alarms", region="us-east-1")),
    ("what runs in tokyo", call("list_instances", region="ap-northeast-1")),
    ("list web servers in eu-west-1", call("list_instances", tags={"role": "web"}, region="eu-west-1")),
    # account words
    ("list instances in the prod account", call("list_instances", account="prod")),
    ("alarms in the production account", call("list_alarms", account="prod")),
    ("운영 계정 인스턴스 목록", call("list_instances", account="prod")),
    ("default 계정 알람", call("list_alarms", account="default")),
    ("stop api-1 in the prod account", call("stop_instances", instances=["api-1"], account="prod")),
    ("show prod/eu-west-1 instances", call("list_instances", account="prod", region="eu-west-1")),
    ("stop web-1 in default/eu-west-1",
     call("stop_instances", instances=[WEB1_EU], account="default", region="eu-west-1")),
    ("alarms in the staging account", clarify("default", "prod")),
    # names that share a place word, names in two places, places with no such name
    ("describe seoul-cache", call("describe_instance", instance="seoul-cache")),
    ("stop web-1", clarify("web-1 in us-east-1", "web-1 in eu-west-1")),
    ("reboot web-1 in tokyo", clarify()),
    ("stop every web server in all regions",
     call("stop_instances", instances=[WEB1_US, WEB1_EU, "web-2"], region="all")),
    ("list prod instances", call("list_instances", tags={"env": "prod"})),
    ("alarms in us-east-1 and eu-west-1", call("list_alarms", region="all")),
    ("alarms in us-east-1 and tokyo", clarify()),
    # Korean
    ("서울 리전의 seoul-cache 상태", call("get_instance_status", instances=["seoul-cache"], region="ap-northeast-2")),
    ("아일랜드에서 web-1 중지해줘", call("stop_instances", instances=[WEB1_EU], region="eu-west-1")),
    ("프로덕션 계정에서 api-1 재부팅", call("reboot_instances", instances=["api-1"], account="prod")),
    ("도쿄 리전 알람 상태", call("list_alarms", region="ap-northeast-1")),
    ("미국 동부 인스턴스", call("list_instances", region="us-east-1")),
]
