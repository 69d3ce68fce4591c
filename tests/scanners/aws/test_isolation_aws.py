"""Isolation: one AWS region that fails in any way is one coverage line; the others are reported.

Faults are injected by the recording proxy in front of moto (tests/fakes/aws_proxy.py), on the
wire, the way a broken endpoint, a middlebox or a missing permission would answer. The cases are
generated: every fault kind lands on a different region of a three-region scan, and one case
breaks two regions at once. Short client timeouts (config `scan:`) keep the hanging cases to a
few seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests

from aifinops_cli.demo.aws import DemoInstance, DemoVolume, seed_region
from tests.conftest import run_cli
from tests.fakes.aws_proxy import Fault

REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
SCANNERS = ("aws.ec2", "aws.ebs")

# Hand-computed monthly amounts (catalog aws.yaml, 730 h a month):
EXPECTED = {
    "us-east-1": {
        # gp3 1000 GB x 0.08 = 80 + (4000-3000) IOPS x 0.005 = 5 + (200-125) MiB/s x 0.04 = 3
        "use1-gp3": 80.00 + 5.00 + 3.00,
        # g4dn.xlarge 0.526 $/h x 730 h = 383.98 + 100 GB gp3 root x 0.08 = 8.00
        "use1-idle-g4dn": 0.526 * 730 + 100 * 0.08,
    },
    "eu-west-1": {"euw1-sc1": 1000 * 0.0168},  # sc1 in eu-west-1: 16.80
    "us-west-2": {"usw2-gp3": 500 * 0.08},  # gp3 in us-west-2 (= us-east-1 rate): 40.00
}
ESTATE = {
    "us-east-1": (
        [
            DemoInstance(
                "use1-idle-g4dn", "g4dn.xlarge", {"team": "inference"}, cpu=0.5, net_mb_day=1, root_gb=100
            )
        ],
        [DemoVolume("use1-gp3", 1000, "gp3", {"team": "research"}, iops=4000, throughput=200)],
    ),
    "eu-west-1": ([], [DemoVolume("euw1-sc1", 1000, "sc1", {"team": "research"})]),
    "us-west-2": ([], [DemoVolume("usw2-gp3", 500, "gp3", {"team": "web"})]),
}


@dataclass(frozen=True)
class Case:
    kind: str
    code: str  # the AWS error code, for kind "error"
    status: int
    says: str  # what the coverage line must say about it


KINDS = [
    Case("garbage", "", 200, "unreadable answer from AWS"),
    Case("html500", "", 500, "500"),
    Case("error", "AccessDenied", 403, "access denied"),
    Case("hang", "", 0, "read timed out"),
    Case("reset", "", 0, "connection was closed"),
]
# every kind on a region of its own: kind i breaks REGIONS[i % 3]
GENERATED = [(case, REGIONS[i % len(REGIONS)]) for i, case in enumerate(KINDS)]


@pytest.fixture(scope="module")
def _seeded(_far_end):
    """The three regions, seeded once for the module: scans only read, so every test sees the
    same account (moto builds each region's backend lazily, ~5 s a region after a reset)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DISABLE_REQUEST_COMPRESSION": "true",
            "AWS_ENDPOINT_URL": _far_end.url,
        }.items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        requests.post(f"{_far_end.moto_url}/moto-api/reset", timeout=10)
        now = datetime.now(UTC)
        for region, (instances, volumes) in ESTATE.items():
            seed_region(region, instances, volumes, now)
    return _far_end


@pytest.fixture
def estate(_seeded, aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", _seeded.url)
    _seeded.recorder.calls.clear()
    _seeded.recorder.faults.clear()
    _seeded.recorder.release.clear()
    yield _seeded
    _seeded.recorder.release.set()  # end any request still hanging
    _seeded.recorder.faults.clear()


@pytest.fixture
def short_timeouts(tmp_path):
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  connect_timeout: 1\n  read_timeout: 1\n  max_attempts: 2\n")
    return cfg


def fault(case: Case, region: str) -> Fault:
    # only EC2 and CloudWatch calls of the region: STS (signed for us-east-1) keeps answering
    return Fault(case.code, status=case.status, region=region, kind=case.kind, service="ec2", hang_seconds=30)


def scan(runner, cfg, *extra: str):
    args = ["--config", str(cfg), "scan", "--regions", ",".join(REGIONS), "--format", "json"]
    for name in SCANNERS:
        args += ["-s", name]
    result = run_cli(runner, *args, *extra)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    return result


def findings(report) -> dict[str, float]:
    return {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}


def scopes(report, status: str) -> set[tuple[str, str]]:
    return {(s["scanner"], s["scope"]) for s in report["coverage"]["scopes"] if s["status"] == status}


def assert_good_regions_reported(report, bad: set[str]) -> None:
    want = {
        name: amount
        for region, found in EXPECTED.items()
        if region not in bad
        for name, amount in found.items()
    }
    got = findings(report)
    assert set(got) == set(want), got
    for name, amount in want.items():
        assert got[name] == pytest.approx(amount), name
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(sum(want.values()))
    good = {(s, r) for s in SCANNERS for r in REGIONS if r not in bad}
    assert scopes(report, "ok") == good


@pytest.mark.parametrize(("case", "region"), GENERATED, ids=[f"{c.kind}-{r}" for c, r in GENERATED])
def test_one_faulty_region_is_a_coverage_line(estate, runner, short_timeouts, case, region):
    estate.recorder.faults.append(fault(case, region))
    result = scan(runner, short_timeouts)
    assert result.exit_code == 0, result.stderr  # something was scanned, nothing to gate on
    report = json.loads(result.stdout)
    failed = [s for s in report["coverage"]["scopes"] if s["status"] == "failed"]
    assert {(s["scanner"], s["scope"]) for s in failed} == {(s, region) for s in SCANNERS}
    for entry in failed:
        assert case.says in entry["message"], entry["message"]
        assert entry["message"].startswith(region)
    assert report["coverage"]["complete"] is False
    assert_good_regions_reported(report, {region})
    # one inventory per region serves both scanners, its failure included: DescribeInstances was
    # tried at most max_attempts (2) times in the faulty region, not once more per scanner
    tries = sum(1 for c in estate.recorder.calls if c == ("ec2", region, "DescribeInstances"))
    assert 1 <= tries <= 2, tries
    # the failure is also one warning line per scanner on stderr
    assert sum(f"{s} {region}:" in line for s in SCANNERS for line in result.stderr.splitlines()) == len(
        SCANNERS
    ), result.stderr


def test_two_regions_failing_differently_at_once(estate, runner, short_timeouts):
    estate.recorder.faults += [fault(KINDS[0], "eu-west-1"), fault(KINDS[3], "us-west-2")]
    result = scan(runner, short_timeouts)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    messages = {
        (s["scanner"], s["scope"]): s["message"]
        for s in report["coverage"]["scopes"]
        if s["status"] == "failed"
    }
    assert set(messages) == {(s, r) for s in SCANNERS for r in ("eu-west-1", "us-west-2")}
    assert all("unreadable answer" in messages[(s, "eu-west-1")] for s in SCANNERS)
    assert all("read timed out" in messages[(s, "us-west-2")] for s in SCANNERS)
    # us-east-1 alone: 88.00 + 391.98 = 479.98
    assert_good_regions_reported(report, {"eu-west-1", "us-west-2"})
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(88.00 + 391.98)


def test_every_region_failing_is_exit_3_with_one_line_each(estate, runner, short_timeouts):
    estate.recorder.faults += [
        fault(case, region) for case, region in zip((KINDS[0], KINDS[1], KINDS[4]), REGIONS, strict=True)
    ]
    result = scan(runner, short_timeouts)
    assert result.exit_code == 3, result.stderr  # the scan ran, but no scope could be scanned
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert scopes(report, "failed") == {(s, r) for s in SCANNERS for r in REGIONS}


def test_unparsable_cloudwatch_answer_is_partial_and_volumes_still_priced(estate, runner, short_timeouts):
    estate.recorder.faults.append(Fault(kind="garbage", region="us-east-1", service="monitoring"))
    result = scan(runner, short_timeouts)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    partial = [s for s in report["coverage"]["scopes"] if s["status"] == "partial"]
    assert [(s["scanner"], s["scope"]) for s in partial] == [("aws.ec2", "us-east-1")]
    assert "utilisation not read" in partial[0]["message"]
    got = findings(report)
    # without metrics the g4dn cannot be judged idle; every volume is still priced
    assert "use1-idle-g4dn" not in got
    assert got == pytest.approx({"use1-gp3": 88.00, "euw1-sc1": 16.80, "usw2-gp3": 40.00})


def test_scan_deadline_reports_the_hanging_region_and_does_not_wait(estate, runner, tmp_path):
    # a read timeout far beyond the deadline: only the deadline can end this scan early
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  read_timeout: 120\n  max_attempts: 1\n")
    hang = Fault(kind="hang", region="eu-west-1", service="ec2", hang_seconds=60)
    estate.recorder.faults.append(hang)
    result = scan(runner, cfg, "--timeout", "5")
    # the scan returned while the hung request was still open: nobody waited for it
    assert hang.ended == 0
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    failed = {
        (s["scanner"], s["scope"]): s["message"]
        for s in report["coverage"]["scopes"]
        if s["status"] == "failed"
    }
    assert set(failed) == {(s, "eu-west-1") for s in SCANNERS}
    assert all(
        m.startswith("timed out: not finished within the 5 s scan deadline") for m in failed.values()
    ), failed
    assert_good_regions_reported(report, {"eu-west-1"})


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--timeout", "-1"], "--timeout must be a number of seconds >= 0"),
        (["--timeout", "nan"], "--timeout must be a number of seconds"),
    ],
)
def test_bad_timeout_is_exit_2_before_scanning(estate, runner, short_timeouts, args, says):
    result = scan(runner, short_timeouts, *args)
    assert result.exit_code == 2
    assert says in result.stderr
    assert estate.recorder.calls == []  # nothing was scanned


@pytest.mark.parametrize(
    ("yaml_text", "says"),
    [
        ("scan:\n  read_timeout: 0\n", "scan.read_timeout must be a number of seconds > 0"),
        ("scan:\n  max_attempts: 0\n", "scan.max_attempts must be a whole number from 1 to 20"),
        ("scan:\n  retries: 3\n", "scan.retries: unknown setting"),
        ("scan: 5\n", "expected"),
    ],
)
def test_bad_scan_settings_are_exit_2(estate, runner, tmp_path, yaml_text, says):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml_text)
    result = scan(runner, cfg)
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr
    assert estate.recorder.calls == []
