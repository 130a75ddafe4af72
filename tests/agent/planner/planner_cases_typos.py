"""Tuning cases for misspelt and casual verbs, "don't need it", Korean alarm states, tag words said
in passing, and log-group listings. Fleet G (`tagword_fleet`). The rules were tuned on these; the
held-out batch 3 (heldout_cases.py, fleet F) was written first and is never tuned on.
"""

from __future__ import annotations

from tests.agent.planner.expect import Contains, call, clarify


def _act(tool: str, *names: str) -> object:
    return call(tool, instances=list(names))


def stop(*n):
    return _act("stop_instances", *n)


def start(*n):
    return _act("start_instances", *n)


def reboot(*n):
    return _act("reboot_instances", *n)


def terminate(*n):
    return _act("terminate_instances", *n)


CPU = "CPUUtilization"

TYPOS = [
    # one or two letters swapped, dropped, doubled or wrong
    ("stoop api-1", stop("api-1")), ("sotp tools-1", stop("tools-1")), ("stpo api-2", stop("api-2")),
    ("stp dev-vm", stop("dev-vm")), ("sstop web-1", stop("web-1")),
    ("rebot api-1", reboot("api-1")), ("rebbot web-1", reboot("web-1")), ("reboooot tools-1", reboot("tools-1")),
    ("reobot api-2", reboot("api-2")), ("rboot dev-vm", reboot("dev-vm")),
    ("restat web-1", reboot("web-1")), ("retsart api-1", reboot("api-1")), ("restrat tools-1", reboot("tools-1")),
    ("resart api-2", reboot("api-2")),
    ("strat qa-box", start("qa-box")), ("satrt stepper", start("stepper")), ("strt qa-box", start("qa-box")),
    ("starr qa-box", call("describe_instance", instance="qa-box")),  # a changed letter in a short verb: not taken
    ("terminte dev-vm", terminate("dev-vm")), ("termiante dev-vm", terminate("dev-vm")),
    ("temrinate dev-vm", terminate("dev-vm")), ("terminat qa-box", terminate("qa-box")),
    ("please rebot the web server", reboot("web-1")),
    ("can you stpo dev-vm now", stop("dev-vm")),
    # a typo'd verb keeps every other safety rule
    ("stpo api-1 and rebot api-2", clarify()),
    ("dont stpo api-1", clarify()),
    ("terminte everything", clarify()),
    # near-misses that are not verbs
    ("show state-sync", call("describe_instance", instance="state-sync")),
    ("stats of api-1", call("get_metric_statistics", instance="api-1", metric=CPU)),
    ("state of api-1", call("get_instance_status", instances=["api-1"])),
    ("describe stepper", call("describe_instance", instance="stepper")),
    ("step by step guide for restoring a snapshot", call("search_sops", query=Contains("snapshot"))),
    ("shop api-1", call("describe_instance", instance="api-1")),
    ("list stopped instances", call("list_instances", state="stopped")),
    # Korean: a syllable dropped or doubled
    ("api-1 재부트 해줘", reboot("api-1")), ("web-1 재부팅팅", reboot("web-1")), ("api-2 재시작작 해줘", reboot("api-2")),
    ("dev-vm 중지지 해줘", stop("dev-vm")), ("tools-1 정지지", stop("tools-1")),
    ("qa-box 시작작 해줘", start("qa-box")), ("dev-vm 종료료 해줘", terminate("dev-vm")),
    ("dev-vm 삭제제", terminate("dev-vm")),
]

CASUAL = [
    ("give api-1 a restart", reboot("api-1")), ("give web-1 a reboot", reboot("web-1")),
    ("give tools-1 a bounce", reboot("tools-1")), ("give dev-vm a kick", reboot("dev-vm")),
    ("give api-2 a quick restart", reboot("api-2")),
    ("bounce api-1", reboot("api-1")), ("kick web-1", reboot("web-1")), ("cycle tools-1", reboot("tools-1")),
    ("shut dev-vm down", stop("dev-vm")), ("shut down dev-vm", stop("dev-vm")), ("power off tools-1", stop("tools-1")),
    ("power down api-2", stop("api-2")), ("turn off web-1", stop("web-1")),
    ("spin up qa-box", start("qa-box")), ("fire up stepper", start("stepper")), ("power on qa-box", start("qa-box")),
    ("bring qa-box up", start("qa-box")), ("boot up stepper", start("stepper")),
    ("spin down dev-vm", stop("dev-vm")),
]

NEGATION = [
    ("kill dev-vm, we don't need it anymore", terminate("dev-vm")),
    ("kill tools-1 we don't need it any more", terminate("tools-1")),
    ("terminate dev-vm, no longer needed", terminate("dev-vm")),
    ("terminate qa-box, it's not needed anymore", terminate("qa-box")),
    ("we don't need dev-vm anymore, terminate it", terminate("dev-vm")),
    ("delete qa-box, don't need it", terminate("qa-box")),
    ("stop dev-vm, we don't need it tonight", clarify()),
    ("don't stop web-1", clarify()), ("do not terminate dev-vm", clarify()),
    ("never reboot db-main", clarify()),
    ("dev-vm 중지하지 마", clarify()), ("api-1 재부팅 하지 마세요", clarify()),
    ("kill api-1", stop("api-1")),
]

KO_ALARM_STATES = [
    ("알람 상태인 알람 보여줘", call("list_alarms", state="ALARM")),
    ("alarm 상태의 알람 목록", call("list_alarms", state="ALARM")),
    ("경보 중인 알람", call("list_alarms", state="ALARM")),
    ("지금 울리는 알람", call("list_alarms", state="ALARM")),
    ("OK 상태 알람 목록", call("list_alarms", state="OK")),
    ("ok인 알람 보여줘", call("list_alarms", state="OK")),
    ("정상 알람", call("list_alarms", state="OK")),
    ("데이터 부족 알람", call("list_alarms", state="INSUFFICIENT_DATA")),
    ("데이터 부족 상태 경보", call("list_alarms", state="INSUFFICIENT_DATA")),
    ("알람 목록", call("list_alarms")),
    ("알람 상태 보여줘", call("list_alarms")),
]

TAG_WORDS = [
    ("show cpu for api-1 over the last hour, ops is asking",
     call("get_metric_statistics", instance="api-1", metric=CPU, minutes=60)),
    ("cpu of web-1, dev wants to know", call("get_metric_statistics", instance="web-1", metric=CPU)),
    ("network out for api-2 for the test report", call("get_metric_statistics", instance="api-2", metric="NetworkOut")),
    ("prod is slow: cpu of api-1", call("get_metric_statistics", instance="api-1", metric=CPU)),
    ("status of tools-1, ops asked", call("get_instance_status", instances=["tools-1"])),
    ("describe dev-vm for the ops team", call("describe_instance", instance="dev-vm")),
    # a tag word that really is the group still is
    ("status of the ops boxes", call("get_instance_status", instances=["tools-1", "state-sync"])),
    ("list dev instances", call("list_instances", tags={"env": "dev"})),
    ("status of the test servers", call("get_instance_status", instances=["qa-box"])),
    ("api-1 cpu over the last hour", call("get_metric_statistics", instance="api-1", metric=CPU, minutes=60)),
]

LOG_GROUPS = [
    ("list log groups", call("list_log_groups")),
    ("show me the log groups", call("list_log_groups")),
    ("which log groups do we have?", call("list_log_groups")),
    ("log groups", call("list_log_groups")),
    ("what log groups exist", call("list_log_groups")),
    ("log groups starting with /aws", call("list_log_groups", prefix="/aws")),
    ("list log groups under /app", call("list_log_groups", prefix="/app")),
    ("로그 그룹 보여줘", call("list_log_groups")),
    ("로그 그룹 리스트", call("list_log_groups")),
    ("어떤 로그 그룹이 있어?", call("list_log_groups")),
    ("/aws로 시작하는 로그 그룹 목록", call("list_log_groups", prefix="/aws")),
    ("errors in the api log group", call("search_logs", log_group="/app/api", pattern="ERROR")),
    ("search the /ops/tools log group for timeout", call("search_logs", log_group="/ops/tools", pattern='"timeout"')),
    ("api logs", call("search_logs", log_group="/app/api")),
    ("api 로그 그룹에서 에러 찾아줘", call("search_logs", log_group="/app/api", pattern="ERROR")),
]

TUNE = TYPOS + CASUAL + NEGATION + KO_ALARM_STATES + TAG_WORDS + LOG_GROUPS
