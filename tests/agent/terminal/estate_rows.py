"""Result documents as the estate's tools return them (DESIGN.md, "The estate"): rows from two accounts
and two regions, each with its `region` and `account`, and the places a read could not cover."""

from __future__ import annotations


def _instance(name, iid, state, itype, env, account, region, zone="a", **extra):
    return {"instance_id": iid, "name": name, "state": state, "instance_type": itype, "env": env,
            "availability_zone": region + zone, "private_ip": "10.0.1.12", "protected": False,
            "tags": {"Name": name, "env": env}, "region": region, "account": account, **extra}


INSTANCES = [
    _instance("web-1", "i-0a1b2c3d4e5f60718", "running", "t3.small", "prod", "default", "us-east-1"),
    _instance("web-1", "i-0f9e8d7c6b5a40312", "running", "t3.small", "prod", "default", "eu-west-1", "b"),
    _instance("orders-api-green", "i-0123456789abcdef0", "stopped", "m6i.large", "prod", "prod", "eu-west-1"),
    _instance("db-primary", "i-0fedcba9876543210", "running", "r5.large", "prod", "prod", "us-east-1",
              protected=True),
    _instance("batch-runner-nightly", "i-0aa11bb22cc33dd44", "running", "c6g.xlarge", "staging", "default",
              "ap-northeast-2", "c"),
]


def instance_list(rows=None, **extra) -> dict:
    rows = INSTANCES if rows is None else rows
    return {"instances": rows, "count": len(rows), "has_more_results": False, **extra}


def _alarm(name, state, metric, account, region, rtype, rid, reason, **extra):
    return {"name": name, "state": state, "metric": metric, "namespace": "AWS/" + rtype.split(":")[0].upper(),
            "resource_type": rtype, "resource_id": rid, "reason": reason, "region": region, "account": account,
            **extra}


ALARMS = [
    _alarm("orders-db-cpu-high", "ALARM", "CPUUtilization", "prod", "eu-west-1", "rds:db-instance", "orders-db",
           "Threshold Crossed: 3 out of the last 3 datapoints [97.1, 96.4, 95.0] were greater than the threshold"),
    _alarm("web-1-status-check-failed", "ALARM", "StatusCheckFailed", "default", "us-east-1", "ec2:instance",
           "i-0a1b2c3d4e5f60718", "Threshold Crossed: 1 datapoint [1.0] was greater than or equal to 1.0",
           instance_id="i-0a1b2c3d4e5f60718", instance_name="web-1"),
    _alarm("checkout-lambda-errors", "OK", "Errors", "prod", "us-east-1", "lambda:function", "checkout",
           "Threshold Crossed: no datapoints were greater than the threshold"),
    _alarm("jobs-queue-age", "INSUFFICIENT_DATA", "ApproximateAgeOfOldestMessage", "default", "ap-northeast-2",
           "sqs:queue", "jobs", "Insufficient Data: 1 datapoint was unknown"),
]
SKIPPED = [{"account": "prod", "region": "ap-northeast-2",
            "reason": "AccessDenied: User: arn:aws:sts::222222222222:assumed-role/aiops-sandbox/aiops is not "
                      "authorized to perform: cloudwatch:DescribeAlarms on resource: arn:aws:cloudwatch:"
                      "ap-northeast-2:222222222222:alarm:*"},
           {"account": "default", "region": "sa-east-1", "reason": "ExpiredToken: the security token has expired"}]


def alarm_list(rows=None, **extra) -> dict:
    rows = ALARMS if rows is None else rows
    return {"alarms": rows, "count": len(rows), "firing": sum(a["state"] == "ALARM" for a in rows),
            "has_more_results": False, **extra}


def _status(name, iid, account, region, system="ok", instance="ok", alarms=()):
    return {"instance_id": iid, "name": name, "state": "running", "system_status": system,
            "instance_status": instance, "events": [], "env": "prod", "tags": {}, "alarms": list(alarms),
            "status_check_alarm": bool(alarms), "region": region, "account": account}


STATUSES = [
    _status("web-1", "i-0a1b2c3d4e5f60718", "default", "us-east-1", "impaired", "impaired",
            ["web-1-status-check-failed"]),
    _status("web-1", "i-0f9e8d7c6b5a40312", "default", "eu-west-1"),
    _status("db-primary", "i-0fedcba9876543210", "prod", "us-east-1"),
    _status("batch-runner-nightly", "i-0aa11bb22cc33dd44", "default", "ap-northeast-2"),
]


def status_list(rows=None, **extra) -> dict:
    rows = STATUSES if rows is None else rows
    return {"statuses": rows, "impaired": sum(s["system_status"] == "impaired" for s in rows),
            "alarming": sum(bool(s["alarms"]) for s in rows), "alarms_checked": True, **extra}
