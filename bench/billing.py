"""Billing scanner at scale: a 10,000,000-row CUR-shaped Parquet file.

Times, in one run:
  (a) DuckDB's raw aggregation of cost by usage type (the floor),
  (b) the same with pandas as a user would (read the file, group by),
  (c) the real `aifinops scan --billing FILE --format json` in a subprocess,
the peak memory of (c), and the CLI's start-up alone (`aifinops --version`, part of (c)).
Targets: (c) within 2x of (a), (c) at least 10x faster than (b), peak memory of (c) under 1.5 GiB.

    python bench/billing.py [--rows 10000000] [--file /tmp/cur-bench.parquet] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

USAGE_TYPES = [
    ("AmazonEC2", "USE1-BoxUsage:m5.xlarge", "RunInstances", "Hrs", 0.192, "Compute Instance"),
    ("AmazonEC2", "USE1-BoxUsage:p4d.24xlarge", "RunInstances", "Hrs", 32.77, "Compute Instance"),
    ("AmazonEC2", "USE1-BoxUsage:g5.2xlarge", "RunInstances", "Hrs", 1.212, "Compute Instance"),
    ("AmazonEC2", "USE1-EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", 0.08, "Storage"),
    ("AmazonEC2", "USE1-USW2-AWS-Out-Bytes", "RunInstances", "GB", 0.02, "Data Transfer"),
    ("AmazonEC2", "USE1-EUC1-AWS-Out-Bytes", "RunInstances", "GB", 0.02, "Data Transfer"),
    ("AmazonEC2", "USE1-DataTransfer-Regional-Bytes", "InterZone-Out", "GB", 0.01, "Data Transfer"),
    ("AmazonEC2", "USE1-DataTransfer-Out-Bytes", "RunInstances", "GB", 0.09, "Data Transfer"),
    ("AmazonEC2", "USE1-NatGateway-Bytes", "NatGateway", "GB", 0.045, "NAT Gateway"),
    ("AmazonEC2", "USE1-NatGateway-Hours", "NatGateway", "Hrs", 0.045, "NAT Gateway"),
    ("AmazonS3", "USE1-TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", 0.023, "Storage"),
    ("AmazonS3", "USE1-Requests-Tier1", "PutObject", "Requests", 0.000005, "API Request"),
    ("AmazonSageMaker", "USE1-Host:ml.g5.xlarge", "RunInstance", "Hrs", 1.41, "ML Instance"),
    ("AmazonBedrock", "USE1-Claude3Sonnet-input-tokens", "InvokeModel", "Units", 0.003, "Bedrock"),
    ("AmazonRDS", "USE1-InstanceUsage:db.r6g.large", "CreateDBInstance", "Hrs", 0.26, "Database Instance"),
    ("AmazonCloudWatch", "USE1-CW:MetricMonitorUsage", "MetricStorage", "Metrics", 0.3, "Metric"),
]
TEAMS = ["ml-platform", "search", "recsys", "data-eng", ""]


def generate(path: Path, rows: int, chunk: int = 1_000_000, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    n_types = len(USAGE_TYPES)
    start = datetime(2025, 3, 1)
    schema = None
    writer = None
    try:
        for offset in range(0, rows, chunk):
            n = min(chunk, rows - offset)
            ut_idx = rng.integers(0, n_types, n)
            hours = rng.integers(0, 31 * 24, n)
            res = rng.integers(0, 50_000, n)
            team = rng.integers(0, len(TEAMS), n)
            amount = rng.gamma(2.0, 1.5, n)
            price = np.array([u[4] for u in USAGE_TYPES])[ut_idx]

            def pick(col: int, idx: np.ndarray = ut_idx) -> pa.Array:
                # a dictionary with repeated values (AmazonEC2 x 10) makes pyarrow write the column
                # PLAIN; real CUR Parquet has its text columns dictionary-encoded: unique values
                values = pa.array([u[col] for u in USAGE_TYPES])
                return values.take(pa.array(idx, pa.int32())).dictionary_encode()

            to_regions = pa.array(
                [
                    "us-west-2" if "USW2" in u[1] else "eu-central-1" if "EUC1" in u[1] else ""
                    for u in USAGE_TYPES
                ]
            )
            to_region = to_regions.take(pa.array(ut_idx, pa.int32())).dictionary_encode()
            usage_start = pa.array(
                (np.datetime64(start) + hours.astype("timedelta64[h]")).astype("datetime64[ms]")
            )
            table = pa.table(
                {
                    "bill_billing_period_start_date": pa.array(np.full(n, np.datetime64(start, "ms"))),
                    "line_item_usage_start_date": usage_start,
                    "line_item_usage_account_id": pa.array(np.full(n, "123456789012")).dictionary_encode(),
                    "line_item_line_item_type": pa.array(np.full(n, "Usage")).dictionary_encode(),
                    "line_item_product_code": pick(0),
                    "line_item_usage_type": pick(1),
                    "line_item_operation": pick(2),
                    "line_item_resource_id": pa.array(np.char.add("i-", res.astype(str))).dictionary_encode(),
                    "line_item_usage_amount": pa.array(amount),
                    "line_item_unblended_cost": pa.array(amount * price),
                    "line_item_currency_code": pa.array(np.full(n, "USD")).dictionary_encode(),
                    "line_item_availability_zone": pa.array(np.full(n, "us-east-1a")).dictionary_encode(),
                    "product_region": pa.array(np.full(n, "us-east-1")).dictionary_encode(),
                    "product_product_family": pick(5),
                    "product_to_region_code": to_region,
                    "pricing_unit": pick(3),
                    "resource_tags_user_team": pa.DictionaryArray.from_arrays(
                        pa.array(team, pa.int32()), pa.array(TEAMS)
                    ),
                }
            )
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(path, schema, compression="snappy")
            writer.write_table(table, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()


def bench_duckdb(path: Path) -> tuple[float, int]:
    import duckdb

    t = time.perf_counter()
    con = duckdb.connect()
    rows = con.sql(
        f"SELECT line_item_usage_type, SUM(line_item_unblended_cost) FROM read_parquet('{path}') GROUP BY 1"
    ).fetchall()
    return time.perf_counter() - t, len(rows)


def bench_pandas(path: Path) -> tuple[float, float]:
    import pandas as pd

    t, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    df = pd.read_parquet(path)
    df.groupby("line_item_usage_type", observed=True)["line_item_unblended_cost"].sum()
    return time.perf_counter() - t, _cpu(resource.RUSAGE_SELF) - cpu


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def bench_cli(path: Path) -> tuple[float, float, float, dict]:
    """(wall s, CPU s, peak GiB, report): CPU seconds too, as wall time swings on a busy machine."""
    cmd = [
        sys.executable,
        "-m",
        "aifinops_cli",
        "--quiet",
        "scan",
        "--scanner",
        "billing",
        "--billing",
        str(path),
        "--format",
        "json",
    ]
    t, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    elapsed, cpu = time.perf_counter() - t, _cpu(resource.RUSAGE_CHILDREN) - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        raise SystemExit(f"aifinops failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, cpu, peak_kib / 1024 / 1024, json.loads(proc.stdout)


def bench_startup(runs: int = 3) -> float:
    """The CLI's fixed start-up (interpreter, imports): `aifinops --version`, best of `runs`."""
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "aifinops_cli", "--version"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--file", type=Path, default=Path("/tmp/aifinops-cur-bench.parquet"))
    ap.add_argument("--keep", action="store_true", help="reuse the file if it exists")
    args = ap.parse_args()
    if not (args.keep and args.file.exists()):
        t = time.perf_counter()
        generate(args.file, args.rows)
        print(
            f"generated {args.rows:,} rows, {args.file.stat().st_size / 2**20:.0f} MiB "
            f"in {time.perf_counter() - t:.1f}s: {args.file}"
        )
    cli_s, cli_cpu, peak_gib, report = bench_cli(args.file)  # first: RUSAGE_CHILDREN then measures it alone
    duck_s, _ = bench_duckdb(args.file)
    duck_s = min(duck_s, bench_duckdb(args.file)[0])  # warm cache, best of two
    pandas_s, pandas_cpu = bench_pandas(args.file)
    startup_s = bench_startup()
    billing = report.get("analysis", {}).get("billing", {}).get("data", {})
    print(f"(a) DuckDB raw cost by usage type : {duck_s:7.2f} s")
    print(f"(b) pandas read + groupby          : {pandas_s:7.2f} s   CPU {pandas_cpu:.2f} s")
    print(
        f"(c) aifinops scan --billing (CLI)  : {cli_s:7.2f} s   CPU {cli_cpu:.2f} s   "
        f"peak RSS {peak_gib:.2f} GiB"
    )
    print(
        f"    of which CLI start-up (aifinops --version): {startup_s:.2f} s "
        f"({100 * startup_s / cli_s:.0f}% of (c))"
    )
    print(f"    (c)/(a) = {cli_s / duck_s:.2f}x  (target <= 2x)")
    print(f"    (b)/(c) = {pandas_s / cli_s:.1f}x  (target >= 10x; CPU seconds {pandas_cpu / cli_cpu:.1f}x)")
    print(f"    peak    = {peak_gib:.2f} GiB (target < 1.5 GiB)")
    print(
        f"    billed total {billing.get('billed_total')}, egress {billing.get('egress')}, "
        f"findings {len(report.get('findings', []))}"
    )


if __name__ == "__main__":
    main()
