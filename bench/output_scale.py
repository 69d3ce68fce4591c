"""Render N findings (default 100,000) in every format and print time and peak memory per format.

    PYTHONPATH=src python bench/output_scale.py [N] [--formats table,json,markdown,csv,html]

Each format runs in its own child process, so a format's peak RSS is its own (the report built
in memory is included: that is what a real scan holds when it renders). The report goes through
the same path as `scan -o FILE` (cli/common.py write_report). Goal (issue 13): every format
under 10 s and under 1 GiB at 100,000 findings.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMATS = ("table", "json", "markdown", "csv", "html")


def make_report(n: int):
    """A report shaped like a large real one: n findings over 40 owners, 6 rules, 12 regions,
    each with two priced cost lines, evidence and tags."""
    from aifinops_cli.core.models import (
        Confidence,
        CostLine,
        CoverageEntry,
        Finding,
        Observation,
        Report,
        Severity,
    )

    rules = [
        ("aws-ec2-idle-gpu", "idle-gpu", Severity.HIGH),
        ("aws-ebs-unattached", "orphaned-storage", Severity.MEDIUM),
        ("gcp-disk-unattached", "orphaned-storage", Severity.LOW),
        ("k8s-gpu-idle", "idle-gpu", Severity.HIGH),
        ("llm-premium-simple", "llm-misuse", Severity.MEDIUM),
        ("billing-ai-egress", "data-egress", Severity.LOW),
    ]
    regions = [f"region-{i}" for i in range(12)]
    findings = []
    for i in range(n):
        rule, category, severity = rules[i % len(rules)]
        region = regions[i % len(regions)]
        lines = (
            CostLine(
                "p3.2xlarge on demand",
                3.06,
                "hour",
                730.0,
                "aws-on-demand",
                "2026-11-01",
                f"ec2:p3.2xlarge:{region}",
            ),
            CostLine(
                "gp3 storage",
                0.08,
                "GB-month",
                100.0 + i % 900,
                "aws-on-demand",
                "2026-11-01",
                f"ebs:gp3:{region}",
            ),
        )
        owner = f"team-{i % 40}" if i % 7 else ""
        obs = Observation(
            provider=rule.split("-")[0],
            kind="aws.ec2.instance",
            id=f"i-{i:017x}",
            account="123456789012",
            region=region,
            name=f"train-{i}",
            tags={"team": owner, "env": "prod", "Name": f"train-{i}"},
            owner=owner,
            metrics={"cpu_avg_pct": 1.5, "gpu_util_avg_pct": 0.4},
            cost_lines=lines,
        )
        cost = obs.monthly_cost_usd
        findings.append(
            Finding(
                rule_id=rule,
                title="Idle GPU instance",
                category=category,
                severity=severity,
                confidence=Confidence.HIGH,
                observation=obs,
                monthly_cost_usd=cost,
                estimated_monthly_savings_usd=round(cost * 0.9, 2),
                recommendation="Stop or downsize the instance; snapshot its volumes first.",
                evidence={
                    "cpu_avg_pct": 1.5,
                    "gpu_util_avg_pct": 0.4,
                    "instance_type": "p3.2xlarge",
                    "notes": ["14 days of CloudWatch data"],
                    "cost_basis": [line.to_dict() for line in lines],
                    "thresholds": {"cpu_max_pct": 5, "gpu_max_pct": 5},
                },
            )
        )
    coverage = [CoverageEntry("aws", r, "ok", resources=n // len(regions)) for r in regions]
    return Report(
        tool_version="bench",
        started_at="2026-12-01T00:00:00Z",
        finished_at="2026-12-01T00:10:00Z",
        scanners=["aws"],
        findings=findings,
        coverage=coverage,
        observations_count=n,
        parameters={
            "price_catalogs": [{"catalog": "aws-on-demand", "price_date": "2026-11-01", "source": "bench"}],
            "owner_tag_keys": ["team"],
        },
    )


def _child(fmt: str, n: int) -> None:
    from aifinops_cli.cli.common import write_report
    from aifinops_cli.output import formatters

    report = make_report(n)
    formatter = formatters()[fmt]()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"report.{formatter.extension}"
        start = time.perf_counter()
        write_report(target, formatter, report)
        seconds = time.perf_counter() - start
        size = target.stat().st_size
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "format": fmt,
                "seconds": round(seconds, 2),
                "peak_rss_mib": round(peak_kib / 1024),
                "bytes": size,
            }
        )
    )


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--child":
        _child(args[1], int(args[2]))
        return
    n = int(args[0]) if args and args[0].isdigit() else 100_000
    formats = FORMATS
    if "--formats" in args:
        formats = tuple(args[args.index("--formats") + 1].split(","))
    print(f"{n:,} findings; render + write through write_report, one process per format")
    print(f"{'format':<10} {'seconds':>8} {'peak RSS MiB':>13} {'output MB':>10}")
    for fmt in formats:
        out = subprocess.run(
            [sys.executable, __file__, "--child", fmt, str(n)], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            print(f"{fmt:<10} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{fmt:<10} {row['seconds']:>8.2f} {row['peak_rss_mib']:>13,} {row['bytes'] / 1e6:>10.1f}")


if __name__ == "__main__":
    main()
