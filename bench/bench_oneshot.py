"""One-shot speed: `main.py ask "list all instances" --json` against `aws ec2 describe-instances`, side by side.

Both talk to the same standalone moto server on loopback (AWS_ENDPOINT_URL, fake credentials; not
--sandbox). Runs are paired and interleaved (CLI, ours, CLI, ours ...) so load that comes and goes
hits both alike; the figure is the median of the per-pair ratios, with the spread of each side.

    .venv/bin/python bench/bench_oneshot.py [--sizes 50,2000] [--pairs 9] [--aws PATH]

The AWS CLI is not a product dependency: the bench uses `aws` from PATH (a pyenv shim is resolved
to the real script, so neither side pays a shell wrapper), or pass --aws. Install one with
`python -m venv /tmp/awscli && /tmp/awscli/bin/pip install awscli` if there is none.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import REPO, save, start_moto

REQUEST = "list all instances"
# Moto pages DescribeInstances by reservation: several reservations make both clients page.
RESERVATIONS = {50: 5, 2000: 20}


def seed(url: str, count: int) -> None:
    import urllib.request

    import boto3

    # Moto's state is per process, not per server: start each size from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).read()
    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    groups = RESERVATIONS.get(count, max(1, count // 100))
    made = 0
    for group in range(groups):
        size = count // groups + (1 if group < count % groups else 0)
        env = ("prod", "staging", "dev")[group % 3]
        tags = [{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": env},
                                                       {"Key": "role", "Value": f"svc{group}"}]}]
        reservation = ec2.run_instances(ImageId=image, MinCount=size, MaxCount=size, InstanceType="t3.micro",
                                        TagSpecifications=tags)
        for instance in reservation["Instances"]:
            made += 1
            ec2.create_tags(Resources=[instance["InstanceId"]], Tags=[{"Key": "Name", "Value": f"{env}-{made}"}])


def aws_cli(explicit: str | None) -> list[str]:
    path = explicit or shutil.which("aws")
    if path is None:
        sys.exit("no `aws` on PATH: python -m venv /tmp/awscli && /tmp/awscli/bin/pip install awscli; "
                 "then --aws /tmp/awscli/bin/aws")
    if "/shims/" in path:  # a pyenv shim is a bash script that spends ~0.4 s finding the real one
        path = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True, check=True).stdout.strip()
    with open(path, "rb") as head:
        first = head.readline()
    if first.startswith(b"#!") and b"python" in first:  # run it with its interpreter directly, as the shell would
        return [first[2:].decode().strip(), path]
    return [path]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])}… failed ({done.returncode}): {done.stderr.decode()[-400:]}")
    return elapsed, done.stdout


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_s": round(statistics.median(ordered), 3), "min_s": round(ordered[0], 3),
            "max_s": round(ordered[-1], 3)}


def measure(url: str, count: int, pairs: int, cli: list[str]) -> dict:
    # A busy machine can make moto take longer than the default 30 s budget over 2,000 instances.
    env = {**os.environ, "AIOPS_HOME": tempfile.mkdtemp(prefix="bench-oneshot-"), "AWS_PAGER": "",
           "AIOPS_AWS_TIMEOUT": "300"}
    ours = [sys.executable, str(REPO / "main.py"), "ask", REQUEST, "--json"]
    theirs = [*cli, "ec2", "describe-instances", "--endpoint-url", url, "--output", "json"]
    # One unmeasured run of each warms the page cache and moto's own code paths.
    _, out = timed(ours, env)
    import json

    listed = json.loads(out)["result"]["count"]  # the list itself stops at 1,000 rows; `count` is the fleet
    if listed != count:
        sys.exit(f"ask counted {listed} instances, expected {count}")
    timed(theirs, env)
    cli_times, our_times, ratios = [], [], []
    for _ in range(pairs):
        cli_s, _ = timed(theirs, env)
        our_s, _ = timed(ours, env)
        cli_times.append(cli_s)
        our_times.append(our_s)
        ratios.append(our_s / cli_s)
    return {"instances": count, "pairs": pairs, "aws_cli": spread(cli_times), "ask_json": spread(our_times),
            "ratio_median": round(statistics.median(ratios), 2),
            "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,2000")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--aws", default=None, help="path to the aws executable")
    args = parser.parse_args()
    cli = aws_cli(args.aws)
    version = subprocess.run([*cli, "--version"], capture_output=True, text=True, check=False)
    figures: dict = {"aws_cli_version": (version.stdout or version.stderr).strip(),
                     "load_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(), "runs": []}
    for count in (int(s) for s in args.sizes.split(",")):
        server, url = start_moto()
        try:
            seed(url, count)
            figures["runs"].append(measure(url, count, args.pairs, cli))
        finally:
            server.stop()
        print(figures["runs"][-1], flush=True)
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    save("oneshot", figures)


if __name__ == "__main__":
    main()
