"""The inventory is read a bounded page at a time, so a large fleet answers page by page within the timeout."""

from __future__ import annotations

from mcp_server.inventory import fetch_raw


def describe_calls(ec2) -> list[dict]:
    """Every DescribeInstances request the real client sends (botocore's own event hook, no patching)."""
    sent: list[dict] = []
    ec2.meta.events.register("provide-client-params.ec2.DescribeInstances",
                             lambda params, **_: sent.append(dict(params)))
    return sent


def test_a_fleet_is_read_page_by_page(aws_env, ec2):
    for n in range(12):  # moto pages by reservation: one instance each
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"n{n}"}]}])
    sent = describe_calls(ec2)
    raw = fetch_raw(ec2, page_size=5)
    assert len(raw) == 12 and len({r["InstanceId"] for r in raw}) == 12
    assert len(sent) == 3 and all(p["MaxResults"] == 5 for p in sent)


def test_a_list_of_ids_is_its_own_bound(aws_env, ec2):
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)["Instances"]]
    sent = describe_calls(ec2)
    assert {r["InstanceId"] for r in fetch_raw(ec2, ids=ids, page_size=5)} == set(ids)
    assert "MaxResults" not in sent[0]  # EC2 refuses MaxResults together with InstanceIds
