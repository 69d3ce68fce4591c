"""Whole days: a changing moto estate scanned and recorded, then `diff` and `history` checked
finding by finding and dollar by dollar."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from aifinops_cli.demo.aws import DemoInstance, DemoVolume, seed_region
from tests.conftest import run_cli
from tests.fakes.aws_proxy import Fault

REGIONS = "us-east-1,eu-west-1"
INSTANCES = [
    # idle with GPU metrics: p3.2xlarge 3.06 $/h x 730 h = 2,233.80 + 200 GB gp3 root x 0.08 = 16.00
    DemoInstance("idle-p3", "p3.2xlarge", {"team": "research"}, cpu=1.0, gpu=0.5, root_gb=200),
    # idle, CPU only: g4dn.xlarge 0.526 x 730 = 383.98 + 100 GB gp3 x 0.08 = 8.00 -> 391.98
    DemoInstance("idle-g4dn", "g4dn.xlarge", {"owner": "inference"}, cpu=0.5, net_mb_day=1),
    DemoInstance("busy-g5", "g5.xlarge", {"team": "inference"}, cpu=55, gpu=70, net_mb_day=5000),
]
VOLUMES_USE1 = [
    # gp3 1000 GB x 0.08 = 80 + (4000-3000) IOPS x 0.005 = 5 + (200-125) MiB/s x 0.04 = 3 -> 88.00
    DemoVolume("gp3-extra", 1000, "gp3", {"team": "research"}, iops=4000, throughput=200),
    # io1 100 GB x 0.125 = 12.50 + 1000 IOPS x 0.065 = 65.00 -> 77.50, no owner tag
    DemoVolume("io1-old", 100, "io1", {}, iops=1000),
]
VOLUMES_EUW1 = [DemoVolume("sc1-cold", 1000, "sc1", {"team": "research"})]  # 1000 x 0.0168 = 16.80

DAY1_TOTAL = 2249.80 + 391.98 + 88.00 + 77.50 + 16.80  # 2,824.08
# overnight: idle-p3 stopped (its idle-GPU finding resolves, its 200 GB root now bills as
# stopped-GPU storage: 200 x 0.08 = 16.00), io1-old deleted, gp3-extra grown to 1500 GB
# (1500 x 0.08 = 120 + 5 + 3 = 128.00), a new 500 GB gp2 volume (500 x 0.10 = 50.00), sc1-cold
# handed from research to nlp (same $)
DAY2_TOTAL = 391.98 + 16.00 + 128.00 + 50.00 + 16.80  # 602.78


def _ids(region: str) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=region)
    out = {}
    for res in ec2.describe_instances()["Reservations"]:
        for inst in res["Instances"]:
            tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
            out[tags.get("Name", "")] = inst["InstanceId"]
    for vol in ec2.describe_volumes()["Volumes"]:
        tags = {t["Key"]: t["Value"] for t in vol.get("Tags", [])}
        if "Name" in tags:
            out[tags["Name"]] = vol["VolumeId"]
    return out


def overnight_changes() -> None:
    use1 = boto3.client("ec2", region_name="us-east-1")
    ids = _ids("us-east-1")
    use1.stop_instances(InstanceIds=[ids["idle-p3"]])
    use1.delete_volume(VolumeId=ids["io1-old"])
    use1.modify_volume(VolumeId=ids["gp3-extra"], Size=1500)
    use1.create_volume(
        AvailabilityZone="us-east-1a",
        Size=500,
        VolumeType="gp2",
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": [{"Key": "Name", "Value": "new-scratch"}, {"Key": "team", "Value": "research"}],
            }
        ],
    )
    euw1 = boto3.client("ec2", region_name="eu-west-1")
    sc1 = _ids("eu-west-1")["sc1-cold"]
    euw1.create_tags(Resources=[sc1], Tags=[{"Key": "team", "Value": "nlp"}])


def scan(runner, state, *extra: str) -> dict:
    result = run_cli(
        runner,
        "scan",
        "--regions",
        REGIONS,
        "--scanner",
        "aws.ec2,aws.ebs",
        "--record",
        "--state-dir",
        str(state),
        "--format",
        "json",
        *extra,
    )
    assert result.exit_code == 0, result.output
    if "--output-dir" in extra:
        out = extra[extra.index("--output-dir") + 1]
        return json.loads((Path(out) / "aifinops-report.json").read_text())
    return json.loads(result.stdout)


def by_name(items: list[dict]) -> dict[str, dict]:
    return {i["resource_name"]: i for i in items}


def _seed_day1() -> None:
    now = datetime.now(UTC)
    seed_region("us-east-1", INSTANCES, VOLUMES_USE1, now)
    seed_region("eu-west-1", [], VOLUMES_EUW1, now)


@pytest.fixture
def day1(shared_estate):
    return shared_estate("test_history", _seed_day1)


@pytest.mark.writes_aws  # the overnight changes
def test_two_days_then_diff_and_history(day1, runner, tmp_path):
    state = tmp_path / "state"
    first = scan(runner, state)
    assert first["summary"]["monthly_waste_usd"] == pytest.approx(DAY1_TOTAL)
    assert first["history"]["run_id"] == 1
    assert first["history"]["previous_run"] is None
    assert [p["run_id"] for p in first["history"]["trend"]] == [1]
    assert (state / "history.sqlite").is_file()

    overnight_changes()
    second = scan(runner, state, "--output-dir", str(tmp_path / "out"), "--format", "markdown")
    assert second["summary"]["monthly_waste_usd"] == pytest.approx(DAY2_TOTAL)
    prev = second["history"]["previous_run"]
    assert prev["run_id"] == 1 and second["history"]["run_id"] == 2
    assert prev["counts"] == {"new": 2, "resolved": 2, "unseen": 0, "changed": 2, "unchanged": 1}

    new = by_name(prev["new_findings"])
    assert set(new) == {"idle-p3", "new-scratch"}
    assert new["idle-p3"]["rule_id"] == "aws-ec2-stopped-gpu-storage"
    assert new["idle-p3"]["monthly_savings_usd"] == pytest.approx(16.00)
    assert new["new-scratch"]["monthly_savings_usd"] == pytest.approx(50.00)
    resolved = by_name(prev["resolved_findings"])
    assert set(resolved) == {"idle-p3", "io1-old"}
    assert resolved["idle-p3"]["rule_id"] == "aws-ec2-idle-gpu"
    assert resolved["idle-p3"]["monthly_savings_usd"] == pytest.approx(2249.80)
    assert resolved["io1-old"]["monthly_savings_usd"] == pytest.approx(77.50)
    changed = by_name(prev["changed_findings"])
    # gp3-extra: 88.00 -> 128.00, and crossing $100 makes it high severity
    assert changed["gp3-extra"]["delta_usd"] == pytest.approx(40.00)
    assert changed["gp3-extra"]["changes"]["severity"] == ["medium", "high"]
    assert changed["gp3-extra"]["changes"]["monthly_cost_usd"] == pytest.approx([88.00, 128.00])
    # sc1-cold changed hands, not dollars
    assert changed["sc1-cold"]["delta_usd"] == 0
    assert changed["sc1-cold"]["changes"] == {"owner": ["research", "nlp"]}

    # the $ change adds up: new 16 + 50 - resolved (2,249.80 + 77.50) + changed 40 = -2,221.30
    assert prev["new_usd"] == pytest.approx(66.00)
    assert prev["resolved_usd"] == pytest.approx(2327.30)
    assert prev["changed_usd"] == pytest.approx(40.00)
    assert prev["delta_usd"] == pytest.approx(-2221.30)
    assert prev["delta_usd"] == pytest.approx(DAY2_TOTAL - DAY1_TOTAL)

    # the Markdown report of the same run says so
    md = (tmp_path / "out" / "aifinops-report.md").read_text()
    assert "## Since last run" in md
    assert "**-$2,221.30/month** ($2,824.08 → $602.78)" in md
    assert "| New | 2 | +$66.00 |" in md
    assert "| Resolved | 2 | -$2,327.30 |" in md
    assert "| Changed | 2 | +$40.00 |" in md

    # diff of the two recorded runs: the same figures, whatever way the runs are named
    for old, new_ref in (("1", "2"), ("previous", "latest"), ("latest~1", "latest")):
        result = run_cli(runner, "diff", old, new_ref, "--state-dir", str(state), "-f", "json")
        assert result.exit_code == 0, result.output
        d = json.loads(result.stdout)
        assert d["delta_usd"] == pytest.approx(-2221.30)
        assert d["counts"] == prev["counts"]
        assert d["old"]["label"] == "run 1" and d["new"]["label"] == "run 2"
    assert d["breakdown"]["by_category"]["zombie-infrastructure"] == {
        "old": pytest.approx(2249.80 + 391.98),
        "new": pytest.approx(391.98),
        "delta_usd": pytest.approx(-2249.80),
    }
    # orphaned storage: 88 + 77.50 + 16.80 = 182.30 -> 16 + 128 + 50 + 16.80 = 210.80
    assert d["breakdown"]["by_category"]["orphaned-storage"]["delta_usd"] == pytest.approx(28.50)

    # diff of two JSON report files gives the same answer
    f1, f2 = tmp_path / "day1.json", tmp_path / "day2.json"
    f1.write_text(json.dumps(first))
    f2.write_text(json.dumps(second))
    result = run_cli(runner, "diff", str(f1), str(f2), "-f", "json")
    file_diff = json.loads(result.stdout)
    assert file_diff["delta_usd"] == pytest.approx(-2221.30)
    assert {i["fingerprint"] for i in file_diff["new_findings"]} == {
        i["fingerprint"] for i in prev["new_findings"]
    }
    # a file against a recorded run works too
    assert json.loads(
        run_cli(runner, "diff", str(f1), "latest", "--state-dir", str(state), "-f", "json").stdout
    )["delta_usd"] == pytest.approx(-2221.30)

    text = run_cli(runner, "diff", "1", "2", "--state-dir", str(state)).stdout
    assert "$2,824.08 (run 1) → $602.78 (run 2): -$2,221.30" in text
    md = run_cli(runner, "diff", "1", "2", "--state-dir", str(state), "-f", "markdown").stdout
    assert "| gp3-extra |" not in md  # resources are shown by id, names in brackets
    assert "(new-scratch)" in md and "## Resolved" in md

    # history: the tax over time by category and by owner
    h = json.loads(run_cli(runner, "history", "--state-dir", str(state), "-f", "json").stdout)
    assert [r["run_id"] for r in h["runs"]] == [1, 2]
    assert [r["monthly_waste_usd"] for r in h["runs"]] == pytest.approx([DAY1_TOTAL, DAY2_TOTAL])
    assert h["runs"][0]["by_category"] == pytest.approx(
        {"zombie-infrastructure": 2641.78, "orphaned-storage": 182.30}
    )
    assert h["runs"][1]["by_category"] == pytest.approx(
        {"zombie-infrastructure": 391.98, "orphaned-storage": 210.80}
    )
    h = json.loads(
        run_cli(runner, "history", "--by", "owner", "--state-dir", str(state), "-f", "json").stdout
    )
    # research: 2,249.80 + 88 + 16.80 = 2,354.60; then 16 + 128 + 50 = 194.00
    assert h["runs"][0]["by_owner"] == pytest.approx(
        {"research": 2354.60, "inference": 391.98, "(unowned)": 77.50}
    )
    assert h["runs"][1]["by_owner"] == pytest.approx({"inference": 391.98, "research": 194.00, "nlp": 16.80})
    table = run_cli(runner, "history", "--state-dir", str(state), "-f", "markdown").stdout
    assert "| 2 |" in table and "$602.78" in table and "-$2,221.30" in table

    # day 3: eu-west-1 refuses access. sc1-cold is not seen, which is not the same as fixed
    day1.recorder.faults.append(Fault("UnauthorizedOperation", region="eu-west-1"))
    third = scan(runner, state)
    prev = third["history"]["previous_run"]
    assert prev["counts"]["resolved"] == 0
    assert [i["resource_name"] for i in prev["unseen_findings"]] == ["sc1-cold"]
    assert prev["unseen_usd"] == pytest.approx(16.80)
    assert prev["delta_usd"] == pytest.approx(-16.80)
    # visibility: one region of two for compute and storage, nothing for the other three areas
    vis = third["visibility"]
    assert {a["id"]: a["score"] for a in vis["areas"]} == {
        "gpu_compute": 50,
        "clusters": 0,
        "llm_apis": 0,
        "billing_egress": 0,
        "storage": 50,
    }
    assert vis["score"] == 20  # (50 + 0 + 0 + 0 + 50) / 5
    assert any("eu-west-1" in b and "access denied" in b for b in vis["blind_spots"])
    table = run_cli(runner, "history", "--state-dir", str(state)).stdout
    assert "scopes could not be scanned" in table


def test_previous_run_is_a_like_run(day1, runner, tmp_path):
    """A run with other scanners is not compared with: its findings would look resolved."""
    state = tmp_path / "state"
    scan(runner, state)
    result = run_cli(
        runner,
        "scan",
        "--regions",
        REGIONS,
        "--scanner",
        "aws.ebs",
        "--record",
        "--state-dir",
        str(state),
        "--format",
        "json",
    )
    doc = json.loads(result.stdout)
    assert doc["history"]["previous_run"] is None
    assert scan(runner, state)["history"]["previous_run"]["run_id"] == 1


def test_no_record_by_default_and_config_switch(day1, runner, tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("AIFINOPS_STATE_DIR", str(state))
    result = run_cli(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ebs", "--format", "json")
    assert json.loads(result.stdout)["history"] is None
    assert not state.exists()
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("history:\n  record: true\n  path: kept\n")
    monkeypatch.delenv("AIFINOPS_STATE_DIR")
    result = run_cli(
        runner,
        "--config",
        str(cfg),
        "scan",
        "--regions",
        "us-east-1",
        "--scanner",
        "aws.ebs",
        "--format",
        "json",
    )
    assert json.loads(result.stdout)["history"]["run_id"] == 1
    assert (tmp_path / "kept" / "history.sqlite").is_file()  # relative to the config file


def test_history_usage_errors(runner, tmp_path):
    result = run_cli(runner, "history", "--state-dir", str(tmp_path / "none"))
    assert result.exit_code == 2 and "no history at" in result.stderr
    result = run_cli(runner, "diff", "1", "2", "--state-dir", str(tmp_path / "none"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = run_cli(runner, "diff", str(bad), str(bad))
    assert result.exit_code == 2 and "not an aifinops JSON report" in result.stderr


def _doc(findings: list[dict]) -> dict:
    counted = [f for f in findings if not f.get("overlaps")]
    return {
        "scanners": ["aws.ec2", "k8s.gpu"],
        "findings": findings,
        "summary": {
            "findings": len(findings),
            "monthly_waste_usd": sum(f["estimated_monthly_savings_usd"] for f in counted),
        },
    }


def _f(fp: str, provider: str, usd: float, overlaps: str | None = None) -> dict:
    return {
        "fingerprint": fp,
        "rule_id": f"{provider}-idle",
        "category": "idle-cluster",
        "severity": "high",
        "owner": "ml",
        "provider": provider,
        "monthly_cost_usd": usd,
        "estimated_monthly_savings_usd": usd,
        "suppressed": False,
        "overlaps": overlaps,
    }


def test_trend_counts_each_machine_once_and_old_stores_migrate(tmp_path):
    import sqlite3

    from aifinops_cli.core.history import STORE_VERSION, History

    # a store written before overlaps existed (version 1: no findings.overlaps column)
    old = tmp_path / "old"
    old.mkdir()
    with History.open(old) as store:
        store.record(_doc([_f("a" * 16, "aws", 4148.56)]))
    conn = sqlite3.connect(old / "history.sqlite")
    conn.executescript("""
        CREATE TABLE f2 AS SELECT run_id, fingerprint, rule_id, category, severity, owner, provider,
          account, region, resource_id, resource_name, monthly_cost_usd, savings_usd, suppressed
          FROM findings;
        DROP TABLE findings; ALTER TABLE f2 RENAME TO findings;
        UPDATE meta SET value='1' WHERE key='store_version';""")
    conn.commit()
    conn.close()

    with History.open(old) as store:
        # the EC2 finding and the Kubernetes view of the same machine: $4,148.56 counted once
        store.record(_doc([_f("a" * 16, "aws", 4148.56), _f("b" * 16, "k8s", 4140.56, "a" * 16)]))
        trend = store.trend("provider")
        assert [t["by_provider"] for t in trend] == [{"aws": 4148.56}, {"aws": 4148.56}]
        assert [t["monthly_waste_usd"] for t in trend] == [4148.56, 4148.56]
        version = store.conn.execute("SELECT value FROM meta WHERE key='store_version'").fetchone()[0]
        assert int(version) == STORE_VERSION == 2


def test_prune_keeps_the_most_recent_runs(tmp_path, runner):
    from aifinops_cli.cli.app import app
    from aifinops_cli.core.history import History

    with History.open(tmp_path) as store:
        ids = [store.record(_doc([_f(f"{n:016x}", "aws", 10.0 * n)])) for n in range(1, 4)]
        assert store.prune(2) == 1
        assert [r.id for r in store.runs()] == ids[1:]
        # the pruned run's findings went with it (ON DELETE CASCADE)
        left = store.conn.execute("SELECT DISTINCT run_id FROM findings ORDER BY run_id").fetchall()
        assert [r[0] for r in left] == ids[1:]
        assert store.prune(2) == 0
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("history: {record: true, keep_runs: 1}\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(cfg), "scan", "--demo"])
    assert result.exit_code == 2 and "history.keep_runs must be a whole number of at least 2" in result.output
