"""Benchmark: `aifinops scan` against a moto server on loopback.

Estate: 3 regions x 200 instances (half accelerated types, half of those idle by CPU) and 300
unattached volumes. Prints wall time, the API requests the server received, and whether the
findings are exactly the idle GPU instances and all 300 volumes. Target (issue 2): those findings
with at most 30 requests, and under half the ~6 s a widely used reference tool needed.

    python bench/aws_scan.py            # the three seeded regions (--regions)
    python bench/aws_scan.py --all-regions   # also time the default: every enabled region
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.aws_proxy import AwsFarEnd  # noqa: E402

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
GPU_TYPES = ("g5.xlarge", "g4dn.xlarge", "p3.2xlarge", "g5.2xlarge")
CPU_TYPES = ("m5.large", "c5.xlarge")
PER_REGION = 200
VOLUMES_PER_REGION = 100
DAYS = 14


def seed(moto_url: str) -> dict[str, set[str]]:
    """Seed straight into moto (not through the counting proxy); return expected ids."""
    expected: dict[str, set[str]] = {"idle_gpu": set(), "volumes": set()}
    now = datetime.now(UTC)
    for region in REGIONS:
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto_url)
        cw = boto3.client("cloudwatch", region_name=region, endpoint_url=moto_url)
        image = sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0]
        data = []
        for n in range(PER_REGION):
            gpu = n % 2 == 0
            itype = GPU_TYPES[n % 4 // 2 + (n % 8 >= 4) * 2] if gpu else CPU_TYPES[n % 2]
            idle = gpu and n % 4 == 0
            iid = ec2.run_instances(
                ImageId=image,
                MinCount=1,
                MaxCount=1,
                InstanceType=itype,
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": f"team-{n % 5}"}]}
                ],
            )["Instances"][0]["InstanceId"]
            if idle:
                expected["idle_gpu"].add(iid)
            cpu = 1.5 if idle else 40.0 + n % 30
            dims = [{"Name": "InstanceId", "Value": iid}]
            for d in range(DAYS):
                ts = now - timedelta(days=d, hours=2)
                data.append(
                    {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": ts, "Value": cpu}
                )
                for metric in ("NetworkIn", "NetworkOut"):
                    data.append(
                        {
                            "MetricName": metric,
                            "Dimensions": dims,
                            "Timestamp": ts,
                            "Value": 1e6 if idle else 5e9,
                        }
                    )
        for start in range(0, len(data), 1000):
            cw.put_metric_data(Namespace="AWS/EC2", MetricData=data[start : start + 1000])
        for n in range(VOLUMES_PER_REGION):
            vid = ec2.create_volume(
                AvailabilityZone=f"{region}a",
                Size=50 + n,
                VolumeType=("gp3", "gp2", "st1", "io1")[n % 4],
                **({"Iops": 3000} if n % 4 == 3 else {}),
            )["VolumeId"]
            expected["volumes"].add(vid)
    return expected


def run_scan(far: AwsFarEnd, extra: list[str]) -> tuple[float, int, dict, dict[str, int], dict[str, float]]:
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=far.url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("AWS_PROFILE", None)
    far.recorder.calls.clear()
    far.recorder.upstream.clear()
    far.recorder.busy_by_op.clear()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "aifinops_cli", "-q", "scan", "--format", "json", *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({proc.returncode}): {proc.stderr}")
    ops = dict(far.recorder.operations())
    timing = {
        "cpu": cpu,
        "server": far.recorder.upstream_seconds(),
        **{f"op:{op}": t for op, t in far.recorder.busy_by_op.most_common(4)},
    }
    return elapsed, len(far.recorder.calls), json.loads(proc.stdout), ops, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--all-regions", action="store_true", help="also time a scan of every enabled region (the default)"
    )
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["AWS_DISABLE_REQUEST_COMPRESSION"] = "true"
    with AwsFarEnd() as far:
        t0 = time.perf_counter()
        expected = seed(far.moto_url)
        print(
            f"seeded {len(REGIONS)} regions x {PER_REGION} instances, "
            f"{len(expected['volumes'])} volumes in {time.perf_counter() - t0:.1f} s"
        )
        regions = ["--regions", ",".join(REGIONS)]
        runs = [
            ("--regions, the two scanners of issue 2", [*regions, "--scanner", "aws.ec2,aws.ebs"]),
            ("--regions, every AWS scanner", regions),
        ]
        if args.all_regions:
            runs.append(("all enabled regions", []))
        for label, extra in runs:
            elapsed, requests, report, ops, timing = run_scan(far, extra)
            idle = {f["resource_id"] for f in report["findings"] if f["rule_id"] == "aws-ec2-idle-gpu"}
            vols = {f["resource_id"] for f in report["findings"] if f["rule_id"] == "aws-ebs-unattached"}
            exact = idle == expected["idle_gpu"] and vols == expected["volumes"]
            print(f"\nscan ({label}):")
            print(f"  wall time          {elapsed:.2f} s (whole process, including Python start-up)")
            print(f"  aifinops CPU time  {timing['cpu']:.2f} s (user+sys of the scan process)")
            print(f"  moto busy          {timing['server']:.2f} s (wall time the server spent answering)")
            heavy = ", ".join(f"{k[3:]} {v:.2f} s" for k, v in timing.items() if k.startswith("op:"))
            print(f"    of which         {heavy}")
            print(f"  API requests       {requests}  {dict(sorted(ops.items()))}")
            print(f"  idle GPU findings  {len(idle)} (expected {len(expected['idle_gpu'])})")
            print(f"  volume findings    {len(vols)} (expected {len(expected['volumes'])})")
            print(f"  exact match        {exact}")
            print(f"  monthly waste      ${report['summary']['monthly_waste_usd']:,.2f}")


if __name__ == "__main__":
    main()
