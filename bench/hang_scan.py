"""Benchmark: how long `aifinops scan` takes when one region's endpoint accepts requests and never
answers (issue 13: one hanging region made a scan take 23 minutes).

Moto behind the recording proxy; three regions with one unattached volume each; every EC2 request
signed for eu-west-1 hangs. Prints the wall time of the scan, each region's coverage line and
the findings kept. With the default limits (read timeout 60 s, 4 attempts) the hanging region
ends on its own; `--timeout` caps the whole scan, whatever the client limits.

    python bench/hang_scan.py                    # defaults: the region fails by read timeout
    python bench/hang_scan.py --timeout 20       # the scan deadline ends it first
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.aws_proxy import AwsFarEnd, Fault  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
HANGING = "eu-west-1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", help="passed to aifinops scan --timeout")
    args = parser.parse_args()
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        PYTHONPATH=str(ROOT / "src"),
    )
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
    with AwsFarEnd() as far_end:
        for region in REGIONS:
            ec2 = boto3.client("ec2", region_name=region, endpoint_url=far_end.moto_url)
            ec2.create_volume(AvailabilityZone=f"{region}a", Size=100, VolumeType="gp3")
        far_end.recorder.faults.append(Fault(kind="hang", region=HANGING, service="ec2", hang_seconds=3600))
        cmd = [
            sys.executable,
            "-m",
            "aifinops_cli",
            "scan",
            "-s",
            "aws.ebs",
            "--regions",
            ",".join(REGIONS),
            "--format",
            "json",
            "--no-record",
        ]
        if args.timeout:
            cmd += ["--timeout", args.timeout]
        began = time.perf_counter()
        done = subprocess.run(
            cmd, env=dict(env, AWS_ENDPOINT_URL=far_end.url), capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - began
        far_end.recorder.release.set()
    report = json.loads(done.stdout)
    print(f"exit code {done.returncode}, wall time {wall:.1f} s (--timeout {args.timeout or 'default'})")
    for scope in report["coverage"]["scopes"]:
        print(f"  {scope['scope']:<10} {scope['status']:<7} {scope['message'][:110]}")
    print(f"  findings kept: {len(report['findings'])} (expected {len(REGIONS) - 1})")


if __name__ == "__main__":
    main()
