"""Benchmark: what the demo's fake AWS account costs, the piece every `scan --demo` pays.

Seeds the demo estate (demo/aws.py `demo_aws`) in-process and prints the CPU seconds of the
seeding, then of leaving the mock, and the AWS API calls the seeding made by operation with their
CPU seconds (moto answers in-process, so a call's time is mostly moto building its response).
With `--scan`, also runs `aifinops scan --demo --format json` in a child process and prints its
user and system CPU seconds. CPU, not wall time: the figure holds on a loaded machine.

    python bench/demo_seed.py
    python bench/demo_seed.py --scan
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", action="store_true", help="also time a whole `scan --demo` process")
    args = parser.parse_args()

    import botocore.client

    from aifinops_cli.core.plugin import ScanOptions
    from aifinops_cli.demo.aws import demo_aws

    calls: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    original = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        start = time.process_time()
        try:
            return original(self, operation, params)
        finally:
            calls[operation][0] += 1
            calls[operation][1] += time.process_time() - start

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
    start = time.process_time()
    estate = demo_aws(ScanOptions())
    estate.__enter__()
    seeded = time.process_time()
    estate.__exit__(None, None, None)
    left = time.process_time()
    print(f"seeding: {seeded - start:.2f} CPU-s, leaving the mock: {left - seeded:.2f} CPU-s")
    print(f"{'operation':36s} {'calls':>5s} {'CPU-s':>7s}")
    for op, (n, cpu) in sorted(calls.items(), key=lambda kv: -kv[1][1]):
        print(f"{op:36s} {int(n):5d} {cpu:7.3f}")
    if args.scan:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "aifinops_cli", "-q", "scan", "--demo", "--format", "json"],
            capture_output=True,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"scan --demo (exit {proc.returncode}): {after.ru_utime - before.ru_utime:.2f} user + "
            f"{after.ru_stime - before.ru_stime:.2f} system CPU-s"
        )


if __name__ == "__main__":
    main()
