"""Benchmark: 1,000 owner x service series from a 10M-row CUR (Parquet), read and forecast.

Generates the CUR once under /tmp (100 teams x 10 services, 92 days, hourly lines with a
weekday pattern, growth and noise; Parquet columns and types as AWS Data Exports write them),
then times `read_daily` (one DuckDB GROUP BY) and `forecast_groups` (ETS fit + rolling-origin
backtests per series, one process per core) separately, with the CPU seconds spent.

    PYTHONPATH=src python bench/forecast.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import duckdb

from aifinops_cli.core.config import Config
from aifinops_cli.forecasting.plan import forecast_groups
from aifinops_cli.scanners.billing.series import read_daily


def generate(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(f"""
COPY (
  SELECT
    TIMESTAMP '2025-01-01' + INTERVAL (d) DAY + INTERVAL (i % 24) HOUR AS line_item_usage_start_date,
    'Service' || (s % 10) AS line_item_product_code,
    'USE1-BoxUsage:m5.large' AS line_item_usage_type,
    'Usage' AS line_item_line_item_type,
    (1.0 + (s % 7)) * (1.0 + 0.003 * d) * (CASE WHEN (d + 3) % 7 IN (5, 6) THEN 0.8 ELSE 1.0 END)
      * (0.9 + 0.2 * random()) AS line_item_unblended_cost,
    'USD' AS line_item_currency_code,
    'team-' || (s // 10) AS resource_tags_user_team
  FROM (SELECT i, i % 1000 AS s, (i // 1000) % 92 AS d FROM range({rows}) t(i))
) TO '{path}' (FORMAT parquet)""")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    path = Path(f"/tmp/aifinops-bench-cur2-{args.rows}.parquet")
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s -> {path}")
    t0 = time.perf_counter()
    read = read_daily([str(path)], Config())
    t1 = time.perf_counter()
    c1 = time.process_time()
    out = forecast_groups(read.rows)
    t2 = time.perf_counter()
    cpu = time.process_time() - c1 + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    series = len(out) - 1
    print(
        f"{args.rows:,} CUR rows, {len(read.rows):,} daily rows, {series} owner x service series "
        f"(+ total), {os.cpu_count()} cores"
    )
    print(
        f"read {t1 - t0:.2f} s, forecast {t2 - t1:.2f} s, total {t2 - t0:.2f} s "
        f"({(t2 - t1) / max(series, 1) * 1000:.1f} ms per series)"
    )
    print(
        f"forecast CPU {cpu:.1f} s ({cpu / max(series, 1) * 1000:.1f} ms per series); "
        f"load average {os.getloadavg()[0]:.1f} (other work on the machine slows the wall time)"
    )
    ok = sum(1 for g in out if g.status == "ok")
    print(
        f"status ok: {ok}/{len(out)}; total next month {out[0].next_month.point:,.0f} "
        f"(P10-P90 {out[0].next_month.lo:,.0f}-{out[0].next_month.hi:,.0f})"
    )


if __name__ == "__main__":
    main()
