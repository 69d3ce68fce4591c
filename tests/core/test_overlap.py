"""One machine, one charge: a cloud finding and a Kubernetes finding on the same instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from aifinops_cli.core.models import Confidence, CostLine, Finding, Observation, Severity
from aifinops_cli.core.overlap import from_provider_id, mark_overlaps
from aifinops_cli.core.report import totals
from aifinops_cli.demo.aws import DemoInstance, seed_region
from aifinops_cli.demo.fakes.k8s import FakeCluster, FakeK8s, node_json, serve, write_kubeconfig
from tests.conftest import run_json


def _finding(
    provider: str, rid: str, savings: float, covers: tuple[str, ...], suppressed: bool = False
) -> Finding:
    line = CostLine("machine", savings, "month", 1.0, "test", "2026-11-01")
    obs = Observation(provider=provider, kind=f"{provider}.thing", id=rid, cost_lines=(line,), covers=covers)
    return Finding(
        "r-" + provider,
        "t",
        "idle-cluster",
        Severity.HIGH,
        Confidence.HIGH,
        obs,
        savings,
        savings,
        "do it",
        {},
        suppressed=suppressed,
    )


def test_provider_ids() -> None:
    assert from_provider_id("aws:///us-east-1a/i-0abc") == "aws:ec2:i-0abc"
    gke = "gce://proj/us-central1-a/gke-pool-x"
    assert from_provider_id(gke) == "gcp:compute:proj/us-central1-a/gke-pool-x"
    assert from_provider_id("azure:///subscriptions/s/vm-1") is None
    assert from_provider_id("") is None
    assert from_provider_id("aws:///us-east-1a/fargate-ip-10-0-0-1") is None


def test_node_group_counts_once_and_suppression_hands_it_back() -> None:
    # an EKS node group of two nodes ($3,000) and the Kubernetes view of the same nodes
    group = _finding("aws", "cluster/gpu", 3000.0, ("aws:ec2:i-1", "aws:ec2:i-2"))
    node1 = _finding("k8s", "node-1", 1500.0, ("aws:ec2:i-1",))
    node2 = _finding("k8s", "node-2", 1500.0, ("aws:ec2:i-2",))
    pod = _finding("k8s", "ml/pod", 400.0, ("aws:ec2:i-3",))  # a machine nobody else counts
    other = _finding("k8s", "node-3", 900.0, ("aws:ec2:i-3",))  # same provider: disjoint parts
    findings = [node1, pod, group, node2, other]
    mark_overlaps(findings)
    assert (node1.overlaps, node2.overlaps) == (group.fingerprint, group.fingerprint)
    assert not group.overlaps and not pod.overlaps and not other.overlaps
    s = totals(findings)
    # 3000 + 400 + 900 counted; 1500 + 1500 listed apart
    assert s["monthly_waste_usd"] == 4300.0
    assert (s["overlapping_findings"], s["overlapping_usd"]) == (2, 3000.0)
    assert s["findings"] == 5 and s["by_provider"] == {"aws": 3000.0, "k8s": 1300.0}

    # suppress the node group: the Kubernetes findings count the machines again
    group.suppressed = True
    mark_overlaps(findings)
    active = [f for f in findings if not f.suppressed]
    assert not any(f.overlaps for f in active)
    assert totals(active)["monthly_waste_usd"] == 1500.0 + 1500.0 + 400.0 + 900.0


def test_partly_covered_finding_still_counts() -> None:
    # only one of the group's machines is already counted: the group is not a duplicate
    node = _finding("k8s", "node-1", 5000.0, ("aws:ec2:i-1",))
    group = _finding("aws", "cluster/gpu", 3000.0, ("aws:ec2:i-1", "aws:ec2:i-2"))
    mark_overlaps([node, group])
    # the wider finding goes first whatever its savings; the node is then fully covered
    assert not group.overlaps and node.overlaps == group.fingerprint


@pytest.fixture
def eks_like(far_end, tmp_path, monkeypatch):
    """An idle g5.12xlarge in moto that is also a GPU node (no pod requests a GPU) of a cluster."""
    now = datetime.now(UTC)
    seed_region("us-east-1", [DemoInstance("gpu-node", "g5.12xlarge", {"team": "ml"}, cpu=1.0)], [], now)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    iid = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["gpu-node"]}])["Reservations"][0][
        "Instances"
    ][0]["InstanceId"]
    labels = {
        "node.kubernetes.io/instance-type": "g5.12xlarge",
        "topology.kubernetes.io/region": "us-east-1",
        "team": "ml",
    }
    fake = FakeK8s(
        clusters={
            "prod": FakeCluster(
                nodes=[
                    node_json(
                        "ip-10-0-0-1",
                        gpus=4,
                        labels=labels,
                        provider_id=f"aws:///us-east-1a/{iid}",
                        created=now - timedelta(days=10),
                    )
                ]
            )
        }
    )
    with serve(fake) as url:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", url, ["prod"])))
        yield iid


def test_cloud_and_kubernetes_findings_on_one_instance(eks_like, runner) -> None:
    report = run_json(
        runner,
        "scan",
        "--provider",
        "aws",
        "--regions",
        "us-east-1",
        "--kube-context",
        "prod",
        "--scanner",
        "aws.ec2",
        "--scanner",
        "k8s.gpu",
    )
    found = {f["rule_id"]: f for f in report["findings"]}
    ec2, node = found["aws-ec2-idle-gpu"], found["k8s-gpu-node-unrequested"]
    assert ec2["resource_id"] == eks_like and ec2["covers"] == [f"aws:ec2:{eks_like}"]
    assert node["covers"] == ec2["covers"]
    # EC2: g5.12xlarge 5.672 $/h x 730 h = 4,140.56 + 100 GB gp3 root x 0.08 = 8.00 -> 4,148.56
    # Kubernetes: the same node at the same on-demand rate, 4 of 4 GPUs idle -> 4,140.56
    assert ec2["estimated_monthly_savings_usd"] == pytest.approx(4148.56)
    assert node["estimated_monthly_savings_usd"] == pytest.approx(4140.56)
    assert node["overlaps"] == ec2["fingerprint"] and ec2["overlaps"] is None
    s = report["summary"]
    assert s["monthly_waste_usd"] == pytest.approx(4148.56)  # not 8,289.12
    assert (s["overlapping_findings"], s["overlapping_usd"]) == (1, pytest.approx(4140.56))
    assert s["by_provider"] == {"aws": pytest.approx(4148.56)}
